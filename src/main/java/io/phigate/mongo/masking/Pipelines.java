package io.phigate.mongo.masking;

import io.phigate.mask.PhiType;
import java.util.List;
import java.util.Set;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * Aggregation lineage: which fields of a pipeline's output hold PHI, stage by stage, and which stages are refused.
 * Only the stages modelled here run while the store declares PHI (an allow list, as for SQL functions); each says
 * where its output's values come from ({@code $project}, {@code $addFields}/{@code $set}, {@code $group}'s
 * accumulators, {@code $unwind}, {@code $lookup}, {@code $replaceRoot}, {@code $facet}, {@code $unionWith}), and
 * the conditions among them ({@code $match}, {@code $sort}, grouping keys, join fields) go through
 * {@link Predicates}. Stages that write elsewhere ({@code $out}, {@code $merge}) are refused for documents that
 * carry any tag: a copy in an untagged collection would be read back unmasked. Pure.
 */
final class Pipelines {
    /** Stages whose output tags are their input's. */
    private static final Set<String> KEEP = Set.of("$limit", "$skip", "$sample", "$unset");
    /** Accumulators whose value is one of the values they read, or all of them, in input order: tags move. */
    private static final Set<String> PICKING = Set.of("$first", "$last", "$push", "$mergeObjects");
    /**
     * Accumulators that pick by comparing: the value picked is masked where it is tagged, but its untagged parts
     * name the document that held the largest masked value, so over masked PHI the whole value must be tagged.
     */
    private static final Set<String> COMPARING = Set.of("$max", "$min");
    /** Accumulators that compute from what they read: the value is tagged as the strongest read. */
    private static final Set<String> COMPUTING = Set.of("$sum", "$avg", "$stdDevPop", "$stdDevSamp", "$count");
    /** Accumulators of {@code {input, n}}: n picks how many, so it must not read masked PHI. */
    private static final Set<String> N_PICKING = Set.of("$firstN", "$lastN", "$maxN", "$minN");

    private Pipelines() {
    }

    /** The tags of the pipeline's output for input documents tagged {@code in}, read from {@code collection}. */
    static FieldTags output(List<BsonDocument> stages, FieldTags in, String collection, Scope scope) throws Refused {
        FieldTags tags = in;
        for (BsonDocument stage : stages) {
            if (stage.size() != 1) {
                throw new Refused("a pipeline stage must have exactly one field");
            }
            tags = stage(stage.getFirstKey(), stage.get(stage.getFirstKey()), tags, collection, scope);
        }
        return tags;
    }

    private static FieldTags stage(String name, BsonValue spec, FieldTags in, String collection, Scope scope)
            throws Refused {
        if (KEEP.contains(name)) {
            return in;
        }
        return switch (name) {
            case "$match" -> {
                Predicates.filter(document(name, spec), in, scope, collection);
                yield in;
            }
            case "$sort" -> {
                Predicates.sort(document(name, spec), in, scope);
                yield in;
            }
            case "$count" -> FieldTags.EMPTY;
            case "$project", "$addFields", "$set" -> projection(document(name, spec), in, scope.masked());
            case "$replaceRoot" -> replaceRoot(document(name, spec).get("newRoot"), in, scope);
            case "$replaceWith" -> replaceRoot(spec, in, scope);
            case "$unwind" -> unwind(spec, in, scope);
            case "$group" -> group(document(name, spec), in, scope);
            case "$sortByCount" -> {
                Predicates.key("the $sortByCount key", spec, in, scope);
                yield FieldTags.EMPTY.with("_id", Expressions.tags(spec, in, scope.masked()));
            }
            case "$lookup" -> Lookups.lookup(document(name, spec), in, collection, scope);
            case "$unionWith" -> Lookups.unionWith(spec, in, scope);
            case "$facet" -> {
                FieldTags out = FieldTags.EMPTY;
                for (var e : document(name, spec).entrySet()) {
                    out = out.with(e.getKey(), output(stages(e.getKey(), e.getValue()), in, collection, scope));
                }
                yield out;
            }
            case "$documents" -> {
                Expressions.strongestRead(spec, FieldTags.EMPTY, t -> true); // constants; refuses server code
                yield FieldTags.EMPTY;
            }
            case "$out", "$merge" -> {
                PhiType any = in.strongest(t -> true);
                if (any != null) {
                    throw new Refused(name + " would copy PHI (" + any.policyName() + ") into another collection,"
                            + " where it would no longer be masked; refused");
                }
                if (name.equals("$merge")) {
                    merge(spec, scope);
                } else {
                    out(spec, scope);
                }
                yield in;
            }
            default -> throw new Refused("the stage " + name + " is not one phigate models, so it cannot say where"
                    + " its values come from; refused while the store declares PHI");
        };
    }

    /**
     * {@code $project}, {@code $addFields}/{@code $set} and a find's projection: each computed field takes its
     * expression's tags; fields kept or excluded keep theirs (a tag on a field the output lacks masks nothing).
     */
    static FieldTags projection(BsonDocument spec, FieldTags in, java.util.function.Predicate<PhiType> masked)
            throws Refused {
        return projection(spec, in, in, "", masked);
    }

    private static FieldTags projection(BsonDocument spec, FieldTags in, FieldTags out, String prefix,
                                        java.util.function.Predicate<PhiType> masked) throws Refused {
        for (var e : spec.entrySet()) {
            String path = prefix + e.getKey().replace(".$", "");
            BsonValue v = e.getValue();
            if (v.isBoolean() || v.isNumber()) {
                continue; // included or excluded: its tags stay where they are
            }
            if (v.isDocument() && !Expressions.isOperator(v.asDocument())) {
                out = projection(v.asDocument(), in, out, path + ".", masked);
            } else if (v.isDocument() && Set.of("$slice", "$elemMatch").contains(v.asDocument().getFirstKey())) {
                // find-projection operators: they select within the field, which keeps its tags; $elemMatch is a
                // condition, checked as a filter by the caller
                continue;
            } else {
                out = out.with(path, Expressions.tags(v, in, masked));
            }
        }
        return out;
    }

    /**
     * {@code $merge} runs on the target's stored documents too: a {@code whenMatched} pipeline is an update of
     * them ({@code [{$set: {note: "$ssn"}}]} copies stored PHI into an untagged field), and its {@code on} fields
     * are a join against their values. Into a target holding PHI, only the modes that write the agent's documents
     * as they are, matched on untagged fields, run.
     */
    private static void merge(BsonValue spec, Scope scope) throws Refused {
        if (!spec.isDocument()) {
            String target = spec.isString() ? spec.asString().getValue() : "";
            scope.read(target, scope.readable(target));
            return;
        }
        BsonDocument m = spec.asDocument();
        BsonValue into = m.get("into");
        String target;
        if (into != null && into.isString()) {
            target = into.asString().getValue();
        } else if (into != null && into.isDocument() && into.asDocument().get("coll") instanceof BsonValue c
                && c.isString() && (!(into.asDocument().get("db") instanceof BsonValue db)
                || db.isString() && db.asString().getValue().equals(scope.database()))) {
            target = c.asString().getValue();
        } else {
            throw new Refused("$merge into another database is not modelled; refused while the store declares PHI");
        }
        FieldTags stored = scope.readable(target);
        scope.read(target, stored); // written into: the command touches the PHI it holds
        PhiType held = stored.strongest(t -> true);
        if (held == null) {
            return;
        }
        if (m.get("whenMatched") instanceof BsonValue w && !w.isString()) {
            throw new Refused("$merge's whenMatched pipeline runs over the stored documents of " + target + ", which"
                    + " hold PHI (" + held.policyName() + "), and may move it where it is not tagged; refused");
        }
        BsonValue on = m.get("on");
        for (BsonValue field : on == null ? List.<BsonValue>of() : on.isArray() ? on.asArray() : List.of(on)) {
            PhiType type = field.isString() ? stored.overlapping(field.asString().getValue(), scope.masked()) : null;
            if (type != null) {
                throw Predicates.steers("$merge on " + field.asString().getValue(), type, scope);
            }
        }
    }

    /**
     * {@code $out} replaces its target's documents: the command touches whatever PHI the target holds (for the
     * records and {@code phi: true} rules). Another database's catalog is not this scope's, so that is refused.
     */
    private static void out(BsonValue spec, Scope scope) throws Refused {
        String target;
        if (spec.isString()) {
            target = spec.asString().getValue();
        } else if (spec.isDocument() && spec.asDocument().get("coll") instanceof BsonValue c && c.isString()
                && spec.asDocument().get("db") instanceof BsonValue db && db.isString()
                && db.asString().getValue().equals(scope.database())) {
            target = c.asString().getValue();
        } else {
            throw new Refused("$out into another database is not modelled; refused while the store declares PHI");
        }
        scope.read(target, scope.readable(target));
    }

    private static FieldTags replaceRoot(BsonValue newRoot, FieldTags in, Scope scope) throws Refused {
        if (newRoot == null) {
            throw new Refused("$replaceRoot needs newRoot");
        }
        boolean path = newRoot.isString() && newRoot.asString().getValue().startsWith("$");
        boolean literal = newRoot.isDocument() && !Expressions.isOperator(newRoot.asDocument());
        if (!path && !literal) {
            // A computed root ($arrayToObject, $mergeObjects) may make keys of values; the masking walks values only.
            PhiType read = Expressions.strongestRead(newRoot, in, scope.masked());
            if (read != null) {
                throw new Refused("$replaceRoot computes a document from PHI (" + read.policyName() + "), whose field"
                        + " names may then be PHI too; refused. Replace the root with a field path or a document of"
                        + " fields instead");
            }
        }
        return Expressions.tags(newRoot, in, scope.masked());
    }

    private static FieldTags unwind(BsonValue spec, FieldTags in, Scope scope) throws Refused {
        // A path reaches through arrays, so an element carries the tags the array did; the index is no value.
        // But the documents whose value is missing, null or [] are dropped: over a masked value that is a condition
        // ({ssn: {$exists: true}}), unless every document is kept.
        BsonValue path = spec.isDocument() ? spec.asDocument().get("path") : spec;
        boolean keepsAll = spec.isDocument() && spec.asDocument().get("preserveNullAndEmptyArrays") instanceof
                BsonValue keep && keep.isBoolean() && keep.asBoolean().getValue();
        if (!keepsAll && path != null && path.isString() && path.asString().getValue().startsWith("$")) {
            PhiType type = in.at(path.asString().getValue().substring(1)).tag();
            if (type != null && scope.masked().test(type)) {
                throw Predicates.steers("$unwind of " + path.asString().getValue() + " (it drops the documents"
                        + " without one)", type, scope);
            }
        }
        if (spec.isDocument() && spec.asDocument().containsKey("includeArrayIndex")) {
            if (!spec.asDocument().get("includeArrayIndex").isString()) {
                throw new Refused("$unwind's includeArrayIndex must be a field name");
            }
            return in.with(spec.asDocument().getString("includeArrayIndex").getValue(), FieldTags.EMPTY);
        }
        if (!spec.isString() && !spec.isDocument()) {
            throw new Refused("$unwind takes a field path or a document");
        }
        return in;
    }

    private static FieldTags group(BsonDocument spec, FieldTags in, Scope scope) throws Refused {
        BsonValue id = spec.get("_id");
        if (id == null) {
            throw new Refused("$group needs _id");
        }
        Predicates.key("the $group key", id, in, scope);
        FieldTags out = FieldTags.EMPTY.with("_id", Expressions.tags(id, in, scope.masked()));
        for (var e : spec.entrySet()) {
            if (e.getKey().equals("_id")) {
                continue;
            }
            out = out.with(e.getKey(), accumulator(e.getKey(), e.getValue(), in, scope));
        }
        return out;
    }

    static FieldTags accumulator(String field, BsonValue spec, FieldTags in, Scope scope) throws Refused {
        if (!spec.isDocument() || spec.asDocument().size() != 1) {
            throw new Refused("the accumulator of " + field + " must be a document with one operator");
        }
        String op = spec.asDocument().getFirstKey();
        BsonValue argument = spec.asDocument().get(op);
        var masked = scope.masked();
        if (PICKING.contains(op)) {
            return Expressions.tags(argument, in, masked);
        }
        if (COMPARING.contains(op)) {
            return compared(op, Expressions.tags(argument, in, masked), masked);
        }
        if (op.equals("$addToSet")) {
            FieldTags picked = Expressions.tags(argument, in, masked);
            if (picked.strongest(masked) != null) {
                throw new Refused("$addToSet keeps one of equal values, so its size tells which masked values ("
                        + picked.strongest(masked).policyName() + ") are equal; refused. Use $push instead");
            }
            return picked;
        }
        if (COMPUTING.contains(op)) {
            Expressions.tags(argument, in, masked); // a computed argument over masked PHI is refused
            return FieldTags.leaf(Expressions.strongestRead(argument, in, t -> true));
        }
        boolean ranked = Set.of("$top", "$bottom", "$topN", "$bottomN").contains(op);
        if ((ranked || N_PICKING.contains(op)) && argument.isDocument()) {
            BsonDocument a = argument.asDocument();
            if (a.get("sortBy") instanceof BsonValue sortBy && sortBy.isDocument()) {
                Predicates.sort(sortBy.asDocument(), in, scope);
            }
            if (a.containsKey("n")) {
                Predicates.key("the n of " + op, a.get("n"), in, scope);
            }
            BsonValue picked = a.get(ranked ? "output" : "input");
            FieldTags tags = picked == null ? FieldTags.EMPTY : Expressions.tags(picked, in, masked);
            if (op.equals("$maxN") || op.equals("$minN")) {
                compared(op, tags, masked);
            }
            return FieldTags.leaf(Expressions.strongestRead(argument, in, t -> true));
        }
        Expressions.strongestRead(spec, in, t -> true); // names $accumulator (server code) when it is that
        throw new Refused("the accumulator " + op + " is not one phigate models; refused while the store declares"
                + " PHI");
    }

    private static FieldTags compared(String op, FieldTags picked, java.util.function.Predicate<PhiType> masked)
            throws Refused {
        PhiType type = picked.strongest(masked);
        if (type != null && picked.tag() == null) {
            throw new Refused(op + " of a value holding masked PHI (" + type.policyName() + ") beside other fields"
                    + " picks by the masked part and shows the others, which names the document holding the largest;"
                    + " refused. Pick the tagged field alone");
        }
        return picked;
    }

    static BsonDocument document(String stage, BsonValue spec) throws Refused {
        if (spec == null || !spec.isDocument()) {
            throw new Refused(stage + " takes a document");
        }
        return spec.asDocument();
    }

    static List<BsonDocument> stages(String where, BsonValue pipeline) throws Refused {
        if (!pipeline.isArray() || pipeline.asArray().stream().anyMatch(v -> !v.isDocument())) {
            throw new Refused(where + " must be an array of stages");
        }
        return pipeline.asArray().stream().map(BsonValue::asDocument).toList();
    }
}
