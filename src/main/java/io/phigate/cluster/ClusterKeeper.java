package io.phigate.cluster;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replica's one background thread for the cluster: it LISTENs on the store and wakes on a NOTIFY or every
 * heartbeat, whichever comes first. On a heartbeat it renews the lease, publishes the live sessions and expires
 * dead replicas' requests; on an order for this replica it takes it; on a decision it brings it to the requests
 * held here. Every heartbeat does all three, so a notification lost in a reconnect costs one heartbeat at most.
 */
final class ClusterKeeper implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(ClusterKeeper.class);
    private static final String CHANNEL = "phigate_cluster";

    /** What the keeper does; {@link PostgresCluster} implements it. */
    interface Duties {
        void heartbeat();

        void takeOrders();

        void catchUpApprovals(boolean notified);
    }

    private final StorePool store;
    private final String replica;
    private final Duration heartbeat;
    private final Duties duties;
    private volatile boolean stopped;

    ClusterKeeper(StorePool store, String replica, Duration heartbeat, Duties duties) {
        this.store = store;
        this.replica = replica;
        this.heartbeat = heartbeat;
        this.duties = duties;
    }

    void stop() {
        stopped = true;
    }

    @Override
    public void run() {
        while (!stopped) {
            try (Connection listen = store.open("phigate-cluster-listen")) {
                try (Statement s = listen.createStatement()) {
                    s.execute("LISTEN " + CHANNEL);
                }
                PGConnection pg = listen.unwrap(PGConnection.class);
                long nextBeat = System.nanoTime();
                while (!stopped) {
                    long wait = Math.max(1, (nextBeat - System.nanoTime()) / 1_000_000);
                    PGNotification[] notes = pg.getNotifications((int) Math.min(wait, Integer.MAX_VALUE));
                    boolean orders = false;
                    boolean decisions = false;
                    for (PGNotification n : notes == null ? new PGNotification[0] : notes) {
                        orders |= n.getParameter().equals("order:" + replica);
                        decisions |= n.getParameter().equals("approval");
                    }
                    if (System.nanoTime() - nextBeat >= 0) {
                        duties.heartbeat();
                        nextBeat = System.nanoTime() + heartbeat.toNanos();
                        orders = true;
                        duties.catchUpApprovals(decisions);
                    } else if (decisions) {
                        duties.catchUpApprovals(true);
                    }
                    if (orders) {
                        duties.takeOrders();
                    }
                }
            } catch (SQLException | RuntimeException e) {
                if (!stopped) {
                    log.warn("replica {}: lost the shared store's notifications, reconnecting: {}", replica,
                            e.getMessage());
                    sleep();
                }
            }
        }
    }

    private void sleep() {
        try {
            Thread.sleep(heartbeat.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopped = true;
        }
    }
}
