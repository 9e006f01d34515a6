package io.phigate.pg.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StartupSettingsTest {

    private static Map<String, String> params(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void justificationInOptionsIsKeptAndNotForwarded() throws Exception {
        StartupSettings s = StartupSettings.of(params("user", "agent", "database", "clinical", "options",
                "-c phigate.justification=ticket\\ 42\\ readmission -c search_path=public", "application_name", "psql"),
                "clinical");
        assertThat(s.justification()).isEqualTo("ticket 42 readmission");
        assertThat(s.upstream()).containsExactly(Map.entry("options", "-c search_path=public"),
                Map.entry("application_name", "psql"));
    }

    @Test
    void otherFormsOfTheSettingAreRead() throws Exception {
        assertThat(StartupSettings.of(params("options", "--phigate.justification=audit"), "c").justification())
                .isEqualTo("audit");
        assertThat(StartupSettings.of(params("options", "-cPHIGATE.JUSTIFICATION=audit"), "c").justification())
                .isEqualTo("audit");
        assertThat(StartupSettings.of(params("phigate.justification", "asyncpg way"), "c").justification())
                .isEqualTo("asyncpg way");
        StartupSettings app = StartupSettings.of(params("application_name", "phigate:justification=ticket 9"), "c");
        assertThat(app.justification()).isEqualTo("ticket 9");
        assertThat(app.upstream()).doesNotContainKey("application_name");
    }

    @Test
    void optionsWithoutGatewaySettingsSurviveWithEscapes() throws Exception {
        StartupSettings s = StartupSettings.of(params("options", "-c application_name=a\\ b  --statement-timeout=5s"), "c");
        assertThat(s.upstream().get("options")).isEqualTo("-c application_name=a\\ b -c statement-timeout=5s");
        assertThat(StartupSettings.of(params("options", "-c phigate.justification=x"), "c").upstream())
                .doesNotContainKey("options");
    }

    @Test
    void switchingRoleAtStartupIsRefused() {
        assertThatThrownBy(() -> StartupSettings.of(params("options", "-c role=postgres"), "c"))
                .isInstanceOfSatisfying(HandshakeRefused.class, r -> assertThat(r.sqlState()).isEqualTo("42501"));
        assertThatThrownBy(() -> StartupSettings.of(params("options", "--session-authorization=postgres"), "c"))
                .isInstanceOf(HandshakeRefused.class);
        assertThatThrownBy(() -> StartupSettings.of(params("ROLE", "postgres"), "c"))
                .isInstanceOf(HandshakeRefused.class);
    }

    @Test
    void switchesOtherThanSettingsAndUnknownGatewaySettingsAreRefused() {
        assertThatThrownBy(() -> StartupSettings.of(params("options", "-B 100"), "c"))
                .isInstanceOfSatisfying(HandshakeRefused.class, r -> assertThat(r.sqlState()).isEqualTo("08P01"));
        assertThatThrownBy(() -> StartupSettings.of(params("options", "-c"), "c")).isInstanceOf(HandshakeRefused.class);
        assertThatThrownBy(() -> StartupSettings.of(params("options", "-c phigate.justifcation=x"), "c"))
                .hasMessageContaining("unrecognized phigate setting");
        assertThatThrownBy(() -> StartupSettings.of(params("options", "-c phigate.justification="), "c"))
                .hasMessageContaining("empty");
    }

    @Test
    void splitFollowsPgSplitOpts() {
        assertThat(StartupSettings.split("  -c a=b\\ c\t-c\\\\d=e ")).containsExactly("-c", "a=b c", "-c\\d=e");
    }
}
