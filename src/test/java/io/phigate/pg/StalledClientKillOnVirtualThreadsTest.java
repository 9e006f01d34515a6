package io.phigate.pg;

import io.phigate.GatewayHarness;
import io.phigate.config.GatewayConfig;
import io.phigate.config.LimitsConfig;

/** The stalled-client kill with every session on virtual threads ({@code limits.platform_session_threads: 0}). */
class StalledClientKillOnVirtualThreadsTest extends StalledClientKillTest {

    @Override
    GatewayConfig configure(GatewayConfig c) {
        LimitsConfig l = c.limits();
        return GatewayHarness.withLimits(c, new LimitsConfig(l.maxSessions(), l.maxFrameBytes(), l.startupTimeout(),
                l.connectRatePerAddress(), l.connectBurstPerAddress(), l.maxHandshakes(), l.drainGrace(), 0));
    }

    @Override
    boolean onPlatformThreads() {
        return false;
    }
}
