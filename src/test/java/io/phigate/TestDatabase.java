package io.phigate;

import io.phigate.demo.DemoDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * One real PostgreSQL for the whole test JVM: the demo database (SCRAM enforced, synthetic patients), with the
 * gateway's role also allowed to create tables so tests and pgbench can make their own.
 */
public final class TestDatabase {
    private static TestDatabase instance;

    private final DemoDatabase db;
    private final Path passwordFile;

    private TestDatabase(DemoDatabase db, Path passwordFile) {
        this.db = db;
        this.passwordFile = passwordFile;
    }

    public static synchronized TestDatabase get() {
        if (instance == null) {
            try {
                Path dir = Files.createTempDirectory("phigate-test-pg");
                DemoDatabase db = DemoDatabase.start(dir.resolve("db"), 0, 50);
                Path pw = dir.resolve("upstream.password");
                Files.writeString(pw, db.password() + "\n");
                try (Connection c = db.superuserDataSource().getConnection(); Statement s = c.createStatement()) {
                    s.execute("GRANT CREATE ON SCHEMA public TO " + db.user());
                }
                instance = new TestDatabase(db, pw);
                Runtime.getRuntime().addShutdownHook(new Thread(db::close));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }
        return instance;
    }

    public int port() {
        return db.port();
    }

    public String user() {
        return db.user();
    }

    public Path passwordFile() {
        return passwordFile;
    }

    /** A direct connection as the gateway's upstream role, bypassing the gateway. */
    public Connection direct() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", db.user());
        p.setProperty("password", db.password());
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + db.port() + "/" + db.database(), p);
    }

    public Connection superuser() throws SQLException {
        return db.superuserDataSource().getConnection();
    }

    public String password() {
        return db.password();
    }
}
