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
    ttl_micros        INTEGER NOT NULL CHECK (ttl_micros > 0),
    reveal_budget     INTEGER NOT NULL CHECK (reveal_budget > 0),
    reveals_remaining INTEGER NOT NULL CHECK (reveals_remaining >= 0 AND reveals_remaining <= reveal_budget),
    requested_at      INTEGER NOT NULL,
    decided_by        TEXT,
    decided_at        INTEGER,
    expires_at        INTEGER,
    revoked_by        TEXT,
    revoked_at        INTEGER,
    reason            TEXT
) STRICT;

CREATE INDEX grants_by_requester ON grants (requester, customer_id, ticket_id, status);
CREATE INDEX grants_by_status ON grants (status, requested_at);
CREATE INDEX grants_by_ticket ON grants (ticket_id, status);

CREATE TABLE step_up (
    agent_id      TEXT    PRIMARY KEY,
    sealed_secret BLOB    NOT NULL,
    enrolled_at   INTEGER NOT NULL,
    last_step     INTEGER,
    failures      INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    locked_until  INTEGER,
    step_up_at    INTEGER
) STRICT;
