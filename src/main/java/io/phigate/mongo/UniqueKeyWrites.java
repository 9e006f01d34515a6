package io.phigate.mongo;

import io.phigate.mask.PhiType;
import io.phigate.mongo.backend.UpstreamConnection;
import io.phigate.mongo.command.Command;
import io.phigate.mongo.masking.CommandMasking;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.BsonValue;

/**
 * Writes that answer a lookup through a unique index an administrator made over a masked field (decision 0096;
 * 0076 refuses such an index made by the session): an insert or update setting a key of it fails exactly when the
 * value is already stored, which tells the agent a masked value exists. Counted as a lookup, as the SQL side counts
 * such writes (0035): refused unless the role may look the type up. The indexes are asked of the store on the
 * gateway's own connection when the session first writes a collection holding PHI, and kept for the session until
 * it sends a command that may change them. Runs on the connection's thread.
 */
final class UniqueKeyWrites {
    private static final Set<String> WRITES = Set.of("insert", "update", "findAndModify", "findandmodify");
    /** Commands after which a collection's indexes may differ: what is known is forgotten. */
    private static final Set<String> INDEX_CHANGES = Set.of("createIndexes", "dropIndexes", "collMod", "drop",
            "dropDatabase", "renameCollection", "create");
    private static final int MAX_KNOWN = 1024;

    private final CommandMasking masking;
    private final UpstreamConnection upstream;
    /** Namespace to the unique key paths over masked PHI the role may not look up. */
    private final Map<String, Map<String, PhiType>> known = new HashMap<>();

    UniqueKeyWrites(CommandMasking masking, UpstreamConnection upstream) {
        this.masking = masking;
        this.upstream = upstream;
    }

    /**
     * Null when {@code command} sets no such key, else why it is refused. An aggregate's {@code $merge} inserts
     * its output into its target, whose paths are not read here, so it is refused into a collection with such an
     * index ({@code whenMatched: "fail"} or not, a duplicate key fails the merge; an attacker's review of 0096). A
     * client {@code bulkWrite} never gets here: the masking refuses it while the store declares PHI.
     */
    String refusal(Command command, BsonDocument body) throws IOException {
        return switch (command.name()) {
            case "aggregate" -> merge(command);
            default -> WRITES.contains(command.name()) ? refusal(command, body, command.database(),
                    command.collection()) : null;
        };
    }

    private String refusal(Command command, BsonDocument body, String database, String collection)
            throws IOException {
        Map<String, PhiType> keys = keys(database, collection);
        String namespace = database + "." + collection;
        if (keys == null) {
            return unreadable(namespace);
        }
        if (!keys.isEmpty() && !command.pipeline().isEmpty()) {
            return "a pipeline update of " + namespace + ", which has a unique index over masked PHI ("
                    + String.join(", ", keys.keySet()) + "): phigate does not read which paths a pipeline sets, so"
                    + " it cannot tell whether the write answers a lookup; refused";
        }
        for (String written : written(command, body)) {
            for (var key : keys.entrySet()) {
                if (overlap(written, key.getKey())) {
                    return "a unique index over " + key.getKey() + " (a key holding masked "
                            + key.getValue().policyName() + ") makes this write fail exactly when the key it sets is"
                            + " already stored, which is a lookup; the role may not look up "
                            + key.getValue().policyName() + "; refused";
                }
            }
        }
        return null;
    }

    /** An aggregate's final {@code $merge} into a collection (of its database) with a unique index over masked PHI. */
    private String merge(Command command) throws IOException {
        if (command.pipeline().isEmpty() || !(command.pipeline().getLast().get("$merge") instanceof BsonValue m)) {
            return null;
        }
        BsonValue into = m instanceof BsonDocument d ? d.get("into") : m;
        String collection = into instanceof BsonString s ? s.getValue()
                : into instanceof BsonDocument d && d.get("coll") instanceof BsonString c ? c.getValue() : null;
        String database = into instanceof BsonDocument d && d.get("db") instanceof BsonString db ? db.getValue()
                : command.database();
        if (collection == null || !masking.declaresPhi(database, collection)) {
            return null; // malformed: the server refuses it; or a target without PHI to answer for
        }
        Map<String, PhiType> keys = keys(database, collection);
        if (keys == null) {
            return unreadable(database + "." + collection);
        }
        return keys.isEmpty() ? null : "$merge into " + database + "." + collection + ", which has a unique index"
                + " over masked PHI (" + String.join(", ", keys.keySet()) + "): a merged document with a stored"
                + " value fails with a duplicate key, which is a lookup, and phigate does not read which paths a"
                + " pipeline's output sets; refused";
    }

    /** The unique masked keys of a collection holding PHI, asked once per session; null when they cannot be read. */
    private Map<String, PhiType> keys(String database, String collection) throws IOException {
        if (!masking.declaresPhi(database, collection)) {
            return Map.of();
        }
        String namespace = database + "." + collection;
        Map<String, PhiType> keys = known.get(namespace);
        if (keys == null) {
            List<BsonDocument> indexes = upstream.listIndexes(database, collection);
            if (indexes == null) {
                return null;
            }
            keys = masking.uniqueMaskedKeys(database, collection, indexes);
            if (known.size() >= MAX_KNOWN) {
                known.clear();
            }
            known.put(namespace, keys);
        }
        return keys;
    }

    private static String unreadable(String namespace) {
        return "phigate could not read the unique indexes of " + namespace + ", so it cannot tell whether this write"
                + " answers a lookup of masked PHI; refused";
    }

    /** After a command was forwarded: one that may change indexes makes every collection's be asked again. */
    void forwarded(Command command) {
        if (INDEX_CHANGES.contains(command.name())) {
            known.clear();
        }
    }

    /** The paths a write sets: an insert's documents' fields, an update's targets and replacement fields. */
    private static List<String> written(Command command, BsonDocument body) {
        List<String> paths = new ArrayList<>(command.updatePaths());
        if (command.name().equals("insert") && body.get("documents") instanceof BsonArray documents) {
            for (BsonValue d : documents) {
                if (d.isDocument()) {
                    paths.addAll(d.asDocument().keySet());
                }
            }
        }
        return paths;
    }

    /**
     * Whether writing {@code written} sets (part of) {@code key}. Array positions are not part of an index's key
     * path: {@code contacts.0.phone}, {@code contacts.$.phone} and {@code contacts.$[c].phone} all write the key
     * {@code contacts.phone} (an attacker's review of 0096: {@code $set} of {@code contacts.0.phone} answered a
     * guessed phone with E11000), so positional and numeric segments are dropped before comparing. A numeric field
     * name of an embedded document is dropped as well, which can only refuse more.
     */
    static boolean overlap(String written, String key) {
        String w = withoutPositions(written);
        String k = withoutPositions(key.replace(".$**", "").replace("$**", ""));
        return k.isEmpty() || w.equals(k) || k.startsWith(w + ".") || w.startsWith(k + ".");
    }

    private static String withoutPositions(String path) {
        StringBuilder out = new StringBuilder();
        for (String segment : path.split("\\.", -1)) {
            boolean position = segment.equals("$") || segment.startsWith("$[") && segment.endsWith("]")
                    || !segment.isEmpty() && segment.chars().allMatch(Character::isDigit);
            if (!position) {
                out.append(out.isEmpty() ? "" : ".").append(segment);
            }
        }
        return out.toString();
    }
}
