package io.phigate.sql;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DataRoutesTest {
    private static com.fasterxml.jackson.databind.JsonNode tree(String sql) {
        return PgGrammar.parse(sql).statements().getFirst().tree();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1'|CREATE FUNCTION",
        "create or replace procedure p() language sql as $$ select 1 $$|CREATE PROCEDURE",
        "/* c */ CREATE /* x */ TRIGGER t BEFORE UPDATE ON patients EXECUTE FUNCTION f()|CREATE TRIGGER",
        "CREATE CONSTRAINT TRIGGER t AFTER UPDATE ON patients FOR EACH ROW EXECUTE FUNCTION f()|CREATE TRIGGER",
        "CREATE OR REPLACE RULE r AS ON UPDATE TO patients DO ALSO NOTIFY x|CREATE RULE",
        "CREATE EVENT TRIGGER e ON ddl_command_end EXECUTE FUNCTION f()|CREATE EVENT",
        // Without HANDLER, PostgreSQL's grammar reads CREATE LANGUAGE as CREATE EXTENSION.
        "CREATE TRUSTED PROCEDURAL LANGUAGE plx|CREATE EXTENSION",
        "CREATE LANGUAGE plx HANDLER h|CREATE LANGUAGE",
        "CREATE PUBLICATION p FOR TABLE patients|CREATE PUBLICATION",
        "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p|CREATE SUBSCRIPTION",
        "CREATE FOREIGN TABLE ft (x text) SERVER s|CREATE FOREIGN",
        "CREATE USER MAPPING FOR CURRENT_USER SERVER s|CREATE USER MAPPING",
        "CREATE AGGREGATE a (text) (sfunc = textcat, stype = text)|CREATE AGGREGATE",
        "CREATE EXTENSION dblink|CREATE EXTENSION",
        "ALTER FUNCTION f() SECURITY DEFINER|ALTER FUNCTION",
        "ALTER ROUTINE f() RENAME TO g|ALTER ROUTINE",
        "comment on column patients.ssn is null|COMMENT ON",
        "SECURITY LABEL ON COLUMN patients.ssn IS 'x'|SECURITY LABEL",
        "IMPORT FOREIGN SCHEMA public FROM SERVER s INTO x|IMPORT FOREIGN SCHEMA",
        "GRANT SELECT ON patients TO PUBLIC|GRANT",
        "grant pg_read_all_data to bob|GRANT",
        "CREATE USER bob PASSWORD 'x'|CREATE USER",
        "CREATE ROLE bob LOGIN|CREATE ROLE",
        "ALTER ROLE bob SUPERUSER|ALTER ROLE",
        "ALTER SCHEMA public RENAME TO old|ALTER SCHEMA",
        "create database c template clinical|CREATE DATABASE",
        "ALTER DATABASE clinical SET search_path = s, public|ALTER DATABASE",
        "CREATE POLICY p ON patients USING (true)|CREATE POLICY",
        "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC|ALTER DEFAULT",
        "CREATE SCHEMA s CREATE TRIGGER t AFTER UPDATE ON public.patients FOR EACH ROW EXECUTE FUNCTION f()|CREATE SCHEMA with CREATE",
        "create schema s authorization bob grant select on t to public|CREATE SCHEMA with GRANT",
        "CREATE TABLE p2 PARTITION OF patients FOR VALUES FROM (1) TO (10)|CREATE TABLE ... PARTITION OF",
        "CREATE UNLOGGED TABLE c () INHERITS (patients)|CREATE TABLE ... INHERITS",
        "CREATE TEMP TABLE t AS EXECUTE p|CREATE TABLE ... AS EXECUTE",
        "create table if not exists t as execute p (1)|CREATE TABLE ... AS EXECUTE",
        "ALTER SYSTEM SET archive_command = 'x'|ALTER SYSTEM",
    })
    void namesTheRoute(String sql, String form) {
        assertThat(DataRoutes.of(tree(sql))).isEqualTo(form);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT 'create function' FROM patients", "CREATE TABLE t (x int)", "CREATE SCHEMA s",
        "CREATE SCHEMA IF NOT EXISTS s AUTHORIZATION bob", "CREATE TABLE t (x int) PARTITION BY RANGE (x)", "CREATE TEMP TABLE trigger (x int)",
        "CREATE INDEX ON t (x)", "CREATE VIEW v AS SELECT 1", "REVOKE ALL ON t FROM bob", "ALTER TABLE t ADD COLUMN y int",
        "UPDATE t SET x = 1", "SELECT f()", "REVOKE SELECT ON t FROM bob", "ALTER TABLE t RENAME TO u"})
    void leavesOtherStatementsAlone(String sql) {
        assertThat(DataRoutes.of(tree(sql))).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"ALTER TABLE t RENAME TO u", "/* x */ alter table t add y int", "AL\u0054ER TABLE t OWNER TO x"})
    void seesAnAlterBehindCommentsAndCase(String sql) {
        assertThat(DataRoutes.isAlter(tree(sql))).isTrue();
    }

    /**
     * Only an ALTER TABLE of a table whose subcommands install nothing is plain: a view's options change which rows
     * and whose rights its queries run with, and CASCADE drops other tables' keys (decision 0069).
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "ALTER TABLE t SET (fillfactor = 70, autovacuum_enabled = false, toast.autovacuum_enabled = false)|true",
        "ALTER TABLE t RESET (fillfactor, parallel_workers)|true",
        "ALTER TABLE t ADD PRIMARY KEY (id), ALTER COLUMN c SET NOT NULL|true",
        "ALTER TABLE t DROP CONSTRAINT k|true",
        "ALTER TABLE t DROP CONSTRAINT k RESTRICT|true",
        "ALTER TABLE t DROP CONSTRAINT k CASCADE|false",
        "ALTER TABLE t DROP CONSTRAINT IF EXISTS k CASCADE, ALTER COLUMN c SET NOT NULL|false",
        "ALTER VIEW v SET (security_barrier = false)|false",
        "ALTER VIEW v SET (security_invoker = true)|false",
        "ALTER VIEW v RESET (check_option)|false",
        "ALTER TABLE v SET (security_barrier = false)|false",
        "ALTER TABLE t SET (user_catalog_table = true)|false",
        "ALTER TABLE t SET (heap.fillfactor = 70)|false",
        "ALTER MATERIALIZED VIEW m SET (fillfactor = 70)|false",
        "ALTER FOREIGN TABLE f ALTER COLUMN c SET NOT NULL|false",
        "ALTER INDEX i SET (fillfactor = 70)|false",
        "ALTER TABLE t SET (\"Fillfactor\" = 70)|false",
    })
    void onlyATablesStorageKeysAndRestrictDropsArePlain(String sql, boolean plain) {
        assertThat(DataRoutes.isPlainAlterTable(tree(sql))).as(sql).isEqualTo(plain);
    }
}
