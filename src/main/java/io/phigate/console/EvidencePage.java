package io.phigate.console;

import io.javalin.http.Context;
import io.phigate.audit.AuditQueries;
import io.phigate.audit.AuditStore;
import io.phigate.audit.AuditUnavailableException;
import io.phigate.audit.AuditVerifier;
import io.phigate.audit.Checkpoint;
import io.phigate.audit.CheckpointKeys;
import io.phigate.audit.AuditConfig;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evidence status: the audit store's health, each replica's chain and newest signed checkpoint (signature checked
 * here against the configured public key), retention, and the last verification; "verify now" runs
 * {@link AuditVerifier} over the whole store on one background thread (one run at a time) and reports records
 * checked as it goes.
 */
final class EvidencePage {
    private static final Logger log = LoggerFactory.getLogger(EvidencePage.class);

    /** One verification run; {@code report} and {@code failure} are set when it ends. */
    private static final class Run {
        final String by;
        final Instant started;
        volatile long checked;
        volatile Instant ended;
        volatile AuditVerifier.Report report;
        volatile String failure;

        Run(String by, Instant started) {
            this.by = by;
            this.started = started;
        }
    }

    private final Console console;
    private final AuditConfig config;
    private final Supplier<AuditStore.Stats> stats;
    private final Clock clock;
    private final AuditQueries queries;
    private volatile Run last;

    EvidencePage(Console console, AuditConfig config, Supplier<AuditStore.Stats> stats, Clock clock,
                 AuditQueries queries) {
        this.console = console;
        this.config = config;
        this.stats = stats;
        this.clock = clock;
        this.queries = queries;
    }

    void render(Context ctx, ConsoleUser user) {
        StringBuilder b = new StringBuilder();
        b.append("<section aria-labelledby=\"verify-h\"><h2 id=\"verify-h\">Verification</h2>")
                .append("<div id=\"verification\" data-refresh=\"/console/evidence/verify\" aria-live=\"polite\">")
                .append(verification()).append("</div><form method=\"post\" action=\"/console/evidence/verify\">")
                .append(Html.csrfField(user)).append("<button type=\"submit\" id=\"verify-now\">Verify now</button>")
                .append(" <small>re-reads every record, checkpoint and archive file</small></form></section>");
        b.append("<section aria-labelledby=\"store-h\"><h2 id=\"store-h\">Audit store</h2><dl class=\"facts\">");
        Html.fact(b, "Store", config.postgres() == null ? "SQLite, " + Html.esc(config.sqlitePath())
                : "PostgreSQL (shared)");
        try {
            List<AuditQueries.ReplicaState> replicas = queries.replicaStates();
            Html.fact(b, "Health", "<span class=\"state ok\">readable</span>");
            if (stats != null) {
                AuditStore.Stats s = stats.get();
                Html.fact(b, "Since start", s.eventsWritten() + " records made durable in " + s.commits()
                        + " group commits; " + s.failures() + " failed commits, " + s.refusals()
                        + " appends refused" + (s.failures() + s.refusals() > 0
                        ? " <span class=\"state denied\">(statements were refused: see the logs)</span>" : ""));
            }
            Duration retention = config.retention();
            Html.fact(b, "Retention", retention == null ? "not set" : retention.toDays() + " days; "
                    + queries.countBefore(clock.instant().minus(retention)) + " records are older and may be archived"
                    + " (<code>bin/phigate audit archive</code>)");
            b.append("</dl></section><section aria-labelledby=\"chains-h\"><h2 id=\"chains-h\">Chains and checkpoints"
                    + "</h2>");
            if (replicas.isEmpty()) {
                b.append("<p>No records yet.</p>");
            } else {
                b.append("<table id=\"replicas\"><caption>Per replica</caption><thead><tr><th scope=\"col\">Replica</th>")
                        .append("<th scope=\"col\">Records</th><th scope=\"col\">Oldest</th><th scope=\"col\">Newest</th>")
                        .append("<th scope=\"col\">Last checkpoint</th><th scope=\"col\">Signature</th>")
                        .append("<th scope=\"col\">Archived up to</th></tr></thead><tbody>");
                PublicKey key = publicKey();
                for (AuditQueries.ReplicaState r : replicas) {
                    b.append("<tr><td>").append(Html.esc(r.replica())).append("</td><td>").append(r.records())
                            .append("</td><td>").append(Html.time(r.oldestTime())).append("</td><td>")
                            .append(Html.time(r.newestTime())).append("</td>");
                    checkpoint(b, r.checkpointNote(), key);
                    b.append("<td>").append(r.archivedUpTo() == null ? "nothing archived"
                            : "record " + r.archivedUpTo() + " (" + Html.time(r.archivedAt()) + ")").append("</td></tr>");
                }
                b.append("</tbody></table>");
            }
            b.append("</section>");
        } catch (java.sql.SQLException e) {
            Html.fact(b, "Health", "<span class=\"state denied\">unreadable: " + Html.esc(e.getMessage()) + "</span>");
            b.append("</dl></section>");
        }
        ctx.html(Html.page("Evidence", user, "/console/evidence", b.toString()));
    }

    private void checkpoint(StringBuilder b, String note, PublicKey key) {
        if (note == null) {
            b.append("<td>none yet").append(config.checkpoints() == null ? " (audit.checkpoints not configured)" : "")
                    .append("</td><td>–</td>");
            return;
        }
        try {
            Checkpoint cp = Checkpoint.parse(note);
            b.append("<td>size ").append(cp.treeSize()).append(", root <code title=\"").append(cp.rootHex())
                    .append("\">").append(cp.rootHex(), 0, 16).append("…</code>, ").append(Html.time(cp.time()))
                    .append("</td><td>");
            if (key == null) {
                b.append("not checked (no public key configured)");
            } else if (CheckpointKeys.verify(key, cp.body(), cp.signature())) {
                b.append("<span class=\"state ok\">valid</span> (key ").append(Html.esc(cp.keyId())).append(')');
            } else {
                b.append("<span class=\"state denied\">INVALID</span> (key ").append(Html.esc(cp.keyId())).append(')');
            }
            b.append("</td>");
        } catch (RuntimeException e) {
            b.append("<td colspan=\"2\"><span class=\"state denied\">unreadable checkpoint note</span></td>");
        }
    }

    /** The verification block: what the page's script refreshes while a run is going. */
    void progress(Context ctx, ConsoleUser user) {
        ctx.html(verification());
    }

    private String verification() {
        Run run = last;
        if (run == null) {
            return "<p id=\"verify-state\" data-state=\"never\">Not verified since the gateway started. Run it now,"
                    + " or offline with <code>bin/phigate audit verify</code>.</p>";
        }
        if (run.ended == null) {
            return "<p id=\"verify-state\" data-state=\"running\" data-refreshing=\"true\">Verifying (started by "
                    + Html.esc(run.by) + " " + Html.time(run.started) + "): <progress aria-label=\"records checked\">"
                    + "</progress> " + run.checked + " records checked so far.</p>";
        }
        long ms = Duration.between(run.started, run.ended).toMillis();
        if (run.failure != null) {
            return "<p id=\"verify-state\" data-state=\"failed\" class=\"notice error\">Verification could not run ("
                    + Html.time(run.ended) + "): " + Html.esc(run.failure) + "</p>";
        }
        AuditVerifier.Report r = run.report;
        StringBuilder b = new StringBuilder("<p id=\"verify-state\" data-state=\"")
                .append(r.intact() ? "intact" : "broken").append("\" class=\"notice ")
                .append(r.intact() ? "ok" : "error").append("\">")
                .append(r.fullyVerified() ? "Intact: " : r.intact() ? "Intact as far as checked: " : "NOT INTACT: ")
                .append(r.records()).append(" records in ").append(r.recordsPerReplica().size()).append(" chain")
                .append(r.recordsPerReplica().size() == 1 ? "" : "s").append(", ").append(r.checkpointsVerified())
                .append(" signed checkpoints, ").append(r.archiveFilesChecked()).append(" archive files; ")
                .append(ms).append(" ms; finished ").append(Html.time(run.ended)).append(" (started by ")
                .append(Html.esc(run.by)).append(").</p>");
        if (!r.problems().isEmpty() || !r.warnings().isEmpty()) {
            b.append("<ul>");
            r.problems().stream().limit(50).forEach(p -> b.append("<li>").append(Html.esc(p)).append("</li>"));
            r.warnings().forEach(w -> b.append("<li>warning: ").append(Html.esc(w)).append("</li>"));
            b.append("</ul>");
        }
        return b.toString();
    }

    void start(Context ctx, ConsoleUser user) {
        synchronized (this) {
            Run current = last;
            if (current == null || current.ended != null) {
                try {
                    console.record(ctx, user.identity(), "verify", "started", null, null, false);
                } catch (AuditUnavailableException e) {
                    log.warn("console verify not recorded: {}", e.getMessage());
                }
                Run run = new Run(user.identity().subject(), clock.instant());
                last = run;
                Thread.ofVirtual().name("console-verify").start(() -> verify(run));
            }
        }
        ctx.redirect("/console/evidence", io.javalin.http.HttpStatus.SEE_OTHER);
    }

    private void verify(Run run) {
        try {
            PublicKey key = publicKey();
            run.report = AuditVerifier.verify(config, key, config.checkpoints() == null ? null
                    : config.checkpoints().file(), true, n -> run.checked = n);
            run.checked = run.report.records();
        } catch (Exception e) {
            run.failure = e.getMessage();
        } finally {
            run.ended = clock.instant();
        }
        log.info("console verification by {}: {}", run.by, run.failure != null ? "failed to run"
                : run.report.intact() ? "intact" : "NOT INTACT (" + run.report.problems().size() + " problems)");
    }

    private PublicKey publicKey() {
        if (config.checkpoints() == null || config.checkpoints().keyFile() == null) {
            return null;
        }
        try {
            return CheckpointKeys.readPublic(CheckpointKeys.publicFile(config.checkpoints().keyFile()));
        } catch (Exception e) {
            return null;
        }
    }
}
