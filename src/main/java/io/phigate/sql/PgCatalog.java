package io.phigate.sql;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PostgreSQL upstream's catalog as seen by the gateway's role: relations with their columns and view
 * definitions, PHI tags from column comments ({@code COMMENT ON COLUMN patients.ssn IS 'phi:ssn'}), the search
 * path, and which functions exist where. Immutable once built, so one instance serves every session.
 *
 * <p>{@link #load(Queries)} reads it over any connection that runs a simple query (the gateway uses
 * {@code io.phigate.pg.backend.HousekeepingClient}; this package stays free of protocol code). Tests build one
 * with {@link #builder()}.
 *
 * <p><b>Transparent functions.</b> Only functions in {@code pg_catalog} are transparent (for an unqualified name:
 * one that exists in {@code pg_catalog} and in no other schema, so a user function cannot shadow a built-in), and
 * of those, none that run SQL given as text, read server files, large objects or other databases, or send data
 * out of band: see {@link #DENIED} and {@link #DENIED_PREFIXES}. {@code format} and {@code concat_ws} are
 * transparent: their result is built from their arguments only.
 */
public final class PgCatalog implements Catalog {

    /** Runs one simple query and returns its rows as text (SQL NULL as null). */
    @FunctionalInterface
    public interface Queries {
        List<List<String>> query(String sql) throws IOException;
    }

    /**
     * A generated column and each column its expression reads (PostgreSQL records them as the column's dependencies,
     * and refuses a whole-row reference in one): a key, check or foreign key on {@code upper(ssn)} tests the
     * {@code ssn} written, so the written column counts as checked too. Without it an INSERT of a masked value
     * into a table with {@code ssn_key GENERATED ALWAYS AS (upper(ssn)) STORED UNIQUE} answered whether it exists,
     * unrefused (an attacker's review of decision 0095).
     */
    static final String GENERATED_FROM = """
            generated_from(rel, attnum, source) AS (
              SELECT d.objid, d.objsubid, d.refobjsubid FROM pg_catalog.pg_depend d
              JOIN pg_catalog.pg_attribute a ON a.attrelid = d.objid AND a.attnum = d.objsubid
              WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                AND d.refobjid = d.objid AND d.objsubid > 0 AND d.refobjsubid > 0 AND a.attgenerated <> '')""";

    /** pg_catalog functions whose result does not come from their arguments alone. */
    static final Set<String> DENIED = Set.of(
            // run a query given as text, returning its rows
            // (ts_rewrite's two-argument form runs its second argument as a query and returns what it read)
            "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "ts_stat", "ts_rewrite",
            // read server files, logs and WAL
            "pg_stat_file", "pg_current_logfile",
            // large objects may hold anything, PHI included
            "loread", "lowrite",
            // server state, or side effects on it. Not current_setting, set_config, pg_notify, pg_cancel_backend
            // and pg_terminate_backend: a session that sees PHI masked may call them only in forms whose arguments
            // are constants, bound values or its own backend's pid (policy.FunctionAllowlist), so their results
            // (a setting's value, the value set, void, a boolean) derive from those arguments (decision 0049)
            "pg_reload_conf", "pg_rotate_logfile", "pg_switch_wal", "pg_promote", "pg_import_snapshot");
    // Not pg_export_snapshot: its result names a transaction's view of the data, never a value in it, and the
    // sessions that import it (pg_dump -j's workers) read through masking like any other.
    static final List<String> DENIED_PREFIXES = List.of("table_to_xml", "cursor_to_xml", "schema_to_xml",
            "database_to_xml", "pg_read_", "pg_ls_", "pg_file_", "lo_", "dblink", "pg_logical_",
            "pg_replication_");

    /**
     * pg_catalog functions the server marks volatile that change nothing outside the calling statement and read no
     * table's rows: random numbers, clocks and sleeps, this session's own sequence values, relation and database
     * sizes, the server's status (WAL positions, recovery, locks held, the transaction's own statistics counters).
     * nextval and setval are here because their write is counted as one on the sequence ({@code SideWrites}). Every
     * other volatile built-in {@link #changesState}: an allow list, so a function a newer server adds is judged
     * until it is added here.
     */
    static final Set<String> UNCHANGING_VOLATILE = Set.of("random", "random_normal", "setseed", "clock_timestamp",
            "timeofday", "gen_random_uuid", "uuidv4", "uuidv7", "pg_sleep", "pg_sleep_for", "pg_sleep_until",
            "timezone", "nextval", "setval", "currval", "lastval", "pg_relation_size", "pg_table_size",
            "pg_indexes_size", "pg_total_relation_size", "pg_database_size", "pg_tablespace_size",
            "pg_is_in_recovery", "pg_is_in_backup", "pg_jit_available", "pg_notification_queue_usage",
            "pg_stat_clear_snapshot", "pg_partition_tree", "pg_partition_ancestors", "pg_collation_actual_version",
            "pg_blocking_pids", "pg_safe_snapshot_blocking_pids", "pg_isolation_test_session_is_blocked",
            "pg_lock_status", "pg_prepared_xact", "pg_xact_status", "txid_status", "pg_xact_commit_timestamp",
            "pg_last_committed_xact", "pg_current_wal_lsn", "pg_current_wal_insert_lsn", "pg_current_wal_flush_lsn",
            "pg_last_wal_receive_lsn", "pg_last_wal_replay_lsn", "pg_last_xact_replay_timestamp",
            "pg_get_wal_replay_pause_state", "pg_is_wal_replay_paused", "current_query", "bernoulli", "system",
            "pg_get_backend_memory_contexts", "pg_get_shmem_allocations", "pg_get_multixact_members",
            "pg_control_checkpoint", "pg_control_init", "pg_control_recovery", "pg_control_system",
            "pg_export_snapshot", "pg_stat_have_stats");
    /**
     * Built-ins the server marks stable that give the transaction an xid when it has none: a write to WAL and the
     * commit log, and a step towards wraparound per call in a transaction of its own (decision 0089).
     */
    static final Set<String> ASSIGNS_XID = Set.of("txid_current", "pg_current_xact_id");
    /** The transaction's own statistics counters (pg_stat_xact_* views). */
    private static final String OWN_COUNTERS = "pg_stat_get_xact_";

    private static final Pattern PHI_TAG = Pattern.compile("phi:([A-Za-z0-9_.-]+)");

    private final Map<TableRef, Relation> relations;
    private final Map<Integer, Relation> byOid;
    private final Map<Integer, Map<Integer, String>> attributes;
    private final List<String> searchPath;
    private final Map<ColumnRef, String> phiTags;
    /** Each column's type OID as a RowDescription would give it (a domain's base type). */
    private final Map<ColumnRef, Integer> columnTypes;
    /** Columns of array, range, multirange or composite type. */
    private final Set<ColumnRef> compound;
    /** Function name → the schemas that define a function by that name. */
    private final Map<String, Set<String>> functions;
    /** Names of pg_catalog functions with a volatile overload. */
    private final Set<String> volatileBuiltIns;
    /** Names of collations that are deterministic in every schema that defines one by that name. */
    private final Set<String> deterministicCollations;
    /** Columns declared with a nondeterministic collation. */
    private final Set<ColumnRef> looseColumns;
    private final Set<String> foreignOperators;
    /** Each table's inheritance family (parents, children, partitions, transitively), itself excluded. */
    private final Map<TableRef, Set<TableRef>> families;
    /** Each table's children and partitions, transitively. */
    private final Map<TableRef, Set<TableRef>> descendants;
    /** Columns whose written values are checked against other rows, and tables checked on an expression. */
    private final Set<ColumnRef> existenceChecked;
    private final Set<TableRef> existenceCheckedWhole;
    /** Each table's columns its CHECK constraints read. */
    private final Map<TableRef, Set<ColumnRef>> rowChecks;
    /** A foreign key's referencing column to the columns it references. */
    private final Map<ColumnRef, Set<ColumnRef>> references;
    /** A referenced table to the foreign keys that reference it, with their actions. */
    private final Map<TableRef, List<KeyAction>> referencedBy;
    /** Tables where the server runs code outside pg_catalog when they are written or read (decision 0050). */
    private final Set<TableRef> runningCode;
    /** Tables where code runs on a read too: row security, and indexes comparing with a user function (0087). */
    private final Set<TableRef> rowSecurity;
    private final boolean eventTriggers;
    /** {@link CatalogFingerprint} as read before everything else in {@link #load}; null when built by hand. */
    private final String fingerprint;
    /** Code the gateway does not read may run in a session and change its search_path or role (decision 0064). */
    private final boolean settingCode;
    /** Names of the types whose values run code when made: see {@link #makingValuesRunsCode}. */
    private final Set<String> codeTypes;
    /** Every type name the catalog knows, kept only where {@link #codeTypes} is not empty. */
    private final Set<String> knownTypes;
    /** The relations extensions own, each with its extension's name. */
    private final Map<TableRef, String> extensionMembers;
    /** Every type's name by its OID, kept only where {@link #codeTypes} is not empty. */
    private final Map<Integer, String> typeNamesByOid;
    /** Which columns hold each domain's values, and which tables each composite type types. */
    private final TypeUses typeUses;
    /** Relation → the columns holding its whole rows (its row type, or a type built over it; decision 0093). */
    private final Map<TableRef, Set<ColumnRef>> rowHolders;
    /** A generated column → the columns of its table its expression reads. */
    private final Map<ColumnRef, Set<ColumnRef>> generatedFrom;
    /** Each partitioned table's columns its partition key reads. */
    private final Map<TableRef, Set<String>> partitionKeys;
    private volatile Set<String> names;

    private PgCatalog(Builder b) {
        this.relations = Map.copyOf(b.relations);
        Map<Integer, Relation> oids = new HashMap<>();
        for (Relation r : b.relations.values()) {
            if (r.oid() != 0) {
                oids.put(r.oid(), r);
            }
        }
        this.byOid = Map.copyOf(oids);
        Map<Integer, Map<Integer, String>> attrs = new HashMap<>();
        b.attributes.forEach((oid, m) -> attrs.put(oid, Map.copyOf(m)));
        this.attributes = Map.copyOf(attrs);
        this.searchPath = List.copyOf(b.searchPath);
        this.phiTags = Map.copyOf(b.phiTags);
        this.columnTypes = Map.copyOf(b.columnTypes);
        this.compound = Set.copyOf(b.compound);
        this.families = families(b.inherits);
        this.descendants = descendants(b.inherits);
        this.existenceChecked = Set.copyOf(b.existenceChecked);
        this.existenceCheckedWhole = Set.copyOf(b.existenceCheckedWhole);
        Map<TableRef, Set<ColumnRef>> checks = new HashMap<>();
        b.rowChecks.forEach((t, cols) -> checks.put(t, Set.copyOf(cols)));
        this.rowChecks = Map.copyOf(checks);
        Map<ColumnRef, Set<ColumnRef>> refs = new HashMap<>();
        b.references.forEach((from, to) -> refs.put(from, Set.copyOf(to)));
        this.references = Map.copyOf(refs);
        Map<TableRef, List<KeyAction>> by = new HashMap<>();
        b.referencedBy.forEach((to, keys) -> by.put(to, List.copyOf(keys)));
        this.referencedBy = Map.copyOf(by);
        this.runningCode = Set.copyOf(b.runningCode);
        this.rowSecurity = Set.copyOf(b.rowSecurity);
        this.eventTriggers = b.eventTriggers;
        this.fingerprint = b.fingerprint;
        this.settingCode = b.settingCode;
        this.codeTypes = Set.copyOf(b.codeTypes);
        this.knownTypes = Set.copyOf(b.knownTypes);
        this.typeNamesByOid = Map.copyOf(b.typeNamesByOid);
        this.extensionMembers = Map.copyOf(b.extensionMembers);
        this.typeUses = b.typeUses == null ? b.types.build() : b.typeUses;
        Map<ColumnRef, Set<ColumnRef>> generated = new HashMap<>();
        b.generatedFrom.forEach((column, sources) -> generated.put(column, Set.copyOf(sources)));
        this.generatedFrom = Map.copyOf(generated);
        Map<TableRef, Set<String>> keys = new HashMap<>();
        b.partitionKeys.forEach((t, cols) -> keys.put(t, Set.copyOf(cols)));
        this.partitionKeys = Map.copyOf(keys);
        Map<TableRef, Set<ColumnRef>> holders = new HashMap<>();
        b.rowHolders.forEach((t, cols) -> holders.put(t, Set.copyOf(cols)));
        this.rowHolders = Map.copyOf(holders);
        Map<String, Set<String>> fns = new HashMap<>();
        b.functions.forEach((name, schemas) -> fns.put(name, Set.copyOf(schemas)));
        this.functions = Map.copyOf(fns);
        this.volatileBuiltIns = Set.copyOf(b.volatileBuiltIns);
        Set<String> deterministic = new HashSet<>(b.deterministicCollations);
        deterministic.removeAll(b.nondeterministicCollations);
        this.deterministicCollations = Set.copyOf(deterministic);
        this.looseColumns = Set.copyOf(b.looseColumns);
        Set<String> ops = new HashSet<>();
        fns.forEach((name, schemas) -> {
            if (name.startsWith("operator ") && !Set.of("pg_catalog").equals(schemas)) {
                ops.add(name.substring("operator ".length()));
            }
        });
        this.foreignOperators = Set.copyOf(ops);
    }

    /** Operator names some schema other than pg_catalog defines (user and extension operators); mostly empty. */
    public Set<String> operatorsOutsidePgCatalog() {
        return foreignOperators;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Optional<Relation> relation(String schema, String name) {
        if (name == null) {
            return Optional.empty();
        }
        if (schema != null) {
            return Optional.ofNullable(relations.get(new TableRef(schema, name)));
        }
        // pg_catalog is searched first unless the path names it later, as the server does.
        if (!searchPath.contains("pg_catalog")) {
            Relation r = relations.get(new TableRef("pg_catalog", name));
            if (r != null) {
                return Optional.of(r);
            }
        }
        for (String s : searchPath) {
            Relation r = relations.get(new TableRef(s, name));
            if (r != null) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    @Override
    public Optional<ColumnRef> column(int tableOid, int attributeNumber) {
        Relation r = byOid.get(tableOid);
        Map<Integer, String> attrs = attributes.get(tableOid);
        if (r == null || attrs == null || !attrs.containsKey(attributeNumber)) {
            return Optional.empty();
        }
        return Optional.of(new ColumnRef(r.schema(), r.name(), attrs.get(attributeNumber)));
    }

    /**
     * information_schema's own SQL helpers, which JDBC drivers' metadata queries call by qualified name: each
     * reads its arguments and the system catalogs only ({@code _pg_expandarray} unnests an array with positions,
     * the rest decode type modifiers or an index's column positions).
     */
    private static final Set<String> INFORMATION_SCHEMA_HELPERS = Set.of("_pg_expandarray", "_pg_index_position",
            "_pg_truetypid", "_pg_truetypmod", "_pg_char_max_length", "_pg_char_octet_length", "_pg_numeric_precision",
            "_pg_numeric_precision_radix", "_pg_numeric_scale", "_pg_datetime_precision", "_pg_interval_type");

    @Override
    public boolean isTransparentFunction(String schema, String name) {
        if (name == null) {
            return false;
        }
        String n = name.toLowerCase(Locale.ROOT);
        if (DENIED.contains(n) || DENIED_PREFIXES.stream().anyMatch(n::startsWith)) {
            return false;
        }
        Set<String> schemas = functions.getOrDefault(n, Set.of());
        if (schema != null) {
            return (schema.equals("pg_catalog") || (schema.equals("information_schema")
                    && INFORMATION_SCHEMA_HELPERS.contains(n))) && schemas.contains(schema);
        }
        return schemas.size() == 1 && schemas.contains("pg_catalog");
    }

    /** Known, and deterministic in every schema that defines a collation by that name. */
    @Override
    public boolean deterministicCollation(String name) {
        return deterministicCollations.contains(name) || (deterministicCollations.isEmpty()
                && Catalog.super.deterministicCollation(name));
    }

    @Override
    public boolean looseEquality(ColumnRef column) {
        return looseColumns.contains(column);
    }

    /**
     * A pg_catalog function with a volatile overload that is not among {@link #UNCHANGING_VOLATILE}, or one of
     * {@link #ASSIGNS_XID}. Judged by name:
     * one volatile overload is enough. An unqualified name another schema also defines is opaque
     * ({@link #isTransparentFunction}) and judged as such, so only the built-in is asked about here.
     */
    @Override
    public boolean changesState(String schema, String name) {
        if (name == null || (schema != null && !schema.equals("pg_catalog"))) {
            return false;
        }
        String n = name.toLowerCase(Locale.ROOT);
        return ASSIGNS_XID.contains(n)
                || volatileBuiltIns.contains(n) && !UNCHANGING_VOLATILE.contains(n) && !n.startsWith(OWN_COUNTERS);
    }

    /**
     * The schemas that define a function named {@code name} (any argument types); for an operator, ask for
     * {@code "operator " + name}, as {@link #load} records operators beside functions. Empty when none does.
     */
    public Set<String> schemasDefining(String name) {
        return functions.getOrDefault(name.toLowerCase(Locale.ROOT), Set.of());
    }

    @Override
    public boolean definesFunction(String name) {
        return !schemasDefining(name).isEmpty();
    }

    /**
     * Every schema, relation and column name, lower-cased: names an error may quote back without quoting data.
     * Computed on first use, once per catalog read.
     */
    public Set<String> names() {
        Set<String> n = names;
        if (n == null) {
            Set<String> all = new HashSet<>();
            for (Relation r : relations.values()) {
                all.add(r.schema().toLowerCase(Locale.ROOT));
                all.add(r.name().toLowerCase(Locale.ROOT));
                for (String c : r.columns()) {
                    all.add(c.toLowerCase(Locale.ROOT));
                }
            }
            n = Set.copyOf(all);
            names = n; // a race computes it twice, equal
        }
        return n;
    }

    /**
     * The tables {@code table} shares rows with by inheritance: its ancestors, whose scans include its rows, and its
     * descendants (partitions included), whose rows its own scans return. Empty for most tables.
     */
    public Set<TableRef> family(TableRef table) {
        return families.getOrDefault(table, Set.of());
    }

    @Override
    public Set<TableRef> descendants(TableRef table) {
        return descendants.getOrDefault(table, Set.of());
    }

    @Override
    public Set<String> partitionedBy(TableRef table) {
        Set<String> names = new HashSet<>(partitionKeys.getOrDefault(table, Set.of()));
        for (TableRef d : descendants(table)) {
            names.addAll(partitionKeys.getOrDefault(d, Set.of())); // partitions share their parent's column names
        }
        return names;
    }

    @Override
    public Set<String> chosenBy(TableRef table) {
        Set<String> names = new HashSet<>();
        for (TableRef t : family(table)) {
            if (!descendants(table).contains(t)) {
                names.addAll(partitionKeys.getOrDefault(t, Set.of())); // an ancestor's key, by the shared names
            }
        }
        return names;
    }

    @Override
    public Set<ColumnRef> checkedAgainst(ColumnRef column) {
        TableRef table = new TableRef(column.schema(), column.table());
        Relation relation = relations.get(table);
        if (relation == null || relation.kind() != Relation.Kind.TABLE) {
            // Unknown, or a view whose writes reach a base table whose keys are not read through it: fail closed.
            return Set.of(column);
        }
        // A partition's or a child's unique index checks rows written through its parent, and a parent's through
        // its partitions: the family counts as one.
        Set<TableRef> tables = new HashSet<>(family(table));
        tables.add(table);
        Set<ColumnRef> out = new HashSet<>();
        for (TableRef t : tables) {
            ColumnRef member = new ColumnRef(t.schema(), t.table(), column.column());
            if (existenceCheckedWhole.contains(t) || existenceChecked.contains(member)) {
                out.add(column);
            }
            out.addAll(references.getOrDefault(member, Set.of()));
        }
        return out;
    }

    /**
     * A foreign key as the referenced table sees it: the referencing table and its ON UPDATE and ON DELETE actions in
     * pg_constraint's codes ({@code a} no action, {@code r} restrict, {@code c} cascade, {@code n} set null,
     * {@code d} set default).
     */
    record KeyAction(TableRef referencing, char onUpdate, char onDelete) {
    }

    @Override
    public Set<TableRef> writtenThroughKeys(TableRef table, Operation operation) {
        Set<TableRef> out = new LinkedHashSet<>();
        keyWrites(table, operation, out, new HashSet<>());
        out.remove(table);
        return out;
    }

    /** Follows the actions a write of {@code operation} to {@code table} sets off; {@code seen} ends key cycles. */
    private void keyWrites(TableRef table, Operation operation, Set<TableRef> out, Set<String> seen) {
        if (!seen.add(operation + " " + table)) {
            return;
        }
        for (KeyAction k : referencedBy.getOrDefault(table, List.of())) {
            char action = operation == Operation.DELETE ? k.onDelete() : operation == Operation.UPDATE ? k.onUpdate()
                    : 'c'; // TRUNCATE ... CASCADE empties every referencing table whatever its actions
            Operation then = switch (action) {
                case 'c' -> operation;
                case 'n', 'd' -> Operation.UPDATE;
                default -> null; // no action, restrict: the write fails instead
            };
            if (then != null) {
                out.add(k.referencing());
                keyWrites(k.referencing(), then, out, seen);
            }
        }
    }

    @Override
    public Set<ColumnRef> rowChecks(TableRef table) {
        return rowChecks.getOrDefault(table, Set.of());
    }

    /**
     * True when touching {@code table} may run code the analyser does not read: a user trigger, a rule, a row
     * security policy, or a column default calling a function outside pg_catalog. Such code may write anywhere,
     * a session's temporary tables included. True for a relation this catalog does not know (fail closed).
     */
    public boolean runsCode(TableRef table) {
        Relation r = relations.get(table);
        return r == null || runningCode.contains(table);
    }

    /**
     * True when reading {@code table} may run code the analyser does not read: row security policies, and an index
     * scan whose operator class or access method calls a function made after initdb (decision 0087); triggers,
     * rewrite rules other than a view's own, defaults and CHECKs run on writes. True for a relation this catalog does
     * not know (fail closed). A view's own body is the caller's to judge.
     */
    public boolean runsCodeWhenRead(TableRef table) {
        return relations.get(table) == null || rowSecurity.contains(table);
    }

    /** True when the database has an enabled event trigger: DDL may run code the analyser does not read. */
    public boolean eventTriggers() {
        return eventTriggers;
    }

    /**
     * The catalog's {@link CatalogFingerprint}, read before the rest (so DDL committed during the load makes it
     * differ from the server's, never agree with a catalog older than the server's); null when built by hand.
     */
    public String fingerprint() {
        return fingerprint;
    }

    /**
     * True when code the analyser does not read may run in a session and change its {@code search_path} or role
     * with effect after the statement (decision 0064): a function created after initdb (any language: a trigger's,
     * an extension's, one a role is granted), a rule other than a view's own, an event trigger, or a view, policy,
     * default or constraint whose stored expression calls a built-in that may change a setting or runs SQL text.
     * False only where none of these exists, so that no statement can change them out of the gateway's sight.
     */
    public boolean settingCode() {
        return settingCode;
    }

    /**
     * True when making a value of the type named {@code name} (its last name part, as the grammar gives it) may run
     * code the analyser does not read: a domain created after initdb whose CHECK or default calls setting code (a
     * function made after initdb, or a built-in such as set_config), or an array, range, multirange, composite (a
     * relation's row type included) or domain over one. A cast, a typed literal or a parameter of such a type runs the code without naming a
     * function (decision 0070, attacker's read). A base type's input function is C that only a superuser installs,
     * trusted as the server's own. Matched by name alone, in any schema, so a name shared with another type counts
     * too; types created after the catalog was read are not known (0064).
     */
    public boolean makingValuesRunsCode(String name) {
        return codeTypes.contains(name);
    }

    /**
     * True when the catalog knows a type of this name; kept only where some type's values run code (else false),
     * since only there an unknown name (a temporary table's row type, a type made since) may be one of them.
     */
    public boolean knowsType(String name) {
        return knownTypes.contains(name);
    }

    /**
     * The name of the type with OID {@code oid} (its last name part, as a text would name it), or null when the
     * catalog does not know it; kept only where some type's values run code, as {@link #knowsType}'s names are. A
     * Parse message's parameter types are counted by it ({@link TypeNames#withParameterTypes}).
     */
    public String typeName(int oid) {
        return typeNamesByOid.get(oid);
    }

    /**
     * The extension that owns the relation {@code table} (pg_depend's deptype 'e'), or null: an extension's view
     * keeps its extension wherever it was created and whatever it is renamed to (decision 0080).
     */
    public String extensionOf(TableRef table) {
        return extensionMembers.get(table);
    }

    /** True when some type's values run code when made ({@link #makingValuesRunsCode}). */
    public boolean hasCodeTypes() {
        return !codeTypes.isEmpty();
    }

    @Override
    public boolean compound(ColumnRef column) {
        return compound.contains(column);
    }

    @Override
    public Optional<Set<ColumnRef>> columnsHoldingType(String schema, String name) {
        return typeUses.columnsHoldingType(schema, name);
    }

    @Override
    public Optional<Set<TableRef>> typedTables(String schema, String name) {
        return typeUses.typedTables(schema, name);
    }

    /** The columns holding whole rows of {@code table}: of its row type, or of a type built over it (decision 0093). */
    public Set<ColumnRef> rowHolders(TableRef table) {
        return rowHolders.getOrDefault(table, Set.of());
    }

    /**
     * Each generated column with the columns its expression reads: the server computes it from them on every write,
     * so it holds what they hold ({@code right(ssn, 4)}), as a view's column does.
     */
    public Map<ColumnRef, Set<ColumnRef>> generatedFrom() {
        return generatedFrom;
    }

    private static Map<TableRef, Set<TableRef>> families(Map<TableRef, Set<TableRef>> parents) {
        Map<TableRef, Set<TableRef>> children = new HashMap<>();
        parents.forEach((child, ps) -> ps.forEach(p -> children.computeIfAbsent(p, k -> new HashSet<>()).add(child)));
        Set<TableRef> all = new HashSet<>(parents.keySet());
        all.addAll(children.keySet());
        Map<TableRef, Set<TableRef>> out = new HashMap<>();
        for (TableRef t : all) {
            Set<TableRef> family = new HashSet<>();
            reach(t, parents, family);
            reach(t, children, family);
            family.remove(t);
            out.put(t, Set.copyOf(family));
        }
        return Map.copyOf(out);
    }

    private static Map<TableRef, Set<TableRef>> descendants(Map<TableRef, Set<TableRef>> parents) {
        Map<TableRef, Set<TableRef>> children = new HashMap<>();
        parents.forEach((child, ps) -> ps.forEach(p -> children.computeIfAbsent(p, k -> new HashSet<>()).add(child)));
        Map<TableRef, Set<TableRef>> out = new HashMap<>();
        for (TableRef t : children.keySet()) {
            Set<TableRef> below = new HashSet<>();
            reach(t, children, below);
            below.remove(t);
            out.put(t, Set.copyOf(below));
        }
        return Map.copyOf(out);
    }

    private static void reach(TableRef from, Map<TableRef, Set<TableRef>> edges, Set<TableRef> seen) {
        for (TableRef next : edges.getOrDefault(from, Set.of())) {
            if (seen.add(next)) {
                reach(next, edges, seen);
            }
        }
    }

    /**
     * The type OID of a table's or view's column as a RowDescription would name it, if known. COPY sends no row
     * description, so this is how masking of COPY rows knows the type of a column it copies.
     */
    public Optional<Integer> columnType(ColumnRef column) {
        return Optional.ofNullable(columnTypes.get(column));
    }

    /** PHI tags from column comments: the TYPE of each {@code phi:TYPE} found. */
    public Map<ColumnRef, String> phiTags() {
        return phiTags;
    }

    /** The schemas an unqualified name is looked up in, as {@code current_schemas(false)} gave them. */
    public List<String> searchPath() {
        return searchPath;
    }

    /**
     * True if a {@code search_path} value names exactly the schemas this catalog resolves names by (what
     * {@code current_schemas(false)} gave when it was read). Read as PostgreSQL reads the list
     * ({@code SplitIdentifierString}): names separated by commas, unquoted ones folded to lower case (ASCII only, as
     * the server folds in UTF-8), quoted ones as written; anything else is not a match.
     */
    public boolean resolvesNamesBy(String searchPathValue) {
        List<String> schemas = identifierList(searchPathValue);
        return schemas != null && schemas.equals(searchPath);
    }

    /**
     * True if under a {@code search_path} value the server finds an unqualified name where this catalog does, or not
     * at all: the schemas it searches (pg_catalog first unless listed) are a leading part of those this catalog
     * searches. pg_dump's {@code set_config('search_path', '', false)} narrows the path to pg_catalog, so every name
     * it does not qualify resolves as masking resolves it or fails. {@code $user} and pg_temp are never a match
     * (their schemas depend on the session), nor is a list the server would refuse.
     */
    public boolean narrowsNamesTo(String searchPathValue) {
        List<String> schemas = identifierList(searchPathValue);
        if (schemas == null || schemas.contains("$user") || schemas.stream().anyMatch(s -> s.startsWith("pg_temp"))) {
            return false;
        }
        List<String> server = withCatalogFirst(schemas);
        List<String> ours = withCatalogFirst(searchPath);
        return server.size() <= ours.size() && ours.subList(0, server.size()).equals(server);
    }

    private static List<String> withCatalogFirst(List<String> path) {
        if (path.contains("pg_catalog")) {
            return path;
        }
        List<String> out = new ArrayList<>(List.of("pg_catalog"));
        out.addAll(path);
        return out;
    }

    /** PostgreSQL's SplitIdentifierString with a comma separator; null where the server would refuse the list. */
    static List<String> identifierList(String raw) {
        if (raw == null) {
            return null;
        }
        List<String> out = new ArrayList<>();
        int n = raw.length();
        int i = skipSpace(raw, 0);
        if (i == n) {
            return out;
        }
        while (true) {
            String name;
            if (raw.charAt(i) == '"') {
                StringBuilder b = new StringBuilder();
                i++;
                while (true) {
                    int q = raw.indexOf('"', i);
                    if (q < 0) {
                        return null;
                    }
                    b.append(raw, i, q);
                    if (q + 1 < n && raw.charAt(q + 1) == '"') {
                        b.append('"');
                        i = q + 2;
                    } else {
                        i = q + 1;
                        break;
                    }
                }
                name = b.toString();
            } else {
                int from = i;
                while (i < n && raw.charAt(i) != ',' && !isSpace(raw.charAt(i))) {
                    i++;
                }
                if (i == from) {
                    return null;
                }
                name = StatementReader.asciiLower(raw.substring(from, i));
            }
            out.add(name);
            i = skipSpace(raw, i);
            if (i < n && raw.charAt(i) == ',') {
                i = skipSpace(raw, i + 1);
            } else if (i == n) {
                return out;
            } else {
                return null;
            }
        }
    }

    /** The server's scanner_isspace (PostgreSQL 15): space, tab, newline, carriage return, form feed. */
    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
    }

    private static int skipSpace(String s, int i) {
        while (i < s.length() && isSpace(s.charAt(i))) {
            i++;
        }
        return i;
    }

    /** The catalog as read from the server, under a {@link GuardedCatalog} or not; null for any other kind. */
    public static PgCatalog of(Catalog catalog) {
        Catalog loaded = catalog instanceof GuardedCatalog g ? g.inner() : catalog;
        return loaded instanceof PgCatalog pg ? pg : null;
    }

    /** Every relation known, for diagnostics and tests. */
    public List<Relation> relations() {
        return List.copyOf(relations.values());
    }

    /**
     * Reads the catalog over {@code q}: relations with view definitions, columns with comments, the search path,
     * inheritance and partitions, function names by schema, the columns keys and unique indexes check, and
     * foreign keys (their columns and actions).
     */
    public static PgCatalog load(Queries q) throws IOException {
        Builder b = builder();
        b.fingerprint = CatalogFingerprint.read(q);
        Map<Integer, String[]> rels = new LinkedHashMap<>();
        for (List<String> row : q.query("""
                SELECT c.oid, n.nspname, c.relname, c.relkind,
                       CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END
                FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
                  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'""")) {
            rels.put(Integer.parseUnsignedInt(row.get(0)), new String[] {row.get(1), row.get(2), row.get(3), row.get(4)});
        }
        Map<Integer, List<String>> columns = new HashMap<>();
        for (List<String> row : q.query("""
                SELECT a.attrelid, a.attnum, a.attname, pg_catalog.col_description(a.attrelid, a.attnum),
                       CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END,
                       bt.typtype IN ('c', 'd', 'm', 'p', 'r') OR bt.typcategory = 'A',
                       EXISTS (SELECT FROM pg_catalog.pg_collation co
                               WHERE co.oid = a.attcollation AND NOT co.collisdeterministic)
                FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
                JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                JOIN pg_catalog.pg_type bt
                  ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END
                WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND a.attnum > 0 AND NOT a.attisdropped
                  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
                ORDER BY a.attrelid, a.attnum""")) {
            int oid = Integer.parseUnsignedInt(row.get(0));
            String[] rel = rels.get(oid);
            if (rel == null) {
                continue;
            }
            int attnum = Integer.parseInt(row.get(1));
            columns.computeIfAbsent(oid, k -> new ArrayList<>()).add(row.get(2));
            b.attributes.computeIfAbsent(oid, k -> new HashMap<>()).put(attnum, row.get(2));
            b.columnType(new ColumnRef(rel[0], rel[1], row.get(2)), Integer.parseUnsignedInt(row.get(4)));
            if (!"f".equals(row.get(6))) {
                b.looseColumn(new ColumnRef(rel[0], rel[1], row.get(2)));
            }
            if (!"f".equals(row.get(5))) {
                // An array, range, multirange or composite (a domain over a domain counts, unresolved).
                b.compoundColumn(new ColumnRef(rel[0], rel[1], row.get(2)));
            }
            if (row.get(3) != null) {
                Matcher m = PHI_TAG.matcher(row.get(3));
                if (m.find()) {
                    b.phiTag(new ColumnRef(rel[0], rel[1], row.get(2)), m.group(1));
                }
            }
        }
        rels.forEach((oid, rel) -> b.relations.put(new TableRef(rel[0], rel[1]), new Relation(oid, rel[0], rel[1],
                kind(rel[2]), List.copyOf(columns.getOrDefault(oid, List.of())), rel[3])));
        List<String> path = new ArrayList<>();
        for (List<String> row : q.query("""
                SELECT s FROM unnest(pg_catalog.current_schemas(false)) WITH ORDINALITY AS u(s, i) ORDER BY i""")) {
            path.add(row.get(0));
        }
        b.searchPath(path.toArray(String[]::new));
        for (List<String> row : q.query("SELECT inhrelid, inhparent FROM pg_catalog.pg_inherits")) {
            String[] child = rels.get(Integer.parseUnsignedInt(row.get(0)));
            String[] parent = rels.get(Integer.parseUnsignedInt(row.get(1)));
            if (child != null && parent != null) {
                b.inherits(new TableRef(child[0], child[1]), new TableRef(parent[0], parent[1]));
            }
        }
        for (List<String> row : q.query("""
                SELECT DISTINCT n.nspname, p.proname
                FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                UNION SELECT n.nspname, 'operator ' || o.oprname
                FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace""")) {
            b.function(row.get(0), row.get(1));
        }
        for (List<String> row : q.query("SELECT collname, collisdeterministic FROM pg_catalog.pg_collation")) {
            b.collation(row.get(0), !"f".equals(row.get(1)));
        }
        for (List<String> row : q.query("""
                SELECT DISTINCT p.proname FROM pg_catalog.pg_proc p
                WHERE p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace AND p.provolatile = 'v'""")) {
            b.volatileBuiltIns(row.get(0));
        }
        // Key columns of constraints and unique indexes that check a written value against other rows; attnum 0 is
        // an index expression, which may read any column of its table, and so may a partial index's predicate
        // (UNIQUE (patient_id) WHERE diagnosis = 'HIV' answers for diagnosis too), a partial exclusion constraint's
        // as well: its index is not unique, but EXCLUDE (id WITH =) WHERE (ssn LIKE '1%') fails a write exactly when
        // the other row's ssn matches (an attacker's review of 0095). A generated key column checks the
        // columns it is computed from: a value written into them is what the key tests (GENERATED_FROM).
        for (List<String> row : q.query("""
                WITH %s, keys(rel, attnum) AS (
                  SELECT c.conrelid, k.attnum::int FROM pg_catalog.pg_constraint c, unnest(c.conkey) AS k(attnum)
                  WHERE c.contype IN ('p', 'u', 'x')
                  UNION SELECT i.indrelid, k.attnum::int FROM pg_catalog.pg_index i,
                    unnest(i.indkey::int2[]) AS k(attnum)
                  WHERE i.indisunique
                  UNION SELECT i.indrelid, 0 FROM pg_catalog.pg_index i
                  WHERE (i.indisunique OR i.indisexclusion) AND i.indpred IS NOT NULL)
                SELECT rel, attnum FROM keys
                UNION SELECT g.rel, g.source FROM keys JOIN generated_from g USING (rel, attnum)"""
                .formatted(GENERATED_FROM))) {
            String[] rel = rels.get(Integer.parseUnsignedInt(row.get(0)));
            if (rel == null) {
                continue;
            }
            ColumnRef column = columnOf(b, rels, row.get(0), row.get(1));
            if (column == null) {
                b.existenceCheckedWhole.add(new TableRef(rel[0], rel[1]));
            } else {
                b.existenceChecked(column);
            }
        }
        for (List<String> row : q.query("""
                WITH %s, checks(rel, attnum) AS (
                  SELECT c.conrelid, k.attnum::int FROM pg_catalog.pg_constraint c, unnest(c.conkey) AS k(attnum)
                  WHERE c.contype = 'c')
                SELECT rel, attnum FROM checks
                UNION SELECT g.rel, g.source FROM checks JOIN generated_from g USING (rel, attnum)"""
                .formatted(GENERATED_FROM))) {
            ColumnRef column = columnOf(b, rels, row.get(0), row.get(1));
            if (column != null) {
                b.rowCheck(column);
            }
        }
        for (List<String> row : q.query("WITH %s SELECT rel, attnum, source FROM generated_from"
                .formatted(GENERATED_FROM))) {
            ColumnRef generated = columnOf(b, rels, row.get(0), row.get(1));
            ColumnRef source = columnOf(b, rels, row.get(0), row.get(2));
            if (generated != null && source != null) {
                b.generatedFrom(generated, source);
            }
        }
        // Each partition key's columns: a plain key column, or one its expression reads (recorded as the table's
        // internal dependency on the column; the expression's text is read too, failing closed).
        for (List<String> row : q.query("""
                SELECT p.partrelid, a.attnum FROM pg_catalog.pg_partitioned_table p
                JOIN pg_catalog.pg_attribute a ON a.attrelid = p.partrelid AND a.attnum > 0 AND NOT a.attisdropped
                WHERE a.attnum = ANY (p.partattrs::pg_catalog.int2[])
                  OR pg_catalog.strpos(p.partexprs::pg_catalog.text, ':varattno ' || a.attnum || ' ') > 0
                  OR EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                    WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = p.partrelid
                      AND d.objsubid = 0 AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                      AND d.refobjid = p.partrelid AND d.refobjsubid = a.attnum)""")) {
            ColumnRef column = columnOf(b, rels, row.get(0), row.get(1));
            if (column != null) {
                b.partitionKey(column);
            }
        }
        // Foreign keys, one row per key column: a referencing column's written value is checked against the
        // referenced column's values, and each constraint's actions say which tables a write to the referenced
        // table also writes.
        Set<String> constraints = new HashSet<>();
        for (List<String> row : q.query("""
                WITH %s, fks AS (
                  SELECT c.oid, c.conrelid AS rel, c.confrelid, c.confupdtype, c.confdeltype, k.attnum::int AS attnum,
                    k.fattnum FROM pg_catalog.pg_constraint c, unnest(c.conkey, c.confkey) AS k(attnum, fattnum)
                  WHERE c.contype = 'f')
                SELECT oid, rel, confrelid, confupdtype, confdeltype, attnum, fattnum FROM fks
                UNION SELECT f.oid, f.rel, f.confrelid, f.confupdtype, f.confdeltype, g.source, f.fattnum
                FROM fks f JOIN generated_from g USING (rel, attnum)""".formatted(GENERATED_FROM))) {
            String[] from = rels.get(Integer.parseUnsignedInt(row.get(1)));
            String[] to = rels.get(Integer.parseUnsignedInt(row.get(2)));
            if (from == null || to == null) {
                continue;
            }
            if (constraints.add(row.get(0))) {
                b.foreignKey(new TableRef(from[0], from[1]), new TableRef(to[0], to[1]), row.get(3).charAt(0),
                        row.get(4).charAt(0));
            }
            ColumnRef referencing = columnOf(b, rels, row.get(1), row.get(5));
            ColumnRef referenced = columnOf(b, rels, row.get(2), row.get(6));
            if (referencing != null && referenced != null) {
                b.references(referencing, referenced);
            }
        }
        // Code that runs when a table is touched: user triggers (and, before PostgreSQL 15, the internal clone of a
        // partitioned table's trigger on each partition, known by its function; decision 0087), rules other than a
        // view's own, row security, and
        // defaults that call functions outside pg_catalog; CHECK constraints of the table or of a column's domain
        // that call a function or operator not built in (OID 16384 and above: PostgreSQL does not make a CHECK
        // immutable, so one can delete; decision 0068); and event triggers, which run on DDL.
        for (List<String> row : q.query("""
                SELECT t.tgrelid FROM pg_catalog.pg_trigger t WHERE NOT t.tgisinternal OR t.tgfoid >= 16384
                UNION SELECT r.ev_class FROM pg_catalog.pg_rewrite r WHERE r.rulename <> '_RETURN'
                UNION SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relrowsecurity
                UNION SELECT d.adrelid FROM pg_catalog.pg_attrdef d
                  JOIN pg_catalog.pg_depend dep ON dep.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass
                   AND dep.objid = d.oid AND dep.refclassid IN ('pg_catalog.pg_proc'::pg_catalog.regclass,
                   'pg_catalog.pg_operator'::pg_catalog.regclass)
                  LEFT JOIN pg_catalog.pg_proc p ON p.oid = dep.refobjid
                   AND dep.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                  WHERE dep.refobjid >= 16384 OR p.pronamespace <> 'pg_catalog'::pg_catalog.regnamespace
                UNION SELECT con.conrelid FROM pg_catalog.pg_constraint con
                  JOIN pg_catalog.pg_depend dep ON dep.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
                   AND dep.objid = con.oid AND dep.refclassid IN ('pg_catalog.pg_proc'::pg_catalog.regclass,
                   'pg_catalog.pg_operator'::pg_catalog.regclass) AND dep.refobjid >= 16384
                  WHERE con.conrelid <> 0
                UNION SELECT a.attrelid FROM pg_catalog.pg_attribute a
                  JOIN pg_catalog.pg_constraint con ON con.contypid = a.atttypid
                  JOIN pg_catalog.pg_depend dep ON dep.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
                   AND dep.objid = con.oid AND dep.refclassid IN ('pg_catalog.pg_proc'::pg_catalog.regclass,
                   'pg_catalog.pg_operator'::pg_catalog.regclass) AND dep.refobjid >= 16384
                  WHERE a.attnum > 0 AND NOT a.attisdropped""")) {
            String[] rel = rels.get(Integer.parseUnsignedInt(row.get(0)));
            if (rel != null) {
                b.runsCode(new TableRef(rel[0], rel[1]));
            }
        }
        // More code a write runs without a trigger: an index's expression or predicate and a partition key's
        // expression (a user function may be marked immutable whatever it does; decision 0086), and a built-in that
        // changes a setting or runs SQL text (set_config, query_to_xml) called from a default, a generated column, a
        // CHECK of the table or of a column's domain, an index or a partition key: what settingCode counts, by table.
        for (List<String> row : q.query("""
                SELECT COALESCE(i.indrelid, dep.objid) FROM pg_catalog.pg_depend dep
                  LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = dep.objid
                  WHERE dep.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dep.refobjid >= 16384
                   AND dep.refclassid IN ('pg_catalog.pg_proc'::pg_catalog.regclass,
                   'pg_catalog.pg_operator'::pg_catalog.regclass)""")) {
            String[] rel = rels.get(Integer.parseUnsignedInt(row.get(0)));
            if (rel != null) {
                b.runsCode(new TableRef(rel[0], rel[1]));
            }
        }
        for (List<String> row : q.query("""
                WITH stored(rel, t) AS (
                  SELECT d.adrelid, d.adbin::pg_catalog.text FROM pg_catalog.pg_attrdef d
                  UNION ALL SELECT c.conrelid, c.conbin::pg_catalog.text FROM pg_catalog.pg_constraint c
                  WHERE c.conrelid <> 0
                  UNION ALL SELECT a.attrelid, c.conbin::pg_catalog.text FROM pg_catalog.pg_attribute a
                  JOIN pg_catalog.pg_constraint c ON c.contypid = a.atttypid WHERE a.attnum > 0 AND NOT a.attisdropped
                  UNION ALL SELECT i.indrelid, i.indexprs::pg_catalog.text FROM pg_catalog.pg_index i
                  UNION ALL SELECT i.indrelid, i.indpred::pg_catalog.text FROM pg_catalog.pg_index i
                  UNION ALL SELECT p.partrelid, p.partexprs::pg_catalog.text FROM pg_catalog.pg_partitioned_table p)
                SELECT DISTINCT stored.rel, p.proname, p.provolatile FROM stored,
                  pg_catalog.regexp_matches(stored.t,
                    ':(funcid|opfuncid|aggfnoid|winfnoid|hashfuncid|negfuncid) ([0-9]+)', 'g') AS m
                  JOIN pg_catalog.pg_proc p ON p.oid = m[2]::pg_catalog.oid
                WHERE stored.t IS NOT NULL""")) {
            String[] rel = rels.get(Integer.parseUnsignedInt(row.get(0)));
            String name = row.get(1);
            if (rel != null && changesSettings(name, row.get(2))) {
                b.runsCode(new TableRef(rel[0], rel[1]));
            }
        }
        // Code a write runs through what it stores by (decision 0087): an index or partition key whose operator
        // family compares or hashes with a function made after initdb (every insertion into a btree calls its
        // comparison), an access method made after initdb, and both ends of a foreign key where either end is such
        // a table or the key compares with an operator made after initdb (the server's check queries the other end).
        // A scan of such an index runs the function on a read as well.
        for (List<String> row : q.query("""
                WITH families(f) AS (
                  SELECT c.opcfamily FROM pg_catalog.pg_opclass c WHERE c.oid >= 16384
                  UNION SELECT p.amprocfamily FROM pg_catalog.pg_amproc p WHERE p.amproc >= 16384
                  UNION SELECT o.amopfamily FROM pg_catalog.pg_amop o WHERE o.amopopr >= 16384 OR o.oid >= 16384),
                keyed(rel, opc) AS (
                  SELECT i.indrelid, k.opc FROM pg_catalog.pg_index i, unnest(i.indclass::pg_catalog.oid[]) AS k(opc)
                  UNION ALL SELECT p.partrelid, k.opc FROM pg_catalog.pg_partitioned_table p,
                    unnest(p.partclass::pg_catalog.oid[]) AS k(opc)),
                coded(rel) AS (
                  SELECT keyed.rel FROM keyed JOIN pg_catalog.pg_opclass c ON c.oid = keyed.opc
                  WHERE c.opcfamily IN (SELECT f FROM families)
                  UNION SELECT i.indrelid FROM pg_catalog.pg_index i
                    JOIN pg_catalog.pg_class x ON x.oid = i.indexrelid WHERE x.relam >= 16384
                  UNION SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relam >= 16384)
                SELECT rel, true FROM coded
                UNION SELECT u.rel, false FROM pg_catalog.pg_constraint f,
                  LATERAL (VALUES (f.conrelid), (f.confrelid)) AS u(rel)
                WHERE f.contype = 'f' AND (f.conrelid IN (SELECT rel FROM coded)
                  OR f.confrelid IN (SELECT rel FROM coded)
                  OR EXISTS (SELECT FROM unnest(f.conpfeqop || f.conppeqop || f.conffeqop) AS o(op) WHERE o.op >= 16384))""")) {
            String[] rel = rels.get(Integer.parseUnsignedInt(row.get(0)));
            if (rel != null && "t".equals(row.get(1))) {
                b.rowSecurity(new TableRef(rel[0], rel[1])); // a scan of the index runs it on a read too
            } else if (rel != null) {
                b.runsCode(new TableRef(rel[0], rel[1]));
            }
        }
        // Of those, the ones whose code runs on reads as well: row security's policies.
        for (List<String> row : q.query("SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relrowsecurity")) {
            String[] rel = rels.get(Integer.parseUnsignedInt(row.get(0)));
            if (rel != null) {
                b.rowSecurity(new TableRef(rel[0], rel[1]));
            }
        }
        // Relations an extension owns, by the extension (decision 0080): a rule about an extension's view holds in
        // whatever schema the extension was created and whatever the view was renamed to.
        for (List<String> row : q.query("""
                SELECT d.objid, e.extname FROM pg_catalog.pg_depend d
                JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
                WHERE d.deptype = 'e' AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                  AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass""")) {
            String[] rel = rels.get(Integer.parseUnsignedInt(row.get(0)));
            if (rel != null) {
                b.extensionMember(new TableRef(rel[0], rel[1]), row.get(1));
            }
        }
        b.typeUses = TypeUses.load(q, rels);
        b.rowHolders.putAll(RowTypeHolders.load(q, rels));
        b.eventTriggers = !q.query("SELECT 1 FROM pg_catalog.pg_event_trigger WHERE evtenabled <> 'D' LIMIT 1")
                .isEmpty();
        b.settingCode = settingCode(q);
        if (b.settingCode) {
            codeTypes(q, b);
        }
        return b.build();
    }

    /**
     * A built-in called from a stored expression, by its name and {@code provolatile}, that may change a setting or
     * runs SQL given as text: one of {@link #DENIED}, or volatile and not known to change nothing
     * ({@link #UNCHANGING_VOLATILE}). What {@link #settingCode}, a table's code and a type's code all count.
     */
    private static boolean changesSettings(String name, String volatility) {
        boolean runsText = DENIED.contains(name) || DENIED_PREFIXES.stream().anyMatch(name::startsWith);
        return runsText || "v".equals(volatility) && !UNCHANGING_VOLATILE.contains(name);
    }

    /**
     * Whether code the analyser does not read may change a session's settings (see {@link #settingCode()}). OIDs
     * from 16384 (FirstNormalObjectId) are objects created after initdb: every function of an extension or a user,
     * in whatever schema or language. Stored expressions are read as the server stores them (node trees), for every
     * function they call by OID; a built-in among those counts where it is volatile and not known to change nothing
     * ({@link #UNCHANGING_VOLATILE}), or runs SQL given as text ({@link #DENIED}, stable ones included).
     */
    static boolean settingCode(Queries q) throws IOException {
        if (!q.query("""
                SELECT 1 WHERE EXISTS (SELECT FROM pg_catalog.pg_proc WHERE oid >= 16384)
                  OR EXISTS (SELECT FROM pg_catalog.pg_event_trigger)
                  OR EXISTS (SELECT FROM pg_catalog.pg_cast WHERE oid >= 16384 AND castmethod = 'f')
                  OR EXISTS (SELECT FROM pg_catalog.pg_rewrite WHERE oid >= 16384 AND rulename <> '_RETURN')""").isEmpty()) {
            return true;
        }
        for (List<String> row : q.query("""
                WITH stored(t) AS (
                  SELECT r.ev_action::pg_catalog.text FROM pg_catalog.pg_rewrite r WHERE r.oid >= 16384
                  UNION ALL SELECT p.polqual::pg_catalog.text FROM pg_catalog.pg_policy p
                  UNION ALL SELECT p.polwithcheck::pg_catalog.text FROM pg_catalog.pg_policy p
                  UNION ALL SELECT d.adbin::pg_catalog.text FROM pg_catalog.pg_attrdef d
                  UNION ALL SELECT c.conbin::pg_catalog.text FROM pg_catalog.pg_constraint c
                  UNION ALL SELECT t.tgqual::pg_catalog.text FROM pg_catalog.pg_trigger t),
                called AS (
                  SELECT DISTINCT m[2]::pg_catalog.oid AS f FROM stored,
                    pg_catalog.regexp_matches(stored.t,
                      ':(funcid|opfuncid|aggfnoid|winfnoid|hashfuncid|negfuncid) ([0-9]+)', 'g') AS m
                  WHERE stored.t IS NOT NULL)
                SELECT p.proname, p.provolatile FROM called JOIN pg_catalog.pg_proc p ON p.oid = called.f""")) {
            String name = row.get(0);
            if (changesSettings(name, row.get(1))) {
                return true;
            }
        }
        return false;
    }

    /**
     * The types whose values run code when made ({@link #makingValuesRunsCode}), read only where setting code exists
     * (a domain's CHECK can call nothing else that moves a setting). A domain counts where its CHECK or default calls
     * what {@link #settingCode} counts as setting code: a function made after initdb, a built-in that runs SQL text,
     * or a volatile one not known to change nothing; so do both types of a cast made after initdb with a function,
     * and a range type (and its multirange) whose subtype difference, canonical function or subtype operator class
     * was. Then every type over one: a domain over it, its array, a range
     * (and its multirange), a composite or a relation's row type with a column of it ({@link TypeUses#BUILT_OVER}). With any such type, the
     * names of every type the catalog knows are kept too: a name it does not know (a temporary table's row type, a
     * type made since) may be one.
     */
    private static void codeTypes(Queries q, Builder b) throws IOException {
        java.util.Set<String> domains = new java.util.TreeSet<>();
        for (List<String> row : q.query("""
                WITH stored(typ, t) AS (
                  SELECT c.contypid, c.conbin::pg_catalog.text FROM pg_catalog.pg_constraint c
                  WHERE c.contypid >= 16384
                  UNION ALL SELECT t.oid, t.typdefaultbin::pg_catalog.text FROM pg_catalog.pg_type t
                  WHERE t.oid >= 16384 AND t.typtype = 'd')
                SELECT DISTINCT stored.typ, p.oid, p.proname, p.provolatile FROM stored,
                  pg_catalog.regexp_matches(stored.t,
                    ':(funcid|opfuncid|aggfnoid|winfnoid|hashfuncid|negfuncid) ([0-9]+)', 'g') AS m
                  JOIN pg_catalog.pg_proc p ON p.oid = m[2]::pg_catalog.oid
                WHERE stored.t IS NOT NULL""")) {
            String name = row.get(2);
            boolean userMade = Long.parseLong(row.get(1)) >= 16384;
            if (userMade || changesSettings(name, row.get(3))) {
                domains.add(Long.toString(Long.parseLong(row.get(0)))); // digits only: safe in the literal below
            }
        }
        // A cast made after initdb with a function runs it where the server converts a value with no type named:
        // in an assignment (INSERT ... VALUES (1) into a column of its target) or implicitly; a range type whose
        // subtype difference or canonical function was made after initdb runs it in its indexes, and one whose
        // subtype operator class compares with such a function runs it on making or comparing any value (0087).
        for (List<String> row : q.query("""
                WITH ranges AS (
                  SELECT r.* FROM pg_catalog.pg_range r JOIN pg_catalog.pg_opclass o ON o.oid = r.rngsubopc
                  WHERE r.rngsubdiff >= 16384 OR r.rngcanonical >= 16384 OR o.oid >= 16384
                    OR EXISTS (SELECT FROM pg_catalog.pg_amproc p WHERE p.amprocfamily = o.opcfamily
                               AND p.amproc >= 16384))
                SELECT c.castsource FROM pg_catalog.pg_cast c WHERE c.oid >= 16384 AND c.castmethod = 'f'
                UNION SELECT c.casttarget FROM pg_catalog.pg_cast c WHERE c.oid >= 16384 AND c.castmethod = 'f'
                UNION SELECT r.rngtypid FROM ranges r
                UNION SELECT (pg_catalog.to_jsonb(r) ->> 'rngmultitypid')::pg_catalog.oid FROM ranges r
                WHERE pg_catalog.to_jsonb(r) ? 'rngmultitypid'""")) {
            domains.add(Long.toString(Long.parseLong(row.get(0))));
        }
        if (domains.isEmpty()) {
            return;
        }
        for (List<String> row : q.query("""
                WITH RECURSIVE %s,
                code(oid) AS (
                  SELECT pg_catalog.unnest('{%s}'::pg_catalog.oid[])
                  UNION
                  SELECT edges.typ FROM code JOIN edges ON edges.sub = code.oid)
                SELECT DISTINCT t.typname FROM code JOIN pg_catalog.pg_type t ON t.oid = code.oid"""
                .formatted(TypeUses.BUILT_OVER, String.join(",", domains)))) {
            b.codeTypes.add(row.getFirst());
        }
        for (List<String> row : q.query("SELECT t.oid, t.typname FROM pg_catalog.pg_type t")) {
            b.knownTypes.add(row.get(1));
            b.typeNamesByOid.put(Integer.parseUnsignedInt(row.get(0)), row.get(1));
        }
    }

    private static ColumnRef columnOf(Builder b, Map<Integer, String[]> rels, String relid, String attnum) {
        int oid = Integer.parseUnsignedInt(relid);
        String[] rel = rels.get(oid);
        String name = rel == null ? null : b.attributes.getOrDefault(oid, Map.of()).get(Integer.parseInt(attnum));
        return name == null ? null : new ColumnRef(rel[0], rel[1], name);
    }

    private static Relation.Kind kind(String relkind) {
        return switch (relkind) {
            case "r", "p" -> Relation.Kind.TABLE;
            case "v" -> Relation.Kind.VIEW;
            case "m" -> Relation.Kind.MATERIALIZED_VIEW;
            case "f" -> Relation.Kind.FOREIGN_TABLE;
            // a sequence: its columns (last_value, log_cnt, is_called) are counters, read by pg_dump
            default -> Relation.Kind.OTHER;
        };
    }

    /** Assembles a catalog by hand (tests, and {@link #load}). Names are given as PostgreSQL folds them. */
    public static final class Builder {
        private final Map<TableRef, Relation> relations = new LinkedHashMap<>();
        private final Map<Integer, Map<Integer, String>> attributes = new HashMap<>();
        private final List<String> searchPath = new ArrayList<>(List.of("public"));
        private final Map<ColumnRef, String> phiTags = new HashMap<>();
        private final Map<ColumnRef, Integer> columnTypes = new HashMap<>();
        private final Set<ColumnRef> compound = new HashSet<>();
        private final Map<String, Set<String>> functions = new HashMap<>();
        private final Set<String> volatileBuiltIns = new HashSet<>();
        private final Set<String> deterministicCollations = new HashSet<>();
        private final Set<String> nondeterministicCollations = new HashSet<>();
        private final Set<ColumnRef> looseColumns = new HashSet<>();
        private final Map<TableRef, Set<TableRef>> inherits = new HashMap<>();
        private final Set<ColumnRef> existenceChecked = new HashSet<>();
        private final Set<TableRef> existenceCheckedWhole = new HashSet<>();
        private final Map<ColumnRef, Set<ColumnRef>> references = new HashMap<>();
        private final Map<ColumnRef, Set<ColumnRef>> generatedFrom = new HashMap<>();
        private final Map<TableRef, Set<String>> partitionKeys = new HashMap<>();
        private final Map<TableRef, Set<ColumnRef>> rowChecks = new HashMap<>();
        private final Map<TableRef, List<KeyAction>> referencedBy = new HashMap<>();
        private final Set<TableRef> runningCode = new HashSet<>();
        private final Set<TableRef> rowSecurity = new HashSet<>();
        private boolean eventTriggers;
        private String fingerprint;
        private boolean settingCode;
        private final Set<String> codeTypes = new HashSet<>();
        private final Set<String> knownTypes = new HashSet<>();
        private final Map<Integer, String> typeNamesByOid = new HashMap<>();
        private final Map<TableRef, String> extensionMembers = new HashMap<>();
        private final TypeUses.Builder types = new TypeUses.Builder();
        private final Map<TableRef, Set<ColumnRef>> rowHolders = new HashMap<>();
        /** As read by {@link #load}; null when built by hand from {@link #types}. */
        private TypeUses typeUses;

        private Builder() {
        }

        /** A domain or enum {@code schema.name} whose values {@code columns} hold (none: one no stored column uses). */
        public Builder domain(String schema, String name, ColumnRef... columns) {
            types.domain(schema, name);
            for (ColumnRef c : columns) {
                types.domainColumn(schema, name, c);
            }
            return this;
        }

        /** A composite type {@code schema.name} and the tables typed by it ({@code CREATE TABLE t OF name}). */
        public Builder compositeType(String schema, String name, TableRef... typed) {
            types.composite(schema, name);
            for (TableRef t : typed) {
                types.typedTable(schema, name, t);
            }
            return this;
        }

        /** Making a value of the type named {@code name} may run code ({@link PgCatalog#makingValuesRunsCode}). */
        public Builder codeType(String name) {
            codeTypes.add(name);
            return this;
        }

        /** A type the catalog knows, by name ({@link PgCatalog#knowsType}). */
        public Builder knownType(String name) {
            knownTypes.add(name);
            return this;
        }

        /** {@code table} is owned by the extension {@code extension} ({@link PgCatalog#extensionOf}). */
        public Builder extensionMember(TableRef table, String extension) {
            extensionMembers.put(table, extension);
            return this;
        }

        /** A type the catalog knows, by OID and name ({@link PgCatalog#typeName}). */
        public Builder knownType(int oid, String name) {
            typeNamesByOid.put(oid, name);
            return knownType(name);
        }

        /** Touching {@code table} runs code outside pg_catalog (a trigger, rule, row security, a default). */
        public Builder runsCode(TableRef table) {
            runningCode.add(table);
            return this;
        }

        /**
         * {@code table} has row security, or an index comparing with a function made after initdb: code runs on reads
         * too (and counts as code run on writes).
         */
        public Builder rowSecurity(TableRef table) {
            rowSecurity.add(table);
            runningCode.add(table);
            return this;
        }

        /** Code the analyser does not read may change a session's search_path or role (decision 0064). */
        public Builder settingCode() {
            settingCode = true;
            return this;
        }

        /** The database has an enabled event trigger. */
        public Builder eventTriggers() {
            eventTriggers = true;
            return this;
        }

        /** The {@link CatalogFingerprint} the catalog was read at (tests; {@link #load} reads it itself). */
        public Builder fingerprint(String fingerprint) {
            this.fingerprint = fingerprint;
            return this;
        }

        /** {@code child} inherits from {@code parent}, or is one of its partitions (pg_inherits). */
        public Builder inherits(TableRef child, TableRef parent) {
            inherits.computeIfAbsent(child, k -> new HashSet<>()).add(parent);
            return this;
        }

        /** A table whose columns have attribute numbers 1, 2, 3 ... in the order given. */
        public Builder table(int oid, String schema, String name, String... columns) {
            return relation(new Relation(oid, schema, name, Relation.Kind.TABLE, List.of(columns), null));
        }

        public Builder view(int oid, String schema, String name, String definition, String... columns) {
            return relation(new Relation(oid, schema, name, Relation.Kind.VIEW, List.of(columns), definition));
        }

        public Builder relation(Relation r) {
            relations.put(r.ref(), r);
            Map<Integer, String> attrs = new HashMap<>();
            for (int i = 0; i < r.columns().size(); i++) {
                attrs.put(i + 1, r.columns().get(i));
            }
            attributes.put(r.oid(), attrs);
            return this;
        }

        public Builder searchPath(String... schemas) {
            searchPath.clear();
            searchPath.addAll(List.of(schemas));
            return this;
        }

        public Builder phiTag(ColumnRef column, String type) {
            phiTags.put(column, type);
            return this;
        }

        public Builder columnType(ColumnRef column, int typeOid) {
            columnTypes.put(column, typeOid);
            return this;
        }

        /** A column of array, range, multirange or composite type. */
        /** {@code column} holds whole rows of {@code table} (its row type, or a type built over it). */
        public Builder rowHolder(TableRef table, ColumnRef column) {
            rowHolders.computeIfAbsent(table, k -> new HashSet<>()).add(column);
            return this;
        }

        public Builder compoundColumn(ColumnRef column) {
            compound.add(column);
            return this;
        }

        public Builder function(String schema, String name) {
            functions.computeIfAbsent(name.toLowerCase(Locale.ROOT), k -> new HashSet<>()).add(schema);
            return this;
        }

        /** A collation (pg_collation.collname) and whether it is deterministic. */
        public Builder collation(String name, boolean deterministic) {
            (deterministic ? deterministicCollations : nondeterministicCollations).add(name);
            return this;
        }

        /** A column declared with a nondeterministic collation. */
        public Builder looseColumn(ColumnRef column) {
            looseColumns.add(column);
            return this;
        }

        /** Built-in functions the server marks volatile, by name, as if found in pg_catalog. */
        public Builder volatileBuiltIns(String... names) {
            for (String n : names) {
                function("pg_catalog", n);
                volatileBuiltIns.add(n.toLowerCase(Locale.ROOT));
            }
            return this;
        }

        /** Built-in functions by name, as if found in pg_catalog. */
        public Builder builtins(String... names) {
            for (String n : names) {
                function("pg_catalog", n);
            }
            return this;
        }

        /** A column whose written values the server checks against other rows (a key, a unique index, a FK). */
        public Builder existenceChecked(ColumnRef column) {
            existenceChecked.add(column);
            return this;
        }

        /** A column a CHECK constraint of its table reads. */
        public Builder rowCheck(ColumnRef column) {
            rowChecks.computeIfAbsent(new TableRef(column.schema(), column.table()), k -> new HashSet<>()).add(column);
            return this;
        }

        /** A generated column computed from {@code source}, a column of the same table. */
        public Builder generatedFrom(ColumnRef generated, ColumnRef source) {
            generatedFrom.computeIfAbsent(generated, k -> new HashSet<>()).add(source);
            return this;
        }

        /** A column its table's partition key reads. */
        public Builder partitionKey(ColumnRef column) {
            partitionKeys.computeIfAbsent(new TableRef(column.schema(), column.table()), k -> new HashSet<>())
                    .add(column.column());
            return this;
        }

        /** A foreign key: values written into {@code from} are checked against {@code to}'s. */
        public Builder references(ColumnRef from, ColumnRef to) {
            references.computeIfAbsent(from, k -> new HashSet<>()).add(to);
            return this;
        }

        /**
         * A foreign key from {@code referencing} to {@code referenced} with its ON UPDATE and ON DELETE actions in
         * pg_constraint's codes ({@code a}, {@code r}, {@code c}, {@code n}, {@code d}).
         */
        public Builder foreignKey(TableRef referencing, TableRef referenced, char onUpdate, char onDelete) {
            referencedBy.computeIfAbsent(referenced, k -> new ArrayList<>())
                    .add(new KeyAction(referencing, onUpdate, onDelete));
            return this;
        }

        public PgCatalog build() {
            return new PgCatalog(this);
        }
    }
}
