package io.phigate.audit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Recomputes every replica's hash chain from the store alone and names the first record that does not hold:
 * an edited field (its hash no longer matches), a deleted record (a gap in the sequence), a reordered or inserted
 * record (it does not follow its predecessor). Reads the store through its own read-only connection, so it can
 * run beside a live gateway or offline on a copy.
 */
public final class AuditVerifier {

    /** One thing wrong, at the first record where it shows. */
    public record Problem(String replica, long chainSeq, String what) {
        @Override
        public String toString() {
            return "replica " + replica + ", record " + chainSeq + ": " + what;
        }
    }

    /** What the verification found. {@code unchained} counts records written before the store had chains. */
    public record Report(Map<String, Long> recordsPerReplica, long unchained, List<Problem> problems) {
        public boolean intact() {
            return problems.isEmpty();
        }

        public long records() {
            return recordsPerReplica.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    private AuditVerifier() {
    }

    public static Report verifySqlite(Path file) throws SQLException {
        if (!Files.isRegularFile(file)) {
            throw new SQLException("no audit store at " + file);
        }
        StringBuilder columns = new StringBuilder();
        for (String c : RecordHash.COLUMNS) {
            columns.append(c).append(", ");
        }
        Map<String, Long> perReplica = new LinkedHashMap<>();
        List<Problem> problems = new ArrayList<>();
        long unchained = 0;
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + file.toAbsolutePath() + "?mode=ro");
             Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM audit_event WHERE replica IS NULL")) {
                unchained = rs.next() ? rs.getLong(1) : 0;
            }
            try (ResultSet rs = s.executeQuery("SELECT " + columns + "hash FROM audit_event WHERE replica IS NOT NULL"
                    + " ORDER BY replica, chain_seq, seq")) {
                String replica = null;
                long expected = 0;
                String prev = null;
                boolean broken = false;
                String[] values = new String[RecordHash.COLUMNS.length];
                while (rs.next()) {
                    for (int i = 0; i < values.length; i++) {
                        values[i] = rs.getString(i + 1);
                    }
                    String stored = rs.getString(values.length + 1);
                    if (!values[0].equals(replica)) {
                        replica = values[0];
                        expected = 1;
                        prev = RecordHash.GENESIS;
                        broken = false;
                    }
                    perReplica.merge(replica, 1L, Long::sum);
                    if (broken) {
                        continue; // the first bad record is named; what follows it cannot be trusted either
                    }
                    long seq = Long.parseLong(values[1]);
                    String problem = null;
                    if (seq > expected) {
                        problem = expected == seq - 1 ? "record " + expected + " is missing (deleted)"
                                : "records " + expected + " to " + (seq - 1) + " are missing (deleted)";
                    } else if (seq < expected) {
                        problem = "a second record claims this place in the chain (inserted)";
                    } else if (!RecordHash.hex(RecordHash.of(values)).equals(stored)) {
                        problem = "its contents do not match its hash (edited)";
                    } else if (!values[2].equals(prev)) {
                        problem = "it does not follow the record before it (reordered, inserted, or its predecessor"
                                + " was replaced)";
                    }
                    if (problem != null) {
                        problems.add(new Problem(replica, Math.min(seq, expected), problem));
                        broken = true;
                        continue;
                    }
                    prev = stored;
                    expected = seq + 1;
                }
            }
        }
        return new Report(perReplica, unchained, List.copyOf(problems));
    }
}
