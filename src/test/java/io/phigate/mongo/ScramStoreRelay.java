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
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import org.bson.BsonBinary;
import org.bson.BsonBoolean;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonString;

/**
 * A document store that checks SCRAM-SHA-256 as mongod does, in front of mongo-java-server (which has no users): it
 * answers {@code saslStart}/{@code saslContinue} itself, deriving the keys from {@code password} with javax.crypto
 * alone (RFC 5802 section 3, not the gateway's client library), refuses any other command but a hello until the
 * connection has logged in, and relays the rest. Each connection's log says who logged in and what it ran.
 */
final class ScramStoreRelay implements AutoCloseable {
    /** How the relay behaves as a server. */
    enum Mode { HONEST, IGNORES_SKIP_EMPTY_EXCHANGE, FORGES_SIGNATURE }

    /** One upstream connection: the users it logged in as (user@source), and the commands it ran afterwards. */
    record Conversation(List<String> logins, List<String> commands) {
    }

    private static final int ITERATIONS = 4096;
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final String user;
    private final String password;
    private final Mode mode;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    final List<Conversation> connections = new CopyOnWriteArrayList<>();

    ScramStoreRelay(InetSocketAddress target, String user, String password, Mode mode) throws IOException {
        this.target = target;
        this.user = user;
        this.password = password;
        this.mode = mode;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("scram-relay-accept").start(this::acceptLoop);
    }

    int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket in = server.accept();
                Socket up = new Socket(target.getAddress(), target.getPort());
                sockets.add(in);
                sockets.add(up);
                Conversation log = new Conversation(new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>());
                connections.add(log);
                Thread.ofVirtual().start(() -> requests(in, up, log));
                Thread.ofVirtual().start(() -> copy(up, in));
            } catch (IOException e) {
                return;
            }
        }
    }

    /** The server's side of one connection's exchange. */
    private final class Exchange {
        String source;
        String clientFirstBare;
        String serverFirst;
        byte[] salt;
        boolean awaitingEmpty;
        boolean loggedIn;
    }

    private void requests(Socket from, Socket to, Conversation log) {
        Exchange x = new Exchange();
        try (from; to) {
            FrameReader reader = new FrameReader(from.getInputStream(), 64 * 1024 * 1024);
            OutputStream client = from.getOutputStream();
            OutputStream store = to.getOutputStream();
            Frame f;
            while ((f = reader.next()) != null) {
                if (WireCodec.decode(f) instanceof WireMessage.OpMsg msg) {
                    String name = msg.body().getFirstKey();
                    BsonDocument answer = switch (name) {
                        case "saslStart" -> start(x, msg.body());
                        case "saslContinue" -> proceed(x, msg.body(), log);
                        case "isMaster", "hello" -> null;
                        default -> x.loggedIn ? null : failure(13, "Unauthorized",
                                "command " + name + " requires authentication");
                    };
                    if (answer != null) {
                        synchronized (from) {
                            client.write(WireCodec.reply(1000 + f.header().requestId(), f.header().requestId(),
                                    answer));
                            client.flush();
                        }
                        continue;
                    }
                    if (x.loggedIn) {
                        log.commands().add(name);
                    }
                }
                store.write(f.bytes());
                store.flush();
            }
        } catch (IOException | GeneralSecurityException e) {
            // a side closed
        }
    }

    private BsonDocument start(Exchange x, BsonDocument body) {
        String first = new String(body.getBinary("payload").getData(), StandardCharsets.UTF_8);
        if (!body.getString("mechanism").getValue().equals("SCRAM-SHA-256") || !first.startsWith("n,,")) {
            return failure(2, "BadValue", "unsupported mechanism or channel binding");
        }
        x.source = body.getString("$db").getValue();
        x.clientFirstBare = first.substring(3);
        String[] parts = x.clientFirstBare.split(",");
        if (!parts[0].equals("n=" + user)) {
            return failure(11, "UserNotFound", "Could not find user \"" + parts[0].substring(2) + "\"");
        }
        x.salt = random(16);
        x.serverFirst = "r=" + parts[1].substring(2) + Base64.getEncoder().encodeToString(random(18)) + ",s="
                + Base64.getEncoder().encodeToString(x.salt) + ",i=" + ITERATIONS;
        return ok(false, x.serverFirst);
    }

    private BsonDocument proceed(Exchange x, BsonDocument body, Conversation log) throws GeneralSecurityException {
        String message = new String(body.getBinary("payload").getData(), StandardCharsets.UTF_8);
        if (x.awaitingEmpty) {
            x.awaitingEmpty = false;
            return message.isEmpty() ? ok(true, "") : failure(17, "ProtocolError", "expected an empty message");
        }
        if (x.serverFirst == null || body.getInt32("conversationId").getValue() != 1) {
            return failure(17, "ProtocolError", "no conversation");
        }
        int at = message.indexOf(",p=");
        String withoutProof = message.substring(0, at);
        byte[] proof = Base64.getDecoder().decode(message.substring(at + 3));
        String authMessage = x.clientFirstBare + "," + x.serverFirst + "," + withoutProof;
        byte[] salted = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                .generateSecret(new PBEKeySpec(password.toCharArray(), x.salt, ITERATIONS, 256)).getEncoded();
        byte[] storedKey = MessageDigest.getInstance("SHA-256").digest(hmac(salted, "Client Key"));
        byte[] signature = hmac(storedKey, authMessage);
        byte[] clientKey = new byte[proof.length];
        for (int i = 0; i < proof.length; i++) {
            clientKey[i] = (byte) (proof[i] ^ signature[i % signature.length]);
        }
        if (!withoutProof.startsWith("c=biws,r=" + x.serverFirst.substring(2, x.serverFirst.indexOf(",s=")))
                || !MessageDigest.isEqual(MessageDigest.getInstance("SHA-256").digest(clientKey), storedKey)) {
            return failure(18, "AuthenticationFailed", "Authentication failed.");
        }
        byte[] serverSignature = mode == Mode.FORGES_SIGNATURE ? random(32)
                : hmac(hmac(salted, "Server Key"), authMessage);
        x.loggedIn = true;
        log.logins().add(user + "@" + x.source);
        x.awaitingEmpty = mode == Mode.IGNORES_SKIP_EMPTY_EXCHANGE;
        return ok(!x.awaitingEmpty, "v=" + Base64.getEncoder().encodeToString(serverSignature));
    }

    private static byte[] hmac(byte[] key, String text) throws GeneralSecurityException {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(text.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }

    private static BsonDocument ok(boolean done, String payload) {
        return new BsonDocument("conversationId", new BsonInt32(1)).append("done", BsonBoolean.valueOf(done))
                .append("payload", new BsonBinary(payload.getBytes(StandardCharsets.UTF_8)))
                .append("ok", new BsonDouble(1));
    }

    private static BsonDocument failure(int code, String codeName, String message) {
        return new BsonDocument("ok", new BsonDouble(0)).append("errmsg", new BsonString(message))
                .append("code", new BsonInt32(code)).append("codeName", new BsonString(codeName));
    }

    /** The store's replies go back as they come; a refusal the relay wrote is never interleaved with one. */
    private static void copy(Socket from, Socket to) {
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                synchronized (to) {
                    out.write(buf, 0, n);
                    out.flush();
                }
            }
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

    /** Connections that ran a command past the hello: the sessions' own. */
    List<Conversation> sessions() {
        List<Conversation> out = new ArrayList<>();
        for (Conversation c : connections) {
            if (!c.commands().isEmpty() || !c.logins().isEmpty()) {
                out.add(c);
            }
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
