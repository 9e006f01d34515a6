package io.phigate.audit;

import static io.phigate.audit.AuditFixture.AGENT_A;
import static io.phigate.audit.AuditFixture.AGENT_B;
import static io.phigate.audit.AuditFixture.t;
import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.audit.AccessReport.Identity;
import io.phigate.audit.AccessReport.Model;
import io.phigate.audit.AuditConfig.CheckpointConfig;
import io.phigate.audit.AuditEvent.Outcome;
import io.phigate.audit.AuditEvent.Protocol;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessReportTest {
    static final String SCRIPT = "<script>alert(1)</script>";
    static final Instant DAY = Instant.parse("2025-03-04T00:00:00Z");
    static final Instant NEXT_DAY = Instant.parse("2025-03-05T00:00:00Z");
    static final Instant GENERATED = Instant.parse("2025-03-06T10:00:00Z");

    @TempDir
    Path dir;
    Path file;
    Path key;
    Path shipped;

    /** The shared fixture (two identities, a refusal, an error, a failed connection) and a hostile third agent. */
    @BeforeEach
    void store() throws Exception {
        file = AuditFixture.write(dir.resolve("audit.db"));
        key = dir.resolve("keys/audit-signing.key");
        shipped = dir.resolve("audit.checkpoints");
        CheckpointKeys.generate(key);
        var config = new AuditConfig("sqlite:" + file, file, 10_000, Duration.ofSeconds(5), Duration.ofSeconds(1),
                AuditConfig.DEFAULT_REPLICA, new CheckpointConfig(key, shipped, 4, Duration.ofHours(1)));
        try (var store = new AuditStore(config)) {
            store.appendDurably(List.of(
                    new AuditEvent.SessionStarted(t(300), "sess-x", "10.6.6.6:666", "clinical", "https://issuer.test",
                            SCRIPT, "sha256:xx", "postgres", Map.of("application_name", "<img src=x onerror=alert(2)>"),
                            null),
                    new AuditEvent.StatementRequested(t(301), "sess-x", 1, "10.6.6.6:666", "clinical",
                            "https://issuer.test", SCRIPT, Protocol.EXTENDED, "SELECT ssn FROM patients WHERE id = $1",
                            List.of("SSN-123-45-6789"), "", ""),
                    new AuditEvent.StatementCompleted(t(302), "sess-x", 1, Outcome.REFUSED, "42501", null, 0, 10),
                    new AuditEvent.SessionEnded(t(303), "sess-x", "client terminated", 1, 3000)));
        }
    }

    private Model report(Instant since, Instant until) throws Exception {
        return AccessReport.build(file, since, until, CheckpointKeys.readPublic(CheckpointKeys.publicFile(key)),
                shipped, GENERATED);
    }

    private static Identity identity(Model m, String subject) {
        return m.identities().stream().filter(i -> subject.equals(i.subject())).findFirst().orElseThrow();
    }

    @Test
    void eachIdentityHasItsSessionsStatementsByOutcomeAndRowsReturned() throws Exception {
        Model m = report(DAY, NEXT_DAY);
        assertThat(m.identities()).extracting(Identity::subject).containsExactly(SCRIPT, AGENT_B, AGENT_A);

        Identity a = identity(m, AGENT_A);
        assertThat(a.issuer()).isEqualTo("https://issuer.test");
        assertThat(a.sessionCount()).isEqualTo(1);
        assertThat(a.statements()).isEqualTo(3);
        assertThat(a.statementsByOutcome()).containsExactly(Map.entry("ok", 2L), Map.entry("refused", 0L),
                Map.entry("error", 1L), Map.entry("skipped", 0L), Map.entry("aborted", 0L),
                Map.entry("incomplete", 0L));
        assertThat(a.refused()).isZero();
        assertThat(a.errors()).isEqualTo(1);
        assertThat(a.rowsReturned()).as("the SELECT's row, not the UPDATE's").isEqualTo(1);
        assertThat(a.firstActivity()).isEqualTo("2025-03-04T05:00:00.000000Z");
        assertThat(a.lastActivity()).isEqualTo("2025-03-04T05:00:07.000000Z");
        assertThat(a.upstreams()).containsExactly("clinical");
        assertThat(a.sessions()).containsExactly(new AccessReport.Session(AuditFixture.A, "2025-03-04T05:00:00.000000Z",
                "2025-03-04T05:00:07.000000Z", 3, "10.0.0.7:5544", "clinical", "psql"));

        Identity b = identity(m, AGENT_B);
        assertThat(b.issuer()).isEqualTo("https://other.test");
        assertThat(b.statements()).isEqualTo(3);
        assertThat(b.refused()).isEqualTo(1);
        assertThat(b.errors()).isZero();
        assertThat(b.statementsByOutcome()).containsEntry("ok", 1L).containsEntry("incomplete", 1L);
        assertThat(b.rowsReturned()).isEqualTo(1);
        assertThat(b.sessions()).singleElement().satisfies(s -> {
            assertThat(s.end()).as("never ended").isNull();
            assertThat(s.clientAddress()).isEqualTo("0:0:0:0:0:0:0:1:6000");
        });

        assertThat(identity(m, SCRIPT).refused()).isEqualTo(1);
        assertThat(m.failedConnections()).singleElement().isEqualTo(new AccessReport.FailedConnection(
                "2025-03-04T05:03:20.000000Z", "10.0.0.9:2", "clinical", null, null, "28000", "token expired"));
    }

    @Test
    void aSessionBegunBeforeThePeriodKeepsItsStartButCountsOnlyThePeriodsStatements() throws Exception {
        Model m = report(t(5), t(101));
        Identity a = identity(m, AGENT_A);
        assertThat(a.statements()).isEqualTo(1);
        assertThat(a.errors()).isEqualTo(1);
        assertThat(a.firstActivity()).isEqualTo("2025-03-04T05:00:05.000000Z");
        assertThat(a.sessions()).singleElement().satisfies(s -> {
            assertThat(s.start()).isEqualTo("2025-03-04T05:00:00.000000Z");
            assertThat(s.applicationName()).isEqualTo("psql");
            assertThat(s.statements()).isEqualTo(1);
        });
        assertThat(identity(m, AGENT_B).statements()).as("until is exclusive").isZero();
        assertThat(m.failedConnections()).isEmpty();
    }

    @Test
    void theHtmlStandsAloneAndEscapesWhatAgentsSend() throws Exception {
        String html = AccessReportHtml.render(report(DAY, NEXT_DAY));
        assertThat(html).startsWith("<!DOCTYPE html>").contains("<html lang=\"en\">").contains("<caption>")
                .contains("<th scope=\"col\">").contains("<th scope=\"row\"").contains("<h1>").contains("<h2 ");
        assertThat(html).contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                .contains("&lt;img src=x onerror=alert(2)&gt;");
        assertThat(html.toLowerCase()).doesNotContain("<script").doesNotContain("<img").doesNotContain("<link")
                .doesNotContain("url(").doesNotContain("@import");
        assertThat(Pattern.compile("<[^>]*\\ssrc=").matcher(html).find()).as("no tag loads anything").isFalse();
        assertThat(Pattern.compile("href=\"(?!#)").matcher(html).find()).as("only links within the page").isFalse();
        assertThat(html).contains("default-src 'none'");
        assertThat(count(html, "<table")).isEqualTo(count(html, "</table>")).isGreaterThan(3);
        assertThat(count(html, "<section")).isEqualTo(count(html, "</section>"));
    }

    @Test
    void theHtmlHasNoStatementTextNorParameterValueAndSaysSo() throws Exception {
        String html = AccessReportHtml.render(report(DAY, NEXT_DAY));
        var statements = AuditQueries.sqlite(file).search(AuditQueries.Filter.ANY, new AuditQueries.Page(1000, 0))
                .statements();
        assertThat(statements).hasSize(AuditFixture.STATEMENTS + 1);
        for (AuditQueries.Statement s : statements) {
            assertThat(html).doesNotContain(s.text()).doesNotContain(AccessReportHtml.escape(s.text()));
            if (s.parameters() != null) {
                for (String p : s.parameters()) {
                    if (p != null) {
                        assertThat(html).doesNotContain(p);
                    }
                }
            }
        }
        assertThat(html).contains("Statement text and bound parameter values are PHI: this report does not"
                + " include them");
        assertThat(html).contains("What the figures count").contains("PHI values delivered: from each statement's"
                + " completion record").doesNotContain("not built yet");
    }

    @Test
    void theReportShowsTheVerificationAndTheLastCoveringCheckpoint() throws Exception {
        Model m = report(DAY, NEXT_DAY);
        assertThat(m.verification().intact()).isTrue();
        assertThat(m.verification().checkpointsChecked()).isTrue();
        assertThat(m.verification().lastCheckpointSize()).containsKey(AuditConfig.DEFAULT_REPLICA);
        long covered = m.verification().lastCheckpointSize().get(AuditConfig.DEFAULT_REPLICA);
        String html = AccessReportHtml.render(m);
        assertThat(html).contains("<strong>INTACT</strong>").doesNotContain("TAMPERED")
                .contains("<td>" + covered + "</td>");

        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); var s = c.createStatement()) {
            s.executeUpdate("UPDATE audit_event SET row_count = 500 WHERE kind = 'statement_completed'"
                    + " AND session_id = 'sess-a' AND statement_id = 1");
        }
        Model tampered = report(DAY, NEXT_DAY);
        assertThat(tampered.verification().intact()).isFalse();
        assertThat(AccessReportHtml.render(tampered)).contains("<strong>TAMPERED</strong>")
                .contains("do not match its hash (edited)").doesNotContain("INTACT");
    }

    @Test
    void escapingCoversMarkupQuotesAndControlCharacters() {
        assertThat(AccessReportHtml.escape("a<b>&\"c'\r\u0007\n")).isEqualTo("a&lt;b&gt;&amp;&quot;c&#39;\\u000d\\u0007\n");
        assertThat(AccessReportHtml.escape("\ud83d\ude00 \ud800")).isEqualTo("\ud83d\ude00 \\ud800");
        assertThat(AccessReportHtml.escape(null)).isEqualTo("\u2014");
    }

    @Test
    void theFileIsOwnerOnly() throws Exception {
        Path out = dir.resolve("reports/access.html");
        AccessReport.writeFile(report(DAY, NEXT_DAY), out);
        assertThat(Files.getPosixFilePermissions(out))
                .isEqualTo(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
        assertThat(Files.list(out.getParent())).containsExactly(out);
    }

    private static int count(String s, String part) {
        return s.split(Pattern.quote(part), -1).length - 1;
    }
}
