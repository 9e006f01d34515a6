package io.phigate.mongo.masking;

import io.phigate.mask.PhiType;
import java.util.List;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * The stages that read another collection: {@code $lookup} nests the joined documents, tagged as their collection
 * (and sub-pipeline) says, under its {@code as} field; {@code $unionWith} adds the other collection's documents,
 * so the output carries both trees' tags. A join field over masked PHI steers which documents meet, so both join
 * fields follow the predicate rule, and a join of masked keys is let through only where the role may look that type
 * up and both sides are the same type (as the SQL side lets {@code a.mrn = b.mrn} through). Pure.
 */
final class Lookups {
    private Lookups() {
    }

    static FieldTags lookup(BsonDocument spec, FieldTags in, String collection, Scope scope) throws Refused {
        BsonValue from = spec.get("from");
        BsonValue as = spec.get("as");
        if (as == null || !as.isString()) {
            throw new Refused("$lookup needs as");
        }
        if (from != null && !from.isString()) {
            throw new Refused("$lookup from another database is not modelled; refused while the store declares PHI");
        }
        String fromName = from == null ? null : from.asString().getValue();
        FieldTags foreign = fromName == null ? FieldTags.EMPTY : scope.readable(fromName);
        if (spec.containsKey("localField") || spec.containsKey("foreignField")) {
            join(collection, string(spec, "localField"), in, string(spec, "foreignField"), foreign, scope);
        }
        if (spec.containsKey("let")) {
            PhiType read = Expressions.strongestRead(spec.get("let"), in, scope.masked());
            if (read != null) {
                throw Predicates.steers("a $lookup variable", read, scope);
            }
        }
        FieldTags joined = foreign;
        if (spec.containsKey("pipeline")) {
            joined = Pipelines.output(Pipelines.stages("$lookup pipeline", spec.get("pipeline")), foreign,
                    fromName, scope);
        }
        if (fromName != null) {
            scope.read(fromName, foreign);
        }
        return in.with(as.asString().getValue(), joined);
    }

    private static void join(String collection, String local, FieldTags in, String foreignField, FieldTags foreign, Scope scope)
            throws Refused {
        PhiType left = in.overlapping(local, scope.masked());
        PhiType right = foreign.overlapping(foreignField, scope.masked());
        if (left == null && right == null) {
            return;
        }
        PhiType type = left != null ? left : right;
        boolean sameKey = left == right && in.at(local).tag() == left && foreign.at(foreignField).tag() == right;
        if (!sameKey || !scope.lookups().contains(type)) {
            throw Predicates.steers("the $lookup join on " + local + " = " + foreignField, type, scope);
        }
        scope.noteLookup(collection, local, "join:" + type.policyName());
    }

    static FieldTags unionWith(BsonValue spec, FieldTags in, Scope scope) throws Refused {
        String coll;
        List<BsonDocument> pipeline = List.of();
        if (spec.isString()) {
            coll = spec.asString().getValue();
        } else if (spec.isDocument() && spec.asDocument().get("coll") instanceof BsonValue c && c.isString()) {
            coll = c.asString().getValue();
            if (spec.asDocument().containsKey("pipeline")) {
                pipeline = Pipelines.stages("$unionWith pipeline", spec.asDocument().get("pipeline"));
            }
        } else {
            throw new Refused("$unionWith needs coll");
        }
        FieldTags other = scope.readable(coll);
        scope.read(coll, other);
        return in.merge(Pipelines.output(pipeline, other, coll, scope));
    }

    private static String string(BsonDocument spec, String field) throws Refused {
        BsonValue v = spec.get(field);
        if (v == null || !v.isString()) {
            throw new Refused("$lookup needs " + field + " as a string");
        }
        return v.asString().getValue();
    }
}
