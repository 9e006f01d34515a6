-- Statements from PostgreSQL's regression tests (src/test/regress/sql, as libpg_query 15-4.0.0 ships them in
-- test/sql/postgres_regress; PostgreSQL licence), chosen by bench/prototypes/0082-ParseCorpus.java: the shortest
-- statement that adds a node type, a field or an enum value not yet seen, until the whole suite adds nothing.
-- ParseResultDecoderTest reads every one through libpg_query's protobuf and JSON outputs. One per chunk, chunks
-- separated by a line '-- ---'.
-- ---
END
-- ---
BEGIN
-- ---
ABORT
-- ---
VACUUM
-- ---
CLUSTER
-- ---
CLOSE c
-- ---
SELECT 1
-- ---
table ab
-- ---
FETCH c1
-- ---
call p1()
-- ---
analyze t
-- ---
execute q
-- ---
RESET ROLE
-- ---
UNLISTEN *
-- ---
SELECT 1/0
-- ---
CHECKPOINT
-- ---
SAVEPOINT f
-- ---
select f1()
-- ---
LOCK atestc
-- ---
RELEASE two
-- ---
SELECT false
-- ---
DROP TABLE T
-- ---
DISCARD TEMP
-- ---
DROP VIEW tv
-- ---
deallocate q
-- ---
FETCH LAST c
-- ---
ROLLBACK TO q
-- ---
drop type vc4
-- ---
SHOW TimeZone
-- ---
delete from t
-- ---
set geqo = on
-- ---
select f1(42)
-- ---
EXECUTE p1(2)
-- ---
FETCH PRIOR c
-- ---
select array[]
-- ---
drop domain di
-- ---
DROP SERVER s0
-- ---
select ln(0.0)
-- ---
CLUSTER clstr_1
-- ---
CALL ptest1($1)
-- ---
TRUNCATE gtest3
-- ---
DROP INDEX jidx
-- ---
select ''::xid8
-- ---
CREATE TABLE t()
-- ---
LISTEN foo_event
-- ---
COMMIT AND CHAIN
-- ---
COPY x from stdin
-- ---
CREATE TYPE shell
-- ---
SELECT 4-2 AS two
-- ---
execute foo(true)
-- ---
vacuum analyze j3
-- ---
drop sequence seq
-- ---
DISCARD SEQUENCES
-- ---
drop function f()
-- ---
DROP SCHEMA alter2
-- ---
UPDATE t SET y = 2
-- ---
select polyf(null)
-- ---
select (dfunc()).*
-- ---
CREATE SCHEMA sch1
-- ---
DROP POLICY p ON t
-- ---
DROP FUNCTION func
-- ---
set role to default
-- ---
DROP STATISTICS s10
-- ---
select 33 * any (44)
-- ---
select '{}}'::text[]
-- ---
DROP COLLATION test0
-- ---
CREATE INDEX ON t(a)
-- ---
select * from f1(42)
-- ---
select dfunc(a =>+1)
-- ---
DROP PUBLICATION pub
-- ---
select ROW() IS NULL
-- ---
CREATE SEQUENCE seq2
-- ---
SELECT normalize('')
-- ---
select except select
-- ---
drop table t1 cascade
-- ---
DROP CONVERSION mydef
-- ---
DROP PROCEDURE ptest2
-- ---
set timezone to 'UTC'
-- ---
SELECT current_schema
-- ---
SET datestyle = 'MDY'
-- ---
SET DateStyle = 'ISO'
-- ---
drop function f1(int)
-- ---
select 1, 2, 3 into t
-- ---
move forward all in c
-- ---
REINDEX INDEX sro_idx
-- ---
DROP RULE y_rule ON y
-- ---
ALTER TABLE tt7 DROP q
-- ---
SELECT ARRAY[1,NULL,3]
-- ---
UNLISTEN notify_async2
-- ---
SELECT date 'J2451187'
-- ---
CREATE TABLE m(id OID)
-- ---
DROP FOREIGN TABLE ft2
-- ---
SET LOCAL TIME ZONE -8
-- ---
PREPARE q1 AS SELECT 2
-- ---
COMMIT PREPARED 'foo2'
-- ---
REINDEX TABLE sro_ptab
-- ---
SELECT xmlconcat(1, 2)
-- ---
SELECT xmlpi(name foo)
-- ---
SET XML OPTION CONTENT
-- ---
select * from alter2.t1
-- ---
select B'0111' | B'011'
-- ---
COPY x (c, e) TO stdout
-- ---
DROP ROLE regress_login
-- ---
update op set f1[2] = 0
-- ---
drop routine f1(), p1()
-- ---
SELECT interval '3' day
-- ---
select (row(1, 2.0)).f2
-- ---
select intersect select
-- ---
SET XML OPTION DOCUMENT
-- ---
vacuum analyze atacc1(a)
-- ---
ALTER TABLE tt1 OF tt_t0
-- ---
INSERT INTO T VALUES (1)
-- ---
delete from fkpart3.pkey
-- ---
FETCH RELATIVE 0 FROM c1
-- ---
ROLLBACK PREPARED 'foo3'
-- ---
DROP TRIGGER y_trig ON y
-- ---
COPY y TO stdout WITH CSV
-- ---
SELECT *
  FROM J1_TBL tx
-- ---
DROP MATERIALIZED VIEW mv
-- ---
drop function vari(int[])
-- ---
GRANT ALL ON t2 TO public
-- ---
SELECT count(*) FROM shoe
-- ---
(SELECT 2) UNION SELECT 2
-- ---
SET TRANSACTION READ ONLY
-- ---
create table p11 (like p1)
-- ---
create domain dia as int[]
-- ---
delete from t1 where a = 1
-- ---
PREPARE TRANSACTION 'foo1'
-- ---
CREATE SEQUENCE tststats.s
-- ---
SELECT * FROM v1 WHERE a=3
-- ---
CREATE ROLE regress_vacuum
-- ---
SELECT f1[:] FROM POINT_TBL
-- ---
SELECT not bool 'f' AS true
-- ---
SELECT * FROM T ORDER BY pk
-- ---
SET LOCAL datestyle = 'SQL'
-- ---
DROP TABLE IF EXISTS target
-- ---
CREATE PUBLICATION testpub2
-- ---
START TRANSACTION READ ONLY
-- ---
VACUUM (PARALLEL 2) pvactst
-- ---
ANALYZE pg_catalog.pg_class
-- ---
SELECT xmlparse(content '')
-- ---
SELECT '<>' IS NOT DOCUMENT
-- ---
cluster attbl using pk_attbl
-- ---
SELECT f1[0:] FROM POINT_TBL
-- ---
select 33 = all ('{1,2,33}')
-- ---
SET CONSTRAINTS ALL DEFERRED
-- ---
COMMENT ON INDEX six IS NULL
-- ---
ALTER TABLE tx1 RENAME TO a1
-- ---
CREATE GROUP regress_test_g1
-- ---
create index tt3i on tt3(f1)
-- ---
drop function f1(x anyrange)
-- ---
DROP ACCESS METHOD heap_psql
-- ---
DROP OPERATOR <<< (int, int)
-- ---
ALTER TABLE m ADD UNIQUE (k)
-- ---
alter table tt3 rename c to d
-- ---
CREATE USER regress_dep_user2
-- ---
alter domain dom set not null
-- ---
DROP FOREIGN DATA WRAPPER foo
-- ---
ALTER SERVER s2 VERSION '1.1'
-- ---
select interval 'P2147483648'
-- ---
COMMENT ON TABLE attmp IS NULL
-- ---
create table alter1.t1 (a int)
-- ---
DROP AGGREGATE myavg (numeric)
-- ---
COMMENT ON VIEW toyemp IS NULL
-- ---
DROP OWNED BY regress_evt_user
-- ---
DROP EVENT TRIGGER undroppable
-- ---
CREATE UNIQUE INDEX ON lt1 (a)
-- ---
select interval 'PT2562047789'
-- ---
insert into s1.abc values(123)
-- ---
CREATE SCHEMA "CURRENT_SCHEMA"
-- ---
TRUNCATE TABLE trunc_c CASCADE
-- ---
CREATE TABLE persons5 OF stuff
-- ---
DROP LANGUAGE alt_lang2 CASCADE
-- ---
select * from atacc1 group by a
-- ---
create table c1 () inherits(p1)
-- ---
CREATE ROLE regress_login LOGIN
-- ---
create domain vc4 as varchar(4)
-- ---
CREATE FOREIGN DATA WRAPPER foo
-- ---
ALTER SERVER s8new RENAME to s8
-- ---
UPDATE pk SET a = 2 WHERE a = 1
-- ---
INSERT INTO a(aa) VALUES('aaa')
-- ---
alter table p2 add check (f2>0)
-- ---
SELECT (SELECT ARRAY[1,2,3])[1]
-- ---
SELECT xmlelement(name num, 37)
-- ---
REINDEX SCHEMA schema_to_reindex
-- ---
SELECT false<=-1 BETWEEN 1 AND 1
-- ---
COMMENT ON COLUMN ctlt1.a IS 'A'
-- ---
create table vc4table (f1 vc4[])
-- ---
-- cast
DROP CAST (text AS text)
-- ---
ALTER TYPE bogus ADD VALUE 'new'
-- ---
ALTER TYPE bogus RENAME TO bogon
-- ---
ALTER TABLE fkpart11.pk12 DROP c
-- ---
UPDATE fkpart11.pk SET a = a - 1
-- ---
create index on idxpart (abs(b))
-- ---
select interval 'P1W2147483647D'
-- ---
select interval 'P2147483647D1W'
-- ---
REFRESH MATERIALIZED VIEW sro_mv
-- ---
create type testtype5 as (a int)
-- ---
ALTER SEQUENCE serialTest1 CYCLE
-- ---
SELECT 'jack' LIKE '%____%' AS t
-- ---
CREATE TABLE koju (a INT UNIQUE)
-- ---
ALTER TYPE tt_t0 DROP ATTRIBUTE z
-- ---
set client_min_messages = 'ERROR'
-- ---
CREATE COLLATION test5 FROM test0
-- ---
COPY x from stdin WHERE a = 50004
-- ---
CALL ptest7(least('a', 'b'), 'a')
-- ---
CREATE DATABASE regress_nosuch_db
-- ---
COMMENT ON COLUMN ctlt3.a IS 'A3'
-- ---
CREATE TYPE bogus AS ENUM('good')
-- ---
ALTER SERVER s8 OPTIONS (foo '1')
-- ---
-- discard everything
DISCARD ALL
-- ---
SELECT * FROM INT2_TBL AS f(a, b)
-- ---
SELECT session_user, current_user
-- ---
SELECT * FROM rngfunc(42) AS p(x)
-- ---
EXPLAIN (COSTS OFF) EXECUTE p1(2)
-- ---
SELECT * FROM foo ORDER BY f1 ASC
-- ---
DROP SUBSCRIPTION regress_testsub
-- ---
SELECT * FROM rw_view1 FOR UPDATE
-- ---
SELECT count() OVER () FROM tenk1
-- ---
alter table p11 add a int not null
-- ---
CREATE TABLE withoid() WITH (oids)
-- ---
create view v4 as select * from v1
-- ---
alter view v1 rename column a to x
-- ---
create domain ddef1 int4 DEFAULT 3
-- ---
alter domain con drop constraint t
-- ---
SET CONSTRAINTS fk_a_fkey DEFERRED
-- ---
SELECT date 'J0' AS "Julian Epoch"
-- ---
select vari(variadic array[5,6,7])
-- ---
GRANT SELECT ON atest12v TO PUBLIC
-- ---
REINDEX TABLE CONCURRENTLY sro_tab
-- ---
ALTER POLICY p1 ON t1 RENAME TO p1
-- ---
SELECT * FROM foo ORDER BY f1 DESC
-- ---
CREATE INDEX fooi ON foo (f1 DESC)
-- ---
SELECT * FROM ((SELECT 1 AS x)) ss
-- ---
select 1 = all (select (select 1))
-- ---
SELECT 1 AS two UNION ALL SELECT 2
-- ---
ALTER TABLE attmp ADD COLUMN i char
-- ---
ALTER PROCEDURE ptest1(text) STRICT
-- ---
alter domain ddef1 set default '42'
-- ---
ALTER TABLE lt1 ADD PRIMARY KEY (a)
-- ---
DROP USER IF EXISTS regress_rls_bob
-- ---
CREATE TABLE t3 AS SELECT * FROM t1
-- ---
CREATE POLICY p ON t USING (max(c))
-- ---
SELECT 2 IS DISTINCT FROM 2 as "no"
-- ---
SELECT NULL::text[]::int[] AS "NULL"
-- ---
INSERT INTO test20 VALUES (2, 'ABC')
-- ---
INSERT INTO test22 VALUES (2, 'DEF')
-- ---
COMMENT ON CONVERSION myconv IS NULL
-- ---
REINDEX TABLE pg_toast.pg_toast_1260
-- ---
ALTER FUNCTION ptest1(text) VOLATILE
-- ---
COMMENT ON FOREIGN TABLE ft1 IS NULL
-- ---
alter function myfunc(int) reset all
-- ---
SELECT to_timestamp('5527', 'IIWID')
-- ---
DELETE FROM tenk1 WHERE CURRENT OF c
-- ---
SELECT * FROM pg_largeobject LIMIT 0
-- ---
DROP SCHEMA "CURRENT_SCHEMA" CASCADE
-- ---
CREATE INDEX ti ON tststats.t (a, b)
-- ---
TRUNCATE truncate_a RESTART IDENTITY
-- ---
SELECT bool 't' and bool 'f' AS false
-- ---
SELECT count(DISTINCT x) FROM test3cs
-- ---
drop function dfunc(a variadic int[])
-- ---
CREATE TABLE r2 (a int REFERENCES r1)
-- ---
create view rule_v1(x) as values(1,2)
-- ---
SELECT 'hawkeye' ILIKE 'H%' AS "true"
-- ---
insert into child2 values ('BBB', 42)
-- ---
insert into child3 values (42, 'CCC')
-- ---
ALTER COLLATION test1 RENAME TO test11
-- ---
ALTER ROUTINE ptest1a RENAME TO ptest1
-- ---
CREATE USER MAPPING FOR user SERVER s4
-- ---
DROP USER MAPPING FOR public SERVER s7
-- ---
ALTER FOREIGN TABLE ft1 DROP COLUMN c9
-- ---
INSERT INTO gtest1 VALUES (2, DEFAULT)
-- ---
SELECT to_timestamp('05527', 'IYIWID')
-- ---
create type intr as range(subtype=int)
-- ---
CREATE SEQUENCE sequence_testx CACHE 0
-- ---
SELECT 1 AS zero WHERE 1 IN (SELECT 2)
-- ---
select exists(select * from nocolumns)
-- ---
PREPARE selectsource(int) AS SELECT $1
-- ---
select distinct max(unique2) from tenk1
-- ---
ALTER INDEX onek_unique1 RENAME TO fail
-- ---
alter table alter1.t1 set schema alter1
-- ---
DROP INDEX CONCURRENTLY concur_temp_ind
-- ---
DELETE FROM pk WHERE a = 20 RETURNING *
-- ---
DELETE FROM tbl WHERE c1 = 5 OR c3 = 12
-- ---
create index on idxpart (a collate "C")
-- ---
insert into part_ee_ff values ('EE', 0)
-- ---
SELECT to_char('100'::numeric, 'FM999')
-- ---
ALTER ROLE regress_priv_user1 NOINHERIT
-- ---
ALTER POLICY p2 ON s2 USING (x % 2 = 0)
-- ---
select ROW(1,2) in (ROW(3,4), ROW(1,2))
-- ---
DROP OPERATOR FAMILY alt_opf9 USING gist
-- ---
ALTER VIEW attmp_view_new RENAME TO fail
-- ---
ALTER COLLATION test11 OWNER TO nonsense
-- ---
drop procedure ptest10(in int, int, int)
-- ---
COMMENT ON TYPE default_test_row IS NULL
-- ---
COMMENT ON SERVER s1 IS 'foreign server'
-- ---
CREATE USER MAPPING FOR public SERVER t1
-- ---
DROP OWNED BY regress_test_role2 CASCADE
-- ---
SELECT to_timestamp('005527', 'IYYIWID')
-- ---
create index concurrently on idxpart (a)
-- ---
create index on idxpart1 (a) where b > 1
-- ---
DECLARE c CURSOR FOR SELECT * FROM tenk2
-- ---
GRANT SELECT (a, b) ON atest12 TO PUBLIC
-- ---
GRANT ALL ON LARGE OBJECT 1001 TO PUBLIC
-- ---
SELECT 2 IS NOT DISTINCT FROM 2 as "yes"
-- ---
REFRESH MATERIALIZED VIEW testschema.amv
-- ---
alter type alter1.ctype set schema alter1
-- ---
copy (delete from copydml_test) to stdout
-- ---
REVOKE USAGE ON TYPE type_op3 FROM PUBLIC
-- ---
drop procedure ptest10(out int, int, int)
-- ---
CREATE SERVER s1 FOREIGN DATA WRAPPER foo
-- ---
CREATE TABLE fk_d PARTITION OF fk DEFAULT
-- ---
SELECT to_timestamp('2005426', 'YYYYWWD')
-- ---
SELECT to_timestamp('2005300', 'YYYYDDD')
-- ---
LOCK TABLE lock_tbl1 IN SHARE MODE NOWAIT
-- ---
CREATE POLICY genpol ON addr_nsp.gentable
-- ---
ALTER TABLE prt2 DETACH PARTITION prt2_p3
-- ---
insert into System values ('orion', 'PC')
-- ---
-- ok
GRANT USAGE ON LANGUAGE c TO PUBLIC
-- ---
SELECT * FROM get_users() WITH ORDINALITY
-- ---
ALTER TABLE t1 OWNER TO regress_rls_alice
-- ---
-- Error
UPDATE r1 SET a = 30 RETURNING *
-- ---
SELECT * FROM foo ORDER BY f1 NULLS FIRST
-- ---
ALTER SUBSCRIPTION regress_testsub ENABLE
-- ---
CREATE OPERATOR FAMILY alt_opf2 USING hash
-- ---
ALTER TABLE IF EXISTS tt8 ADD COLUMN f int
-- ---
SELECT mylt2('a', 'B' collate "C") as fail
-- ---
COMMENT ON COLLATION test0 IS 'US English'
-- ---
COMMENT ON AGGREGATE newavg (int4) IS NULL
-- ---
GRANT USAGE ON SCHEMA schema_op1 TO PUBLIC
-- ---
ALTER TYPE myvarchar SET (storage = plain)
-- ---
SELECT now()::time::text = localtime::text
-- ---
ALTER SERVER s1 OWNER TO regress_test_role
-- ---
SELECT has_server_privilege('s8', 'USAGE')
-- ---
SELECT to_timestamp('2005527', 'IYYYIWID')
-- ---
SELECT to_timestamp('2005364', 'IYYYIDDD')
-- ---
alter table idxpart add exclude (a with =)
-- ---
SELECT * FROM (TABLE int2_tbl) AS s (a, b)
-- ---
GRANT pg_monitor TO regress_slot_dir_funcs
-- ---
SELECT * FROM t1 WHERE f_leak(b) FOR SHARE
-- ---
CREATE TABLE t (c) AS VALUES ('bar'::text)
-- ---
COMMENT ON SEQUENCE sequence_test2 IS NULL
-- ---
alter trigger a on grandparent rename to b
-- ---
ALTER TABLE IF EXISTS tt8 SET SCHEMA alter2
-- ---
CREATE TABLE i_am_a_failure() USING "btree"
-- ---
REVOKE ALL ON FUNCTION gf1(int) FROM PUBLIC
-- ---
SELECT to_timestamp('19971116', 'YYYYMMDD')
-- ---
CREATE TYPE addr_nsp.gencomptype AS (a int)
-- ---
insert into rtest_nothn2 values (100, 'OK')
-- ---
CREATE SEQUENCE IF NOT EXISTS sequence_test
-- ---
SELECT 'abcdefg' SIMILAR TO 'bcd%' AS false
-- ---
DROP SUBSCRIPTION IF EXISTS regress_testsub
-- ---
ALTER VIEW rw_view1 SET (check_option=here)
-- ---
SELECT xmlroot(xml '<foo/>', version '2.0')
-- ---
SELECT xmlserialize(document 'bad' as text)
-- ---
ALTER LANGUAGE alt_lang1 RENAME TO alt_lang2
-- ---
alter domain alter1.posint set schema alter2
-- ---
SELECT * FROM CASE_TBL WHERE NULLIF(f,i) = 2
-- ---
SELECT * FROM collate_test3 WHERE b >= 'BBC'
-- ---
CREATE INDEX ON test3ci (x text_pattern_ops)
-- ---
create cast (int4 as myint) without function
-- ---
DROP USER MAPPING FOR current_user SERVER t1
-- ---
select * from tbl where (c1,c2,c3) < (2,5,1)
-- ---
create index on idxpart2 (a collate "POSIX")
-- ---
create schema s2
  create table abc (f1 int)
-- ---
ALTER TYPE test_type RENAME ATTRIBUTE a TO aa
-- ---
ALTER COLLATION test11 SET SCHEMA test_schema
-- ---
CREATE TABLE cmdata1(f1 TEXT COMPRESSION lz4)
-- ---
DROP OPERATOR CLASS test_int4_ops USING btree
-- ---
CREATE TABLE ctlt1 (LIKE ctlt1 INCLUDING ALL)
-- ---
ALTER TABLE temp_view_test.tt1 RENAME TO tmp1
-- ---
select m, m is not null from makedcomp(1,2) m
-- ---
alter type insenum add value 'i1' before 'L2'
-- ---
ALTER TYPE bogus RENAME VALUE 'good' to 'bad'
-- ---
ALTER FOREIGN DATA WRAPPER foo RENAME TO foo1
-- ---
CREATE TABLE fk (a int) PARTITION BY LIST (a)
-- ---
alter index idxpart attach partition idxpart1
-- ---
alter table p2 add constraint cc check (f2>0)
-- ---
select foo from (select null offset 0) as foo
-- ---
SELECT * FROM foo ORDER BY f1 DESC NULLS LAST
-- ---
CREATE INDEX fooi ON foo (f1 DESC NULLS LAST)
-- ---
SELECT 1 AS one FROM test_having HAVING a > 1
-- ---
create statistics stts_4 on b, c from stts_t2
-- ---
SELECT regexp_replace('AAA', '^|$', 'Z', 'g')
-- ---
create view pg_temp.twophase_view as select 1
-- ---
ALTER CONVERSION alt_conv1 RENAME TO alt_conv2
-- ---
ALTER STATISTICS alt_stat1 RENAME TO alt_stat2
-- ---
SELECT f1
   FROM BOOLTBL2
   WHERE f1 IS TRUE
-- ---
alter domain testdomain1 rename to testdomain2
-- ---
DROP TEXT SEARCH DICTIONARY test_tsdict_exists
-- ---
DROP EXTENSION IF EXISTS test_extension_exists
-- ---
ALTER FOREIGN DATA WRAPPER foo OPTIONS (a '2')
-- ---
select * from t1 left join t2 on (t1.a = t2.a)
-- ---
SELECT json_agg(q ORDER BY x, y)
  FROM rows q
-- ---
INSERT INTO foo VALUES (847001,'t15','GE1043')
-- ---
ALTER LARGE OBJECT 42 OWNER TO regress_lo_user
-- ---
ALTER TABLE testpub_tbl6 REPLICA IDENTITY FULL
-- ---
ALTER TABLE IF EXISTS tt8 RENAME COLUMN f TO f1
-- ---
INSERT INTO BOOLTBL2 (f1) VALUES (bool 'FALSE')
-- ---
SELECT f1
   FROM BOOLTBL1
   WHERE f1 IS FALSE
-- ---
SELECT 'bıt' ~* 'BIT' COLLATE "tr_TR" AS "true"
-- ---
UPDATE cmmove2 SET f1 = cmdata1.f1 FROM cmdata1
-- ---
INSERT INTO func_index_heap VALUES('QWE','RTY')
-- ---
drop database test_database_exists with (force)
-- ---
DROP USER MAPPING IF EXISTS FOR user SERVER ss4
-- ---
CREATE FOREIGN TABLE ft_part2 (a INT) SERVER s0
-- ---
SELECT one, two FROM atest5 NATURAL JOIN atest6
-- ---
DROP FUNCTION rngfuncb(in f1 int, inout f2 int)
-- ---
SELECT * FROM nocols n, LATERAL (VALUES(n.*)) v
-- ---
ALTER STATISTICS ab1_a_b_stats SET STATISTICS 0
-- ---
INSERT INTO department VALUES (0, NULL, 'ROOT')
-- ---
SELECT xmlserialize(content 'good' as char(10))
-- ---
create table atref (c1 int references attbl(p1))
-- ---
COPY x from stdin WHERE a = row_number() over(b)
-- ---
INSERT INTO func_index_heap VALUES('AB','CDEFG')
-- ---
alter event trigger regress_event_trigger enable
-- ---
SELECT now()::time(3)::text = localtime(3)::text
-- ---
ALTER SERVER s6 OPTIONS (DROP host, DROP dbname)
-- ---
ALTER TABLE fk ADD FOREIGN KEY (a) REFERENCES pk
-- ---
GRANT SELECT (prosrc) ON pg_proc TO CURRENT_USER
-- ---
REFRESH MATERIALIZED VIEW CONCURRENTLY mvtest_tm
-- ---
ALTER SCHEMA testns OWNER TO regress_schemauser2
-- ---
COMMENT ON RULE rtest_v1_del ON rtest_v1 IS NULL
-- ---
ALTER SEQUENCE sequence_test_unlogged SET LOGGED
-- ---
ALTER STATISTICS ab1_a_b_stats SET STATISTICS -1
-- ---
INSERT INTO trunc_faa VALUES (5, 'five', 'FIVE')
-- ---
ALTER TABLE vacowned_part1 OWNER TO CURRENT_USER
-- ---
ALTER FUNCTION alt_func3(int) RENAME TO alt_func4
-- ---
CREATE INDEX foocover ON foo (f1) INCLUDE (f2,f3)
-- ---
CREATE DOMAIN testdomain_i AS int COLLATE "sv_SE"
-- ---
-- ALTER

ALTER COLLATION "en_US" REFRESH VERSION
-- ---
ALTER FOREIGN TABLE ft1 SET SCHEMA foreign_schema
-- ---
DROP USER MAPPING FOR regress_test_role SERVER s6
-- ---
ALTER TABLE prt1 ATTACH PARTITION prt1_p3 DEFAULT
-- ---
ALTER PUBLICATION testpub2 ADD TABLE testpub_tbl1
-- ---
select * from testrngfunc() as t(f1 int8,f2 int8)
-- ---
SELECT regexp_count('ABCABCABCABC', 'Abc', 1, '')
-- ---
CREATE TABLE IF NOT EXISTS persons OF person_type
-- ---
ALTER AGGREGATE alt_func1(int) RENAME TO alt_func3
-- ---
alter function alter1.plus1(int) set schema alter2
-- ---
INSERT INTO point_tbl(f1[0]) VALUES(0) RETURNING *
-- ---
SELECT f1
   FROM BOOLTBL1
   WHERE f1 IS NOT TRUE
-- ---
SELECT x FROM test1cs EXCEPT SELECT x FROM test2cs
-- ---
SELECT 'Türkiye' COLLATE "en_US" ~* 'KI' AS "true"
-- ---
insert into copytest values('DOS',E'abc\r\ndef',1)
-- ---
COMMENT ON STATISTICS ctlt1_a_b_stat IS 'ab stats'
-- ---
ALTER TYPE planets ADD VALUE IF NOT EXISTS 'pluto'
-- ---
COMMENT ON FOREIGN DATA WRAPPER dummy IS 'useless'
-- ---
ALTER FOREIGN DATA WRAPPER foo OPTIONS (SET c '4')
-- ---
ALTER FOREIGN DATA WRAPPER foo OPTIONS (ADD d '5')
-- ---
CREATE TABLE pk2 PARTITION OF pk FOR VALUES IN (2)
-- ---
-- fails
ALTER TABLE gtest10 DROP COLUMN b CASCADE
-- ---
SELECT *
  FROM J1_TBL RIGHT JOIN J2_TBL USING (i)
-- ---
COMMENT ON LARGE OBJECT 2121 IS 'testing comments'
-- ---
CREATE PUBLICATION testpub3 FOR TABLE testpub_tbl3
-- ---
ALTER SCHEMA pub_test1_renamed RENAME to pub_test1
-- ---
INSERT INTO test_having VALUES (0, 1, 'XXXX', 'A')
-- ---
INSERT INTO test_having VALUES (1, 2, 'AAAA', 'b')
-- ---
INSERT INTO test_having VALUES (3, 3, 'BBBB', 'D')
-- ---
INSERT INTO test_having VALUES (8, 4, 'CCCC', 'I')
-- ---
COPY (SELECT 1 INTO frak UNION SELECT 2) TO 'blob'
-- ---
CREATE TEMP TABLE temptest(col int) ON COMMIT DROP
-- ---
select sum(1/ten) filter (where ten > 0) from tenk1
-- ---
SELECT f1
   FROM BOOLTBL1
   WHERE f1 IS NOT FALSE
-- ---
DROP TEXT SEARCH CONFIGURATION test_tsconfig_exists
-- ---
COMMENT ON CONSTRAINT constrname ON FKTABLE IS NULL
-- ---
insert into HSlot values ('HS', 'base.hub1', 1, '')
-- ---
SELECT stringu1 FROM onek WHERE stringu1 = 'DZAAAA'
-- ---
REVOKE USAGE on DOMAIN priv_testdomain1 FROM PUBLIC
-- ---
CREATE POLICY p2 ON r1 FOR INSERT WITH CHECK (true)
-- ---
-- Fail, not empty
DROP TABLESPACE regress_tblspace
-- ---
-- not allowed

UPDATE v2 SET b = 'ONE' WHERE a = 1
-- ---
-- OK
ALTER CONVERSION alt_conv2 SET SCHEMA alt_nsp2
-- ---
-- OK
ALTER STATISTICS alt_stat2 SET SCHEMA alt_nsp2
-- ---
CREATE TABLE test1cs (x text COLLATE case_sensitive)
-- ---
SELECT count(*) FROM tenk1 WHERE stringu1 = 'TVAAAA'
-- ---
REVOKE EXECUTE ON PROCEDURE ptest1(text) FROM PUBLIC
-- ---
DROP TEXT SEARCH PARSER IF EXISTS no_such_schema.foo
-- ---
drop database if exists test_database_exists (force)
-- ---
DELETE FROM t3 USING t1 table1 WHERE t3.x = table1.a
-- ---
INSERT INTO foo VALUES (847003,'sub-alpha','GESS90')
-- ---
select count(*) from tenk1 where stringu1 = 'GRAAAA'
-- ---
SELECT U&'\00E4\24D1c' IS NFC NORMALIZED AS test_nfc
-- ---
UPDATE update_test t SET b = t.b + 10 WHERE t.a = 10
-- ---
WITH t AS (
	INSERT INTO y VALUES(0)
)
VALUES(FALSE)
-- ---
alter text search parser alter1.prs set schema alter2
-- ---
SELECT now()::timetz(4)::text = current_time(4)::text
-- ---
CREATE FOREIGN DATA WRAPPER foo OPTIONS (testing '1')
-- ---
GRANT USAGE ON FOREIGN SERVER s1 TO regress_test_role
-- ---
ALTER TABLE fk ATTACH PARTITION fk3 FOR VALUES IN (3)
-- ---
SELECT make_timestamptz(2014, 10, 26, 0, 0, 0, 'MSK')
-- ---
(SELECT 1,2,3 UNION SELECT 4,5,6) EXCEPT SELECT 4,5,6
-- ---
CREATE LANGUAGE alt_lang2 HANDLER plpgsql_call_handler
-- ---
ALTER INDEX attmp_idx ALTER COLUMN 2 SET STATISTICS -1
-- ---
select array_replace(array['A','B','DD','B'],'B','CC')
-- ---
select array_replace(array['AB',NULL,'CDE'],NULL,'12')
-- ---
ALTER MATERIALIZED VIEW heapmv SET ACCESS METHOD heap2
-- ---
COMMENT ON OPERATOR ###### (int4, int8) IS 'bad infix'
-- ---
alter domain con drop constraint if exists nonexistent
-- ---
DROP TEXT SEARCH TEMPLATE IF EXISTS no_such_schema.foo
-- ---
-- allowed if plpgsql is not loaded yet
LOAD 'plpgsql'
-- ---
select * from int4_tbl a full join int4_tbl b on false
-- ---
CREATE MATERIALIZED VIEW ptif_test_matview AS SELECT 1
-- ---
create or replace temp view v1 as
  select 2+2+4 as f1
-- ---
CREATE PUBLICATION testpub_foralltables FOR ALL TABLES
-- ---
CREATE TABLE "CURRENT_SCHEMA"."CURRENT_SCHEMA"(id int)
-- ---
ALTER SUBSCRIPTION regress_testsub REFRESH PUBLICATION
-- ---
-- OK
ALTER AGGREGATE alt_agg2(int) SET SCHEMA alt_nsp2
-- ---
ALTER OPERATOR === (boolean, boolean) SET (JOIN = NONE)
-- ---
alter table attbl replica identity using index pk_attbl
-- ---
select array_remove(array['A','CC','D','C','RR'], 'RR')
-- ---
CREATE ACCESS METHOD bogus TYPE TABLE HANDLER bthandler
-- ---
-- 1901
SELECT DATE_TRUNC('CENTURY', DATE '1970-03-20')
-- ---
CREATE SCHEMA schema_two authorization regress_evt_user
-- ---
CREATE SERVER s3 TYPE 'oracle' FOREIGN DATA WRAPPER foo
-- ---
CREATE PUBLICATION addr_pub FOR TABLE addr_nsp.gentable
-- ---
insert into IFace values ('IF', 'notthere', 'eth0', '')
-- ---
ALTER PUBLICATION testpub6 SET TABLE rf_tbl_abcd_pk (a)
-- ---
ALTER PUBLICATION testpub_default RENAME TO testpub_foo
-- ---
CREATE STATISTICS stxdinp ON (a + 1), a, b FROM stxdinp
-- ---
ALTER SUBSCRIPTION regress_testsub SET (binary = false)
-- ---
select count(*) from person tablesample bernoulli (100)
-- ---
SELECT xmlelement(name foo, xmlattributes(true as bar))
-- ---
-- OK
ALTER OPERATOR @-@(int4, int4) SET SCHEMA alt_nsp2
-- ---
alter text search template alter1.tmpl set schema alter2
-- ---
SELECT CASE 1 WHEN 0 THEN 1/0 WHEN 1 THEN 1 ELSE 2/0 END
-- ---
CREATE TABLE IF NOT EXISTS as_select1 AS EXECUTE select1
-- ---
REASSIGN OWNED BY regress_dep_user0 TO regress_dep_user1
-- ---
GRANT CREATE ON DATABASE regression TO regress_dep_user1
-- ---
select pg_typeof(coalesce(4::domainint4, 7::domainint4))
-- ---
CREATE SERVER s5 VERSION '15.0' FOREIGN DATA WRAPPER foo
-- ---
ALTER ROLE regress_passwd2_new RENAME TO regress_passwd2
-- ---
insert into PSlot values ('PS.base.a2', 'PF0_1', '', '')
-- ---
CREATE PROCEDURE testns.bar() AS 'select 1' LANGUAGE sql
-- ---
ALTER PUBLICATION testpub_default SET (publish = update)
-- ---
-- error cases
CREATE PUBLICATION testpub_xxx WITH (foo)
-- ---
ALTER POLICY p ON tbl1 TO regress_rls_frank USING (true)
-- ---
ALTER RULE InsertRule ON rule_v1 RENAME to NewInsertRule
-- ---
CREATE STATISTICS s12 (ndistinct) ON c, d FROM ndistinct
-- ---
SELECT make_timestamptz(2008, 12, 10, 10, 10, 10, 'EDT')
-- ---
ALTER TEXT SEARCH DICTIONARY synonym (CaseSensitive = 1)
-- ---
-- fails

ALTER TYPE test_type DROP ATTRIBUTE IF EXISTS c
-- ---
SELECT * FROM clstr_expression WHERE upper(b) = 'PREFIX3'
-- ---
ALTER TABLE cwi_test ADD UNIQUE USING INDEX cwi_uniq3_idx
-- ---
create view v1a as select * from (tt2 natural join tt3) j
-- ---
ALTER FOREIGN DATA WRAPPER foo OWNER TO regress_test_role
-- ---
CREATE TABLE fkpart7.fk (a int REFERENCES fkpart7.pkpart)
-- ---
SELECT to_timestamp('05121445482000', 'MMDDHH24MISSYYYY')
-- ---
insert into PSlot values ('PS.base.ta1', 'PF0_X', '', '')
-- ---
comment on function unreserved_test() is 'this is a test'
-- ---
CREATE PUBLICATION testpub4 FOR TABLES IN SCHEMA pub_test
-- ---
ALTER STATISTICS IF EXISTS ab1_a_b_stats SET STATISTICS 0
-- ---
SELECT ntile(0) OVER (ORDER BY ten), ten, four FROM tenk1
-- ---
SELECT xmlforest(c1, c2, c3, c4) FROM testxmlschema.test3
-- ---
ALTER TEXT SEARCH PARSER alt_ts_prs1 RENAME TO alt_ts_prs2
-- ---
alter table alterlock set (toast.autovacuum_enabled = off)
-- ---
alter text search dictionary alter1.dict set schema alter2
-- ---
-- 1001
SELECT DATE_TRUNC('MILLENNIUM', DATE '1970-03-20')
-- ---
comment on domain domaindroptest is 'About to drop this..'
-- ---
ALTER TABLE fd_pt1 ALTER COLUMN c8 TYPE char(10) USING '0'
-- ---
SELECT to_char(q2, 'MI9999999999999999')     FROM INT8_TBL
-- ---
SELECT to_char(q2, 'FMS9999999999999999')    FROM INT8_TBL
-- ---
SELECT to_char(q2, 'FM9999999999999999THPR') FROM INT8_TBL
-- ---
SELECT to_char(q2, 'S0999999999999999')      FROM INT8_TBL
-- ---
SELECT to_char(q2, 'FM0999999999999999')     FROM INT8_TBL
-- ---
CREATE PROCEDURE addr_nsp.proc(int4) LANGUAGE SQL AS $$ $$
-- ---
CREATE USER MAPPING FOR regress_addr_user SERVER "integer"
-- ---
insert into PSlot values ('PS.first.ta1', 'PF1_2', '', '')
-- ---
INSERT INTO test_missing_target VALUES (1, 2, 'ABAB', 'b')
-- ---
CREATE TEMP TABLE temptest(col) ON COMMIT DROP AS SELECT 1
-- ---
-- 21
SELECT EXTRACT(CENTURY FROM CURRENT_DATE)>=21 AS True
-- ---
CREATE TEMP TABLE tmp_foo (data text) ON COMMIT DELETE ROWS
-- ---
INSERT INTO itest5 OVERRIDING USER VALUE VALUES (-1, 'aaa')
-- ---
ALTER ROLE regress_rol_lock1 SET search_path = lock_schema1
-- ---
create table rp1 partition of rp for values from (1) to (2)
-- ---
ALTER OPERATOR FAMILY alt_opf1 USING hash RENAME TO alt_opf2
-- ---
CREATE TEXT SEARCH DICTIONARY alt_ts_dict1 (template=simple)
-- ---
CREATE TEXT SEARCH CONFIGURATION alt_ts_conf1 (copy=english)
-- ---
alter text search configuration alter1.cfg set schema alter2
-- ---
-- 1990-01-01
SELECT DATE_TRUNC('DECADE', DATE '0004-12-25')
-- ---
GRANT ALL ON deptest1 TO regress_dep_user1 WITH GRANT OPTION
-- ---
GRANT USAGE ON FOREIGN DATA WRAPPER foo TO regress_test_role
-- ---
-- CTEs
WITH foo AS (SELECT * FROM gtest1) SELECT * FROM foo
-- ---
insert into capitals values ('Madison', 1.913E+5, 845, 'WI')
-- ---
insert into PField values ('PF1_1', 'Wallslots first floor')
-- ---
COMMENT ON PUBLICATION testpub_default IS 'test publication'
-- ---
-- ok
CREATE TABLE ctas_ine_tbl AS SELECT 1 / 0 WITH NO DATA
-- ---
CREATE TABLE temptest(col) ON COMMIT DELETE ROWS AS SELECT 1
-- ---
SELECT make_timestamptz(2014, 12, 10, 10, 10, 10, 'PST8PDT')
-- ---
COMMENT ON TRIGGER check_fkeys2_pkey_exist ON fkeys2 IS NULL
-- ---
ALTER LANGUAGE alt_lang1 OWNER TO regress_alter_generic_user1
-- ---
SELECT ARRAY(select f2 from arrtest_f order by f2) AS "ARRAY"
-- ---
SELECT NOT ARRAY[1.1,1.2,1.3] = ARRAY[1.1,1.2,1.3] AS "FALSE"
-- ---
SELECT a, b, greatest(b, 'CCC') FROM collate_test1 ORDER BY 3
-- ---
ALTER FUNCTION functest_E_2(int) OWNER TO regress_unpriv_user
-- ---
CREATE TABLE partitioned (
	a int
) PARTITION BY RANGE ((42))
-- ---
ALTER MATERIALIZED VIEW mvtest_tvm SET SCHEMA mvtest_mvschema
-- ---
explain (costs off) select * from boolpart where a is unknown
-- ---
ALTER PUBLICATION testpub4 OWNER TO regress_publication_user3
-- ---
-- fail
ALTER SUBSCRIPTION regress_testsub SKIP (lsn = '0/0')
-- ---
ALTER TEXT SEARCH TEMPLATE alt_ts_temp1 RENAME TO alt_ts_temp2
-- ---
alter table p1 attach partition p11 for values from (2) to (5)
-- ---
-- no catalog toast index
REINDEX SYSTEM CONCURRENTLY postgres
-- ---
-- empty body
CREATE PROCEDURE ptest8(x text)
BEGIN ATOMIC
END
-- ---
alter table p1 add constraint p1chk check (ff1 > 0) no inherit
-- ---
insert into capitals values ('Sacramento', 3.694E+5, 30, 'CA')
-- ---
revoke select on dep_priv_test from regress_priv_user4 cascade
-- ---
select * from onek2 where unique2 = 11 and stringu1 = 'ATAAAA'
-- ---
CREATE STATISTICS IF NOT EXISTS ab1_a_b_stats ON a, b FROM ab1
-- ---
select md5('a') = '0cc175b9c0f1b6a831c399e269772661' AS "TRUE"
-- ---
COMMENT ON SUBSCRIPTION regress_testsub IS 'test subscription'
-- ---
-- fails
ALTER TYPE test_type2 RENAME ATTRIBUTE a TO aa CASCADE
-- ---
create rule qqq as on insert to copydml_test do instead nothing
-- ---
create rule qqq as on update to copydml_test do instead nothing
-- ---
create rule qqq as on delete to copydml_test do instead nothing
-- ---
CREATE FUNCTION functest_S_3() RETURNS boolean
    RETURN false
-- ---
INSERT INTO itestv11 OVERRIDING SYSTEM VALUE VALUES (11, 'xyz')
-- ---
CREATE VIEW rec1v WITH (security_barrier) AS SELECT * FROM rec1
-- ---
-- fail
SECURITY LABEL ON TABLE seclabel_tbl3 IS 'unclassified'
-- ---
alter table trg_clone add constraint uniq unique (a) deferrable
-- ---
INSERT INTO rw_view15 (a) VALUES (3) ON CONFLICT (a) DO NOTHING
-- ---
ALTER TEXT SEARCH DICTIONARY alt_ts_dict1 RENAME TO alt_ts_dict2
-- ---
CREATE TEXT SEARCH TEMPLATE alt_ts_temp2 (lexize=dsimple_lexize)
-- ---
CREATE FOREIGN DATA WRAPPER test_fdw HANDLER invalid_fdw_handler
-- ---
-- ERROR
ALTER FOREIGN DATA WRAPPER foo HANDLER test_fdw_handler
-- ---
-- ERROR
CREATE SERVER IF NOT EXISTS s1 FOREIGN DATA WRAPPER foo
-- ---
ALTER FOREIGN TABLE ft1 ADD COLUMN c10 integer OPTIONS (p1 'v1')
-- ---
ALTER FOREIGN TABLE foreign_schema.ft1 RENAME TO foreign_table_1
-- ---
ALTER TABLE gtest20b ADD CONSTRAINT chk CHECK (b < 50) NOT VALID
-- ---
CREATE TABLE itest8 (a int GENERATED ALWAYS AS IDENTITY, b text)
-- ---
select * from PField_v1 where pfname = 'PF0_2' order by slotname
-- ---
CREATE AGGREGATE testns.agg1(int) (sfunc = int4pl, stype = int4)
-- ---
CREATE MATERIALIZED VIEW tststats.mv AS SELECT * FROM tststats.t
-- ---
ALTER SUBSCRIPTION regress_testsub RENAME TO regress_testsub_foo
-- ---
SELECT 1.1 AS two UNION (SELECT 2 UNION ALL SELECT 2) ORDER BY 1
-- ---
CREATE VIEW rw_view1 AS SELECT * FROM base_tbl WITH CHECK OPTION
-- ---
--
-- error cases
--

WITH x(n, b) AS (SELECT 1)
SELECT * FROM x
-- ---
CREATE TABLE UNIQUE_TBL (i int UNIQUE NULLS NOT DISTINCT, t text)
-- ---
CREATE USER MAPPING FOR public SERVER s10 OPTIONS (user 'secret')
-- ---
CREATE FOREIGN TABLE addr_nsp.genftable (a int) SERVER addr_fserv
-- ---
explain (costs off) select * from boolpart where a is not unknown
-- ---
GRANT regress_priv_group2 TO regress_priv_user4 WITH ADMIN OPTION
-- ---
ALTER DEFAULT PRIVILEGES GRANT ALL ON TYPES TO regress_priv_user2
-- ---
CREATE TABLE tablespace_table (i int) TABLESPACE regress_tblspace
-- ---
select percentile_cont(0.5) within group (order by b) from aggtest
-- ---
-- OK

ALTER OPERATOR CLASS alt_opc1 USING hash RENAME TO alt_opc2
-- ---
-- OK
ALTER OPERATOR CLASS alt_opc2 USING hash SET SCHEMA alt_nsp2
-- ---
ALTER TABLE range_parted2 DETACH PARTITION part_rp100 CONCURRENTLY
-- ---
CREATE SERVER s8 FOREIGN DATA WRAPPER postgresql OPTIONS (foo '1')
-- ---
ALTER USER MAPPING FOR public SERVER s4 OPTIONS (ADD modified '1')
-- ---
ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO regress_priv_user2
-- ---
-- now false

GRANT ALL ON ALL ROUTINES IN SCHEMA testns TO PUBLIC
-- ---
ALTER PUBLICATION testpub6 SET TABLE rf_tbl_abcd_pk WHERE (b > 99)
-- ---
(SELECT 1,2,3 UNION SELECT 4,5,6 ORDER BY 1,2) EXCEPT SELECT 4,5,6
-- ---
CREATE OR REPLACE RULE y_rule AS ON INSERT TO y DO INSTEAD NOTHING
-- ---
CREATE OR REPLACE RULE y_rule AS ON INSERT TO y DO ALSO NOTIFY foo
-- ---
ALTER OPERATOR @+@(int4, int4) OWNER TO regress_alter_generic_user2
-- ---
-- OK
ALTER OPERATOR FAMILY alt_opf2 USING hash SET SCHEMA alt_nsp2
-- ---
ALTER TEXT SEARCH CONFIGURATION alt_ts_conf1 RENAME TO alt_ts_conf2
-- ---
-- but this shouldn't:
INSERT INTO func_index_heap VALUES('QWERTY')
-- ---
comment on constraint c1 on domain dcomptype is 'random commentary'
-- ---
alter domain testdomain1 rename constraint unsigned to unsigned_foo
-- ---
select null from pg_database group by grouping sets (()) for update
-- ---
alter event trigger regress_event_trigger owner to regress_evt_user
-- ---
CREATE TEMPORARY TABLE q5_prep_results AS EXECUTE q5(200, 'DTAAAA')
-- ---
ALTER DEFAULT PRIVILEGES GRANT ALL ON SCHEMAS TO regress_priv_user2
-- ---
CREATE TABLE reloptions_test2(i INT) WITH (autovacuum_enabled=30.5)
-- ---
ALTER TABLESPACE regress_tblspace OWNER TO regress_tablespace_user1
-- ---
UPDATE update_test SET (c,b) = ('car', a+b), a = a + 1 WHERE a = 10
-- ---
SELECT COUNT(*) OVER w FROM tenk1 WHERE unique2 < 10 WINDOW w AS ()
-- ---
ALTER TABLE constraint_rename_test RENAME CONSTRAINT con3 TO con3foo
-- ---
CREATE UNIQUE INDEX unique_idx2 ON unique_tbl (i) NULLS NOT DISTINCT
-- ---
CREATE TABLE partkey_t (a int4) PARTITION BY RANGE (a test_int4_ops)
-- ---
create view vv1 as select * from (tt5 cross join tt6) j(aa,bb,cc,dd)
-- ---
CREATE TABLE fk (a int REFERENCES pk DEFERRABLE INITIALLY IMMEDIATE)
-- ---
ALTER TABLE tbl_include_unique1 add UNIQUE (c1, c2) INCLUDE (c3, c4)
-- ---
do $$ declare x text[]; begin x := '{1.23, 4.56}'::numeric[]; end $$
-- ---
GRANT INSERT ON atest2 TO regress_priv_user4 GRANTED BY CURRENT_USER
-- ---
ALTER TABLESPACE regress_tblspace RENAME TO regress_tblspace_renamed
-- ---
-- OK
ALTER CONVERSION alt_conv2 OWNER TO regress_alter_generic_user2
-- ---
-- OK
ALTER STATISTICS alt_stat2 OWNER TO regress_alter_generic_user2
-- ---
SELECT string_to_array('ABCDEFGHI' COLLATE case_sensitive, NULL, 'b')
-- ---
-- ERROR
CREATE USER MAPPING IF NOT EXISTS FOR current_user SERVER s1
-- ---
select sum(ten) from onek group by rollup(four::text), two order by 1
-- ---
ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO regress_priv_user2
-- ---
ALTER DEFAULT PRIVILEGES GRANT ALL ON FUNCTIONS TO regress_priv_user2
-- ---
ALTER DEFAULT PRIVILEGES GRANT ALL ON SEQUENCES TO regress_priv_user2
-- ---
INSERT INTO collate_test10 VALUES (1, 'hij', 'hij'), (2, 'HIJ', 'HIJ')
-- ---
CREATE CONVERSION myconv FOR 'LATIN1' TO 'UTF8' FROM iso8859_1_to_utf8
-- ---
-- OK
comment on event trigger regress_event_trigger is 'test comment'
-- ---
-- localtimestamp
SELECT now()::timestamp::text = localtimestamp::text
-- ---
ALTER FOREIGN TABLE ft1 ALTER COLUMN c8 OPTIONS (SET p2 'V2', DROP p1)
-- ---
CREATE TABLE gtesty (x int, b int GENERATED ALWAYS AS (x * 22) STORED)
-- ---
-- error
SELECT * FROM J1_TBL JOIN J2_TBL USING (i) AS x WHERE x.i = 1
-- ---
GRANT TRUNCATE ON atest2 TO regress_priv_user5 GRANTED BY CURRENT_ROLE
-- ---
SELECT has_sequence_privilege('regress_priv_user1', 'x_seq', 'INSERT')
-- ---
SELECT has_sequence_privilege('regress_priv_user1', 'x_seq', 'SELECT')
-- ---
-- fail

SECURITY LABEL ON ROLE regress_seclabel_user1 IS 'classified'
-- ---
SELECT id FROM test_tablesample TABLESAMPLE SYSTEM (50) REPEATABLE (0)
-- ---
CREATE OPERATOR CLASS alt_opc1 FOR TYPE uuid USING hash AS STORAGE uuid
-- ---
ALTER OPERATOR FAMILY alt_opf11 USING gist DROP OPERATOR 1 (int4, int4)
-- ---
create index on btree_bpchar(f1 bpchar_ops) WITH (deduplicate_items=on)
-- ---
ALTER TABLE has_volatile ADD col3 timestamptz DEFAULT current_timestamp
-- ---
-- ERROR
ALTER USER MAPPING FOR user SERVER ss4 OPTIONS (gotcha 'true')
-- ---
--ERROR
IMPORT FOREIGN SCHEMA s1 EXCEPT (t1) FROM SERVER s9 INTO public
-- ---
-- OK
ALTER AGGREGATE alt_agg2(int) OWNER TO regress_alter_generic_user2
-- ---
ALTER OPERATOR FAMILY alt_opf7 USING btree ADD OPERATOR 1 < (int4, int2)
-- ---
ALTER OPERATOR FAMILY alt_opf13 USING hash ADD FUNCTION 1 fn_opf13(int4)
-- ---
ALTER TABLE FKTABLE ALTER CONSTRAINT fkdd2 DEFERRABLE INITIALLY DEFERRED
-- ---
CREATE OR REPLACE PROCEDURE functest1(a int) LANGUAGE SQL AS 'SELECT $1'
-- ---
-- Check Julian dates BC
SELECT date 'J1520447' AS "Confucius' Birthday"
-- ---
CREATE PUBLICATION testpub_forschema FOR TABLES IN SCHEMA CURRENT_SCHEMA
-- ---
-- fail
ALTER TABLESPACE regress_tblspace RESET (random_page_cost = 2.0)
-- ---
CREATE OPERATOR #*# (
   leftarg = SETOF int8,
   procedure = factorial
)
-- ---
ALTER TABLE fkpart11.pk1 ATTACH PARTITION fkpart11.pk11 FOR VALUES IN (1)
-- ---
select (select grouping(v1)) from (values ((select 1))) v(v1) group by v1
-- ---
create table hp0 partition of hp for values with (modulus 4, remainder 0)
-- ---
create table hp3 partition of hp for values with (modulus 4, remainder 3)
-- ---
-- fail
SECURITY LABEL FOR 'dummy' ON TABLE seclabel_tbl1 IS 'classified'
-- ---
-- abbreviations
SELECT make_timestamptz(2008, 12, 10, 10, 10, 10, 'EST')
-- ---
-- No cast yet, should fail

CREATE CAST (int4 AS casttesttype) WITH INOUT
-- ---
ALTER USER MAPPING FOR regress_test_role SERVER s6 OPTIONS (DROP username)
-- ---
-- ERROR
IMPORT FOREIGN SCHEMA s1 LIMIT TO (t1) FROM SERVER s9 INTO public
-- ---
INSERT INTO atest5(two) VALUES (6) ON CONFLICT (two) DO UPDATE set one = 8
-- ---
CREATE INDEX part_a_idx ON testschema.part (a) TABLESPACE regress_tblspace
-- ---
alter table anothertab
  add exclude using btree (f4 with =) where (f5 > 0)
-- ---
CREATE INDEX CONCURRENTLY IF NOT EXISTS concur_index1 ON concur_heap(f2,f1)
-- ---
-- current_time / localtime
SELECT now()::timetz::text = current_time::text
-- ---
-- fail
CREATE TABLE itest15 (id integer NULL GENERATED ALWAYS AS IDENTITY)
-- ---
CREATE PUBLICATION testpub4_forschema FOR TABLES IN SCHEMA "CURRENT_SCHEMA"
-- ---
SELECT to_char(now(), 'OF') as "OF", to_char(now(), 'TZH:TZM') as "TZH:TZM"
-- ---
CREATE INDEX wowidx1 ON test_tsvector USING gist (a tsvector_ops(siglen=0))
-- ---
WITH t AS (
	SELECT a FROM y
)
INSERT INTO y
SELECT a+20 FROM t RETURNING *
-- ---
-- LOCALE
CREATE COLLATION case_sensitive (LOCALE = '', LOCALE = "NONSENSE")
-- ---
ALTER FOREIGN TABLE IF EXISTS doesnt_exist_ft1 RENAME c1 TO foreign_column_1
-- ---
-- IMPORT FOREIGN SCHEMA
IMPORT FOREIGN SCHEMA s1 FROM SERVER s9 INTO public
-- ---
GRANT TRUNCATE ON atest2 TO regress_priv_user4 GRANTED BY regress_priv_user5
-- ---
-- no
SELECT has_schema_privilege('regress_priv_user2', 'testns3', 'CREATE')
-- ---
SELECT * FROM ROWS FROM(get_users(), generate_series(10,11)) WITH ORDINALITY
-- ---
ALTER SUBSCRIPTION regress_testsub CONNECTION 'dbname=regress_doesnotexist2'
-- ---
UPDATE city_view SET continent = 'EU' WHERE continent = 'Europe' RETURNING *
-- ---
SELECT q1 FROM int8_tbl EXCEPT ALL SELECT q1 FROM int8_tbl FOR NO KEY UPDATE
-- ---
ALTER OPERATOR CLASS alt_opc1 USING hash OWNER TO regress_alter_generic_user1
-- ---
CREATE INDEX fooindex ON foo (f1 desc, f2 asc, f3 nulls first, f4 nulls last)
-- ---
CREATE EVENT TRIGGER undroppable ON sql_drop
	EXECUTE PROCEDURE undroppable()
-- ---
select * from rtest_vcomp where size_in_cm > 10.0 order by size_in_cm using >
-- ---
CREATE TRIGGER tg AFTER INSERT ON trgfire FOR EACH ROW EXECUTE FUNCTION tgf()
-- ---
CREATE TABLE truncate_b (id int GENERATED ALWAYS AS IDENTITY (START WITH 44))
-- ---
ALTER OPERATOR FAMILY alt_opf1 USING hash OWNER TO regress_alter_generic_user1
-- ---
CREATE FOREIGN TABLE foreign_part PARTITION OF temp_parted DEFAULT
  SERVER s0
-- ---
create cast (integer as date) with function sql_to_date(integer) as assignment
-- ---
SELECT has_function_privilege('regress_priv_user2', 'testns.foo()', 'EXECUTE')
-- ---
SELECT AVG(random) FROM RANDOM_TBL
  HAVING AVG(random) NOT BETWEEN 80 AND 120
-- ---
ALTER SUBSCRIPTION regress_testsub SET PUBLICATION mypub WITH (refresh = true)
-- ---
SELECT q2 FROM int8_tbl EXCEPT ALL SELECT DISTINCT q1 FROM int8_tbl ORDER BY 1
-- ---
select unique1 from tenk1 except select unique2 from tenk1 where unique2 != 10
-- ---
INSERT INTO collate_test1 VALUES (1, 'abc'), (2, 'Abc'), (3, 'bbc'), (4, 'ABD')
-- ---
CREATE TEMP TABLE concur_temp_tab_3 (c1 int, c2 text)
  ON COMMIT PRESERVE ROWS
-- ---
create table fktable2(f1 int references pktable2 deferrable initially deferred)
-- ---
select (select grouping(v1)) from (values ((select 1))) v(v1) group by cube(v1)
-- ---
-- no

ALTER DEFAULT PRIVILEGES IN SCHEMA testns GRANT USAGE ON TYPES to public
-- ---
CREATE PUBLICATION testpub_fortable FOR TABLE "CURRENT_SCHEMA"."CURRENT_SCHEMA"
-- ---
WITH RECURSIVE x(n) AS (SELECT 1 EXCEPT ALL SELECT n+1 FROM x)
	SELECT * FROM x
-- ---
-- OK
alter event trigger regress_event_trigger rename to regress_event_trigger3
-- ---
select f1,g from int4_tbl a full join lateral generate_series(0, a.f1) g on true
-- ---
MERGE INTO target t
USING source AS s
ON t.tid = s.sid
WHEN MATCHED THEN
	DELETE
-- ---
create table like_op_noprune2 partition of like_op_noprune for values in ('BCD')
-- ---
-- create a tablespace we can use
CREATE TABLESPACE regress_tblspace LOCATION ''
-- ---
ALTER TABLE ALL IN TABLESPACE regress_tblspace_renamed SET TABLESPACE pg_default
-- ---
ALTER INDEX ALL IN TABLESPACE regress_tblspace_renamed SET TABLESPACE pg_default
-- ---
CREATE TRIGGER a BEFORE UPDATE ON t FOR EACH ROW EXECUTE PROCEDURE test_trigger()
-- ---
-- Input that doesn't fit in an int:
SELECT to_timestamp('10000000000', 'FMYYYY')
-- ---
VALUES (1,2), (3,4+4), (7,77.7)
UNION ALL
SELECT 2+2, 57
UNION ALL
TABLE int8_tbl
-- ---
UPDATE city_view SET country_name = 'UK' WHERE city_name = 'New York' RETURNING *
-- ---
CREATE OR REPLACE AGGREGATE sum3 (int8,int8,int8)
(
	stype = int8,
	sfunc = sum4
)
-- ---
SELECT normalize(U&'\0061\0308\24D1c', NFKC) = U&'\00E4bc' COLLATE "C" AS test_nfkc
-- ---
SELECT normalize(U&'\00E4\24D1c', NFKD) = U&'\0061\0308bc' COLLATE "C" AS test_nfkd
-- ---
-- OK
ALTER TEXT SEARCH DICTIONARY alt_ts_dict2 OWNER TO regress_alter_generic_user2
-- ---
ALTER TABLE cmpart ATTACH PARTITION cmpart2 FOR VALUES WITH (MODULUS 2, REMAINDER 1)
-- ---
CREATE CAST (int4 AS casttesttype) WITH FUNCTION int4_casttesttype(int4) AS IMPLICIT
-- ---
MERGE INTO target t
USING source AS s
ON t.tid = s.sid
WHEN MATCHED THEN
	DO NOTHING
-- ---
CREATE VIEW rw_view1 AS SELECT * FROM base_tbl WHERE a < b
  WITH LOCAL CHECK OPTION
-- ---
CREATE PROCEDURE ptestx(a int DEFAULT 42, b OUT int) LANGUAGE SQL
  AS $$ SELECT a $$
-- ---
declare c5 cursor for select * from int8_tbl order by q1 fetch first 2 rows with ties
-- ---
create function testpolym(a int) returns table(a int) as $$ select $1;$$ language sql
-- ---
INSERT INTO r1 VALUES (10)
    ON CONFLICT ON CONSTRAINT r1_pkey DO UPDATE SET a = 30
-- ---
create rule rules_foorule as on insert to rules_foo where f1 < 100
do instead nothing
-- ---
SELECT normalize(U&'\00E4\24D1c', NFD) = U&'\0061\0308\24D1c' COLLATE "C" AS test_nfd
-- ---
SELECT relname FROM pg_class WHERE 'PG_CLASS'::text = relname COLLATE case_insensitive
-- ---
INSERT INTO prt1_n SELECT i, i, to_char(i, 'FM0000') FROM generate_series(0, 499, 2) i
-- ---
-- now it works
ALTER SUBSCRIPTION regress_testsub OWNER TO regress_subscription_user2
-- ---
-- OK
ALTER TEXT SEARCH CONFIGURATION alt_ts_conf2 OWNER TO regress_alter_generic_user2
-- ---
-- should succeed for now
UPDATE unique_tbl SET t = 'THREE' WHERE i = 3 AND t = 'Three'
-- ---
MERGE INTO mtarget t USING msource s ON t.a = s.a
WHEN MATCHED THEN
	UPDATE SET b = s.b
-- ---
with upd as (
  update parted2_stmt_trig set a = a
) update parted_stmt_trig  set a = a
-- ---
CREATE FOREIGN TABLE ft_part1
  PARTITION OF lt1 FOR VALUES FROM (0) TO (1000) SERVER s0
-- ---
select count(*) from date_tbl
  where f1 between symmetric '1997-01-01' and '1998-01-01'
-- ---
-- fail
CREATE TABLESPACE regress_tblspacewith LOCATION '' WITH (random_page_cost = 3.0)
-- ---
ALTER TEXT SEARCH CONFIGURATION hunspell_tst ALTER MAPPING
	REPLACE ispell WITH hunspell
-- ---
-- no window operation
SELECT four FROM tenk1 WHERE FALSE WINDOW w AS (PARTITION BY ten)
-- ---
SELECT * FROM clstr_1 UNION ALL
  SELECT * FROM clstr_2 UNION ALL
  SELECT * FROM clstr_3
-- ---
-- precision
SELECT length(current_timestamp::text) >= length(current_timestamp(0)::text)
-- ---
CREATE AGGREGATE myaggp10b(BASETYPE = int, SFUNC = tfp, STYPE = int[],
  INITCOND = '{}')
-- ---
INSERT INTO city_view(city_name, country_name) VALUES('Washington DC', 'USA') RETURNING *
-- ---
SELECT count(*) OVER w FROM tenk1 WINDOW w AS (ORDER BY unique1), w AS (ORDER BY unique1)
-- ---
-- errors
SELECT * FROM XMLTABLE (ROW () PASSING null COLUMNS v1 timestamp) AS f (v1, v2)
-- ---
-- Check handling of fractional fields in ISO8601 format.
select interval 'P1Y0M3DT4H5M6S'
-- ---
CREATE MATERIALIZED VIEW tableam_tblmv_heapx USING heap2 AS SELECT * FROM tableam_tbl_heapx
-- ---
DECLARE c1 CURSOR FOR SELECT * FROM uctest a, uctest b WHERE a.f1 = b.f1 + 5 FOR SHARE OF a
-- ---
select count(*) from date_tbl
  where f1 not between symmetric '1997-01-01' and '1998-01-01'
-- ---
insert into insertconflict values (1, 2)
on conflict (b) where coalesce(a, 1) > 0 do nothing
-- ---
MERGE INTO tv t
USING source s
ON t.tid = s.sid
WHEN NOT MATCHED THEN
	INSERT DEFAULT VALUES
-- ---
CREATE TABLE testschema.asexecute TABLESPACE regress_tblspace
    AS EXECUTE selectsource(2)
-- ---
ALTER MATERIALIZED VIEW ALL IN TABLESPACE regress_tblspace_renamed SET TABLESPACE pg_default
-- ---
-- this should fail because of unique index:
INSERT INTO func_index_heap VALUES('ABCD', 'EF')
-- ---
CREATE RULE "_RETURN" AS ON SELECT TO t DO INSTEAD
  SELECT * FROM generate_series(1,5) t0(c)
-- ---
ALTER OPERATOR FAMILY alt_opf9 USING gist ADD OPERATOR 1 < (int4, int4) FOR ORDER BY float_ops
-- ---
SELECT lag(ten) OVER (PARTITION BY four ORDER BY ten), ten, four FROM tenk1 WHERE unique2 < 10
-- ---
MERGE INTO mtarget t USING msource s ON t.a = s.a
WHEN MATCHED AND t.b IS NOT NULL THEN
	DELETE
-- ---
-- finalfn non-polymorphic
CREATE FUNCTION ffnp(int[]) returns int[] as
'select $1' LANGUAGE SQL
-- ---
CREATE SUBSCRIPTION regress_testsub CONNECTION 'testconn' PUBLICATION testpub WITH (create_slot)
-- ---
SELECT count(*) FROM dupindexcols
  WHERE f1 BETWEEN 'WA' AND 'ZZZ' and id < 1000 and f1 ~<~ 'YX'
-- ---
-- Verify that toast tables are clusterable
CLUSTER pg_toast.pg_toast_826 USING pg_toast_826_index
-- ---
CREATE TRIGGER t BEFORE INSERT ON addr_nsp.gentable FOR EACH ROW EXECUTE PROCEDURE addr_nsp.trig()
-- ---
WITH rcte AS ( SELECT max(id) AS maxid FROM parent )
DELETE FROM parent USING rcte WHERE id = maxid
-- ---
CREATE RULE r2 AS ON UPDATE TO x DO INSTEAD
    WITH t AS (SELECT OLD.*) UPDATE y SET a = t.n FROM t
-- ---
MERGE INTO target t
USING source AS s
ON t.tid = s.sid
WHEN NOT MATCHED THEN
	INSERT VALUES (4, NULL)
-- ---
create or replace trigger my_trig
  before insert on my_table
  for each row execute procedure funcB()
-- ---
SELECT to_char( (q1 * -1), '9999999999999999S'), to_char( (q2 * -1), 'S9999999999999999')
	FROM INT8_TBL
-- ---
CREATE TABLE testschema.dflt (a int PRIMARY KEY USING INDEX TABLESPACE pg_default) PARTITION BY LIST (a)
-- ---
CREATE TRIGGER invalid_trig AFTER TRUNCATE ON main_view
EXECUTE PROCEDURE trigger_func('before_tru_row')
-- ---
-- allow an alias to be specified for DELETE's target table
DELETE FROM delete_test AS dt WHERE dt.a > 75
-- ---
--
-- Test inserting so many values that we have to renumber
--

create type insenum as enum ('L1', 'L2')
-- ---
SELECT q1 FROM int8_tbl UNION ALL (((SELECT q2 FROM int8_tbl EXCEPT SELECT q1 FROM int8_tbl ORDER BY 1)))
-- ---
SELECT a, b FROM collate_test3 WHERE a < 4 INTERSECT SELECT a, b FROM collate_test3 WHERE a > 1 ORDER BY 2
-- ---
CREATE OR REPLACE RECURSIVE VIEW nums (n) AS
    VALUES (1)
UNION ALL
    SELECT n+1 FROM nums WHERE n < 6
-- ---
create trigger tg_chkslotname before insert
    on PSlot for each row execute procedure tg_chkslotname('PS')
-- ---
create trigger tg_chkslotname before insert
    on WSlot for each row execute procedure tg_chkslotname('WS')
-- ---
create trigger tg_chkslotname before insert
    on PLine for each row execute procedure tg_chkslotname('PL')
-- ---
create trigger tg_chkslotname before insert
    on IFace for each row execute procedure tg_chkslotname('IF')
-- ---
create trigger tg_chkslotname before insert
    on PHone for each row execute procedure tg_chkslotname('PH')
-- ---
-- zone name
SELECT date_trunc('day', timestamp with time zone '2001-02-16 20:38:40+00', 'GMT') as gmt_trunc
-- ---
(((SELECT q1 FROM int8_tbl INTERSECT SELECT q2 FROM int8_tbl ORDER BY 1))) UNION ALL SELECT q2 FROM int8_tbl
-- ---
CREATE TRIGGER gtest11 BEFORE UPDATE OF b ON gtest26
  FOR EACH ROW
  EXECUTE PROCEDURE gtest_trigger_func3()
-- ---
ALTER TABLE fk_partitioned_fk ADD FOREIGN KEY (a, b)
  REFERENCES fk_notpartitioned_pk
  ON DELETE SET NULL (a)
-- ---
SELECT xmltable.* FROM xmltest2, LATERAL xmltable('/d/r' PASSING x COLUMNS a int PATH '' || lower(_path) || 'c')
-- ---
CREATE FOREIGN TABLE ft2 () INHERITS (fd_pt1)
  SERVER s0 OPTIONS (delimiter ',', quote '"', "be quoted" 'value')
-- ---
-- test owner privileges

GRANT regress_priv_role TO regress_priv_user1 WITH ADMIN OPTION GRANTED BY CURRENT_ROLE
-- ---
SELECT sum(unique1) over (rows between 2 preceding and 2 following),
	unique1, four
FROM tenk1 WHERE unique1 < 10
-- ---
SELECT * FROM XMLTABLE('.' PASSING XMLELEMENT(NAME a) columns a varchar(20) PATH '"<foo/>"', b xml PATH '"<foo/>"')
-- ---
-- invalid: non-lowercase quoted reloptions identifiers
CREATE TABLE tas_case WITH ("Fillfactor" = 10) AS SELECT 1 a
-- ---
-- But this should work:
SELECT q1 FROM int8_tbl EXCEPT (((SELECT q2 FROM int8_tbl ORDER BY q2 LIMIT 1))) ORDER BY 1
-- ---
CREATE EVENT TRIGGER sql_drop_command ON sql_drop
    WHEN TAG IN ('DROP POLICY') EXECUTE PROCEDURE drop_sql_command()
-- ---
-- fail - publication already exists
ALTER SUBSCRIPTION regress_testsub ADD PUBLICATION testpub WITH (refresh = false)
-- ---
-- check sane response to attempt to modify CTE relation
WITH with_test AS (SELECT 42) INSERT INTO with_test VALUES (1)
-- ---
create trigger xtrig
  after update on bar1
  referencing old table as old
  for each statement execute procedure xtrig()
-- ---
-- ERROR
IMPORT FOREIGN SCHEMA s1 EXCEPT (t1, t2) FROM SERVER s9 INTO public
OPTIONS (option1 'value1', option2 'value2')
-- ---
CREATE TRIGGER gtest2 BEFORE INSERT ON gtest26
  FOR EACH ROW
  WHEN (NEW.a < 0)
  EXECUTE PROCEDURE gtest_trigger_func()
-- ---
-- make sure invalid combination of options is prohibited
REFRESH MATERIALIZED VIEW CONCURRENTLY mvtest_tvmm WITH NO DATA
-- ---
-- ok - delete publications
ALTER SUBSCRIPTION regress_testsub DROP PUBLICATION testpub1, testpub2 WITH (refresh = false)
-- ---
insert into uv_iocu_view (a, b) values ('xyxyxy', 3)
   on conflict (a) do update set b = excluded.b where excluded.c > 0
-- ---
-- star expansion
with recursive a as (
	select 1 as b
	union all
	select * from a
) cycle b set c using p
select * from a
-- ---
-- ok, aliased
insert into excluded AS target values(1, '2') on conflict (key) do update set data = target.data RETURNING *
-- ---
create text search parser alter1.prs(start = prsd_start, gettoken = prsd_nexttoken, end = prsd_end, lextypes = prsd_lextype)
-- ---
-- fixed-offset abbreviation
SELECT date_trunc('day', timestamp with time zone '2001-02-16 20:38:40+00', 'VET') as vet_trunc
-- ---
CREATE AGGREGATE balk(int4)
(
    SFUNC = balkifnull(int8, int4),
    STYPE = int8,
    PARALLEL = SAFE,
    INITCOND = '0'
)
-- ---
SELECT typname FROM pg_type WHERE typname LIKE 'int_' AND typname <> 'INT2'::text
  COLLATE case_insensitive ORDER BY typname
-- ---
create trigger tg_slotlink_a after insert or update or delete
    on HSlot for each row execute procedure tg_slotlink_a('HS')
-- ---
-- current_role/user/user is tested in rolnames.sql

-- current database / catalog
SELECT current_catalog = current_database()
-- ---
-- Wrong "Sacramento", so do nothing:
insert into capitals values ('Sacramento', 50, 2267, 'NE') on conflict (name) do nothing
-- ---
--
-- Alter sequence
--

ALTER SEQUENCE IF EXISTS sequence_test2 RESTART WITH 24
  INCREMENT BY 4 MAXVALUE 36 MINVALUE 5 CYCLE
-- ---
CREATE CONSTRAINT TRIGGER t AFTER INSERT ON sro_trojan_table
    INITIALLY DEFERRED FOR EACH ROW EXECUTE PROCEDURE sro_trojan()
-- ---
insert into capitals values ('Las Vegas', 5.83E+5, 2222, 'NV') on conflict (name) do update set population = excluded.population
-- ---
ALTER TEXT SEARCH CONFIGURATION synonym_tst ALTER MAPPING FOR
	asciiword, hword_asciipart, asciihword
	WITH synonym, english_stem
-- ---
(select * from agg_hash_2 except select * from agg_group_2)
  union all
(select * from agg_group_2 except select * from agg_hash_2)
-- ---
select distinct q1 from
  (select distinct * from int8_tbl i81
   union all
   select distinct * from int8_tbl i82) ss
where q2 = q2
-- ---
-- Should fail to update non-updatable columns
insert into uv_iocu_view (aa) values (1)
   on conflict (aa) do update set cc = 'XXX'
-- ---
WITH RECURSIVE t(a) AS (
	SELECT 11
	UNION ALL
	SELECT a+1 FROM t WHERE a < 50
)
DELETE FROM y USING t WHERE t.a = y.a RETURNING y.a
-- ---
CREATE FOREIGN TABLE fd_pt2_1 PARTITION OF fd_pt2 FOR VALUES IN (1)
  SERVER s0 OPTIONS (delimiter ',', quote '"', "be quoted" 'value')
-- ---
create trigger child_row_trig
  after insert on child referencing new table as new_table
  for each row execute procedure dump_insert()
-- ---
-- updates only
insert into my_table values (3, 'CCC'), (4, 'DDD')
  on conflict (a) do
  update set b = my_table.b || ':' || excluded.b
-- ---
create operator class alter1.ctype_hash_ops default for type alter1.ctype using hash as
  operator 1 alter1.=(alter1.ctype, alter1.ctype)
-- ---
with recursive test as (
  select 1 as x
  union all
  select x + 1
  from test
) search depth first by x set y
select * from test limit 5
-- ---
--
-- create default conversion with qualified name
--
CREATE DEFAULT CONVERSION public.mydef FOR 'LATIN1' TO 'UTF8' FROM iso8859_1_to_utf8
-- ---
select  interval 'P00021015T103020'       AS "ISO8601 Basic Format",
        interval 'P0002-10-15T10:30:20'   AS "ISO8601 Extended Format"
-- ---
UPDATE tmp
   SET stringu1 = reverse_name(onek.stringu1)
   FROM onek
   WHERE onek.stringu1 = 'JBAAAA' and
	  onek.stringu1 = tmp.stringu1
-- ---
-- ok

SELECT * FROM truncate_a
   UNION ALL
 SELECT * FROM trunc_c
   UNION ALL
 SELECT * FROM trunc_b
   UNION ALL
 SELECT * FROM trunc_d
-- ---
CREATE TABLE partitioned (
	a int,
	b int,
	c text,
	d text
) PARTITION BY RANGE (a oid_ops, plusone(b), c collate "default", d collate "C")
-- ---
with recursive test as (
  select 1 as x
  union all
  select x + 1
  from test
) search breadth first by x set y
select * from test limit 5
-- ---
SELECT xmltable.* FROM xmltest2, LATERAL xmltable(('/d/r/' || lower(_path) || 'c') PASSING x COLUMNS a int PATH 'x' DEFAULT ascii(_path) - 54)
-- ---
UPDATE tmp
   SET stringu1 = reverse_name(onek2.stringu1)
   FROM onek2
   WHERE onek2.stringu1 = 'JCAAAA' and
	  onek2.stringu1 = tmp.stringu1
-- ---
SELECT xmltable.* FROM xmldata, LATERAL xmltable('/ROWS/ROW[COUNTRY_NAME="Japan" or COUNTRY_NAME="India"]' PASSING data COLUMNS id FOR ORDINALITY)
-- ---
create constraint trigger parted_trigger after update on parted_trigger
  from parted_referenced
  for each row execute procedure trigger_notice_ab()
-- ---
--
-- Test VALUES lists
--
select * from onek, (values(147, 'RFAAAA'), (931, 'VJAAAA')) as v (i, j)
    WHERE onek.unique1 = v.i and onek.stringu1 = v.j
-- ---
CREATE FUNCTION hobbies_by_name(hobbies_r.name%TYPE)
   RETURNS hobbies_r.person%TYPE
   AS 'select person from hobbies_r where name = $1'
   LANGUAGE SQL
-- ---
select true as "OK"
  from explain_filter('explain (settings) select * from int8_tbl i8') ln
  where ln ~ '^ *Settings: .*plan_cache_mode = ''force_generic_plan'''
-- ---
SELECT xmltable.* FROM xmldata, LATERAL xmltable('/ROWS/ROW[COUNTRY_NAME="Japan" or COUNTRY_NAME="India"]' PASSING data COLUMNS "COUNTRY_NAME" text, "REGION_ID" int)
-- ---
select id, f_float4, first_value(id) over w, last_value(id) over w
from numerics
window w as (order by f_float4 range between
             1 preceding and 1 following)
-- ---
MERGE INTO itest16 t
USING (SELECT 20 AS s_a, 'inserted by merge' AS s_b) s
ON t.a = s.s_a
WHEN NOT MATCHED THEN
	INSERT (a, b) OVERRIDING USER VALUE VALUES (s.s_a, s.s_b)
-- ---
WITH RECURSIVE foo(i) AS
    (values (1)
    UNION ALL
       (SELECT i+1 FROM foo WHERE i < 10
          EXCEPT
       SELECT i+1 FROM foo WHERE i < 5)
) SELECT * FROM foo
-- ---
MERGE INTO itest15 t
USING (SELECT 30 AS s_a, 'inserted by merge' AS s_b) s
ON t.a = s.s_a
WHEN NOT MATCHED THEN
	INSERT (a, b) OVERRIDING SYSTEM VALUE VALUES (s.s_a, s.s_b)
-- ---
-- old-style spelling of same (except without parallel-safe; that's too new)
CREATE AGGREGATE oldcnt (
   sfunc = int8inc, basetype = 'ANY', stype = int8,
   initcond = '0'
)
-- ---
-- Roman months, with upper and lower case.
SELECT i,
       to_char(i * interval '1mon', 'rm'),
       to_char(i * interval '1mon', 'RM')
    FROM generate_series(-13, 13) i
-- ---
-- "group by distinct" behavior...
select a, b, c
from (values (1, 2, 3), (4, null, 6), (7, 8, 9)) as t (a, b, c)
group by distinct rollup(a, b), rollup(a, c)
order by a, b, c
-- ---
WITH RECURSIVE foo(i) AS
    (values (1)
    UNION ALL
       (SELECT i+1 FROM foo WHERE i < 10
          INTERSECT
       SELECT i+1 FROM foo WHERE i < 5)
) SELECT * FROM foo
-- ---
--
-- Check errors for some incorrect usages of to_timestamp() and to_date()
--

-- Mixture of date conventions (ISO week and Gregorian):
SELECT to_timestamp('2005527', 'YYYYIWID')
-- ---
-- case that causes change of typmod knowledge during inlining
CREATE OR REPLACE FUNCTION rngfunc()
RETURNS TABLE(a varchar(5))
AS $$ SELECT 'hello'::varchar(5) $$ LANGUAGE sql STABLE
-- ---
-- nested queries

CREATE TEMP VIEW fdv3 AS
SELECT id, keywords, title, body, created
FROM articles
GROUP BY id
UNION
SELECT id, keywords, title, body, created
FROM articles
GROUP BY id
-- ---
WITH outermost(x) AS (
  SELECT 1
  UNION (WITH innermost as (SELECT 2)
         SELECT * FROM outermost  -- fail
         UNION SELECT * FROM innermost)
)
SELECT * FROM outermost ORDER BY 1
-- ---
-- check EXPLAIN VERBOSE for a wCTE with RETURNING

EXPLAIN (VERBOSE, COSTS OFF)
WITH wcte AS ( INSERT INTO int8_tbl VALUES ( 42, 47 ) RETURNING q2 )
DELETE FROM a_star USING wcte WHERE aa = q2
-- ---
INSERT INTO testxmlschema.test2 VALUES (55, 'abc', 'def',
    98.6, 2, 999, 0,
    '21:07', '21:11 +05', '2009-06-08 21:07:30', '2009-06-08 21:07:30 -07', '2009-06-08',
    NULL, 'ABC', true, 'XYZ')
-- ---
-- test qual
SELECT xmltable.* FROM xmldata, LATERAL xmltable('/ROWS/ROW[COUNTRY_NAME="Japan" or COUNTRY_NAME="India"]' PASSING data COLUMNS "COUNTRY_NAME" text, "REGION_ID" int) WHERE "COUNTRY_NAME" = 'Japan'
-- ---
-- fail

-- Appendrels excluded by constraints failed to check permissions in 8.4-9.2.
select * from
  ((select a.q1 as x from int8_tbl a offset 0)
   union all
   (select b.q2 as x from int8_tbl b offset 0)) ss
where false
-- ---
SELECT * FROM XMLTABLE(XMLNAMESPACES(DEFAULT 'http://x.y'),
                      '/rows/row'
                      PASSING '<rows xmlns="http://x.y"><row><a>10</a></row></rows>'
                      COLUMNS a int PATH 'a')
-- ---
CREATE AGGREGATE logging_agg_strict_initcond (anyelement)
(
	stype = text,
	sfunc = logging_sfunc_strict,
	mstype = text,
	msfunc = logging_msfunc_strict,
	minvfunc = logging_minvfunc_strict,
	initcond = 'I',
	minitcond = 'MI'
)
-- ---
SELECT array_length(array_positions(ARRAY(SELECT 'AAAAAAAAAAAAAAAAAAAAAAAAA'::text || i % 10
                                          FROM generate_series(1,100) g(i)),
                                  'AAAAAAAAAAAAAAAAAAAAAAAAA5'), 1)
-- ---
-- A case containing a UNION ALL with a non-partitioned child.
explain (analyze, costs off, summary off, timing off)
select * from (select * from ab where a = 1 union all (values(10,5)) union all select * from ab) ab where b = (select 1)
-- ---
-- check display of assorted RTE_FUNCTION expressions

create view tt20v as
select * from
  coalesce(1,2) as c,
  collation for ('x'::text) col,
  current_date as d,
  localtimestamp(3) as t,
  cast(1+2 as int4) as i4,
  cast(1+2 as int8) as i8
-- ---
SELECT
	pg_has_role('regress_priv_user1', 'pg_database_owner', 'USAGE') as priv,
	pg_has_role('regress_priv_user1', 'pg_database_owner', 'MEMBER') as mem,
	pg_has_role('regress_priv_user1', 'pg_database_owner',
				'MEMBER WITH ADMIN OPTION') as admin
-- ---
-- this transform would be quite unsafe to leave lying around,
-- except that the SQL language pays no attention to transforms:
CREATE TRANSFORM FOR int LANGUAGE SQL (
	FROM SQL WITH FUNCTION prsd_lextype(internal),
	TO SQL WITH FUNCTION int4recv(internal))
-- ---
-- pick three random rows, they shouldn't match
(SELECT unique1 AS random
  FROM onek ORDER BY random() LIMIT 1)
INTERSECT
(SELECT unique1 AS random
  FROM onek ORDER BY random() LIMIT 1)
INTERSECT
(SELECT unique1 AS random
  FROM onek ORDER BY random() LIMIT 1)
-- ---
WITH targq AS (
	SELECT * FROM v
)
MERGE INTO sq_target t
USING v
ON tid = sid
WHEN MATCHED AND tid > 2 THEN
    UPDATE SET balance = t.balance + delta
WHEN NOT MATCHED THEN
	INSERT (balance, tid) VALUES (balance + delta, sid)
WHEN MATCHED AND tid < 2 THEN
	DELETE
-- ---
with recursive q as (
      select * from department
    union all
      (with recursive x as (
           select * from department
         union all
           (select * from q union all select * from x)
        )
       select * from x)
    )
select * from q limit 32
-- ---
WITH RECURSIVE cte_basic AS (SELECT 1 a, 'cte_basic val' b)
MERGE INTO m USING (select 0 k, 'merge source SubPlan' v) o ON m.k=o.k
WHEN MATCHED THEN UPDATE SET v = (SELECT b || ' merge update' FROM cte_basic WHERE cte_basic.a = m.k LIMIT 1)
WHEN NOT MATCHED THEN INSERT VALUES(o.k, o.v)
-- ---
-- InitPlan
WITH cte_init AS MATERIALIZED (SELECT 1 a, 'cte_init val' b)
MERGE INTO m USING (select 1 k, 'merge source InitPlan' v offset 0) o ON m.k=o.k
WHEN MATCHED THEN UPDATE SET v = (SELECT b || ' merge update' FROM cte_init WHERE a = 1 LIMIT 1)
WHEN NOT MATCHED THEN INSERT VALUES(o.k, o.v)
-- ---
SELECT pg_describe_object('pg_constraint'::regclass, oid, 0), confrelid::regclass,
       CASE WHEN conparentid <> 0 THEN pg_describe_object('pg_constraint'::regclass, conparentid, 0) ELSE 'TOP' END
FROM pg_catalog.pg_constraint
WHERE conrelid IN (SELECT relid FROM pg_partition_tree('fk'))
ORDER BY conrelid::regclass::text, conname
-- ---
select relname,
  c.oid = oldoid as orig_oid,
  case relfilenode
    when 0 then 'none'
    when c.oid then 'own'
    when oldfilenode then 'orig'
    else 'OTHER'
    end as storage,
  obj_description(c.oid, 'pg_class') as desc
  from pg_class c left join old_oids using (relname)
  where relname like 'at_partitioned%'
  order by relname
-- ---
SELECT
	i::text || ':' || COALESCE(v::text, 'NULL') as row,
	logging_agg_strict(v::text) filter(where true)
		over wnd as inverse,
	logging_agg_strict(v::text) filter(where random() >= 0)
		over wnd as noinverse
FROM (VALUES
	(1, 'a'),
	(2, 'b'),
	(3, 'c')
) AS t(i, v)
WINDOW wnd AS (ORDER BY i ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
ORDER BY i
-- ---
-- deparse and multiple features:
create view aggordview1 as
select ten,
       percentile_disc(0.5) within group (order by thousand) as p50,
       percentile_disc(0.5) within group (order by thousand) filter (where hundred=1) as px,
       rank(5,'AZZZZ',50) within group (order by hundred, string4 desc, hundred)
  from tenk1
 group by ten order by ten
-- ---
SELECT v as value, hashname(v)::bit(32) as standard,
       hashnameextended(v, 0)::bit(32) as extended0,
       hashnameextended(v, 1)::bit(32) as extended1
FROM   (VALUES (NULL), ('PostgreSQL'), ('eIpUEtqmY89'), ('AXKEJBTK'),
        ('muop28x03'), ('yi3nm0d73')) x(v)
WHERE  hashname(v)::bit(32) != hashnameextended(v, 0)::bit(32)
       OR hashname(v)::bit(32) = hashnameextended(v, 1)::bit(32)
-- ---
CREATE TABLE tab_settings_flags AS SELECT name, category,
    'EXPLAIN'          = ANY(flags) AS explain,
    'NO_RESET_ALL'     = ANY(flags) AS no_reset_all,
    'NO_SHOW_ALL'      = ANY(flags) AS no_show_all,
    'NOT_IN_SAMPLE'    = ANY(flags) AS not_in_sample,
    'RUNTIME_COMPUTED' = ANY(flags) AS runtime_computed
  FROM pg_show_all_settings() AS psas,
    pg_settings_get_flags(psas.name) AS flags
-- ---
select  interval 'P0Y'                    AS "zero",
        interval 'P1Y2M'                  AS "a year 2 months",
        interval 'P1W'                    AS "a week",
        interval 'P1DT2H3M4S'             AS "a bit over a day",
        interval 'P1Y2M3DT4H5M6.7S'       AS "all fields",
        interval 'P-1Y-2M-3DT-4H-5M-6.7S' AS "negative",
        interval 'PT-0.1S'                AS "fractional second"
-- ---
-- has sequence, toast
-- check relpersistence of a permanent table
SELECT relname, relkind, relpersistence FROM pg_class WHERE relname ~ '^logged1'
UNION ALL
SELECT r.relname || ' toast table', t.relkind, t.relpersistence FROM pg_class r JOIN pg_class t ON t.oid = r.reltoastrelid WHERE r.relname ~ '^logged1'
UNION ALL
SELECT r.relname ||' toast index', ri.relkind, ri.relpersistence FROM pg_class r join pg_class t ON t.oid = r.reltoastrelid JOIN pg_index i ON i.indrelid = t.oid JOIN pg_class ri ON ri.oid = i.indexrelid WHERE r.relname ~ '^logged1'
ORDER BY relname
-- ---
CREATE VIEW orders_view AS
SELECT *,
(SELECT CASE
   WHEN ord.approver_ref=1 THEN '---' ELSE 'Approved'
 END) AS "Approved",
(SELECT CASE
 WHEN ord.ordercanceled
 THEN 'Canceled'
 ELSE
  (SELECT CASE
		WHEN ord.po_ref=1
		THEN
		 (SELECT CASE
				WHEN ord.approver_ref=1
				THEN '---'
				ELSE 'Approved'
			END)
		ELSE 'PO'
	END)
END) AS "Status",
(CASE
 WHEN ord.ordercanceled
 THEN 'Canceled'
 ELSE
  (CASE
		WHEN ord.po_ref=1
		THEN
		 (CASE
				WHEN ord.approver_ref=1
				THEN '---'
				ELSE 'Approved'
			END)
		ELSE 'PO'
	END)
END) AS "Status_OK"
FROM orderstest ord
-- ---
-- Make sure optional ISO8601 alternative format fields are optional.
select  interval 'P0002'                  AS "year only",
        interval 'P0002-10'               AS "year month",
        interval 'P0002-10-15'            AS "year month day",
        interval 'P0002T1S'               AS "year only plus time",
        interval 'P0002-10T1S'            AS "year month plus time",
        interval 'P0002-10-15T1S'         AS "year month day plus time",
        interval 'PT10'                   AS "hour only",
        interval 'PT10:30'                AS "hour minute"
-- ---
SELECT  xmltable.*
   FROM (SELECT data FROM xmldata) x,
        LATERAL XMLTABLE('/ROWS/ROW'
                         PASSING data
                         COLUMNS id int PATH '@id',
                                  _id FOR ORDINALITY,
                                  country_name text PATH 'COUNTRY_NAME' NOT NULL,
                                  country_id text PATH 'COUNTRY_ID',
                                  region_id int PATH 'REGION_ID',
                                  size float PATH 'SIZE',
                                  unit text PATH 'SIZE/@unit',
                                  premier_name text PATH 'PREMIER_NAME' DEFAULT 'not specified')
-- ---
select prop,
       pg_indexam_has_property(a.oid, prop) as "AM",
       pg_index_has_property('gcircleind'::regclass, prop) as "Index",
       pg_index_column_has_property('gcircleind'::regclass, 1, prop) as "Column"
  from pg_am a,
       unnest(array['asc', 'desc', 'nulls_first', 'nulls_last',
                    'orderable', 'distance_orderable', 'returnable',
                    'search_array', 'search_nulls',
                    'clusterable', 'index_scan', 'bitmap_scan',
                    'backward_scan',
                    'can_order', 'can_unique', 'can_multi_col',
                    'can_exclude', 'can_include',
                    'bogus']::text[])
         with ordinality as u(prop,ord)
 where a.amname = 'gist'
 order by ord
-- ---
-- Create a table that holds all the known in-core data types and leave it
-- around so as pg_upgrade is able to test their binary compatibility.
CREATE TABLE tab_core_types AS SELECT
  '(11,12)'::point,
  '(1,1),(2,2)'::line,
  '((11,11),(12,12))'::lseg,
  '((11,11),(13,13))'::box,
  '((11,12),(13,13),(14,14))'::path AS openedpath,
  '[(11,12),(13,13),(14,14)]'::path AS closedpath,
  '((11,12),(13,13),(14,14))'::polygon,
  '1,1,1'::circle,
  'today'::date,
  'now'::time,
  'now'::timestamp,
  'now'::timetz,
  'now'::timestamptz,
  '12 seconds'::interval,
  '{"reason":"because"}'::json,
  '{"when":"now"}'::jsonb,
  '$.a[*] ? (@ > 2)'::jsonpath,
  '127.0.0.1'::inet,
  '127.0.0.0/8'::cidr,
  '00:01:03:86:1c:ba'::macaddr8,
  '00:01:03:86:1c:ba'::macaddr,
  2::int2, 4::int4, 8::int8,
  4::float4, '8'::float8, pi()::numeric,
  'foo'::"char",
  'c'::bpchar,
  'abc'::varchar,
  'name'::name,
  'txt'::text,
  true::bool,
  E'\\xDEADBEEF'::bytea,
  B'10001'::bit,
  B'10001'::varbit AS varbit,
  '12.34'::money,
  'abc'::refcursor,
  '1 2'::int2vector,
  '1 2'::oidvector,
  format('%I=UC/%I', USER, USER)::aclitem AS aclitem,
  'a fat cat sat on a mat and ate a fat rat'::tsvector,
  'fat & rat'::tsquery,
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid,
  '11'::xid8,
  'pg_class'::regclass,
  'regtype'::regtype type,
  'pg_monitor'::regrole,
  'pg_class'::regclass::oid,
  '(1,1)'::tid, '2'::xid, '3'::cid,
  '10:20:10,14,15'::txid_snapshot,
  '10:20:10,14,15'::pg_snapshot,
  '16/B374D848'::pg_lsn,
  1::information_schema.cardinal_number,
  'l'::information_schema.character_data,
  'n'::information_schema.sql_identifier,
  'now'::information_schema.time_stamp,
  'YES'::information_schema.yes_or_no,
  '(1,2)'::int4range, '{(1,2)}'::int4multirange,
  '(3,4)'::int8range, '{(3,4)}'::int8multirange,
  '(3,4)'::numrange, '{(3,4)}'::nummultirange,
  '(2020-01-02, 2021-02-03)'::daterange,
  '{(2020-01-02, 2021-02-03)}'::datemultirange,
  '(2020-01-02 03:04:05, 2021-02-03 06:07:08)'::tsrange,
  '{(2020-01-02 03:04:05, 2021-02-03 06:07:08)}'::tsmultirange,
  '(2020-01-02 03:04:05, 2021-02-03 06:07:08)'::tstzrange,
  '{(2020-01-02 03:04:05, 2021-02-03 06:07:08)}'::tstzmultirange
