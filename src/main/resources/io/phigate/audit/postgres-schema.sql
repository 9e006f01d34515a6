-- The phigate audit store in PostgreSQL. Run by the role that owns it (never the gateway's INSERT/SELECT role);
-- the gateway runs this itself when it logs in as a role that may create tables and the table is missing.
-- Every statement is idempotent.

-- One row per audit record, partitioned by day on event_time (the record's own time, UTC). The hashed columns
-- are stored exactly as in SQLite (time as fixed-width text, numbers as integers), so the hash chain and the
-- verifier are the same for both stores; event_time is derived from time and only places the row.
CREATE TABLE IF NOT EXISTS audit_event (
    seq                bigint GENERATED ALWAYS AS IDENTITY,
    time               text NOT NULL,
    event_time         timestamptz NOT NULL,
    kind               text NOT NULL,
    session_id         text,
    statement_id       bigint,
    client_address     text,
    upstream           text,
    issuer             text,
    subject            text,
    protocol           text,
    statement          text,
    parameters         text,
    prepared_name      text,
    portal             text,
    outcome            text,
    sqlstate           text,
    command_tag        text,
    row_count          bigint,
    duration_us        bigint,
    detail             text,
    replica            text,
    chain_seq          bigint,
    prev_hash          text,
    hash               text,
    response           bytea,
    response_digest    text,
    response_bytes     bigint,
    response_truncated integer
) PARTITION BY RANGE (event_time);

-- Indexes on the parent are created on every partition, present and future.
CREATE INDEX IF NOT EXISTS audit_event_seq ON audit_event (seq);
CREATE INDEX IF NOT EXISTS audit_event_session ON audit_event (session_id, seq);
CREATE INDEX IF NOT EXISTS audit_event_time ON audit_event (time);
CREATE INDEX IF NOT EXISTS audit_event_subject ON audit_event (subject, time);
-- A request's completion in one lookup (search and export join each statement to it).
CREATE INDEX IF NOT EXISTS audit_event_statement ON audit_event (session_id, statement_id);

-- Free-text search (`audit search --text`, the API's text=) is a case-insensitive substring match on the statement
-- text of requests: lower(statement) LIKE '%word%'. A pg_trgm GIN index serves exactly that predicate, so the index
-- changes how fast, never what is found. pg_trgm ships with PostgreSQL's contrib and is a trusted extension (13+), so
-- the owner of the database can create it; where it is missing, search still works, as a scan.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): audit free-text search will scan instead of using an index', SQLERRM;
END
$$;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX IF NOT EXISTS audit_event_statement_text ON audit_event
            USING gin (lower(statement) gin_trgm_ops) WHERE kind = 'statement_requested';
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS audit_checkpoint (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    replica   text NOT NULL,
    tree_size bigint NOT NULL,
    root_hash text NOT NULL,
    time      text NOT NULL,
    key_id    text NOT NULL,
    note      text NOT NULL
);

-- One row per archive cut (`phigate audit archive`, run as this owner): records 1 to up_to_seq of the replica now
-- live only in the archive file (its path and SHA-256 here); last_hash and the Merkle frontier at the cut let the
-- chain, the checkpoints and the verifier go on without them. The gateway's role only reads it.
CREATE TABLE IF NOT EXISTS audit_archive (
    replica     text NOT NULL,
    up_to_seq   bigint NOT NULL,
    last_hash   text NOT NULL,
    frontier    text NOT NULL,
    archived_at text NOT NULL,
    file        text NOT NULL,
    file_sha256 text NOT NULL
);

-- Creates the partition for one UTC day if it is missing. SECURITY DEFINER so that the gateway's role, which may
-- only INSERT and SELECT, can make room for tomorrow; it can do nothing else with it.
--
-- (replica, chain_seq) is UNIQUE in each partition. PostgreSQL cannot enforce it across the whole table (a unique
-- index on a partitioned table must contain the partition key), so across days it rests on the writer: one writer
-- per replica (it holds an advisory lock on the replica's name for as long as it is connected) whose chain_seq only
-- grows. A duplicate that got in anyway is still found by `phigate audit verify`.
CREATE OR REPLACE FUNCTION audit_event_partition(day date) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    part text := 'audit_event_' || to_char(day, 'YYYYMMDD');
BEGIN
    IF to_regclass(part) IS NOT NULL THEN
        RETURN;
    END IF;
    -- Two replicas crossing midnight together: one creates, the other waits for it, then finds the table there.
    -- (The second may not see it in to_regclass, whose catalog view an advisory lock does not refresh, so the
    -- CREATE that then fails with duplicate_table is what tells it.)
    PERFORM pg_advisory_xact_lock(hashtext('phigate.audit.partition'));
    BEGIN
        EXECUTE format('CREATE TABLE %I PARTITION OF audit_event FOR VALUES FROM (%L) TO (%L)', part,
                       to_char(day, 'YYYY-MM-DD') || ' 00:00:00+00', to_char(day + 1, 'YYYY-MM-DD') || ' 00:00:00+00');
        EXECUTE format('CREATE UNIQUE INDEX %I ON %I (replica, chain_seq)', part || '_chain', part);
    EXCEPTION WHEN duplicate_table THEN
        NULL;
    END;
END
$$;

REVOKE ALL ON FUNCTION audit_event_partition(date) FROM PUBLIC;
