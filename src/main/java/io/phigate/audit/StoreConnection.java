package io.phigate.audit;

import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/** A JDBC connection to the PostgreSQL audit store and its schema, as its writer and the replicas' coordination use them. */
public final class StoreConnection {
    private StoreConnection() {
    }

    /**
     * A connection as the configured role, its password read now; server error details are kept out of messages.
     * {@code applicationName} tells the store's operator which part of the gateway holds it.
     */
    public static Connection open(AuditConfig.Postgres server, String applicationName) throws SQLException, IOException {
        var props = new Properties();
        props.setProperty("user", server.user());
        if (server.password() != null) {
            props.setProperty("password", server.password().read());
        }
        // A server's DETAIL can quote a failing row, which holds PHI; log lines must not.
        props.setProperty("logServerErrorDetail", "false");
        props.setProperty("connectTimeout", "10");
        props.setProperty("ApplicationName", applicationName);
        return DriverManager.getConnection(server.jdbcUrl(), props);
    }

    /** The store's schema script (audit tables and the replicas' coordination tables), as an operator runs it. */
    public static String schemaSql() throws IOException {
        return PostgresSchema.schemaSql();
    }
}
