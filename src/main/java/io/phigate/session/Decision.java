package io.phigate.session;

import io.phigate.audit.AuditEvent;
import io.phigate.policy.RiskRules;
import java.util.List;

/**
 * What the pipeline decided for one {@link StatementRequest}, with the audit records the decision implies. The
 * protocol side writes {@link #records} durably before it acts on the decision (the write-ahead rule), then
 * translates it into its own frames.
 */
public sealed interface Decision {
    StatementRequest request();

    /** The records to make durable first: the request record, and for a statement that ends here its end. */
    List<AuditEvent> records();

    /** Send the statement upstream and apply {@code plan} to its results. */
    record Forward(StatementRequest request, ResultPlan plan, List<AuditEvent> records) implements Decision {
    }

    /** Answer the client with the refusal; nothing goes upstream. */
    record Refuse(StatementRequest request, Refusal refusal, List<AuditEvent> records) implements Decision {
    }

    /**
     * A risk rule wants a human's approval first. The approval binds the exact statement: the request's text and
     * parameters, which a ticket must match byte for byte when it is redeemed. See
     * {@link StatementPipeline#approve}. {@code plan} applies to the results once it is released.
     */
    record Hold(StatementRequest request, RiskRules.Hit rule, ResultPlan plan, List<AuditEvent> records)
            implements Decision {
    }

    /**
     * The gateway answers itself (a setting it keeps: {@code phigate.justification}, {@code phigate.approval}),
     * completing with {@code commandTag}; the records hold the statement's request and end.
     */
    record AnswerLocally(StatementRequest request, String commandTag, List<AuditEvent> records) implements Decision {
    }
}
