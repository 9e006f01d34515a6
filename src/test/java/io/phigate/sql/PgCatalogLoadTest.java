package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.TestDatabase;
import io.phigate.config.CredentialsConfig;
import io.phigate.config.HostPort;
import io.phigate.mask.SecretRef;
import io.phigate.config.UpstreamConfig;
import io.phigate.config.UpstreamTlsConfig;
import io.phigate.pg.backend.HousekeepingClient;
import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link PgCatalog#load} over the gateway's own upstream client, against the real demo database. */
class PgCatalogLoadTest {
    private static final TestDatabase DB = TestDatabase.get();
    private static PgCatalog catalog;
    private static int patientsOid;

    static UpstreamConfig upstream() {
        return new UpstreamConfig("clinical", new HostPort("127.0.0.1", DB.port()), "clinical",
                new CredentialsConfig(CredentialsConfig.Mode.STATIC, DB.user(), new SecretRef(null, DB.passwordFile())),
                UpstreamTlsConfig.DISABLED);
    }

    @BeforeAll
    static void createObjectsAndLoad() throws Exception {
        try (Connection c = DB.superuser(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS sqlcat_tagged (id int, ssn text, dropped text, note text)");
            s.execute("ALTER TABLE sqlcat_tagged DROP COLUMN IF EXISTS dropped");
            s.execute("COMMENT ON COLUMN sqlcat_tagged.ssn IS 'phi:ssn (synthetic test data)'");
            s.execute("CREATE TABLE IF NOT EXISTS sqlcat_keyed (id int PRIMARY KEY, ssn text UNIQUE, note text,"
                    + " ref int REFERENCES sqlcat_keyed (id), email text)");
            s.execute("CREATE TABLE IF NOT EXISTS sqlcat_fk_parent (id int PRIMARY KEY)");
            s.execute("CREATE TABLE IF NOT EXISTS sqlcat_fk_cascaded (pid int REFERENCES sqlcat_fk_parent ON DELETE CASCADE)");
            s.execute("CREATE TABLE IF NOT EXISTS sqlcat_fk_nulled (id int PRIMARY KEY,"
                    + " pid int REFERENCES sqlcat_fk_parent ON DELETE SET NULL)");
            s.execute("CREATE TABLE IF NOT EXISTS sqlcat_fk_below (nid int REFERENCES sqlcat_fk_nulled ON UPDATE CASCADE)");
            s.execute("CREATE TABLE IF NOT EXISTS sqlcat_fk_restricted (pid int REFERENCES sqlcat_fk_parent)");
            s.execute("CREATE UNIQUE INDEX IF NOT EXISTS sqlcat_lower_email ON sqlcat_tagged (lower(note))");
            s.execute("CREATE TABLE IF NOT EXISTS sqlcat_visits (id int, patient int, diagnosis text, admitted date,"
                    + " discharged date, CHECK (discharged >= admitted))");
            s.execute("CREATE UNIQUE INDEX IF NOT EXISTS sqlcat_one_hiv ON sqlcat_visits (patient)"
                    + " WHERE diagnosis = 'HIV'");
            s.execute("CREATE OR REPLACE VIEW sqlcat_directory AS SELECT id, first_name || ' ' || last_name AS name,"
                    + " ssn AS ident FROM patients");
            s.execute("CREATE OR REPLACE FUNCTION sqlcat_score(int) RETURNS text LANGUAGE sql AS"
                    + " $$ SELECT ssn FROM patients WHERE id = $1 $$");
            try (ResultSet rs = s.executeQuery("SELECT 'patients'::regclass::oid")) {
                rs.next();
                patientsOid = rs.getInt(1);
            }
        }
        catalog = HousekeepingClient.loadCatalog(upstream());
    }

    @Test
    void takesWhichBuiltInsChangeStateFromTheServersVolatility() {
        for (String changes : List.of("pg_notify", "set_config", "pg_terminate_backend", "pg_stat_reset",
                "brin_summarize_range", "pg_sequence_last_value")) {
            assertThat(catalog.changesState("pg_catalog", changes)).as(changes).isTrue();
            assertThat(catalog.changesState(null, changes)).as(changes).isTrue();
        }
        for (String unchanging : List.of("random", "clock_timestamp", "nextval", "pg_relation_size", "lower", "now",
                "pg_stat_get_xact_numscans")) {
            assertThat(catalog.changesState("pg_catalog", unchanging)).as(unchanging).isFalse();
        }
        assertThat(catalog.changesState("public", "pg_notify")).isFalse();
    }

    @Test
    void findsTheDemoTablesWithColumnsInOrder() {
        Relation patients = catalog.relation(null, "patients").orElseThrow();
        assertThat(patients.kind()).isEqualTo(Relation.Kind.TABLE);
        assertThat(patients.schema()).isEqualTo("public");
        assertThat(patients.oid()).isEqualTo(patientsOid);
        assertThat(patients.columns()).startsWith("id", "mrn", "first_name", "last_name").contains("ssn").hasSize(14);
        assertThat(catalog.relation("public", "encounters")).isPresent();
        assertThat(catalog.relation(null, "medications")).isPresent();
        assertThat(catalog.relation(null, "no_such_table")).isEmpty();
    }

    @Test
    void mapsRowDescriptionOidAndAttributeNumberToAColumn() {
        assertThat(catalog.column(patientsOid, 7)).contains(new ColumnRef("public", "patients", "ssn"));
        assertThat(catalog.column(patientsOid, 99)).isEmpty();
        assertThat(catalog.column(1, 1)).isEmpty();
    }

    @Test
    void skipsDroppedColumnsButKeepsAttributeNumbers() {
        Relation t = catalog.relation(null, "sqlcat_tagged").orElseThrow();
        assertThat(t.columns()).containsExactly("id", "ssn", "note");
        assertThat(catalog.column(t.oid(), 4)).contains(new ColumnRef("public", "sqlcat_tagged", "note"));
        assertThat(catalog.column(t.oid(), 3)).isEmpty();
    }

    @Test
    void readsPhiTagsFromColumnComments() {
        assertThat(catalog.phiTags()).containsEntry(new ColumnRef("public", "sqlcat_tagged", "ssn"), "ssn");
    }

    @Test
    void knowsWhichColumnsAKeyOrUniqueIndexChecks() {
        ColumnRef id = new ColumnRef("public", "sqlcat_keyed", "id");
        ColumnRef ssn = new ColumnRef("public", "sqlcat_keyed", "ssn");
        assertThat(catalog.checkedAgainst(id)).containsExactly(id);
        assertThat(catalog.checkedAgainst(ssn)).containsExactly(ssn);
        assertThat(catalog.checkedAgainst(new ColumnRef("public", "sqlcat_keyed", "ref")))
                .as("a foreign key checks the referenced column").containsExactly(id);
        assertThat(catalog.checkedAgainst(new ColumnRef("public", "sqlcat_keyed", "note"))).isEmpty();
        ColumnRef tagged = new ColumnRef("public", "sqlcat_tagged", "ssn");
        assertThat(catalog.checkedAgainst(tagged)).as("a unique index on an expression may read any column")
                .containsExactly(tagged);
        ColumnRef diagnosis = new ColumnRef("public", "sqlcat_visits", "diagnosis");
        assertThat(catalog.checkedAgainst(diagnosis)).as("a partial unique index's predicate may read any column")
                .containsExactly(diagnosis);
        assertThat(catalog.rowChecks(new TableRef("public", "sqlcat_visits"))).containsExactlyInAnyOrder(
                new ColumnRef("public", "sqlcat_visits", "admitted"), new ColumnRef("public", "sqlcat_visits", "discharged"));
        ColumnRef nowhere = new ColumnRef("public", "nowhere", "x");
        assertThat(catalog.checkedAgainst(nowhere)).as("unknown: fail closed").containsExactly(nowhere);
    }

    @Test
    void knowsWhichTablesForeignKeyActionsWrite() {
        TableRef parent = new TableRef("public", "sqlcat_fk_parent");
        TableRef cascaded = new TableRef("public", "sqlcat_fk_cascaded");
        TableRef nulled = new TableRef("public", "sqlcat_fk_nulled");
        TableRef below = new TableRef("public", "sqlcat_fk_below");
        TableRef restricted = new TableRef("public", "sqlcat_fk_restricted");
        assertThat(catalog.writtenThroughKeys(parent, Operation.DELETE))
                .as("SET NULL is an update of nulled, whose ON UPDATE CASCADE writes below")
                .containsExactlyInAnyOrder(cascaded, nulled, below);
        assertThat(catalog.writtenThroughKeys(parent, Operation.UPDATE)).isEmpty();
        assertThat(catalog.writtenThroughKeys(parent, Operation.TRUNCATE))
                .containsExactlyInAnyOrder(cascaded, nulled, below, restricted);
        assertThat(catalog.writtenThroughKeys(cascaded, Operation.DELETE)).isEmpty();
    }

    @Test
    void seesThroughAViewDefinedUpstream() {
        Relation v = catalog.relation(null, "sqlcat_directory").orElseThrow();
        assertThat(v.kind()).isEqualTo(Relation.Kind.VIEW);
        assertThat(v.definition()).containsIgnoringCase("select");
        StatementAnalysis a = new SqlAnalyzer(catalog).analyze("select ident, name from sqlcat_directory").getFirst();
        assertThat(a.reads()).contains(new TableRef("public", "sqlcat_directory"), new TableRef("public", "patients"));
        assertThat(a.outputs().get(0)).isEqualTo(new OutputColumn("ident",
                java.util.Set.of(new ColumnRef("public", "patients", "ssn")), true, false));
        assertThat(a.outputs().get(1).sources()).containsExactlyInAnyOrder(
                new ColumnRef("public", "patients", "first_name"), new ColumnRef("public", "patients", "last_name"));
    }

    @Test
    void classifiesUserFunctionsAsOpaqueAndBuiltinsAsTransparent() {
        assertThat(catalog.isTransparentFunction(null, "sqlcat_score")).isFalse();
        assertThat(catalog.isTransparentFunction("public", "sqlcat_score")).isFalse();
        assertThat(catalog.isTransparentFunction(null, "lower")).isTrue();
        assertThat(catalog.isTransparentFunction("pg_catalog", "row_to_json")).isTrue();
        assertThat(catalog.isTransparentFunction(null, "format")).isTrue();
        assertThat(catalog.isTransparentFunction(null, "query_to_xml")).isFalse();
        assertThat(catalog.isTransparentFunction(null, "pg_read_file")).isFalse();
        assertThat(catalog.isTransparentFunction(null, "lo_get")).isFalse();
        assertThat(catalog.isTransparentFunction(null, "no_such_function")).isFalse();
        StatementAnalysis a = new SqlAnalyzer(catalog).analyze("select sqlcat_score(id) from patients").getFirst();
        assertThat(a.opaqueFunctions()).containsExactly("sqlcat_score");
        assertThat(a.outputs().getFirst().opaque()).isTrue();
    }

    @Test
    void searchPathIsTheRolesOwn() {
        assertThat(catalog.searchPath()).contains("public");
    }

    @Test
    void aFailingQueryIsAnIOExceptionAndTheConnectionStaysUsable() throws Exception {
        try (HousekeepingClient c = HousekeepingClient.open(upstream(), "phigate test")) {
            assertThatThrownBy(() -> c.query("SELECT * FROM no_such_table")).isInstanceOf(IOException.class)
                    .hasMessageContaining("42P01");
            assertThat(c.query("SELECT 1, NULL")).isEqualTo(List.of(java.util.Arrays.asList("1", null)));
        }
    }
}
