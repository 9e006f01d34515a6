package io.phigate.identity;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * A local token issuer for development, tests and the demo: generate a signing key, and mint tokens with it.
 * Production agents get their tokens from a real issuer (an OIDC provider, or the Kubernetes API server).
 */
public final class KeyTool {
    public static final String PRIVATE_KEY_FILE = "signing-key.jwk";
    public static final String JWKS_FILE = "jwks.json";

    // The claims mint sets itself; letting extra claims replace them would make the ttl and audience
    // arguments lie.
    private static final Set<String> REGISTERED = Set.of("iss", "sub", "aud", "exp", "nbf", "iat", "jti");

    private static final SecureRandom RANDOM = new SecureRandom();

    private KeyTool() {
    }

    /** Same as {@code generate(dir, false)}: refuses to replace an existing key. */
    public static Path generate(Path dir) throws IOException {
        return generate(dir, false);
    }

    /**
     * Writes a new EC P-256 private key as {@code dir/signing-key.jwk} (owner-only where the file system has
     * POSIX permissions) and its public half as the key set {@code dir/jwks.json}.
     *
     * @param force replace an existing key; without it an existing key is an error, because losing a signing
     *              key silently invalidates every token minted with it
     * @return the private key file
     * @throws FileAlreadyExistsException if the key exists and {@code force} is false
     */
    public static Path generate(Path dir, boolean force) throws IOException {
        Files.createDirectories(dir);
        Path privateFile = dir.resolve(PRIVATE_KEY_FILE);
        Path jwksFile = dir.resolve(JWKS_FILE);
        if (!force && Files.exists(privateFile)) {
            throw new FileAlreadyExistsException(privateFile.toString(), null, "a signing key already exists; use --force to replace it");
        }
        ECKey key;
        try {
            key = new ECKeyGenerator(Curve.P_256)
                    .keyID(randomKeyId())
                    .keyUse(KeyUse.SIGNATURE)
                    .algorithm(JWSAlgorithm.ES256)
                    .generate();
        } catch (JOSEException e) {
            throw new IOException("cannot generate an EC P-256 key: " + e.getMessage(), e);
        }
        writeOwnerOnly(privateFile, key.toJSONString());
        writeAtomically(jwksFile, new JWKSet(key.toPublicJWK()).toString(true), false);
        return privateFile;
    }

    /**
     * Mints a compact JWS: ES256/ES384/ES512 for an EC key (by curve), RS256 for an RSA key unless the key
     * names another RSA algorithm. Sets {@code iat}, {@code nbf} (now), {@code exp} (now + ttl), a random
     * {@code jti}, and the key's {@code kid} in the header.
     *
     * @param extraClaims further claims; they may not replace the registered ones (iss, sub, aud, exp, nbf,
     *                    iat, jti)
     */
    public static String mint(Path privateJwk, String issuer, String subject, List<String> audience, Duration ttl,
                              Map<String, Object> extraClaims) throws IOException {
        if (ttl == null || ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("ttl must be positive");
        }
        if (audience == null || audience.isEmpty()) {
            throw new IllegalArgumentException("at least one audience is required");
        }
        JWK jwk;
        try {
            jwk = JWK.parse(Files.readString(privateJwk, StandardCharsets.UTF_8));
        } catch (ParseException e) {
            throw new IOException("cannot read private JWK " + privateJwk + ": " + e.getMessage(), e);
        }
        if (!jwk.isPrivate()) {
            throw new IOException(privateJwk + " holds a public key; minting needs the private key");
        }

        JWSAlgorithm alg;
        JWSSigner signer;
        try {
            switch (jwk) {
                case ECKey ec -> {
                    alg = ecAlgorithm(ec.getCurve(), privateJwk);
                    signer = new ECDSASigner(ec);
                }
                case RSAKey rsa -> {
                    alg = rsa.getAlgorithm() instanceof JWSAlgorithm a && JWSAlgorithm.Family.RSA.contains(a)
                            ? a : JWSAlgorithm.RS256;
                    signer = new RSASSASigner(rsa);
                }
                default -> throw new IOException(privateJwk + ": unsupported key type " + jwk.getKeyType()
                        + "; use an EC (P-256/384/521) or RSA key");
            }
        } catch (JOSEException e) {
            throw new IOException("cannot sign with " + privateJwk + ": " + e.getMessage(), e);
        }

        Instant now = Instant.now();
        var claims = new JWTClaimsSet.Builder()
                .issuer(issuer)
                .subject(subject)
                .audience(audience)
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plus(ttl)))
                .jwtID(UUID.randomUUID().toString());
        if (extraClaims != null) {
            for (var e : extraClaims.entrySet()) {
                if (REGISTERED.contains(e.getKey())) {
                    throw new IllegalArgumentException("claim " + e.getKey() + " is set by mint itself");
                }
                claims.claim(e.getKey(), e.getValue());
            }
        }
        var header = new JWSHeader.Builder(alg).type(JOSEObjectType.JWT).keyID(jwk.getKeyID()).build();
        SignedJWT jwt = new SignedJWT(header, claims.build());
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IOException("cannot sign with " + privateJwk + ": " + e.getMessage(), e);
        }
        return jwt.serialize();
    }

    private static JWSAlgorithm ecAlgorithm(Curve curve, Path file) throws IOException {
        if (Curve.P_256.equals(curve)) {
            return JWSAlgorithm.ES256;
        } else if (Curve.P_384.equals(curve)) {
            return JWSAlgorithm.ES384;
        } else if (Curve.P_521.equals(curve)) {
            return JWSAlgorithm.ES512;
        }
        throw new IOException(file + ": unsupported EC curve " + curve);
    }

    private static String randomKeyId() {
        byte[] bytes = new byte[12];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static void writeOwnerOnly(Path target, String content) throws IOException {
        writeAtomically(target, content, true);
    }

    /**
     * Writes to a temporary file in the same directory and renames it into place, so a crash never leaves a
     * half-written key. A private key's temporary file is created owner-only, so it is never readable by
     * others, not even for a moment.
     */
    private static void writeAtomically(Path target, String content, boolean ownerOnly) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        boolean posix = Files.getFileStore(dir).supportsFileAttributeView("posix");
        Path tmp = ownerOnly && posix
                ? Files.createTempFile(dir, "." + target.getFileName(), ".tmp",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                : Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
        try {
            Files.writeString(tmp, content, StandardCharsets.UTF_8);
            if (!ownerOnly && posix) {
                // createTempFile makes files owner-only; the public key set is meant to be read by others.
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
