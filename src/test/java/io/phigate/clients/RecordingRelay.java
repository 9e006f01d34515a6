package io.phigate.clients;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay between an unmodified client and the gateway that keeps a copy of every byte the client received on
 * each connection: what psql saw, byte for byte, for comparing with the digests the audit store recorded. Each
 * connection is two virtual threads copying one direction each.
 */
final class RecordingRelay implements AutoCloseable {
    private final ServerSocket listener;
    private final int target;
    private final List<ByteArrayOutputStream> received = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    RecordingRelay(int targetPort) throws IOException {
        this.target = targetPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("recording-relay").start(this::accept);
    }

    int port() {
        return listener.getLocalPort();
    }

    /** What the client of connection {@code n} (in order of accepting) has received so far. */
    byte[] received(int n) {
        ByteArrayOutputStream copy = received.get(n);
        synchronized (copy) {
            return copy.toByteArray();
        }
    }

    int connections() {
        return received.size();
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
                sockets.add(client);
                sockets.add(server);
                var copy = new ByteArrayOutputStream();
                received.add(copy);
                Thread.ofVirtual().start(() -> pump(client, server, null));
                Thread.ofVirtual().start(() -> pump(server, client, copy));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    /** Copies {@code from} to {@code to} until either closes, keeping a copy when {@code copy} is given. */
    private static void pump(Socket from, Socket to, ByteArrayOutputStream copy) {
        byte[] buf = new byte[64 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                if (copy != null) {
                    synchronized (copy) {
                        copy.write(buf, 0, n);
                    }
                }
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // one side closed: the session is over
        } finally {
            try {
                from.close();
                to.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
