package io.phigate.console;

import io.phigate.config.GatewayConfig;
import io.phigate.identity.IssuerConfig;
import io.phigate.mask.SecretRef;
import io.phigate.config.UpstreamConfig;
import io.phigate.mask.PhiType;
import io.phigate.policy.Match;
import io.phigate.policy.PhiCatalog;
import io.phigate.policy.RiskRule;
import io.phigate.policy.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The admin's read-only view of the running configuration and policy: listeners, upstreams, issuers, the audit
 * store, limits, roles and risk rules, each value spelled as the config and policy files spell it (lower-case
 * enum values, {@code 10m}, {@code { issuer: ..., claims: { groups: ... } }}), so what is shown can be found in
 * the files. Secrets are configured by reference (an environment variable or a file) and only the reference is
 * shown, never a value. A section with nothing in it says so rather than standing empty.
 */
final class ConfigView {
    private ConfigView() {
    }

    static String render(Console.Parts parts) {
        GatewayConfig c = parts.gateway();
        StringBuilder b = new StringBuilder("<p>As loaded at start; change the files and restart to change it.</p>");
        b.append("<h2>Listeners</h2><dl class=\"facts\"><dt>postgres</dt><dd>").append(Html.esc(c.listen().postgres()))
                .append("</dd><dt>http</dt><dd>").append(c.listen().http() == null ? "off" : Html.esc(c.listen().http()))
                .append("</dd><dt>tls.mode</dt><dd>").append(Html.esc(spell(c.tls().mode()))).append("</dd></dl>");
        b.append("<h2>Upstreams</h2><table><caption>Databases behind the gateway</caption><thead><tr>")
                .append("<th scope=\"col\">Name</th><th scope=\"col\">address</th><th scope=\"col\">database</th>")
                .append("<th scope=\"col\">credentials</th><th scope=\"col\">tls.mode</th></tr></thead><tbody>");
        for (UpstreamConfig u : c.upstreams().values()) {
            b.append("<tr><td>").append(Html.esc(u.name())).append("</td><td>").append(Html.esc(u.address()))
                    .append("</td><td>").append(Html.esc(u.database())).append("</td><td>mode: ")
                    .append(Html.esc(spell(u.credentials().mode()))).append(", user: ")
                    .append(Html.esc(u.credentials().user()))
                    .append(u.credentials().group() == null ? "" : ", group: " + Html.esc(u.credentials().group()))
                    .append(", ").append(Html.esc(secret(u.credentials().password()))).append("</td><td>")
                    .append(Html.esc(u.tls() == null ? "" : spell(u.tls().mode()))).append("</td></tr>");
        }
        b.append("</tbody></table><h2>Token issuers</h2><ul>");
        for (IssuerConfig i : c.identity().issuers()) {
            b.append("<li>").append(Html.esc(i.issuer())).append(" (audience: ").append(Html.esc(spell(i.audiences())))
                    .append(", keys from ").append(i.jwksFile() != null ? "jwks_file: " + Html.esc(i.jwksFile())
                            : i.jwksUrl() != null ? "jwks_url: " + Html.esc(i.jwksUrl()) : "discovery").append(")</li>");
        }
        b.append("</ul><h2>Audit store</h2><dl class=\"facts\"><dt>store</dt><dd>")
                .append(c.audit().postgres() == null ? "sqlite:" + Html.esc(c.audit().sqlitePath()) : "postgres")
                .append("</dd><dt>replica</dt><dd>").append(Html.esc(c.audit().replica()))
                .append("</dd><dt>response_cap</dt><dd>").append(c.audit().responseCap() == 0 ? "0 (responses not recorded)"
                        : Html.bytes(c.audit().responseCap()) + " of each response recorded")
                .append("</dd><dt>checkpoints</dt><dd>").append(c.audit().checkpoints() == null ? "off"
                        : "key_file: " + Html.esc(c.audit().checkpoints().keyFile()))
                .append("</dd><dt>encryption</dt><dd>").append(c.audit().encryption() == null ? "off" : "on")
                .append("</dd><dt>retention</dt><dd>").append(c.audit().retention() == null ? "not set"
                        : Html.esc(spell(c.audit().retention()))).append("</dd></dl>");
        b.append("<h2>Limits</h2><dl class=\"facts\"><dt>max_sessions</dt><dd>").append(c.limits().maxSessions())
                .append("</dd><dt>max_frame_bytes</dt><dd>").append(Html.bytes(c.limits().maxFrameBytes()))
                .append("</dd><dt>connect_rate_per_address</dt><dd>").append(c.limits().connectRatePerAddress())
                .append(" per second</dd><dt>connect_burst_per_address</dt><dd>")
                .append(c.limits().connectBurstPerAddress()).append("</dd></dl>");
        policy(b, c, parts);
        b.append("<h3>Console roles</h3>");
        if (parts.config().roles().isEmpty()) {
            b.append("<p>None: nobody may sign in to the console.</p>");
        } else {
            b.append("<ul>");
            parts.config().roles().forEach((role, matches) -> b.append("<li>").append(Html.esc(role)).append(": ")
                    .append(Html.esc(spell(matches))).append("</li>"));
            b.append("</ul>");
        }
        return b.toString();
    }

    private static void policy(StringBuilder b, GatewayConfig c, Console.Parts parts) {
        b.append("<h2>Policy</h2><p>").append(c.policy() == null ? "No policy file." : "From "
                + Html.esc(c.policy())).append("</p>");
        for (Map.Entry<String, PhiCatalog> e : parts.policy().phi().entrySet()) {
            b.append("<p>phi.").append(Html.esc(e.getKey())).append(": ").append(e.getValue().columns().size())
                    .append(" PHI columns tagged.</p>");
        }
        b.append("<h3>Roles</h3>");
        if (parts.policy().roles().isEmpty()) {
            b.append("<p>None: every verified identity is admitted and sees PHI masked.</p>");
        } else {
            b.append("<ul>");
            for (Role r : parts.policy().roles()) {
                b.append("<li><strong>").append(Html.esc(r.name())).append("</strong>: match: ")
                        .append(Html.esc(spell(r.match()))).append(", upstreams: ").append(Html.esc(spell(r.upstreams())))
                        .append(", allow: ").append(r.allow().isEmpty() ? "everything" : r.allow().size() + " rules")
                        .append(r.unmasked().isEmpty() ? "" : ", unmasked: " + Html.esc(spell(r.unmasked())))
                        .append(r.rowLimit() > 0 ? ", row_limit: " + r.rowLimit() : "").append(", justification: ")
                        .append(Html.esc(spell(r.justification()))).append("</li>");
            }
            b.append("</ul>");
        }
        b.append("<h3>Risk rules</h3>");
        if (parts.policy().rules().isEmpty()) {
            b.append("<p>None: no statement is held for approval or denied by a rule.</p>");
        } else {
            b.append("<ul>");
            for (RiskRule r : parts.policy().rules()) {
                b.append("<li><strong>").append(Html.esc(r.name())).append("</strong>: ");
                if (r.deny() != null) {
                    b.append("deny: ").append(Html.esc(r.deny()));
                } else {
                    RiskRule.Approval a = r.approval();
                    b.append("require_approval: { group: ").append(Html.esc(a.group())).append(", approvers: ")
                            .append(a.approvers()).append(", timeout: ").append(Html.esc(spell(a.timeout())))
                            .append(", mode: ").append(Html.esc(spell(a.mode()))).append(" }");
                }
                b.append("</li>");
            }
            b.append("</ul>");
        }
    }

    /** A secret's reference as the config writes it: which variable or file, never the value. */
    private static String secret(SecretRef s) {
        return s == null ? "no password" : s.env() != null ? "password from environment variable " + s.env()
                : "password from file " + s.file();
    }

    /** A value as the config and policy files spell it. */
    static String spell(Object v) {
        return switch (v) {
            case null -> "";
            case PhiType t -> t.policyName();
            case Enum<?> e -> e.name().toLowerCase(Locale.ROOT).replace('_', '-');
            case Duration d -> duration(d);
            case Match m -> match(m);
            case Collection<?> items -> "[" + String.join(", ", items.stream().map(ConfigView::spell).toList()) + "]";
            case Map<?, ?> map -> {
                List<String> entries = new ArrayList<>();
                map.forEach((k, val) -> entries.add(spell(k) + ": " + spell(val)));
                yield "{ " + String.join(", ", entries) + " }";
            }
            default -> v.toString();
        };
    }

    private static String match(Match m) {
        List<String> parts = new ArrayList<>();
        if (m.issuer() != null) {
            parts.add("issuer: " + m.issuer());
        }
        if (m.subject() != null) {
            parts.add("subject: " + m.subject());
        }
        if (m.claims() != null && !m.claims().isEmpty()) {
            parts.add("claims: " + spell(m.claims()));
        }
        return "{ " + String.join(", ", parts) + " }";
    }

    /** The largest whole unit, as the config writes durations: 10m, 1h, 7d, 30s, 250ms. */
    static String duration(Duration d) {
        long ms = d.toMillis();
        long[] units = {86_400_000, 3_600_000, 60_000, 1_000};
        String[] names = {"d", "h", "m", "s"};
        for (int i = 0; i < units.length; i++) {
            if (ms != 0 && ms % units[i] == 0) {
                return ms / units[i] + names[i];
            }
        }
        return ms + "ms";
    }
}
