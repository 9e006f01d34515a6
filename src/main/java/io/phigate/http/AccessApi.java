package io.phigate.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.Context;
import io.phigate.cluster.PublishedSession;
import io.phigate.credentials.CredentialExchange;
import io.phigate.identity.Identity;
import io.phigate.identity.TokenRejectedException;
import io.phigate.identity.TokenVerifier;
import io.phigate.pg.message.ErrorCodes;
import io.phigate.session.LiveSession;
import io.phigate.session.SessionRegistry;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /api/v1/credentials}: an agent trades its token for a one-session credential. It authenticates by
 * the bearer token itself, so it may be served on any address (use TLS in front of it off loopback).
 *
 * <p>{@code GET /api/v1/sessions}, {@code POST /api/v1/sessions/{id}/kill} and
 * {@code POST /api/v1/sessions/kill?subject=S}: the live sessions, and ending them at once, on every replica
 * sharing the audit store (another replica's sessions carry its name in {@code replica}). Administrative:
 * {@link AdminAccess} guards them.
 */
final class AccessApi {
    private static final Logger log = LoggerFactory.getLogger(AccessApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> CREDENTIAL_FIELDS = Set.of("justification", "upstream");
    /** A credential request is a sentence and a name; anything larger is not one. */
    private static final int MAX_BODY = 16 * 1024;
    static final String KILLED = SessionRegistry.KILLED;

    private final TokenVerifier verifier;
    private final CredentialExchange exchange;
    private final SessionRegistry sessions;

    AccessApi(TokenVerifier verifier, CredentialExchange exchange, SessionRegistry sessions) {
        this.verifier = verifier;
        this.exchange = exchange;
        this.sessions = sessions;
    }

    void issueCredential(Context ctx) throws Exception {
        Identity identity = bearer(ctx, verifier, "the agent token");
        if (identity == null) {
            return;
        }
        String token = ctx.header("Authorization").substring(7).strip();
        String justification = null;
        String upstream = null;
        byte[] body = ctx.bodyAsBytes();
        if (body.length > MAX_BODY) {
            AuditApi.error(ctx, 413, "request body larger than " + MAX_BODY + " bytes");
            return;
        }
        if (body.length > 0) {
            JsonNode json;
            try {
                json = JSON.readTree(body);
            } catch (java.io.IOException e) {
                AuditApi.error(ctx, 400, "the body must be a JSON object like {\"justification\": \"...\"}");
                return;
            }
            if (json != null && !json.isNull()) {
                if (!json.isObject()) {
                    AuditApi.error(ctx, 400, "the body must be a JSON object like {\"justification\": \"...\"}");
                    return;
                }
                for (Iterator<String> names = json.fieldNames(); names.hasNext(); ) {
                    String name = names.next();
                    if (!CREDENTIAL_FIELDS.contains(name)) {
                        AuditApi.error(ctx, 400, "unknown field \"" + name + "\"; known: justification, upstream");
                        return;
                    }
                    if (!json.get(name).isTextual()) {
                        AuditApi.error(ctx, 400, "field \"" + name + "\" must be a string");
                        return;
                    }
                }
                justification = json.hasNonNull("justification") ? json.get("justification").asText() : null;
                upstream = json.hasNonNull("upstream") ? json.get("upstream").asText() : null;
            }
        }
        try {
            CredentialExchange.Issued issued = exchange.issue(identity, TokenVerifier.keyId(token), upstream,
                    justification);
            var out = new LinkedHashMap<String, Object>();
            out.put("username", issued.username());
            out.put("password", issued.password());
            out.put("expires_at", issued.expiresAt().toString());
            out.put("upstream", issued.upstream());
            out.put("role", issued.role());
            log.info("issued a one-time credential {} to subject {}", issued.username(), identity.subject());
            AuditApi.json(ctx, 201, out);
        } catch (CredentialExchange.Refused e) {
            AuditApi.error(ctx, e.status(), e.getMessage());
        }
    }

    /** The identity of the request's bearer token; null after answering 401 when there is none or it is rejected. */
    static Identity bearer(Context ctx, TokenVerifier verifier, String whose) throws Exception {
        String authorization = ctx.header("Authorization");
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            ctx.header("WWW-Authenticate", "Bearer");
            AuditApi.error(ctx, 401, "send " + whose + " as Authorization: Bearer <token>");
            return null;
        }
        try {
            return verifier.verify(authorization.substring(7).strip());
        } catch (TokenRejectedException e) {
            ctx.header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            AuditApi.error(ctx, 401, "token rejected: " + e.getMessage());
            return null;
        }
    }

    void listSessions(Context ctx) throws Exception {
        List<Map<String, Object>> out = new ArrayList<>();
        for (LiveSession s : sessions.list()) {
            out.add(describe(s));
        }
        for (PublishedSession s : sessions.elsewhere()) {
            out.add(describe(s));
        }
        out.sort(java.util.Comparator.comparing(m -> String.valueOf(m.get("started_at"))));
        AuditApi.json(ctx, 200, Map.of("sessions", out));
    }

    void killSession(Context ctx) throws Exception {
        String id = ctx.pathParam("id");
        LiveSession s = sessions.get(id);
        if (s != null) {
            AuditApi.json(ctx, 200, Map.of("killed", kill(ctx, List.of(s))));
        } else if (sessions.killElsewhere(id)) {
            log.info("ended session {} on another replica through the admin API, by {}", id,
                    String.valueOf((Object) ctx.attribute(AdminAccess.WHO)));
            AuditApi.json(ctx, 200, Map.of("killed", List.of(id)));
        } else {
            AuditApi.error(ctx, 404, "no live session with this id on any replica");
        }
    }

    void killBySubject(Context ctx) throws Exception {
        String subject = ctx.queryParam("subject");
        if (subject == null || subject.isEmpty()) {
            AuditApi.error(ctx, 400, "give ?subject=SUBJECT");
            return;
        }
        List<LiveSession> matching = sessions.list().stream().filter(s -> subject.equals(s.identity().subject()))
                .toList();
        List<String> killed = new ArrayList<>(kill(ctx, matching));
        for (PublishedSession s : sessions.elsewhere()) {
            if (subject.equals(s.subject()) && sessions.killElsewhere(s.id())) {
                killed.add(s.id());
            }
        }
        AuditApi.json(ctx, 200, Map.of("killed", killed));
    }

    /** Ends each session in parallel (one whose client stopped reading must not hold up the others). */
    private static List<String> kill(Context ctx, List<LiveSession> targets) throws InterruptedException {
        if (!targets.isEmpty()) {
            log.info("ending {} session(s) through the admin API, by {}", targets.size(),
                    String.valueOf((Object) ctx.attribute(AdminAccess.WHO)));
        }
        List<Thread> threads = new ArrayList<>();
        for (LiveSession s : targets) {
            threads.add(Thread.ofVirtual().name("kill-" + s.id()).start(() ->
                    s.terminate(ErrorCodes.ADMIN_SHUTDOWN, KILLED)));
        }
        for (Thread t : threads) {
            t.join(5_000);
        }
        return targets.stream().map(LiveSession::id).toList();
    }

    private Map<String, Object> describe(LiveSession s) {
        var m = new LinkedHashMap<String, Object>();
        m.put("id", s.id());
        if (sessions.replica() != null) {
            m.put("replica", sessions.replica());
        }
        m.put("subject", s.identity().subject());
        m.put("issuer", s.identity().issuer());
        m.put("upstream", s.upstream());
        m.put("client_address", s.clientAddress());
        m.put("started_at", s.startedAt().toString());
        m.put("token_expires_at", s.identity().expiresAt() == null ? null : s.identity().expiresAt().toString());
        m.put("statements", s.statements());
        return m;
    }

    private static Map<String, Object> describe(PublishedSession s) {
        var m = new LinkedHashMap<String, Object>();
        m.put("id", s.id());
        m.put("replica", s.replica());
        m.put("subject", s.subject());
        m.put("issuer", s.issuer());
        m.put("upstream", s.upstream());
        m.put("client_address", s.clientAddress());
        m.put("started_at", s.startedAt().toString());
        m.put("token_expires_at", s.tokenExpiresAt() == null ? null : s.tokenExpiresAt().toString());
        m.put("statements", s.statements());
        return m;
    }
}
