package io.phigate.credentials;

import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ScramMechanism;
import com.ongres.scram.common.StringPreparation;
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
 * session then logs in as it, and the role is made NOLOGIN at once, so no second login (with a password the agent
 * set itself) can follow. When the session ends the role's backends are terminated and the role dropped.
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
    private final AdminConnection.Opener admin;
    private final SecureRandom random = new SecureRandom();
    /** Roles of sessions live in this process, by role name: the janitor never touches them. */
    private final Set<String> live = ConcurrentHashMap.newKeySet();

    /**
     * @param replica the audit replica name: which gateway a role belongs to when several share a database
     * @param admin   opens the administrative connection to an upstream, by the name clients know it by
     */
    public EphemeralRoles(String replica, AdminConnection.Opener admin) {
        this.replica = replica;
        this.instance = UUID.randomUUID().toString();
        this.admin = admin;
    }

    /** A session user, created and not yet dropped. The password is never printed. */
    public record Lease(String upstream, String user, String password) {
        @Override
        public String toString() {
            return "Lease[upstream=" + upstream + ", user=" + user + "]";
        }
    }

    /** The session user could not be made; the message is safe to send to the client. */
    public static final class Unavailable extends Exception {
        Unavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Creates the session user as a member of {@code group} (the policy role's group, or the upstream's default).
     *
     * @throws Unavailable when the administrative login or CREATE ROLE fails (the session is refused)
     */
    public Lease create(String upstream, String sessionId, String group, Instant validUntil) throws Unavailable {
        String user = PREFIX + sessionId.replace("-", "").substring(0, 12);
        byte[] secret = new byte[32];
        random.nextBytes(secret);
        String password = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        String comment = MARKER + "; replica=" + replica + "; instance=" + instance + "; session=" + sessionId;
        try (AdminConnection admin = this.admin.open(upstream)) {
            admin.query("CREATE ROLE " + AdminSql.identifier(user) + " LOGIN INHERIT NOSUPERUSER NOCREATEDB"
                    + " NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 1 PASSWORD "
                    + AdminSql.literal(scramVerifier(password)) + " VALID UNTIL "
                    + AdminSql.literal(TIMESTAMP.format(validUntil)) + " IN ROLE " + AdminSql.identifier(group)
                    + "; COMMENT ON ROLE " + AdminSql.identifier(user) + " IS " + AdminSql.literal(comment));
            live.add(user);
            log.info("session {}: created session user {} in group {} on upstream {}", sessionId, user, group,
                    upstream);
            return new Lease(upstream, user, password);
        } catch (IOException e) {
            throw new Unavailable("phigate could not create a session user on upstream '" + upstream + "': "
                    + e.getMessage(), e);
        }
    }

    /**
     * The session's connection has logged in as the lease's user: no other login may. Any role can set its own
     * password (ALTER ROLE CURRENT_USER PASSWORD), and CONNECTION LIMIT 1 frees its slot the moment the gateway's
     * connection ends, so until the role is dropped (a crash leaves it to the janitor) the agent could log in
     * around the gateway. NOLOGIN is checked only at login, so the live connection keeps working (decision 0068).
     *
     * @throws Unavailable when it cannot be made so (the session is refused)
     */
    public void loggedIn(Lease lease) throws Unavailable {
        try (AdminConnection admin = this.admin.open(lease.upstream())) {
            admin.query("ALTER ROLE " + AdminSql.identifier(lease.user()) + " NOLOGIN");
        } catch (IOException e) {
            throw new Unavailable("phigate could not close the session user on upstream '" + lease.upstream()
                    + "' to further logins: " + e.getMessage(), e);
        }
    }

    /** Ends the lease: terminates any backend still logged in as its user, then drops it. Never throws. */
    public void drop(Lease lease) {
        try (AdminConnection admin = this.admin.open(lease.upstream())) {
            dropRole(admin, lease.user());
        } catch (IOException | RuntimeException e) {
            // The janitor retries: the role is past VALID UNTIL by the time it looks, or this instance is gone.
            log.warn("could not drop session user {} on upstream {}: {}", lease.user(), lease.upstream(),
                    e.getMessage());
        } finally {
            live.remove(lease.user());
        }
    }

    /**
     * Drops this gateway's leftovers on one upstream: roles made by an earlier instance of this replica, and
     * roles of any replica past VALID UNTIL, except those of sessions live here. Returns the roles dropped.
     */
    public List<String> sweep(String upstream) throws IOException {
        List<String> dropped = new ArrayList<>();
        try (AdminConnection admin = this.admin.open(upstream)) {
            List<List<String>> rows = admin.query("SELECT r.rolname, coalesce(r.rolvaliduntil < now(), false),"
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
                    } catch (IOException e) {
                        log.warn("janitor: could not drop leftover session user {} on upstream {}: {}",
                                name, upstream, e.getMessage());
                    }
                }
            }
        }
        if (!dropped.isEmpty()) {
            log.info("janitor: dropped {} leftover session user(s) on upstream {}: {}", dropped.size(),
                    upstream, dropped);
        }
        return dropped;
    }

    /**
     * Ends the user's backends, then drops what it owns and was granted in this database with it: a large object it
     * filled (and granted to anyone), default privileges, any table or definer function it could create. Those
     * otherwise outlive the session (a definer function runs with its group's rights for every later caller) and
     * make DROP ROLE fail for good (decision 0068). DROP OWNED needs the user's privileges, so the administrative
     * login first takes membership of it: allowed to CREATEROLE on PostgreSQL 14 and 15, and by the ADMIN OPTION
     * PostgreSQL 16 gives the creator of a role.
     */
    private static void dropRole(AdminConnection admin, String user) throws IOException {
        admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = "
                + AdminSql.literal(user));
        if (admin.query("SELECT 1 FROM pg_roles WHERE rolname = " + AdminSql.literal(user)).isEmpty()) {
            return;
        }
        String role = AdminSql.identifier(user);
        admin.query("GRANT " + role + " TO CURRENT_USER; DROP OWNED BY " + role + "; DROP ROLE " + role);
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
