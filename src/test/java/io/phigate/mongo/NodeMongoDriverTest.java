package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.phigate.approval.ApprovalRequest;
import io.phigate.clients.ClientTools;
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
 * The official Node.js driver ({@code mongodb} on npm), unmodified, through the document-store front door: SASL
 * PLAIN with the agent's token, inserts, a find read in getMores with its PHI masked, an aggregation, and a drop
 * held until a human approves it. {@code .ci/run} installs the driver into target/node-clients; elsewhere the test
 * skips when it is absent, unless PHIGATE_REQUIRE_CLIENTS is set.
 */
class NodeMongoDriverTest {
    private static final String SCRIPT = """
            const { MongoClient } = require('mongodb');
            (async () => {
              const client = new MongoClient('mongodb://127.0.0.1:' + process.env.PORT + '/?directConnection=true',
                { auth: { username: 'triage-agent', password: process.env.TOKEN }, authMechanism: 'PLAIN',
                  authSource: '$external', serverSelectionTimeoutMS: 5000 });
              await client.connect();
              const db = client.db('clinic');
              const patients = db.collection('patients');
              await patients.insertMany(Array.from({ length: 300 }, (_, i) => ({ _id: i,
                ssn: '123-45-' + String(i).padStart(4, '0'), ward: i % 3 ? 'neuro' : 'cardio',
                contacts: [{ kind: 'home', phone: '555-' + (1000 + i) }] })));
              const out = {};
              const found = await patients.find({ ward: 'cardio' }).sort({ _id: 1 }).batchSize(25).toArray();
              out.found = found.length;
              out.masked = found.every(d => d.ssn === '[SSN]' && d.contacts[0].phone === '[PHONE]');
              out.sample = found[1];
              out.wards = await patients.aggregate([{ $group: { _id: '$ward', n: { $sum: 1 } } }, { $sort: { _id: 1 } }])
                .toArray();
              try { await patients.find({ ssn: /^123/ }).toArray(); } catch (e) { out.refused = e.code; }
              await db.collection('scratch').insertOne({ x: 1 });
              out.dropped = await db.collection('scratch').drop();
              console.log(JSON.stringify(out));
              await client.close();
            })().catch(e => { console.error(e.message); process.exit(1); });
            """;

    @TempDir
    Path dir;

    @Test
    void theNodeDriverRunsASessionWithMaskingCursorsAndAHeldDrop() throws Exception {
        Path node = ClientTools.find("node");
        Path modules = Path.of(System.getenv().getOrDefault("PHIGATE_NODE_MODULES", "target/node-clients/node_modules"))
                .toAbsolutePath();
        boolean present = Files.isDirectory(modules.resolve("mongodb"));
        if (!present && System.getenv("PHIGATE_REQUIRE_CLIENTS") != null) {
            throw new IllegalStateException("the mongodb driver is required but not installed in " + modules
                    + " (npm install --prefix target/node-clients mongodb@6)");
        }
        assumeTrue(present, "the mongodb driver is not installed in " + modules);
        Policy policy = new Policy(Map.of(), new Policy.Masking(null, Map.of()), List.of(),
                Map.of("stewards", new Policy.ApproverGroup(new Match(null, "*@hospital.example", Map.of()), null)),
                List.of(new RiskRule("drops", new RiskRule.When(Set.of(Operation.DDL), List.of(), List.of(), false,
                        false, List.of()), new RiskRule.Approval("stewards", 1, Duration.ofSeconds(30),
                        RiskRule.Mode.HOLD, null, 1), null)));
        DocumentCatalog catalog = new DocumentCatalog(Map.of("clinic.patients", Map.of("ssn", PhiType.SSN,
                "contacts.phone", PhiType.PHONE)));
        try (MongoHarness gateway = new MongoHarness(dir, null, new DocumentPolicy(catalog, policy, null))) {
            Path script = Files.writeString(dir.resolve("client.js"), SCRIPT);
            CompletableFuture<ClientTools.Result> run = CompletableFuture.supplyAsync(() -> {
                try {
                    return ClientTools.run(Map.of("NODE_PATH", modules.toString(), "PORT",
                            String.valueOf(gateway.port()), "TOKEN", gateway.token()), dir, node.toString(),
                            script.toString());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            ApprovalRequest drop = awaitPending(gateway, run);
            assertThat(drop.text()).startsWith("{\"drop\": \"scratch\"");
            gateway.approvals.decide(drop.id(), HeldCommandsTest.APPROVER, true, "scratch data");

            ClientTools.Result r = run.get(60, TimeUnit.SECONDS);
            assertThat(r.exitCode()).as(r.output()).isZero();
            assertThat(r.output()).contains("\"found\":100", "\"masked\":true", "\"refused\":13", "\"dropped\":true",
                    "{\"_id\":\"cardio\",\"n\":100}", "{\"_id\":\"neuro\",\"n\":200}")
                    .doesNotContain("123-45-", "555-1");
            assertThat(gateway.auditEventually("kind = 'statement_completed' and command_tag = 'getMore'", 3))
                    .hasSizeGreaterThanOrEqualTo(3);
            assertThat(gateway.sink.violations).isEmpty();
        }
    }

    static ApprovalRequest awaitPending(MongoHarness gateway, CompletableFuture<ClientTools.Result> run)
            throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline && !run.isDone()) {
            List<ApprovalRequest> open = gateway.approvals.all(ApprovalRequest.State.PENDING);
            if (!open.isEmpty()) {
                return open.getFirst();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the drop was never held: " + (run.isDone() ? run.get().output() : "timed out"));
    }
}
