package io.phigate.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The checkpoint signing key: Ed25519 (default) or ECDSA P-256, as PEM PKCS#8 (private) and PEM SubjectPublicKeyInfo
 * ({@code KEY.pub}, public). The public file is what an auditor needs to verify offline.
 */
public final class CheckpointKeys {
    private CheckpointKeys() {
    }

    /** Writes {@code file} (private, owner-only) and {@code file.pub}; refuses to overwrite. */
    public static void generate(Path file) throws IOException, GeneralSecurityException {
        if (Files.exists(file)) {
            throw new IOException(file + " exists; refusing to overwrite a signing key");
        }
        KeyPair kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Files.writeString(file, pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException ignored) {
            // not a POSIX file system
        }
        Files.writeString(publicFile(file), pem("PUBLIC KEY", kp.getPublic().getEncoded()));
    }

    public static Path publicFile(Path privateFile) {
        return privateFile.resolveSibling(privateFile.getFileName() + ".pub");
    }

    public static PrivateKey readPrivate(Path file) throws IOException, GeneralSecurityException {
        byte[] der = der(file, "PRIVATE KEY");
        for (String algorithm : new String[]{"Ed25519", "EC"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next
            }
        }
        throw new GeneralSecurityException(file + " is neither an Ed25519 nor an EC private key");
    }

    public static PublicKey readPublic(Path file) throws IOException, GeneralSecurityException {
        byte[] der = der(file, "PUBLIC KEY");
        for (String algorithm : new String[]{"Ed25519", "EC"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next
            }
        }
        throw new GeneralSecurityException(file + " is neither an Ed25519 nor an EC public key");
    }

    /** A short name for a public key: the first 4 bytes of SHA-256 over its encoding, hex. */
    public static String keyId(PublicKey key) throws GeneralSecurityException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getEncoded()), 0, 4);
    }

    static Signature signature(String keyAlgorithm) throws GeneralSecurityException {
        return Signature.getInstance(keyAlgorithm.equals("EC") ? "SHA256withECDSA" : "Ed25519");
    }

    public static byte[] sign(PrivateKey key, byte[] body) throws GeneralSecurityException {
        Signature s = signature(key.getAlgorithm());
        s.initSign(key);
        s.update(body);
        return s.sign();
    }

    public static boolean verify(PublicKey key, byte[] body, byte[] signature) {
        try {
            Signature s = signature(key.getAlgorithm());
            s.initVerify(key);
            s.update(body);
            return s.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static byte[] der(Path file, String type) throws IOException, GeneralSecurityException {
        String pem = Files.readString(file, StandardCharsets.US_ASCII);
        String begin = "-----BEGIN " + type + "-----";
        String end = "-----END " + type + "-----";
        int b = pem.indexOf(begin);
        int e = pem.indexOf(end);
        if (b < 0 || e < b) {
            throw new GeneralSecurityException(file + " is not a PEM " + type);
        }
        return Base64.getMimeDecoder().decode(pem.substring(b + begin.length(), e));
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }
}
