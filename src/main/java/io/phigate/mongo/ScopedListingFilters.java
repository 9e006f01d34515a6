package io.phigate.mongo;

import io.phigate.mongo.command.Command;
import io.phigate.policy.Role;
import java.util.Set;
import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * What a scoped role may ask of a listing the gateway cuts to its scope (decision 0096, an attacker's review). The
 * reply masker drops the entries outside the scope, but the server evaluates the request over all of them first,
 * and three parts of the request answer from what it dropped: a {@code filter} with {@code $expr} (or
 * {@code $where}, {@code $function}) can fail on one named entry ({@code $divide} by zero when the name is
 * {@code psych_notes}), so the error tells it exists; a {@code listDatabases} filter on {@code sizeOnDisk} or
 * {@code empty} is applied to the sizes the gateway writes as 0; a {@code cursor.batchSize} makes the cursor id and
 * the number of getMores count the entries dropped (mongod ends a listing's cursor at once when nothing is left,
 * so {@code batchSize: 0} with {@code filter: {name: ...}} answers whether the collection exists). For a role with
 * allow rules, a listing takes only a filter of plain comparisons (on {@code name} alone for databases) and no
 * batch size; mongod answers a listing without one in a single batch. Pure.
 */
final class ScopedListingFilters {
    /** Operators that compare a field's value and cannot fail or take time on one entry more than another. */
    private static final Set<String> PLAIN = Set.of("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin",
            "$exists", "$type", "$not");
    private static final Set<String> LOGICAL = Set.of("$and", "$or", "$nor");

    private ScopedListingFilters() {
    }

    /** Null when {@code role} may send this listing as it is, else why not. */
    static String refusal(Role role, Command command, BsonDocument body) {
        boolean databases = command.name().equals("listDatabases");
        if (role == null || role.allow().isEmpty() || !databases && !command.name().equals("listCollections")) {
            return null;
        }
        if (body.get("cursor") instanceof BsonDocument cursor && cursor.containsKey("batchSize")) {
            return command.name() + " with a batchSize: role " + role.name() + "'s listing is cut to its allow rules"
                    + " after the server counted every entry into its batches, so it is asked in one batch";
        }
        BsonValue filter = body.get("filter");
        String refused = filter == null ? null : condition(filter, databases);
        return refused == null ? null : command.name() + "'s filter " + refused + ": role " + role.name() + "'s"
                + " listing is cut to its allow rules, but the server applies the filter to every entry first, so"
                + " only plain comparisons" + (databases ? " on name" : "") + " are taken";
    }

    private static String condition(BsonValue filter, boolean databases) {
        if (!(filter instanceof BsonDocument d)) {
            return "is not a document";
        }
        for (var e : d.entrySet()) {
            String key = e.getKey();
            if (LOGICAL.contains(key)) {
                if (!(e.getValue() instanceof BsonArray branches)) {
                    return "takes " + key + " over an array only";
                }
                for (BsonValue branch : branches) {
                    String refused = condition(branch, databases);
                    if (refused != null) {
                        return refused;
                    }
                }
            } else if (key.startsWith("$")) {
                return "uses " + key;
            } else if (databases && !key.equals("name")) {
                return "reads " + key;
            } else {
                String refused = comparison(e.getValue());
                if (refused != null) {
                    return refused;
                }
            }
        }
        return null;
    }

    /** A field's condition: a value, or operators of {@link #PLAIN} (a {@code $not} over them). */
    private static String comparison(BsonValue value) {
        if (!(value instanceof BsonDocument d) || d.isEmpty() || !d.getFirstKey().startsWith("$")) {
            return null; // equality with a value
        }
        for (var op : d.entrySet()) {
            if (!PLAIN.contains(op.getKey())) {
                return "uses " + op.getKey();
            }
            if (op.getKey().equals("$not")) {
                String refused = comparison(op.getValue());
                if (refused != null) {
                    return refused;
                }
            }
        }
        return null;
    }
}
