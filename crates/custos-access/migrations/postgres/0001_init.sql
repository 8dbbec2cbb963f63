-- custos-access v1: reveal grants and step-up enrolments.
-- Times are microseconds since the epoch (UTC); field lists are comma-joined wire names.

CREATE TABLE grants (
    grant_id          TEXT    PRIMARY KEY,
    status            TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'revoked')),
    requester         TEXT    NOT NULL,
    customer_id       TEXT    NOT NULL,
    ticket_id         TEXT    NOT NULL,
    fields            TEXT    NOT NULL,
    purpose           TEXT    NOT NULL,
    ttl_micros        BIGINT  NOT NULL CHECK (ttl_micros > 0),
    reveal_budget     BIGINT  NOT NULL CHECK (reveal_budget > 0),
    reveals_remaining BIGINT  NOT NULL CHECK (reveals_remaining >= 0 AND reveals_remaining <= reveal_budget),
    requested_at      BIGINT  NOT NULL,
    decided_by        TEXT,
    decided_at        BIGINT,
    expires_at        BIGINT,
    revoked_by        TEXT,
    revoked_at        BIGINT,
    reason            TEXT
);

CREATE INDEX grants_by_requester ON grants (requester, customer_id, ticket_id, status);
CREATE INDEX grants_by_status ON grants (status, requested_at);
CREATE INDEX grants_by_ticket ON grants (ticket_id, status);

CREATE TABLE step_up (
    agent_id      TEXT    PRIMARY KEY,
    sealed_secret BYTEA   NOT NULL,
    enrolled_at   BIGINT  NOT NULL,
    last_step     BIGINT,
    failures      BIGINT  NOT NULL DEFAULT 0 CHECK (failures >= 0),
    locked_until  BIGINT,
    step_up_at    BIGINT
);
