package io.phigate.mongo;

import io.phigate.mongo.command.Command;
import io.phigate.policy.Admission;
import io.phigate.policy.Match;
import io.phigate.policy.Role;
import io.phigate.sql.Operation;
import java.time.Instant;
import java.util.Locale;
import java.util.Set;
import org.bson.BsonDocument;

/**
 * A role's scope over a document-store command, as {@code policy.ScopeCheck} is over a SQL statement: its time
 * windows (a session admitted inside one runs nothing after it closes) and its {@code allow} rules. Every namespace
 * the command reads or writes, as the policy's rules read them ({@link CommandRules#namespaces}: its own, a view's
 * sources, {@code $lookup}/{@code $unionWith}/{@code $out}/{@code $merge} targets, a rename's, a bulkWrite's), needs
 * each operation the command performs ({@link CommandRules#operations}) from an allow rule whose table glob matches
 * {@code database.collection}: stricter than exact where a command reads one collection and writes another, never
 * looser. A database-wide command ({@code dropDatabase}, {@code aggregate: 1}) needs a glob covering
 * {@code database.*}. Commands that touch no collection's documents (utility: listings, sessions, {@code ping},
 * {@code killCursors} of its own cursors) are always in scope. A role without allow rules is not scoped by them.
 * Pure.
 */
final class CommandScope {
    private CommandScope() {
    }

    /** Null when {@code role} may run {@code command} at {@code now}, else why not (answered as Unauthorized). */
    static String refusal(Role role, Command command, BsonDocument body, Instant now) {
        if (role == null) {
            return null;
        }
        String closed = Admission.outsideWindows(role, now);
        if (closed != null) {
            return closed;
        }
        if (role.allow().isEmpty()) {
            return null;
        }
        Set<Operation> operations = CommandRules.operations(command, body);
        operations.remove(Operation.UTILITY);
        for (String namespace : CommandRules.namespaces(command, body)) {
            String named = namespace.contains(".") ? namespace : namespace + ".*";
            for (Operation op : operations) {
                boolean covered = role.allow().stream().anyMatch(a -> a.operations().contains(op)
                        && a.tables().stream().anyMatch(t -> Match.glob(t.contains(".") ? t : "*." + t, named)));
                if (!covered) {
                    return "permission denied by phigate role \"" + role.name() + "\": " + command.name() + " needs "
                            + op.name().toLowerCase(Locale.ROOT) + " on " + named + ", which no rule of roles["
                            + role.name() + "].allow gives";
                }
            }
        }
        return null;
    }
}
