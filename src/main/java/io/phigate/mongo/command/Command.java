package io.phigate.mongo.command;

import java.util.List;
import org.bson.BsonDocument;

/**
 * What a command asks the document store to do, as far as the gateway must know it to audit and, later, to judge it.
 * Pure data read from one OP_MSG by {@link CommandReader}; holds filter and pipeline values, so it never prints them.
 *
 * @param name        the command, the body's first field, as the server reads it
 * @param database    {@code $db}
 * @param collection  the collection it names (null for database-wide commands such as {@code aggregate: 1})
 * @param filters     the filters it matches documents by: one per update/delete statement, else at most one
 * @param projection  find's {@code projection}, findAndModify's {@code fields}; null when absent
 * @param sort        {@code sort}; null when absent
 * @param pipeline    aggregate's pipeline, or the stages of a pipeline-style update; empty when none
 * @param updatePaths the field paths an update writes: operator targets, a replacement's top-level fields
 * @param distinctKey distinct's {@code key}
 * @param cursorIds   getMore's cursor, killCursors' cursors
 * @param documents   documents an insert carries
 * @param renamedFrom the field paths an update's {@code $rename} moves away (their values move to updatePaths)
 * @param statements  an update's or delete's statements as sent (body array or document sequence), for the options
 *                    of each ({@code arrayFilters}, {@code hint}, {@code sort}) that masking judges
 */
public record Command(String name, String database, String collection, List<BsonDocument> filters,
                      BsonDocument projection, BsonDocument sort, List<BsonDocument> pipeline,
                      List<String> updatePaths, String distinctKey, List<Long> cursorIds, int documents,
                      List<String> renamedFrom, List<BsonDocument> statements) {
    public Command {
        renamedFrom = List.copyOf(renamedFrom);
        statements = List.copyOf(statements);
        filters = List.copyOf(filters);
        pipeline = List.copyOf(pipeline);
        updatePaths = List.copyOf(updatePaths);
        cursorIds = List.copyOf(cursorIds);
    }

    public Command(String name, String database, String collection, List<BsonDocument> filters,
                   BsonDocument projection, BsonDocument sort, List<BsonDocument> pipeline, List<String> updatePaths,
                   String distinctKey, List<Long> cursorIds, int documents) {
        this(name, database, collection, filters, projection, sort, pipeline, updatePaths, distinctKey, cursorIds,
                documents, List.of(), List.of());
    }

    /** {@code db.collection}, the name audit search finds it by; just the database when no collection is named. */
    public String namespace() {
        return collection == null ? database : database + "." + collection;
    }

    @Override
    public String toString() {
        return "Command[" + name + " on " + namespace() + ", filters=" + filters.size() + ", stages="
                + pipeline.size() + ", updatePaths=" + updatePaths.size() + ", cursors=" + cursorIds.size() + "]";
    }
}
