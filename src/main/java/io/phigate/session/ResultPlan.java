package io.phigate.session;

/**
 * What the session applies to a forwarded statement's results: the masking rules (null when nothing this session
 * reads is masked, so results stream through untouched) and the role's row limit (0 for none). A COPY's output
 * format and header are not here: a request may hold several COPYs, and each is read by its own statement's options
 * (decision 0079).
 */
public record ResultPlan(SessionMasking masking, long rowLimit) {
}
