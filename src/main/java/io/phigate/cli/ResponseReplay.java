package io.phigate.cli;

import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.FrameReader;
import io.phigate.pg.message.MessageCodec;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * Shows a recorded PostgreSQL response as the agent received it: column names, rows (text values as sent, binary
 * ones as hex), command tags, notices and errors. The recording holds the wire bytes, so this decodes them with
 * the gateway's own codec; a recording cut at the cap ends mid-frame, which is said rather than hidden.
 */
final class ResponseReplay {
    private ResponseReplay() {
    }

    static void print(byte[] recorded, boolean truncated, int maxRows, PrintStream out, String indent) {
        if (recorded == null) {
            return;
        }
        FrameReader frames = new FrameReader(new ByteArrayInputStream(recorded), 64 * 1024, Integer.MAX_VALUE - 8,
                Integer.MAX_VALUE - 8);
        int shown = 0;
        long rows = 0;
        short[] formats = new short[0];
        try {
            while (frames.next() >= 0) {
                BackendMessage m = MessageCodec.decodeBackend(frames.type(), frames.body());
                switch (m) {
                    case BackendMessage.RowDescription d -> {
                        formats = new short[d.fields().size()];
                        StringBuilder names = new StringBuilder();
                        for (int i = 0; i < formats.length; i++) {
                            formats[i] = d.fields().get(i).format();
                            names.append(i == 0 ? "" : " | ").append(d.fields().get(i).name());
                        }
                        out.println(indent + "columns: " + Terminal.safe(names.toString()));
                    }
                    case BackendMessage.DataRow r -> {
                        rows++;
                        if (shown < maxRows) {
                            out.println(indent + "  " + Terminal.safe(row(r, formats)));
                            shown++;
                        }
                    }
                    case BackendMessage.CommandComplete c -> out.println(indent + "-> " + Terminal.safe(c.tag()));
                    case BackendMessage.ErrorResponse e -> out.println(indent + "-> ERROR " + e.sqlState() + ": "
                            + Terminal.safe(String.valueOf(e.message())));
                    case BackendMessage.NoticeResponse n -> out.println(indent + "-> notice: "
                            + Terminal.safe(String.valueOf(n.fields().get((byte) 'M'))));
                    default -> {
                        // ParseComplete, BindComplete, ReadyForQuery and the like: protocol, not content
                    }
                }
            }
        } catch (IOException e) {
            out.println(indent + (truncated ? "(recording truncated at audit.response_cap)" : "(recording ends early)"));
        }
        if (rows > shown) {
            out.println(indent + "  ... " + (rows - shown) + " more rows recorded");
        }
    }

    private static String row(BackendMessage.DataRow r, short[] formats) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < r.values().length; i++) {
            byte[] v = r.values()[i];
            boolean binary = formats.length > i && formats[i] == 1;
            b.append(i == 0 ? "" : " | ").append(v == null ? "NULL"
                    : binary ? "\\x" + HexFormat.of().formatHex(v) : new String(v, StandardCharsets.UTF_8));
        }
        return b.toString();
    }
}
