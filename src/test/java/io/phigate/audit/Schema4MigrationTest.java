package io.phigate.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decision 0060 moved the SQLite store's text index from every record to each distinct text. The store under
 * {@code schema4/} was written by the gateway before that change (its generator, {@code Schema4Store.java}, is
 * beside it, with the exports it made): it must open and migrate, read back byte for byte as it did, and records
 * written today must carry the same hashes and export the same as they did then.
 */
class Schema4MigrationTest {

    private static final String FIXTURE = "schema4/";

    @TempDir
    Path dir;

    private Path file;
    private AuditConfig config;

    private void openFixture() throws Exception {
        file = dir.resolve("audit.db");
        try (InputStream in = resource("schema4-store.db")) {
            Files.copy(in, file);
        }
        config = config(file);
    }

    private static AuditConfig config(Path file) {
        return new AuditConfig("sqlite:" + file, file, 10_000, Duration.ofSeconds(5), Duration.ofSeconds(1))
                .withJournal(null, AuditConfig.DEFAULT_JOURNAL_MAX_BYTES);
    }

    @Test
    void aSchema4StoreReadsAndExportsTheSameBeforeAndAfterTodaysGatewayOpensIt() throws Exception {
        openFixture();
        assertThat(userVersion()).isEqualTo(4);
        assertExportsAsWritten(config);
        List<String> hashes = hashes(file);

        new AuditStore(config).close();

        assertThat(userVersion()).isEqualTo(SqliteSchema.SCHEMA_VERSION);
        assertExportsAsWritten(config);
        assertThat(hashes(file)).isEqualTo(hashes);
        assertThat(AuditVerifier.verifySqlite(file).problems()).isEmpty();
    }

    @Test
    void recordsWrittenTodayHashAndExportAsTheSameEventsDidBeforeTheTextTable() throws Exception {
        openFixture();
        Path today = dir.resolve("today");
        runGenerator(today);
        Path written = today.resolve("schema4-store.db");
        // The prepared text once; the five simple-protocol texts per record, with no copy (decision 0067).
        assertThat(count(written, "SELECT count(*) FROM audit_text")).as("distinct extended texts").isEqualTo(1);
        assertThat(count(written, "SELECT count(*) FROM " + SqliteSchema.TEXT_INDEX + "_docsize")).isEqualTo(5);
        assertThat(hashes(written)).isEqualTo(hashes(file));
        for (AuditExport.Format format : AuditExport.Format.values()) {
            String name = "schema4-export." + format.name().toLowerCase(java.util.Locale.ROOT);
            assertSameExport(name, Files.readString(today.resolve(name)));
        }
        assertThat(AuditVerifier.verifySqlite(written).problems()).isEmpty();
    }

    @Test
    void aMigratedStoreFindsOldAndNewRecordsAndStopsIndexingEveryRecord() throws Exception {
        openFixture();
        long legacyRows = count(file, "SELECT count(*) FROM " + SqliteSchema.TEXT_INDEX + "_docsize");
        try (var store = new AuditStore(config)) {
            List<AuditEvent> events = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                String text = i % 2 == 0 ? "SELECT abalance FROM pgbench_accounts WHERE aid = $1"
                        : "select ward from beds where bed = " + i;
                events.add(AuditStoreBehaviour.requested("s2", 100 + i, text));
            }
            for (int i = 0; i < 3; i++) {
                events.add(new AuditEvent.StatementRequested(AuditStoreBehaviour.T, "s3", 200 + i, "10.0.0.7:5544",
                        "clinic", "https://issuer", "agent-1", AuditEvent.Protocol.SIMPLE,
                        "select ward from beds where bed = " + (500 + i), null, null, null));
            }
            store.appendDurably(events);
        }
        assertThat(count(file, "SELECT count(*) FROM " + SqliteSchema.TEXT_INDEX + "_docsize"))
                .as("the per-record index takes the simple protocol's new records only").isEqualTo(legacyRows + 3);
        assertThat(count(file, "SELECT count(*) FROM sqlite_master WHERE name = '" + SqliteSchema.TEXT_INDEX
                + "_insert'")).isZero();
        for (String text : List.of("abalance", "pgbench_accounts", "patients", "Müller", "100%", "beds",
                "ward from", "\"where bed = 1\"", "begin", "select", "encounters e join")) {
            assertThat(search(text)).as(text).isEqualTo(scan(text)).isNotEmpty();
        }
        assertThat(search("abalance")).hasSize(12 + 20);
        assertThat(AuditVerifier.verifySqlite(file).problems()).isEmpty();
    }

    @Test
    void aFileFromBeforeAnyTextIndexGetsOneForItsRecordsWhenOpened() throws Exception {
        openFixture();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement()) {
            for (String t : new String[]{"insert", "delete", "update"}) {
                s.execute("DROP TRIGGER " + SqliteSchema.TEXT_INDEX + "_" + t);
            }
            s.execute("DROP TABLE " + SqliteSchema.TEXT_INDEX);
            s.execute("PRAGMA user_version = 3");
        }
        assertThat(search("patients")).as("an old file read by scanning").isEqualTo(scan("patients")).hasSize(2);
        new AuditStore(config).close();
        assertThat(count(file, "SELECT count(*) FROM " + SqliteSchema.TEXT_INDEX + " WHERE " + SqliteSchema.TEXT_INDEX
                + " MATCH '" + StatementSearch.trigramMatch(List.of("patients")) + "'")).as("backfilled").isEqualTo(2);
        for (String text : List.of("patients", "abalance", "\"from patients\"", "müller")) {
            assertThat(search(text)).as(text).isEqualTo(scan(text));
        }
    }

    @Test
    void aPerRecordIndexWithPositionsAnswersTheSameAfterMigration() throws Exception {
        openFixture();
        // Files written before decision 0023 have an index with positions (detail=full); it is kept.
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement()) {
            s.execute("DROP TABLE " + SqliteSchema.TEXT_INDEX);
            s.execute("CREATE VIRTUAL TABLE " + SqliteSchema.TEXT_INDEX + " USING fts5(statement,"
                    + " content = 'audit_event', content_rowid = 'seq', tokenize = 'trigram')");
            s.execute("INSERT INTO " + SqliteSchema.TEXT_INDEX + " (" + SqliteSchema.TEXT_INDEX + ") VALUES ('rebuild')");
        }
        new AuditStore(config).close();
        for (String text : List.of("patients", "\"from patients\"", "\"patients mrn\"", "atient", "müller",
                "public.encounters", "nowhere patients")) {
            assertThat(search(text)).as(text).isEqualTo(scan(text));
        }
    }

    private void assertExportsAsWritten(AuditConfig config) throws Exception {
        for (AuditExport.Format format : AuditExport.Format.values()) {
            String name = "schema4-export." + format.name().toLowerCase(java.util.Locale.ROOT);
            var out = new StringWriter();
            AuditExport.write(AuditQueries.of(config), format, null, null, out);
            assertSameExport(name, out.toString());
        }
    }

    /**
     * Byte for byte, but OCSF line by line as JSON: its {@code metadata} object is built with {@code Map.of}, whose
     * key order changes from one JVM to the next, before this change as after it.
     */
    private static void assertSameExport(String name, String actual) throws Exception {
        String expected = expected(name);
        if (!name.endsWith(".ocsf")) {
            assertThat(actual).as(name).isEqualTo(expected);
            return;
        }
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        List<String> want = expected.lines().toList();
        List<String> got = actual.lines().toList();
        assertThat(got).as(name).hasSameSizeAs(want);
        for (int i = 0; i < want.size(); i++) {
            assertThat(json.readTree(got.get(i))).as(name + " line " + (i + 1)).isEqualTo(json.readTree(want.get(i)));
        }
    }

    /** Runs the fixture's generator with today's classes, writing a fresh store and its exports to {@code out}. */
    private void runGenerator(Path out) throws Exception {
        Path source = dir.resolve("Schema4Store.java");
        try (InputStream in = resource("Schema4Store.java")) {
            Files.copy(in, source);
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                source.toString(), out.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("generator.log").toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("generator finished").isTrue();
        assertThat(p.exitValue()).as(Files.readString(dir.resolve("generator.log"))).isZero();
    }

    private List<Long> search(String text) throws Exception {
        return AuditQueries.of(config).search(AuditQueries.Filter.ANY.withText(text), new AuditQueries.Page(1000, 0))
                .statements().stream().map(AuditQueries.Statement::seq).sorted().toList();
    }

    private List<Long> scan(String text) throws SQLException {
        var terms = StatementSearch.terms(text);
        var sql = new StringBuilder("SELECT seq FROM audit_event WHERE kind = 'statement_requested'");
        for (int i = 0; i < terms.size(); i++) {
            sql.append(" AND lower(statement) LIKE ? ESCAPE '\\'");
        }
        var seqs = new ArrayList<Long>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
             var q = c.prepareStatement(sql + " ORDER BY seq")) {
            for (int i = 0; i < terms.size(); i++) {
                q.setString(i + 1, "%" + StatementSearch.escapeLike(terms.get(i).toLowerCase(java.util.Locale.ROOT)) + "%");
            }
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    seqs.add(rs.getLong(1));
                }
            }
        }
        return seqs;
    }

    private static List<String> hashes(Path store) throws SQLException {
        var hashes = new ArrayList<String>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + store); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT replica, chain_seq, prev_hash, hash FROM audit_event ORDER BY seq")) {
            while (rs.next()) {
                hashes.add(rs.getString(1) + " " + rs.getLong(2) + " " + rs.getString(3) + " " + rs.getString(4));
            }
        }
        return hashes;
    }

    private int userVersion() throws SQLException {
        return (int) count(file, "PRAGMA user_version");
    }

    private static long count(Path store, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + store); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String expected(String name) throws Exception {
        try (InputStream in = resource(name)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private static InputStream resource(String name) {
        InputStream in = Schema4MigrationTest.class.getResourceAsStream(FIXTURE + name);
        assertThat(in).as(name).isNotNull();
        return in;
    }
}
