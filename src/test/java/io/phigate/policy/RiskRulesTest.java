package io.phigate.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.config.ConfigException;
import io.phigate.config.PolicyLoader;
import io.phigate.mask.PhiType;
import io.phigate.sql.Operation;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementKind;
import io.phigate.sql.TableRef;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RiskRulesTest {
    static final Instant NOON_UTC = Instant.parse("2026-11-25T12:00:00Z");
    static final Instant NIGHT_UTC = Instant.parse("2026-11-25T23:00:00Z");

    static Policy policy() throws ConfigException {
        return PolicyLoader.parse("""
                approvers:
                  phi-approvers:
                    match: { issuer: "https://login.hospital.example", claims: { groups: "phi-approvers" } }
                roles:
                  - { name: agent, match: { subject: "agent*" }, upstreams: ["*"] }
                  - { name: dba, match: { subject: "dba*" }, upstreams: ["*"] }
                rules:
                  - name: no-grants
                    when: { operations: [grant] }
                    deny: "grants are made by the DBA team"
                  - name: wipe
                    when: { operations: [delete, update], no_where: true }
                    require_approval: { group: phi-approvers, approvers: 2, timeout: 15m }
                  - name: night
                    when: { operations: [select], tables: [patients], during: [{ from: "19:00", to: "07:00" }] }
                    require_approval: { group: phi-approvers, mode: ticket, valid_for: 30m, uses: 3 }
                  - name: agent-writes
                    when: { operations: [delete, update, truncate, ddl, copy], roles: [agent] }
                    require_approval: { group: phi-approvers }
                """, Path.of("."), "policy.yaml");
    }

    static StatementAnalysis stmt(StatementKind kind, Operation op, String text, TableRef... tables) {
        Set<TableRef> t = Set.of(tables);
        boolean write = op != Operation.SELECT;
        // The rules judge facts read from the server's parse tree: take them from the analyser itself.
        io.phigate.sql.StatementFacts read = new io.phigate.sql.SqlAnalyzer(io.phigate.sql.Catalog.EMPTY)
                .analyze(text).getFirst().facts();
        // The tables given are the catalog's: none of the writes is to a relation it does not know.
        io.phigate.sql.StatementFacts facts = new io.phigate.sql.StatementFacts(read.functions(), read.predicates(),
                read.unfilteredWrite(), read.unlimited(), read.options(), read.copyEndpoint());
        return new StatementAnalysis(kind, Set.of(op), write ? Set.of() : t, write ? t : Set.of(), List.of(), Set.of(),
                false, null, null, null, true, null, text, List.of(), null, false, facts);
    }

    static final TableRef PATIENTS = new TableRef("public", "patients");

    private static String fired(Policy p, String role, StatementAnalysis s, Instant at) {
        Role r = role == null ? null : p.roles().stream().filter(x -> x.name().equals(role)).findFirst().orElseThrow();
        RiskRules.Hit hit = RiskRules.evaluate(p.rules(), r, List.of(s), a -> false, at);
        return hit == null ? null : hit.rule().name();
    }

    @Test
    void codeTheAnalyserCannotFollowMeetsEveryConditionOnWhatItDoes() throws Exception {
        Policy p = PolicyLoader.parse("""
                approvers:
                  dba: { match: { issuer: "https://login.hospital.example" } }
                rules:
                  - name: held-deletes
                    when: { operations: [delete], tables: [public.encounters], no_where: true, rows_over: 1000 }
                    require_approval: { group: dba }
                """, Path.of("."), "policy.yaml");
        io.phigate.sql.SqlAnalyzer analyzer = new io.phigate.sql.SqlAnalyzer(io.phigate.sql.Catalog.EMPTY);
        for (String sql : List.of("DO $$ BEGIN DELETE FROM encounters; END $$", "SELECT public.archive_all()",
                "SELECT id FROM patients WHERE reporting.purge(id)")) {
            RiskRules.Hit hit = RiskRules.evaluate(p.rules(), null, analyzer.analyze(sql), a -> false, NOON_UTC);
            assertThat(hit).as(sql).isNotNull();
        }
        assertThat(RiskRules.evaluate(p.rules(), null, analyzer.analyze("SELECT lower('x') FROM patients"),
                a -> false, NOON_UTC)).isNull();
    }

    /**
     * An ALTER TABLE of keys and NOT NULL (pgbench's primary keys) installs no code: judged as the write it is. One
     * that enables a trigger or rule, sets a default, adds a CHECK or a cascading foreign key puts code or writes
     * where no rule looks, so it meets every condition on what a statement does (decision 0068).
     */
    @Test
    void onlyAnAlterTableOfKeysAndNotNullIsJudgedAsThePlainWriteItIs() throws Exception {
        Policy p = PolicyLoader.parse("""
                approvers:
                  dba: { match: { issuer: "https://login.hospital.example" } }
                rules:
                  - name: held-truncate
                    when: { operations: [truncate] }
                    require_approval: { group: dba }
                """, Path.of("."), "policy.yaml");
        io.phigate.sql.SqlAnalyzer analyzer = new io.phigate.sql.SqlAnalyzer(io.phigate.sql.Catalog.EMPTY);
        for (String plain : List.of("ALTER TABLE pgbench_branches ADD PRIMARY KEY (bid)",
                "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a, b), ALTER COLUMN c SET NOT NULL",
                "ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES u (id)", "ALTER TABLE t DROP CONSTRAINT u")) {
            assertThat(RiskRules.evaluate(p.rules(), null, analyzer.analyze(plain), a -> false, NOON_UTC)).as(plain)
                    .isNull();
        }
        for (String code : List.of("ALTER TABLE t ENABLE TRIGGER purge", "ALTER TABLE t ENABLE ALWAYS RULE r",
                "ALTER TABLE t ALTER COLUMN a SET DEFAULT nextval('s')", "ALTER TABLE t ADD CHECK (a > 0)",
                "ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES u (id) ON DELETE CASCADE",
                "ALTER TABLE t ADD PRIMARY KEY (id), ENABLE ROW LEVEL SECURITY", "ALTER TABLE t ADD COLUMN z int",
                "ALTER TABLE t ATTACH PARTITION t1 FOR VALUES IN (1)", "ALTER TABLE t OWNER TO someone")) {
            assertThat(RiskRules.evaluate(p.rules(), null, analyzer.analyze(code), a -> false, NOON_UTC)).as(code)
                    .isNotNull();
        }
    }

    /** TRUNCATE empties its tables as a DELETE without a WHERE does: rules written for deletes hold it (0099). */
    @Test
    void truncateIsADeleteWithoutAWhereToTheRules() throws Exception {
        Policy p = PolicyLoader.parse("""
                rules:
                  - { name: wipe, when: { operations: [delete], no_where: true }, deny: "add a WHERE" }
                  - { name: any-wipe, when: { no_where: true }, deny: "add a WHERE" }
                  - { name: updates, when: { operations: [update] }, deny: "no updates" }
                """, Path.of("."), "policy.yaml");
        io.phigate.sql.SqlAnalyzer analyzer = new io.phigate.sql.SqlAnalyzer(io.phigate.sql.Catalog.EMPTY);
        for (String truncate : List.of("TRUNCATE patients", "TRUNCATE ONLY patients, encounters CASCADE")) {
            RiskRules.Hit hit = RiskRules.evaluate(p.rules(), null, analyzer.analyze(truncate), a -> false, NOON_UTC);
            assertThat(hit).as(truncate).isNotNull();
            assertThat(hit.rule().name()).as(truncate).isEqualTo("wipe");
        }
        assertThat(RiskRules.evaluate(List.of(p.rules().get(1)), null, analyzer.analyze("TRUNCATE patients"),
                a -> false, NOON_UTC)).as("no_where alone").isNotNull();
        assertThat(RiskRules.evaluate(List.of(p.rules().get(2)), null, analyzer.analyze("TRUNCATE patients"),
                a -> false, NOON_UTC)).as("a truncate is not an update").isNull();
        assertThat(RiskRules.evaluate(p.rules(), null, analyzer.analyze("DELETE FROM patients WHERE id = 1"),
                a -> false, NOON_UTC)).isNull();
    }

    @Test
    void firstMatchingRuleDecides() throws Exception {
        Policy p = policy();
        assertThat(fired(p, "dba", stmt(StatementKind.GRANT, Operation.GRANT, "GRANT SELECT ON patients TO x", PATIENTS),
                NOON_UTC)).isEqualTo("no-grants");
        assertThat(fired(p, "dba", stmt(StatementKind.DELETE, Operation.DELETE, "DELETE FROM patients", PATIENTS),
                NOON_UTC)).isEqualTo("wipe");
        assertThat(fired(p, "dba", stmt(StatementKind.DELETE, Operation.DELETE, "DELETE FROM patients WHERE id = 1",
                PATIENTS), NOON_UTC)).isNull();
        assertThat(fired(p, "agent", stmt(StatementKind.DELETE, Operation.DELETE, "DELETE FROM patients WHERE id = 1",
                PATIENTS), NOON_UTC)).isEqualTo("agent-writes");
        assertThat(fired(p, null, stmt(StatementKind.COPY_FROM, Operation.COPY, "COPY patients FROM STDIN", PATIENTS),
                NOON_UTC)).as("a rule naming roles never fires for a session without one").isNull();
        assertThat(fired(p, null, stmt(StatementKind.TRUNCATE, Operation.TRUNCATE, "TRUNCATE patients", PATIENTS),
                NOON_UTC)).as("a truncate is a delete without a WHERE").isEqualTo("wipe");
    }

    @Test
    void timeOfDayAndTables() throws Exception {
        Policy p = policy();
        StatementAnalysis read = stmt(StatementKind.SELECT, Operation.SELECT, "SELECT * FROM patients", PATIENTS);
        assertThat(fired(p, "dba", read, NOON_UTC)).isNull();
        assertThat(fired(p, "dba", read, NIGHT_UTC)).isEqualTo("night");
        assertThat(fired(p, "dba", stmt(StatementKind.SELECT, Operation.SELECT, "SELECT * FROM encounters",
                new TableRef("public", "encounters")), NIGHT_UTC)).isNull();
        RiskRule night = p.rules().get(2);
        assertThat(night.approval().mode()).isEqualTo(RiskRule.Mode.TICKET);
        assertThat(night.approval().validFor()).isEqualTo(Duration.ofMinutes(30));
        assertThat(night.approval().uses()).isEqualTo(3);
        assertThat(p.rules().get(1).approval().approvers()).isEqualTo(2);
    }

    @Test
    void aTableCreatedWithAQuotedMixedCaseNameMatchesItsRule() throws Exception {
        // The rule names "patients" as a person writes it; an ORM created the table as "Patients".
        assertThat(fired(policy(), "dba", stmt(StatementKind.SELECT, Operation.SELECT, "SELECT * FROM \"Patients\"",
                new TableRef("public", "Patients")), NIGHT_UTC)).isEqualTo("night");
    }

    @Test
    void anUnparsedStatementFiresEveryRuleItsRoleAndTimeAllow() throws Exception {
        Policy p = policy();
        assertThat(fired(p, "dba", StatementAnalysis.unparsed("DELETE FROM patients +++", "syntax"), NOON_UTC))
                .isEqualTo("no-grants");
    }

    @Test
    void rulesAreReadStrictlyWithTheirLines() {
        assertThatThrownBy(() -> PolicyLoader.parse("""
                approvers:
                  ops:
                    match: { claims: { groups: ops } }
                rules:
                  - name: r1
                    when: { operations: [delet], roles: [nobody] }
                    require_approval: { group: opps, mode: later, timeout: 0s }
                  - name: r2
                    when: { operations: [grant] }
                  - name: r3
                    when: { operations: [grant] }
                    deny: "no"
                    require_approval: { group: ops }
                """, Path.of("."), "policy.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("policy.yaml:3: approvers.ops.match: an approver group must name the issuer")
                .hasMessageContaining("policy.yaml:6: rules[0].when.operations: unknown operation \"delet\"; did you mean \"delete\"?")
                .hasMessageContaining("rules[0].when.roles: no role named \"nobody\"")
                .hasMessageContaining("policy.yaml:7: rules[0].require_approval.group: no approver group \"opps\"")
                .hasMessageContaining("rules[0].require_approval.mode")
                .hasMessageContaining("rules[0].require_approval.timeout: must be longer than zero")
                .hasMessageContaining("rules[1].name: a rule needs either require_approval or deny")
                .hasMessageContaining("rules[2].deny: a rule has either require_approval or deny, not both");
    }

    /** Facts a test sets by hand; counts how often the planner is asked. */
    static final class Facts implements RiskRules.Facts {
        Set<PhiType> read = Set.of();
        Set<PhiType> unmasked = Set.of();
        long estimate = -1;
        int estimates;

        @Override
        public boolean touchesPhi(StatementAnalysis s) {
            return !read.isEmpty();
        }

        @Override
        public Set<PhiType> phiRead(StatementAnalysis s) {
            return read;
        }

        @Override
        public Set<PhiType> unmaskedRead(StatementAnalysis s) {
            return unmasked;
        }

        @Override
        public Set<PhiType> phiTouched(StatementAnalysis s) {
            return read;
        }

        @Override
        public boolean runsCodeWhenTouched(StatementAnalysis s) {
            return false;
        }

        @Override
        public long rowEstimate(StatementAnalysis s) {
            estimates++;
            return estimate;
        }
    }

    static Policy dataRules() throws ConfigException {
        return PolicyLoader.parse("""
                approvers:
                  phi-approvers:
                    match: { issuer: "https://login.hospital.example", claims: { groups: "phi-approvers" } }
                rules:
                  - name: ssn-in-clear
                    when: { unmasked_phi: [ssn, mrn] }
                    require_approval: { group: phi-approvers }
                  - name: any-clear
                    when: { operations: [select], unmasked_phi: true, tables: [encounters] }
                    require_approval: { group: phi-approvers }
                  - name: bulk-phi
                    when: { phi_without_limit: true }
                    require_approval: { group: phi-approvers, mode: ticket }
                  - name: big-delete
                    when: { operations: [delete], tables: [patients], rows_over: 100 }
                    require_approval: { group: phi-approvers }
                """, Path.of("."), "policy.yaml");
    }

    private static String fired(Policy p, StatementAnalysis s, Facts f) {
        RiskRules.Hit hit = RiskRules.evaluate(p.rules(), null, List.of(s), f, NOON_UTC);
        return hit == null ? null : hit.rule().name();
    }

    @Test
    void unmaskedPhiFiresOnlyForTheTypesTheRoleSeesInTheClear() throws Exception {
        Policy p = dataRules();
        StatementAnalysis read = stmt(StatementKind.SELECT, Operation.SELECT, "SELECT ssn FROM patients LIMIT 1",
                PATIENTS);
        Facts f = new Facts();
        f.read = Set.of(PhiType.SSN);
        assertThat(fired(p, read, f)).as("ssn read masked").isNull();
        f.unmasked = Set.of(PhiType.SSN);
        assertThat(fired(p, read, f)).isEqualTo("ssn-in-clear");
        f.read = Set.of(PhiType.NAME);
        f.unmasked = Set.of(PhiType.NAME);
        assertThat(fired(p, read, f)).as("name is not listed; true covers every type, on encounters").isNull();
        assertThat(fired(p, stmt(StatementKind.SELECT, Operation.SELECT, "SELECT notes FROM encounters LIMIT 1",
                new TableRef("public", "encounters")), f)).isEqualTo("any-clear");
    }

    @Test
    void phiWithoutLimitFiresForUnboundedPhiSelectsOnly() throws Exception {
        Policy p = dataRules();
        Facts f = new Facts();
        f.read = Set.of(PhiType.NAME);
        for (String bounded : List.of("SELECT last_name FROM patients LIMIT 10",
                "SELECT last_name FROM patients ORDER BY id FETCH FIRST 5 ROWS ONLY",
                "SELECT last_name FROM patients OFFSET 3 FETCH NEXT 1 ROW ONLY")) {
            assertThat(fired(p, stmt(StatementKind.SELECT, Operation.SELECT, bounded, PATIENTS), f)).as(bounded).isNull();
        }
        // LIMIT $1 is no limit: EXECUTE or Bind may give it NULL.
        for (String unbounded : List.of("SELECT last_name FROM patients", "SELECT last_name FROM patients LIMIT ALL",
                "SELECT last_name FROM patients LIMIT $1",
                "SELECT * FROM (SELECT last_name FROM patients LIMIT 5) x, patients", "SELECT 'limit' FROM patients")) {
            assertThat(fired(p, stmt(StatementKind.SELECT, Operation.SELECT, unbounded, PATIENTS), f)).as(unbounded)
                    .isEqualTo("bulk-phi");
        }
        assertThat(fired(p, stmt(StatementKind.COPY_TO, Operation.COPY, "COPY (SELECT last_name FROM patients) TO STDOUT",
                PATIENTS), f)).as("COPY (query) TO STDOUT returns the query's rows").isEqualTo("bulk-phi");
        assertThat(fired(p, stmt(StatementKind.COPY_TO, Operation.COPY,
                "COPY (SELECT last_name FROM patients LIMIT 5) TO STDOUT", PATIENTS), f)).isNull();
        f.read = Set.of();
        assertThat(fired(p, stmt(StatementKind.SELECT, Operation.SELECT, "SELECT id FROM patients", PATIENTS), f))
                .as("a result without PHI").isNull();
    }

    @Test
    void rowsOverAsksThePlannerLastAndFailsClosed() throws Exception {
        Policy p = dataRules();
        Facts f = new Facts();
        StatementAnalysis other = stmt(StatementKind.DELETE, Operation.DELETE, "DELETE FROM encounters",
                new TableRef("public", "encounters"));
        assertThat(fired(p, other, f)).isNull();
        assertThat(f.estimates).as("no planner call when the other conditions already fail").isZero();
        StatementAnalysis delete = stmt(StatementKind.DELETE, Operation.DELETE, "DELETE FROM patients WHERE id > 1",
                PATIENTS);
        f.estimate = 40;
        assertThat(fired(p, delete, f)).isNull();
        f.estimate = 4000;
        RiskRules.Hit hit = RiskRules.evaluate(p.rules(), null, List.of(delete), f, NOON_UTC);
        assertThat(hit.rule().name()).isEqualTo("big-delete");
        assertThat(hit.rowEstimate()).isEqualTo(4000L);
        f.estimate = -1;
        hit = RiskRules.evaluate(p.rules(), null, List.of(delete), f, NOON_UTC);
        assertThat(hit.rule().name()).as("an estimate that fails matches").isEqualTo("big-delete");
        assertThat(hit.rowEstimate()).isNull();
    }

    @Test
    void newConditionsAreReadStrictlyWithTheirLines() {
        assertThatThrownBy(() -> PolicyLoader.parse("""
                approvers:
                  ops:
                    match: { issuer: "https://idp", claims: { groups: ops } }
                rules:
                  - name: r1
                    when: { rows_over: -5, phi_without_limit: maybe }
                    require_approval: { group: ops }
                  - name: r2
                    when: { unmasked_phi: [snn] }
                    require_approval: { group: ops }
                """, Path.of("."), "policy.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("policy.yaml:6: rules[0].when.rows_over: must be between 0 and")
                .hasMessageContaining("policy.yaml:6: rules[0].when.phi_without_limit: expected true or false")
                .hasMessageContaining("policy.yaml:9: rules[1].when.unmasked_phi: unknown PHI type \"snn\"; did you mean \"ssn\"?");
    }
}
