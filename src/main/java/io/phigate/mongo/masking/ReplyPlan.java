package io.phigate.mongo.masking;

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
 * @param listed   for a catalog listing under a scoped role, the names its entries may show (a database's for
 *                 {@code listDatabases}, a collection's for {@code listCollections}); null: every entry (0096)
 */
public record ReplyPlan(MaskNode envelope, String summary, java.util.function.Predicate<String> listed) {
    /** Nothing to mask: replies are forwarded as the server sent them; only where the store declares no PHI. */
    public static final ReplyPlan PASS = new ReplyPlan(null, null);

    public ReplyPlan(MaskNode envelope, String summary) {
        this(envelope, summary, null);
    }

    public boolean passes() {
        return envelope == null && listed == null;
    }

    /**
     * This plan with a listing's entries kept only where {@code names} holds for their name, and the sizes
     * ({@code sizeOnDisk}, {@code totalSize}) written as 0: a size outside the scope is a count outside it.
     */
    public ReplyPlan listing(java.util.function.Predicate<String> names) {
        return new ReplyPlan(envelope, summary, names);
    }

    /**
     * Replies to {@code command} carrying documents tagged {@code documents}, their PHI masked by {@code operators},
     * every other field by {@link ReplyFields}' allow list; the server's words are withheld when {@code phi} (the
     * command reaches PHI).
     */
    static ReplyPlan documents(String command, FieldTags documents, Function<PhiType, ScalarMasking> operators,
                               boolean phi) {
        MaskNode envelope = ReplyFields.envelope(command, MaskNode.compile(documents, operators), phi);
        StringJoiner summary = new StringJoiner(", ");
        documents.flatten().forEach((path, type) -> summary.add(path + "(" + type.policyName() + ")="
                + operators.apply(type).spec()));
        return new ReplyPlan(envelope, summary.length() == 0 ? null : summary.toString());
    }

    /**
     * Replies to {@code command}, which carries no documents the masking judged (a catalog listing, a transaction's
     * end, the server's self-description): what they say cannot be tied to what the session may see, so the
     * server's words are withheld and only {@link ReplyFields}' fields for it pass.
     */
    static ReplyPlan withoutDocuments(String command) {
        return new ReplyPlan(ReplyFields.envelope(command, null, true), null);
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

        /**
         * How the field {@code name} of BSON type {@code type} is masked, when no child names it (a null name: one
         * whose listing does not hold for what it carries); null: kept. Words are any text: strings, code, symbols,
         * regular expressions, pointers, bytes other than a UUID (the caller gives those as an id), and the
         * documents and arrays that may hold them.
         */
        ScalarMasking otherwise(String name, int type) {
            boolean words = switch (type) {
                case 0x02, 0x03, 0x04, 0x05, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F -> true;
                default -> false;
            };
            return others != null && words && (name == null || !kept.contains(name)) ? others : null;
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
