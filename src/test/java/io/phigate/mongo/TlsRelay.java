package io.phigate.mongo;

import io.phigate.config.HostPort;
import io.phigate.net.TlsContexts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TLS-terminating relay in front of a plaintext document store: mongo-java-server speaks no TLS, so the gateway's
 * upstream TLS is tested against this, as a mongod with {@code net.tls.mode: requireTLS} would be reached (TLS from
 * the first byte). Counts the handshakes that completed.
 */
final class TlsRelay implements AutoCloseable {
    private final ServerSocket server;
    private final HostPort target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    final AtomicInteger handshakes = new AtomicInteger();

    TlsRelay(Path certFile, Path keyFile, HostPort target) throws Exception {
        this.target = target;
        this.server = TlsContexts.server(certFile, keyFile).getServerSocketFactory()
                .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("tls-relay-accept").start(this::acceptLoop);
    }

    HostPort address() {
        return new HostPort("127.0.0.1", server.getLocalPort());
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket in;
            try {
                in = server.accept();
            } catch (IOException e) {
                return;
            }
            sockets.add(in);
            Thread.ofVirtual().start(() -> {
                try {
                    ((javax.net.ssl.SSLSocket) in).startHandshake();
                    handshakes.incrementAndGet();
                    Socket up = new Socket(target.host(), target.port());
                    sockets.add(up);
                    Thread.ofVirtual().start(() -> copy(up, in));
                    copy(in, up);
                } catch (IOException e) {
                    closeQuietly(in); // a handshake the gateway refused, or the store is gone
                }
            });
        }
    }

    private static void copy(Socket from, Socket to) {
        try {
            from.getInputStream().transferTo(to.getOutputStream());
        } catch (IOException e) {
            // a side closed
        } finally {
            closeQuietly(to);
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closed
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        sockets.forEach(TlsRelay::closeQuietly);
    }
}
