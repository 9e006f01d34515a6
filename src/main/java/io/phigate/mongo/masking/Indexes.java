package io.phigate.mongo.masking;

import io.phigate.mask.PhiType;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * Building an index tests every stored value it covers: a partial index's filter is a condition over them, a unique
 * index fails exactly when two are equal, and a geospatial, text or hashed index fails on values it cannot read,
 * and mongod's error then quotes the whole document. So over PHI the session sees masked an index may only be a
 * plain ascending or descending one, and its partial filter follows the predicate rule. Pure.
 */
final class Indexes {
    private Indexes() {
    }

    /** As a flag is read by a server that takes any value for true: only absent, false, a zero or null is off. */
    static boolean unique(BsonDocument index) {
        return index.get("unique") instanceof BsonValue u && !u.isNull()
                && !(u.isBoolean() && !u.asBoolean().getValue()) && !(u.isNumber() && u.asNumber().doubleValue() == 0);
    }

    static void check(BsonDocument body, FieldTags in, Scope scope, String collection) throws Refused {
        BsonValue indexes = body.get("indexes");
        if (indexes == null || !indexes.isArray() || indexes.asArray().stream().anyMatch(i -> !i.isDocument())) {
            throw new Refused("createIndexes needs indexes as an array of documents");
        }
        for (BsonValue v : indexes.asArray()) {
            BsonDocument index = v.asDocument();
            if (!(index.get("key") instanceof BsonValue key) || !key.isDocument()) {
                throw new Refused("an index needs key as a document");
            }
            boolean unique = unique(index);
            for (var field : key.asDocument().entrySet()) {
                PhiType type = field.getKey().contains("$**") ? in.strongest(scope.masked())
                        : in.overlapping(field.getKey(), scope.masked());
                if (type == null) {
                    continue;
                }
                if (!field.getValue().isNumber()) {
                    throw new Refused("an index of kind " + field.getValue() + " over " + field.getKey() + " fails on"
                            + " values it cannot read, quoting them, and " + field.getKey() + " holds PHI ("
                            + type.policyName() + ") this session sees masked; refused");
                }
                if (unique) {
                    throw new Refused("a unique index over " + field.getKey() + " fails exactly when two of its"
                            + " masked values (" + type.policyName() + ") are equal; refused");
                }
            }
            if (index.get("partialFilterExpression") instanceof BsonValue filter) {
                if (!filter.isDocument()) {
                    throw new Refused("partialFilterExpression must be a document");
                }
                Predicates.filter(filter.asDocument(), in, scope, collection, false);
            }
        }
    }
}
