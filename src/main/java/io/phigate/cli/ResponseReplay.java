package io.phigate.cli;

import io.phigate.pg.ResponseTranscript;
import java.io.PrintStream;
import java.util.List;

/**
 * Prints a recorded PostgreSQL response as the agent received it, one line per column list, row, tag, notice and
 * error ({@link ResponseTranscript} decodes it); a recording cut at the cap ends mid-frame, which is said rather
 * than hidden.
 */
final class ResponseReplay {
    private ResponseReplay() {
    }

    static void print(byte[] recorded, boolean truncated, int maxRows, PrintStream out, String indent) {
        if (recorded == null) {
            return;
        }
        long[] rows = {0};
        ResponseTranscript.walk(recorded, truncated, new ResponseTranscript.Visitor() {
            @Override
            public void columns(List<String> names) {
                out.println(indent + "columns: " + Terminal.safe(String.join(" | ", names)));
            }

            @Override
            public void row(List<String> values) {
                if (rows[0]++ < maxRows) {
                    StringBuilder b = new StringBuilder();
                    for (int i = 0; i < values.size(); i++) {
                        b.append(i == 0 ? "" : " | ").append(values.get(i) == null ? "NULL" : values.get(i));
                    }
                    out.println(indent + "  " + Terminal.safe(b.toString()));
                }
            }

            @Override
            public void complete(String commandTag) {
                out.println(indent + "-> " + Terminal.safe(commandTag));
            }

            @Override
            public void error(String sqlState, String message) {
                out.println(indent + "-> ERROR " + sqlState + ": " + Terminal.safe(message));
            }

            @Override
            public void notice(String message) {
                out.println(indent + "-> notice: " + Terminal.safe(message));
            }

            @Override
            public void endsEarly(boolean cut) {
                out.println(indent + (cut ? "(recording truncated at audit.response_cap)" : "(recording ends early)"));
            }
        });
        if (rows[0] > maxRows) {
            out.println(indent + "  ... " + (rows[0] - maxRows) + " more rows recorded");
        }
    }
}
