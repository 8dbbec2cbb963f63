-- custos store schema, version 1 (PostgreSQL).
-- Sequence numbers come from `counters`: a writer bumps its row with
-- UPDATE ... RETURNING, which holds the row lock until commit. Writers are
-- therefore serialized, numbers are gap-free (a rollback undoes the bump) and
-- batches become visible in sequence order, so a reader paging by seq never
-- skips a batch that commits later.

CREATE TABLE counters (
    name  TEXT   PRIMARY KEY,
    last  BIGINT NOT NULL, -- highest sequence number ever assigned
    total BIGINT NOT NULL  -- rows currently stored
);

INSERT INTO counters (name, last, total) VALUES ('events', 0, 0), ('alerts', 0, 0);

CREATE TABLE events (
    seq        BIGINT PRIMARY KEY,
    event_id   TEXT   NOT NULL,
    event_type TEXT   NOT NULL,
    ts_micros  BIGINT NOT NULL,
    raw        TEXT   NOT NULL
);

-- Directory rows point at the event that carried the version; the body is
-- that event's `raw`, stored once.
CREATE TABLE directory_history (
    kind      TEXT   NOT NULL CHECK (kind IN ('agent', 'customer', 'ticket')),
    id        TEXT   NOT NULL,
    ts_micros BIGINT NOT NULL,
    seq       BIGINT NOT NULL,
    PRIMARY KEY (kind, id, ts_micros, seq)
);

CREATE TABLE directory_current (
    kind      TEXT   NOT NULL CHECK (kind IN ('agent', 'customer', 'ticket')),
    id        TEXT   NOT NULL,
    ts_micros BIGINT NOT NULL,
    seq       BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);

CREATE TABLE alerts (
    seq         BIGINT   PRIMARY KEY,
    alert_id    TEXT     NOT NULL UNIQUE,
    ts_micros   BIGINT   NOT NULL,
    detector    TEXT     NOT NULL,
    entity_kind TEXT     NOT NULL,
    entity_id   TEXT     NOT NULL,
    severity    SMALLINT NOT NULL CHECK (severity BETWEEN 0 AND 3),
    json        TEXT     NOT NULL
);

-- Alert queries filter, then page by seq.
CREATE INDEX alerts_by_detector ON alerts (detector, seq);
CREATE INDEX alerts_by_entity ON alerts (entity_kind, entity_id, seq);
CREATE INDEX alerts_by_severity ON alerts (severity, seq);
CREATE INDEX alerts_by_time ON alerts (ts_micros, seq);

CREATE TABLE cursors (
    name TEXT   PRIMARY KEY,
    seq  BIGINT NOT NULL
);
