//! The PostgreSQL backend, on the synchronous `postgres` client, with every
//! table in its own schema (`custos_audit` unless told otherwise).
//!
//! The `postgres` client drives a small tokio runtime of its own inside every
//! call: use this store from plain threads (or `spawn_blocking`), never from
//! inside an async runtime, where the client panics. One connection, behind
//! a mutex; a lost connection is an error (the caller reopens the log). TLS
//! is not supported. Durability is PostgreSQL's: with the default
//! `synchronous_commit = on` a committed batch is on disk.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use postgres::types::ToSql;
use postgres::{Client, Config, NoTls, Row, Statement};

use super::{
    AppendBatch, AuditStore, AuditStoreError, StoredCosignature, StoredRow, from_i64, part_rows,
    stored_part_key, to_i64,
};
use crate::tiles::TileRow;

/// The schema `PostgresAuditStore::connect` keeps the log in.
pub const DEFAULT_POSTGRES_SCHEMA: &str = "custos_audit";

/// Used when the url sets no `connect_timeout`.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Serializes schema creation by concurrent processes ("custau" in ASCII).
const SCHEMA_LOCK_KEY: i64 = 0x6375_7374_6175;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS entries (
    idx       BIGINT PRIMARY KEY,
    leaf      BYTEA NOT NULL,
    leaf_hash BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    size BIGINT PRIMARY KEY,
    note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tile_roots (
    idx  BIGINT PRIMARY KEY,
    root BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS tiles (
    idx    BIGINT PRIMARY KEY,
    hashes BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS tile_parts (
    idx    BIGINT PRIMARY KEY,
    hashes BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS cosignatures (
    size      BIGINT NOT NULL,
    witness   TEXT NOT NULL,
    timestamp BIGINT NOT NULL,
    note      TEXT NOT NULL,
    PRIMARY KEY (size, witness)
);
";

const INSERT_ENTRIES: &str = "INSERT INTO entries (idx, leaf, leaf_hash)
     SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[])";
const INSERT_TILE_ROOTS: &str = "INSERT INTO tile_roots (idx, root)
     SELECT * FROM unnest($1::bigint[], $2::bytea[])";
const INSERT_TILE_PARTS: &str = "INSERT INTO tile_parts (idx, hashes)
     SELECT * FROM unnest($1::bigint[], $2::bytea[])";
const INSERT_TILE_ROOTS_IF_ABSENT: &str = "INSERT INTO tile_roots (idx, root)
     SELECT * FROM unnest($1::bigint[], $2::bytea[]) ON CONFLICT (idx) DO NOTHING";
const INSERT_TILE_PARTS_IF_ABSENT: &str = "INSERT INTO tile_parts (idx, hashes)
     SELECT * FROM unnest($1::bigint[], $2::bytea[]) ON CONFLICT (idx) DO NOTHING";
const END_INDEX: &str = "SELECT max(idx) FROM entries";
const LEAF_HASHES: &str = "SELECT idx, leaf_hash FROM entries
     WHERE idx >= $1::bigint AND idx < $2::bigint ORDER BY idx";
const LEAVES: &str = "SELECT idx, leaf FROM entries
     WHERE idx >= $1::bigint AND idx < $2::bigint ORDER BY idx";
const ROWS_AFTER: &str = "SELECT idx, leaf, leaf_hash FROM entries
     WHERE $1::bigint IS NULL OR idx > $1::bigint ORDER BY idx LIMIT $2::bigint";
const TILE_ROOTS: &str = "SELECT idx, root FROM tile_roots ORDER BY idx";
const TILE: &str = "SELECT hashes FROM tiles WHERE idx = $1::bigint";
const TILE_PARTS: &str = "SELECT idx, hashes FROM tile_parts WHERE idx = ANY($1::bigint[])";
const PUT_CHECKPOINT: &str = "INSERT INTO checkpoints (size, note) VALUES ($1::bigint, $2::text)
     ON CONFLICT (size) DO NOTHING";
const LATEST_CHECKPOINT: &str = "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1";
const CHECKPOINT: &str = "SELECT note FROM checkpoints WHERE size = $1::bigint";
const CHECKPOINTS: &str = "SELECT size, note FROM checkpoints ORDER BY size";
const PUT_COSIGNATURE: &str = "INSERT INTO cosignatures (size, witness, timestamp, note)
     VALUES ($1::bigint, $2::text, $3::bigint, $4::text)
     ON CONFLICT (size, witness) DO UPDATE SET timestamp = excluded.timestamp, note = excluded.note";
const COSIGNATURES: &str = "SELECT size, witness, timestamp, note FROM cosignatures
     WHERE $1::bigint IS NULL OR size = $1::bigint ORDER BY size, witness";

/// The audit log in a PostgreSQL schema.
pub struct PostgresAuditStore {
    schema: String,
    connection: Mutex<Connection>,
}

impl std::fmt::Debug for PostgresAuditStore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The url may hold a password: only the schema is shown.
        formatter
            .debug_struct("PostgresAuditStore")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

struct Connection {
    client: Client,
    /// Prepared statements, by SQL text: one round trip per query, not two.
    statements: HashMap<&'static str, Statement>,
}

impl Connection {
    fn statement(&mut self, sql: &'static str) -> Result<Statement, AuditStoreError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, AuditStoreError> {
        let statement = self.statement(sql)?;
        Ok(self.client.query(&statement, params)?)
    }

    fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, AuditStoreError> {
        let statement = self.statement(sql)?;
        Ok(self.client.execute(&statement, params)?)
    }
}

/// A plain lower-case identifier: safe to quote into SQL.
fn check_schema_name(schema: &str) -> Result<(), AuditStoreError> {
    let mut bytes = schema.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|byte| byte.is_ascii_lowercase() || byte == b'_');
    let rest_ok =
        bytes.all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_');
    if first_ok && rest_ok && schema.len() <= 63 {
        Ok(())
    } else {
        Err(AuditStoreError::InvalidSchemaName(schema.to_owned()))
    }
}

/// The columns of `tile_roots` and `tile_parts`, as arrays for `unnest`.
struct TileColumns<'a> {
    indexes: Vec<i64>,
    roots: Vec<&'a [u8]>,
    part_keys: Vec<i64>,
    part_hashes: Vec<Vec<u8>>,
}

fn tile_columns(tiles: &[TileRow]) -> Result<TileColumns<'_>, AuditStoreError> {
    let (part_keys, part_hashes) = part_rows(tiles)?.into_iter().unzip();
    Ok(TileColumns {
        indexes: tiles
            .iter()
            .map(|tile| to_i64(tile.index))
            .collect::<Result<Vec<_>, _>>()?,
        roots: tiles.iter().map(|tile| tile.root.as_slice()).collect(),
        part_keys,
        part_hashes,
    })
}

fn pairs(rows: Vec<Row>) -> Result<Vec<(i64, Vec<u8>)>, AuditStoreError> {
    rows.into_iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}

impl PostgresAuditStore {
    /// Connects to `url` (`postgres://user:password@host:port/db?…` or the
    /// key-value form) and keeps the log in schema `custos_audit`, created
    /// with its tables when missing.
    pub fn connect(url: &str) -> Result<PostgresAuditStore, AuditStoreError> {
        PostgresAuditStore::connect_with_schema(url, DEFAULT_POSTGRES_SCHEMA)
    }

    /// Like `connect`, in `schema` (a plain lower-case identifier, at most
    /// 63 bytes): tests use one fresh schema each.
    pub fn connect_with_schema(
        url: &str,
        schema: &str,
    ) -> Result<PostgresAuditStore, AuditStoreError> {
        check_schema_name(schema)?;
        let mut config: Config = url.parse()?;
        let search_path = format!("-c search_path={schema}");
        let options = match config.get_options() {
            Some(existing) if !existing.trim().is_empty() => format!("{existing} {search_path}"),
            _ => search_path,
        };
        config.options(&options);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name(&format!("custos-audit/{schema}"));
        }
        let mut client = config.connect(NoTls)?;
        let mut transaction = client.transaction()?;
        transaction.execute(
            "SELECT pg_advisory_xact_lock($1::bigint)",
            &[&SCHEMA_LOCK_KEY],
        )?;
        // INVARIANT: `schema` passed check_schema_name, so quoting is enough.
        transaction.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))?;
        transaction.batch_execute(SCHEMA)?;
        transaction.commit()?;
        Ok(PostgresAuditStore {
            schema: schema.to_owned(),
            connection: Mutex::new(Connection {
                client,
                statements: HashMap::new(),
            }),
        })
    }

    pub fn schema(&self) -> &str {
        &self.schema
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, AuditStoreError> {
        self.connection
            .lock()
            .map_err(|_| AuditStoreError::Poisoned)
    }
}

impl AuditStore for PostgresAuditStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn append(&self, batch: &AppendBatch<'_>) -> Result<(), AuditStoreError> {
        let indexes = (batch.first_index..)
            .take(batch.leaves.len())
            .map(to_i64)
            .collect::<Result<Vec<_>, _>>()?;
        let leaves: Vec<&[u8]> = batch.leaves.iter().map(Vec::as_slice).collect();
        let hashes: Vec<&[u8]> = batch
            .leaf_hashes
            .iter()
            .map(|hash| hash.as_slice())
            .collect();
        let tiles = tile_columns(batch.tiles)?;
        let mut connection = self.lock()?;
        let insert_entries = connection.statement(INSERT_ENTRIES)?;
        let insert_tile_roots = connection.statement(INSERT_TILE_ROOTS)?;
        let insert_parts = connection.statement(INSERT_TILE_PARTS)?;
        let mut transaction = connection.client.transaction()?;
        transaction.execute(&insert_entries, &[&indexes, &leaves, &hashes])?;
        if !tiles.indexes.is_empty() {
            transaction.execute(&insert_tile_roots, &[&tiles.indexes, &tiles.roots])?;
            transaction.execute(&insert_parts, &[&tiles.part_keys, &tiles.part_hashes])?;
        }
        transaction.commit()?;
        Ok(())
    }

    fn end_index(&self) -> Result<i64, AuditStoreError> {
        let rows = self.lock()?.query(END_INDEX, &[])?;
        let max: Option<i64> = match rows.first() {
            Some(row) => row.try_get(0)?,
            None => None,
        };
        Ok(max.map_or(0, |max| max.saturating_add(1)))
    }

    fn leaf_hashes(&self, range: Range<u64>) -> Result<Vec<(i64, Vec<u8>)>, AuditStoreError> {
        let (start, end) = (to_i64(range.start)?, to_i64(range.end)?);
        pairs(self.lock()?.query(LEAF_HASHES, &[&start, &end])?)
    }

    fn leaves(&self, range: Range<u64>) -> Result<Vec<(i64, Vec<u8>)>, AuditStoreError> {
        let (start, end) = (to_i64(range.start)?, to_i64(range.end)?);
        pairs(self.lock()?.query(LEAVES, &[&start, &end])?)
    }

    fn rows_after(
        &self,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StoredRow>, AuditStoreError> {
        let limit = i64::from(limit);
        self.lock()?
            .query(ROWS_AFTER, &[&after, &limit])?
            .into_iter()
            .map(|row| {
                Ok(StoredRow {
                    index: row.try_get(0)?,
                    leaf: row.try_get(1)?,
                    leaf_hash: row.try_get(2)?,
                })
            })
            .collect()
    }

    fn tile_roots(&self) -> Result<Vec<(i64, Vec<u8>)>, AuditStoreError> {
        pairs(self.lock()?.query(TILE_ROOTS, &[])?)
    }

    fn tile(&self, index: u64) -> Result<Option<Vec<u8>>, AuditStoreError> {
        let index = to_i64(index)?;
        let rows = self.lock()?.query(TILE, &[&index])?;
        Ok(match rows.first() {
            Some(row) => Some(row.try_get(0)?),
            None => None,
        })
    }

    fn tile_parts(
        &self,
        index: u64,
        parts: &[u64],
    ) -> Result<Vec<(u64, Vec<u8>)>, AuditStoreError> {
        let keys = parts
            .iter()
            .map(|part| stored_part_key(index, *part))
            .collect::<Result<Vec<_>, _>>()?;
        // One round trip for all the parts a proof needs.
        let mut by_key = pairs(self.lock()?.query(TILE_PARTS, &[&keys])?)?;
        let mut found = Vec::with_capacity(parts.len());
        for (&part, key) in parts.iter().zip(&keys) {
            if let Some(at) = by_key.iter().position(|(stored, _)| stored == key) {
                found.push((part, by_key.swap_remove(at).1));
            }
        }
        Ok(found)
    }

    fn put_tiles(&self, tiles: &[TileRow]) -> Result<(), AuditStoreError> {
        let tiles = tile_columns(tiles)?;
        let mut connection = self.lock()?;
        let insert_roots = connection.statement(INSERT_TILE_ROOTS_IF_ABSENT)?;
        let insert_parts = connection.statement(INSERT_TILE_PARTS_IF_ABSENT)?;
        let mut transaction = connection.client.transaction()?;
        transaction.execute(&insert_roots, &[&tiles.indexes, &tiles.roots])?;
        transaction.execute(&insert_parts, &[&tiles.part_keys, &tiles.part_hashes])?;
        transaction.commit()?;
        Ok(())
    }

    fn put_checkpoint(&self, size: u64, note: &str) -> Result<(), AuditStoreError> {
        let size = to_i64(size)?;
        self.lock()?.execute(PUT_CHECKPOINT, &[&size, &note])?;
        Ok(())
    }

    fn latest_checkpoint(&self) -> Result<Option<(i64, String)>, AuditStoreError> {
        let rows = self.lock()?.query(LATEST_CHECKPOINT, &[])?;
        Ok(match rows.first() {
            Some(row) => Some((row.try_get(0)?, row.try_get(1)?)),
            None => None,
        })
    }

    fn checkpoint(&self, size: u64) -> Result<Option<String>, AuditStoreError> {
        let size = to_i64(size)?;
        let rows = self.lock()?.query(CHECKPOINT, &[&size])?;
        Ok(match rows.first() {
            Some(row) => Some(row.try_get(0)?),
            None => None,
        })
    }

    fn checkpoints(&self) -> Result<Vec<(i64, String)>, AuditStoreError> {
        self.lock()?
            .query(CHECKPOINTS, &[])?
            .into_iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    fn put_cosignature(&self, cosignature: &StoredCosignature) -> Result<(), AuditStoreError> {
        let size = to_i64(cosignature.size)?;
        let timestamp = to_i64(cosignature.timestamp)?;
        self.lock()?.execute(
            PUT_COSIGNATURE,
            &[&size, &cosignature.witness, &timestamp, &cosignature.note],
        )?;
        Ok(())
    }

    fn cosignatures(&self, size: Option<u64>) -> Result<Vec<StoredCosignature>, AuditStoreError> {
        let size = size.map(to_i64).transpose()?;
        self.lock()?
            .query(COSIGNATURES, &[&size])?
            .into_iter()
            .map(|row| {
                Ok(StoredCosignature {
                    size: from_i64(row.try_get(0)?),
                    witness: row.try_get(1)?,
                    timestamp: from_i64(row.try_get(2)?),
                    note: row.try_get(3)?,
                })
            })
            .collect()
    }
}
