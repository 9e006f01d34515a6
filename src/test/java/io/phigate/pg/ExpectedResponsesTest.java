package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.audit.AuditEvent.Outcome;
import io.phigate.pg.Op.Kind;
import io.phigate.sql.StatementAnalysis;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The protocol-state queue alone, edge case by edge case, as the server would answer (no socket, no database):
 * which op each backend message answers, what an error skips, when the gateway's own answers are due, and what the
 * session state keeps on the server's word.
 */
class ExpectedResponsesTest {
    private final ExpectedResponses q = new ExpectedResponses();
    private long ids;

    private StatementRun run() {
        return new StatementRun(++ids, 0, 0);
    }

    private static Op op(Kind kind) {
        return Op.of(kind);
    }

    private static Op execute(StatementRun run) {
        return Op.statement(Kind.EXECUTE, run);
    }

    private static Op query(StatementRun run) {
        return Op.statement(Kind.QUERY, run);
    }

    private SessionState.Pending stageStatement(String name) {
        return q.state().stage(new SessionState.PutStatement(name,
                new SessionState.Statement(name, "select 1", "select 1", null, null)));
    }

    private List<Outcome> outcomes(List<StatementRun> runs) {
        return runs.stream().map(r -> r.outcome).toList();
    }

    // ---- the extended protocol ----

    @Test
    void parseBindExecuteSyncRetireInOrderAndTheStatementFinishesAtItsCommandComplete() {
        StatementRun e = run();
        q.expect(List.of(op(Kind.PARSE), op(Kind.BIND), execute(e), op(Kind.SYNC)));

        q.parseComplete();
        assertThat(q.head().kind()).isEqualTo(Kind.BIND);
        q.bindComplete();
        q.commandComplete("SELECT 3", 3);
        assertThat(outcomes(q.takeFinished())).containsExactly(Outcome.OK);
        assertThat(e.commandTag).isEqualTo("SELECT 3");
        assertThat(e.rows).isEqualTo(3);
        assertThat(q.head().kind()).isEqualTo(Kind.SYNC);
        q.readyForQuery((byte) 'I');
        assertThat(q.idle()).isTrue();
        assertThat(q.takeFinished()).isEmpty();
    }

    @Test
    void anAnswerOfAnotherKindThanTheHeadRetiresNothing() {
        q.expect(List.of(op(Kind.PARSE), op(Kind.SYNC)));
        q.bindComplete();
        q.closeComplete();
        q.commandComplete("SELECT 1", 1);
        assertThat(q.head().kind()).isEqualTo(Kind.PARSE);
    }

    @Test
    void anExecuteThatFailsEndsInErrorAndTheRestOfItsBatchIsSkippedUpToTheSync() {
        StatementRun first = run();
        StatementRun second = run();
        StatementRun afterSync = run();
        q.expect(List.of(op(Kind.BIND), execute(first), op(Kind.BIND), execute(second), op(Kind.SYNC),
                op(Kind.BIND), execute(afterSync), op(Kind.SYNC)));
        q.bindComplete();

        assertThat(q.error("22012")).isTrue();

        assertThat(q.takeFinished()).containsExactly(first, second);
        assertThat(first.outcome).isEqualTo(Outcome.ERROR);
        assertThat(first.sqlState).isEqualTo("22012");
        assertThat(second.outcome).isEqualTo(Outcome.SKIPPED);
        assertThat(q.head().kind()).isEqualTo(Kind.SYNC);
        q.readyForQuery((byte) 'I');
        assertThat(q.head().kind()).as("the next batch runs").isEqualTo(Kind.BIND);
        assertThat(afterSync.outcome).isNull();
    }

    @Test
    void aParseThatFailsFailsTheExecuteItPreparedNotAnEarlierOne() {
        StatementRun done = run();
        StatementRun prepared = run();
        q.expect(List.of(op(Kind.BIND), execute(done), op(Kind.PARSE), op(Kind.BIND), execute(prepared),
                op(Kind.SYNC)));
        q.bindComplete();
        q.commandComplete("SELECT 1", 1);

        q.error("42601");

        assertThat(done.outcome).isEqualTo(Outcome.OK);
        assertThat(prepared.outcome).isEqualTo(Outcome.ERROR);
        assertThat(prepared.sqlState).isEqualTo("42601");
        assertThat(q.takeFinished()).containsExactly(done, prepared);
    }

    @Test
    void whatAFailedParseWouldHaveDefinedIsDiscardedAndWhatASkippedBindWouldHaveIsForgotten() {
        SessionState.Pending parse = stageStatement("s1");
        SessionState.Pending bind = q.state().stage(new SessionState.PutPortal("p1", null));
        q.expect(List.of(op(Kind.PARSE).withChanges(List.of(parse)), op(Kind.BIND).withChanges(List.of(bind)),
                op(Kind.SYNC)));
        assertThat(q.state().statement("s1")).as("the view while pending").isNotNull();

        q.error("42601");

        assertThat(q.state().pendingCount()).isZero();
        assertThat(q.state().statement("s1")).isNull();
        assertThat(q.state().portal("p1")).isNull();
    }

    @Test
    void aParseCompleteConfirmsTheStatementItDefines() {
        SessionState.Pending parse = stageStatement("s1");
        q.expect(List.of(op(Kind.PARSE).withChanges(List.of(parse)), op(Kind.SYNC)));
        q.parseComplete();
        assertThat(q.state().pendingCount()).isZero();
        assertThat(q.state().statement("s1")).isNotNull();
    }

    @Test
    void messagesSentAfterAFailedBatchWithoutSyncAreSkippedUntilTheSyncAndThoseAfterItRun() {
        StatementRun failed = run();
        StatementRun skipped = run();
        StatementRun next = run();
        q.expect(List.of(op(Kind.BIND), execute(failed))); // ... then Flush: no Sync yet
        q.bindComplete();
        q.error("22012");
        assertThat(q.idle()).isTrue();
        assertThat(q.skippingToSync()).isTrue();
        q.takeFinished();

        q.expect(List.of(op(Kind.BIND), execute(skipped)));
        assertThat(q.takeFinished()).containsExactly(skipped);
        assertThat(skipped.outcome).isEqualTo(Outcome.SKIPPED);
        assertThat(q.idle()).isTrue();

        q.expect(List.of(op(Kind.SYNC)));
        q.expect(List.of(op(Kind.BIND), execute(next), op(Kind.SYNC)));
        assertThat(q.takeFinished()).as("pipelined behind the Sync, before its ReadyForQuery").isEmpty();
        q.readyForQuery((byte) 'I');
        q.bindComplete();
        q.commandComplete("SELECT 1", 1);
        assertThat(next.outcome).isEqualTo(Outcome.OK);
    }

    @Test
    void aFlushedBatchIsAnsweredWithoutReadyForQuery() {
        StatementRun e = run();
        q.expect(List.of(op(Kind.PARSE), op(Kind.BIND), Op.of(Kind.DESCRIBE), execute(e)));
        q.parseComplete();
        q.bindComplete();
        q.described();
        q.commandComplete("SELECT 1", 1);
        assertThat(q.idle()).isTrue();
        assertThat(e.outcome).isEqualTo(Outcome.OK);
        assertThat(q.skippingToSync()).isFalse();
    }

    @Test
    void aRowDescriptionOrNoDataAnswersADescribeButNotAnExecutesResult() {
        StatementRun e = run();
        q.expect(List.of(op(Kind.BIND), execute(e), op(Kind.SYNC)));
        q.bindComplete();
        q.described(); // a RowDescription inside the Execute's results (a FETCH, say) is not a Describe's answer
        assertThat(q.head().kind()).isEqualTo(Kind.EXECUTE);

        q.expect(List.of(op(Kind.DESCRIBE)));
        q.commandComplete("FETCH 0", 0);
        q.readyForQuery((byte) 'I');
        q.described();
        assertThat(q.idle()).isTrue();
    }

    @Test
    void aSuspendedPortalEndsItsExecuteWithTheRowsAskedForAndTheNextExecuteContinues() {
        StatementRun first = new StatementRun(1, 10, 0);
        StatementRun rest = new StatementRun(2, 10, 0);
        q.expect(List.of(execute(first), execute(rest), op(Kind.SYNC)));

        q.portalSuspended();
        assertThat(first.outcome).isEqualTo(Outcome.OK);
        assertThat(first.commandTag).isEqualTo("(portal suspended)");
        assertThat(first.rows).isEqualTo(10);
        q.commandComplete("SELECT 4", 4);
        assertThat(rest.rows).isEqualTo(4);
        assertThat(q.takeFinished()).containsExactly(first, rest);
    }

    @Test
    void anEmptyQueryResponseEndsAnExecuteButNotASimpleQuery() {
        StatementRun e = run();
        StatementRun s = run();
        q.expect(List.of(execute(e), op(Kind.SYNC), query(s)));
        q.emptyQuery();
        assertThat(e.outcome).isEqualTo(Outcome.OK);
        q.readyForQuery((byte) 'I');
        q.emptyQuery();
        assertThat(q.head().kind()).isEqualTo(Kind.QUERY);
        q.readyForQuery((byte) 'I');
        assertThat(s.outcome).isEqualTo(Outcome.OK);
    }

    @Test
    void closeCompleteConfirmsTheDrop() {
        SessionState.Pending parse = stageStatement("s1");
        q.expect(List.of(op(Kind.PARSE).withChanges(List.of(parse)), op(Kind.SYNC)));
        q.parseComplete();
        q.readyForQuery((byte) 'I');
        SessionState.Pending drop = q.state().stage(new SessionState.DropStatement("s1"));
        q.expect(List.of(op(Kind.CLOSE).withChanges(List.of(drop)), op(Kind.SYNC)));
        q.closeComplete();
        assertThat(q.state().statement("s1")).isNull();
        assertThat(q.state().pendingCount()).isZero();
    }

    // ---- the simple protocol ----

    @Test
    void aSimpleQueryOfSeveralStatementsStaysAtTheHeadUntilReadyForQuery() {
        StatementRun s = run();
        q.expect(List.of(query(s)));
        q.described();
        q.commandComplete("SELECT 2", 2);
        q.described();
        q.commandComplete("UPDATE 5", 5);
        assertThat(q.head().kind()).isEqualTo(Kind.QUERY);
        assertThat(q.takeFinished()).isEmpty();

        q.readyForQuery((byte) 'I');

        assertThat(q.takeFinished()).containsExactly(s);
        assertThat(s.rows).isEqualTo(7);
        assertThat(s.commandTag).isEqualTo("UPDATE 5");
    }

    @Test
    void eachCommandCompleteOfAQueryConfirmsOnlyTheStatementItEnds() {
        SessionState.Pending prepare = q.state().stage(new SessionState.PutStatement("a",
                new SessionState.Statement("a", "select 1", "prepare a as select 1", null, null)), "PREPARE", false);
        SessionState.Pending deallocate = q.state().stage(new SessionState.DropStatement("a"), "DEALLOCATE", false);
        q.expect(List.of(query(run()).withChanges(List.of(prepare, deallocate))));

        q.commandComplete("PREPARE", 0);
        assertThat(q.state().pendingCount()).isEqualTo(1);
        q.commandComplete("SELECT 1", 1); // a statement in between that changes nothing
        assertThat(q.state().pendingCount()).isEqualTo(1);
        q.commandComplete("DEALLOCATE", 0);
        assertThat(q.state().pendingCount()).isZero();
        assertThat(q.state().statement("a")).isNull();
    }

    @Test
    void anErrorInAQueryFailsItDiscardsWhatItsLaterStatementsWouldChangeAndReadyForQueryEndsIt() {
        SessionState.Pending prepare = q.state().stage(new SessionState.PutStatement("a",
                new SessionState.Statement("a", "select 1", "prepare a as select 1", null, null)), "PREPARE", false);
        StatementRun s = run();
        StatementRun next = run();
        q.expect(List.of(query(s).withChanges(List.of(prepare)), query(next)));

        assertThat(q.error("22012")).isTrue();

        assertThat(s.outcome).isEqualTo(Outcome.ERROR);
        assertThat(q.state().statement("a")).isNull();
        assertThat(q.head().statement()).as("a Query's error skips nothing after it").isSameAs(s);
        q.readyForQuery((byte) 'I');
        assertThat(q.head().statement()).isSameAs(next);
        assertThat(outcomes(q.takeFinished())).containsExactly(Outcome.ERROR);
    }

    @Test
    void anUnconditionalChangeOfAFailedQueryHolds() {
        SessionState.Pending dropUnnamed = q.state().stage(new SessionState.DropStatement(""), null, true);
        q.expect(List.of(query(run()).withChanges(List.of(dropUnnamed))));
        q.error("42601");
        assertThat(q.state().pendingCount()).isZero();
    }

    @Test
    void aFunctionCallEndsAtReadyForQueryAndAnErrorFailsIt() {
        StatementRun f = run();
        q.expect(List.of(Op.statement(Kind.FUNCTION_CALL, f)));
        q.error("42883");
        assertThat(q.head().kind()).isEqualTo(Kind.FUNCTION_CALL);
        q.readyForQuery((byte) 'I');
        assertThat(f.outcome).isEqualTo(Outcome.ERROR);
        assertThat(q.idle()).isTrue();
    }

    // ---- COPY ----

    @Test
    void aCopyOutInASimpleQueryKeepsTheQueryAtTheHeadUntilReadyForQuery() {
        StatementRun s = run();
        q.expect(List.of(query(s)));
        // CopyOutResponse, CopyData..., CopyDone retire nothing: Exchange calls the queue for none of them.
        q.commandComplete("COPY 3", 3);
        assertThat(q.head().statement()).isSameAs(s);
        q.readyForQuery((byte) 'I');
        assertThat(s.rows).isEqualTo(3);
        assertThat(s.outcome).isEqualTo(Outcome.OK);
    }

    @Test
    void aCopyInThroughAnExecuteEndsAtItsCommandCompleteAndAFailedOneSkipsToSync() {
        StatementRun copy = run();
        q.expect(List.of(op(Kind.BIND), execute(copy), op(Kind.SYNC)));
        q.bindComplete();
        // CopyInResponse; the client streams CopyData and CopyDone, which owe no answer of their own.
        q.commandComplete("COPY 10", 10);
        assertThat(copy.outcome).isEqualTo(Outcome.OK);
        q.readyForQuery((byte) 'I');

        StatementRun failing = run();
        StatementRun after = run();
        q.expect(List.of(op(Kind.BIND), execute(failing), execute(after), op(Kind.SYNC)));
        q.bindComplete();
        q.error("57014"); // CopyFail from the client, or bad data: the server's error ends the copy
        assertThat(failing.outcome).isEqualTo(Outcome.ERROR);
        assertThat(after.outcome).isEqualTo(Outcome.SKIPPED);
        assertThat(q.head().kind()).isEqualTo(Kind.SYNC);
    }

    @Test
    void aCopyBothKeepsItsExecuteAtTheHeadUntilTheServerEndsIt() {
        StatementRun copy = run();
        q.expect(List.of(execute(copy), op(Kind.SYNC)));
        // CopyBothResponse, then CopyData both ways: none of it answers a Describe or ends the Execute.
        q.described();
        assertThat(q.head().statement()).isSameAs(copy);
        q.commandComplete("COPY 0", 0);
        assertThat(copy.outcome).isEqualTo(Outcome.OK);
        assertThat(q.head().kind()).isEqualTo(Kind.SYNC);
    }

    // ---- the gateway's own answers ----

    @Test
    void aLocalAnswerWithNothingPendingIsDueAtOnce() {
        byte[] refusal = {1};
        q.answerLocally(refusal);
        assertThat(q.takeReleased()).containsExactly(refusal);
        assertThat(q.idle()).isTrue();
    }

    @Test
    void localAnswersWaitForTheAnswersToEverythingBeforeThemAndKeepTheirOrder() {
        byte[] first = {1};
        byte[] second = {2};
        byte[] behindSync = {3};
        q.expect(List.of(op(Kind.PARSE)));
        q.answerLocally(first);
        q.answerLocally(second);
        q.expect(List.of(op(Kind.SYNC)));
        q.answerLocally(behindSync);
        assertThat(q.takeReleased()).isEmpty();

        q.parseComplete();
        assertThat(q.takeReleased()).containsExactly(first, second);
        q.readyForQuery((byte) 'I');
        assertThat(q.takeReleased()).containsExactly(behindSync);
        assertThat(q.idle()).isTrue();
    }

    @Test
    void aLocalAnswerInsideABatchTheServerFailsIsDroppedWithTheBatch() {
        byte[] keptSetting = {1};
        byte[] afterSync = {2};
        q.expect(List.of(op(Kind.BIND)));
        q.answerLocally(keptSetting);
        q.expect(List.of(op(Kind.SYNC)));
        q.answerLocally(afterSync);

        q.error("42P01");

        assertThat(q.takeReleased()).isEmpty();
        q.readyForQuery((byte) 'I');
        assertThat(q.takeReleased()).containsExactly(afterSync);
    }

    @Test
    void theErrorProvokedToAbortARefusedRequestIsNotTheClientsAndItsSyncStillEndsTheBatch() {
        byte[] refusal = {1};
        q.answerLocally(refusal);
        q.takeReleased();
        q.expect(List.of(op(Kind.INTERNAL_FAIL), op(Kind.SYNC)));

        assertThat(q.error("34000")).isFalse();

        assertThat(q.head().kind()).isEqualTo(Kind.SYNC);
        q.readyForQuery((byte) 'E');
        assertThat(q.idle()).isTrue();
    }

    @Test
    void anAsynchronousErrorWithNothingPendingGoesToTheClientAndRetiresNothing() {
        assertThat(q.error("57P01")).isTrue();
        assertThat(q.idle()).isTrue();
        assertThat(q.skippingToSync()).isFalse();
    }

    @Test
    void anErrorAtASyncRetiresNothingItsReadyForQueryFollows() {
        q.expect(List.of(op(Kind.SYNC)));
        assertThat(q.error("25P02")).isTrue();
        assertThat(q.head().kind()).isEqualTo(Kind.SYNC);
    }

    // ---- pairing and ending ----

    @Test
    void eachReadyForQueryEndsOneSyncAndNoMore() {
        q.expect(List.of(op(Kind.SYNC), op(Kind.SYNC)));
        q.readyForQuery((byte) 'I');
        assertThat(q.idle()).isFalse();
        q.readyForQuery((byte) 'I');
        assertThat(q.idle()).isTrue();
        q.readyForQuery((byte) 'I'); // one too many (a server bug): nothing to retire, nothing breaks
        assertThat(q.idle()).isTrue();
    }

    @Test
    void aReadyForQueryDoesNotRetireAnUnansweredExecute() {
        StatementRun e = run();
        q.expect(List.of(execute(e), op(Kind.SYNC)));
        q.readyForQuery((byte) 'I');
        assertThat(q.head().statement()).isSameAs(e);
    }

    @Test
    void whenTheConnectionIsLostEveryPendingStatementIsAbortedAndNoLocalAnswerIsDue() {
        StatementRun a = run();
        StatementRun b = run();
        SessionState.Pending parse = stageStatement("s1");
        q.expect(List.of(op(Kind.PARSE).withChanges(List.of(parse)), execute(a), op(Kind.SYNC), query(b)));
        q.answerLocally(new byte[]{1});

        q.connectionLost();

        assertThat(q.takeFinished()).containsExactly(a, b);
        assertThat(a.outcome).isEqualTo(Outcome.ABORTED);
        assertThat(b.outcome).isEqualTo(Outcome.ABORTED);
        assertThat(q.takeReleased()).isEmpty();
        assertThat(q.idle()).isTrue();
        assertThat(q.state().pendingCount()).isZero();
    }

    @Test
    void changesOfARequestNeverForwardedAreForgotten() {
        SessionState.Pending parse = stageStatement("s1");
        q.discardUnsent(List.of(op(Kind.PARSE).withChanges(List.of(parse))));
        assertThat(q.state().pendingCount()).isZero();
        assertThat(q.state().statement("s1")).isNull();
    }

    // ---- recording and quoting ----

    @Test
    void framesAnsweringParseAndBindAreRecordedWithTheExecuteTheyPrepareAndNothingAfterTheSync() {
        StatementRun e = new StatementRun(1, 0, 1024);
        q.expect(List.of(op(Kind.PARSE), op(Kind.BIND), execute(e), op(Kind.SYNC), op(Kind.PARSE)));
        assertThat(q.recorder()).isSameAs(e.recorder);
        q.parseComplete();
        q.bindComplete();
        assertThat(q.recorder()).isSameAs(e.recorder);
        q.commandComplete("SELECT 1", 1);
        assertThat(q.recorder()).as("the Sync's ReadyForQuery belongs to no statement").isNull();
        q.answerLocally(new byte[]{1});
        q.readyForQuery((byte) 'I');
        assertThat(q.recorder()).isNull();
    }

    @Test
    void theWordsAClientMayBeQuotedAreThoseOfTheStatementsPendingUpToTheSync() {
        ResultShape before = ResultShape.query(List.of(StatementAnalysis.unparsed("select secret_word", "test")));
        ResultShape after = ResultShape.query(List.of(StatementAnalysis.unparsed("select other_word", "test")));
        q.expect(new ArrayList<>(List.of(Op.shaped(Kind.EXECUTE, run(), before), op(Kind.SYNC),
                Op.shaped(Kind.EXECUTE, run(), after))));
        assertThat(q.pendingWords()).contains("secret_word").doesNotContain("other_word");
    }
}
