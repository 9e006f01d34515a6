package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;

/** A role's row_limit: the client gets the first rows, a notice saying why, and a command tag that counts them. */
class RowLimitTest {
    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        gw = GatewayHarness.startWithPolicy(dir, """
                roles:
                  - name: sampler
                    match: { subject: "system:serviceaccount:clinical:*" }
                    upstreams: [clinical]
                    row_limit: 7
                """);
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    @Test
    void rowsBeyondTheLimitAreWithheldWithANotice() throws Exception {
        for (String mode : new String[]{"simple", "extended"}) {
            Properties p = new Properties();
            p.setProperty("preferQueryMode", mode);
            try (Connection c = gw.connect(p); Statement s = c.createStatement()) {
                int n = 0;
                try (ResultSet rs = s.executeQuery("SELECT id FROM patients ORDER BY id")) {
                    while (rs.next()) {
                        n++;
                    }
                    assertThat(rs.getWarnings() == null).isTrue();
                }
                assertThat(n).as(mode).isEqualTo(7);
                assertThat(s.getWarnings() != null).isTrue();
                assertThat(s.getWarnings().getMessage()).contains("row_limit 7");
                try (ResultSet rs = s.executeQuery("SELECT 1")) {
                    assertThat(rs.next()).isTrue();
                }
            }
        }
        assertThat(gw.auditEventually("kind = 'statement_completed' and command_tag = 'SELECT 7'", 2)).hasSizeGreaterThanOrEqualTo(2);
    }

    /** COPY ... TO STDOUT is a path out like any other: its rows count, and the stream still ends as its format says. */
    @Test
    void copyToStdoutStopsAtTheLimitInEveryFormat() throws Exception {
        try (Connection c = gw.connect()) {
            CopyManager copy = c.unwrap(BaseConnection.class).getCopyAPI();
            ByteArrayOutputStream text = new ByteArrayOutputStream();
            assertThat(copy.copyOut("COPY (SELECT id FROM patients ORDER BY id) TO STDOUT", text)).isEqualTo(7);
            assertThat(text.toString(StandardCharsets.UTF_8).split("\n")).hasSize(7);

            ByteArrayOutputStream csv = new ByteArrayOutputStream();
            copy.copyOut("COPY (SELECT id, last_name FROM patients ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)", csv);
            String[] lines = csv.toString(StandardCharsets.UTF_8).split("\n");
            assertThat(lines[0]).isEqualTo("id,last_name");
            assertThat(lines.length - 1).isBetween(6, 7); // a header is known only where phigate analyses the session

            ByteArrayOutputStream binary = new ByteArrayOutputStream();
            assertThat(copy.copyOut("COPY (SELECT id FROM patients ORDER BY id) TO STDOUT WITH (FORMAT binary)",
                    binary)).isEqualTo(7);
            byte[] b = binary.toByteArray();
            // 19-byte file header, 7 rows of one int4 field (2 + 4 + 4 bytes each), the -1 trailer.
            assertThat(b).hasSize(19 + 7 * 10 + 2);
            assertThat(b[b.length - 2]).isEqualTo((byte) 0xff);
            assertThat(b[b.length - 1]).isEqualTo((byte) 0xff);
        }
    }
}
