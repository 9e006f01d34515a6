package io.phigate.mongo.frontend;

import io.phigate.config.ClientTlsConfig;
import io.phigate.mongo.wire.WireMessage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * TLS toward document-store clients, under the PostgreSQL listener's settings ({@code tls}: the same certificate,
 * key and mode, decision 0052). Drivers asked for {@code tls=true} start TLS with their first byte: the protocol has
 * no upgrade request like PostgreSQL's SSLRequest. So a connection's first 16 bytes say which it is, as mongod's
 * {@code allowTLS} mode tells them apart: a TLS record header carrying a ClientHello, or a wire-protocol message
 * header (its length, two ids, and a known op code where a ClientHello has random bytes). Run on the connection's
 * thread, bounded by its socket timeout.
 */
public final class ClientTls {
    /** The bytes read to decide: a whole message header, which every client message has. */
    static final int SNIFFED = 16;
    /** No certificate and cleartext from anywhere: the front door before TLS existed, kept for tests that say so. */
    public static final ClientTls CLEARTEXT = new ClientTls(
            new ClientTlsConfig(ClientTlsConfig.Mode.ALLOW, null, null, true), null);

    private final ClientTlsConfig config;
    private final SSLContext context;

    /** {@code context}: the server context from {@code config}'s certificate, or null when it has none. */
    public ClientTls(ClientTlsConfig config, SSLContext context) {
        this.config = config;
        this.context = context;
    }

    /**
     * A client connection once its transport is settled: the socket and stream to read it through (TLS, or the
     * cleartext stream with the sniffed bytes put back), the TLS description for the records, and why the
     * connection must be refused (cleartext where TLS is required, TLS with no certificate), or null.
     */
    public record Opened(Socket socket, InputStream in, String description, String refusal) {
    }

    /**
     * Settles the transport. Without a certificate nothing is sniffed (a ClientHello then reads as a frame far too
     * large and is refused as one); with one, the first 16 bytes are awaited within the socket's timeout.
     */
    public Opened open(Socket raw) throws IOException {
        if (context == null) {
            return new Opened(raw, raw.getInputStream(), "none", cleartextAllowed(raw) ? null : cleartextRefusal(raw));
        }
        PushbackInputStream in = new PushbackInputStream(raw.getInputStream(), SNIFFED);
        byte[] first = in.readNBytes(SNIFFED);
        in.unread(first);
        if (first.length < SNIFFED || !isClientHello(first)) {
            return new Opened(raw, in, "none", cleartextAllowed(raw) ? null : cleartextRefusal(raw));
        }
        in.skipNBytes(first.length);
        SSLSocket ssl = (SSLSocket) context.getSocketFactory().createSocket(raw, new ByteArrayInputStream(first),
                true);
        ssl.setUseClientMode(false);
        ssl.startHandshake();
        return new Opened(ssl, ssl.getInputStream(), ssl.getSession().getProtocol() + " "
                + ssl.getSession().getCipherSuite(), null);
    }

    /**
     * A TLS handshake record (type 22, version 3.x) holding a ClientHello (type 1), whose bytes 12-15 are not one of
     * the protocol's op codes. A wire message of 790 bytes starts as a TLS record does; its op code tells it apart,
     * which a ClientHello's random bytes match by chance once in 2^31.
     */
    static boolean isClientHello(byte[] b) {
        boolean record = b[0] == 0x16 && b[1] == 0x03 && b[2] >= 0 && b[2] <= 0x04 && b[5] == 0x01;
        int opCode = (b[12] & 0xFF) | (b[13] & 0xFF) << 8 | (b[14] & 0xFF) << 16 | (b[15] & 0xFF) << 24;
        return record && opCode != WireMessage.OP_MSG && opCode != WireMessage.OP_QUERY;
    }

    private static String cleartextRefusal(Socket raw) {
        return "phigate requires TLS for connections from " + hostOf(raw) + ": agent tokens are passwords; connect"
                + " with tls=true";
    }

    private boolean cleartextAllowed(Socket socket) {
        return switch (config.mode()) {
            case DISABLE, ALLOW -> true;
            case REQUIRE -> config.allowLoopbackCleartext() && isLoopback(socket);
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
