package io.phigate.mask;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * Masks COPY TO STDOUT rows in text or CSV format with default options (tab or comma delimiter, {@code \N} or
 * empty NULL, double-quote quoting). The server sends each row as one CopyData message; a message that does not
 * end a row is held until the row completes, up to the frame limit, so the masker never works on half a field.
 * Formats it cannot parse (binary, custom delimiters or quotes) are refused before the statement runs.
 */
public final class CopyMasker {
    public enum Format { TEXT, CSV }

    private final MaskPlan plan;
    private final Scrubber scrubber;
    private final Format format;
    private boolean skipHeader;
    private byte[] pending = new byte[0];

    public CopyMasker(MaskPlan plan, Scrubber scrubber, Format format, boolean header) {
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
                out.writeBytes(format == Format.TEXT ? maskText(row) : maskCsv(row));
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
        return format == Format.TEXT ? maskText(rest) : maskCsv(rest);
    }

    private int rowEnd(byte[] buf, int start) {
        if (format == Format.TEXT) {
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

    private byte[] maskText(byte[] row) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(row.length + 16);
        int field = 0;
        int start = 0;
        for (int i = 0; i <= row.length; i++) {
            if (i == row.length || row[i] == '\t') {
                if (field > 0) {
                    out.write('\t');
                }
                byte[] raw = Arrays.copyOfRange(row, start, i);
                if (raw.length == 2 && raw[0] == '\\' && raw[1] == 'N') {
                    out.writeBytes(raw);
                } else {
                    byte[] masked = plan.maskField(field, unescapeText(raw), scrubber);
                    out.writeBytes(masked == null ? new byte[]{'\\', 'N'} : escapeText(masked));
                }
                field++;
                start = i + 1;
            }
        }
        return out.toByteArray();
    }

    private byte[] maskCsv(byte[] row) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(row.length + 16);
        int field = 0;
        int i = 0;
        while (true) {
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
            if (field > 0) {
                out.write(',');
            }
            byte[] v = value.toByteArray();
            if (!quoted && v.length == 0) {
                // unquoted empty is NULL in CSV: stays NULL
            } else {
                byte[] masked = plan.maskField(field, v, scrubber);
                if (masked != null) {
                    out.write('"');
                    for (byte b : masked) {
                        if (b == '"') {
                            out.write('"');
                        }
                        out.write(b);
                    }
                    out.write('"');
                }
            }
            field++;
            if (i >= row.length) {
                break;
            }
            i++; // the comma
        }
        return out.toByteArray();
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

    static byte[] escapeText(byte[] value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(value.length + 8);
        for (byte b : value) {
            switch (b) {
                case '\\' -> out.writeBytes(new byte[]{'\\', '\\'});
                case '\t' -> out.writeBytes(new byte[]{'\\', 't'});
                case '\n' -> out.writeBytes(new byte[]{'\\', 'n'});
                case '\r' -> out.writeBytes(new byte[]{'\\', 'r'});
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
