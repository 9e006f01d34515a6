package io.phigate.mongo;

import io.phigate.identity.Identity;
import io.phigate.mongo.command.Command;
import io.phigate.mongo.command.CommandException;
import io.phigate.mongo.command.CommandReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.bson.BsonArray;
import org.bson.BsonBinary;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.BsonValue;

/**
 * What one agent may ask of the store beyond its own data, whether or not PHI is declared (decision 0059). Every
 * agent reaches the store as the gateway's one user, so whatever that user may do to the server or to its sessions,
 * each agent could do to every other: read their operations and queries ({@code currentOp}, the profiler,
 * {@code getLog}, the plan cache), kill them ({@code killOp}, {@code killAllSessions}, {@code killSessions: []}),
 * stop or lock the server ({@code shutdown}, {@code fsync}), read the store's own users' password keys
 * ({@code admin.system.users}) or make a user of its own to connect past the gateway ({@code createUser}). So:
 * <ul>
 * <li>only the commands named in {@link #FORWARDED} are forwarded; every other is refused (allow list: a command a
 * server version adds is refused until it is read here);</li>
 * <li>a command's {@code lsid} must be the agent's own ({@link LogicalSessions}); {@code endSessions},
 * {@code refreshSessions} and {@code killSessions} only over ids the agent used;</li>
 * <li>no namespace in {@code local}, {@code config}, no collection of {@code admin}, no {@code system.*} collection,
 * no collection named by UUID (its name is what these checks read), no rename across databases;</li>
 * <li>no aggregation stage that reads the server rather than a collection ({@link #SERVER_STAGES}), at any depth.</li>
 * </ul>
 * Runs on the connection's thread; one per session.
 */
final class ServerCommands {
    /**
     * The commands the gateway forwards: reads, writes and collection management the rules and masking read, the
     * session and transaction commands, and the few that describe only the store itself.
     */
    static final Set<String> FORWARDED = Set.of(
            "find", "getMore", "killCursors", "aggregate", "count", "distinct", "insert", "update", "delete",
            "findAndModify", "findandmodify", "bulkWrite", "mapReduce", "mapreduce", "explain",
            "create", "drop", "dropDatabase", "listCollections", "listIndexes", "listDatabases", "createIndexes",
            "dropIndexes", "collMod", "renameCollection", "convertToCapped", "cloneCollectionAsCapped", "emptycapped",
            "collStats", "dbStats",
            "startSession", "endSessions", "refreshSessions", "killSessions", "abortTransaction", "commitTransaction",
            "ping", "buildInfo", "buildinfo", "listCommands", "connectionStatus", "whatsmyuri", "getLastError");
    /** Commands that take a list of logical sessions, which must all be the sender's. */
    private static final Set<String> SESSION_LISTS = Set.of("endSessions", "refreshSessions", "killSessions");
    /** What {@code explain} may wrap: the commands mongod explains. */
    private static final Set<String> EXPLAINED = Set.of("find", "aggregate", "count", "distinct", "findAndModify",
            "findandmodify", "update", "delete", "mapReduce", "mapreduce");
    /** Stages that read the server (operations, sessions, query shapes with their constants, users), not data. */
    static final Set<String> SERVER_STAGES = Set.of("$currentOp", "$listSessions", "$listLocalSessions",
            "$planCacheStats", "$queryStats", "$listSampledQueries", "$listCachedAndActiveUsers",
            "$shardedDataDistribution", "$querySettings", "$backupCursor", "$backupCursorExtend", "$listCatalog",
            "$changeStreamSplitLargeEvent", "$operationMetrics");
    private static final Set<String> SERVER_DATABASES = Set.of("local", "config");

    private final LogicalSessions sessions;
    private final String agent;

    ServerCommands(LogicalSessions sessions, Identity identity) {
        this.sessions = sessions;
        this.agent = identity.issuer() + "\n" + identity.subject();
    }

    /** Why {@code command} may not run for this agent, or null when it may. */
    String refusal(Command command, BsonDocument body) {
        String name = command.name();
        BsonValue lsid = body.get("lsid"); // each look-up of a raw body is a scan of it: one per field
        if (lsid != null) {
            String id = LogicalSessions.idOf(lsid);
            if (id == null) {
                return "lsid must be {id: UUID}, as drivers send it";
            }
            try {
                if (!sessions.use(agent, id)) {
                    return "logical session " + id + " belongs to another agent; every agent reaches the store as"
                            + " one user, so phigate keeps each session to the agent that first used it";
                }
            } catch (LogicalSessions.Full e) {
                return e.agentsOwn() ? "this agent holds " + LogicalSessions.PER_AGENT + " logical sessions, all in"
                        + " use; end some (endSessions) and retry" : "phigate tracks " + LogicalSessions.MAX
                        + " logical sessions, all in use; retry later";
            }
        }
        if (!FORWARDED.contains(name)) {
            return "the command " + name + " is not one phigate forwards: every agent reaches the store as one user,"
                    + " so what acts on the server or on others' sessions is refused, and so is any command phigate"
                    + " does not read";
        }
        if (SESSION_LISTS.contains(name)) {
            return sessionList(name, body.get(name));
        }
        BsonValue first = body.get(name);
        if (first instanceof BsonBinary) {
            return name + " names its collection by UUID; phigate reads namespaces by name, so it refuses that";
        }
        if (name.equals("explain")) {
            return explained(command, body);
        }
        String stage = switch (name) { // only these carry pipelines; walking an insert's documents would cost
            case "aggregate" -> serverStage(new BsonArray(List.copyOf(command.pipeline())));
            case "create", "collMod" -> serverStage(body);
            default -> null;
        };
        if (stage != null) {
            return "the stage " + stage + " reads the server's operations, sessions or query history, which are"
                    + " every agent's, not a collection";
        }
        if (name.equals("renameCollection") && !sameDatabase(body)) {
            return "renameCollection across databases moves a collection out of what its database's rules and"
                    + " catalog name; rename within its database";
        }
        for (String namespace : namespaces(command, body, first)) {
            String refused = serverNamespace(namespace);
            if (refused != null) {
                return refused;
            }
        }
        return null;
    }

    /**
     * {@code explain} runs the command it wraps (with {@code executionStats}, to the end), so that command is judged
     * as if sent alone, in explain's database: its collections, lookups and stages.
     */
    private String explained(Command command, BsonDocument body) {
        BsonDocument alone = CommandReader.explained(body, command.database());
        if (alone == null || !EXPLAINED.contains(alone.getFirstKey())) {
            return "explain wraps a command mongod does not explain, or none";
        }
        Command wrapped;
        try {
            wrapped = CommandReader.read(alone);
        } catch (CommandException e) {
            return "explain wraps a command phigate cannot read: " + e.getMessage();
        }
        String refused = refusal(wrapped, alone);
        return refused == null ? null : "explain: " + refused;
    }

    /**
     * The namespaces the rules read (a view's source and pipeline, a clone's target among them), and the collection
     * each command names by its first field's string (the reader knows it only for the commands masking models:
     * {@code convertToCapped: "system.users"} is still a collection).
     */
    private static Set<String> namespaces(Command command, BsonDocument body, BsonValue first) {
        Set<String> out = new java.util.LinkedHashSet<>(CommandRules.namespaces(command, body));
        if (first instanceof BsonString collection && !command.name().equals("renameCollection")) {
            out.add(command.database() + "." + collection.getValue());
        }
        return out;
    }

    /** endSessions and its kin: a non-empty list of sessions, every one this agent's. */
    private String sessionList(String name, BsonValue value) {
        List<String> ids = new ArrayList<>();
        if (value instanceof BsonArray list) {
            for (BsonValue v : list) {
                String id = LogicalSessions.idOf(v);
                if (id == null) {
                    return name + " takes entries {id: UUID} only";
                }
                ids.add(id);
            }
        }
        if (ids.isEmpty()) {
            return name + " without sessions would reach every session of the store's user, every agent's";
        }
        if (!sessions.ownsAll(agent, ids)) {
            return name + " names a logical session this agent has not used through phigate";
        }
        if (!name.equals("refreshSessions")) {
            sessions.ended(agent, ids);
        }
        return null;
    }

    private static boolean sameDatabase(BsonDocument body) {
        return body.get("renameCollection") instanceof BsonString from && body.get("to") instanceof BsonString to
                && from.getValue().indexOf('.') > 0 && to.getValue().indexOf('.') > 0
                && from.getValue().substring(0, from.getValue().indexOf('.'))
                .equals(to.getValue().substring(0, to.getValue().indexOf('.')));
    }

    private static String serverNamespace(String namespace) {
        int dot = namespace.indexOf('.');
        String database = dot < 0 ? namespace : namespace.substring(0, dot);
        String collection = dot < 0 ? null : namespace.substring(dot + 1);
        if (SERVER_DATABASES.contains(database)) {
            return "the " + database + " database is the server's (oplog, sessions, cluster state), every agent's";
        }
        if (collection != null && collection.startsWith("system.")) {
            return namespace + " is a system collection (users, profiler, views, stored code)";
        }
        if (collection != null && database.equals("admin")) {
            return "collections of the admin database (the store's users and roles) are the server's";
        }
        return null;
    }

    /** A stage of {@link #SERVER_STAGES} named as a field anywhere in {@code value}, or null. */
    private static String serverStage(BsonValue value) {
        if (value instanceof BsonArray a) {
            for (BsonValue v : a) {
                String s = serverStage(v);
                if (s != null) {
                    return s;
                }
            }
        } else if (value instanceof BsonDocument d) {
            for (var e : d.entrySet()) {
                if (SERVER_STAGES.contains(e.getKey())) {
                    return e.getKey();
                }
                String s = serverStage(e.getValue());
                if (s != null) {
                    return s;
                }
            }
        }
        return null;
    }
}
