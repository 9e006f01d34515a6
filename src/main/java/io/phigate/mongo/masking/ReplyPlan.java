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
        if (docs != null) {
            top.put("cursor", new MaskNode(Map.of("firstBatch", docs, "nextBatch", docs), null));
            top.put("value", docs);
            top.put("values", docs);
        }
        return plan(top, documents, operators, withholdErrors);
    }

    private static ReplyPlan plan(Map<String, MaskNode> top, FieldTags documents,
                                  Function<PhiType, ScalarMasking> operators, boolean withholdErrors) {
        if (withholdErrors) {
            MaskNode withheld = new MaskNode(Map.of(), WITHHELD);
            Map<String, MaskNode> error = Map.of("errmsg", withheld, "errInfo", withheld, "keyValue", withheld);
            top.putAll(error);
            // The same words under the names other servers give them: the legacy protocol's $err (which
            // mongo-java-server still sends beside errmsg), getLastError's err, mongos' per-shard raw replies.
            top.put("$err", withheld);
            top.put("err", withheld);
            top.put("raw", withheld);
            top.put("writeErrors", new MaskNode(error, null));
            top.put("writeConcernError", new MaskNode(error, null));
        }
        if (top.isEmpty()) {
            return PASS;
        }
        StringJoiner summary = new StringJoiner(", ");
        documents.flatten().forEach((path, type) -> summary.add(path + "(" + type.policyName() + ")="
                + operators.apply(type).spec()));
        return new ReplyPlan(new MaskNode(top, null), summary.length() == 0 ? null : summary.toString());
    }

    /**
     * One field of a reply as the masking walks it: masked whole by {@code leaf}, or walked into by
     * {@code children} (into every element when the field is an array). Immutable.
     */
    public record MaskNode(Map<String, MaskNode> children, ScalarMasking leaf) {
        public MaskNode {
            children = Map.copyOf(children);
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
