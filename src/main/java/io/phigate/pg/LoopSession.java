package io.phigate.pg;

import io.phigate.audit.AuditUnavailableException;
import io.phigate.net.loop.ChannelInput;
import io.phigate.net.loop.ChannelOutput;
import io.phigate.net.loop.EventLoop;
import io.phigate.pg.backend.UpstreamConnection;
import io.phigate.pg.frontend.ClientHandshake.Channel;
import io.phigate.pg.message.FrameReader;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import io.phigate.session.SessionPolicies;
import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Drives one plain session (no policy: nothing analysed, masked or held; no TLS either side) on an
 * {@link EventLoop} instead of its two threads (decision 0091 stage 1, decision 0097). Client frames go through the
 * session's own {@link PgSession#clientFrame} (so {@link StatementMessages} and {@link RequestForwarder} judge them
 * as on the thread path); server frames through its own {@link Exchange}, as the {@link ResponsePump} sends them.
 *
 * <p>The write-ahead rule: at a request's end the chunk's records are queued without waiting
 * ({@link RequestForwarder#startForward}) and this client is read no more until the journal's answer arrives as a
 * task on the loop, or the audit write timeout passes (a timer: the chunk is then refused with 58030 as
 * {@code appendDurably} refuses it on threads); only then do the chunk's bytes reach the upstream buffer.
 *
 * <p>Back-pressure: writes never block; while more than {@link #BACKLOG} bytes wait for one side, the other side is
 * not read. Fairness: at most {@link #FRAMES_PER_TURN} frames of one side per wake-up, then the session yields its
 * turn to the loop's other sessions. Loop thread only, but for {@link #of} and {@link #start}.
 */
final class LoopSession implements EventLoop.Handler {
    /** Bytes waiting for a slow peer above which the other side is not read (decision 0091). */
    static final int BACKLOG = 256 * 1024;
    /** Frames of one side handled per wake-up before the session yields its turn. */
    static final int FRAMES_PER_TURN = 64;
    private static final int INITIAL_BUFFER = 1024;

    private final EventLoop loop;
    private final SocketChannel clientChannel;
    private final SocketChannel upstreamChannel;
    private final ChannelInput clientInput;
    private final ChannelInput upstreamInput;
    private final ChannelOutput clientOut;
    private final ChannelOutput upstreamOut;
    private final FrameReader clientFrames;
    private final FrameReader upstreamFrames;
    private final Duration durableTimeout;
    private PgSession session;
    private ConnectionResources resources;
    private SelectionKey clientKey;
    private SelectionKey upstreamKey;
    /** Numbers the durable waits: an answer to one already timed out finds a later number and is dropped. */
    private long waitNumber;
    private EventLoop.Timer durableTimer;
    private boolean waitingDurable;
    /** A Bind or Execute waits for the server's answers to what an earlier request may change (StateView.settle). */
    private boolean waitingAnswers;
    private boolean clientPaused;
    private boolean upstreamPaused;
    private boolean clientTurnQueued;
    private boolean serverTurnQueued;
    private boolean ended;

    private LoopSession(EventLoop loop, SocketChannel client, SocketChannel upstream, int maxFrame,
                        Duration durableTimeout) {
        this.loop = loop;
        this.clientChannel = client;
        this.upstreamChannel = upstream;
        this.durableTimeout = durableTimeout;
        this.clientInput = new ChannelInput(client);
        this.upstreamInput = new ChannelInput(upstream);
        this.clientOut = new ChannelOutput(client);
        this.upstreamOut = new ChannelOutput(upstream);
        // Frames are held whole, up to limits.max_frame_bytes both ways (on threads, rows and COPY data from the
        // server may be larger: they are streamed there).
        this.clientFrames = new FrameReader(clientInput, INITIAL_BUFFER, maxFrame + 5, maxFrame, maxFrame);
        this.upstreamFrames = new FrameReader(upstreamInput, INITIAL_BUFFER, maxFrame + 5, Integer.MAX_VALUE - 8,
                maxFrame);
    }

    /**
     * A loop session for this connection, or null when it stays on threads: it has a policy to apply (analysis,
     * masking, rules, approvals), TLS on either side, or bytes read ahead in the handshake's buffers.
     */
    static LoopSession of(EventLoop loop, Channel client, UpstreamConnection upstream, SessionPolicies.Setup setup,
                          int maxFrame, Duration durableTimeout) {
        boolean plain = setup.rules() == null && setup.masking() == null && setup.analyzer() == null;
        if (!plain || client.tls()) {
            return null;
        }
        SocketChannel c = client.socket().getChannel();
        SocketChannel u = upstream.channel();
        if (c == null || u == null || client.reader().hasBufferedInput() || upstream.reader().hasBufferedInput()) {
            return null;
        }
        return new LoopSession(loop, c, u, maxFrame, durableTimeout);
    }

    ChannelOutput clientOut() {
        return clientOut;
    }

    ChannelOutput upstreamOut() {
        return upstreamOut;
    }

    boolean inLoop() {
        return loop.inLoop();
    }

    void execute(Runnable task) {
        loop.execute(task);
    }

    /**
     * Called on the connection's thread once the session is built: the sockets turn non-blocking and the session,
     * with everything the connection holds, moves to the loop. Returns at once; the thread is free.
     */
    void start(PgSession s, ConnectionResources held) throws IOException {
        clientChannel.configureBlocking(false);
        upstreamChannel.configureBlocking(false);
        this.session = s;
        this.resources = held.handOff();
        loop.execute(() -> {
            try {
                clientKey = loop.register(clientChannel, SelectionKey.OP_READ, this);
                upstreamKey = loop.register(upstreamChannel, SelectionKey.OP_READ, this);
                clientOut.attach(clientKey);
                upstreamOut.attach(upstreamKey);
            } catch (IOException | RuntimeException e) {
                failed(e);
            }
        });
    }

    @Override
    public void ready(SelectionKey key) {
        if (ended) {
            return;
        }
        try {
            if (!key.isValid()) {
                end();
                return;
            }
            int ops = key.readyOps();
            if (key == clientKey) {
                if ((ops & SelectionKey.OP_WRITE) != 0) {
                    clientOut.writable();
                    resumeServer();
                }
                if ((ops & SelectionKey.OP_READ) != 0 && !ended) {
                    clientInput.rearm();
                    fromClient(true);
                }
            } else {
                if ((ops & SelectionKey.OP_WRITE) != 0) {
                    upstreamOut.writable();
                    continueClient();
                }
                if ((ops & SelectionKey.OP_READ) != 0 && !ended) {
                    upstreamInput.rearm();
                    fromServer();
                }
            }
        } catch (Throwable t) {
            failed(t);
        }
    }

    private boolean clientMayGoOn() {
        return !waitingDurable && !waitingAnswers && upstreamOut.backlog() < BACKLOG;
    }

    /** Reads the client again, if nothing holds it back: after a durable answer, the server's answers, room. */
    private void continueClient() throws IOException {
        if (ended || !clientMayGoOn()) {
            return;
        }
        if (clientPaused) {
            clientPaused = false;
            clientKey.interestOpsOr(SelectionKey.OP_READ);
        }
        fromClient(false);
    }

    /**
     * {@code event}: called for a readiness event (else a resumption); reading is switched off only on one. What
     * went into the upstream buffer is offered to its socket before returning: COPY data is flushed per frame only
     * when no more is buffered, and a buffer left unflushed would never ask for OP_WRITE.
     */
    private void fromClient(boolean event) throws IOException {
        try {
            readClient(event);
        } finally {
            if (!ended) {
                upstreamOut.flush();
            }
        }
    }

    private void readClient(boolean event) throws IOException {
        RequestForwarder f = session.forwarder();
        for (int handled = 0; !ended; handled++) {
            if (!clientMayGoOn()) {
                pauseClient(event);
                return;
            }
            if (handled == FRAMES_PER_TURN) {
                yieldClientTurn();
                return;
            }
            if (!clientFrames.frameBuffered()) {
                clientFrames.shrinkWhenEmpty(INITIAL_BUFFER);
                return;
            }
            int next = clientFrames.peekType();
            if ((next == 'B' || next == 'E') && session.exchange().state(SessionState::earlierSegmentsPending)) {
                waitingAnswers = true;
                pauseClient(event);
                return;
            }
            int type = clientFrames.next();
            if (type < 0 || !session.clientFrame(type, clientFrames, upstreamOut)) {
                if (type < 0) {
                    f.forwardChunk();
                }
                session.ended(null);
                end();
                return;
            }
            if (f.requestEnded() || f.chunk.size() >= RequestChunk.MAX_BYTES
                    || (!f.chunk.isEmpty() && !f.holding() && !clientFrames.hasBufferedInput())) {
                CompletableFuture<Void> durable = f.startForward();
                if (durable != null && durable.isDone()) {
                    f.durable(durable.isCompletedExceptionally() ? durable.exceptionNow() : null);
                } else if (durable != null) {
                    awaitDurable(durable); // the client is paused only if it sends more meanwhile (pauseClient)
                    return;
                }
            }
        }
    }

    /** Stops reading the client only when its bytes arrive too soon (no interest change per statement). */
    private void pauseClient(boolean event) {
        if (event && !clientPaused) {
            clientPaused = true;
            clientKey.interestOpsAnd(~SelectionKey.OP_READ);
        }
    }

    /** The frames handled in this turn reached the bound: the rest wait behind the loop's other sessions. */
    private void yieldClientTurn() {
        if (!clientTurnQueued) {
            clientTurnQueued = true;
            loop.execute(() -> {
                clientTurnQueued = false;
                step(this::continueClient);
            });
        }
    }

    private void awaitDurable(CompletableFuture<Void> durable) {
        waitingDurable = true;
        long number = ++waitNumber;
        durableTimer = loop.schedule(durableTimeout.toNanos(), () -> step(() -> onDurable(number,
                new AuditUnavailableException("the audit store did not confirm the record within "
                        + durableTimeout.toMillis() + " ms (audit.write_timeout)"))));
        // Runs on the journal writer when it completes the group: a queue offer and a wake-up, nothing more.
        durable.whenComplete((ignored, failure) -> loop.execute(() -> step(() -> onDurable(number, failure))));
    }

    /** The journal's answer (or the timeout's), on the loop: the held chunk goes upstream, or is refused. */
    private void onDurable(long number, Throwable failure) throws IOException {
        if (ended || !waitingDurable || number != waitNumber) {
            return; // a late answer to a wait that timed out: its chunk was refused already
        }
        waitingDurable = false;
        durableTimer.cancel();
        session.forwarder().durable(failure);
        continueClient();
    }

    private void fromServer() {
        Exchange exchange = session.exchange();
        try {
            for (int handled = 0; !ended; handled++) {
                if (clientOut.backlog() >= BACKLOG) {
                    exchange.flush();
                    if (clientOut.backlog() >= BACKLOG) {
                        pauseServer(); // the client is slow: read no more of the server until it has taken some
                        return;
                    }
                }
                if (handled == FRAMES_PER_TURN) {
                    exchange.flush();
                    yieldServerTurn();
                    return;
                }
                if (!upstreamFrames.frameBuffered()) {
                    upstreamFrames.shrinkWhenEmpty(INITIAL_BUFFER);
                    break;
                }
                int type = upstreamFrames.next();
                if (type < 0 || !session.serverFrame(type, upstreamFrames)) {
                    exchange.flush();
                    upstreamClosed(null);
                    return;
                }
            }
            exchange.flush();
            if (waitingAnswers && !exchange.state(SessionState::earlierSegmentsPending)) {
                waitingAnswers = false;
                continueClient();
            }
        } catch (IOException e) {
            upstreamClosed(e);
        }
    }

    private void pauseServer() {
        if (!upstreamPaused) {
            upstreamPaused = true;
            upstreamKey.interestOpsAnd(~SelectionKey.OP_READ);
        }
    }

    /** The client took enough: read the server again (what is buffered first). */
    private void resumeServer() {
        if (upstreamPaused && clientOut.backlog() < BACKLOG) {
            upstreamPaused = false;
            upstreamKey.interestOpsOr(SelectionKey.OP_READ);
            fromServer();
        }
    }

    private void yieldServerTurn() {
        if (!serverTurnQueued) {
            serverTurnQueued = true;
            loop.execute(() -> {
                serverTurnQueued = false;
                if (!upstreamPaused) {
                    step(this::fromServer);
                }
            });
        }
    }

    private void upstreamClosed(IOException cause) {
        if (!ended) {
            session.upstreamEnded(cause);
            end();
        }
    }

    /** A step of this session on the loop; what it throws ends the session as the client reader's failure would. */
    private void step(IoStep s) {
        if (ended) {
            return;
        }
        try {
            s.run();
        } catch (Throwable t) {
            failed(t);
        }
    }

    private interface IoStep {
        void run() throws IOException;
    }

    private void failed(Throwable t) {
        if (!ended) {
            session.ended(t);
            end();
        }
    }

    /**
     * Ends the session on the loop, as the connection's thread does on the thread path: what the client is owed
     * is offered to its socket once, the server gets Terminate, both sockets close, the session's end is recorded
     * and everything the connection held is released (a session user's drop, which waits on the server, on a
     * virtual thread of its own, off the loop).
     */
    void end() {
        if (ended) {
            return;
        }
        ended = true;
        if (durableTimer != null) {
            durableTimer.cancel();
        }
        try {
            clientOut.writable();
        } catch (IOException ignored) {
            // the client is gone
        }
        try {
            upstreamOut.write(MessageCodec.encode(FrontendMessage.Terminate.INSTANCE));
            upstreamOut.writable();
        } catch (IOException ignored) {
            // the server is gone
        }
        closeQuietly(upstreamChannel);
        closeQuietly(clientChannel);
        try {
            session.finish();
        } finally {
            if (resources != null) {
                ConnectionResources held = resources;
                if (held.closeWaitsOnServer()) {
                    Thread.ofVirtual().name("pg-session-end-" + session.id()).start(held::close);
                } else {
                    held.close();
                }
            }
        }
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
