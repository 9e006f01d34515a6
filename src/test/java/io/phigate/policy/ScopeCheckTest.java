package io.phigate.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.sql.Operation;
import io.phigate.sql.PgCatalog;
import io.phigate.sql.SqlAnalyzer;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementKind;
import io.phigate.sql.TableRef;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ScopeCheckTest {
    private static final TableRef PATIENTS = new TableRef("public", "patients");
    private static final TableRef ENCOUNTERS = new TableRef("public", "encounters");
    private static final TableRef SECRET = new TableRef("admin", "keys");

    private static Role role(Role.Allow... allow) {
        return new Role("triage-agent", new Match(null, null, Map.of()), List.of("clinical"), List.of(allow), Set.of(),
                Map.of(), Role.Justification.OPTIONAL, 100, List.of(), null);
    }

    private static Role.Allow allow(List<String> tables, Operation... ops) {
        return new Role.Allow(tables, EnumSet.copyOf(List.of(ops)));
    }

    private static StatementAnalysis stmt(StatementKind kind, Set<Operation> ops, Set<TableRef> reads,
                                          Set<TableRef> writes, Set<String> functions) {
        return new StatementAnalysis(kind, ops, reads, writes, List.of(), functions, false, null, null, null, true, null,
                "-- text");
    }

    private static StatementAnalysis select(TableRef... tables) {
        return stmt(StatementKind.SELECT, Set.of(Operation.SELECT), Set.of(tables), Set.of(), Set.of());
    }

    private static StatementAnalysis set(String name, String value) {
        return new StatementAnalysis(StatementKind.SET, Set.of(Operation.UTILITY), Set.of(), Set.of(), List.of(),
                Set.of(), false, null, name, value, true, null, "SET ...");
    }

    private static final Role READER = role(allow(List.of("public.*"), Operation.SELECT));

    @Test
    void writesNoTableNamesAreRefusedToASelectOnlyRole() {
        // LOCK, ANALYZE, SELECT ... FOR UPDATE and nextval are read as updates of the table or sequence.
        StatementAnalysis lock = stmt(StatementKind.OTHER, Set.of(Operation.UPDATE), Set.of(), Set.of(PATIENTS),
                Set.of());
        assertThat(ScopeCheck.check(READER, List.of(lock)).message()).contains("UPDATE on public.patients");
        StatementAnalysis vacuumAll = stmt(StatementKind.VACUUM_ANALYZE, Set.of(Operation.UPDATE), Set.of(), Set.of(),
                Set.of());
        assertThat(ScopeCheck.check(READER, List.of(vacuumAll)).message()).contains("every table");
        assertThat(ScopeCheck.check(role(allow(List.of("public.*"), Operation.UPDATE)), List.of(vacuumAll)).allowed())
                .as("update on public.* is not every table").isFalse();
        assertThat(ScopeCheck.check(role(allow(List.of("*"), Operation.UPDATE)), List.of(vacuumAll)).allowed())
                .isTrue();
    }

    @Test
    void aGlobMatchesSchemaAndTableEachByItsOwnPartNotTheJoinedText() {
        // Quoted names may hold dots: schema "clinic.archive" is not in clinic.*, table "x.patients" is not *.patients.
        Role clinic = role(allow(List.of("clinic.*"), Operation.SELECT));
        assertThat(ScopeCheck.check(clinic, List.of(select(new TableRef("clinic", "visits")))).allowed()).isTrue();
        assertThat(ScopeCheck.check(clinic, List.of(select(new TableRef("clinic", "a.b")))).allowed()).isTrue();
        ScopeCheck.Verdict outside = ScopeCheck.check(clinic, List.of(select(new TableRef("clinic.archive", "visits"))));
        assertThat(outside.allowed()).isFalse();
        assertThat(outside.message()).contains("SELECT on clinic.archive.visits");
        Role anyPatients = role(allow(List.of("*.patients"), Operation.SELECT));
        assertThat(ScopeCheck.check(anyPatients, List.of(select(new TableRef("audit", "patients")))).allowed()).isTrue();
        assertThat(ScopeCheck.check(anyPatients, List.of(select(new TableRef("public", "x.patients")))).allowed())
                .isFalse();
    }

    @Test
    void selectOnACoveredTableIsAllowed() {
        assertThat(ScopeCheck.check(READER, List.of(select(PATIENTS, ENCOUNTERS))).allowed()).isTrue();
    }

    @Test
    void selectOutsideTheTableGlobsIsRefusedNamingTableAndRule() {
        ScopeCheck.Verdict v = ScopeCheck.check(READER, List.of(select(PATIENTS, SECRET)));
        assertThat(v.allowed()).isFalse();
        assertThat(v.sqlState()).isEqualTo("42501");
        assertThat(v.message()).contains("triage-agent", "SELECT on admin.keys", "roles[triage-agent].allow",
                "public.*");
    }

    @Test
    void anOperationTheRuleDoesNotGrantIsRefused() {
        StatementAnalysis update = stmt(StatementKind.UPDATE, Set.of(Operation.UPDATE), Set.of(PATIENTS),
                Set.of(PATIENTS), Set.of());
        ScopeCheck.Verdict v = ScopeCheck.check(READER, List.of(update));
        assertThat(v.allowed()).isFalse();
        assertThat(v.message()).contains("UPDATE on public.patients");
    }

    @Test
    void writesNeedTheWriteOperationAndReadsNeedSelect() {
        Role writer = role(allow(List.of("public.patients"), Operation.SELECT, Operation.UPDATE),
                allow(List.of("public.encounters"), Operation.INSERT));
        StatementAnalysis update = stmt(StatementKind.UPDATE, Set.of(Operation.UPDATE), Set.of(PATIENTS),
                Set.of(PATIENTS), Set.of());
        assertThat(ScopeCheck.check(writer, List.of(update)).allowed()).isTrue();
        // INSERT INTO encounters SELECT ... FROM patients: insert on one, select on the other.
        StatementAnalysis copyRows = stmt(StatementKind.INSERT, Set.of(Operation.INSERT, Operation.SELECT),
                Set.of(PATIENTS), Set.of(ENCOUNTERS), Set.of());
        assertThat(ScopeCheck.check(writer, List.of(copyRows)).allowed()).isTrue();
        // The reverse direction needs INSERT on patients, which no rule grants.
        StatementAnalysis reverse = stmt(StatementKind.INSERT, Set.of(Operation.INSERT, Operation.SELECT),
                Set.of(ENCOUNTERS), Set.of(PATIENTS), Set.of());
        assertThat(ScopeCheck.check(writer, List.of(reverse)).message()).contains("public.encounters");
    }

    @Test
    void aDeleteHiddenInACteNeedsDelete() {
        StatementAnalysis cte = stmt(StatementKind.SELECT, Set.of(Operation.SELECT, Operation.DELETE),
                Set.of(PATIENTS), Set.of(ENCOUNTERS), Set.of());
        ScopeCheck.Verdict v = ScopeCheck.check(READER, List.of(cte));
        assertThat(v.allowed()).isFalse();
        assertThat(v.message()).contains("DELETE").contains("public.encounters");
    }

    @Test
    void unresolvedRelationsAreRefused() {
        Role all = role(allow(List.of("*.*"), Operation.SELECT));
        ScopeCheck.Verdict v = ScopeCheck.check(all, List.of(select(new TableRef("?", "mystery"))));
        assertThat(v.allowed()).isFalse();
        assertThat(v.message()).contains("mystery could not be resolved");
    }

    @Test
    void unparsedStatementsAreRefusedForRolesWithRules() {
        StatementAnalysis bad = StatementAnalysis.unparsed("SELEKT", "syntax error at position 1");
        assertThat(ScopeCheck.check(READER, List.of(bad)).message()).contains("could not be analysed",
                "syntax error at position 1");
        assertThat(ScopeCheck.check(role(), List.of(bad)).allowed()).isTrue();
    }

    @Test
    void utilityStatementsAreAlwaysAllowed() {
        StatementAnalysis begin = stmt(StatementKind.TRANSACTION, Set.of(Operation.UTILITY), Set.of(), Set.of(), Set.of());
        assertThat(ScopeCheck.check(READER, List.of(begin, set("statement_timeout", "5s"), set(Justifications.SETTING,
                "ticket 7"))).allowed()).isTrue();
    }

    /** A catalog whose pg_notify and set_config the server marks volatile, as it does random (which changes nothing). */
    private static final SqlAnalyzer ANALYZER = new SqlAnalyzer(PgCatalog.builder()
            .table(1, "public", "patients", "id", "ssn").builtins("lower")
            .volatileBuiltIns("pg_notify", "set_config", "random", "pg_stat_reset").build());

    @Test
    void aScopeJudgesTheParentNamedWhileARuleOnAChildHoldsItsReadThroughTheParent() throws Exception {
        TableRef parent = new TableRef("public", "measures");
        TableRef partition = new TableRef("public", "measures_2026");
        SqlAnalyzer partitioned = new SqlAnalyzer(PgCatalog.builder().searchPath("public")
                .table(16700, "public", "measures", "id").table(16701, "public", "measures_2026", "id")
                .inherits(partition, parent).build(), 0);
        List<StatementAnalysis> read = partitioned.analyze("SELECT * FROM measures");
        // The server checks SELECT on the parent named only: a scope granted it reads the partition through it.
        Role parentOnly = role(allow(List.of("public.measures"), Operation.SELECT));
        assertThat(ScopeCheck.check(parentOnly, read).allowed()).isTrue();
        assertThat(ScopeCheck.check(parentOnly, partitioned.analyze("SELECT * FROM measures_2026")).message())
                .contains("public.measures_2026");
        // A rule on the partition holds the read through the parent, and the approver is shown the partition.
        Policy policy = io.phigate.config.PolicyLoader.parse("""
                rules:
                  - name: partition-reads
                    when: { operations: [select], tables: [public.measures_2026] }
                    deny: "read through the reporting service"
                """, java.nio.file.Path.of("."), "policy.yaml");
        RiskRules.Hit hit = RiskRules.evaluate(policy.rules(), null, read, s -> false, java.time.Instant.now());
        assertThat(hit).isNotNull();
        assertThat(hit.rule().name()).isEqualTo("partition-reads");
        assertThat(hit.tables()).contains("public.measures", "public.measures_2026");
        assertThat(RiskRules.evaluate(policy.rules(), null, partitioned.analyze("SELECT * FROM ONLY measures_2026"),
                s -> false, java.time.Instant.now())).isNotNull();
    }

    @Test
    void builtInsThatChangeStateNeedAFunctionRuleOnTheirName() {
        List<StatementAnalysis> notify = ANALYZER.analyze("SELECT pg_notify('c', lower(ssn)) FROM patients");
        assertThat(ScopeCheck.check(READER, notify).message())
                .contains("built-in function pg_notify may change state", "pg_catalog.pg_notify");
        assertThat(ScopeCheck.check(READER, ANALYZER.analyze("SELECT id FROM patients WHERE"
                + " pg_catalog.pg_stat_reset() IS NULL")).message()).contains("pg_catalog.pg_stat_reset");
        assertThat(ScopeCheck.check(READER, ANALYZER.analyze("SELECT random() FROM patients")).allowed()).isTrue();
        Role granted = role(allow(List.of("public.*"), Operation.SELECT),
                allow(List.of("pg_catalog.pg_notify"), Operation.FUNCTION));
        assertThat(ScopeCheck.check(granted, notify).allowed()).isTrue();
        assertThat(ScopeCheck.check(role(), notify).allowed()).as("no allow rules: not scope-restricted").isTrue();
    }

    @Test
    void aRoleWithAllowRulesKeepsTheSearchPathItsRulesResolveNamesBy() {
        Role granted = role(allow(List.of("public.*"), Operation.SELECT),
                allow(List.of("pg_catalog.set_config"), Operation.FUNCTION));
        assertThat(ScopeCheck.check(READER, List.of(set("search_path", "admin, public"))).message())
                .contains("changing search_path is not allowed");
        assertThat(ScopeCheck.check(granted, ANALYZER.analyze("SELECT set_config('Search_Path', 'admin', false)"))
                .message()).contains("changing search_path is not allowed");
        assertThat(ScopeCheck.check(granted, ANALYZER.analyze("SELECT set_config(lower('ROLE'), 'x', false)"))
                .message()).contains("a computed setting is not allowed");
        assertThat(ScopeCheck.check(granted, ANALYZER.analyze("SELECT set_config('work_mem', '64kB', false)"))
                .allowed()).isTrue();
        assertThat(ScopeCheck.check(role(), List.of(set("search_path", "admin, public"))).allowed()).isTrue();
        assertThat(ScopeCheck.check(role(), ANALYZER.analyze("SELECT set_config('role', 'postgres', false)"))
                .message()).contains("setting role is not allowed");
        // A cast that cuts the name short: 'search_path.x' to the gateway, search_path to the server.
        assertThat(ScopeCheck.check(granted, ANALYZER.analyze(
                "SELECT set_config('search_path.x'::varchar(11), 'admin', false)")).message())
                .contains("a computed setting is not allowed");
        assertThat(ScopeCheck.check(role(), ANALYZER.analyze("SELECT set_config('role.x'::varchar(4), 'x', false)"))
                .allowed()).isFalse();
    }

    @Test
    void switchingTheDatabaseRoleIsRefusedForEveryRole() {
        assertThat(ScopeCheck.check(role(), List.of(set("role", "postgres"))).message()).contains("setting role");
        assertThat(ScopeCheck.check(READER, List.of(set("session_authorization", "postgres"))).allowed()).isFalse();
        assertThat(ScopeCheck.check(null, List.of(set("role", "postgres"))).allowed()).isTrue();
    }

    @Test
    void opaqueFunctionsNeedAFunctionRuleOnTheirName() {
        StatementAnalysis call = stmt(StatementKind.SELECT, Set.of(Operation.SELECT, Operation.FUNCTION),
                Set.of(PATIENTS), Set.of(), Set.of("public.risk_score"));
        assertThat(ScopeCheck.check(READER, List.of(call)).message()).contains("function public.risk_score");
        Role withFn = role(allow(List.of("public.*"), Operation.SELECT),
                allow(List.of("public.risk_score"), Operation.FUNCTION));
        assertThat(ScopeCheck.check(withFn, List.of(call)).allowed()).isTrue();
        // Unqualified: the search path picks the schema, so only a rule for any schema covers it.
        StatementAnalysis bare = stmt(StatementKind.SELECT, Set.of(Operation.SELECT, Operation.FUNCTION),
                Set.of(PATIENTS), Set.of(), Set.of("risk_score"));
        assertThat(ScopeCheck.check(withFn, List.of(bare)).allowed()).isFalse();
        Role anySchema = role(allow(List.of("public.*"), Operation.SELECT),
                allow(List.of("*.risk_score"), Operation.FUNCTION));
        assertThat(ScopeCheck.check(anySchema, List.of(bare)).allowed()).isTrue();
    }

    @Test
    void aFunctionsSchemaAndNameAreMatchedApart() {
        // Schema "public.x" holds f; its joined text public.x.f read as schema public, name "x.f" matched public.*.
        SqlAnalyzer analyzer = new SqlAnalyzer(PgCatalog.builder().searchPath("public")
                .table(1, "public", "patients", "id").function("public.x", "f").function("public", "x.f").build(), 0);
        Role publicCode = role(allow(List.of("public.*"), Operation.SELECT, Operation.FUNCTION));
        assertThat(ScopeCheck.check(publicCode, analyzer.analyze("SELECT \"public.x\".f(id) FROM patients"))
                .message()).contains("function public.x.f is not allowed");
        assertThat(ScopeCheck.check(publicCode, analyzer.analyze("SELECT public.\"x.f\"(id) FROM patients"))
                .allowed()).isTrue();
        Role anySchema = role(allow(List.of("public.*"), Operation.SELECT), allow(List.of("*.f"), Operation.FUNCTION));
        assertThat(ScopeCheck.check(anySchema, analyzer.analyze("SELECT \"public.x\".f(id) FROM patients"))
                .allowed()).isTrue();
        // The joined text alone, with no call recorded for it: every reading of it must be granted.
        StatementAnalysis unrecorded = stmt(StatementKind.SELECT, Set.of(Operation.SELECT, Operation.FUNCTION),
                Set.of(PATIENTS), Set.of(), Set.of("public.x.f"));
        assertThat(ScopeCheck.check(publicCode, List.of(unrecorded)).allowed()).isFalse();
    }

    @Test
    void doBlocksNeedFunctionOnEverything() {
        StatementAnalysis block = stmt(StatementKind.DO, Set.of(Operation.FUNCTION), Set.of(), Set.of(), Set.of());
        assertThat(ScopeCheck.check(READER, List.of(block)).message()).contains("DO blocks");
        Role any = role(allow(List.of("*.*"), Operation.FUNCTION));
        assertThat(ScopeCheck.check(any, List.of(block)).allowed()).isTrue();
    }

    @Test
    void ddlWithoutARelationNeedsSomeDdlRule() {
        StatementAnalysis create = stmt(StatementKind.DDL, Set.of(Operation.DDL), Set.of(), Set.of(), Set.of());
        assertThat(ScopeCheck.check(READER, List.of(create)).message()).contains("ddl is not allowed");
        StatementAnalysis createTable = stmt(StatementKind.DDL, Set.of(Operation.DDL), Set.of(),
                Set.of(new TableRef("scratch", "t")), Set.of());
        Role ddl = role(allow(List.of("scratch.*"), Operation.DDL));
        assertThat(ScopeCheck.check(ddl, List.of(create, createTable)).allowed()).isTrue();
        assertThat(ScopeCheck.check(ddl, List.of(stmt(StatementKind.DDL, Set.of(Operation.DDL), Set.of(),
                Set.of(PATIENTS), Set.of()))).allowed()).isFalse();
    }

    @Test
    void copyToNeedsCopyAndSelect() {
        StatementAnalysis copy = stmt(StatementKind.COPY_TO, Set.of(Operation.COPY), Set.of(PATIENTS), Set.of(),
                Set.of());
        assertThat(ScopeCheck.check(READER, List.of(copy)).message()).contains("SELECT+COPY on public.patients");
        Role copier = role(allow(List.of("public.*"), Operation.SELECT, Operation.COPY));
        assertThat(ScopeCheck.check(copier, List.of(copy)).allowed()).isTrue();
    }

    @Test
    void grantNeedsGrant() {
        StatementAnalysis grant = stmt(StatementKind.GRANT, Set.of(Operation.GRANT), Set.of(), Set.of(PATIENTS),
                Set.of());
        assertThat(ScopeCheck.check(READER, List.of(grant)).message()).contains("GRANT on public.patients");
    }

    @Test
    void oneRefusedStatementRefusesTheRequestAndSaysWhich() {
        ScopeCheck.Verdict v = ScopeCheck.check(READER, List.of(select(PATIENTS), select(SECRET)));
        assertThat(v.message()).contains("statement 2 of 2");
    }

    @Test
    void noRoleMeansNoScope() {
        assertThat(ScopeCheck.check(null, List.of(select(SECRET))).allowed()).isTrue();
        assertThat(ScopeCheck.rowLimit(null)).isZero();
        assertThat(ScopeCheck.rowLimit(READER)).isEqualTo(100);
    }

    @Test
    void aRoleOrDatabaseDefaultRoleIsRefusedToEveryRole() {
        for (String sql : List.of("ALTER ROLE CURRENT_USER SET role = 'other'", "ALTER USER u IN DATABASE d SET ROLE TO other",
                "ALTER DATABASE d SET session_authorization = 'other'")) {
            StatementAnalysis a = ANALYZER.analyze(sql).getFirst();
            assertThat(ScopeCheck.check(role(), List.of(a)).message()).as(sql + " " + a.dataRoute()).contains("is not allowed");
        }
        assertThat(ScopeCheck.check(role(), ANALYZER.analyze("ALTER ROLE CURRENT_USER SET work_mem = '64kB'")).allowed())
                .isTrue();
    }

    @Test
    void reindexOfATableIsDdlOfThatTable() {
        Role scratch = role(allow(List.of("public.scratch"), Operation.DDL));
        assertThat(ScopeCheck.check(scratch, ANALYZER.analyze("REINDEX TABLE patients")).message())
                .contains("public.patients");
    }
}
