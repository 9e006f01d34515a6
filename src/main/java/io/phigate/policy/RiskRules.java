package io.phigate.policy;

import io.phigate.mask.PhiType;
import io.phigate.sql.Operation;
import io.phigate.sql.SqlAnalyzer;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementFacts;
import io.phigate.sql.StatementKind;
import io.phigate.sql.TableRef;
import java.time.Instant;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * Which risk rule, if any, a request fires: the first rule in file order whose conditions all hold for some
 * statement of the request (a multi-statement query string is judged as a whole). Pure: the clock and the facts
 * about the session's data (PHI, masking, the planner's estimate) are passed in.
 *
 * <p>Fails closed: a statement the analyser could not parse might be anything, so it matches every rule whose
 * role and time conditions hold, whatever its operations, tables and WHERE clause; a row estimate that cannot be
 * had matches {@code rows_over}; a write to a relation the catalog does not know (a view the session created)
 * matches every {@code tables} condition, since it may write through to any of them. Code the analyser cannot
 * follow ({@link #runsUnseenCode}: a DO block, a CALL, a function that is not transparent) may read or write any
 * table in any way, so it matches every condition on what a statement does: {@code operations}, {@code tables},
 * {@code no_where}, {@code phi} and {@code rows_over} (decision 0058). Conditions on what comes back
 * ({@code phi_without_limit}, {@code unmasked_phi}) are judged on the result's lineage, which is already unknown,
 * and so every PHI type, for a column such a function computes.
 */
public final class RiskRules {

    /**
     * The rule that fired, the relations the request touches and the PHI types it reads (for the approver and
     * the record), and the planner's row estimate when the rule asked for one (null otherwise, or when it failed).
     */
    public record Hit(RiskRule rule, Set<String> tables, List<String> phiTypes, Long rowEstimate) {
        public Hit(RiskRule rule, Set<String> tables) {
            this(rule, tables, List.of(), null);
        }
    }

    /** What the session knows about a statement's data, asked only when a rule needs it. */
    public interface Facts {
        /** Reads or writes a table holding PHI, or its result derives from PHI. */
        boolean touchesPhi(StatementAnalysis s);

        /** The PHI types its result derives from (every type when a result column's lineage is unknown). */
        Set<PhiType> phiRead(StatementAnalysis s);

        /** Of {@link #phiRead}, the types this session's role sees unmasked. */
        Set<PhiType> unmaskedRead(StatementAnalysis s);

        /** The PHI types the statement reads, returns or changes: of its result and of the tables it touches. */
        Set<PhiType> phiTouched(StatementAnalysis s);

        /** The planner's estimate of the rows the statement reads or changes; -1 when it cannot be had. */
        long rowEstimate(StatementAnalysis s);

        /**
         * Touching the statement's relations runs code the analyser does not read: a write to a relation with a user
         * trigger, a rule, a default calling a user function, or one the catalog does not know; a read of one with
         * row security. Such code may delete from any table however innocent the statement (decision 0068).
         */
        boolean runsCodeWhenTouched(StatementAnalysis s);
    }

    /** The statement kinds EXPLAIN plans, so {@code rows_over} can judge them. */
    private static final Set<StatementKind> PLANNED = EnumSet.of(StatementKind.SELECT, StatementKind.INSERT,
            StatementKind.UPDATE, StatementKind.DELETE, StatementKind.MERGE);

    /** The statement kinds phi_without_limit judges: those that return a query's rows (a FETCH is its cursor's). */
    private static final Set<StatementKind> ROW_SOURCES = EnumSet.of(StatementKind.SELECT, StatementKind.COPY_TO);

    private RiskRules() {
    }

    /** As {@link #evaluate(List, Role, List, Facts, Instant)} with only the PHI question answered. */
    public static Hit evaluate(List<RiskRule> rules, Role role, List<StatementAnalysis> statements,
                               Predicate<StatementAnalysis> touchesPhi, Instant now) {
        return evaluate(rules, role, statements, new Facts() {
            @Override
            public boolean touchesPhi(StatementAnalysis s) {
                return touchesPhi.test(s);
            }

            @Override
            public Set<PhiType> phiRead(StatementAnalysis s) {
                return Set.of();
            }

            @Override
            public Set<PhiType> unmaskedRead(StatementAnalysis s) {
                return Set.of();
            }

            @Override
            public Set<PhiType> phiTouched(StatementAnalysis s) {
                return Set.of();
            }

            @Override
            public long rowEstimate(StatementAnalysis s) {
                return -1;
            }

            @Override
            public boolean runsCodeWhenTouched(StatementAnalysis s) {
                return false; // callers of this form judge statements of stores without triggers or rules
            }
        }, now);
    }

    /** The first rule that fires, or null. {@code role} is null when the policy defines no roles. */
    public static Hit evaluate(List<RiskRule> rules, Role role, List<StatementAnalysis> statements, Facts facts,
                               Instant now) {
        for (RiskRule rule : rules) {
            for (StatementAnalysis s : statements) {
                if (fires(rule.when(), role, s, facts, now)) {
                    Long estimate = null;
                    if (rule.when().rowsOver() >= 0 && s.parsed() && PLANNED.contains(s.kind())) {
                        long e = facts.rowEstimate(s); // the session caches it: asked once per statement
                        estimate = e < 0 ? null : e;
                    }
                    return new Hit(rule, tables(statements), phiTypes(statements, facts), estimate);
                }
            }
        }
        return null;
    }

    static boolean fires(RiskRule.When w, Role role, StatementAnalysis s, Facts facts, Instant now) {
        if (!w.roles().isEmpty() && (role == null || !w.roles().contains(role.name()))) {
            return false;
        }
        if (!w.during().isEmpty() && w.during().stream().noneMatch(win -> win.contains(now))) {
            return false;
        }
        if (!s.parsed()) {
            return s.kind() != StatementKind.EMPTY;
        }
        boolean unseen = runsUnseenCode(s) || installsCode(s) || facts.runsCodeWhenTouched(s);
        if (!w.operations().isEmpty() && !unseen && operations(s).stream().noneMatch(w.operations()::contains)) {
            return false;
        }
        // A write to a relation the catalog does not know (a view the session created) may reach any table.
        if (!w.tables().isEmpty() && !unseen && relations(s).stream().noneMatch(t -> matchesAny(w.tables(), t))
                && s.facts().unknownWrites().isEmpty()) {
            return false;
        }
        if (w.noWhere() && !unseen && !unfilteredWrite(s)) {
            return false;
        }
        if (w.phi() && !unseen && !facts.touchesPhi(s)) {
            return false;
        }
        if (w.phiWithoutLimit() && !(ROW_SOURCES.contains(s.kind()) && !facts.phiRead(s).isEmpty()
                && unlimited(s))) {
            return false;
        }
        if (w.unmaskedPhi() != null && facts.unmaskedRead(s).stream().noneMatch(w.unmaskedPhi()::contains)) {
            return false;
        }
        // Last, so the planner is asked only when everything else already holds.
        if (w.rowsOver() >= 0) {
            if (unseen) {
                return true; // the planner estimates the calling statement's rows, not what the code changes
            }
            if (!PLANNED.contains(s.kind())) {
                return false;
            }
            long estimate = facts.rowEstimate(s);
            return estimate < 0 || estimate > w.rowsOver();
        }
        return true;
    }

    /**
     * What a statement does, as the rules read it: its operations, and for TRUNCATE also {@code delete}. TRUNCATE
     * removes every row as a DELETE without a WHERE does (PostgreSQL's own description), so a rule written for deletes
     * ({@code operations: [delete], no_where: true}, the documented way to hold a wipe) holds it too; a rule author
     * who named only {@code delete} did not mean to let the faster form through. Scopes stay as the server's
     * privileges are: TRUNCATE needs its own {@code truncate} grant (decision 0099).
     */
    static Set<Operation> operations(StatementAnalysis s) {
        if (!s.operations().contains(Operation.TRUNCATE) || s.operations().contains(Operation.DELETE)) {
            return s.operations();
        }
        Set<Operation> withDelete = EnumSet.copyOf(s.operations());
        withDelete.add(Operation.DELETE);
        return withDelete;
    }

    /**
     * True when the statement runs code whose reads and writes the analyser cannot see: a DO block, a CALL, or a
     * function that is not transparent (a user function, or a built-in that runs SQL given as text, reads server
     * files or large objects). An opaque function in an expression runs once per row as freely as a DO block. COMMIT
     * or ROLLBACK PREPARED finishes writes another session made, unseen here (decision 0079).
     */
    static boolean runsUnseenCode(StatementAnalysis s) {
        return s.kind() == StatementKind.DO || s.kind() == StatementKind.CALL || !s.opaqueFunctions().isEmpty()
                || (s.kind() == StatementKind.TRANSACTION && s.operations().contains(Operation.FUNCTION));
    }

    /**
     * True when the statement puts code into the server that later, innocent-looking statements run: a trigger, a
     * rule, a function or procedure (a new body for one a trigger, default or view already calls), a row security
     * policy, an event trigger, and every ALTER of a relation (ENABLE TRIGGER, ENABLE RULE, SET DEFAULT). Judged as
     * the code it installs, which may do anything (decision 0068).
     */
    static boolean installsCode(StatementAnalysis s) {
        return s.dataRoute() != null
                || s.altersRelation() && !s.facts().options().containsKey(StatementFacts.PLAIN_ALTER);
    }

    /**
     * An UPDATE or DELETE without WHERE anywhere in the statement, a CTE's included, as the parse tree shows it. An
     * analysis made without the parse tree ({@link StatementFacts#NONE}) is judged on its text, top level only.
     */
    static boolean unfilteredWrite(StatementAnalysis s) {
        if (s.kind() == StatementKind.TRUNCATE) {
            return true; // every row, as a DELETE without a WHERE
        }
        if (s.facts() != StatementFacts.NONE) {
            return s.facts().unfilteredWrite();
        }
        return (s.kind() == StatementKind.DELETE || s.kind() == StatementKind.UPDATE) && SqlAnalyzer.lacksWhere(s.text());
    }

    /** No effective row limit: none, {@code LIMIT ALL} and {@code LIMIT NULL} alike (text only without facts). */
    static boolean unlimited(StatementAnalysis s) {
        if (s.facts() != StatementFacts.NONE) {
            return s.facts().unlimited();
        }
        return !SqlAnalyzer.hasLimit(s.text());
    }

    /** What it reads, a parent's children and partitions included (a scope judges the parent alone), and writes. */
    private static Set<TableRef> relations(StatementAnalysis s) {
        Set<TableRef> all = new LinkedHashSet<>(s.scanned());
        all.addAll(s.writes());
        return all;
    }

    /** The rule's tables are folded to lower case; so is the relation's name, quoted mixed case included. */
    private static boolean matchesAny(List<String> globs, TableRef t) {
        String schema = t.schema().toLowerCase(java.util.Locale.ROOT);
        String table = t.table().toLowerCase(java.util.Locale.ROOT);
        return globs.stream().anyMatch(g -> Match.relation(g, schema, table));
    }

    private static Set<String> tables(List<StatementAnalysis> statements) {
        Set<String> out = new LinkedHashSet<>();
        for (StatementAnalysis s : statements) {
            relations(s).forEach(t -> out.add(t.toString()));
        }
        return out;
    }

    private static List<String> phiTypes(List<StatementAnalysis> statements, Facts facts) {
        Set<String> out = new TreeSet<>();
        for (StatementAnalysis s : statements) {
            facts.phiTouched(s).forEach(t -> out.add(t.policyName()));
        }
        return List.copyOf(out);
    }
}
