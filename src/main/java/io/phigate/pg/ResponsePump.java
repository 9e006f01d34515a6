package io.phigate.pg;

import io.phigate.pg.message.FrameReader;
import java.io.IOException;
import java.util.function.Consumer;

/**
 * The session's second thread: reads the server's messages and forwards them to the client through the
 * {@link Exchange}. Rows and COPY data are streamed frame by frame without being held; everything else is small
 * and decoded only as far as retiring ops needs. The client is flushed only when the server has nothing more
 * ready, so a result set leaves in as few writes as possible. After ReadyForQuery nothing more is asked: the server
 * has answered all it was sent, and the question (an {@code ioctl}) cost a system call per statement.
 *
 * <p>Runs on a virtual thread named {@code pg-upstream-SESSION}.
 */
final class ResponsePump implements Runnable {
    private final FrameReader upstream;
    private final Exchange exchange;
    private final Consumer<IOException> onUpstreamLost;

    /** {@code onUpstreamLost} receives why the pump stopped, or null when the server closed cleanly. */
    ResponsePump(FrameReader upstream, Exchange exchange, Consumer<IOException> onUpstreamLost) {
        this.upstream = upstream;
        this.exchange = exchange;
        this.onUpstreamLost = onUpstreamLost;
    }

    @Override
    public void run() {
        IOException failure = null;
        try {
            int type = 0;
            while (true) {
                if (!upstream.hasBufferedInput() && (type == 'Z' || !upstream.inputAvailable())) {
                    exchange.flush();
                }
                type = upstream.next();
                if (type < 0) {
                    break;
                }
                if (type == 'D' || type == 'd') {
                    exchange.forward((byte) type, upstream);
                } else {
                    exchange.onBackendFrame((byte) type, upstream.body());
                }
            }
        } catch (IOException e) {
            failure = e; // either side closed, or the server broke the protocol; the session decides
        } finally {
            onUpstreamLost.accept(failure);
        }
    }
}
