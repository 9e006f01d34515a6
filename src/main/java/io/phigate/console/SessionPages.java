package io.phigate.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.Context;
import io.phigate.audit.AuditQueries;
import io.phigate.audit.MaskingSummary;
import io.phigate.audit.AuditUnavailableException;
import io.phigate.audit.InclusionProofs;
import io.phigate.audit.AuditConfig;
import io.phigate.cluster.PublishedSession;
import io.phigate.pg.ResponseTranscript;
import io.phigate.session.LiveSession;
import io.phigate.session.SessionRegistry;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live sessions (with the admin's kill button) and session replay: one session's records in chain order, each
 * statement with the response as the agent saw it, masked values marked, and a link to each record's inclusion
 * proof. Replay pages through the store ({@value #EVENTS_PER_PAGE} records a page) and shows the first
 * {@value #ROWS_INLINE} rows of each response inline, the rest on their own pages, so no page loads a whole session
 * or a whole result.
 */
final class SessionPages {
    private static final Logger log = LoggerFactory.getLogger(SessionPages.class);
    static final int EVENTS_PER_PAGE = 100;
    static final int ROWS_INLINE = 20;
    static final int ROWS_PER_PAGE = 100;
    static final String KILLED = "terminating connection due to administrator command (phigate console)";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Console console;
    private final SessionRegistry sessions;
    private final AuditQueries queries;
    private final AuditConfig auditConfig;

    SessionPages(Console console, SessionRegistry sessions, AuditQueries queries, AuditConfig auditConfig) {
        this.console = console;
        this.sessions = sessions;
        this.queries = queries;
        this.auditConfig = auditConfig;
    }

    void live(Context ctx, ConsoleUser user) {
        String body = "<div id=\"live\" data-refresh=\"/console/sessions/live.html\" aria-live=\"off\">"
                + liveTable(user) + "</div>";
        ctx.html(Html.page("Live sessions", user, "/console/sessions", body));
    }

    void liveFragment(Context ctx, ConsoleUser user) {
        ctx.html(liveTable(user));
    }

    private String liveTable(ConsoleUser user) {
        if (sessions == null) {
            return Html.notice("info", "This gateway serves no live sessions here.");
        }
        List<LiveSession> all = new ArrayList<>(sessions.list());
        all.sort(Comparator.comparing(LiveSession::startedAt));
        List<PublishedSession> elsewhere = sessions.elsewhere();
        if (all.isEmpty() && elsewhere.isEmpty()) {
            return "<p id=\"no-sessions\">Nobody is connected.</p>";
        }
        boolean admin = user.has(ConsoleRole.ADMIN);
        int count = all.size() + elsewhere.size();
        StringBuilder b = new StringBuilder("<table id=\"sessions-table\"><caption>").append(count)
                .append(" open session").append(count == 1 ? "" : "s").append(", oldest first</caption>")
                .append("<thead><tr><th scope=\"col\">Session</th><th scope=\"col\">Identity</th>")
                .append("<th scope=\"col\">Upstream</th><th scope=\"col\">Client</th><th scope=\"col\">Since</th>")
                .append("<th scope=\"col\">Statements</th><th scope=\"col\">State</th>")
                .append("<th scope=\"col\">Current or last statement</th><th scope=\"col\">Bytes in / out</th>")
                .append(admin ? "<th scope=\"col\">End</th>" : "").append("</tr></thead><tbody>");
        for (LiveSession s : all) {
            b.append("<tr data-session=\"").append(Html.esc(s.id())).append("\"><td><a href=\"/console/sessions/")
                    .append(Html.esc(s.id())).append("\">").append(Html.esc(s.id())).append("</a></td><td>")
                    .append(Html.esc(s.identity().subject())).append("</td><td>").append(Html.esc(s.upstream()))
                    .append("</td><td>").append(Html.esc(s.clientAddress())).append("</td><td>")
                    .append(Html.time(s.startedAt())).append("</td><td>").append(s.statements()).append("</td><td>")
                    .append(s.busy() ? "running" : "idle").append("</td><td><code>")
                    .append(Html.clip(s.lastStatement(), 80)).append("</code></td><td>")
                    .append(Html.bytes(s.bytesFromClient())).append(" / ").append(Html.bytes(s.bytesToClient()))
                    .append("</td>");
            if (admin) {
                b.append("<td><form method=\"post\" action=\"/console/sessions/").append(Html.esc(s.id()))
                        .append("/kill\">").append(Html.csrfField(user))
                        .append("<button type=\"submit\" class=\"danger\" aria-label=\"End session ")
                        .append(Html.esc(s.id())).append(" of ").append(Html.esc(s.identity().subject()))
                        .append("\">Kill</button></form></td>");
            }
            b.append("</tr>");
        }
        for (PublishedSession s : elsewhere) {
            // Another replica's: its statements stay on that replica, so only what it publishes is shown.
            b.append("<tr data-session=\"").append(Html.esc(s.id())).append("\" data-replica=\"")
                    .append(Html.esc(s.replica())).append("\"><td><a href=\"/console/sessions/")
                    .append(Html.esc(s.id())).append("\">").append(Html.esc(s.id())).append("</a></td><td>")
                    .append(Html.esc(s.subject())).append("</td><td>").append(Html.esc(s.upstream()))
                    .append("</td><td>").append(Html.esc(s.clientAddress())).append("</td><td>")
                    .append(Html.time(s.startedAt())).append("</td><td>").append(s.statements())
                    .append("</td><td>on replica ").append(Html.esc(s.replica())).append("</td><td></td><td></td>");
            if (admin) {
                b.append("<td><form method=\"post\" action=\"/console/sessions/").append(Html.esc(s.id()))
                        .append("/kill\">").append(Html.csrfField(user))
                        .append("<button type=\"submit\" class=\"danger\" aria-label=\"End session ")
                        .append(Html.esc(s.id())).append(" of ").append(Html.esc(s.subject()))
                        .append("\">Kill</button></form></td>");
            }
            b.append("</tr>");
        }
        return b.append("</tbody></table>").toString();
    }

    void kill(Context ctx, ConsoleUser user) {
        String id = ctx.pathParam("id");
        LiveSession s = sessions == null ? null : sessions.get(id);
        PublishedSession remote = s != null || sessions == null ? null
                : sessions.elsewhere().stream().filter(p -> p.id().equals(id)).findFirst().orElse(null);
        if (s == null && remote == null) {
            ctx.status(404).html(Html.page("Live sessions", user, "/console/sessions",
                    Html.notice("error", "Session " + id + " is not open (it may have ended already).")));
            return;
        }
        try {
            // Durable before the session ends: who ended whose session is evidence, and without a store the
            // console changes nothing.
            console.record(ctx, user.identity(), "session_kill", "ok", id,
                    s != null ? s.identity().subject() : remote.subject(), true);
        } catch (AuditUnavailableException e) {
            ctx.status(503).html(Html.page("Live sessions", user, "/console/sessions",
                    Html.notice("error", "Not done: the audit store cannot record it (" + e.getMessage() + ").")));
            return;
        }
        String subject;
        if (s != null) {
            s.terminate("57P01", KILLED);
            subject = s.identity().subject();
        } else if (sessions.killElsewhere(id)) {
            subject = remote.subject();
        } else {
            ctx.status(504).html(Html.page("Live sessions", user, "/console/sessions", Html.notice("error",
                    "Session " + id + " on replica " + remote.replica() + " did not end in time; the kill is on"
                            + " record and that replica ends it when it next takes its orders.")));
            return;
        }
        log.info("console: session {} ended by {}", id, user.identity().subject());
        ctx.html(Html.page("Live sessions", user, "/console/sessions",
                Html.notice("ok", "Session " + id + " of " + subject + " was ended.")
                        + "<div id=\"live\" data-refresh=\"/console/sessions/live.html\">" + liveTable(user)
                        + "</div>"));
    }

    void replay(Context ctx, ConsoleUser user) throws Exception {
        String id = ctx.pathParam("id");
        long after = longParam(ctx, "after", 0);
        List<AuditQueries.Event> events = queries.session(id, after, EVENTS_PER_PAGE + 1);
        boolean more = events.size() > EVENTS_PER_PAGE;
        if (more) {
            events = events.subList(0, EVENTS_PER_PAGE);
        }
        StringBuilder b = new StringBuilder();
        if (events.isEmpty() && after == 0) {
            ctx.status(404).html(Html.page("Session " + id, user, "/console/sessions",
                    Html.notice("error", "The audit store holds no records of session " + id + ".")));
            return;
        }
        b.append("<p>Records in the order the audit chain holds them. Values the gateway masked are marked "
                + "<mark class=\"masked\">like this</mark>.</p><ol class=\"timeline\">");
        for (AuditQueries.Event e : events) {
            b.append("<li id=\"r").append(e.seq()).append("\" class=\"").append(Html.esc(e.kind())).append("\">");
            event(b, e);
            b.append("<p class=\"meta\">record ").append(e.seq()).append(" · ").append(Html.time(e.time()))
                    .append(" · <a href=\"/console/records/").append(e.seq()).append("/proof\">inclusion proof</a>")
                    .append("</p></li>");
        }
        b.append("</ol>");
        if (more) {
            b.append("<p><a rel=\"next\" href=\"/console/sessions/").append(Html.esc(id)).append("?after=")
                    .append(events.getLast().seq()).append("\">Next records</a></p>");
        }
        if (after > 0) {
            b.append("<p><a href=\"/console/sessions/").append(Html.esc(id)).append("\">First records</a></p>");
        }
        ctx.html(Html.page("Session " + id, user, "/console/sessions", b.toString()));
    }

    private void event(StringBuilder b, AuditQueries.Event e) throws Exception {
        JsonNode detail = e.detail() == null ? JSON.createObjectNode() : JSON.readTree(e.detail());
        switch (e.kind()) {
            case "session_started" -> b.append("<h2>Session started</h2><p>")
                    .append(Html.esc(e.subject())).append(" <small>(").append(Html.esc(e.issuer()))
                    .append(")</small> from ").append(Html.esc(e.clientAddress())).append(" to upstream ")
                    .append(Html.esc(e.upstream())).append(text(detail, "role", ", role "))
                    .append(text(detail, "justification", ", justification: ")).append("</p>");
            case "statement_requested" -> {
                b.append("<h2>Statement ").append(e.statementId()).append(" requested</h2><pre class=\"sql\">")
                        .append(Html.esc(e.statement())).append("</pre>");
                List<String> params = e.parameterList();
                if (params != null && !params.isEmpty()) {
                    b.append("<p>Parameters: ");
                    for (int i = 0; i < params.size(); i++) {
                        b.append(i == 0 ? "" : ", ").append('$').append(i + 1).append(" = ")
                                .append(params.get(i) == null ? "<em>NULL</em>" : "<code>" + Html.esc(params.get(i))
                                        + "</code>");
                    }
                    b.append("</p>");
                }
                if (detail.path("tables").isArray() && !detail.get("tables").isEmpty()) {
                    List<String> tables = new ArrayList<>();
                    detail.get("tables").forEach(t -> tables.add(t.asText()));
                    b.append("<p>Tables: ").append(Html.esc(String.join(", ", tables))).append("</p>");
                }
                if (detail.path("phi_columns").isObject()) {
                    b.append("<div class=\"scroll\"><table class=\"kv phi-columns\"><caption>PHI columns the statement")
                            .append(" references (what its results delivered is under its completion)</caption><thead><tr>")
                            .append("<th scope=\"col\">Column</th><th scope=\"col\">PHI type</th></tr></thead><tbody>");
                    detail.get("phi_columns").properties().forEach(c -> b.append("<tr><td><code>")
                            .append(Html.esc(c.getKey())).append("</code></td><td>").append(Html.esc(c.getValue().asText()))
                            .append("</td></tr>"));
                    b.append("</tbody></table></div>");
                }
            }
            case "statement_completed" -> {
                b.append("<h2>Statement ").append(e.statementId()).append(' ').append(Html.esc(e.outcome()))
                        .append("</h2><p>").append(Html.esc(e.commandTag() == null ? "" : e.commandTag()))
                        .append(e.sqlState() == null ? "" : " · SQLSTATE " + Html.esc(e.sqlState()))
                        .append(e.rowCount() == null ? "" : " · " + e.rowCount() + " rows")
                        .append(e.durationMicros() == null ? "" : " · " + micros(e.durationMicros())).append("</p>");
                Map<String, String> masked = masked(detail);
                String masking = detail.path("masking").asText(null);
                String refusal = MaskingSummary.refusalReason(masking);
                if (refusal != null) {
                    b.append("<p class=\"reason\">Refused: ").append(Html.esc(refusal)).append("</p>");
                } else if (masking != null) {
                    maskingTable(b, masking);
                }
                response(b, e, masked, 0, ROWS_INLINE);
            }
            case "approval_requested" -> b.append("<h2>Approval requested</h2><p>Request <a href=\"/console/approvals/")
                    .append(Html.esc(detail.path("approval_id").asText())).append("\">")
                    .append(Html.esc(detail.path("approval_id").asText())).append("</a> by rule ")
                    .append(Html.esc(detail.path("rule").asText())).append(" for statement ")
                    .append(e.statementId()).append("</p>");
            case "approval_decided" -> b.append("<h2>Approval ").append(Html.esc(e.outcome())).append("</h2><p>")
                    .append("Request ").append(Html.esc(detail.path("approval_id").asText()))
                    .append(e.subject() == null ? "" : " by " + Html.esc(e.subject()))
                    .append(text(detail, "reason", ": ")).append("</p>");
            case "console_action" -> b.append("<h2>Console: ").append(Html.esc(detail.path("action").asText()))
                    .append("</h2><p>by ").append(Html.esc(e.subject())).append("</p>");
            case "session_ended" -> b.append("<h2>Session ended</h2><p>").append(Html.esc(detail.path("reason").asText()))
                    .append(", ").append(Html.esc(detail.path("statements").asText())).append(" statements</p>");
            default -> b.append("<h2>").append(Html.esc(e.kind())).append("</h2>");
        }
    }

    /** The recorded response of completion {@code e}: rows {@code from} to {@code from + count}, masked values marked. */
    private void response(StringBuilder b, AuditQueries.Event e, Map<String, String> masked, long from, int count)
            throws Exception {
        if (e.responseBytes() == null) {
            b.append("<p><em>No response recorded (audit.record_responses is off).</em></p>");
            return;
        }
        byte[] recorded;
        try {
            recorded = queries.response(e.seq());
        } catch (AuditQueries.SealedException x) {
            b.append("<p><em>The recorded response is sealed and this gateway holds no key to open it.</em></p>");
            return;
        }
        List<String>[] columns = new List[1];
        long[] rows = {0};
        StringBuilder table = new StringBuilder();
        StringBuilder after = new StringBuilder();
        ResponseTranscript.walk(recorded, e.responseTruncated() != null && e.responseTruncated() == 1,
                new ResponseTranscript.Visitor() {
                    @Override
                    public void columns(List<String> names) {
                        columns[0] = names;
                        table.append("<table class=\"rows\"><thead><tr>");
                        for (String n : names) {
                            String type = masked.get(n);
                            table.append("<th scope=\"col\">").append(Html.esc(n)).append(type == null ? ""
                                    : " <span class=\"badge\">masked: " + Html.esc(type) + "</span>").append("</th>");
                        }
                        table.append("</tr></thead><tbody>");
                    }

                    @Override
                    public void row(List<String> values) {
                        long n = rows[0]++;
                        if (n < from || n >= from + count) {
                            return;
                        }
                        table.append("<tr>");
                        for (int i = 0; i < values.size(); i++) {
                            String name = columns[0] != null && i < columns[0].size() ? columns[0].get(i) : null;
                            String type = name == null ? null : masked.get(name);
                            String v = values.get(i);
                            String cell = v == null ? "<em>NULL</em>" : Html.esc(v);
                            table.append("<td>").append(type == null ? cell : "<mark class=\"masked\" title=\"masked ("
                                    + Html.esc(type) + ")\">" + cell + "<span class=\"visually-hidden\"> (masked)"
                                    + "</span></mark>").append("</td>");
                        }
                        table.append("</tr>");
                    }

                    @Override
                    public void complete(String commandTag) {
                        after.append("<p>→ ").append(Html.esc(commandTag)).append("</p>");
                    }

                    @Override
                    public void error(String sqlState, String message) {
                        after.append("<p class=\"error\">→ ERROR ").append(Html.esc(sqlState)).append(": ")
                                .append(Html.esc(message)).append("</p>");
                    }

                    @Override
                    public void notice(String message) {
                        after.append("<p>→ notice: ").append(Html.esc(message)).append("</p>");
                    }

                    @Override
                    public void endsEarly(boolean truncated) {
                        after.append("<p><em>").append(truncated ? "The recording stops at audit.response_cap."
                                : "The recording ends early.").append("</em></p>");
                    }
                });
        if (columns[0] != null) {
            table.append("</tbody></table>");
        }
        b.append(table);
        if (rows[0] > from + count || from > 0) {
            b.append("<p>Rows ").append(Math.min(from + 1, rows[0])).append("–").append(Math.min(from + count, rows[0]))
                    .append(" of ").append(rows[0]).append(" recorded. <a href=\"/console/records/").append(e.seq())
                    .append("/rows?page=").append(from / ROWS_PER_PAGE + (from == 0 ? 0 : 1))
                    .append("\">").append(from == 0 ? "All rows, paged" : "Next rows").append("</a></p>");
        }
        b.append(after);
    }

    void rows(Context ctx, ConsoleUser user) throws Exception {
        long seq = parseLong(ctx.pathParam("seq"), -1);
        AuditQueries.Event e = seq < 1 ? null : queries.event(seq);
        if (e == null || !"statement_completed".equals(e.kind())) {
            ctx.status(404).html(Html.page("Recorded rows", user, "/console/sessions",
                    Html.notice("error", "No statement completion record " + ctx.pathParam("seq") + ".")));
            return;
        }
        long page = Math.max(0, longParam(ctx, "page", 0));
        JsonNode detail = e.detail() == null ? JSON.createObjectNode() : JSON.readTree(e.detail());
        StringBuilder b = new StringBuilder("<p><a href=\"/console/sessions/").append(Html.esc(e.sessionId()))
                .append("#r").append(e.seq()).append("\">Back to session ").append(Html.esc(e.sessionId()))
                .append("</a></p>");
        response(b, e, masked(detail), page * ROWS_PER_PAGE, ROWS_PER_PAGE);
        b.append("<p>");
        if (page > 0) {
            b.append("<a rel=\"prev\" href=\"?page=").append(page - 1).append("\">Previous rows</a> ");
        }
        b.append("<a rel=\"next\" href=\"?page=").append(page + 1).append("\">Next rows</a></p>");
        ctx.html(Html.page("Rows of statement " + e.statementId() + " (session " + e.sessionId() + ")", user,
                "/console/sessions", b.toString()));
    }

    void proof(Context ctx, ConsoleUser user) throws Exception {
        long seq = parseLong(ctx.pathParam("seq"), -1);
        AuditQueries.Event e = seq < 1 ? null : queries.event(seq);
        if (e == null || e.chainSeq() == null) {
            ctx.status(404).html(Html.page("Inclusion proof", user, null,
                    Html.notice("error", "No chained record " + ctx.pathParam("seq") + ".")));
            return;
        }
        try {
            InclusionProofs.Proof proof = InclusionProofs.prove(auditConfig, e.replica(), e.chainSeq());
            ctx.header("Content-Disposition", "attachment; filename=\"phigate-proof-" + e.replica() + "-"
                    + e.chainSeq() + ".json\"");
            ctx.contentType("application/json").result(proof.toJson());
        } catch (InclusionProofs.ProofException x) {
            ctx.status(409).html(Html.page("Inclusion proof", user, null, Html.notice("error",
                    "No proof for record " + seq + " yet: " + x.getMessage())
                    + "<p>Check a proof offline with <code>bin/phigate audit prove --check FILE --key KEY.pub</code>.</p>"));
        }
    }

    /** What a completion's masking note says, as a table: each PHI output column, its type and its operator. */
    private static void maskingTable(StringBuilder b, String masking) {
        List<MaskingSummary.Column> columns = MaskingSummary.parse(masking).columns();
        if (columns.isEmpty()) {
            b.append("<p>Masking: ").append(Html.esc(masking)).append("</p>"); // a note without columns
            return;
        }
        b.append("<div class=\"scroll\"><table class=\"kv masking\"><caption>PHI in the results as delivered")
                .append("</caption><thead><tr><th scope=\"col\">Output column</th><th scope=\"col\">PHI type</th>")
                .append("<th scope=\"col\">Operator</th></tr></thead><tbody>");
        for (MaskingSummary.Column c : columns) {
            b.append("<tr><td><code>").append(Html.esc(c.name())).append("</code></td><td>").append(Html.esc(c.phiType()))
                    .append("</td><td>").append(c.unmasked() ? "none (delivered unmasked)" : Html.esc(c.operator()))
                    .append("</td></tr>");
        }
        b.append("</tbody></table></div>");
    }

    /** Output column name to "type, operator" for the columns the completion record says were masked. */
    static Map<String, String> masked(JsonNode detail) {
        Map<String, String> out = new LinkedHashMap<>();
        for (MaskingSummary.Column c : MaskingSummary.parse(detail.path("masking").asText(null)).columns()) {
            if (!c.unmasked()) {
                out.put(c.name(), c.phiType() + ", " + c.operator());
            }
        }
        return out;
    }

    private static String text(JsonNode detail, String field, String prefix) {
        String v = detail.path(field).asText(null);
        return v == null || v.isEmpty() ? "" : prefix + Html.esc(v);
    }

    private static String micros(long us) {
        return us < 1000 ? us + " µs" : String.format(java.util.Locale.ROOT, "%.1f ms", us / 1000.0);
    }

    static long longParam(Context ctx, String name, long fallback) {
        return parseLong(ctx.queryParam(name), fallback);
    }

    private static long parseLong(String text, long fallback) {
        if (text == null || text.isEmpty()) {
            return fallback;
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
