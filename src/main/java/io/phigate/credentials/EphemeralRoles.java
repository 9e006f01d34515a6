package io.phigate.credentials;

import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ScramMechanism;
import com.ongres.scram.common.StringPreparation;
import io.phigate.config.CredentialsConfig;
import io.phigate.config.UpstreamConfig;
import io.phigate.pg.backend.UpstreamConnection;
import io.phigate.pg.backend.UpstreamException;
import io.phigate.pg.message.ErrorCodes;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Just-in-time database users for upstreams in {@code ephemeral} credential mode. For each session the gateway,
 * logged in with the administrative credential only it holds, creates a login role
 * {@code phigate_e_<12 hex of the session id>} with a random password, {@code VALID UNTIL} the session's end,
 * {@code CONNECTION LIMIT 1}, no attributes beyond LOGIN and INHERIT, and membership of one group role; the
 * session then logs in as it. When the session ends the role's backends are terminated and the role dropped.
 *
 * <p>Each role carries a comment naming the gateway replica and process instance that made it. The
 * {@link RoleJanitor} drops roles left by an earlier instance of the same replica (a crash or kill -9) and any
 * role, of any replica, past its VALID UNTIL, never a role of a session live in this process.
 *
 * <p>The password is sent to the server only as a SCRAM-SHA-256 verifier, so it appears in no server log, and is
 * handed to the session's connection in memory.
 *
 * <p>Called from session threads (create, drop) and the janitor; thread-safe.
 */
public final class EphemeralRoles {
    private static final Logger log = LoggerFactory.getLogger(EphemeralRoles.class);
    /** Role names made here start with this; the janitor also requires the comment marker. */
    public static final String PREFIX = "phigate_e_";
    static final String MARKER = "phigate ephemeral session user";
    private static final int SCRAM_ITERATIONS = 4096;
    private static final SecureRandom SALT_RANDOM = new SecureRandom();
    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss'+00'").withZone(ZoneOffset.UTC);

    private final String replica;
    private final String instance;
    private final int decodeLimit;
    private final SecureRandom random = new SecureRandom();
    /** Roles of sessions live in this process, by role name: the janitor never touches them. */
    private final Set<String> live = ConcurrentHashMap.newKeySet();

    /** @param replica the audit replica name: which gateway a role belongs to when several share a database */
    public EphemeralRoles(String replica, int decodeLimit) {
        this.replica = replica;
        this.instance = UUID.randomUUID().toString();
        this.decodeLimit = decodeLimit;
    }

    /** A session user, created and not yet dropped. The password is never printed. */
    public record Lease(UpstreamConfig upstream, String user, String password) {
        @Override
        public String toString() {
            return "Lease[upstream=" + upstream.name() + ", user=" + user + "]";
        }
    }

    public static boolean applies(UpstreamConfig upstream) {
        return upstream.credentials() != null && upstream.credentials().mode() == CredentialsConfig.Mode.EPHEMERAL;
    }

    /**
     * Creates the session user. {@code group} is the policy role's group or null for the upstream's default.
     *
     * @throws UpstreamException when the administrative login or CREATE ROLE fails (the session is refused)
     */
    public Lease create(UpstreamConfig upstream, String sessionId, String group, Instant validUntil)
            throws UpstreamException {
        String user = PREFIX + sessionId.replace("-", "").substring(0, 12);
        String joined = group != null ? group : upstream.credentials().group();
        byte[] secret = new byte[32];
        random.nextBytes(secret);
        String password = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        String comment = MARKER + "; replica=" + replica + "; instance=" + instance + "; session=" + sessionId;
        try (UpstreamConnection admin = admin(upstream)) {
            AdminSql.run(admin, "CREATE ROLE " + AdminSql.identifier(user) + " LOGIN INHERIT NOSUPERUSER NOCREATEDB"
                    + " NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 1 PASSWORD "
                    + AdminSql.literal(scramVerifier(password)) + " VALID UNTIL "
                    + AdminSql.literal(TIMESTAMP.format(validUntil)) + " IN ROLE " + AdminSql.identifier(joined)
                    + "; COMMENT ON ROLE " + AdminSql.identifier(user) + " IS " + AdminSql.literal(comment));
            live.add(user);
            log.info("session {}: created session user {} in group {} on upstream {}", sessionId, user, joined,
                    upstream.name());
            return new Lease(upstream, user, password);
        } catch (AdminSql.Failed e) {
            throw new UpstreamException(ErrorCodes.CONNECTION_FAILURE, "phigate could not create a session user on"
                    + " upstream '" + upstream.name() + "': " + e.getMessage() + " (SQLSTATE " + e.sqlState() + ")", e);
        } catch (IOException e) {
            throw new UpstreamException(ErrorCodes.CONNECTION_FAILURE, "phigate lost its administrative connection"
                    + " to upstream '" + upstream.name() + "': " + e.getMessage(), e);
        }
    }

    /** Ends the lease: terminates any backend still logged in as its user, then drops it. Never throws. */
    public void drop(Lease lease) {
        try (UpstreamConnection admin = admin(lease.upstream())) {
            dropRole(admin, lease.user());
        } catch (UpstreamException | IOException | AdminSql.Failed e) {
            // The janitor retries: the role is past VALID UNTIL by the time it looks, or this instance is gone.
            log.warn("could not drop session user {} on upstream {}: {}", lease.user(), lease.upstream().name(),
                    e.getMessage());
        } finally {
            live.remove(lease.user());
        }
    }

    /**
     * Drops this gateway's leftovers on one upstream: roles made by an earlier instance of this replica, and
     * roles of any replica past VALID UNTIL, except those of sessions live here. Returns the roles dropped.
     */
    public List<String> sweep(UpstreamConfig upstream) throws UpstreamException, IOException, AdminSql.Failed {
        List<String> dropped = new ArrayList<>();
        try (UpstreamConnection admin = admin(upstream)) {
            List<List<String>> rows = AdminSql.run(admin, "SELECT r.rolname, coalesce(r.rolvaliduntil < now(), false),"
                    + " shobj_description(r.oid, 'pg_authid') FROM pg_roles r WHERE starts_with(r.rolname, "
                    + AdminSql.literal(PREFIX) + ")");
            for (List<String> row : rows) {
                String name = row.get(0);
                boolean expired = "t".equals(row.get(1));
                Map<String, String> owner = parseComment(row.get(2));
                if (owner == null || live.contains(name)) {
                    continue; // not ours, or in use by a session of this process
                }
                boolean previousRun = replica.equals(owner.get("replica")) && !instance.equals(owner.get("instance"));
                if (expired || previousRun) {
                    try {
                        dropRole(admin, name);
                        dropped.add(name);
                    } catch (AdminSql.Failed e) {
                        log.warn("janitor: could not drop leftover session user {} on upstream {}: {} (SQLSTATE {})",
                                name, upstream.name(), e.getMessage(), e.sqlState());
                    }
                }
            }
        }
        if (!dropped.isEmpty()) {
            log.info("janitor: dropped {} leftover session user(s) on upstream {}: {}", dropped.size(),
                    upstream.name(), dropped);
        }
        return dropped;
    }

    private static void dropRole(UpstreamConnection admin, String user) throws IOException, AdminSql.Failed {
        AdminSql.run(admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = "
                + AdminSql.literal(user));
        AdminSql.run(admin, "DROP ROLE IF EXISTS " + AdminSql.identifier(user));
    }

    /** The comment's fields when it carries the marker, else null (a role someone else named phigate_e_...). */
    static Map<String, String> parseComment(String comment) {
        if (comment == null || !comment.startsWith(MARKER + ";")) {
            return null;
        }
        Map<String, String> fields = new java.util.HashMap<>();
        for (String part : comment.substring(MARKER.length() + 1).split(";")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                fields.put(part.substring(0, eq).strip(), part.substring(eq + 1).strip());
            }
        }
        return fields;
    }

    private UpstreamConnection admin(UpstreamConfig upstream) throws UpstreamException {
        return UpstreamConnection.open(upstream, Map.of("application_name", "phigate-admin"), decodeLimit);
    }

    public String instance() {
        return instance;
    }

    /**
     * The SCRAM-SHA-256 secret PostgreSQL stores for {@code password} (its {@code pg_authid.rolpassword} form), so
     * CREATE ROLE never carries the password itself. The password is prepared with SASLprep as the server and
     * pgjdbc prepare it (decision 0040).
     */
    static String scramVerifier(String password) {
        byte[] salt = ScramFunctions.salt(16, SALT_RANDOM);
        byte[] salted = ScramFunctions.saltedPassword(ScramMechanism.SCRAM_SHA_256,
                StringPreparation.POSTGRESQL_PREPARATION, password.toCharArray(), salt, SCRAM_ITERATIONS);
        byte[] storedKey = ScramFunctions.storedKey(ScramMechanism.SCRAM_SHA_256,
                ScramFunctions.clientKey(ScramMechanism.SCRAM_SHA_256, salted));
        byte[] serverKey = ScramFunctions.serverKey(ScramMechanism.SCRAM_SHA_256, salted);
        Base64.Encoder b64 = Base64.getEncoder();
        return "SCRAM-SHA-256$" + SCRAM_ITERATIONS + ":" + b64.encodeToString(salt) + "$"
                + b64.encodeToString(storedKey) + ":" + b64.encodeToString(serverKey);
    }
}
