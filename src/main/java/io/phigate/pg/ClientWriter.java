package io.phigate.pg;

import io.phigate.audit.ResponseRecorder;
import io.phigate.pg.message.FrameReader;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The only writer of the client's output stream, and of the recording tee beside it. Every write holds one lock,
 * which makes frames whole and is the only lock held while a write blocks on a client that stopped reading. Ending
 * a session never needs it: {@link #tryWriteNow} gives up, and closing the socket ends a blocked write.
 *
 * <p>The order of the frames the gateway writes itself (local answers) and of an ErrorResponse relative to them is
 * decided by {@link Exchange} under its ops lock, where they are {@link #enqueue}d; they are written by
 * {@link #drain} after that lock is released. Every write first drains what was enqueued before it, so the order
 * of enqueueing is the order on the wire.
 *
 * <p>Written by the response pump (the server's answers) and the client reader (local answers when nothing is
 * pending, and FATAL before closing).
 */
final class ClientWriter {
    /** Frames decided under the ops lock, with the recording they belong to (null for none). */
    private record Queued(byte[] frames, ResponseRecorder recorder) {
    }

    private final OutputStream client;
    private final ReentrantLock lock = new ReentrantLock();
    private final ConcurrentLinkedQueue<Queued> queued = new ConcurrentLinkedQueue<>();
    private final Tee tee = new Tee();
    private volatile boolean broken;

    /** Copies what is streamed to the client into the recording of the statement it answers. */
    private final class Tee extends OutputStream {
        ResponseRecorder recorder;

        @Override
        public void write(int b) throws IOException {
            client.write(b);
            recorder.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            client.write(b, off, len);
            recorder.write(b, off, len);
        }
    }

    ClientWriter(OutputStream client) {
        this.client = client;
    }

    /** True once a write to the client failed: the client is gone. */
    boolean broken() {
        return broken;
    }

    /** Streams the frame {@code upstream} is positioned on (a row, COPY data) without holding its body. */
    void transfer(FrameReader upstream, ResponseRecorder recorder) throws IOException {
        lock.lock();
        try {
            writeQueued();
            if (recorder == null) {
                upstream.transferTo(client);
            } else {
                tee.recorder = recorder;
                upstream.transferTo(tee);
            }
        } catch (IOException e) {
            broken = true;
            throw e;
        } finally {
            lock.unlock();
        }
    }

    void writeFrame(byte type, byte[] body, ResponseRecorder recorder) throws IOException {
        lock.lock();
        try {
            writeQueued();
            int len = body.length + 4;
            byte[] header = {type, (byte) (len >>> 24), (byte) (len >>> 16), (byte) (len >>> 8), (byte) len};
            client.write(header);
            client.write(body);
            if (recorder != null) {
                recorder.write(header, 0, 5);
                recorder.write(body, 0, body.length);
            }
        } catch (IOException e) {
            broken = true;
            throw e;
        } finally {
            lock.unlock();
        }
    }

    /** Queues whole frames for the next write; never blocks, so it may be called under another lock. */
    void enqueue(byte[] frames, ResponseRecorder recorder) {
        queued.add(new Queued(frames, recorder));
    }

    void enqueue(List<byte[]> frames) {
        if (frames.isEmpty()) {
            return; // the common case: no iterator for nothing
        }
        for (byte[] f : frames) {
            queued.add(new Queued(f, null));
        }
    }

    /** A frame built from a type and a body, to {@link #enqueue}. */
    static byte[] frame(byte type, byte[] body) {
        byte[] f = new byte[5 + body.length];
        int len = body.length + 4;
        f[0] = type;
        f[1] = (byte) (len >>> 24);
        f[2] = (byte) (len >>> 16);
        f[3] = (byte) (len >>> 8);
        f[4] = (byte) len;
        System.arraycopy(body, 0, f, 5, body.length);
        return f;
    }

    /** Writes what was enqueued; {@code flush} also pushes it to the client (a local answer nobody else flushes). */
    void drain(boolean flush) throws IOException {
        if (queued.isEmpty() && !flush) {
            return;
        }
        lock.lock();
        try {
            writeQueued();
            if (flush) {
                client.flush();
            }
        } catch (IOException e) {
            broken = true;
            throw e;
        } finally {
            lock.unlock();
        }
    }

    void flush() throws IOException {
        drain(true);
    }

    /** Writes a message of the gateway's own regardless of what is pending (FATAL before closing). */
    void writeNow(byte[] frames) throws IOException {
        enqueue(frames, null);
        drain(true);
    }

    /**
     * Like {@link #writeNow}, but gives up after {@code millis} if a write blocked on a client that stopped reading
     * holds the output; the caller then just closes the connection, which ends that write too.
     */
    boolean tryWriteNow(byte[] frames, long millis) throws IOException {
        try {
            if (!lock.tryLock(millis, TimeUnit.MILLISECONDS)) {
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        try {
            writeQueued();
            client.write(frames);
            client.flush();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Call holding the lock. */
    private void writeQueued() throws IOException {
        for (Queued q; (q = queued.poll()) != null; ) {
            client.write(q.frames);
            if (q.recorder != null) {
                q.recorder.write(q.frames, 0, q.frames.length);
            }
        }
    }
}
