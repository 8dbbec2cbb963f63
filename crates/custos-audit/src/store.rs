//! Where the audit log lives: one `AuditStore` trait, an embedded SQLite
//! backend and a PostgreSQL backend, both passing the same conformance suite
//! (`tests/integration/conformance.rs`).
//!
//! A store is deliberately dumb: it keeps rows and returns them as stored,
//! raw (`i64` indexes, byte vectors), so that the verifier sees exactly what
//! an insider may have written. Deciding whether rows make a valid log is the
//! job of `AuditLog` (cheaply, at open) and `verify_store` (fully).
//!
//! Tables, the same in both backends (PostgreSQL in its own schema):
//! - `entries(idx, leaf, leaf_hash)`: one row per leaf;
//! - `tile_roots(idx, root)`: per complete block of 256 leaves, its root;
//! - `tile_parts(idx, hashes)`: its 510 lower node hashes in 17 parts of 30,
//!   row `17 * block + part` (see `tiles`);
//! - `tiles(idx, hashes)`: the same hashes in one row per block, as logs
//!   written before parts stored them; read, no longer written;
//! - `checkpoints(size, note)`: every checkpoint the log signed;
//! - `cosignatures(size, witness, timestamp, note)`: witness cosignatures.

pub mod postgres;
pub mod sqlite;

use std::ops::Range;

use crate::hash::Hash;
use crate::tiles::{TILE_PARTS, TileRow, part_key};

pub use self::postgres::{DEFAULT_POSTGRES_SCHEMA, PostgresAuditStore};
pub use self::sqlite::SqliteAuditStore;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditStoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] ::postgres::Error),
    #[error("schema name `{0}` is not a plain lower-case identifier")]
    InvalidSchemaName(String),
    #[error("store lock is poisoned by an earlier panic")]
    Poisoned,
    #[error("value `{0}` does not fit the store's 64-bit signed integers")]
    OutOfRange(u64),
    #[error("tile `{0}` is not a whole tile")]
    MalformedTile(u64),
}

/// One durable append: leaves `first_index..`, their hashes, and the tiles
/// they complete, written in one transaction.
#[derive(Debug, Clone, Copy)]
pub struct AppendBatch<'a> {
    pub first_index: u64,
    pub leaves: &'a [Vec<u8>],
    /// INVARIANT: as long as `leaves`.
    pub leaf_hashes: &'a [Hash],
    pub tiles: &'a [TileRow],
}

/// A row of `entries` as stored, unchecked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRow {
    pub index: i64,
    pub leaf: Vec<u8>,
    pub leaf_hash: Vec<u8>,
}

/// A witness cosignature the log accepted, with the note that carries it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredCosignature {
    /// Tree size of the cosigned checkpoint.
    pub size: u64,
    /// The witness's key name.
    pub witness: String,
    /// Unix time the witness put in its cosignature.
    pub timestamp: u64,
    /// The checkpoint note with the log's signature and the witness's line.
    pub note: String,
}

/// Storage of one audit log. Methods take `&self`: implementations
/// serialize access internally, so a store can be shared between threads.
/// One `AuditLog` writes to a store at a time.
pub trait AuditStore: Send + Sync + std::fmt::Debug {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Writes the batch in one durable transaction: all of it or nothing.
    /// Fails if any index or tile is already stored.
    fn append(&self, batch: &AppendBatch<'_>) -> Result<(), AuditStoreError>;

    /// One past the largest stored index (0 when empty). Cheap: not a count.
    fn end_index(&self) -> Result<i64, AuditStoreError>;

    /// `(idx, leaf_hash)` of the stored rows with `idx` in `range`, in order.
    fn leaf_hashes(&self, range: Range<u64>) -> Result<Vec<(i64, Vec<u8>)>, AuditStoreError>;

    /// `(idx, leaf)` of the stored rows with `idx` in `range`, in order.
    fn leaves(&self, range: Range<u64>) -> Result<Vec<(i64, Vec<u8>)>, AuditStoreError>;

    /// Up to `limit` rows with `idx > after` (all rows when `after` is
    /// `None`, negative indexes included), in index order: the verifier's scan.
    fn rows_after(&self, after: Option<i64>, limit: u32)
    -> Result<Vec<StoredRow>, AuditStoreError>;

    /// `(idx, root)` of every stored tile, in order.
    fn tile_roots(&self) -> Result<Vec<(i64, Vec<u8>)>, AuditStoreError>;

    /// The stored whole-tile row of tile `index` (table `tiles`, written only
    /// by logs from before tile parts).
    fn tile(&self, index: u64) -> Result<Option<Vec<u8>>, AuditStoreError>;

    /// `(part, hashes)` of the stored parts `parts` of tile `index` (rows
    /// `17 * index + part` of `tile_parts`), in the order of `parts`,
    /// absent ones left out.
    fn tile_parts(&self, index: u64, parts: &[u64])
    -> Result<Vec<(u64, Vec<u8>)>, AuditStoreError>;

    /// Stores tiles rebuilt from the entries (a log written before tiles
    /// existed), as parts; parts already stored are left as they are.
    fn put_tiles(&self, tiles: &[TileRow]) -> Result<(), AuditStoreError>;

    /// Stores a signed checkpoint note; a second note for the same size is
    /// ignored (Ed25519 is deterministic: it is the same note).
    fn put_checkpoint(&self, size: u64, note: &str) -> Result<(), AuditStoreError>;

    /// `(size, note)` of the stored checkpoint with the largest size.
    fn latest_checkpoint(&self) -> Result<Option<(i64, String)>, AuditStoreError>;

    /// The stored checkpoint note for `size`.
    fn checkpoint(&self, size: u64) -> Result<Option<String>, AuditStoreError>;

    /// `(size, note)` of every stored checkpoint, by size.
    fn checkpoints(&self) -> Result<Vec<(i64, String)>, AuditStoreError>;

    /// Stores a cosignature, replacing an earlier one by the same witness
    /// for the same size.
    fn put_cosignature(&self, cosignature: &StoredCosignature) -> Result<(), AuditStoreError>;

    /// Stored cosignatures, of `size` only when given, by size then witness.
    fn cosignatures(&self, size: Option<u64>) -> Result<Vec<StoredCosignature>, AuditStoreError>;
}

pub(crate) fn to_i64(value: u64) -> Result<i64, AuditStoreError> {
    i64::try_from(value).map_err(|_| AuditStoreError::OutOfRange(value))
}

/// Reads a stored non-negative integer; a negative one (only an insider
/// writes those) reads as 0 here and is caught by the verifier.
pub(crate) fn from_i64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// `(key, bytes)` of the part rows of `tiles`, in order.
pub(crate) fn part_rows(tiles: &[TileRow]) -> Result<Vec<(i64, Vec<u8>)>, AuditStoreError> {
    let mut rows = Vec::with_capacity(tiles.len() * TILE_PARTS as usize);
    for tile in tiles {
        let parts = tile
            .part_rows()
            .ok_or(AuditStoreError::MalformedTile(tile.index))?;
        for (key, bytes) in parts {
            rows.push((to_i64(key)?, bytes));
        }
    }
    Ok(rows)
}

/// Row key of part `part` of tile `index`, as stored.
pub(crate) fn stored_part_key(index: u64, part: u64) -> Result<i64, AuditStoreError> {
    to_i64(part_key(index, part).ok_or(AuditStoreError::OutOfRange(index))?)
}
