package io.phigate.policy;

import io.phigate.mask.PhiType;
import io.phigate.sql.Operation;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * One entry of the policy's {@code rules}: when a statement matches {@code when}, it either needs human approval
 * ({@code approval}) or is refused outright ({@code deny}). Exactly one of the two is set.
 *
 * @param name     names the rule in refusals, notices and audit records
 * @param when     the conditions, all of which must hold
 * @param approval how the statement is approved, or null for a deny rule
 * @param deny     the reason given to the client, or null for an approval rule
 */
public record RiskRule(String name, When when, Approval approval, String deny) {

    /**
     * What a statement must look like for the rule to fire. Empty lists and false/null flags do not restrict.
     *
     * @param operations any of these operations (delete, update, truncate, ddl, grant, copy, ...)
     * @param tables     any relation read or written matches one of these globs ({@code schema.table}; a bare
     *                   name is {@code *.name})
     * @param roles      the session's role is one of these (a session without a role never matches a rule that
     *                   names roles)
     * @param noWhere    only DELETE or UPDATE without a WHERE clause (every row of the table)
     * @param phi        only statements that read or write a table holding PHI on the session's upstream
     * @param during     only when the statement arrives inside one of these windows
     * @param rowsOver   only when the planner estimates more than this many rows (EXPLAIN, never run; -1: no
     *                   condition). Judged last, and only for statements EXPLAIN can plan; an estimate that
     *                   fails matches (fail closed)
     * @param phiWithoutLimit only a SELECT whose result derives from PHI and that has no LIMIT or FETCH FIRST
     * @param unmaskedPhi only statements reading PHI of these types that the session's role sees unmasked
     *                    (every type for {@code unmasked_phi: true}); null: no condition
     */
    public record When(Set<Operation> operations, List<String> tables, List<String> roles, boolean noWhere,
                       boolean phi, List<Role.TimeWindow> during, long rowsOver, boolean phiWithoutLimit,
                       Set<PhiType> unmaskedPhi) {

        /** Conditions without the row estimate, PHI-without-LIMIT and unmasked-PHI conditions. */
        public When(Set<Operation> operations, List<String> tables, List<String> roles, boolean noWhere, boolean phi,
                    List<Role.TimeWindow> during) {
            this(operations, tables, roles, noWhere, phi, during, -1, false, null);
        }
    }

    /** {@code hold}: the statement waits inside the connection; {@code ticket}: refused now, retried once approved. */
    public enum Mode { HOLD, TICKET }

    /**
     * @param group     the approver group (a key of the policy's {@code approvers})
     * @param approvers distinct approvers needed
     * @param timeout   how long a request waits for its decision
     * @param mode      hold or ticket
     * @param validFor  ticket mode: how long an approval may be redeemed after it was granted
     * @param uses      ticket mode: how many times the approved statement may run
     */
    public record Approval(String group, int approvers, Duration timeout, Mode mode, Duration validFor, int uses) {
    }
}
