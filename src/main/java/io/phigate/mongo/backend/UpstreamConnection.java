package io.phigate.mongo.backend;

import io.phigate.config.DocumentsConfig;
import io.phigate.config.HostPort;
import io.phigate.config.UpstreamTlsConfig;
import io.phigate.mongo.wire.Frame;
import io.phigate.net.ReadDeadline;
import io.phigate.net.TlsContexts;
import io.phigate.mongo.wire.FrameReader;
import io.phigate.mongo.wire.WireCodec;
import io.phigate.mongo.wire.WireException;
import io.phigate.mongo.wire.WireMessage;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;

/**
 * One connection to the upstream document store, opened for one client session (or for the gateway's own probe).
 * The gateway speaks OP_MSG to it and never offers compression. Run by the session's thread; not shared.
 */
public final class UpstreamConnection implements AutoCloseable {
    static final int CONNECT_TIMEOUT_MILLIS = 10_000;
    /** The largest reply read before the server's hello said its own limit (a hello reply is small). */
    private static final int HELLO_LIMIT = 1024 * 1024;

    private final Socket socket;
    private final OutputStream out;
    private final BufferedInputStream in;
    private FrameReader reader;
    private final UpstreamFacts facts;
    private int nextRequestId = 1;

    /** The store refused the gateway's own login, or proved it does not know the password; says which step. */
    public static final class LoginRefused extends IOException {
        LoginRefused(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private UpstreamConnection(Socket socket, DocumentsConfig.Credentials login, ReadDeadline deadline)
            throws IOException {
        this.socket = socket;
        this.out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
        this.in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
        this.reader = new FrameReader(in, HELLO_LIMIT);
        // A server that accepts but never answers must not hold a client's authentication forever (the deadline
        // armed before the connect); commands afterwards may run as long as they run.
        this.facts = UpstreamFacts.of(command(new BsonDocument("isMaster", new BsonInt32(1))
                .append("$db", new BsonString("admin"))));
        if (login != null) {
            // Read per connection, as a PostgreSQL upstream's password is: a rotated file is picked up.
            String password;
            try {
                password = login.password().read();
            } catch (IOException e) {
                throw new LoginRefused("the password of " + login.user() + " cannot be read: " + e.getMessage(), e);
            }
            ScramLogin.run(login, password, this::command);
        }
        deadline.clear();
        // Replies are read up to the server's own limit: it never sends more, and the gateway must take what it sends.
        this.reader = new FrameReader(in, facts.maxMessageSizeBytes());
    }

    /** Connects without TLS and asks the server's hello; throws when either fails or takes more than 10 s. */
    public static UpstreamConnection open(HostPort address) throws IOException {
        return open(address, UpstreamTlsConfig.DISABLED, null);
    }

    /** Without a login of the gateway's own (a hello needs none). */
    public static UpstreamConnection open(HostPort address, UpstreamTlsConfig tls) throws IOException {
        return open(address, tls, null);
    }

    /**
     * Connects, starts TLS as {@code tls} says (the server speaks TLS from the first byte: there is no request to
     * upgrade, as PostgreSQL's SSLRequest), and asks the server's hello; throws when any of it fails or takes more
     * than 10 s. A certificate that does not verify is an {@link IOException} saying so. With {@code login} (null for
     * none) the gateway then logs in with SCRAM-SHA-256, within the same 10 s; a refusal is a {@link LoginRefused}.
     */
    public static UpstreamConnection open(HostPort address, UpstreamTlsConfig tls, DocumentsConfig.Credentials login)
            throws IOException {
        Socket plain = new Socket();
        // A timer, not a timed connect or read: either would leave the socket non-blocking for the session's life,
        // each read a poll more (net.ReadDeadline).
        ReadDeadline deadline = ReadDeadline.arm(plain,
                System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CONNECT_TIMEOUT_MILLIS));
        try {
            plain.setTcpNoDelay(true);
            plain.connect(address.resolve());
            if (tls.mode() == UpstreamTlsConfig.Mode.DISABLE) {
                return new UpstreamConnection(plain, login, deadline);
            }
            Socket secured;
            try {
                secured = TlsContexts.startClient(plain, address.host(), address.port(), tls.caFile(),
                        tls.mode() == UpstreamTlsConfig.Mode.VERIFY_FULL);
            } catch (IOException | GeneralSecurityException e) {
                throw new IOException("TLS to the upstream failed (" + tls.mode().name().toLowerCase(Locale.ROOT)
                        .replace('_', '-') + "): " + e.getMessage(), e);
            }
            return new UpstreamConnection(secured, login, deadline);
        } catch (LoginRefused e) {
            plain.close();
            throw e;
        } catch (IOException e) {
            plain.close();
            throw deadline.timeoutOr(e);
        } catch (RuntimeException e) {
            plain.close();
            throw e;
        }
    }

    /** The TLS protocol and cipher toward the upstream, or {@code none}. */
    public String tlsDescription() {
        return socket instanceof SSLSocket s ? s.getSession().getProtocol() + " " + s.getSession().getCipherSuite()
                : "none";
    }

    public UpstreamFacts facts() {
        return facts;
    }

    /** Sends one whole message as the client sent it, and flushes. */
    public void forward(byte[] frame) throws IOException {
        out.write(frame);
        out.flush();
    }

    /** The next reply, whole. The end of the stream is an error here: a reply was expected. */
    public Frame next() throws IOException {
        Frame f = reader.next();
        if (f == null) {
            throw new EOFException("the upstream closed the connection");
        }
        return f;
    }

    /**
     * Kills cursor {@code id} of {@code database.collection} with a command of the gateway's own (a role's row limit
     * ended it for the client); true when the store says it was killed. Sent outside any session: the store checks
     * only that the same user opened it, and every session reaches it as the gateway's user.
     */
    public boolean killCursor(String database, String collection, long id) throws IOException {
        BsonDocument reply = command(new BsonDocument("killCursors", new org.bson.BsonString(collection))
                .append("cursors", new org.bson.BsonArray(java.util.List.of(new org.bson.BsonInt64(id))))
                .append("comment", new org.bson.BsonString("phigate: a cursor a role's row_limit ended"))
                .append("$db", new org.bson.BsonString(database)));
        return reply.isNumber("ok") && reply.getNumber("ok").intValue() == 1;
    }

    /**
     * The indexes of {@code database.collection} as listIndexes gives them, asked on the gateway's own behalf; empty
     * when the collection does not exist; null when the store answered otherwise or left more than one batch.
     */
    public java.util.List<BsonDocument> listIndexes(String database, String collection) throws IOException {
        BsonDocument reply = command(new BsonDocument("listIndexes", new org.bson.BsonString(collection))
                .append("cursor", new BsonDocument("batchSize", new org.bson.BsonInt32(1000)))
                // Says in the store's logs and currentOp whose command this is: the gateway's, not an agent's.
                .append("comment", new org.bson.BsonString("phigate: unique keys a masked session's write may answer"))
                .append("$db", new org.bson.BsonString(database)));
        if (reply.get("code") instanceof org.bson.BsonNumber code && code.intValue() == 26) {
            return java.util.List.of(); // NamespaceNotFound: no collection, no index
        }
        if (!(reply.get("cursor") instanceof BsonDocument cursor) || !reply.isNumber("ok")
                || reply.getNumber("ok").intValue() != 1 || !(cursor.get("firstBatch") instanceof org.bson.BsonArray batch)
                || cursor.isNumber("id") && cursor.getNumber("id").longValue() != 0) {
            return null;
        }
        java.util.List<BsonDocument> indexes = new java.util.ArrayList<>();
        for (org.bson.BsonValue v : batch) {
            if (!v.isDocument()) {
                return null;
            }
            indexes.add(v.asDocument());
        }
        return indexes;
    }

    /** A command of the gateway's own, answered in one OP_MSG reply whose body is returned. */
    private BsonDocument command(BsonDocument body) throws IOException {
        int id = nextRequestId++;
        forward(WireCodec.reply(id, 0, body));
        Frame f = next();
        if (f.header().responseTo() != id) {
            throw new IOException("the upstream answered request " + f.header().responseTo() + ", not " + id);
        }
        if (!(WireCodec.decode(f) instanceof WireMessage.OpMsg reply)) {
            throw new WireException(io.phigate.mongo.wire.MongoError.FAILED_TO_PARSE,
                    "the upstream answered with op code " + f.header().opCode(), f.header().requestId(), true);
        }
        return reply.body();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
