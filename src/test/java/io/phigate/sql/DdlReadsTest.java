package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;

/** What DDL reaches beyond what it names, read from the server's parse tree (decisions 0074, 0080). */
class DdlReadsTest {
    private static final PgCatalog CATALOG = PgCatalog.builder()
            .table(16400, "public", "own", "id")
            .table(16401, "public", "diary", "id", "mood")
            .table(16402, "public", "typed", "id", "ssn")
            .domain("public", "mood", new ColumnRef("public", "diary", "mood"))
            .compositeType("public", "comp", new TableRef("public", "typed"))
            .build();
    private static final SqlAnalyzer ANALYZER = new SqlAnalyzer(CATALOG, 0);
    private static final TableRef CASCADE = new TableRef("?", "whatever DROP ... CASCADE drops");

    private static Set<TableRef> writes(String sql) {
        StatementAnalysis a = ANALYZER.analyze(sql).getFirst();
        assertThat(a.parsed()).as(a.error()).isTrue();
        return a.writes();
    }

    @Test
    void everyCascadeTheGrammarReadsDropsWhatDependsOnIt() {
        for (String sql : new String[] {"ALTER TABLE own DROP CONSTRAINT own_pkey CASCADE",
                "ALTER TABLE own ADD COLUMN x int, DROP CONSTRAINT IF EXISTS c CASCADE",
                "ALTER TABLE own DROP COLUMN id CASCADE", "ALTER DOMAIN mood DROP CONSTRAINT c CASCADE",
                "ALTER TYPE comp DROP ATTRIBUTE ssn CASCADE", "DROP INDEX own_pkey CASCADE",
                "DROP SCHEMA s CASCADE", "DROP EXTENSION e CASCADE", "DROP FUNCTION f() CASCADE",
                "DROP SEQUENCE q CASCADE", "DROP TABLE own CASCADE", "ALTER FOREIGN TABLE own DROP COLUMN id CASCADE",
                "DROP SUBSCRIPTION IF EXISTS sub CASCADE"}) {
            assertThat(writes(sql)).as(sql).contains(CASCADE);
        }
    }

    @Test
    void restrictAndAlterTypesCascadeToItsTypedTablesDropNothing() {
        for (String sql : new String[] {"ALTER TABLE own DROP CONSTRAINT own_pkey",
                "ALTER TABLE own DROP CONSTRAINT own_pkey RESTRICT", "ALTER TABLE own ALTER COLUMN id TYPE bigint",
                "ALTER TABLE own ALTER COLUMN id DROP IDENTITY IF EXISTS", "ALTER DOMAIN mood DROP CONSTRAINT c",
                "ALTER TYPE comp ADD ATTRIBUTE note text CASCADE", "ALTER TYPE comp ALTER ATTRIBUTE ssn TYPE text CASCADE",
                "ALTER TYPE comp RENAME ATTRIBUTE ssn TO x CASCADE", "DROP TABLE own"}) {
            assertThat(writes(sql)).as(sql).doesNotContain(CASCADE);
        }
    }

    @Test
    void anEnumsRenameValueUpdatesEveryTableHoldingItAndAddValueNone() {
        StatementAnalysis renamed = ANALYZER.analyze("ALTER TYPE mood RENAME VALUE 'sad' TO 'glad'").getFirst();
        assertThat(renamed.writes()).containsExactly(new TableRef("public", "diary"));
        assertThat(renamed.operations()).contains(Operation.UPDATE, Operation.DDL);
        assertThat(writes("ALTER TYPE public.unknown_enum RENAME VALUE 'a' TO 'b'"))
                .containsExactly(new TableRef("?", "public.unknown_enum"));
        assertThat(writes("ALTER TYPE mood ADD VALUE 'calm' BEFORE 'sad'")).isEmpty();
    }

    @Test
    void aRenameOrNewSchemaOfATypeChangesEveryTableItReaches() {
        assertThat(writes("ALTER TYPE comp RENAME TO comp2")).containsExactly(new TableRef("public", "typed"));
        assertThat(writes("ALTER TYPE public.comp SET SCHEMA other")).containsExactly(new TableRef("public", "typed"));
        assertThat(writes("ALTER DOMAIN mood RENAME TO mood2")).containsExactly(new TableRef("public", "diary"));
        assertThat(writes("ALTER TYPE public.somerange RENAME TO r2"))
                .containsExactly(new TableRef("?", "public.somerange"));
    }
}
