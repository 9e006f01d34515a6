package io.phigate.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.mask.SecretRef;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link AuditStoreBehaviour} against PostgreSQL: one embedded server for the class, a fresh database per test whose
 * schema is created by the superuser (the owner), and the gateway writing as {@code phigate_audit}, a role that may
 * only INSERT and SELECT, granted exactly as docs/audit-postgres.md says. Tampering is done as the superuser.
 */
class PostgresStoreBehaviourTest extends AuditStoreBehaviour {

    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static EmbeddedPostgres postgres;

    @TempDir
    static Path secrets;
    private static Path passwordFile;

    private String database;

    @BeforeAll
    static void startPostgres() throws Exception {
        postgres = EmbeddedPostgres.builder().setPGStartupWait(Duration.ofSeconds(60)).start();
        passwordFile = secrets.resolve("audit.password");
        Files.writeString(passwordFile, "not-used-with-trust-auth\n");
        try (Connection c = superuser("postgres"); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE phigate_audit LOGIN PASSWORD 'not-used-with-trust-auth'");
        }
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (postgres != null) {
            postgres.close();
        }
    }

    static Connection superuser(String database) throws SQLException {
        return DriverManager.getConnection(postgres.getJdbcUrl("postgres", database));
    }

    /** The statements of docs/audit-postgres.md that set up a database, with its name for this test. */
    static List<String> operatorSql(String database) throws Exception {
        String doc = Files.readString(Path.of("docs/audit-postgres.md"));
        var blocks = new ArrayList<String>();
        var m = java.util.regex.Pattern.compile("```sql\\n(.*?)```", java.util.regex.Pattern.DOTALL).matcher(doc);
        while (m.find()) {
            blocks.add(m.group(1).replace("phigate_db", database));
        }
        return blocks;
    }

    @BeforeEach
    void freshDatabase() throws Exception {
        database = "audit_" + DATABASES.incrementAndGet();
        try (Connection c = superuser("postgres"); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + database);
        }
        try (Connection c = superuser(database); Statement s = c.createStatement()) {
            s.execute(PostgresSchema.schemaSql());
            for (String block : operatorSql(database)) {
                if (block.contains("GRANT")) {
                    s.execute(block);
                }
            }
        }
    }

    AuditConfig.Postgres server(String user) {
        return new AuditConfig.Postgres("localhost", postgres.getPort(), database, user,
                new SecretRef(null, passwordFile));
    }

    @Override
    AuditConfig config(int capacity, Duration writeTimeout, Duration busyTimeout, String replica) {
        var server = server("phigate_audit");
        return new AuditConfig("postgres://phigate_audit@localhost:" + postgres.getPort() + "/" + database, null,
                capacity, writeTimeout, busyTimeout, replica, null, AuditConfig.DEFAULT_RESPONSE_CAP, server);
    }

    @Override
    Connection admin() throws SQLException {
        return superuser(database);
    }

    @Override
    void lockAgainstWriter(Statement s) throws SQLException {
        s.execute("BEGIN");
        s.execute("LOCK TABLE audit_event IN ACCESS EXCLUSIVE MODE");
    }

    @Override
    String lockedWords() {
        return "lock timeout";
    }

    @Override
    void failInsertsOf(String session) throws SQLException {
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("""
                    CREATE FUNCTION fail_midway() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        IF NEW.session_id = '%s' THEN RAISE EXCEPTION 'refused by test trigger'; END IF;
                        RETURN NEW;
                    END $$""".formatted(session));
            s.execute("CREATE TRIGGER fail_midway BEFORE INSERT ON audit_event FOR EACH ROW EXECUTE FUNCTION fail_midway()");
        }
    }

    @Override
    void dropChainUniqueness(Statement s) throws SQLException {
        var names = new ArrayList<String>();
        try (ResultSet rs = s.executeQuery("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'audit\\_event\\_%\\_chain'")) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        }
        for (String name : names) {
            s.execute("DROP INDEX " + name);
        }
    }

    @Override
    AuditConfig.Postgres archiveOwner() {
        return server("postgres"); // created the schema, so owns the tables
    }

    @Override
    String extraColumns() {
        return ", event_time";
    }

    @Override
    AuditVerifier.Report verify() throws Exception {
        // As the gateway's own role: verification needs nothing but SELECT.
        return AuditVerifier.verify(config(), null, null);
    }

    @Test
    void theWritersRoleCanOnlyInsertAndSelect() throws Exception {
        try (var store = new AuditStore(config())) {
            store.appendDurably(List.of(requested("s1", 1, "SELECT 1")));
        }
        try (Connection c = PostgresSchema.connect(server("phigate_audit")); Statement s = c.createStatement()) {
            for (String sql : List.of("UPDATE audit_event SET subject = 'x'", "DELETE FROM audit_event",
                    "TRUNCATE audit_event", "UPDATE audit_checkpoint SET note = 'x'", "DELETE FROM audit_checkpoint",
                    "DROP TABLE audit_event", "CREATE TABLE audit_event_29990101 PARTITION OF audit_event"
                            + " FOR VALUES FROM ('2999-01-01') TO ('2999-01-02')")) {
                assertThatThrownBy(() -> s.execute(sql)).as(sql).isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isIn("42501", "42P01"));
            }
        }
        assertThat(count()).isEqualTo(1);
    }

    @Test
    void theWriterCreatesTheDayPartitionsItNeedsAndCommitsSynchronously() throws Exception {
        try (var store = new AuditStore(config())) {
            store.appendDurably(List.of(requested("s1", 1, "SELECT 1")));
        }
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        var partitions = new ArrayList<String>();
        try (Connection c = admin(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                     + " WHERE i.inhparent = 'audit_event'::regclass ORDER BY 1")) {
            while (rs.next()) {
                partitions.add(rs.getString(1));
            }
        }
        var f = java.time.format.DateTimeFormatter.BASIC_ISO_DATE;
        assertThat(partitions).containsExactlyInAnyOrder("audit_event_20250304", "audit_event_" + today.format(f),
                "audit_event_" + today.plusDays(1).format(f));
        try (Connection c = admin(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT tableoid::regclass::text FROM audit_event")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("audit_event_20250304"); // placed by the record's own time
        }
        try (Connection c = PostgresSchema.connect(server("phigate_audit")); Statement s = c.createStatement()) {
            // The writer sets it on its own session; this checks the server lets the role do so.
            s.execute("SET synchronous_commit = on");
            try (ResultSet rs = s.executeQuery("SHOW synchronous_commit")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("on");
            }
        }
    }

    @Test
    void aSecondGatewayWithTheSameReplicaIsRefusedAtStart() throws Exception {
        try (var first = new AuditStore(config())) {
            first.appendDurably(List.of(requested("s1", 1, "SELECT 1")));
            assertThatThrownBy(() -> new AuditStore(config()))
                    .isInstanceOf(AuditUnavailableException.class)
                    .hasMessageContaining("another gateway is writing replica local");
        }
        try (var again = new AuditStore(config())) {
            again.appendDurably(List.of(requested("s1", 2, "SELECT 2")));
        }
        assertThat(verify().intact()).isTrue();
    }

    @Test
    void aMissingSchemaIsNamedWhenTheRoleCannotCreateIt() throws Exception {
        database = "audit_empty_" + DATABASES.incrementAndGet();
        try (Connection c = superuser("postgres"); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + database);
            s.execute("REVOKE CREATE ON DATABASE " + database + " FROM PUBLIC");
        }
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
        }
        assertThatThrownBy(() -> new AuditStore(config()))
                .isInstanceOf(AuditUnavailableException.class)
                .hasMessageContaining("audit_event does not exist and role phigate_audit cannot create it");
    }

    @Test
    void searchAndSessionReplayReadThePostgresStore() throws Exception {
        try (var store = new AuditStore(config())) {
            store.appendDurably(List.of(requested("s1", 1, "SELECT * FROM patients WHERE mrn = $1", "MRN-1"),
                    new AuditEvent.StatementCompleted(T, "s1", 1, AuditEvent.Outcome.OK, null, "SELECT 1", 1, 10)));
        }
        var queries = AuditQueries.of(config());
        assertThat(queries.session("s1")).hasSize(2);
        var page = queries.search(AuditQueries.Filter.ANY, AuditQueries.Page.FIRST_100);
        assertThat(page.statements()).hasSize(1);
    }

    @Test
    void theVerifyCommandReadsThePostgresStoreNamedInTheConfig() throws Exception {
        write20Records();
        Path conf = secrets.resolve(database);
        Path config = io.phigate.TestConfigs.write(conf, """
                store: postgres://phigate_audit@localhost:%d/%s
                password_file: %s
                """.formatted(postgres.getPort(), database, passwordFile));
        assertThat(run("audit", "verify", "--config", config.toString())).startsWith("0\n")
                .contains("replica gw-a: 20").contains("INTACT");
        tamper("update audit_event set subject = 'someone-else' where chain_seq = 15");
        assertThat(run("audit", "verify", "--config", config.toString())).startsWith("1\n")
                .contains("TAMPERED: replica gw-a, record 15");
    }

    @Test
    void freeTextSearchIsServedByTheTrigramIndex() throws Exception {
        writeSearched();
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("ANALYZE audit_event");
            s.execute("SET enable_seqscan = off");
            var plan = new StringBuilder();
            try (ResultSet rs = s.executeQuery("EXPLAIN SELECT seq FROM audit_event WHERE kind = 'statement_requested'"
                    + " AND lower(statement) LIKE '%patients%'")) {
                while (rs.next()) {
                    plan.append(rs.getString(1)).append('\n');
                }
            }
            assertThat(plan.toString()).contains("Bitmap Index Scan on audit_event_").contains("lower(statement)");
        }
    }

    @Test
    void archivingNeedsTheOwnerAndDropsTheDayPartitionsItEmptied() throws Exception {
        writeTimed(60, OLD, 1);
        writeTimed(15, java.time.Instant.now(), 61);
        LocalDate limit = LocalDate.now(ZoneOffset.UTC).minusDays(AuditConfig.DEFAULT_RETENTION.toDays());
        Path out = secrets.resolve(database + "-refused.jsonl.gz");
        assertThatThrownBy(() -> AuditArchive.archive(checkpointed(), limit, out, null, java.time.Clock.systemUTC(),
                null)).isInstanceOf(AuditArchive.RefusedException.class)
                .hasMessageContaining("role phigate_audit may not remove audit records");
        assertThat(Files.exists(out)).as("refused before writing").isFalse();

        AuditArchive.Result result = archiveOld(secrets.resolve(database + ".jsonl.gz"));
        assertThat(result.droppedPartitions()).containsExactly("audit_event_20180301", "audit_event_20180302");
        assertThat(verifyWithCheckpoints().problems()).isEmpty();
        // The gateway's role reads the cut and carries the chain on.
        writeTimed(25, java.time.Instant.now(), 76);
        assertThat(verifyWithCheckpoints().problems()).isEmpty();
    }

    @Test
    void theArchiveProveAndVerifyCommandsWorkOnThePostgresStore() throws Exception {
        writeTimed(60, OLD, 1);
        writeTimed(15, java.time.Instant.now(), 61);
        var checkpoints = checkpointed().checkpoints();
        Path config = io.phigate.TestConfigs.write(secrets.resolve(database + "-cli"), """
                store: postgres://phigate_audit@localhost:%d/%s
                password_file: %s
                replica: gw-a
                checkpoints:
                  key_file: %s
                  file: %s
                  every: 50
                """.formatted(postgres.getPort(), database, passwordFile, checkpoints.keyFile(), checkpoints.file()));
        String before = LocalDate.now(ZoneOffset.UTC).minusDays(AuditConfig.DEFAULT_RETENTION.toDays()).toString();
        Path out = secrets.resolve(database + "-cli.jsonl.gz");
        var refused = io.phigate.cli.TestAccess.capture("audit", "archive", "--config", config.toString(),
                "--before", before, "--out", out.toString());
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.err()).contains("archive as the owner of the audit tables (--owner)");
        var archived = io.phigate.cli.TestAccess.capture("audit", "archive", "--config", config.toString(),
                "--before", before, "--out", out.toString(), "--owner", "postgres", "--owner-password-file",
                passwordFile.toString());
        assertThat(archived.exitCode()).as(archived.err()).isZero();
        assertThat(archived.out()).contains("archived records 1 to 120 of replica gw-a")
                .contains("dropped the emptied day partitions audit_event_20180301, audit_event_20180302");

        Path proof = secrets.resolve(database + "-proof.json");
        var proved = io.phigate.cli.TestAccess.capture("audit", "prove", "--config", config.toString(), "--seq", "130",
                "--out", proof.toString());
        assertThat(proved.exitCode()).as(proved.err()).isZero();
        var checked = io.phigate.cli.TestAccess.capture("audit", "check-proof", "--proof", proof.toString(),
                "--public-key", CheckpointKeys.publicFile(checkpoints.keyFile()).toString());
        assertThat(checked.exitCode()).as(checked.out()).isZero();
        assertThat(checked.out()).contains("PROVEN: record 130 of replica gw-a");

        var verified = io.phigate.cli.TestAccess.capture("audit", "verify", "--config", config.toString());
        assertThat(verified.exitCode()).as(verified.out()).isZero();
        assertThat(verified.out()).contains("records 1 to 120 archived").contains("1 archive file(s) re-read")
                .contains("INTACT");
    }

    /** The exit code, a newline, and what the command printed. */
    private static String run(String... args) {
        var out = new java.io.ByteArrayOutputStream();
        var old = System.out;
        System.setOut(new java.io.PrintStream(out, true));
        int code;
        try {
            code = io.phigate.cli.TestAccess.run(args);
        } finally {
            System.setOut(old);
        }
        return code + "\n" + out;
    }
}
