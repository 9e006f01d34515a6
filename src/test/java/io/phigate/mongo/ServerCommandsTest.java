package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mongodb.MongoCommandException;
import com.mongodb.client.MongoClient;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every agent reaches the store as the gateway's one user, with or without PHI declared: an agent may not join, end
 * or kill another's logical sessions, nor run what acts on the server or reads others' work; the Java driver and raw
 * frames through the gateway to mongo-java-server, the relay saying what reached the store (decision 0059).
 */
class ServerCommandsTest {
    @TempDir
    Path dir;
    MongoHarness gateway;
    MongoClient agent;

    @BeforeEach
    void start() throws Exception {
        gateway = new MongoHarness(dir);
        agent = gateway.driver("serverSelectionTimeoutMS=5000&retryWrites=false");
        agent.getDatabase("clinic").getCollection("patients").insertOne(new Document("mrn", "A1"));
    }

    @AfterEach
    void stop() throws Exception {
        agent.close();
        gateway.close();
    }

    private List<String> reachedSince(int before) {
        return gateway.relay.commands.subList(before, gateway.relay.commands.size());
    }

    private static BsonDocument in(BsonDocument command, String db, BsonDocument lsid) {
        command.append("$db", new org.bson.BsonString(db));
        return lsid == null ? command : command.append("lsid", lsid);
    }

    @Test
    void anotherAgentCannotJoinEndOrKillAnAgentsLogicalSession() throws Exception {
        // mongo-java-server offers no logical sessions, so drivers send none: both agents speak raw frames here.
        BsonDocument lsid = new BsonDocument("id", new org.bson.BsonBinary(java.util.UUID.randomUUID()));
        try (RawMongoClient owner = new RawMongoClient(gateway); RawMongoClient other = new RawMongoClient(gateway)) {
            owner.authenticate(gateway.token());
            BsonDocument find = BsonDocument.parse("{find: 'patients'}");
            assertThat(owner.reply(owner.command(in(find.clone(), "clinic", lsid))).getNumber("ok").intValue())
                    .isEqualTo(1);
            other.authenticate(gateway.tokenFor("system:serviceaccount:billing:other-agent"));
            int before = gateway.relay.commands.size();
            for (BsonDocument probe : List.of(in(find.clone(), "clinic", lsid),
                    in(new BsonDocument("endSessions", new BsonArray(List.of(lsid))), "admin", null),
                    in(new BsonDocument("refreshSessions", new BsonArray(List.of(lsid))), "admin", null),
                    in(new BsonDocument("killSessions", new BsonArray(List.of(lsid))), "admin", null),
                    BsonDocument.parse("{killSessions: [], $db: 'admin'}"),
                    BsonDocument.parse("{killAllSessions: [], $db: 'admin'}"),
                    BsonDocument.parse("{killAllSessionsByPattern: [{}], $db: 'admin'}"),
                    BsonDocument.parse("{find: 'patients', lsid: {id: 'not a uuid'}, $db: 'clinic'}"))) {
                BsonDocument reply = other.reply(other.command(probe));
                assertThat(reply.getNumber("ok").intValue()).as("%s", probe).isZero();
                assertThat(reply.getInt32("code").getValue()).isEqualTo(13);
                assertThat(reply.getString("errmsg").getValue()).startsWith("phigate: ");
            }
            assertThat(reachedSince(before)).as("nothing of the other agent's reached the store").isEmpty();

            // The owner goes on in its session, and ends it; then the id is no one's until used again.
            owner.reply(owner.command(in(find.clone(), "clinic", lsid)));
            owner.reply(owner.command(in(new BsonDocument("endSessions", new BsonArray(List.of(lsid))), "admin",
                    null)));
            assertThat(reachedSince(before)).containsExactly("find", "endSessions");
            assertThat(gateway.door.logicalSessions.size()).isZero();
        }
        assertThat(gateway.sink.violations).isEmpty();
    }

    /** Attacks, each with the database it is sent on; every one must be refused before the store sees it. */
    private static final List<List<String>> ATTACKS = List.of(
            List.of("admin", "{currentOp: 1}"), List.of("admin", "{killOp: 1, op: 12345}"),
            List.of("admin", "{getLog: 'global'}"), List.of("admin", "{getParameter: '*'}"),
            List.of("admin", "{setParameter: 1, logLevel: 5}"), List.of("admin", "{fsync: 1, lock: true}"),
            List.of("admin", "{shutdown: 1, force: true}"), List.of("admin", "{replSetGetStatus: 1}"),
            List.of("admin", "{dropConnections: 1, hostAndPort: []}"), List.of("admin", "{getCmdLineOpts: 1}"),
            List.of("admin", "{hostInfo: 1}"), List.of("admin", "{serverStatus: 1}"),
            List.of("admin", "{createUser: 'backdoor', pwd: 'x', roles: ['root']}"),
            List.of("admin", "{usersInfo: 1}"), List.of("admin", "{grantRolesToUser: 'gateway', roles: ['root']}"),
            List.of("admin", "{logRotate: 1}"),
            List.of("admin", "{applyOps: [{op: 'i', ns: 'admin.system.users', o: {_id: 'admin.x'}}]}"),
            List.of("admin", "{aggregate: 1, pipeline: [{$currentOp: {allUsers: true}}], cursor: {}}"),
            List.of("admin", "{aggregate: 1, pipeline: [{$listLocalSessions: {allUsers: true}}], cursor: {}}"),
            List.of("admin", "{find: 'system.users'}"), List.of("admin", "{find: 'system.version'}"),
            List.of("admin", "{listIndexes: 'anything'}"), List.of("admin", "{convertToCapped: 'system.users',"
                    + " size: 4096}"),
            List.of("admin", "{mapReduce: 'system.users', map: 'function() {}', reduce: 'function() {}',"
                    + " out: {inline: 1}}"),
            List.of("admin", "{explain: {currentOp: 1}}"), List.of("admin", "{explain: {find: 'system.users'}}"),
            List.of("clinic", "{explain: {aggregate: 'patients', pipeline: [{$lookup: {from: {db: 'admin', coll:"
                    + " 'system.users'}, pipeline: [], as: 'u'}}], cursor: {}}, verbosity: 'executionStats'}"),
            List.of("admin", "{explain: {aggregate: 1, pipeline: [{$currentOp: {}}], cursor: {}}}"),
            List.of("admin", "{renameCollection: 'clinic.patients', to: 'archive.patients'}"),
            List.of("local", "{find: 'oplog.rs'}"), List.of("local", "{find: 'startup_log'}"),
            List.of("config", "{find: 'system.sessions'}"),
            List.of("clinic", "{profile: 2}"), List.of("clinic", "{setProfilingLevel: 2}"),
            List.of("clinic", "{validate: 'patients'}"), List.of("clinic", "{dbHash: 1}"),
            List.of("clinic", "{compact: 'patients'}"), List.of("clinic", "{find: 'system.profile'}"),
            List.of("clinic", "{find: 'system.js'}"),
            List.of("clinic", "{cloneCollectionAsCapped: 'patients', toCollection: 'system.x', size: 4096}"),
            List.of("clinic", "{aggregate: 'patients', pipeline: [{$lookup: {from: {db: 'admin', coll:"
                    + " 'system.users'}, pipeline: [], as: 'u'}}], cursor: {}}"),
            List.of("clinic", "{aggregate: 'patients', pipeline: [{$unionWith: {coll: 'patients', pipeline:"
                    + " [{$planCacheStats: {}}]}}], cursor: {}}"),
            List.of("clinic", "{aggregate: 'patients', pipeline: [{$out: {db: 'config', coll: 'system.sessions'}}],"
                    + " cursor: {}}"),
            List.of("clinic", "{create: 'ops', viewOn: 'patients', pipeline: [{$currentOp: {}}]}"),
            List.of("clinic", "{create: 'queries', viewOn: 'system.profile', pipeline: []}"));

    @Test
    void commandsOnTheServerOrOnOthersWorkAreRefusedAndNeverReachTheStore() throws Exception {
        int before = gateway.relay.commands.size();
        for (List<String> attack : ATTACKS) {
            String json = attack.get(1);
            assertThatThrownBy(() -> agent.getDatabase(attack.get(0)).runCommand(Document.parse(json))).as(json)
                    .isInstanceOfSatisfying(MongoCommandException.class, e -> {
                        assertThat(e.getErrorCode()).as(json).isEqualTo(13);
                        assertThat(e.getErrorMessage()).as(json).startsWith("phigate: ");
                    });
        }
        assertThat(reachedSince(before)).as("no refused command reached the store").isEmpty();
        assertThat(gateway.auditEventually("kind = 'statement_completed' and outcome = 'refused'", ATTACKS.size()))
                .hasSize(ATTACKS.size());

        // Beside them, what is modelled runs: the store is reached.
        for (List<String> allowed : List.of(List.of("clinic", "{ping: 1}"), List.of("clinic", "{dbStats: 1}"),
                List.of("clinic", "{listCollections: 1}"), List.of("clinic", "{collMod: 'patients'}"),
                List.of("clinic", "{explain: {find: 'patients', filter: {mrn: 'A1'}}}"),
                List.of("admin", "{renameCollection: 'clinic.patients', to: 'clinic.people'}"))) {
            try {
                agent.getDatabase(allowed.get(0)).runCommand(Document.parse(allowed.get(1)));
            } catch (MongoCommandException e) {
                // mongo-java-server may not know it; what matters is that it was forwarded
                assertThat(e.getErrorMessage()).doesNotStartWith("phigate");
            }
        }
        assertThat(reachedSince(before)).containsExactly("ping", "dbStats", "listCollections", "collMod", "explain",
                "renameCollection");
    }

    @Test
    void theSessionsTrackedAreBoundedPerAgentAndInAllAndAFullTableRefusesRatherThanForgets() throws Exception {
        LogicalSessions sessions = new LogicalSessions(3, 2, System::nanoTime);
        assertThat(sessions.use("a", "1")).isTrue();
        assertThat(sessions.use("a", "2")).isTrue();
        assertThat(sessions.use("a", "1")).as("a known id is no new entry").isTrue();
        assertThat(sessions.use("b", "1")).as("another agent's id").isFalse();
        assertThatThrownBy(() -> sessions.use("a", "3")).as("a's share is full, not the table")
                .isInstanceOfSatisfying(LogicalSessions.Full.class, e -> assertThat(e.agentsOwn()).isTrue());
        assertThat(sessions.use("b", "3")).as("so b still gets sessions").isTrue();
        assertThatThrownBy(() -> sessions.use("c", "4"))
                .isInstanceOfSatisfying(LogicalSessions.Full.class, e -> assertThat(e.agentsOwn()).isFalse());
        sessions.ended("b", List.of("1"));
        assertThat(sessions.ownsAll("a", List.of("1"))).as("only the owner ends a session").isTrue();
        sessions.ended("a", List.of("1"));
        assertThat(sessions.use("a", "5")).as("an ended id frees its owner's share").isTrue();
        assertThat(sessions.size()).isEqualTo(3);
    }

    @Test
    void anIdleIdStaysItsOwnersForAsLongAsTheStoreSaysItKeepsSessions() throws Exception {
        AtomicLong now = new AtomicLong();
        LogicalSessions sessions = new LogicalSessions(1, 1, now::get);
        sessions.storeKeepsSessionsFor(60);
        assertThat(sessions.use("a", "1")).isTrue();
        now.addAndGet(TimeUnit.MINUTES.toNanos(31));
        assertThatThrownBy(() -> sessions.use("b", "2")).as("the store still keeps a's session at 31 minutes")
                .isInstanceOf(LogicalSessions.Full.class);
        assertThat(sessions.use("b", "1")).as("so its id is still a's").isFalse();
        now.addAndGet(TimeUnit.MINUTES.toNanos(30));
        assertThat(sessions.use("b", "2")).as("past the store's 60 minutes the idle id is dropped").isTrue();
    }

    @Test
    void aStoreThatKeepsSessionsForLessThanMongodsDefaultDoesNotShortenOwnership() throws Exception {
        AtomicLong now = new AtomicLong();
        LogicalSessions sessions = new LogicalSessions(1, 1, now::get);
        sessions.storeKeepsSessionsFor(5);
        sessions.storeKeepsSessionsFor(null);
        assertThat(sessions.use("a", "1")).isTrue();
        now.addAndGet(TimeUnit.MINUTES.toNanos(29));
        assertThatThrownBy(() -> sessions.use("b", "2")).isInstanceOf(LogicalSessions.Full.class);
        now.addAndGet(TimeUnit.MINUTES.toNanos(2));
        assertThat(sessions.use("b", "2")).isTrue();
    }
}
