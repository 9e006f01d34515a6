package io.phigate.identity;

import io.phigate.config.IdentityConfig;

/** Placeholder until implemented. */
public final class TokenVerifier {
    public TokenVerifier(IdentityConfig config) {
    }

    public Identity verify(String token) throws TokenRejectedException {
        throw new TokenRejectedException("not implemented");
    }
}
