package io.phigate.session;

import io.phigate.sql.PgCatalog;
import io.phigate.sql.SessionTables;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementKind;
import io.phigate.sql.TableChange;
import io.phigate.sql.TableRef;
import io.phigate.sql.TypeNames;
import java.util.HashSet;
import java.util.Set;

/**
 * What the catalog says about code a statement sets off without naming it, for risk rules: a rule that holds
 * {@code DELETE FROM patients} must also hold the {@code INSERT INTO audit_log} whose trigger or rewrite rule runs
 * that DELETE (decision 0068). Fails closed: a write to a relation the catalog does not know (a temporary table, a
 * table created since the session began) may have code of its own, and without a catalog every write may. A masked
 * session's own temporary tables ({@code own}) have none: it can create no trigger, rule or policy.
 */
final class ApprovalFacts {
    private ApprovalFacts() {
    }

    /** True when writing or reading {@code s}'s relations may run code the analyser does not read. */
    static boolean runsCodeWhenTouched(PgCatalog catalog, SessionTables own, StatementAnalysis s) {
        if (catalog == null) {
            return !s.writes().isEmpty();
        }
        if (s.kind() == StatementKind.DDL && catalog.eventTriggers()) {
            return true; // an event trigger runs on every DDL
        }
        if (TypeNames.mayMakeCodeValues(s, catalog)) {
            return true; // a cast to a domain runs its CHECK, which may call any function (decision 0070)
        }
        // Nor does it keep a temporary table's column types: where a domain runs code, writing one may run it.
        SessionTables ownWithoutCode = catalog.hasCodeTypes() ? null : own;
        Set<String> created = new HashSet<>();
        for (TableChange c : s.facts().tableChanges()) {
            if (c.kind() == TableChange.Kind.CREATE || c.kind() == TableChange.Kind.CREATE_DROPPED_AT_COMMIT) {
                created.add(c.table());
            }
        }
        for (TableRef t : s.writes()) {
            // DDL creates, drops or renames: no row trigger or rule runs (its code routes are judged as installed
            // code, RiskRules.installsCode); a table the statement itself creates has no code yet.
            if (s.kind() == StatementKind.DDL || created.contains(t.table())) {
                continue;
            }
            if (ownWithoutCode != null ? ownWithoutCode.runsCodeWhenWritten(t) : catalog.runsCode(t)) {
                return true; // a trigger, a rule, a default calling a user function, or a relation it does not know
            }
        }
        for (TableRef t : s.reads()) {
            if (catalog.relation(t.schema(), t.table()).isPresent() && catalog.runsCodeWhenRead(t)) {
                return true; // row security policies run on reads, and may call any function
            }
        }
        return false;
    }
}
