package io.phigate.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.identity.Identity;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AdmissionTest {
    private static final Identity AGENT = new Identity("https://issuer", "system:serviceaccount:clinical:triage",
            Instant.now().plusSeconds(600), "d", Map.of("namespace", "clinical"));
    private static final Identity STRANGER = new Identity("https://issuer", "bob", Instant.now().plusSeconds(600), "d",
            Map.of());

    private static Role role(List<Role.TimeWindow> windows) {
        return new Role("triage", new Match("https://issuer", "system:serviceaccount:clinical:*", Map.of()),
                List.of("clinical"), List.of(), Set.of(), Map.of(), Role.Justification.REQUIRED, 0, windows, null);
    }

    private static Policy policy(Role... roles) {
        return new Policy(Map.of(), Policy.NONE.masking(), List.of(roles));
    }

    @Test
    void withoutRolesEveryoneIsAdmittedWithNoRole() {
        Admission a = Admission.decide(Policy.NONE, STRANGER, "clinical", Instant.now());
        assertThat(a.admitted()).isTrue();
        assertThat(a.role()).isNull();
    }

    @Test
    void anIdentityMatchingNoRoleIsRefused() {
        Admission a = Admission.decide(policy(role(List.of())), STRANGER, "clinical", Instant.now());
        assertThat(a.admitted()).isFalse();
        assertThat(a.sqlState()).isEqualTo("28000");
        assertThat(a.reason()).contains("no role", "bob");
    }

    @Test
    void aRoleIsRefusedOnAnUpstreamItMayNotReach() {
        Admission a = Admission.decide(policy(role(List.of())), AGENT, "billing", Instant.now());
        assertThat(a.sqlState()).isEqualTo("42501");
        assertThat(a.reason()).contains("role \"triage\" may not reach upstream \"billing\"");
        assertThat(Admission.decide(policy(role(List.of())), AGENT, "clinical", Instant.now()).role().name())
                .isEqualTo("triage");
    }

    @Test
    void outsideTheTimeWindowsIsRefused() {
        Role.TimeWindow mornings = new Role.TimeWindow(EnumSet.allOf(DayOfWeek.class), LocalTime.of(7, 0),
                LocalTime.of(9, 0), ZoneId.of("UTC"));
        Instant noon = Instant.parse("2026-11-27T12:00:00Z");
        Instant eight = Instant.parse("2026-11-27T08:00:00Z");
        Policy p = policy(role(List.of(mornings)));
        assertThat(Admission.decide(p, AGENT, "clinical", noon).reason()).contains("outside its windows", "07:00-09:00");
        assertThat(Admission.outsideWindows(p.roles().getFirst(), noon)).contains("run statements");
        assertThat(Admission.outsideWindows(null, noon)).isNull();
        assertThat(Admission.decide(p, AGENT, "clinical", eight).admitted()).isTrue();
    }

    @Test
    void justificationRefusalSaysHowToSupplyOne() {
        Role r = role(List.of());
        assertThat(Justifications.missing(r, null)).isTrue();
        assertThat(Justifications.missing(r, "ticket 42")).isFalse();
        assertThat(Justifications.missing(null, null)).isFalse();
        assertThat(Justifications.refusal(r)).startsWith("a justification is required")
                .contains("SET phigate.justification", "options=", "/api/v1/credentials");
        assertThat(Justifications.problem("x".repeat(2000))).contains("at most");
        assertThat(Justifications.problem("line\nbreak")).contains("control");
        assertThat(Justifications.problem("ticket 42")).isNull();
        var set = new io.phigate.sql.StatementAnalysis(io.phigate.sql.StatementKind.SET,
                Set.of(io.phigate.sql.Operation.UTILITY), Set.of(), Set.of(), List.of(), Set.of(), false, null,
                "phigate.justification", "ticket 7", true, null, "SET phigate.justification = 'ticket 7'");
        assertThat(Justifications.fromSet(set)).isEqualTo("ticket 7");
        var other = new io.phigate.sql.StatementAnalysis(io.phigate.sql.StatementKind.SET,
                Set.of(io.phigate.sql.Operation.UTILITY), Set.of(), Set.of(), List.of(), Set.of(), false, null,
                "search_path", "public", true, null, "SET search_path = public");
        assertThat(Justifications.fromSet(other)).isNull();
    }
}
