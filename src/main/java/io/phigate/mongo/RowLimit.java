package io.phigate.mongo;

import io.phigate.mongo.backend.UpstreamConnection;
import io.phigate.mongo.command.Command;
import io.phigate.mongo.masking.DocumentBudget;
import io.phigate.mongo.wire.Frame;
import io.phigate.mongo.wire.MsgHeader;
import io.phigate.mongo.wire.WireCodec;
import io.phigate.mongo.wire.WireMessage;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import io.phigate.policy.Role;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A role's {@code row_limit} on the document store (decision 0096): the most documents one cursor delivers, counted
 * across its first batch and every getMore, or one command answering inline (distinct's values, an inline
 * mapReduce's results). The cut itself is the reply masker's ({@link DocumentBudget}); this class says which
 * commands are counted, keeps an exhaust stream from running past the cut, and kills the server's cursor the client
 * was told is exhausted. MongoDB has no notices: the cursor simply ends, as a {@code limit} would end it; the audit
 * record says the limit cut it. Catalog listings ({@code listCollections}, {@code listIndexes},
 * {@code listDatabases}) are not counted: they carry no stored document, and a driver cut short of a listing
 * misreads the database. Runs on the connection's thread.
 */
final class RowLimit {
    private static final Logger log = LoggerFactory.getLogger(RowLimit.class);
    /** The commands whose replies carry a collection's documents (or values) in batches. */
    private static final Set<String> COUNTED = Set.of("find", "aggregate", "distinct", "mapReduce", "mapreduce");

    /**
     * Accumulators (and window functions) that give one value per output document however many they read: under a
     * limit, only these run in {@code $group}, {@code $bucket}, {@code $bucketAuto} and {@code $setWindowFields}.
     * {@code $push}, {@code $addToSet}, {@code $mergeObjects}, the n-pickers and {@code $accumulator} gather many
     * documents' values into one.
     */
    private static final Set<String> ONE_VALUE = Set.of("$sum", "$avg", "$min", "$max", "$count", "$first", "$last",
            "$stdDevPop", "$stdDevSamp", "$median", "$percentile", "$top", "$bottom", "$rank", "$denseRank",
            "$documentNumber", "$shift", "$derivative", "$integral", "$expMovingAvg", "$covariancePop",
            "$covarianceSamp", "$locf", "$linearFill");
    /** Stages whose {@code output} (or own fields, for $group) are accumulators. */
    private static final Set<String> ACCUMULATING = Set.of("$group", "$bucket", "$bucketAuto", "$setWindowFields");

    /** 0 for none. */
    private final long limit;
    private final String roleName;
    private final String sessionId;

    RowLimit(Role role, String sessionId) {
        this.limit = role == null ? 0 : role.rowLimit();
        this.roleName = role == null ? null : role.name();
        this.sessionId = sessionId;
    }

    /**
     * Null, or why {@code command} is refused under the limit: it would pack many documents into one, which the
     * count would take for one row (an attacker's review of 0096: {@code $group} with {@code $push} delivered 12
     * patients as one document to a role limited to 5). Refused, not counted: counting array elements would misread
     * every document that holds an array of its own. The pipelines read are an aggregate's, at any depth, and those
     * of a view the session makes ({@code create}, {@code collMod}), which a find would then read as one document;
     * mapReduce's reduce is code phigate does not read, so it is refused.
     */
    String refusal(Command command, BsonDocument body) {
        if (limit == 0) {
            return null;
        }
        String gathering = switch (command.name()) {
            case "aggregate" -> gathering(command.pipeline());
            case "create", "collMod" -> body.get("pipeline") instanceof BsonArray stages ? gathering(stages) : null;
            case "mapReduce", "mapreduce" -> "mapReduce (its reduce is code phigate does not read)";
            default -> null;
        };
        return gathering == null ? null : gathering + " gathers many documents into one, which role " + roleName
                + "'s row_limit " + limit + " would count as one row; refused under a row limit (aggregate with one"
                + " value per group, or $unwind a $lookup's array at once, and each row is counted)";
    }

    /** The first stage or accumulator of {@code stages} (or of a pipeline nested in them) that gathers, or null. */
    static String gathering(List<? extends BsonValue> stages) {
        for (int i = 0; i < stages.size(); i++) {
            if (!(stages.get(i) instanceof BsonDocument stage) || stage.isEmpty()) {
                continue; // the masking and the server refuse a malformed stage
            }
            String name = stage.getFirstKey();
            BsonValue spec = stage.get(name);
            String found = switch (name) {
                case "$facet" -> "$facet";
                case "$lookup", "$graphLookup" -> unwoundAtOnce(spec, i + 1 < stages.size() ? stages.get(i + 1) : null)
                        ? nested(spec) : name + " (its array not unwound by the next stage)";
                case "$unionWith" -> nested(spec);
                case "$merge" -> combines(spec) ? "$merge (its default whenMatched merge, or a pipeline, folds every"
                        + " document matched on the same key into one stored document)" : null;
                default -> ACCUMULATING.contains(name) ? accumulators(name, spec) : null;
            };
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    /**
     * A {@code $merge} whose matched documents are combined with what is stored: {@code merge} (the default) adds
     * each source document's fields, a pipeline may append it to an array; with every document given one {@code on}
     * value, a whole collection lands in one document, which a find then reads as one row. {@code replace},
     * {@code keepExisting} and {@code fail} keep one source document per stored one.
     */
    private static boolean combines(BsonValue spec) {
        BsonValue whenMatched = spec instanceof BsonDocument d ? d.get("whenMatched") : null;
        return !(whenMatched instanceof BsonString mode
                && Set.of("replace", "keepExisting", "fail").contains(mode.getValue()));
    }

    private static String nested(BsonValue spec) {
        return spec instanceof BsonDocument d && d.get("pipeline") instanceof BsonArray p ? gathering(p) : null;
    }

    private static String accumulators(String stage, BsonValue spec) {
        if (!(spec instanceof BsonDocument d)) {
            return null;
        }
        BsonValue fields = stage.equals("$group") ? d : d.get("output");
        if (!(fields instanceof BsonDocument outputs)) {
            return null; // $bucket without output counts; $group without fields is distinct keys
        }
        for (var field : outputs.entrySet()) {
            if (stage.equals("$group") && field.getKey().equals("_id")) {
                continue;
            }
            if (!(field.getValue() instanceof BsonDocument accumulator)) {
                return stage + "'s " + field.getKey() + " (not an accumulator phigate reads)";
            }
            for (String op : accumulator.keySet()) {
                if (!op.equals("window") && !ONE_VALUE.contains(op)) {
                    return stage + " with " + op;
                }
            }
        }
        return null;
    }

    /** A {@code $lookup}'s array taken apart by the very next stage: each joined document is then a row, counted. */
    private static boolean unwoundAtOnce(BsonValue spec, BsonValue next) {
        if (!(spec instanceof BsonDocument d) || !(d.get("as") instanceof BsonString as)
                || !(next instanceof BsonDocument n) || !(n.get("$unwind") instanceof BsonValue unwind)) {
            return false;
        }
        BsonValue path = unwind instanceof BsonDocument u ? u.get("path") : unwind;
        return path instanceof BsonString p && p.getValue().equals("$" + as.getValue());
    }

    /**
     * The count {@code command}'s replies are cut by: a fresh one for a command that opens a cursor or answers
     * documents inline, its cursor's for a getMore (null when the cursor is a listing's); null without a limit.
     */
    DocumentBudget budgetFor(Command command, OpenCursors cursors) {
        if (limit == 0) {
            return null;
        }
        if (command.name().equals("getMore")) {
            return command.cursorIds().isEmpty() ? null : cursors.budget(command.cursorIds().getFirst());
        }
        return COUNTED.contains(command.name()) ? new DocumentBudget(limit) : null;
    }

    /**
     * {@code frame} without the exhaust flag (and so without a checksum over the old flags): an exhaust stream
     * cannot be stopped once the limit is reached but by reading it to its end, so the server answers a counted
     * getMore once, which a driver that allowed exhaust accepts.
     */
    static Frame withoutExhaust(OpMsg msg) {
        int flags = msg.flagBits() & ~OpMsg.EXHAUST_ALLOWED & ~OpMsg.CHECKSUM_PRESENT;
        byte[] bytes = WireCodec.encode(new OpMsg(msg.header(), flags, msg.body(), msg.sequences()));
        return new Frame(new MsgHeader(bytes.length, msg.header().requestId(), 0, WireMessage.OP_MSG), bytes);
    }

    /**
     * The client was told cursor {@code id} is exhausted while the server holds it open: the gateway kills it, so it
     * does not hold the store's resources until it times out. Logged without values (the namespace only).
     *
     * @param namespace {@code database.collection} the cursor reads
     */
    void endOnServer(UpstreamConnection upstream, String namespace, long id) throws IOException {
        int dot = namespace.indexOf('.');
        String database = dot < 0 ? namespace : namespace.substring(0, dot);
        String collection = dot < 0 ? "$cmd.aggregate" : namespace.substring(dot + 1);
        boolean killed = upstream.killCursor(database, collection, id);
        log.info("mongo session {}: role {} reached its row_limit {} on a cursor of {}; the store {} it", sessionId,
                roleName, limit, namespace, killed ? "killed" : "did not kill");
    }

    /** What the completion record's {@code masking} field adds when the limit cut a reply or ended a cursor. */
    static String note(DocumentBudget budget) {
        return "row_limit " + budget.limit() + " reached: " + budget.deliveredSoFar() + " documents delivered, the"
                + " cursor ended" + (budget.serverCursorLeftOpen() ? " and killed on the store" : "");
    }
}
