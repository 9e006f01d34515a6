package io.phigate.cli;

import io.phigate.audit.AuditQueries;
import io.phigate.config.ConfigException;
import java.io.PrintStream;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code phigate audit session ID}: one session replayed as it happened, for a person reading a terminal. */
@Command(name = "session", description = "Replay one session: its start, each statement with parameters and outcome, its end (prints PHI).")
final class AuditSessionCommand implements Callable<Integer> {

    @ArgGroup(exclusive = true, multiplicity = "1")
    AuditStoreOption store;

    @Parameters(paramLabel = "SESSION_ID", description = "The session id, or a unique prefix of it (as audit search"
            + " prints it).")
    String sessionId;

    @picocli.CommandLine.Option(names = "--responses", description = "Also show each statement's recorded response:"
            + " the rows, tags, notices and errors the client received (prints PHI as delivered).")
    boolean responses;

    @picocli.CommandLine.Option(names = "--rows", paramLabel = "N", defaultValue = "20", description = "Rows shown per response (default 20).")
    int rows;

    @Override
    public Integer call() throws Exception {
        List<AuditQueries.Event> events;
        try {
            AuditQueries queries = store.queries();
            sessionId = IdPrefix.resolve(sessionId, queries.sessionIds(sessionId, IdPrefix.SHOWN + 1), "session");
            events = queries.session(sessionId);
        } catch (ConfigException | SQLException e) {
            System.err.println("phigate audit session: " + e.getMessage());
            return 2;
        } catch (IdPrefix.Unresolved e) {
            System.err.println("phigate audit session: " + e.getMessage());
            return 1;
        }
        if (events.isEmpty()) {
            System.err.println("phigate audit session: no records for session " + Terminal.safe(sessionId));
            return 1;
        }
        PrintStream out = System.out;
        out.println("session " + Terminal.safe(sessionId));
        AuditQueries queries = responses ? store.queries() : null;
        for (AuditQueries.Event e : events) {
            out.println(line(e));
            if (responses && e.kind().equals("statement_completed") && e.responseDigest() != null) {
                try {
                    ResponseReplay.print(queries.response(e.seq()), e.responseTruncated() != null
                            && e.responseTruncated() == 1, rows, out, " ".repeat(30));
                } catch (AuditQueries.SealedException sealed) {
                    out.println(" ".repeat(30) + "(" + sealed.getMessage() + ")");
                }
            }
            if (e.kind().equals("statement_requested")) {
                String indent = " ".repeat(30);
                for (String textLine : Terminal.safe(e.statement()).split("\n", -1)) {
                    out.println(indent + "| " + textLine);
                }
                List<String> parameters = e.parameterList();
                if (parameters != null) {
                    for (int i = 0; i < parameters.size(); i++) {
                        String p = parameters.get(i);
                        out.println(indent + "$" + (i + 1) + " = " + (p == null ? "NULL" : "'" + Terminal.safe(p) + "'"));
                    }
                }
            }
        }
        return 0;
    }

    /** The time, then what the record says, without statement text or parameters (printed below it). */
    static String line(AuditQueries.Event e) {
        String what = switch (e.kind()) {
            case "session_started" -> "started: " + e.subject() + " (issuer " + e.issuer() + ") from "
                    + e.clientAddress() + " to " + e.upstream() + (e.detail() == null ? "" : " " + e.detail());
            case "connection_refused" -> "refused: " + e.sqlState() + " " + e.detail();
            case "statement_requested" -> "#" + e.statementId() + " " + e.protocol()
                    + (e.preparedName() == null || e.preparedName().isEmpty() ? "" : " prepared " + e.preparedName());
            case "statement_completed" -> "#" + e.statementId() + " " + e.outcome()
                    + (e.commandTag() == null ? "" : " " + e.commandTag())
                    + (e.sqlState() == null ? "" : " sqlstate " + e.sqlState())
                    + (e.rowCount() == null ? "" : ", " + e.rowCount() + " rows")
                    + (e.durationMicros() == null ? "" : ", " + String.format("%.3f ms", e.durationMicros() / 1000.0));
            case "cancel_requested" -> "cancel requested from " + e.clientAddress() + " " + e.detail();
            case "session_ended" -> "ended " + e.detail();
            case "approval_requested" -> "#" + e.statementId() + " approval requested " + e.detail();
            case "approval_decided" -> "#" + e.statementId() + " approval " + e.outcome()
                    + (e.subject() == null ? "" : " by " + e.subject()) + " " + e.detail();
            default -> e.kind();
        };
        return String.format("%-28s  %s", e.time(), Terminal.safe(what));
    }
}
