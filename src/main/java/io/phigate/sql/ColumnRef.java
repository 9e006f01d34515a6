package io.phigate.sql;

/** A column of a table or view, by schema-qualified name, all parts as PostgreSQL folds them (unquoted: lower case). */
public record ColumnRef(String schema, String table, String column) {
    @Override
    public String toString() {
        return schema + "." + table + "." + column;
    }
}
