package io.phigate.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.Context;
import io.phigate.audit.AuditQueries;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /api/v1/audit/statements} and {@code GET /api/v1/audit/sessions/{id}}: search and session replay as
 * JSON. Responses carry PHI (statement text, parameters), so they are never cached; bad parameters get a 400
 * with a JSON error naming the parameter, and an unknown parameter is refused rather than ignored, so a typo
 * cannot silently widen a search.
 */
final class AuditApi {
    private static final Logger log = LoggerFactory.getLogger(AuditApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> PARAMETERS = Set.of("subject", "issuer", "session", "upstream", "outcome", "kind", "table", "column", "phi_type",
            "since", "until", "text", "approval", "limit", "after");

    private final AuditQueries queries;
    private final Clock clock;

    AuditApi(AuditQueries queries) {
        this.queries = queries;
        this.clock = Clock.systemUTC();
    }

    void statements(Context ctx) throws Exception {
        AuditQueries.Filter filter;
        AuditQueries.Page page;
        try {
            for (String name : ctx.queryParamMap().keySet()) {
                if (!PARAMETERS.contains(name)) {
                    throw new IllegalArgumentException("unknown parameter \"" + name + "\"; known: "
                            + String.join(", ", PARAMETERS.stream().sorted().toList()));
                }
            }
            filter = new AuditQueries.Filter(param(ctx, "subject"), param(ctx, "issuer"), param(ctx, "session"),
                    param(ctx, "upstream"), param(ctx, "outcome"), param(ctx, "kind"), time(ctx, "since"),
                    time(ctx, "until"), param(ctx, "text"), param(ctx, "table"), param(ctx, "column"),
                    param(ctx, "phi_type"), param(ctx, "approval"));
            page = new AuditQueries.Page((int) number(ctx, "limit", 100), number(ctx, "after", 0));
        } catch (IllegalArgumentException e) {
            error(ctx, 400, e.getMessage());
            return;
        }
        AuditQueries.StatementPage found;
        try {
            found = queries.search(filter, page);
        } catch (SQLException e) {
            storeError(ctx, e);
            return;
        }
        List<Map<String, Object>> items = new ArrayList<>();
        for (AuditQueries.Statement s : found.statements()) {
            Map<String, Object> fields = s.fields();
            fields.put("session_url", sessionUrl(s.sessionId()));
            items.add(fields);
        }
        var body = new LinkedHashMap<String, Object>();
        body.put("statements", items);
        body.put("next_after", found.nextAfter());
        json(ctx, 200, body);
    }

    void session(Context ctx) throws Exception {
        String id = ctx.pathParam("id");
        List<AuditQueries.Event> events;
        try {
            events = queries.session(id);
        } catch (SQLException e) {
            storeError(ctx, e);
            return;
        }
        if (events.isEmpty()) {
            error(ctx, 404, "no records for this session");
            return;
        }
        var body = new LinkedHashMap<String, Object>();
        body.put("session_id", id);
        body.put("events", events.stream().map(AuditQueries.Event::columns).toList());
        json(ctx, 200, body);
    }

    static String sessionUrl(String sessionId) {
        return sessionId == null ? null
                : "/api/v1/audit/sessions/" + URLEncoder.encode(sessionId, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String param(Context ctx, String name) {
        List<String> values = ctx.queryParams(name);
        if (values.size() > 1) {
            throw new IllegalArgumentException("parameter \"" + name + "\" given more than once");
        }
        return values.isEmpty() || values.getFirst().isEmpty() ? null : values.getFirst();
    }

    private java.time.Instant time(Context ctx, String name) {
        String v = param(ctx, name);
        try {
            return v == null ? null : AuditQueries.parseTime(v, clock);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage());
        }
    }

    private static long number(Context ctx, String name, long absent) {
        String v = param(ctx, name);
        if (v == null) {
            return absent;
        }
        try {
            long n = Long.parseLong(v);
            if (name.equals("limit") && (n < 1 || n > AuditQueries.MAX_LIMIT)) {
                throw new IllegalArgumentException("limit must be between 1 and " + AuditQueries.MAX_LIMIT + ", got " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number, got \"" + v + "\"");
        }
    }

    private static void storeError(Context ctx, SQLException e) throws Exception {
        // SQLite's reason names the file or lock, never record contents.
        log.warn("audit API could not read the store: {}", e.getMessage());
        error(ctx, 503, "audit store cannot be read");
    }

    static void error(Context ctx, int status, String message) throws Exception {
        json(ctx, status, Map.of("error", message));
    }

    static void json(Context ctx, int status, Object body) throws Exception {
        ctx.status(status).header("Cache-Control", "no-store").contentType("application/json")
                .result(JSON.writeValueAsString(body));
    }
}
