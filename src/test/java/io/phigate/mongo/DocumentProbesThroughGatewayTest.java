package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import io.phigate.mask.DocumentCatalog;
import io.phigate.mask.PhiType;
import io.phigate.mongo.masking.DocumentPolicy;
import io.phigate.mongo.masking.Probes;
import io.phigate.mongo.wire.Frame;
import io.phigate.mongo.wire.WireCodec;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import io.phigate.policy.Match;
import io.phigate.policy.Policy;
import io.phigate.policy.Role;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The masking probe suite ({@code probes.txt}) run through the gateway against mongo-java-server holding seeded
 * patients: every probe is sent as the client would send it (document sequences included), its replies and the
 * getMores of any cursor it opens are read as bytes, and then every collection of the database is read back through
 * the gateway as the same role (so a probe that copied PHI somewhere untagged is caught by the next read). For every
 * role that sees a type masked, no seeded value of that type may appear in any of those bytes, whether the server
 * ran the probe, failed it or the gateway refused it; a refused probe must be answered with the refusal it lists.
 * The server lacks some operators: a probe it cannot run still counts, since the gateway must refuse it before.
 */
class DocumentProbesThroughGatewayTest {
    static final DocumentCatalog CATALOG = new DocumentCatalog(Map.of(
            "clinic.patients", Map.of("ssn", PhiType.SSN, "name.given", PhiType.NAME, "address.street",
                    PhiType.ADDRESS, "contacts.$.phone", PhiType.PHONE, "age", PhiType.AGE),
            "clinic.visits", Map.of("patient_ssn", PhiType.SSN, "note", PhiType.FREE_TEXT)));
    static final int PATIENTS = 12;
    private static final Map<String, MongoHarness> GATEWAYS = new HashMap<>();
    private static Path dir;

    static List<Probes.Probe> probes() throws IOException {
        return Probes.load();
    }

    @AfterAll
    static void stop() throws Exception {
        for (MongoHarness h : GATEWAYS.values()) {
            h.close();
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("probes")
    void noSeededValueReachesTheClientAndRefusalsAreAnswered(Probes.Probe probe) throws Exception {
        MongoHarness gateway = gateway(probe.role());
        seed(gateway);
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        BsonDocument reply;
        try (RawMongoClient client = new RawMongoClient(gateway)) {
            client.authenticate(gateway.token());
            OpMsg msg = probe.message(7);
            int id = client.send(WireCodec.encode(msg));
            reply = readAll(client, id, msg.body().getString("$db", new BsonString("clinic")).getValue(), seen);
        }
        readBackEveryCollection(gateway, seen);
        Set<String> leaked = leaked(seen.toByteArray(), probe.role());
        assertThat(leaked).as("seeded PHI in what the client received").isEmpty();
        if (probe.refused()) {
            assertThat(reply.get("ok").asNumber().intValue()).as("refused: " + reply.toJson()).isZero();
            assertThat(reply.getString("errmsg").getValue()).contains(probe.refusalWords());
        }
    }

    /**
     * The attack the probes name "null as a bit", carried out: one aggregation asks, for every position and digit,
     * whether the SSN has that digit there, answering null or 1. Each answer is a computed value over the SSN, so it
     * is masked, but a masked null is still null. Refused, nothing can be rebuilt from the reply.
     */
    @org.junit.jupiter.api.Test
    void anSsnCannotBeRebuiltFromWhichComputedValuesAreNull() throws Exception {
        MongoHarness gateway = gateway("masked");
        seed(gateway);
        String ssn = seeded(0).entrySet().stream().filter(e -> e.getValue() == PhiType.SSN).findFirst().orElseThrow()
                .getKey();
        BsonDocument questions = new BsonDocument("_id", new BsonInt32(0));
        for (int at = 0; at < ssn.length(); at++) {
            for (char c : "0123456789-".toCharArray()) {
                questions.append("q" + at + "_" + (c == '-' ? "d" : String.valueOf(c)), BsonDocument.parse(
                        "{$cond: [{$eq: [{$substrCP: ['$ssn', " + at + ", 1]}, '" + c + "']}, null, 'y']}"));
            }
        }
        BsonDocument reply;
        try (RawMongoClient client = new RawMongoClient(gateway)) {
            client.authenticate(gateway.token());
            reply = client.reply(client.command(new BsonDocument("aggregate", new BsonString("patients"))
                    .append("pipeline", new org.bson.BsonArray(List.of(
                            new BsonDocument("$match", new BsonDocument("_id", new BsonInt32(0))),
                            new BsonDocument("$project", questions))))
                    .append("cursor", new BsonDocument()).append("$db", new BsonString("clinic"))));
        }
        StringBuilder rebuilt = new StringBuilder();
        if (reply.get("cursor") instanceof BsonDocument c && !c.getArray("firstBatch").isEmpty()) {
            BsonDocument answers = c.getArray("firstBatch").get(0).asDocument();
            for (int at = 0; at < ssn.length(); at++) {
                for (char ch : "0123456789-".toCharArray()) {
                    if (answers.get("q" + at + "_" + (ch == '-' ? "d" : String.valueOf(ch))) instanceof
                            org.bson.BsonNull) {
                        rebuilt.append(ch);
                    }
                }
            }
        }
        assertThat(rebuilt.toString()).isNotEqualTo(ssn);
        assertThat(reply.getString("errmsg", new BsonString("")).getValue()).contains("computes from PHI");
    }

    /** The reply, and every getMore of the cursor it opened (and their bytes); the first reply's body. */
    private static BsonDocument readAll(RawMongoClient client, int id, String db, ByteArrayOutputStream seen)
            throws IOException {
        Frame f = client.in.next();
        seen.write(f.bytes());
        BsonDocument first = ((OpMsg) WireCodec.decode(f)).body();
        BsonDocument body = first;
        for (int i = 0; i < 20 && body.get("cursor") instanceof BsonDocument c && c.getInt64("id", new BsonInt64(0))
                .getValue() != 0; i++) {
            String ns = c.getString("ns").getValue();
            client.command(new BsonDocument("getMore", c.get("id")).append("collection",
                    new BsonString(ns.substring(ns.indexOf('.') + 1))).append("$db", new BsonString(db)));
            f = client.in.next();
            seen.write(f.bytes());
            body = ((OpMsg) WireCodec.decode(f)).body();
        }
        return first;
    }

    /** Reads every collection of the probe's database through the gateway, into {@code seen}. */
    private static void readBackEveryCollection(MongoHarness gateway, ByteArrayOutputStream seen) throws Exception {
        List<String> names;
        try (MongoClient direct = MongoClients.create("mongodb://127.0.0.1:" + gateway.storeAddress.getPort())) {
            names = direct.getDatabase("clinic").listCollectionNames().into(new ArrayList<>());
        }
        try (RawMongoClient client = new RawMongoClient(gateway)) {
            client.authenticate(gateway.token());
            for (String name : names) {
                int id = client.command(new BsonDocument("find", new BsonString(name))
                        .append("batchSize", new BsonInt32(1000)).append("$db", new BsonString("clinic")));
                readAll(client, id, "clinic", seen);
            }
        }
    }

    /** The seeded values (and every run of five of their characters) of the types {@code role} sees masked. */
    static Set<String> leaked(byte[] bytes, String role) {
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        Set<String> found = new LinkedHashSet<>();
        for (int i = 0; i < PATIENTS; i++) {
            for (Map.Entry<String, PhiType> v : seeded(i).entrySet()) {
                if (!sees(role, v.getValue())) {
                    for (int k = 0; k + 5 <= v.getKey().length(); k++) {
                        String window = v.getKey().substring(k, k + 5);
                        if (text.contains(window)) {
                            found.add(v.getValue().policyName() + ":" + window);
                        }
                    }
                }
            }
        }
        return found;
    }

    static boolean sees(String role, PhiType type) {
        return role.equals("unmasked") || role.equals("sees-ssn") && type == PhiType.SSN;
    }

    /** Patient {@code i}'s PHI values, chosen so that no run of five characters occurs in anything else. */
    static Map<String, PhiType> seeded(int i) {
        return Map.of("8" + (10 + i) + "-7" + (10 + i) + "-" + (4100 + i), PhiType.SSN,
                "Quorith" + (char) ('a' + i) + "el", PhiType.NAME,
                (30 + i) + " Vexmoor Zk" + (char) ('a' + i), PhiType.ADDRESS,
                "+1-9" + (70 + i) + "-3" + (20 + i) + "-77" + (10 + i), PhiType.PHONE,
                "Wrenfeld" + (char) ('a' + i) + " dysphagia xq", PhiType.FREE_TEXT);
    }

    private static void seed(MongoHarness gateway) {
        try (MongoClient direct = MongoClients.create("mongodb://127.0.0.1:" + gateway.storeAddress.getPort())) {
            MongoDatabase clinic = direct.getDatabase("clinic");
            clinic.drop();
            clinic.getCollection("patients").insertMany(IntStream.range(0, PATIENTS).mapToObj(i -> {
                Map<PhiType, String> v = new HashMap<>();
                seeded(i).forEach((value, type) -> v.put(type, value));
                return new Document("_id", i).append("ssn", v.get(PhiType.SSN))
                        .append("name", new Document("given", v.get(PhiType.NAME)).append("family", "F" + i))
                        .append("address", new Document("street", v.get(PhiType.ADDRESS)).append("city", "Cty"))
                        .append("contacts", List.of(new Document("kind", "home").append("phone", v.get(PhiType.PHONE))))
                        .append("age", 30 + i).append("ward", i % 2 == 0 ? "cardio" : "neuro");
            }).toList());
            clinic.getCollection("visits").insertMany(IntStream.range(0, PATIENTS).mapToObj(i -> new Document("_id", i)
                    .append("ward", i % 2 == 0 ? "cardio" : "neuro").append("w", "x")
                    .append("patient_ssn", "8" + (10 + i) + "-7" + (10 + i) + "-" + (4100 + i))
                    .append("note", "Wrenfeld" + (char) ('a' + i) + " dysphagia xq")).toList());
            clinic.getCollection("wards").insertMany(List.of(new Document("_id", "cardio").append("w", "x"),
                    new Document("_id", "neuro").append("w", "y")));
        }
    }

    /** One gateway per role, each with its own store; the role fits every identity. */
    private static synchronized MongoHarness gateway(String role) throws Exception {
        MongoHarness h = GATEWAYS.get(role);
        if (h == null) {
            if (dir == null) {
                dir = Files.createTempDirectory("probes");
            }
            Set<PhiType> unmasked = switch (role) {
                case "unmasked" -> Set.of(PhiType.values());
                case "sees-ssn" -> Set.of(PhiType.SSN);
                default -> Set.of();
            };
            Role r = new Role(role, new Match(null, null, Map.of()), List.of("*"), List.of(), unmasked, Map.of(),
                    Role.Justification.OPTIONAL, 0, List.of(), null,
                    role.equals("lookup") ? Set.of(PhiType.SSN) : Set.of());
            Policy policy = new Policy(Map.of(), new Policy.Masking(null, Map.of()), List.of(r));
            h = new MongoHarness(Files.createDirectories(dir.resolve(role)), null,
                    new DocumentPolicy(CATALOG, policy, null));
            GATEWAYS.put(role, h);
        }
        return h;
    }
}
