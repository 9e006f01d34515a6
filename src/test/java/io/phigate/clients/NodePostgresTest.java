package io.phigate.clients;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.phigate.GatewayHarness;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * node-postgres (`pg`), unmodified, through the gateway: parameterised and named prepared statements, an error in a
 * transaction, a multi-statement simple query. `.ci/run` installs `pg` into target/node-clients; elsewhere the test
 * skips when it is absent, unless PHIGATE_REQUIRE_CLIENTS is set.
 */
class NodePostgresTest {
    @TempDir
    Path dir;

    private static final String SCRIPT = """
            const { Client } = require('pg');
            (async () => {
              const c = new Client({ host: '127.0.0.1', port: +process.env.PGPORT, user: 'node-agent',
                                     password: process.env.PGPASSWORD, database: 'clinical', ssl: false });
              await c.connect();
              const out = {};
              out.mrn = (await c.query('select mrn, birth_date from patients where id = $1', [3])).rows[0].mrn;
              const named = { name: 'by-id', text: 'select id from patients where id = $1' };
              out.id5 = (await c.query({ ...named, values: [5] })).rows[0].id;
              out.id6 = (await c.query({ ...named, values: [6] })).rows[0].id;
              await c.query('begin');
              try { await c.query('select * from no_such_table'); } catch (e) { out.err = e.code; }
              await c.query('rollback');
              out.multi = (await c.query('select 1 as a; select 2 as b')).length;
              out.after = (await c.query('select $1::int + 1 as n', [41])).rows[0].n;
              console.log(JSON.stringify(out));
              await c.end();
            })().catch(e => { console.error(e.message); process.exit(1); });
            """;

    @Test
    void nodePostgresWorksUnmodifiedAndEveryQueryIsAudited() throws Exception {
        Path node = ClientTools.find("node");
        Path modules = Path.of(System.getenv().getOrDefault("PHIGATE_NODE_MODULES", "target/node-clients/node_modules"))
                .toAbsolutePath();
        boolean present = Files.isDirectory(modules.resolve("pg"));
        if (!present && System.getenv("PHIGATE_REQUIRE_CLIENTS") != null) {
            throw new IllegalStateException("node-postgres is required but not installed in " + modules
                    + " (npm install --prefix target/node-clients pg@8)");
        }
        assumeTrue(present, "node-postgres not installed in " + modules);
        try (GatewayHarness gw = GatewayHarness.start(dir)) {
            Path script = dir.resolve("client.js");
            Files.writeString(script, SCRIPT);
            ClientTools.Result r = ClientTools.run(Map.of("NODE_PATH", modules.toString(), "PGPORT",
                    String.valueOf(gw.port()), "PGPASSWORD", gw.token(GatewayHarness.AGENT, Duration.ofMinutes(5))),
                    dir, node.toString(), script.toString());
            assertThat(r.exitCode()).as(r.output()).isZero();
            assertThat(r.output()).contains("\"id5\":5").contains("\"id6\":6").contains("\"err\":\"42P01\"")
                    .contains("\"multi\":2").contains("\"after\":42").contains("\"mrn\":\"");
            assertThat(gw.auditEventually("kind = 'statement_requested' and statement like 'select mrn, birth_date%'"
                    + " and parameters = '[\"3\"]'", 1)).hasSize(1);
            assertThat(gw.auditEventually("kind = 'statement_completed' and sqlstate = '42P01'", 1)).isNotEmpty();
        }
    }
}
