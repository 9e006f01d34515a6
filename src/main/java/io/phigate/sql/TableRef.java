package io.phigate.sql;

/** A relation by schema-qualified name, as PostgreSQL folds it. */
public record TableRef(String schema, String table) {
    @Override
    public String toString() {
        return schema + "." + table;
    }
}
