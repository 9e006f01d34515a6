-- Coordination between gateway replicas that share one PostgreSQL audit store (decisions 0045, 0046).
-- Made by the first replica that starts, under an advisory lock; an operator may run it instead. Nothing here
-- is evidence (the audit chains are): these rows say who is alive, what is pending and what is asked of whom.

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
