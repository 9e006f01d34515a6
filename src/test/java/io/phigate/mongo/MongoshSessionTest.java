package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.phigate.approval.ApprovalRequest;
import io.phigate.clients.ClientTools;
import io.phigate.demo.DemoDocumentStore;
import io.phigate.mask.DocumentCatalog;
import io.phigate.mask.PhiType;
import io.phigate.mongo.masking.DocumentPolicy;
import io.phigate.policy.Match;
import io.phigate.policy.Policy;
import io.phigate.policy.RiskRule;
import io.phigate.sql.Operation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * mongosh, MongoDB's own shell, unmodified, through the document-store front door: it authenticates with the
 * agent's token (SASL PLAIN), sends its start-up commands, and runs a script an agent might run, while the gateway
 * masks a tagged collection and holds a delete for approval ({@link MongoshClient} says where mongosh comes from).
 */
class MongoshSessionTest {
    /** What the agent runs; it prints one line of extended JSON so the assertions see exactly what mongosh got. */
    private static final String SCRIPT = """
            const clinic = db.getSiblingDB('clinic');
            const out = {};
            clinic.patients.insertMany(Array.from({ length: 10000 }, (_, i) => ({ _id: i,
              name: { given: 'Given' + i, family: 'Family' + i }, ssn: '123-45-' + String(i).padStart(4, '0'),
              birth_date: new Date(Date.UTC(1950 + i % 50, 5, 15)), ward: i % 4 ? 'neuro' : 'cardio',
              addresses: [{ kind: 'home', line: i + ' Elm Street' }] })));
            clinic.encounters.insertMany(Array.from({ length: 30 }, (_, i) => ({ _id: i, patient_id: i % 10,
              department: i % 2 ? 'radiology' : 'triage' })));
            out.top = clinic.patients.find({ ward: 'cardio' }, { name: 1, ssn: 1, birth_date: 1 })
              .sort({ _id: -1 }).limit(2).toArray();
            out.byDepartment = clinic.encounters.aggregate([
              { $lookup: { from: 'patients', localField: 'patient_id', foreignField: '_id', as: 'patient' } },
              { $unwind: '$patient' },
              { $group: { _id: '$department', visits: { $sum: 1 }, someone: { $min: '$patient.ssn' } } },
              { $sort: { _id: 1 } }]).toArray();
            let seen = 0, clear = 0;
            clinic.patients.find({}, { ssn: 1, addresses: 1 }).batchSize(1000).forEach(p => {
              seen++;
              if (p.ssn !== '[SSN]' || p.addresses[0].line !== '[ADDRESS]') clear++;
            });
            out.iterated = { seen, clear };
            out.updated = clinic.patients.updateMany({ ward: 'cardio' }, { $set: { ward: 'discharged' } }).modifiedCount;
            out.deleted = clinic.patients.deleteMany({ ward: 'discharged' }).deletedCount;
            out.left = clinic.patients.countDocuments({});
            print(EJSON.stringify(out, { relaxed: true }));
            """;

    @TempDir
    Path dir;

    @Test
    void mongoshRunsAnAgentsSessionWithMaskingACursorOfTenThousandAndAnApprovedDelete() throws Exception {
        Path mongosh = MongoshClient.find();
        Policy policy = new Policy(Map.of(), new Policy.Masking(null, Map.of()), List.of(),
                Map.of("stewards", new Policy.ApproverGroup(new Match(null, "*@hospital.example", Map.of()), null)),
                List.of(new RiskRule("patient-deletes", new RiskRule.When(Set.of(Operation.DELETE),
                        List.of("clinic.patients"), List.of(), false, false, List.of()), new RiskRule.Approval(
                        "stewards", 1, Duration.ofSeconds(60), RiskRule.Mode.HOLD, null, 1), null)));
        DocumentCatalog catalog = new DocumentCatalog(Map.of("clinic.patients", Map.of("ssn", PhiType.SSN,
                "name.given", PhiType.NAME, "name.family", PhiType.NAME, "birth_date", PhiType.DOB,
                "addresses.line", PhiType.ADDRESS)));
        // mongosh 2.12's driver (7.x) refuses servers older than 4.4, which mongo-java-server reports unless told.
        MongoServer store = new MongoServer(new MemoryBackend().version(DemoDocumentStore.REPORTED_VERSION));
        try (AutoCloseable stopStore = store::shutdownNow;
             MongoHarness gateway = new MongoHarness(dir, store.bind(), new DocumentPolicy(catalog, policy, null))) {
            Path script = Files.writeString(dir.resolve("agent.js"), SCRIPT);
            CompletableFuture<ClientTools.Result> run = CompletableFuture.supplyAsync(() -> {
                try {
                    return MongoshClient.run(mongosh, dir, List.of("mongodb://127.0.0.1:" + gateway.port()
                            + "/clinic?directConnection=true&authMechanism=PLAIN&authSource=%24external"
                            + "&serverSelectionTimeoutMS=5000", "--username", "triage-agent", "--password",
                            gateway.token(), "--quiet", "--norc", "--file", script.toString()));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            ApprovalRequest delete = NodeMongoDriverTest.awaitPending(gateway, run);
            assertThat(delete.text()).startsWith("{\"delete\": \"patients\"");
            gateway.approvals.decide(delete.id(), HeldCommandsTest.APPROVER, true, "discharged patients");

            ClientTools.Result r = run.get(120, TimeUnit.SECONDS);
            assertThat(r.exitCode()).as(r.output()).isZero();
            // The whole line, exactly: masked values in place, a date of birth cut to its year, every count right.
            assertThat(r.output().lines().filter(l -> l.startsWith("{"))).containsExactly("{\"top\":["
                    + "{\"_id\":9996,\"name\":{\"given\":\"[NAME]\",\"family\":\"[NAME]\"},\"ssn\":\"[SSN]\","
                    + "\"birth_date\":{\"$date\":\"1996-01-01T00:00:00Z\"}},"
                    + "{\"_id\":9992,\"name\":{\"given\":\"[NAME]\",\"family\":\"[NAME]\"},\"ssn\":\"[SSN]\","
                    + "\"birth_date\":{\"$date\":\"1992-01-01T00:00:00Z\"}}],"
                    + "\"byDepartment\":[{\"_id\":\"radiology\",\"visits\":15,\"someone\":\"[SSN]\"},"
                    + "{\"_id\":\"triage\",\"visits\":15,\"someone\":\"[SSN]\"}],"
                    + "\"iterated\":{\"seen\":10000,\"clear\":0},\"updated\":2500,\"deleted\":2500,\"left\":7500}");
            assertThat(r.output()).doesNotContain("123-45-", "Given", "Family", "Elm Street", "-06-15");
            assertThat(gateway.sink.violations).isEmpty();

            // The audit store: every command of the agent, the PHI each read, what was masked, the held delete.
            assertThat(gateway.audit("kind = 'statement_requested'")).isNotEmpty()
                    .allSatisfy(row -> assertThat(row.get("subject")).isEqualTo(MongoHarness.AGENT));
            assertThat(gateway.audit("kind = 'statement_requested' and statement like '{\"find\": \"patients\"%'"))
                    .hasSize(2).allSatisfy(row -> assertThat(String.valueOf(row.get("detail")))
                            .contains("\"clinic.patients.ssn\":\"ssn\""));
            List<Map<String, Object>> finds = gateway.auditEventually(
                    "kind = 'statement_completed' and command_tag in ('find', 'getMore')", 11);
            assertThat(finds).allSatisfy(row -> assertThat(new String((byte[]) row.get("response"),
                    java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain("123-45-", "Elm Street"));
            assertThat(finds.stream().filter(row -> "find".equals(row.get("command_tag"))))
                    .allSatisfy(row -> assertThat(String.valueOf(row.get("detail"))).contains("ssn(ssn)=redact"));
            assertThat(finds.stream().filter(row -> !"find".equals(row.get("command_tag")))
                    .mapToLong(row -> ((Number) row.get("row_count")).longValue()).sum())
                    .as("the 10,000 documents after the first batch came through getMores").isEqualTo(9000);
            assertThat(gateway.audit("kind = 'statement_completed' and command_tag = 'aggregate'"))
                    .anySatisfy(row -> assertThat(String.valueOf(row.get("detail"))).contains("someone(ssn)=redact"));
            // mongosh's own start-up commands (buildInfo, getParameter, the Atlas probes) are answered or refused,
            // never met by a closed connection: every connection it opened, it closed itself.
            assertThat(gateway.auditEventually("kind = 'session_ended'", 2)).allSatisfy(row -> assertThat(
                    String.valueOf(row.get("detail"))).contains("\"reason\":\"client closed the connection\""));
            assertThat(gateway.auditEventually("kind in ('approval_decided', 'statement_completed')"
                    + " and (kind = 'approval_decided' or command_tag = 'delete')", 3))
                    .extracting(row -> row.get("kind") + " " + row.get("outcome"))
                    .containsExactly("approval_decided approved", "approval_decided used", "statement_completed ok");
        }
    }
}
