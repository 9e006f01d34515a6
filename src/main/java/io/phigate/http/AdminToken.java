package io.phigate.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local admin token (decision 0027): 32 random bytes drawn at each start, written to
 * {@code http.admin_token_file} readable by the gateway's own OS user only, and accepted as
 * {@code Authorization: Bearer} on the admin API. Whoever can read the file can already read the gateway's
 * config and keys, so it grants nothing new to them and nothing at all to anyone else; a restart replaces it.
 */
final class AdminToken implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AdminToken.class);
    /** Tells it apart from a JWT at a glance (no dots) and in a leaked log line. */
    static final String PREFIX = "phigate-admin-";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path file;
    private final String token;

    AdminToken(Path file) {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        this.file = file;
        this.token = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /**
     * Writes the file: created owner-only under a temporary name, then renamed over the old one, so the token is
     * never readable by others, not even briefly, and a link planted at the name is replaced rather than followed.
     */
    void publish() throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temp;
        if (Files.getFileStore(dir).supportsFileAttributeView("posix")) {
            temp = Files.createTempFile(dir, ".admin-token-", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } else {
            temp = Files.createTempFile(dir, ".admin-token-", ".tmp");
        }
        try {
            Files.writeString(temp, token + "\n", StandardCharsets.UTF_8);
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
        log.info("admin API token written to {} (owner-only; the CLI reads it there)", file);
    }

    /** Constant-time, so the comparison leaks nothing of the token through timing. */
    boolean matches(String presented) {
        return presented != null && MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8),
                presented.getBytes(StandardCharsets.UTF_8));
    }

    Path file() {
        return file;
    }

    /** Removes the file, unless another gateway has written its own token there since. */
    @Override
    public void close() {
        try {
            if (Files.isRegularFile(file) && matches(Files.readString(file, StandardCharsets.UTF_8).strip())) {
                Files.delete(file);
            }
        } catch (IOException e) {
            log.warn("could not remove the admin token file {}: {}", file, e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "AdminToken[" + file + "]";
    }
}
