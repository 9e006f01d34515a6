package io.phigate.clients;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.GatewayHarness;
import io.phigate.config.CredentialsConfig;
import io.phigate.config.HostPort;
import io.phigate.config.UpstreamConfig;
import io.phigate.config.UpstreamTlsConfig;
import io.phigate.demo.DemoDatabase;
import io.phigate.mask.SecretRef;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * pg_dump through a masked session, pg_restore into an empty database: a de-identified copy of a Datafaker clinical
 * database made with the tools operators already use (issue 25, item 4). Every tagged column is masked in the
 * copy, every untagged column is identical, row counts are equal, and the export is on the audit record.
 */
class DeidentifiedDumpTest {
    static final String PREFIX = "system:serviceaccount:clinical:";
    static final String POLICY = """
            phi:
              clinical:
                columns:
                  public.patients.ssn: ssn
                  public.patients.first_name: name
                  public.patients.last_name: name
                  public.patients.mrn: mrn
                  public.patients.birth_date: dob
                  public.patients.phone: phone
                  public.patients.email: email
                  public.patients.street: address
                  public.patients.city: address
                  public.patients.zip: zip
                  public.encounters.notes: free_text
                subjects: { public.patients: id }
            masking:
              key_file: masking.key
            roles:
              - { name: exporter, match: { subject: "%1$sexporter" }, upstreams: [clinical] }
            """.formatted(PREFIX);
    /** The tagged columns; everything else in the three tables must come through unchanged. */
    static final Map<String, Set<String>> TAGGED = Map.of(
            "patients", Set.of("ssn", "first_name", "last_name", "mrn", "birth_date", "phone", "email", "street",
                    "city", "zip"),
            "encounters", Set.of("notes"),
            "medications", Set.of());

    @TempDir
    static Path dir;
    static DemoDatabase source;
    static EmbeddedPostgres target;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        source = DemoDatabase.start(dir.resolve("source"), 0, 300);
        target = EmbeddedPostgres.builder().setPGStartupWait(Duration.ofSeconds(60)).start();
        Path password = dir.resolve("upstream.password");
        Files.writeString(password, source.password() + "\n");
        UpstreamConfig upstream = new UpstreamConfig("clinical", new HostPort("127.0.0.1", source.port()),
                "clinical", new CredentialsConfig(CredentialsConfig.Mode.STATIC, source.user(),
                new SecretRef(null, password)), UpstreamTlsConfig.DISABLED);
        gw = GatewayHarness.startWithPolicy(dir, upstream, POLICY);
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
        if (target != null) {
            target.close();
        }
        if (source != null) {
            source.close();
        }
    }

    private Map<String, String> env() throws Exception {
        return Map.of("PGPASSWORD", gw.token(PREFIX + "exporter", Duration.ofMinutes(30)), "PGHOST", "127.0.0.1",
                "PGPORT", String.valueOf(gw.port()), "PGUSER", "exporter", "PGDATABASE", "clinical",
                "PGCONNECT_TIMEOUT", "10", "PGSSLMODE", "disable");
    }

    @Test
    void aCustomFormatDumpThroughAMaskedSessionRestoresAsADeidentifiedCopy() throws Exception {
        Path file = dir.resolve("clinical.dump");
        dump("-Fc", "-f", file.toString());
        assertRestoredCopyIsDeidentified(restore("custom", file.toString()));
        assertExportIsOnTheAuditRecord();
    }

    @Test
    void aParallelDirectoryDumpSharesOneExportedSnapshotAndRestores() throws Exception {
        Path out = dir.resolve("clinical.dir");
        dump("-Fd", "-j", "2", "-f", out.toString());
        // Each worker imported the snapshot the leader exported, its id unredacted (decision 0049).
        Set<Object> imported = new HashSet<>();
        for (var row : gw.auditEventually("kind = 'statement_requested' and statement like"
                + " 'SET TRANSACTION SNAPSHOT %'", 2)) {
            imported.add(row.get("statement"));
        }
        assertThat(imported).hasSize(1).allSatisfy(s -> assertThat(s.toString()).matches(
                "SET TRANSACTION SNAPSHOT '[0-9A-F]+-[0-9A-F]+-[0-9]+'"));
        assertRestoredCopyIsDeidentified(restore("directory", "-j", "2", out.toString()));
    }

    @Test
    void aPlainTextDumpWithInsertsLoadsWithPsql() throws Exception {
        Path file = dir.resolve("clinical-inserts.sql");
        dump("-Fp", "--inserts", "--no-owner", "--no-privileges", "-f", file.toString());
        String database = "plain_inserts";
        createDatabase(database);
        ClientTools.Result r = ClientTools.run(Map.of(), dir, ClientTools.find("psql").toString(), "-X", "-q",
                "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String.valueOf(target.getPort()), "-U", "postgres",
                "-d", database, "-f", file.toString());
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertRestoredCopyIsDeidentified(target.getDatabase("postgres", database));
    }

    /**
     * Decision 0049: keys tagged on both sides of their foreign keys with a deterministic operator ({@code token})
     * keep their primary key, uniqueness and every reference in the copy, so it restores with its constraints.
     */
    @Test
    void keysTaggedOnBothSidesWithTokenKeepTheirConstraintsInTheCopy() throws Exception {
        Path keysDir = Files.createDirectories(dir.resolve("keys-policy"));
        Files.writeString(keysDir.resolve("masking.key"), "q".repeat(64));
        Files.writeString(keysDir.resolve("policy.yaml"), POLICY.replace("    subjects: { public.patients: id }",
                "      public.patients.id: id\n      public.encounters.patient_id: id\n"
                        + "      public.medications.patient_id: id"));
        UpstreamConfig upstream = gw.config().upstreams().get("clinical");
        try (GatewayHarness keyed = GatewayHarness.start(keysDir, upstream,
                c -> GatewayHarness.withPolicy(c, keysDir.resolve("policy.yaml")))) {
            Map<String, String> env = new java.util.HashMap<>(env());
            env.put("PGPASSWORD", keyed.token(PREFIX + "exporter", Duration.ofMinutes(30)));
            env.put("PGPORT", String.valueOf(keyed.port()));
            Path file = dir.resolve("clinical-keys.dump");
            dump(env, "-Fc", "-f", file.toString());
            DataSource copy = restore("keyed", file.toString());
            try (Connection src = source.superuserDataSource().getConnection(); Connection dst = copy.getConnection()) {
                String shape = "SELECT count(*)::text FROM public.encounters e JOIN public.patients p"
                        + " ON p.id = e.patient_id GROUP BY p.id ORDER BY 1";
                assertThat(column(rows(dst, shape), 0)).as("each patient keeps their encounters")
                        .isEqualTo(column(rows(src, shape), 0));
                Set<String> ids = new HashSet<>(column(rows(src, "SELECT id::text FROM public.patients"), 0));
                assertThat(column(rows(dst, "SELECT id::text FROM public.patients"), 0)).hasSameSizeAs(ids)
                        .noneMatch(ids::contains);
            }
        }
    }

    private void dump(String... args) throws Exception {
        dump(env(), args);
    }

    private static void dump(Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(ClientTools.find("pg_dump").toString()));
        command.addAll(List.of(args));
        ClientTools.Result r = ClientTools.run(env, dir, command.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.output()).isZero();
    }

    private static List<List<String>> rows(Connection c, String select) throws SQLException {
        List<List<String>> rows = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(select)) {
            while (rs.next()) {
                rows.add(List.of(rs.getString(1)));
            }
        }
        return rows;
    }

    private static DataSource restore(String database, String... args) throws Exception {
        createDatabase(database);
        List<String> command = new ArrayList<>(List.of(ClientTools.find("pg_restore").toString(), "--exit-on-error",
                "--no-owner", "--no-privileges", "-h", "127.0.0.1", "-p", String.valueOf(target.getPort()), "-U",
                "postgres", "-d", database));
        command.addAll(List.of(args));
        ClientTools.Result r = ClientTools.run(Map.of(), dir, command.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).doesNotContain("error");
        return target.getDatabase("postgres", database);
    }

    private static void createDatabase(String name) throws SQLException {
        try (Connection c = target.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
    }

    private static void assertRestoredCopyIsDeidentified(DataSource copy) throws Exception {
        try (Connection src = source.superuserDataSource().getConnection(); Connection dst = copy.getConnection()) {
            for (var table : TAGGED.entrySet()) {
                List<String> columns = columns(src, table.getKey());
                List<List<String>> before = rows(src, table.getKey(), columns);
                List<List<String>> after = rows(dst, table.getKey(), columns);
                assertThat(after).as(table.getKey()).hasSameSizeAs(before).isNotEmpty();
                for (int c = 0; c < columns.size(); c++) {
                    String column = table.getKey() + "." + columns.get(c);
                    List<String> was = column(before, c);
                    List<String> is = column(after, c);
                    if (!table.getValue().contains(columns.get(c))) {
                        assertThat(is).as(column + " is not tagged: identical").isEqualTo(was);
                        continue;
                    }
                    Set<String> seeded = new HashSet<>(was);
                    seeded.remove(null);
                    seeded.removeIf(v -> v.endsWith("-01-01")); // a year-only date is its own masked form
                    assertThat(is).as(column + " is tagged: no source value survives").noneMatch(seeded::contains);
                }
            }
        }
    }

    private static List<String> column(List<List<String>> rows, int c) {
        return rows.stream().map(r -> r.get(c)).toList();
    }

    private static List<String> columns(Connection c, String table) throws SQLException {
        List<String> names = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT attname FROM pg_attribute"
                + " WHERE attrelid = 'public." + table + "'::regclass AND attnum > 0 AND NOT attisdropped"
                + " ORDER BY attnum")) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        }
        return names;
    }

    private static List<List<String>> rows(Connection c, String table, List<String> columns) throws SQLException {
        List<List<String>> rows = new ArrayList<>();
        String select = "SELECT " + String.join(", ", columns.stream().map(n -> n + "::text").toList())
                + " FROM public." + table + " ORDER BY id";
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(select)) {
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= columns.size(); i++) {
                    row.add(rs.getString(i));
                }
                rows.add(row);
            }
        }
        return rows;
    }

    private void assertExportIsOnTheAuditRecord() throws Exception {
        // Records are durable in the journal before each statement runs; the store they are searched in takes them
        // from the journal a moment later, so the last COPY of a dump may not be searchable yet when it returns.
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(15);
        while (true) {
            var searched = io.phigate.cli.TestAccess.capture("audit", "search", "--store", gw.auditFile().toString(),
                    "--text", "COPY public.patients");
            assertThat(searched.exitCode()).as(searched.err()).isZero();
            if (searched.out().contains("COPY public.patients") || System.nanoTime() > deadline) {
                assertThat(searched.out()).contains("COPY public.patients");
                return;
            }
            Thread.sleep(200);
        }
    }
}
