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
    private final ServerReports reports;
    /** Takes the answers to the gateway's own question about the settings (decision 0064); null: never asked. */
    private final SettingsProbe probe;
    private final Consumer<IOException> onUpstreamLost;

    /**
     * {@code reports} sees every frame but rows and COPY data first and may end the session;
     * {@code onUpstreamLost} receives why the pump stopped, or null when the server closed cleanly.
     */
    ResponsePump(FrameReader upstream, Exchange exchange, ServerReports reports, SettingsProbe probe,
                 Consumer<IOException> onUpstreamLost) {
        this.upstream = upstream;
        this.probe = probe;
        this.exchange = exchange;
        this.reports = reports;
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
                if (probe != null && probe.answersNext(exchange)) {
                    byte[] body = upstream.body();
                    if (!reports.admit((byte) type, body)) {
                        break;
                    }
                    if (!probe.answer((byte) type, body)) {
                        exchange.onBackendFrame((byte) type, body);
                    }
                } else if (type == 'D' || type == 'd') {
                    exchange.forward((byte) type, upstream);
                } else {
                    byte[] body = upstream.body();
                    if (!reports.admit((byte) type, body)) {
                        break;
                    }
                    exchange.onBackendFrame((byte) type, body);
                }
            }
        } catch (IOException e) {
            failure = e; // either side closed, or the server broke the protocol; the session decides
        } finally {
            onUpstreamLost.accept(failure);
        }
    }
}
