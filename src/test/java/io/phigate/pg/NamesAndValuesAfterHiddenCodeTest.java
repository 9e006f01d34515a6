package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.FrontendMessage;
import io.phigate.pg.message.MessageCodec;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * After code the gateway cannot see changed client_encoding inside an open extended batch, the server decodes the
 * names and text values of what follows by the new encoding (decision 0063). The code here changes it for the
 * batch's implicit transaction only ({@code set_config(..., true)}), so the server reports nothing at the batch's end
 * and the session goes on: the worst case, where no report can end the session.
 */
class NamesAndValuesAfterHiddenCodeTest {
    static final String JUSTIFIED = "system:serviceaccount:clinical:names-justified";
    /** A role nothing is judged for: its session is forwarded unanalysed, the control. */
    static final String PLAIN = "system:serviceaccount:clinical:names-plain";
    /** A statement name as the gateway reads it (UTF-8 C3 A9) ... */
    static final String JUDGED = "é";
    /** ... and as the server reads the same bytes under LATIN1. */
    static final String RUN = "Ã©";

    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            s.execute("CREATE OR REPLACE VIEW hidden_latin1 AS"
                    + " SELECT set_config('client_encoding', 'LATIN1', true) AS v");
            s.execute("CREATE TABLE IF NOT EXISTS hidden_marker (v text)");
            s.execute("CREATE TABLE IF NOT EXISTS hidden_names (v text)");
            s.execute("CREATE OR REPLACE FUNCTION hidden_latin1_trigger() RETURNS trigger LANGUAGE plpgsql AS"
                    + " $$ BEGIN PERFORM set_config('client_encoding', 'LATIN1', true); RETURN NEW; END $$");
            s.execute("DROP TRIGGER IF EXISTS hidden_latin1 ON hidden_names");
            s.execute("CREATE TRIGGER hidden_latin1 BEFORE INSERT ON hidden_names FOR EACH ROW"
                    + " EXECUTE FUNCTION hidden_latin1_trigger()");
            s.execute("GRANT SELECT ON hidden_latin1 TO " + db.user());
            s.execute("GRANT ALL ON hidden_marker, hidden_names TO " + db.user());
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                roles:
                  - name: justified
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    justification: required
                  - name: plain
                    match: { subject: "%s" }
                    upstreams: [clinical]
                """.formatted(JUSTIFIED, PLAIN));
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
        try (Connection su = TestDatabase.get().superuser(); Statement s = su.createStatement()) {
            s.execute("DROP VIEW IF EXISTS hidden_latin1");
            s.execute("DROP TABLE IF EXISTS hidden_marker, hidden_names");
            s.execute("DROP FUNCTION IF EXISTS hidden_latin1_trigger()");
        }
    }

    @BeforeEach
    void empty() throws Exception {
        try (Connection su = TestDatabase.get().superuser(); Statement s = su.createStatement()) {
            s.execute("TRUNCATE hidden_marker, hidden_names");
        }
    }

    /** The control: unanalysed, the server runs the statement named by the bytes as it reads them now. */
    @Test
    void theServerReadsAStatementNameByTheEncodingCodeSetEarlierInTheBatch() throws Exception {
        try (RawClient c = client(PLAIN)) {
            prepareBothNames(c);
            assertThat(batch(c, hiddenCode(), bindAndExecute(JUDGED)).getLast())
                    .isInstanceOf(BackendMessage.ReadyForQuery.class);
        }
        assertThat(marker()).containsExactly("other");
    }

    @Test
    void aNonAsciiStatementNameAfterHiddenCodeIsRefusedAndNeitherStatementRuns() throws Exception {
        try (RawClient c = client(JUSTIFIED)) {
            prepareBothNames(c);
            List<BackendMessage> got = batch(c, hiddenCode(), bindAndExecute(JUDGED));
            assertRefused(got, "0A000", "send it after a Sync");
            // The session goes on, and the same name first in a batch is read as the gateway reads it.
            assertThat(batch(c, bindAndExecute(JUDGED)).getLast()).isInstanceOf(BackendMessage.ReadyForQuery.class);
        }
        assertThat(marker()).containsExactly("judged");
        assertThat(gw.auditEventually("kind = 'statement_completed' and outcome = 'refused'"
                + " and detail like '%statement or portal name with a non-ASCII character%'", 1)).isNotEmpty();
    }

    /** Every message that names a statement or portal: Parse, Bind's portal, Describe, Execute, Close. */
    @Test
    void everyMessageNamingAStatementOrPortalBeyondAsciiIsRefusedAfterHiddenCode() throws Exception {
        List<byte[]> naming = List.of(
                MessageCodec.encode(new FrontendMessage.Parse(JUDGED, "SELECT 1", new int[0])),
                MessageCodec.encode(new FrontendMessage.Bind(JUDGED, "", new short[0], new byte[0][], new short[0])),
                MessageCodec.encode(new FrontendMessage.Describe((byte) 'S', JUDGED)),
                MessageCodec.encode(new FrontendMessage.Describe((byte) 'P', JUDGED)),
                MessageCodec.encode(new FrontendMessage.Execute(JUDGED, 0)),
                MessageCodec.encode(new FrontendMessage.Close((byte) 'S', JUDGED)),
                MessageCodec.encode(new FrontendMessage.Close((byte) 'P', JUDGED)));
        try (RawClient c = client(JUSTIFIED)) {
            for (byte[] message : naming) {
                assertRefused(batch(c, hiddenCode(), message), "0A000", "statement or portal name");
            }
        }
    }

    /**
     * pgjdbc's executeBatch sends one Parse, a Bind and Execute per row and one Sync for all. Here each row's
     * trigger changes the encoding, so from the second row on the server reads the values by another one than the
     * gateway recorded. The trigger is code this database holds: before each later row's Bind the gateway asks the
     * server for search_path and the role (decision 0070), which did not move, so the batch runs, and decision 0063's
     * note marks each such row's values as possibly read as other characters.
     */
    @Test
    void aPgjdbcBatchOfWritesAfterHiddenCodeRunsAndRecordsItsLaterValuesAsPossiblyMisread() throws Exception {
        Properties p = new Properties();
        p.setProperty("options", "-c phigate.justification=names-test");
        try (Connection c = gw.connectAs(JUSTIFIED, p);
             PreparedStatement ps = c.prepareStatement("INSERT INTO hidden_names VALUES (?)")) {
            for (String n : List.of("José", "Zoë", "Renée")) {
                ps.setString(1, n);
                ps.addBatch();
            }
            assertThat(ps.executeBatch()).containsExactly(1, 1, 1);
            assertThat(c.isValid(2)).isTrue();
        }
        try (Connection d = TestDatabase.get().direct(); Statement s = d.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM hidden_names")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(3);
        }
        assertThat(gw.auditEventually("kind = 'statement_requested' and statement like 'INSERT INTO hidden_names%'"
                + " and statement like '%asked the server after code earlier in this batch%'"
                + " and statement like '%may stand for other characters%'", 2)).hasSizeGreaterThanOrEqualTo(2);
    }

    /**
     * A value bound after the view that changes the encoding, in the same batch: the server reads it by the new
     * encoding, which it reports only at the batch's end; the gateway records it as sent, with decision 0063's note.
     */
    @Test
    void aValueBoundAfterHiddenCodeInTheSameBatchIsRecordedAsPossiblyMisread() throws Exception {
        String sql = "INSERT INTO hidden_marker VALUES ($1 || $2)";
        byte[] parse = MessageCodec.encode(new FrontendMessage.Parse("", sql, new int[]{25, 23}));
        byte[] bind = MessageCodec.encode(new FrontendMessage.Bind("", "", new short[]{1, 1},
                new byte[][]{JUDGED.getBytes(StandardCharsets.UTF_8), {0, 0, 0, (byte) 200}}, new short[0]));
        byte[] execute = MessageCodec.encode(new FrontendMessage.Execute("", 0));
        try (RawClient c = client(JUSTIFIED)) {
            assertThat(batch(c, hiddenCode(), parse, bind, execute).getLast())
                    .isInstanceOf(BackendMessage.ReadyForQuery.class);
        }
        assertThat(marker()).hasSize(1).doesNotContain(JUDGED + "200");
        assertThat(gw.auditEventually("kind = 'statement_requested' and statement like 'INSERT INTO hidden_marker%'"
                + " and statement like '%may stand for other characters%'", 1)).isNotEmpty();
    }

    /**
     * Asked within the batch (decision 0070), the gateway's question and its answers never reach the client: what it
     * reads is what the server answers this batch with, message for message.
     */
    @Test
    void theClientSeesOnlyTheServersAnswersToItsOwnMessagesWhenTheGatewayAsksWithinTheBatch() throws Exception {
        byte[] insert = cat(MessageCodec.encode(new FrontendMessage.Parse("",
                        "INSERT INTO hidden_marker VALUES ('asked')", new int[0])), bindAndExecute(""));
        try (RawClient c = client(JUSTIFIED)) {
            assertThat(batch(c, hiddenCode(), insert)).extracting(m -> m.getClass().getSimpleName())
                    .containsExactly("ParseComplete", "BindComplete", "DataRow", "CommandComplete",
                            "ParseComplete", "BindComplete", "CommandComplete", "ReadyForQuery");
        }
        assertThat(marker()).containsExactly("asked");
        assertThat(gw.auditEventually("kind = 'statement_requested' and statement like 'INSERT INTO hidden_marker"
                + " VALUES (''asked'')%asked the server after code earlier in this batch%'", 1)).isNotEmpty();
    }

    /** Bytes that are not UTF-8 run only where the encoding changed: refused, as the server under UTF8 would. */
    @Test
    void aValueThatIsNotUtf8AfterHiddenCodeIsRefused() throws Exception {
        byte[] latin1 = {(byte) 0xE9, 'x'};
        byte[] insert = cat(MessageCodec.encode(new FrontendMessage.Parse("", "INSERT INTO hidden_marker VALUES ($1)",
                        new int[0])),
                MessageCodec.encode(new FrontendMessage.Bind("", "", new short[0], new byte[][]{latin1}, new short[0])),
                MessageCodec.encode(new FrontendMessage.Execute("", 0)));
        try (RawClient c = client(PLAIN)) {
            assertThat(batch(c, hiddenCode(), insert).getLast()).isInstanceOf(BackendMessage.ReadyForQuery.class);
        }
        assertThat(marker()).as("the control").containsExactly("éx");
        empty();
        try (RawClient c = client(JUSTIFIED)) {
            assertRefused(batch(c, hiddenCode(), insert), "22021", "invalid byte sequence");
        }
        assertThat(marker()).isEmpty();
    }

    @Test
    void aFunctionCallWithANonAsciiTextArgumentAfterHiddenCodeIsRefused() throws Exception {
        byte[] lowrite = MessageCodec.encode(new FrontendMessage.FunctionCall(955, new short[]{0},
                new byte[][]{"0".getBytes(StandardCharsets.UTF_8), JUDGED.getBytes(StandardCharsets.UTF_8)}, (short) 0));
        try (RawClient c = client(JUSTIFIED)) {
            c.send(cat(hiddenCode(), lowrite));
            List<BackendMessage> got = readUntilReady(c);
            assertRefused(got, "0A000", "non-ASCII text argument");
            c.send(MessageCodec.encode(FrontendMessage.Sync.INSTANCE));
            readUntilReady(c);
        }
    }

    private static RawClient client(String subject) throws Exception {
        RawClient c = new RawClient(gw.port());
        c.login(gw.token(subject, Duration.ofMinutes(5)));
        c.send(MessageCodec.encode(new FrontendMessage.Query("SET phigate.justification = 'names-test'")));
        readUntilReady(c);
        return c;
    }

    /** Two statements whose names are one byte string read in UTF-8 and in LATIN1, each prepared in its own batch. */
    private static void prepareBothNames(RawClient c) throws Exception {
        assertThat(batch(c,
                MessageCodec.encode(new FrontendMessage.Parse(JUDGED, "INSERT INTO hidden_marker VALUES ('judged')",
                        new int[0])),
                MessageCodec.encode(new FrontendMessage.Parse(RUN, "INSERT INTO hidden_marker VALUES ('other')",
                        new int[0]))).getLast()).isInstanceOf(BackendMessage.ReadyForQuery.class);
    }

    /** Code the gateway cannot see changing client_encoding, for the rest of the batch's implicit transaction. */
    private static byte[] hiddenCode() {
        return cat(MessageCodec.encode(new FrontendMessage.Parse("", "SELECT v FROM hidden_latin1", new int[0])),
                bindAndExecute(""));
    }

    private static byte[] bindAndExecute(String statement) {
        return cat(MessageCodec.encode(new FrontendMessage.Bind("", statement, new short[0], new byte[0][], new short[0])),
                MessageCodec.encode(new FrontendMessage.Execute("", 0)));
    }

    /** Sends the messages and a Sync; everything answered up to ReadyForQuery. */
    private static List<BackendMessage> batch(RawClient c, byte[]... messages) throws Exception {
        c.send(cat(cat(messages), MessageCodec.encode(FrontendMessage.Sync.INSTANCE)));
        return readUntilReady(c);
    }

    private static List<BackendMessage> readUntilReady(RawClient c) throws Exception {
        List<BackendMessage> got = new ArrayList<>();
        for (BackendMessage m = c.read(); m != null; m = c.read()) {
            got.add(m);
            if (m instanceof BackendMessage.ReadyForQuery) {
                break;
            }
        }
        return got;
    }

    private static void assertRefused(List<BackendMessage> got, String sqlState, String message) {
        assertThat(got).filteredOn(m -> m instanceof BackendMessage.ErrorResponse).singleElement()
                .isInstanceOfSatisfying(BackendMessage.ErrorResponse.class, e -> {
                    assertThat(e.sqlState()).isEqualTo(sqlState);
                    assertThat(e.fields().get((byte) 'M')).contains(message);
                });
        assertThat(got.getLast()).isInstanceOf(BackendMessage.ReadyForQuery.class);
    }

    private static List<String> marker() throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection d = TestDatabase.get().direct(); Statement s = d.createStatement();
             ResultSet rs = s.executeQuery("SELECT v FROM hidden_marker")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
