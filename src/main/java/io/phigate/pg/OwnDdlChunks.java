package io.phigate.pg;

import io.phigate.sql.Operation;
import io.phigate.sql.PgCatalog;
import io.phigate.sql.Relation;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementKind;
import io.phigate.sql.TableRef;
import io.phigate.sql.TypeNames;
import java.util.function.BooleanSupplier;

/**
 * Which chunks a session sends hold only its own DDL, whose change to the catalog the catalog check may take as its
 * new baseline (decision 0075, 3; review 8), and which may hold code whose change it must not. A chunk is the
 * session's own DDL when every statement that joined it is DDL running no code as it runs ({@link #runsNoCode}) and
 * no code ran earlier in the same transaction: that code may have queued deferred triggers, which fire at the commit
 * after the DDL (an implicit one at a batch's Sync too).
 *
 * <p>Pure state, no I/O. Runs on the client reader; {@link HiddenSettingChanges} feeds it what joins each chunk (the
 * analyser's statements, and what a Bind or Execute runs) and acts on {@link #went}'s verdict.
 */
final class OwnDdlChunks {
    /** What the chunk that went means for the catalog check. */
    enum Verdict {
        /** Only the session's own DDL, with no code before it in the transaction: its change may be adopted. */
        OWN_DDL,
        /** Code may have run, or DDL that is not the session's alone: a change from here on is no one's to adopt. */
        CODE_MAY_HAVE_RUN,
        /** Neither: nothing for the catalog check. */
        NOTHING
    }

    /** The session's catalog; null (built by hand): nothing is the session's own. */
    private final PgCatalog catalog;
    /** The session created code (a function, trigger, rule, policy) or ran code it could not read. */
    private final BooleanSupplier codeCreated;
    /** DDL of the session's own that runs no code joined the chunk being collected. */
    private boolean ddlInChunk;
    /** Something other than such DDL joined the chunk being collected. */
    private boolean notOnlyDdlInChunk;
    /** Code may have run since the session was last between transactions. */
    private boolean codeInTransaction;

    OwnDdlChunks(PgCatalog catalog, BooleanSupplier codeCreated) {
        this.catalog = catalog;
        this.codeCreated = codeCreated;
    }

    /** {@code a} joins the chunk being collected, analysed or run by a Bind or Execute; null: a statement unknown. */
    void joins(StatementAnalysis a) {
        if (a == null) {
            notOnlyDdlInChunk = true;
        } else if (a.operations().contains(Operation.DDL) && runsNoCode(a)) {
            ddlInChunk = true;
        } else if (a.kind() != StatementKind.EMPTY) {
            notOnlyDdlInChunk = true;
        }
    }

    /** A FunctionCall joins the chunk: it runs a function by OID, whose change is not the session's to adopt. */
    void functionCall() {
        notOnlyDdlInChunk = true;
    }

    /** The session was seen between transactions: no code of an earlier transaction can fire any more. */
    /** Something in the open transaction may have run code (own DDL alone runs none). */
    boolean codeInTransaction() {
        return codeInTransaction;
    }

    void betweenTransactions() {
        codeInTransaction = false;
    }

    /**
     * The chunk went upstream ({@code codeInChunk}: something in it may have run code, by {@link
     * HiddenSettingChanges#mayRunCode} or a FunctionCall): what it means for the catalog check. Starts the next chunk.
     */
    Verdict went(boolean codeInChunk) {
        // A chunk of own DDL alone queues nothing: it runs no code, though decision 0064 counts some DDL as code.
        boolean ownOnly = ddlInChunk && !notOnlyDdlInChunk;
        boolean codeBefore = codeInTransaction;
        codeInTransaction |= codeInChunk && !ownOnly;
        Verdict verdict = ownOnly && !codeBefore ? Verdict.OWN_DDL
                : codeInChunk || ddlInChunk ? Verdict.CODE_MAY_HAVE_RUN : Verdict.NOTHING;
        ddlInChunk = false;
        notOnlyDdlInChunk = false;
        return verdict;
    }

    /**
     * DDL whose catalog change the session may take as its own: it runs no code as it runs (what it stores to run
     * later is {@link HiddenSettingChanges#watching}'s business): no event trigger, no function outside the vetted
     * built-ins (a CHECK, a default, an index expression, a USING are evaluated as it runs), no value of a type whose
     * making runs code, and where it runs a query (CREATE TABLE AS) only plain tables read. DDL other than the
     * creating kinds must also alter only relations that run no code when written ({@link #alteredRunNoCode}).
     */
    boolean runsNoCode(StatementAnalysis a) {
        if (catalog == null || catalog.eventTriggers() || !a.parsed() || !a.opaqueFunctions().isEmpty()
                || !a.facts().stateChanges().isEmpty() || catalog.hasCodeTypes() && TypeNames.mayMakeCodeValues(a, catalog)) {
            return false;
        }
        for (TableRef t : a.scanned()) { // a plain parent's scan runs a foreign child's wrapper too
            Relation.Kind kind = catalog.relation(t.schema(), t.table()).map(Relation::kind).orElse(null);
            if (kind != Relation.Kind.TABLE || catalog.runsCodeWhenRead(t)) {
                return false;
            }
        }
        // The analysis says DDL, not which: the creating kinds are told apart by the statement's own parse tree.
        return UtilityWords.creates(a.text()) || alteredRunNoCode(a);
    }

    /**
     * DDL that alters a relation that exists runs the code its CHECKs, its domains' and defaults call, with no
     * function named: VALIDATE CONSTRAINT and ALTER COLUMN TYPE test every row (review 8: a vetted-looking
     * {@code ALTER TABLE t VALIDATE CONSTRAINT c} ran a SECURITY DEFINER function that replaced a view, and the
     * change was adopted as the session's own). A relation the catalog does not know is the session's own or
     * another's made since; it may carry such code only where the session created code (another's is seen by the
     * shared reading, decision 0075's window).
     */
    private boolean alteredRunNoCode(StatementAnalysis a) {
        for (TableRef t : a.writes()) {
            boolean known = catalog.relation(t.schema(), t.table()).isPresent();
            if (known ? catalog.runsCode(t) : codeCreated.getAsBoolean()) {
                return false;
            }
        }
        return true;
    }
}
