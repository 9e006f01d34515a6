package io.phigate.pg;

import io.phigate.policy.RiskRules;
import io.phigate.sql.Identifiers;
import io.phigate.sql.StatementAnalysis;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The session's prepared statements and portals as the server holds them, changed only on the server's word.
 * Protocol Parse and SQL PREPARE share one namespace (as in PostgreSQL); so do protocol portals and SQL cursors
 * (a cursor is a portal: FETCH reads a bound portal, Execute reads a declared cursor). A portal keeps the
 * statement it was bound from by value, so replacing the statement (the unnamed one, typically) leaves it as the
 * server leaves it. A portal ends with its transaction, or earlier with the subtransaction that made it
 * ({@link Savepoints}): ROLLBACK TO SAVEPOINT drops it.
 *
 * <p>The client reader {@link #stage}s what each message it forwards would change; the response pump
 * {@link #confirm}s the change when the server answers with success, and {@link #discard}s it when the server
 * answers with an error or skips the message. What the client reader judges a message by is the {@link #statement}
 * or {@link #portal} view: the confirmed state with every pending change applied in order. That view is exact for
 * a message in the same segment (up to the next Sync, or the rest of a simple Query) as the pending changes: if
 * one of them fails, the server skips the rest of the segment, this message included. A pending change from an
 * earlier segment does not have that property, so a lookup that depends on one reports itself unsettled, and the
 * caller waits for the server's answer before judging.
 *
 * <p>Pure: no I/O and no locks. Both threads call it under {@link Exchange}'s ops lock.
 */
final class SessionState {

    /** How long a portal lives: to the end of its transaction, or (WITH HOLD) beyond a commit of it. */
    enum Hold { TRANSACTION, UNTIL_COMMIT, HELD }

    /**
     * A prepared statement. {@code text} is what the server runs when it is executed (a Parse's text, or the
     * statement after a PREPARE's AS), {@code source} what the client sent to create it; {@code risk} the approval
     * rule its Executes need, judged once at Parse (null for none, and for PREPARE: each EXECUTE is judged itself).
     */
    record Statement(String name, String text, String source, ResultShape.Prepared prepared, RiskRules.Hit risk) {
        StatementAnalysis analysis() {
            return prepared == null ? null : prepared.analysis;
        }
    }

    /**
     * A portal: bound from a statement (Bind) or declared (a cursor), with the parameters it runs with and
     * {@code shape}, the masking state of its results. {@code asked} is what the server showed when the gateway
     * asked before its Bind (decision 0070), for its runs' records only, never part of what an approval binds; null
     * when it was not asked.
     */
    record Portal(Statement statement, List<String> parameters, ResultShape shape, Hold hold, boolean cursor,
                  String asked) {
        Portal(Statement statement, List<String> parameters, ResultShape shape, Hold hold, boolean cursor) {
            this(statement, parameters, shape, hold, cursor, null);
        }

        @Override
        public String toString() {
            return "Portal[cursor=" + cursor + ", hold=" + hold + ", parameters=" + parameters.size() + "]";
        }
    }

    /** A {@code SET phigate.*} prepared through the extended protocol: answered by the gateway, never forwarded. */
    record LocalSetting(String text, StatementAnalysis analysis) {
    }

    /** What one forwarded message (or one statement of a Query) changes once the server carries it out. */
    sealed interface Change permits PutStatement, DropStatement, PutPortal, DropPortal, DiscardAll, EndTransaction,
            Savepoints.Command {
    }

    /** Parse or PREPARE. {@code name} as the server keys it ({@link #serverKey}), as in every change. */
    record PutStatement(String name, Statement statement) implements Change {
        PutStatement {
            name = serverKey(name);
        }
    }

    /**
     * Close of a statement, DEALLOCATE; a null name: DEALLOCATE ALL, which drops the named statements only (the
     * server keeps the unnamed one apart from them).
     */
    record DropStatement(String name) implements Change {
        DropStatement {
            name = serverKey(name);
        }
    }

    /** Bind, or DECLARE of a cursor. */
    record PutPortal(String name, Portal portal) implements Change {
        PutPortal {
            name = serverKey(name);
        }
    }

    /** Close of a portal, CLOSE of a cursor; a null name: CLOSE ALL. */
    record DropPortal(String name) implements Change {
        DropPortal {
            name = serverKey(name);
        }
    }

    /**
     * A portal's or prepared statement's name as the server tells names apart: by their first 63 bytes
     * (NAMEDATALEN - 1; its hash tables of portals and prepared statements compare no further), so two protocol
     * names that differ only after that are one name to it (decision 0065). SQL names reach here already cut by the
     * lexer, at a character boundary, and stay as they are. Latin-1 over the UTF-8 bytes keeps distinct byte strings
     * distinct, a character cut in two included. Null stays null (ALL).
     */
    static String serverKey(String name) {
        if (name == null) {
            return null;
        }
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        return new String(utf8, 0, Math.min(utf8.length, Identifiers.MAX_BYTES), StandardCharsets.ISO_8859_1);
    }

    /** DISCARD ALL: every named statement (as DEALLOCATE ALL) and every portal. */
    record DiscardAll() implements Change {
    }

    /** COMMIT, END, ROLLBACK, ABORT: the confirming tag says whether the transaction committed. */
    record EndTransaction() implements Change {
    }

    /**
     * A staged change. {@code tag}: the CommandComplete tag (first word) that confirms it inside a simple Query,
     * null for a protocol message's own answer; {@code unconditional}: the server carries it out even when the
     * message then fails (a simple Query drops the unnamed statement and portal before it runs anything).
     */
    static final class Pending {
        final Change change;
        final long segment;
        final String tag;
        final boolean unconditional;

        private Pending(Change change, long segment, String tag, boolean unconditional) {
            this.change = change;
            this.segment = segment;
            this.tag = tag;
            this.unconditional = unconditional;
        }

        @Override
        public String toString() {
            return "Pending[" + change.getClass().getSimpleName() + ", segment " + segment + "]";
        }
    }

    private final Map<String, Statement> statements = new HashMap<>();
    private final Map<String, Portal> portals = new HashMap<>();
    /** Each portal's savepoint level: how many savepoints were open when the server created it (0: none). */
    private final Map<String, Integer> portalLevels = new HashMap<>();
    /** The open transaction's savepoints. */
    private final Savepoints savepoints = new Savepoints();
    private final Map<String, LocalSetting> localStatements = new HashMap<>();
    private final Map<String, LocalSetting> localPortals = new HashMap<>();
    /** Staged changes in the order the server will see them. */
    private final List<Pending> pending = new ArrayList<>();
    /** The client reader's segment; a Sync or a simple Query ends one. */
    private long segment;
    /** An ErrorResponse came since the last ReadyForQuery: an implicit transaction ending now rolled back. */
    private boolean failedSinceReady;

    // ---- client reader: staging and the view ----

    Pending stage(Change change) {
        return stage(change, null, false);
    }

    /** Stages a change that a statement of a simple Query makes; confirmed by its CommandComplete {@code tag}. */
    Pending stage(Change change, String tag, boolean unconditional) {
        Pending p = new Pending(change, segment, tag, unconditional);
        pending.add(p);
        return p;
    }

    /** The client sent a Sync or a simple Query: what follows is not skipped when what came before fails. */
    void endSegment() {
        segment++;
    }

    /** The statement {@code name} means once everything pending succeeds; null when none. */
    Statement statement(String named) {
        String name = serverKey(named);
        Statement s = statements.get(name);
        for (Pending p : pending) {
            switch (p.change) {
                case PutStatement put when put.name.equals(name) -> s = put.statement;
                case DropStatement drop when drop.name == null ? !name.isEmpty() : drop.name.equals(name) -> s = null;
                case DiscardAll d when !name.isEmpty() -> s = null;
                default -> {
                }
            }
        }
        return s;
    }

    /** The portal (or cursor) {@code name} means once everything pending succeeds; null when none. */
    Portal portal(String named) {
        String name = serverKey(named);
        Portal found = portals.get(name);
        int level = portalLevels.getOrDefault(name, 0);
        Savepoints open = savepoints.copy();
        for (Pending p : pending) {
            switch (p.change) {
                case PutPortal put when put.name.equals(name) -> {
                    found = put.portal;
                    level = open.depth();
                }
                case DropPortal drop when drop.name == null || drop.name.equals(name) -> found = null;
                case DiscardAll d -> found = null;
                case EndTransaction e -> {
                    found = found != null && found.hold == Hold.TRANSACTION ? null : found;
                    open.clear();
                    level = 0;
                }
                case Savepoints.Command sp -> {
                    int at = open.apply(sp);
                    if (at >= 0 && sp.kind() == Savepoints.Command.Kind.ROLLBACK_TO && level > at) {
                        found = null;
                    } else if (at >= 0 && sp.kind() == Savepoints.Command.Kind.RELEASE) {
                        level = Math.min(level, at);
                    }
                }
                default -> {
                }
            }
        }
        return found;
    }

    /** False when what {@code name} means depends on a change of an earlier segment the server has not answered. */
    boolean statementSettled(String named) {
        String name = serverKey(named);
        for (Pending p : pending) {
            if (p.segment < segment && switch (p.change) {
                case PutStatement put -> put.name.equals(name);
                case DropStatement drop -> drop.name == null || drop.name.equals(name);
                case DiscardAll d -> true;
                default -> false;
            }) {
                return false;
            }
        }
        return true;
    }

    /** As {@link #statementSettled}, for a portal or cursor. */
    boolean portalSettled(String named) {
        String name = serverKey(named);
        for (Pending p : pending) {
            if (p.segment < segment && switch (p.change) {
                case PutPortal put -> put.name.equals(name);
                case DropPortal drop -> drop.name == null || drop.name.equals(name);
                case DiscardAll d -> true;
                case EndTransaction e -> true;
                case Savepoints.Command sp -> true;
                default -> false;
            }) {
                return false;
            }
        }
        return true;
    }

    /** True while a change of an earlier segment awaits the server's answer. */
    boolean earlierSegmentsPending() {
        return !pending.isEmpty() && pending.getFirst().segment < segment;
    }

    // ---- gateway-kept settings: an overlay the server never sees ----

    void putLocalStatement(String name, LocalSetting s) {
        localStatements.put(serverKey(name), s);
    }

    LocalSetting localStatement(String name) {
        return localStatements.get(serverKey(name));
    }

    LocalSetting removeLocalStatement(String name) {
        return localStatements.remove(serverKey(name));
    }

    void putLocalPortal(String name, LocalSetting s) {
        localPortals.put(serverKey(name), s);
    }

    LocalSetting localPortal(String name) {
        return localPortals.get(serverKey(name));
    }

    LocalSetting removeLocalPortal(String name) {
        return localPortals.remove(serverKey(name));
    }

    // ---- response pump: the server's word ----

    /** True when {@code tag} (a CommandComplete's) is the one that confirms {@code p} inside a simple Query. */
    static boolean confirmedBy(Pending p, String tag) {
        if (p.tag == null || tag == null) {
            return false;
        }
        String first = tag.indexOf(' ') < 0 ? tag : tag.substring(0, tag.indexOf(' '));
        return p.change instanceof EndTransaction ? first.equals("COMMIT") || first.equals("ROLLBACK")
                : first.equals(p.tag);
    }

    /** The server carried out {@code p}; {@code tag} is the CommandComplete that said so, if any. */
    void confirm(Pending p, String tag) {
        if (!pending.remove(p)) {
            return;
        }
        switch (p.change) {
            case PutStatement put -> statements.put(put.name, put.statement);
            case DropStatement drop -> {
                if (drop.name == null) {
                    dropNamedStatements();
                } else {
                    statements.remove(drop.name);
                }
            }
            case PutPortal put -> {
                portals.put(put.name, put.portal);
                portalLevels.put(put.name, savepoints.depth());
            }
            case DropPortal drop -> {
                if (drop.name == null) {
                    portals.clear();
                } else {
                    portals.remove(drop.name);
                }
            }
            case DiscardAll d -> {
                dropNamedStatements();
                portals.clear();
            }
            case EndTransaction e -> endTransaction(tag != null && tag.startsWith("COMMIT"));
            case Savepoints.Command sp -> savepoint(sp);
        }
        portalLevels.keySet().retainAll(portals.keySet());
    }

    /** A savepoint command the server carried out (so the name was there, for ROLLBACK TO and RELEASE). */
    private void savepoint(Savepoints.Command sp) {
        int at = savepoints.apply(sp);
        if (at >= 0 && sp.kind() == Savepoints.Command.Kind.ROLLBACK_TO) {
            portals.keySet().removeIf(name -> portalLevels.getOrDefault(name, 0) > at);
        } else if (at >= 0 && sp.kind() == Savepoints.Command.Kind.RELEASE) {
            portalLevels.replaceAll((name, level) -> Math.min(level, at));
        }
    }

    private void dropNamedStatements() {
        statements.keySet().removeIf(name -> !name.isEmpty());
    }

    /** Forgets a change whose message was never forwarded (the gateway refused its request). */
    void forget(Pending p) {
        pending.remove(p);
    }

    /** The server refused or skipped the message that would have made {@code p}; an unconditional one holds. */
    void discard(Pending p) {
        if (p.unconditional) {
            confirm(p, null);
        } else {
            pending.remove(p);
        }
    }

    void serverError() {
        failedSinceReady = true;
    }

    /**
     * ReadyForQuery. Idle ('I') means no transaction is open: whatever transaction was (an implicit one included)
     * has ended, committed unless an error came since the last ReadyForQuery, and its portals with it.
     */
    void readyForQuery(byte status) {
        if (status == 'I') {
            endTransaction(!failedSinceReady);
        }
        failedSinceReady = false;
    }

    /** Transaction end: its portals go; cursors WITH HOLD stay if it committed, and go if it rolled back. */
    private void endTransaction(boolean committed) {
        savepoints.clear();
        portalLevels.replaceAll((name, level) -> 0);
        Iterator<Map.Entry<String, Portal>> it = portals.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<String, Portal> e = it.next();
            Portal p = e.getValue();
            if (p.hold == Hold.TRANSACTION || (p.hold == Hold.UNTIL_COMMIT && !committed)) {
                it.remove();
                portalLevels.remove(e.getKey());
            } else if (p.hold == Hold.UNTIL_COMMIT) {
                e.setValue(new Portal(p.statement, p.parameters, p.shape, Hold.HELD, p.cursor, p.asked));
            }
        }
    }

    /** The upstream connection is gone: nothing pending will be answered. */
    void abandonPending() {
        pending.clear();
    }

    int pendingCount() {
        return pending.size();
    }
}
