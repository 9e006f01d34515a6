package io.phigate.pg;

import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.FrameReader;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A hand-driven protocol client for tests that need to send what no real driver would. */
final class RawClient implements AutoCloseable {
    final Socket socket;
    final OutputStream out;
    final FrameReader in;

    RawClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(15_000);
        out = socket.getOutputStream();
        in = new FrameReader(socket.getInputStream(), 8192, 1 << 30, 1 << 30);
    }

    static byte[] startupPacket(String database) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("user", "raw-agent");
        p.put("database", database);
        return MessageCodec.encode(new FrontendMessage.StartupMessage(MessageCodec.PROTOCOL_3_0, p));
    }

    static byte[] passwordPacket(String password) {
        byte[] p = (password + "\0").getBytes(StandardCharsets.UTF_8);
        return MessageCodec.encode(new FrontendMessage.AuthenticationResponse(p));
    }

    /** A typed frame with any body, as no encoder would write it. */
    static byte[] frame(char type, byte[] body) {
        byte[] f = new byte[5 + body.length];
        int len = body.length + 4;
        f[0] = (byte) type;
        f[1] = (byte) (len >>> 24);
        f[2] = (byte) (len >>> 16);
        f[3] = (byte) (len >>> 8);
        f[4] = (byte) len;
        System.arraycopy(body, 0, f, 5, body.length);
        return f;
    }

    void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** The next message, or null at end of stream. */
    BackendMessage read() throws IOException {
        int t = in.next();
        if (t < 0) {
            return null;
        }
        return MessageCodec.decodeBackend(in.type(), in.body());
    }

    /** Reads until ReadyForQuery or an ErrorResponse or end of stream, returning everything read. */
    List<BackendMessage> readUntilReadyOrError() throws IOException {
        List<BackendMessage> got = new ArrayList<>();
        while (true) {
            BackendMessage m = read();
            if (m == null) {
                return got;
            }
            got.add(m);
            if (m instanceof BackendMessage.ReadyForQuery || m instanceof BackendMessage.ErrorResponse) {
                return got;
            }
        }
    }

    /** Logs in with {@code token} and returns once the session is ready. */
    void login(String token) throws IOException {
        send(startupPacket("clinical"));
        BackendMessage m = read();
        if (!(m instanceof BackendMessage.AuthenticationCleartextPassword)) {
            throw new IOException("expected a password request, got " + m);
        }
        send(passwordPacket(token));
        List<BackendMessage> got = readUntilReadyOrError();
        if (!(got.getLast() instanceof BackendMessage.ReadyForQuery)) {
            throw new IOException("login failed: " + got);
        }
    }

    /** True if the server has closed the connection (read returns end of stream). */
    boolean closedByServer() throws IOException {
        try {
            while (true) {
                if (in.next() < 0) {
                    return true;
                }
                in.skipBody();
            }
        } catch (java.net.SocketException e) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
