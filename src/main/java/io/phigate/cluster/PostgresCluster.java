package io.phigate.cluster;

import io.phigate.approval.ApprovalBoard;
import io.phigate.approval.Approvals;
import io.phigate.audit.AuditConfig;
import io.phigate.audit.AuditSink;
import io.phigate.audit.AuditUnavailableException;
import io.phigate.audit.PayloadCipher;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replicas sharing one PostgreSQL audit store, coordinated through it (issue 24): a lease and a slot per replica,
 * published live sessions, orders (kill, cancel) from one replica to another, and the approval board. No
 * replica talks to another directly; the store's own authentication and TLS are the only channel (decision 0046).
 */
public final class PostgresCluster implements Cluster, ClusterKeeper.Duties {
    private static final Logger log = LoggerFactory.getLogger(PostgresCluster.class);
    /** How long an admin's kill waits for the other replica to end the session. */
    private static final Duration KILL_WAIT = Duration.ofSeconds(5);
    /** Heartbeats between prunes of finished approval requests. */
    private static final int PRUNE_EVERY = 60;

    /**
     * {@code lease}: how long a replica that stops renewing is still taken for alive (its sessions listed, its held
     * requests pending); {@code heartbeat}: how often it renews, publishes and looks for orders it missed.
     */
    public record Settings(Duration lease, Duration heartbeat) {
        public static final Settings DEFAULTS = new Settings(Duration.ofSeconds(15), Duration.ofSeconds(1));

        public Settings {
            if (heartbeat.isNegative() || heartbeat.isZero() || lease.compareTo(heartbeat.multipliedBy(3)) < 0) {
                throw new IllegalArgumentException("a replica's lease must be at least three heartbeats: lease "
                        + lease + ", heartbeat " + heartbeat);
            }
        }
    }

    private final StorePool store;
    private final String replica;
    private final int slot;
    private final Settings settings;
    private final SharedApprovals board;
    private final AuditSink audit;
    private volatile Approvals approvals;
    private volatile Local local;
    private ClusterKeeper keeper;
    private Thread thread;
    private int beats;

    private PostgresCluster(StorePool store, String replica, int slot, Settings settings, SharedApprovals board,
                            AuditSink audit) {
        this.store = store;
        this.replica = replica;
        this.slot = slot;
        this.settings = settings;
        this.board = board;
        this.audit = audit;
    }

    /**
     * Joins the replicas of {@code config}'s PostgreSQL store as {@code config.replica()}: creates the coordination
     * tables if missing, takes a lease and a slot, and forgets what a previous run of this replica left (its
     * sessions, orders for them, its open approvals). {@code audit} records what the cluster decides on its own
     * (a dead replica's requests expiring).
     */
    public static PostgresCluster join(AuditConfig config, AuditSink audit, Settings settings) throws IOException {
        String replica = config.replica() == null ? AuditConfig.DEFAULT_REPLICA : config.replica();
        PayloadCipher cipher = config.encryption() == null ? null : PayloadCipher.from(config.encryption());
        StorePool store = new StorePool(config.postgres());
        SharedApprovals board = new SharedApprovals(store, replica, cipher);
        try {
            store.inTransaction(c -> {
                Replicas.createSchema(c);
                return null;
            });
            int slot = store.inTransaction(c -> {
                int s = Replicas.join(c, replica, settings.lease());
                PublishedSessions.forget(c, replica);
                board.expireLeftOpen(c);
                return s;
            });
            log.info("replica {} joined the replicas of the shared audit store with slot {}", replica, slot);
            return new PostgresCluster(store, replica, slot, settings, board, audit);
        } catch (SQLException e) {
            store.close();
            throw new IOException("replica " + replica + " cannot join the shared audit store: " + e.getMessage(), e);
        }
    }

    @Override
    public String replica() {
        return replica;
    }

    @Override
    public int slot() {
        return slot;
    }

    @Override
    public ApprovalBoard approvals() {
        return board;
    }

    @Override
    public synchronized void start(Approvals approvals, Local local) {
        this.approvals = approvals;
        this.local = local;
        keeper = new ClusterKeeper(store, replica, settings.heartbeat(), this);
        thread = Thread.ofPlatform().name("phigate-cluster-keeper").daemon().start(keeper);
    }

    @Override
    public void heartbeat() {
        try {
            store.inTransaction(c -> {
                if (!Replicas.renew(c, replica, slot, settings.lease())) {
                    log.error("replica {} lost its lease and slot {} (it could not renew for {}); restart it so its"
                            + " cancel keys are its own again", replica, slot, settings.lease());
                }
                PublishedSessions.publish(c, replica, local.sessions(), settings.lease());
                return null;
            });
            board.expireOrphans(audit);
            if (++beats % PRUNE_EVERY == 0) {
                board.prune();
            }
        } catch (SQLException | AuditUnavailableException e) {
            log.warn("replica {}: heartbeat on the shared store failed: {}", replica, e.getMessage());
        }
    }

    @Override
    public void takeOrders() {
        List<Orders.Order> orders;
        try {
            orders = store.inTransaction(c -> Orders.take(c, replica));
        } catch (SQLException e) {
            log.warn("replica {}: cannot take orders from the shared store: {}", replica, e.getMessage());
            return;
        }
        for (Orders.Order o : orders) {
            if (Orders.CANCEL.equals(o.kind())) {
                local.cancel(o.processId(), o.secret(), o.clientAddress());
            } else {
                // Off the keeper thread: a session whose client stopped reading must not hold up heartbeats.
                Thread.ofVirtual().name("cluster-kill-" + o.sessionId()).start(() -> {
                    local.kill(o.sessionId());
                    unpublish(o.sessionId());
                });
            }
        }
    }

    private void unpublish(String sessionId) {
        try {
            store.inTransaction(c -> {
                PublishedSessions.remove(c, sessionId);
                return null;
            });
        } catch (SQLException e) {
            log.warn("replica {}: cannot unpublish session {}: {}", replica, sessionId, e.getMessage());
        }
    }

    @Override
    public void catchUpApprovals(boolean notified) {
        approvals.catchUp();
        if (notified) {
            approvals.changedElsewhere();
        }
    }

    @Override
    public List<PublishedSession> sessionsElsewhere() {
        try {
            return store.inTransaction(c -> PublishedSessions.others(c, replica));
        } catch (SQLException e) {
            log.warn("replica {}: cannot read other replicas' sessions: {}", replica, e.getMessage());
            return List.of();
        }
    }

    @Override
    public boolean kill(String sessionId) {
        try {
            String holder = store.inTransaction(c -> {
                String h = PublishedSessions.holderOf(c, sessionId, replica);
                if (h != null) {
                    Orders.post(c, h, new Orders.Order(Orders.KILL, sessionId, 0, null, null));
                }
                return h;
            });
            if (holder == null) {
                return false;
            }
            long deadline = System.nanoTime() + KILL_WAIT.toNanos();
            while (System.nanoTime() - deadline < 0) {
                if (!store.inTransaction(c -> PublishedSessions.published(c, sessionId))) {
                    return true;
                }
                Thread.sleep(50);
            }
            return false;
        } catch (SQLException e) {
            log.warn("replica {}: cannot order session {} killed: {}", replica, sessionId, e.getMessage());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public boolean forwardCancel(int processId, byte[] secret, String clientAddress) {
        int owner = processId >>> SLOT_SHIFT;
        if (owner == 0 || owner == slot) {
            return false;
        }
        try {
            return store.inTransaction(c -> {
                String holder = Replicas.holderOf(c, owner);
                if (holder != null) {
                    Orders.post(c, holder, new Orders.Order(Orders.CANCEL, null, processId, secret, clientAddress));
                }
                return holder != null;
            });
        } catch (SQLException e) {
            log.warn("replica {}: cannot pass on a cancel to slot {}: {}", replica, owner, e.getMessage());
            return false;
        }
    }

    @Override
    public synchronized void close() {
        if (keeper != null) {
            keeper.stop();
            try {
                thread.join(settings.heartbeat().toMillis() * 2 + 1_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            store.inTransaction(c -> {
                Replicas.leave(c, replica);
                PublishedSessions.forget(c, replica);
                return null;
            });
        } catch (SQLException e) {
            log.warn("replica {}: could not give up its lease; it runs out in {}", replica, settings.lease());
        }
        store.close();
    }
}
