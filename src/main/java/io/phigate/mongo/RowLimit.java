package io.phigate.mongo;

import io.phigate.mongo.backend.UpstreamConnection;
import io.phigate.mongo.command.Command;
import io.phigate.mongo.masking.DocumentBudget;
import io.phigate.mongo.wire.Frame;
import io.phigate.mongo.wire.MsgHeader;
import io.phigate.mongo.wire.WireCodec;
import io.phigate.mongo.wire.WireMessage;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import io.phigate.policy.Role;
import java.io.IOException;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A role's {@code row_limit} on the document store (decision 0096): the most documents one cursor delivers, counted
 * across its first batch and every getMore, or one command answering inline (distinct's values, an inline
 * mapReduce's results). The cut itself is the reply masker's ({@link DocumentBudget}); this class says which
 * commands are counted, keeps an exhaust stream from running past the cut, and kills the server's cursor the client
 * was told is exhausted. MongoDB has no notices: the cursor simply ends, as a {@code limit} would end it; the audit
 * record says the limit cut it. Catalog listings ({@code listCollections}, {@code listIndexes},
 * {@code listDatabases}) are not counted: they carry no stored document, and a driver cut short of a listing
 * misreads the database. Runs on the connection's thread.
 */
final class RowLimit {
    private static final Logger log = LoggerFactory.getLogger(RowLimit.class);
    /** The commands whose replies carry a collection's documents (or values) in batches. */
    private static final Set<String> COUNTED = Set.of("find", "aggregate", "distinct", "mapReduce", "mapreduce");

    /** 0 for none. */
    private final long limit;
    private final String roleName;
    private final String sessionId;

    RowLimit(Role role, String sessionId) {
        this.limit = role == null ? 0 : role.rowLimit();
        this.roleName = role == null ? null : role.name();
        this.sessionId = sessionId;
    }

    /**
     * The count {@code command}'s replies are cut by: a fresh one for a command that opens a cursor or answers
     * documents inline, its cursor's for a getMore (null when the cursor is a listing's); null without a limit.
     */
    DocumentBudget budgetFor(Command command, OpenCursors cursors) {
        if (limit == 0) {
            return null;
        }
        if (command.name().equals("getMore")) {
            return command.cursorIds().isEmpty() ? null : cursors.budget(command.cursorIds().getFirst());
        }
        return COUNTED.contains(command.name()) ? new DocumentBudget(limit) : null;
    }

    /**
     * {@code frame} without the exhaust flag (and so without a checksum over the old flags): an exhaust stream
     * cannot be stopped once the limit is reached but by reading it to its end, so the server answers a counted
     * getMore once, which a driver that allowed exhaust accepts.
     */
    static Frame withoutExhaust(OpMsg msg) {
        int flags = msg.flagBits() & ~OpMsg.EXHAUST_ALLOWED & ~OpMsg.CHECKSUM_PRESENT;
        byte[] bytes = WireCodec.encode(new OpMsg(msg.header(), flags, msg.body(), msg.sequences()));
        return new Frame(new MsgHeader(bytes.length, msg.header().requestId(), 0, WireMessage.OP_MSG), bytes);
    }

    /**
     * The client was told cursor {@code id} is exhausted while the server holds it open: the gateway kills it, so it
     * does not hold the store's resources until it times out. Logged without values (the namespace only).
     *
     * @param namespace {@code database.collection} the cursor reads
     */
    void endOnServer(UpstreamConnection upstream, String namespace, long id) throws IOException {
        int dot = namespace.indexOf('.');
        String database = dot < 0 ? namespace : namespace.substring(0, dot);
        String collection = dot < 0 ? "$cmd.aggregate" : namespace.substring(dot + 1);
        boolean killed = upstream.killCursor(database, collection, id);
        log.info("mongo session {}: role {} reached its row_limit {} on a cursor of {}; the store {} it", sessionId,
                roleName, limit, namespace, killed ? "killed" : "did not kill");
    }

    /** What the completion record's {@code masking} field adds when the limit cut a reply or ended a cursor. */
    static String note(DocumentBudget budget) {
        return "row_limit " + budget.limit() + " reached: " + budget.deliveredSoFar() + " documents delivered, the"
                + " cursor ended" + (budget.serverCursorLeftOpen() ? " and killed on the store" : "");
    }
}
