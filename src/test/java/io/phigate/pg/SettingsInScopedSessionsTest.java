package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The settings phigate reads statements by (client_encoding, standard_conforming_strings) stay as it reads them in
 * every analysed session, not only masked ones (decision 0057): a table-scoped role that turned
 * standard_conforming_strings off, by set_config or by code the gateway does not see, could otherwise have the
 * server read the rest of its batch as a statement that reads a table outside its scope.
 */
class SettingsInScopedSessionsTest {
    static final String READER = "system:serviceaccount:clinical:settings-reader";
    static final String OPERATOR = "system:serviceaccount:clinical:settings-operator";
    static final String ADMIN = "system:serviceaccount:clinical:settings-admin";
    /**
     * Gateway (standard strings): two constants, {@code a\} and the rest. Server with the setting off: one constant
     * {@code a', }, a pg_notify of a count of encounters, and a comment. The call holds no single quote, or the
     * gateway would read a syntax error and refuse the text for that reason alone.
     */
    static final String MISREAD = "SELECT 'a\\', ' , pg_notify($$settings_leak$$, (SELECT count(*) FROM encounters)::text) --'";

    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            s.execute("CREATE OR REPLACE VIEW settings_switch AS"
                    + " SELECT set_config('standard_conforming_strings', 'off', false) AS v");
            s.execute("GRANT SELECT ON settings_switch TO " + db.user());
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                roles:
                  - name: reader
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["public.patients", "public.settings_switch"], operations: [select] }
                      # set_config changes a setting, so a scoped role calls it only with a grant (decision 0058);
                      # granted here, the rules of decision 0057 are what stands between it and a misread batch.
                      - { tables: ["pg_catalog.set_config"], operations: [function] }
                  - name: operator
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["*"], operations: [select, update, insert] }
                      - { tables: ["pg_catalog.set_config"], operations: [function] }
                  - name: admin
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["*"], operations: [select, update, insert, ddl, function] }
                """.formatted(READER, OPERATOR, ADMIN));
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
        try (Connection su = TestDatabase.get().superuser(); Statement s = su.createStatement()) {
            s.execute("DROP VIEW IF EXISTS settings_switch");
        }
    }

    private static Connection as(String subject) throws Exception {
        return gw.connectAs(subject, new Properties());
    }

    /** Runs a multi-statement text as one extended batch (pgjdbc: Parse/Bind/Execute per statement, one Sync). */
    private static void batch(Connection c, String sql) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            boolean rows = ps.execute();
            while (rows || ps.getUpdateCount() != -1) {
                if (rows) {
                    try (ResultSet rs = ps.getResultSet()) {
                        while (rs.next()) {
                            rs.getString(1);
                        }
                    }
                }
                rows = ps.getMoreResults();
            }
        }
    }

    private static List<String> column(Statement s, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static Connection listener() throws SQLException {
        Connection l = TestDatabase.get().direct();
        try (Statement s = l.createStatement()) {
            s.execute("LISTEN settings_leak");
        }
        return l;
    }

    private static void assertNothingLeaked(Connection listener) throws SQLException {
        PGNotification[] got = listener.unwrap(PGConnection.class).getNotifications(500);
        assertThat(got == null ? List.of() : List.of(got)).as("notifications").isEmpty();
    }

    /** The control: straight to the server, the text is harmless with the setting on and the leak with it off. */
    @Test
    void theMisreadTextLeaksOnlyWhereTheServerReadsItWithTheSettingOff() throws Exception {
        try (Connection l = listener(); Connection d = TestDatabase.get().direct(); Statement s = d.createStatement()) {
            assertThat(column(s, MISREAD)).containsExactly("a\\");
            assertNothingLeaked(l);
            s.execute("SET standard_conforming_strings = off");
            s.execute(MISREAD);
            s.execute("SET standard_conforming_strings = on");
            PGNotification[] got = l.unwrap(PGConnection.class).getNotifications(5_000);
            assertThat(got).as("the leak straight to the server").isNotNull().isNotEmpty();
        }
    }

    @Test
    void setConfigOfAReadingSettingIsRefusedInAScopedSession() throws Exception {
        try (Connection l = listener(); Connection c = as(READER)) {
            assertThatThrownBy(() -> batch(c, "SELECT set_config('standard_conforming_strings', 'off', false); "
                    + MISREAD)).isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("42501");
                        assertThat(e.getMessage()).contains("standard_conforming_strings");
                    });
            assertNothingLeaked(l);
            try (Statement s = c.createStatement()) {
                for (String computed : List.of("SELECT set_config(lower('STANDARD_CONFORMING_STRINGS'), 'on', false)",
                        "SELECT set_config(setting_name => 'client_encoding', new_value => 'SJIS', is_local => false)",
                        "SELECT set_config('client_encoding', upper('sjis'), false)")) {
                    assertThatThrownBy(() -> s.execute(computed)).as(computed)
                            .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState())
                                    .isEqualTo("42501"));
                }
                assertThat(column(s, "SELECT set_config('standard_conforming_strings', 'on', false)"))
                        .containsExactly("on");
                assertThat(column(s, "SHOW client_encoding")).containsExactly("UTF8");
            }
        }
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%set_config%'", 4)).hasSizeGreaterThanOrEqualTo(4);
    }

    @Test
    void aSettingChangedOutOfSightCannotChangeHowTheRestOfItsBatchIsRead() throws Exception {
        try (Connection l = listener(); Connection c = as(READER)) {
            assertThatThrownBy(() -> batch(c, "SELECT v FROM settings_switch; " + MISREAD))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("0A000");
                        assertThat(e.getMessage()).contains("send it after a Sync");
                    });
            assertNothingLeaked(l);
            try (Statement s = c.createStatement()) {
                // The refusal failed the batch, and with it the transaction that had turned the setting off.
                assertThat(column(s, "SHOW standard_conforming_strings")).containsExactly("on");
                // The same text, first after a Sync, is read after the server's report of the setting.
                assertThat(column(s, "SELECT 'a\\b'")).containsExactly("a\\b");
            }
        }
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%send it after a Sync%'", 1)).isNotEmpty();
    }

    @Test
    void aSettingChangedOutOfSightInItsOwnBatchEndsTheSession() throws Exception {
        try (Connection l = listener(); Connection c = as(READER); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> {
                column(s, "SELECT v FROM settings_switch");
                s.execute(MISREAD);
            }).isInstanceOf(SQLException.class).hasMessageContaining("standard_conforming_strings");
            assertNothingLeaked(l);
            assertThat(c.isValid(2)).isFalse();
        }
    }

    @Test
    void pgSettingsCannotBeWrittenInAnAnalysedSession() throws Exception {
        try (Connection c = as(OPERATOR); Statement s = c.createStatement()) {
            for (String write : List.of(
                    "UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings'",
                    "UPDATE pg_catalog.pg_settings SET setting = 'SJIS' WHERE name = 'client_encoding'")) {
                assertThatThrownBy(() -> s.execute(write)).as(write).isInstanceOfSatisfying(SQLException.class,
                        e -> assertThat(e.getMessage()).contains("writing pg_settings is refused"));
            }
            assertThat(column(s, "SHOW standard_conforming_strings")).containsExactly("on");
            // Settings phigate does not read statements by stay the session's to change.
            assertThat(column(s, "SELECT set_config('application_name', 'settings-test', false)"))
                    .containsExactly("settings-test");
        }
    }

    /**
     * A simple Query or a FunctionCall inside an open extended batch is answered by the server with a ReadyForQuery
     * of its own (where it reports a changed setting), but the gateway forwards what follows it in the batch without
     * waiting for that answer: so it counts as code that may have run, like a Bind or Execute.
     */
    @Test
    void aQueryOrFunctionCallInsideAnOpenBatchCannotChangeHowTheRestOfTheBatchIsRead() throws Exception {
        // It turns the setting off and sleeps, so its report comes well after what the client sends next.
        byte[] query = MessageCodec.encode(new FrontendMessage.Query("SELECT v, pg_sleep(0.5) FROM settings_switch"));
        byte[] misreadQuery = MessageCodec.encode(new FrontendMessage.Query(MISREAD));
        byte[] misreadBatch = cat(MessageCodec.encode(new FrontendMessage.Parse("", MISREAD, new int[0])),
                MessageCodec.encode(new FrontendMessage.Bind("", "", new short[0], new byte[0][], new short[0])),
                MessageCodec.encode(new FrontendMessage.Execute("", 0)),
                MessageCodec.encode(FrontendMessage.Sync.INSTANCE));
        // Any extended message without a Sync opens the batch.
        byte[] open = MessageCodec.encode(new FrontendMessage.Parse("", "SELECT 1", new int[0]));
        // (A FunctionCall goes the same way, but a scoped role may not make one: its scope cannot be checked.)
        String refusedAfterCode = "kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%send it after a Sync%'";
        for (byte[] attempt : List.of(cat(open, query, misreadQuery), cat(open, query, misreadBatch))) {
            int refusedBefore = gw.audit(refusedAfterCode).size();
            try (Connection l = listener(); RawClient c = new RawClient(gw.port())) {
                c.login(gw.token(READER, Duration.ofMinutes(5)));
                c.send(attempt);
                // The refusal is answered after the Query's rows; the server's report ends the session first.
                assertThat(readUntilEnded(c).getLast()).isInstanceOf(BackendMessage.ErrorResponse.class);
                assertNothingLeaked(l);
            }
            assertThat(gw.auditEventually(refusedAfterCode, refusedBefore + 1)).hasSize(refusedBefore + 1);
        }
    }

    private static byte[] cat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** Everything the gateway answers up to its FATAL (or the connection's end, or two quiet seconds). */
    private static List<BackendMessage> readUntilEnded(RawClient c) throws java.io.IOException {
        List<BackendMessage> got = new ArrayList<>();
        c.socket.setSoTimeout(2_000);
        try {
            for (BackendMessage m = c.read(); m != null; m = c.read()) {
                got.add(m);
                if (m instanceof BackendMessage.ErrorResponse e && "FATAL".equals(e.fields().get((byte) 'V'))) {
                    break;
                }
            }
        } catch (java.io.IOException e) {
            // the connection ended or went quiet: what was read is the answer
        }
        return got;
    }

    /**
     * ALTER SYSTEM and a configuration reload change the setting in every session at its next command, before the
     * server reads that command's text, and the server reports it only at the command's end: the next statement of
     * this session, and of every other, would be read by the new value. An upstream role allowed ALTER SYSTEM (a
     * superuser here; PostgreSQL 15 can grant it per parameter) with a policy role granted ddl could do it.
     */
    @Test
    void alterSystemOfAReadingSettingIsRefusedInAnAnalysedSession() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            s.execute("ALTER ROLE " + db.user() + " SUPERUSER");
        }
        try (Connection l = listener(); Connection c = as(ADMIN); Statement s = c.createStatement()) {
            for (String alter : List.of("ALTER SYSTEM SET standard_conforming_strings = off",
                    "ALTER SYSTEM SET client_encoding = 'SJIS'", "ALTER SYSTEM RESET ALL")) {
                assertThatThrownBy(() -> s.execute(alter)).as(alter).isInstanceOfSatisfying(SQLException.class,
                        e -> assertThat(e.getMessage()).contains("ALTER SYSTEM is refused"));
            }
            column(s, "SELECT pg_reload_conf()");
            Thread.sleep(300);
            // Without the refusal the server ran this as a pg_notify, and only then reported the setting off.
            s.execute(MISREAD);
            assertNothingLeaked(l);
            assertThat(column(s, "SHOW standard_conforming_strings")).containsExactly("on");
        } finally {
            try (Connection su = db.superuser(); Statement s = su.createStatement()) {
                s.execute("ALTER ROLE " + db.user() + " NOSUPERUSER");
                s.execute("ALTER SYSTEM RESET standard_conforming_strings");
                s.execute("ALTER SYSTEM RESET client_encoding");
                s.execute("SELECT pg_reload_conf()");
            }
        }
    }

    @Test
    void textThatReadsTheSameUnderEverySettingRunsLaterInABatch() throws Exception {
        try (Connection c = as(READER); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM patients; SELECT count(*) FROM patients WHERE last_name <> 'x'")) {
            assertThat(ps.execute()).isTrue();
            assertThat(ps.getMoreResults()).isTrue();
            try (ResultSet rs = ps.getResultSet()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1)).isPositive();
            }
        }
    }
}
