package io.phigate.pg;

import io.phigate.pg.message.ErrorCodes;
import io.phigate.pg.message.FrontendMessage.Bind;
import io.phigate.pg.message.FrontendMessage.FunctionCall;
import io.phigate.session.Refusal;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementKind;
import java.util.List;
import java.util.Set;

/**
 * What code earlier in the open request may have changed out of the gateway's sight, and so what the rest of that
 * request may not do. The server reports a setting that code changed only at the request's ReadyForQuery; until then
 * it reads what follows in the same extended-protocol batch (up to the client's Sync), or the rest of the same simple
 * Query, by the new value while the gateway judged it by the old.
 * <ul>
 *   <li><b>client_encoding and standard_conforming_strings</b> (decisions 0057, 0063): after any Bind or Execute of the
 *       open batch (or a Query or FunctionCall inside it), a statement text that reads differently under another
 *       value, a statement or portal name beyond ASCII, and a malformed bound value are refused; bound values beyond
 *       ASCII are recorded with a note ({@link EncodingAfterHiddenCode}).</li>
 *   <li><b>search_path and the role</b> (decision 0064), in a guarded session only ({@link Code#guarded}): before a
 *       Bind of a statement that reads names after one of the same batch that may run code, the gateway asks the
 *       server (decision 0070); a simple Query's statement that reads names after one of its own that may, where
 *       nothing can be asked in between, is refused.</li>
 * </ul>
 * Pure: no I/O. Runs on the client reader.
 */
final class OpenBatch {
    /** What the catalog says about code the gateway does not read ({@link HiddenSettingChanges}). */
    interface Code {
        /** Code that may change search_path or the role exists in this session's database, or may now. */
        boolean guarded();

        /** {@code a} (null: unknown) may run such code. A question: it notes nothing. */
        boolean mayRunCode(StatementAnalysis a);

        /**
         * A Bind or Execute joins the chunk being collected running {@code a} (null: something unknown, or a Bind
         * whose values may run code before it), so the chunk is judged by what it runs, not only by what it parses.
         */
        default void runs(StatementAnalysis a) {
        }

        /** Such code may have run in the chunk being collected: the next request asks the server first. */
        void mayHaveRun();

        /**
         * Whether a Bind's value of a type made after initdb, or of a type the server infers (OID 0), may run code
         * as the server converts it: only where some type's values do ({@code PgCatalog#hasCodeTypes}: a domain
         * whose CHECK or default calls code, a cast made with a function, and every type built over one) or the
         * session made code of its own. Elsewhere every type's input function is C a superuser installed.
         */
        default boolean valuesMayRunCode() {
            return true;
        }
    }

    /** Statement kinds that resolve no name: nothing code changed before them alters what they do. */
    private static final Set<StatementKind> NAMELESS = Set.of(StatementKind.TRANSACTION, StatementKind.SET,
            StatementKind.SHOW, StatementKind.RESET, StatementKind.EMPTY, StatementKind.FETCH, StatementKind.MOVE,
            StatementKind.CLOSE_CURSOR, StatementKind.DEALLOCATE,
            // a PREPARE's names are read again when it is executed, if the path changed in between
            StatementKind.PREPARE);

    /** Statement kinds the server plans at Bind, names and all, unless they store their result (SELECT INTO). */
    private static final Set<StatementKind> PLANNED_AT_BIND = Set.of(StatementKind.SELECT, StatementKind.INSERT,
            StatementKind.UPDATE, StatementKind.DELETE, StatementKind.MERGE);

    /** PostgreSQL's FirstNormalObjectId: every OID from here was made after initdb. */
    private static final long FIRST_NORMAL_OBJECT_ID = 16384;

    /** Statements are analysed; otherwise nothing is judged and nothing here applies. */
    private final boolean analysed;
    /** Null where no statement is analysed: search_path and role are then nobody's concern here. */
    private final Code code;
    /**
     * A Bind or Execute of the open batch went (or goes with the chunk) to the server, or a Query or FunctionCall
     * went within it: it may have run code that changed client_encoding or standard_conforming_strings.
     */
    private boolean anyRan;
    /** Messages that may run code went since the last Sync, and whether any of them did (guarded sessions). */
    private boolean batchOpen;
    private boolean codeRan;
    /**
     * Code may have run in the chunk being collected. A Query (or FunctionCall) may be the first of the batch to run
     * anything, after only a Parse: whether the batch stays open upstream is known when the chunk goes.
     */
    private boolean codeInChunk;
    /** A Bind's values may have run code before the server read its statement's names (see {@link #bind}). */
    private boolean namesReadAfterCode;

    OpenBatch(boolean analysed, Code code) {
        this.analysed = analysed;
        this.code = code;
    }

    // ---- client_encoding and standard_conforming_strings (decisions 0057, 0063) ----

    /**
     * True while code of the open batch of an analysed session may have changed client_encoding out of sight: the
     * server decodes names and text values in what follows by that encoding.
     */
    boolean encodingMayHaveChanged() {
        return analysed && anyRan;
    }

    /**
     * Null when the server will read {@code text} as the gateway judged it; otherwise the refusal. Only a text whose
     * reading depends on client_encoding or standard_conforming_strings is refused, and only after code may have run:
     * the same text as the first statement after a Sync is judged after the server's report of both settings.
     */
    Refusal text(String text) {
        if (!encodingMayHaveChanged() || !SettingDependentText.of(text)) {
            return null;
        }
        return new Refusal(ErrorCodes.FEATURE_NOT_SUPPORTED, "phigate refuses a statement with a backslash or a"
                + " non-ASCII character after a Bind or Execute in the same extended-protocol batch: a statement"
                + " before it may have changed client_encoding or standard_conforming_strings, which the server"
                + " reports only at the batch's end, and under another value the server would read this text"
                + " differently from the gateway; send it after a Sync");
    }

    /** Null when the server reads these statement and portal names as the gateway does; else the refusal. */
    Refusal names(String... names) {
        return EncodingAfterHiddenCode.names(encodingMayHaveChanged(), names);
    }

    /** The refusal of a Bind with a text value that is not UTF-8 after code may have run, or null. */
    Refusal malformedValues(Bind b) {
        return EncodingAfterHiddenCode.malformed(encodingMayHaveChanged(), b.parameters(), b::parameterFormat);
    }

    /** The statement a Bind's portal runs, as recorded: noted where its values may stand for other characters. */
    SessionState.Statement recordedAs(Bind b, SessionState.Statement statement) {
        return statement != null && EncodingAfterHiddenCode.misreadable(encodingMayHaveChanged(), b,
                statement.prepared()) ? EncodingAfterHiddenCode.recordedAsMisreadable(statement) : statement;
    }

    /** The refusal of a FunctionCall with a text argument beyond ASCII after code may have run, or null. */
    Refusal functionArguments(FunctionCall f) {
        return EncodingAfterHiddenCode.functionArguments(encodingMayHaveChanged(), f.arguments(), f::argumentFormat);
    }

    // ---- search_path and the role (decision 0064) ----

    /**
     * True before a Bind of a statement that reads names after code of the same extended batch may have run: the
     * server resolves its names (a Bind re-reads a prepared statement's when the path changed) by what that code
     * left, so the gateway asks the server first (decision 0070) and then calls {@link #asked}.
     */
    boolean askBeforeBind(StatementAnalysis statement) {
        return guarded() && codeRan && readsNames(statement);
    }

    /**
     * True before an Execute of a portal whose statement resolves names when it runs, after code of the same batch
     * may have run: a utility statement (EXECUTE, DECLARE, EXPLAIN, COPY, CREATE TABLE AS, CALL, ...) reads its
     * names at Execute, not at its Bind, so a portal bound before the code reads what that code left. A SELECT,
     * INSERT, UPDATE, DELETE or MERGE was planned at its Bind and reads nothing by name afterwards.
     */
    boolean askBeforeExecute(StatementAnalysis statement) {
        return guarded() && codeRan && readsNames(statement) && (namesReadAfterCode || !plannedAtBind(statement));
    }

    /** The server showed the settings as judged (or skips the rest of the batch): nothing has run since. */
    void asked() {
        codeRan = false;
        namesReadAfterCode = false;
    }

    /**
     * A Bind of a statement joins the batch: binding plans, and planning may run a function. Before that, the server
     * converts the Bind's values by their types' input functions, and only then re-reads the statement's names: a
     * domain's CHECK calling code (a parameter of a user type) may move search_path between the question asked
     * before this Bind and the names, so the portal's Execute is asked before too ({@link #askBeforeExecute}).
     */
    void bind(StatementAnalysis statement, int parameters, int[] declaredTypes) {
        if (!guarded()) {
            return;
        }
        batchOpen = true;
        if (code.valuesMayRunCode() && typesMayRunCode(parameters, declaredTypes)) {
            // what the values' input functions run is nobody's own DDL
            code.runs(null);
            mark();
            namesReadAfterCode = true;
        } else {
            code.runs(statement);
            if (code.mayRunCode(statement)) {
                mark();
            }
        }
    }

    /**
     * True where a value's type may have an input function that runs code: one the server infers (0), or one made
     * after initdb (a domain, an enum, a composite, an extension's type). Built-in types' input functions run none.
     */
    private static boolean typesMayRunCode(int parameters, int[] declaredTypes) {
        for (int i = 0; i < parameters; i++) {
            int type = declaredTypes == null || i >= declaredTypes.length ? 0 : declaredTypes[i];
            if (type == 0 || Integer.toUnsignedLong(type) >= FIRST_NORMAL_OBJECT_ID) {
                return true;
            }
        }
        return false;
    }

    /** The refusal for a simple Query with a statement after one that may run code, or null (and noted). */
    Refusal query(List<StatementAnalysis> statements) {
        if (!guarded()) {
            return null;
        }
        boolean codeMayRun = codeRan;
        for (StatementAnalysis a : statements) {
            if (codeMayRun && readsNames(a)) {
                return new Refusal(ErrorCodes.FEATURE_NOT_SUPPORTED, "phigate refuses a query whose statements read"
                        + " names after a statement that may run code this database holds (a trigger, a function,"
                        + " a view's), which may change search_path or the role in between; send them as separate"
                        + " queries");
            }
            codeMayRun |= code.mayRunCode(a);
        }
        if (codeMayRun) {
            mark();
        }
        return null;
    }

    // ---- what joins the batch ----

    /** A Bind joins the chunk: the encoding may change from here on (its planning may run a function). */
    void bound() {
        anyRan = true;
    }

    /** An Execute joins the chunk ({@code judged}: what it runs, its statement and what an EXECUTE or FETCH names). */
    void executes(List<StatementAnalysis> judged) {
        anyRan = true;
        if (!guarded()) {
            return;
        }
        batchOpen = true;
        if (judged == null || judged.isEmpty()) {
            code.runs(null);
            mark();
            return;
        }
        boolean mayRun = false;
        for (StatementAnalysis a : judged) {
            code.runs(a);
            mayRun |= code.mayRunCode(a);
        }
        if (mayRun) {
            mark();
        }
    }

    /**
     * A chunk went upstream. A Query or FunctionCall in a batch still open ends with a ReadyForQuery of its own,
     * where the server reports what it changed; but what the client sends next in the batch goes upstream without
     * waiting for it. A FunctionCall runs a function by OID.
     */
    void forwarded(List<Op> ops, boolean batchStillOpen) {
        for (int i = 0; i < ops.size(); i++) {
            Op.Kind kind = ops.get(i).kind();
            codeInChunk |= kind == Op.Kind.FUNCTION_CALL && guarded();
            if (batchStillOpen && (kind == Op.Kind.QUERY || kind == Op.Kind.FUNCTION_CALL)) {
                anyRan = true;
            }
        }
        if (batchStillOpen && codeInChunk) {
            // what follows in this batch goes upstream without the question asked between requests
            batchOpen = true;
            codeRan = true;
        }
        codeInChunk = false;
    }

    /** The client's Sync: the batch ends, and the server reports its settings at the ReadyForQuery. */
    void synced() {
        anyRan = false;
        batchOpen = false;
        codeRan = false;
        namesReadAfterCode = false;
    }

    /** The gateway ended a refused request upstream with a Sync of its own: the encoding is reported there. */
    void encodingReported() {
        anyRan = false;
    }

    private boolean guarded() {
        return code != null && code.guarded();
    }

    private static boolean readsNames(StatementAnalysis statement) {
        return statement == null || !NAMELESS.contains(statement.kind());
    }

    private static boolean plannedAtBind(StatementAnalysis statement) {
        return statement != null && statement.parsed() && !statement.copiesQuery()
                && PLANNED_AT_BIND.contains(statement.kind());
    }

    private void mark() {
        code.mayHaveRun();
        codeInChunk = true;
        codeRan |= batchOpen;
    }
}
