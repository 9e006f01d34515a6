package io.phigate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `audit session --responses` shows what the agent received, decoded from the recording. */
class SessionReplayTest {
    @TempDir
    Path dir;

    @Test
    void replayShowsTheRowsTagsAndErrorsTheClientReceived() throws Exception {
        List<String> mrns = new ArrayList<>();
        String session;
        try (GatewayHarness gw = GatewayHarness.start(dir)) {
            try (Connection c = gw.connect()) {
                try (PreparedStatement ps = c.prepareStatement("select mrn from patients where id <= ? order by id")) {
                    ps.setInt(1, 3);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            mrns.add(rs.getString(1));
                        }
                    }
                }
                try (Statement s = c.createStatement()) {
                    s.execute("select * from no_such_table");
                } catch (java.sql.SQLException expected) {
                    // recorded too
                }
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                        "select g from generate_series(1, 50) g")) {
                    while (rs.next()) {
                        // the client reads all 50
                    }
                }
            }
            session = (String) gw.auditEventually("kind = 'statement_completed' and command_tag = 'SELECT 50'", 1)
                    .getFirst().get("session_id");
            gw.auditEventually("kind = 'session_ended' and session_id = '" + session + "'", 1);
        }
        TestAccess.Result r = TestAccess.capture("audit", "session", "--store", dir.resolve("audit.db").toString(),
                session, "--responses", "--rows", "10");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("columns: mrn").contains("-> SELECT 3").contains("-> ERROR 42P01")
                .contains("... 40 more rows recorded");
        for (String mrn : mrns) {
            assertThat(r.out()).contains(mrn);
        }
    }
}
