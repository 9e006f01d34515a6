package io.phigate.audit;

import io.phigate.audit.AccessReport.FailedConnection;
import io.phigate.audit.AccessReport.Identity;
import io.phigate.audit.AccessReport.Model;
import io.phigate.audit.AccessReport.Session;
import io.phigate.audit.AccessReport.Verification;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Renders an {@link AccessReport.Model} as one HTML file that stands alone: inline CSS, no script, nothing
 * fetched, and a Content-Security-Policy that forbids both should a value ever slip through unescaped. Every
 * value from the store passes through {@link #text}: subjects, application names and reasons are chosen by
 * agents, and an agent that names itself {@code <script>} must appear as that text.
 */
final class AccessReportHtml {

    private static final String CSS = """
            body{font-family:system-ui,sans-serif;margin:2rem;color:#111;line-height:1.4}
            table{border-collapse:collapse;margin:0 0 1.5rem}
            caption{text-align:left;font-weight:600;padding:.3rem 0}
            th,td{border:1px solid #999;padding:.25rem .5rem;text-align:left;vertical-align:top}
            thead th{background:#eee}
            td.n{text-align:right;font-variant-numeric:tabular-nums}
            dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}
            dt{font-weight:600}
            dd{margin:0}
            .intact{border-left:.4rem solid #1a7f37;padding:.3rem .6rem}
            .tampered{border-left:.4rem solid #b00020;padding:.3rem .6rem}
            .note{border-left:.4rem solid #888;padding:.3rem .6rem}
            code,.id{font-family:ui-monospace,monospace;overflow-wrap:break-word}
            th.id{min-width:12rem}
            .scroll{overflow-x:auto;max-width:100%}
            """;

    private final StringBuilder out = new StringBuilder(16_384);

    private AccessReportHtml() {
    }

    static String render(Model m) {
        var h = new AccessReportHtml();
        h.document(m);
        return h.out.toString();
    }

    private void document(Model m) {
        raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        raw("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
        raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        raw("<title>phigate access report, ").text(m.since().toString()).raw(" to ").text(m.until().toString()).raw("</title>\n");
        raw("<style>\n").raw(CSS).raw("</style>\n</head>\n<body>\n<header>\n<h1>phigate access report</h1>\n<dl>\n");
        term("Audit store", m.store());
        term("Period (UTC)", m.since() + " (inclusive) to " + m.until() + " (exclusive)");
        term("Generated", m.generated().toString());
        term("Identities", Long.toString(m.identities().size()));
        term("Failed connection attempts", Long.toString(m.failedConnections().size()));
        raw("</dl>\n</header>\n<main>\n");
        verification(m.verification());
        summary(m.identities());
        for (int i = 0; i < m.identities().size(); i++) {
            identity(m.identities().get(i), i + 1);
        }
        failedConnections(m.failedConnections());
        notCovered();
        raw("</main>\n<footer>\n<p id=\"fn-phi\"><small>* Statement text and bound parameter values are PHI: this"
                + " report does not include them, only counts and identities. They stay in the audit store; an"
                + " authorised reviewer reads them with <code>phigate audit search</code> and"
                + " <code>phigate audit session</code>.</small></p>\n</footer>\n</body>\n</html>\n");
    }

    private void verification(Verification v) {
        raw("<section aria-labelledby=\"verification\">\n<h2 id=\"verification\">Integrity of the audit log</h2>\n");
        if (v.intact()) {
            raw("<p class=\"intact\"><strong>INTACT</strong>: every record of the store matches its hash and follows"
                    + " the one before it");
            raw(v.checkpointsChecked() ? ", and every signed checkpoint holds." : ".");
        } else {
            raw("<p class=\"tampered\"><strong>TAMPERED</strong>: the log does not verify; the figures below come"
                    + " from a store that was altered and cannot be relied on.");
        }
        raw(" The whole store was verified, not only the period: ").text(Long.toString(v.records()))
                .raw(" chained records");
        if (v.unchained() > 0) {
            raw(" and ").text(Long.toString(v.unchained())).raw(" older records written before the store had chains");
        }
        raw(".</p>\n");
        if (!v.problems().isEmpty()) {
            raw("<ul>\n");
            for (String p : v.problems()) {
                raw("<li>").text(p).raw("</li>\n");
            }
            raw("</ul>\n");
        }
        if (!v.checkpointsChecked()) {
            raw("<p class=\"note\">Signed checkpoints were not checked: no public key was given"
                    + " (<code>--public-key</code>).</p>\n");
        } else {
            raw("<p>").text(Integer.toString(v.checkpointsVerified())).raw(" signed checkpoint(s) verified.</p>\n");
        }
        raw("<table>\n<caption>Records and the last covering signed checkpoint, per gateway replica</caption>\n"
                + "<thead><tr><th scope=\"col\">Replica</th><th scope=\"col\">Records</th>"
                + "<th scope=\"col\">Last covering checkpoint (records)</th></tr></thead>\n<tbody>\n");
        for (var e : new TreeMap<>(v.recordsPerReplica()).entrySet()) {
            Long cp = v.lastCheckpointSize().get(e.getKey());
            raw("<tr><th scope=\"row\" class=\"id\">").text(e.getKey()).raw("</th>");
            number(e.getValue());
            raw("<td>").text(cp != null ? cp.toString() : v.checkpointsChecked() ? "none yet" : "not checked")
                    .raw("</td></tr>\n");
        }
        raw("</tbody>\n</table>\n</section>\n");
    }

    private void summary(List<Identity> identities) {
        raw("<section aria-labelledby=\"summary\">\n<h2 id=\"summary\">Activity by identity</h2>\n");
        if (identities.isEmpty()) {
            raw("<p>No session or statement in the period.</p>\n</section>\n");
            return;
        }
        raw("<div class=\"scroll\"><table id=\"identities\">\n<caption>Sessions and statements<a href=\"#fn-phi\">*</a>"
                + " per agent identity in the period; rows returned count ok SELECT and FETCH results; PHI values"
                + " are those results delivered (one column of one row), from the completion records</caption>\n"
                + "<thead><tr>"
                + "<th scope=\"col\">Subject</th><th scope=\"col\">Issuer</th><th scope=\"col\">Sessions</th>"
                + "<th scope=\"col\">Statements</th>");
        for (String o : AccessReport.OUTCOME_ORDER) {
            raw("<th scope=\"col\">").text(o).raw("</th>");
        }
        raw("<th scope=\"col\">Rows returned</th><th scope=\"col\">PHI values unmasked</th>"
                + "<th scope=\"col\">PHI values masked</th><th scope=\"col\">First activity</th>"
                + "<th scope=\"col\">Last activity</th><th scope=\"col\">Upstreams</th></tr></thead>\n<tbody>\n");
        for (int i = 0; i < identities.size(); i++) {
            Identity id = identities.get(i);
            raw("<tr><th scope=\"row\" class=\"id\"><a href=\"#identity-").raw(Integer.toString(i + 1)).raw("\">")
                    .text(id.subject()).raw("</a></th><td class=\"id\">").text(id.issuer()).raw("</td>");
            number(id.sessionCount());
            number(id.statements());
            for (String o : AccessReport.OUTCOME_ORDER) {
                number(id.statementsByOutcome().getOrDefault(o, 0L));
            }
            number(id.rowsReturned());
            number(id.phiValuesUnmasked());
            number(id.phiValuesMasked());
            cell(id.firstActivity());
            cell(id.lastActivity());
            cell(String.join(", ", id.upstreams()));
            raw("</tr>\n");
        }
        raw("</tbody>\n</table></div>\n</section>\n");
    }

    private void identity(Identity id, int n) {
        String anchor = "identity-" + n;
        raw("<section aria-labelledby=\"").raw(anchor).raw("\">\n<h2 id=\"").raw(anchor).raw("\">Identity <span class=\"id\">")
                .text(id.subject()).raw("</span></h2>\n<dl>\n");
        term("Subject", id.subject());
        term("Issuer", id.issuer());
        term("Sessions", Long.toString(id.sessionCount()));
        term("Statements", Long.toString(id.statements()));
        StringBuilder byOutcome = new StringBuilder();
        for (Map.Entry<String, Long> e : id.statementsByOutcome().entrySet()) {
            byOutcome.append(byOutcome.isEmpty() ? "" : ", ").append(e.getKey()).append(' ').append(e.getValue());
        }
        term("By outcome", byOutcome.toString());
        term("Refused by the gateway", Long.toString(id.refused()));
        term("Errors from the database", Long.toString(id.errors()));
        term("Rows returned", Long.toString(id.rowsReturned()));
        term("First activity", id.firstActivity());
        term("Last activity", id.lastActivity());
        term("Upstreams used", String.join(", ", id.upstreams()));
        term("Tables touched", id.tables().isEmpty() ? "not recorded (no statement analysis for this session)"
                : String.join(", ", id.tables()));
        term("PHI values delivered unmasked", id.phiValuesUnmasked() + (id.phiTypesUnmasked().isEmpty() ? ""
                : " (" + String.join(", ", id.phiTypesUnmasked()) + ")"));
        term("PHI values delivered masked", id.phiValuesMasked() + (id.phiTypesMasked().isEmpty() ? ""
                : " (" + String.join(", ", id.phiTypesMasked()) + ")"));
        raw("</dl>\n<table>\n<caption>Sessions of ").text(id.subject()).raw(" with activity in the period</caption>\n"
                + "<thead><tr><th scope=\"col\">Session</th><th scope=\"col\">Start</th><th scope=\"col\">End</th>"
                + "<th scope=\"col\">Statements in the period</th><th scope=\"col\">Client address</th>"
                + "<th scope=\"col\">Upstream</th><th scope=\"col\">Application name</th></tr></thead>\n<tbody>\n");
        for (Session s : id.sessions()) {
            raw("<tr><th scope=\"row\" class=\"id\">").text(s.sessionId()).raw("</th>");
            cell(s.start() == null ? "unknown (no start record)" : s.start());
            cell(s.end() == null ? "open, or ended without a record" : s.end());
            number(s.statements());
            cell(s.clientAddress());
            cell(s.upstream());
            cell(s.applicationName());
            raw("</tr>\n");
        }
        raw("</tbody>\n</table>\n</section>\n");
    }

    private void failedConnections(List<FailedConnection> failed) {
        raw("<section aria-labelledby=\"failed\">\n<h2 id=\"failed\">Failed connection attempts</h2>\n");
        if (failed.isEmpty()) {
            raw("<p>None in the period.</p>\n</section>\n");
            return;
        }
        raw("<table>\n<caption>Connections refused before a session began; subject and issuer are as claimed,"
                + " not verified</caption>\n<thead><tr><th scope=\"col\">Time</th><th scope=\"col\">Client address</th>"
                + "<th scope=\"col\">Claimed subject</th><th scope=\"col\">Claimed issuer</th>"
                + "<th scope=\"col\">Upstream</th><th scope=\"col\">SQLSTATE</th><th scope=\"col\">Reason</th>"
                + "</tr></thead>\n<tbody>\n");
        for (FailedConnection f : failed) {
            raw("<tr><th scope=\"row\">").text(f.time()).raw("</th>");
            cell(f.clientAddress());
            cell(f.claimedSubject());
            cell(f.claimedIssuer());
            cell(f.upstream());
            cell(f.sqlState());
            cell(f.reason());
            raw("</tr>\n");
        }
        raw("</tbody>\n</table>\n</section>\n");
    }

    /** Said, not left out: an auditor must know what each figure counts and what it cannot show. */
    private void notCovered() {
        raw("<section aria-labelledby=\"not-covered\">\n<h2 id=\"not-covered\">What the figures count</h2>\n"
                + "<ul class=\"note\">\n"
                + "<li>Tables touched: the tables the gateway's analysis found in each statement, whether it read,"
                + " wrote or only referenced them.</li>\n"
                + "<li>PHI values delivered: from each statement's completion record, the PHI columns its results"
                + " carried times the rows delivered. A column a statement only filters, sorts or aggregates on,"
                + " a DECLARE or a PREPARE, and a refused statement count nothing. A statement with several results"
                + " is counted against its widest. A binary COPY is refused, and a COPY whose PHI the role sees"
                + " unmasked is streamed without a completion note, so it is not counted here.</li>\n"
                + "<li>Approvals: statements held for approval and then refused are counted under"
                + " <em>refused</em>; the decisions themselves are <code>approval_decided</code> records.</li>\n"
                + "</ul>\n</section>\n");
    }

    private void term(String name, String value) {
        raw("<dt>").text(name).raw("</dt><dd>").text(value).raw("</dd>\n");
    }

    private void cell(String value) {
        raw("<td>").text(value).raw("</td>");
    }

    private void number(long value) {
        raw("<td class=\"n\">").raw(Long.toString(value)).raw("</td>");
    }

    private AccessReportHtml raw(String html) {
        out.append(html);
        return this;
    }

    /** Appends {@code value} as text: markup characters escaped, control characters shown as {@code \\uXXXX}. */
    private AccessReportHtml text(String value) {
        out.append(escape(value));
        return this;
    }

    /** Null is shown as an em dash, which no stored value is confused with in a table. */
    static String escape(String value) {
        if (value == null) {
            return "\u2014";
        }
        var s = new StringBuilder(value.length() + 16);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '&' -> s.append("&amp;");
                case '<' -> s.append("&lt;");
                case '>' -> s.append("&gt;");
                case '"' -> s.append("&quot;");
                case '\'' -> s.append("&#39;");
                default -> {
                    if (!printable(value, i)) {
                        s.append(String.format("\\u%04x", (int) c));
                    } else {
                        s.append(c);
                    }
                }
            }
        }
        return s.toString();
    }

    /** Controls are not allowed in HTML text, and a lone surrogate is not text at all. */
    private static boolean printable(String v, int i) {
        char c = v.charAt(i);
        if (c < 0x20) {
            return c == '\t' || c == '\n';
        }
        if (c >= 0x7f && c < 0xa0) {
            return false;
        }
        if (Character.isHighSurrogate(c)) {
            return i + 1 < v.length() && Character.isLowSurrogate(v.charAt(i + 1));
        }
        if (Character.isLowSurrogate(c)) {
            return i > 0 && Character.isHighSurrogate(v.charAt(i - 1));
        }
        return true;
    }
}
