package io.phigate.mask;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.phigate.mask.MaskOperator.ValueType;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Test-side encoding and decoding of PostgreSQL values, written independently of the operators' own codecs
 * (ByteBuffer and java.time), so a test proves that an output is a valid value of its type.
 */
final class Wire {
    static final int BOOL = 16, BYTEA = 17, NAME = 19, INT8 = 20, INT2 = 21, INT4 = 23, TEXT = 25, JSON = 114,
            FLOAT4 = 700, FLOAT8 = 701, BPCHAR = 1042, VARCHAR = 1043, DATE = 1082, TIMESTAMP = 1114,
            TIMESTAMPTZ = 1184, NUMERIC = 1700, UUID_OID = 2950, JSONB = 3802, INET = 869;
    static final int[] SUPPORTED = {TEXT, VARCHAR, BPCHAR, NAME, INT2, INT4, INT8, NUMERIC, FLOAT4, FLOAT8, DATE,
            TIMESTAMP, TIMESTAMPTZ, UUID_OID, JSON, JSONB, BYTEA, BOOL};
    static final LocalDate PG_EPOCH = LocalDate.of(2000, 1, 1);
    static final LocalDateTime PG_EPOCH_TIME = PG_EPOCH.atStartOfDay();
    private static final DateTimeFormatter TIMESTAMP_TEXT = new DateTimeFormatterBuilder()
            .appendPattern("yyyy-MM-dd HH:mm:ss")
            .optionalStart().appendFraction(ChronoField.MICRO_OF_SECOND, 1, 6, true).optionalEnd()
            .toFormatter();
    private static final DateTimeFormatter TIMESTAMPTZ_TEXT = new DateTimeFormatterBuilder()
            .append(TIMESTAMP_TEXT).appendPattern("[XXXXX][X]").toFormatter();
    private static final ObjectMapper JSON_MAPPER = new ObjectMapper();

    private Wire() {
    }

    static ValueType text(int oid) {
        return new ValueType(oid, -1, false);
    }

    static ValueType binary(int oid) {
        return new ValueType(oid, -1, true);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String str(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    static byte[] int2(int x) {
        return ByteBuffer.allocate(2).putShort((short) x).array();
    }

    static byte[] int4(int x) {
        return ByteBuffer.allocate(4).putInt(x).array();
    }

    static byte[] int8(long x) {
        return ByteBuffer.allocate(8).putLong(x).array();
    }

    static byte[] integer(int oid, long x) {
        return switch (oid) {
            case INT2 -> int2((int) x);
            case INT4 -> int4((int) x);
            default -> int8(x);
        };
    }

    static long readInteger(byte[] b) {
        ByteBuffer buf = ByteBuffer.wrap(b);
        return switch (b.length) {
            case 2 -> buf.getShort();
            case 4 -> buf.getInt();
            case 8 -> buf.getLong();
            default -> throw new AssertionError("integer of " + b.length + " bytes");
        };
    }

    static byte[] date(LocalDate d) {
        return int4((int) (d.toEpochDay() - PG_EPOCH.toEpochDay()));
    }

    static LocalDate readDate(byte[] b) {
        assertThat(b).hasSize(4);
        return PG_EPOCH.plusDays(ByteBuffer.wrap(b).getInt());
    }

    static byte[] timestamp(LocalDateTime t) {
        return int8(java.time.Duration.between(PG_EPOCH_TIME, t).toNanos() / 1000);
    }

    static LocalDateTime readTimestamp(byte[] b) {
        assertThat(b).hasSize(8);
        return PG_EPOCH_TIME.plusNanos(ByteBuffer.wrap(b).getLong() * 1000);
    }

    static byte[] uuid(UUID u) {
        return ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits()).array();
    }

    static UUID readUuid(byte[] b) {
        assertThat(b).hasSize(16);
        ByteBuffer buf = ByteBuffer.wrap(b);
        return new UUID(buf.getLong(), buf.getLong());
    }

    static LocalDateTime parseTimestamp(String s) {
        return LocalDateTime.parse(s, TIMESTAMP_TEXT);
    }

    static OffsetDateTime parseTimestamptz(String s) {
        return OffsetDateTime.parse(s, TIMESTAMPTZ_TEXT);
    }

    /** A realistic value of each type in each format, to run every operator over. */
    static byte[] sample(int oid, boolean binary) {
        return switch (oid) {
            case TEXT, VARCHAR, NAME -> utf8("123-45-6789");
            case BPCHAR -> utf8("123-45-6789   ");
            case INT2 -> binary ? int2(12345) : utf8("12345");
            case INT4 -> binary ? int4(123456789) : utf8("123456789");
            case INT8 -> binary ? int8(123456789012L) : utf8("123456789012");
            case NUMERIC -> binary
                    ? new byte[] {0, 2, 0, 0, 0, 0, 0, 2, 0x04, (byte) 0xd2, 0x0d, (byte) 0x80} // 1234.3456
                    : utf8("1234.3456");
            case FLOAT4 -> binary ? int4(Float.floatToIntBits(123.5f)) : utf8("123.5");
            case FLOAT8 -> binary ? int8(Double.doubleToLongBits(123.5)) : utf8("123.5");
            case DATE -> binary ? date(LocalDate.of(1984, 3, 5)) : utf8("1984-03-05");
            case TIMESTAMP -> binary ? timestamp(LocalDateTime.of(1984, 3, 5, 10, 11, 12, 123_000_000))
                    : utf8("1984-03-05 10:11:12.123");
            case TIMESTAMPTZ -> binary ? timestamp(LocalDateTime.of(1984, 3, 5, 9, 11, 12))
                    : utf8("1984-03-05 10:11:12.123+01");
            case UUID_OID -> binary ? uuid(UUID.fromString("5b2f6d2e-8c1a-4f00-9d1e-0123456789ab"))
                    : utf8("5b2f6d2e-8c1a-4f00-9d1e-0123456789ab");
            case JSON -> utf8("{\"ssn\": \"123-45-6789\"}");
            case JSONB -> binary ? prefixed(utf8("{\"ssn\": \"123-45-6789\"}")) : utf8("{\"ssn\": \"123-45-6789\"}");
            case BYTEA -> binary ? utf8("123-45-6789") : utf8("\\x3132332d34352d36373839");
            case BOOL -> binary ? new byte[] {1} : utf8("t");
            default -> utf8("10.1.2.3/32");
        };
    }

    private static byte[] prefixed(byte[] json) {
        byte[] out = new byte[json.length + 1];
        out[0] = 1;
        System.arraycopy(json, 0, out, 1, json.length);
        return out;
    }

    /** Fails the test unless {@code value} is a valid value of {@code oid} in the given format. */
    static void assertValid(byte[] value, int oid, boolean binary) {
        String what = "a " + (binary ? "binary" : "text") + " value of type " + oid;
        try {
            switch (oid) {
                case TEXT, VARCHAR, BPCHAR, NAME -> strictUtf8(value);
                case INT2, INT4, INT8 -> {
                    long max = oid == INT2 ? Short.MAX_VALUE : oid == INT4 ? Integer.MAX_VALUE : Long.MAX_VALUE;
                    if (binary) {
                        assertThat(value).as(what).hasSize(oid == INT2 ? 2 : oid == INT4 ? 4 : 8);
                    } else {
                        assertThat(Math.abs(Long.parseLong(strictUtf8(value)))).as(what).isLessThanOrEqualTo(max);
                    }
                }
                case NUMERIC -> {
                    if (binary) {
                        int ndigits = ByteBuffer.wrap(value).getShort();
                        assertThat(value).as(what).hasSize(8 + 2 * ndigits);
                    } else {
                        new BigDecimal(strictUtf8(value));
                    }
                }
                case FLOAT4, FLOAT8 -> {
                    if (binary) {
                        assertThat(value).as(what).hasSize(oid == FLOAT4 ? 4 : 8);
                    } else {
                        Double.parseDouble(strictUtf8(value));
                    }
                }
                case DATE -> {
                    if (binary) {
                        readDate(value);
                    } else {
                        LocalDate.parse(strictUtf8(value));
                    }
                }
                case TIMESTAMP -> {
                    if (binary) {
                        readTimestamp(value);
                    } else {
                        parseTimestamp(strictUtf8(value));
                    }
                }
                case TIMESTAMPTZ -> {
                    if (binary) {
                        readTimestamp(value);
                    } else {
                        parseTimestamptz(strictUtf8(value));
                    }
                }
                case UUID_OID -> {
                    if (binary) {
                        readUuid(value);
                    } else {
                        String s = strictUtf8(value);
                        assertThat(UUID.fromString(s).toString()).as(what).isEqualTo(s);
                    }
                }
                case JSON -> JSON_MAPPER.readTree(strictUtf8(value));
                case JSONB -> {
                    if (binary) {
                        assertThat(value[0]).as(what + ": jsonb version").isEqualTo((byte) 1);
                        JSON_MAPPER.readTree(strictUtf8(java.util.Arrays.copyOfRange(value, 1, value.length)));
                    } else {
                        JSON_MAPPER.readTree(strictUtf8(value));
                    }
                }
                case BYTEA -> {
                    if (!binary) {
                        String s = strictUtf8(value);
                        assertThat(s).as(what).startsWith("\\x");
                        HexFormat.of().parseHex(s.substring(2));
                    }
                }
                case BOOL -> {
                    if (binary) {
                        assertThat(value).as(what).hasSize(1);
                    } else {
                        assertThat(strictUtf8(value)).as(what).isIn("t", "f");
                    }
                }
                default -> throw new AssertionError("no validator for type " + oid);
            }
        } catch (IOException | RuntimeException e) {
            throw new AssertionError("not " + what + ": " + e.getMessage(), e);
        }
    }

    static String strictUtf8(byte[] value) throws CharacterCodingException {
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(value)).toString();
    }
}
