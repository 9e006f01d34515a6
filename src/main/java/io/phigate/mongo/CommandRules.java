package io.phigate.mongo;

import io.phigate.mask.PhiType;
import io.phigate.mongo.command.Command;
import io.phigate.mongo.command.CommandException;
import io.phigate.mongo.command.CommandReader;
import io.phigate.policy.Match;
import io.phigate.policy.RiskRule;
import io.phigate.policy.RiskRules;
import io.phigate.policy.Role;
import java.time.Instant;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import io.phigate.sql.Operation;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * The policy's {@code rules:} read for document-store commands, in the SQL side's vocabulary: a namespace
 * {@code db.collection} is a rule's {@code schema.table}; drop, dropDatabase and the other commands that change
 * collections are {@code ddl}; an update or delete with an empty filter is {@code no_where}; a time to live, a cap
 * and emptycapped are deletes with no filter; an upsert is an insert as well as an update; {@code $out} writes and
 * replaces a collection ({@code insert}, {@code ddl}), {@code $merge} writes into one ({@code insert},
 * {@code update}). There is no row estimate, so a rule with {@code rows_over} fires whenever its other conditions
 * hold (fail closed, as an estimate that fails on the SQL side). The first rule that matches decides. Commands that
 * write into namespaces they name in their values ({@code renameCollection}'s {@code to}, {@code bulkWrite}'s
 * {@code nsInfo}, {@code applyOps}' operations) are read for those namespaces and operations, so a rule on
 * {@code clinic.patients} is not passed by naming the collection where the reading of the first field does not
 * look. Pure.
 */
final class CommandRules {
    private static final Set<String> DDL = Set.of("drop", "dropDatabase", "create", "createIndexes", "dropIndexes",
            "collMod", "renameCollection", "convertToCapped", "cloneCollectionAsCapped");
    /** Reads; collStats and dbStats answer a collection's and a database's count, as count does. */
    private static final Set<String> READS = Set.of("find", "aggregate", "count", "distinct", "getMore", "collStats",
            "dbStats");
    /** What explain may wrap and never runs to a write: mongod explains these without modifying anything. */
    private static final Set<String> EXPLAINED_WITHOUT_WRITING = Set.of("find", "count", "distinct", "update",
            "delete", "findAndModify", "findandmodify");

    private CommandRules() {
    }

    /**
     * The rule that fires for {@code command}, or null.
     *
     * @param phiTypes the PHI types the command's collections hold (empty: it touches no PHI)
     */
    static RiskRules.Hit evaluate(List<RiskRule> rules, Role role, Command command, BsonDocument body,
                                  Set<PhiType> phiTypes, Instant now) {
        Set<Operation> operations = operations(command, body);
        Set<String> namespaces = namespaces(command, body);
        for (RiskRule rule : rules) {
            RiskRule.When w = rule.when();
            boolean fires = (w.roles().isEmpty() || role != null && w.roles().contains(role.name()))
                    && (w.operations().isEmpty() || w.operations().stream().anyMatch(operations::contains))
                    && (w.tables().isEmpty() || namespaces.stream().anyMatch(ns -> w.tables().stream()
                    .anyMatch(t -> matches(t, ns))))
                    && (!w.noWhere() || unfiltered(command, body))
                    && (!w.phi() || !phiTypes.isEmpty())
                    && (w.during().isEmpty() || w.during().stream().anyMatch(window -> window.contains(now)))
                    && (!w.phiWithoutLimit() || !phiTypes.isEmpty() && unlimited(command, body))
                    && (w.unmaskedPhi() == null || role != null && phiTypes.stream().anyMatch(t ->
                    role.unmasked().contains(t) && (w.unmaskedPhi().isEmpty() || w.unmaskedPhi().contains(t))));
            if (fires) {
                return new RiskRules.Hit(rule, namespaces, phiTypes.stream().map(PhiType::policyName).sorted()
                        .toList(), null);
            }
        }
        return null;
    }

    /**
     * A rule's table pattern against a namespace; a database-wide command (dropDatabase: no collection) touches
     * every collection of its database, so it matches any pattern whose database part matches.
     */
    private static boolean matches(String pattern, String namespace) {
        String p = pattern.contains(".") ? pattern : "*." + pattern;
        if (namespace.contains(".")) {
            return Match.glob(p, namespace);
        }
        return Match.glob(p.substring(0, p.indexOf('.')), namespace);
    }

    static Set<Operation> operations(Command command, BsonDocument body) {
        Set<Operation> ops = EnumSet.noneOf(Operation.class);
        switch (command.name()) {
            case "bulkWrite" -> {
                for (BsonDocument op : documents(body, "ops")) {
                    op.keySet().stream().findFirst().map(k -> switch (k) {
                        case "insert" -> Operation.INSERT;
                        case "update" -> Operation.UPDATE;
                        case "delete" -> Operation.DELETE;
                        default -> Operation.DDL; // no op the server takes: not nothing (fail closed)
                    }).ifPresent(ops::add);
                    if (upserts(op)) {
                        ops.add(Operation.INSERT);
                    }
                }
            }
            case "applyOps" -> {
                for (BsonDocument op : documents(body, "applyOps")) {
                    // getString would throw on a non-string op and end the connection unrecorded
                    ops.add(switch (op.get("op") instanceof org.bson.BsonString kind ? kind.getValue() : "") {
                        case "i" -> Operation.INSERT;
                        case "u" -> Operation.UPDATE;
                        case "d" -> Operation.DELETE;
                        default -> Operation.DDL;
                    });
                }
            }
            case "mapReduce", "mapreduce" -> {
                ops.add(Operation.SELECT);
                // The server reads out's first field: {replace: "x", inline: 1} is no inline output.
                if (!(body.get("out") instanceof BsonDocument out && out.size() == 1 && out.containsKey("inline"))) {
                    ops.addAll(List.of(Operation.INSERT, Operation.DDL)); // writes, and may replace, a collection
                }
            }
            case "insert" -> ops.add(Operation.INSERT);
            case "update" -> {
                ops.add(Operation.UPDATE);
                if (command.statements().stream().anyMatch(CommandRules::upserts)) {
                    ops.add(Operation.INSERT);
                }
            }
            case "delete" -> ops.add(Operation.DELETE);
            case "findAndModify", "findandmodify" -> {
                // The server reads remove, not the update's shape: update: {} replaces a document with nothing.
                boolean removes = on(body.get("remove"));
                if (removes) {
                    ops.add(Operation.DELETE);
                }
                if (!removes || body.containsKey("update")) {
                    ops.add(Operation.UPDATE);
                }
                if (upserts(body)) {
                    ops.add(Operation.INSERT);
                }
            }
            default -> {
                if (DDL.contains(command.name())) {
                    ops.add(Operation.DDL);
                } else if (READS.contains(command.name())) {
                    ops.add(Operation.SELECT);
                } else {
                    ops.add(Operation.UTILITY);
                }
            }
        }
        if (expires(command, body)) {
            ops.add(Operation.DELETE);
        }
        if (command.name().equals("explain")) {
            ops.add(Operation.SELECT); // explain runs the read (executionStats to the end)
            ops.addAll(explainedWrites(command, body));
        } else if (definesView(command, body)) {
            ops.add(Operation.SELECT); // a view reads its sources for whoever reads it
        } else if (command.name().equals("cloneCollectionAsCapped")) {
            ops.addAll(List.of(Operation.SELECT, Operation.INSERT)); // a copy of its source's documents
        }
        for (BsonDocument stage : command.pipeline()) {
            if (stage.containsKey("$out")) {
                ops.addAll(List.of(Operation.INSERT, Operation.DDL));
            } else if (stage.containsKey("$merge")) {
                ops.addAll(List.of(Operation.INSERT, Operation.UPDATE));
            }
        }
        return ops;
    }

    /**
     * What an explained command may write: nothing for those mongod explains without writing, else (an aggregate's
     * {@code $out} or {@code $merge}, a mapReduce's {@code out}: mongod before 4.2 wrote them at executionStats) the
     * operations of the command sent alone, so an explain is never judged looser than what it wraps.
     */
    private static Set<Operation> explainedWrites(Command command, BsonDocument body) {
        BsonDocument alone = CommandReader.explained(body, command.database());
        if (alone == null || EXPLAINED_WITHOUT_WRITING.contains(alone.getFirstKey())) {
            return Set.of();
        }
        try {
            return operations(CommandReader.read(alone), alone);
        } catch (CommandException e) {
            return EnumSet.of(Operation.DDL); // unreadable: refused by ServerCommands; never judged as nothing
        }
    }

    /**
     * An update or delete any of whose statements matches every document: no filter, or one with nothing but a
     * {@code $comment}. A bulkWrite's update or delete with such a filter, and applyOps, count as well.
     */
    private static boolean unfiltered(Command command, BsonDocument body) {
        if (expires(command, body)) {
            return true; // a time to live or a cap reaches every document, whatever its filter
        }
        if (command.name().equals("bulkWrite")) {
            return documents(body, "ops").stream().anyMatch(op -> (op.containsKey("update") || op.containsKey("delete"))
                    && !(op.get("filter") instanceof BsonDocument f && !matchesAll(f)));
        }
        if (command.name().equals("applyOps")) {
            return true; // its operations are not read; fail closed
        }
        boolean writes = Set.of("update", "delete", "findAndModify", "findandmodify").contains(command.name());
        return writes && (command.filters().isEmpty() || command.filters().stream().anyMatch(CommandRules::matchesAll));
    }

    /**
     * Commands that remove documents without being named delete: a time to live on an index or a collection (0
     * seconds removes every dated document at the server's next pass), emptycapped, and convertToCapped, whose size
     * drops the oldest documents.
     */
    private static boolean expires(Command command, BsonDocument body) {
        return switch (command.name()) {
            case "emptycapped", "convertToCapped" -> true;
            case "create", "collMod" -> body.containsKey("expireAfterSeconds")
                    || body.get("index") instanceof BsonDocument index && index.containsKey("expireAfterSeconds");
            case "createIndexes" -> documents(body, "indexes").stream()
                    .anyMatch(index -> index.containsKey("expireAfterSeconds"));
            default -> false;
        };
    }

    /** An update statement that inserts when nothing matches; any value but false, 0 or null counts (fail closed). */
    private static boolean upserts(BsonDocument statement) {
        return on(statement.get("upsert"));
    }

    /** A flag as the server reads it: on unless absent, null, false or a numeric zero (fail closed). */
    private static boolean on(BsonValue v) {
        return v != null && !v.isNull() && !(v.isBoolean() && !v.asBoolean().getValue())
                && !(v.isNumber() && v.asNumber().doubleValue() == 0);
    }

    private static boolean matchesAll(BsonDocument filter) {
        return filter.keySet().stream().allMatch(k -> k.equals("$comment"));
    }

    private static List<BsonDocument> documents(BsonDocument body, String field) {
        return body.get(field) instanceof org.bson.BsonArray a ? a.stream().filter(BsonValue::isDocument)
                .map(BsonValue::asDocument).toList() : List.of();
    }

    /**
     * Whether a read returns documents without a bound: a find without a limit, distinct (every distinct value,
     * there is no limit to give), and a pipeline no {@code $limit} bounds (see {@link #limited}).
     */
    private static boolean unlimited(Command command, BsonDocument body) {
        return switch (command.name()) {
            case "find" -> !(body.get("limit") instanceof BsonValue v && v.isNumber() && v.asNumber().longValue() != 0);
            case "aggregate" -> !limited(command.pipeline());
            case "distinct" -> true;
            default -> false;
        };
    }

    /** Stages that make at most one document of each they take, and read no other collection. */
    private static final Set<String> ONE_FOR_ONE = Set.of("$match", "$sort", "$project", "$addFields", "$set",
            "$unset", "$skip", "$limit", "$replaceRoot", "$replaceWith", "$count");
    /** Stages that only add documents: before a $limit, it still bounds them. */
    private static final Set<String> ADDING = Set.of("$unwind", "$unionWith");

    /**
     * A pipeline whose output a {@code $limit} bounds: one with a top-level $limit after which every stage is one
     * for one, and nothing anywhere that gathers many documents into one ({@code $group} with {@code $push},
     * {@code $lookup}, {@code $facet} ...: {@code [{$limit: 1}, {$lookup: {from: "patients", pipeline: [], as:
     * "all"}}]} is one document holding every patient). Anything else counts as unlimited (fail closed).
     */
    private static boolean limited(List<BsonDocument> pipeline) {
        boolean bounded = false;
        for (BsonDocument stage : pipeline) {
            String name = stage.isEmpty() ? "" : stage.getFirstKey();
            if (name.equals("$limit")) {
                bounded = true;
            } else if (ADDING.contains(name)) {
                bounded = false;
            } else if (!ONE_FOR_ONE.contains(name)) {
                return false;
            }
        }
        return bounded;
    }

    /** The namespaces a command reads or writes: its own, and those its pipeline looks up, unions or writes into. */
    static Set<String> namespaces(Command command, BsonDocument body) {
        Set<String> out = new LinkedHashSet<>();
        out.add(command.namespace());
        switch (command.name()) {
            case "renameCollection" -> {
                for (String field : List.of("renameCollection", "to")) {
                    if (body.get(field) instanceof org.bson.BsonString ns) {
                        out.add(ns.getValue());
                    }
                }
            }
            case "bulkWrite" -> documents(body, "nsInfo").forEach(i -> {
                if (i.get("ns") instanceof org.bson.BsonString ns) {
                    out.add(ns.getValue());
                }
            });
            case "applyOps" -> documents(body, "applyOps").forEach(op -> {
                if (op.get("ns") instanceof org.bson.BsonString ns) {
                    out.add(ns.getValue());
                }
            });
            case "mapReduce", "mapreduce" -> {
                BsonValue o = body.get("out");
                if (o instanceof org.bson.BsonString name) {
                    out.add(command.database() + "." + name.getValue());
                } else if (o instanceof BsonDocument d) {
                    String db = d.get("db") instanceof org.bson.BsonString named ? named.getValue()
                            : command.database(); // not a string: the server refuses it
                    for (String mode : List.of("replace", "merge", "reduce")) {
                        if (d.get(mode) instanceof org.bson.BsonString name) {
                            out.add(db + "." + name.getValue());
                        }
                    }
                }
            }
            case "create", "collMod" -> {
                if (definesView(command, body)) {
                    if (body.get("viewOn") instanceof org.bson.BsonString on) {
                        out.add(command.database() + "." + on.getValue());
                    }
                    collect(body.get("pipeline") instanceof BsonValue p ? p : new org.bson.BsonArray(),
                            command.database(), out);
                }
            }
            case "cloneCollectionAsCapped" -> {
                if (body.get("toCollection") instanceof org.bson.BsonString to) {
                    out.add(command.database() + "." + to.getValue());
                }
            }
            case "explain" -> {
                // What explain wraps is read (executionStats runs it to the end): its namespaces are explain's.
                BsonDocument alone = CommandReader.explained(body, command.database());
                try {
                    if (alone != null) {
                        out.addAll(namespaces(CommandReader.read(alone), alone));
                    }
                } catch (CommandException e) {
                    // unreadable: refused by ServerCommands, never forwarded
                }
            }
            default -> {
            }
        }
        command.pipeline().forEach(stage -> collect(stage, command.database(), out));
        return out;
    }

    /** A create or collMod that defines (or redefines) a view: a pipeline run over other collections later. */
    private static boolean definesView(Command command, BsonDocument body) {
        return (command.name().equals("create") || command.name().equals("collMod"))
                && (body.containsKey("viewOn") || body.containsKey("pipeline"));
    }

    private static void collect(BsonValue value, String db, Set<String> out) {
        if (value.isArray()) {
            value.asArray().forEach(v -> collect(v, db, out));
        } else if (value.isDocument()) {
            for (var e : value.asDocument().entrySet()) {
                BsonValue v = e.getValue();
                switch (e.getKey()) {
                    // $merge: "x" is {$merge: {into: "x"}}; every form of every stage naming a collection
                    case "from", "coll", "$out", "$merge", "$unionWith", "into" -> {
                        if (v.isString()) {
                            out.add(db + "." + v.asString().getValue());
                        } else if (v.isDocument() && v.asDocument().get("db") instanceof BsonValue d && d.isString()
                                && v.asDocument().get("coll") instanceof BsonValue c && c.isString()) {
                            out.add(d.asString().getValue() + "." + c.asString().getValue());
                            continue; // {db, coll}: named whole, its coll is no collection of this database
                        }
                    }
                    default -> {
                    }
                }
                collect(v, db, out);
            }
        }
    }
}
