package io.phigate.mongo.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.mongo.wire.MongoError;
import io.phigate.mongo.wire.MsgHeader;
import io.phigate.mongo.wire.WireMessage;
import io.phigate.mongo.wire.WireMessage.DocumentSequence;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import java.util.List;
import org.bson.BsonDocument;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.Test;

class CommandReaderTest {
    private static Command read(String body, DocumentSequence... sequences) throws CommandException {
        return CommandReader.read(new OpMsg(new MsgHeader(0, 1, 0, WireMessage.OP_MSG), 0, RawBsonDocument.parse(body),
                List.of(sequences)));
    }

    private static DocumentSequence sequence(String id, String... docs) {
        return new DocumentSequence(id, java.util.Arrays.stream(docs).map(RawBsonDocument::parse).toList());
    }

    @Test
    void findGivesItsCollectionFilterProjectionAndSort() throws Exception {
        Command c = read("{find: 'patients', filter: {ward: 'cardio'}, projection: {mrn: 1}, sort: {age: -1},"
                + " lsid: {id: 1}, $db: 'clinic'}");
        assertThat(c.name()).isEqualTo("find");
        assertThat(c.namespace()).isEqualTo("clinic.patients");
        assertThat(c.filters()).containsExactly(BsonDocument.parse("{ward: 'cardio'}"));
        assertThat(c.projection()).isEqualTo(BsonDocument.parse("{mrn: 1}"));
        assertThat(c.sort()).isEqualTo(BsonDocument.parse("{age: -1}"));
    }

    @Test
    void aggregateGivesItsPipelineAndADatabaseWideOneNoCollection() throws Exception {
        Command c = read("{aggregate: 'patients', pipeline: [{$match: {a: 1}}, {$group: {_id: '$w'}}], cursor: {},"
                + " $db: 'clinic'}");
        assertThat(c.pipeline()).hasSize(2);
        assertThat(c.pipeline().get(1).getFirstKey()).isEqualTo("$group");
        Command wide = read("{aggregate: 1, pipeline: [{$currentOp: {}}], cursor: {}, $db: 'admin'}");
        assertThat(wide.collection()).isNull();
        assertThat(wide.namespace()).isEqualTo("admin");
    }

    @Test
    void updateStatementsFromASequenceGiveFiltersAndTheFieldPathsTheyWrite() throws Exception {
        Command c = read("{update: 'patients', $db: 'clinic'}",
                sequence("updates", "{q: {mrn: 'A1'}, u: {$set: {'name.given': 'Ada'}, $rename: {ssn: 'old_ssn'}}}",
                        "{q: {mrn: 'B2'}, u: {mrn: 'B2', ward: 'neuro'}}",
                        "{q: {}, u: [{$set: {seen: true}}, {$unset: ['tmp', 'x.y']}]}"));
        assertThat(c.filters()).hasSize(3);
        assertThat(c.updatePaths()).containsExactly("name.given", "ssn", "old_ssn", "mrn", "ward", "seen", "tmp",
                "x.y");
        assertThat(c.pipeline()).hasSize(2);
    }

    @Test
    void updatesInTheBodyReadAsInASequence() throws Exception {
        Command c = read("{update: 'p', updates: [{q: {a: 1}, u: {$inc: {n: 1}}}], $db: 'd'}");
        assertThat(c.updatePaths()).containsExactly("n");
        assertThat(c.filters()).containsExactly(BsonDocument.parse("{a: 1}"));
    }

    @Test
    void anUpdateMixingOperatorsAndFieldsIsRefusedAsTheServerRefusesIt() {
        assertThatThrownBy(() -> read("{update: 'p', updates: [{q: {}, u: {$set: {a: 1}, b: 2}}], $db: 'd'}"))
                .isInstanceOf(CommandException.class);
    }

    @Test
    void deleteInsertCountDistinctAndFindAndModify() throws Exception {
        assertThat(read("{delete: 'p', deletes: [{q: {mrn: 'C3'}, limit: 1}], $db: 'd'}").filters())
                .containsExactly(BsonDocument.parse("{mrn: 'C3'}"));
        assertThat(read("{insert: 'p', $db: 'd'}", sequence("documents", "{a: 1}", "{a: 2}")).documents())
                .isEqualTo(2);
        assertThat(read("{insert: 'p', documents: [{a: 1}], $db: 'd'}").documents()).isEqualTo(1);
        assertThat(read("{count: 'p', query: {a: 1}, $db: 'd'}").filters()).hasSize(1);
        Command distinct = read("{distinct: 'p', key: 'name.family', query: {ward: 'x'}, $db: 'd'}");
        assertThat(distinct.distinctKey()).isEqualTo("name.family");
        assertThat(distinct.filters()).hasSize(1);
        Command fam = read("{findAndModify: 'p', query: {mrn: 'A1'}, fields: {ssn: 1}, sort: {a: 1},"
                + " update: {$set: {ssn: 'x'}}, new: true, $db: 'd'}");
        assertThat(fam.projection()).isEqualTo(BsonDocument.parse("{ssn: 1}"));
        assertThat(fam.updatePaths()).containsExactly("ssn");
        assertThat(fam.filters()).hasSize(1);
    }

    @Test
    void cursorCommandsGiveTheirCursorIdsAndCollection() throws Exception {
        Command more = read("{getMore: {$numberLong: '12345'}, collection: 'notes', batchSize: 10, $db: 'clinic'}");
        assertThat(more.cursorIds()).containsExactly(12345L);
        assertThat(more.namespace()).isEqualTo("clinic.notes");
        Command kill = read("{killCursors: 'notes', cursors: [{$numberLong: '1'}, {$numberLong: '2'}], $db: 'c'}");
        assertThat(kill.cursorIds()).containsExactly(1L, 2L);
        assertThatThrownBy(() -> read("{getMore: 5, collection: 'notes', $db: 'c'}"))
                .hasMessageContaining("expected type 'long'");
    }

    @Test
    void aDuplicateFieldIsRefusedSoTheGatewayNeverReadsADifferentOneThanTheServer() {
        assertThatThrownBy(() -> CommandReader.read(new OpMsg(new MsgHeader(0, 1, 0, WireMessage.OP_MSG), 0,
                        withTwoFilters(), List.of())))
                .isInstanceOfSatisfying(CommandException.class,
                        e -> assertThat(e.error()).isEqualTo(MongoError.DUPLICATE_FIELD));
        assertThatThrownBy(() -> read("{insert: 'p', documents: [{a: 1}], $db: 'd'}", sequence("documents", "{}")))
                .hasMessageContaining("duplicate");
    }

    /**
     * A name repeated below the top, in a sequence's document, where no PHI is declared (the masking's own check
     * runs only where it is): a bulkWrite delete read as filtered by its first filter, run by a server that takes
     * its last with none. Refused wherever it is, as the server's parsers refuse it.
     */
    @Test
    void aNameRepeatedAtAnyDepthOfAnyDocumentIsRefused() {
        var buffer = new org.bson.io.BasicOutputBuffer();
        try (var w = new org.bson.BsonBinaryWriter(buffer)) {
            w.writeStartDocument();
            w.writeInt32("delete", 0);
            w.writeStartDocument("filter");
            w.writeString("mrn", "A1");
            w.writeEndDocument();
            w.writeStartDocument("filter");
            w.writeEndDocument();
            w.writeBoolean("multi", true);
            w.writeEndDocument();
        }
        RawBsonDocument op = new RawBsonDocument(buffer.toByteArray());
        assertThatThrownBy(() -> CommandReader.read(new OpMsg(new MsgHeader(0, 1, 0, WireMessage.OP_MSG), 0,
                RawBsonDocument.parse("{bulkWrite: 1, $db: 'admin'}"), List.of(new DocumentSequence("ops",
                List.of(op)), sequence("nsInfo", "{ns: 'clinic.patients'}")))))
                .isInstanceOfSatisfying(CommandException.class, e -> assertThat(e.getMessage())
                        .contains("filter", "appears twice"));
        var insert = new org.bson.io.BasicOutputBuffer();
        try (var w = new org.bson.BsonBinaryWriter(insert)) {
            w.writeStartDocument();
            w.writeString("insert", "p");
            w.writeStartArray("documents");
            w.writeStartDocument();
            w.writeStartDocument("x");
            w.writeInt32("a", 1);
            w.writeInt32("a", 2);
            w.writeEndDocument();
            w.writeEndDocument();
            w.writeEndArray();
            w.writeString("$db", "d");
            w.writeEndDocument();
        }
        assertThatThrownBy(() -> CommandReader.read(new OpMsg(new MsgHeader(0, 1, 0, WireMessage.OP_MSG), 0,
                new RawBsonDocument(insert.toByteArray()), List.of()))).hasMessageContaining("a is a duplicate");
    }

    /** {find: 'p', filter: {a: 1}, filter: {b: 1}, $db: 'd'}: JSON parsing would keep only one filter. */
    private static RawBsonDocument withTwoFilters() {
        var buffer = new org.bson.io.BasicOutputBuffer();
        try (var w = new org.bson.BsonBinaryWriter(buffer)) {
            w.writeStartDocument();
            w.writeString("find", "p");
            w.writeStartDocument("filter");
            w.writeInt32("a", 1);
            w.writeEndDocument();
            w.writeStartDocument("filter");
            w.writeInt32("b", 1);
            w.writeEndDocument();
            w.writeString("$db", "d");
            w.writeEndDocument();
        }
        return new RawBsonDocument(buffer.toByteArray());
    }

    @Test
    void aCommandWithoutDbOrWithAMistypedFilterIsRefused() {
        assertThatThrownBy(() -> read("{find: 'p'}")).hasMessageContaining("$db");
        assertThatThrownBy(() -> read("{find: 'p', filter: 'x', $db: 'd'}")).hasMessageContaining("'filter'");
        assertThatThrownBy(() -> read("{}")).hasMessageContaining("empty");
    }

    @Test
    void aCommandsFirstStringIsACollectionOnlyWhereTheServerReadsItSo() throws Exception {
        assertThat(read("{createUser: 'mallory', pwd: 'x', roles: [], $db: 'admin'}").collection()).isNull();
        assertThat(read("{drop: 'patients', $db: 'clinic'}").namespace()).isEqualTo("clinic.patients");
    }
}
