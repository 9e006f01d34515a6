package io.phigate.pg;

import io.phigate.pg.message.BackendMessage.ErrorResponse;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import io.phigate.pg.message.ProtocolException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * Asks the server, between two requests, for the settings code the gateway does not read could have changed
 * (decision 0064), and the catalog's fingerprint (decision 0075): three SHOWs and a SELECT in one extended-protocol
 * batch, whose answers the response pump hands here instead of
 * to the client. SHOW resolves no name and takes no snapshot, so inside the client's transaction it changes nothing
 * the client could notice (a SET TRANSACTION after it still works). Sent only while nothing else is in flight: the
 * frames up to its ReadyForQuery are its own.
 *
 * <p>Not a simple Query: the server drops the unnamed statement and portal when one starts, so a client that
 * prepared the unnamed statement in one batch and binds it in the next (libpq's {@code PQprepare} with an empty
 * name) would find it gone, and the gateway's record of the session's statements would no longer be the server's.
 * The probe's statements and portal are named with a random suffix of the session's (a client cannot name what it
 * never sees) and closed in the same batch, so nothing of the client's is touched and nothing of the probe's stays.
 */
final class SettingsProbe {
    /**
     * What the server showed within an open batch: the values in {@link #SETTINGS}' order (null when it answered
     * with an error or not all), or that it skipped the question because a statement before it failed.
     */
    record Shown(List<String> values, boolean batchFailed) {
    }

    /** The settings asked for, in order. */
    static final List<String> SETTINGS = List.of("search_path", "role", "session_authorization");
    /** With the catalog's fingerprint asked for too, its answer follows the settings' (decision 0075). */
    static final int FINGERPRINT = SETTINGS.size();
    /** SHOW answers at once; a server that does not within this is treated as one that cannot say. */
    private static final long WAIT_MILLIS = 30_000;

    private static final SecureRandom NAMES = new SecureRandom();

    private final String name = "phigate_probe_" + HexFormat.of().formatHex(randomBytes());
    /** The statements asked, in order: the SHOWs, then the catalog's fingerprint where the session checks it. */
    private final List<String> questions;
    /** Between requests: end with Sync, answered up to ReadyForQuery; the settings alone, or with the fingerprint. */
    private final byte[] settingsBatch;
    private final byte[] batch;
    /** Within the client's open batch (decision 0070): ends with Flush, so the batch stays open. */
    private final byte[] withinBatch;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition answered = lock.newCondition();
    private volatile boolean inFlight;
    /** Asked within the client's batch: the answers come after those to what the client sent before. */
    private volatile boolean withinClientBatch;
    /** Within a batch: the exchange whose queue holds the probe's op, and the CloseCompletes still due. */
    private Exchange exchange;
    private int closesDue;
    private boolean answeredWithinBatch;
    private List<String> values = List.of();
    /** How many answers the probe in flight asks for. */
    private int expectedAnswers;
    private String error;

    /**
     * {@code fingerprint}: the catalog's {@link io.phigate.sql.CatalogFingerprint} is asked after the settings. It
     * is a SELECT, so it takes a snapshot; it is asked between transactions, or after code that ran in the open
     * transaction and took its snapshot already (decision 0075).
     */
    SettingsProbe(boolean fingerprint) {
        List<String> asked = new ArrayList<>();
        for (String setting : SETTINGS) {
            asked.add("SHOW " + setting);
        }
        if (fingerprint) {
            asked.add(io.phigate.sql.CatalogFingerprint.QUERY);
        }
        this.questions = List.copyOf(asked);
        this.batch = batch(name, questions, FrontendMessage.Sync.INSTANCE);
        this.settingsBatch = batch(name, questions.subList(0, SETTINGS.size()), FrontendMessage.Sync.INSTANCE);
        this.withinBatch = batch(name, questions, FrontendMessage.Flush.INSTANCE);
    }

    /**
     * Pump: true when the frame it read next answers the probe, so it goes to {@link #answer} first. Within the
     * client's batch that is so only once what the client sent before the probe has been answered.
     */
    boolean answersNext(Exchange exchange) {
        return inFlight && (!withinClientBatch || exchange.probeAtHead());
    }

    /**
     * Pump: a frame from the server while the probe is in flight. True when it answered the probe and must not reach
     * the client; asynchronous frames (notifications, parameter reports, notices) and a FATAL go on as usual.
     */
    boolean answer(byte type, byte[] body) throws IOException {
        switch (type) {
            case 'D' -> {
                String value = firstColumn(body);
                lock.lock();
                try {
                    values.add(value);
                } finally {
                    lock.unlock();
                }
            }
            case 'E' -> {
                ErrorResponse e = (ErrorResponse) MessageCodec.decodeBackend(type, body);
                if (!"ERROR".equals(e.fields().get((byte) 'V'))) {
                    return false;
                }
                lock.lock();
                try {
                    error = e.sqlState();
                } finally {
                    lock.unlock();
                }
                if (withinClientBatch) {
                    answeredWithinBatch(); // the server now skips to the client's Sync: nothing more is the probe's
                }
            }
            case '3' -> {
                if (withinClientBatch && --closesDue == 0) {
                    answeredWithinBatch();
                }
            }
            case 'Z' -> {
                lock.lock();
                try {
                    inFlight = false;
                    answered.signalAll();
                } finally {
                    lock.unlock();
                }
            }
            case '1', '2', 'C' -> {
                // ParseComplete, BindComplete, CloseComplete, CommandComplete: nothing to keep
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    /**
     * Client reader, with nothing else in flight: asks and waits. The values in {@link #SETTINGS}' order, or null
     * when the server answered with an error (a transaction that failed since the last ReadyForQuery) or not all.
     * {@code withFingerprint}: the catalog's fingerprint is asked too and follows them (only where the session's
     * catalog has one); else the settings alone, the fingerprint being compared with the shared one (decision 0075).
     *
     * @throws IOException when {@code stop} says the session is ending, or the server does not answer in time
     */
    List<String> ask(OutputStream upstream, BooleanSupplier stop, boolean withFingerprint) throws IOException {
        lock.lock();
        try {
            values = new ArrayList<>(questions.size());
            error = null;
            expectedAnswers = withFingerprint ? questions.size() : SETTINGS.size();
            inFlight = true;
        } finally {
            lock.unlock();
        }
        upstream.write(withFingerprint ? batch : settingsBatch);
        upstream.flush();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
        lock.lock();
        try {
            while (inFlight) {
                if (stop.getAsBoolean() || System.nanoTime() > deadline) {
                    inFlight = false;
                    throw new IOException("the server did not say which settings the session has");
                }
                answered.await(50, TimeUnit.MILLISECONDS);
            }
            return error == null && values.size() == expectedAnswers ? new ArrayList<>(values) : null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while asking the server for the session's settings");
        } finally {
            lock.unlock();
        }
    }

    /**
     * Client reader, within the client's open batch after what it sent so far went upstream: asks behind it and waits
     * until the server answered (or skipped) the question. The client's next message is not read meanwhile; the pump
     * goes on forwarding the answers to what came before, so the server never waits for the gateway to read.
     *
     * @throws IOException when {@code stop} says the session is ending, or the server, having answered everything
     *                     before the probe, does not answer it in time
     */
    Shown askWithinBatch(OutputStream upstream, Exchange exchange, BooleanSupplier stop) throws IOException {
        Op op = Op.of(Op.Kind.PROBE);
        lock.lock();
        try {
            values = new ArrayList<>(questions.size());
            error = null;
            answeredWithinBatch = false;
            closesDue = 2 * questions.size();
            this.exchange = exchange;
            withinClientBatch = true;
            inFlight = true;
        } finally {
            lock.unlock();
        }
        try {
            exchange.expect(List.of(op)); // retired as skipped at once if the batch already failed
            upstream.write(withinBatch);
            upstream.flush();
            long[] atHeadSince = {0};
            exchange.awaitRetired(op, () -> stop.getAsBoolean() || overdue(exchange, atHeadSince));
            lock.lock();
            try {
                if (!answeredWithinBatch) {
                    return new Shown(null, true);
                }
                return new Shown(error == null && values.size() == questions.size() ? new ArrayList<>(values) : null,
                        false);
            } finally {
                lock.unlock();
            }
        } finally {
            inFlight = false;
            withinClientBatch = false;
        }
    }

    /**
     * True once the probe's op has headed the queue for longer than SHOW needs: what came before may run as long as
     * it runs, the probe itself answers at once.
     */
    private static boolean overdue(Exchange exchange, long[] atHeadSince) {
        if (!exchange.probeAtHead()) {
            return false;
        }
        atHeadSince[0] = atHeadSince[0] == 0 ? System.nanoTime() : atHeadSince[0];
        return System.nanoTime() - atHeadSince[0] > TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
    }

    /** Pump: the probe's last answer within the client's batch arrived; its op leaves the exchange's queue. */
    private void answeredWithinBatch() throws IOException {
        Exchange ex;
        lock.lock();
        try {
            answeredWithinBatch = true;
            inFlight = false;
            ex = exchange;
        } finally {
            lock.unlock();
        }
        ex.probeAnswered();
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[8];
        NAMES.nextBytes(b);
        return b;
    }

    /** Per question: Parse, Bind to the probe's portal, Execute, Close both; then {@code end}. Names under 63 bytes. */
    private static byte[] batch(String name, List<String> questions, FrontendMessage end) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String portal = name + "_p";
        for (int i = 0; i < questions.size(); i++) {
            String statement = name + "_" + i;
            out.writeBytes(MessageCodec.encode(new FrontendMessage.Parse(statement, questions.get(i), new int[0])));
            out.writeBytes(MessageCodec.encode(new FrontendMessage.Bind(portal, statement, new short[0], new byte[0][],
                    new short[0])));
            out.writeBytes(MessageCodec.encode(new FrontendMessage.Execute(portal, 0)));
            out.writeBytes(MessageCodec.encode(new FrontendMessage.Close((byte) 'P', portal)));
            out.writeBytes(MessageCodec.encode(new FrontendMessage.Close((byte) 'S', statement)));
        }
        out.writeBytes(MessageCodec.encode(end));
        return out.toByteArray();
    }

    /** The first column of a DataRow as text (SHOW answers in text), or null for SQL NULL. */
    private static String firstColumn(byte[] body) {
        ByteBuffer b = ByteBuffer.wrap(body);
        if (b.getShort() < 1) {
            return null;
        }
        int len = b.getInt();
        return len < 0 ? null : new String(body, b.position(), len, StandardCharsets.UTF_8);
    }
}
