package io.phigate.pg;

import io.phigate.audit.ResponseRecorder;
import io.phigate.session.SessionMasking;
import io.phigate.pg.message.BackendMessage.CommandComplete;
import io.phigate.pg.message.BackendMessage.ErrorResponse;
import io.phigate.pg.message.FrameReader;
import io.phigate.pg.message.MessageCodec;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Keeps the client's view of one session in protocol order, between the two threads. The client reader registers,
 * before forwarding, what each forwarded message will produce (an {@link Op}); the response pump retires ops as the
 * server answers, applying the role's row limit ({@link RowLimit}) and the session's masking ({@link ResultMasking})
 * on the way. The protocol bookkeeping is {@link ExpectedResponses}'s, the output the {@link ClientWriter}'s.
 *
 * <p>Two locks, never nested: {@code opsLock} guards the queue and the session state and is never held while writing
 * to the client; the writer's own lock makes every client write whole frames. What is due under the ops lock is
 * queued in the writer there and written after it is released, so a client that stops reading blocks the writer
 * only, and the thread that ends the session never waits for it.
 */
final class Exchange {

    private final ReentrantLock opsLock = new ReentrantLock();
    /** Signalled when the server's answers retired ops, confirmed or discarded staged changes. */
    private final Condition answered = opsLock.newCondition();
    /** What the server owes the client, and the session's statements and portals; under {@code opsLock} only. */
    private final ExpectedResponses expected = new ExpectedResponses();
    private final ClientWriter writer;
    private final Consumer<StatementRun> completed;
    /** The role's row_limit (pump-thread state). */
    private final RowLimit rowLimit;
    /** Null when this session masks nothing: every result streams through untouched. */
    private final ResultMasking results;
    private volatile byte transactionStatus;

    Exchange(OutputStream client, Consumer<StatementRun> completed, byte initialStatus, SessionMasking masking,
             long rowLimit, String roleName) {
        this.writer = new ClientWriter(client);
        this.rowLimit = new RowLimit(rowLimit, roleName);
        this.results = masking == null ? null : new ResultMasking(masking, this);
        this.completed = completed;
        this.transactionStatus = initialStatus;
    }

    // ---- client reader side ----

    /** Registers what forwarded messages will produce; call before writing them upstream. */
    void expect(List<Op> forwarded) {
        List<StatementRun> skipped;
        opsLock.lock();
        try {
            expected.expect(forwarded);
            answered.signalAll();
            skipped = expected.takeFinished();
        } finally {
            opsLock.unlock();
        }
        report(skipped);
    }

    /** Reads or stages session state (client reader) under the ops lock. */
    <T> T state(Function<SessionState, T> f) {
        opsLock.lock();
        try {
            return f.apply(expected.state());
        } finally {
            opsLock.unlock();
        }
    }

    /** Reads the queue under the ops lock (with a method reference: nothing allocated per call). */
    private <T> T read(Function<ExpectedResponses, T> f) {
        opsLock.lock();
        try {
            return f.apply(expected);
        } finally {
            opsLock.unlock();
        }
    }

    /**
     * Waits until the server has answered every change staged in an earlier segment, so that what a name means
     * no longer depends on whether one of them fails. Gives up (IOException) once {@code stop} says so.
     */
    void awaitSettled(BooleanSupplier stop, long millis) throws IOException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        if (!awaitUntil(e -> !e.state().earlierSegmentsPending(), () -> stop.getAsBoolean()
                || System.nanoTime() > deadline)) {
            // Fail closed: without the server's answers the gateway cannot tell what a name will mean.
            throw new IOException("the server did not answer the session's earlier requests in time");
        }
    }

    /**
     * Blocks until everything forwarded has been answered, or {@code giveUp} says to stop waiting (checked at least
     * every 50 ms). An analysed session sends its next request only then: a statement before it may change a
     * setting the analysis depends on, which the server reports only at its ReadyForQuery (decision 0032).
     */
    void awaitIdle(BooleanSupplier giveUp) throws IOException {
        awaitUntil(ExpectedResponses::idle, giveUp);
    }

    /** Blocks until {@code op} has left the queue, answered or skipped; IOException once {@code giveUp} says so. */
    void awaitRetired(Op op, BooleanSupplier giveUp) throws IOException {
        if (!awaitUntil(e -> !e.pending(op), giveUp)) {
            throw new IOException("the server did not answer the gateway's question in time");
        }
    }

    /** False when {@code giveUp} said to stop before {@code done} held (both checked at least every 50 ms). */
    private boolean awaitUntil(java.util.function.Predicate<ExpectedResponses> done, BooleanSupplier giveUp)
            throws IOException {
        opsLock.lock();
        try {
            while (!done.test(expected)) {
                if (giveUp.getAsBoolean()) {
                    return false;
                }
                answered.await(50, TimeUnit.MILLISECONDS);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the server's answers");
        } finally {
            opsLock.unlock();
        }
    }

    /** Forgets changes staged for messages that were never forwarded (a refused request). */
    void discardUnsent(List<Op> unsent) {
        opsLock.lock();
        try {
            expected.discardUnsent(unsent);
        } finally {
            opsLock.unlock();
        }
    }

    /** Sends a response of the gateway's own, after the answers to everything forwarded before it. */
    void respondLocally(byte[] frames) throws IOException {
        boolean due;
        opsLock.lock();
        try {
            expected.answerLocally(frames);
            List<byte[]> released = expected.takeReleased();
            due = !released.isEmpty();
            writer.enqueue(released);
        } finally {
            opsLock.unlock();
        }
        if (due) {
            writer.drain(true); // otherwise the pump writes it when the answers before it are in
        }
    }

    /** True when nothing forwarded is awaiting an answer. */
    boolean idle() {
        return read(ExpectedResponses::idle);
    }

    byte transactionStatus() {
        return transactionStatus;
    }

    // ---- response pump side ----

    /** True when the server's next answer is to the gateway's own question within the client's batch. */
    boolean probeAtHead() {
        return read(ExpectedResponses::probeAtHead);
    }

    /** The gateway's question within the client's batch was answered: what the client sent next is answered next. */
    void probeAnswered() throws IOException {
        answer(ExpectedResponses::probeAnswered);
    }

    /** Streams a row ('D') or COPY data ('d') frame from the server to the client, masked where the plan says. */
    void forward(byte type, FrameReader upstream) throws IOException {
        if (rowLimit.withholds(type, upstream)) {
            upstream.skipBody();
            return;
        }
        if (results != null && results.maskedForward(type, upstream)) {
            return;
        }
        writer.transfer(upstream, recorder());
    }

    /** Forwards a decoded-size frame and retires the ops it answers. */
    void onBackendFrame(byte type, byte[] body) throws IOException {
        if (results != null) {
            body = results.maskFrame(type, body);
        }
        switch (type) {
            case 'H' -> {
                Op head = head();
                rowLimit.copyStarts(body, head == null ? null : head.shape());
                writeFrame(type, body);
            }
            case 'E' -> onError(body);
            case 'Z' -> {
                writeFrame(type, body);
                transactionStatus = body[0];
                opsLock.lock();
                try {
                    expected.readyForQuery(body[0]);
                } finally {
                    unlockAndSettle();
                }
            }
            case 'C' -> {
                if (rowLimit.endOfResult()) {
                    writeFrame((byte) 'N', rowLimit.notice());
                    body = rowLimit.retag(body);
                }
                writeFrame(type, body);
                CommandComplete cc = (CommandComplete) MessageCodec.decodeBackend(type, body);
                nextStatementOfQuery();
                opsLock.lock();
                try {
                    expected.commandComplete(cc.tag(), cc.rows());
                } finally {
                    unlockAndSettle();
                }
            }
            case 's' -> writeAndAnswer(type, body, ExpectedResponses::portalSuspended);
            case 'I' -> {
                rowLimit.emptyQuery();
                writeFrame(type, body);
                nextStatementOfQuery();
                answer(ExpectedResponses::emptyQuery);
            }
            case '1' -> writeAndAnswer(type, body, ExpectedResponses::parseComplete);
            case '2' -> writeAndAnswer(type, body, ExpectedResponses::bindComplete);
            case '3' -> writeAndAnswer(type, body, ExpectedResponses::closeComplete);
            case 'n', 'T' -> {
                rowLimit.resultStarts();
                writeAndAnswer(type, body, ExpectedResponses::described);
            }
            default -> writeFrame(type, body);
        }
    }

    /**
     * An ErrorResponse is queued for the client under the ops lock, in the same step that retires what it answers,
     * so a local answer released by that step cannot overtake it; it is written after the lock is released.
     */
    private void onError(byte[] body) throws IOException {
        ErrorResponse error = (ErrorResponse) MessageCodec.decodeBackend((byte) 'E', body);
        opsLock.lock();
        try {
            ResponseRecorder recorder = expected.recorder(); // before the error retires what it answers
            if (expected.error(error.sqlState())) {
                writer.enqueue(ClientWriter.frame((byte) 'E', body), recorder);
            }
        } finally {
            unlockAndSettle();
        }
    }

    /** Forwards a frame, then retires what it answers (the frame is recorded with the op it answers). */
    private void writeAndAnswer(byte type, byte[] body, Consumer<ExpectedResponses> retire) throws IOException {
        writeFrame(type, body);
        answer(retire);
    }

    /** Applies an answer that needs nothing but the queue (a method reference: nothing is allocated per call). */
    private void answer(Consumer<ExpectedResponses> retire) throws IOException {
        opsLock.lock();
        try {
            retire.accept(expected);
        } finally {
            unlockAndSettle();
        }
    }

    /**
     * Releases the ops lock taken by the caller, then, outside it, writes the local answers the step released and
     * reports the statements it finished. Nothing is written to the client while the ops lock is held: a client
     * that stopped reading blocks only the writer, never the thread that ends the session.
     */
    private void unlockAndSettle() throws IOException {
        List<StatementRun> done;
        try {
            writer.enqueue(expected.takeReleased());
            answered.signalAll();
            done = expected.takeFinished();
        } finally {
            opsLock.unlock();
        }
        try {
            writer.drain(false);
        } finally {
            report(done);
        }
    }

    private void report(List<StatementRun> finished) {
        for (int i = 0; i < finished.size(); i++) { // indexed: no iterator on the per-answer path
            completed.accept(finished.get(i));
        }
    }

    /** The words of the statements still to be answered up to the next Sync (see {@link ResultMasking}). */
    Set<String> pendingWords() {
        return read(ExpectedResponses::pendingWords);
    }

    /** Called when the upstream connection is gone: every pending statement ends as aborted. Writes nothing. */
    void abortPending() {
        List<StatementRun> aborted;
        opsLock.lock();
        try {
            expected.connectionLost();
            answered.signalAll();
            aborted = expected.takeFinished();
        } finally {
            opsLock.unlock();
        }
        report(aborted);
    }

    /** The op the server is answering now, or null. */
    Op head() {
        return read(ExpectedResponses::head);
    }

    /** After a CommandComplete or EmptyQueryResponse, a simple Query's next results belong to its next statement. */
    private void nextStatementOfQuery() {
        if (results == null) {
            return;
        }
        Op head = head();
        if (head != null && head.kind() == Op.Kind.QUERY && head.shape() != null) {
            head.shape().nextStatement();
        }
    }

    // ---- output ----

    void flush() throws IOException {
        writer.flush();
    }

    /** Writes a message of the gateway's own regardless of pending ops (FATAL before closing). */
    void writeNow(byte[] frames) throws IOException {
        writer.writeNow(frames);
    }

    /** As {@link #writeNow}, but gives up after {@code millis} while a write blocked on a stalled client holds it. */
    boolean tryWriteNow(byte[] frames, long millis) throws IOException {
        return writer.tryWriteNow(frames, millis);
    }

    boolean clientBroken() {
        return writer.broken();
    }

    /** Writes a server frame (or one rewritten from it) with the recording of the statement it answers. */
    void writeFrame(byte type, byte[] body) throws IOException {
        writer.writeFrame(type, body, recorder());
    }

    private ResponseRecorder recorder() {
        return read(ExpectedResponses::recorder);
    }
}
