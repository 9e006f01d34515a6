package io.phigate.sql;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the deny-by-default rules judge a statement on, read from the server's own parse tree rather than from its
 * spelling: the functions it calls, the columns whose values steer what comes back, and the clauses risk rules name.
 *
 * @param functions       every function called anywhere in the statement (including operators' functions where the
 *                        operator is named with a schema, aggregates, window functions, functions in FROM), in
 *                        the order the analysis meets them (a query's FROM before its select list), duplicates
 *                        removed; the functions a view's definition calls are included
 * @param predicates      every base-table column whose value can steer what comes back without being returned:
 *                        WHERE, JOIN ON/USING, HAVING, GROUP BY, ORDER BY, DISTINCT (ON), window PARTITION/ORDER,
 *                        FILTER, CASE conditions, LIMIT/OFFSET, set-operation comparison (UNION, INTERSECT, EXCEPT
 *                        without ALL), the outputs of subqueries used in any of these, and every condition inside
 *                        subqueries at any depth, a view's own conditions included
 * @param unfilteredWrite an UPDATE or DELETE anywhere in the statement (top level, CTE, rule action) with no WHERE
 * @param unlimited       a statement that returns rows with no effective row limit at the top level: no LIMIT, or
 *                        {@code LIMIT ALL}, {@code LIMIT NULL}, or a limit that is not a constant; a parameter
 *                        ({@code LIMIT $1}) counts as none, since NULL may be bound to it
 * @param options         EXPLAIN's or COPY's options as the grammar read them, names lower case, values as the
 *                        server would read them ({@code "true"} for a bare option), e.g. {@code analyze -> true},
 *                        {@code format -> csv}
 * @param copyEndpoint    for COPY: {@code STDIN}, {@code STDOUT}, {@code PROGRAM} or {@code FILE}; else null
 * @param unknownWrites   the relations written that the catalog does not know (a view or table the session
 *                        created, a temporary one): what they reach, and so which rules they fall under, is unknown
 * @param tableChanges    what it does to the session's temporary tables ({@link SessionTables}), in order
 * @param stateChanges    the built-in functions it calls that may change state beyond its result
 *                        ({@link Catalog#changesState}), as written ({@code set_config}, {@code pg_catalog.pg_notify})
 * @param typeNames       every type the statement's own text names ({@link TypeNames}), read in the same walk of
 *                        the parse tree that finds every call; null when the tree was not read (facts made
 *                        without it), which {@link TypeNames#mayMakeCodeValues} reads as unknown
 * @param savepoint       for SAVEPOINT, ROLLBACK TO SAVEPOINT and RELEASE SAVEPOINT: which, and the name the grammar
 *                        read; else null
 * @param descendantReads the children and partitions (transitively) of the relations it reads that are not read by
 *                        name: a scan of a parent without ONLY returns their rows. Rules and masking judge them as
 *                        read; a role's scope does not, since the server checks privileges on the parent named only
 *                        ({@link StatementAnalysis#scanned})
 * @param targetReads     the tables a write names as its target whose stored rows it reads (its WHERE, a SET value
 *                        computed from another column): PostgreSQL asks SELECT on the columns read, so a role's
 *                        scope asks {@code select} on them as well as the write
 */
public record StatementFacts(List<FunctionCall> functions, List<PredicateUse> predicates, boolean unfilteredWrite,
                             boolean unlimited, Map<String, String> options, String copyEndpoint,
                             Set<TableRef> unknownWrites, List<TableChange> tableChanges, Set<String> stateChanges,
                             Set<String> typeNames, Savepoint savepoint, Set<TableRef> descendantReads,
                             Set<TableRef> targetReads) {

    /**
     * Facts not read from a parse tree (tests, {@link #NONE}): every written relation known to the catalog, no
     * temporary table changed, no built-in that changes state called, the types named unknown (null: code, where
     * it matters), no savepoint named and no child read through a parent.
     */
    public StatementFacts(List<FunctionCall> functions, List<PredicateUse> predicates, boolean unfilteredWrite,
                          boolean unlimited, Map<String, String> options, String copyEndpoint) {
        this(functions, predicates, unfilteredWrite, unlimited, options, copyEndpoint, Set.of(), List.of(), Set.of(),
                null, null, Set.of(), Set.of());
    }

    /** A function as written: {@code schema} is null when unqualified (then resolved through the search path). */
    public record FunctionCall(String schema, String name) {
        public String qualified() {
            return schema == null ? name : schema + "." + name;
        }
    }

    /**
     * A column whose value steers the result.
     *
     * @param column         the base-table column
     * @param clause         where it is used, in SQL words ({@code WHERE}, {@code ORDER BY}, {@code JOIN}, ...)
     * @param equalityLookup true when the use is {@code column = constant-or-parameter} (either side, through casts
     *                       that keep the value) as one conjunct of a WHERE, so that it can tell at most whether a
     *                       row with that value exists: the one-bit lookup a policy may allow
     * @param joinedWith     for {@code column = other} as one conjunct of a WHERE or ON, both sides a column's own
     *                       value ({@code a.mrn = b.mrn}, through CTEs, subqueries and views too), the other column:
     *                       a join a policy may allow between masked keys of one type (what their tokens show);
     *                       null for any other use
     */
    public record PredicateUse(ColumnRef column, String clause, boolean equalityLookup, ColumnRef joinedWith) {
        public PredicateUse(ColumnRef column, String clause, boolean equalityLookup) {
            this(column, clause, equalityLookup, null);
        }
    }

    /**
     * SAVEPOINT ({@link Kind#SET}), ROLLBACK TO SAVEPOINT or RELEASE SAVEPOINT {@code name}, as the grammar read it
     * (the server compares savepoint names whole, after the lexer has cut them).
     */
    public record Savepoint(Kind kind, String name) {
        public enum Kind { SET, ROLLBACK_TO, RELEASE }
    }

    /**
     * The option an ALTER TABLE carries when its every subcommand installs no code and evaluates no expression
     * ({@code DataRoutes.isPlainAlterTable}): keys, NOT NULL, storage options. Only the reader sets it (it removes
     * the name from what the grammar gave first).
     */
    public static final String PLAIN_ALTER = "phigate.plain_alter";

    /**
     * The clause of a predicate over a column a foreign key references ({@code DdlReads}): every value later written
     * to the referencing table is tested against it.
     */
    public static final String FOREIGN_KEY = "a foreign key's test of every value written to the referencing table";

    /** No functions, no predicates, nothing unfiltered or unlimited, no options; the types named unknown. */
    public static final StatementFacts NONE = new StatementFacts(List.of(), List.of(), false, false, Map.of(), null);
}
