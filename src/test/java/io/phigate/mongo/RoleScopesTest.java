package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.MongoCommandException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import io.phigate.mask.DocumentCatalog;
import io.phigate.mongo.masking.DocumentPolicy;
import io.phigate.policy.Match;
import io.phigate.policy.Policy;
import io.phigate.policy.Role;
import io.phigate.sql.Operation;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decision 0090: a role's {@code allow} rules (tables and operations) and its time windows govern its document-store
 * commands as they govern its SQL statements. Before, the document store read only the role's reach and masking: a
 * role allowed to {@code select} wrote, deleted and dropped through the Java driver.
 */
class RoleScopesTest {
    @TempDir
    Path dir;
    MongoHarness gateway;
    MongoClient direct;
    Policy policy;

    @BeforeEach
    void start() throws Exception {
        Role reader = new Role("reader", new Match(null, "reader", Map.of()), List.of("*"),
                List.of(new Role.Allow(List.of("clinic.*"), Set.of(Operation.SELECT)),
                        new Role.Allow(List.of("clinic.scratch"), Set.of(Operation.SELECT, Operation.INSERT))),
                Set.of(), Map.of(), Role.Justification.OPTIONAL, 0, List.of(), null);
        // A window that is never open: no day of the week.
        Role closed = new Role("night", new Match(null, "night", Map.of()), List.of("*"), List.of(), Set.of(),
                Map.of(), Role.Justification.OPTIONAL, 0, List.of(new Role.TimeWindow(EnumSet.noneOf(DayOfWeek.class),
                LocalTime.of(0, 0), LocalTime.of(23, 59), ZoneOffset.UTC)), null);
        Role careful = new Role("careful", new Match(null, "careful", Map.of()), List.of("*"), List.of(), Set.of(),
                Map.of(), Role.Justification.REQUIRED, 0, List.of(), null);
        Role unscoped = new Role("anyone", new Match(null, "*", Map.of()), List.of("*"), List.of(), Set.of(),
                Map.of(), Role.Justification.OPTIONAL, 0, List.of(), null);
        policy = new Policy(Map.of(), new Policy.Masking(null, Map.of()), List.of(reader, closed, careful, unscoped));
        gateway = new MongoHarness(dir, null, new DocumentPolicy(DocumentCatalog.EMPTY, policy, null));
        direct = MongoClients.create("mongodb://127.0.0.1:" + gateway.storeAddress.getPort());
        direct.getDatabase("clinic").getCollection("patients").insertMany(List.of(new Document("_id", 1)
                .append("mrn", "A1"), new Document("_id", 2).append("mrn", "B2")));
        direct.getDatabase("billing").getCollection("invoices").insertOne(new Document("_id", 1));
    }

    @AfterEach
    void stop() throws Exception {
        direct.close();
        gateway.close();
    }

    private MongoClient as(String subject) throws Exception {
        return gateway.driver("serverSelectionTimeoutMS=5000&retryWrites=false", gateway.tokenFor(subject));
    }

    @Test
    void aRoleAllowedToSelectNeitherWritesNorDropsNorReadsOutsideItsTables() throws Exception {
        List<String> attacks = List.of(
                "{insert: 'patients', documents: [{_id: 3}]}",
                "{update: 'patients', updates: [{q: {_id: 1}, u: {$set: {mrn: 'X'}}}]}",
                "{delete: 'patients', deletes: [{q: {}, limit: 0}]}",
                "{findAndModify: 'patients', query: {_id: 1}, update: {}}",
                "{findAndModify: 'patients', query: {_id: 1}, remove: true}",
                "{drop: 'patients'}",
                "{createIndexes: 'patients', indexes: [{key: {t: 1}, name: 't', expireAfterSeconds: 0}]}",
                "{aggregate: 'scratch', pipeline: [{$merge: 'patients'}], cursor: {}}",
                "{aggregate: 'patients', pipeline: [{$out: 'copy'}], cursor: {}}",
                "{create: 'mine', viewOn: 'patients', pipeline: []}",
                "{dropDatabase: 1}",
                "{find: 'invoices', filter: {}, $db: 'billing'}",
                "{aggregate: 'patients', pipeline: [{$lookup: {from: {db: 'billing', coll: 'invoices'},"
                        + " pipeline: [], as: 'i'}}], cursor: {}}");
        try (MongoClient client = as("reader")) {
            MongoDatabase clinic = client.getDatabase("clinic");
            assertThat(clinic.getCollection("patients").find().into(new ArrayList<>())).hasSize(2);
            int before = gateway.relay.commands.size();
            refusedAsReader(client, attacks);
            assertThat(gateway.relay.commands.subList(before, gateway.relay.commands.size()))
                    .as("no refused command reached the store").isEmpty();
            // What the role allows still runs: reads, and inserts into its scratch collection.
            clinic.getCollection("scratch").insertOne(new Document("_id", 1));
            assertThat(clinic.getCollection("patients").countDocuments()).isEqualTo(2);
            assertThat(clinic.listCollectionNames().into(new ArrayList<>())).contains("patients");
        }
        assertThat(direct.getDatabase("clinic").getCollection("patients").countDocuments()).isEqualTo(2);
        assertThat(direct.getDatabase("clinic").listCollectionNames().into(new ArrayList<>()))
                .doesNotContain("copy", "mine");
        assertThat(gateway.auditEventually("kind = 'statement_completed' and outcome = 'refused'", attacks.size()))
                .hasSize(attacks.size());
    }

    /**
     * An attacker's review of 0090: commands the scope read as touching nothing, or read by a shape the server does
     * not use. An explained {@code $out}/{@code $merge} or mapReduce was judged a select (mongod before 4.2 runs the
     * write at executionStats); a mapReduce {@code out} holding {@code inline} beside {@code replace} was judged
     * inline (the server reads the first field); collStats and dbStats answer a collection's or a database's count,
     * which {@code count} needs select for; listIndexes named a collection no rule names (the SQL side refuses a
     * utility statement on a table outside every rule).
     */
    @Test
    void commandsTheScopeReadAsHarmlessAreJudgedByWhatTheServerDoes() throws Exception {
        List<String> attacks = List.of(
                "{explain: {aggregate: 'patients', pipeline: [{$out: 'copy'}], cursor: {}}, verbosity: 'executionStats'}",
                "{explain: {aggregate: 'patients', pipeline: [{$merge: {into: 'copy'}}], cursor: {}},"
                        + " verbosity: 'executionStats'}",
                "{explain: {mapReduce: 'patients', map: 'function() {}', reduce: 'function() {}', out: 'copy'},"
                        + " verbosity: 'executionStats'}",
                "{mapReduce: 'patients', map: 'function() {}', reduce: 'function() {}',"
                        + " out: {replace: 'copy', inline: 1}}",
                "{collStats: 'invoices', $db: 'billing'}",
                "{dbStats: 1, $db: 'billing'}",
                "{listIndexes: 'invoices', $db: 'billing'}");
        try (MongoClient client = as("reader")) {
            int before = gateway.relay.commands.size();
            refusedAsReader(client, attacks);
            assertThat(reached(before)).as("no refused command reached the store").isEmpty();
            // In its scope they still run: a collection's count and indexes, the database's stats.
            MongoDatabase clinic = client.getDatabase("clinic");
            for (String json : List.of("{collStats: 'patients'}", "{dbStats: 1}", "{listIndexes: 'patients'}")) {
                try {
                    clinic.runCommand(Document.parse(json));
                } catch (MongoCommandException e) {
                    assertThat(e.getErrorMessage()).as(json).doesNotStartWith("phigate"); // the store may not know it
                }
            }
            assertThat(reached(before)).containsExactly("collStats", "dbStats", "listIndexes");
        }
        assertThat(gateway.auditEventually("kind = 'statement_completed' and outcome = 'refused'", attacks.size()))
                .hasSize(attacks.size());
    }

    /**
     * mongosh, unmodified, under the select-only role: its start-up commands and an agent's reads run as before the
     * scope (the scope makes no real client's session fail), and a write is refused with the role's name.
     */
    @Test
    void mongoshStartsReadsAndIsRefusedAWriteUnderAScopedRole() throws Exception {
        Path mongosh = MongoshClient.find();
        de.bwaldvogel.mongo.MongoServer store = new de.bwaldvogel.mongo.MongoServer(
                new de.bwaldvogel.mongo.backend.memory.MemoryBackend()
                        .version(io.phigate.demo.DemoDocumentStore.REPORTED_VERSION));
        Path shell = java.nio.file.Files.createDirectories(dir.resolve("mongosh"));
        try (AutoCloseable stopStore = store::shutdownNow;
             MongoHarness scoped = new MongoHarness(shell, store.bind(), new DocumentPolicy(DocumentCatalog.EMPTY,
                     policy, null))) {
            Path script = java.nio.file.Files.writeString(shell.resolve("agent.js"), """
                    const clinic = db.getSiblingDB('clinic');
                    const out = { names: clinic.getCollectionNames(), count: clinic.patients.countDocuments({}),
                      found: clinic.patients.find({}).toArray().length, indexes: clinic.patients.getIndexes().length };
                    try { clinic.patients.insertOne({ _id: 9 }); out.inserted = true; }
                    catch (e) { out.refused = e.code + ' ' + e.message; }
                    print(EJSON.stringify(out, { relaxed: true }));
                    """);
            io.phigate.clients.ClientTools.Result r = MongoshClient.run(mongosh, shell, List.of("mongodb://127.0.0.1:"
                    + scoped.port() + "/clinic?directConnection=true&authMechanism=PLAIN&authSource=%24external"
                    + "&serverSelectionTimeoutMS=5000", "--username", "reader", "--password",
                    scoped.tokenFor("reader"), "--quiet", "--norc", "--file", script.toString()));
            assertThat(r.exitCode()).as(r.output()).isZero();
            assertThat(r.output()).as(r.output()).contains("\"count\":0", "\"found\":0", "\"refused\":\"13 ",
                    "role \\\"reader\\\"").doesNotContain("\"inserted\"");
            assertThat(scoped.auditEventually("kind = 'session_ended'", 1)).allSatisfy(row -> assertThat(
                    String.valueOf(row.get("detail"))).contains("\"reason\":\"client closed the connection\""));
        }
    }

    /** What reached the store since {@code before}, but the gateway's own hellos to it (its monitoring). */
    private List<String> reached(int before) {
        return gateway.relay.commands.subList(before, gateway.relay.commands.size()).stream()
                .filter(c -> !c.equals("isMaster") && !c.equals("hello")).toList();
    }

    /**
     * The scope is an allow list too: a command it has not classified (one a later change forwards without reading
     * it here) is refused, not taken as touching nothing; and a bare collection name in a rule names that collection
     * in any database, not a collection whose name ends in {@code .patients}.
     */
    @Test
    void anUnclassifiedCommandIsRefusedAndABareNameIsOneCollection() {
        Role reader = new Role("reader", new Match(null, "reader", Map.of()), List.of("*"),
                List.of(new Role.Allow(List.of("patients"), Set.of(Operation.SELECT, Operation.INSERT))), Set.of(),
                Map.of(), Role.Justification.OPTIONAL, 0, List.of(), null);
        java.time.Instant now = java.time.Instant.now();
        for (String json : List.of("{validate: 'patients', $db: 'clinic'}", "{compact: 'patients', $db: 'clinic'}",
                "{applyOps: [], $db: 'admin'}", "{bulkWrite: 1, ops: [{remove: 0, filter: {}}],"
                        + " nsInfo: [{ns: 'clinic.patients'}], $db: 'admin'}")) {
            org.bson.BsonDocument body = org.bson.BsonDocument.parse(json);
            assertThat(CommandScope.refusal(reader, null, read(body), body, now)).as(json).isNotNull();
        }
        org.bson.BsonDocument insert = org.bson.BsonDocument.parse("{insert: 'patients', documents: [{}],"
                + " $db: 'clinic'}");
        assertThat(CommandScope.refusal(reader, null, read(insert), insert, now)).isNull();
        org.bson.BsonDocument dotted = org.bson.BsonDocument.parse("{insert: 'archive.patients', documents: [{}],"
                + " $db: 'clinic'}");
        assertThat(CommandScope.refusal(reader, null, read(dotted), dotted, now)).contains("clinic.archive.patients");
        org.bson.BsonDocument ping = org.bson.BsonDocument.parse("{ping: 1, $db: 'admin'}");
        assertThat(CommandScope.refusal(reader, null, read(ping), ping, now)).isNull();
    }

    /** Each command (in clinic unless it names {@code $db}) is refused as Unauthorized, naming the role's rules. */
    private static void refusedAsReader(MongoClient client, List<String> commands) {
        for (String json : commands) {
            Document command = Document.parse(json);
            String db = command.containsKey("$db") ? (String) command.remove("$db") : "clinic";
            assertThatThrownBy(() -> client.getDatabase(db).runCommand(command)).as(json)
                    .isInstanceOfSatisfying(MongoCommandException.class, e -> {
                        assertThat(e.getErrorCode()).as(json).isEqualTo(13);
                        assertThat(e.getErrorMessage()).as(json).contains("role \"reader\"", "allow");
                    });
        }
    }

    @Test
    void aRoleOutsideItsWindowsRunsNothing() throws Exception {
        int before = gateway.relay.commands.size();
        try (MongoClient client = as("night")) {
            assertThatThrownBy(() -> client.getDatabase("clinic").getCollection("patients").find().first())
                    .satisfies(e -> assertThat(e).hasStackTraceContaining("outside its windows"));
        }
        assertThat(gateway.relay.commands.subList(before, gateway.relay.commands.size())).doesNotContain("find");
        assertThat(gateway.auditEventually("kind = 'connection_refused'", 1)).isNotEmpty();
    }

    @Test
    void aRoleRequiringAJustificationSignedInWithoutOneReadsNothing() throws Exception {
        int before = gateway.relay.commands.size();
        try (MongoClient client = as("careful")) {
            assertThatThrownBy(() -> client.getDatabase("clinic").getCollection("patients").find().first())
                    .isInstanceOfSatisfying(MongoCommandException.class, e -> {
                        assertThat(e.getErrorCode()).isEqualTo(13);
                        assertThat(e.getErrorMessage()).contains("justification is required");
                    });
            assertThat(client.getDatabase("clinic").listCollectionNames().into(new ArrayList<>())).isNotEmpty();
        }
        assertThat(gateway.relay.commands.subList(before, gateway.relay.commands.size())).doesNotContain("find");
    }

    /** A session admitted inside a window runs nothing once it closes: the windows are read per command too. */
    @Test
    void theWindowsAreReadPerCommand() {
        Role closed = new Role("night", new Match(null, "night", Map.of()), List.of("*"), List.of(), Set.of(),
                Map.of(), Role.Justification.OPTIONAL, 0, List.of(new Role.TimeWindow(EnumSet.noneOf(DayOfWeek.class),
                LocalTime.of(0, 0), LocalTime.of(23, 59), ZoneOffset.UTC)), null);
        org.bson.BsonDocument find = org.bson.BsonDocument.parse("{find: 'patients', $db: 'clinic'}");
        assertThat(CommandScope.refusal(closed, null, read(find), find, java.time.Instant.now()))
                .contains("outside its windows");
        org.bson.BsonDocument ping = org.bson.BsonDocument.parse("{ping: 1, $db: 'admin'}");
        assertThat(CommandScope.refusal(closed, null, read(ping), ping, java.time.Instant.now())).isNull();
    }

    /** A client bulkWrite is judged by the namespaces it writes (nsInfo), not by admin, where it runs. */
    @Test
    void aClientBulkWriteNeedsItsOperationsOnEveryNamespaceItWrites() {
        Role writer = new Role("writer", new Match(null, "writer", Map.of()), List.of("*"),
                List.of(new Role.Allow(List.of("clinic.*"), Set.of(Operation.INSERT))), Set.of(), Map.of(),
                Role.Justification.OPTIONAL, 0, List.of(), null);
        org.bson.BsonDocument inserts = org.bson.BsonDocument.parse("{bulkWrite: 1, ops: [{insert: 0, document: {}}],"
                + " nsInfo: [{ns: 'clinic.scratch'}], $db: 'admin'}");
        assertThat(CommandScope.refusal(writer, null, read(inserts), inserts, java.time.Instant.now())).isNull();
        org.bson.BsonDocument elsewhere = org.bson.BsonDocument.parse("{bulkWrite: 1, ops: [{insert: 0, document: {}},"
                + " {insert: 1, document: {}}], nsInfo: [{ns: 'clinic.scratch'}, {ns: 'billing.invoices'}],"
                + " $db: 'admin'}");
        assertThat(CommandScope.refusal(writer, null, read(elsewhere), elsewhere, java.time.Instant.now()))
                .contains("insert on billing.invoices");
        org.bson.BsonDocument deletes = org.bson.BsonDocument.parse("{bulkWrite: 1, ops: [{delete: 0, filter: {}}],"
                + " nsInfo: [{ns: 'clinic.scratch'}], $db: 'admin'}");
        assertThat(CommandScope.refusal(writer, null, read(deletes), deletes, java.time.Instant.now()))
                .contains("delete on clinic.scratch");
    }

    /** A role requiring a justification reads nothing without one, as its SQL statements are refused. */
    @Test
    void aRoleRequiringAJustificationReadsNothingWithoutOne() {
        Role careful = new Role("careful", new Match(null, "careful", Map.of()), List.of("*"), List.of(), Set.of(),
                Map.of(), Role.Justification.REQUIRED, 0, List.of(), null);
        org.bson.BsonDocument find = org.bson.BsonDocument.parse("{find: 'patients', $db: 'clinic'}");
        assertThat(CommandScope.refusal(careful, null, read(find), find, java.time.Instant.now()))
                .contains("justification is required");
        assertThat(CommandScope.refusal(careful, "ward round", read(find), find, java.time.Instant.now())).isNull();
    }

    private static io.phigate.mongo.command.Command read(org.bson.BsonDocument body) {
        try {
            return io.phigate.mongo.command.CommandReader.read(body);
        } catch (io.phigate.mongo.command.CommandException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aRoleWithoutAllowRulesIsNotScopedByThem() throws Exception {
        try (MongoClient client = as("someone")) {
            client.getDatabase("clinic").getCollection("patients").insertOne(new Document("_id", 3));
            client.getDatabase("billing").getCollection("invoices").drop();
        }
        assertThat(direct.getDatabase("clinic").getCollection("patients").countDocuments()).isEqualTo(3);
    }
}
