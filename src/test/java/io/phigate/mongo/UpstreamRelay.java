package io.phigate.mongo;

import io.phigate.mongo.wire.Frame;
import io.phigate.mongo.wire.FrameReader;
import io.phigate.mongo.wire.WireCodec;
import io.phigate.mongo.wire.WireMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A TCP relay between the gateway and the test's document store that tells a test each command the upstream receives,
 * at the moment it arrives and before the store sees it: so a test can check what was durable by then.
 */
final class UpstreamRelay implements AutoCloseable {
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final Consumer<String> onCommand;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    final List<String> commands = new CopyOnWriteArrayList<>();
    /** Each OP_MSG the store received, as it received it. */
    final List<WireMessage.OpMsg> messages = new CopyOnWriteArrayList<>();

    UpstreamRelay(InetSocketAddress target, Consumer<String> onCommand) throws IOException {
        this.target = target;
        this.onCommand = onCommand;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("relay-accept").start(this::acceptLoop);
    }

    InetSocketAddress address() {
        return new InetSocketAddress("127.0.0.1", server.getLocalPort());
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket in;
            try {
                in = server.accept();
            } catch (IOException e) {
                return;
            }
            try {
                Socket up = new Socket(target.getAddress(), target.getPort());
                sockets.add(in);
                sockets.add(up);
                Thread.ofVirtual().start(() -> requests(in, up));
                Thread.ofVirtual().start(() -> copy(up, in));
            } catch (IOException e) {
                try {
                    in.close(); // the store is unreachable: so is the relay
                } catch (IOException ignored) {
                    // closed
                }
            }
        }
    }

    private void requests(Socket from, Socket to) {
        try (from; to) {
            FrameReader reader = new FrameReader(from.getInputStream(), 64 * 1024 * 1024);
            OutputStream out = to.getOutputStream();
            Frame f;
            while ((f = reader.next()) != null) {
                if (WireCodec.decode(f) instanceof WireMessage.OpMsg msg) {
                    String name = msg.body().getFirstKey();
                    commands.add(name);
                    messages.add(msg);
                    // The gateway's own catalog reads (marked in their comment) are no agent's statement.
                    if (!(msg.body().get("comment") instanceof org.bson.BsonString c
                            && c.getValue().startsWith("phigate: "))) {
                        onCommand.accept(name);
                    }
                }
                out.write(f.bytes());
                out.flush();
            }
        } catch (IOException e) {
            // a side closed
        }
    }

    private static void copy(Socket from, Socket to) {
        try {
            InputStream in = from.getInputStream();
            in.transferTo(to.getOutputStream());
        } catch (IOException e) {
            // a side closed
        } finally {
            try {
                to.shutdownOutput();
            } catch (IOException ignored) {
                // closed
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
