package io.phigate.sql;

import static io.phigate.sql.Tree.body;
import static io.phigate.sql.Tree.list;
import static io.phigate.sql.Tree.names;
import static io.phigate.sql.Tree.type;

import com.fasterxml.jackson.databind.JsonNode;
import io.phigate.sql.StatementReader.Result;
import java.util.List;
import java.util.Set;

/**
 * DDL and the other statements that change the schema: which relations they write (create, alter, drop,
 * index, refresh), and the query a CREATE TABLE AS, CREATE MATERIALIZED VIEW or CREATE VIEW embeds.
 */
final class Ddl {
    /** DROP of these removes a relation whose rows or definition a policy may name. */
    private static final Set<String> RELATION_OBJECTS = Set.of("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW",
            "OBJECT_FOREIGN_TABLE");

    private Ddl() {
    }

    static Result read(StatementReader reader, JsonNode node) {
        JsonNode b = body(node);
        Result r = new Result(StatementKind.DDL, Operation.DDL);
        Lineage names = new Lineage(reader.catalog(), reader.views(), 0);
        switch (type(node)) {
            // REINDEX TABLE rebuilds the table's indexes under a lock that blocks its writers (REINDEX INDEX names an
            // index, which the catalog does not know: unresolved, refused to a scope).
            case "CreateStmt", "IndexStmt", "RefreshMatViewStmt", "AlterTableStmt", "ReindexStmt" ->
                    write(r, names, b.path("relation"));
            case "CreateForeignTableStmt" -> write(r, names, b.path("base").path("relation"));
            case "RenameStmt", "AlterObjectSchemaStmt", "AlterOwnerStmt" -> write(r, names, b.path("relation"));
            case "CreateTableAsStmt" -> {
                write(r, names, b.path("into").path("rel"));
                JsonNode query = b.path("query");
                if (!type(query).equals("ExecuteStmt")) {
                    r.facts.addAll(reader.query(query).facts);
                }
                // A table or materialized view stores the query's rows; AS EXECUTE stores a prepared
                // statement's rows, whose lineage this text does not show.
                r.facts.copiesQuery = true;
            }
            case "ViewStmt" -> {
                write(r, names, b.path("view"));
                // A view stores its query, not its rows.
                r.facts.addAll(reader.query(b.path("query")).facts);
            }
            case "DropStmt" -> {
                if (RELATION_OBJECTS.contains(Tree.text(b, "removeType"))) {
                    for (JsonNode o : list(b, "objects")) {
                        List<String> parts = names(list(body(o), "items"));
                        String table = Tree.last(parts);
                        String schema = Tree.schemaOf(parts);
                        r.facts.writes.add(reader.catalog().relation(schema, table).map(Relation::ref)
                                .orElse(new TableRef(schema == null ? "?" : schema, table)));
                    }
                }
            }
            case "CommentStmt", "SecLabelStmt" -> {
                // A comment or label on a relation or its column changes that relation's definition for every later
                // reader (phi: tags are read from comments): DDL of the relation, as its scope and rules name it.
                String objtype = Tree.text(b, "objtype");
                boolean column = "OBJECT_COLUMN".equals(objtype);
                if (column || RELATION_OBJECTS.contains(objtype)) {
                    List<String> parts = names(list(body(b.path("object")), "items"));
                    List<String> relation = column && !parts.isEmpty() ? parts.subList(0, parts.size() - 1) : parts;
                    if (!relation.isEmpty()) {
                        String table = Tree.last(relation);
                        String schema = Tree.schemaOf(relation);
                        r.facts.writes.add(reader.catalog().relation(schema, table).map(Relation::ref)
                                .orElse(new TableRef(schema == null ? "?" : schema, table)));
                    }
                }
            }
            default -> {
                // Functions, types, roles, schemas ...: DDL with no relation to name here.
            }
        }
        DdlReads.read(r, names, reader.catalog(), node);
        // A rule's actions or a function's SQL body may hold an UPDATE or DELETE that runs later, unfiltered; a
        // default, a check or an index expression calls functions later too: the rules see them all.
        Tree.forEachObject(b, (key, value) -> {
            if ((key.equals("UpdateStmt") || key.equals("DeleteStmt")) && !value.has("whereClause")) {
                r.facts.unfilteredWrite = true;
            } else if (key.equals("FuncCall")) {
                List<String> fn = names(list(value, "funcname"));
                r.facts.functions.add(new StatementFacts.FunctionCall(Tree.schemaOf(fn), Tree.last(fn)));
            }
        });
        return r;
    }

    private static void write(Result r, Lineage names, JsonNode rangeVar) {
        if (rangeVar.isObject() && rangeVar.has("relname")) {
            r.facts.writes.add(names.ref(rangeVar));
        }
    }
}
