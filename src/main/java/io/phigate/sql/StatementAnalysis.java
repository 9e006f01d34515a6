package io.phigate.sql;

import java.util.List;
import java.util.Set;

/**
 * What one SQL statement does, as far as policy and masking need to know.
 *
 * @param kind             the statement's form
 * @param operations       every operation it performs (a CTE with a DELETE inside a SELECT has both)
 * @param reads            relations it reads (views as named, and the base tables behind them)
 * @param writes           relations it writes (INSERT/UPDATE/DELETE/MERGE/TRUNCATE/COPY FROM/CREATE TABLE AS)
 * @param outputs          its result columns in order (SELECT, RETURNING, DECLARE's query, COPY TO's columns,
 *                         EXECUTE of a prepared SELECT when known); empty when it returns no rows
 * @param opaqueFunctions  functions called that are not transparent (may read PHI inside their body), qualified
 *                         as written
 * @param copiesQuery      true when it stores the result of a query (CREATE TABLE AS, SELECT INTO,
 *                         INSERT ... SELECT, COPY (query) TO a file), so PHI could be copied somewhere unprotected
 * @param cursor           the cursor named by DECLARE / FETCH / MOVE / CLOSE, else null
 * @param setting          for SET / RESET / SHOW: the parameter name as folded, else null
 * @param settingValue     for SET: the value as a plain string, else null
 * @param parsed           false when the text could not be parsed; then {@code error} says why and every other
 *                         field is empty
 * @param error            the parser's complaint, without the statement text
 * @param text             this statement's own text (one statement of a multi-statement string)
 * @param columnWrites     for UPDATE (and INSERT ... ON CONFLICT DO UPDATE): each SET target column with the
 *                         columns its new value derives from
 * @param dataRoute        the form ({@code "CREATE TRIGGER"}) when the statement builds a route for data inside
 *                         the server ({@link DataRoutes}), else null
 * @param altersRelation   an ALTER of the relations in {@code writes}
 * @param facts            what the deny-by-default rules judge ({@link StatementFacts}); {@link StatementFacts#NONE}
 *                         for an analysis that did not read the parse tree
 * @param errorPosition    for a text PostgreSQL's grammar rejects: the 1-based character position of the error in
 *                         the whole text sent, as the server's ErrorResponse gives it ({@code P}), 0 when it
 *                         names none; -1 for a statement the grammar accepted but phigate could not analyse
 */
public record StatementAnalysis(StatementKind kind, Set<Operation> operations, Set<TableRef> reads,
                                Set<TableRef> writes, List<OutputColumn> outputs, Set<String> opaqueFunctions,
                                boolean copiesQuery, String cursor, String setting, String settingValue,
                                boolean parsed, String error, String text, List<ColumnWrite> columnWrites,
                                String dataRoute, boolean altersRelation, StatementFacts facts,
                                int errorPosition) {

    /** SQLSTATE of a syntax error, as the server reports it. */
    public static final String SYNTAX_ERROR = "42601";

    /** An analysis that is not a syntax error. */
    public StatementAnalysis(StatementKind kind, Set<Operation> operations, Set<TableRef> reads,
                             Set<TableRef> writes, List<OutputColumn> outputs, Set<String> opaqueFunctions,
                             boolean copiesQuery, String cursor, String setting, String settingValue,
                             boolean parsed, String error, String text, List<ColumnWrite> columnWrites,
                             String dataRoute, boolean altersRelation, StatementFacts facts) {
        this(kind, operations, reads, writes, outputs, opaqueFunctions, copiesQuery, cursor, setting, settingValue,
                parsed, error, text, columnWrites, dataRoute, altersRelation, facts, 0);
    }

    /** An analysis without deny-by-default facts. */
    public StatementAnalysis(StatementKind kind, Set<Operation> operations, Set<TableRef> reads,
                             Set<TableRef> writes, List<OutputColumn> outputs, Set<String> opaqueFunctions,
                             boolean copiesQuery, String cursor, String setting, String settingValue,
                             boolean parsed, String error, String text, List<ColumnWrite> columnWrites,
                             String dataRoute, boolean altersRelation) {
        this(kind, operations, reads, writes, outputs, opaqueFunctions, copiesQuery, cursor, setting, settingValue,
                parsed, error, text, columnWrites, dataRoute, altersRelation, StatementFacts.NONE);
    }

    /** A column an UPDATE sets, and the columns the new value derives from. */
    public record ColumnWrite(ColumnRef target, Set<ColumnRef> sources) {
    }

    /** An analysis that sets no columns, builds no route and alters nothing. */
    public StatementAnalysis(StatementKind kind, Set<Operation> operations, Set<TableRef> reads,
                             Set<TableRef> writes, List<OutputColumn> outputs, Set<String> opaqueFunctions,
                             boolean copiesQuery, String cursor, String setting, String settingValue,
                             boolean parsed, String error, String text) {
        this(kind, operations, reads, writes, outputs, opaqueFunctions, copiesQuery, cursor, setting, settingValue,
                parsed, error, text, List.of(), null, false);
    }

    /**
     * A text PostgreSQL's grammar rejects: {@code message} is the server's own ({@code syntax error at or near
     * "selec"}), {@code position} its 1-based character position in the whole text (0 when none). The server
     * runs none of a simple Query whose parse fails, so the whole text is one unparsed analysis.
     */
    public static StatementAnalysis syntaxError(String text, String message, int position) {
        return new StatementAnalysis(StatementKind.OTHER, Set.of(), Set.of(), Set.of(), List.of(), Set.of(), false,
                null, null, null, false, message, text, List.of(), null, false, StatementFacts.NONE,
                Math.max(position, 0));
    }

    /** True for a text the server's grammar rejects (then {@link #error()} is the server's message). */
    public boolean syntaxError() {
        return !parsed && errorPosition >= 0;
    }

    /**
     * True for a statement that ends the open transaction: COMMIT, END, ROLLBACK, ABORT (with WORK, TRANSACTION or
     * AND [NO] CHAIN) and PREPARE TRANSACTION; not ROLLBACK TO SAVEPOINT, nor COMMIT/ROLLBACK PREPARED (which finish
     * another transaction). Read from the parse tree's TransactionStmt kind when the statement was analysed
     * ({@link TableChange.Kind#COMMIT}, {@link TableChange.Kind#ROLLBACK}), so a caller need not parse the text again.
     */
    public boolean endsTransaction() {
        if (kind != StatementKind.TRANSACTION) {
            return false;
        }
        for (TableChange c : facts.tableChanges()) {
            if (c.kind() == TableChange.Kind.COMMIT || c.kind() == TableChange.Kind.ROLLBACK) {
                return true;
            }
        }
        return false;
    }

    /**
     * This analysis with {@code more} among the types it names ({@link StatementFacts#typeNames}): a Parse message's
     * parameter types ({@link TypeNames#withParameterTypes}). Facts whose names were not read stay unknown (null).
     */
    StatementAnalysis withTypeNames(Set<String> more) {
        if (facts.typeNames() == null) {
            return this;
        }
        Set<String> names = new java.util.LinkedHashSet<>(facts.typeNames());
        names.addAll(more);
        StatementFacts f = new StatementFacts(facts.functions(), facts.predicates(), facts.unfilteredWrite(),
                facts.unlimited(), facts.options(), facts.copyEndpoint(), facts.unknownWrites(), facts.tableChanges(),
                facts.stateChanges(), java.util.Collections.unmodifiableSet(names), facts.savepoint(),
                facts.descendantReads(), facts.targetReads());
        return new StatementAnalysis(kind, operations, reads, writes, outputs, opaqueFunctions, copiesQuery, cursor,
                setting, settingValue, parsed, error, text, columnWrites, dataRoute, altersRelation, f, errorPosition);
    }

    /**
     * The relations whose rows the statement reads: those it reads by name (views and the tables behind them), and
     * the children and partitions a scan of a parent returns without naming them ({@link
     * StatementFacts#descendantReads}). Risk rules, masking's PHI tables and the code a read may run judge these; a
     * role's scope judges {@link #reads} only, as the server checks privileges on the parent named only.
     */
    public Set<TableRef> scanned() {
        if (facts.descendantReads().isEmpty()) {
            return reads;
        }
        Set<TableRef> all = new java.util.LinkedHashSet<>(reads);
        all.addAll(facts.descendantReads());
        return java.util.Collections.unmodifiableSet(all);
    }

    /** A statement phigate could not analyse although the grammar accepted it (or had no text to read). */
    public static StatementAnalysis unparsed(String text, String error) {
        return new StatementAnalysis(StatementKind.OTHER, Set.of(), Set.of(), Set.of(), List.of(), Set.of(), false,
                null, null, null, false, error, text, List.of(), null, false, StatementFacts.NONE, -1);
    }
}
