-- The vault's own database (vault.db), never shared with the event store.
-- One row per customer ever stored; after erasure only the id and
-- erased_at remain, so a later read says "erased" rather than "unknown".
CREATE TABLE customers (
    customer_id TEXT PRIMARY KEY,
    token       TEXT UNIQUE,   -- opaque tok_..., NULL after erasure
    dek_id      BLOB,          -- mirrors the wrapped key header; NULL after erasure
    wrapped_dek BLOB,          -- format v1 wrapped key; NULL after erasure
    kek_id      TEXT,          -- mirrors the wrapped key header, for rotation; NULL after erasure
    salt        BLOB,          -- commitment salt; NULL after erasure
    created_at  TEXT NOT NULL,
    erased_at   TEXT
) STRICT;

-- Not a partial index: the planner would check its WHERE against bound
-- parameters, making statements on customers re-prepare when rebound.
CREATE INDEX customers_by_kek ON customers (kek_id);

CREATE TABLE fields (
    customer_id TEXT NOT NULL REFERENCES customers (customer_id),
    field       TEXT NOT NULL,  -- wire name of the field class
    sealed      BLOB NOT NULL,  -- format v1 sealed field
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (customer_id, field)
) STRICT, WITHOUT ROWID;
