package io.phigate.cluster;

import io.phigate.audit.AuditConfig;
import io.phigate.audit.StoreConnection;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A few connections to the shared store for the coordination's short transactions (a vote, an order, a
 * heartbeat), used by any thread. A connection that failed is closed rather than handed out again.
 */
final class StorePool implements AutoCloseable {
    private static final int SIZE = 4;

    /** Work inside one transaction; it commits when the work returns and rolls back when it throws. */
    interface Work<T, E extends Exception> {
        T run(Connection c) throws SQLException, E;
    }

    private final AuditConfig.Postgres server;
    private final ArrayBlockingQueue<Connection> idle = new ArrayBlockingQueue<>(SIZE);
    private final Semaphore permits = new Semaphore(SIZE);
    private volatile boolean closed;

    StorePool(AuditConfig.Postgres server) {
        this.server = server;
    }

    /** A connection of its own (the keeper's LISTEN), not from the pool. */
    Connection open(String applicationName) throws SQLException {
        try {
            return StoreConnection.open(server, applicationName);
        } catch (IOException e) {
            throw new SQLException("cannot read the audit store's password: " + e.getMessage(), e);
        }
    }

    <T, E extends Exception> T inTransaction(Work<T, E> work) throws SQLException, E {
        try {
            if (!permits.tryAcquire(10, TimeUnit.SECONDS)) {
                throw new SQLException("no connection to the shared store came free within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while waiting for a connection to the shared store", e);
        }
        Connection c = null;
        boolean committed = false;
        try {
            c = idle.poll();
            if (c == null) {
                c = open("phigate-cluster");
            }
            c.setAutoCommit(false);
            T out = work.run(c);
            c.commit();
            committed = true;
            return out;
        } finally {
            if (c != null && (!committed || closed || !idle.offer(c))) {
                discard(c);
            }
            permits.release();
        }
    }

    private static void discard(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // closing anyway
        }
        try {
            c.close();
        } catch (SQLException ignored) {
            // gone already
        }
    }

    @Override
    public void close() {
        closed = true;
        Connection c;
        while ((c = idle.poll()) != null) {
            discard(c);
        }
    }
}
