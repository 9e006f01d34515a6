package io.phigate.mongo;

import io.phigate.mongo.command.Command;
import io.phigate.policy.Admission;
import io.phigate.policy.Justifications;
import io.phigate.policy.Match;
import io.phigate.policy.Role;
import io.phigate.sql.Operation;
import java.time.Instant;
import java.util.Locale;
import java.util.Set;
import org.bson.BsonDocument;

/**
 * A role's scope over a document-store command, as {@code policy.ScopeCheck} and the statement rules are over a SQL
 * statement: its time windows (a session admitted inside one runs nothing after it closes), its required
 * justification and its {@code allow} rules. Every namespace
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
    /**
     * The commands read as touching no collection's documents. An allow list: a command that performs no operation
     * the rules read and is not named here is refused, so a command forwarded later without being read here is not
     * taken for one that touches nothing.
     */
    static final Set<String> UTILITY = Set.of("killCursors", "listCollections", "listIndexes", "listDatabases",
            "startSession", "endSessions", "refreshSessions", "killSessions", "abortTransaction", "commitTransaction",
            "ping", "buildInfo", "buildinfo", "listCommands", "connectionStatus", "whatsmyuri", "getLastError");

    private CommandScope() {
    }

    /**
     * Null when {@code role} may run {@code command} at {@code now}, else why not (answered as Unauthorized).
     *
     * @param justification the one the session's credential carried, or null
     */
    static String refusal(Role role, String justification, Command command, BsonDocument body, Instant now) {
        if (role == null) {
            return null;
        }
        if (command.database().indexOf('.') >= 0) {
            return "the database name " + command.database() + " holds a dot, which mongod refuses in a database"
                    + " name; phigate reads a namespace's database up to its first dot";
        }
        Set<Operation> operations = CommandRules.operations(command, body);
        operations.remove(Operation.UTILITY);
        if (operations.isEmpty() && !UTILITY.contains(command.name())) {
            return "permission denied by phigate role \"" + role.name() + "\": " + command.name() + " is not a command"
                    + " whose reads and writes phigate reads, so roles[" + role.name() + "].allow cannot be checked"
                    + " for it";
        }
        if (operations.isEmpty()) {
            // As on the SQL side, utility (listings, sessions, ping) runs whatever the scope; one that names a
            // collection (listIndexes, killCursors) needs a rule naming it, as a utility statement on a table does.
            if (command.collection() == null || role.allow().isEmpty()
                    || role.allow().stream().anyMatch(a -> a.tables().stream().anyMatch(t ->
                    covers(t, command.namespace())))) {
                return null;
            }
            return "permission denied by phigate role \"" + role.name() + "\": " + command.name() + " names "
                    + command.namespace() + ", which no rule of roles[" + role.name() + "].allow names";
        }
        String closed = Admission.outsideWindows(role, now);
        if (closed != null) {
            return closed;
        }
        if (Justifications.missing(role, justification)) {
            return "a justification is required: role \"" + role.name() + "\" must state why it needs the data"
                    + " before it reads or changes documents; obtain a one-time credential with one (POST"
                    + " /api/v1/credentials {\"justification\": \"...\"}) and sign in with it";
        }
        if (role.allow().isEmpty()) {
            return null;
        }
        for (String namespace : CommandRules.namespaces(command, body)) {
            if (command.name().equals("bulkWrite") && namespace.equals(command.namespace())) {
                continue; // a client bulkWrite runs on admin; what it writes is each nsInfo namespace, checked
            }
            String named = namespace.contains(".") ? namespace : namespace + ".*";
            for (Operation op : operations) {
                boolean covered = role.allow().stream().anyMatch(a -> a.operations().contains(op)
                        && a.tables().stream().anyMatch(t -> covers(t, named)));
                if (!covered) {
                    return "permission denied by phigate role \"" + role.name() + "\": " + command.name() + " needs "
                            + op.name().toLowerCase(Locale.ROOT) + " on " + named + ", which no rule of roles["
                            + role.name() + "].allow gives";
                }
            }
        }
        return null;
    }

    /**
     * For a catalog listing under a role with allow rules, the entries' names its rules can name: a database some
     * rule's glob reaches ({@code listDatabases}), a collection of the command's database some rule covers
     * ({@code listCollections}); null for any other command or an unscoped role (decision 0096). Names outside
     * the scope are an administrator's, as table names outside a SQL role's grants are; sizes are counts.
     */
    static java.util.function.Predicate<String> listed(Role role, Command command) {
        if (role == null || role.allow().isEmpty()) {
            return null;
        }
        return switch (command.name()) {
            case "listDatabases" -> database -> role.allow().stream().anyMatch(a -> a.tables().stream()
                    .anyMatch(t -> t.indexOf('.') < 0 || Match.glob(t.substring(0, t.indexOf('.')), database)));
            case "listCollections" -> collection -> role.allow().stream().anyMatch(a -> a.tables().stream()
                    .anyMatch(t -> covers(t, command.database() + "." + collection)));
            default -> null;
        };
    }

    /**
     * A rule's table glob against {@code database.collection}, part by part: a collection name may hold dots, so a
     * bare {@code patients} (any database's patients) does not reach {@code clinic.archive.patients}.
     */
    private static boolean covers(String glob, String namespace) {
        return Match.relation(glob.contains(".") ? glob : "*." + glob, namespace);
    }
}
