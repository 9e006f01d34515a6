package io.phigate.mongo;

import io.phigate.identity.Identity;
import io.phigate.mongo.command.Command;
import io.phigate.mongo.wire.MongoError;

/**
 * Where a command is judged before it is recorded and forwarded: the seam the protocol-neutral session pipeline
 * (scope, masking refusals, approvals) plugs into. Called on the connection's thread, once per command, after the
 * command was read and before anything else happens to it.
 */
@FunctionalInterface
public interface CommandGate {
    /** Forwards every command of an authenticated agent: what the front door does until the pipeline is wired in. */
    CommandGate FORWARD_ALL = (identity, command) -> Verdict.FORWARD;

    Verdict judge(Identity identity, Command command);

    sealed interface Verdict {
        Verdict FORWARD = new Forward();

        record Forward() implements Verdict {
        }

        /** Answered with {@code error}; recorded as REFUSED, never forwarded. */
        record Refuse(MongoError error, String message) implements Verdict {
        }
    }
}
