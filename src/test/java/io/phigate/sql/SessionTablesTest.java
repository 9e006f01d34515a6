package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The session's temporary tables as an overlay over the shared catalog (decision 0050): changed only by what the
 * server completed, undone by a rollback, unknown wherever the gateway cannot vouch for what a table holds.
 */
class SessionTablesTest {
    private static final ColumnRef SSN = new ColumnRef("public", "patients", "ssn");
    private final PgCatalog shared = PgCatalog.builder()
            .table(1, "public", "patients", "id", "ssn", "state")
            .table(2, "public", "audited", "id").runsCode(new TableRef("public", "audited"))
            .table(3, "private", "secrets", "v")
            .builtins("upper", "lower").build();
    private final SessionTables tables = new SessionTables(shared);

    /** Runs statements as the server would complete them, each its own autocommitted request. */
    private void run(String... statements) {
        for (String sql : statements) {
            for (StatementAnalysis a : analyse(sql)) {
                tables.completed(a, tag(a));
            }
            tables.readyForQuery((byte) 'I');
        }
    }

    private List<StatementAnalysis> analyse(String sql) {
        return (tables.isEmpty() ? new SqlAnalyzer(shared) : tables.analyzer()).analyze(sql);
    }

    private static String tag(StatementAnalysis a) {
        return a.text().toUpperCase().startsWith("COMMIT") ? "COMMIT" : "OK";
    }

    private OutputColumn output(String select, int i) {
        return analyse(select).getFirst().outputs().get(i);
    }

    /** What masking would read a column of the result as: sources of its temporary columns expanded. */
    private TableChange.Written read(String select, int i) {
        OutputColumn out = output(select, i);
        Set<ColumnRef> sources = new java.util.HashSet<>();
        boolean opaque = out.opaque();
        for (ColumnRef c : out.sources()) {
            if (c.schema().equals(SessionTables.SCHEMA)) {
                TableChange.Written w = tables.lineage(c);
                sources.addAll(w.sources());
                opaque |= w.opaque();
            } else {
                sources.add(c);
            }
        }
        return new TableChange.Written(out.name(), sources, opaque);
    }

    @Test
    void valuesTheSessionWroteReadBackClean() {
        run("CREATE TEMP TABLE notes (id int, note text)", "INSERT INTO notes VALUES (1, 'a')",
                "ALTER TABLE notes ADD COLUMN score numeric DEFAULT 1.5", "UPDATE notes SET note = upper(note)");
        assertThat(read("SELECT id, note, score FROM notes", 0)).isEqualTo(TableChange.Written.clean("id"));
        assertThat(read("SELECT id, note, score FROM notes", 1)).isEqualTo(TableChange.Written.clean("note"));
        assertThat(read("SELECT id, note, score FROM notes", 2)).isEqualTo(TableChange.Written.clean("score"));
    }

    @Test
    void aCopyCarriesTheLineageOfWhatWentIn() {
        run("CREATE TEMP TABLE kept AS SELECT id, ssn AS s FROM patients");
        assertThat(read("SELECT s FROM kept", 0).sources()).containsExactly(SSN);
        run("CREATE TEMP TABLE again AS SELECT s FROM kept");
        assertThat(read("SELECT s FROM again", 0).sources()).containsExactly(SSN);
    }

    @Test
    void aNameShadowingARelationOfAnySchemaIsUnknown() {
        run("CREATE TEMP TABLE patients (ssn text)", "CREATE TEMP TABLE secrets (v text)");
        // Read as the real table: its tags mask the column and its conditions stay refused.
        assertThat(output("SELECT ssn FROM patients", 0).sources()).containsExactly(SSN);
        assertThat(output("SELECT v FROM secrets", 0).opaque()).isTrue();
        assertThat(read("SELECT v FROM pg_temp.secrets", 0).opaque()).isFalse();
    }

    @Test
    void aRolledBackCreateLeavesNothing() {
        tables.completed(analyse("BEGIN").getFirst(), "BEGIN");
        tables.readyForQuery((byte) 'T');
        for (StatementAnalysis a : analyse("CREATE TEMP TABLE gone (v text)")) {
            tables.completed(a, "CREATE TABLE");
        }
        tables.readyForQuery((byte) 'T');
        assertThat(tables.isEmpty()).isFalse();
        tables.completed(analyse("ROLLBACK").getFirst(), "ROLLBACK");
        tables.readyForQuery((byte) 'I');
        assertThat(tables.isEmpty()).isTrue();
    }

    @Test
    void anErrorBeforeAnIdleReadyForQueryUndoesTheTransaction() {
        for (StatementAnalysis a : analyse("CREATE TEMP TABLE gone (v text); SELECT 1/0")) {
            if (a.text().startsWith("CREATE")) {
                tables.completed(a, "CREATE TABLE");
            }
        }
        tables.serverError();
        tables.readyForQuery((byte) 'I');
        assertThat(tables.isEmpty()).isTrue();
    }

    @Test
    void anUnknownTemporaryTableNamedLikeARealOneResolvesAsTheRealOne() {
        run("CREATE TEMP TABLE kept (v text)");
        tables.completed(analyse("BEGIN").getFirst(), "BEGIN");
        tables.completed(analyse("CREATE TEMP TABLE patients (ssn text)").getFirst(), "CREATE TABLE");
        tables.completed(analyse("ROLLBACK TO SAVEPOINT s").getFirst(), "ROLLBACK");
        tables.readyForQuery((byte) 'T');
        assertThat(output("SELECT ssn FROM pg_temp.patients", 0).opaque()).as("unknown").isTrue();
        // The server may read either; the condition over the real SSN is still seen, and refused by the rules.
        StatementAnalysis a = analyse("SELECT count(*) FROM patients WHERE ssn LIKE '1%'").getFirst();
        assertThat(a.facts().predicates()).extracting(StatementFacts.PredicateUse::column).contains(SSN);
    }

    @Test
    void rollbackToASavepointLeavesWhatTheTransactionTouchedUnknown() {
        run("CREATE TEMP TABLE kept (v text)");
        tables.completed(analyse("BEGIN").getFirst(), "BEGIN");
        tables.completed(analyse("CREATE TEMP TABLE later (v text)").getFirst(), "CREATE TABLE");
        tables.completed(analyse("ROLLBACK TO SAVEPOINT s").getFirst(), "ROLLBACK");
        tables.readyForQuery((byte) 'T');
        assertThat(read("SELECT v FROM kept", 0).opaque()).isFalse();
        assertThat(output("SELECT v FROM later", 0).opaque()).isTrue();
    }

    @Test
    void onCommitDropEndsWithTheTransaction() {
        run("CREATE TEMP TABLE brief (v text) ON COMMIT DROP");
        assertThat(tables.isEmpty()).isTrue();
    }

    @Test
    void writingATableWithTriggersLeavesEveryTemporaryTableUnknown() {
        run("CREATE TEMP TABLE log (v text)", "INSERT INTO log VALUES ('mine')");
        run("INSERT INTO audited VALUES (1)");
        assertThat(output("SELECT v FROM log", 0).opaque()).isTrue();
    }

    @Test
    void aDefaultCallingAFunctionOutsidePgCatalogIsOpaque() {
        run("CREATE TEMP TABLE d (v text DEFAULT public.reads_phi())");
        assertThat(read("SELECT v FROM d", 0).opaque()).isTrue();
    }

    @Test
    void aFormTheGatewayDoesNotFollowIsUnknown() {
        run("CREATE TEMP TABLE child () INHERITS (patients)", "CREATE TEMP TABLE IF NOT EXISTS maybe (v text)",
                "CREATE TEMP TABLE shaped (LIKE patients)");
        assertThat(output("SELECT * FROM child", 0).opaque()).isTrue();
        assertThat(output("SELECT * FROM maybe", 0).opaque()).isTrue();
        assertThat(output("SELECT * FROM shaped", 0).opaque()).isTrue();
    }

    @Test
    void dropAndRenameFollowTheServer() {
        run("CREATE TEMP TABLE a (v text)", "ALTER TABLE a RENAME TO b", "ALTER TABLE b RENAME COLUMN v TO w");
        assertThat(read("SELECT w FROM b", 0).opaque()).isFalse();
        assertThat(output("SELECT * FROM a", 0).opaque()).isTrue();
        run("DROP TABLE b");
        assertThat(tables.isEmpty()).isTrue();
    }

    @Test
    void aWriteOfATemporaryTableStaysAnUnknownWriteForTheRules() {
        run("CREATE TEMP TABLE notes (v text)");
        StatementAnalysis insert = analyse("INSERT INTO notes VALUES ('a')").getFirst();
        assertThat(insert.writes()).containsExactly(new TableRef(SessionTables.SCHEMA, "notes"));
        assertThat(insert.facts().unknownWrites()).containsExactly(new TableRef(SessionTables.SCHEMA, "notes"));
    }

    @Test
    void aStatementPreparedBeforeTheTableExistedLeavesItUnknownWhenItRuns() {
        StatementAnalysis prepared = analyse("INSERT INTO later SELECT v FROM somewhere_unknown").getFirst();
        run("CREATE TEMP TABLE later (v text)");
        assertThat(read("SELECT v FROM later", 0).opaque()).isFalse();
        tables.completed(prepared, "INSERT 0 1");
        tables.readyForQuery((byte) 'I');
        assertThat(read("SELECT v FROM later", 0).opaque()).isTrue();
    }

    @Test
    void theOverlayForwardsEveryCatalogQuestion() throws Exception {
        // A Catalog method the overlay did not forward would answer with its default for every session with
        // temporary tables; several defaults fail open (compound: false).
        for (java.lang.reflect.Method m : Catalog.class.getMethods()) {
            if (!java.lang.reflect.Modifier.isStatic(m.getModifiers())) {
                assertThat(tables.view().getClass().getDeclaredMethod(m.getName(), m.getParameterTypes())).isNotNull();
            }
        }
    }

    /**
     * A permanent table the session created is unknown to the catalog it started with, and may run code on writes
     * the CREATE never named (LIKE ... INCLUDING ALL copies defaults and CHECKs, a domain type brings its CHECK):
     * it counts as running code, as every relation the catalog does not know (decision 0068).
     */
    @Test
    void aTableTheSessionCreatedStillCountsAsRunningCode() {
        for (String sql : List.of("CREATE TABLE made_here (LIKE public.audited INCLUDING ALL)",
                "CREATE TABLE IF NOT EXISTS public.audited (id int)")) {
            for (StatementAnalysis a : analyse(sql)) {
                tables.completed(a, "CREATE TABLE");
            }
        }
        assertThat(tables.runsCodeWhenWritten(analyse("INSERT INTO made_here DEFAULT VALUES").getFirst().writes()
                .iterator().next())).isTrue();
        assertThat(tables.runsCodeWhenWritten(new TableRef("public", "audited"))).isTrue();
    }
}
