package io.phigate.policy;

import static io.phigate.policy.ThroughTheGateway.assertRefused;

import io.phigate.GatewayHarness;
import io.phigate.TestDatabase;
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
 * pg_stat_statements keeps other sessions' statement texts (utility statements and failed ones with their literals),
 * and is usually created in {@code public}, not pg_catalog. Its view must be refused to a session that sees PHI
 * masked wherever it was created and whatever it was renamed to: the rule knows it by the extension that owns it
 * (decision 0080). The test server does not preload the library, so the server itself would refuse the view's query
 * (55000); the gateway must refuse it first (42501), naming the rule.
 */
class ExtensionViewsOfOtherSessionsTest {
    @TempDir
    static Path dir;
    static GatewayHarness gw;
    static TestDatabase db;

    @BeforeAll
    static void start() throws Exception {
        db = TestDatabase.get();
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            dropAll(s);
            s.execute("CREATE SCHEMA extv_stats");
            s.execute("GRANT USAGE ON SCHEMA extv_stats TO PUBLIC");
            s.execute("CREATE EXTENSION pg_stat_statements SCHEMA extv_stats");
            s.execute("ALTER VIEW extv_stats.pg_stat_statements RENAME TO extv_texts");
            s.execute("CREATE VIEW public.extv_mine AS SELECT query FROM extv_stats.extv_texts");
            s.execute("GRANT SELECT ON public.extv_mine TO PUBLIC");
        }
        gw = GatewayHarness.startWithPolicy(dir, """
                phi:
                  clinical:
                    columns:
                      public.patients.ssn: ssn
                    detection: { enabled: false }
                    discover_comments: false
                    functions: [extv_stats.pg_stat_statements, pg_stat_statements]
                masking:
                  key_file: masking.key
                """);
    }

    @AfterAll
    static void stop() throws Exception {
        if (gw != null) {
            gw.close();
        }
        try (Connection su = db.superuser(); Statement s = su.createStatement()) {
            dropAll(s);
        }
    }

    private static void dropAll(Statement s) throws SQLException {
        s.execute("DROP VIEW IF EXISTS public.extv_mine");
        s.execute("DROP EXTENSION IF EXISTS pg_stat_statements");
        s.execute("DROP SCHEMA IF EXISTS extv_stats CASCADE");
    }

    @Test
    void anExtensionsViewOfOtherSessionsTextsIsRefusedInAnySchemaAndUnderAnyName() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = ThroughTheGateway.as(gw, GatewayHarness.AGENT, mode); Statement s = c.createStatement()) {
                for (String read : List.of("SELECT query FROM extv_stats.extv_texts",
                        "SELECT count(*) FROM extv_stats.extv_texts WHERE query LIKE '%123-45%'",
                        "SELECT query FROM public.extv_mine")) {
                    assertRefused(s, read, "other sessions' statements");
                }
            }
        }
    }
}
