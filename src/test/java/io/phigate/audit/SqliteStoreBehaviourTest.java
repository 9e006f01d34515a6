package io.phigate.audit;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;

/** {@link AuditStoreBehaviour} against one SQLite file per test. */
class SqliteStoreBehaviourTest extends AuditStoreBehaviour {

    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("audit.db");
    }

    @Override
    AuditConfig config(int capacity, Duration writeTimeout, Duration busyTimeout, String replica) {
        // The store as the durable point (no journal): these behaviours are the store's own. The journal in front of
        // it is covered by AuditJournalTest and, as the default, by every gateway test.
        return new AuditConfig("sqlite:" + file(), file(), capacity, writeTimeout, busyTimeout, replica, null)
                .withJournal(null, AuditConfig.DEFAULT_JOURNAL_MAX_BYTES);
    }

    @Override
    Connection admin() throws SQLException {
        return DriverManager.getConnection("jdbc:sqlite:" + file());
    }

    @Override
    void lockAgainstWriter(Statement s) throws SQLException {
        s.execute("BEGIN EXCLUSIVE");
    }

    @Override
    String lockedWords() {
        return "locked";
    }

    @Override
    void failInsertsOf(String session) throws SQLException {
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("CREATE TRIGGER fail_midway BEFORE INSERT ON audit_event WHEN NEW.session_id = '" + session
                    + "' BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END");
        }
    }

    @Override
    void dropChainUniqueness(Statement s) throws SQLException {
        s.execute("drop index if exists audit_event_chain");
    }

    @Override
    AuditConfig.Postgres archiveOwner() {
        return null;
    }

    @Override
    String extraColumns() {
        return "";
    }

    @Override
    AuditVerifier.Report verify() throws Exception {
        return AuditVerifier.verifySqlite(file());
    }

    @org.junit.jupiter.api.Test
    void newFilesIndexEachDistinctTextWithoutPositionsAndPutNoExtendedRecordInThePerRecordIndex() throws Exception {
        writeSearched();
        org.assertj.core.api.Assertions.assertThat(definition(StatementTexts.INDEX)).contains("detail = none");
        org.assertj.core.api.Assertions.assertThat(definition(SqliteSchema.TEXT_INDEX)).contains("detail = none");
        org.assertj.core.api.Assertions.assertThat(scalar("SELECT count(*) FROM " + SqliteSchema.TEXT_INDEX
                + "_docsize")).isZero();
    }

    @org.junit.jupiter.api.Test
    void aSchema5FileIndexesOnlyItsNewSimpleProtocolRecordsPerRecord() throws Exception {
        writeSearched();
        try (Connection c = admin(); Statement s = c.createStatement()) {
            // What schema 5 left: no per-record index on a file that never had one.
            for (String t : new String[]{"insert", "delete", "update"}) {
                s.execute("DROP TRIGGER IF EXISTS " + SqliteSchema.TEXT_INDEX + "_record_" + t); // insert: schema 6
            }
            s.execute("DROP TABLE " + SqliteSchema.TEXT_INDEX);
            s.execute("PRAGMA user_version = 5");
        }
        try (var store = new AuditStore(config())) {
            store.appendDurably(List.of(new AuditEvent.StatementRequested(T, "s-simple", 50, "10.0.0.7:5544",
                    "clinic", "https://issuer", "agent-1", AuditEvent.Protocol.SIMPLE,
                    "select * from patients where mrn = '42'", null, null, null)));
        }
        org.assertj.core.api.Assertions.assertThat(scalar("PRAGMA user_version")).isEqualTo(SqliteSchema.SCHEMA_VERSION);
        org.assertj.core.api.Assertions.assertThat(scalar("SELECT count(*) FROM " + SqliteSchema.TEXT_INDEX
                + "_docsize")).isEqualTo(1);
        org.assertj.core.api.Assertions.assertThat(searchText("patients")).containsExactly(1L, 2L, 3L, 50L);
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("DELETE FROM audit_event WHERE statement_id = 1"); // a schema 5 record: not in that index
        }
        org.assertj.core.api.Assertions.assertThat(scalar("SELECT count(*) FROM " + SqliteSchema.TEXT_INDEX
                + "_docsize")).isEqualTo(1);
        for (String text : List.of("patients", "mrn", "encounters", "select")) {
            org.assertj.core.api.Assertions.assertThat(searchText(text)).as(text).isEqualTo(scanText(text));
        }
    }

    @org.junit.jupiter.api.Test
    void aSchema6FileLosesItsInsertTriggerAndItsNewSimpleRecordsAreIndexedOnceByTheWriter() throws Exception {
        writeSearched();
        long indexed = scalar("SELECT count(*) FROM " + SqliteSchema.TEXT_INDEX + "_docsize");
        try (Connection c = admin(); Statement s = c.createStatement()) {
            // What schema 6 had: the per-record index's entries made by a trigger on every insert.
            s.execute("CREATE TRIGGER " + SqliteSchema.TEXT_INDEX + "_record_insert AFTER INSERT ON audit_event WHEN"
                    + " new.seq > 0 AND new.text_id IS NULL AND new.statement IS NOT NULL BEGIN INSERT INTO "
                    + SqliteSchema.TEXT_INDEX + " (rowid, statement) VALUES (new.seq, new.statement); END");
            s.execute("PRAGMA user_version = 6");
        }
        try (var store = new AuditStore(config())) {
            store.appendDurably(List.of(new AuditEvent.StatementRequested(T, "s-simple", 50, "10.0.0.7:5544",
                    "clinic", "https://issuer", "agent-1", AuditEvent.Protocol.SIMPLE,
                    "select * from patients where mrn = '42'", null, null, null),
                    requested("s-ext", 51, "select abalance from a where aid = $1", "1")));
        }
        org.assertj.core.api.Assertions.assertThat(scalar("PRAGMA user_version")).isEqualTo(SqliteSchema.SCHEMA_VERSION);
        org.assertj.core.api.Assertions.assertThat(scalar("SELECT count(*) FROM sqlite_master WHERE name = '"
                + SqliteSchema.TEXT_INDEX + "_record_insert'")).isZero();
        org.assertj.core.api.Assertions.assertThat(scalar("SELECT count(*) FROM " + SqliteSchema.TEXT_INDEX
                + "_docsize")).as("the simple record once, the extended one not").isEqualTo(indexed + 1);
        for (String text : List.of("patients", "mrn", "encounters", "select", "abalance")) {
            org.assertj.core.api.Assertions.assertThat(searchText(text)).as(text).isEqualTo(scanText(text));
        }
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("DELETE FROM audit_event WHERE statement_id = 50"); // the delete trigger still takes it out
            s.execute("INSERT INTO " + SqliteSchema.TEXT_INDEX + " (" + SqliteSchema.TEXT_INDEX
                    + ") VALUES ('integrity-check')"); // the index's own structure
        }
        org.assertj.core.api.Assertions.assertThat(scalar("SELECT count(*) FROM " + SqliteSchema.TEXT_INDEX
                + "_docsize")).isEqualTo(indexed);
    }

    @org.junit.jupiter.api.Test
    void simpleProtocolTextsAreIndexedPerRecordWithoutACopyAndFoundAsAScanFindsThem() throws Exception {
        try (var store = new AuditStore(config())) {
            java.util.List<AuditEvent> events = new java.util.ArrayList<>();
            for (int i = 0; i < SEARCHED.size(); i++) {
                events.add(new AuditEvent.StatementRequested(T, "s-simple", i + 1, "10.0.0.7:5544", "clinic",
                        "https://issuer", "agent-1", AuditEvent.Protocol.SIMPLE, SEARCHED.get(i), null, null, null));
                events.add(requested("s-ext", 100 + i, "select abalance from a where aid = $1", "" + i));
            }
            store.appendDurably(events);
        }
        org.assertj.core.api.Assertions.assertThat(scalar("SELECT count(*) FROM audit_text")).as("the extended text")
                .isEqualTo(1);
        org.assertj.core.api.Assertions.assertThat(scalar("SELECT count(*) FROM audit_event WHERE protocol = 'simple'"
                + " AND text_id IS NOT NULL")).isZero();
        org.assertj.core.api.Assertions.assertThat(scalar("SELECT count(*) FROM " + SqliteSchema.TEXT_INDEX
                + "_docsize")).isEqualTo(SEARCHED.size());
        List<String> asked = List.of("patients", "PATIENTS mrn", "public.patients", "atient", "\"from patients\"",
                "100%", "müller", "begin", "abalance", "encounters", "id", "select");
        for (String text : asked) {
            org.assertj.core.api.Assertions.assertThat(searchText(text)).as(text).isEqualTo(scanText(text));
        }
        org.assertj.core.api.Assertions.assertThat(searchText("patients")).containsExactly(1L, 2L, 3L);

        // A record leaves the index with itself (archiving deletes records), and a text edited by hand moves to a
        // text row of its own: search still answers as the scan does.
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("DELETE FROM audit_event WHERE statement_id IN (1, 2)");
            s.execute("UPDATE audit_event SET statement = 'SELECT patients_edited' WHERE statement_id = 3");
        }
        org.assertj.core.api.Assertions.assertThat(scalar("SELECT count(*) FROM " + SqliteSchema.TEXT_INDEX
                + "_docsize")).isEqualTo(SEARCHED.size() - 3);
        org.assertj.core.api.Assertions.assertThat(searchText("patients")).containsExactly(3L);
        for (String text : asked) {
            org.assertj.core.api.Assertions.assertThat(searchText(text)).as(text).isEqualTo(scanText(text));
        }
    }

    @org.junit.jupiter.api.Test
    void aRepeatedTextIsStoredAndIndexedOnceAndEveryRecordNamesItsOwnText() throws Exception {
        try (var store = new AuditStore(config())) {
            for (int group = 0; group < 5; group++) {
                java.util.List<AuditEvent> events = new java.util.ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    long id = group * 40L + i + 1;
                    events.add(requested("s-rep", id, i % 4 == 0 ? "select " + id : "select abalance from a where aid = $1",
                            "" + id));
                    events.add(new AuditEvent.StatementCompleted(T, "s-rep", id, AuditEvent.Outcome.OK, null, "SELECT 1", 1,
                            10));
                }
                store.appendDurably(events);
            }
        }
        // 50 ad-hoc texts and one prepared text, over five groups.
        org.assertj.core.api.Assertions.assertThat(scalar("SELECT count(*) FROM audit_text")).isEqualTo(51);
        org.assertj.core.api.Assertions.assertThat(scalar("SELECT count(*) FROM audit_event e LEFT JOIN audit_text t"
                + " ON t.id = e.text_id WHERE e.statement IS NOT NULL AND t.text IS NOT e.statement")).isZero();
        org.assertj.core.api.Assertions.assertThat(scalar("SELECT count(*) FROM audit_event WHERE statement IS NULL"
                + " AND text_id IS NOT NULL")).isZero();
        org.assertj.core.api.Assertions.assertThat(searchText("abalance")).hasSize(150);
        integrityCheck(StatementTexts.INDEX);
    }

    @org.junit.jupiter.api.Test
    void archivingDeletesTextsOnlyArchivedRecordsNamedAndALiveStoreStoresThemAgain() throws Exception {
        String archivedOnly = "select * from patients where id = $1"; // writeTimed's text
        String shared = "select ward from beds where bed = $1";
        try (var store = new AuditStore(checkpointed())) {
            java.util.List<AuditEvent> old = new java.util.ArrayList<>();
            for (int i = 1; i <= 60; i++) {
                Instant at = OLD.plusSeconds(i);
                old.add(new AuditEvent.StatementRequested(at, "s-old", i, "10.0.0.1:5000", "clinical", "iss", "agent",
                        AuditEvent.Protocol.EXTENDED, i % 2 == 0 ? archivedOnly : shared, List.of("" + i), "", ""));
                old.add(new AuditEvent.StatementCompleted(at, "s-old", i, AuditEvent.Outcome.OK, null, "SELECT 1", 1, 5));
            }
            store.appendDurably(old);
            java.util.List<AuditEvent> recent = new java.util.ArrayList<>();
            for (int i = 61; i <= 90; i++) {
                recent.add(new AuditEvent.StatementRequested(Instant.now(), "s-new", i, "10.0.0.1:5000", "clinical",
                        "iss", "agent", AuditEvent.Protocol.EXTENDED, shared, List.of("" + i), "", ""));
                recent.add(new AuditEvent.StatementCompleted(Instant.now(), "s-new", i, AuditEvent.Outcome.OK, null,
                        "SELECT 1", 1, 5));
            }
            store.appendDurably(recent); // 180 records: checkpoints at 50, 100, 150

            // The archive runs beside the live store, as an operator's command does.
            AuditArchive.Result result = archiveOld(evidence.resolve("archive/2018.jsonl.gz"));
            org.assertj.core.api.Assertions.assertThat(result.toSeq()).isEqualTo(120);
            try (var in = new java.util.zip.GZIPInputStream(java.nio.file.Files.newInputStream(result.file()))) {
                String archived = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                org.assertj.core.api.Assertions.assertThat(archived).as("records as they were, without the store's"
                        + " text pointer").contains("\"statement\":\"" + archivedOnly).doesNotContain("text_id");
            }
            org.assertj.core.api.Assertions.assertThat(texts()).containsExactly(shared);

            // The live store had remembered the archived text's id; it must store the text again, not name the
            // deleted row.
            store.appendDurably(List.of(new AuditEvent.StatementRequested(Instant.now(), "s-new", 91, "10.0.0.1:5000",
                    "clinical", "iss", "agent", AuditEvent.Protocol.EXTENDED, archivedOnly, List.of("91"), "", "")));
        }
        org.assertj.core.api.Assertions.assertThat(texts()).containsExactlyInAnyOrder(shared, archivedOnly);
        org.assertj.core.api.Assertions.assertThat(scalar("SELECT count(*) FROM audit_event e LEFT JOIN audit_text t"
                + " ON t.id = e.text_id WHERE e.statement IS NOT NULL AND t.text IS NOT e.statement")).isZero();
        org.assertj.core.api.Assertions.assertThat(searchText("patients")).containsExactly(91L);
        org.assertj.core.api.Assertions.assertThat(searchText("beds")).hasSize(30);
        integrityCheck(StatementTexts.INDEX);
        org.assertj.core.api.Assertions.assertThat(verifyWithCheckpoints().problems()).isEmpty();
    }

    @org.junit.jupiter.api.Test
    void aGroupThatFailsLeavesNoTextBehindAndTheNextGroupStoresItAgain() throws Exception {
        try (var store = new AuditStore(config())) {
            store.appendDurably(List.of(requested("s1", 0, "select 0")));
            failInsertsOf("poison");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.appendDurably(List.of(
                    requested("s1", 1, "select novel from texts"), requested("poison", 2, "select 2"))))
                    .isInstanceOf(AuditUnavailableException.class);
            // The rolled-back group's texts are not in the table, so the writer must not remember them.
            store.appendDurably(List.of(requested("s1", 3, "select novel from texts")));
        }
        org.assertj.core.api.Assertions.assertThat(texts()).containsExactly("select 0", "select novel from texts");
        org.assertj.core.api.Assertions.assertThat(searchText("novel")).containsExactly(3L);
    }

    @org.junit.jupiter.api.Test
    void aTextEditedByHandIsSearchedAsItNowIs() throws Exception {
        writeSearched();
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("UPDATE audit_event SET statement = 'select hidden from elsewhere' WHERE kind = 'statement_requested'"
                    + " AND statement_id = 5");
            s.execute("UPDATE audit_event SET statement = NULL WHERE kind = 'statement_requested' AND statement_id = 2");
        }
        org.assertj.core.api.Assertions.assertThat(searchText("elsewhere")).containsExactly(5L);
        org.assertj.core.api.Assertions.assertThat(searchText("encounters")).isEmpty();
        org.assertj.core.api.Assertions.assertThat(searchText("patients")).containsExactly(1L, 3L);
        org.assertj.core.api.Assertions.assertThat(scalar("SELECT count(*) FROM audit_event WHERE statement IS NULL"
                + " AND text_id IS NOT NULL")).isZero();
        integrityCheck(StatementTexts.INDEX);
    }

    private List<String> texts() throws SQLException {
        var texts = new java.util.ArrayList<String>();
        try (Connection c = admin(); Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery("SELECT text FROM audit_text ORDER BY id")) {
            while (rs.next()) {
                texts.add(rs.getString(1));
            }
        }
        return texts;
    }

    private long scalar(String sql) throws SQLException {
        try (Connection c = admin(); Statement s = c.createStatement(); java.sql.ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Fails (SQLITE_CORRUPT_VTAB) when the index and its content table disagree. */
    private void integrityCheck(String index) throws SQLException {
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO " + index + " (" + index + ", rank) VALUES ('integrity-check', 1)");
        }
    }

    private String definition(String name) throws SQLException {
        try (Connection c = admin(); Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery("SELECT sql FROM sqlite_master WHERE name = '" + name + "'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
