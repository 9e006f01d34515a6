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
import org.bson.BsonDocument;
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

    /** Null when {@code command} sets no such key, else why it is refused. */
    String refusal(Command command, BsonDocument body) throws IOException {
        if (!WRITES.contains(command.name()) || !masking.declaresPhi(command.database(), command.collection())) {
            return null;
        }
        Map<String, PhiType> keys = known.get(command.namespace());
        if (keys == null) {
            List<BsonDocument> indexes = upstream.listIndexes(command.database(), command.collection());
            if (indexes == null) {
                return "phigate could not read the unique indexes of " + command.namespace() + ", so it cannot tell"
                        + " whether this write answers a lookup of masked PHI; refused";
            }
            keys = masking.uniqueMaskedKeys(command.database(), command.collection(), indexes);
            if (known.size() >= MAX_KNOWN) {
                known.clear();
            }
            known.put(command.namespace(), keys);
        }
        if (!keys.isEmpty() && !command.pipeline().isEmpty()) {
            return "a pipeline update of " + command.namespace() + ", which has a unique index over masked PHI ("
                    + String.join(", ", keys.keySet()) + "): phigate does not read which paths a pipeline sets, so"
                    + " it cannot tell whether the write answers a lookup; refused";
        }
        for (String written : written(command, body)) {
            for (var key : keys.entrySet()) {
                if (overlap(written, key.getKey())) {
                    return "a unique index over " + key.getKey() + " makes this write fail exactly when its masked"
                            + " value (" + key.getValue().policyName() + ") is already stored, which is a lookup;"
                            + " the role may not look up " + key.getValue().policyName() + "; refused";
                }
            }
        }
        return null;
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
        if (command.name().equals("insert") && body.get("documents") instanceof org.bson.BsonArray documents) {
            for (BsonValue d : documents) {
                if (d.isDocument()) {
                    paths.addAll(d.asDocument().keySet());
                }
            }
        }
        return paths;
    }

    private static boolean overlap(String written, String key) {
        String k = key.replace(".$**", "").replace("$**", "");
        return k.isEmpty() || written.equals(k) || k.startsWith(written + ".") || written.startsWith(k + ".");
    }
}
