package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.TestDatabase;
import io.phigate.config.CredentialsConfig;
import io.phigate.config.HostPort;
import io.phigate.mask.SecretRef;
import io.phigate.config.UpstreamConfig;
import io.phigate.config.UpstreamTlsConfig;
import io.phigate.pg.backend.HousekeepingClient;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * The catalog's fingerprint (decision 0075) as a real server gives it: a database holding no object made after
 * initdb has one too ("0:0"), since a sum over no rows is NULL in SQL and a session refused for a missing
 * fingerprint could never start there; and a view replaced under the same name changes it.
 */
class CatalogFingerprintTest {
    private static final TestDatabase DB = TestDatabase.get();
    private static final String EMPTY_DB = "phigate_fingerprint_empty";

    @Test
    void aDatabaseHoldingNoObjectOfItsOwnHasAFingerprintAndLoads() throws Exception {
        try (Connection c = DB.superuser(); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + EMPTY_DB);
            s.execute("CREATE DATABASE " + EMPTY_DB);
        }
        try {
            PgCatalog catalog = HousekeepingClient.loadCatalog(upstream(EMPTY_DB));
            assertThat(catalog.fingerprint()).isEqualTo("0:0");
        } finally {
            try (Connection c = DB.superuser(); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + EMPTY_DB);
            }
        }
    }

    @Test
    void aViewReplacedUnderItsOwnNameChangesTheFingerprint() throws Exception {
        try (Connection c = DB.superuser(); Statement s = c.createStatement()) {
            s.execute("DROP VIEW IF EXISTS cfp_view");
            s.execute("CREATE VIEW cfp_view AS SELECT 1 AS state");
            String before = HousekeepingClient.loadCatalog(upstream("clinical")).fingerprint();
            s.execute("CREATE OR REPLACE VIEW cfp_view AS SELECT 2 AS state");
            String after = HousekeepingClient.loadCatalog(upstream("clinical")).fingerprint();
            assertThat(after).isNotEqualTo(before);
            s.execute("DROP VIEW cfp_view");
        }
    }

    private static UpstreamConfig upstream(String database) {
        return new UpstreamConfig("clinical", new HostPort("127.0.0.1", DB.port()), database,
                new CredentialsConfig(CredentialsConfig.Mode.STATIC, DB.user(), new SecretRef(null, DB.passwordFile())),
                UpstreamTlsConfig.DISABLED);
    }
}
