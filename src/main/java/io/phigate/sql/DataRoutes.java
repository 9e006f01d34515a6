package io.phigate.sql;

import static io.phigate.sql.Tree.body;
import static io.phigate.sql.Tree.list;
import static io.phigate.sql.Tree.text;
import static io.phigate.sql.Tree.type;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * DDL that builds a route for data inside the server, out of phigate's sight: code that runs there (functions,
 * procedures, triggers, rules, event triggers, aggregates, operators, casts, transforms, conversions, languages,
 * extensions), ways out of it (publications, subscriptions, foreign servers, wrappers and tables), the column
 * comments masking reads tags from, the server's own configuration (ALTER SYSTEM), and access for other
 * principals who would read the data without phigate (GRANT, roles, row security policies, default privileges).
 * A trigger an agent writes copies {@code NEW.ssn} into a table nobody tagged on the next UPDATE; no statement
 * the agent sends afterwards names the PHI column, so lineage has nothing to follow.
 *
 * <p>Read from the statement's parse-tree node, so comments, quoting and case cannot hide the form.
 */
final class DataRoutes {
    /** Statement nodes that are routes whatever they hold, with the form a refusal names. */
    private static final Map<String, String> ROUTES = Map.ofEntries(
            Map.entry("CommentStmt", "COMMENT ON"),
            Map.entry("SecLabelStmt", "SECURITY LABEL"),
            Map.entry("ImportForeignSchemaStmt", "IMPORT FOREIGN SCHEMA"),
            Map.entry("CreateTrigStmt", "CREATE TRIGGER"),
            Map.entry("RuleStmt", "CREATE RULE"),
            Map.entry("CreateEventTrigStmt", "CREATE EVENT"),
            Map.entry("AlterEventTrigStmt", "ALTER EVENT"),
            Map.entry("CreatePLangStmt", "CREATE LANGUAGE"),
            Map.entry("CreatePublicationStmt", "CREATE PUBLICATION"),
            Map.entry("AlterPublicationStmt", "ALTER PUBLICATION"),
            Map.entry("CreateSubscriptionStmt", "CREATE SUBSCRIPTION"),
            Map.entry("AlterSubscriptionStmt", "ALTER SUBSCRIPTION"),
            Map.entry("CreateForeignServerStmt", "CREATE SERVER"),
            Map.entry("AlterForeignServerStmt", "ALTER SERVER"),
            Map.entry("CreateForeignTableStmt", "CREATE FOREIGN"),
            Map.entry("CreateFdwStmt", "CREATE FOREIGN"),
            Map.entry("AlterFdwStmt", "ALTER FOREIGN"),
            Map.entry("CreateUserMappingStmt", "CREATE USER MAPPING"),
            Map.entry("AlterUserMappingStmt", "ALTER USER MAPPING"),
            Map.entry("CreateExtensionStmt", "CREATE EXTENSION"),
            Map.entry("AlterExtensionStmt", "ALTER EXTENSION"),
            Map.entry("AlterExtensionContentsStmt", "ALTER EXTENSION"),
            Map.entry("CreateCastStmt", "CREATE CAST"),
            Map.entry("CreateTransformStmt", "CREATE TRANSFORM"),
            Map.entry("CreateConversionStmt", "CREATE CONVERSION"),
            Map.entry("CreatePolicyStmt", "CREATE POLICY"),
            Map.entry("AlterPolicyStmt", "ALTER POLICY"),
            Map.entry("AlterRoleStmt", "ALTER ROLE"),
            Map.entry("AlterRoleSetStmt", "ALTER ROLE"),
            Map.entry("AlterDefaultPrivilegesStmt", "ALTER DEFAULT"),
            Map.entry("CreatedbStmt", "CREATE DATABASE"),
            Map.entry("AlterDatabaseStmt", "ALTER DATABASE"),
            Map.entry("AlterDatabaseSetStmt", "ALTER DATABASE"),
            Map.entry("AlterDatabaseRefreshCollStmt", "ALTER DATABASE"),
            Map.entry("AlterSystemStmt", "ALTER SYSTEM"));

    /** Object types (ALTER ... RENAME / OWNER TO / SET SCHEMA / DEPENDS ON) whose change is a route. */
    private static final Map<String, String> OBJECTS = Map.ofEntries(
            Map.entry("OBJECT_FUNCTION", "FUNCTION"), Map.entry("OBJECT_PROCEDURE", "PROCEDURE"),
            Map.entry("OBJECT_ROUTINE", "ROUTINE"), Map.entry("OBJECT_TRIGGER", "TRIGGER"),
            Map.entry("OBJECT_RULE", "RULE"), Map.entry("OBJECT_EVENT_TRIGGER", "EVENT"),
            Map.entry("OBJECT_AGGREGATE", "AGGREGATE"), Map.entry("OBJECT_OPERATOR", "OPERATOR"),
            Map.entry("OBJECT_LANGUAGE", "LANGUAGE"), Map.entry("OBJECT_EXTENSION", "EXTENSION"),
            Map.entry("OBJECT_PUBLICATION", "PUBLICATION"), Map.entry("OBJECT_SUBSCRIPTION", "SUBSCRIPTION"),
            Map.entry("OBJECT_FOREIGN_SERVER", "SERVER"), Map.entry("OBJECT_FOREIGN_TABLE", "FOREIGN"),
            Map.entry("OBJECT_FDW", "FOREIGN"), Map.entry("OBJECT_POLICY", "POLICY"),
            Map.entry("OBJECT_ROLE", "ROLE"), Map.entry("OBJECT_DATABASE", "DATABASE"),
            // A renamed schema takes its tables out from under the policy's schema.table.column tags.
            Map.entry("OBJECT_SCHEMA", "SCHEMA"), Map.entry("OBJECT_CAST", "CAST"),
            Map.entry("OBJECT_TRANSFORM", "TRANSFORM"), Map.entry("OBJECT_CONVERSION", "CONVERSION"));

    /**
     * Type names the analysis reads as pg_catalog's own (the casts {@code TotalExpressions} vets by name). The server
     * resolves an unqualified type name in pg_temp first, so {@code CREATE DOMAIN pg_temp.text AS varchar CHECK
     * (VALUE NOT LIKE '1%')} made {@code ssn::text}, vetted total, fail exactly for some SSNs (decision 0054); a
     * relation's row type has its name too.
     */
    private static final java.util.Set<String> BUILT_IN_TYPE_NAMES = java.util.Set.of("text", "varchar", "bpchar",
            "name",
            // Catalog views the analysis reads by name (the set_config ... FROM pg_settings form pg_dump sends,
            // SessionViews): an unqualified relation name resolves in pg_temp first, so a temp table of that name
            // would feed set_config names the rule never judged.
            "pg_settings", "pg_stat_activity", "pg_prepared_statements", "pg_cursors");

    private DataRoutes() {
    }

    /**
     * A type created where, or named so that, an unqualified type name the analysis reads as built-in may mean it:
     * any type or domain in pg_temp (searched before pg_catalog for types), and any type or relation named like one
     * of {@link #BUILT_IN_TYPE_NAMES}, in case a schema precedes pg_catalog on the path.
     */
    private static String shadowingType(String form, java.util.List<String> name, boolean temporary) {
        if (name.isEmpty()) {
            return null;
        }
        String schema = Tree.schemaOf(name);
        boolean temp = temporary || (schema != null && schema.startsWith("pg_temp"));
        boolean typeForm = !form.startsWith("CREATE TABLE") && !form.startsWith("CREATE VIEW")
                && !form.startsWith("CREATE SEQUENCE");
        if ((temp && typeForm) || BUILT_IN_TYPE_NAMES.contains(Tree.last(name))) {
            return form + (temp && typeForm ? " in pg_temp" : " named " + Tree.last(name))
                    + " (the server would read an unqualified type name as it, where phigate reads the built-in)";
        }
        return null;
    }

    private static String shadowingRelation(String form, JsonNode rangeVar) {
        if (!rangeVar.isObject()) {
            return null;
        }
        java.util.List<String> name = new java.util.ArrayList<>();
        if (text(rangeVar, "schemaname") != null) {
            name.add(text(rangeVar, "schemaname"));
        }
        name.add(String.valueOf(text(rangeVar, "relname")));
        return shadowingType(form, name, false);
    }

    /** The statement's form ({@code "CREATE TRIGGER"}) when the node builds such a route, or null. */
    static String of(JsonNode node) {
        String type = type(node);
        JsonNode b = body(node);
        String fixed = ROUTES.get(type);
        if (fixed != null) {
            return fixed;
        }
        return switch (type) {
            case "GrantStmt", "GrantRoleStmt" -> b.path("is_grant").asBoolean(false) ? "GRANT" : null;
            case "CreateFunctionStmt" -> b.path("is_procedure").asBoolean(false) ? "CREATE PROCEDURE"
                    : "CREATE FUNCTION";
            case "AlterFunctionStmt" -> "ALTER " + OBJECTS.getOrDefault(text(b, "objtype"), "FUNCTION");
            case "DefineStmt" -> switch (String.valueOf(text(b, "kind"))) {
                case "OBJECT_AGGREGATE" -> "CREATE AGGREGATE";
                case "OBJECT_OPERATOR" -> "CREATE OPERATOR";
                case "OBJECT_TYPE" -> shadowingType("CREATE TYPE", Tree.names(list(b, "defnames")), false);
                // A nondeterministic collation changes what = means: a constant the rules compared (a setting's
                // name, a lookup value) would match other values on the server.
                case "OBJECT_COLLATION" -> "CREATE COLLATION";
                default -> null;
            };
            case "CreateRoleStmt" -> switch (String.valueOf(text(b, "stmt_type"))) {
                case "ROLESTMT_USER" -> "CREATE USER";
                case "ROLESTMT_GROUP" -> "CREATE GROUP";
                default -> "CREATE ROLE";
            };
            case "AlterOwnerStmt", "AlterObjectSchemaStmt", "AlterObjectDependsStmt" -> alterOf(text(b, "objectType"));
            case "CreateSchemaStmt" -> {
                String route = null;
                for (JsonNode e : list(b, "schemaElts")) {
                    // CREATE SCHEMA s CREATE TRIGGER ... ON public.patients: the subcommands reach other schemas.
                    route = type(e).equals("GrantStmt") ? "CREATE SCHEMA with GRANT"
                            : route == null ? "CREATE SCHEMA with CREATE" : route;
                }
                yield route;
            }
            case "CreateStmt" -> b.has("partbound") ? "CREATE TABLE ... PARTITION OF"
                    // Rows written to a tagged parent would land in an untagged child, and the reverse.
                    : b.has("inhRelations") ? "CREATE TABLE ... INHERITS"
                    : shadowingRelation("CREATE TABLE", b.path("relation"));
            // A table filled from a prepared statement, whose lineage this statement does not show.
            case "CreateTableAsStmt" -> type(b.path("query")).equals("ExecuteStmt") ? "CREATE TABLE ... AS EXECUTE"
                    : shadowingRelation("CREATE TABLE", b.path("into").path("rel"));
            case "SelectStmt" -> shadowingRelation("CREATE TABLE", b.path("intoClause").path("rel"));
            case "ViewStmt" -> shadowingRelation("CREATE VIEW", b.path("view"));
            case "CreateSeqStmt" -> shadowingRelation("CREATE SEQUENCE", b.path("sequence"));
            // A domain's new constraint (or SET NOT NULL, or VALIDATE) is tested against every value of every
            // column of that type, in tables the statement does not name: an error answers whether a PHI column's
            // value matches it (decision 0069, attacker's read). Which columns use a domain DdlReads now reads as
            // predicates (decision 0074); a masked session is still refused all three forms, domain known or not.
            case "AlterDomainStmt" -> switch (String.valueOf(text(b, "subtype"))) {
                case "C", "O", "V" -> "ALTER DOMAIN ... ADD CONSTRAINT, SET NOT NULL or VALIDATE CONSTRAINT (tested"
                        + " against every column of the domain's type)";
                default -> null;
            };
            case "CreateDomainStmt" -> shadowingType("CREATE DOMAIN", Tree.names(list(b, "domainname")), false);
            case "CompositeTypeStmt" -> {
                JsonNode typevar = b.path("typevar");
                String temp = text(typevar, "relpersistence");
                java.util.List<String> name = new java.util.ArrayList<>();
                if (text(typevar, "schemaname") != null) {
                    name.add(text(typevar, "schemaname"));
                }
                name.add(String.valueOf(text(typevar, "relname")));
                yield shadowingType("CREATE TYPE", name, "t".equals(temp));
            }
            case "CreateEnumStmt", "CreateRangeStmt" -> shadowingType("CREATE TYPE", Tree.names(list(b, "typeName")),
                    false);
            case "RenameStmt" -> {
                String route = alterOf(text(b, "renameType"));
                String to = text(b, "newname");
                yield route != null ? route : to != null && BUILT_IN_TYPE_NAMES.contains(to)
                        ? "RENAME to " + to + " (the server would read the unqualified type name " + to + " as it,"
                          + " where phigate reads the built-in)" : null;
            }
            default -> null;
        };
    }

    private static String alterOf(String objectType) {
        String object = OBJECTS.get(objectType);
        return object == null ? null : "ALTER " + object;
    }

    /**
     * ALTER TABLE subcommands that install no code a later statement sets off and evaluate no expression: a key
     * (primary, unique, or foreign without a cascading action, whose actions would write where no rule looks),
     * NOT NULL, dropping a constraint (RESTRICT only), statistics, clustering, the storage options of
     * {@link #PLAIN_OPTIONS}. Everything else (ENABLE TRIGGER or RULE, row security, SET DEFAULT, CHECK, a column's
     * default or type, partitions, inheritance, owner, any CASCADE) counts as installing code for risk rules
     * (decisions 0068, 0069).
     */
    private static final java.util.Set<String> PLAIN_ALTERS = java.util.Set.of("AT_SetNotNull", "AT_DropNotNull",
            "AT_DropConstraint", "AT_SetStatistics", "AT_ClusterOn", "AT_DropCluster", "AT_SetRelOptions",
            "AT_ResetRelOptions");
    private static final java.util.Set<String> PLAIN_CONSTRAINTS = java.util.Set.of("CONSTR_PRIMARY",
            "CONSTR_UNIQUE", "CONSTR_FOREIGN", "CONSTR_NOTNULL");
    /** Foreign-key actions that write nothing: NO ACTION and RESTRICT (parsenodes.h FKCONSTR_ACTION_*). */
    private static final java.util.Set<String> WRITELESS_ACTIONS = java.util.Set.of("a", "r");
    /**
     * Storage options of a table (reloptions.c, heap and toast kinds) that change how the server stores and vacuums
     * it, never what a statement reads or who may read it. A view's options ({@code security_barrier},
     * {@code security_invoker}, {@code check_option}) change which rows and whose rights a query runs with, and
     * {@code user_catalog_table} what logical decoding sends out: not plain, nor any name not listed here.
     */
    private static final java.util.Set<String> PLAIN_OPTIONS = java.util.Set.of("fillfactor", "toast_tuple_target",
            "parallel_workers", "autovacuum_enabled", "autovacuum_vacuum_threshold",
            "autovacuum_vacuum_insert_threshold", "autovacuum_vacuum_insert_scale_factor",
            "autovacuum_analyze_threshold", "autovacuum_vacuum_scale_factor", "autovacuum_analyze_scale_factor",
            "autovacuum_vacuum_cost_delay", "autovacuum_vacuum_cost_limit", "autovacuum_freeze_min_age",
            "autovacuum_freeze_max_age", "autovacuum_freeze_table_age", "autovacuum_multixact_freeze_min_age",
            "autovacuum_multixact_freeze_max_age", "autovacuum_multixact_freeze_table_age",
            "log_autovacuum_min_duration", "vacuum_index_cleanup", "vacuum_truncate");
    /** The only namespace a table's storage option may carry ({@code toast.autovacuum_enabled}). */
    private static final String TOAST = "toast";

    /**
     * True for an ALTER TABLE of a table (not a view, materialized view, foreign table, index or sequence, which
     * the grammar reads into the same node with another object type) whose every subcommand is one of the plain
     * ones above. The object type is the statement's word: {@code ALTER TABLE v SET (security_barrier = false)} on
     * a view says TABLE, and is refused here by its option's name.
     */
    static boolean isPlainAlterTable(JsonNode node) {
        if (!type(node).equals("AlterTableStmt") || !"OBJECT_TABLE".equals(text(body(node), "objtype"))) {
            return false;
        }
        List<JsonNode> cmds = list(body(node), "cmds");
        if (cmds.isEmpty()) {
            return false;
        }
        for (JsonNode cmd : cmds) {
            if (!isPlainSubcommand(body(cmd))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isPlainSubcommand(JsonNode c) {
        String subtype = text(c, "subtype");
        // DROP CONSTRAINT ... CASCADE drops other tables' foreign keys and what depends on the constraint's index.
        if ("DROP_CASCADE".equals(text(c, "behavior"))) {
            return false;
        }
        if ("AT_SetRelOptions".equals(subtype) || "AT_ResetRelOptions".equals(subtype)) {
            return plainOptions(list(body(c.path("def")), "items"));
        }
        if (PLAIN_ALTERS.contains(subtype)) {
            return true;
        }
        JsonNode constraint = body(c.path("def"));
        return "AT_AddConstraint".equals(subtype) && type(c.path("def")).equals("Constraint")
                && PLAIN_CONSTRAINTS.contains(text(constraint, "contype"))
                && !constraint.has("raw_expr") && !constraint.has("cooked_expr") && !constraint.has("where_clause")
                && !constraint.has("exclusions") && !constraint.has("indexname")
                && (!"CONSTR_FOREIGN".equals(text(constraint, "contype"))
                || WRITELESS_ACTIONS.contains(constraint.path("fk_upd_action").asText("a"))
                && WRITELESS_ACTIONS.contains(constraint.path("fk_del_action").asText("a")));
    }

    private static boolean plainOptions(List<JsonNode> options) {
        if (options.isEmpty()) {
            return false;
        }
        for (JsonNode o : options) {
            JsonNode d = body(o);
            String namespace = text(d, "defnamespace");
            if (!type(o).equals("DefElem") || namespace != null && !namespace.equals(TOAST)
                    || !PLAIN_OPTIONS.contains(String.valueOf(text(d, "defname")))) {
                return false;
            }
        }
        return true;
    }

    /** True for an ALTER of any kind (its relation, if any, is in the analysis's writes). */
    static boolean isAlter(JsonNode node) {
        String type = type(node);
        return type.startsWith("Alter") || type.equals("RenameStmt");
    }
}
