package io.phigate.console;

import io.javalin.http.Context;
import io.phigate.audit.AuditExport;
import io.phigate.audit.AuditQueries;
import io.phigate.audit.AuditUnavailableException;
import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Audit search with the filters of {@code bin/phigate audit search}, paged, and the export of everything the
 * current filter finds as JSONL, CSV or OCSF. An export is PHI leaving the gateway, so it is recorded durably (who,
 * which filter) before the first byte goes out, and refused when the audit store cannot record it.
 */
final class SearchPage {
    /** Filter fields: query parameter, label, hint. */
    private static final String[][] FIELDS = {
        {"subject", "Identity (subject)", "a trailing * matches a prefix"},
        {"issuer", "Issuer", ""},
        {"session", "Session id", ""},
        {"upstream", "Upstream", ""},
        {"kind", "Command", "SELECT, INSERT, ..."},
        {"since", "Since", "2026-11-28T05:00:00Z, 2026-11-28 or 24h"},
        {"until", "Until", "same forms"},
        {"text", "Statement text", "words or \"phrases\""},
        {"table", "Table", "schema.table or a bare name"},
        {"column", "PHI column", "schema.table.column"},
        {"phi_type", "PHI type", "ssn, name, dob, ..."},
        {"approval", "Approval request", "apr-...: what it released"},
    };
    private static final int PAGE = 50;

    private final Console console;
    private final AuditQueries queries;
    private final Clock clock;

    SearchPage(Console console, AuditQueries queries, Clock clock) {
        this.console = console;
        this.queries = queries;
        this.clock = clock;
    }

    void render(Context ctx, ConsoleUser user) throws Exception {
        Map<String, String> values = values(ctx);
        StringBuilder b = new StringBuilder();
        b.append("<form method=\"get\" action=\"/console/audit\" class=\"filters\" role=\"search\"")
                .append(" aria-label=\"Audit records\">");
        for (String[] f : FIELDS) {
            String id = "f-" + f[0];
            b.append("<div><label for=\"").append(id).append("\">").append(f[1]).append("</label><input id=\"")
                    .append(id).append("\" name=\"").append(f[0]).append("\" value=\"")
                    .append(Html.esc(values.get(f[0]))).append("\"")
                    .append(f[2].isEmpty() ? "" : " aria-describedby=\"" + id + "-hint\"").append(">");
            if (!f[2].isEmpty()) {
                b.append("<small id=\"").append(id).append("-hint\">").append(Html.esc(f[2])).append("</small>");
            }
            b.append("</div>");
        }
        b.append("<div><label for=\"f-outcome\">Outcome</label><select id=\"f-outcome\" name=\"outcome\">")
                .append("<option value=\"\">any</option>");
        for (String o : AuditQueries.OUTCOMES.stream().sorted().toList()) {
            b.append("<option").append(o.equals(values.get("outcome")) ? " selected" : "").append('>').append(o)
                    .append("</option>");
        }
        b.append("</select></div><div class=\"buttons\"><button type=\"submit\" id=\"search\">Search</button></div>")
                .append("</form>");
        AuditQueries.Filter filter;
        try {
            filter = filter(values);
        } catch (IllegalArgumentException e) {
            ctx.status(400).html(Html.page("Audit search", user, "/console/audit",
                    b + Html.notice("error", e.getMessage())));
            return;
        }
        long after = SessionPages.longParam(ctx, "after", 0);
        AuditQueries.StatementPage page = queries.search(filter, new AuditQueries.Page(PAGE, after, true));
        String query = query(values);
        b.append("<p class=\"exports\">Export everything this filter finds: ");
        for (String format : List.of("csv", "jsonl", "ocsf")) {
            b.append("<a class=\"button\" id=\"export-").append(format).append("\" href=\"/console/audit/export?format=")
                    .append(format).append(query.isEmpty() ? "" : "&amp;" + Html.esc(query)).append("\">")
                    .append(format.toUpperCase(Locale.ROOT)).append("</a> ");
        }
        b.append("<small>(holds PHI; your export is recorded)</small></p>");
        if (page.statements().isEmpty()) {
            b.append("<p id=\"no-results\">No statement matches.</p>");
        } else {
            b.append("<table id=\"results\"><caption>Statements, newest first").append(after > 0 ? " (continued)" : "")
                    .append("</caption><thead><tr><th scope=\"col\">Record</th><th scope=\"col\">Time</th>")
                    .append("<th scope=\"col\">Identity</th><th scope=\"col\">Session</th>")
                    .append("<th scope=\"col\">Upstream</th><th scope=\"col\">Statement</th>")
                    .append("<th scope=\"col\">Outcome</th><th scope=\"col\">Rows</th></tr></thead><tbody>");
            for (AuditQueries.Statement st : page.statements()) {
                b.append("<tr><td>").append(st.seq()).append("</td><td>").append(Html.time(st.time()))
                        .append("</td><td>").append(Html.esc(st.subject())).append("</td><td><a href=\"/console/sessions/")
                        .append(Html.esc(st.sessionId())).append("#r").append(st.seq()).append("\">")
                        .append(Html.esc(st.sessionId())).append("</a> #").append(st.statementId()).append("</td><td>")
                        .append(Html.esc(st.upstream())).append("</td><td><code>").append(Html.clip(st.text(), 100))
                        .append("</code></td><td>").append(Html.esc(st.outcome() == null ? "incomplete" : st.outcome()))
                        .append(st.sqlState() == null ? "" : " <small>" + Html.esc(st.sqlState()) + "</small>")
                        .append(st.refusalReason() == null ? ""
                                : "<div class=\"reason\">" + Html.esc(st.refusalReason()) + "</div>")
                        .append("</td><td>").append(st.rows() == null ? "" : st.rows()).append("</td></tr>");
            }
            b.append("</tbody></table>");
        }
        if (page.nextAfter() != null) {
            b.append("<p><a rel=\"next\" href=\"/console/audit?").append(Html.esc(query)).append(query.isEmpty() ? ""
                    : "&amp;").append("after=").append(page.nextAfter()).append("\">Older: next ").append(PAGE)
                    .append("</a></p>");
        }
        ctx.html(Html.page("Audit search", user, "/console/audit", b.toString()));
    }

    void export(Context ctx, ConsoleUser user) throws Exception {
        Map<String, String> values = values(ctx);
        AuditExport.Format format;
        AuditQueries.Filter filter;
        try {
            format = AuditExport.Format.valueOf(String.valueOf(ctx.queryParam("format")).toUpperCase(Locale.ROOT));
            filter = filter(values);
        } catch (IllegalArgumentException e) {
            ctx.status(400).html(Html.page("Audit export", user, "/console/audit", Html.notice("error",
                    "Cannot export: " + e.getMessage() + " (format is csv, jsonl or ocsf).")));
            return;
        }
        String described = format.name().toLowerCase(Locale.ROOT) + " " + filter;
        try {
            console.record(ctx, user.identity(), "export", "ok", values.get("session"), described, true);
        } catch (AuditUnavailableException e) {
            ctx.status(503).html(Html.page("Audit export", user, "/console/audit",
                    Html.notice("error", "Not exported: the audit store cannot record the export (" + e.getMessage()
                            + ").")));
            return;
        }
        String ext = format == AuditExport.Format.CSV ? "csv" : "jsonl";
        ctx.header("Content-Disposition", "attachment; filename=\"phigate-audit-"
                + clock.instant().toString().replace(':', '-') + "." + ext + "\"");
        ctx.contentType(format == AuditExport.Format.CSV ? "text/csv; charset=utf-8" : "application/x-ndjson");
        Writer out = new BufferedWriter(new OutputStreamWriter(ctx.res().getOutputStream(), StandardCharsets.UTF_8));
        AuditExport.writeSearch(queries, format, filter, out);
        out.flush();
    }

    private static Map<String, String> values(Context ctx) {
        Map<String, String> v = new LinkedHashMap<>();
        for (String[] f : FIELDS) {
            put(v, f[0], ctx.queryParam(f[0]));
        }
        put(v, "outcome", ctx.queryParam("outcome"));
        return v;
    }

    private static void put(Map<String, String> v, String key, String value) {
        if (value != null && !value.isBlank()) {
            v.put(key, value.strip());
        }
    }

    private AuditQueries.Filter filter(Map<String, String> v) {
        Instant since = v.containsKey("since") ? AuditQueries.parseTime(v.get("since"), clock) : null;
        Instant until = v.containsKey("until") ? AuditQueries.parseTime(v.get("until"), clock) : null;
        return new AuditQueries.Filter(v.get("subject"), v.get("issuer"), v.get("session"), v.get("upstream"),
                v.get("outcome"), v.get("kind"), since, until, v.get("text"))
                .withTable(v.get("table")).withColumn(v.get("column")).withPhiType(v.get("phi_type"))
                .withApproval(v.get("approval"));
    }

    private static String query(Map<String, String> v) {
        StringBuilder b = new StringBuilder();
        v.forEach((k, value) -> b.append(b.isEmpty() ? "" : "&").append(k).append('=')
                .append(URLEncoder.encode(value, StandardCharsets.UTF_8)));
        return b.toString();
    }
}
