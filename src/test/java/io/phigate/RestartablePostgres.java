package io.phigate;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/** An embedded PostgreSQL that can be stopped and started again on the same data and port, for fault tests. */
public final class RestartablePostgres {
    private RestartablePostgres() {
    }

    /**
     * Starts (or restarts) PostgreSQL on {@code data} at {@code port}, trusting every loopback login. Never
     * "clean": zonky would delete the data directory on close, and the restart needs it.
     */
    public static EmbeddedPostgres start(Path data, int port) throws IOException {
        return EmbeddedPostgres.builder().setDataDirectory(data).setCleanDataDirectory(false).setPort(port)
                .setPGStartupWait(Duration.ofSeconds(60)).setServerConfig("listen_addresses", "127.0.0.1").start();
    }

    /** A first start on empty {@code data}, with {@code database} created. */
    public static EmbeddedPostgres startWithDatabase(Path data, int port, String database) throws IOException, SQLException {
        EmbeddedPostgres pg = start(data, port);
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("create database " + database);
        }
        return pg;
    }
}
