package io.phigate.mongo.masking;

import io.phigate.mask.PhiType;
import java.util.Set;
import java.util.function.Predicate;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * What an aggregation expression reads and what its value holds. A value computed from tagged fields is tagged
 * with the strongest of them, whatever the operator ({@code $concat}, {@code $substr}, {@code $toString},
 * {@code $cond} over a tagged condition): the taint follows every reference in the expression, including those
 * that only steer ({@code $cond}'s condition, {@code $filter}'s predicate), so a value chosen by PHI is masked as
 * PHI. Variables bound inside the expression ({@code $let}, {@code $map}) are bound to expressions inside it, so
 * their sources are already among its references; {@code $$ROOT}, {@code $$CURRENT} and {@code $getField} (which
 * may name a field of the current document as a computed string) read the whole document. Pure.
 */
final class Expressions {
    /** Operators that run code the gateway cannot read. */
    static final Set<String> SERVER_CODE = Set.of("$function", "$accumulator", "$where");

    private Expressions() {
    }

    /** The tags of the expression's value in documents tagged {@code in}; refused when it runs server-side code. */
    static FieldTags tags(BsonValue expression, FieldTags in) throws Refused {
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
        if (expression.isDocument() && !isOperator(expression.asDocument())) {
            // An object literal: each field is an expression of its own, tagged on its own.
            FieldTags out = FieldTags.EMPTY;
            for (var e : expression.asDocument().entrySet()) {
                out = out.with(e.getKey(), tags(e.getValue(), in));
            }
            return out;
        }
        if (expression.isDocument() && expression.asDocument().containsKey("$literal")) {
            return FieldTags.EMPTY;
        }
        return FieldTags.leaf(strongestRead(expression, in, t -> true));
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
                if (key.equals("$getField")) {
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
