package io.phigate.pg.message;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Splits a byte stream into PostgreSQL frames without assuming a read boundary is a frame boundary. Every frame
 * is checked against {@code frameLimit} before any of its body is read; {@link #body()} additionally refuses
 * bodies above {@code decodeLimit}, so only frames that are forwarded as a stream ({@link #transferTo}) may be
 * larger than what the gateway is willing to hold in memory.
 *
 * <p>Not thread-safe: one reader thread owns it.
 */
public final class FrameReader {
    /** PostgreSQL's own bound on a startup packet (MAX_STARTUP_PACKET_LENGTH). */
    public static final int MAX_STARTUP_PACKET = 10_000;

    private final InputStream in;
    private byte[] buf;
    /** The buffer starts small (an idle session holds little) and doubles up to this while reads fill it. */
    private final int maxBuffer;
    /** Reused for every streamed frame's header: the row path allocates nothing per row. */
    private final byte[] header = new byte[5];
    private final int frameLimit;
    private final int decodeLimit;
    private int pos;
    private int limit;
    private byte type;
    private int bodyLength;
    private boolean bodyPending;

    public FrameReader(InputStream in, int bufferSize, int frameLimit, int decodeLimit) {
        this(in, bufferSize, bufferSize, frameLimit, decodeLimit);
    }

    /**
     * A reader whose buffer starts at {@code initialBuffer} bytes and grows, doubling, up to {@code maxBuffer} each
     * time one read fills it: a result streaming in gets large reads, an idle session keeps a small buffer
     * (thousands of idle sessions are the case that decides the gateway's memory).
     */
    public FrameReader(InputStream in, int initialBuffer, int maxBuffer, int frameLimit, int decodeLimit) {
        if (initialBuffer < 5 || maxBuffer < initialBuffer) {
            throw new IllegalArgumentException("buffer of " + initialBuffer + " to " + maxBuffer
                    + " bytes cannot hold a frame header");
        }
        this.in = in;
        this.buf = new byte[initialBuffer];
        this.maxBuffer = maxBuffer;
        this.frameLimit = frameLimit;
        this.decodeLimit = decodeLimit;
    }

    /** Reads an untyped startup-phase packet and returns it without its length word. */
    public byte[] readStartupPacket() throws IOException {
        if (!fill(4)) {
            if (limit > pos) {
                throw new UnreadableStartupPacket("incomplete startup packet");
            }
            throw new EOFException("connection closed before the startup packet");
        }
        int len = int32At(pos);
        if (len < 8 || len > MAX_STARTUP_PACKET) {
            throw new UnreadableStartupPacket("invalid length of startup packet: " + len);
        }
        pos += 4;
        byte[] packet = new byte[len - 4];
        try {
            readFully(packet, 0, packet.length);
        } catch (EOFException e) {
            throw new UnreadableStartupPacket("incomplete startup packet");
        }
        return packet;
    }

    /**
     * Reads the next frame's header. Returns its type byte as an unsigned int, or -1 if the stream ended cleanly
     * between frames. The previous frame's body must have been consumed.
     */
    public int next() throws IOException {
        if (bodyPending) {
            throw new IllegalStateException("previous frame body not consumed");
        }
        if (!fill(5)) {
            if (pos == limit) {
                return -1;
            }
            throw new EOFException("connection closed inside a message header");
        }
        type = buf[pos];
        int len = int32At(pos + 1);
        if (len < 4) {
            throw new ProtocolException("invalid length " + len + " for message type '" + printable(type) + "'");
        }
        if (len - 4 > frameLimit) {
            throw new ProtocolException("message of " + (len - 4L) + " bytes exceeds the limit of " + frameLimit
                    + " bytes (limits.max_frame_bytes)");
        }
        pos += 5;
        bodyLength = len - 4;
        bodyPending = true;
        return type & 0xFF;
    }

    public byte type() {
        return type;
    }

    public int bodyLength() {
        return bodyLength;
    }

    /** Reads the current frame's body into a new array. */
    public byte[] body() throws IOException {
        requireBody();
        if (bodyLength > decodeLimit) {
            throw new ProtocolException("message of " + bodyLength + " bytes exceeds the limit of " + decodeLimit
                    + " bytes (limits.max_frame_bytes)");
        }
        byte[] body = new byte[bodyLength];
        readFully(body, 0, bodyLength);
        bodyPending = false;
        return body;
    }

    /** Writes the current frame, header and body, to {@code out} without holding the body in memory. */
    public void transferTo(OutputStream out) throws IOException {
        requireBody();
        int len = bodyLength + 4;
        header[0] = type;
        header[1] = (byte) (len >>> 24);
        header[2] = (byte) (len >>> 16);
        header[3] = (byte) (len >>> 8);
        header[4] = (byte) len;
        out.write(header, 0, 5);
        int remaining = bodyLength;
        while (remaining > 0) {
            if (pos == limit && !fill(1)) {
                throw new EOFException("connection closed inside a message body");
            }
            int n = Math.min(remaining, limit - pos);
            out.write(buf, pos, n);
            pos += n;
            remaining -= n;
        }
        bodyPending = false;
    }

    /**
     * For a stream whose read returns 0 when it would block (an event loop's non-blocking channel): reads what is
     * there and returns true once a whole frame is buffered, or the stream has ended, or the next header is one
     * {@link #next()} refuses, so that {@link #next()} and the body calls then never read; false while more must
     * arrive first. Such a reader holds each frame whole, so a frame larger than its buffer may grow to is refused
     * (the buffer's bound is the frame limit the caller set, {@code limits.max_frame_bytes}).
     */
    public boolean frameBuffered() throws IOException {
        if (bodyPending) {
            throw new IllegalStateException("previous frame body not consumed");
        }
        while (true) {
            if (limit - pos >= 5) {
                int len = int32At(pos + 1);
                if (len < 4 || len - 4 > frameLimit) {
                    return true;
                }
                long need = 1L + len;
                if (limit - pos >= need) {
                    return true;
                }
                if (need > maxBuffer) {
                    throw new ProtocolException("message of " + (len - 4L) + " bytes exceeds the limit of "
                            + (maxBuffer - 5) + " bytes an event-loop session holds (limits.max_frame_bytes)");
                }
                if (need > buf.length - pos) {
                    compact();
                    if (need > buf.length) {
                        buf = java.util.Arrays.copyOf(buf, (int) Math.min(maxBuffer, Math.max(need, buf.length * 2L)));
                    }
                }
            } else if (pos > 0 && buf.length - pos < 5) {
                compact();
            }
            if (limit == buf.length) {
                buf = java.util.Arrays.copyOf(buf, Math.min(maxBuffer, buf.length * 2));
            }
            int r = in.read(buf, limit, buf.length - limit);
            if (r < 0) {
                return true;
            }
            if (r == 0) {
                return false;
            }
            limit += r;
        }
    }

    /** The type byte of the frame {@link #frameBuffered} found whole, or -1 when nothing is buffered. */
    public int peekType() {
        return pos < limit ? buf[pos] & 0xFF : -1;
    }

    /**
     * Lets a grown buffer go while nothing is buffered, back to {@code size} bytes: an idle event-loop session
     * keeps a small buffer after a large frame.
     */
    public void shrinkWhenEmpty(int size) {
        if (pos == limit && buf.length > size && !bodyPending) {
            buf = new byte[size];
            pos = 0;
            limit = 0;
        }
    }

    private void compact() {
        System.arraycopy(buf, pos, buf, 0, limit - pos);
        limit -= pos;
        pos = 0;
    }

    /** Discards the current frame's body. */
    public void skipBody() throws IOException {
        transferTo(OutputStream.nullOutputStream());
    }

    /** True if bytes are buffered here, so the next {@link #next()} will not block on the socket. */
    public boolean hasBufferedInput() {
        return pos < limit;
    }

    /** True if input can be read without blocking (buffered here or in the socket). */
    public boolean inputAvailable() throws IOException {
        return pos < limit || in.available() > 0;
    }

    /**
     * Reads whatever the peer has sent into the buffer without consuming a frame, blocking as the stream's read
     * does (a socket timeout ends it with {@link java.net.SocketTimeoutException}). False when the peer closed
     * the stream; true when bytes are buffered, or the buffer is full. Lets a thread that is waiting for something
     * else notice a client that went away.
     */
    public boolean peek() throws IOException {
        if (pos < limit) {
            return true;
        }
        pos = 0;
        limit = 0;
        int r = in.read(buf, 0, buf.length);
        if (r < 0) {
            return false;
        }
        limit = r;
        return true;
    }

    private void requireBody() {
        if (!bodyPending) {
            throw new IllegalStateException("no frame body to read: call next() first");
        }
    }

    private void readFully(byte[] dst, int off, int len) throws IOException {
        int buffered = Math.min(len, limit - pos);
        System.arraycopy(buf, pos, dst, off, buffered);
        pos += buffered;
        off += buffered;
        len -= buffered;
        while (len > 0) {
            int n = in.read(dst, off, len);
            if (n < 0) {
                throw new EOFException("connection closed inside a message body");
            }
            off += n;
            len -= n;
        }
    }

    /** Ensures {@code n} bytes are buffered; false if the stream ended first. */
    private boolean fill(int n) throws IOException {
        if (limit - pos >= n) {
            return true;
        }
        if (pos > 0) {
            System.arraycopy(buf, pos, buf, 0, limit - pos);
            limit -= pos;
            pos = 0;
        }
        while (limit < n) {
            int r = in.read(buf, limit, buf.length - limit);
            if (r < 0) {
                return false;
            }
            limit += r;
            if (limit == buf.length && buf.length < maxBuffer) {
                // The read filled the buffer: more is waiting in the socket. Grow for the next reads.
                buf = java.util.Arrays.copyOf(buf, Math.min(maxBuffer, buf.length * 2));
            }
        }
        return true;
    }

    private int int32At(int i) {
        return ((buf[i] & 0xFF) << 24) | ((buf[i + 1] & 0xFF) << 16) | ((buf[i + 2] & 0xFF) << 8) | (buf[i + 3] & 0xFF);
    }

    private static String printable(byte b) {
        return b >= 0x20 && b < 0x7F ? String.valueOf((char) b) : String.format("0x%02x", b & 0xFF);
    }
}
