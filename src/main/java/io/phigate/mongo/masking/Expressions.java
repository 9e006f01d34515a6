package io.phigate.mongo.masking;

import io.phigate.mask.PhiType;
import java.util.Set;
import java.util.function.Predicate;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * What an aggregation expression reads and what its value holds. A value is either moved or computed. A move (a
 * field path, {@code $$ROOT}/{@code $$CURRENT}, an object or array literal of moves, {@code $literal}) carries its
 * tags to the output as they are. A computation ({@code $concat}, {@code $substr}, {@code $cond}, {@code $map}, any
 * operator) over PHI the session sees masked is refused (decision 0053): its value would be masked, but whether it
 * fails, turns null or missing, or how long an array it makes depends on the value, and each of those reaches the
 * agent unmasked ({@code $cond: [{$eq: [{$substrCP: ["$ssn", 0, 1]}, "8"]}, null, "y"]} rebuilds an SSN a
 * character at a time). A computation over PHI the session sees unmasked is tagged with the strongest type it reads,
 * so its value is shown as that type is. {@code $getField} and {@code $meta} of the index key may read any field and
 * count as reading the whole document. Pure.
 */
final class Expressions {
    /** Operators that run code the gateway cannot read. */
    static final Set<String> SERVER_CODE = Set.of("$function", "$accumulator", "$where");
    /** {@code $meta} values that are facts of the search, not of the document's fields. */
    private static final Set<String> META_FACTS = Set.of("textScore", "searchScore", "randVal", "recordId",
            "geoNearDistance", "geoNearPoint", "sortKey");

    private Expressions() {
    }

    /**
     * The tags of the expression's value in documents tagged {@code in}; refused when it runs server-side code or
     * computes from a type {@code masked} says this session sees masked.
     */
    static FieldTags tags(BsonValue expression, FieldTags in, Predicate<PhiType> masked) throws Refused {
        if (expression.isString()) {
            String s = expression.asString().getValue();
            if (s.equals("$$ROOT") || s.equals("$$CURRENT")) {
                return in;
            }
            if (s.startsWith("$$ROOT.") || s.startsWith("$$CURRENT.")) {
                return in.at(s.substring(s.indexOf('.') + 1));
            }
            if (s.startsWith("$") && !s.startsWith("$$")) {
                return in.at(s.substring(1)); // a plain field path: the value moves with its tags
            }
            return FieldTags.EMPTY;
        }
        if (expression.isArray()) {
            // An array literal: each element is moved or computed on its own; a path reaches through arrays, so
            // the array holds what its elements hold.
            FieldTags out = FieldTags.EMPTY;
            for (BsonValue element : expression.asArray()) {
                out = out.merge(tags(element, in, masked));
            }
            return out;
        }
        if (expression.isDocument() && !isOperator(expression.asDocument())) {
            // An object literal: each field is an expression of its own, tagged on its own.
            FieldTags out = FieldTags.EMPTY;
            for (var e : expression.asDocument().entrySet()) {
                out = out.with(e.getKey(), tags(e.getValue(), in, masked));
            }
            return out;
        }
        if (!expression.isDocument()) {
            return FieldTags.EMPTY; // a constant
        }
        BsonDocument operator = expression.asDocument();
        if (operator.size() == 1 && operator.containsKey("$literal")) {
            return FieldTags.EMPTY;
        }
        PhiType read = strongestRead(expression, in, t -> true); // first: names server code when it is that
        PhiType hidden = strongestRead(expression, in, masked);
        if (hidden != null || operator.size() != 1) {
            throw computes(operator.getFirstKey(), hidden);
        }
        return FieldTags.leaf(read);
    }

    static Refused computes(String operator, PhiType type) {
        return new Refused("the expression " + operator + " computes from PHI (" + (type == null ? "unknown"
                : type.policyName()) + ") this session sees masked: whether a computation fails, turns null or"
                + " how long an array it makes depends on the value, which the masking of the result cannot hide;"
                + " refused. Return the field itself (it is masked) instead");
    }

    /** The strongest type that {@code counts} among the fields the expression reads, or null. */
    static PhiType strongestRead(BsonValue expression, FieldTags in, Predicate<PhiType> counts) throws Refused {
        if (expression.isString()) {
            String s = expression.asString().getValue();
            if (s.equals("$$ROOT") || s.equals("$$CURRENT")) {
                return in.strongest(counts);
            }
            if (s.startsWith("$$ROOT.") || s.startsWith("$$CURRENT.")) {
                return in.overlapping(s.substring(s.indexOf('.') + 1), counts);
            }
            if (s.startsWith("$") && !s.startsWith("$$")) {
                return in.overlapping(s.substring(1), counts);
            }
            return null;
        }
        PhiType strongest = null;
        if (expression.isArray()) {
            for (BsonValue v : expression.asArray()) {
                strongest = PhiType.strongest(strongest, strongestRead(v, in, counts));
            }
        } else if (expression.isDocument()) {
            for (var e : expression.asDocument().entrySet()) {
                String key = e.getKey();
                if (SERVER_CODE.contains(key)) {
                    throw new Refused(key + " runs JavaScript on the server, which phigate cannot follow; refused"
                            + " while the store declares PHI");
                }
                if (key.equals("$literal")) {
                    continue;
                }
                if (key.equals("$getField") || key.equals("$meta") && !(e.getValue().isString()
                        && META_FACTS.contains(e.getValue().asString().getValue()))) {
                    // a field named by a computed string, or the index key's fields under their dotted names
                    strongest = PhiType.strongest(strongest, in.strongest(counts));
                }
                strongest = PhiType.strongest(strongest, strongestRead(e.getValue(), in, counts));
            }
        }
        return strongest;
    }

    static boolean isOperator(BsonDocument d) {
        return !d.isEmpty() && d.getFirstKey().startsWith("$");
    }
}
