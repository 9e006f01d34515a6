package io.phigate.audit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A PostgreSQL database shared by several gateway replicas: {@code audit_event} partitioned by day (see
 * {@code postgres-schema.sql} beside this class, which is also what an operator runs), written with
 * {@code synchronous_commit = on} so a confirmed record survives a server crash.
 *
 * <p>Each writer holds a session advisory lock on its replica's name while connected, so two gateways configured
 * with the same replica cannot interleave one chain; different replicas never wait for each other.
 */
final class PostgresSchema implements AuditSchema {

    static final String SCHEMA_RESOURCE = "postgres-schema.sql";

    private final AuditConfig.Postgres server;
    private final Duration lockTimeout;
    private final String replica;
    // Days whose partition is known to exist; forgotten on reopen, so a partition detached meanwhile is made again.
    private final Set<LocalDate> partitions = new HashSet<>();

    /**
     * How long a replica's lock may still be held when the store opens. A writer that just closed (a restart, a
     * store reopened) leaves its lock until its server process has exited, which the client does not wait for; a
     * gateway that is really writing the replica holds it for good.
     */
    static final Duration REPLICA_LOCK_GRACE = Duration.ofSeconds(2);

    PostgresSchema(AuditConfig.Postgres server, Duration lockTimeout, String replica) {
        this.server = server;
        this.lockTimeout = lockTimeout;
        this.replica = replica;
    }

    @Override
    public Connection open() throws SQLException, IOException {
        partitions.clear();
        Connection c = connect(server);
        try (Statement s = c.createStatement()) {
            // on is the server default, but a role or database setting may have turned it off; a record is
            // confirmed to the session only once it is flushed to the server's WAL.
            s.execute("SET synchronous_commit = on");
            s.execute("SET lock_timeout = " + Math.max(1, lockTimeout.toMillis()));
            boolean exists;
            try (ResultSet rs = s.executeQuery("SELECT to_regclass('audit_event') IS NOT NULL")) {
                exists = rs.next() && rs.getBoolean(1);
            }
            if (!exists) {
                try {
                    s.execute(schemaSql());
                } catch (SQLException e) {
                    throw new SQLException("audit_event does not exist and role " + server.user()
                            + " cannot create it (" + e.getMessage() + "); create it as in docs/audit-postgres.md", e);
                }
            }
            try (PreparedStatement lock = c.prepareStatement(
                    "SELECT pg_try_advisory_lock(hashtext('phigate.audit.replica'), hashtext(?))")) {
                lock.setString(1, replica);
                long deadline = System.nanoTime() + REPLICA_LOCK_GRACE.toNanos();
                while (!locked(lock)) {
                    if (System.nanoTime() - deadline >= 0) {
                        throw new SQLException("another gateway is writing replica " + replica
                                + " of this store; give each replica its own audit.replica");
                    }
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new SQLException("interrupted while waiting for replica " + replica + "'s lock", e);
                    }
                }
            }
            return c;
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private static boolean locked(PreparedStatement lock) throws SQLException {
        try (ResultSet rs = lock.executeQuery()) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    static Connection connect(AuditConfig.Postgres server) throws SQLException, IOException {
        return StoreConnection.open(server, "phigate-audit");
    }

    static String schemaSql() throws IOException {
        try (InputStream in = PostgresSchema.class.getResourceAsStream(SCHEMA_RESOURCE)) {
            if (in == null) {
                throw new IOException("missing resource " + SCHEMA_RESOURCE);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Override
    public String insert(int rows) {
        return "INSERT INTO audit_event (" + INSERT_COLUMNS + ", event_time)\nVALUES " + AuditSchema.placeholders(rows, columns());
    }

    @Override
    public int columns() {
        return 28;
    }

    @Override
    public void bindExtra(PreparedStatement insert, int base, int index, AuditRow row) throws SQLException {
        insert.setObject(base + 28, OffsetDateTime.parse(row.time()));
    }

    /** Makes sure the partitions for today, tomorrow and every day the rows fall on exist. */
    @Override
    public void beforeGroup(Connection c, List<AuditRow> rows) throws SQLException {
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        Set<LocalDate> days = new TreeSet<>(List.of(today, today.plusDays(1)));
        for (AuditRow row : rows) {
            days.add(OffsetDateTime.parse(row.time()).atZoneSameInstant(ZoneOffset.UTC).toLocalDate());
        }
        days.removeAll(partitions);
        if (days.isEmpty()) {
            return;
        }
        try (PreparedStatement ensure = c.prepareStatement("SELECT audit_event_partition(?)")) {
            for (LocalDate day : days) {
                ensure.setObject(1, day);
                ensure.execute();
                partitions.add(day);
            }
        }
    }

    @Override
    public boolean isContention(SQLException e) {
        // lock_not_available (lock_timeout) and serialization or deadlock failures leave the session usable.
        return "55P03".equals(e.getSQLState()) || "40001".equals(e.getSQLState()) || "40P01".equals(e.getSQLState());
    }
}
