package io.phigate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.audit.AuditFixture;
import io.phigate.audit.AuditQueries;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What one command prints, the next takes back: a session id shortened in a table is accepted as a unique prefix
 * (as git takes a short commit), an ambiguous one is named as such; times take {@code now} and the config's
 * duration forms, and a report's period ends now unless told otherwise.
 */
class PastedIdsAndTimesTest {
    @TempDir
    Path dir;

    @Test
    void aUniquePrefixOfASessionIdIsTakenBackByEveryAuditCommand() throws Exception {
        String store = AuditFixture.write(dir.resolve("audit.db")).toString();
        TestAccess.Result search = TestAccess.capture("audit", "search", "--store", store);
        String shown = search.out().lines().skip(1).findFirst().orElseThrow().split("\\s+")[3];
        assertThat(AuditFixture.A + AuditFixture.B).contains(shown);

        TestAccess.Result session = TestAccess.capture("audit", "session", "--store", store, "sess-a".substring(0, 6));
        assertThat(session.exitCode()).as(session.err()).isZero();
        assertThat(session.out()).startsWith("session " + AuditFixture.A + "\n").contains("started: " + AuditFixture.AGENT_A);

        TestAccess.Result bySession = TestAccess.capture("audit", "search", "--store", store, "--session", "sess-b",
                "--json");
        assertThat(bySession.exitCode()).isZero();
        assertThat(bySession.out().lines()).isNotEmpty().allSatisfy(l -> assertThat(l).contains("\"sess-b\""));
        TestAccess.Result byPrefix = TestAccess.capture("audit", "search", "--store", store, "--session", "sess-b"
                .substring(0, 6), "--json");
        assertThat(byPrefix.out()).isEqualTo(bySession.out());

        TestAccess.Result ambiguous = TestAccess.capture("audit", "session", "--store", store, "sess");
        assertThat(ambiguous.exitCode()).isEqualTo(1);
        assertThat(ambiguous.err()).contains("session id prefix sess is ambiguous").contains("sess-a")
                .contains("sess-b");
        TestAccess.Result none = TestAccess.capture("audit", "search", "--store", store, "--session", "zz");
        assertThat(none.exitCode()).isEqualTo(2);
        assertThat(none.err()).contains("no session id starts with zz");
    }

    @Test
    void timesTakeNowAndTheConfigsDurations() {
        Clock clock = Clock.fixed(Instant.parse("2026-12-06T12:00:00Z"), ZoneOffset.UTC);
        assertThat(AuditQueries.parseTime("now", clock)).isEqualTo(clock.instant());
        assertThat(AuditQueries.parseTime("10m", clock)).isEqualTo(clock.instant().minus(Duration.ofMinutes(10)));
        assertThat(AuditQueries.parseTime("1h", clock)).isEqualTo(clock.instant().minus(Duration.ofHours(1)));
        assertThat(AuditQueries.parseTime("7d", clock)).isEqualTo(clock.instant().minus(Duration.ofDays(7)));
        assertThat(AuditQueries.parseTime("250ms", clock)).isEqualTo(clock.instant().minusMillis(250));
        assertThat(AuditQueries.parseTime("2026-12-01", clock)).isEqualTo(Instant.parse("2026-12-01T00:00:00Z"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> AuditQueries.parseTime("2025", clock))
                .hasMessageContaining("expected a time like now");
        assertThat(new TokenCommand.TtlConverter().convert("10")).isEqualTo(Duration.ofSeconds(10));
        assertThat(new TokenCommand.TtlConverter().convert("10m")).isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void aReportsPeriodEndsNowByDefault() throws Exception {
        String store = AuditFixture.write(dir.resolve("audit.db")).toString();
        Path out = dir.resolve("report.html");
        TestAccess.Result r = TestAccess.capture("audit", "report", "--store", store, "--since", "2025-03-04",
                "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(Files.readString(out)).contains(AuditFixture.AGENT_A);
        TestAccess.Result recent = TestAccess.capture("audit", "report", "--store", store, "--since", "1h",
                "--until", "now", "--out", dir.resolve("recent.html").toString());
        assertThat(recent.exitCode()).as(recent.err()).isZero();
        assertThat(recent.err()).contains("0 identities");
    }
}
