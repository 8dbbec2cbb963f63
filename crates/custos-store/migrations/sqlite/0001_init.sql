-- custos store schema, version 1 (SQLite).
-- Sequence numbers come from `counters` (never from MAX(seq)), so a number is
-- never handed out twice even if rows were ever removed.

CREATE TABLE counters (
    name  TEXT    PRIMARY KEY,
    last  INTEGER NOT NULL, -- highest sequence number ever assigned
    total INTEGER NOT NULL  -- rows currently stored
) WITHOUT ROWID;

INSERT INTO counters (name, last, total) VALUES ('events', 0, 0), ('alerts', 0, 0);

-- `seq` is the rowid: the event log is a B-tree appended at its right edge.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY,
    event_id   TEXT    NOT NULL,
    event_type TEXT    NOT NULL,
    ts_micros  INTEGER NOT NULL,
    raw        TEXT    NOT NULL
);

-- Directory rows point at the event that carried the version; the body is
-- that event's `raw`, stored once.
CREATE TABLE directory_history (
    kind      TEXT    NOT NULL CHECK (kind IN ('agent', 'customer', 'ticket')),
    id        TEXT    NOT NULL,
    ts_micros INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (kind, id, ts_micros, seq)
) WITHOUT ROWID;

CREATE TABLE directory_current (
    kind      TEXT    NOT NULL CHECK (kind IN ('agent', 'customer', 'ticket')),
    id        TEXT    NOT NULL,
    ts_micros INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;

CREATE TABLE alerts (
    seq         INTEGER PRIMARY KEY,
    alert_id    TEXT    NOT NULL UNIQUE,
    ts_micros   INTEGER NOT NULL,
    detector    TEXT    NOT NULL,
    entity_kind TEXT    NOT NULL,
    entity_id   TEXT    NOT NULL,
    severity    INTEGER NOT NULL CHECK (severity BETWEEN 0 AND 3),
    json        TEXT    NOT NULL
);

-- Alert queries filter, then page by seq.
CREATE INDEX alerts_by_detector ON alerts (detector, seq);
CREATE INDEX alerts_by_entity ON alerts (entity_kind, entity_id, seq);
CREATE INDEX alerts_by_severity ON alerts (severity, seq);
CREATE INDEX alerts_by_time ON alerts (ts_micros, seq);

CREATE TABLE cursors (
    name TEXT    PRIMARY KEY,
    seq  INTEGER NOT NULL
) WITHOUT ROWID;
