package io.phigate.mongo.command;

import io.phigate.mongo.wire.MongoError;
import io.phigate.mongo.wire.MsgHeader;
import io.phigate.mongo.wire.WireCodec;
import io.phigate.mongo.wire.WireMessage;
import io.phigate.mongo.wire.WireMessage.DocumentSequence;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.bson.BsonArray;
import org.bson.BsonBinaryReader;
import org.bson.BsonReader;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.BsonType;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;

/**
 * Reads a {@link Command} out of an OP_MSG the way the server reads it: the command is the body's first field, the
 * database is {@code $db}, a kind-1 sequence stands in for the body field of its name. Where the server would refuse
 * a command for its shape (a duplicate field, a filter that is not a document), so does this reader: a command the
 * gateway reads differently from the server must never be forwarded. Pure; the input is already well-formed BSON.
 */
public final class CommandReader {
    /**
     * The document sequences each command takes, as the server's command definitions declare them; a sequence of
     * any other name is refused, as the server refuses it ({@code IDLUnknownField}), so no field of a command hides
     * from the analysis in a section it does not read.
     */
    private static final java.util.Map<String, Set<String>> SEQUENCES = java.util.Map.of("insert",
            Set.of("documents"), "update", Set.of("updates"), "delete", Set.of("deletes"), "bulkWrite",
            Set.of("ops", "nsInfo"));

    /** Commands whose first field's string value is a collection name in {@code $db}. */
    private static final Set<String> COLLECTION_FIRST = Set.of("find", "aggregate", "insert", "update", "delete",
            "findAndModify", "findandmodify", "count", "distinct", "killCursors", "create", "drop", "listIndexes",
            "createIndexes", "dropIndexes", "collMod", "validate", "collStats", "bulkWrite", "cloneCollectionAsCapped",
            "convertToCapped", "emptycapped");

    private CommandReader() {
    }

    public static Command read(OpMsg msg) throws CommandException {
        RawBsonDocument body = msg.body();
        List<String> names = fieldNames(body, "the command");
        if (names.isEmpty()) {
            throw new CommandException(MongoError.FAILED_TO_PARSE, "empty command body");
        }
        Set<String> identifiers = new LinkedHashSet<>();
        for (DocumentSequence s : msg.sequences()) {
            if (!identifiers.add(s.identifier()) || names.contains(s.identifier())) {
                throw duplicate(s.identifier());
            }
        }
        String repeated = DuplicateFields.in(body);
        for (DocumentSequence s : msg.sequences()) {
            for (RawBsonDocument d : s.documents()) {
                repeated = repeated != null ? repeated : DuplicateFields.in(d);
            }
        }
        if (repeated != null) {
            throw new CommandException(MongoError.DUPLICATE_FIELD, "the field " + repeated + " is a duplicate: it appears twice in one"
                    + " document; the server would apply both or refuse, so phigate refuses rather than judge one");
        }
        String name = names.getFirst();
        for (DocumentSequence s : msg.sequences()) {
            if (!SEQUENCES.getOrDefault(name, Set.of()).contains(s.identifier())) {
                throw new CommandException(MongoError.UNKNOWN_FIELD, "BSON field '" + name + "."
                        + s.identifier() + "' is an unknown field: " + name + " takes no document sequence of that"
                        + " name");
            }
        }
        BsonValue db = body.get("$db");
        if (db == null || !db.isString()) {
            throw new CommandException(MongoError.FAILED_TO_PARSE, "OP_MSG requests require a $db argument");
        }
        BsonValue first = body.get(name);
        String collection = COLLECTION_FIRST.contains(name) && first.isString() ? first.asString().getValue() : null;
        Builder b = new Builder(name, db.asString().getValue(), collection);
        switch (name) {
            case "find" -> {
                b.filters.addAll(optionalDocument(body, "filter"));
                b.projection = optionalDocument(body, "projection").stream().findFirst().orElse(null);
                b.sort = optionalDocument(body, "sort").stream().findFirst().orElse(null);
            }
            case "aggregate" -> b.pipeline.addAll(documents(body, "pipeline", required(body, "pipeline")));
            case "count" -> b.filters.addAll(optionalDocument(body, "query"));
            case "distinct" -> {
                b.filters.addAll(optionalDocument(body, "query"));
                b.distinctKey = string(body, "key");
            }
            case "insert" -> b.documents = statements(msg, "documents").size();
            case "update" -> {
                for (BsonDocument statement : statements(msg, "updates")) {
                    fieldNames(statement, "an update statement");
                    b.statements.add(statement);
                    b.filters.add(document(statement, "q", required(statement, "q")));
                    b.update(required(statement, "u"));
                }
            }
            case "delete" -> {
                for (BsonDocument statement : statements(msg, "deletes")) {
                    fieldNames(statement, "a delete statement");
                    b.statements.add(statement);
                    b.filters.add(document(statement, "q", required(statement, "q")));
                }
            }
            case "findAndModify", "findandmodify" -> {
                b.filters.addAll(optionalDocument(body, "query"));
                b.projection = optionalDocument(body, "fields").stream().findFirst().orElse(null);
                b.sort = optionalDocument(body, "sort").stream().findFirst().orElse(null);
                BsonValue update = body.get("update");
                if (update != null) {
                    b.update(update);
                }
            }
            case "getMore" -> {
                if (first.getBsonType() != BsonType.INT64) {
                    throw typeMismatch("getMore", "long");
                }
                b.cursorIds.add(first.asInt64().getValue());
                b.collection = string(body, "collection");
            }
            case "killCursors" -> {
                for (BsonValue id : array(body, "cursors")) {
                    if (id.getBsonType() != BsonType.INT64) {
                        throw typeMismatch("killCursors.cursors", "long");
                    }
                    b.cursorIds.add(id.asInt64().getValue());
                }
            }
            default -> {
            }
        }
        if (b.database.indexOf('\0') >= 0 || b.collection != null && b.collection.indexOf('\0') >= 0) {
            // A BSON string may hold a NUL; a reader taking the name as a C string would stop there and read
            // another collection than the one the rules, the catalog and the records were given.
            throw new CommandException(new MongoError(73, "InvalidNamespace"), "a database or collection name holding"
                    + " a NUL byte is not forwarded");
        }
        return b.build();
    }

    /**
     * The command as the server reads it: the body, with each document sequence as the body's array of its name
     * (mongod parses {@code ops}, {@code nsInfo}, {@code documents}, ... from either place alike). Whatever reads a
     * command's fields by name (the rules, the server-command checks, the masking) reads this, so no field hides
     * from them in a section they do not look at. The body itself, uncopied, when there is no sequence; the reader
     * has refused a name in both places.
     */
    public static BsonDocument asServerReadsIt(OpMsg msg) {
        if (msg.sequences().isEmpty()) {
            return msg.body();
        }
        BsonDocument whole = new BsonDocument();
        whole.putAll(msg.body());
        for (DocumentSequence s : msg.sequences()) {
            whole.put(s.identifier(), new BsonArray(List.copyOf(s.documents())));
        }
        return whole;
    }

    /**
     * The command {@code explain} wraps, as if sent alone on explain's database (mongod runs it so, with
     * {@code executionStats} to the end), or null when explain wraps no command document.
     */
    public static BsonDocument explained(BsonDocument explain, String database) {
        if (!(explain.get("explain") instanceof BsonDocument inner) || inner.isEmpty()) {
            return null;
        }
        BsonDocument alone = new BsonDocument(); // the inner document is raw, so read-only: copied (no repeats:
        alone.putAll(inner);                     // the reader refused any at every depth)
        alone.put("$db", new BsonString(database));
        return alone;
    }

    /** Reads a command given as one document (no sequences), as {@link #explained} gives one. */
    public static Command read(BsonDocument body) throws CommandException {
        return read(new OpMsg(new MsgHeader(0, 0, 0, WireMessage.OP_MSG), 0, WireCodec.raw(body), List.of()));
    }

    /** The body's field names in order; a name twice is refused, as the server's command parsers refuse it. */
    private static List<String> fieldNames(BsonDocument document, String what) throws CommandException {
        List<String> names = new ArrayList<>();
        Set<String> seen = new java.util.HashSet<>();
        RawBsonDocument raw = WireCodec.raw(document);
        // Read from the bytes themselves: RawBsonDocument.asBsonReader() does not show a repeated field name.
        try (BsonReader reader = new BsonBinaryReader(raw.getByteBuffer().asNIO().slice())) {
            reader.readStartDocument();
            while (reader.readBsonType() != BsonType.END_OF_DOCUMENT) {
                String n = reader.readName();
                if (!seen.add(n)) {
                    throw duplicate(n + " in " + what);
                }
                names.add(n);
                reader.skipValue();
            }
        }
        return names;
    }

    /** The statements of an insert, update or delete: the body's array of that name or the sequence, not both. */
    private static List<BsonDocument> statements(OpMsg msg, String field) throws CommandException {
        for (DocumentSequence s : msg.sequences()) {
            if (s.identifier().equals(field)) {
                return List.copyOf(s.documents());
            }
        }
        return documents(msg.body(), field, required(msg.body(), field));
    }

    private static BsonValue required(BsonDocument d, String field) throws CommandException {
        BsonValue v = d.get(field);
        if (v == null) {
            throw new CommandException(MongoError.FAILED_TO_PARSE, "BSON field '" + field + "' is missing but a"
                    + " required field");
        }
        return v;
    }

    private static List<BsonDocument> optionalDocument(BsonDocument d, String field) throws CommandException {
        BsonValue v = d.get(field);
        return v == null || v.isNull() ? List.of() : List.of(document(d, field, v));
    }

    private static BsonDocument document(BsonDocument d, String field, BsonValue v) throws CommandException {
        if (!v.isDocument()) {
            throw typeMismatch(field, "object");
        }
        return v.asDocument();
    }

    private static List<BsonDocument> documents(BsonDocument d, String field, BsonValue v) throws CommandException {
        if (!v.isArray()) {
            throw typeMismatch(field, "array");
        }
        List<BsonDocument> out = new ArrayList<>();
        for (BsonValue e : v.asArray()) {
            out.add(document(d, field + " element", e));
        }
        return out;
    }

    private static BsonArray array(BsonDocument d, String field) throws CommandException {
        BsonValue v = required(d, field);
        if (!v.isArray()) {
            throw typeMismatch(field, "array");
        }
        return v.asArray();
    }

    private static String string(BsonDocument d, String field) throws CommandException {
        BsonValue v = required(d, field);
        if (!v.isString()) {
            throw typeMismatch(field, "string");
        }
        return v.asString().getValue();
    }

    private static CommandException typeMismatch(String field, String expected) {
        return new CommandException(new MongoError(14, "TypeMismatch"),
                "BSON field '" + field + "' is the wrong type, expected type '" + expected + "'");
    }

    private static CommandException duplicate(String field) {
        return new CommandException(MongoError.DUPLICATE_FIELD, "BSON field '" + field + "' is a duplicate field");
    }

    /** Collects as it reads; {@link #update} knows the three shapes an update takes. */
    private static final class Builder {
        final String name;
        final String database;
        String collection;
        final List<BsonDocument> filters = new ArrayList<>();
        BsonDocument projection;
        BsonDocument sort;
        final List<BsonDocument> pipeline = new ArrayList<>();
        final List<String> updatePaths = new ArrayList<>();
        final List<String> renamedFrom = new ArrayList<>();
        final List<BsonDocument> statements = new ArrayList<>();
        String distinctKey;
        final List<Long> cursorIds = new ArrayList<>();
        int documents;

        Builder(String name, String database, String collection) {
            this.name = name;
            this.database = database;
            this.collection = collection;
        }

        /**
         * An update document is all operators ({@code $set: {path: v}}: the paths under each operator, and
         * {@code $rename}'s targets too), a replacement (no operator: its top-level fields), or an aggregation
         * pipeline (its stages, and the fields {@code $set}/{@code $addFields} write and {@code $unset} removes).
         * Operators mixed with plain fields are refused, as the server refuses them.
         */
        void update(BsonValue u) throws CommandException {
            if (u.isArray()) {
                for (BsonValue stage : u.asArray()) {
                    BsonDocument s = document(null, "update stage", stage);
                    pipeline.add(s);
                    for (var e : s.entrySet()) {
                        switch (e.getKey()) {
                            case "$set", "$addFields" -> updatePaths.addAll(document(null, e.getKey(), e.getValue()).keySet());
                            case "$unset" -> {
                                BsonValue v = e.getValue();
                                for (BsonValue p : v.isArray() ? v.asArray() : new BsonArray(List.of(v))) {
                                    if (p.isString()) {
                                        updatePaths.add(p.asString().getValue());
                                    }
                                }
                            }
                            default -> {
                            }
                        }
                    }
                }
                return;
            }
            BsonDocument d = document(null, "u", u);
            long operators = d.keySet().stream().filter(k -> k.startsWith("$")).count();
            if (operators == 0) {
                updatePaths.addAll(d.keySet());
                return;
            }
            if (operators != d.size()) {
                throw new CommandException(new MongoError(9, "FailedToParse"),
                        "an update document may not mix operators and plain fields");
            }
            for (var e : d.entrySet()) {
                BsonDocument targets = document(null, e.getKey(), e.getValue());
                updatePaths.addAll(targets.keySet());
                if (e.getKey().equals("$rename")) {
                    renamedFrom.addAll(targets.keySet());
                    for (BsonValue to : targets.values()) {
                        if (to.isString()) {
                            updatePaths.add(to.asString().getValue());
                        }
                    }
                }
            }
        }

        Command build() {
            return new Command(name, database, collection, filters, projection, sort, pipeline, updatePaths,
                    distinctKey, cursorIds, documents, renamedFrom, statements);
        }
    }
}
