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
 * node-postgres in a masked session (issues 25 and 23): a temporary table the session fills with its own values
 * reads back as written, a temporary table shadowing the PHI table stays masked, and a NULL the gateway substitutes
 * comes with a notice naming the column and the rule. Skips without node-postgres, as {@link NodePostgresTest}.
 */
class MaskedNodePostgresTest {
    @TempDir
    Path dir;

    private static final String SCRIPT = """
            const { Client } = require('pg');
            (async () => {
              const c = new Client({ host: '127.0.0.1', port: +process.env.PGPORT, user: 'node-agent',
                                     password: process.env.PGPASSWORD, database: 'clinical', ssl: false });
              const notices = [];
              c.on('notice', n => notices.push(n.message));
              await c.connect();
              const out = {};
              await c.query('create temp table visits_note (id int, note text, seen date)');
              await c.query("insert into visits_note values ($1, $2, $3)", [1, 'ankle', '2024-03-01']);
              await c.query("insert into visits_note values (2, 'knee', null)");
              out.rows = (await c.query('select id, note, seen is null as undated from visits_note order by id')).rows;
              await c.query('create temp table patients (ssn text)');
              await c.query("insert into patients values ('mine')");
              out.shadow = (await c.query('select ssn from patients')).rows[0].ssn;
              out.len = (await c.query('select length(ssn) as ssn_length from public.patients order by id limit 5'))
                  .rows.map(r => r.ssn_length);
              out.notices = notices;
              console.log(JSON.stringify(out));
              await c.end();
            })().catch(e => { console.error(e.message); process.exit(1); });
            """;

    @Test
    void temporaryTablesReadBackAndSubstitutedNullsAreExplained() throws Exception {
        Path node = ClientTools.find("node");
        Path modules = Path.of(System.getenv().getOrDefault("PHIGATE_NODE_MODULES", "target/node-clients/node_modules"))
                .toAbsolutePath();
        boolean present = Files.isDirectory(modules.resolve("pg"));
        if (!present && System.getenv("PHIGATE_REQUIRE_CLIENTS") != null) {
            throw new IllegalStateException("node-postgres is required but not installed in " + modules);
        }
        assumeTrue(present, "node-postgres not installed in " + modules);
        try (GatewayHarness gw = GatewayHarness.startWithPolicy(dir, """
                phi:
                  clinical:
                    columns:
                      public.patients.ssn: ssn
                masking:
                  key_file: masking.key
                """)) {
            Path script = dir.resolve("client.js");
            Files.writeString(script, SCRIPT);
            ClientTools.Result r = ClientTools.run(Map.of("NODE_PATH", modules.toString(), "PGPORT",
                    String.valueOf(gw.port()), "PGPASSWORD", gw.token(GatewayHarness.AGENT, Duration.ofMinutes(5))),
                    dir, node.toString(), script.toString());
            assertThat(r.exitCode()).as(r.output()).isZero();
            assertThat(r.output())
                    .contains("\"rows\":[{\"id\":1,\"note\":\"ankle\",\"undated\":false},"
                            + "{\"id\":2,\"note\":\"knee\",\"undated\":true}]")
                    .doesNotContain("\"shadow\":\"mine\"")
                    .contains("\"len\":[null,null,null,null,null]")
                    .contains("column \\\"ssn_length\\\" is NULL in every row: it derives from public.patients.ssn (ssn)");
            assertThat(r.output().split("is NULL in every row", -1)).as("one notice for the statement").hasSize(2);
        }
    }
}
