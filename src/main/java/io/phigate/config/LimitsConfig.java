package io.phigate.config;

import java.time.Duration;

/**
 * Resource bounds. {@code maxFrameBytes} caps every message a client sends and every upstream message the
 * gateway must decode (rows and COPY data are streamed, not held). {@code startupTimeout} bounds the time from
 * accept to an authenticated session.
 */
public record LimitsConfig(int maxSessions, int maxFrameBytes, Duration startupTimeout) {
}
