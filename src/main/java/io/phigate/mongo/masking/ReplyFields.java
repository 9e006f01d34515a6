package io.phigate.mongo.masking;

import io.phigate.mask.OperatorSpec;
import io.phigate.mask.Operators;
import io.phigate.mask.PhiType;
import io.phigate.mask.ScalarMasking;
import io.phigate.mongo.masking.ReplyPlan.MaskNode;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which fields of a reply reach the client while the store declares PHI, for every command the gateway forwards
 * (decision 0076): an allow list at every level, so no reply is forwarded as sent. Numbers, booleans, timestamps and
 * ids pass whatever their name (they hold no words); a text, document or array passes only under a name listed
 * here for its place, and is otherwise {@code [FREE_TEXT]}. The server's own words ({@code errmsg}, {@code errInfo},
 * {@code keyValue}, {@code $err}) pass only in the reply of a command the masking judged to reach no PHI. The
 * catalog listings ({@code listCollections}, {@code listIndexes}) keep names, types, key patterns and the options
 * known to hold no value; a view's pipeline, a validator, an index's partial filter, whatever a server adds, were
 * written by an administrator and may hold PHI constants, so they are withheld. Immutable tables.
 */
final class ReplyFields {
    static final ScalarMasking WITHHELD = new ScalarMasking(Operators.create(OperatorSpec.REDACT,
            PhiType.FREE_TEXT, null), PhiType.FREE_TEXT);

    /**
     * The top-level fields of every reply that carry no words of the server's (status, labels, the documents, which
     * the plan masks by their tags, cluster time gossip) and that drivers read.
     */
    static final Set<String> KEPT = Set.of("ok", "code", "codeName", "errorLabels", "cursor", "value", "values",
            "lastErrorObject", "upserted", "topologyVersion", "$clusterTime", "$configTime", "$topologyTime",
            "$configServerState", "electionId", "opTime");

    /** The server's words about what a command touched: kept only where the masking found no PHI in its reach. */
    static final Set<String> SERVERS_WORDS = Set.of("errmsg", "errInfo", "keyPattern", "keyValue");

    private static final Set<String> BUILD_INFO = Set.of("version", "gitVersion", "versionArray", "modules",
            "storageEngines", "allocator", "javascriptEngine", "sysInfo", "openssl", "buildEnvironment");

    /**
     * Beside {@link #KEPT}, the top-level texts, documents and arrays each command's reply keeps (the server's
     * self-description, names and ids); only commands the masking forwards while PHI is declared are here.
     */
    private static final Map<String, Set<String>> TOP = Map.of(
            "buildInfo", BUILD_INFO, "buildinfo", BUILD_INFO,
            "connectionStatus", Set.of("authInfo"),
            "whatsmyuri", Set.of("you"),
            "drop", Set.of("ns"),
            "killCursors", Set.of("cursorsKilled", "cursorsNotFound", "cursorsAlive", "cursorsUnknown"));

    private static final MaskNode COLLATION = inner(Map.of(), "locale", "caseLevel", "caseFirst", "strength",
            "numericOrdering", "alternate", "maxVariable", "normalization", "backwards", "version");

    /** One index as listIndexes (and listCollections' idIndex) gives it; no partialFilterExpression, no storageEngine. */
    private static final MaskNode INDEX = inner(Map.of("collation", COLLATION), "name", "key", "ns",
            "default_language", "language_override", "weights", "wildcardProjection");

    /** One collection or view as listCollections gives it; no pipeline, no validator. */
    private static final MaskNode COLLECTION = inner(Map.of(
            "options", inner(Map.of("collation", COLLATION,
                    "timeseries", inner(Map.of(), "timeField", "metaField", "granularity"),
                    "clusteredIndex", inner(Map.of(), "key", "name"),
                    "changeStreamPreAndPostImages", inner(Map.of())),
                    "viewOn", "validationLevel", "validationAction"),
            "info", inner(Map.of()),
            "idIndex", INDEX), "name", "type");

    private static final Map<String, MaskNode> ENTRIES = Map.of("listCollections", COLLECTION,
            "listIndexes", INDEX, "listDatabases", inner(Map.of(), "name"));

    private ReplyFields() {
    }

    /** The reply of {@code command} carrying the documents {@code documents} masks (null: none masked). */
    static MaskNode envelope(String command, MaskNode documents, boolean phi) {
        Set<String> told = phi ? Set.of() : SERVERS_WORDS;
        MaskNode entries = documents != null ? documents : ENTRIES.get(command);
        Map<String, MaskNode> batches = entries == null ? Map.of() : Map.of("firstBatch", entries, "nextBatch",
                entries);
        Map<String, MaskNode> top = new LinkedHashMap<>();
        // The allow list holds inside the documents a reply carries too: the server's words may come under any
        // name beside the fields drivers read in a write error, a write concern error, a cursor or an upsert.
        top.put("cursor", inner(batches, "ns", "firstBatch", "nextBatch"));
        top.put("writeErrors", inner(Map.of(), plus(told, "codeName", "errorLabels")));
        top.put("writeConcernError", inner(Map.of(), plus(told, "codeName", "errorLabels")));
        top.put("lastErrorObject", inner(Map.of(), "upserted"));
        top.put("upserted", inner(Map.of(), "_id"));
        if (command.equals("listDatabases")) {
            top.put("databases", entries);
        }
        if (documents != null) {
            top.put("value", documents);
            top.put("values", documents);
        }
        Set<String> kept = new HashSet<>(KEPT);
        kept.addAll(told);
        kept.addAll(TOP.getOrDefault(command, Set.of()));
        return new MaskNode(top, null, WITHHELD, kept);
    }

    /** A document of a reply whose text, documents and arrays are withheld but for {@code kept} and {@code children}. */
    private static MaskNode inner(Map<String, MaskNode> children, String... kept) {
        return new MaskNode(children, null, WITHHELD, Set.of(kept));
    }

    private static String[] plus(Set<String> told, String... kept) {
        List<String> all = new java.util.ArrayList<>(told);
        all.addAll(List.of(kept));
        return all.toArray(String[]::new);
    }
}
