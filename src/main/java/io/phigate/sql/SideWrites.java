package io.phigate.sql;

import static io.phigate.sql.Tree.body;
import static io.phigate.sql.Tree.is;
import static io.phigate.sql.Tree.list;
import static io.phigate.sql.Tree.names;

import com.fasterxml.jackson.databind.JsonNode;
import io.phigate.sql.StatementReader.Result;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a statement changes beyond the relations it names as its target, so that scope checks and approval rules
 * judge every write the server makes: tables written by foreign-key actions, sequences nextval/setval advance, rows
 * locked by FOR UPDATE/SHARE, tables locked by LOCK, and tables ANALYZE or VACUUM rewrite statistics or storage
 * of. Each lock and maintenance write counts as an UPDATE, the privilege PostgreSQL asks for row locks and the
 * nearest one the policy's words have for "changes what other sessions see or wait for".
 */
final class SideWrites {
    /** LockStmt's mode for ACCESS SHARE, the lock a plain SELECT takes (lockdefs.h AccessShareLock). */
    private static final int ACCESS_SHARE = 1;
    private static final Set<String> SEQUENCE_WRITERS = Set.of("nextval", "setval");
    /**
     * Statements whose unresolved writes ({@code ?} as the schema) are no relation they create: what DROP ... CASCADE,
     * DROP OWNED or REASSIGN OWNED take with them, an ALTER (DROP COLUMN ... CASCADE) of what depends on a column.
     */
    static final Set<String> DROPS_WHAT_IT_CANNOT_NAME = Set.of("DropStmt", "DropOwnedStmt", "ReassignOwnedStmt",
            "AlterTableStmt", "AlterDomainStmt");

    private SideWrites() {
    }

    /** LOCK TABLE: ACCESS SHARE is what a SELECT takes anyway; any stronger mode blocks others' reads or writes. */
    static Result lock(StatementReader reader, JsonNode b) {
        boolean share = b.path("mode").asInt(0) == ACCESS_SHARE;
        Result r = new Result(StatementKind.OTHER, share ? Operation.SELECT : Operation.UPDATE);
        Lineage lineage = new Lineage(reader.catalog(), reader.views(), 0);
        for (JsonNode rel : list(b, "relations")) {
            (share ? r.facts.reads : r.facts.writes).add(lineage.ref(body(rel)));
        }
        return r;
    }

    /**
     * VACUUM and ANALYZE rewrite a table's storage or the statistics the planner (and every session's plans) use.
     * Without a table they process every table the role may: no write is recorded, and the scope check asks for a
     * rule over every table.
     */
    static Result maintenance(StatementReader reader, JsonNode b) {
        Result r = new Result(StatementKind.VACUUM_ANALYZE, Operation.UPDATE);
        Lineage lineage = new Lineage(reader.catalog(), reader.views(), 0);
        for (JsonNode rel : list(b, "rels")) {
            r.facts.writes.add(lineage.ref(body(rel).path("relation")));
        }
        return r;
    }

    /**
     * SELECT ... FOR UPDATE/SHARE (recorded by the lineage as an UPDATE) locks rows of the tables it reads. Which
     * ones ({@code OF alias}) is left aside: every relation read counts as locked, never fewer than the server locks.
     */
    static void rowLocks(Result r) {
        r.facts.writes.addAll(r.facts.reads);
    }

    /**
     * nextval and setval anywhere in the statement write their sequence. A sequence named by a constant is recorded
     * as written ({@code ?} as its schema when unqualified: sequences are not in the catalog); any other argument is
     * a sequence nobody can name, recorded as {@code ?.?}, which a scope check refuses.
     */
    static void sequences(JsonNode node, StatementReader reader, Result r) {
        // (Skipped by the reader when mayWriteSequence was false for every field of the statement's tree.)
        List<JsonNode> calls = new ArrayList<>();
        List<AttributeCalls.Call> attributeCalls = new ArrayList<>();
        Tree.forEachObject(node, (key, value) -> {
            if (key.equals("FuncCall")) {
                calls.add(value);
            } else if (key.equals("A_Indirection")) {
                attributeCalls.addAll(AttributeCalls.of(value));
            }
        });
        for (JsonNode call : calls) {
            List<String> name = names(list(call, "funcname"));
            String fn = StatementReader.asciiLower(name.getLast());
            if (!SEQUENCE_WRITERS.contains(fn) || (name.size() > 1 && !"pg_catalog".equals(name.getFirst()))) {
                continue;
            }
            List<JsonNode> args = list(call, "args");
            TableRef sequence = args.isEmpty() ? null : sequence(constant(args.getFirst()), reader.catalog());
            r.sequences.add(sequence == null ? new TableRef("?", "?") : sequence);
        }
        for (AttributeCalls.Call c : attributeCalls) {
            // ('patients_id_seq').nextval is nextval('patients_id_seq').
            if (SEQUENCE_WRITERS.contains(StatementReader.asciiLower(c.name()))) {
                TableRef sequence = sequence(constant(c.argument()), reader.catalog());
                r.sequences.add(sequence == null ? new TableRef("?", "?") : sequence);
            }
        }
        if (!r.sequences.isEmpty()) {
            r.facts.writes.addAll(r.sequences);
            r.facts.operations.add(Operation.UPDATE);
        }
    }

    /**
     * False only for a field that can be neither of the nodes {@link #sequences} looks for: a tree none of whose
     * fields is named {@code FuncCall} or {@code A_Indirection} writes no sequence, and needs no walk to say so.
     */
    static boolean mayWriteSequence(String field) {
        return field.equals("FuncCall") || field.equals("A_Indirection");
    }

    private static String constant(JsonNode arg) {
        while (is(arg, "TypeCast")) {
            arg = body(arg).path("arg");
        }
        return is(arg, "A_Const") && body(arg).has("sval") ? body(arg).path("sval").path("sval").asText(null) : null;
    }

    /** A regclass text as the server reads it: dotted names, unquoted ones folded, quoted ones as written. */
    static TableRef sequence(String text, Catalog catalog) {
        if (text == null) {
            return null;
        }
        List<String> parts = new ArrayList<>();
        StringBuilder part = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"') {
                if (quoted && i + 1 < text.length() && text.charAt(i + 1) == '"') {
                    part.append('"');
                    i++;
                } else {
                    quoted = !quoted;
                }
            } else if (c == '.' && !quoted) {
                parts.add(part.toString());
                part.setLength(0);
            } else {
                part.append(quoted || c < 'A' || c > 'Z' ? c : (char) (c + ('a' - 'A')));
            }
        }
        parts.add(part.toString());
        if (quoted || parts.size() > 3 || parts.stream().anyMatch(String::isEmpty)) {
            return null;
        }
        String name = parts.getLast();
        if (parts.size() == 1) {
            return catalog.relation(null, name).map(Relation::ref).orElse(new TableRef("?", name));
        }
        return new TableRef(parts.get(parts.size() - 2), name);
    }

    /**
     * A write to a parent table is a write to its children and partitions: DELETE, UPDATE and TRUNCATE without ONLY
     * change their rows, INSERT and COPY FROM into a partitioned table put rows into a partition, ALTER recurses and
     * DROP of a partitioned table drops its partitions. A rule or scope naming the child was passed by before. ONLY
     * is not read, so such a write counts as one of the children too: never fewer tables than the server writes.
     */
    static void throughInheritance(Catalog catalog, Result r) {
        Set<TableRef> more = new LinkedHashSet<>();
        for (TableRef t : r.facts.writes) {
            if (!r.sequences.contains(t)) {
                more.addAll(catalog.descendants(t));
            }
        }
        r.facts.writes.addAll(more);
    }

    /**
     * The children and partitions, transitively, of the relations a statement reads, that it does not read by name:
     * a scan of a parent without ONLY returns their rows, through a view, CTE, subquery, JOIN, COPY (query) or
     * cursor alike. ONLY is not read (never fewer tables than the server scans). Kept apart from the reads because
     * the server checks privileges on the parent named only: a scope granted the parent reads them by it.
     */
    static Set<TableRef> readThroughParents(Catalog catalog, Result r) {
        Set<TableRef> more = new LinkedHashSet<>();
        for (TableRef t : r.facts.reads) {
            for (TableRef child : catalog.descendants(t)) {
                if (!r.facts.reads.contains(child)) {
                    more.add(child);
                }
            }
        }
        return more.isEmpty() ? Set.of() : java.util.Collections.unmodifiableSet(more);
    }

    /** Tables the server writes through foreign-key actions set off by the statement's deletes and updates. */
    static void throughKeys(Catalog catalog, Result r) {
        Set<TableRef> more = new LinkedHashSet<>();
        for (TableRef t : r.facts.writes) {
            for (Operation op : List.of(Operation.DELETE, Operation.UPDATE)) {
                if (r.facts.operations.contains(op)) {
                    more.addAll(catalog.writtenThroughKeys(t, op));
                }
            }
        }
        r.facts.writes.addAll(more);
    }

    /**
     * Relations a statement writes data into that the catalog does not know: a view or table the session created
     * (possibly over a known table), or a temporary one. DDL that creates a relation names one the catalog cannot
     * know yet, and is not counted; nor are sequences, which write through to nothing, nor TRUNCATE without
     * CASCADE, which the server refuses on a view and which empties only the table (and its children) it names.
     * A statement that drops or hands over what it cannot name ({@code dropsUnnamed}) counts its unresolved writes:
     * a rule on tables judged only the names DROP SCHEMA ... CASCADE spelt, and the tables it dropped ran unheld.
     */
    static Set<TableRef> unknown(Catalog catalog, Result r, boolean dropsUnnamed) {
        if (dropsUnnamed) {
            Set<TableRef> unnamed = new LinkedHashSet<>();
            r.facts.writes.stream().filter(t -> "?".equals(t.schema())).forEach(unnamed::add);
            if (!unnamed.isEmpty()) {
                return Set.copyOf(unnamed);
            }
        }
        if (r.kind == StatementKind.TRUNCATE && !r.truncateCascade) {
            return Set.of();
        }
        boolean writesData = r.facts.operations.stream().anyMatch(o -> o == Operation.INSERT || o == Operation.UPDATE
                || o == Operation.DELETE || o == Operation.TRUNCATE || o == Operation.COPY);
        if (!writesData) {
            return Set.of();
        }
        Set<TableRef> out = new LinkedHashSet<>();
        for (TableRef t : r.facts.writes) {
            // A session's temporary table stays "unknown" to the rules (decision 0044) when its lineage is followed.
            if (!r.sequences.contains(t) && (catalog.relation(t.schema(), t.table()).isEmpty()
                    || SessionTables.SCHEMA.equals(t.schema()))) {
                out.add(t);
            }
        }
        return Set.copyOf(out);
    }
}
