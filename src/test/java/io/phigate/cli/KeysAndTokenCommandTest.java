package io.phigate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.identity.IdentityConfig;
import io.phigate.identity.IssuerConfig;
import io.phigate.identity.Identity;
import io.phigate.identity.TokenVerifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeysAndTokenCommandTest {
    @TempDir
    Path dir;

    private static TestAccess.Result phigate(String... args) {
        return TestAccess.capture(args);
    }

    @Test
    void generatedKeyMintsATokenThatTheVerifierAccepts() throws Exception {
        Path keys = dir.resolve("keys");
        TestAccess.Result generated = phigate("keys", "generate", "--out", keys.toString());
        assertThat(generated.exitCode()).as(generated.err()).isZero();
        assertThat(generated.out().lines()).containsExactly(
                keys.resolve("signing-key.jwk").toString(), keys.resolve("jwks.json").toString());

        TestAccess.Result minted = phigate("token", "mint", "--key", keys.resolve("signing-key.jwk").toString(),
                "--issuer", "https://dev.phigate", "--subject", "agent-42", "--audience", "phigate",
                "--audience", "reporting", "--ttl", "10m",
                "--claim", "azp=triage-bot", "--claim", "tier=3", "--claim", "supervised=true");
        assertThat(minted.exitCode()).as(minted.err()).isZero();
        assertThat(minted.out().lines()).as("stdout is only the token").hasSize(1);
        String token = minted.out().strip();

        var verifier = new TokenVerifier(new IdentityConfig(List.of(new IssuerConfig("https://dev.phigate",
                List.of("phigate"), keys.resolve("jwks.json"), null, false, IssuerConfig.DEFAULT_ALGORITHMS)),
                Duration.ofSeconds(30), Duration.ZERO));
        Identity identity = verifier.verify(token);
        assertThat(identity.subject()).isEqualTo("agent-42");
        assertThat(identity.attributes()).containsEntry("azp", "triage-bot");
        assertThat(identity.expiresAt()).isBetween(Instant.now().plusSeconds(590), Instant.now().plusSeconds(601));

        var claims = com.nimbusds.jwt.SignedJWT.parse(token).getJWTClaimsSet();
        assertThat(claims.getClaim("tier")).isEqualTo(3L);
        assertThat(claims.getClaim("supervised")).isEqualTo(true);
        assertThat(claims.getAudience()).containsExactly("phigate", "reporting");
    }

    @Test
    void generateRefusesToReplaceAKeyUnlessForced() throws Exception {
        assertThat(phigate("keys", "generate", "--out", dir.toString()).exitCode()).isZero();
        String original = Files.readString(dir.resolve("signing-key.jwk"));

        TestAccess.Result again = phigate("keys", "generate", "--out", dir.toString());
        assertThat(again.exitCode()).isNotZero();
        assertThat(again.err()).contains("--force");
        assertThat(Files.readString(dir.resolve("signing-key.jwk"))).isEqualTo(original);

        assertThat(phigate("keys", "generate", "--out", dir.toString(), "--force").exitCode()).isZero();
        assertThat(Files.readString(dir.resolve("signing-key.jwk"))).isNotEqualTo(original);
    }

    @Test
    void ttlAcceptsSecondsMinutesHoursAndDaysAndNothingElse() {
        var ttl = new TokenCommand.TtlConverter();
        assertThat(ttl.convert("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(ttl.convert("10m")).isEqualTo(Duration.ofMinutes(10));
        assertThat(ttl.convert("1h")).isEqualTo(Duration.ofHours(1));
        assertThat(ttl.convert("2d")).isEqualTo(Duration.ofDays(2));

        Path key = dir.resolve("k.jwk");
        TestAccess.Result bad = phigate("token", "mint", "--key", key.toString(), "--issuer", "i", "--subject", "s",
                "--audience", "a", "--ttl", "10 minutes");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.out()).isEmpty();
    }

    @Test
    void claimValuesAreBooleansIntegersOrStrings() {
        assertThat(TokenCommand.claimValue("true")).isEqualTo(true);
        assertThat(TokenCommand.claimValue("-12")).isEqualTo(-12L);
        assertThat(TokenCommand.claimValue("a,b")).isEqualTo("a,b");
        assertThat(TokenCommand.claimValue("1.5")).isEqualTo("1.5");
        assertThat(TokenCommand.claimValue("99999999999999999999")).isEqualTo("99999999999999999999");
    }

    @Test
    void mintWithAMissingKeyFileFailsWithoutPrintingAToken() {
        TestAccess.Result r = phigate("token", "mint", "--key", dir.resolve("missing.jwk").toString(), "--issuer", "i",
                "--subject", "s", "--audience", "a");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.out()).isEmpty();
    }
}
