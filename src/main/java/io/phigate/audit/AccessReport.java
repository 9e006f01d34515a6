package io.phigate.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PublicKey;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The access report an auditor reads (HIPAA 164.308(a)(1)(ii)(D) activity review, the who-and-when of a 164.528
 * accounting): per agent identity, its sessions and statements in a period, with the verification of the log the
 * figures come from. Built in two steps: {@link #build} reads the store into a {@link Model} (counts and
 * identities only), {@link AccessReportHtml} renders that model as one self-contained HTML file.
 *
 * <p>The model holds no statement text and no bound parameter: those are PHI, and a report that is mailed
 * around must not carry them. It does hold what agents chose to send about themselves (subject, application
 * name, client address), which the renderer escapes.
 */
public final class AccessReport {

    /** Command tags whose row count is rows delivered to the agent. COPY is left out: its tag does not say which way. */
    static final List<String> ROW_RETURNING_COMMANDS = List.of("SELECT", "FETCH");

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Outcomes in the order the report lists them: the store's, and {@code incomplete} (never completed). */
    static final List<String> OUTCOME_ORDER = List.of("ok", "refused", "error", "skipped", "aborted", "incomplete");

    /** One session with activity in the period. {@code end} is null while the session is open (or its end was lost). */
    public record Session(String sessionId, String start, String end, long statements, String clientAddress,
                          String upstream, String applicationName) {
    }

    /**
     * One agent identity's activity in the period. {@code statementsByOutcome} has every outcome of
     * {@link #OUTCOME_ORDER} in that order, zeros included. {@code rowsReturned} sums the row counts of
     * statements that completed ok with a SELECT or FETCH command tag. {@code tables} are the tables statements
     * referenced (the request's analysis); the PHI figures are what results delivered, from the completion records
     * ({@link MaskingSummary}): the PHI types delivered masked and unmasked, and the values of each (one column of
     * one row).
     */
    public record Identity(String subject, String issuer, long statements, Map<String, Long> statementsByOutcome,
                           String firstActivity, String lastActivity, SortedSet<String> upstreams, long rowsReturned,
                           List<Session> sessions, SortedSet<String> tables, SortedSet<String> phiTypesMasked,
                           SortedSet<String> phiTypesUnmasked, long phiValuesMasked, long phiValuesUnmasked) {
        public long sessionCount() {
            return sessions.size();
        }

        /** Statements the gateway refused (policy, scope, approval denied): outcome {@code refused}. */
        public long refused() {
            return statementsByOutcome.getOrDefault("refused", 0L);
        }

        /** Statements the upstream database answered with an error. */
        public long errors() {
            return statementsByOutcome.getOrDefault("error", 0L);
        }
    }

    /** A connection that never became a session. Subject and issuer are as claimed, not verified. */
    public record FailedConnection(String time, String clientAddress, String upstream, String claimedSubject,
                                   String claimedIssuer, String sqlState, String reason) {
    }

    /**
     * The verification of the whole store (not only the period): {@code checkpointsChecked} is false when no
     * public key was given. {@code lastCheckpointSize} is, per replica, the size of the last signed checkpoint that
     * held.
     */
    public record Verification(boolean intact, long records, Map<String, Long> recordsPerReplica, long unchained,
                               List<String> problems, boolean checkpointsChecked, int checkpointsVerified,
                               Map<String, Long> lastCheckpointSize) {
        static Verification of(AuditVerifier.Report r, boolean checkpointsChecked) {
            return new Verification(r.intact(), r.records(), Map.copyOf(r.recordsPerReplica()), r.unchained(),
                    r.problems().stream().map(AuditVerifier.Problem::toString).toList(), checkpointsChecked,
                    r.checkpointsVerified(), Map.copyOf(r.lastCheckpointSize()));
        }
    }

    /** The report: {@code since} inclusive, {@code until} exclusive. Identities by subject, then issuer. */
    public record Model(String store, Instant since, Instant until, Instant generated, Verification verification,
                        List<Identity> identities, List<FailedConnection> failedConnections) {
    }

    private AccessReport() {
    }

    /**
     * Verifies the SQLite store at {@code file} (checkpoints too when {@code key} is given, with those shipped to
     * {@code checkpointFile} when not null) and reads the activity with {@code since <= time < until}.
     */
    public static Model build(Path file, Instant since, Instant until, PublicKey key, Path checkpointFile,
                              Instant generated) throws SQLException, IOException {
        if (!since.isBefore(until)) {
            throw new IllegalArgumentException("since must be before until");
        }
        Verification verification = Verification.of(AuditVerifier.verifySqlite(file, key, checkpointFile), key != null);
        return build(AuditQueries.sqlite(file), file.toString(), since, until, verification, generated);
    }

    /** The activity part over any store {@code queries} reads, with a verification done by the caller. */
    static Model build(AuditQueries queries, String storeName, Instant since, Instant until,
                       Verification verification, Instant generated) throws SQLException, IOException {
        Map<String, Tally> sessions = new LinkedHashMap<>();
        List<FailedConnection> failed = new ArrayList<>();
        queries.activities(since, until, (e, completion) -> {
            switch (e.kind()) {
                case "session_started" -> sessions.computeIfAbsent(e.sessionId(), Tally::new).started(e, true);
                case "session_ended" -> sessions.computeIfAbsent(e.sessionId(), Tally::new).ended(e);
                case "statement_requested" -> sessions.computeIfAbsent(e.sessionId(), Tally::new)
                        .statement(e, completion);
                case "connection_refused" -> failed.add(new FailedConnection(e.time(), e.clientAddress(),
                        e.upstream(), e.subject(), e.issuer(), e.sqlState(), detail(e.detail(), "reason")));
                default -> {
                    // cancel requests, and completions whose request is gone (verification reports those)
                }
            }
        });
        // A session that began before the period, or ends after it (or not yet): its bounds are outside the range read.
        for (Tally t : sessions.values()) {
            if (t.start == null || t.end == null) {
                for (AuditQueries.Event e : queries.sessionBounds(t.sessionId)) {
                    if (e.kind().equals("session_started") && t.start == null) {
                        t.started(e, false);
                    } else if (e.kind().equals("session_ended") && t.end == null) {
                        t.end = e.time();
                    }
                }
            }
        }
        Map<List<String>, List<Tally>> byIdentity = new HashMap<>();
        for (Tally t : sessions.values()) {
            byIdentity.computeIfAbsent(java.util.Arrays.asList(t.subject, t.issuer), k -> new ArrayList<>()).add(t);
        }
        List<Identity> identities = new ArrayList<>();
        for (var entry : byIdentity.entrySet()) {
            identities.add(identity(entry.getKey().get(0), entry.getKey().get(1), entry.getValue()));
        }
        identities.sort(Comparator.comparing(Identity::subject, Comparator.nullsFirst(Comparator.naturalOrder()))
                .thenComparing(Identity::issuer, Comparator.nullsFirst(Comparator.naturalOrder())));
        failed.sort(Comparator.comparing(FailedConnection::time));
        return new Model(storeName, since, until, generated, verification, List.copyOf(identities),
                List.copyOf(failed));
    }

    private static Identity identity(String subject, String issuer, List<Tally> tallies) {
        tallies.sort(Comparator.comparing((Tally t) -> t.start == null ? "" : t.start)
                .thenComparing(t -> t.sessionId));
        Map<String, Long> byOutcome = new LinkedHashMap<>();
        OUTCOME_ORDER.forEach(o -> byOutcome.put(o, 0L));
        long statements = 0;
        long rows = 0;
        String first = null;
        String last = null;
        SortedSet<String> upstreams = new TreeSet<>();
        SortedSet<String> tables = new TreeSet<>();
        SortedSet<String> phiMasked = new TreeSet<>();
        SortedSet<String> phiUnmasked = new TreeSet<>();
        long valuesMasked = 0;
        long valuesUnmasked = 0;
        List<Session> sessions = new ArrayList<>();
        for (Tally t : tallies) {
            t.byOutcome.forEach((o, n) -> byOutcome.merge(o, n, Long::sum));
            statements += t.statements;
            rows += t.rowsReturned;
            first = first == null || (t.first != null && t.first.compareTo(first) < 0) ? t.first : first;
            last = last == null || (t.last != null && t.last.compareTo(last) > 0) ? t.last : last;
            if (t.upstream != null) {
                upstreams.add(t.upstream);
            }
            tables.addAll(t.tables);
            phiMasked.addAll(t.phiTypesMasked);
            phiUnmasked.addAll(t.phiTypesUnmasked);
            valuesMasked += t.phiValuesMasked;
            valuesUnmasked += t.phiValuesUnmasked;
            sessions.add(new Session(t.sessionId, t.start, t.end, t.statements, t.clientAddress, t.upstream,
                    t.applicationName));
        }
        return new Identity(subject, issuer, statements, java.util.Collections.unmodifiableMap(byOutcome), first,
                last, java.util.Collections.unmodifiableSortedSet(upstreams), rows, List.copyOf(sessions),
                java.util.Collections.unmodifiableSortedSet(tables), java.util.Collections.unmodifiableSortedSet(phiMasked),
                java.util.Collections.unmodifiableSortedSet(phiUnmasked), valuesMasked, valuesUnmasked);
    }

    /** One session's figures while the records stream past (in sequence order, not time order). */
    private static final class Tally {
        final String sessionId;
        String subject;
        String issuer;
        String clientAddress;
        String upstream;
        String applicationName;
        final SortedSet<String> tables = new TreeSet<>();
        final SortedSet<String> phiTypesMasked = new TreeSet<>();
        final SortedSet<String> phiTypesUnmasked = new TreeSet<>();
        long phiValuesMasked;
        long phiValuesUnmasked;
        String start;
        String end;
        /** Times of this session's records inside the period. */
        String first;
        String last;
        long statements;
        long rowsReturned;
        final Map<String, Long> byOutcome = new HashMap<>();

        Tally(String sessionId) {
            this.sessionId = sessionId;
        }

        /** {@code inPeriod}: read with the period's activity, not looked up for a session begun before it. */
        void started(AuditQueries.Event e, boolean inPeriod) {
            start = e.time();
            identify(e);
            applicationName = detail(e.detail(), "application_name");
            if (inPeriod) {
                seen(e.time());
            }
        }

        void ended(AuditQueries.Event e) {
            end = e.time();
            seen(e.time());
        }

        void statement(AuditQueries.Event request, AuditQueries.Event completion) {
            identify(request);
            seen(request.time());
            statements++;
            String outcome = completion == null || completion.outcome() == null ? "incomplete" : completion.outcome();
            byOutcome.merge(outcome, 1L, Long::sum);
            if (outcome.equals("ok") && completion.rowCount() != null && returnsRows(completion.commandTag())) {
                rowsReturned += completion.rowCount();
            }
            touched(request.detail());
            if (completion != null) {
                delivered(completion);
            }
        }

        /** The PHI the statement's results carried, as its completion record names it. */
        private void delivered(AuditQueries.Event completion) {
            MaskingSummary summary = MaskingSummary.parse(detail(completion.detail(), "masking"));
            long rows = completion.rowCount() == null ? 0 : completion.rowCount();
            for (MaskingSummary.Column c : summary.columns()) {
                if (!c.phiType().equals("unknown lineage")) {
                    (c.unmasked() ? phiTypesUnmasked : phiTypesMasked).add(c.phiType());
                }
            }
            phiValuesMasked += summary.maskedValues(rows);
            phiValuesUnmasked += summary.unmaskedValues(rows);
        }

        /** The tables the gateway's analysis recorded on the request (names, no values). */
        private void touched(String json) {
            if (json == null) {
                return;
            }
            try {
                JsonNode d = JSON.readTree(json);
                JsonNode t = d.get("tables");
                if (t != null && t.isArray()) {
                    t.forEach(n -> tables.add(n.asText()));
                }
            } catch (IOException e) {
                // a detail that is not JSON names nothing
            }
        }

        /** The session's start names who it is; a statement does too, for a session whose start is lost. */
        private void identify(AuditQueries.Event e) {
            if (subject == null && issuer == null) {
                subject = e.subject();
                issuer = e.issuer();
            }
            if (clientAddress == null) {
                clientAddress = e.clientAddress();
            }
            if (upstream == null) {
                upstream = e.upstream();
            }
        }

        private void seen(String time) {
            if (first == null || time.compareTo(first) < 0) {
                first = time;
            }
            if (last == null || time.compareTo(last) > 0) {
                last = time;
            }
        }
    }

    static boolean returnsRows(String commandTag) {
        if (commandTag == null) {
            return false;
        }
        for (String command : ROW_RETURNING_COMMANDS) {
            if (commandTag.equals(command) || commandTag.startsWith(command + " ")) {
                return true;
            }
        }
        return false;
    }

    /** One string field of a record's detail JSON, or null. */
    static String detail(String json, String field) {
        if (json == null) {
            return null;
        }
        try {
            JsonNode v = JSON.readTree(json).get(field);
            return v == null || v.isNull() ? null : v.asText();
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Writes the rendered report to {@code file} through an owner-only (0600) temporary file in the same folder,
     * moved into place when complete. The report holds no PHI values, but it names agents, clients and databases:
     * who may read it is the operator's choice, not the umask's.
     */
    public static void writeFile(Model model, Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        boolean posix = Files.getFileStore(dir).supportsFileAttributeView("posix");
        Path tmp = posix
                ? Files.createTempFile(dir, "." + file.getFileName(), ".tmp",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                : Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            try (BufferedWriter out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                out.write(AccessReportHtml.render(model));
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
