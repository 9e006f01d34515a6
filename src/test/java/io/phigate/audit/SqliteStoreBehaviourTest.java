package io.phigate.audit;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
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
    void aFileFromBeforeTheTextIndexGetsOneFilledWhenAGatewayOpensIt() throws Exception {
        writeSearched();
        try (Connection c = admin(); Statement s = c.createStatement()) {
            for (String t : new String[]{"insert", "delete", "update"}) {
                s.execute("DROP TRIGGER " + SqliteSchema.TEXT_INDEX + "_" + t);
            }
            s.execute("DROP TABLE " + SqliteSchema.TEXT_INDEX);
            s.execute("PRAGMA user_version = 3");
        }
        // A reader of the old file still finds everything, by scanning.
        org.assertj.core.api.Assertions.assertThat(searchText("patients")).containsExactly(1L, 2L, 3L);
        new AuditStore(config()).close();
        try (Connection c = admin(); Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery("SELECT count(*) FROM " + SqliteSchema.TEXT_INDEX
                     + " WHERE " + SqliteSchema.TEXT_INDEX + " MATCH '"
                     + AuditQueries.trigramMatch(java.util.List.of("patients")) + "'")) {
            rs.next();
            org.assertj.core.api.Assertions.assertThat(rs.getInt(1)).as("backfilled").isEqualTo(3);
        }
        org.assertj.core.api.Assertions.assertThat(searchText("patients")).containsExactly(1L, 2L, 3L);
        try (Connection c = admin(); Statement s = c.createStatement()) {
            // Fails (SQLITE_CORRUPT_VTAB) when the index and the table disagree.
            s.execute("INSERT INTO " + SqliteSchema.TEXT_INDEX + " (" + SqliteSchema.TEXT_INDEX + ", rank)"
                    + " VALUES ('integrity-check', 1)");
        }
    }

    @org.junit.jupiter.api.Test
    void aTextIndexWithPositionsFromAnOlderGatewayAnswersTheSame() throws Exception {
        writeSearched();
        // Files written before decision 0023 have an index with positions (detail=full); it is kept.
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE " + SqliteSchema.TEXT_INDEX);
            s.execute("CREATE VIRTUAL TABLE " + SqliteSchema.TEXT_INDEX + " USING fts5(statement,"
                    + " content = 'audit_event', content_rowid = 'seq', tokenize = 'trigram')");
            s.execute("INSERT INTO " + SqliteSchema.TEXT_INDEX + " (" + SqliteSchema.TEXT_INDEX + ") VALUES ('rebuild')");
        }
        new AuditStore(config()).close();
        org.assertj.core.api.Assertions.assertThat(textIndexDefinition()).doesNotContain("detail");
        for (String text : java.util.List.of("patients", "\"from patients\"", "\"patients mrn\"", "atient", "müller",
                "public.patients", "nowhere patients")) {
            org.assertj.core.api.Assertions.assertThat(searchText(text)).as(text).isEqualTo(scanText(text));
        }
    }

    @org.junit.jupiter.api.Test
    void newFilesIndexTrigramsWithoutPositions() throws Exception {
        writeSearched();
        org.assertj.core.api.Assertions.assertThat(textIndexDefinition()).contains("detail = none");
    }

    private String textIndexDefinition() throws SQLException {
        try (Connection c = admin(); Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery("SELECT sql FROM sqlite_master WHERE name = '"
                     + SqliteSchema.TEXT_INDEX + "'")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
