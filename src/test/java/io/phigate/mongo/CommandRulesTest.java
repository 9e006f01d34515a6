package io.phigate.mongo;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.mask.PhiType;
import io.phigate.mongo.command.Command;
import io.phigate.mongo.command.CommandReader;
import io.phigate.mongo.wire.MsgHeader;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import io.phigate.policy.RiskRule;
import io.phigate.sql.Operation;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.Test;

/** The policy's rules read for commands: which commands are ddl, which writes have no filter, what $out writes. */
class CommandRulesTest {
    static final RiskRule.Approval HOLD = new RiskRule.Approval("stewards", 1, Duration.ofMinutes(1),
            RiskRule.Mode.HOLD, null, 1);

    static Command command(String json) throws Exception {
        return CommandReader.read(new OpMsg(new MsgHeader(0, 1, 0, 2013), 0, RawBsonDocument.parse(json), List.of()));
    }

    static RiskRule rule(Set<Operation> operations, List<String> tables, boolean noWhere, boolean phi) {
        return new RiskRule("r", new RiskRule.When(operations, tables, List.of(), noWhere, phi, List.of()), HOLD, null);
    }

    static boolean fires(RiskRule rule, String json, Set<PhiType> phi) throws Exception {
        Command c = command(json);
        return CommandRules.evaluate(List.of(rule), null, c, RawBsonDocument.parse(json), phi, Instant.now()) != null;
    }

    @Test
    void dropsAndOtherCollectionChangesAreDdl() throws Exception {
        RiskRule ddl = rule(Set.of(Operation.DDL), List.of("clinic.*"), false, false);

        assertThat(fires(ddl, "{drop: 'patients', $db: 'clinic'}", Set.of())).isTrue();
        assertThat(fires(ddl, "{dropDatabase: 1, $db: 'clinic'}", Set.of())).isTrue();
        assertThat(fires(ddl, "{drop: 'patients', $db: 'archive'}", Set.of())).isFalse();
        assertThat(fires(ddl, "{find: 'patients', $db: 'clinic'}", Set.of())).isFalse();
    }

    /**
     * Decision 0090: findAndModify is a delete only when it says {@code remove}, as the server reads it; an empty
     * replacement ({@code update: {}}) wipes every field of the document and was judged a delete, so a rule holding
     * updates of patients let it through.
     */
    @Test
    void findAndModifyIsReadByItsRemoveFlagNotByTheShapeOfItsUpdate() throws Exception {
        RiskRule updates = rule(Set.of(Operation.UPDATE), List.of("clinic.patients"), false, false);
        RiskRule deletes = rule(Set.of(Operation.DELETE), List.of("clinic.patients"), false, false);

        String empty = "{findAndModify: 'patients', query: {_id: 1}, update: {}, $db: 'clinic'}";
        assertThat(fires(updates, empty, Set.of())).isTrue();
        assertThat(fires(updates, "{findAndModify: 'patients', query: {_id: 1}, update: {$set: {}}, $db: 'clinic'}",
                Set.of())).isTrue();
        assertThat(fires(updates, "{findAndModify: 'patients', query: {_id: 1}, update: [], $db: 'clinic'}",
                Set.of())).isTrue();
        String remove = "{findAndModify: 'patients', query: {_id: 1}, remove: 1, $db: 'clinic'}";
        assertThat(fires(deletes, remove, Set.of())).isTrue();
        assertThat(fires(updates, remove, Set.of())).isFalse();
        assertThat(fires(deletes, "{findAndModify: 'patients', query: {_id: 1}, remove: 0, update: {}, $db: 'clinic'}",
                Set.of())).isFalse();
    }

    @Test
    void onlyAWriteWithAnEmptyFilterHasNoWhere() throws Exception {
        RiskRule noWhere = rule(Set.of(), List.of(), true, false);

        assertThat(fires(noWhere, "{delete: 'p', deletes: [{q: {}, limit: 0}], $db: 'c'}", Set.of())).isTrue();
        assertThat(fires(noWhere, "{update: 'p', updates: [{q: {a: 1}, u: {$set: {b: 1}}}, {q: {}, u: {$set: {b: 2}}}],"
                + " $db: 'c'}", Set.of())).isTrue();
        assertThat(fires(noWhere, "{delete: 'p', deletes: [{q: {a: 1}, limit: 0}], $db: 'c'}", Set.of())).isFalse();
        assertThat(fires(noWhere, "{find: 'p', filter: {}, $db: 'c'}", Set.of())).isFalse();
    }

    @Test
    void outWritesAndReplacesTheCollectionItNames() throws Exception {
        String out = "{aggregate: 'patients', pipeline: [{$out: 'copy'}], cursor: {}, $db: 'clinic'}";

        assertThat(fires(rule(Set.of(Operation.INSERT), List.of("clinic.copy"), false, false), out, Set.of()))
                .isTrue();
        assertThat(fires(rule(Set.of(Operation.DDL), List.of(), false, false), out, Set.of())).isTrue();
        String merge = "{aggregate: 'p', pipeline: [{$lookup: {from: 'visits', localField: 'a', foreignField: 'b',"
                + " as: 'v'}}, {$merge: {into: {db: 'arch', coll: 'p2'}}}], cursor: {}, $db: 'clinic'}";
        assertThat(CommandRules.namespaces(command(merge), RawBsonDocument.parse(merge)))
                .containsExactly("clinic.p", "clinic.visits", "arch.p2");
    }

    /**
     * Commands that delete documents without being named delete: an index or collection given a time to live (a
     * TTL of 0 removes every dated document within a minute), emptycapped, and a collection capped to a size that
     * drops its oldest documents. A rule on deletes, or on writes without a filter, must hold them.
     */
    @Test
    void aTimeToLiveOrACapIsADeleteOfEveryDocumentItReaches() throws Exception {
        RiskRule delete = rule(Set.of(Operation.DELETE), List.of("clinic.patients"), false, false);
        RiskRule noWhere = rule(Set.of(), List.of(), true, false);
        for (String json : List.of(
                "{createIndexes: 'patients', indexes: [{key: {dob: 1}, name: 'ttl', expireAfterSeconds: 0}],"
                        + " $db: 'clinic'}",
                "{collMod: 'patients', index: {keyPattern: {dob: 1}, expireAfterSeconds: 0}, $db: 'clinic'}",
                "{collMod: 'patients', expireAfterSeconds: 1, $db: 'clinic'}",
                "{create: 'patients', clusteredIndex: {key: {_id: 1}, unique: true}, expireAfterSeconds: 1,"
                        + " $db: 'clinic'}",
                "{emptycapped: 'patients', $db: 'clinic'}",
                "{convertToCapped: 'patients', size: 1, $db: 'clinic'}")) {
            assertThat(fires(delete, json, Set.of())).as(json).isTrue();
            assertThat(fires(noWhere, json, Set.of())).as(json).isTrue();
        }
        assertThat(fires(delete, "{createIndexes: 'patients', indexes: [{key: {dob: 1}, name: 'dob'}],"
                + " $db: 'clinic'}", Set.of())).isFalse();
    }

    @Test
    void anUpsertIsAlsoAnInsert() throws Exception {
        RiskRule insert = rule(Set.of(Operation.INSERT), List.of("clinic.patients"), false, false);
        assertThat(fires(insert, "{update: 'patients', updates: [{q: {a: 1}, u: {$set: {b: 1}}, upsert: true}],"
                + " $db: 'clinic'}", Set.of())).isTrue();
        assertThat(fires(insert, "{findAndModify: 'patients', query: {a: 1}, update: {$set: {b: 1}}, upsert: true,"
                + " $db: 'clinic'}", Set.of())).isTrue();
        assertThat(fires(insert, "{update: 'patients', updates: [{q: {a: 1}, u: {$set: {b: 1}}}], $db: 'clinic'}",
                Set.of())).isFalse();
    }

    @Test
    void aPhiRuleFiresOnlyForCollectionsThatDeclarePhi() throws Exception {
        RiskRule phi = rule(Set.of(Operation.UPDATE), List.of(), false, true);
        String update = "{update: 'p', updates: [{q: {a: 1}, u: {$set: {b: 1}}}], $db: 'c'}";

        assertThat(fires(phi, update, Set.of(PhiType.SSN))).isTrue();
        assertThat(fires(phi, update, Set.of())).isFalse();
    }

    /**
     * The attacker's review: commands that name their namespaces in their values, and a filter that is there only
     * in form, do not pass a rule the plain command would meet.
     */
    @Test
    void commandsNamingNamespacesInTheirValuesMeetTheRulesOnThoseNamespaces() throws Exception {
        RiskRule ddl = rule(Set.of(Operation.DDL), List.of("clinic.patients"), false, false);
        RiskRule deletes = rule(Set.of(Operation.DELETE), List.of("clinic.patients"), false, false);
        RiskRule inserts = rule(Set.of(Operation.INSERT), List.of("clinic.patients"), false, false);
        RiskRule noWhere = rule(Set.of(), List.of(), true, false);

        assertThat(fires(ddl, "{renameCollection: 'clinic.scratch', to: 'clinic.patients', dropTarget: true,"
                + " $db: 'admin'}", Set.of())).isTrue();
        assertThat(fires(deletes, "{bulkWrite: 1, ops: [{delete: 0, filter: {}, multi: true}],"
                + " nsInfo: [{ns: 'clinic.patients'}], $db: 'admin'}", Set.of())).isTrue();
        assertThat(fires(noWhere, "{bulkWrite: 1, ops: [{update: 0, filter: {$comment: 'x'}, updateMods: {$set:"
                + " {a: 1}}}], nsInfo: [{ns: 'c.p'}], $db: 'admin'}", Set.of())).isTrue();
        assertThat(fires(deletes, "{applyOps: [{op: 'd', ns: 'clinic.patients', o: {_id: 1}}], $db: 'admin'}",
                Set.of())).isTrue();
        assertThat(fires(inserts, "{mapReduce: 'visits', map: 'f', reduce: 'g', out: {replace: 'patients'},"
                + " $db: 'clinic'}", Set.of())).isTrue();
        assertThat(fires(noWhere, "{delete: 'p', deletes: [{q: {$comment: 'all of them'}, limit: 0}], $db: 'c'}",
                Set.of())).isTrue();
        assertThat(fires(deletes, "{bulkWrite: 1, ops: [{insert: 0, document: {a: 1}}],"
                + " nsInfo: [{ns: 'clinic.patients'}], $db: 'admin'}", Set.of())).isFalse();
    }
}
