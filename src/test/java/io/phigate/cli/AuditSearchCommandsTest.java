package io.phigate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.phigate.audit.AuditFixture;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditSearchCommandsTest {
    @TempDir
    Path dir;

    private record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        var o = new ByteArrayOutputStream();
        var e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int exit = Main.run(args);
            System.out.flush();
            return new Run(exit, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void searchPrintsATableOrJsonLinesAndSaysWhereTheNextPageStarts() throws Exception {
        String store = AuditFixture.write(dir.resolve("audit.db")).toString();
        Run table = run("audit", "search", "--store", store, "--subject", "system:serviceaccount:*", "--limit", "4");
        assertThat(table.exit()).isEqualTo(0);
        assertThat(table.out().lines()).hasSize(5);
        assertThat(table.out()).contains("sess-a").contains("UPDATE patients SET note = 'a,b \"c\"\\u000d line2'")
                .contains("error").doesNotContain("\r");
        assertThat(table.err()).contains("more: add --after ");

        Run json = run("audit", "search", "--store", store, "--outcome", "error", "--json");
        assertThat(json.exit()).isEqualTo(0);
        assertThat(json.out().lines()).hasSize(1);
        assertThat(new ObjectMapper().readTree(json.out()).get("sqlstate").asText()).isEqualTo("42P01");

        assertThat(run("audit", "search", "--store", store, "--limit", "5000").exit()).isEqualTo(2);
        assertThat(run("audit", "search", "--subject", "x").exit()).as("no store named").isEqualTo(2);
    }

    @Test
    void sessionReplayShowsStatementsParametersAndOutcomes() throws Exception {
        String store = AuditFixture.write(dir.resolve("audit.db")).toString();
        Run r = run("audit", "session", "--store", store, AuditFixture.A);
        assertThat(r.exit()).isEqualTo(0);
        assertThat(r.out()).contains("started: " + AuditFixture.AGENT_A).contains("| SELECT * FROM patients WHERE mrn = $1")
                .contains("$1 = 'MRN-0042'").contains("$1 = NULL").contains("#1 ok SELECT 1, 1 rows, 1.501 ms")
                .contains("#3 error sqlstate 42P01").contains("ended ");
        assertThat(r.out()).as("control characters are escaped").contains("\\u000d").doesNotContain("\r");
        assertThat(run("audit", "session", "--store", store, "nope").exit()).isEqualTo(1);
    }

    @Test
    void exportWritesAnOwnerOnlyFileInTheChosenFormat() throws Exception {
        String store = AuditFixture.write(dir.resolve("audit.db")).toString();
        Path out = dir.resolve("export.csv");
        Run r = run("audit", "export", "--store", store, "--format", "csv", "--since", "2025-03-04T05:00:00Z",
                "--until", "2025-03-04T05:00:07Z", "--out", out.toString());
        assertThat(r.exit()).as(r.err()).isEqualTo(0);
        assertThat(r.err()).contains("wrote 7 records");
        assertThat(Files.readString(out)).startsWith("seq,time,kind,");
        assertThat(Files.getPosixFilePermissions(out)).hasSize(2);

        Run ocsf = run("audit", "export", "--store", store, "--format", "ocsf");
        assertThat(ocsf.out().lines()).hasSize(AuditFixture.ROWS - AuditFixture.COMPLETIONS);
    }
}
