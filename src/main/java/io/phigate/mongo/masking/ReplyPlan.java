package io.phigate.mongo.masking;

import io.phigate.mask.OperatorSpec;
import io.phigate.mask.Operators;
import io.phigate.mask.PhiType;
import io.phigate.mask.ScalarMasking;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;
import java.util.function.Function;

/**
 * How the replies to one command (and to the getMores of its cursor) are masked: where in a reply the documents
 * are ({@code cursor.firstBatch}, {@code cursor.nextBatch}, findAndModify's {@code value}, distinct's
 * {@code values}), which of their fields are masked and by which operator, and whether the server's error messages
 * are withheld (a conversion error quotes the value it could not convert: {@code $toInt} of an SSN). Immutable.
 *
 * @param envelope the reply body's fields to mask, from its top
 * @param summary  what the completion record's {@code masking} field keeps: {@code path(type)=operator, ...}
 */
public record ReplyPlan(MaskNode envelope, String summary) {
    /** Nothing to mask: replies are forwarded as the server sent them. */
    public static final ReplyPlan PASS = new ReplyPlan(null, null);

    /**
     * The top-level fields of a reply that carry no words of the server's (status, counts, ids the client sent,
     * labels, cluster time gossip; the documents, which the plan masks by their tags where it has any) and that
     * drivers read: kept in the reply of a command touching PHI, whose other
     * text, documents and arrays are withheld. Numbers, booleans, timestamps and ids are kept whatever their name.
     */
    static final java.util.Set<String> KEPT = java.util.Set.of("ok", "code", "codeName", "errorLabels", "cursor",
            "value", "values",
            "lastErrorObject", "upserted", "topologyVersion", "$clusterTime", "$configTime", "$topologyTime",
            "$configServerState", "electionId", "opTime");

    private static final ScalarMasking WITHHELD = new ScalarMasking(Operators.create(OperatorSpec.REDACT,
            PhiType.FREE_TEXT, null), PhiType.FREE_TEXT);

    public boolean passes() {
        return envelope == null;
    }

    /** Replies carrying documents tagged {@code documents}, their PHI masked by {@code operators}. */
    static ReplyPlan documents(FieldTags documents, Function<PhiType, ScalarMasking> operators,
                               boolean withholdErrors) {
        MaskNode docs = MaskNode.compile(documents, operators);
        Map<String, MaskNode> top = new LinkedHashMap<>();
        Map<String, MaskNode> batches = docs == null ? Map.of() : Map.of("firstBatch", docs, "nextBatch", docs);
        if (docs != null) {
            top.put("cursor", new MaskNode(batches, null));
            top.put("value", docs);
            top.put("values", docs);
        }
        if (withholdErrors) {
            // The allow list holds inside the documents a reply carries too: the server's words may come under any
            // name beside the fields drivers read in a write error, a write concern error, a cursor or an upsert.
            top.put("cursor", inner(batches, "ns", "firstBatch", "nextBatch"));
            top.put("writeErrors", inner(Map.of(), "codeName", "errorLabels"));
            top.put("writeConcernError", inner(Map.of(), "codeName", "errorLabels"));
            top.put("lastErrorObject", inner(Map.of(), "upserted"));
            top.put("upserted", inner(Map.of(), "_id"));
        }
        return plan(top, documents, operators, withholdErrors);
    }

    /** A document of a reply whose text, documents and arrays are withheld but for {@code kept} and {@code children}. */
    private static MaskNode inner(Map<String, MaskNode> children, String... kept) {
        return new MaskNode(children, null, WITHHELD, java.util.Set.of(kept));
    }

    private static ReplyPlan plan(Map<String, MaskNode> top, FieldTags documents,
                                  Function<PhiType, ScalarMasking> operators, boolean withholdErrors) {
        if (top.isEmpty()) {
            return PASS;
        }
        // Beside the fields named, the server's words may come under any name (the legacy protocol's $err, which
        // mongo-java-server sends beside errmsg, carried a stored SSN; getLastError's err; mongos' raw): every
        // other top-level text, document or array is withheld too, but for the fields drivers read.
        MaskNode envelope = withholdErrors ? new MaskNode(top, null, WITHHELD, KEPT) : new MaskNode(top, null);
        StringJoiner summary = new StringJoiner(", ");
        documents.flatten().forEach((path, type) -> summary.add(path + "(" + type.policyName() + ")="
                + operators.apply(type).spec()));
        return new ReplyPlan(envelope, summary.length() == 0 ? null : summary.toString());
    }

    /**
     * One field of a reply as the masking walks it: masked whole by {@code leaf}, or walked into by
     * {@code children} (into every element when the field is an array). Immutable.
     */
    public record MaskNode(Map<String, MaskNode> children, ScalarMasking leaf, ScalarMasking others,
                           java.util.Set<String> kept) {
        public MaskNode {
            children = Map.copyOf(children);
            kept = java.util.Set.copyOf(kept);
        }

        /**
         * A node whose fields not in {@code children} are kept as they are; with {@code others}, those of them not
         * in {@code kept} that hold text, a document or an array are masked by it.
         */
        public MaskNode(Map<String, MaskNode> children, ScalarMasking leaf) {
            this(children, leaf, null, java.util.Set.of());
        }

        /**
         * The node of the field {@code name}, or null. A name holding dots is walked as the path it spells: a store
         * may send {@code $project: {"x.y": "$ssn"}}'s value under the one name {@code "x.y"} (mongo-java-server
         * does) where the analysis tagged the path {@code x.y}; a tagged value on the way masks the whole field.
         */
        MaskNode child(String name) {
            MaskNode direct = children.get(name);
            if (direct != null || name.indexOf('.') < 0) {
                return direct;
            }
            MaskNode at = this;
            for (String part : name.split("\\.", -1)) {
                if (at.leaf() != null) {
                    return at;
                }
                at = at.children().get(part);
                if (at == null) {
                    return null;
                }
            }
            return at;
        }

        /** How the field {@code name} of BSON type {@code type} is masked, when no child names it; null: kept. */
        ScalarMasking otherwise(String name, int type) {
            boolean words = type == 0x02 || type == 0x03 || type == 0x04 || type == 0x0D || type == 0x0E
                    || type == 0x0F;
            return others != null && words && !kept.contains(name) ? others : null;
        }

        /** The nodes masking what {@code tags} tag; null when every type there passes unmasked. */
        static MaskNode compile(FieldTags tags, Function<PhiType, ScalarMasking> operators) {
            if (tags.tag() != null) {
                ScalarMasking m = operators.apply(tags.tag());
                return m.passes() ? null : new MaskNode(Map.of(), m);
            }
            Map<String, MaskNode> children = new LinkedHashMap<>();
            tags.children().forEach((k, v) -> {
                MaskNode n = compile(v, operators);
                if (n != null) {
                    children.put(k, n);
                }
            });
            return children.isEmpty() ? null : new MaskNode(children, null);
        }
    }
}
