package io.phigate.sql;

import java.util.ArrayList;
import java.util.List;

/**
 * Decodes libpg_query's {@code ScanResult} protobuf ({@code int32 version = 1; repeated ScanToken tokens = 2},
 * {@code ScanToken { int32 start = 1; int32 end = 2; Token token = 4; KeywordKind keyword_kind = 5 }}). Four
 * varint fields do not earn a protobuf runtime; anything the schema does not name is skipped by wire type, and a
 * malformed buffer is an error, never a partial token list.
 */
final class ScanResultDecoder {

    private final byte[] buf;
    private int pos;

    private ScanResultDecoder(byte[] buf) {
        this.buf = buf;
    }

    static List<PgGrammar.Token> tokens(byte[] pbuf, PgGrammar.Offsets offsets) {
        ScanResultDecoder d = new ScanResultDecoder(pbuf);
        List<PgGrammar.Token> out = new ArrayList<>();
        while (d.pos < pbuf.length) {
            long key = d.varint();
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (field == 2 && wire == 2) {
                int len = (int) d.varint();
                int end = d.pos + len;
                if (len < 0 || end > pbuf.length) {
                    throw new IllegalStateException("malformed scan result");
                }
                out.add(d.token(end, offsets));
            } else {
                d.skip(wire);
            }
        }
        return List.copyOf(out);
    }

    private PgGrammar.Token token(int end, PgGrammar.Offsets offsets) {
        int start = 0;
        int stop = 0;
        int token = 0;
        int kind = 0;
        while (pos < end) {
            long key = varint();
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (wire != 0) {
                skip(wire);
                continue;
            }
            int v = (int) varint();
            switch (field) {
                case 1 -> start = v;
                case 2 -> stop = v;
                case 4 -> token = v;
                case 5 -> kind = v;
                default -> {
                }
            }
        }
        if (pos != end) {
            throw new IllegalStateException("malformed scan result");
        }
        return new PgGrammar.Token(offsets.charAt(start), offsets.charAt(stop), token, kind);
    }

    private long varint() {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= buf.length) {
                throw new IllegalStateException("malformed scan result");
            }
            byte b = buf[pos++];
            v |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                return v;
            }
        }
        throw new IllegalStateException("malformed scan result");
    }

    private void skip(int wire) {
        switch (wire) {
            case 0 -> varint();
            case 1 -> pos += 8;
            case 2 -> pos += (int) varint();
            case 5 -> pos += 4;
            default -> throw new IllegalStateException("malformed scan result");
        }
        if (pos > buf.length || pos < 0) {
            throw new IllegalStateException("malformed scan result");
        }
    }
}
