package io.phigate.policy;

import io.phigate.sql.SqlAnalyzer;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementKind;
import io.phigate.sql.TableRef;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Which risk rule, if any, a request fires: the first rule in file order whose conditions all hold for some
 * statement of the request (a multi-statement query string is judged as a whole). Pure: the clock and the PHI
 * question are passed in.
 *
 * <p>Fails closed: a statement the analyser could not parse might be anything, so it matches every rule whose
 * role and time conditions hold, whatever its operations, tables and WHERE clause.
 */
public final class RiskRules {

    /** The rule that fired and the relations the request touches (for the approver and the record). */
    public record Hit(RiskRule rule, Set<String> tables) {
    }

    private RiskRules() {
    }

    /** The first rule that fires, or null. {@code role} is null when the policy defines no roles. */
    public static Hit evaluate(List<RiskRule> rules, Role role, List<StatementAnalysis> statements,
                               Predicate<StatementAnalysis> touchesPhi, Instant now) {
        for (RiskRule rule : rules) {
            for (StatementAnalysis s : statements) {
                if (fires(rule.when(), role, s, touchesPhi, now)) {
                    return new Hit(rule, tables(statements));
                }
            }
        }
        return null;
    }

    static boolean fires(RiskRule.When w, Role role, StatementAnalysis s, Predicate<StatementAnalysis> touchesPhi,
                         Instant now) {
        if (!w.roles().isEmpty() && (role == null || !w.roles().contains(role.name()))) {
            return false;
        }
        if (!w.during().isEmpty() && w.during().stream().noneMatch(win -> win.contains(now))) {
            return false;
        }
        if (!s.parsed()) {
            return s.kind() != StatementKind.EMPTY;
        }
        if (!w.operations().isEmpty() && s.operations().stream().noneMatch(w.operations()::contains)) {
            return false;
        }
        if (!w.tables().isEmpty() && relations(s).stream().noneMatch(t -> matchesAny(w.tables(), t))) {
            return false;
        }
        if (w.noWhere() && !((s.kind() == StatementKind.DELETE || s.kind() == StatementKind.UPDATE)
                && SqlAnalyzer.lacksWhere(s.text()))) {
            return false;
        }
        return !w.phi() || touchesPhi.test(s);
    }

    private static Set<TableRef> relations(StatementAnalysis s) {
        Set<TableRef> all = new LinkedHashSet<>(s.reads());
        all.addAll(s.writes());
        return all;
    }

    private static boolean matchesAny(List<String> globs, TableRef t) {
        String name = t.schema() + "." + t.table();
        return globs.stream().anyMatch(g -> Match.glob(g, name));
    }

    private static Set<String> tables(List<StatementAnalysis> statements) {
        Set<String> out = new LinkedHashSet<>();
        for (StatementAnalysis s : statements) {
            relations(s).forEach(t -> out.add(t.toString()));
        }
        return out;
    }
}
