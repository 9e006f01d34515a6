package io.phigate.pg;

import io.phigate.sql.StatementFacts;
import java.util.ArrayList;
import java.util.List;

/**
 * The open transaction's savepoints, outermost first, as the server stacks its subtransactions. The server ties
 * every portal (a cursor or a bound protocol portal) to the subtransaction that created it: ROLLBACK TO drops the
 * ones created since the savepoint was set (WITH HOLD or not; one created before it stays, even if closed or used
 * since), and RELEASE hands them to the enclosing level (portalmem.c AtSubAbort_Portals, AtSubCleanup_Portals,
 * AtSubCommit_Portals). A portal's level is how many savepoints were open when it was created (decision 0069).
 *
 * <p>Pure; not thread-safe (used under {@link Exchange}'s ops lock, as {@link SessionState}).
 */
final class Savepoints {

    /**
     * SAVEPOINT, ROLLBACK TO SAVEPOINT or RELEASE SAVEPOINT {@code name}, as the grammar read it (the server compares
     * savepoint names whole, after the lexer has cut them).
     */
    record Command(Kind kind, String name) implements SessionState.Change {
        enum Kind { SET, ROLLBACK_TO, RELEASE }

        /** The command a statement's analysis read from its parse tree, or null for a statement that names none. */
        static Command of(StatementFacts.Savepoint s) {
            if (s == null) {
                return null;
            }
            return new Command(switch (s.kind()) {
                case SET -> Kind.SET;
                case ROLLBACK_TO -> Kind.ROLLBACK_TO;
                case RELEASE -> Kind.RELEASE;
            }, s.name());
        }
    }

    private final List<String> open = new ArrayList<>();

    Savepoints copy() {
        Savepoints c = new Savepoints();
        c.open.addAll(open);
        return c;
    }

    /** The level a portal created now is at. */
    int depth() {
        return open.size();
    }

    /** The transaction ended: no savepoint is open. */
    void clear() {
        open.clear();
    }

    /**
     * Carries out {@code c} as the server does when it succeeds. Returns, for ROLLBACK TO, the level above which
     * portals are dropped; for RELEASE, the level the portals above it move down to; -1 for SAVEPOINT and for a name
     * not open (the server's error, which changes nothing).
     */
    int apply(Command c) {
        int at = open.lastIndexOf(c.name());
        switch (c.kind()) {
            case SET -> {
                open.add(c.name());
                return -1;
            }
            case ROLLBACK_TO -> {
                if (at >= 0) {
                    open.subList(at + 1, open.size()).clear(); // the savepoint itself stays, set again
                }
                return at;
            }
            case RELEASE -> {
                if (at >= 0) {
                    open.subList(at, open.size()).clear();
                }
                return at;
            }
            default -> throw new IllegalStateException(c.kind().name());
        }
    }
}
