package io.phigate.pg.frontend;

import io.phigate.config.ClientTlsConfig;
import io.phigate.credentials.CredentialExchange;
import io.phigate.identity.Identity;
import io.phigate.identity.TokenRejectedException;
import io.phigate.identity.TokenVerifier;
import io.phigate.net.DeadlineInputStream;
import io.phigate.net.ReadDeadline;
import io.phigate.net.GrowingOutputStream;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.ErrorCodes;
import io.phigate.pg.message.FrameReader;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.FrontendMessage.CancelRequest;
import io.phigate.pg.message.FrontendMessage.StartupMessage;
import io.phigate.pg.message.MessageCodec;
import io.phigate.pg.message.ProtocolException;
import io.phigate.pg.message.UnreadableStartupPacket;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * The client side of connection startup: SSL and GSSAPI-encryption negotiation, the startup packet, and the
 * password exchange in which an agent presents its JWT. The whole handshake is bounded by one deadline, so a
 * client that sends nothing, or a byte at a time, is cut off at {@code limits.startup_timeout}.
 *
 * <p>Runs on the connection's virtual thread.
 */
public final class ClientHandshake {
    /**
     * Both directions start at 4 KiB and grow to 16 KiB while a read fills the buffer or a result is written
     * through it: an idle session holds 8 KiB here (2,000 idle sessions decide the gateway's memory).
     */
    private static final int BUFFER = 16 * 1024;
    private static final int READ_BUFFER = 4 * 1024;
    private static final int WRITE_BUFFER = 4 * 1024;
    /** Tokens are a few KiB; 64 KiB leaves room for large claim sets without letting strangers fill memory. */
    static final int MAX_PASSWORD_MESSAGE = 64 * 1024;

    /** The client's streams after negotiation, which may have switched to TLS. */
    public static final class Channel {
        private Socket socket;
        private DeadlineInputStream deadlineIn;
        private FrameReader reader;
        private OutputStream out;
        private final int maxFrame;
        /** On the accepted socket, under TLS too: shutting its input ends a read of either. */
        private final ReadDeadline deadline;

        Channel(Socket socket, long deadlineNanos, int maxFrame) throws IOException {
            this.maxFrame = maxFrame;
            this.deadline = ReadDeadline.arm(socket, deadlineNanos);
            attach(socket);
        }

        private void attach(Socket s) throws IOException {
            this.socket = s;
            this.deadlineIn = new DeadlineInputStream(s.getInputStream(), deadline);
            this.reader = new FrameReader(deadlineIn, READ_BUFFER, BUFFER, maxFrame, maxFrame);
            this.out = new GrowingOutputStream(s.getOutputStream(), WRITE_BUFFER, BUFFER);
        }

        public Socket socket() {
            return socket;
        }

        public FrameReader reader() {
            return reader;
        }

        public OutputStream out() {
            return out;
        }

        public boolean tls() {
            return socket instanceof SSLSocket;
        }

        public String tlsDescription() {
            return socket instanceof SSLSocket s ? s.getSession().getProtocol() + " " + s.getSession().getCipherSuite() : "none";
        }

        /** The session has started: reads are no longer bounded by the startup deadline. */
        public void endHandshake() throws IOException {
            deadlineIn.clearDeadline();
        }

        public void send(BackendMessage m) throws IOException {
            out.write(MessageCodec.encode(m));
        }

        public void sendAndFlush(BackendMessage m) throws IOException {
            send(m);
            out.flush();
        }
    }

    /** What the first packets asked for. */
    public sealed interface Opening {
    }

    /** A cancel request; the connection carries nothing else. */
    public record Cancel(CancelRequest request) implements Opening {
    }

    /** A startup message, after any TLS negotiation. */
    public record Startup(StartupMessage message) implements Opening {
        public String user() {
            return message.parameters().getOrDefault("user", "");
        }

        /** The upstream name: the startup database, which PostgreSQL defaults to the user name. */
        public String database() {
            String db = message.parameters().get("database");
            return db == null || db.isEmpty() ? user() : db;
        }
    }

    /**
     * Who authenticated, and how. {@code keyId} is the {@code kid} of the token (for revocation; may be null);
     * {@code justification} is the one bound to a one-time credential, else null.
     */
    public record Authenticated(Identity identity, String keyId, String justification, boolean exchanged) {
    }

    private final ClientTlsConfig tls;
    private final SSLContext tlsContext;
    private final TokenVerifier verifier;
    private final CredentialExchange exchange;

    public ClientHandshake(ClientTlsConfig tls, SSLContext tlsContext, TokenVerifier verifier) {
        this(tls, tlsContext, verifier, null);
    }

    /** {@code exchange} (may be null) redeems one-time credentials sent instead of a token. */
    public ClientHandshake(ClientTlsConfig tls, SSLContext tlsContext, TokenVerifier verifier,
                           CredentialExchange exchange) {
        this.tls = tls;
        this.tlsContext = tlsContext;
        this.verifier = verifier;
        this.exchange = exchange;
    }

    public Channel open(Socket socket, long deadlineNanos, int maxFrame) throws IOException {
        return new Channel(socket, deadlineNanos, maxFrame);
    }

    /** As PostgreSQL: a cancel request of the wrong size is dropped without an answer, like an unreadable packet. */
    private static FrontendMessage decodeStartup(byte[] packet) throws ProtocolException, UnreadableStartupPacket {
        try {
            return MessageCodec.decodeStartup(packet);
        } catch (ProtocolException e) {
            boolean cancel = packet.length >= 4 && ((packet[0] & 0xFF) << 24 | (packet[1] & 0xFF) << 16
                    | (packet[2] & 0xFF) << 8 | packet[3] & 0xFF) == MessageCodec.CANCEL_REQUEST_CODE;
            if (cancel) {
                throw new UnreadableStartupPacket("invalid length of query cancel packet");
            }
            throw e;
        }
    }

    /** Negotiates encryption and reads the startup message or cancel request. */
    public Opening negotiate(Channel ch) throws IOException, HandshakeRefused {
        boolean gssRefused = false;
        while (true) {
            FrontendMessage m = decodeStartup(ch.reader.readStartupPacket());
            switch (m) {
                case FrontendMessage.SslRequest r -> {
                    if (ch.tls()) {
                        throw new ProtocolException("SSLRequest on a connection that already uses TLS");
                    }
                    if (ch.reader.hasBufferedInput()) {
                        // Bytes sent before the TLS handshake would be trusted as if encrypted (CVE-2021-23214).
                        throw new ProtocolException("data received after SSLRequest before the TLS handshake");
                    }
                    if (tlsContext == null) {
                        ch.out.write('N');
                        ch.out.flush();
                    } else {
                        ch.out.write('S');
                        ch.out.flush();
                        Socket raw = ch.socket;
                        SSLSocket ssl = (SSLSocket) tlsContext.getSocketFactory().createSocket(raw,
                                raw.getInetAddress().getHostAddress(), raw.getPort(), true);
                        ssl.setUseClientMode(false);
                        // The TLS handshake is bounded by the same deadline as the rest of startup.
                        try {
                            ssl.startHandshake();
                        } catch (IOException e) {
                            throw ch.deadline.timeoutOr(e);
                        }
                        ch.attach(ssl);
                    }
                }
                case FrontendMessage.GssEncRequest r -> {
                    if (gssRefused || ch.reader.hasBufferedInput()) {
                        throw new ProtocolException("unexpected data after GSSENCRequest");
                    }
                    gssRefused = true;
                    ch.out.write('N');
                    ch.out.flush();
                }
                case CancelRequest c -> {
                    return new Cancel(c);
                }
                case StartupMessage s -> {
                    return new Startup(s);
                }
                default -> throw new ProtocolException("unexpected startup packet");
            }
        }
    }

    /** Applies the TLS policy and protocol-version rules to a startup message. */
    public void checkStartup(Channel ch, Startup startup) throws IOException, HandshakeRefused {
        if (!ch.tls() && !cleartextAllowed(ch.socket)) {
            throw new HandshakeRefused(ErrorCodes.INVALID_AUTHORIZATION,
                    "phigate requires TLS for connections from " + hostOf(ch.socket)
                            + ": agent tokens are passwords; connect with sslmode=require", startup.database());
        }
        if (startup.message().parameters().containsKey("replication")
                && !"false".equalsIgnoreCase(startup.message().parameters().get("replication"))
                && !"0".equals(startup.message().parameters().get("replication"))) {
            throw new HandshakeRefused(ErrorCodes.FEATURE_NOT_SUPPORTED,
                    "replication connections are not supported through phigate", startup.database());
        }
        List<String> unknownOptions = new ArrayList<>();
        for (String name : startup.message().parameters().keySet()) {
            if (name.startsWith("_pq_.")) {
                unknownOptions.add(name);
            }
        }
        if (startup.message().minorVersion() > 0 || !unknownOptions.isEmpty()) {
            ch.send(new BackendMessage.NegotiateProtocolVersion(0, unknownOptions));
        }
    }

    /**
     * Asks for the password and verifies it as a token, or, when the user name is an exchanged one, redeems it as
     * that one-time credential (never falling back to reading it as a token).
     */
    public Authenticated authenticate(Channel ch, Startup startup) throws IOException, HandshakeRefused {
        ch.sendAndFlush(BackendMessage.AuthenticationCleartextPassword.INSTANCE);
        int type = ch.reader.next();
        if (type < 0) {
            throw new java.io.EOFException("client closed the connection during authentication");
        }
        if (type != 'p') {
            throw new ProtocolException("expected a password message, got type '" + (char) type + "'");
        }
        if (ch.reader.bodyLength() > MAX_PASSWORD_MESSAGE) {
            // Checked before reading: an unauthenticated client must not make the gateway hold max_frame_bytes.
            throw new ProtocolException("password message of " + ch.reader.bodyLength() + " bytes exceeds the "
                    + MAX_PASSWORD_MESSAGE + " bytes a token may take");
        }
        byte[] body = ch.reader.body();
        int end = body.length;
        while (end > 0 && body[end - 1] == 0) {
            end--;
        }
        String token = new String(body, 0, end, StandardCharsets.UTF_8).strip();
        if (token.isEmpty()) {
            throw new HandshakeRefused(ErrorCodes.INVALID_PASSWORD,
                    "token rejected: no token given as the password", startup.database());
        }
        if (exchange != null && CredentialExchange.isExchangeUser(startup.user())) {
            try {
                CredentialExchange.Redeemed r = exchange.redeem(startup.user(), token, startup.database());
                return new Authenticated(r.identity(), r.keyId(), r.justification(), true);
            } catch (CredentialExchange.Refused e) {
                throw new HandshakeRefused(ErrorCodes.INVALID_PASSWORD, e.getMessage(), startup.database());
            }
        }
        try {
            return new Authenticated(verifier.verify(token), TokenVerifier.keyId(token), null, false);
        } catch (TokenRejectedException e) {
            throw new HandshakeRefused(ErrorCodes.INVALID_PASSWORD, "token rejected: " + e.getMessage(),
                    startup.database(), token);
        }
    }

    private boolean cleartextAllowed(Socket socket) {
        return switch (tls.mode()) {
            case DISABLE, ALLOW -> true;
            case REQUIRE -> tls.allowLoopbackCleartext() && isLoopback(socket);
        };
    }

    private static boolean isLoopback(Socket socket) {
        InetAddress a = socket.getInetAddress();
        return a != null && a.isLoopbackAddress();
    }

    private static String hostOf(Socket socket) {
        return socket.getRemoteSocketAddress() instanceof InetSocketAddress isa
                ? isa.getAddress().getHostAddress() : String.valueOf(socket.getRemoteSocketAddress());
    }
}
