package io.phigate.sql;

import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * A catalog that treats as opaque the built-in functions that can carry a value out of a result where masking
 * cannot see it: into a large object or file, through SQL run inside the function (query_to_xml and kin), or to
 * another server (dblink). A role that sees PHI masked may not call them; lineage through every other built-in is
 * followed as usual. set_config and pg_notify, which carry a value into session state or to listeners, run for
 * such a role only with constant or bound arguments (policy.FunctionAllowlist), so they are followed too.
 */
public final class GuardedCatalog implements Catalog {
    private static final Set<String> OPAQUE_BUILT_INS = Set.of(
            "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "table_to_xml",
            "table_to_xmlschema", "table_to_xml_and_xmlschema", "cursor_to_xml", "cursor_to_xmlschema",
            "schema_to_xml", "schema_to_xmlschema", "schema_to_xml_and_xmlschema", "database_to_xml",
            "database_to_xmlschema", "database_to_xml_and_xmlschema", "lo_from_bytea", "lo_put", "lo_create",
            "lo_creat", "lo_import", "lo_export", "lo_get", "lowrite", "loread", "lo_open", "pg_read_file",
            "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_file_write", "dblink", "dblink_exec",
            "pg_logical_emit_message", "txid_current_snapshot", "ts_stat", "xpath_table",
            // a value stored where it can be read back later: a sequence's last_value, an advisory lock's key in
            // pg_locks; and other sessions' statement texts, literals included
            "setval", "pg_stat_get_activity", "pg_stat_get_backend_activity", "pg_stat_statements");

    private final Catalog inner;

    public GuardedCatalog(Catalog inner) {
        this.inner = inner;
    }

    public Catalog inner() {
        return inner;
    }

    @Override
    public Optional<Relation> relation(String schema, String name) {
        return inner.relation(schema, name);
    }

    @Override
    public Optional<ColumnRef> column(int tableOid, int attributeNumber) {
        return inner.column(tableOid, attributeNumber);
    }

    @Override
    public Set<ColumnRef> checkedAgainst(ColumnRef column) {
        return inner.checkedAgainst(column);
    }

    @Override
    public Set<ColumnRef> rowChecks(TableRef table) {
        return inner.rowChecks(table);
    }

    @Override
    public boolean compound(ColumnRef column) {
        return inner.compound(column);
    }

    @Override
    public Optional<Set<ColumnRef>> columnsHoldingType(String schema, String name) {
        return inner.columnsHoldingType(schema, name);
    }

    @Override
    public Optional<Set<TableRef>> typedTables(String schema, String name) {
        return inner.typedTables(schema, name);
    }

    @Override
    public boolean definesFunction(String name) {
        return inner.definesFunction(name);
    }

    @Override
    public Set<TableRef> writtenThroughKeys(TableRef table, Operation operation) {
        return inner.writtenThroughKeys(table, operation);
    }

    @Override
    public Set<TableRef> descendants(TableRef table) {
        return inner.descendants(table);
    }

    @Override
    public Set<String> partitionedBy(TableRef table) {
        return inner.partitionedBy(table);
    }

    @Override
    public Set<String> chosenBy(TableRef table) {
        return inner.chosenBy(table);
    }

    @Override
    public boolean changesState(String schema, String name) {
        return inner.changesState(schema, name);
    }

    @Override
    public boolean deterministicCollation(String name) {
        return inner.deterministicCollation(name);
    }

    @Override
    public boolean looseEquality(ColumnRef column) {
        return inner.looseEquality(column);
    }

    @Override
    public boolean isTransparentFunction(String schema, String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (OPAQUE_BUILT_INS.contains(n) || n.startsWith("dblink") || n.startsWith("lo_")
                || n.startsWith("pg_advisory_") || n.startsWith("pg_try_advisory_")) {
            return false;
        }
        return inner.isTransparentFunction(schema, name);
    }
}
