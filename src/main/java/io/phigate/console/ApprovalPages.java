package io.phigate.console;

import io.javalin.http.Context;
import io.phigate.approval.ApprovalRequest;
import io.phigate.approval.ApprovalView;
import io.phigate.approval.Approvals;
import java.util.List;
import java.util.Locale;

/**
 * The approvals queue: pending requests (refreshed in place every two seconds by the page's script, and complete
 * without it on reload), one request with everything an approver needs to decide, the decision form, and the
 * history. Deciding goes through {@link Approvals#decide}, which enforces the approver group, separation of duties
 * (never one's own request, never a workload identity) and the count of distinct approvers, whatever the page showed.
 */
final class ApprovalPages {
    private static final int HISTORY_ROWS = 200;

    private final Approvals approvals;

    ApprovalPages(Approvals approvals) {
        this.approvals = approvals;
    }

    void list(Context ctx, ConsoleUser user) {
        if (approvals == null) {
            ctx.html(Html.page("Approvals", user, "/console/approvals",
                    Html.notice("info", "Approvals are not configured on this gateway (policy approvers and rules).")));
            return;
        }
        StringBuilder b = new StringBuilder();
        b.append("<section aria-labelledby=\"pending-h\"><h2 id=\"pending-h\">Pending</h2>")
                .append("<div id=\"pending\" data-refresh=\"/console/approvals/pending.html\" aria-live=\"polite\">")
                .append(pending(user)).append("</div></section>");
        b.append("<section aria-labelledby=\"history-h\"><h2 id=\"history-h\">History</h2>");
        List<ApprovalRequest> decided = approvals.all(null).stream()
                .filter(r -> r.state() != ApprovalRequest.State.PENDING).toList().reversed();
        if (decided.isEmpty()) {
            b.append("<p>No decided requests since the gateway started. Earlier requests and"
                    + " decisions are in the audit store (search with an approval id).</p>");
        } else {
            b.append("<table><caption>Decided, expired and withdrawn requests, newest first</caption><thead><tr>")
                    .append("<th scope=\"col\">Request</th><th scope=\"col\">State</th><th scope=\"col\">Requested by</th>")
                    .append("<th scope=\"col\">Rule</th><th scope=\"col\">Decisions</th><th scope=\"col\">Created</th>")
                    .append("</tr></thead><tbody>");
            int n = 0;
            for (ApprovalRequest r : decided) {
                if (n++ >= HISTORY_ROWS) {
                    break;
                }
                b.append("<tr><td><a href=\"/console/approvals/").append(Html.esc(r.id())).append("\">")
                        .append(Html.esc(r.id())).append("</a></td><td>").append(state(r.state())).append("</td><td>")
                        .append(Html.esc(r.requester().subject())).append("</td><td>").append(Html.esc(r.rule().name()))
                        .append("</td><td>").append(decisionsInline(r)).append("</td><td>")
                        .append(Html.time(r.createdAt())).append("</td></tr>");
            }
            b.append("</tbody></table>");
        }
        b.append("</section>");
        ctx.html(Html.page("Approvals", user, "/console/approvals", b.toString()));
    }

    /** The pending table alone: what the page's script fetches to refresh it. */
    void pendingFragment(Context ctx, ConsoleUser user) {
        ctx.html(approvals == null ? "" : pending(user));
    }

    private String pending(ConsoleUser user) {
        List<ApprovalRequest> pending = approvals.all(ApprovalRequest.State.PENDING);
        if (pending.isEmpty()) {
            return "<p id=\"no-pending\">No statement is waiting for approval.</p>";
        }
        StringBuilder b = new StringBuilder("<table id=\"pending-table\"><caption>Statements waiting for approval,"
                + " oldest first</caption><thead><tr><th scope=\"col\">Request</th><th scope=\"col\">Requested by</th>"
                + "<th scope=\"col\">Upstream</th><th scope=\"col\">Rule</th><th scope=\"col\">Mode</th>"
                + "<th scope=\"col\">Tables</th><th scope=\"col\">Statement</th><th scope=\"col\">Expires</th>"
                + "<th scope=\"col\">You</th></tr></thead><tbody>");
        for (ApprovalRequest r : pending) {
            boolean canDecide = user.has(ConsoleRole.APPROVER) && approvals.inGroup(user.identity(), r);
            b.append("<tr data-approval=\"").append(Html.esc(r.id())).append("\"><td><a href=\"/console/approvals/")
                    .append(Html.esc(r.id())).append("\">").append(Html.esc(r.id())).append("</a></td><td>")
                    .append(Html.esc(r.requester().subject())).append("</td><td>").append(Html.esc(r.upstream()))
                    .append("</td><td>").append(Html.esc(r.rule().name())).append("</td><td>")
                    .append(Html.esc(mode(r))).append("</td><td>").append(Html.esc(String.join(", ", r.tables())))
                    .append("</td><td><code>").append(Html.clip(r.text(), 80)).append("</code></td><td>")
                    .append(Html.time(r.expiresAt())).append("</td><td>")
                    .append(canDecide ? "<a href=\"/console/approvals/" + Html.esc(r.id()) + "\">Review and decide</a>"
                            : "read only").append("</td></tr>");
        }
        return b.append("</tbody></table>").toString();
    }

    void show(Context ctx, ConsoleUser user) {
        ApprovalRequest r = approvals == null ? null : approvals.get(ctx.pathParam("id"));
        if (r == null) {
            ctx.status(404).html(Html.page("Approval request", user, "/console/approvals",
                    Html.notice("error", "No approval request with this id is held by this gateway.")));
            return;
        }
        ctx.html(Html.page("Approval request " + r.id(), user, "/console/approvals", detail(r, user, null)));
    }

    /**
     * One request as {@link Approvals#viewFor} gives it to this user: parameters masked per the user's own policy
     * role (all of them redacted when the user maps to none), the PHI types and the row estimate.
     */
    private String detail(ApprovalRequest r, ConsoleUser user, String message) {
        ApprovalView v = approvals.viewFor(r, user.identity());
        StringBuilder b = new StringBuilder();
        if (message != null) {
            b.append(message);
        }
        b.append("<dl class=\"facts\">");
        Html.fact(b, "State", state(r.state()));
        Html.fact(b, "Requested by", Html.esc(v.requesterSubject()) + " <small>(" + Html.esc(v.requesterIssuer())
                + ")</small>");
        Html.fact(b, "Role", v.role() == null ? "<em>none (the policy has no roles)</em>" : Html.esc(v.role()));
        Html.fact(b, "Justification", v.justification() == null ? "<em>none given</em>" : Html.esc(v.justification()));
        Html.fact(b, "Upstream", Html.esc(v.upstream()));
        Html.fact(b, "Rule", Html.esc(v.rule()) + " (" + Html.esc(v.mode()) + ", " + v.approversNeeded() + " approver"
                + (v.approversNeeded() == 1 ? "" : "s") + " from " + Html.esc(v.group()) + ")");
        Html.fact(b, "Tables", Html.esc(v.tables().isEmpty() ? "none named" : String.join(", ", v.tables())));
        Html.fact(b, "PHI types", Html.esc(v.phiTypes().isEmpty() ? "none" : String.join(", ", v.phiTypes())));
        Html.fact(b, "Row estimate", v.rowEstimate() == null ? "<em>not asked (no rows_over in the rule)</em>"
                : v.rowEstimate() + " rows (planner estimate)");
        Html.fact(b, "Session", "<a href=\"/console/sessions/" + Html.esc(v.sessionId()) + "\">" + Html.esc(v.sessionId())
                + "</a>, statement " + v.statementId());
        Html.fact(b, "Statement SHA-256", "<code>" + Html.esc(v.statementSha256()) + "</code>");
        Html.fact(b, "Requested", Html.time(v.createdAt()));
        Html.fact(b, "Expires", Html.time(v.expiresAt()));
        b.append("</dl><h2>Statement</h2><pre class=\"sql\" id=\"statement\">").append(Html.esc(v.statement()))
                .append("</pre>");
        if (!v.parameters().isEmpty()) {
            b.append("<h2>Parameters <small>(masked per your own role)</small></h2><ol class=\"params\" id=\"params\">");
            for (String p : v.parameters()) {
                b.append("<li>").append(p == null ? "<em>NULL</em>" : "<code>" + Html.esc(p) + "</code>").append("</li>");
            }
            b.append("</ol>");
        }
        b.append("<h2>Decisions</h2>");
        if (v.decisions().isEmpty()) {
            b.append("<p>None yet.</p>");
        } else {
            b.append("<ul>");
            for (ApprovalRequest.Decision d : v.decisions()) {
                b.append("<li>").append(d.approved() ? "Approved" : "Denied").append(" by ")
                        .append(Html.esc(d.subject())).append(" at ").append(Html.time(d.at()))
                        .append(d.reason() == null ? "" : ": " + Html.esc(d.reason())).append("</li>");
            }
            b.append("</ul>");
        }
        b.append("<p><a href=\"/console/audit?approval=").append(Html.esc(v.id()))
                .append("\">This request's records in the audit store</a></p>");
        if (r.state() == ApprovalRequest.State.PENDING) {
            if (user.has(ConsoleRole.APPROVER) && approvals.inGroup(user.identity(), r)) {
                b.append("<form method=\"post\" action=\"/console/approvals/").append(Html.esc(r.id()))
                        .append("/decide\" class=\"stack\" id=\"decide\">").append(Html.csrfField(user))
                        .append("<label for=\"reason\">Reason (required to deny; recorded with your decision)</label>")
                        .append("<textarea id=\"reason\" name=\"reason\" rows=\"3\"></textarea>")
                        .append("<div class=\"buttons\"><button type=\"submit\" name=\"decision\" value=\"approve\"")
                        .append(" id=\"approve\">Approve</button> <button type=\"submit\" name=\"decision\"")
                        .append(" value=\"deny\" id=\"deny\" class=\"danger\">Deny</button></div></form>");
            } else {
                b.append(Html.notice("info", "You can read this request but not decide it: deciding needs the"
                        + " approver role and membership of approver group \"" + v.group() + "\"."));
            }
        }
        return b.toString();
    }

    void decide(Context ctx, ConsoleUser user) {
        String id = ctx.pathParam("id");
        String decision = ctx.formParam("decision");
        if (!"approve".equals(decision) && !"deny".equals(decision)) {
            ctx.status(400).html(Html.page("Approval request", user, "/console/approvals",
                    Html.notice("error", "Choose approve or deny.")));
            return;
        }
        String reason = ctx.formParam("reason");
        reason = reason == null || reason.isBlank() ? null : reason.strip();
        ApprovalRequest r;
        String message;
        try {
            r = approvals.decide(id, user.identity(), "approve".equals(decision), reason);
            message = Html.notice("ok", "Your decision (" + decision + ") is recorded. The request is now "
                    + r.state().name().toLowerCase(Locale.ROOT) + ".");
        } catch (Approvals.Refused e) {
            r = approvals.get(id);
            ctx.status(e.status());
            message = Html.notice("error", "Not recorded: " + e.getMessage());
            if (r == null) {
                ctx.html(Html.page("Approval request", user, "/console/approvals", message));
                return;
            }
        }
        ctx.html(Html.page("Approval request " + r.id(), user, "/console/approvals", detail(r, user, message)));
    }

    private static String state(ApprovalRequest.State s) {
        String name = s.name().toLowerCase(Locale.ROOT);
        return "<span class=\"state " + name + "\">" + name + "</span>";
    }

    private static String mode(ApprovalRequest r) {
        return r.rule().approval().mode().name().toLowerCase(Locale.ROOT);
    }

    private static String decisionsInline(ApprovalRequest r) {
        StringBuilder b = new StringBuilder();
        for (ApprovalRequest.Decision d : r.decisions()) {
            b.append(b.isEmpty() ? "" : "; ").append(d.approved() ? "approved by " : "denied by ")
                    .append(Html.esc(d.subject()));
        }
        return b.isEmpty() ? "none" : b.toString();
    }
}
