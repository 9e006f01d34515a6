package io.phigate.identity;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/**
 * One trusted token issuer. Exactly one key source is set: a JWKS file, a JWKS URL, or OIDC discovery from
 * the issuer URL. {@code algorithms} pins the JWS algorithms accepted from this issuer.
 */
public record IssuerConfig(String issuer, List<String> audiences, Path jwksFile, URI jwksUrl, boolean discovery,
                           List<String> algorithms) {
    public static final List<String> DEFAULT_ALGORITHMS = List.of("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA");
}
