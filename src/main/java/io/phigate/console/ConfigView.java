package io.phigate.console;

import io.phigate.config.GatewayConfig;
import io.phigate.config.IssuerConfig;
import io.phigate.config.UpstreamConfig;
import io.phigate.policy.PhiCatalog;
import io.phigate.policy.RiskRule;
import io.phigate.policy.Role;
import java.util.Map;

/**
 * The admin's read-only view of the running configuration and policy: listeners, upstreams, issuers, the audit
 * store, limits, roles and risk rules. Secrets are configured by reference (an environment variable or a file)
 * and only the reference is shown, never a value.
 */
final class ConfigView {
    private ConfigView() {
    }

    static String render(Console.Parts parts) {
        GatewayConfig c = parts.gateway();
        StringBuilder b = new StringBuilder("<p>As loaded at start; change the files and restart to change it.</p>");
        b.append("<h2>Listeners</h2><dl class=\"facts\"><dt>PostgreSQL</dt><dd>").append(Html.esc(c.listen().postgres()))
                .append("</dd><dt>HTTP</dt><dd>").append(Html.esc(c.listen().http())).append("</dd><dt>Client TLS</dt><dd>")
                .append(Html.esc(c.tls().mode())).append("</dd></dl>");
        b.append("<h2>Upstreams</h2><table><caption>Databases behind the gateway</caption><thead><tr>")
                .append("<th scope=\"col\">Name</th><th scope=\"col\">Address</th><th scope=\"col\">Database</th>")
                .append("<th scope=\"col\">Credentials</th><th scope=\"col\">TLS</th></tr></thead><tbody>");
        for (UpstreamConfig u : c.upstreams().values()) {
            b.append("<tr><td>").append(Html.esc(u.name())).append("</td><td>").append(Html.esc(u.address()))
                    .append("</td><td>").append(Html.esc(u.database())).append("</td><td>")
                    .append(Html.esc(u.credentials().mode())).append(" as ").append(Html.esc(u.credentials().user()))
                    .append(u.credentials().group() == null ? "" : ", group " + Html.esc(u.credentials().group()))
                    .append(", password from ").append(Html.esc(u.credentials().password())).append("</td><td>")
                    .append(Html.esc(u.tls() == null ? "" : u.tls().mode())).append("</td></tr>");
        }
        b.append("</tbody></table><h2>Token issuers</h2><ul>");
        for (IssuerConfig i : c.identity().issuers()) {
            b.append("<li>").append(Html.esc(i.issuer())).append(" (audience ").append(Html.esc(i.audiences()))
                    .append(", keys from ").append(i.jwksFile() != null ? Html.esc(i.jwksFile())
                            : i.jwksUrl() != null ? Html.esc(i.jwksUrl()) : "discovery").append(")</li>");
        }
        b.append("</ul><h2>Audit store</h2><dl class=\"facts\"><dt>Store</dt><dd>")
                .append(c.audit().postgres() == null ? "SQLite " + Html.esc(c.audit().sqlitePath()) : "PostgreSQL")
                .append("</dd><dt>Replica</dt><dd>").append(Html.esc(c.audit().replica()))
                .append("</dd><dt>Responses recorded</dt><dd>").append(c.audit().responseCap() == 0 ? "no"
                        : "first " + Html.bytes(c.audit().responseCap()) + " of each")
                .append("</dd><dt>Checkpoints</dt><dd>").append(c.audit().checkpoints() == null ? "off"
                        : "signed with " + Html.esc(c.audit().checkpoints().keyFile()))
                .append("</dd><dt>Encryption at rest</dt><dd>").append(c.audit().encryption() == null ? "off" : "on")
                .append("</dd><dt>Retention</dt><dd>").append(c.audit().retention() == null ? "not set"
                        : c.audit().retention().toDays() + " days").append("</dd></dl>");
        b.append("<h2>Limits</h2><dl class=\"facts\"><dt>Sessions</dt><dd>").append(c.limits().maxSessions())
                .append("</dd><dt>Frame size</dt><dd>").append(Html.bytes(c.limits().maxFrameBytes()))
                .append("</dd><dt>Connections per address</dt><dd>").append(c.limits().connectRatePerAddress())
                .append("/s, burst ").append(c.limits().connectBurstPerAddress()).append("</dd></dl>");
        b.append("<h2>Policy</h2><p>").append(c.policy() == null ? "No policy file." : "From "
                + Html.esc(c.policy())).append("</p>");
        for (Map.Entry<String, PhiCatalog> e : parts.policy().phi().entrySet()) {
            b.append("<p>Upstream ").append(Html.esc(e.getKey())).append(": ").append(e.getValue().columns().size())
                    .append(" PHI columns tagged.</p>");
        }
        b.append("<h3>Roles</h3><ul>");
        for (Role r : parts.policy().roles()) {
            b.append("<li><strong>").append(Html.esc(r.name())).append("</strong>: upstreams ")
                    .append(Html.esc(r.upstreams())).append(", ").append(r.allow().size()).append(" allow rules")
                    .append(r.unmasked().isEmpty() ? "" : ", unmasked " + Html.esc(r.unmasked()))
                    .append(r.rowLimit() > 0 ? ", row limit " + r.rowLimit() : "").append(", justification ")
                    .append(Html.esc(r.justification())).append("</li>");
        }
        b.append("</ul><h3>Risk rules</h3><ul>");
        for (RiskRule r : parts.policy().rules()) {
            b.append("<li><strong>").append(Html.esc(r.name())).append("</strong>: ").append(r.deny() != null
                    ? "deny (" + Html.esc(r.deny()) + ")" : "approval by " + Html.esc(r.approval().group()) + ", "
                    + Html.esc(r.approval().mode())).append("</li>");
        }
        b.append("</ul><h3>Console roles</h3><ul>");
        parts.config().roles().forEach((role, matches) -> b.append("<li>").append(Html.esc(role)).append(": ")
                .append(Html.esc(matches)).append("</li>"));
        return b.append("</ul>").toString();
    }
}
