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

-- Coordination between gateway replicas that share this store (package cluster; decisions 0045, 0046). Nothing
-- here is evidence (the chains above are): these rows say who is alive, what is pending and what is asked of whom,
-- so the gateway's role may update and delete them. A store created before these tables gets them when this
-- script is run again (or, if the gateway's role may create tables, when the first replica joins).

-- Each replica's lease (renewed every heartbeat) and its slot, the high bits of every BackendKeyData it issues.
CREATE TABLE IF NOT EXISTS cluster_replica (
    name         text PRIMARY KEY,
    slot         integer NOT NULL UNIQUE CHECK (slot BETWEEN 1 AND 1023),
    started_at   timestamptz NOT NULL,
    lease_until  timestamptz NOT NULL
);

-- Live sessions as their replica publishes them; a row outlives its replica's heartbeat by one lease at most.
-- No statement text and no values: what an admin needs to find and end a session.
CREATE TABLE IF NOT EXISTS cluster_session (
    id               text PRIMARY KEY,
    replica          text NOT NULL,
    issuer           text NOT NULL,
    subject          text NOT NULL,
    upstream         text NOT NULL,
    client_address   text,
    started_at       timestamptz NOT NULL,
    token_expires_at timestamptz,
    statements       bigint NOT NULL,
    expires_at       timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS cluster_session_replica ON cluster_session (replica);

-- What one replica asks of another: end a session, or pass on a CancelRequest that landed on the wrong replica.
-- The owner deletes an order as it takes it.
CREATE TABLE IF NOT EXISTS cluster_order (
    id             bigserial PRIMARY KEY,
    replica        text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('kill', 'cancel')),
    session_id     text,
    process_id     integer,
    secret         bytea,
    client_address text,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS cluster_order_replica ON cluster_order (replica);

-- The queryable state of approval requests (their history is in the chains). request: the request's fields as
-- JSON, sealed with the audit encryption key when audit.encryption is on.
CREATE TABLE IF NOT EXISTS approval_state (
    id         text PRIMARY KEY,
    replica    text NOT NULL,
    state      text NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'expired', 'withdrawn')),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    uses       integer NOT NULL DEFAULT 0,
    session_id text NOT NULL,
    statement_id bigint NOT NULL,
    statement_sha256 text NOT NULL,
    request    text NOT NULL
);
CREATE INDEX IF NOT EXISTS approval_state_pending ON approval_state (replica) WHERE state = 'pending';

CREATE TABLE IF NOT EXISTS approval_vote (
    request_id text NOT NULL REFERENCES approval_state (id) ON DELETE CASCADE,
    issuer     text NOT NULL,
    subject    text NOT NULL,
    approved   boolean NOT NULL,
    reason     text,
    decided_at timestamptz NOT NULL,
    PRIMARY KEY (request_id, issuer, subject)
);
