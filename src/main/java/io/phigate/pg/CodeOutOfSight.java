package io.phigate.pg;

import io.phigate.sql.Operation;
import io.phigate.sql.PgCatalog;
import io.phigate.sql.Relation;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementKind;
import io.phigate.sql.TableRef;
import io.phigate.sql.TypeNames;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * Which statements may run code the gateway does not read (decision 0064): a trigger, a rule, a view's body, a
 * function outside the vetted built-ins, a domain's CHECK. Such code may change search_path or the role, or DDL the
 * catalog, out of the gateway's sight; {@link HiddenSettingChanges} asks the server after it. Pure: judged by the
 * session's catalog and whether the session created code. Runs on the client reader.
 */
final class CodeOutOfSight {
    /** The server's own schemas: their views were written at initdb and call nothing that changes a setting. */
    private static final Set<String> SERVER_SCHEMAS = Set.of("pg_catalog", "information_schema");

    /** The session's catalog; null (built by hand): everything may run code. */
    private final PgCatalog catalog;
    /** The session created code (a function, trigger, rule, policy) or ran code it could not read. */
    private final BooleanSupplier codeCreated;
    /** Something in the open transaction (or the chunk being collected) may have run code. */
    private final BooleanSupplier codeInTransaction;

    CodeOutOfSight(PgCatalog catalog, BooleanSupplier codeCreated, BooleanSupplier codeInTransaction) {
        this.catalog = catalog;
        this.codeCreated = codeCreated;
        this.codeInTransaction = codeInTransaction;
    }

    /**
     * False only for a statement that, by the catalog, runs nothing the gateway does not read: SET (not SET
     * CONSTRAINTS, which fires deferred triggers), SHOW, RESET, BEGIN, SAVEPOINT, FETCH, PREPARE (it runs nothing
     * until executed); a SELECT or DECLARE that calls no function
     * outside the vetted built-ins, changes no state, and reads only tables, materialized views and sequences
     * without row security, rules or triggers (or the server's own catalog, or the session's temporary tables); an
     * INSERT, UPDATE or DELETE of the same kind that writes only the session's temporary tables and tables the catalog
     * knows to run no code when written ({@link PgCatalog#runsCode}: no trigger, rule, row security, and no default,
     * CHECK, index or partition key calling code; the tables its foreign keys' actions and its children reach
     * included, as the analysis counts them); DDL that stores no code ({@link UtilityWords#storesNoCode}) of the same
     * kind, where no event trigger exists; a COMMIT, ROLLBACK or PREPARE TRANSACTION of a transaction in which
     * nothing may have run code (deferred triggers are queued only by writes that run code, and a ROLLBACK puts back
     * only settings the gateway saw set). A view's body and every other statement may; an EXECUTE is judged by the
     * statement it names, which is judged after it (decision 0086).
     */
    boolean mayRun(StatementAnalysis a) {
        if (a == null) {
            return true;
        }
        return switch (a.kind()) {
            // SET CONSTRAINTS ... IMMEDIATE fires the deferred triggers queued so far (review 8: one replaced a view)
            case SET -> "constraints".equals(a.setting());
            case SHOW, RESET, EMPTY, FETCH, MOVE, CLOSE_CURSOR, PREPARE, DEALLOCATE -> false;
            // judged together with what it names (StateView.Resolution): that analysis follows it and decides
            case EXECUTE -> false;
            case TRANSACTION -> !UtilityWords.runsNothing(a) && (!a.parsed()
                    || a.operations().contains(Operation.FUNCTION) || codeInTransaction.getAsBoolean());
            case SELECT, DECLARE_CURSOR -> !runsOnlyWhatItReads(a, false);
            case INSERT, UPDATE, DELETE -> !runsOnlyWhatItReads(a, true);
            case DDL -> catalog == null || catalog.eventTriggers() || !UtilityWords.storesNoCode(a.text())
                    || !runsOnlyWhatItReads(a, true);
            default -> true;
        };
    }

    /** {@code a} calls nothing but vetted built-ins and touches only relations that run no code when touched. */
    private boolean runsOnlyWhatItReads(StatementAnalysis a, boolean writesTemporary) {
        if (catalog == null || !a.parsed() || !a.opaqueFunctions().isEmpty() || !a.facts().stateChanges().isEmpty()) {
            return false;
        }
        // A domain's CHECK or default that calls code runs when a value of it is made, with no function named
        // (TypeNames.mayMakeCodeValues), and on a write to a temporary table, whose column types are not kept.
        if (catalog.hasCodeTypes() && (a.kind() != StatementKind.DDL && !a.writes().isEmpty()
                || TypeNames.mayMakeCodeValues(a, catalog))) {
            return false;
        }
        for (TableRef t : a.writes()) {
            if (!writesTemporary || a.kind() != StatementKind.DDL && !temporary(t) && !writtenRunningNoCode(t)) {
                return false;
            }
        }
        for (TableRef t : a.scanned()) { // a foreign table's wrapper runs when read as a partition too
            if (SERVER_SCHEMAS.contains(t.schema()) || temporary(t)) {
                continue;
            }
            Relation.Kind kind = kind(t);
            if (kind == null || kind == Relation.Kind.VIEW || kind == Relation.Kind.FOREIGN_TABLE
                    || catalog.runsCodeWhenRead(t)) {
                return false;
            }
        }
        return true;
    }

    /** A table the catalog knows, on which a write runs no code (an unknown relation runs code, fail closed). */
    private boolean writtenRunningNoCode(TableRef t) {
        return kind(t) == Relation.Kind.TABLE && !SERVER_SCHEMAS.contains(t.schema()) && !catalog.runsCode(t);
    }

    /** The relation's kind by the catalog, or null where it does not know it. */
    private Relation.Kind kind(TableRef t) {
        return catalog.relation(t.schema(), t.table()).map(Relation::kind).orElse(null);
    }

    /** The session's own temporary relation: code runs on it only where the session created such code. */
    private boolean temporary(TableRef t) {
        return !codeCreated.getAsBoolean() && ("pg_temp".equals(t.schema()) || "?".equals(t.schema()));
    }
}
