package io.phigate.audit;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;

/**
 * A signed statement of one replica's log: its Merkle tree size and root at a time. The signed body is a
 * C2SP-style note, readable and checkable with nothing but the public key:
 *
 * <pre>
 * phigate audit log/REPLICA
 * TREE_SIZE
 * BASE64(ROOT)
 * TIME
 * </pre>
 *
 * followed by a blank line and {@code — phigate KEYID BASE64(SIGNATURE)}.
 */
public record Checkpoint(String replica, long treeSize, byte[] root, Instant time, String keyId, byte[] signature) {

    public static final String ORIGIN_PREFIX = "phigate audit log/";

    /** The exact bytes that are signed. */
    public static byte[] body(String replica, long treeSize, byte[] root, Instant time) {
        return (ORIGIN_PREFIX + replica + "\n" + treeSize + "\n" + Base64.getEncoder().encodeToString(root) + "\n"
                + time + "\n").getBytes(StandardCharsets.UTF_8);
    }

    public byte[] body() {
        return body(replica, treeSize, root, time);
    }

    public String rootHex() {
        return HexFormat.of().formatHex(root);
    }

    /** The note as shipped to write-once storage: body, blank line, signature line. */
    public String note() {
        return new String(body(), StandardCharsets.UTF_8) + "\n\u2014 phigate " + keyId + " "
                + Base64.getEncoder().encodeToString(signature) + "\n";
    }

    /** Parses one note as written by {@link #note()}. */
    public static Checkpoint parse(String note) {
        String[] lines = note.split("\n", -1);
        if (lines.length < 6 || !lines[0].startsWith(ORIGIN_PREFIX) || !lines[4].isEmpty()
                || !lines[5].startsWith("\u2014 phigate ")) {
            throw new IllegalArgumentException("not a phigate checkpoint note");
        }
        String[] sig = lines[5].substring("\u2014 phigate ".length()).split(" ");
        if (sig.length != 2) {
            throw new IllegalArgumentException("malformed checkpoint signature line");
        }
        return new Checkpoint(lines[0].substring(ORIGIN_PREFIX.length()), Long.parseLong(lines[1]),
                Base64.getDecoder().decode(lines[2]), Instant.parse(lines[3]), sig[0], Base64.getDecoder().decode(sig[1]));
    }

    @Override
    public String toString() {
        return "Checkpoint[replica=" + replica + ", size=" + treeSize + ", root=" + rootHex() + ", time=" + time + "]";
    }
}
