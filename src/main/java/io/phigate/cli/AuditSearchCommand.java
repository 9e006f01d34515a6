package io.phigate.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.phigate.audit.AuditQueries;
import io.phigate.config.ConfigException;
import java.io.PrintStream;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code phigate audit search}: statements by who, where, outcome, time and text, oldest first, one page at a time. */
@Command(name = "search", description = "Find statements in the audit log (prints PHI: statement text).")
final class AuditSearchCommand implements Callable<Integer> {

    @ArgGroup(exclusive = true, multiplicity = "1")
    AuditStoreOption store;

    @Option(names = "--subject", paramLabel = "SUBJECT", description = "Agent identity; a trailing * matches a prefix.")
    String subject;

    @Option(names = "--issuer", paramLabel = "ISSUER", description = "Token issuer.")
    String issuer;

    @Option(names = "--session", paramLabel = "SESSION_ID", description = "Session id, or a unique prefix of it.")
    String session;

    @Option(names = "--upstream", paramLabel = "UPSTREAM", description = "Upstream database name.")
    String upstream;

    @Option(names = "--outcome", paramLabel = "OUTCOME", description = "ok, error, refused, skipped, aborted or incomplete.")
    String outcome;

    @Option(names = "--kind", paramLabel = "KIND", description = "Statement command as in its command tag: SELECT, INSERT, ...")
    String kind;

    @Option(names = "--since", paramLabel = "TIME", description = "From this time (inclusive): now, 2025-03-04T05:06:07Z, 2025-03-04 or an age such"
            + " as 10m, 24h or 7d (ago).")
    String since;

    @Option(names = "--until", paramLabel = "TIME", description = "Up to this time (exclusive), same forms as --since (default: now).")
    String until;

    @Option(names = "--text", paramLabel = "TEXT", description = "Words, or \"phrases in quotes\", that must all occur in the statement text (case-insensitive substrings).")
    String text;

    @Option(names = "--table", paramLabel = "TABLE", description = "Statements that read or wrote this table: schema.table, or a bare name in any schema.")
    String table;

    @Option(names = "--column", paramLabel = "COLUMN", description = "Statements whose results carried this PHI column: schema.table.column.")
    String column;

    @Option(names = "--phi-type", paramLabel = "PHI_TYPE", description = "Statements whose results carried PHI of this type: ssn, name, dob, ...")
    String phiType;

    @Option(names = "--approval", paramLabel = "REQUEST_ID", description = "Follow approval request ID: with other criteria, the statements it"
            + " released; alone, its whole chain (request, each decision, the released statements), in order.")
    String approval;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "At most this many statements (1-1000, default ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--after", paramLabel = "SEQ", defaultValue = "0", description = "Continue after this seq (the next page).")
    long after;

    @Option(names = "--json", description = "One JSON object per statement, parameters included.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        AuditQueries.Filter filter;
        AuditQueries.Page page;
        try {
            Clock clock = Clock.systemUTC();
            if (session != null) {
                session = IdPrefix.resolve(session, store.queries().sessionIds(session, IdPrefix.SHOWN + 1), "session");
            }
            filter = new AuditQueries.Filter(subject, issuer, session, upstream, outcome, kind,
                    since == null ? null : AuditQueries.parseTime(since, clock),
                    until == null ? null : AuditQueries.parseTime(until, clock), text, table, column, phiType,
                    approval);
            page = new AuditQueries.Page(limit, after);
        } catch (IllegalArgumentException | IdPrefix.Unresolved e) {
            System.err.println("phigate audit search: " + e.getMessage());
            return 2;
        } catch (ConfigException | SQLException e) {
            System.err.println("phigate audit search: " + e.getMessage());
            return 2;
        }
        if (approval != null && filter.equals(AuditQueries.Filter.ANY.withApproval(approval))) {
            return chain(out);
        }
        AuditQueries.StatementPage found;
        try {
            found = store.queries().search(filter, page);
        } catch (ConfigException | SQLException e) {
            System.err.println("phigate audit search: " + e.getMessage());
            return 2;
        }
        if (json) {
            ObjectMapper mapper = new ObjectMapper();
            for (AuditQueries.Statement s : found.statements()) {
                out.println(mapper.writeValueAsString(s.fields()));
            }
        } else {
            out.printf("%-8s %-23s %-8s %-32s %-10s %6s  %s%n", "SEQ", "TIME (UTC)", "SESSION", "SUBJECT", "OUTCOME",
                    "ROWS", "STATEMENT");
            for (AuditQueries.Statement s : found.statements()) {
                out.printf("%-8d %-23s %-8s %-32s %-10s %6s  %s%n", s.seq(), shortTime(s.time()),
                        shortSession(s.sessionId()), Terminal.safe(s.subject()),
                        s.outcome() == null ? "incomplete" : s.outcome(), s.rows() == null ? "" : s.rows(),
                        Terminal.oneLine(s.text(), 80));
            }
        }
        if (found.nextAfter() != null) {
            // On stderr so that --json output stays pure JSON lines.
            System.err.println("more: add --after " + found.nextAfter());
        }
        return 0;
    }

    /** The approval request's records in order, as {@code audit session} prints them (or their JSON columns). */
    private int chain(PrintStream out) throws Exception {
        List<AuditQueries.Event> events;
        try {
            events = store.queries().approvalChain(approval);
        } catch (ConfigException | SQLException e) {
            System.err.println("phigate audit search: " + e.getMessage());
            return 2;
        }
        if (events.isEmpty()) {
            System.err.println("phigate audit search: no records for approval " + Terminal.safe(approval));
            return 1;
        }
        ObjectMapper mapper = new ObjectMapper();
        for (AuditQueries.Event e : events) {
            out.println(json ? mapper.writeValueAsString(e.columns()) : e.seq() + " " + AuditSessionCommand.line(e));
        }
        return 0;
    }

    /** Milliseconds are enough to read a table; the full time is in --json and the session replay. */
    static String shortTime(String time) {
        return time == null ? "" : Instant.parse(time).toString().replace('T', ' ').replaceFirst("(\\.\\d{3})\\d*Z$", "$1Z");
    }

    static String shortSession(String id) {
        return id == null ? "" : id.length() <= 8 ? id : id.substring(0, 8);
    }
}
