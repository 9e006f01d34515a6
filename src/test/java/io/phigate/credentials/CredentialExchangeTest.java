package io.phigate.credentials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.identity.IdentityConfig;
import io.phigate.identity.Identity;
import io.phigate.policy.Match;
import io.phigate.policy.Policy;
import io.phigate.policy.Role;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CredentialExchangeTest {
    /** A clock the test moves by hand. */
    static final class TestClock extends Clock {
        Instant now = Instant.parse("2026-11-28T00:00:00Z");

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private final TestClock clock = new TestClock();
    private final Identity agent = new Identity("https://issuer", "system:serviceaccount:clinical:triage",
            clock.now.plus(Duration.ofHours(1)), "d", Map.of());

    private CredentialExchange exchange(Policy policy, IdentityConfig.Revoked revoked) {
        return new CredentialExchange(policy, revoked::reason, Duration.ofMinutes(5), Set.of("clinical", "billing"),
                clock);
    }

    private CredentialExchange exchange() {
        return exchange(Policy.NONE, IdentityConfig.Revoked.NONE);
    }

    @Test
    void aCredentialWorksOnceAndCarriesIdentityAndJustification() throws Exception {
        CredentialExchange x = exchange();
        CredentialExchange.Issued c = x.issue(agent, "kid-1", null, " ticket 42 ");
        assertThat(c.username()).startsWith(CredentialExchange.USER_PREFIX);
        assertThat(c.toString()).doesNotContain(c.password());
        assertThat(c.expiresAt()).isEqualTo(clock.now.plus(Duration.ofMinutes(5)));
        CredentialExchange.Redeemed r = x.redeem(c.username(), c.password(), "clinical");
        assertThat(r.identity()).isEqualTo(agent);
        assertThat(r.justification()).isEqualTo("ticket 42");
        assertThat(r.keyId()).isEqualTo("kid-1");
        assertThatThrownBy(() -> x.redeem(c.username(), c.password(), "clinical")).hasMessageContaining("already used");
    }

    @Test
    void aWrongPasswordDoesNotBurnTheCredential() throws Exception {
        CredentialExchange x = exchange();
        CredentialExchange.Issued c = x.issue(agent, null, null, null);
        assertThatThrownBy(() -> x.redeem(c.username(), "guess", "clinical")).hasMessageContaining("wrong password");
        assertThat(x.redeem(c.username(), c.password(), "clinical").justification()).isNull();
    }

    @Test
    void aCredentialExpiresAfterItsTtlOrWithItsToken() throws Exception {
        CredentialExchange x = exchange();
        CredentialExchange.Issued c = x.issue(agent, null, null, null);
        clock.now = clock.now.plus(Duration.ofMinutes(5));
        assertThatThrownBy(() -> x.redeem(c.username(), c.password(), "clinical")).hasMessageContaining("expired");
        assertThat(x.outstanding()).isZero();
        Identity shortLived = new Identity(agent.issuer(), agent.subject(), clock.now.plusSeconds(30), "d", Map.of());
        assertThat(x.issue(shortLived, null, null, null).expiresAt()).isEqualTo(clock.now.plusSeconds(30));
    }

    @Test
    void anUpstreamBindingIsKept() throws Exception {
        CredentialExchange x = exchange();
        CredentialExchange.Issued c = x.issue(agent, null, "billing", null);
        assertThatThrownBy(() -> x.redeem(c.username(), c.password(), "clinical")).hasMessageContaining("billing");
        assertThat(x.redeem(c.username(), c.password(), "billing")).isNotNull();
        assertThatThrownBy(() -> x.issue(agent, null, "nowhere", null)).hasMessageContaining("not served");
    }

    @Test
    void revokedNoRoleAndBadJustificationsAreRefusedAtIssue() {
        CredentialExchange revoked = exchange(Policy.NONE, new IdentityConfig.Revoked(Set.of(), Set.of("kid-1")));
        assertThatThrownBy(() -> revoked.issue(agent, "kid-1", null, null)).isInstanceOfSatisfying(
                CredentialExchange.Refused.class, e -> assertThat(e.status()).isEqualTo(403));
        Role other = new Role("other", new Match(null, "someone-else", Map.of()), List.of("*"), List.of(), Set.of(),
                Map.of(), Role.Justification.OPTIONAL, 0, List.of(), null);
        CredentialExchange roles = exchange(new Policy(Map.of(), Policy.NONE.masking(), List.of(other)),
                IdentityConfig.Revoked.NONE);
        assertThatThrownBy(() -> roles.issue(agent, null, null, null)).hasMessageContaining("no role");
        assertThatThrownBy(() -> exchange().issue(agent, null, null, "   ")).hasMessageContaining("empty");
    }
}
