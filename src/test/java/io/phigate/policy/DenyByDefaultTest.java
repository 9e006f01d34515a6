package io.phigate.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.config.PolicyLoader;
import io.phigate.mask.PhiType;
import io.phigate.sql.Catalog;
import io.phigate.sql.ColumnRef;
import io.phigate.sql.Operation;
import io.phigate.sql.PgCatalog;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementFacts;
import io.phigate.sql.StatementFacts.FunctionCall;
import io.phigate.sql.StatementFacts.PredicateUse;
import io.phigate.sql.StatementKind;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The deny-by-default rules of a session that sees PHI masked, judged on hand-built analyses (milliseconds): the
 * function allowlist, the predicate rule with its lookup grant, and the risk rules read from the parse tree's facts.
 */
class DenyByDefaultTest {
    static final ColumnRef SSN = new ColumnRef("public", "patients", "ssn");
    static final ColumnRef MRN = new ColumnRef("public", "patients", "mrn");
    static final ColumnRef ID = new ColumnRef("public", "patients", "id");
    static final Function<ColumnRef, PhiType> MASKED = c -> c.equals(SSN) ? PhiType.SSN
            : c.equals(MRN) ? PhiType.MRN : null;

    static final PgCatalog CATALOG = PgCatalog.builder()
            .builtins("lower", "substr", "count", "query_to_xml", "lo_import", "pg_read_file", "set_config",
                    "current_setting", "pg_sleep", "dblink", "pg_table_is_visible", "format_type")
            .function("public", "phi_probe_fn")
            .function("public", "upper").function("pg_catalog", "upper")
            .function("information_schema", "_pg_expandarray")
            .build();

    static StatementAnalysis select(String text, StatementFacts facts) {
        return new StatementAnalysis(StatementKind.SELECT, Set.of(Operation.SELECT), Set.of(), Set.of(), List.of(),
                Set.of(), false, null, null, null, true, null, text, List.of(), null, false, facts);
    }

    static StatementFacts calls(FunctionCall... calls) {
        return new StatementFacts(List.of(calls), List.of(), false, false, Map.of(), null);
    }

    static String refusal(String text, FunctionCall... calls) {
        return refusal(CATALOG, Set.of(), text, calls);
    }

    static String refusal(Catalog catalog, Set<String> vetted, String text, FunctionCall... calls) {
        return FunctionAllowlist.builtIn().refusal(select(text, calls(calls)), catalog, vetted, "clinical");
    }

    @Test
    void vettedBuiltInsRunAndEverythingElseIsRefusedNamingThePolicyKey() {
        assertThat(refusal("select lower(x), count(*)", new FunctionCall(null, "lower"),
                new FunctionCall("pg_catalog", "count"))).isNull();
        assertThat(refusal("select query_to_xml('select ssn from patients', true, true, '')",
                new FunctionCall(null, "query_to_xml")))
                .contains("function query_to_xml").contains("phi.clinical.functions");
        assertThat(refusal("select lo_import('/etc/passwd')", new FunctionCall(null, "lo_import")))
                .contains("lo_import");
        assertThat(refusal("select pg_read_file('x')", new FunctionCall("pg_catalog", "pg_read_file")))
                .contains("pg_catalog.pg_read_file");
        assertThat(refusal("select pg_sleep(1)", new FunctionCall(null, "pg_sleep"))).contains("pg_sleep");
        assertThat(refusal("select dblink('x', 'y')", new FunctionCall(null, "dblink"))).contains("dblink");
        assertThat(refusal("select phi_probe_fn(1)", new FunctionCall(null, "phi_probe_fn")))
                .contains("function phi_probe_fn").contains("phi.clinical.functions");
    }

    @Test
    void policyVettedFunctionsRunByQualifiedOrBareName() {
        assertThat(refusal(CATALOG, Set.of("public.phi_probe_fn"), "select public.phi_probe_fn(1)",
                new FunctionCall("public", "phi_probe_fn"))).isNull();
        assertThat(refusal(CATALOG, Set.of("phi_probe_fn"), "select phi_probe_fn(1)",
                new FunctionCall(null, "phi_probe_fn"))).isNull();
    }

    @Test
    void aBareCallResolvesToTheQualifiedVettedFunctionOnlyWhenOneSchemaDefinesIt() {
        PgCatalog withPublic = PgCatalog.builder().searchPath("public")
                .function("public", "phi_probe_fn").function("public", "upper").function("pg_catalog", "upper")
                .function("audit", "phi_probe_fn").build();
        assertThat(refusal(withPublic, Set.of("public.phi_probe_fn"), "select phi_probe_fn(1)",
                new FunctionCall(null, "phi_probe_fn"))).isNull(); // audit is not on the path
        assertThat(refusal(withPublic, Set.of("public.upper"), "select upper(x)",
                new FunctionCall(null, "upper"))).contains("function upper"); // pg_catalog's could be the one
        assertThat(refusal(withPublic, Set.of("audit.phi_probe_fn"), "select phi_probe_fn(1)",
                new FunctionCall(null, "phi_probe_fn"))).contains("function phi_probe_fn");
    }

    @Test
    void anUnqualifiedBuiltInNameShadowedOnTheSearchPathIsNotTheBuiltIn() {
        assertThat(refusal("select upper(x)", new FunctionCall(null, "upper"))).contains("function upper");
        assertThat(refusal("select pg_catalog.upper(x)", new FunctionCall("pg_catalog", "upper"))).isNull();
    }

    @Test
    void informationSchemaHelpersRunByQualifiedName() {
        assertThat(refusal("select information_schema._pg_expandarray(a)",
                new FunctionCall("information_schema", "_pg_expandarray"))).isNull();
    }

    @Test
    void searchPathMayOnlyNarrowToWhatMaskingResolvesNamesBy() {
        FunctionCall setConfig = new FunctionCall("pg_catalog", "set_config");
        // pg_dump's first statement: unqualified names then resolve in pg_catalog only, as masking resolves them
        assertThat(refusal("SELECT pg_catalog.set_config('search_path', '', false)", setConfig)).isNull();
        assertThat(refusal("select set_config('search_path', 'pg_catalog', false)", setConfig)).isNull();
        assertThat(refusal("select set_config('search_path', 'pg_catalog, public', true)", setConfig)).isNull();
        assertThat(refusal("select set_config('search_path', 'public', false)", setConfig)).isNull();
        for (String widening : List.of("evil", "information_schema, public", "public, evil", "public, pg_catalog",
                "pg_temp", "\"$user\", public", "\"Public\"")) {
            assertThat(refusal("select set_config('search_path', '" + widening + "', false)", setConfig))
                    .as(widening).contains("set_config");
        }
        assertThat(refusal("select set_config('search_path', $1, false)", setConfig)).contains("set_config");
        assertThat(refusal("select set_config('search_path', '', is_local) from t", setConfig))
                .contains("set_config");
    }

    @Test
    void setConfigOfASettingNamedThroughPgSettingsRunsOnlyInPgDumpsForm() {
        FunctionCall setConfig = new FunctionCall(null, "set_config");
        assertThat(refusal("SELECT set_config(name, 'view, foreign-table', false) FROM pg_settings"
                + " WHERE name = 'restrict_nonsystem_relation_kind'", setConfig)).isNull();
        assertThat(refusal("SELECT set_config(name, 'x', false) FROM pg_settings WHERE name = 'role'", setConfig))
                .contains("set_config");
        assertThat(refusal("SELECT set_config(name, 'x', false) FROM pg_settings WHERE name <> 'work_mem'",
                setConfig)).contains("set_config");
        assertThat(refusal("SELECT set_config(name, 'x', false) FROM pg_settings WHERE name = 'work_mem'"
                + " OR true", setConfig)).contains("set_config");
        assertThat(refusal("SELECT set_config(name, 'x', false) FROM pg_settings, t WHERE name = 'work_mem'",
                setConfig)).contains("set_config");
        assertThat(refusal("SELECT set_config(name, 'x', false) FROM evil.pg_settings WHERE name = 'work_mem'",
                setConfig)).contains("set_config");
    }

    @Test
    void setConfigRunsOnlyForHarmlessSettingsWithConstantArguments() {
        FunctionCall setConfig = new FunctionCall(null, "set_config");
        assertThat(refusal("select set_config('application_name', 'x', false)", setConfig)).isNull();
        assertThat(refusal("select pg_catalog.set_config('statement_timeout', $1, true)", setConfig)).isNull();
        assertThat(refusal("select set_config('search_path', 'evil', false)", setConfig)).contains("set_config");
        assertThat(refusal("select set_config('role', 'postgres', false)", setConfig)).contains("set_config");
        assertThat(refusal("select set_config('application_name', (select ssn from patients limit 1), false)",
                setConfig)).contains("set_config");
        assertThat(refusal("select set_config(name, 'x', false) from t", setConfig)).contains("set_config");
        assertThat(refusal("select set_config('client_encoding', 'UTF8', false)", setConfig)).isNull();
    }

    /** In every analysed session, masked or not (decision 0057). */
    @Test
    void theSettingsPhigateReadsStatementsBySetOnlyToItsValuesAsConstants() {
        FunctionCall setConfig = new FunctionCall(null, "set_config");
        java.util.function.Function<String, String> reading = text -> FunctionAllowlist.readingSettingRefusal(
                select(text, calls(setConfig)));
        assertThat(reading.apply("select set_config('client_encoding', 'SJIS', false)")).contains("client_encoding");
        assertThat(reading.apply("select set_config('Client_Encoding', 'utf8', false)")).isNull();
        assertThat(reading.apply("select set_config('client_encoding', $1, false)")).contains("client_encoding");
        assertThat(reading.apply("select set_config('standard_conforming_strings', 'off', false)"))
                .contains("standard_conforming_strings");
        assertThat(reading.apply("select set_config('standard_conforming_strings', 'on', true)")).isNull();
        assertThat(reading.apply("select set_config($1, 'on', false)")).contains("constant");
        assertThat(reading.apply("select set_config(new_value => 'off', setting_name => 'x.y', is_local => false)"))
                .contains("constant");
        assertThat(reading.apply("select set_config('statement_timeout', $1, false)")).isNull();
        assertThat(reading.apply("select lower('x')")).isNull();
        // A cast that cuts the text short names another setting to the server than the one the gateway read.
        assertThat(reading.apply("select set_config('client_encoding.x'::varchar(15), 'SJIS', false)"))
                .contains("constant");
        assertThat(reading.apply("select set_config('client_encoding.x'::char(15), 'SJIS', false)"))
                .contains("constant");
        assertThat(reading.apply("select set_config('standard_conforming_strings'::text, 'on'::varchar, false)"))
                .isNull();
    }

    @Test
    void currentSettingRunsWithAConstantNameOnly() {
        FunctionCall current = new FunctionCall(null, "current_setting");
        assertThat(refusal("select current_setting('server_version_num')", current)).isNull();
        assertThat(refusal("select current_setting(ssn) from patients", current)).contains("constant");
    }

    @Test
    void operatorsDefinedOutsidePgCatalogAreRefusedUnlessVetted() {
        PgCatalog withOperator = PgCatalog.builder().builtins("lower").function("pg_catalog", "operator =")
                .function("public", "operator ===").build();
        assertThat(refusal(withOperator, Set.of(), "select 1 where 'a' = 'b'")).isNull();
        assertThat(refusal(withOperator, Set.of(), "select 1 where ssn === 'b'")).contains("operator ===")
                .contains("phi.clinical.functions");
        assertThat(refusal(withOperator, Set.of(), "select 1 where ssn OPERATOR(public.===) 'b'"))
                .contains("operator public.===");
        assertThat(refusal(withOperator, Set.of(), "select 1 order by x using ===")).contains("operator ===");
        assertThat(refusal(withOperator, Set.of("==="), "select 1 where ssn === 'b'")).isNull();
    }

    @Test
    void aPredicateOverMaskedPhiIsRefusedNamingColumnClauseAndKey() {
        List<PredicateUse> attack = List.of(new PredicateUse(ID, "WHERE", true),
                new PredicateUse(SSN, "WHERE", false));
        assertThat(PredicateRule.refusal(attack, MASKED, Set.of(PhiType.SSN), "agent"))
                .contains("public.patients.ssn").contains("WHERE").contains("roles[agent].lookup");
        for (String clause : List.of("ORDER BY", "JOIN", "HAVING", "GROUP BY", "LIMIT", "CASE", "window PARTITION BY")) {
            assertThat(PredicateRule.refusal(List.of(new PredicateUse(SSN, clause, false)), MASKED, Set.of(), null))
                    .as(clause).contains(clause).contains("roles[].lookup");
        }
    }

    @Test
    void anEqualityLookupRunsOnlyWhereTheRoleGrantsItsType() {
        List<PredicateUse> lookup = List.of(new PredicateUse(MRN, "WHERE", true));
        assertThat(PredicateRule.refusal(lookup, MASKED, Set.of(PhiType.MRN), "agent")).isNull();
        assertThat(PredicateRule.lookups(select("select id from patients where mrn = $1",
                new StatementFacts(List.of(), lookup, false, false, Map.of(), null)), CATALOG, MASKED,
                Set.of(PhiType.MRN))).containsEntry("public.patients.mrn", "lookup:mrn");
        assertThat(PredicateRule.refusal(lookup, MASKED, Set.of(PhiType.SSN), "agent")).contains("mrn");
        assertThat(PredicateRule.refusal(lookup, MASKED, Set.of(), "agent")).contains("roles[agent].lookup: [mrn]");
    }

    static final ColumnRef LAB_MRN = new ColumnRef("public", "labs", "mrn");
    static final PgCatalog TABLES = PgCatalog.builder().table(1, "public", "patients", "id", "mrn", "ssn")
            .table(2, "public", "labs", "mrn", "result").builtins("substr").build();
    static final Function<ColumnRef, PhiType> MASKED_KEYS = c -> c.column().equals("mrn") ? PhiType.MRN
            : c.equals(SSN) ? PhiType.SSN : null;

    static String join(String text, Set<PhiType> lookups, PredicateUse... uses) {
        return PredicateRule.refusal(select(text, new StatementFacts(List.of(), List.of(uses), false, false,
                Map.of(), null)), TABLES, MASKED_KEYS, lookups, "agent");
    }

    @Test
    void maskedKeysJoinByEqualityWithEachOtherWhereTheLookupIsGranted() {
        // The uses as the analysis records them: each side of a.mrn = b.mrn names the other (decision 0094).
        PredicateUse p = new PredicateUse(MRN, "JOIN", false, LAB_MRN);
        PredicateUse l = new PredicateUse(LAB_MRN, "JOIN", false, MRN);
        Set<PhiType> mrn = Set.of(PhiType.MRN);
        assertThat(join("select count(*) from patients p join labs l on p.mrn = l.mrn", mrn, p, l)).isNull();
        assertThat(join("select count(*) from patients p, labs l where l.mrn = p.mrn and p.id < 5", mrn,
                new PredicateUse(MRN, "WHERE", false, LAB_MRN), new PredicateUse(LAB_MRN, "WHERE", false, MRN)))
                .isNull();
        assertThat(join("select count(*) from patients p join labs l on p.mrn = l.mrn", Set.of(), p, l))
                .contains("roles[agent].lookup");
        // The same column also compared with a guess: that use is judged on its own.
        assertThat(join("select count(*) from patients p join labs l on p.mrn = l.mrn and substr(p.mrn, 1, 1) = 'M'",
                mrn, p, l, new PredicateUse(MRN, "JOIN", false))).contains("public.patients.mrn");
        // Compared with generated values rather than another masked column: enumeration, refused.
        assertThat(join("select v.m from patients p join (select 'M' || g as mrn from generate_series(1, 9) g) v"
                + " on p.mrn = v.mrn", mrn, new PredicateUse(MRN, "JOIN", false))).contains("public.patients.mrn");
        // Two masked columns of different types are not a join on a key.
        assertThat(join("select 1 from patients p join labs l on p.ssn = l.mrn", mrn,
                new PredicateUse(SSN, "JOIN", false, LAB_MRN), new PredicateUse(LAB_MRN, "JOIN", false, SSN)))
                .contains("public.patients.ssn");
        assertThat(join("select 1 from patients p join labs l on p.mrn = l.mrn order by p.mrn", mrn, p, l,
                new PredicateUse(MRN, "ORDER BY", false))).contains("ORDER BY");
    }

    @Test
    void predicatesOverUntaggedOrUnmaskedColumnsAreFree() {
        assertThat(PredicateRule.refusal(List.of(new PredicateUse(ID, "ORDER BY", false)), MASKED, Set.of(), "a"))
                .isNull();
        assertThat(PredicateRule.refusal(List.of(new PredicateUse(SSN, "ORDER BY", false)), c -> null, Set.of(), "a"))
                .isNull();
    }

    @Test
    void theLookupGrantIsReadFromThePolicyFileWithLinePreciseErrors() throws Exception {
        Policy p = PolicyLoader.parse("""
                roles:
                  - { name: agent, match: { subject: "a*" }, upstreams: ["*"], lookup: [mrn, ssn] }
                """, Path.of("."), "policy.yaml");
        assertThat(p.roles().getFirst().lookup()).containsExactlyInAnyOrder(PhiType.MRN, PhiType.SSN);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> PolicyLoader.parse("""
                roles:
                  - { name: agent, match: { subject: "a*" }, upstreams: ["*"], lookup: [mrm] }
                """, Path.of("."), "policy.yaml")).hasMessageContaining("policy.yaml:2").hasMessageContaining("mrm");
    }

    @Test
    void riskRulesJudgeLimitAndWhereOnTheParseTreesFacts() throws Exception {
        Policy p = PolicyLoader.parse("""
                rules:
                  - { name: bulk, when: { phi_without_limit: true }, deny: "add a LIMIT" }
                  - { name: wipe, when: { no_where: true }, deny: "add a WHERE" }
                """, Path.of("."), "policy.yaml");
        StatementFacts unlimited = new StatementFacts(List.of(), List.of(), false, true, Map.of(), null);
        StatementFacts unfiltered = new StatementFacts(List.of(), List.of(), true, false, Map.of(), null);
        RiskRules.Facts phi = new RiskRules.Facts() {
            public boolean touchesPhi(StatementAnalysis s) {
                return true;
            }

            public Set<PhiType> phiRead(StatementAnalysis s) {
                return Set.of(PhiType.SSN);
            }

            public Set<PhiType> unmaskedRead(StatementAnalysis s) {
                return Set.of();
            }

            public Set<PhiType> phiTouched(StatementAnalysis s) {
                return Set.of(PhiType.SSN);
            }

            public long rowEstimate(StatementAnalysis s) {
                return -1;
            }

            public boolean runsCodeWhenTouched(StatementAnalysis s) {
                return false;
            }
        };
        // LIMIT ALL reads as a limit on its text; the grammar's facts say it is none.
        assertThat(RiskRules.evaluate(p.rules(), null, List.of(select("select ssn from patients limit all",
                unlimited)), phi, Instant.now()).rule().name()).isEqualTo("bulk");
        // A DELETE inside a CTE: the statement is a SELECT with a WHERE, but the DELETE has none.
        assertThat(RiskRules.evaluate(p.rules(), null, List.of(select("with d as (delete from t returning 1)"
                + " select * from d where true limit 1", unfiltered)), phi, Instant.now()).rule().name())
                .isEqualTo("wipe");
        assertThat(RiskRules.evaluate(p.rules(), null, List.of(select("select ssn from patients limit 5",
                new StatementFacts(List.of(), List.of(), false, false, Map.of(), null))), phi, Instant.now()))
                .isNull();
    }
}
