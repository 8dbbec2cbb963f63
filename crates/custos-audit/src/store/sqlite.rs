//! The embedded backend: the audit log in its own SQLite file (WAL,
//! `synchronous=FULL`, so a committed batch survives power loss).

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::ToSql;
use rusqlite::{Connection, OpenFlags, OptionalExtension as _, params, params_from_iter};

use super::{
    AppendBatch, AuditStore, AuditStoreError, StoredCosignature, StoredRow, from_i64, part_rows,
    stored_part_key, to_i64,
};
use crate::tiles::{TILE_PARTS, TileRow};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS entries (
    idx       INTEGER PRIMARY KEY,
    leaf      BLOB NOT NULL,
    leaf_hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    size INTEGER PRIMARY KEY,
    note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tile_roots (
    idx  INTEGER PRIMARY KEY,
    root BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS tiles (
    idx    INTEGER PRIMARY KEY,
    hashes BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS tile_parts (
    idx    INTEGER PRIMARY KEY,
    hashes BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS cosignatures (
    size      INTEGER NOT NULL,
    witness   TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    note      TEXT NOT NULL,
    PRIMARY KEY (size, witness)
);
";

/// Rows per multi-row INSERT (3 parameters each, well under SQLite's limit).
const INSERT_CHUNK: usize = 64;

fn insert_statement(rows: usize) -> String {
    let mut sql = String::from("INSERT INTO entries (idx, leaf, leaf_hash) VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?)");
    }
    sql
}

fn insert_parts_statement(or_ignore: &str, rows: usize) -> String {
    let mut sql = format!("INSERT {or_ignore} INTO tile_parts (idx, hashes) VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?)");
    }
    sql
}

/// The audit log in a SQLite file.
#[derive(Debug)]
pub struct SqliteAuditStore {
    path: PathBuf,
    connection: Mutex<Connection>,
    /// False for a read-only copy of a log from before tile parts, which
    /// has no `tile_parts` table (and cannot get one).
    has_tile_parts: bool,
}

impl SqliteAuditStore {
    /// Opens (or creates) the log file at `path` for writing.
    pub fn open(path: &Path) -> Result<SqliteAuditStore, AuditStoreError> {
        let connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.execute_batch(SCHEMA)?;
        Ok(SqliteAuditStore {
            path: path.to_owned(),
            connection: Mutex::new(connection),
            has_tile_parts: true,
        })
    }

    /// Opens an existing log file read-only, creating nothing: what an
    /// auditor runs on a copy. Writes fail.
    pub fn open_read_only(path: &Path) -> Result<SqliteAuditStore, AuditStoreError> {
        let connection = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let has_tile_parts = connection
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tile_parts'",
                [],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        Ok(SqliteAuditStore {
            path: path.to_owned(),
            connection: Mutex::new(connection),
            has_tile_parts,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, AuditStoreError> {
        self.connection
            .lock()
            .map_err(|_| AuditStoreError::Poisoned)
    }

    fn pairs(&self, sql: &str, range: Range<u64>) -> Result<Vec<(i64, Vec<u8>)>, AuditStoreError> {
        let connection = self.lock()?;
        let mut statement = connection.prepare_cached(sql)?;
        let rows = statement
            .query_map(params![to_i64(range.start)?, to_i64(range.end)?], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn insert_tiles(
    transaction: &rusqlite::Transaction<'_>,
    tiles: &[TileRow],
    or_ignore: &str,
) -> Result<(), AuditStoreError> {
    let mut roots = transaction.prepare_cached(&format!(
        "INSERT {or_ignore} INTO tile_roots (idx, root) VALUES (?1, ?2)"
    ))?;
    for tile in tiles {
        roots.execute(params![to_i64(tile.index)?, tile.root.as_slice()])?;
    }
    // The 17 parts of a tile in one statement.
    let rows = part_rows(tiles)?;
    let mut parts =
        transaction.prepare_cached(&insert_parts_statement(or_ignore, TILE_PARTS as usize))?;
    for tile_rows in rows.chunks(TILE_PARTS as usize) {
        let mut values: Vec<&dyn ToSql> = Vec::with_capacity(2 * tile_rows.len());
        for (key, bytes) in tile_rows {
            values.push(key);
            values.push(bytes);
        }
        if tile_rows.len() == TILE_PARTS as usize {
            parts.execute(params_from_iter(values))?;
        } else {
            transaction
                .prepare_cached(&insert_parts_statement(or_ignore, tile_rows.len()))?
                .execute(params_from_iter(values))?;
        }
    }
    Ok(())
}

impl AuditStore for SqliteAuditStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn append(&self, batch: &AppendBatch<'_>) -> Result<(), AuditStoreError> {
        let mut connection = self.lock()?;
        let transaction = connection.transaction()?;
        {
            // Multi-row inserts: per-statement overhead, not fsync, dominates
            // a durable batch once encoding is cheap.
            let mut full_chunk = transaction.prepare_cached(&insert_statement(INSERT_CHUNK))?;
            let mut index = batch.first_index;
            for (leaf_chunk, hash_chunk) in batch
                .leaves
                .chunks(INSERT_CHUNK)
                .zip(batch.leaf_hashes.chunks(INSERT_CHUNK))
            {
                let mut indexes = Vec::with_capacity(leaf_chunk.len());
                for _ in leaf_chunk {
                    indexes.push(to_i64(index)?);
                    index += 1;
                }
                let mut values: Vec<&dyn ToSql> = Vec::with_capacity(leaf_chunk.len() * 3);
                for ((index, leaf), hash) in indexes.iter().zip(leaf_chunk).zip(hash_chunk) {
                    values.push(index);
                    values.push(leaf);
                    values.push(hash);
                }
                if leaf_chunk.len() == INSERT_CHUNK {
                    full_chunk.execute(params_from_iter(values))?;
                } else {
                    transaction
                        .prepare_cached(&insert_statement(leaf_chunk.len()))?
                        .execute(params_from_iter(values))?;
                }
            }
            insert_tiles(&transaction, batch.tiles, "")?;
        }
        transaction.commit()?;
        Ok(())
    }

    fn end_index(&self) -> Result<i64, AuditStoreError> {
        let connection = self.lock()?;
        let max: Option<i64> =
            connection.query_row("SELECT max(idx) FROM entries", [], |row| row.get(0))?;
        Ok(max.map_or(0, |max| max.saturating_add(1)))
    }

    fn leaf_hashes(&self, range: Range<u64>) -> Result<Vec<(i64, Vec<u8>)>, AuditStoreError> {
        self.pairs(
            "SELECT idx, leaf_hash FROM entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
            range,
        )
    }

    fn leaves(&self, range: Range<u64>) -> Result<Vec<(i64, Vec<u8>)>, AuditStoreError> {
        self.pairs(
            "SELECT idx, leaf FROM entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
            range,
        )
    }

    fn rows_after(
        &self,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<StoredRow>, AuditStoreError> {
        let connection = self.lock()?;
        let mut statement = connection.prepare_cached(
            "SELECT idx, leaf, leaf_hash FROM entries WHERE ?1 IS NULL OR idx > ?1
             ORDER BY idx LIMIT ?2",
        )?;
        let rows = statement.query_map(params![after, i64::from(limit)], |row| {
            Ok(StoredRow {
                index: row.get(0)?,
                leaf: row.get(1)?,
                leaf_hash: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn tile_roots(&self) -> Result<Vec<(i64, Vec<u8>)>, AuditStoreError> {
        let connection = self.lock()?;
        let mut statement =
            connection.prepare_cached("SELECT idx, root FROM tile_roots ORDER BY idx")?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn tile(&self, index: u64) -> Result<Option<Vec<u8>>, AuditStoreError> {
        let connection = self.lock()?;
        let mut statement = connection.prepare_cached("SELECT hashes FROM tiles WHERE idx = ?1")?;
        Ok(statement
            .query_row(params![to_i64(index)?], |row| row.get(0))
            .optional()?)
    }

    fn tile_parts(
        &self,
        index: u64,
        parts: &[u64],
    ) -> Result<Vec<(u64, Vec<u8>)>, AuditStoreError> {
        if !self.has_tile_parts {
            return Ok(Vec::new());
        }
        let connection = self.lock()?;
        // One indexed point read per part: each part is a ~1 KB row on one
        // page, so a proof's miss reads two pages, not a 16 KB tile.
        let mut statement =
            connection.prepare_cached("SELECT hashes FROM tile_parts WHERE idx = ?1")?;
        let mut found = Vec::with_capacity(parts.len());
        for &part in parts {
            let key = stored_part_key(index, part)?;
            if let Some(bytes) = statement
                .query_row(params![key], |row| row.get(0))
                .optional()?
            {
                found.push((part, bytes));
            }
        }
        Ok(found)
    }

    fn put_tiles(&self, tiles: &[TileRow]) -> Result<(), AuditStoreError> {
        let mut connection = self.lock()?;
        let transaction = connection.transaction()?;
        insert_tiles(&transaction, tiles, "OR IGNORE")?;
        transaction.commit()?;
        Ok(())
    }

    fn put_checkpoint(&self, size: u64, note: &str) -> Result<(), AuditStoreError> {
        self.lock()?.execute(
            "INSERT OR IGNORE INTO checkpoints (size, note) VALUES (?1, ?2)",
            params![to_i64(size)?, note],
        )?;
        Ok(())
    }

    fn latest_checkpoint(&self) -> Result<Option<(i64, String)>, AuditStoreError> {
        Ok(self
            .lock()?
            .query_row(
                "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?)
    }

    fn checkpoint(&self, size: u64) -> Result<Option<String>, AuditStoreError> {
        Ok(self
            .lock()?
            .query_row(
                "SELECT note FROM checkpoints WHERE size = ?1",
                params![to_i64(size)?],
                |row| row.get(0),
            )
            .optional()?)
    }

    fn checkpoints(&self) -> Result<Vec<(i64, String)>, AuditStoreError> {
        let connection = self.lock()?;
        let mut statement =
            connection.prepare_cached("SELECT size, note FROM checkpoints ORDER BY size")?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn put_cosignature(&self, cosignature: &StoredCosignature) -> Result<(), AuditStoreError> {
        self.lock()?.execute(
            "INSERT OR REPLACE INTO cosignatures (size, witness, timestamp, note)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                to_i64(cosignature.size)?,
                cosignature.witness,
                to_i64(cosignature.timestamp)?,
                cosignature.note
            ],
        )?;
        Ok(())
    }

    fn cosignatures(&self, size: Option<u64>) -> Result<Vec<StoredCosignature>, AuditStoreError> {
        let size = size.map(to_i64).transpose()?;
        let connection = self.lock()?;
        let mut statement = connection.prepare_cached(
            "SELECT size, witness, timestamp, note FROM cosignatures
             WHERE ?1 IS NULL OR size = ?1 ORDER BY size, witness",
        )?;
        let rows = statement.query_map(params![size], |row| {
            Ok(StoredCosignature {
                size: from_i64(row.get(0)?),
                witness: row.get(1)?,
                timestamp: from_i64(row.get(2)?),
                note: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
