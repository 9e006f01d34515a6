package io.phigate.mongo;

import io.phigate.mongo.backend.ReplyFacts;
import io.phigate.mongo.command.Command;
import io.phigate.mongo.masking.DocumentBudget;
import io.phigate.mongo.masking.ReplyPlan;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The cursors this session opened, on the server's word: an id enters when a reply names it and leaves when a
 * reply says it is exhausted or killed. Every session reaches the upstream as the same gateway user, so the server
 * cannot tell one agent's cursor from another's; the gateway does, by refusing getMore and killCursors of ids not
 * opened here. Bounded: beyond {@link #MAX} the oldest is forgotten, and a later getMore of it is refused, which
 * fails closed. Owned by the connection's thread.
 */
final class OpenCursors {
    static final int MAX = 65_536;

    /**
     * Cursor id to the namespace it reads (for the records of the getMores that follow) and how the command that
     * opened it had its replies masked (for the getMores' replies).
     */
    private final Map<Long, Origin> open = new LinkedHashMap<>();

    private record Origin(String namespace, ReplyPlan plan, DocumentBudget budget) {
    }

    boolean ownsAll(List<Long> ids) {
        return ids.stream().allMatch(open::containsKey);
    }

    void update(Command command, ReplyFacts reply) {
        update(command, reply, ReplyPlan.PASS);
    }

    void update(Command command, ReplyFacts reply, ReplyPlan plan) {
        update(command, reply, plan, null);
    }

    /**
     * As the server's {@code reply} says, unless {@code budget} (the role's row limit over this cursor) is spent: the
     * client was told the cursor is exhausted, and a getMore of it is refused as not found.
     */
    void update(Command command, ReplyFacts reply, ReplyPlan plan, DocumentBudget budget) {
        if (budget != null && budget.reached()) {
            command.cursorIds().forEach(open::remove);
            open.remove(reply.cursorId());
            return;
        }
        if (command.name().equals("getMore") && reply.cursorId() == 0) {
            command.cursorIds().forEach(open::remove);
        }
        if (command.name().equals("killCursors") && reply.ok()) {
            command.cursorIds().forEach(open::remove);
        }
        if (reply.cursorId() != 0 && !open.containsKey(reply.cursorId())) {
            if (open.size() >= MAX) {
                open.remove(open.keySet().iterator().next());
            }
            open.put(reply.cursorId(), new Origin(command.namespace(), plan, budget));
        }
    }

    /** The namespace cursor {@code id} reads, or null when this session did not open it. */
    String origin(long id) {
        Origin o = open.get(id);
        return o == null ? null : o.namespace();
    }

    /** How the replies of cursor {@code id} are masked, or null when this session did not open it. */
    ReplyPlan plan(long id) {
        Origin o = open.get(id);
        return o == null ? null : o.plan();
    }

    /** The row limit's count over cursor {@code id}, or null when it has none or this session did not open it. */
    DocumentBudget budget(long id) {
        Origin o = open.get(id);
        return o == null ? null : o.budget();
    }

    int size() {
        return open.size();
    }
}
