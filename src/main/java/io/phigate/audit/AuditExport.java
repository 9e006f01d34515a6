package io.phigate.audit;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.SQLException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the audit store out for other tools: {@code jsonl} and {@code csv} carry every column of every record
 * exactly as stored (so an auditor can recompute each record's hash from the export alone), {@code ocsf} maps
 * records to OCSF 1.1.0 class 6005 Datastore Activity for a SIEM, keeping the chain fields under
 * {@code unmapped}. Every format carries statement text and parameters, which are PHI.
 */
public final class AuditExport {

    public enum Format { JSONL, CSV, OCSF }

    static final String OCSF_VERSION = "1.1.0";
    private static final ObjectMapper JSON = new ObjectMapper().disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);

    private AuditExport() {
    }

    /** Writes the records with {@code since <= time < until} (either may be null); returns how many lines of data. */
    public static long write(AuditQueries queries, Format format, Instant since, Instant until, Writer out)
            throws SQLException, IOException {
        long[] n = {0};
        switch (format) {
            case JSONL -> queries.events(since, until, e -> {
                out.write(JSON.writeValueAsString(jsonColumns(e)));
                out.write('\n');
                n[0]++;
            });
            case CSV -> {
                out.write(String.join(",", AuditQueries.COLUMNS));
                out.write("\r\n");
                queries.events(since, until, e -> {
                    csvLine(e, out);
                    n[0]++;
                });
            }
            case OCSF -> queries.activities(since, until, (e, completion) -> {
                out.write(JSON.writeValueAsString(ocsf(e, completion)));
                out.write('\n');
                n[0]++;
            });
        }
        out.flush();
        return n[0];
    }

    /**
     * Writes the statements a search finds (each request record with its completion record, as stored), in the
     * same formats as {@link #write}: what the console's export buttons give for the filter on screen. Pages
     * through the store, so memory does not grow with the result. Returns how many lines of data.
     */
    public static long writeSearch(AuditQueries queries, Format format, AuditQueries.Filter filter, Writer out)
            throws SQLException, IOException {
        long n = 0;
        if (format == Format.CSV) {
            out.write(String.join(",", AuditQueries.COLUMNS));
            out.write("\r\n");
        }
        long after = 0;
        while (true) {
            AuditQueries.StatementPage page = queries.search(filter, new AuditQueries.Page(AuditQueries.MAX_LIMIT, after));
            for (AuditQueries.Statement st : page.statements()) {
                AuditQueries.Event request = queries.event(st.seq());
                AuditQueries.Event completion = st.completionSeq() == null ? null : queries.event(st.completionSeq());
                if (request == null) {
                    continue; // archived between the search and the read
                }
                if (format == Format.OCSF) {
                    out.write(JSON.writeValueAsString(ocsf(request, completion)));
                    out.write('\n');
                    n++;
                    continue;
                }
                for (AuditQueries.Event e : completion == null ? List.of(request) : List.of(request, completion)) {
                    if (format == Format.JSONL) {
                        out.write(JSON.writeValueAsString(jsonColumns(e)));
                        out.write('\n');
                    } else {
                        csvLine(e, out);
                    }
                    n++;
                }
            }
            if (page.nextAfter() == null) {
                break;
            }
            after = page.nextAfter();
        }
        out.flush();
        return n;
    }

    /** A record's columns for a JSON line: as stored, with {@code detail} as a JSON object ({@link #detailValue}). */
    private static Map<String, Object> jsonColumns(AuditQueries.Event e) {
        Map<String, Object> columns = new LinkedHashMap<>(e.columns());
        if (e.detail() != null) {
            columns.put("detail", detailValue(e.detail()));
        }
        return columns;
    }

    /**
     * A record's {@code detail} as the JSON object it holds, so that a reader of the export does not parse JSON
     * inside a JSON string. Only when writing that object compactly gives back the stored text byte for byte
     * (it does for every detail the gateway writes): the record hash covers the text, and an auditor recomputes
     * it from the export by writing the object compactly. Anything else stays the stored string.
     */
    static Object detailValue(String detail) {
        try {
            com.fasterxml.jackson.databind.JsonNode node = JSON.readTree(detail);
            if (node != null && node.isObject() && JSON.writeValueAsString(node).equals(detail)) {
                return node;
            }
        } catch (IOException e) {
            // not JSON: kept as the string it is
        }
        return detail;
    }

    private static void csvLine(AuditQueries.Event e, Writer out) throws IOException {
        boolean first = true;
        for (Object value : e.columns().values()) {
            if (!first) {
                out.write(',');
            }
            first = false;
            out.write(csvField(value));
        }
        out.write("\r\n");
    }

    /**
     * Writes to {@code file} through an owner-only temporary file in the same folder, moved into place when
     * complete: the export holds PHI, and a reader never sees half of it.
     */
    public static long writeFile(AuditQueries queries, Format format, Instant since, Instant until, Path file)
            throws SQLException, IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.getFileStore(dir).supportsFileAttributeView("posix")
                ? Files.createTempFile(dir, "." + file.getFileName(), ".tmp",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                : Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            long n;
            try (BufferedWriter out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                n = write(queries, format, since, until, out);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return n;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * RFC 4180: quoted when it holds a comma, quote, CR or LF, with quotes doubled; NULL is an empty field.
     * Values are not altered against spreadsheet formula injection: the export must match the hashed record.
     */
    static String csvField(Object value) {
        if (value == null) {
            return "";
        }
        String s = value.toString();
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\r') < 0 && s.indexOf('\n') < 0) {
            return s;
        }
        return '"' + s.replace("\"", "\"\"") + '"';
    }

    /** One OCSF Datastore Activity event: a statement (request with its completion) or a session record. */
    static Map<String, Object> ocsf(AuditQueries.Event e, AuditQueries.Event completion) {
        int activity = switch (e.kind()) {
            case "statement_requested" -> 4;                      // Query
            case "session_started", "connection_refused" -> 3;   // Connect (refused: a failed one)
            default -> 99;                                        // Other
        };
        String activityName = switch (activity) {
            case 4 -> "Query";
            case 3 -> "Connect";
            default -> e.kind();
        };
        var o = new LinkedHashMap<String, Object>();
        o.put("category_uid", 6);
        o.put("category_name", "Application Activity");
        o.put("class_uid", 6005);
        o.put("class_name", "Datastore Activity");
        o.put("activity_id", activity);
        o.put("activity_name", activityName);
        o.put("type_uid", 6005 * 100 + activity);
        o.put("severity_id", 1);
        o.put("severity", "Informational");
        long start = epochMillis(e.time());
        o.put("time", start);
        status(o, e, completion);
        if (completion != null) {
            long end = epochMillis(completion.time());
            o.put("start_time", start);
            o.put("end_time", end);
            if (completion.durationMicros() != null) {
                o.put("duration", completion.durationMicros() / 1000);
            }
        }
        if (e.subject() != null || e.issuer() != null || e.sessionId() != null) {
            var actor = new LinkedHashMap<String, Object>();
            if (e.subject() != null) {
                actor.put("user", Map.of("name", e.subject(), "uid", e.subject()));
            }
            if (e.issuer() != null) {
                actor.put("idp", Map.of("name", e.issuer()));
            }
            if (e.sessionId() != null) {
                actor.put("session", Map.of("uid", e.sessionId()));
            }
            o.put("actor", actor);
        }
        Map<String, Object> endpoint = endpoint(e.clientAddress());
        if (endpoint != null) {
            o.put("src_endpoint", endpoint);
        }
        if (e.upstream() != null) {
            o.put("database", Map.of("name", e.upstream()));
        }
        if (e.statement() != null) {
            o.put("query_info", Map.of("query_string", e.statement()));
        }
        o.put("metadata", Map.of("product", Map.of("name", "phigate", "vendor_name", "phigate"),
                "version", OCSF_VERSION, "uid", e.replica() + ":" + e.chainSeq()));
        o.put("unmapped", unmapped(e, completion));
        return o;
    }

    private static void status(Map<String, Object> o, AuditQueries.Event e, AuditQueries.Event completion) {
        String outcome;
        String sqlState;
        if ("statement_requested".equals(e.kind())) {
            outcome = completion == null ? null : completion.outcome();
            sqlState = completion == null ? null : completion.sqlState();
        } else if ("session_started".equals(e.kind())) {
            outcome = "ok";
            sqlState = null;
        } else if ("connection_refused".equals(e.kind())) {
            outcome = "refused";
            sqlState = e.sqlState();
        } else {
            return;
        }
        if (outcome == null) {
            o.put("status_id", 0);
            o.put("status", "Unknown");
            o.put("status_detail", "incomplete");
            return;
        }
        boolean ok = outcome.equals("ok");
        o.put("status_id", ok ? 1 : 2);
        o.put("status", ok ? "Success" : "Failure");
        if (sqlState != null) {
            o.put("status_code", sqlState);
        }
        o.put("status_detail", outcome);
    }

    private static Map<String, Object> unmapped(AuditQueries.Event e, AuditQueries.Event completion) {
        var u = new LinkedHashMap<String, Object>();
        u.put("kind", e.kind());
        u.put("seq", e.seq());
        u.put("replica", e.replica());
        u.put("chain_seq", e.chainSeq());
        u.put("prev_hash", e.prevHash());
        u.put("hash", e.hash());
        if (e.statementId() != null) {
            u.put("statement_id", e.statementId());
        }
        if (e.parameters() != null) {
            // Kept as stored (a JSON array in a string) so it matches what the record hash covers.
            u.put("parameters", e.parameters());
        }
        if (e.detail() != null) {
            u.put("detail", detailValue(e.detail()));
        }
        if (completion != null) {
            var c = new LinkedHashMap<String, Object>();
            c.put("seq", completion.seq());
            c.put("time", completion.time());
            c.put("outcome", completion.outcome());
            c.put("command_tag", completion.commandTag());
            c.put("row_count", completion.rowCount());
            c.put("duration_us", completion.durationMicros());
            c.put("replica", completion.replica());
            c.put("chain_seq", completion.chainSeq());
            c.put("prev_hash", completion.prevHash());
            c.put("hash", completion.hash());
            u.put("completion", c);
        }
        return u;
    }

    /**
     * The gateway writes {@code host:port} with the host as {@code getHostAddress()} gives it (IPv6 unbracketed,
     * so the port is after the last colon); brackets are accepted too. Null when absent.
     */
    static Map<String, Object> endpoint(String address) {
        if (address == null || address.isEmpty()) {
            return null;
        }
        int colon = address.lastIndexOf(':');
        String host = address;
        Integer port = null;
        if (colon > 0) {
            try {
                port = Integer.parseInt(address.substring(colon + 1));
                host = address.substring(0, colon);
            } catch (NumberFormatException e) {
                // Not host:port; keep the whole value as the address.
            }
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.startsWith("/")) {
            host = host.substring(1);
        }
        var m = new LinkedHashMap<String, Object>();
        m.put("ip", host);
        if (port != null) {
            m.put("port", port);
        }
        return m;
    }

    private static long epochMillis(String time) {
        return Instant.parse(time).toEpochMilli();
    }
}
