package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Writes a statement makes beyond the relations it names as its target, as scope checks and approval rules see them. */
class SideWritesTest {
    private static final TableRef PARENT = new TableRef("public", "parent");
    private static final TableRef CASCADED = new TableRef("public", "cascaded");
    private static final TableRef NULLED = new TableRef("public", "nulled");
    private static final TableRef BELOW_NULLED = new TableRef("public", "below_nulled");
    private static final TableRef RESTRICTED = new TableRef("public", "restricted");

    /** parent <- cascaded (ON DELETE CASCADE), nulled (ON DELETE SET NULL) <- below_nulled (ON UPDATE CASCADE). */
    private static final SqlAnalyzer ANALYZER = new SqlAnalyzer(PgCatalog.builder().searchPath("public")
            .table(1, "public", "parent", "id").table(2, "public", "cascaded", "pid")
            .table(3, "public", "nulled", "id", "pid").table(4, "public", "below_nulled", "nid")
            .table(5, "public", "restricted", "pid")
            .foreignKey(CASCADED, PARENT, 'a', 'c').foreignKey(NULLED, PARENT, 'a', 'n')
            .foreignKey(BELOW_NULLED, NULLED, 'c', 'a').foreignKey(RESTRICTED, PARENT, 'r', 'r')
            .build(), 0);

    private static StatementAnalysis analysed(String sql) {
        StatementAnalysis a = ANALYZER.analyze(sql).getFirst();
        assertThat(a.parsed()).as(a.error()).isTrue();
        return a;
    }

    @Test
    void aDeleteWritesWhatItsForeignKeyActionsWriteTransitively() {
        assertThat(analysed("DELETE FROM parent WHERE id = 1").writes())
                .containsExactlyInAnyOrder(PARENT, CASCADED, NULLED, BELOW_NULLED);
        assertThat(analysed("UPDATE parent SET id = 2 WHERE id = 1").writes())
                .as("no ON UPDATE action references parent").containsExactly(PARENT);
        assertThat(analysed("UPDATE nulled SET id = 2 WHERE id = 1").writes()).containsExactly(NULLED, BELOW_NULLED);
        assertThat(analysed("WITH d AS (DELETE FROM parent RETURNING id) SELECT id FROM d").writes())
                .contains(CASCADED);
        assertThat(analysed("EXPLAIN DELETE FROM parent").operations()).as("EXPLAIN runs nothing")
                .containsExactly(Operation.UTILITY);
    }

    @Test
    void truncateCascadeWritesEveryReferencingTable() {
        assertThat(analysed("TRUNCATE parent CASCADE").writes())
                .containsExactlyInAnyOrder(PARENT, CASCADED, NULLED, BELOW_NULLED, RESTRICTED);
        assertThat(analysed("TRUNCATE parent").writes()).containsExactly(PARENT);
    }

    @Test
    void writesToRelationsTheCatalogDoesNotKnowAreNamedAsUnknown() {
        assertThat(analysed("DELETE FROM session_view WHERE pid = 1").facts().unknownWrites())
                .containsExactly(new TableRef("?", "session_view"));
        assertThat(analysed("INSERT INTO pg_temp.v (x) VALUES (1)").facts().unknownWrites()).hasSize(1);
        assertThat(analysed("TRUNCATE scratch CASCADE").facts().unknownWrites()).hasSize(1);
        assertThat(analysed("TRUNCATE scratch").facts().unknownWrites())
                .as("a view cannot be truncated; without CASCADE only the table named is").isEmpty();
        assertThat(analysed("CREATE TABLE scratch (v int)").facts().unknownWrites()).isEmpty();
        assertThat(analysed("DELETE FROM parent WHERE id = 1").facts().unknownWrites()).isEmpty();
        assertThat(analysed("SELECT nextval('s')").facts().unknownWrites()).isEmpty();
    }

    @Test
    void locksAndMaintenanceWriteTheirTablesAsUpdates() {
        StatementAnalysis lock = analysed("LOCK TABLE parent IN ACCESS EXCLUSIVE MODE");
        assertThat(lock.writes()).containsExactly(PARENT);
        assertThat(lock.operations()).containsExactly(Operation.UPDATE);
        StatementAnalysis share = analysed("LOCK TABLE parent IN ACCESS SHARE MODE");
        assertThat(share.reads()).containsExactly(PARENT);
        assertThat(share.writes()).isEmpty();
        assertThat(share.operations()).containsExactly(Operation.SELECT);
        StatementAnalysis analyze = analysed("ANALYZE parent");
        assertThat(analyze.writes()).containsExactly(PARENT);
        assertThat(analyze.operations()).containsExactly(Operation.UPDATE);
        assertThat(analysed("VACUUM").operations()).containsExactly(Operation.UPDATE);
        StatementAnalysis forUpdate = analysed("SELECT id FROM parent FOR SHARE");
        assertThat(forUpdate.writes()).containsExactly(PARENT);
        assertThat(forUpdate.operations()).contains(Operation.UPDATE);
        assertThat(analysed("NOTIFY ch, 'x'").operations()).containsExactly(Operation.FUNCTION);
    }

    @Test
    void nextvalAndSetvalWriteTheirSequence() {
        StatementAnalysis next = analysed("SELECT id, nextval('public.parent_id_seq') FROM parent");
        assertThat(next.writes()).containsExactly(new TableRef("public", "parent_id_seq"));
        assertThat(next.operations()).contains(Operation.UPDATE);
        assertThat(analysed("SELECT setval('\"My\".\"Seq\"'::regclass, 1)").writes())
                .containsExactly(new TableRef("My", "Seq"));
        assertThat(analysed("SELECT pg_catalog.nextval('S')").writes()).containsExactly(new TableRef("?", "s"));
        assertThat(analysed("SELECT nextval(relname::regclass) FROM pg_class").writes())
                .as("a sequence nobody can name").containsExactly(new TableRef("?", "?"));
        assertThat(analysed("EXECUTE p(nextval('public.s'))").writes()).containsExactly(new TableRef("public", "s"));
        assertThat(analysed("EXPLAIN SELECT nextval('public.s')").operations()).as("EXPLAIN runs nothing")
                .containsExactly(Operation.UTILITY);
        assertThat(analysed("EXPLAIN ANALYZE SELECT nextval('public.s')").operations()).contains(Operation.UPDATE);
        assertThat(analysed("SELECT currval('public.s')").writes()).isEmpty();
    }

    @Test
    void aSequenceIsWrittenWhereverItsCallStandsInTheTree() {
        // The reader looks for nextval only when the analyser's one walk saw a call somewhere (decision 0083).
        TableRef s = new TableRef("public", "s");
        assertThat(analysed("UPDATE parent SET id = nextval('public.s') WHERE id = 1").writes()).contains(s);
        assertThat(analysed("WITH n AS (SELECT 1 WHERE EXISTS (SELECT setval('public.s', 9))) SELECT * FROM n")
                .writes()).containsExactly(s);
        assertThat(analysed("SELECT ('public.s').nextval").writes()).as("a field selection as the call")
                .containsExactly(s);
        assertThat(analysed("PREPARE q AS SELECT 1 FROM parent ORDER BY nextval('public.s')").writes())
                .containsExactly(s);
        assertThat(analysed("UPDATE parent SET id = id + -4711 WHERE id = 1").writes())
                .containsExactly(new TableRef("public", "parent"));
    }
}
