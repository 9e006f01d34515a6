package io.phigate.cluster;

import java.time.Instant;

/**
 * A live session as its replica publishes it for the others: who, where to, since when, how many statements. No
 * statement text and no values: what an admin on another replica needs to find and end it.
 */
public record PublishedSession(String id, String replica, String issuer, String subject, String upstream,
                               String clientAddress, Instant startedAt, Instant tokenExpiresAt, long statements) {
}
