package io.phigate.mongo.masking;

import io.phigate.mask.PhiType;
import org.bson.BsonDocument;
import org.bson.BsonType;
import org.bson.BsonValue;

/**
 * Conditions over PHI this session sees masked, the SQL side's predicate rule (decision 0036) for documents. A
 * filter, a sort, a grouping key or a join field over a masked field steers what comes back, and that is a channel:
 * {@code {ssn: {$regex: "^1"}}} against a count rebuilds every SSN a character at a time while every value returned
 * is masked. So such a condition is refused, with the one exception the role may grant per type
 * ({@code roles[].lookup}): {@code field: constant} (or {@code {$eq: constant}}) as a conjunct of the top-level
 * filter, which tells at most whether a document with that value exists. Pure, apart from noting the lookups it
 * lets through in the scope.
 */
final class Predicates {
    private Predicates() {
    }

    /** Refuses a query filter ({@code find}, {@code $match}, {@code delete}'s {@code q}) that steers by masked PHI. */
    static void filter(BsonDocument filter, FieldTags in, Scope scope, String collection) throws Refused {
        filter(filter, in, scope, collection, true);
    }

    /** As {@link #filter(BsonDocument, FieldTags, Scope, String)}; {@code conjunct} false allows no lookup. */
    static void filter(BsonDocument filter, FieldTags in, Scope scope, String collection, boolean conjunct)
            throws Refused {
        for (var e : filter.entrySet()) {
            String key = e.getKey();
            BsonValue value = e.getValue();
            switch (key) {
                case "$and" -> {
                    for (BsonValue clause : clauses(key, value)) {
                        filter(clause.asDocument(), in, scope, collection, conjunct);
                    }
                }
                case "$or", "$nor" -> {
                    for (BsonValue clause : clauses(key, value)) {
                        filter(clause.asDocument(), in, scope, collection, false);
                    }
                }
                case "$expr" -> {
                    PhiType read = Expressions.strongestRead(value, in, scope.masked());
                    if (read != null) {
                        throw steers("a $expr condition", read, scope);
                    }
                }
                case "$comment" -> {
                }
                case "$where" -> throw new Refused("$where runs JavaScript on the server, which phigate cannot"
                        + " follow; refused while the store declares PHI");
                default -> {
                    if (key.startsWith("$")) {
                        // $text, $jsonSchema, $sampleRate and whatever comes next read fields the gateway cannot
                        // name: allowed only where nothing masked is in reach.
                        PhiType any = in.strongest(scope.masked());
                        if (any != null) {
                            throw new Refused("the query operator " + key + " reads fields phigate cannot name, and"
                                    + " these documents hold PHI (" + any.policyName() + ") this session sees masked;"
                                    + " refused");
                        }
                    } else {
                        field(key, value, in, scope, collection, conjunct);
                    }
                }
            }
        }
    }

    private static void field(String path, BsonValue condition, FieldTags in, Scope scope, String collection,
                              boolean conjunct)
            throws Refused {
        PhiType type = in.overlapping(path, scope.masked());
        if (type == null) {
            return;
        }
        boolean exactlyTagged = in.at(path).tag() == type;
        if (conjunct && exactlyTagged && scope.lookups().contains(type) && isEquality(condition)) {
            scope.noteLookup(collection, path, "lookup:" + type.policyName());
            return;
        }
        throw steers("the condition on " + path, type, scope);
    }

    /** {@code field: constant} or {@code field: {$eq: constant}}, the constant a scalar: one value, one bit. */
    private static boolean isEquality(BsonValue condition) {
        if (condition.isDocument()) {
            BsonDocument d = condition.asDocument();
            return d.size() == 1 && d.containsKey("$eq") && scalar(d.get("$eq"));
        }
        return scalar(condition);
    }

    private static boolean scalar(BsonValue v) {
        return !v.isDocument() && !v.isArray() && v.getBsonType() != BsonType.REGULAR_EXPRESSION
                && v.getBsonType() != BsonType.JAVASCRIPT && v.getBsonType() != BsonType.JAVASCRIPT_WITH_SCOPE;
    }

    /** Refuses a sort by masked PHI: the order of the results tells how the masked values compare. */
    static void sort(BsonDocument sort, FieldTags in, Scope scope) throws Refused {
        for (String path : sort.keySet()) {
            PhiType type = path.startsWith("$") ? null : in.overlapping(path, scope.masked());
            if (type != null) {
                throw steers("sorting by " + path, type, scope);
            }
        }
    }

    /**
     * Refuses an index hint over masked PHI: the index returns documents in its order (and a partial index only
     * those its filter admits), so a hint on {@code {ssn: 1}} is a sort by SSN. A hint by index name cannot be read
     * without the server's catalog, so it is refused wherever masked PHI is in reach.
     */
    static void hint(BsonValue hint, FieldTags in, Scope scope) throws Refused {
        if (hint == null) {
            return;
        }
        if (hint.isDocument()) {
            for (String path : hint.asDocument().keySet()) {
                // a wildcard index ($**) covers fields it does not name
                PhiType type = path.equals("$natural") ? null : path.contains("$**") ? in.strongest(scope.masked())
                        : in.overlapping(path, scope.masked());
                if (type != null) {
                    throw steers("the index hint on " + path, type, scope);
                }
            }
            return;
        }
        PhiType any = in.strongest(scope.masked());
        if (any != null) {
            throw new Refused("an index hint by name may name an index over PHI (" + any.policyName() + ") this"
                    + " session sees masked, whose order or partial filter would steer what comes back; refused."
                    + " Give the hint as the index's key document instead");
        }
    }

    /** Refuses a grouping or bucketing key that reads masked PHI: which group a document falls in tells its value. */
    static void key(String what, BsonValue expression, FieldTags in, Scope scope) throws Refused {
        PhiType type = Expressions.strongestRead(expression, in, scope.masked());
        if (type != null) {
            throw steers(what, type, scope);
        }
    }

    static Refused steers(String what, PhiType type, Scope scope) {
        return new Refused(what + " reads PHI (" + type.policyName() + ") this session sees masked, and would steer"
                + " what comes back, which can reveal it document by document; refused. Only a lookup by equality"
                + " with a constant at the top of a filter can be allowed, with policy " + scope.lookupKey(type));
    }

    private static Iterable<BsonValue> clauses(String key, BsonValue value) throws Refused {
        if (!value.isArray() || value.asArray().stream().anyMatch(v -> !v.isDocument())) {
            throw new Refused(key + " must be an array of filter documents");
        }
        return value.asArray();
    }
}
