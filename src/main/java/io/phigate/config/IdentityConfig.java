package io.phigate.config;

import java.time.Duration;
import java.util.List;

/** Token verification. {@code sessionGrace} is how long a session may outlive its token's expiry. */
public record IdentityConfig(List<IssuerConfig> issuers, Duration clockSkew, Duration sessionGrace) {
}
