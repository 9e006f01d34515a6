package io.phigate.pg;

import io.phigate.audit.AuditEvent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Client messages collected up to a request boundary (Sync, Flush, Query, FunctionCall) or a size bound. The
 * whole chunk's audit records are made durable together, then its frames go upstream in one write.
 */
final class RequestChunk {
    /** Cut a chunk here even without a boundary, so a long pipeline is not held back. */
    static final int MAX_BYTES = 256 * 1024;

    private byte[] frames = new byte[1024];
    private int size;
    final List<Op> ops = new ArrayList<>();
    final List<AuditEvent> events = new ArrayList<>();
    final List<StatementRun> statements = new ArrayList<>();
    /** The chunk holds extended-protocol messages. */
    boolean extended;
    /** The chunk ends with Sync. */
    boolean endsWithSync;

    void add(byte type, byte[] body, Op op) {
        int len = body.length + 4;
        ensure(5 + body.length);
        frames[size++] = type;
        frames[size++] = (byte) (len >>> 24);
        frames[size++] = (byte) (len >>> 16);
        frames[size++] = (byte) (len >>> 8);
        frames[size++] = (byte) len;
        System.arraycopy(body, 0, frames, size, body.length);
        size += body.length;
        if (op != null) {
            ops.add(op);
        }
    }

    void statement(StatementRun run, AuditEvent requested) {
        statements.add(run);
        events.add(requested);
    }

    byte[] frames() {
        return frames;
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    void clear() {
        size = 0;
        ops.clear();
        events.clear();
        statements.clear();
        extended = false;
        endsWithSync = false;
        if (frames.length > 4 * MAX_BYTES) {
            frames = new byte[1024];
        }
    }

    private void ensure(int n) {
        if (size + n > frames.length) {
            frames = Arrays.copyOf(frames, Math.max(frames.length * 2, size + n));
        }
    }
}
