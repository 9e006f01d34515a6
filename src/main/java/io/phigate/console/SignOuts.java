package io.phigate.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.phigate.audit.AuditQueries;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which console sign-ins were signed out before their cookie expired. A sealed cookie is valid wherever the key
 * is, so its end has to be written where every replica looks: a durable {@code console_action} record with action
 * {@code sign_out} whose session id is the sign-in's {@link #auditId}, found through the store's session index.
 * Sign-outs made or found here are also remembered until the sign-in would have expired anyway (at most
 * {@link #MAX_REMEMBERED}), so each is read from the store once; a sign-in not signed out costs one indexed lookup
 * per request, which is what makes a sign-out on one replica take effect at once on the others.
 *
 * <p>Without a store to ask ({@code queries} null), only this process's sign-outs count.
 */
final class SignOuts {
    static final String PREFIX = "console-";
    /** Bounds the memory; past it, the ones expiring first go (the store still knows them). */
    static final int MAX_REMEMBERED = 10_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final AuditQueries queries;
    private final Clock clock;
    private final Map<String, Instant> remembered = new ConcurrentHashMap<>();

    SignOuts(AuditQueries queries, Clock clock) {
        this.queries = queries;
        this.clock = clock;
    }

    /** The session id a sign-in's records carry. */
    static String auditId(String signInId) {
        return PREFIX + signInId;
    }

    void add(String signInId, Instant until) {
        Instant now = clock.instant();
        remembered.values().removeIf(expiry -> !now.isBefore(expiry));
        if (remembered.size() >= MAX_REMEMBERED) {
            remembered.entrySet().stream().min(Map.Entry.comparingByValue())
                    .ifPresent(oldest -> remembered.remove(oldest.getKey()));
        }
        remembered.put(signInId, until);
    }

    /**
     * Whether the sign-in (whose cookie is valid {@code until}) was signed out, here or on any replica; throws when
     * the store cannot be asked.
     */
    boolean signedOut(String signInId, Instant until) throws SQLException {
        if (remembered.containsKey(signInId)) {
            return true;
        }
        if (queries == null) {
            return false;
        }
        for (AuditQueries.Event e : queries.session(auditId(signInId), 0, AuditQueries.MAX_LIMIT)) {
            if ("console_action".equals(e.kind()) && "sign_out".equals(action(e.detail()))) {
                add(signInId, until);
                return true;
            }
        }
        return false;
    }

    private static String action(String detail) throws SQLException {
        if (detail == null) {
            return null;
        }
        try {
            return JSON.readTree(detail).path("action").asText(null);
        } catch (IOException e) {
            throw new SQLException("a console record's detail is not JSON");
        }
    }
}
