package io.phigate.mongo.masking;

import io.phigate.mask.DocumentCatalog;
import io.phigate.mask.PhiType;
import io.phigate.mask.ScalarMasking;
import io.phigate.mongo.command.Command;
import io.phigate.mongo.command.DuplicateFields;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * One session's masking of document-store commands: before a command is forwarded, whether it may run and how its
 * replies are masked. While the store declares PHI, only the commands modelled here run (reads: find, aggregate,
 * getMore, count, distinct, findAndModify; writes: insert, update, delete; and commands that carry no documents);
 * any other ({@code explain}, {@code mapReduce}, whatever a server version adds) is refused. Created at
 * authentication; used on the connection's thread.
 */
public final class CommandMasking {
    /**
     * Commands that read or write no document values; their replies still pass only the fields {@link ReplyFields}
     * lists, since a listing may show what an administrator wrote and a transaction's end the words of its writes.
     */
    private static final Set<String> NO_DOCUMENTS = Set.of("ping", "buildInfo", "buildinfo", "endSessions",
            "killCursors", "listCollections", "listIndexes", "listDatabases", "create", "dropIndexes",
            "drop", "dropDatabase", "connectionStatus", "getParameter", "whatsmyuri", "abortTransaction",
            "commitTransaction");

    /** What becomes of a command: refused with a reason, or forwarded with its replies' masking. */
    public sealed interface Judgement {
        /** @param phiFields the PHI fields it reads, for the request record ({@code db.coll.path} to type) */
        record Forward(ReplyPlan plan, Map<String, String> phiFields) implements Judgement {
        }

        /** @param phiFields as for Forward: a refused command's record is found by the PHI it reached for */
        record Refuse(String message, Map<String, String> phiFields) implements Judgement {
        }

        Map<String, String> phiFields();

        /** The PHI types of {@link #phiFields} ({@code ssn}, {@code lookup:ssn} and {@code join:ssn} alike). */
        default Set<PhiType> phiTypes() {
            Set<PhiType> types = java.util.EnumSet.noneOf(PhiType.class);
            for (String v : phiFields().values()) {
                PhiType.fromPolicyName(v.substring(v.indexOf(':') + 1)).ifPresent(types::add);
            }
            return types;
        }
    }

    private static final Judgement PASS = new Judgement.Forward(ReplyPlan.PASS, Map.of());

    private final DocumentCatalog catalog;
    private final Function<PhiType, ScalarMasking> operators;
    private final Predicate<PhiType> masked;
    private final Set<PhiType> lookups;
    private final String role;

    /**
     * @param operators how this session sees each PHI type ({@code none} for types the role sees unmasked)
     * @param lookups   the types the role may look up by equality
     * @param role      the role's name, null when the policy defines none
     */
    public CommandMasking(DocumentCatalog catalog, Function<PhiType, ScalarMasking> operators, Set<PhiType> lookups,
                          String role) {
        this.catalog = catalog;
        this.operators = operators;
        this.masked = type -> !operators.apply(type).passes();
        this.lookups = Set.copyOf(lookups);
        this.role = role;
    }

    /** True when the store declares PHI in {@code database.collection}: its writes are checked against unique keys. */
    public boolean declaresPhi(String database, String collection) {
        return !catalog.declaresNothing() && collection != null
                && !FieldTags.of(catalog.paths(database + "." + collection)).flatten().isEmpty();
    }

    /**
     * Of {@code indexes} (the listIndexes entries of {@code database.collection}), the key paths of unique ones over
     * PHI this session sees masked and may not look up, with the type: a write setting such a path fails exactly
     * when the value is already stored, which answers a lookup (decision 0096, as 0035 counts it on SQL).
     */
    public Map<String, PhiType> uniqueMaskedKeys(String database, String collection,
                                                 java.util.List<BsonDocument> indexes) {
        FieldTags tags = FieldTags.of(catalog.paths(database + "." + collection));
        Map<String, PhiType> keys = new java.util.TreeMap<>();
        for (BsonDocument index : indexes) {
            if (!Indexes.unique(index) || !(index.get("key") instanceof BsonDocument key)) {
                continue;
            }
            PhiType held = null;
            for (String path : key.keySet()) {
                PhiType type = path.contains("$**") ? tags.strongest(masked) : tags.overlapping(path, masked);
                if (type != null && !lookups.contains(type)) {
                    held = PhiType.strongest(held, type);
                }
            }
            // Every path of such an index is a key: in {ssn, ward}, moving a patient to a ward fails exactly when
            // another record there has the same masked SSN (an attacker's review of 0096), an equality of two
            // masked values the session could not test by a filter. Each path answers for the strongest type the
            // index holds, not its own: a write that fails on the index answers for the whole key.
            if (held != null) {
                for (String path : key.keySet()) {
                    keys.merge(path, held, PhiType::strongest);
                }
            }
        }
        // _id is unique in every collection, yet listIndexes writes no unique flag on its index: a masked _id (an
        // MRN as the key) answers an insert of a guessed one with a duplicate key (an attacker's review of 0096).
        PhiType id = tags.overlapping("_id", masked);
        if (id != null && !lookups.contains(id)) {
            keys.put("_id", id);
        }
        return keys;
    }

    /**
     * @param body       the command's body, for the options {@link Command} does not carry
     * @param cursorPlan for a getMore, the plan of the command that opened its cursor (null when unknown)
     */
    public Judgement judge(Command command, BsonDocument body, ReplyPlan cursorPlan) {
        if (catalog.declaresNothing()) {
            return PASS;
        }
        if (command.name().equals("getMore")) {
            return new Judgement.Forward(cursorPlan == null ? ReplyPlan.withoutDocuments("getMore") : cursorPlan,
                    Map.of());
        }
        if (command.name().equals("create") && (body.containsKey("viewOn") || body.containsKey("pipeline"))) {
            String refused = Views.refusal(command, body, catalog, role);
            if (refused != null) {
                return new Judgement.Refuse(refused, Map.of());
            }
        }
        if (command.name().equals("listCollections") && !namesOnly(body.get("filter"))) {
            return new Judgement.Refuse("listCollections' filter may test only name and type: the options it could"
                    + " test (a view's pipeline, a validator) are withheld from the reply, since an administrator's"
                    + " constants in them may be PHI, and a filter over them would tell them anyway", Map.of());
        }
        if (NO_DOCUMENTS.contains(command.name())) {
            return new Judgement.Forward(ReplyPlan.withoutDocuments(command.name()), removed(command));
        }
        String repeated = body instanceof org.bson.RawBsonDocument raw ? DuplicateFields.in(raw) : null;
        for (BsonDocument statement : command.statements()) {
            if (repeated == null && statement instanceof org.bson.RawBsonDocument raw) {
                repeated = DuplicateFields.in(raw); // a statement may come in a document sequence, not the body
            }
        }
        if (repeated != null) {
            return new Judgement.Refuse("the field " + repeated + " appears twice in one document; the server would"
                    + " apply both, so phigate refuses rather than judge one", Map.of());
        }
        String database = command.database();
        Scope scope = new Scope(database, name -> FieldTags.of(catalog.paths(database + "." + name)), masked,
                lookups, role);
        String collection = command.collection();
        try {
            FieldTags in = readable(command, body, scope);
            if (collection != null) {
                scope.read(collection, in);
            }
            if (asksFor(body.get("explain"))) {
                throw new Refused("explain is not modelled: its plans quote filters and may carry documents; refused"
                        + " while the store declares PHI");
            }
            Predicates.hint(body.get("hint"), in, scope);
            FieldTags out = switch (command.name()) {
                case "find" -> find(command, body, in, scope);
                case "aggregate" -> Pipelines.output(command.pipeline(), in, collection, scope);
                case "findAndModify", "findandmodify" -> {
                    FieldTags shown = find(command, body, in, scope);
                    Writes.check(command, body, in, scope);
                    yield shown;
                }
                case "count" -> {
                    filters(command, in, scope);
                    yield FieldTags.EMPTY;
                }
                case "distinct" -> {
                    // Distinct values come back deduplicated and sorted by their real values: DISTINCT, as in SQL.
                    filters(command, in, scope);
                    Predicates.key("distinct's key", new org.bson.BsonString("$" + command.distinctKey()), in, scope);
                    yield in.at(command.distinctKey());
                }
                case "update" -> {
                    filters(command, in, scope);
                    Writes.check(command, body, in, scope);
                    yield FieldTags.EMPTY;
                }
                case "delete" -> {
                    filters(command, in, scope);
                    for (BsonDocument statement : command.statements()) {
                        Predicates.hint(statement.get("hint"), in, scope);
                    }
                    yield FieldTags.EMPTY;
                }
                case "insert" -> FieldTags.EMPTY;
                case "createIndexes" -> {
                    Indexes.check(body, in, scope, collection);
                    yield FieldTags.EMPTY;
                }
                default -> throw new Refused("the command " + command.name() + " is not one phigate's document"
                        + " masking models; refused while the store declares PHI");
            };
            if (out.tag() != null && masked.test(out.tag())) {
                throw new Refused("the result documents would be PHI (" + out.tag().policyName() + ") as a whole;"
                        + " return it as a field instead");
            }
            boolean phi = in.strongest(masked) != null || out.strongest(masked) != null
                    || !scope.phiFields().isEmpty();
            return new Judgement.Forward(ReplyPlan.documents(command.name(), out, operators, phi), Map.copyOf(scope.phiFields()));
        } catch (Refused e) {
            return new Judgement.Refuse(e.getMessage(), Map.copyOf(scope.phiFields()));
        }
    }

    /** The operators a listCollections filter may use over {@link #LISTED_FIELDS}. */
    private static final Set<String> LISTING_OPERATORS = Set.of("$and", "$or", "$nor", "$eq", "$ne", "$in", "$nin",
            "$regex", "$options", "$exists", "$not", "$gt", "$gte", "$lt", "$lte", "$type");
    private static final Set<String> LISTED_FIELDS = Set.of("name", "type");

    /** Whether a listCollections filter tests only names and types; a missing filter does. */
    private static boolean namesOnly(BsonValue filter) {
        if (filter == null) {
            return true;
        }
        if (filter instanceof org.bson.BsonArray list) {
            return list.stream().allMatch(CommandMasking::namesOnly);
        }
        if (!(filter instanceof BsonDocument d)) {
            return true; // a value compared with a name or a type
        }
        for (var e : d.entrySet()) {
            boolean operator = e.getKey().startsWith("$");
            if (operator ? !LISTING_OPERATORS.contains(e.getKey()) : !LISTED_FIELDS.contains(e.getKey())) {
                return false;
            }
            if (!namesOnly(e.getValue())) {
                return false;
            }
        }
        return true;
    }

    /** Commands that return no documents but remove or replace a collection's, or every collection's of a database. */
    private static final Set<String> REMOVING = Set.of("drop", "dropIndexes", "create", "dropDatabase");

    /**
     * The PHI fields a command without documents acts on: no value comes back, but a drop of clinic.patients (or a
     * dropDatabase of clinic) removes PHI, which the records and a rule on PHI ({@code phi: true}) must see.
     */
    private Map<String, String> removed(Command command) {
        if (!REMOVING.contains(command.name())) {
            return Map.of();
        }
        String database = command.database() + ".";
        String only = command.name().equals("dropDatabase") ? null : database + command.collection();
        Map<String, String> fields = new java.util.TreeMap<>();
        catalog.collections().forEach((namespace, paths) -> {
            if (only == null ? namespace.startsWith(database) : namespace.equals(only)) {
                paths.forEach((path, type) -> fields.put(namespace + "." + path, type.policyName()));
            }
        });
        return fields;
    }

    private FieldTags find(Command command, BsonDocument body, FieldTags in, Scope scope) throws Refused {
        filters(command, in, scope);
        if (command.sort() != null) {
            Predicates.sort(command.sort(), in, scope);
        }
        for (String bound : new String[] {"min", "max"}) {
            if (body.get(bound) instanceof BsonValue v && v.isDocument()) {
                Predicates.sort(v.asDocument(), in, scope); // index bounds are conditions over their fields
            }
        }
        if (asksFor(body.get("returnKey")) && in.strongest(masked) != null) {
            throw new Refused("returnKey returns an index's keys under their dotted names instead of the documents,"
                    + " which the masking by field path does not walk; refused while the documents hold masked PHI");
        }
        if (command.projection() == null) {
            return in;
        }
        for (var e : command.projection().entrySet()) {
            if (e.getValue().isDocument() && e.getValue().asDocument().containsKey("$elemMatch")) {
                Predicates.filter(new BsonDocument(e.getKey(), e.getValue()), in, scope, command.collection());
            }
        }
        return Pipelines.projection(command.projection(), in, masked);
    }

    /**
     * Whether a flag option is on as the server reads it: mongod takes a number for a boolean (returnKey: 1), so
     * anything but false or a numeric zero asks for it (a type the server refuses is refused here too).
     */
    private static boolean asksFor(BsonValue flag) {
        return flag != null && !(flag.isBoolean() && !flag.asBoolean().getValue()
                || flag.isNumber() && flag.asNumber().doubleValue() == 0);
    }

    private static void filters(Command command, FieldTags in, Scope scope) throws Refused {
        for (BsonDocument filter : command.filters()) {
            Predicates.filter(filter, in, scope, command.collection());
        }
    }

    /** The commands this masking models read their collection by name: a UUID would leave the catalog unasked. */
    private static final Set<String> BY_NAME = Set.of("find", "aggregate", "count", "distinct", "findAndModify",
            "findandmodify", "insert", "update", "delete", "createIndexes");

    /** The tags of the command's own collection, refused where the catalog cannot speak for what it reads. */
    private static FieldTags readable(Command command, BsonDocument body, Scope scope) throws Refused {
        BsonValue first = body.get(command.name());
        if (BY_NAME.contains(command.name()) && command.collection() == null
                && !(command.name().equals("aggregate") && first != null && first.isNumber())) {
            throw new Refused(command.name() + " names its collection by something other than its name, so the PHI"
                    + " catalog cannot tell what it holds; refused while the store declares PHI");
        }
        if (command.collection() == null) {
            return scope.readable(""); // database-wide: only the database is checked
        }
        return scope.readable(command.collection());
    }
}
