package io.phigate.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoDatabaseTest {

    private static final int PATIENTS = 300;
    private static DemoDatabase db;

    @BeforeAll
    static void start() throws Exception {
        db = DemoDatabase.start(null, 0, PATIENTS);
    }

    @AfterAll
    static void stop() {
        if (db != null) {
            db.close();
        }
    }

    @Test
    void seedsPatientsEncountersAndMedications() throws SQLException {
        try (Connection c = db.superuserDataSource().getConnection()) {
            assertThat(count(c, "patients")).isEqualTo(PATIENTS);
            assertThat(count(c, "encounters")).isEqualTo(1000);
            assertThat(count(c, "medications")).isEqualTo(150);
            assertThat(scalar(c, "SELECT count(*) FROM encounters e JOIN patients p ON p.id = e.patient_id "
                    + "WHERE e.notes LIKE '%' || p.last_name || '%'")).isEqualTo(1000);
            assertThat(scalar(c, "SELECT count(*) FROM patients WHERE ssn !~ '^[0-9]{3}-[0-9]{2}-[0-9]{4}$' "
                    + "OR left(ssn, 3) IN ('000', '666') OR left(ssn, 1) = '9' OR substr(ssn, 5, 2) = '00' "
                    + "OR right(ssn, 4) = '0000'"))
                    .isZero();
            assertThat(string(c, "SELECT obj_description('patients'::regclass)")).contains("Synthetic");
        }
    }

    @Test
    void agentRoleLogsInWithScramPasswordAndReadsPatients() throws SQLException {
        assertThat(db.user()).isEqualTo("phigate");
        assertThat(db.database()).isEqualTo("clinical");
        try (Connection c = DriverManager.getConnection(url(db), db.user(), db.password())) {
            assertThat(string(c, "SELECT current_user")).isEqualTo("phigate");
            assertThat(string(c, "SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user")).isEqualTo("false");
            assertThat(scalar(c, "SELECT count(*) FROM patients")).isEqualTo(PATIENTS);
            assertThatThrownBy(() -> string(c, "SELECT rolpassword FROM pg_authid"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
        }
        try (Connection c = DriverManager.getConnection(url(db), db.user(), db.password());
             Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute("CREATE TABLE agent_owned (x int)"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
        }
        try (Connection c = db.superuserDataSource().getConnection()) {
            assertThat(string(c, "SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = 'phigate'"))
                    .isEqualTo("SCRAM-SHA-256$");
        }
    }

    @Test
    void wrongOrMissingPasswordIsRejected() {
        assertThatThrownBy(() -> DriverManager.getConnection(url(db), db.user(), db.password() + "x").close())
                .isInstanceOf(SQLException.class).hasMessageContaining("password authentication failed");
        Properties superuserWithoutPassword = new Properties();
        superuserWithoutPassword.setProperty("user", "postgres");
        assertThatThrownBy(() -> DriverManager.getConnection(url(db), superuserWithoutPassword).close())
                .isInstanceOf(SQLException.class);
    }

    @Test
    void toStringNeverShowsThePassword() {
        assertThat(db.toString()).doesNotContain(db.password()).contains(String.valueOf(db.port()));
    }

    @Test
    void sameSeedGivesSameFirstPatient(@TempDir Path dir) throws Exception {
        List<String> first = firstPatient(db);
        try (DemoDatabase again = DemoDatabase.start(dir, 0, 5)) {
            assertThat(again.port()).isNotEqualTo(db.port());
            assertThat(again.password()).isNotEqualTo(db.password());
            assertThat(firstPatient(again)).isEqualTo(first);
        }
        assertThat(dir.resolve("pgdata")).doesNotExist();
    }

    private static List<String> firstPatient(DemoDatabase d) throws SQLException {
        try (Connection c = DriverManager.getConnection(url(d), d.user(), d.password());
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT mrn, first_name, last_name, birth_date::text, ssn, phone, email, "
                     + "street, city, state, zip, created_at::text FROM patients WHERE id = 1")) {
            assertThat(rs.next()).isTrue();
            List<String> row = new ArrayList<>();
            for (int i = 1; i <= 12; i++) {
                row.add(rs.getString(i));
            }
            return row;
        }
    }

    private static String url(DemoDatabase d) {
        return "jdbc:postgresql://localhost:" + d.port() + "/" + d.database();
    }

    private static long count(Connection c, String table) throws SQLException {
        return scalar(c, "SELECT count(*) FROM " + table);
    }

    private static long scalar(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String string(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
