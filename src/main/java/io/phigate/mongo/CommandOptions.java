package io.phigate.mongo;

import io.phigate.mongo.command.Command;
import io.phigate.mongo.command.CommandReader;
import io.phigate.mongo.wire.MongoError;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * The options each forwarded command may carry, as an allow list (decision 0076): the fields the gateway reads or has
 * judged to change nothing it reads, and the generic arguments drivers add to every command. A field mongod knows
 * and phigate does not (an internal option, one a later server adds) is refused with mongod's own error for a field
 * a command does not take, so no option changes what a command reads or returns out of the analysis' sight. An
 * update's and a delete's statements are read the same way. Whether PHI is declared or not, like {@link
 * ServerCommands}. Pure.
 */
final class CommandOptions {
    /** What drivers add to any command: routing, sessions and transactions, concerns, time limits, the API version. */
    private static final Set<String> GENERIC = Set.of("$db", "lsid", "txnNumber", "autocommit", "startTransaction",
            "$clusterTime", "$readPreference", "readConcern", "writeConcern", "comment", "maxTimeMS", "apiVersion",
            "apiStrict", "apiDeprecationErrors");

    private static final Set<String> FIND = Set.of("filter", "sort", "projection", "hint", "skip", "limit",
            "batchSize", "singleBatch", "max", "min", "returnKey", "showRecordId", "tailable", "oplogReplay",
            "noCursorTimeout", "awaitData", "allowPartialResults", "collation", "allowDiskUse", "let");
    private static final Set<String> FIND_AND_MODIFY = Set.of("query", "sort", "remove", "update", "new", "fields",
            "upsert", "bypassDocumentValidation", "collation", "arrayFilters", "hint", "let");
    private static final Set<String> MAP_REDUCE = Set.of("map", "reduce", "finalize", "out", "query", "sort", "limit",
            "scope", "jsMode", "verbose", "bypassDocumentValidation", "collation");

    /** Beside the command's own name and {@link #GENERIC}: what each forwarded command may carry. */
    private static final Map<String, Set<String>> OPTIONS = Map.ofEntries(
            Map.entry("find", FIND),
            Map.entry("aggregate", Set.of("pipeline", "explain", "allowDiskUse", "cursor", "bypassDocumentValidation",
                    "collation", "hint", "let")),
            Map.entry("getMore", Set.of("collection", "batchSize")),
            Map.entry("killCursors", Set.of("cursors")),
            Map.entry("count", Set.of("query", "limit", "skip", "hint", "collation")),
            Map.entry("distinct", Set.of("key", "query", "collation", "hint")),
            Map.entry("insert", Set.of("documents", "ordered", "bypassDocumentValidation")),
            Map.entry("update", Set.of("updates", "ordered", "bypassDocumentValidation", "let")),
            Map.entry("delete", Set.of("deletes", "ordered", "let")),
            Map.entry("findAndModify", FIND_AND_MODIFY),
            Map.entry("findandmodify", FIND_AND_MODIFY),
            Map.entry("bulkWrite", Set.of("ops", "nsInfo", "ordered", "bypassDocumentValidation", "let",
                    "errorsOnly", "cursor")),
            Map.entry("mapReduce", MAP_REDUCE),
            Map.entry("mapreduce", MAP_REDUCE),
            Map.entry("explain", Set.of("verbosity")),
            Map.entry("create", Set.of("capped", "autoIndexId", "size", "max", "storageEngine", "validator",
                    "validationLevel", "validationAction", "indexOptionDefaults", "viewOn", "pipeline", "collation",
                    "timeseries", "expireAfterSeconds", "clusteredIndex", "changeStreamPreAndPostImages", "idIndex")),
            Map.entry("drop", Set.of()),
            Map.entry("dropDatabase", Set.of()),
            Map.entry("listCollections", Set.of("filter", "nameOnly", "authorizedCollections", "cursor")),
            Map.entry("listIndexes", Set.of("cursor")),
            Map.entry("listDatabases", Set.of("filter", "nameOnly", "authorizedDatabases")),
            Map.entry("createIndexes", Set.of("indexes", "commitQuorum")),
            Map.entry("dropIndexes", Set.of("index")),
            Map.entry("collMod", Set.of("index", "validator", "validationLevel", "validationAction", "viewOn",
                    "pipeline", "expireAfterSeconds", "changeStreamPreAndPostImages", "cappedSize", "cappedMax",
                    "timeseries")),
            Map.entry("renameCollection", Set.of("to", "dropTarget")),
            Map.entry("convertToCapped", Set.of("size")),
            Map.entry("cloneCollectionAsCapped", Set.of("toCollection", "size")),
            Map.entry("emptycapped", Set.of()),
            Map.entry("collStats", Set.of("scale")),
            Map.entry("dbStats", Set.of("scale", "freeStorage")),
            Map.entry("startSession", Set.of()),
            Map.entry("endSessions", Set.of()),
            Map.entry("refreshSessions", Set.of()),
            Map.entry("killSessions", Set.of()),
            Map.entry("abortTransaction", Set.of("recoveryToken")),
            Map.entry("commitTransaction", Set.of("recoveryToken")),
            Map.entry("ping", Set.of()),
            Map.entry("buildInfo", Set.of()),
            Map.entry("buildinfo", Set.of()),
            Map.entry("listCommands", Set.of()),
            Map.entry("connectionStatus", Set.of("showPrivileges")),
            Map.entry("whatsmyuri", Set.of()),
            Map.entry("getLastError", Set.of("w", "j", "wtimeout", "fsync")));

    /**
     * The fields inside the generic options and a cursor's, as drivers send them; mongod also reads internal ones
     * there ({@code readConcern.allowTransactionTableSnapshot}, {@code writeConcern.wOpTime}, {@code provenance}),
     * which no agent sends.
     */
    private static final Map<String, Set<String>> INSIDE = Map.of(
            "readConcern", Set.of("level", "afterClusterTime", "atClusterTime"),
            "writeConcern", Set.of("w", "j", "wtimeout", "fsync"),
            "$readPreference", Set.of("mode", "tags", "maxStalenessSeconds", "hedge"),
            "cursor", Set.of("batchSize"));

    /** The fields of one statement of an update or a delete, by the array (or document sequence) holding it. */
    private static final Map<String, Set<String>> STATEMENTS = Map.of(
            "updates", Set.of("q", "u", "c", "upsert", "multi", "collation", "arrayFilters", "hint", "sort"),
            "deletes", Set.of("q", "limit", "collation", "hint"));

    private CommandOptions() {
    }

    /**
     * Why {@code body} (the command as the server reads it, sequences in) carries a field phigate does not forward,
     * or null; a command with no table here is left to {@link ServerCommands}, which refuses it.
     */
    static String refusal(Command command, BsonDocument body) {
        String name = command.name();
        if (!OPTIONS.containsKey(name)) {
            return null;
        }
        String unknown = unknownIn(name, body, command.statements(), name);
        if (unknown == null && name.equals("explain")) {
            BsonDocument wrapped = CommandReader.explained(body, command.database());
            String inner = wrapped == null ? null : wrapped.getFirstKey();
            if (inner != null && OPTIONS.containsKey(inner)) {
                // explained alone, so its statements are in the body (an explain carries no document sequences)
                List<BsonDocument> statements = new ArrayList<>();
                if (wrapped.get(inner.equals("update") ? "updates" : "deletes") instanceof BsonArray list) {
                    list.stream().filter(BsonValue::isDocument).forEach(v -> statements.add(v.asDocument()));
                }
                unknown = unknownIn(inner, wrapped, statements, "explain." + inner);
            }
        }
        return unknown == null ? null : "BSON field '" + unknown + "' is an unknown field: phigate forwards only the"
                + " options it reads (decision 0076)";
    }

    /** The first field of {@code body} (command {@code name}) not listed, as {@code at.field}, or null. */
    private static String unknownIn(String name, BsonDocument body, List<BsonDocument> statements, String at) {
        Set<String> allowed = OPTIONS.get(name);
        for (var field : body.entrySet()) {
            String key = field.getKey();
            if (!key.equals(name) && !GENERIC.contains(key) && !allowed.contains(key)) {
                return at + "." + key;
            }
            if (INSIDE.get(key) instanceof Set<String> inside && field.getValue() instanceof BsonDocument value) {
                for (String inner : value.keySet()) {
                    if (!inside.contains(inner)) {
                        return at + "." + key + "." + inner;
                    }
                }
            }
        }
        Set<String> fields = STATEMENTS.get(name.equals("update") ? "updates" : name.equals("delete") ? "deletes" : "");
        for (BsonDocument statement : fields == null ? List.<BsonDocument>of() : statements) {
            for (String field : statement.keySet()) {
                if (!fields.contains(field)) {
                    return at + (name.equals("update") ? ".updates." : ".deletes.") + field;
                }
            }
        }
        return null;
    }

    /**
     * Why an option asks for what an agent may not lift, or null: {@code bypassDocumentValidation} sets aside the
     * administrator's validator with the gateway's privilege, which every agent shares.
     */
    static String forbidden(BsonDocument body) {
        BsonValue bypass = body.get("bypassDocumentValidation");
        boolean off = bypass == null || bypass.isBoolean() && !bypass.asBoolean().getValue()
                || bypass.isNumber() && bypass.asNumber().doubleValue() == 0;
        return off ? null : "bypassDocumentValidation sets aside the store's validators with the gateway's own"
                + " privilege, which every agent shares; phigate does not forward it";
    }

    /** The commands this table reads; every command {@link ServerCommands} forwards must be one. */
    static Set<String> commands() {
        return OPTIONS.keySet();
    }
}
