package io.phigate.audit.merkle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The public RFC 9162 vectors from transparency-dev/merkle (see src/test/resources/merkle/README.md). */
class RfcVectorsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Upstream accepts two equal 12-byte "roots" for equal sizes; we refuse any root that is not a
     * SHA-256 hash before comparing, which is stricter and still fails closed.
     */
    private static final String STRICTER_THAN_UPSTREAM = "sizes are equal (one) and proof is empty";

    static Stream<Arguments> inclusionVectors() {
        return lines("merkle/inclusion.jsonl").stream().map(v -> Arguments.of(v.get("source").asText(), v));
    }

    static Stream<Arguments> consistencyVectors() {
        return lines("merkle/consistency.jsonl").stream().map(v -> Arguments.of(v.get("source").asText(), v));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("inclusionVectors")
    void inclusionVectorVerifiesExactlyWhenUpstreamSaysItShould(String source, JsonNode v) {
        long index = unsigned(v.has("leafIdx") ? v.get("leafIdx") : v.get("leafIndex"));
        InclusionProof proof = new InclusionProof(index, unsigned(v.get("treeSize")), hashes(v.get("proof")));
        byte[] leaf = bytes(v.get("leafHash"));
        byte[] root = bytes(v.get("root"));

        if (v.get("wantErr").asBoolean()) {
            MerkleException e = catchThrowableOfType(MerkleException.class, () -> proof.verify(leaf, root));
            assertThat(e).as(source).isNotNull();
            assertThat(e.reason()).isNotNull();
        } else {
            assertThatCode(() -> proof.verify(leaf, root)).as(source).doesNotThrowAnyException();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("consistencyVectors")
    void consistencyVectorVerifiesExactlyWhenUpstreamSaysItShould(String source, JsonNode v) {
        ConsistencyProof proof = new ConsistencyProof(
                unsigned(v.get("size1")), unsigned(v.get("size2")), hashes(v.get("proof")));
        byte[] root1 = bytes(v.get("root1"));
        byte[] root2 = bytes(v.get("root2"));

        if (v.get("desc").asText().equals(STRICTER_THAN_UPSTREAM)) {
            assertThat(v.get("wantErr").asBoolean()).isFalse();
            MerkleException e = catchThrowableOfType(MerkleException.class, () -> proof.verify(root1, root2));
            assertThat(e.reason()).isEqualTo(MerkleException.Reason.MALFORMED_HASH);
        } else if (v.get("wantErr").asBoolean()) {
            MerkleException e = catchThrowableOfType(MerkleException.class, () -> proof.verify(root1, root2));
            assertThat(e).as(source).isNotNull();
        } else {
            assertThatCode(() -> proof.verify(root1, root2)).as(source).doesNotThrowAnyException();
        }
    }

    /** Our generator must produce upstream's happy-path proofs byte for byte from the reference leaves. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("inclusionVectors")
    void generatedInclusionProofEqualsUpstreamHappyPath(String source, JsonNode v) {
        if (!source.matches("testdata/inclusion/\\d/happy-path.json")) {
            return;
        }
        List<byte[]> leaves = ReferenceTree.leafHashes();
        long index = v.get("leafIdx").asLong();
        InclusionProof generated = MerkleTree.inclusionProof(leaves, index, v.get("treeSize").asLong());
        assertThat(leaves.get((int) index)).isEqualTo(bytes(v.get("leafHash")));
        assertThat(generated).isEqualTo(new InclusionProof(index, v.get("treeSize").asLong(), hashes(v.get("proof"))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("consistencyVectors")
    void generatedConsistencyProofEqualsUpstreamHappyPath(String source, JsonNode v) {
        if (!source.matches("testdata/consistency/\\d/happy-path.json")) {
            return;
        }
        long oldSize = v.get("size1").asLong();
        long newSize = v.get("size2").asLong();
        ConsistencyProof generated = MerkleTree.consistencyProof(ReferenceTree.leafHashes(), oldSize, newSize);
        assertThat(generated).isEqualTo(new ConsistencyProof(oldSize, newSize, hashes(v.get("proof"))));
    }

    @Test
    void everyVectorFileIsRead() {
        assertThat(lines("merkle/inclusion.jsonl")).hasSize(98);
        assertThat(lines("merkle/consistency.jsonl")).hasSize(98);
    }

    @Test
    void rootOfEveryPrefixOfTheReferenceTreeMatches() {
        List<byte[]> leaves = ReferenceTree.leafHashes();
        CompactRange range = new CompactRange();
        for (int size = 0; size <= 8; size++) {
            byte[] expected = ReferenceTree.root(size);
            assertThat(MerkleTree.rootOf(leaves.subList(0, size))).as("rootOf size %d", size).isEqualTo(expected);
            assertThat(range.root()).as("CompactRange size %d", size).isEqualTo(expected);
            if (size < 8) {
                range.append(leaves.get(size));
            }
        }
    }

    @Test
    void emptyTreeRootIsSha256OfNothing() {
        assertThat(HexFormat.of().formatHex(MerkleHash.emptyRoot()))
                .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assertThat(MerkleTree.rootOf(List.of())).isEqualTo(MerkleHash.emptyRoot());
    }

    /** The 8-leaf tree of RFC 6962/9162 implementations, from reference-tree.txt. */
    static final class ReferenceTree {
        private static final List<String> LINES = text("merkle/reference-tree.txt");

        static List<byte[]> leafHashes() {
            List<byte[]> out = new ArrayList<>();
            for (String line : LINES) {
                if (line.startsWith("leaf ")) {
                    String[] f = line.split(" ", -1);
                    out.add(MerkleHash.leafHash(HexFormat.of().parseHex(f[2])));
                }
            }
            return out;
        }

        static byte[] root(int size) {
            return LINES.stream()
                    .filter(l -> l.startsWith("root " + size + " "))
                    .map(l -> HexFormat.of().parseHex(l.split(" ")[2]))
                    .findFirst()
                    .orElseThrow();
        }
    }

    private static long unsigned(JsonNode n) {
        return n.bigIntegerValue().longValue(); // 2^64-1 becomes -1: upstream's uint64 wrap-around
    }

    private static byte[] bytes(JsonNode n) {
        return Base64.getDecoder().decode(n.asText());
    }

    private static List<byte[]> hashes(JsonNode n) {
        List<byte[]> out = new ArrayList<>();
        if (n != null && !n.isNull()) {
            n.forEach(e -> out.add(bytes(e)));
        }
        return out;
    }

    private static List<JsonNode> lines(String resource) {
        List<JsonNode> out = new ArrayList<>();
        for (String line : text(resource)) {
            try {
                out.add(JSON.readTree(line));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    private static List<String> text(String resource) {
        try (var in = RfcVectorsTest.class.getClassLoader().getResourceAsStream(resource)) {
            assertThat(in).as(resource).isNotNull();
            return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))
                    .lines().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
