package io.phigate.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.phigate.pg.SessionState.Pending;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.ErrorCodes;
import io.phigate.pg.message.MessageCodec;
import io.phigate.sql.PgCatalog;
import io.phigate.sql.SqlAnalyzer;
import io.phigate.sql.StatementAnalysis;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The session-state registry, message by message and without sockets: the client side stages what it forwards
 * (as PgSession does), the server's answers go through {@link Exchange} exactly as the response pump feeds them,
 * and the view the next message would be judged by is asserted after each step.
 */
class SessionStateTest {
    private final SqlAnalyzer analyzer = new SqlAnalyzer(PgCatalog.builder().searchPath("public")
            .table(16_401, "public", "patients", "id", "name", "ssn").build(), 0);
    private final Exchange exchange = new Exchange(new ByteArrayOutputStream(), run -> { }, (byte) 'I', null, 0,
            null);
    private final StateView names = new StateView(exchange, analyzer::analyze, () -> false);
    private long statementIds;

    // ---- the client's messages, staged and expected as PgSession stages and expects them ----

    private void parse(String name, String text) {
        StatementAnalysis a = analyzer.analyze(text).getFirst();
        ResultShape.Prepared prepared = new ResultShape.Prepared(a);
        Pending p = exchange.state(s -> s.stage(new SessionState.PutStatement(name,
                new SessionState.Statement(name, text, text, prepared, null))));
        exchange.expect(List.of(Op.parse(prepared).withChanges(List.of(p))));
    }

    private void bind(String portal, String statement) throws IOException {
        SessionState.Statement s = names.statement(statement);
        SessionState.Portal bound = new SessionState.Portal(s, List.of(), null, SessionState.Hold.TRANSACTION, false);
        Pending p = exchange.state(st -> st.stage(new SessionState.PutPortal(portal, bound)));
        exchange.expect(List.of(Op.of(Op.Kind.BIND).withChanges(List.of(p))));
    }

    private void execute(String portal) throws IOException {
        SessionState.Portal p = names.portal(portal);
        List<Pending> staged = p == null ? List.of() : names.stage(p.statement().analysis(), List.of(), false);
        exchange.expect(List.of(Op.statement(Op.Kind.EXECUTE, run()).withChanges(staged)));
    }

    private void close(char kind, String name) {
        Pending p = exchange.state(s -> s.stage(kind == 'S' ? new SessionState.DropStatement(name)
                : new SessionState.DropPortal(name)));
        exchange.expect(List.of(Op.of(Op.Kind.CLOSE).withChanges(List.of(p))));
    }

    private void sync() {
        names.endSegment();
        exchange.expect(List.of(Op.of(Op.Kind.SYNC)));
    }

    private void query(String sql) {
        List<Pending> staged = new ArrayList<>(names.queryStarts());
        for (StatementAnalysis a : analyzer.analyze(sql)) {
            staged.addAll(names.stage(a, List.of(), true));
        }
        exchange.expect(List.of(Op.shaped(Op.Kind.QUERY, run(), null).withChanges(staged)));
        names.endSegment();
    }

    private StatementRun run() {
        return new StatementRun(++statementIds, 0, 0);
    }

    // ---- the server's answers ----

    private void server(BackendMessage... messages) throws IOException {
        for (BackendMessage m : messages) {
            byte[] frame = MessageCodec.encode(m);
            exchange.onBackendFrame(frame[0], Arrays.copyOfRange(frame, 5, frame.length));
        }
    }

    private static BackendMessage error(String sqlState) {
        return ErrorCodes.error(sqlState, "refused by the server");
    }

    private static BackendMessage done(String tag) {
        return new BackendMessage.CommandComplete(tag);
    }

    private static BackendMessage ready(char status) {
        return new BackendMessage.ReadyForQuery((byte) status);
    }

    private static final BackendMessage PARSED = BackendMessage.ParseComplete.INSTANCE;
    private static final BackendMessage BOUND = BackendMessage.BindComplete.INSTANCE;
    private static final BackendMessage CLOSED = BackendMessage.CloseComplete.INSTANCE;

    private String statementText(String name) throws IOException {
        SessionState.Statement s = names.statement(name);
        return s == null ? null : s.text();
    }

    private String portalText(String name) throws IOException {
        SessionState.Portal p = names.portal(name);
        return p == null ? null : p.statement().text();
    }

    private boolean settled(String statement) {
        return exchange.state(st -> st.statementSettled(statement));
    }

    private int pending() {
        return exchange.state(SessionState::pendingCount);
    }

    // ---- the behaviour ----

    @Test
    void aParseCountsForLaterMessagesOfItsPipelineAndIsKeptOnlyOnParseComplete() throws IOException {
        parse("s", "SELECT id FROM patients");
        assertEquals("SELECT id FROM patients", statementText("s"), "a Bind in the same pipeline refers to it");
        assertEquals(1, pending());
        server(PARSED);
        assertEquals(0, pending());
        assertEquals("SELECT id FROM patients", statementText("s"));
    }

    @Test
    void aFailedReParseOfAnExistingNameLeavesTheOldStatementAndSkipsItsPipeline() throws IOException {
        parse("s", "SELECT id FROM patients");
        sync();
        server(PARSED, ready('I'));

        parse("s", "SELECT ssn FROM patients");
        bind("p", "s");
        assertEquals("SELECT ssn FROM patients", portalText("p"), "judged as the server runs it if the Parse succeeds");
        execute("p");
        sync();
        server(error("42P05"), ready('I'));

        assertEquals("SELECT id FROM patients", statementText("s"));
        assertNull(names.portal("p"), "the Bind was skipped with the rest of the pipeline");
        assertEquals(0, pending());
    }

    @Test
    void anErrorSkipsToSyncAndWhatFollowsTheSyncStillCounts() throws IOException {
        parse("a", "SELECT 1");
        parse("b", "SELECT nope FROM nowhere");
        parse("c", "SELECT 3");
        sync();
        parse("d", "SELECT 4");
        server(PARSED, error("42P01"), ready('I'), PARSED);
        assertEquals("SELECT 1", statementText("a"));
        assertNull(statementText("b"));
        assertNull(statementText("c"), "skipped by the server after b failed");
        assertEquals("SELECT 4", statementText("d"));
    }

    @Test
    void aLookupThatDependsOnAnEarlierUnansweredRequestIsUnsettledUntilTheServerAnswers() throws IOException {
        parse("s", "SELECT id FROM patients");
        sync();
        server(PARSED, ready('I'));
        parse("s", "SELECT name FROM patients");
        sync();
        // The next pipeline's Bind cannot be judged yet: if that Parse fails, the server binds the old statement.
        assertFalse(settled("s"));
        assertTrue(settled("other"));
        server(error("42P05"), ready('I'));
        assertTrue(settled("s"));
        assertEquals("SELECT id FROM patients", statementText("s"));
    }

    @Test
    void waitingForTheServerEndsWhenItAnswers() throws Exception {
        parse("s", "SELECT id FROM patients");
        sync();
        Thread pump = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(200);
                server(PARSED, ready('I'));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals("SELECT id FROM patients", statementText("s"), "waits, then sees the server's answer");
        pump.join();
    }

    @Test
    void aFailedPrepareLeavesTheStatementTheServerHas() throws IOException {
        query("PREPARE s AS SELECT id FROM patients");
        server(done("PREPARE"), ready('I'));
        query("PREPARE s AS SELECT ssn FROM patients");
        assertEquals("SELECT ssn FROM patients", exchange.state(st -> st.statement("s")).text(),
                "the rest of that Query would run it");
        assertFalse(settled("s"), "the next request waits for the server's answer");
        server(error("42P05"), ready('I'));
        assertEquals("SELECT id FROM patients", statementText("s"));
    }

    @Test
    void prepareAndParseShareOneNamespaceAndDeallocateRemovesEither() throws IOException {
        parse("s1", "SELECT id FROM patients");
        sync();
        server(PARSED, ready('I'));
        query("DEALLOCATE s1");
        server(done("DEALLOCATE"), ready('I'));
        assertNull(statementText("s1"));
        query("PREPARE S1 AS SELECT name FROM patients");
        server(done("PREPARE"), ready('I'));
        assertEquals("SELECT name FROM patients", statementText("s1"), "unquoted names are folded as the server folds them");
    }

    @Test
    void aStatementAfterAFailedOneInTheSameQueryChangesNothing() throws IOException {
        query("PREPARE a AS SELECT id FROM patients; SELECT 1/0; PREPARE b AS SELECT ssn FROM patients");
        server(done("PREPARE"), error("22012"), ready('I'));
        assertNotNull(statementText("a"));
        assertNull(statementText("b"));
    }

    @Test
    void aSimpleQueryDropsTheUnnamedStatementEvenWhenItFails() throws IOException {
        parse("", "SELECT id FROM patients");
        sync();
        server(PARSED, ready('I'));
        query("SELECT 1/0");
        server(error("22012"), ready('I'));
        assertNull(statementText(""));
    }

    @Test
    void aSimpleQueryTheServerSkippedAfterAnErrorDropsNothing() throws IOException {
        parse("", "SELECT id FROM patients");
        sync();
        server(PARSED, ready('I'));
        parse("broken", "SELECT 'abc'::int");
        query("SELECT 1");
        sync();
        server(error("22P02"), ready('I'));
        assertEquals("SELECT id FROM patients", statementText(""));
    }

    @Test
    void theUnnamedPortalStaysBoundToTheStatementItWasBoundFrom() throws IOException {
        parse("", "SELECT id FROM patients");
        bind("", "");
        parse("", "SELECT ssn FROM patients");
        assertEquals("SELECT id FROM patients", portalText(""));
        assertEquals("SELECT ssn FROM patients", statementText(""));
        server(PARSED, BOUND, PARSED);
        assertEquals("SELECT id FROM patients", portalText(""));
        assertEquals("SELECT ssn FROM patients", statementText(""));
    }

    @Test
    void aDeclareInAParsedStatementTakesEffectOnlyWhenExecuted() throws IOException {
        query("BEGIN");
        server(done("BEGIN"), ready('T'));
        parse("d", "DECLARE c CURSOR FOR SELECT ssn FROM patients");
        bind("", "d");
        server(PARSED, BOUND);
        assertNull(names.portal("c"), "parsed and bound, not run");
        execute("");
        assertEquals("SELECT ssn FROM patients", portalText("c"));
        server(done("DECLARE CURSOR"));
        assertEquals("SELECT ssn FROM patients", portalText("c"));
        assertEquals(0, pending());
    }

    @Test
    void aFailedReDeclareLeavesTheCursorTheServerHas() throws IOException {
        query("BEGIN; DECLARE c CURSOR FOR SELECT id FROM patients");
        server(done("BEGIN"), done("DECLARE CURSOR"), ready('T'));
        query("DECLARE c CURSOR FOR SELECT ssn FROM patients");
        server(error("42P03"), ready('E'));
        assertEquals("SELECT id FROM patients", portalText("c"));
    }

    @Test
    void cursorsEndWithTheirTransactionCommittedOrRolledBack() throws IOException {
        query("BEGIN; DECLARE c CURSOR FOR SELECT id FROM patients");
        server(done("BEGIN"), done("DECLARE CURSOR"), ready('T'));
        query("COMMIT");
        server(done("COMMIT"), ready('I'));
        assertNull(names.portal("c"));

        query("BEGIN; DECLARE c CURSOR FOR SELECT id FROM patients");
        server(done("BEGIN"), done("DECLARE CURSOR"), ready('T'));
        query("SELECT 1/0");
        server(error("22012"), ready('E'));
        assertNotNull(names.portal("c"), "the aborted transaction still holds it until it ends");
        query("ROLLBACK");
        server(done("ROLLBACK"), ready('I'));
        assertNull(names.portal("c"));
    }

    @Test
    void aCursorWithHoldSurvivesCommitButNotRollback() throws IOException {
        query("BEGIN; DECLARE h CURSOR WITH HOLD FOR SELECT id FROM patients; COMMIT");
        server(done("BEGIN"), done("DECLARE CURSOR"), done("COMMIT"), ready('I'));
        assertNotNull(names.portal("h"));
        query("BEGIN; DECLARE g NO SCROLL CURSOR WITH HOLD FOR SELECT id FROM patients");
        server(done("BEGIN"), done("DECLARE CURSOR"), ready('T'));
        query("ROLLBACK");
        server(done("ROLLBACK"), ready('I'));
        assertNull(names.portal("g"));
        assertNotNull(names.portal("h"), "a committed holdable cursor outlives later transactions");
        // In an implicit transaction: kept when it commits, gone when an error rolls it back.
        query("DECLARE i CURSOR WITH HOLD FOR SELECT id FROM patients");
        server(done("DECLARE CURSOR"), ready('I'));
        assertNotNull(names.portal("i"));
        query("DECLARE j CURSOR WITH HOLD FOR SELECT id FROM patients; SELECT 1/0");
        server(done("DECLARE CURSOR"), error("22012"), ready('I'));
        assertNull(names.portal("j"));
    }

    /**
     * The server ties each portal to the subtransaction that made it (decision 0069): ROLLBACK TO drops the cursors
     * and portals made since the savepoint, WITH HOLD or not, and keeps the ones made before it; the savepoint stays.
     */
    @Test
    void rollbackToASavepointDropsWhatWasDeclaredSinceItAndKeepsWhatCameBefore() throws IOException {
        query("BEGIN; DECLARE before CURSOR FOR SELECT id FROM patients; SAVEPOINT s");
        server(done("BEGIN"), done("DECLARE CURSOR"), done("SAVEPOINT"), ready('T'));
        query("DECLARE c CURSOR FOR SELECT id FROM patients; DECLARE h CURSOR WITH HOLD FOR SELECT id FROM patients");
        server(done("DECLARE CURSOR"), done("DECLARE CURSOR"), ready('T'));
        parse("q", "SELECT name FROM patients");
        bind("p", "q");
        sync();
        server(PARSED, BOUND, ready('T'));
        query("ROLLBACK TO SAVEPOINT s");
        server(done("ROLLBACK"), ready('T'));
        assertNull(names.portal("c"));
        assertNull(names.portal("h"), "WITH HOLD does not outlive the rollback of its subtransaction");
        assertNull(names.portal("p"), "a protocol portal is a portal too");
        assertNotNull(names.portal("before"));
        // The savepoint is set again: a second ROLLBACK TO drops what is made after the first.
        query("DECLARE c CURSOR FOR SELECT ssn FROM patients");
        server(done("DECLARE CURSOR"), ready('T'));
        assertEquals("SELECT ssn FROM patients", portalText("c"));
        query("ROLLBACK TO s");
        server(done("ROLLBACK"), ready('T'));
        assertNull(names.portal("c"));
        assertNotNull(names.portal("before"));
        query("COMMIT");
        server(done("COMMIT"), ready('I'));
        assertNull(names.portal("before"));
    }

    @Test
    void releaseHandsCursorsToTheEnclosingLevelAndNestedSavepointsUnwindInOrder() throws IOException {
        query("BEGIN; SAVEPOINT a; DECLARE x CURSOR FOR SELECT id FROM patients; SAVEPOINT b;"
                + " DECLARE y CURSOR FOR SELECT id FROM patients; RELEASE b; SAVEPOINT a;"
                + " DECLARE z CURSOR WITH HOLD FOR SELECT id FROM patients");
        server(done("BEGIN"), done("SAVEPOINT"), done("DECLARE CURSOR"), done("SAVEPOINT"), done("DECLARE CURSOR"),
                done("RELEASE"), done("SAVEPOINT"), done("DECLARE CURSOR"), ready('T'));
        // The second "a" is the nearer one: ROLLBACK TO it drops z only.
        query("ROLLBACK TO a");
        server(done("ROLLBACK"), ready('T'));
        assertNull(names.portal("z"));
        assertNotNull(names.portal("x"));
        assertNotNull(names.portal("y"), "released with b, so it belongs to the level of the first a");
        query("RELEASE a; ROLLBACK TO a");
        server(done("RELEASE"), done("ROLLBACK"), ready('T'));
        assertNull(names.portal("x"));
        assertNull(names.portal("y"));
        // An unknown savepoint is the server's error: nothing is dropped.
        query("DECLARE w CURSOR WITH HOLD FOR SELECT id FROM patients");
        server(done("DECLARE CURSOR"), ready('T'));
        query("ROLLBACK TO nowhere");
        server(error("3B001"), ready('E'));
        assertNotNull(names.portal("w"), "held until the failed transaction ends");
        query("ROLLBACK");
        server(done("ROLLBACK"), ready('I'));
        assertNull(names.portal("w"));
        // RELEASE in a failed transaction is refused by the server (25P02): the cursor stays at its level, and the
        // ROLLBACK TO that follows drops it; ABORT ends the transaction like ROLLBACK.
        query("BEGIN; SAVEPOINT s; DECLARE m CURSOR FOR SELECT id FROM patients");
        server(done("BEGIN"), done("SAVEPOINT"), done("DECLARE CURSOR"), ready('T'));
        query("SELECT 1/0");
        server(error("22012"), ready('E'));
        query("RELEASE s");
        server(error("25P02"), ready('E'));
        assertNotNull(names.portal("m"));
        query("ROLLBACK TO s; DECLARE n CURSOR WITH HOLD FOR SELECT id FROM patients");
        server(done("ROLLBACK"), done("DECLARE CURSOR"), ready('T'));
        assertNull(names.portal("m"));
        query("ABORT");
        server(done("ROLLBACK"), ready('I'));
        assertNull(names.portal("n"));
        // A holdable cursor declared in a released savepoint of a committed transaction lives on.
        query("BEGIN; SAVEPOINT s; DECLARE k CURSOR WITH HOLD FOR SELECT id FROM patients; RELEASE s; COMMIT");
        server(done("BEGIN"), done("SAVEPOINT"), done("DECLARE CURSOR"), done("RELEASE"), done("COMMIT"), ready('I'));
        assertNotNull(names.portal("k"));
        query("BEGIN; SAVEPOINT s; ROLLBACK TO s; ROLLBACK");
        server(done("BEGIN"), done("SAVEPOINT"), done("ROLLBACK"), done("ROLLBACK"), ready('I'));
        assertNotNull(names.portal("k"), "made before the savepoint, in a transaction that committed");
    }

    @Test
    void aNamedPortalEndsWithItsTransaction() throws IOException {
        parse("s", "SELECT id FROM patients");
        bind("p", "s");
        sync();
        server(PARSED, BOUND, ready('I'));
        assertNull(names.portal("p"), "the implicit transaction ended at Sync");
        assertNotNull(statementText("s"), "statements outlive transactions");
    }

    @Test
    void discardAllDeallocateAllAndCloseAllClearTheirParts() throws IOException {
        query("PREPARE a AS SELECT 1; PREPARE b AS SELECT 2; BEGIN; DECLARE c CURSOR FOR SELECT 3;"
                + " DECLARE d CURSOR FOR SELECT 4");
        server(done("PREPARE"), done("PREPARE"), done("BEGIN"), done("DECLARE CURSOR"), done("DECLARE CURSOR"),
                ready('T'));
        query("CLOSE ALL");
        server(done("CLOSE CURSOR ALL"), ready('T'));
        assertNull(names.portal("c"));
        assertNull(names.portal("d"));
        assertNotNull(statementText("a"));
        query("DEALLOCATE ALL");
        server(done("DEALLOCATE ALL"), ready('T'));
        assertNull(statementText("a"));
        assertNull(statementText("b"));

        query("COMMIT");
        server(done("COMMIT"), ready('I'));
        query("PREPARE e AS SELECT 5; DECLARE f CURSOR WITH HOLD FOR SELECT 6");
        server(done("PREPARE"), done("DECLARE CURSOR"), ready('I'));
        query("DISCARD ALL");
        server(done("DISCARD ALL"), ready('I'));
        assertNull(statementText("e"));
        assertNull(names.portal("f"));
    }

    @Test
    void aCloseMessageTakesEffectOnCloseComplete() throws IOException {
        parse("s", "SELECT id FROM patients");
        sync();
        server(PARSED, ready('I'));
        close('S', "s");
        assertNull(statementText("s"), "judged as closed by the rest of its pipeline");
        server(CLOSED);
        assertNull(statementText("s"));
        assertEquals(0, pending());
    }

    @Test
    void aClosedThatTheServerSkippedLeavesTheStatement() throws IOException {
        parse("s", "SELECT id FROM patients");
        sync();
        server(PARSED, ready('I'));
        parse("broken", "SELECT nope FROM nowhere");
        close('S', "s");
        sync();
        server(error("42P01"), ready('I'));
        assertEquals("SELECT id FROM patients", statementText("s"));
    }

    @Test
    void changesOfARequestTheGatewayRefusedAreForgotten() throws IOException {
        List<Pending> staged = new ArrayList<>(names.queryStarts());
        staged.addAll(names.stage(analyzer.analyze("PREPARE s AS SELECT 1").getFirst(), List.of(), true));
        names.forget(staged);
        assertNull(statementText("s"));
        assertEquals(0, pending());
    }
}
