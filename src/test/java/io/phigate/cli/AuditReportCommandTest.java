package io.phigate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.audit.AuditFixture;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditReportCommandTest {
    @TempDir
    Path dir;

    /** Runs the command line; returns the exit code and what went to standard error. */
    private static String[] run(String... args) {
        PrintStream err = System.err;
        var e = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int exit = Main.run(args);
            return new String[]{Integer.toString(exit), e.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setErr(err);
        }
    }

    @Test
    void reportWritesAnOwnerOnlyHtmlFileForThePeriod() throws Exception {
        String store = AuditFixture.write(dir.resolve("audit.db")).toString();
        Path out = dir.resolve("access.html");
        String[] r = run("audit", "report", "--store", store, "--since", "2025-03-04", "--until",
                "2025-03-04T06:00:00Z", "--out", out.toString());
        assertThat(r[0]).as(r[1]).isEqualTo("0");
        assertThat(r[1]).contains("2 identities").contains("INTACT");
        assertThat(Files.getPosixFilePermissions(out))
                .isEqualTo(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
        String html = Files.readString(out);
        assertThat(html).contains(AuditFixture.AGENT_A).contains(AuditFixture.AGENT_B).contains("INTACT")
                .contains("token expired").doesNotContain("MRN-0042")
                .contains("Signed checkpoints were not checked");
    }

    @Test
    void reportRefusesABadPeriodOrNoStore() throws Exception {
        String store = AuditFixture.write(dir.resolve("audit.db")).toString();
        Path out = dir.resolve("access.html");
        assertThat(run("audit", "report", "--store", store, "--since", "2025-03-05", "--until", "2025-03-04",
                "--out", out.toString())[0]).isEqualTo("2");
        assertThat(run("audit", "report", "--store", store, "--since", "yesterday", "--until", "2025-03-04",
                "--out", out.toString())[0]).isEqualTo("2");
        assertThat(run("audit", "report", "--since", "2025-03-04", "--until", "2025-03-05", "--out",
                out.toString())[0]).as("no store named").isEqualTo("2");
        assertThat(run("audit", "report", "--store", dir.resolve("none.db").toString(), "--since", "2025-03-04",
                "--until", "2025-03-05", "--out", out.toString())[0]).isEqualTo("2");
        assertThat(out).doesNotExist();
    }
}
