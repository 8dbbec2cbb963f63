//! `AuditLog`: the Merkle log over an `AuditStore` — append, read, prove,
//! checkpoint (on demand or on a schedule), and collect witness cosignatures.
//!
//! Opening is cheap: the log reads the stored tile roots and the rows after
//! the last complete tile (fewer than 256), not every leaf; see `tiles`.
//! It therefore trusts the stored tiles for serving proofs; a proof built
//! from a tampered tile fails at the client, and `verify_store` checks
//! every row. A tile is stored in 17 parts and a proof reads only the two
//! it needs (`tiles`); decoded parts are kept in a bounded LRU cache of
//! tiles (`tile_cache`): a tile of a complete block never changes, so
//! proofs of recently used blocks skip the store. A log written before
//! tiles existed gets them rebuilt from its leaf hashes once, at open; one
//! written before parts keeps its whole tiles, read as they are.

use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::entry::{AuditEntry, EntryError, decode_leaf};
use crate::hash::{Hash, leaf_hash};
use crate::note::{Checkpoint, NoteError, NoteSigner, NoteVerifier, verify_cosignature};
use crate::proof::ProofError;
use crate::schedule::CheckpointPolicy;
use crate::store::{
    AppendBatch, AuditStore, AuditStoreError, SqliteAuditStore, StoredCosignature, from_i64,
};
use crate::tile_cache::{DEFAULT_TILE_CACHE_TILES, TileCache, TileCacheStats};
use crate::tiles::{TILE_WIDTH, Tile, TilePart, TileRow, TiledTree, tile_from_leaf_hashes};
use crate::tree::{self, NodeSource};

/// Tiles rebuilt per transaction when a log without tiles is opened.
const BACKFILL_TILES_PER_BATCH: u64 = 64;

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("origin `{0}` is empty or contains a newline")]
    InvalidOrigin(String),
    #[error("range `{start}..{end}` is not within the `{size}` stored entries")]
    RangeOutOfBounds { start: u64, end: u64, size: u64 },
    #[error(
        "stored log is not contiguous: expected index `{expected}`, found `{found}`; run verify"
    )]
    NotContiguous { expected: u64, found: u64 },
    #[error("stored leaf hash at index `{0}` is not 32 bytes; run verify")]
    BadStoredHash(u64),
    #[error("stored tile `{0}` is missing or malformed; run verify")]
    BadStoredTile(u64),
    #[error("`{tiles}` tiles are stored but only `{entries}` entries; run verify")]
    TilesBeyondEntries { tiles: u64, entries: u64 },
    #[error("the log has no checkpoint yet")]
    NoCheckpoint,
    #[error("checkpoint is for origin `{found}`, not this log's `{expected}`")]
    ForeignCheckpoint { expected: String, found: String },
    #[error("this log issued no such checkpoint at size `{size}`")]
    CheckpointNotIssued { size: u64 },
    #[error(transparent)]
    Entry(#[from] EntryError),
    #[error(transparent)]
    Proof(#[from] ProofError),
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error(transparent)]
    Store(#[from] AuditStoreError),
}

/// What a witness needs to cosign the latest checkpoint: the signed note and
/// a consistency proof from the size it cosigned last (C2SP `tlog-witness`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessRequest {
    /// The log's latest signed checkpoint note.
    pub note: String,
    /// The checkpoint's tree size.
    pub size: u64,
    /// The size the witness last cosigned (0 for a new witness).
    pub old_size: u64,
    /// Consistency proof from `old_size` to `size`.
    pub consistency_proof: Vec<Hash>,
}

/// The append-only audit log. One writer per store.
#[derive(Debug)]
pub struct AuditLog {
    store: Box<dyn AuditStore>,
    tree: TiledTree,
    origin: String,
    signer: NoteSigner,
    policy: CheckpointPolicy,
    /// Size of the latest checkpoint signed or stored.
    last_checkpoint_size: Option<u64>,
    /// When the last scheduled checkpoint was signed; unknown after open.
    last_checkpoint_unix: Option<u64>,
    /// Decoded tiles of complete blocks, least recently used evicted first.
    /// Behind a lock because proofs take `&self`; a poisoned lock only
    /// bypasses the cache.
    tile_cache: Mutex<TileCache>,
}

fn stored_hash(index: u64, bytes: &[u8]) -> Result<Hash, LogError> {
    Hash::try_from(bytes).map_err(|_| LogError::BadStoredHash(index))
}

/// Checks that `rows` are exactly indexes `range` and returns their values.
fn contiguous(rows: Vec<(i64, Vec<u8>)>, range: Range<u64>) -> Result<Vec<Vec<u8>>, LogError> {
    let mut values = Vec::with_capacity(rows.len());
    let mut expected = range.start;
    for (index, value) in rows {
        if u64::try_from(index).ok() != Some(expected) {
            return Err(LogError::NotContiguous {
                expected,
                found: u64::try_from(index).unwrap_or(u64::MAX),
            });
        }
        values.push(value);
        expected += 1;
    }
    if expected != range.end {
        return Err(LogError::NotContiguous {
            expected,
            found: range.end,
        });
    }
    Ok(values)
}

impl AuditLog {
    /// Opens (or creates) the log in the SQLite file at `path`. `origin`
    /// names the log in its checkpoints; `signer` signs them.
    pub fn open(path: &Path, origin: &str, signer: NoteSigner) -> Result<Self, LogError> {
        if origin.is_empty() || origin.contains('\n') {
            return Err(LogError::InvalidOrigin(origin.to_owned()));
        }
        let store = SqliteAuditStore::open(path)?;
        AuditLog::with_store(Box::new(store), origin, signer)
    }

    /// Opens the log kept in `store` (either backend).
    pub fn with_store(
        store: Box<dyn AuditStore>,
        origin: &str,
        signer: NoteSigner,
    ) -> Result<Self, LogError> {
        if origin.is_empty() || origin.contains('\n') {
            return Err(LogError::InvalidOrigin(origin.to_owned()));
        }
        let tree = load_tree(store.as_ref())?;
        let last_checkpoint_size = store.latest_checkpoint()?.map(|(size, _)| from_i64(size));
        Ok(Self {
            store,
            tree,
            origin: origin.to_owned(),
            signer,
            policy: CheckpointPolicy::default(),
            last_checkpoint_size,
            last_checkpoint_unix: None,
            tile_cache: Mutex::new(TileCache::new(DEFAULT_TILE_CACHE_TILES)),
        })
    }

    /// Sets how many decoded tiles (16,320 bytes of hashes each, one per
    /// block of 256 entries) proofs keep in memory; 0 turns the cache off.
    /// Default `DEFAULT_TILE_CACHE_TILES` (1,024 tiles, about 16 MB).
    /// Shrinking drops the least recently used tiles at once.
    pub fn set_tile_cache_capacity(&mut self, tiles: usize) {
        if let Ok(mut cache) = self.tile_cache.lock() {
            cache.set_capacity(tiles);
        } else {
            self.tile_cache = Mutex::new(TileCache::new(tiles));
        }
    }

    /// Capacity, size and hit counters of the tile cache.
    pub fn tile_cache_stats(&self) -> TileCacheStats {
        self.tile_cache
            .lock()
            .map(|cache| cache.stats())
            .unwrap_or_default()
    }

    /// The store, e.g. for `verify_store`.
    pub fn store(&self) -> &dyn AuditStore {
        self.store.as_ref()
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.tree.len()
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The key that verifies this log's checkpoints.
    pub fn verifier(&self) -> NoteVerifier {
        self.signer.verifier()
    }

    /// Appends `entries` in one durable transaction; returns the index of
    /// the first. Nothing is appended if any entry is invalid or the store
    /// refuses the batch.
    pub fn append(&mut self, entries: &[AuditEntry]) -> Result<u64, LogError> {
        let first = self.size();
        let mut leaves = Vec::with_capacity(entries.len());
        let mut hashes = Vec::with_capacity(entries.len());
        for (offset, entry) in (0u64..).zip(entries) {
            let leaf = entry.to_leaf(first + offset)?;
            hashes.push(leaf_hash(&leaf));
            leaves.push(leaf);
        }
        // Staged on a copy (the edge is < 256 hashes) so a failed commit
        // leaves the in-memory tree as the store is.
        let mut staged = self.tree.clone();
        let tiles: Vec<TileRow> = hashes
            .iter()
            .filter_map(|hash| staged.push_leaf_hash(*hash))
            .collect();
        self.store.append(&AppendBatch {
            first_index: first,
            leaves: &leaves,
            leaf_hashes: &hashes,
            tiles: &tiles,
        })?;
        self.tree = staged;
        // Committed: the tiles just completed are the ones proofs of recent
        // entries need next.
        if let Ok(mut cache) = self.tile_cache.lock() {
            for row in &tiles {
                if let Some(tile) = Tile::from_bytes(&row.hashes) {
                    for (part, tile_part) in (0u64..).zip(tile.parts()) {
                        cache.insert(row.index, part, Arc::new(tile_part));
                    }
                }
            }
        }
        Ok(first)
    }

    /// The entries with indexes in `range`.
    pub fn entries(&self, range: Range<u64>) -> Result<Vec<AuditEntry>, LogError> {
        let size = self.size();
        if range.start > range.end || range.end > size {
            return Err(LogError::RangeOutOfBounds {
                start: range.start,
                end: range.end,
                size,
            });
        }
        let rows = self.store.leaves(range.clone())?;
        contiguous(rows, range)?
            .iter()
            .map(|leaf| Ok(decode_leaf(leaf)?.entry))
            .collect()
    }

    /// Runs a head or proof computation, loading the tile parts it needs.
    fn compute<T>(
        &self,
        compute: impl Fn(&dyn NodeSource) -> Result<T, ProofError>,
    ) -> Result<T, LogError> {
        self.tree
            .compute(|index, parts| self.load_parts(index, parts), compute)
    }

    /// Parts `parts` of tile `index` of a complete block, in that order:
    /// from the cache, else read from the store (only the parts missing),
    /// decoded and cached. A log written before parts has a whole tile
    /// instead: it is read, split and cached whole.
    fn load_parts(&self, index: u64, parts: &[u64]) -> Result<Vec<Arc<TilePart>>, LogError> {
        let mut loaded: Vec<Option<Arc<TilePart>>> = match self.tile_cache.lock() {
            Ok(mut cache) => parts.iter().map(|part| cache.get(index, *part)).collect(),
            Err(_) => vec![None; parts.len()],
        };
        let missing: Vec<u64> = parts
            .iter()
            .zip(&loaded)
            .filter(|(_, part)| part.is_none())
            .map(|(part, _)| *part)
            .collect();
        if missing.is_empty() {
            return Ok(loaded.into_iter().flatten().collect());
        }
        let mut read = Vec::with_capacity(missing.len());
        for (part, bytes) in self.store.tile_parts(index, &missing)? {
            let tile_part = TilePart::from_bytes(&bytes).ok_or(LogError::BadStoredTile(index))?;
            read.push((part, Arc::new(tile_part)));
        }
        if read.len() < missing.len() {
            // No parts: a whole tile of a log written before them.
            let bytes = self
                .store
                .tile(index)?
                .ok_or(LogError::BadStoredTile(index))?;
            let tile = Tile::from_bytes(&bytes).ok_or(LogError::BadStoredTile(index))?;
            read = (0u64..)
                .zip(tile.parts())
                .map(|(part, tile_part)| (part, Arc::new(tile_part)))
                .collect();
        }
        if let Ok(mut cache) = self.tile_cache.lock() {
            for (part, tile_part) in &read {
                cache.insert(index, *part, Arc::clone(tile_part));
            }
        }
        for (part, tile_part) in read {
            for (wanted, slot) in parts.iter().zip(loaded.iter_mut()) {
                if *wanted == part && slot.is_none() {
                    *slot = Some(Arc::clone(&tile_part));
                }
            }
        }
        loaded
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or(LogError::BadStoredTile(index))
    }

    /// Leaf hash of entry `index`, the value an inclusion proof starts from.
    pub fn leaf_hash(&self, index: u64) -> Result<Hash, LogError> {
        let size = self.size();
        if index >= size {
            return Err(LogError::Proof(ProofError::IndexOutOfRange { index, size }));
        }
        self.compute(|source| {
            source
                .node(0, index)
                .ok_or(ProofError::MissingNode { level: 0, index })
        })
    }

    /// Tree head of the first `size` entries.
    pub fn root(&self, size: u64) -> Result<Hash, LogError> {
        self.compute(|source| tree::root(source, size))
    }

    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LogError> {
        self.compute(|source| tree::inclusion_proof(source, index, size))
    }

    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, LogError> {
        self.compute(|source| tree::consistency_proof(source, old_size, new_size))
    }

    /// Signs a checkpoint of the current tree, stores it and returns the
    /// note. On demand: does not move the schedule's clock (see `checkpoint_at`).
    pub fn checkpoint(&mut self) -> Result<String, LogError> {
        let size = self.size();
        let checkpoint = Checkpoint {
            origin: self.origin.clone(),
            size,
            root: self.root(size)?,
        };
        let note = checkpoint.sign(&self.signer)?;
        self.store.put_checkpoint(size, &note)?;
        self.last_checkpoint_size = Some(size);
        Ok(note)
    }

    /// The most recent stored checkpoint note, if any.
    pub fn latest_checkpoint(&self) -> Result<Option<String>, LogError> {
        Ok(self.store.latest_checkpoint()?.map(|(_, note)| note))
    }

    // ------------------------------------------------------------ schedule

    /// Sets when `checkpoint_due` says a checkpoint is due.
    pub fn set_checkpoint_policy(&mut self, policy: CheckpointPolicy) {
        self.policy = policy;
    }

    pub fn checkpoint_policy(&self) -> CheckpointPolicy {
        self.policy
    }

    /// Whether the policy wants a checkpoint at `now_unix` (seconds). The
    /// caller owns the timer: call this on a tick and after appends.
    pub fn checkpoint_due(&self, now_unix: u64) -> bool {
        let since = self.last_checkpoint_size.unwrap_or(0);
        self.policy.is_due(
            self.size().saturating_sub(since),
            self.last_checkpoint_unix
                .map(|last| now_unix.saturating_sub(last)),
        )
    }

    /// A scheduled checkpoint: like `checkpoint`, and records `now_unix` as
    /// the time of the last checkpoint for the policy.
    pub fn checkpoint_at(&mut self, now_unix: u64) -> Result<String, LogError> {
        let note = self.checkpoint()?;
        self.last_checkpoint_unix = Some(now_unix);
        Ok(note)
    }

    /// `checkpoint_at(now_unix)` if `checkpoint_due(now_unix)`.
    pub fn checkpoint_if_due(&mut self, now_unix: u64) -> Result<Option<String>, LogError> {
        if !self.checkpoint_due(now_unix) {
            return Ok(None);
        }
        self.checkpoint_at(now_unix).map(Some)
    }

    // ------------------------------------------------------------- witness

    /// The latest checkpoint for a witness to cosign, with a consistency
    /// proof from `witness_size`, the size that witness cosigned last.
    pub fn witness_request(&self, witness_size: u64) -> Result<WitnessRequest, LogError> {
        let (size, note) = self
            .store
            .latest_checkpoint()?
            .ok_or(LogError::NoCheckpoint)?;
        let size = from_i64(size);
        let consistency_proof = self.consistency_proof(witness_size, size)?;
        Ok(WitnessRequest {
            note,
            size,
            old_size: witness_size,
            consistency_proof,
        })
    }

    /// Checks a cosigned checkpoint note sent back by `witness` (the log's
    /// own signature, that this log issued that very checkpoint, and the
    /// witness's cosignature), then stores it.
    pub fn add_cosignature(
        &mut self,
        cosigned_note: &str,
        witness: &NoteVerifier,
    ) -> Result<StoredCosignature, LogError> {
        let log_key = self.verifier();
        let checkpoint = Checkpoint::open(cosigned_note, &log_key)?;
        if checkpoint.origin != self.origin {
            return Err(LogError::ForeignCheckpoint {
                expected: self.origin.clone(),
                found: checkpoint.origin,
            });
        }
        let issued = match self.store.checkpoint(checkpoint.size)? {
            Some(note) => Checkpoint::open(&note, &log_key).ok(),
            None => None,
        };
        if issued.as_ref() != Some(&checkpoint) {
            return Err(LogError::CheckpointNotIssued {
                size: checkpoint.size,
            });
        }
        let timestamp = verify_cosignature(cosigned_note, witness)?;
        let cosignature = StoredCosignature {
            size: checkpoint.size,
            witness: witness.name().to_owned(),
            timestamp,
            note: cosigned_note.to_owned(),
        };
        self.store.put_cosignature(&cosignature)?;
        Ok(cosignature)
    }

    /// Stored cosignatures, of checkpoint size `size` only when given.
    pub fn cosignatures(&self, size: Option<u64>) -> Result<Vec<StoredCosignature>, LogError> {
        Ok(self.store.cosignatures(size)?)
    }
}

/// Rebuilds the in-memory part of the tree: tile roots, then the rows after
/// the last complete tile. Rebuilds missing tiles from leaf hashes first.
fn load_tree(store: &dyn AuditStore) -> Result<TiledTree, LogError> {
    let end = from_i64(store.end_index()?);
    let mut roots = Vec::new();
    for (expected, (index, root)) in (0u64..).zip(store.tile_roots()?) {
        if u64::try_from(index).ok() != Some(expected) {
            return Err(LogError::BadStoredTile(expected));
        }
        roots.push(Hash::try_from(root.as_slice()).map_err(|_| LogError::BadStoredTile(expected))?);
    }
    let mut tiles = roots.len() as u64;
    if tiles * TILE_WIDTH > end {
        return Err(LogError::TilesBeyondEntries {
            tiles,
            entries: end,
        });
    }
    // Blocks complete in `entries` but without a tile: a log written before
    // tiles existed. Rebuild them once, in batches.
    while (tiles + 1) * TILE_WIDTH <= end {
        let last = (tiles + BACKFILL_TILES_PER_BATCH).min(end / TILE_WIDTH);
        let range = tiles * TILE_WIDTH..last * TILE_WIDTH;
        let hashes = contiguous(store.leaf_hashes(range.clone())?, range.clone())?;
        let mut rows = Vec::new();
        for (block, chunk) in (tiles..).zip(hashes.chunks(TILE_WIDTH as usize)) {
            let block_hashes = chunk
                .iter()
                .zip(block * TILE_WIDTH..)
                .map(|(bytes, index)| stored_hash(index, bytes))
                .collect::<Result<Vec<_>, _>>()?;
            let row = tile_from_leaf_hashes(block, &block_hashes)
                .ok_or(LogError::BadStoredTile(block))?;
            roots.push(row.root);
            rows.push(row);
        }
        store.put_tiles(&rows)?;
        tiles = last;
    }
    let edge_range = tiles * TILE_WIDTH..end;
    let edge = contiguous(store.leaf_hashes(edge_range.clone())?, edge_range)?
        .iter()
        .zip(tiles * TILE_WIDTH..)
        .map(|(bytes, index)| stored_hash(index, bytes))
        .collect::<Result<Vec<_>, _>>()?;
    TiledTree::from_parts(&roots, &edge).ok_or(LogError::BadStoredTile(tiles))
}
