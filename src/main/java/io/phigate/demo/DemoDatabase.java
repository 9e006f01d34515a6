package io.phigate.demo;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import javax.sql.DataSource;
import net.datafaker.Faker;
import org.postgresql.PGConnection;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An embedded PostgreSQL 14 holding a {@code clinical} database of synthetic patients, for the demo and for tests
 * that need a real upstream behind the gateway.
 *
 * <p>Every row is made up by Datafaker from a fixed seed, so two starts hold the same data. Nothing here came from a
 * real person: phone numbers are in the 555-01xx range reserved for fiction and e-mail addresses are at example.com and
 * example.org. Social security numbers are random draws that pass the SSA's validity rules (no 000, 666 or 9xx area,
 * no 00 group, no 0000 serial), because real detectors reject the 9xx area that synthetic sets often use, and the
 * demo exists to show them being caught.
 *
 * <p>Both roles authenticate with SCRAM-SHA-256, including the superuser over the loopback: a demo about keeping
 * agents behind a gateway should not leave a password-less path around it. {@code phigate} is a plain login role
 * that can read and write the demo tables but owns nothing and cannot change the schema.
 */
public final class DemoDatabase implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DemoDatabase.class);

    /** Changing the seed changes every row; tests compare runs, not literal values. */
    static final long SEED = 20250101L;
    /** Timestamps are counted back from here rather than from now(), so they repeat across runs too. */
    private static final Instant REFERENCE_TIME = Instant.parse("2025-01-01T00:00:00Z");
    private static final LocalDate REFERENCE_DATE = LocalDate.of(2025, 1, 1);

    private static final String DATABASE = "clinical";
    private static final String USER = "phigate";
    private static final String SUPERUSER = "postgres";
    private static final String HOST = "localhost";
    private static final String PGDATA = "pgdata";

    private final EmbeddedPostgres postgres;
    private final String password;
    private final String superuserPassword;
    private final Path ownedTempDir;

    private DemoDatabase(EmbeddedPostgres postgres, String password, String superuserPassword, Path ownedTempDir) {
        this.postgres = postgres;
        this.password = password;
        this.superuserPassword = superuserPassword;
        this.ownedTempDir = ownedTempDir;
    }

    /**
     * Starts PostgreSQL, creates the {@code clinical} database and the {@code phigate} role, and seeds it.
     *
     * @param dataDir  folder to hold the cluster (in {@code dataDir/pgdata}, removed on close); {@code null} for a
     *                 temporary folder
     * @param port     TCP port on localhost, or 0 for a free one
     * @param patients number of patients; encounters are about ten for every three patients
     */
    public static DemoDatabase start(Path dataDir, int port, int patients) throws IOException {
        if (patients < 1) {
            throw new IllegalArgumentException("patients must be at least 1, got " + patients);
        }
        Path ownedTempDir = dataDir == null ? Files.createTempDirectory("phigate-demo-") : null;
        Path pgdata = (dataDir == null ? ownedTempDir : dataDir).resolve(PGDATA);
        removeStaleCluster(pgdata);
        Files.createDirectories(pgdata.getParent());

        long started = System.nanoTime();
        var builder = EmbeddedPostgres.builder()
                .setDataDirectory(pgdata)
                .setCleanDataDirectory(true)
                .setPGStartupWait(Duration.ofSeconds(60))
                .setServerConfig("listen_addresses", HOST)
                .setServerConfig("password_encryption", "scram-sha-256")
                // zonky's readiness probe logs in as the superuser without a password, so SCRAM is switched on
                // only after startup (see requirePasswords).
                .setDataDirectoryCustomizer(dir -> writeHba(dir.toPath(), "trust"));
        if (port != 0) {
            builder.setPort(port);
        }
        EmbeddedPostgres postgres = builder.start();
        DemoDatabase db = new DemoDatabase(postgres, randomPassword(), randomPassword(), ownedTempDir);
        try {
            db.createDatabaseAndRole();
            long seeded = db.seed(patients);
            db.requirePasswords(pgdata);
            log.info("Demo database {} ready on port {} in {} ms ({} ms seeding {} patients)", DATABASE,
                    postgres.getPort(), (System.nanoTime() - started) / 1_000_000, seeded, patients);
            return db;
        } catch (SQLException | IOException | RuntimeException e) {
            db.close();
            throw e instanceof IOException io ? io : new IOException("could not prepare the demo database", e);
        }
    }

    public int port() {
        return postgres.getPort();
    }

    public String user() {
        return USER;
    }

    /** The {@code phigate} role's password, new on every start. */
    public String password() {
        return password;
    }

    public String database() {
        return DATABASE;
    }

    /** Connects to {@code clinical} as the superuser; for setup and assertions, never for agents. */
    public DataSource superuserDataSource() {
        return dataSource(SUPERUSER, superuserPassword);
    }

    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            log.warn("Could not stop the demo database cleanly", e);
        }
        if (ownedTempDir != null) {
            deleteRecursively(ownedTempDir);
        }
    }

    @Override
    public String toString() {
        return "DemoDatabase[" + USER + "@" + HOST + ":" + port() + "/" + DATABASE + "]";
    }

    private PGSimpleDataSource dataSource(String user, String pass) {
        var ds = new PGSimpleDataSource();
        ds.setServerNames(new String[]{HOST});
        ds.setPortNumbers(new int[]{port()});
        ds.setDatabaseName(DATABASE);
        ds.setUser(user);
        ds.setPassword(pass);
        return ds;
    }

    private void createDatabaseAndRole() throws SQLException {
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + DATABASE);
            s.execute("CREATE ROLE " + USER + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION");
            // alterUserPassword hashes on the client, so neither password crosses the wire or lands in a log.
            var pg = c.unwrap(PGConnection.class);
            pg.alterUserPassword(USER, password.toCharArray(), "scram-sha-256");
            pg.alterUserPassword(SUPERUSER, superuserPassword.toCharArray(), "scram-sha-256");
            s.execute("REVOKE ALL ON DATABASE " + DATABASE + " FROM PUBLIC");
            s.execute("GRANT CONNECT, TEMPORARY ON DATABASE " + DATABASE + " TO " + USER);
        }
    }

    /** Returns the milliseconds spent creating and filling the tables. */
    private long seed(int patients) throws SQLException {
        long t0 = System.nanoTime();
        var data = new DemoData(new Faker(Locale.US, new Random(SEED)), patients);
        try (Connection c = postgres.getDatabase(SUPERUSER, DATABASE).getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                for (String ddl : SCHEMA) {
                    s.execute(ddl);
                }
                var copy = c.unwrap(PGConnection.class).getCopyAPI();
                copy.copyIn("COPY patients (id, mrn, first_name, last_name, birth_date, sex, ssn, phone, email, "
                        + "street, city, state, zip, created_at) FROM STDIN (FORMAT csv)",
                        new StringReader(data.patientsCsv()));
                copy.copyIn("COPY encounters (id, patient_id, admitted_at, department, diagnosis_code, notes) "
                        + "FROM STDIN (FORMAT csv)", new StringReader(data.encountersCsv()));
                copy.copyIn("COPY medications (id, patient_id, drug_name, dose, frequency, prescribed_at) "
                        + "FROM STDIN (FORMAT csv)", new StringReader(data.medicationsCsv()));
                for (String table : List.of("patients", "encounters", "medications")) {
                    s.execute("SELECT setval(pg_get_serial_sequence('" + table + "', 'id'), "
                            + "(SELECT coalesce(max(id), 0) + 1 FROM " + table + "), false)");
                }
                for (String grant : GRANTS) {
                    s.execute(grant);
                }
                s.execute("ANALYZE");
            } catch (SQLException | IOException e) {
                c.rollback();
                throw e instanceof SQLException sql ? sql : new SQLException("COPY failed", e);
            }
            c.commit();
        }
        return (System.nanoTime() - t0) / 1_000_000;
    }

    /** Switches every role to SCRAM and waits until the server has reloaded pg_hba.conf. */
    private void requirePasswords(Path pgdata) throws SQLException, IOException {
        writeHba(pgdata, "scram-sha-256");
        try (Connection c = superuserDataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("SELECT pg_reload_conf()");
        }
        // The reload is a signal to the postmaster, handled a moment later; a login without a password tells us
        // when it has taken effect.
        var probe = dataSource(SUPERUSER, null);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            try (Connection ignored = probe.getConnection()) {
                sleep(50);
            } catch (SQLException expected) {
                return;
            }
        }
        throw new IOException("PostgreSQL still accepts password-less logins after reloading pg_hba.conf");
    }

    private static void writeHba(Path pgdata, String method) {
        String hba = """
                # Written by phigate's DemoDatabase. Local connections only.
                # TYPE  DATABASE  USER  ADDRESS       METHOD
                local   all       all                 %1$s
                host    all       all   127.0.0.1/32  %1$s
                host    all       all   ::1/128       %1$s
                """.formatted(method);
        try {
            Files.writeString(pgdata.resolve("pg_hba.conf"), hba);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A cluster left by a killed demo would make initdb refuse the folder; only a folder that is one is removed. */
    private static void removeStaleCluster(Path pgdata) throws IOException {
        if (Files.isDirectory(pgdata)) {
            if (!Files.exists(pgdata.resolve("PG_VERSION"))) {
                try (Stream<Path> entries = Files.list(pgdata)) {
                    if (entries.findAny().isPresent()) {
                        throw new IOException(pgdata + " exists and is not a PostgreSQL data directory; not touching it");
                    }
                }
            }
            log.info("Removing stale demo cluster in {}", pgdata);
            deleteRecursively(pgdata);
        }
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            log.warn("Could not remove {}", root, e);
        }
    }

    private static String randomPassword() {
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for PostgreSQL", e);
        }
    }

    private static final List<String> SCHEMA = List.of(
            """
            CREATE TABLE patients (
                id          serial PRIMARY KEY,
                mrn         text NOT NULL UNIQUE,
                first_name  text NOT NULL,
                last_name   text NOT NULL,
                birth_date  date NOT NULL,
                sex         text NOT NULL CHECK (sex IN ('F', 'M', 'X')),
                ssn         text,
                phone       text,
                email       text,
                street      text,
                city        text,
                state       text,
                zip         text,
                created_at  timestamptz NOT NULL
            )""",
            """
            CREATE TABLE encounters (
                id              serial PRIMARY KEY,
                patient_id      integer NOT NULL REFERENCES patients (id),
                admitted_at     timestamptz NOT NULL,
                department      text NOT NULL,
                diagnosis_code  text NOT NULL,
                notes           text
            )""",
            "CREATE INDEX encounters_patient_id ON encounters (patient_id)",
            """
            CREATE TABLE medications (
                id             serial PRIMARY KEY,
                patient_id     integer NOT NULL REFERENCES patients (id),
                drug_name      text NOT NULL,
                dose           text NOT NULL,
                frequency      text NOT NULL,
                prescribed_at  timestamptz NOT NULL
            )""",
            "CREATE INDEX medications_patient_id ON medications (patient_id)",
            "COMMENT ON DATABASE clinical IS 'phigate demo: all data is synthetic, generated by Datafaker'",
            "COMMENT ON TABLE patients IS 'Synthetic demo data generated by Datafaker; no real person. "
                    + "SSNs are random numbers of a valid shape, phones are in the fictional 555-01xx range.'",
            "COMMENT ON TABLE encounters IS 'Synthetic demo data generated by Datafaker; no real person or visit.'",
            "COMMENT ON TABLE medications IS 'Synthetic demo data generated by Datafaker; no real prescription.'");

    // The agent role may read and change rows, so that approvals for risky writes can be shown, but it owns
    // nothing and cannot alter the schema. PostgreSQL 14 still lets PUBLIC create in schema public; not here.
    private static final List<String> GRANTS = List.of(
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
            "GRANT USAGE ON SCHEMA public TO " + USER,
            "GRANT SELECT, INSERT, UPDATE, DELETE ON patients, encounters, medications TO " + USER,
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO " + USER);

    /** Generates all rows up front, in one fixed order of draws from the seeded faker, as CSV for COPY. */
    private static final class DemoData {
        private static final List<String> DEPARTMENTS = List.of("Cardiology", "Emergency", "Endocrinology",
                "Family Medicine", "Gastroenterology", "Nephrology", "Neurology", "Oncology", "Orthopedics",
                "Psychiatry", "Pulmonology");
        /** Real ICD-10-CM codes (a public classification) with their short descriptions, used in the notes. */
        private static final List<String[]> DIAGNOSES = List.of(
                new String[]{"I10", "essential hypertension"},
                new String[]{"E11.9", "type 2 diabetes mellitus without complications"},
                new String[]{"J45.909", "unspecified asthma, uncomplicated"},
                new String[]{"I48.91", "unspecified atrial fibrillation"},
                new String[]{"N18.3", "chronic kidney disease, stage 3"},
                new String[]{"F32.9", "major depressive disorder, single episode"},
                new String[]{"J44.1", "COPD with acute exacerbation"},
                new String[]{"M54.5", "low back pain"},
                new String[]{"K21.9", "gastro-esophageal reflux disease"},
                new String[]{"E78.5", "hyperlipidemia, unspecified"},
                new String[]{"S72.001A", "fracture of neck of right femur, initial encounter"},
                new String[]{"R07.9", "chest pain, unspecified"},
                new String[]{"C50.911", "malignant neoplasm of right female breast"},
                new String[]{"G43.909", "migraine, unspecified"},
                new String[]{"U07.1", "COVID-19"});
        private static final List<String> DRUGS = List.of("metformin", "lisinopril", "atorvastatin",
                "amlodipine", "albuterol", "omeprazole", "sertraline", "apixaban", "levothyroxine", "gabapentin");
        private static final List<String> DOSES = List.of("5 mg", "10 mg", "20 mg", "40 mg", "100 mg", "500 mg");
        private static final List<String> FREQUENCIES = List.of("once daily", "twice daily", "at bedtime",
                "every 6 hours as needed");
        private static final List<String> FINDINGS = List.of("Vitals stable.", "Afebrile, alert and oriented.",
                "Reports improved sleep.", "Denies chest pain or shortness of breath.",
                "Family at bedside; questions answered.", "Labs pending at time of note.",
                "Tolerating diet.", "Advised to follow up in two weeks.");

        private final Faker faker;
        private final StringBuilder patients = new StringBuilder();
        private final StringBuilder encounters = new StringBuilder();
        private final StringBuilder medications = new StringBuilder();

        DemoData(Faker faker, int patientCount) {
            this.faker = faker;
            List<Patient> all = new ArrayList<>(patientCount);
            Set<String> mrns = new HashSet<>();
            for (int id = 1; id <= patientCount; id++) {
                Patient p = patient(id, mrns);
                all.add(p);
                row(patients, id, p.mrn, p.first, p.last, p.birthDate, p.sex, p.ssn, p.phone, p.email, p.street,
                        p.city, p.state, p.zip, p.createdAt);
            }
            int encounterCount = Math.max(1, patientCount * 10 / 3);
            for (int id = 1; id <= encounterCount; id++) {
                Patient p = all.get(pick(all.size()));
                String[] dx = DIAGNOSES.get(pick(DIAGNOSES.size()));
                String department = DEPARTMENTS.get(pick(DEPARTMENTS.size()));
                Instant admitted = p.createdAt.plusSeconds(faker.random().nextLong(Duration.ofDays(700).toSeconds()));
                row(encounters, id, p.id, admitted, department, dx[0], note(p, dx[1], department));
            }
            int medicationCount = Math.max(1, patientCount / 2);
            for (int id = 1; id <= medicationCount; id++) {
                Patient p = all.get(pick(all.size()));
                row(medications, id, p.id, DRUGS.get(pick(DRUGS.size())), DOSES.get(pick(DOSES.size())),
                        FREQUENCIES.get(pick(FREQUENCIES.size())),
                        p.createdAt.plusSeconds(faker.random().nextLong(Duration.ofDays(365).toSeconds())));
            }
        }

        String patientsCsv() {
            return patients.toString();
        }

        String encountersCsv() {
            return encounters.toString();
        }

        String medicationsCsv() {
            return medications.toString();
        }

        private record Patient(int id, String mrn, String first, String last, LocalDate birthDate, String sex,
                               String ssn, String phone, String email, String street, String city, String state,
                               String zip, Instant createdAt) {
        }

        private Patient patient(int id, Set<String> mrns) {
            String mrn;
            do {
                mrn = "MRN" + (10_000_000 + pick(90_000_000));
            } while (!mrns.add(mrn));
            int sexDraw = pick(100);
            String sex = sexDraw < 49 ? "F" : sexDraw < 98 ? "M" : "X";
            String first = switch (sex) {
                case "F" -> faker.name().femaleFirstName();
                case "M" -> faker.name().maleFirstName();
                default -> faker.name().firstName();
            };
            String last = faker.name().lastName();
            LocalDate birthDate = REFERENCE_DATE.minusDays(365L + pick(95 * 365));
            int area = 1 + pick(898);
            String ssn = "%03d-%02d-%04d".formatted(area >= 666 ? area + 1 : area, 1 + pick(99), 1 + pick(9999));
            String phone = "(%03d) 555-01%02d".formatted(201 + pick(780), pick(100));
            String email = (first + "." + last).toLowerCase(Locale.ROOT).replaceAll("[^a-z.]", "")
                    + pick(100) + (pick(2) == 0 ? "@example.com" : "@example.org");
            String street = faker.address().streetAddress();
            String city = faker.address().city();
            String state = faker.address().stateAbbr();
            String zip = faker.address().zipCodeByState(state);
            Instant createdAt = REFERENCE_TIME.minusSeconds(faker.random().nextLong(Duration.ofDays(5 * 365).toSeconds()));
            return new Patient(id, mrn, first, last, birthDate, sex, ssn, phone, email, street, city, state, zip,
                    createdAt);
        }

        /** Free text that names the patient, as real notes do; this is what free-text masking has to catch. */
        private String note(Patient p, String diagnosis, String department) {
            String pronoun = switch (p.sex) {
                case "F" -> "She";
                case "M" -> "He";
                default -> "They";
            };
            var note = new StringBuilder()
                    .append(p.first).append(' ').append(p.last)
                    .append(" (").append(p.mrn).append(", DOB ").append(p.birthDate).append(") seen in ")
                    .append(department).append(" for ").append(diagnosis).append(". ")
                    .append(FINDINGS.get(pick(FINDINGS.size())));
            switch (pick(4)) {
                case 0 -> note.append(' ').append(pronoun).append(" can be reached at ").append(p.phone).append('.');
                case 1 -> note.append(" Lives at ").append(p.street).append(", ").append(p.city).append('.');
                case 2 -> note.append(" Identity verified against SSN ").append(p.ssn).append('.');
                default -> note.append(' ').append(FINDINGS.get(pick(FINDINGS.size())));
            }
            return note.toString();
        }

        private int pick(int bound) {
            return faker.random().nextInt(bound);
        }

        private static void row(StringBuilder out, Object... values) {
            for (int i = 0; i < values.length; i++) {
                if (i > 0) {
                    out.append(',');
                }
                Object v = values[i];
                if (v instanceof Instant instant) {
                    out.append(instant.atOffset(ZoneOffset.UTC));
                } else if (v != null) {
                    out.append('"').append(v.toString().replace("\"", "\"\"")).append('"');
                }
            }
            out.append('\n');
        }
    }
}
