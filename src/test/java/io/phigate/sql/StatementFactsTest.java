package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.sql.StatementFacts.FunctionCall;
import io.phigate.sql.StatementFacts.PredicateUse;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The facts deny-by-default rules judge, read from the server's parse tree. */
class StatementFactsTest {
    private static final SqlAnalyzer ANALYZER = new SqlAnalyzer(DemoCatalog.get(), 0);

    private static StatementFacts facts(String sql) {
        StatementAnalysis a = ANALYZER.analyze(sql).getFirst();
        assertThat(a.parsed()).as(a.error()).isTrue();
        return a.facts();
    }

    private static ColumnRef p(String column) {
        return new ColumnRef("public", "patients", column);
    }

    private static ColumnRef e(String column) {
        return new ColumnRef("public", "encounters", column);
    }

    /** Columns used as predicates, as "column clause[=]" ("=" marks an equality lookup). */
    private static Set<String> uses(String sql) {
        return facts(sql).predicates().stream()
                .map(u -> u.column().table() + "." + u.column().column() + " " + u.clause() + (u.equalityLookup() ? "=" : ""))
                .collect(Collectors.toSet());
    }

    @Test
    void anEqualityConjunctOfWhereIsALookupAndAnythingElseIsNot() {
        assertThat(uses("select id from patients where ssn = '123' and id = $1"))
                .containsExactlyInAnyOrder("patients.ssn WHERE=", "patients.id WHERE=");
        assertThat(uses("select id from patients where $1::text = ssn::text")).containsExactly("patients.ssn WHERE=");
        assertThat(uses("select id from patients where lower(ssn) = 'x'")).containsExactly("patients.ssn WHERE");
        assertThat(uses("select id from patients where ssn = 'x' or id = 1"))
                .containsExactlyInAnyOrder("patients.ssn WHERE", "patients.id WHERE");
        assertThat(uses("select id from patients where ssn::varchar(3) = '123'")).containsExactly("patients.ssn WHERE");
        assertThat(uses("select id from patients where ssn > '5'")).containsExactly("patients.ssn WHERE");
        assertThat(uses("select id from patients where ssn = last_name"))
                .containsExactlyInAnyOrder("patients.ssn WHERE", "patients.last_name WHERE");
    }

    @Test
    void predicatesResolveThroughDerivedTablesCtesAndViews() {
        assertThat(uses("select * from (select ssn as s from patients) x where s = '1'"))
                .containsExactly("patients.ssn WHERE=");
        assertThat(uses("select * from (select substr(ssn, 1, 1) as s from patients) x where s = '1'"))
                .as("a derived value is no lookup of the column").containsExactly("patients.ssn WHERE");
        assertThat(uses("select * from (select substr(ssn, 1, length(ssn)) as s from patients) x"))
                .as("a computed length may be negative: the call can fail").containsExactly(
                        "patients.ssn an expression that can fail or turn NULL (substr())");
        assertThat(uses("with c as (select ssn as s from patients) select 1 from c where s like '1%'"))
                .containsExactly("patients.ssn WHERE");
        assertThat(uses("select id from patient_directory where ident = $1")).contains("patients.ssn WHERE=");
    }

    /** Decision 0035: a computed output can answer through an error, a NULL or its row count. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "select 1/(ascii(ssn) - 49) from patients|operator /",
        "select ssn::int from patients|cast",
        "select nullif(ssn, 'x') from patients|NULLIF",
        "select regexp_match(ssn, '^1') from patients|regexp_match()",
        "select id, regexp_matches(ssn, '^1') from patients|regexp_matches()",
        "select (string_to_array(ssn, '-'))[2] from patients|subscript",
        "select 'a' like ssn from patients|LIKE",
        "select substring(ssn from '^1') from patients|substring()",
        "select split_part(ssn, '-', 0) from patients|split_part()",
        "select json_build_object(ssn, 1) from patients|json_build_object()",
        "select xmlparse(content ssn) from patients|XmlExpr",
        "select lag(ssn) over () from patients|lag()",
        "update patients set city = (select to_date(ssn, 'YYYY') from patients where id = 1)::text where id = 2|to_date()",
        "select (ssn < '5') or null from patients|OR_EXPR",
        "select (ssn < '5') and 1 / (id - id) = 1 from patients|AND_EXPR",
        "select ssn in ('a', null) from patients|IN",
        "select ssn = any (array['a', null]) from patients|OP_ANY",
        "select ssn between '5' and null from patients|BETWEEN",
        "select ssn in (select 'a') from patients|ANY",
        "select (ssn, null::text) = ('a', 'b') from patients|operator =",
        "select replace(ssn, '1', repeat('x', 100)) from patients|replace()",

    })
    void aComputationThatCanFailOrTurnNullSteers(String sql, String what) {
        assertThat(uses(sql)).contains("patients.ssn an expression that can fail or turn NULL (" + what + ")");
    }

    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {
        "select upper(ssn), lower(ssn), length(ssn), md5(ssn), btrim(ssn), reverse(ssn) from patients",
        "select ssn || '-', concat(ssn, 'x'), concat_ws('-', ssn), coalesce(ssn, mrn) from patients",
        "select ssn::text, ssn::varchar(4), cast(ssn as char(3)) from patients",
        "select ssn = 'x', ssn is null, not (ssn = 'x'), ssn is distinct from 'a', greatest(ssn, mrn) from patients",
        "select substr(ssn, 1, 3), substring(ssn, 5), left(ssn, 3), right(ssn, -2), split_part(ssn, '-', 2) from patients",
        "select min(ssn), max(ssn) from patients",
        "select json_build_object('s', ssn), row_to_json(p), to_jsonb(p) from patients p",
        "select translate(ssn, '-', ''), quote_literal(ssn) from patients",
        "select case when id > 1 then upper(ssn) else ssn end, array[ssn], row(ssn, 1) from patients",
    })
    void totalExpressionsDoNotSteer(String sql) {
        assertThat(uses(sql)).noneMatch(u -> u.contains("ssn") || u.contains("mrn"));
    }

    @Test
    void aValueWrittenFromAMaskedColumnSteersUnlessItIsTheColumnsOwn() {
        assertThat(uses("update patients set first_name = substr(last_name, 1, 1) where id = 1"))
                .contains("patients.last_name a value written, which the target's constraints check");
        assertThat(uses("update patients set last_name = last_name where id = 1"))
                .noneMatch(u -> u.contains("written"));
        assertThat(uses("insert into patients (id, first_name) select id, ssn from patients"))
                .contains("patients.ssn a value written, which the target's constraints check");
    }

    @Test
    void aValueTheServersSizeLimitsCheckSteers() {
        String clause = "patients.ssn an expression that can fail or turn NULL (";
        assertThat(uses("select to_jsonb(repeat('x', 268435455) || ltrim(substr(ssn, 1, 1), '01234')) from patients"))
                .anyMatch(u -> u.startsWith(clause));
        assertThat(uses("select md5(repeat('x', 1073741819) || rtrim(substr(ssn, 1, 1), '01234')) from patients"))
                .anyMatch(u -> u.startsWith(clause));
        assertThat(uses("select string_agg(ssn, '') from patients, generate_series(1, 10)")).anyMatch(u -> u.startsWith(clause));
        assertThat(uses("select ssn || mrn from patients")).anyMatch(u -> u.startsWith(clause));
        assertThat(uses("select array(select ssn from patients)")).anyMatch(u -> u.startsWith(clause));
    }

    /** A constraint reads the whole new row: what it tests answers, written or not. */
    @Test
    void constraintsOverColumnsNotWrittenAndWritesThroughViewsSteer() {
        ColumnRef admitted = new ColumnRef("public", "visits", "admitted_on");
        PgCatalog catalog = PgCatalog.builder()
                .table(1, "public", "visits", "id", "admitted_on", "discharged_on")
                .view(2, "public", "visits_v", "SELECT id, admitted_on, discharged_on FROM visits", "id", "admitted_on",
                        "discharged_on")
                .rowCheck(admitted).rowCheck(new ColumnRef("public", "visits", "discharged_on"))
                .build();
        SqlAnalyzer analyzer = new SqlAnalyzer(catalog, 0);
        java.util.function.Function<String, Set<String>> uses = sql -> analyzer.analyze(sql).getFirst().facts()
                .predicates().stream().map(u -> u.column().column() + " " + u.clause() + (u.equalityLookup() ? "=" : ""))
                .collect(Collectors.toSet());
        String written = "a value written, which the target's constraints check";
        assertThat(uses.apply("update visits set discharged_on = date '2020-01-01' where id = 7"))
                .contains("admitted_on " + written);
        assertThat(uses.apply("insert into visits (id, discharged_on) values (1, now())")).contains("admitted_on " + written);
        assertThat(uses.apply("copy visits (id) from stdin")).contains("admitted_on " + written);
        assertThat(uses.apply("insert into visits_v (id, admitted_on) values (1, now())"))
                .as("a view's base keys are not read through it: fail closed").contains("admitted_on the key, unique or"
                        + " foreign-key check of a value written=");
    }

    @Test
    void aPlanThatDoesNotRunAnswersNothingARunWould() {
        assertThat(uses("explain select 1 / (ascii(ssn) - 49) from patients")).isEmpty();
        assertThat(uses("explain (analyze) select 1 / (ascii(ssn) - 49) from patients"))
                .contains("patients.ssn an expression that can fail or turn NULL (operator /)");
        assertThat(uses("explain select id from patients where ssn like '1%'"))
                .as("estimates come from the data").contains("patients.ssn WHERE");
    }

    @Test
    void aMergesUnconditionalMatchedActionIsAnUnfilteredWrite() {
        assertThat(facts("merge into encounters e using patients p on true when matched then delete").unfilteredWrite())
                .isTrue();
        assertThat(facts("merge into encounters e using patients p on e.patient_id = p.id"
                + " when matched and e.id = 1 then update set notes = 'x'").unfilteredWrite()).isFalse();
    }

    @Test
    void aRecursiveChainLongerThanAFewColumnsIsStillFollowed() {
        assertThat(uses("with recursive r(n, a, b, c, d, e, f, g, h) as (select 1, ssn, '', '', '', '', '', '', ''"
                + " from patients where id = 1 union all select n + 1, '', a, b, c, d, e, f, g from r"
                + " where n < 10 and h not like '1%') select max(n) from r")).contains("patients.ssn WHERE");
    }

    void unused(String sql) {
        assertThat(uses(sql)).noneMatch(u -> u.contains("ssn") || u.contains("mrn"));
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
        "select p.id from patients p join encounters e on e.notes = p.ssn|JOIN|patients.ssn",
        "select 1 from patients join encounters using (id)|JOIN USING|encounters.id",
        "select 1 from patients natural join encounters|JOIN USING|patients.id",
        "select state from patients group by state having max(ssn) > '5'|HAVING|patients.ssn",
        "select state from patients group by state|GROUP BY|patients.state",
        "select state from patients group by 1|GROUP BY|patients.state",
        "select id from patients order by ssn|ORDER BY|patients.ssn",
        "select ssn as s from patients order by s|ORDER BY|patients.ssn",
        "select id, ssn from patients order by 2|ORDER BY|patients.ssn",
        "select ssn as state from patients group by state|GROUP BY|patients.state",
        "select ssn as state from patients group by state|GROUP BY|patients.ssn",
        "select distinct on (ssn) id from patients|DISTINCT ON|patients.ssn",
        "select distinct last_name from patients|DISTINCT|patients.last_name",
        "select rank() over (partition by ssn order by id) from patients|WINDOW PARTITION BY|patients.ssn",
        "select rank() over (order by ssn) from patients|WINDOW ORDER BY|patients.ssn",
        "select count(*) filter (where ssn like '1%') from patients|FILTER|patients.ssn",
        "select string_agg(id::text, ',' order by ssn) from patients|ORDER BY|patients.ssn",
        "select case when ssn like '1%' then 'a' else 'b' end from patients|CASE|patients.ssn",
        "select id from patients limit (select max(id) from patients)|LIMIT|patients.id",
        "select id from patients offset (select count(*) from patients where ssn like '1%')|WHERE|patients.ssn",
        "select ssn from patients union select notes from encounters|UNION|encounters.notes",
        "select id from encounters where patient_id in (select id from patients where ssn like '1%')|WHERE|patients.ssn",
        "select id from encounters where patient_id = (select max(id) from patients)|WHERE|patients.id",
        "select id from encounters e where exists (select 1 from patients p where p.id = e.patient_id and p.ssn = '1')|WHERE|patients.ssn",
        "select (select 1 from patients where ssn = '1') from encounters|WHERE|patients.ssn",
        "select 1 from (select id from patients where last_name like 'S%') x|WHERE|patients.last_name",
        "with c as (select id from patients order by ssn limit 1) select * from c|ORDER BY|patients.ssn",
        "delete from encounters where patient_id in (select id from patients where ssn like '1%')|WHERE|patients.ssn",
        "update encounters set notes = 'x' where notes like '%a%'|WHERE|encounters.notes",
    })
    void everySteeringClauseRecordsItsColumns(String sql, String clause, String column) {
        String[] c = column.split("\\.");
        assertThat(facts(sql).predicates()).extracting(PredicateUse::column, PredicateUse::clause)
                .contains(org.assertj.core.groups.Tuple.tuple(new ColumnRef("public", c[0], c[1]), clause));
    }

    @Test
    void outputsAreNotPredicates() {
        assertThat(facts("select ssn, lower(last_name) from patients").predicates()).isEmpty();
        assertThat(facts("select ssn from patients union all select notes from encounters").predicates()).isEmpty();
    }

    @Test
    void everyFunctionCalledIsListedWithItsSchemaAsWritten() {
        assertThat(facts("select lower(ssn), pg_catalog.upper(last_name), count(*) over (), x.y from patients,"
                + " generate_series(1, 2) x(y) where substring(ssn from 1 for 2) = '1'").functions())
                .containsExactlyInAnyOrder(new FunctionCall(null, "lower"), new FunctionCall("pg_catalog", "upper"),
                        new FunctionCall(null, "count"), new FunctionCall(null, "generate_series"),
                        new FunctionCall("pg_catalog", "substring"));
        assertThat(facts("select id operator(public.+) 1 from patients").functions())
                .containsExactly(new FunctionCall("public", "+"));
        assertThat(facts("select 1 from patient_directory").functions()).isEmpty();
        assertThat(facts("select score from risky").functions()).contains(new FunctionCall("public", "risk_score"));
        assertThat(facts("create table t (x text default public.risk_score(1)::text)").functions())
                .containsExactly(new FunctionCall("public", "risk_score"));
        assertThat(facts("call public.archive_patient(1)").functions())
                .containsExactly(new FunctionCall("public", "archive_patient"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "delete from encounters|true",
        "update encounters set notes = null|true",
        "delete from encounters where id = 1|false",
        "delete from encounters where current of c|false",
        "with d as (delete from encounters returning id) select * from d|true",
        "with d as (update encounters set notes = '' returning id) select * from d|true",
        "explain analyze delete from encounters|true",
        "explain delete from encounters|false",
        "create rule r as on insert to encounters do also delete from medications|true",
        "prepare q as delete from encounters|true",
        "select 1|false",
    })
    void unfilteredWritesAreFoundWhereverTheyRun(String sql, boolean unfiltered) {
        assertThat(facts(sql).unfilteredWrite()).isEqualTo(unfiltered);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "select ssn from patients|true",
        "select ssn from patients limit 5|false",
        "select ssn from patients limit $1|true",
        "select ssn from patients fetch first 3 rows only|false",
        "select ssn from patients limit all|true",
        "select ssn from patients limit null|true",
        "select ssn from patients limit (select 5)|true",
        "select ssn from (select ssn from patients limit 1) x|true",
        "(select ssn from patients) union (select ssn from patients) limit 2|false",
        "declare c cursor for select ssn from patients|true",
        "copy patients to stdout|true",
        "insert into encounters (id) values (1)|false",
        "delete from encounters returning notes|true",
    })
    void anEffectiveLimitIsAConstantAtTheTopLevel(String sql, boolean unlimited) {
        assertThat(facts(sql).unlimited()).isEqualTo(unlimited);
    }

    @Test
    void explainAndCopyOptionsAreTheGrammarsReading() {
        assertThat(facts("explain (analyze false, verbose) select 1").options())
                .isEqualTo(Map.of("analyze", "false", "verbose", "true"));
        assertThat(facts("explain analyse select 1").options()).isEqualTo(Map.of("analyze", "true"));
        assertThat(facts("explain (u&\"an\\0061lyze\" 'on') select 1").options()).isEqualTo(Map.of("analyze", "on"));
        assertThat(facts("copy patients to stdout (format 'csv', \"header\", u&\"d\\0065limiter\" ';')").options())
                .isEqualTo(Map.of("format", "csv", "header", "true", "delimiter", ";"));
        assertThat(facts("copy patients to stdout csv header force quote *").options())
                .isEqualTo(Map.of("format", "csv", "header", "true", "force_quote", "*"));
        // A quoted upper-case name is not the option the server knows: kept as written, so it is refused.
        assertThat(facts("copy patients to stdout (\"FORMAT\" csv)").options()).isEqualTo(Map.of("FORMAT", "csv"));
        assertThat(facts("declare c cursor with hold for select 1").options()).isEqualTo(Map.of("hold", "true"));
        assertThat(facts("declare c cursor for select 1").options()).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "copy patients to stdout|STDOUT",
        "copy encounters from stdin|STDIN",
        "copy patients to '/tmp/x'|FILE",
        "copy encounters from '/tmp/x'|FILE",
        "copy (select 1) to program 'cat'|PROGRAM",
        "copy encounters from program 'cat'|PROGRAM",
    })
    void copyEndpointsAreNamed(String sql, String endpoint) {
        assertThat(facts(sql).copyEndpoint()).isEqualTo(endpoint);
    }

    @Test
    void utilityStatementsAreReadFromTheirNodes() {
        StatementAnalysis close = ANALYZER.analyze("close all").getFirst();
        assertThat(close.cursor()).isNull();
        assertThat(close.facts().options()).containsEntry("all", "true");
        assertThat(ANALYZER.analyze("set local x.y to default").getFirst()).satisfies(a -> {
            assertThat(a.setting()).isEqualTo("x.y");
            assertThat(a.settingValue()).isNull();
            assertThat(a.facts().options()).containsEntry("local", "true").containsEntry("default", "true");
        });
        assertThat(ANALYZER.analyze("set names 'latin1'").getFirst().setting()).isEqualTo("client_encoding");
        assertThat(ANALYZER.analyze("SET \"Search_Path\" = x").getFirst().setting()).isEqualTo("search_path");
        assertThat(ANALYZER.analyze("show time zone").getFirst().setting()).isEqualTo("timezone");
        assertThat(ANALYZER.analyze("reset all").getFirst().setting()).isEqualTo("all");
        assertThat(ANALYZER.analyze("discard all").getFirst().kind()).isEqualTo(StatementKind.OTHER);
        assertThat(ANALYZER.analyze("fetch 5 from \"C\"").getFirst().cursor()).isEqualTo("C");
        assertThat(ANALYZER.analyze("prepare \"Q\" as select 1").getFirst().kind()).isEqualTo(StatementKind.PREPARE);
        assertThat(SqlAnalyzer.preparedStatementName("prepare \"Q\" as select 1")).isEqualTo("Q");
        assertThat(SqlAnalyzer.preparedStatementName("deallocate all")).isNull();
    }

    @Test
    void namesFoldOnlyAsciiLettersAsTheServerDoes() {
        List<OutputColumn> out = ANALYZER.analyze("select ssn as Ärger, ssn as ABC from patients").getFirst().outputs();
        assertThat(out).extracting(OutputColumn::name).containsExactly("Ärger", "abc");
        assertThat(ANALYZER.analyze("select 1 from PATİENTS").getFirst().reads())
                .containsExactly(new TableRef("?", "patİents"));
        assertThat(ANALYZER.analyze("select 1 from PATIENTS").getFirst().reads())
                .containsExactly(new TableRef("public", "patients"));
    }

    @Test
    void aCastToTextKeepsTheColumnsOwnValueAndAnythingElseDoesNot() {
        List<OutputColumn> out = ANALYZER.analyze("select ssn::text, ssn::varchar, cast(ssn as character varying),"
                + " ssn collate \"C\", ssn::varchar(4), reverse(ssn), ssn || '', to_char(birth_date, 'YYYY'),"
                + " extract(year from birth_date), birth_date + 1, case when true then ssn end from patients")
                .getFirst().outputs();
        assertThat(out).extracting(OutputColumn::direct)
                .containsExactly(true, true, true, true, false, false, false, false, false, false, false);
        assertThat(out.get(6).sources()).containsExactly(p("ssn"));
        assertThat(out.get(7).sources()).containsExactly(p("birth_date"));
        assertThat(e("notes")).isNotNull();
    }

    /** Found by an attacker's review of this analyser: fields the walk skipped, and comparisons it missed. */
    @Test
    void callsAndComparisonsInFieldsTheWalkOnceSkippedAreSeen() {
        // TABLESAMPLE ... REPEATABLE (subquery): a call and a predicate hidden where nothing looked.
        StatementFacts hidden = facts("select 1 from encounters tablesample system (100) repeatable"
                + " ((select length(set_config('x.y', translate(ssn, '0123456789', 'abcdefghij'), false))"
                + " from patients where id = 1))");
        assertThat(hidden.functions()).extracting(StatementFacts.FunctionCall::name).contains("set_config", "translate");
        assertThat(uses("select 1 from encounters tablesample system (100) repeatable"
                + " ((select ascii(ssn) from patients where id = 1))")).contains("patients.ssn TABLESAMPLE REPEATABLE");
        // INTERSECT ALL and EXCEPT ALL compare rows as the forms without ALL do; only UNION ALL compares nothing.
        assertThat(uses("select ssn from patients intersect all select '123-45-6789'"))
                .contains("patients.ssn INTERSECT");
        assertThat(uses("select ssn from patients except all select '123-45-6789'")).contains("patients.ssn EXCEPT");
        assertThat(uses("select ssn from patients union all select '123-45-6789'")).isEmpty();
        // A set-returning function in FROM decides which rows survive.
        assertThat(uses("select id from patients, regexp_matches(ssn, '^1') m")).contains("patients.ssn FROM function");
        // Every call in the tree reaches the allowlist, and XMLTABLE is named so it can be refused.
        assertThat(facts("select id from patients p, xmltable('/r' passing xmlelement(name r, p.ssn)"
                + " columns x int path '1') t").functions()).extracting(StatementFacts.FunctionCall::name)
                .contains("xmltable");
        // count(x) counts x's non-null values: x steers the count.
        assertThat(uses("select id, count(nullif(substr(ssn, 1, 1), '1')) from patients group by id"))
                .contains("patients.ssn count()");
        assertThat(uses("select count(*) from patients")).isEmpty();
        // CYCLE compares its columns with the path: 2 rows or 3 tells whether the SSN equals the constant.
        assertThat(uses("with recursive r(n, s) as (select 1, '123-45-6789'::text union all select n + 1,"
                + " (select ssn from patients where id = 1) from r where n < 3) cycle s set c using pth"
                + " select n from r")).contains("patients.ssn CYCLE");
    }

    /**
     * A foreign key tests every value later written to its table against the referenced columns, and the catalog
     * read at the session's start does not know the key: the DDL that makes one reads the referenced table, and its
     * columns are predicates no lookup grant covers (decision 0069).
     */
    @Test
    void aForeignKeyReadsTheReferencedColumnsInEveryFormItIsWritten() {
        String referenced = "patients.ssn " + DdlReads.REFERENCED;
        for (String sql : List.of("ALTER TABLE mine ADD FOREIGN KEY (x) REFERENCES patients (ssn)",
                "alter table mine add constraint k foreign key (x) references public.patients (ssn) not valid",
                "CREATE TABLE mine (x text REFERENCES patients (ssn))",
                "CREATE TEMP TABLE mine (x text, FOREIGN KEY (x) REFERENCES patients (ssn) ON DELETE CASCADE)",
                "ALTER TABLE mine ADD COLUMN x text REFERENCES patients (ssn)",
                "CREATE TABLE mine (x text, y int, CONSTRAINT k FOREIGN KEY (x, y) REFERENCES patients (ssn, id))")) {
            StatementAnalysis a = ANALYZER.analyze(sql).getFirst();
            assertThat(a.reads()).as(sql).contains(new TableRef("public", "patients"));
            assertThat(uses(sql)).as(sql).contains(referenced).noneMatch(u -> u.endsWith("="));
        }
        assertThat(uses("CREATE TABLE mine (x int REFERENCES patients (id))"))
                .containsExactly("patients.id " + DdlReads.REFERENCED);
    }

    /** An index, statistics or CLUSTER evaluate their columns over every row: each is a predicate. */
    @Test
    void anIndexStatisticsOrClusterMakesItsColumnsPredicates() {
        String indexed = " " + DdlReads.INDEXED;
        assertThat(uses("CREATE UNIQUE INDEX ON patients (ssn)")).containsExactly("patients.ssn" + indexed);
        assertThat(uses("CREATE INDEX ON patients ((1 / (ascii(ssn) - 49)))")).containsExactly("patients.ssn" + indexed);
        assertThat(uses("CREATE UNIQUE INDEX ON patients ((1)) WHERE last_name LIKE 'A%'"))
                .containsExactly("patients.last_name" + indexed);
        assertThat(uses("CREATE INDEX ON patients (id) INCLUDE (ssn)")).containsExactly("patients.id" + indexed);
        assertThat(uses("CREATE STATISTICS s ON id, (ssn || 'x') FROM patients"))
                .containsExactlyInAnyOrder("patients.id" + indexed, "patients.ssn" + indexed);
        assertThat(uses("CLUSTER patients USING patients_mrn_key")).contains("patients.ssn" + indexed,
                "patients.mrn" + indexed);
        assertThat(uses("CREATE INDEX ON patients ((patients))")).as("a whole-row reference is every column")
                .contains("patients.ssn" + indexed);
        StatementAnalysis attach = ANALYZER.analyze("ALTER TABLE parts ATTACH PARTITION patients FOR VALUES IN (1)")
                .getFirst();
        assertThat(attach.writes()).contains(new TableRef("public", "patients"));
        assertThat(ANALYZER.analyze("ALTER TABLE mine INHERIT patients").getFirst().writes())
                .contains(new TableRef("public", "patients"));
        assertThat(ANALYZER.analyze("CREATE TABLE c () INHERITS (patients)").getFirst().writes())
                .contains(new TableRef("public", "patients"));
    }
}
