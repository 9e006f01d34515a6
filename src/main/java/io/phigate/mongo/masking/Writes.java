package io.phigate.mongo.masking;

import io.phigate.mask.PhiType;
import io.phigate.mongo.command.Command;
import java.util.List;
import java.util.Set;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * What an update may do to stored PHI. It may write the agent's own values anywhere, but must not move stored PHI
 * where the next read shows it otherwise ({@code $rename: {ssn: "note"}}, a pipeline's {@code $set: {note: "$ssn"}}
 * or {@code $set: {ssn: "$name.given"}}, which a role seeing SSNs would read as a name), and must not test stored
 * PHI, since what it then stores (or the count of documents it changed) tells the agent what the test found: an
 * {@code arrayFilters} condition, a statement's {@code sort} or {@code hint}, and the operators that compare with or
 * compute from the value they replace ({@code $max}, {@code $inc}, {@code $addToSet}, {@code $pull}, a {@code $push}
 * that sorts) are conditions over PHI, under the predicate rule. Pure.
 */
final class Writes {
    /** Update operators whose result depends on the stored value at their path. */
    private static final Set<String> READING = Set.of("$min", "$max", "$inc", "$mul", "$bit", "$addToSet", "$pull",
            "$pullAll");

    private Writes() {
    }

    static void check(Command command, BsonDocument body, FieldTags in, Scope scope) throws Refused {
        for (String from : command.renamedFrom()) {
            PhiType type = in.overlapping(from, t -> true);
            if (type != null) {
                throw new Refused("$rename of " + from + " would move PHI (" + type.policyName() + ") to a field"
                        + " the policy may not tag; refused");
            }
        }
        if (command.name().equals("update")) {
            for (BsonDocument statement : command.statements()) {
                statement(statement, command, in, scope);
            }
        } else {
            statement(body, command, in, scope); // findAndModify: its options are the body's
        }
        if (!command.pipeline().isEmpty()) {
            pipeline(command, in, scope);
        }
    }

    private static void statement(BsonDocument statement, Command command, FieldTags in, Scope scope)
            throws Refused {
        if (statement.get("sort") instanceof BsonValue sort && sort.isDocument()) {
            Predicates.sort(sort.asDocument(), in, scope); // which document a single update changes
        }
        Predicates.hint(statement.get("hint"), in, scope);
        if (statement.get("arrayFilters") instanceof BsonValue filters) {
            arrayFilters(filters, command.updatePaths(), in, scope, command.collection());
        }
        BsonValue u = statement.get(command.name().equals("update") ? "u" : "update");
        if (u != null && u.isDocument()) {
            operators(u.asDocument(), in, scope);
        }
    }

    private static void operators(BsonDocument update, FieldTags in, Scope scope) throws Refused {
        for (var op : update.entrySet()) {
            if (!op.getValue().isDocument()) {
                continue; // a replacement's field, or a malformed operator the server refuses
            }
            for (var target : op.getValue().asDocument().entrySet()) {
                String path = target.getKey();
                PhiType type = in.overlapping(path, scope.masked());
                if (type == null) {
                    continue;
                }
                boolean sorts = op.getKey().equals("$push") && target.getValue().isDocument()
                        && target.getValue().asDocument().containsKey("$sort");
                if (READING.contains(op.getKey()) || sorts) {
                    throw new Refused("the update operator " + op.getKey() + " on " + path + " compares with or"
                            + " computes from the PHI (" + type.policyName() + ") stored there, which this session"
                            + " sees masked; what it stores (and how many documents it changed) tells the result;"
                            + " refused");
                }
            }
        }
    }

    /**
     * Each {@code arrayFilters} condition {@code {"e.phone": ...}} is a condition over the array the update path
     * names with {@code $[e]} ({@code contacts.$[e].flag}: {@code contacts.phone}).
     */
    private static void arrayFilters(BsonValue filters, List<String> updatePaths, FieldTags in, Scope scope,
                                     String collection) throws Refused {
        if (!filters.isArray() || filters.asArray().stream().anyMatch(f -> !f.isDocument())) {
            throw new Refused("arrayFilters must be an array of filter documents");
        }
        for (BsonValue filter : filters.asArray()) {
            for (var e : filter.asDocument().entrySet()) {
                String key = e.getKey();
                String identifier = key.contains(".") ? key.substring(0, key.indexOf('.')) : key;
                String rest = key.contains(".") ? key.substring(key.indexOf('.')) : "";
                boolean found = false;
                for (String path : updatePaths) {
                    int at = path.indexOf(".$[" + identifier + "]");
                    if (at >= 0 && !identifier.startsWith("$")) {
                        found = true;
                        String array = path.substring(0, at).replaceAll("\\.\\$\\[[^]]*]", "");
                        Predicates.filter(new BsonDocument(array + rest, e.getValue()), in, scope, collection, false);
                    }
                }
                if (!found && in.strongest(scope.masked()) != null) {
                    throw new Refused("the arrayFilters condition " + key + " names no array this update writes, so"
                            + " phigate cannot tell which fields it reads; refused");
                }
            }
        }
    }

    /** A pipeline update writes each tagged value only into a path tagged with the same type. */
    private static void pipeline(Command command, FieldTags in, Scope scope) throws Refused {
        FieldTags written = Pipelines.output(command.pipeline(), in, command.collection(), scope);
        for (var e : written.flatten().entrySet()) {
            PhiType there = in.at(e.getKey()).tag();
            if (there != e.getValue()) {
                throw new Refused("the update pipeline would write PHI (" + e.getValue().policyName() + ") into "
                        + e.getKey() + ", which the policy " + (there == null ? "does not tag"
                        : "tags as " + there.policyName()) + "; the next read would show it otherwise; refused");
            }
        }
    }
}
