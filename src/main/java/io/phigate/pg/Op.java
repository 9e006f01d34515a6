package io.phigate.pg;

import java.util.ArrayList;
import java.util.List;

/**
 * What one forwarded message (or one local response) will produce: the unit of the queue of answers the server
 * owes the client ({@link ExpectedResponses}), registered by the client reader before it forwards the message and
 * retired by the response pump as the server answers ({@link Exchange}).
 */
record Op(Kind kind, StatementRun statement, byte[] local, ResultShape shape, ResultShape.Prepared described,
          List<SessionState.Pending> changes) {

    /** PROBE: the gateway's own question within the client's batch (decision 0070), answered to it, never the client. */
    enum Kind { PARSE, BIND, DESCRIBE, EXECUTE, CLOSE, SYNC, QUERY, FUNCTION_CALL, LOCAL, INTERNAL_FAIL, PROBE }

    /** The same op, carrying the session-state changes its answer confirms (in order). */
    Op withChanges(List<SessionState.Pending> staged) {
        return staged.isEmpty() ? this : new Op(kind, statement, local, shape, described, new ArrayList<>(staged));
    }

    /** A local answer of the gateway's own: {@code frames} go to the client when the op reaches the head. */
    static Op local(byte[] frames) {
        return new Op(Kind.LOCAL, null, frames, null, null, List.of());
    }

    static Op of(Kind kind) {
        return new Op(kind, null, null, null, null, List.of());
    }

    static Op statement(Kind kind, StatementRun s) {
        return new Op(kind, s, null, null, null, List.of());
    }

    /** A message whose results are masked by {@code shape} (Query, Execute, Describe of a portal). */
    static Op shaped(Kind kind, StatementRun s, ResultShape shape) {
        return new Op(kind, s, null, shape, null, List.of());
    }

    /** A Parse: it carries its statement so that an error answering it is scrubbed knowing what was sent. */
    static Op parse(ResultShape.Prepared prepared) {
        return new Op(Kind.PARSE, null, null, null, prepared, List.of());
    }

    /** A Describe of a prepared statement: its answer is what later Executes of it will look like. */
    static Op describeStatement(ResultShape.Prepared prepared) {
        return new Op(Kind.DESCRIBE, null, null, null, prepared, List.of());
    }
}
