package io.phigate.pg;

import com.fasterxml.jackson.databind.JsonNode;
import io.phigate.sql.Operation;
import io.phigate.sql.PgGrammar;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementFacts;
import io.phigate.sql.StatementKind;
import java.util.List;

/**
 * The few facts about utility statements that the session-state registry needs: a cursor's holdability and
 * query, a PREPARE's statement, DEALLOCATE ALL, DISCARD ALL, and which DDL creates (whether a transaction
 * statement ends the transaction, runs nothing, and which savepoint it names, the analysis already says:
 * {@code StatementAnalysis.endsTransaction}, {@link #runsNothing}, {@code StatementFacts.savepoint}). Each is
 * read from PostgreSQL's own parse tree (and, for where a body starts, its own scanner), so the registry's idea of a
 * name matches the server's by construction; a text the grammar does not read as one such statement answers null or
 * false, and callers fall back to the analysis they already have.
 */
final class UtilityWords {
    /** pg_query.proto's token numbers of the keywords a body follows. */
    private static final int AS = 294;
    private static final int FOR = 424;
    /** parsenodes.h: CURSOR_OPT_HOLD. */
    private static final int CURSOR_OPT_HOLD = 0x0020;

    private UtilityWords() {
    }

    /** The statement after {@code PREPARE name [(types)] AS}, or null. */
    static String preparedBody(String text) {
        return bodyAfter(text, "PrepareStmt", AS);
    }

    /** The query after {@code DECLARE name ... FOR}, or null. */
    static String cursorQuery(String text) {
        return bodyAfter(text, "DeclareCursorStmt", FOR);
    }

    /** True for {@code DECLARE name ... WITH HOLD ... FOR}. */
    static boolean withHold(String text) {
        JsonNode d = only(text, "DeclareCursorStmt");
        return d != null && (d.path("options").asInt(0) & CURSOR_OPT_HOLD) != 0;
    }

    /** {@code DEALLOCATE [PREPARE] ALL}: the grammar leaves the name out. */
    static boolean deallocateAll(String text) {
        JsonNode d = only(text, "DeallocateStmt");
        return d != null && !d.has("name");
    }

    /** {@code DISCARD ALL}. */
    static boolean discardAll(String text) {
        JsonNode d = only(text, "DiscardStmt");
        return d != null && "DISCARD_ALL".equals(d.path("target").asText());
    }

    /**
     * BEGIN, START TRANSACTION, SAVEPOINT and RELEASE: transaction statements that run no code and change no setting
     * (COMMIT runs deferred triggers, a ROLLBACK of either kind puts settings back). Read from the analysis, which
     * read the same TransactionStmt node (decision 0077): of PostgreSQL's ten transaction statement kinds, COMMIT,
     * ROLLBACK, PREPARE TRANSACTION and ROLLBACK TO carry a table change ({@code TableChanges}), COMMIT and ROLLBACK
     * PREPARED are read as functions ({@code StatementReader}, decision 0079); what is left with no savepoint is
     * BEGIN or START TRANSACTION, and SAVEPOINT and RELEASE name theirs.
     */
    static boolean runsNothing(StatementAnalysis a) {
        if (a.kind() != StatementKind.TRANSACTION || !a.parsed() || a.operations().contains(Operation.FUNCTION)
                || !a.facts().tableChanges().isEmpty()) {
            return false;
        }
        StatementFacts.Savepoint savepoint = a.facts().savepoint();
        return savepoint == null || savepoint.kind() == StatementFacts.Savepoint.Kind.SET
                || savepoint.kind() == StatementFacts.Savepoint.Kind.RELEASE;
    }

    /**
     * DDL that stores no code of its own to run later or now: tables (CREATE TABLE AS runs its query, judged as a
     * read), views, sequences, indexes, domains, types, schemas, comments, renames and drops. Expressions such DDL
     * holds (a default, a CHECK, a view's query) call only what the statement's analysis names. Functions, triggers,
     * rules, policies, event triggers, extensions, casts, operators and ALTER TABLE (it enables triggers and row
     * security) are not.
     */
    static boolean storesNoCode(String text) {
        if (text == null || !PgGrammar.available()) {
            return false;
        }
        PgGrammar.Parsed p = PgGrammar.parse(text);
        if (!p.ok() || p.statements().size() != 1) {
            return false;
        }
        var tree = p.statements().getFirst().tree();
        for (String type : CODELESS_DDL) {
            if (tree.has(type)) {
                return true;
            }
        }
        return false;
    }

    /**
     * DDL that makes a new relation, type or schema and tests no stored row against code an existing object holds
     * (unlike ALTER TABLE's VALIDATE CONSTRAINT or ALTER COLUMN TYPE, which run every CHECK over every row).
     */
    static boolean creates(String text) {
        for (String type : CREATING_DDL) {
            if (statement(text, type) != null) {
                return true;
            }
        }
        return false;
    }

    private static final List<String> CREATING_DDL = List.of("CreateStmt", "ViewStmt", "CreateTableAsStmt",
            "CreateSeqStmt", "IndexStmt", "CreateDomainStmt", "CreateSchemaStmt", "CompositeTypeStmt",
            "CreateEnumStmt");

    private static final List<String> CODELESS_DDL = List.of("CreateStmt", "ViewStmt", "CreateTableAsStmt",
            "CreateSeqStmt", "AlterSeqStmt", "IndexStmt", "DropStmt", "CommentStmt", "CreateDomainStmt",
            "CreateSchemaStmt", "RenameStmt", "CompositeTypeStmt", "CreateEnumStmt");

    /** The node of {@code text}'s one statement when it is a {@code type}, else null. */
    private static JsonNode only(String text, String type) {
        PgGrammar.Statement s = statement(text, type);
        return s == null ? null : s.tree().get(type);
    }

    /** {@code text}'s one statement when it is a {@code type}, else null. */
    private static PgGrammar.Statement statement(String text, String type) {
        if (text == null || !PgGrammar.available()) {
            return null;
        }
        PgGrammar.Parsed p = PgGrammar.parse(text);
        if (!p.ok() || p.statements().size() != 1 || !p.statements().getFirst().tree().has(type)) {
            return null;
        }
        return p.statements().getFirst();
    }

    /**
     * The text after the first {@code keyword} token at parenthesis depth 0 of a single {@code type} statement, up
     * to the statement's end as the parser split it. In both forms the keyword is reserved, so it cannot be the name
     * before it, and a type list's parentheses are skipped.
     */
    private static String bodyAfter(String text, String type, int keyword) {
        PgGrammar.Statement statement = statement(text, type);
        if (statement == null) {
            return null;
        }
        List<PgGrammar.Token> tokens = PgGrammar.scan(text);
        if (tokens == null) {
            return null;
        }
        int depth = 0;
        for (PgGrammar.Token t : tokens) {
            if (t.isComment()) {
                continue;
            }
            if (t.token() == '(') {
                depth++;
            } else if (t.token() == ')') {
                depth--;
            } else if (depth == 0 && t.token() == keyword && t.start() >= statement.start()) {
                String body = text.substring(t.end(), Math.max(t.end(), statement.end())).strip();
                return body.isEmpty() ? null : body;
            }
        }
        return null;
    }
}
