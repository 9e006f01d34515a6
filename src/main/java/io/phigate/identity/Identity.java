package io.phigate.identity;

import java.time.Instant;
import java.util.Map;

/**
 * Who is speaking, fixed from a verified token. {@code subject} is the token's {@code sub}; for a Kubernetes
 * projected service-account token it is {@code system:serviceaccount:NAMESPACE:NAME}. {@code attributes} holds
 * the claims later components match on (namespace, service account, pod, groups), flattened to strings.
 * {@code claimsDigest} is the SHA-256 (hex) of the token's claims set, so records can prove which claims were
 * seen without storing the token.
 */
public record Identity(String issuer, String subject, Instant expiresAt, String claimsDigest,
                       Map<String, String> attributes) {
}
