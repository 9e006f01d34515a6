package io.phigate.pg.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
import io.phigate.mask.OperatorSpec.Kind;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;

/**
 * The same row comes out with the same masked values whichever way it is read: for every operator over every
 * type the operators know, a SELECT in text format, the same SELECT in binary format, COPY TO in text format and
 * COPY TO in CSV agree; the COPY output is what PostgreSQL itself writes for those values (same escapes, CSV
 * quoted only where needed), so it copies back into a table of the same types; and content detection leaves
 * untagged non-text values (a timestamptz) alone on both paths.
 */
class CopyAndSelectAgreeTest {
    static final String TAGGED = "c_text, c_varchar, c_bpchar, c_int2, c_int4, c_int8, c_numeric, c_float4, c_float8,"
            + " c_date, c_ts, c_tstz, c_uuid, c_json, c_jsonb, c_bool, c_bytea";
    static final String COLUMNS = "id, " + TAGGED + ", u_tstz, u_note, u_date, u_int";

    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        TestDatabase db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            s.execute("DROP TABLE IF EXISTS parity_types");
            s.execute("""
                    CREATE TABLE parity_types (id int PRIMARY KEY, c_text text, c_varchar varchar(60),
                        c_bpchar bpchar, c_int2 int2, c_int4 int4, c_int8 int8, c_numeric numeric, c_float4 float4,
                        c_float8 float8, c_date date, c_ts timestamp, c_tstz timestamptz, c_uuid uuid, c_json json,
                        c_jsonb jsonb, c_bool bool, c_bytea bytea, u_tstz timestamptz, u_note text, u_date date,
                        u_int int)""");
            s.execute("""
                    INSERT INTO parity_types VALUES
                      (1, 'Ada Lovelace', '1956-03-04', '123-45-6789', 104, 2134, 9876543210, 91.25, 90.5, 95.5,
                       '1956-03-04', '1984-03-05 10:11:12.123456', '1984-12-31 23:59:59.5+00',
                       '5b2f6d2e-8c1a-4f00-9d1e-0123456789ab', '{"a": "b, c"}', '"123-45-6789"', true, '\\x0102',
                       '2024-01-02 12:13:18+00', 'call 617-555-0142, seen 1956-03-04 "late"', '2000-02-29', 42),
                      (2, E'Grace\\tHopper, "Amazing"\\nline two\\\\', '02134', 'A1B 2C3', -7, 0, -123456789012, 0.5,
                       -1.25, 12, '2000-02-29', '2024-02-29 00:00:01', '1970-01-01 12:00:00+00',
                       '00000000-0000-0000-0000-000000000000', '[1, 2]', '{"ssn": "987-65-4321"}', false, '\\x',
                       '1999-12-31 23:59:59+00', '', '1999-02-28', 0),
                      (3, '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                       NULL, NULL, NULL, NULL, NULL)""");
            s.execute("GRANT ALL ON parity_types TO " + db.user());
        }
        StringBuilder roles = new StringBuilder();
        for (Kind k : Kind.values()) {
            roles.append("  - name: parity-").append(k.policyName()).append('\n')
                    .append("    match: { subject: \"parity-").append(k.policyName()).append("\" }\n")
                    .append("    upstreams: [clinical]\n")
                    .append(k == Kind.NONE ? "    unmasked: [dob]\n"
                            : "    masking: { dob: { operator: \"" + k.policyName() + "\" } }\n");
        }
        StringBuilder columns = new StringBuilder();
        for (String c : TAGGED.split(", ")) {
            columns.append("      public.parity_types.").append(c).append(": dob\n");
        }
        gw = GatewayHarness.startWithPolicy(dir, "phi:\n  clinical:\n    columns:\n" + columns
                + "    subjects: { public.parity_types: id }\nmasking:\n  key_file: masking.key\nroles:\n" + roles);
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void selectAndCopyGiveTheSameRow(Kind kind) throws Exception {
        String query = "SELECT " + COLUMNS + " FROM parity_types ORDER BY id";
        List<List<String>> selected;
        List<List<Object>> textObjects;
        List<List<Object>> binaryObjects;
        String copyText;
        String copyTable;
        String copyCsv;
        try (Connection text = connect(kind, false); Connection binary = connect(kind, true)) {
            selected = strings(text, query);
            textObjects = objects(text, query);
            binaryObjects = objects(binary, query);
            CopyManager copy = text.unwrap(BaseConnection.class).getCopyAPI();
            copyText = copyOut(copy, "COPY (" + query + ") TO STDOUT");
            copyTable = copyOut(copy, "COPY parity_types (" + COLUMNS + ") TO STDOUT");
            copyCsv = copyOut(copy, "COPY (" + query + ") TO STDOUT WITH (FORMAT csv)");
            if (kind != Kind.NONE) {
                try (Statement s = text.createStatement()) {
                    s.execute("COPY parity_types TO STDOUT (FORMAT binary)");
                    fail("a binary COPY of masked PHI runs");
                } catch (SQLException e) {
                    assertThat(e.getSQLState()).isEqualTo("42501");
                }
            }
        }
        assertThat(binaryObjects).as("binary rows read as the text rows").isEqualTo(textObjects);
        assertThat(parseText(copyText)).as("COPY text fields are the SELECT's values").isEqualTo(selected);
        assertThat(sortedById(copyTable)).as("COPY of the table is COPY of the query").isEqualTo(copyText);
        // Untagged: a timestamptz and a date are not scanned as text; the note is, the same way on both paths.
        assertThat(selected.getFirst().get(18)).isEqualTo(plain("u_tstz"));
        assertThat(selected.getFirst().get(20)).isEqualTo("2000-02-29");
        assertThat(selected.getFirst().get(19)).doesNotContain("617-555-0142");

        // What PostgreSQL itself writes for these values, after copying the gateway's output back in.
        try (Connection direct = TestDatabase.get().direct(); Statement s = direct.createStatement()) {
            s.execute("CREATE TEMP TABLE parity_back (LIKE parity_types)");
            CopyManager copy = direct.unwrap(BaseConnection.class).getCopyAPI();
            copy.copyIn("COPY parity_back (" + COLUMNS + ") FROM STDIN",
                    new ByteArrayInputStream(copyText.getBytes(StandardCharsets.UTF_8)));
            assertThat(copyOut(copy, "COPY (SELECT " + COLUMNS + " FROM parity_back ORDER BY id) TO STDOUT"))
                    .as("text format as the server writes it").isEqualTo(copyText);
            assertThat(strings(direct, "SELECT " + COLUMNS + " FROM parity_back ORDER BY id"))
                    .as("copied back, the values are the SELECT's").isEqualTo(selected);
            s.execute("TRUNCATE parity_back");
            copy.copyIn("COPY parity_back (" + COLUMNS + ") FROM STDIN WITH (FORMAT csv)",
                    new ByteArrayInputStream(copyCsv.getBytes(StandardCharsets.UTF_8)));
            assertThat(copyOut(copy, "COPY (SELECT " + COLUMNS + " FROM parity_back ORDER BY id) TO STDOUT"
                    + " WITH (FORMAT csv)")).as("CSV quoted as the server quotes it").isEqualTo(copyCsv);
        }
    }

    private static String plain(String column) throws SQLException {
        try (Connection direct = TestDatabase.get().direct()) {
            return strings(direct, "SELECT " + column + " FROM parity_types WHERE id = 1").getFirst().getFirst();
        }
    }

    private static Connection connect(Kind kind, boolean binary) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", "agent");
        p.setProperty("password", gw.token("parity-" + kind.policyName(), java.time.Duration.ofMinutes(10)));
        p.setProperty("binaryTransfer", Boolean.toString(binary));
        p.setProperty("prepareThreshold", binary ? "-1" : "5");
        return java.sql.DriverManager.getConnection(gw.jdbcUrl(), p);
    }

    private static List<List<String>> strings(Connection c, String query) throws SQLException {
        List<List<String>> rows = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(query)) {
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    row.add(rs.getString(i));
                }
                rows.add(row);
            }
        }
        return rows;
    }

    private static List<List<Object>> objects(Connection c, String query) throws SQLException {
        List<List<Object>> rows = new ArrayList<>();
        try (var s = c.prepareStatement(query); ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                List<Object> row = new ArrayList<>();
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    Object o = rs.getObject(i);
                    row.add(o instanceof byte[] b ? HexFormat.of().formatHex(b)
                            : o instanceof java.math.BigDecimal d ? d.stripTrailingZeros()
                            : o == null ? null : o.toString());
                }
                rows.add(row);
            }
        }
        return rows;
    }

    private static String copyOut(CopyManager copy, String sql) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        copy.copyOut(sql, out);
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Text-format COPY rows as values: {@code \N} is null, escapes undone. */
    private static List<List<String>> parseText(String copy) {
        List<List<String>> rows = new ArrayList<>();
        for (String line : copy.split("\n")) {
            List<String> row = new ArrayList<>();
            for (String field : line.split("\t", -1)) {
                row.add(field.equals("\\N") ? null
                        : new String(CopyMasker.unescapeText(field.getBytes(StandardCharsets.UTF_8)),
                                StandardCharsets.UTF_8));
            }
            rows.add(row);
        }
        return rows;
    }

    private static String sortedById(String copy) {
        List<String> lines = new ArrayList<>(List.of(copy.split("\n")));
        lines.sort(java.util.Comparator.comparingInt(l -> Integer.parseInt(l.substring(0, l.indexOf('\t')))));
        return String.join("\n", lines) + "\n";
    }
}
