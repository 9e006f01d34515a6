package io.phigate.config;

import java.time.Duration;

/**
 * Resource bounds. {@code maxFrameBytes} caps every message a client sends and every upstream message the
 * gateway must decode (rows and COPY data are streamed, not held). {@code startupTimeout} bounds the time from
 * accept to an authenticated session. {@code connectRatePerAddress} (connections per second, 0 = unlimited) and
 * {@code connectBurstPerAddress} are a token bucket per client IP address, so one address flooding the listener
 * cannot take the session slots, the token-verification CPU or the audit store's attention from the others.
 * {@code maxHandshakes} bounds the connections between accept and a running session (TLS, token, upstream login),
 * from any number of addresses; beyond it a new connection is refused at once with SQLSTATE 53300.
 * {@code drainGrace} is how long, after SIGTERM, open sessions may go on before they are ended with 57P01 (the
 * orchestrator's termination grace period must be longer; docs/kubernetes.md). {@code platformSessionThreads}
 * sessions at a time run on platform threads, the rest on virtual threads (net.SessionThreads, decision 0056).
 * {@code eventLoop} says which sessions move from their threads to one of {@code eventLoopThreads} event loops
 * after the handshake (0: one per processor; decision 0097).
 */
public record LimitsConfig(int maxSessions, int maxFrameBytes, Duration startupTimeout, int connectRatePerAddress,
                           int connectBurstPerAddress, int maxHandshakes, Duration drainGrace,
                           int platformSessionThreads, EventLoop eventLoop, int eventLoopThreads) {
    /** Which sessions run on an event loop. */
    public enum EventLoop {
        /** None: every session on its own threads. */
        OFF,
        /** Plain sessions: no policy applied to them (nothing analysed, masked or held), no TLS on either side. */
        PLAIN
    }

    public static final int DEFAULT_CONNECT_RATE_PER_ADDRESS = 50;
    public static final int DEFAULT_CONNECT_BURST_PER_ADDRESS = 100;
    public static final int DEFAULT_MAX_HANDSHAKES = 256;
    public static final Duration DEFAULT_DRAIN_GRACE = Duration.ofSeconds(30);
    public static final int DEFAULT_PLATFORM_SESSION_THREADS = 128;

    public LimitsConfig(int maxSessions, int maxFrameBytes, Duration startupTimeout, int connectRatePerAddress,
                        int connectBurstPerAddress, int maxHandshakes, Duration drainGrace,
                        int platformSessionThreads) {
        this(maxSessions, maxFrameBytes, startupTimeout, connectRatePerAddress, connectBurstPerAddress,
                maxHandshakes, drainGrace, platformSessionThreads, EventLoop.OFF, 0);
    }

    /** These limits with {@code mode} for the event loop. */
    public LimitsConfig withEventLoop(EventLoop mode, int threads) {
        return new LimitsConfig(maxSessions, maxFrameBytes, startupTimeout, connectRatePerAddress,
                connectBurstPerAddress, maxHandshakes, drainGrace, platformSessionThreads, mode, threads);
    }

    public LimitsConfig(int maxSessions, int maxFrameBytes, Duration startupTimeout, int connectRatePerAddress,
                        int connectBurstPerAddress, int maxHandshakes, Duration drainGrace) {
        this(maxSessions, maxFrameBytes, startupTimeout, connectRatePerAddress, connectBurstPerAddress,
                maxHandshakes, drainGrace, DEFAULT_PLATFORM_SESSION_THREADS);
    }

    public LimitsConfig(int maxSessions, int maxFrameBytes, Duration startupTimeout, int connectRatePerAddress,
                        int connectBurstPerAddress, int maxHandshakes) {
        this(maxSessions, maxFrameBytes, startupTimeout, connectRatePerAddress, connectBurstPerAddress,
                maxHandshakes, DEFAULT_DRAIN_GRACE);
    }

    public LimitsConfig(int maxSessions, int maxFrameBytes, Duration startupTimeout, int connectRatePerAddress,
                        int connectBurstPerAddress) {
        this(maxSessions, maxFrameBytes, startupTimeout, connectRatePerAddress, connectBurstPerAddress,
                DEFAULT_MAX_HANDSHAKES);
    }

    /** The three original bounds, with the default per-address connection rate. */
    public LimitsConfig(int maxSessions, int maxFrameBytes, Duration startupTimeout) {
        this(maxSessions, maxFrameBytes, startupTimeout, DEFAULT_CONNECT_RATE_PER_ADDRESS,
                DEFAULT_CONNECT_BURST_PER_ADDRESS);
    }
}
