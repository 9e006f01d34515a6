package io.phigate.pg;

import io.phigate.pg.message.FrameReader;
import java.io.IOException;

/**
 * The session's second thread: reads the server's messages and forwards them to the client through the
 * {@link Exchange}. Rows and COPY data are streamed frame by frame without being held; everything else is small
 * and decoded only as far as retiring ops needs. The client is flushed only when the server has nothing more
 * ready, so a result set leaves in as few writes as possible.
 *
 * <p>Runs on a virtual thread named {@code pg-upstream-SESSION}.
 */
final class ResponsePump implements Runnable {
    private final FrameReader upstream;
    private final Exchange exchange;
    private final Runnable onUpstreamLost;

    ResponsePump(FrameReader upstream, Exchange exchange, Runnable onUpstreamLost) {
        this.upstream = upstream;
        this.exchange = exchange;
        this.onUpstreamLost = onUpstreamLost;
    }

    @Override
    public void run() {
        try {
            while (true) {
                if (!upstream.inputAvailable()) {
                    exchange.flush();
                }
                int type = upstream.next();
                if (type < 0) {
                    break;
                }
                if (type == 'D' || type == 'd') {
                    exchange.forward(upstream);
                } else {
                    exchange.onBackendFrame((byte) type, upstream.body());
                }
            }
        } catch (IOException e) {
            // Either side closed; the session decides what that means.
        } finally {
            onUpstreamLost.run();
        }
    }
}
