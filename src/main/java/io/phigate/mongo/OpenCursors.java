package io.phigate.mongo;

import io.phigate.mongo.backend.ReplyFacts;
import io.phigate.mongo.command.Command;
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

    /** Cursor id to the namespace it reads, for the records of the getMores that follow. */
    private final Map<Long, String> open = new LinkedHashMap<>();

    boolean ownsAll(List<Long> ids) {
        return ids.stream().allMatch(open::containsKey);
    }

    void update(Command command, ReplyFacts reply) {
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
            open.put(reply.cursorId(), command.namespace());
        }
    }

    /** The namespace cursor {@code id} reads, or null when this session did not open it. */
    String origin(long id) {
        return open.get(id);
    }

    int size() {
        return open.size();
    }
}
