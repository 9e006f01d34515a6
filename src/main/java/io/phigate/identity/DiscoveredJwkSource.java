package io.phigate.identity;

import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jose.util.JSONObjectUtils;
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.text.ParseException;
import java.util.List;
import java.util.Map;

/**
 * Finds an issuer's keys through OpenID Connect discovery, lazily: the gateway must start even when the
 * issuer is briefly unreachable, so the discovery document is fetched by the first session thread that needs
 * a key; others wait on the lock. After a failure, callers get the same failure for a short while instead
 * of each refetching.
 */
final class DiscoveredJwkSource implements JWKSource<SecurityContext> {
    private static final long RETRY_AFTER_FAILURE_NANOS = 10_000_000_000L;
    private static final int CONNECT_TIMEOUT_MS = 2_000;
    private static final int READ_TIMEOUT_MS = 2_000;
    private static final int SIZE_LIMIT_BYTES = 256 * 1024;

    private final String issuer;
    private final URL discoveryUrl;
    private volatile JWKSource<SecurityContext> keys;
    private long failedAtNanos;
    private String failure;

    DiscoveredJwkSource(String issuer) {
        this.issuer = issuer;
        String base = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
        this.discoveryUrl = TrustedIssuer.requireSafeUrl(URI.create(base + "/.well-known/openid-configuration"),
                "issuer " + issuer + ": discovery");
    }

    @Override
    public List<JWK> get(JWKSelector selector, SecurityContext context) throws KeySourceException {
        JWKSource<SecurityContext> resolved = keys;
        if (resolved == null) {
            resolved = resolve();
        }
        return resolved.get(selector, context);
    }

    private synchronized JWKSource<SecurityContext> resolve() throws KeySourceException {
        if (keys != null) {
            return keys;
        }
        if (failure != null && System.nanoTime() - failedAtNanos < RETRY_AFTER_FAILURE_NANOS) {
            throw new KeySourceException(failure);
        }
        try {
            keys = TrustedIssuer.remote(jwksUri());
            failure = null;
            return keys;
        } catch (KeySourceException e) {
            failure = e.getMessage();
            failedAtNanos = System.nanoTime();
            throw e;
        }
    }

    private URL jwksUri() throws KeySourceException {
        Map<String, Object> document;
        try {
            var retriever = new DefaultResourceRetriever(CONNECT_TIMEOUT_MS, READ_TIMEOUT_MS, SIZE_LIMIT_BYTES);
            document = JSONObjectUtils.parse(retriever.retrieveResource(discoveryUrl).getContent());
        } catch (IOException | ParseException e) {
            throw new KeySourceException("cannot fetch discovery document " + discoveryUrl + ": " + e.getMessage(), e);
        }
        try {
            // OpenID Connect Discovery 1.0 section 4.3: the document must name exactly the issuer we asked
            // about, or a compromised or misrouted document could hand us someone else's keys.
            String documentIssuer = JSONObjectUtils.getString(document, "issuer");
            if (!issuer.equals(documentIssuer)) {
                throw new KeySourceException("discovery document " + discoveryUrl + " names issuer "
                        + documentIssuer + ", expected " + issuer);
            }
            String jwksUri = JSONObjectUtils.getString(document, "jwks_uri");
            if (jwksUri == null) {
                throw new KeySourceException("discovery document " + discoveryUrl + " has no jwks_uri");
            }
            return TrustedIssuer.requireSafeUrl(URI.create(jwksUri), "issuer " + issuer + ": jwks_uri");
        } catch (ParseException | IllegalArgumentException e) {
            throw new KeySourceException("discovery document " + discoveryUrl + " is invalid: " + e.getMessage(), e);
        }
    }
}
