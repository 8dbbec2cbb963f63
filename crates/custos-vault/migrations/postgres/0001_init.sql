-- The vault's own schema in PostgreSQL (default `custos_vault`), never
-- shared with the event store's or the access store's schema. The same
-- rows and the same bytes as the SQLite file (migrations/0001_init.sql):
-- format v1 sealed fields and wrapped keys, tok_... tokens, 32-byte salts.
-- One row per customer ever stored; after erasure only the id and
-- erased_at remain, so a later read says "erased" rather than "unknown".
CREATE TABLE customers (
    customer_id TEXT COLLATE "C" PRIMARY KEY,
    token       TEXT COLLATE "C" UNIQUE,  -- opaque tok_..., NULL after erasure
    dek_id      BYTEA,                    -- mirrors the wrapped key header; NULL after erasure
    wrapped_dek BYTEA,                    -- format v1 wrapped key; NULL after erasure
    kek_id      TEXT COLLATE "C",         -- mirrors the wrapped key header, for rotation; NULL after erasure
    salt        BYTEA,                    -- commitment salt; NULL after erasure
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    erased_at   TIMESTAMPTZ
);

CREATE INDEX customers_by_kek ON customers (kek_id) WHERE kek_id IS NOT NULL;

CREATE TABLE fields (
    customer_id TEXT COLLATE "C" NOT NULL REFERENCES customers (customer_id),
    field       TEXT COLLATE "C" NOT NULL,  -- wire name of the field class
    sealed      BYTEA NOT NULL,             -- format v1 sealed field
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, field)
);
