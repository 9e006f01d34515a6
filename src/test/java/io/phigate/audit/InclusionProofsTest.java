package io.phigate.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.phigate.audit.AuditConfig.CheckpointConfig;
import io.phigate.audit.AuditEvent.Outcome;
import io.phigate.audit.AuditEvent.Protocol;
import io.phigate.audit.InclusionProofs.Proof;
import io.phigate.audit.InclusionProofs.ProofException;
import io.phigate.audit.InclusionProofs.Proven;
import io.phigate.cli.TestAccess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** An auditor, given a proof file and the public key, can check one record offline; a doctored proof fails. */
class InclusionProofsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path store;
    static Path key;
    static Path otherKey;

    /** 2500 records of replica gw-a, checkpointed at 1000 and 2000; 2001 to 2500 are not covered yet. */
    @BeforeAll
    static void writeStore() throws Exception {
        store = dir.resolve("audit.db");
        key = dir.resolve("keys/audit-signing.key");
        otherKey = dir.resolve("other/audit-signing.key");
        CheckpointKeys.generate(key);
        CheckpointKeys.generate(otherKey);
        write(store, "gw-a", 2500, 1000);
    }

    private static void write(Path file, String replica, int records, int every) throws Exception {
        var config = new AuditConfig("sqlite:" + file, file, 10_000, Duration.ofSeconds(5), Duration.ofSeconds(1),
                replica, new CheckpointConfig(key, file.resolveSibling(file.getFileName() + ".checkpoints"), every,
                Duration.ofHours(1)));
        try (var s = new AuditStore(config)) {
            List<AuditEvent> batch = new ArrayList<>();
            for (int i = 1; i <= records; i++) {
                batch.add(i % 2 == 1
                        ? new AuditEvent.StatementRequested(Instant.now(), "session-" + (i / 100), i, "10.0.0.7:5000",
                                "clinic", "https://issuer", "agent-7", Protocol.EXTENDED,
                                "SELECT name FROM patient WHERE mrn = $1", List.of("MRN-" + i), "", "")
                        : new AuditEvent.StatementCompleted(Instant.now(), "session-" + (i / 100), i - 1, Outcome.OK,
                                null, "SELECT 1", 1, 10));
                if (batch.size() == 50) {
                    s.appendDurably(batch);
                    batch = new ArrayList<>();
                }
            }
            if (!batch.isEmpty()) {
                s.appendDurably(batch);
            }
        }
    }

    private static PublicKey publicKey(Path privateKey) throws Exception {
        return CheckpointKeys.readPublic(CheckpointKeys.publicFile(privateKey));
    }

    /** The proof as the auditor's file holds it, edited by {@code edit}, read back. */
    private static Proof tampered(Proof proof, Consumer<ObjectNode> edit) throws Exception {
        ObjectNode json = (ObjectNode) JSON.readTree(proof.toJson());
        edit.accept(json);
        return Proof.fromJson(JSON.writeValueAsString(json));
    }

    private static String checkFails(Proof proof, PublicKey key) {
        try {
            InclusionProofs.check(proof, key);
        } catch (ProofException e) {
            return e.getMessage();
        }
        throw new AssertionError("the proof was accepted");
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 1000, 1001, 1999})
    void aProvenRecordChecksOfflineAgainstTheLatestCheckpoint(long seq) throws Exception {
        Proof proof = Proof.fromJson(InclusionProofs.prove(store, null, seq).toJson());

        Proven proven = InclusionProofs.check(proof, publicKey(key));

        assertThat(proven.replica()).isEqualTo("gw-a");
        assertThat(proven.seq()).isEqualTo(seq);
        assertThat(proven.kind()).isEqualTo(seq % 2 == 1 ? "statement_requested" : "statement_completed");
        assertThat(proven.checkpointSize()).isEqualTo(2000);
        assertThat(proven.keyId()).isEqualTo(CheckpointKeys.keyId(publicKey(key)));
        assertThat(proof.leafIndex()).isEqualTo(seq - 1);
        assertThat(proof.path()).hasSizeBetween(1, 11); // at most ceil(log2 2000) hashes
        assertThat(proof.record().keySet()).containsExactly(RecordHash.COLUMNS);
    }

    @Test
    void theProofCarriesTheRecordAsStoredAndSaysItIsPhi() throws Exception {
        String json = InclusionProofs.prove(store, "gw-a", 1001).toJson();
        assertThat(json).contains("\"statement\" : \"SELECT name FROM patient WHERE mrn = $1\"")
                .contains("MRN-1001").contains("protected health information");
        assertThat(InclusionProofs.prove(store, "gw-a", 1001).toString()).doesNotContain("MRN-1001");
    }

    @Test
    void anEditedStatementFails() throws Exception {
        Proof proof = tampered(InclusionProofs.prove(store, null, 1001),
                j -> ((ObjectNode) j.get("record")).put("statement", "SELECT 1"));
        assertThat(checkFails(proof, publicKey(key))).contains("record's values do not give its hash")
                .contains("edited");
    }

    @Test
    void anEditedRecordWithItsHashRecomputedFailsThePath() throws Exception {
        Proof original = InclusionProofs.prove(store, null, 1001);
        var values = new java.util.LinkedHashMap<>(original.record());
        values.put("parameters", "[\"MRN-9\"]");
        String rehashed = RecordHash.hex(RecordHash.of(values.values().toArray(String[]::new)));
        Proof proof = new Proof(values, rehashed, original.leafIndex(), original.treeSize(), original.path(),
                original.checkpoint());
        assertThat(checkFails(proof, publicKey(key))).contains("inclusion path does not prove record 1001")
                .contains("ROOT_MISMATCH");
    }

    @Test
    void anEditedPathElementFails() throws Exception {
        Proof proof = tampered(InclusionProofs.prove(store, null, 1999), j -> {
            ArrayNode path = (ArrayNode) j.get("inclusion_path");
            String h = path.get(3).textValue();
            path.set(3, (h.charAt(0) == '0' ? "1" : "0") + h.substring(1));
        });
        assertThat(checkFails(proof, publicKey(key))).contains("inclusion path does not prove record 1999")
                .contains("ROOT_MISMATCH");
    }

    @Test
    void aDroppedPathElementFails() throws Exception {
        Proof proof = tampered(InclusionProofs.prove(store, null, 1), j -> ((ArrayNode) j.get("inclusion_path")).remove(0));
        assertThat(checkFails(proof, publicKey(key))).contains("WRONG_PATH_LENGTH");
    }

    @Test
    void aCheckpointWhoseRootWasEditedFailsItsSignature() throws Exception {
        Proof original = InclusionProofs.prove(store, null, 1000);
        Checkpoint cp = Checkpoint.parse(original.checkpoint());
        String otherRoot = Base64.getEncoder().encodeToString(new byte[32]);
        String note = original.checkpoint().replace(Base64.getEncoder().encodeToString(cp.root()), otherRoot);
        assertThat(note).isNotEqualTo(original.checkpoint());
        Proof proof = tampered(original, j -> j.put("checkpoint", note));
        assertThat(checkFails(proof, publicKey(key))).contains("does not verify")
                .contains("altered after signing, or forged");
    }

    @Test
    void aGenuinelySignedCheckpointOfAnotherTreeFailsThePath() throws Exception {
        // As if the key also signed another log's checkpoint of the same size: the signature holds, the path cannot.
        Proof original = InclusionProofs.prove(store, null, 1000);
        Checkpoint cp = Checkpoint.parse(original.checkpoint());
        byte[] root = new byte[32];
        root[0] = 1;
        Checkpoint other = new Checkpoint(cp.replica(), cp.treeSize(), root, cp.time(), cp.keyId(),
                CheckpointKeys.sign(CheckpointKeys.readPrivate(key), Checkpoint.body(cp.replica(), cp.treeSize(), root,
                        cp.time())));
        Proof proof = tampered(original, j -> j.put("checkpoint", other.note()));
        assertThat(checkFails(proof, publicKey(key))).contains("inclusion path does not prove record 1000")
                .contains("ROOT_MISMATCH");
    }

    @Test
    void aCheckpointSignedByAnotherKeyFails() throws Exception {
        Proof original = InclusionProofs.prove(store, null, 1001);
        Checkpoint cp = Checkpoint.parse(original.checkpoint());
        Checkpoint forged = new Checkpoint(cp.replica(), cp.treeSize(), cp.root(), cp.time(),
                CheckpointKeys.keyId(publicKey(otherKey)), CheckpointKeys.sign(CheckpointKeys.readPrivate(otherKey),
                cp.body()));
        Proof proof = tampered(original, j -> j.put("checkpoint", forged.note()));
        assertThat(checkFails(proof, publicKey(key))).contains("names signing key " + forged.keyId())
                .contains("signed by another key");
    }

    @Test
    void theWrongPublicKeyFails() throws Exception {
        Proof proof = InclusionProofs.prove(store, null, 1001);
        assertThat(checkFails(proof, publicKey(otherKey)))
                .contains("the key given is " + CheckpointKeys.keyId(publicKey(otherKey)))
                .contains("wrong public key");
    }

    @Test
    void aProofClaimingAnotherLeafFails() throws Exception {
        Proof proof = tampered(InclusionProofs.prove(store, null, 1001), j -> j.put("leaf_index", 1001));
        assertThat(checkFails(proof, publicKey(key))).contains("record 1001 is leaf 1000");
    }

    @Test
    void aMalformedProofIsRefusedWithItsReason() throws Exception {
        assertThatThrownBy(() -> tampered(InclusionProofs.prove(store, null, 1),
                j -> ((ObjectNode) j.get("record")).remove("outcome")))
                .isInstanceOf(ProofException.class).hasMessageContaining("no outcome value");
        assertThatThrownBy(() -> Proof.fromJson("{\"format\": \"something else\"}"))
                .isInstanceOf(ProofException.class).hasMessageContaining("format");
        assertThatThrownBy(() -> Proof.fromJson("{ not json")).isInstanceOf(ProofException.class)
                .hasMessageContaining("not valid JSON");
    }

    @Test
    void aRecordNewerThanTheLastCheckpointIsRefused() {
        assertThatThrownBy(() -> InclusionProofs.prove(store, null, 2001)).isInstanceOf(ProofException.class)
                .hasMessage("record 2001 is newer than the last checkpoint (size 2000); wait for the next checkpoint");
        assertThatThrownBy(() -> InclusionProofs.prove(store, null, 2501)).isInstanceOf(ProofException.class)
                .hasMessage("replica gw-a has no record 2501 (it has 2500)");
        assertThatThrownBy(() -> InclusionProofs.prove(store, "gw-z", 1)).isInstanceOf(ProofException.class)
                .hasMessageContaining("replica gw-z has no record 1");
    }

    @Test
    void aStoreWithSeveralReplicasNeedsReplicaNamed() throws Exception {
        Path shared = dir.resolve("shared/audit.db");
        write(shared, "gw-a", 20, 10);
        write(shared, "gw-b", 30, 10);
        assertThatThrownBy(() -> InclusionProofs.prove(shared, null, 5)).isInstanceOf(ProofException.class)
                .hasMessageContaining("replicas gw-a, gw-b; say which with --replica");
        Proven b = InclusionProofs.check(InclusionProofs.prove(shared, "gw-b", 25), publicKey(key));
        assertThat(b.replica()).isEqualTo("gw-b");
        assertThat(b.checkpointSize()).isEqualTo(30);
    }

    @Test
    void anEditedStoreGivesNoProof() throws Exception {
        Path copy = dir.resolve("edited/audit.db");
        Files.createDirectories(copy.getParent());
        Files.copy(store, copy, StandardCopyOption.REPLACE_EXISTING);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + copy); Statement s = c.createStatement()) {
            s.execute("update audit_event set outcome = 'error' where replica = 'gw-a' and chain_seq = 1000");
        }
        assertThatThrownBy(() -> InclusionProofs.prove(copy, null, 1000)).isInstanceOf(ProofException.class)
                .hasMessageContaining("does not match its stored hash");
    }

    // The command line, as an operator and an auditor run it.

    private static TestAccess.Result phigate(String... args) {
        return TestAccess.capture(args);
    }

    @Test
    void proveWritesAnOwnerOnlyFileThatCheckProofAccepts() throws Exception {
        Path out = dir.resolve("proofs/record-1001.json");
        String pub = CheckpointKeys.publicFile(key).toString();

        TestAccess.Result proved = phigate("audit", "prove", "--store", store.toString(), "--seq", "1001", "--out", out.toString());
        assertThat(proved.exitCode()).as(proved.err()).isZero();
        assertThat(Files.getPosixFilePermissions(out)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(proved.err()).contains("contains PHI");

        TestAccess.Result checked = phigate("audit", "check-proof", "--proof", out.toString(), "--public-key", pub);
        assertThat(checked.exitCode()).as(checked.out() + checked.err()).isZero();
        assertThat(checked.out()).contains("PROVEN: record 1001 of replica gw-a")
                .contains("statement_requested").contains("checkpoint: 2000 records")
                .contains("by key " + CheckpointKeys.keyId(publicKey(key)))
                .doesNotContain("MRN-1001");

        Files.writeString(out, Files.readString(out).replace("MRN-1001", "MRN-1002"));
        TestAccess.Result doctored = phigate("audit", "check-proof", "--proof", out.toString(), "--public-key", pub);
        assertThat(doctored.exitCode()).isEqualTo(1);
        assertThat(doctored.out()).startsWith("NOT PROVEN: ").contains("edited");

        TestAccess.Result wrongKey = phigate("audit", "check-proof", "--proof", out.toString(), "--public-key",
                CheckpointKeys.publicFile(otherKey).toString());
        assertThat(wrongKey.exitCode()).isEqualTo(1);
        assertThat(wrongKey.out()).contains("wrong public key");
    }

    @Test
    void proveWithoutOutPrintsTheProofAndRefusesUncoveredRecords() throws Exception {
        TestAccess.Result printed = phigate("audit", "prove", "--store", store.toString(), "--seq", "7");
        assertThat(printed.exitCode()).as(printed.err()).isZero();
        assertThat(InclusionProofs.check(Proof.fromJson(printed.out()), publicKey(key)).seq()).isEqualTo(7);

        TestAccess.Result tooNew = phigate("audit", "prove", "--store", store.toString(), "--seq", "2400");
        assertThat(tooNew.exitCode()).isEqualTo(1);
        assertThat(tooNew.err()).contains("record 2400 is newer than the last checkpoint (size 2000)");

        TestAccess.Result noStore = phigate("audit", "prove", "--seq", "1");
        assertThat(noStore.exitCode()).isEqualTo(2);
        assertThat(noStore.err()).contains("Missing required argument").contains("--config").contains("--store");
    }

    @Test
    void checkProofWithUnreadableInputsExitsTwo() {
        TestAccess.Result missing = phigate("audit", "check-proof", "--proof", dir.resolve("nope.json").toString(),
                "--public-key", CheckpointKeys.publicFile(key).toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).contains("cannot read the proof").contains("nope.json");
    }
}
