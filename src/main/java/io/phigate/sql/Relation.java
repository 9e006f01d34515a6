package io.phigate.sql;

import java.util.List;

/**
 * A relation the catalog knows: its columns in attribute order and, for a view or materialized view, the SQL of
 * its definition (so lineage can see through it). {@code oid} is the relation's pg_class OID, 0 when unknown.
 */
public record Relation(int oid, String schema, String name, Kind kind, List<String> columns, String definition) {
    public enum Kind { TABLE, VIEW, MATERIALIZED_VIEW, FOREIGN_TABLE, OTHER }

    public TableRef ref() {
        return new TableRef(schema, name);
    }
}
