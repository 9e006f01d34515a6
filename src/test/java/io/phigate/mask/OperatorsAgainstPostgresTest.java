package io.phigate.mask;

import static io.phigate.mask.Wire.binary;
import static io.phigate.mask.Wire.str;
import static io.phigate.mask.Wire.text;
import static io.phigate.mask.Wire.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.TestDatabase;
import io.phigate.mask.MaskOperator.RowContext;
import io.phigate.mask.OperatorSpec.Kind;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * PostgreSQL as the judge of validity and format consistency: the binary input is what the server's own send
 * function produces for the text input; the text output must be accepted by the type's input function, and
 * the server's binary encoding of it must equal the operator's binary output for the binary input.
 */
class OperatorsAgainstPostgresTest {
    static final MaskingKeys KEYS = MaskingKeys.derive(utf8("a master secret of at least 32 bytes!"));
    static final RowContext PATIENT = new RowContext(utf8("patient-42"));
    private static Connection connection;

    @BeforeAll
    static void connect() throws SQLException {
        connection = TestDatabase.get().direct();
        try (Statement s = connection.createStatement()) {
            s.execute("SET TimeZone = 'UTC'"); // so a timestamptz's text offset and its binary UTC value agree
        }
    }

    @AfterAll
    static void close() throws SQLException {
        connection.close();
    }

    @ParameterizedTest(name = "{0} on {1} ''{4}''")
    @CsvSource(delimiter = '|', value = {
        "YEAR       | date        | date_send        | 1082 | 1984-03-05",
        "YEAR       | timestamp   | timestamp_send   | 1114 | 1984-03-05 10:11:12.123456",
        "YEAR       | timestamptz | timestamptz_send | 1184 | 1984-12-31 23:59:59.5+00",
        "YEAR       | date        | date_send        | 1082 | 2000-02-29",
        "DATE_SHIFT | date        | date_send        | 1082 | 1984-03-05",
        "DATE_SHIFT | date        | date_send        | 1082 | 1899-12-31",
        "DATE_SHIFT | timestamp   | timestamp_send   | 1114 | 2024-02-29 00:00:01",
        "DATE_SHIFT | timestamptz | timestamptz_send | 1184 | 1970-01-01 12:00:00+00",
        "TOKEN      | int2        | int2send         | 21   | -32768",
        "TOKEN      | int4        | int4send         | 23   | 123456789",
        "TOKEN      | int8        | int8send         | 20   | -9223372036854775808",
        "TOKEN      | uuid        | uuid_send        | 2950 | 5b2f6d2e-8c1a-4f00-9d1e-0123456789ab",
        "FPE        | int4        | int4send         | 23   | 2147483647",
        "FPE        | int8        | int8send         | 20   | -123456789012",
        "PARTIAL    | int8        | int8send         | 20   | 9876543210",
        "ZIP3       | int4        | int4send         | 23   | 2134",
        "AGE90      | int2        | int2send         | 21   | 104",
        "AGE90      | float8      | float8send       | 701  | 95.5",
        "AGE90      | float4      | float4send       | 700  | 90.5",
        "AGE90      | numeric     | numeric_send     | 1700 | 91.25",
        "AGE90      | numeric     | numeric_send     | 1700 | 12345678.5",
        "REDACT     | jsonb       | jsonb_send       | 3802 | {\"ssn\": \"123-45-6789\"}",
        "TOKEN      | jsonb       | jsonb_send       | 3802 | \"123-45-6789\"",
    })
    void textOutputIsAcceptedAndBinaryOutputIsWhatPostgresWouldSend(
            Kind kind, String typeName, String send, int oid, String input) throws SQLException {
        MaskOperator op = Operators.create(OperatorSpec.of(kind), PhiType.DOB, KEYS);
        byte[] binaryIn = send(send, typeName, input);
        byte[] textOut = op.apply(utf8(input), text(oid), PATIENT);
        byte[] binaryOut = op.apply(binaryIn, binary(oid), PATIENT);
        assertThat(textOut).as("text output").isNotNull();
        assertThat(send(send, typeName, str(textOut))).as("the server's encoding of " + str(textOut))
                .isEqualTo(binaryOut);
        assertThat(binaryOut).isNotEqualTo(binaryIn);
    }

    private static byte[] send(String function, String typeName, String text) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement("select " + function + "(?::" + typeName + ")")) {
            ps.setString(1, text);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBytes(1);
            }
        }
    }
}
