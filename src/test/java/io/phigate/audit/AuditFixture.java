package io.phigate.audit;

import io.phigate.audit.AuditEvent.ConnectionRefused;
import io.phigate.audit.AuditEvent.Outcome;
import io.phigate.audit.AuditEvent.Protocol;
import io.phigate.audit.AuditEvent.SessionEnded;
import io.phigate.audit.AuditEvent.SessionStarted;
import io.phigate.audit.AuditEvent.StatementCompleted;
import io.phigate.audit.AuditEvent.StatementRequested;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/**
 * Two sessions written through the real store. Session B is written first but happened later, so sequence
 * order and time order differ: results must follow time.
 */
public final class AuditFixture {
    public static final Instant T0 = Instant.parse("2025-03-04T05:00:00Z");
    public static final String A = "sess-a";
    public static final String B = "sess-b";
    public static final String AGENT_A = "system:serviceaccount:clinical:triage-agent";
    public static final String AGENT_B = "system:serviceaccount:billing:coder";
    public static final String TRICKY = "UPDATE patients SET note = 'a,b \"c\"\r\nline2' WHERE id = $1";
    /** Statements in time order: A1 A2 A3 B1 B2 B3. */
    public static final int STATEMENTS = 6;
    /** All rows written. */
    public static final int ROWS = 8 + 7;
    /** Rows that are completions of a request in the store (folded into it in OCSF). */
    public static final int COMPLETIONS = 5;

    private AuditFixture() {
    }

    public static Instant t(int seconds) {
        return T0.plusSeconds(seconds);
    }

    private static StatementRequested req(String session, long id, int at, String text, String... params) {
        boolean b = session.equals(B);
        return new StatementRequested(t(at), session, id, b ? "0:0:0:0:0:0:0:1:6000" : "10.0.0.7:5544",
                b ? "billing" : "clinical", b ? "https://other.test" : "https://issuer.test", b ? AGENT_B : AGENT_A,
                params.length == 0 ? Protocol.SIMPLE : Protocol.EXTENDED, text,
                params.length == 0 ? null : Arrays.asList(params), params.length == 0 ? null : "", "");
    }

    private static StatementCompleted done(String session, long id, int at, Outcome outcome, String sqlState,
                                           String tag, long rows) {
        return new StatementCompleted(t(at), session, id, outcome, sqlState, tag, rows, 1500 + id);
    }

    public static Path write(Path file) throws Exception {
        var config = new AuditConfig("sqlite:" + file, file, 10_000, Duration.ofSeconds(5), Duration.ofMillis(500));
        try (var store = new AuditStore(config)) {
            store.appendDurably(List.of(
                    new SessionStarted(t(100), B, "0:0:0:0:0:0:0:1:6000", "billing", "https://other.test", AGENT_B,
                            "sha256:bb", "billing", java.util.Map.of(), null),
                    req(B, 1, 101, "SELECT 100 AS pct"),
                    done(B, 1, 102, Outcome.OK, null, "SELECT 1", 1),
                    req(B, 2, 103, "SELECT name FROM a_b"),
                    done(B, 2, 104, Outcome.REFUSED, "42501", null, 0),
                    req(B, 3, 105, "SELECT 1"),
                    new ConnectionRefused(t(200), "sess-c", "10.0.0.9:2", "clinical", null, null, "28000", "token expired")));
            store.appendDurably(List.of(
                    new SessionStarted(t(0), A, "10.0.0.7:5544", "clinical", "https://issuer.test", AGENT_A,
                            "sha256:aa", "postgres", java.util.Map.of("application_name", "psql"), "TLSv1.3"),
                    req(A, 1, 1, "SELECT * FROM patients WHERE mrn = $1", "MRN-0042"),
                    done(A, 1, 2, Outcome.OK, null, "SELECT 1", 1),
                    req(A, 2, 3, TRICKY, (String) null),
                    done(A, 2, 4, Outcome.OK, null, "UPDATE 1", 1),
                    req(A, 3, 5, "SELECT '100% sure' AS x"),
                    done(A, 3, 6, Outcome.ERROR, "42P01", null, 0),
                    new SessionEnded(t(7), A, "client terminated", 3, 7000)));
        }
        return file;
    }
}
