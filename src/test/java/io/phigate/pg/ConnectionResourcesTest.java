package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.credentials.EphemeralRoles;
import io.phigate.identity.Identity;
import io.phigate.session.LiveSession;
import io.phigate.session.SessionRegistry;
import java.io.IOException;
import java.net.Socket;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import org.junit.jupiter.api.Test;

/** The one owner of what a connection holds, without a network: every release runs, whatever the others did. */
class ConnectionResourcesTest {
    private final SessionRegistry registry = new SessionRegistry(1);
    private final Semaphore handshakes = new Semaphore(1);
    private final List<String> adminUpstreams = new CopyOnWriteArrayList<>();
    /** The administrative connection cannot be opened: the session user cannot be dropped now. */
    private final EphemeralRoles roles = new EphemeralRoles("test", upstream -> {
        adminUpstreams.add(upstream);
        throw new IOException("upstream down");
    });

    @Test
    void closingReleasesTheSlotTheEntryThePermitAndTheSocketEvenWhenTheUserCannotBeDroppedNow() {
        Socket socket = new Socket();
        ConnectionResources held = new ConnectionResources(socket, registry, roles, handshakes);
        assertThat(held.enterHandshake()).isTrue();
        assertThat(held.reserveSlot()).isTrue();
        held.hold(new EphemeralRoles.Lease("clinical", "phigate_e_0123456789ab", "secret"));
        held.register(session());

        held.close();

        assertThat(adminUpstreams).as("the drop was attempted").containsExactly("clinical");
        assertThat(registry.size()).isZero();
        assertThat(registry.reserve()).as("the slot is free").isTrue();
        assertThat(handshakes.availablePermits()).isEqualTo(1);
        assertThat(socket.isClosed()).isTrue();
    }

    @Test
    void aPermitReturnedWhenTheSessionStartedIsNotReturnedTwice() {
        ConnectionResources held = new ConnectionResources(new Socket(), registry, roles, handshakes);
        assertThat(held.enterHandshake()).isTrue();
        held.handshakeDone();
        assertThat(handshakes.availablePermits()).isEqualTo(1);
        held.close();
        assertThat(handshakes.availablePermits()).isEqualTo(1);
    }

    @Test
    void aConnectionRefusedAHandshakePermitGivesNoneBack() {
        assertThat(handshakes.tryAcquire()).isTrue();
        ConnectionResources held = new ConnectionResources(new Socket(), registry, roles, handshakes);
        assertThat(held.enterHandshake()).isFalse();
        held.close();
        assertThat(handshakes.availablePermits()).isZero();
    }

    @Test
    void aConnectionThatTookNoSlotReleasesNone() {
        assertThat(registry.reserve()).isTrue();
        ConnectionResources held = new ConnectionResources(new Socket(), registry, roles, handshakes);
        assertThat(held.reserveSlot()).isFalse();
        held.close();
        assertThat(registry.reserve()).as("the other connection's slot is still taken").isFalse();
    }

    private static LiveSession session() {
        return new LiveSession() {
            @Override
            public String id() {
                return "s1";
            }

            @Override
            public Identity identity() {
                return null;
            }

            @Override
            public String upstream() {
                return "clinical";
            }

            @Override
            public String clientAddress() {
                return "127.0.0.1:1";
            }

            @Override
            public Instant startedAt() {
                return Instant.EPOCH;
            }

            @Override
            public long statements() {
                return 0;
            }

            @Override
            public void terminate(String sqlState, String message) {
            }
        };
    }
}
