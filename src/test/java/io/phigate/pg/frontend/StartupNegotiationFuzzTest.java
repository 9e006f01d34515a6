package io.phigate.pg.frontend;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.phigate.config.ClientTlsConfig;
import io.phigate.fuzz.FuzzTarget;
import io.phigate.fuzz.InMemorySocket;
import io.phigate.identity.TokenVerifierFuzzTest;
import java.io.IOException;
import java.util.List;

/**
 * A connection's first bytes through SSL/GSSAPI negotiation, the startup packet and the password exchange, over an
 * in-memory socket: any bytes end in a session identity, a {@link HandshakeRefused} (answered to the client) or
 * an IOException (protocol violation, EOF). TLS is offered as unavailable ('N'), as for a gateway without a
 * certificate; the TLS handshake itself is the JDK's.
 */
class StartupNegotiationFuzzTest extends FuzzTarget {
    private static final ClientHandshake HANDSHAKE = new ClientHandshake(
            new ClientTlsConfig(ClientTlsConfig.Mode.ALLOW, null, null, true), null, TokenVerifierFuzzTest.verifier());

    @FuzzTest(maxDuration = FUZZ_DURATION)
    void fuzz(byte[] input) throws Throwable {
        check(input);
    }

    @Override
    protected void exercise(byte[] input) throws Exception {
        InMemorySocket socket = new InMemorySocket(input);
        ClientHandshake.Channel ch = HANDSHAKE.open(socket, System.nanoTime() + 5_000_000_000L, 16 * 1024);
        if (HANDSHAKE.negotiate(ch) instanceof ClientHandshake.Startup startup) {
            HANDSHAKE.checkStartup(ch, startup);
            HANDSHAKE.authenticate(ch, startup);
        }
    }

    @Override
    protected List<Class<? extends Exception>> expected() {
        return List.of(IOException.class, HandshakeRefused.class);
    }
}
