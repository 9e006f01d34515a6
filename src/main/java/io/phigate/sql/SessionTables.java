package io.phigate.sql;

import io.phigate.sql.TableChange.Kind;
import io.phigate.sql.TableChange.Written;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One session's temporary tables, as an overlay over the upstream's shared catalog: their columns, and for each
 * column where the values the session put in it came from ({@link TableChange}). A masked session may not copy PHI
 * into a table, so what such a table holds is what the statements that filled it computed; reading it back is
 * masked by that lineage instead of as "unknown" (decision 0050).
 *
 * <p><b>State on the server's word.</b> The overlay changes only when the server says a statement completed
 * ({@link #completed}), and a transaction's changes are undone when the server says it rolled back (a ROLLBACK, an
 * error before an idle ReadyForQuery). ROLLBACK TO SAVEPOINT leaves what the transaction touched unknown. A name the
 * overlay is unsure of resolves to nothing, which lineage reads as opaque: masked as today. Masking asks for a
 * column's lineage when it plans a result ({@link #lineage}), after every statement before it completed, so a
 * statement prepared earlier is judged by the table as it is when it runs.
 *
 * <p><b>Names.</b> An unqualified name resolves to a temporary table first, as in the server, but only when no
 * relation of that name exists in any schema of the catalog and the table is known. Otherwise it resolves as it did
 * without the overlay: a temporary {@code patients} shadowing the real one is read as the real one (its tags mask
 * and its conditions are refused), a table named like one in a schema the session could put on its path is
 * unknown. Only {@code pg_temp.name} reaches an unknown temporary table itself, as unknown.
 *
 * <p><b>Code the gateway cannot see.</b> A statement that calls a function outside pg_catalog, or touches a table
 * with triggers, rules, row security or defaults calling such functions, may write into a temporary table by name:
 * every temporary table becomes unknown. With an event trigger on the database, new tables start unknown.
 *
 * <p>Thread-safe: the client reader analyses with {@link #view}, the response pump reports completions.
 */
public final class SessionTables {
    /** The schema name a session's own temporary schema goes by. */
    public static final String SCHEMA = "pg_temp";

    /** A table's columns in order with their lineage; {@code known} false when the gateway cannot vouch for it. */
    private record Entry(List<String> columns, Map<String, Written> lineage, boolean known) {
        static final Entry UNKNOWN = new Entry(List.of(), Map.of(), false);
    }

    private final Catalog shared;
    private final PgCatalog loaded;
    private final View view;
    private Map<String, Entry> tables = new HashMap<>();
    /** The tables as they were before the first change of the open transaction; null when none changed them. */
    private Map<String, Entry> beforeTransaction;
    private final Set<String> dropAtCommit = new HashSet<>();
    private boolean errorSinceReady;
    private Set<String> catalogNames;
    private SqlAnalyzer analyzer;

    public SessionTables(Catalog shared) {
        this.shared = shared;
        this.loaded = PgCatalog.of(shared);
        this.view = new View();
    }

    /** The catalog statements are analysed by while the session has temporary tables. */
    public Catalog view() {
        return view;
    }

    /** True while the overlay tracks no table: the upstream's shared analyser (and its cache) serves. */
    public synchronized boolean isEmpty() {
        return tables.isEmpty();
    }

    /**
     * The analyser over {@link #view}: it caches nothing, since what a name means changes with the session's
     * tables.
     */
    public synchronized SqlAnalyzer analyzer() {
        if (analyzer == null) {
            analyzer = new SqlAnalyzer(view, 0);
        }
        return analyzer;
    }

    /**
     * Where the values of a column of a temporary table ({@code pg_temp.t.c}) may come from, for masking a result
     * that reads it: the base-table columns written into it, and opaque when the table is unknown or gone.
     */
    public synchronized Written lineage(ColumnRef column) {
        Entry e = tables.get(column.table());
        Written w = e == null || !e.known ? null : e.lineage.get(column.column());
        return w == null ? new Written(column.column(), Set.of(), true) : w;
    }

    // ---- the server's word ----

    /** The server completed {@code statement} (its CommandComplete {@code tag}); null when it is not known. */
    public synchronized void completed(StatementAnalysis statement, String tag) {
        if (statement == null || !statement.parsed()) {
            if (!tables.isEmpty()) {
                forgetAll();
            }
            return;
        }
        if (!tables.isEmpty() && runsUnseenCode(statement)) {
            forgetAll();
        }
        for (TableChange c : statement.facts().tableChanges()) {
            apply(c, tag);
        }
    }

    /** An ErrorResponse: the open (or implicit) transaction will not commit. */
    public synchronized void serverError() {
        errorSinceReady = true;
    }

    /** ReadyForQuery: idle means the transaction ended, committed unless an error came since the last one. */
    public synchronized void readyForQuery(byte status) {
        if (status == 'I') {
            if (errorSinceReady) {
                rollback();
            } else {
                commit();
            }
        }
        errorSinceReady = false;
    }

    private void apply(TableChange c, String tag) {
        switch (c.kind()) {
            case CREATE, CREATE_DROPPED_AT_COMMIT -> {
                snapshot();
                if (loaded == null || loaded.eventTriggers()) {
                    tables.put(c.table(), Entry.UNKNOWN);
                } else {
                    List<String> columns = new ArrayList<>();
                    Map<String, Written> lineage = new LinkedHashMap<>();
                    for (Written w : c.columns()) {
                        columns.add(w.column());
                        lineage.put(w.column(), flattened(w));
                    }
                    tables.put(c.table(), new Entry(List.copyOf(columns), lineage, true));
                }
                if (c.kind() == Kind.CREATE_DROPPED_AT_COMMIT) {
                    dropAtCommit.add(c.table());
                }
            }
            case UNKNOWN -> {
                snapshot();
                tables.put(c.table(), Entry.UNKNOWN);
            }
            case WRITE -> write(c);
            case TOUCHED_UNSEEN -> {
                if (tables.containsKey(c.table())) {
                    snapshot();
                    tables.put(c.table(), Entry.UNKNOWN);
                }
            }
            case DROP -> {
                snapshot();
                tables.remove(c.table());
            }
            case RENAME_TABLE -> {
                snapshot();
                Entry e = tables.remove(c.table());
                tables.put(c.newName(), e == null ? Entry.UNKNOWN : e);
            }
            case RENAME_COLUMN -> {
                snapshot();
                Entry e = tables.get(c.table());
                String from = c.columns().getFirst().column();
                if (e != null && e.known && e.lineage.containsKey(from)) {
                    List<String> columns = new ArrayList<>(e.columns);
                    columns.set(columns.indexOf(from), c.newName());
                    Map<String, Written> lineage = new LinkedHashMap<>(e.lineage);
                    Written w = lineage.remove(from);
                    lineage.put(c.newName(), new Written(c.newName(), w.sources(), w.opaque()));
                    tables.put(c.table(), new Entry(List.copyOf(columns), lineage, true));
                } else {
                    tables.put(c.table(), Entry.UNKNOWN);
                }
            }
            case DISCARD -> {
                snapshot();
                tables.clear();
            }
            case COMMIT -> {
                // A COMMIT of a failed transaction completes with the tag ROLLBACK.
                if (tag != null && tag.startsWith("COMMIT")) {
                    commit();
                } else {
                    rollback();
                }
            }
            case ROLLBACK -> rollback();
            case ROLLBACK_TO_SAVEPOINT -> {
                if (beforeTransaction != null) {
                    Set<String> names = new HashSet<>(tables.keySet());
                    names.addAll(beforeTransaction.keySet());
                    for (String n : names) {
                        if (!Objects.equals(tables.get(n), beforeTransaction.get(n))) {
                            tables.put(n, Entry.UNKNOWN);
                        }
                    }
                }
            }
        }
    }

    /** Values (or, for ALTER TABLE ADD COLUMN, columns) added to a table: its lineage only grows. */
    private void write(TableChange c) {
        Entry e = tables.get(c.table());
        if (e == null || !e.known) {
            return;
        }
        List<String> columns = new ArrayList<>(e.columns);
        Map<String, Written> lineage = new LinkedHashMap<>(e.lineage);
        for (Written w : c.columns()) {
            Written now = flattened(w);
            Written before = lineage.get(w.column());
            if (before == null) {
                snapshot();
                columns.add(w.column());
                lineage.put(w.column(), now);
            } else {
                Set<ColumnRef> sources = new LinkedHashSet<>(before.sources());
                sources.addAll(now.sources());
                lineage.put(w.column(), new Written(w.column(), Set.copyOf(sources), before.opaque() || now.opaque()));
            }
        }
        tables.put(c.table(), new Entry(List.copyOf(columns), lineage, true));
    }

    /** A value read from another temporary table carries that column's lineage as it is now. */
    private Written flattened(Written w) {
        Set<ColumnRef> sources = new LinkedHashSet<>();
        boolean opaque = w.opaque();
        for (ColumnRef s : w.sources()) {
            if (SCHEMA.equals(s.schema())) {
                Written from = lineage(s);
                sources.addAll(from.sources());
                opaque |= from.opaque();
            } else {
                sources.add(s);
            }
        }
        return new Written(w.column(), Set.copyOf(sources), opaque);
    }

    private void snapshot() {
        if (beforeTransaction == null) {
            beforeTransaction = new HashMap<>(tables);
        }
    }

    private void commit() {
        beforeTransaction = null;
        dropAtCommit.forEach(tables::remove);
        dropAtCommit.clear();
    }

    private void rollback() {
        if (beforeTransaction != null) {
            tables = beforeTransaction;
            beforeTransaction = null;
        }
        dropAtCommit.clear();
    }

    /** Every tracked name stays, unknown: none resolves to the real table it may shadow. */
    private void forgetAll() {
        snapshot();
        tables.replaceAll((n, e) -> Entry.UNKNOWN);
    }

    /** True when code the gateway does not read may have run: functions outside its reach, triggers, rules. */
    private boolean runsUnseenCode(StatementAnalysis a) {
        if (!a.opaqueFunctions().isEmpty() || a.kind() == StatementKind.DO || a.kind() == StatementKind.CALL) {
            return true;
        }
        Set<String> created = new HashSet<>();
        for (TableChange c : a.facts().tableChanges()) {
            if (c.kind() == Kind.CREATE || c.kind() == Kind.CREATE_DROPPED_AT_COMMIT || c.kind() == Kind.UNKNOWN) {
                created.add(c.table());
            }
        }
        for (TableRef t : a.writes()) {
            if (runsCode(t) && !("?".equals(t.schema()) && created.contains(t.table()))) {
                return true;
            }
        }
        for (TableRef t : a.reads()) {
            if (runsCodeWhenRead(t) && !"?".equals(t.schema())) {
                return true; // row security policies run on reads; an unknown relation read runs none of its own
            }
        }
        return false;
    }

    /**
     * True when writing {@code t} may run code the analyser does not read (decision 0068's risk rules): never for the
     * session's own temporary tables, on which a masked session can create no trigger, rule or policy; otherwise as
     * the loaded catalog says (true where it does not know the relation, or none was loaded).
     */
    public synchronized boolean runsCodeWhenWritten(TableRef t) {
        return runsCode(t);
    }

    private boolean runsCode(TableRef t) {
        if (SCHEMA.equals(t.schema()) || ("?".equals(t.schema()) && tables.containsKey(t.table()))) {
            return false; // a masked session can create no trigger, rule or function (data routes are refused)
        }
        return loaded == null || loaded.runsCode(t);
    }

    private boolean runsCodeWhenRead(TableRef t) {
        if (SCHEMA.equals(t.schema()) || ("?".equals(t.schema()) && tables.containsKey(t.table()))) {
            return false;
        }
        return loaded == null || loaded.runsCodeWhenRead(t);
    }

    private boolean shadows(String name) {
        if (loaded == null) {
            return true;
        }
        if (catalogNames == null) {
            Set<String> names = new HashSet<>();
            for (Relation r : loaded.relations()) {
                names.add(r.name().toLowerCase(Locale.ROOT));
            }
            catalogNames = names;
        }
        return catalogNames.contains(name.toLowerCase(Locale.ROOT));
    }

    /**
     * The shared catalog with the session's temporary tables in front, as the server resolves names. Every other
     * question goes to the shared catalog: a {@link Catalog} method added later must be forwarded here too, or its
     * fail-open default would answer for every session with temporary tables.
     */
    final class View implements Catalog {
        @Override
        public Optional<Relation> relation(String schema, String name) {
            synchronized (SessionTables.this) {
                if (name == null || (schema != null && !schema.equals(SCHEMA))) {
                    return shared.relation(schema, name);
                }
                Entry e = tables.get(name);
                if (e == null) {
                    return schema == null ? shared.relation(null, name) : Optional.empty();
                }
                if (schema == null && (!e.known || shadows(name))) {
                    // Ambiguous: resolved as before the overlay, so a real table's tags and predicate rules still
                    // apply to whatever the server reads (a relation only in another schema stays unknown).
                    return shared.relation(null, name);
                }
                if (!e.known) {
                    return Optional.empty();
                }
                return Optional.of(new Relation(0, SCHEMA, name, Relation.Kind.TABLE, e.columns, null));
            }
        }

        @Override
        public boolean shadowed(String schema, String name) {
            synchronized (SessionTables.this) {
                Entry e = name == null || schema != null ? null : tables.get(name);
                return e != null && (!e.known || shadows(name));
            }
        }

        /** The temporary table {@code schema.name} names, tracked known or not; null when it names none. */
        String temporary(String schema, String name) {
            synchronized (SessionTables.this) {
                return (schema == null || schema.equals(SCHEMA)) && tables.containsKey(name) ? name : null;
            }
        }

        @Override
        public Optional<ColumnRef> column(int tableOid, int attributeNumber) {
            return shared.column(tableOid, attributeNumber);
        }

        @Override
        public boolean isTransparentFunction(String schema, String name) {
            return shared.isTransparentFunction(schema, name);
        }

        @Override
        public Set<ColumnRef> checkedAgainst(ColumnRef column) {
            return shared.checkedAgainst(column);
        }

        @Override
        public Set<ColumnRef> rowChecks(TableRef table) {
            return shared.rowChecks(table);
        }

        @Override
        public Set<TableRef> writtenThroughKeys(TableRef table, Operation operation) {
            return shared.writtenThroughKeys(table, operation);
        }

        @Override
        public Set<TableRef> descendants(TableRef table) {
            return shared.descendants(table);
        }

        @Override
        public Set<String> partitionedBy(TableRef table) {
            return shared.partitionedBy(table);
        }

        @Override
        public Set<String> chosenBy(TableRef table) {
            return shared.chosenBy(table);
        }

        @Override
        public boolean compound(ColumnRef column) {
            return shared.compound(column);
        }

        @Override
        public Optional<Set<ColumnRef>> columnsHoldingType(String schema, String name) {
            return shared.columnsHoldingType(schema, name);
        }

        @Override
        public Optional<Set<TableRef>> typedTables(String schema, String name) {
            return shared.typedTables(schema, name);
        }

        @Override
        public boolean definesFunction(String name) {
            return shared.definesFunction(name);
        }

        @Override
        public boolean changesState(String schema, String name) {
            return shared.changesState(schema, name);
        }

        @Override
        public boolean deterministicCollation(String name) {
            return shared.deterministicCollation(name);
        }

        @Override
        public boolean looseEquality(ColumnRef column) {
            return shared.looseEquality(column);
        }
    }
}
