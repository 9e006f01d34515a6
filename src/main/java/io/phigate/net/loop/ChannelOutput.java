package io.phigate.net.loop;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.Arrays;

/**
 * A non-blocking channel as an {@link OutputStream}: writes are buffered, {@link #flush} writes what the socket
 * takes now and asks for OP_WRITE while some is left. The caller bounds the buffer: it reads no more of the other
 * side while {@link #backlog} is at or over its limit (back-pressure), so the buffer holds at most that limit plus
 * one frame. Once empty, a buffer grown past {@link #KEEP_BYTES} is let go: an idle session holds little.
 *
 * <p>Loop thread only.
 */
public final class ChannelOutput extends OutputStream {
    /** A buffer up to this size is kept between writes; a larger one is released once drained. */
    static final int KEEP_BYTES = 64 * 1024;
    private static final byte[] EMPTY = new byte[0];

    private final SocketChannel channel;
    private SelectionKey key;
    private byte[] data = EMPTY;
    private int start;
    private int end;
    private boolean waitingWritable;

    public ChannelOutput(SocketChannel channel) {
        this.channel = channel;
    }

    /** The channel's key, once registered: OP_WRITE is asked on it while bytes wait. */
    public void attach(SelectionKey key) {
        this.key = key;
        if (end > start) {
            waitingWritable = true;
            key.interestOpsOr(SelectionKey.OP_WRITE);
        }
    }

    /** Bytes written here and not yet taken by the socket. */
    public int backlog() {
        return end - start;
    }

    @Override
    public void write(int b) {
        write(new byte[]{(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        if (end + len > data.length) {
            if (start > 0) {
                System.arraycopy(data, start, data, 0, end - start);
                end -= start;
                start = 0;
            }
            if (end + len > data.length) {
                data = Arrays.copyOf(data, Math.max(Math.max(4096, data.length * 2), end + len));
            }
        }
        System.arraycopy(b, off, data, end, len);
        end += len;
    }

    @Override
    public void flush() throws IOException {
        if (!waitingWritable) {
            writable();
        }
    }

    /** Writes what the socket takes now; asks for OP_WRITE while some is left, and stops asking once none is. */
    public void writable() throws IOException {
        if (end > start) {
            start += channel.write(ByteBuffer.wrap(data, start, end - start));
        }
        boolean left = end > start;
        if (!left) {
            start = 0;
            end = 0;
            if (data.length > KEEP_BYTES) {
                data = EMPTY;
            }
        }
        if (left != waitingWritable && key != null && key.isValid()) {
            waitingWritable = left;
            if (left) {
                key.interestOpsOr(SelectionKey.OP_WRITE);
            } else {
                key.interestOpsAnd(~SelectionKey.OP_WRITE);
            }
        }
    }

    /** The buffer's capacity now (tests: a drained buffer is released). */
    int capacity() {
        return data.length;
    }
}
