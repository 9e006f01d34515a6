package io.phigate.net;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts connections on one address and runs each on its own virtual thread. The accept loop itself runs on a
 * platform thread named for the listener so thread dumps show what is listening.
 */
public final class Listener implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Listener.class);

    private final String name;
    private final ServerSocket server;
    private final Consumer<Socket> handler;
    private final SessionThreads threads;
    private final Thread acceptThread;
    private final AtomicLong accepted = new AtomicLong();
    private volatile boolean closed;

    public Listener(String name, InetSocketAddress address, Consumer<Socket> handler) throws IOException {
        this(name, address, handler, SessionThreads.VIRTUAL);
    }

    public Listener(String name, InetSocketAddress address, Consumer<Socket> handler, SessionThreads threads)
            throws IOException {
        this(name, address, handler, threads, false);
    }

    /**
     * {@code channelSockets}: accepted sockets are backed by {@link java.nio.channels.SocketChannel}s, so a session
     * can move from its thread to an event loop after its handshake (net.loop, decision 0097).
     */
    public Listener(String name, InetSocketAddress address, Consumer<Socket> handler, SessionThreads threads,
                    boolean channelSockets) throws IOException {
        this.name = name;
        this.threads = threads;
        this.handler = handler;
        this.server = channelSockets ? java.nio.channels.ServerSocketChannel.open().socket() : new ServerSocket();
        server.setReuseAddress(true);
        server.bind(address, 1024);
        this.acceptThread = Thread.ofPlatform().name("phigate-" + name + "-accept").daemon().unstarted(this::acceptLoop);
    }

    public void start() {
        acceptThread.start();
        log.info("{} listener on {}", name, server.getLocalSocketAddress());
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    private void acceptLoop() {
        AcceptBackoff backoff = new AcceptBackoff();
        while (!closed) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                Duration pause = backoff.failed();
                if (backoff.failures() % 100 == 1) {
                    log.warn("{} accept failed ({} in a row), pausing {} ms: {}", name, backoff.failures(),
                            pause.toMillis(), e.toString());
                }
                pause(pause);
                continue;
            }
            backoff.succeeded();
            long n = accepted.incrementAndGet();
            threads.start(name + "-conn-" + n, () -> handler.accept(socket));
        }
    }

    private static void pause(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
