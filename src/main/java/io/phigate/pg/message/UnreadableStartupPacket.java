package io.phigate.pg.message;

import java.io.IOException;

/**
 * A startup packet that cannot be read at all: a length outside 8 to {@link FrameReader#MAX_STARTUP_PACKET}, a
 * packet the client stopped sending part way, a cancel request of the wrong size. PostgreSQL answers none of these
 * (its {@code ProcessStartupPacket} logs them as COMMERROR, which goes to the server log only, and closes), so the
 * gateway closes without a word too and writes the reason to its audit store instead.
 */
public final class UnreadableStartupPacket extends IOException {
    public UnreadableStartupPacket(String message) {
        super(message);
    }
}
