package io.phigate.policy;

import static io.phigate.policy.ThroughTheGateway.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * COMMIT PREPARED and ROLLBACK PREPARED finish a transaction that any session of the same login prepared: they make
 * its writes permanent or throw them away, writes this session never sent (decision 0079). A read-only role ran both
 * as harmless transaction control, and a risk rule on what a statement writes never saw them.
 */
class OtherSessionsPreparedTransactionsTest {
    static final String READER = "system:serviceaccount:clinical:prepared-reader";
    static final String AGENT = "system:serviceaccount:clinical:prepared-agent";
    @TempDir
    static Path dir;
    static GatewayHarness gw;

    @BeforeAll
    static void start() throws Exception {
        gw = GatewayHarness.startWithPolicy(dir, """
                roles:
                  - name: reader
                    match: { subject: "%s" }
                    upstreams: [clinical]
                    allow:
                      - { tables: ["public.*"], operations: [select] }
                  - name: agent
                    match: { subject: "%s" }
                    upstreams: [clinical]
                rules:
                  - name: no-deletes-of-patients
                    when: { operations: [delete], tables: [public.patients] }
                    deny: "patients are never deleted by agents"
                """.formatted(READER, AGENT));
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    @Test
    void aReadOnlyRoleFinishesNoOtherSessionsPreparedTransaction() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, READER, mode); Statement s = c.createStatement()) {
                assertRefused(s, "ROLLBACK PREPARED 'another-agents-writes'", "function is not allowed");
                assertRefused(s, "COMMIT PREPARED 'another-agents-writes'", "function is not allowed");
                // Transaction control of its own transaction stays utility.
                s.execute("BEGIN");
                s.execute("COMMIT");
            }
        }
    }

    @Test
    void aRuleOnWhatAStatementWritesMatchesFinishingAPreparedTransaction() throws Exception {
        try (Connection c = ThroughTheGateway.as(gw, AGENT, "simple"); Statement s = c.createStatement()) {
            assertRefused(s, "COMMIT PREPARED 'a-delete-of-patients'", "never deleted by agents");
            // The server is still reached for the transaction's own control statements.
            assertThatThrownBy(() -> s.execute("SAVEPOINT outside_a_transaction")).isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isNotEqualTo("42501"));
        }
    }
}
