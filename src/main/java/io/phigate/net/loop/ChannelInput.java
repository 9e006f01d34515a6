package io.phigate.net.loop;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A non-blocking channel as an {@link InputStream} whose read returns 0 when nothing is there (not blocking, not
 * -1), for a frame reader that asks whether a whole frame is buffered. Once a read returns less than it asked for,
 * the socket is taken as drained until the next readiness event ({@link #rearm}): the read that would only say
 * EAGAIN is not made (two system calls per statement in decision 0091's first build), and the level-triggered
 * selector reports what arrives meanwhile.
 */
public final class ChannelInput extends InputStream {
    private final SocketChannel channel;
    private boolean drained;

    public ChannelInput(SocketChannel channel) {
        this.channel = channel;
    }

    /** The selector says bytes are there: read again. */
    public void rearm() {
        drained = false;
    }

    @Override
    public int read() {
        throw new UnsupportedOperationException("read frames, not bytes");
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (drained || len == 0) {
            return 0;
        }
        int n = channel.read(ByteBuffer.wrap(b, off, len));
        drained = n >= 0 && n < len;
        return n;
    }

    @Override
    public int available() {
        return 0;
    }
}
