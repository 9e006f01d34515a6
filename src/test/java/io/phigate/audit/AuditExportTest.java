package io.phigate.audit;

import static java.nio.file.attribute.PosixFilePermission.OWNER_READ;
import static java.nio.file.attribute.PosixFilePermission.OWNER_WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditExportTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private AuditQueries queries;

    @BeforeEach
    void store() throws Exception {
        queries = AuditQueries.sqlite(AuditFixture.write(dir.resolve("audit.db")));
    }

    private List<JsonNode> lines(AuditExport.Format format, java.time.Instant since, java.time.Instant until)
            throws Exception {
        var out = new StringWriter();
        long n = AuditExport.write(queries, format, since, until, out);
        var nodes = new ArrayList<JsonNode>();
        for (String line : out.toString().split("\n")) {
            if (!line.isEmpty()) {
                nodes.add(JSON.readTree(line));
            }
        }
        assertThat(nodes).hasSize((int) n);
        return nodes;
    }

    @Test
    void jsonlHasOneObjectPerRecordWithEveryColumnAsStored() throws Exception {
        List<JsonNode> rows = lines(AuditExport.Format.JSONL, null, null);
        assertThat(rows).hasSize(AuditFixture.ROWS);
        for (JsonNode row : rows) {
            assertThat(row.fieldNames()).toIterable().containsExactlyElementsOf(AuditQueries.COLUMNS);
            assertThat(row.get("hash").asText()).hasSize(64);
            assertThat(row.get("replica").asText()).isNotEmpty();
        }
        assertThat(rows).extracting(r -> r.get("seq").asLong()).isSorted();
        JsonNode request = rows.stream().filter(r -> r.get("statement").asText("").contains("mrn = $1"))
                .findFirst().orElseThrow();
        assertThat(request.get("parameters").asText()).as("kept as the hashed string").isEqualTo("[\"MRN-0042\"]");
        assertThat(request.get("statement").asText()).isEqualTo("SELECT * FROM patients WHERE mrn = $1");
        assertThat(request.get("prev_hash").asText()).hasSize(64);

        JsonNode withDetail = rows.stream().filter(r -> !r.get("detail").isNull()).findFirst().orElseThrow();
        assertThat(withDetail.get("detail").isObject()).as("detail is a JSON object, not JSON in a string").isTrue();
        assertThat(rows).filteredOn(r -> !r.get("detail").isNull())
                .allSatisfy(r -> assertThat(r.get("detail").isObject()).isTrue());
        assertThat(AuditExport.detailValue("{\"a\": 1}")).as("kept as stored when compact output differs")
                .isEqualTo("{\"a\": 1}");

        assertThat(lines(AuditExport.Format.JSONL, AuditFixture.t(0), AuditFixture.t(7))).as("session A but its end")
                .hasSize(7).allSatisfy(r -> assertThat(r.get("session_id").asText()).isEqualTo(AuditFixture.A));
    }

    @Test
    void csvIsRfc4180WithHeaderAndQuotedCommasQuotesAndNewlines() throws Exception {
        var out = new StringWriter();
        AuditExport.write(queries, AuditExport.Format.CSV, null, null, out);
        List<List<String>> records = parseCsv(out.toString());
        assertThat(records.getFirst()).containsExactlyElementsOf(AuditQueries.COLUMNS);
        assertThat(records).hasSize(1 + AuditFixture.ROWS).allSatisfy(r -> assertThat(r).hasSize(AuditQueries.COLUMNS.size()));
        int statement = AuditQueries.COLUMNS.indexOf("statement");
        assertThat(records).extracting(r -> r.get(statement)).contains(AuditFixture.TRICKY);
        assertThat(out.toString()).contains("\"UPDATE patients SET note = 'a,b \"\"c\"\"\r\nline2' WHERE id = $1\"");
        int parameters = AuditQueries.COLUMNS.indexOf("parameters");
        assertThat(records).extracting(r -> r.get(parameters)).contains("[\"MRN-0042\"]", "[null]");
        assertThat(out.toString()).endsWith("\r\n");
    }

    @Test
    void ocsfIsDatastoreActivityWithStatementsFoldedAndChainFieldsKept() throws Exception {
        List<JsonNode> events = lines(AuditExport.Format.OCSF, null, null);
        assertThat(events).hasSize(AuditFixture.ROWS - AuditFixture.COMPLETIONS);
        assertThat(events).allSatisfy(e -> {
            assertThat(e.get("category_uid").asInt()).isEqualTo(6);
            assertThat(e.get("class_uid").asInt()).isEqualTo(6005);
            assertThat(e.get("type_uid").asInt()).isEqualTo(600500 + e.get("activity_id").asInt());
            assertThat(e.at("/metadata/product/name").asText()).isEqualTo("phigate");
            assertThat(e.at("/metadata/product/vendor_name").asText()).isEqualTo("phigate");
            assertThat(e.at("/metadata/version").asText()).isEqualTo("1.1.0");
            assertThat(e.at("/unmapped/hash").asText()).hasSize(64);
            assertThat(e.at("/unmapped/prev_hash").asText()).hasSize(64);
            assertThat(e.at("/unmapped/chain_seq").asLong()).isPositive();
            assertThat(e.at("/unmapped/replica").asText()).isNotEmpty();
        });
        assertThat(events).extracting(e -> e.get("activity_id").asInt())
                .containsExactly(3, 4, 4, 4, 3, 3, 4, 4, 4, 99);

        JsonNode query = events.get(1);
        assertThat(query.get("time").asLong()).isEqualTo(AuditFixture.t(101).toEpochMilli());
        assertThat(query.at("/actor/user/name").asText()).isEqualTo(AuditFixture.AGENT_B);
        assertThat(query.at("/actor/user/uid").asText()).isEqualTo(AuditFixture.AGENT_B);
        assertThat(query.at("/actor/idp/name").asText()).isEqualTo("https://other.test");
        assertThat(query.at("/src_endpoint/ip").asText()).isEqualTo("0:0:0:0:0:0:0:1");
        assertThat(query.at("/src_endpoint/port").asInt()).isEqualTo(6000);
        assertThat(query.at("/database/name").asText()).isEqualTo("billing");
        assertThat(query.at("/query_info/query_string").asText()).isEqualTo("SELECT 100 AS pct");
        assertThat(query.get("status").asText()).isEqualTo("Success");
        assertThat(query.at("/unmapped/completion/hash").asText()).hasSize(64);
        assertThat(events).filteredOn(e -> e.at("/unmapped/detail").isContainerNode() || e.at("/unmapped/detail").isTextual())
                .isNotEmpty().allSatisfy(e -> assertThat(e.at("/unmapped/detail").isObject()).isTrue());

        JsonNode refused = events.get(2);
        assertThat(refused.get("status").asText()).isEqualTo("Failure");
        assertThat(refused.get("status_code").asText()).isEqualTo("42501");
        assertThat(events.get(3).get("status").asText()).as("never completed").isEqualTo("Unknown");

        JsonNode connect = events.get(5);
        assertThat(connect.get("activity_name").asText()).isEqualTo("Connect");
        assertThat(connect.at("/src_endpoint/ip").asText()).isEqualTo("10.0.0.7");
        assertThat(connect.at("/src_endpoint/port").asInt()).isEqualTo(5544);
        JsonNode error = events.get(8);
        assertThat(error.get("status_code").asText()).isEqualTo("42P01");
        assertThat(error.at("/unmapped/parameters").isMissingNode()).isTrue();
        assertThat(events.get(6).at("/unmapped/parameters").asText()).isEqualTo("[\"MRN-0042\"]");
    }

    @Test
    void exportFileIsOwnerOnlyAndReplacedWhole() throws Exception {
        Path file = dir.resolve("out/export.jsonl");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "old");
        long n = AuditExport.writeFile(queries, AuditExport.Format.JSONL, null, null, file);
        assertThat(n).isEqualTo(AuditFixture.ROWS);
        assertThat(Files.getPosixFilePermissions(file)).containsExactlyInAnyOrder(OWNER_READ, OWNER_WRITE);
        assertThat(Files.readAllLines(file)).hasSize(AuditFixture.ROWS);
        try (var listing = Files.list(file.getParent())) {
            assertThat(listing).containsExactly(file);
        }
    }

    /** A strict RFC 4180 reader: CRLF record ends, quoted fields with doubled quotes. */
    static List<List<String>> parseCsv(String text) {
        var records = new ArrayList<List<String>>();
        var record = new ArrayList<String>();
        var field = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '"' && field.isEmpty()) {
                i++;
                while (true) {
                    char q = text.charAt(i++);
                    if (q == '"') {
                        if (i < text.length() && text.charAt(i) == '"') {
                            field.append('"');
                            i++;
                        } else {
                            break;
                        }
                    } else {
                        field.append(q);
                    }
                }
            } else if (c == ',') {
                record.add(field.toString());
                field.setLength(0);
                i++;
            } else if (c == '\r' && text.charAt(i + 1) == '\n') {
                record.add(field.toString());
                field.setLength(0);
                records.add(record);
                record = new ArrayList<>();
                i += 2;
            } else {
                assertThat(c).as("bare CR, LF or quote outside a quoted field").isNotIn('\r', '\n', '"');
                field.append(c);
                i++;
            }
        }
        assertThat(record).isEmpty();
        return records;
    }
}
