package io.phigate.pg.masking;

import io.phigate.mask.CopyFormat;

import io.phigate.mask.MaskPlan;
import io.phigate.mask.Scrubber;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Masks COPY TO STDOUT rows in text or CSV format with default options (tab or comma delimiter, {@code \N} or
 * empty NULL, double-quote quoting). The server sends each row as one CopyData message; a message that does not
 * end a row is held until the row completes, up to the frame limit, so the masker never works on half a field.
 * Formats it cannot parse (binary, custom delimiters or quotes) are refused before the statement runs.
 *
 * <p>A row comes out as PostgreSQL would have written the masked values: a value the plan leaves alone keeps the
 * server's bytes, a masked one is escaped (text) or quoted only where needed (CSV) by the server's own rules, so
 * the same row reads the same through COPY as through SELECT, and the output can be copied back in.
 */
public final class CopyMasker {
    private final MaskPlan plan;
    private final Scrubber scrubber;
    private final CopyFormat format;
    private boolean skipHeader;
    private byte[] pending = new byte[0];

    public CopyMasker(MaskPlan plan, Scrubber scrubber, CopyFormat format, boolean header) {
        this.plan = plan;
        this.scrubber = scrubber;
        this.format = format;
        this.skipHeader = header;
    }

    /** Masks the complete rows in {@code data}; returns what to send now (possibly empty). */
    public byte[] mask(byte[] data) {
        byte[] buf = pending.length == 0 ? data : concat(pending, data);
        ByteArrayOutputStream out = new ByteArrayOutputStream(buf.length + 16);
        int start = 0;
        while (true) {
            int end = rowEnd(buf, start);
            if (end < 0) {
                break;
            }
            byte[] row = Arrays.copyOfRange(buf, start, end);
            if (skipHeader) {
                skipHeader = false;
                out.writeBytes(row);
            } else {
                out.writeBytes(format == CopyFormat.TEXT ? maskText(row) : maskCsv(row));
            }
            out.write('\n');
            start = end + 1;
        }
        pending = Arrays.copyOfRange(buf, start, buf.length);
        return out.toByteArray();
    }

    /** Bytes held back at the end of the COPY: a final row without newline (the server always ends rows). */
    public byte[] finish() {
        byte[] rest = pending;
        pending = new byte[0];
        if (rest.length == 0) {
            return rest;
        }
        return format == CopyFormat.TEXT ? maskText(rest) : maskCsv(rest);
    }

    private int rowEnd(byte[] buf, int start) {
        if (format == CopyFormat.TEXT) {
            for (int i = start; i < buf.length; i++) {
                if (buf[i] == '\n') {
                    return i; // newlines inside values are escaped as \n in text format
                }
            }
            return -1;
        }
        boolean quoted = false;
        for (int i = start; i < buf.length; i++) {
            if (buf[i] == '"') {
                quoted = !quoted;
            } else if (buf[i] == '\n' && !quoted) {
                return i;
            }
        }
        return -1;
    }

    /** One row of text format: tab-separated, {@code \\N} for NULL, backslash escapes. */
    private byte[] maskText(byte[] row) {
        List<byte[]> raw = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= row.length; i++) {
            if (i == row.length || row[i] == '\t') {
                raw.add(Arrays.copyOfRange(row, start, i));
                start = i + 1;
            }
        }
        byte[][] values = new byte[raw.size()][];
        for (int i = 0; i < values.length; i++) {
            byte[] r = raw.get(i);
            values[i] = r.length == 2 && r[0] == '\\' && r[1] == 'N' ? null : unescapeText(r);
        }
        byte[][] before = values.clone();
        plan.maskRow(values, scrubber);
        ByteArrayOutputStream out = new ByteArrayOutputStream(row.length + 16);
        for (int i = 0; i < values.length; i++) {
            if (i > 0) {
                out.write('\t');
            }
            if (values[i] == null) {
                out.writeBytes(new byte[]{'\\', 'N'});
            } else if (Arrays.equals(values[i], before[i])) {
                out.writeBytes(raw.get(i)); // as the server wrote it
            } else {
                out.writeBytes(escapeText(values[i]));
            }
        }
        return out.toByteArray();
    }

    /** One row of CSV: comma-separated, an unquoted empty field is NULL, quotes doubled inside quotes. */
    private byte[] maskCsv(byte[] row) {
        List<byte[]> raw = new ArrayList<>();
        List<byte[]> parsed = new ArrayList<>();
        int i = 0;
        while (true) {
            int from = i;
            ByteArrayOutputStream value = new ByteArrayOutputStream();
            boolean quoted = false;
            if (i < row.length && row[i] == '"') {
                quoted = true;
                i++;
                while (i < row.length) {
                    if (row[i] == '"') {
                        if (i + 1 < row.length && row[i + 1] == '"') {
                            value.write('"');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    value.write(row[i++]);
                }
            }
            while (i < row.length && row[i] != ',') {
                value.write(row[i++]);
            }
            raw.add(Arrays.copyOfRange(row, from, i));
            parsed.add(!quoted && value.size() == 0 ? null : value.toByteArray());
            if (i >= row.length) {
                break;
            }
            i++; // the comma
        }
        byte[][] values = parsed.toArray(new byte[0][]);
        byte[][] before = values.clone();
        plan.maskRow(values, scrubber);
        ByteArrayOutputStream out = new ByteArrayOutputStream(row.length + 16);
        for (int f = 0; f < values.length; f++) {
            if (f > 0) {
                out.write(',');
            }
            if (values[f] == null) {
                continue; // NULL is the empty unquoted field
            }
            if (Arrays.equals(values[f], before[f])) {
                out.writeBytes(raw.get(f)); // as the server wrote it
            } else {
                writeCsvValue(out, values[f], values.length == 1);
            }
        }
        return out.toByteArray();
    }

    /**
     * A CSV value quoted as PostgreSQL quotes it (CopyAttributeOutCSV with default options): only when it holds
     * the delimiter, the quote, a line break, is empty (which would read as NULL), or is {@code \.} alone on its
     * line (which would read as the end of data).
     */
    static void writeCsvValue(ByteArrayOutputStream out, byte[] value, boolean onlyColumn) {
        boolean quote = value.length == 0 || (onlyColumn && value.length == 2 && value[0] == '\\' && value[1] == '.');
        for (byte b : value) {
            quote |= b == ',' || b == '"' || b == '\n' || b == '\r';
        }
        if (!quote) {
            out.writeBytes(value);
            return;
        }
        out.write('"');
        for (byte b : value) {
            if (b == '"') {
                out.write('"');
            }
            out.write(b);
        }
        out.write('"');
    }

    static byte[] unescapeText(byte[] raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length);
        for (int i = 0; i < raw.length; i++) {
            byte b = raw[i];
            if (b != '\\' || i + 1 == raw.length) {
                out.write(b);
                continue;
            }
            byte c = raw[++i];
            switch (c) {
                case 'b' -> out.write('\b');
                case 'f' -> out.write('\f');
                case 'n' -> out.write('\n');
                case 'r' -> out.write('\r');
                case 't' -> out.write('\t');
                case 'v' -> out.write(0x0b);
                case 'x' -> {
                    int v = 0;
                    int k = 0;
                    while (k < 2 && i + 1 < raw.length && Character.digit(raw[i + 1], 16) >= 0) {
                        v = v * 16 + Character.digit(raw[++i], 16);
                        k++;
                    }
                    out.write(v);
                }
                default -> {
                    if (c >= '0' && c <= '7') {
                        int v = c - '0';
                        int k = 1;
                        while (k < 3 && i + 1 < raw.length && raw[i + 1] >= '0' && raw[i + 1] <= '7') {
                            v = v * 8 + (raw[++i] - '0');
                            k++;
                        }
                        out.write(v);
                    } else {
                        out.write(c);
                    }
                }
            }
        }
        return out.toByteArray();
    }

    /** A value in text format as PostgreSQL escapes it (CopyAttributeOutText, tab delimiter). */
    static byte[] escapeText(byte[] value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(value.length + 8);
        for (byte b : value) {
            switch (b) {
                case '\\' -> out.writeBytes(new byte[]{'\\', '\\'});
                case '\b' -> out.writeBytes(new byte[]{'\\', 'b'});
                case '\f' -> out.writeBytes(new byte[]{'\\', 'f'});
                case '\n' -> out.writeBytes(new byte[]{'\\', 'n'});
                case '\r' -> out.writeBytes(new byte[]{'\\', 'r'});
                case '\t' -> out.writeBytes(new byte[]{'\\', 't'});
                case 0x0b -> out.writeBytes(new byte[]{'\\', 'v'});
                default -> out.write(b);
            }
        }
        return out.toByteArray();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
