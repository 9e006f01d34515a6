package io.phigate.pg.backend;

import io.phigate.config.UpstreamConfig;
import io.phigate.credentials.ScramSha256;
import io.phigate.config.UpstreamTlsConfig;
import io.phigate.net.GrowingOutputStream;
import io.phigate.net.ReadDeadline;
import io.phigate.net.TlsContexts;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.BackendMessage.*;
import io.phigate.pg.message.ErrorCodes;
import io.phigate.pg.message.FrameReader;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;

/**
 * One session on an upstream PostgreSQL, opened with the credentials the gateway holds. Performs TLS
 * negotiation and whichever password authentication the server asks for (SCRAM-SHA-256, MD5, cleartext), then
 * collects the server's ParameterStatus and BackendKeyData up to the first ReadyForQuery.
 */
public final class UpstreamConnection implements AutoCloseable {
    private static final int CONNECT_TIMEOUT_MILLIS = 10_000;
    /**
     * Reads from the server start with 8 KiB and grow to 64 KiB while a result streams in; writes to it (statements,
     * COPY FROM data, which bypasses a buffer it does not fit) start at 2 KiB and grow to 8 KiB. Per idle session
     * that is 10 KiB instead of the 128 KiB two fixed 64 KiB buffers held (bench/idle.sh).
     */
    private static final int READ_BUFFER = 8 * 1024;
    private static final int MAX_READ_BUFFER = 64 * 1024;
    private static final int WRITE_BUFFER = 2 * 1024;
    private static final int MAX_WRITE_BUFFER = 8 * 1024;

    /** Where a login's password comes from; read once per connection, never kept. */
    @FunctionalInterface
    public interface Password {
        String read() throws IOException;
    }

    private final UpstreamConfig config;
    private final String user;
    private final Password password;
    private final Socket socket;
    private final FrameReader reader;
    private final OutputStream out;
    private final List<ParameterStatus> parameters = new ArrayList<>();
    private final List<NoticeResponse> startupNotices = new ArrayList<>();
    private BackendKeyData key;
    private byte transactionStatus = 'I';

    private UpstreamConnection(UpstreamConfig config, String user, Password password, Socket socket, int decodeLimit)
            throws IOException {
        this.config = config;
        this.user = user;
        this.password = password;
        this.socket = socket;
        // Rows and COPY data are streamed, so the frame limit upstream is PostgreSQL's own (1 GiB); only frames
        // the gateway decodes are held to the configured limit.
        this.reader = new FrameReader(socket.getInputStream(), READ_BUFFER, MAX_READ_BUFFER, Integer.MAX_VALUE - 8,
                decodeLimit);
        this.out = new GrowingOutputStream(socket.getOutputStream(), WRITE_BUFFER, MAX_WRITE_BUFFER);
    }

    /**
     * Opens and authenticates a session. {@code clientParameters} are the client's startup parameters to pass on
     * (application_name, client_encoding, DateStyle, ...); user and database come from the upstream's config.
     */
    public static UpstreamConnection open(UpstreamConfig config, Map<String, String> clientParameters,
                                          int decodeLimit) throws UpstreamException {
        return open(config, config.credentials().user(), config.credentials().password()::read, clientParameters,
                decodeLimit);
    }

    /** Opens a session as {@code user} rather than the configured user (an ephemeral session user). */
    public static UpstreamConnection open(UpstreamConfig config, String user, Password password,
                                          Map<String, String> clientParameters, int decodeLimit)
            throws UpstreamException {
        return open(config, user, password, clientParameters, decodeLimit, false);
    }

    /**
     * As {@link #open(UpstreamConfig, String, Password, Map, int)}; {@code channelSocket}: on a socket backed by a
     * {@link java.nio.channels.SocketChannel}, so that the session can move to an event loop ({@link #channel}).
     */
    public static UpstreamConnection open(UpstreamConfig config, String user, Password password,
                                          Map<String, String> clientParameters, int decodeLimit,
                                          boolean channelSocket) throws UpstreamException {
        Socket socket = null;
        ReadDeadline deadline = null;
        try {
            Socket plain = channelSocket ? java.nio.channels.SocketChannel.open().socket() : new Socket();
            socket = plain;
            // A timer, not a socket timeout: a socket once read with a timeout stays non-blocking, and every read
            // of the session after would cost a poll more (net.ReadDeadline).
            deadline = ReadDeadline.arm(plain, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CONNECT_TIMEOUT_MILLIS));
            socket = connect(config, plain);
            UpstreamConnection c = new UpstreamConnection(config, user, password, socket, decodeLimit);
            c.startup(clientParameters);
            deadline.clear();
            return c;
        } catch (UpstreamException e) {
            closeQuietly(socket);
            throw e;
        } catch (IOException | GeneralSecurityException e) {
            closeQuietly(socket);
            Exception why = e instanceof IOException io && deadline != null ? deadline.timeoutOr(io) : e;
            String message = why instanceof SocketTimeoutException
                    ? "no answer within " + CONNECT_TIMEOUT_MILLIS / 1000 + " s" : why.getMessage();
            throw new UpstreamException(ErrorCodes.CONNECTION_FAILURE,
                    "phigate could not connect to upstream '" + config.name() + "': " + message, why);
        }
    }

    /** Opens a side connection and asks the server to cancel the statement running for {@code key}. */
    public static void cancel(UpstreamConfig config, BackendKeyData key) throws IOException {
        Socket plain = new Socket();
        ReadDeadline.arm(plain, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CONNECT_TIMEOUT_MILLIS));
        try (Socket socket = connect(config, plain)) {
            OutputStream o = socket.getOutputStream();
            o.write(MessageCodec.encode(new FrontendMessage.CancelRequest(key.processId(), key.secretKey())));
            o.flush();
            // The server closes the connection without answering; wait for that so the cancel is processed.
            socket.setSoTimeout(5_000);
            socket.getInputStream().read();
        } catch (GeneralSecurityException e) {
            throw new IOException("TLS to upstream failed: " + e.getMessage(), e);
        }
    }

    /**
     * Connects {@code plain} and starts TLS as the config says; the caller bounds the reads (a deadline for a
     * session's connection, a socket timeout for a side connection).
     */
    private static Socket connect(UpstreamConfig config, Socket plain) throws IOException, GeneralSecurityException {
        try {
            plain.setTcpNoDelay(true);
            plain.setKeepAlive(true);
            // Untimed: the caller's deadline closes a socket still connecting (a timed connect would leave the
            // socket non-blocking for the session's life, net.ReadDeadline).
            plain.connect(config.address().resolve());
            UpstreamTlsConfig tls = config.tls() == null ? UpstreamTlsConfig.DISABLED : config.tls();
            if (tls.mode() == UpstreamTlsConfig.Mode.DISABLE) {
                return plain;
            }
            OutputStream o = plain.getOutputStream();
            o.write(MessageCodec.encode(FrontendMessage.SslRequest.INSTANCE));
            o.flush();
            int answer = plain.getInputStream().read();
            if (answer != 'S') {
                throw new IOException("upstream does not accept TLS but upstreams." + config.name()
                        + ".tls.mode is " + tls.mode().name().toLowerCase().replace('_', '-'));
            }
            // verify-full without a CA file trusts the JDK's CAs; require without one only encrypts, as libpq does.
            return TlsContexts.startClient(plain, config.address().host(), config.address().port(), tls.caFile(),
                    tls.mode() == UpstreamTlsConfig.Mode.VERIFY_FULL);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            closeQuietly(plain);
            throw e;
        }
    }

    private void startup(Map<String, String> clientParameters) throws IOException, GeneralSecurityException,
            UpstreamException {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", user);
        params.put("database", config.database());
        params.putAll(clientParameters);
        send(new FrontendMessage.StartupMessage(MessageCodec.PROTOCOL_3_0, params));
        ScramSha256 scram = null;
        boolean scramVerified = false;
        while (true) {
            BackendMessage m = read();
            switch (m) {
                case AuthenticationOk ok -> {
                    // A server that began SCRAM must prove it knows the password before we trust it.
                    if (scram != null && !scramVerified) {
                        throw refused("accepted the login without completing SCRAM");
                    }
                }
                case AuthenticationCleartextPassword p -> send(passwordMessage(password()));
                case AuthenticationMD5Password p -> send(passwordMessage(md5(password(), user, p.salt())));
                case AuthenticationSASL sasl -> {
                    if (!sasl.mechanisms().contains("SCRAM-SHA-256")) {
                        throw refused("offers only SASL mechanisms " + sasl.mechanisms());
                    }
                    scram = ScramSha256.postgres(password());
                    byte[] first = scram.clientFirstMessage().getBytes(StandardCharsets.UTF_8);
                    byte[] mech = "SCRAM-SHA-256".getBytes(StandardCharsets.US_ASCII);
                    byte[] body = new byte[mech.length + 1 + 4 + first.length];
                    System.arraycopy(mech, 0, body, 0, mech.length);
                    int at = mech.length + 1;
                    body[at] = (byte) (first.length >>> 24);
                    body[at + 1] = (byte) (first.length >>> 16);
                    body[at + 2] = (byte) (first.length >>> 8);
                    body[at + 3] = (byte) first.length;
                    System.arraycopy(first, 0, body, at + 4, first.length);
                    send(new FrontendMessage.AuthenticationResponse(body));
                }
                case AuthenticationSASLContinue c -> {
                    if (scram == null) {
                        throw refused("sent SASLContinue without SASL");
                    }
                    String fin = scram.clientFinalMessage(new String(c.data(), StandardCharsets.UTF_8));
                    send(new FrontendMessage.AuthenticationResponse(fin.getBytes(StandardCharsets.UTF_8)));
                }
                case AuthenticationSASLFinal f -> {
                    if (scram == null) {
                        throw refused("sent SASLFinal without SASL");
                    }
                    scram.verifyServerFinal(new String(f.data(), StandardCharsets.UTF_8));
                    scramVerified = true;
                }
                case AuthenticationOther other -> throw refused("asks for unsupported authentication method " + other.code());
                case ParameterStatus s -> parameters.add(s);
                case BackendKeyData k -> key = k;
                case NoticeResponse n -> startupNotices.add(n);
                case NegotiateProtocolVersion v -> {
                    // We asked for 3.0 with no options; nothing to downgrade.
                }
                case ErrorResponse e -> throw new UpstreamException(ErrorCodes.CONNECTION_FAILURE,
                        "phigate could not open a session on upstream '" + config.name() + "': " + e.message()
                                + " (SQLSTATE " + e.sqlState() + ")", null);
                case ReadyForQuery r -> {
                    transactionStatus = r.status();
                    return;
                }
                default -> throw refused("sent unexpected " + m.getClass().getSimpleName() + " during startup");
            }
        }
    }

    private UpstreamException refused(String what) {
        return new UpstreamException(ErrorCodes.CONNECTION_FAILURE,
                "phigate could not open a session on upstream '" + config.name() + "': the server " + what, null);
    }

    private String password() throws IOException {
        return password.read();
    }

    private static FrontendMessage passwordMessage(String password) {
        byte[] p = password.getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[p.length + 1];
        System.arraycopy(p, 0, body, 0, p.length);
        return new FrontendMessage.AuthenticationResponse(body);
    }

    static String md5(String password, String user, byte[] salt) throws GeneralSecurityException {
        MessageDigest md = MessageDigest.getInstance("MD5");
        HexFormat hex = HexFormat.of();
        String inner = hex.formatHex(md.digest((password + user).getBytes(StandardCharsets.UTF_8)));
        md.update(inner.getBytes(StandardCharsets.US_ASCII));
        md.update(salt);
        return "md5" + hex.formatHex(md.digest());
    }

    private BackendMessage read() throws IOException {
        if (reader.next() < 0) {
            throw new IOException("upstream closed the connection during startup");
        }
        return MessageCodec.decodeBackend(reader.type(), reader.body());
    }

    private void send(FrontendMessage m) throws IOException {
        out.write(MessageCodec.encode(m));
        out.flush();
    }

    /** The connection's channel, for an event loop; null under TLS or on a socket opened without one. */
    public java.nio.channels.SocketChannel channel() {
        return socket instanceof SSLSocket ? null : socket.getChannel();
    }

    public UpstreamConfig config() {
        return config;
    }

    public FrameReader reader() {
        return reader;
    }

    /** Buffered; the caller flushes. Only the session's client-reader thread writes here. */
    public OutputStream out() {
        return out;
    }

    public List<ParameterStatus> parameters() {
        return parameters;
    }

    public List<NoticeResponse> startupNotices() {
        return startupNotices;
    }

    /** Null if the server sent none (it always does in practice). */
    public BackendKeyData key() {
        return key;
    }

    public byte transactionStatus() {
        return transactionStatus;
    }

    public String tlsDescription() {
        return socket instanceof SSLSocket s ? s.getSession().getProtocol() + " " + s.getSession().getCipherSuite() : "none";
    }

    /** Sends Terminate, then closes. Safe to call more than once and from any thread. */
    @Override
    public void close() {
        try {
            synchronized (out) {
                out.write(MessageCodec.encode(FrontendMessage.Terminate.INSTANCE));
                out.flush();
            }
        } catch (IOException | RuntimeException ignored) {
            // already gone (an event-loop session's channel, non-blocking, refuses a stream's write)
        }
        closeQuietly(socket);
    }

    /**
     * Bounds each read from the server from now on (zero: none, as for sessions, whose statements may run as long
     * as the server lets them); a read past it throws SocketTimeoutException.
     */
    public void readTimeout(java.time.Duration timeout) throws IOException {
        socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
    }

    /** Closes the socket at once, unblocking any reader. */
    public void abort() {
        closeQuietly(socket);
    }

    private static void closeQuietly(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}
