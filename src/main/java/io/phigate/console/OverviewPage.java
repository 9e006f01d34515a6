package io.phigate.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.Context;
import io.phigate.approval.ApprovalRequest;
import io.phigate.approval.Approvals;
import io.phigate.audit.AuditQueries;
import io.phigate.audit.MaskingSummary;
import io.phigate.session.SessionRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The overview: open sessions, pending approvals, statements and refusals per minute over the last hour, and PHI
 * values delivered masked vs unmasked per identity over the last day. Counts come from the audit store, so they
 * include every replica writing to it. The PHI tally reads the completion records of at most
 * {@value #MAX_PHI_STATEMENTS} recent statements: what results carried, never what a statement merely referenced.
 */
final class OverviewPage {
    static final int MAX_PHI_STATEMENTS = 20_000;
    private static final DateTimeFormatter MINUTE = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm")
            .withZone(ZoneOffset.UTC);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final AuditQueries queries;
    private final SessionRegistry sessions;
    private final Approvals approvals;
    private final Clock clock;

    OverviewPage(AuditQueries queries, SessionRegistry sessions, Approvals approvals, Clock clock) {
        this.queries = queries;
        this.sessions = sessions;
        this.approvals = approvals;
        this.clock = clock;
    }

    void render(Context ctx, ConsoleUser user) throws Exception {
        Instant now = clock.instant();
        Instant hourAgo = now.truncatedTo(ChronoUnit.MINUTES).minus(Duration.ofMinutes(59));
        Map<String, AuditQueries.MinuteCount> byMinute = new HashMap<>();
        long requested = 0;
        long refused = 0;
        for (AuditQueries.MinuteCount m : queries.perMinute(hourAgo)) {
            byMinute.put(m.minute(), m);
            requested += m.requested();
            refused += m.refused();
        }
        List<Charts.Bar> minutes = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            String minute = MINUTE.format(hourAgo.plus(Duration.ofMinutes(i)));
            AuditQueries.MinuteCount m = byMinute.get(minute);
            long ok = m == null ? 0 : Math.max(0, m.requested() - m.refused());
            minutes.add(new Charts.Bar(minute.substring(11), ok, m == null ? 0 : m.refused()));
        }
        int pending = approvals == null ? 0 : approvals.all(ApprovalRequest.State.PENDING).size();
        StringBuilder b = new StringBuilder("<ul class=\"tiles\" aria-label=\"Now\">");
        tile(b, "open-sessions", "Open sessions", sessions == null ? 0 : sessions.size(), "/console/sessions");
        tile(b, "pending-approvals", "Approvals pending", pending, "/console/approvals");
        tile(b, "statements-hour", "Statements, last hour", requested, "/console/audit?since=1h");
        tile(b, "refused-hour", "Refused, last hour", refused, "/console/audit?since=1h&outcome=refused");
        b.append("</ul><section aria-labelledby=\"spm-h\"><h2 id=\"spm-h\">Statements per minute</h2>")
                .append(Charts.columns("spm", "Statements per minute, last 60 minutes (UTC)",
                        "Statements that ran and statements the gateway refused, per minute; " + requested
                                + " in all, " + refused + " refused.", minutes, "ran", "refused", 10))
                .append("<details><summary>The numbers</summary><table><caption>Per minute</caption><thead><tr>")
                .append("<th scope=\"col\">Minute</th><th scope=\"col\">Ran</th><th scope=\"col\">Refused</th></tr>")
                .append("</thead><tbody>");
        for (Charts.Bar m : minutes) {
            if (m.first() + m.second() > 0) {
                b.append("<tr><td>").append(m.label()).append("</td><td>").append(m.first()).append("</td><td>")
                        .append(m.second()).append("</td></tr>");
            }
        }
        b.append("</tbody></table></details></section>");
        List<Charts.Bar> phi = phiByIdentity(now.minus(Duration.ofDays(1)));
        b.append("<section aria-labelledby=\"phi-h\"><h2 id=\"phi-h\">PHI read, masked vs unmasked</h2>")
                .append("<p id=\"phi-counted\">Last 24 hours, per identity: PHI values in the rows the gateway"
                        + " delivered, from each statement's completion record. <em>Masked</em>: values of PHI"
                        + " columns that reached the agent masked. <em>Unmasked</em>: values of PHI columns delivered"
                        + " as stored because the identity's role sees that type. A value is one column of one row."
                        + " A column a statement only filters, sorts or aggregates on, a DECLARE or a PREPARE, and a"
                        + " refused statement deliver no PHI and count nothing; a statement with several results is"
                        + " counted against its widest.</p>");
        if (phi.isEmpty()) {
            b.append("<p id=\"no-phi\">No result carried PHI in the last 24 hours.</p>");
        } else {
            b.append(Charts.rows("phi", "PHI values delivered masked and unmasked, per identity",
                    "For each identity, PHI values delivered masked and unmasked in the last 24 hours.", phi,
                    "masked", "unmasked"));
            b.append("<table id=\"phi-table\"><caption>PHI values delivered per identity, last 24 hours</caption><thead><tr>")
                    .append("<th scope=\"col\">Identity</th><th scope=\"col\">Masked values</th>")
                    .append("<th scope=\"col\">Unmasked values</th></tr></thead><tbody>");
            for (Charts.Bar bar : phi) {
                b.append("<tr><td><a href=\"/console/audit?subject=").append(Html.esc(java.net.URLEncoder.encode(
                        bar.label(), java.nio.charset.StandardCharsets.UTF_8))).append("\">").append(Html.esc(bar.label()))
                        .append("</a></td><td>").append(bar.first()).append("</td><td>").append(bar.second())
                        .append("</td></tr>");
            }
            b.append("</tbody></table>");
        }
        b.append("</section>");
        ctx.html(Html.page("Overview", user, "/console", b.toString()));
    }

    /** Per identity, PHI values its statements' results delivered masked and unmasked (completion records). */
    List<Charts.Bar> phiByIdentity(Instant since) throws Exception {
        Map<String, long[]> tally = new TreeMap<>();
        queries.phiReads(since, MAX_PHI_STATEMENTS, (issuer, subject, completion, rows) -> {
            MaskingSummary summary = MaskingSummary.parse(JSON.readTree(completion).path("masking").asText(null));
            long[] t = tally.computeIfAbsent(subject == null ? "(unknown)" : subject, k -> new long[2]);
            t[0] += summary.maskedValues(rows);
            t[1] += summary.unmaskedValues(rows);
        });
        List<Charts.Bar> bars = new ArrayList<>();
        tally.forEach((who, t) -> {
            if (t[0] + t[1] > 0) {
                bars.add(new Charts.Bar(who, t[0], t[1]));
            }
        });
        return bars;
    }

    private static void tile(StringBuilder b, String id, String label, long value, String href) {
        b.append("<li><a id=\"").append(id).append("\" href=\"").append(Html.esc(href)).append("\"><span class=\"n\">")
                .append(value).append("</span> <span>").append(label).append("</span></a></li>");
    }
}
