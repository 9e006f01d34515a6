package io.phigate.pg;

import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.FrameReader;
import io.phigate.pg.message.MessageCodec;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Reads a recorded PostgreSQL response (the wire bytes the client received, as the audit store keeps them) back
 * as what the agent saw: column names, rows (text values as sent, binary ones as {@code \x} hex), command tags,
 * notices and errors. Protocol bookkeeping (ParseComplete, ReadyForQuery and the like) is skipped. Used by the CLI
 * and the web console, so both show a recording the same way.
 */
public final class ResponseTranscript {

    /** Receives the content of a recording in order. Row values are null for SQL NULL. */
    public interface Visitor {
        void columns(List<String> names);

        void row(List<String> values);

        void complete(String commandTag);

        void error(String sqlState, String message);

        void notice(String message);

        /** The recording stops mid-frame: cut at {@code audit.response_cap} when {@code truncated}. */
        default void endsEarly(boolean truncated) {
        }
    }

    private ResponseTranscript() {
    }

    public static void walk(byte[] recorded, boolean truncated, Visitor visitor) {
        if (recorded == null) {
            return;
        }
        FrameReader frames = new FrameReader(new ByteArrayInputStream(recorded), 64 * 1024, Integer.MAX_VALUE - 8,
                Integer.MAX_VALUE - 8);
        short[] formats = new short[0];
        try {
            while (frames.next() >= 0) {
                BackendMessage m = MessageCodec.decodeBackend(frames.type(), frames.body());
                switch (m) {
                    case BackendMessage.RowDescription d -> {
                        formats = new short[d.fields().size()];
                        List<String> names = new ArrayList<>(formats.length);
                        for (int i = 0; i < formats.length; i++) {
                            formats[i] = d.fields().get(i).format();
                            names.add(d.fields().get(i).name());
                        }
                        visitor.columns(names);
                    }
                    case BackendMessage.DataRow r -> visitor.row(values(r, formats));
                    case BackendMessage.CommandComplete c -> visitor.complete(c.tag());
                    case BackendMessage.ErrorResponse e -> visitor.error(e.sqlState(), String.valueOf(e.message()));
                    case BackendMessage.NoticeResponse n -> visitor.notice(String.valueOf(n.fields().get((byte) 'M')));
                    default -> {
                        // protocol, not content
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            visitor.endsEarly(truncated);
        }
    }

    private static List<String> values(BackendMessage.DataRow r, short[] formats) {
        List<String> out = new ArrayList<>(r.values().length);
        for (int i = 0; i < r.values().length; i++) {
            byte[] v = r.values()[i];
            boolean binary = formats.length > i && formats[i] == 1;
            out.add(v == null ? null : binary ? "\\x" + HexFormat.of().formatHex(v) : new String(v, StandardCharsets.UTF_8));
        }
        return out;
    }
}
