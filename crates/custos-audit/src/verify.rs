//! The offline verifier: recomputes the tree from the stored leaves and
//! compares it with a trusted checkpoint and the log's own signed checkpoints.
//! Works on either backend (`verify_store`); it streams the rows in pages and
//! keeps O(log n) hashes in memory, so a 10M-entry log verifies in bounded
//! memory.
//!
//! What the trusted checkpoint proves: the first `size` leaves hash to its
//! root. What locates damage: each row's leaf carries its own index and the
//! row stores its leaf hash, so a local edit, deletion or swap names its row;
//! a rewrite that keeps every row self-consistent shows only as a root
//! mismatch, located between the nearest signed checkpoints (the insider has
//! the database, not the signing key).

use std::path::Path;

use crate::entry::decode_leaf;
use crate::hash::{Hash, empty_root, leaf_hash, node_hash, to_hex};
use crate::note::{Checkpoint, NoteError, NoteVerifier};
use crate::store::{AuditStore, AuditStoreError, SqliteAuditStore};
use crate::tiles::{TILE_PARTS, TILE_WIDTH, part_key, tile_from_leaf_hashes};

/// Rows read per query while scanning.
const SCAN_PAGE: u32 = 4096;

/// One piece of evidence of tampering, with the index it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Rows `[index, next_stored)` are missing: deleted.
    Gap { index: u64, next_stored: u64 },
    /// The stored leaf hash is not the hash of the stored leaf: an edit.
    LeafHashMismatch { index: u64 },
    /// The stored leaf is not a canonical entry.
    Malformed { index: u64, reason: String },
    /// The leaf at `index` was written for index `claims`: reordered or shifted.
    Misplaced { index: u64, claims: u64 },
    /// Fewer entries are stored than a signed checkpoint covers.
    Truncated {
        stored_size: u64,
        checkpoint_size: u64,
    },
    /// The stored leaves do not hash to a signed root: a fork or a rewrite.
    /// The first bad entry lies in `[first_bad_from, first_bad_before)`, the
    /// span between the last matching and the first mismatching signed root.
    RootMismatch {
        size: u64,
        expected_root: String,
        computed_root: String,
        first_bad_from: u64,
        first_bad_before: u64,
    },
    /// A stored checkpoint does not carry a valid signature by the log key.
    ForgedCheckpoint { size: u64 },
    /// A stored tile (the node hashes of block `tile`, entries
    /// `[tile * 256, tile * 256 + 256)`, used to serve proofs) does not
    /// match the stored entries.
    TileMismatch { tile: u64 },
}

impl Finding {
    /// The entry index this finding shows to be bad; `None` for a root
    /// mismatch (which bounds a range) and a forged checkpoint (no entry).
    pub fn exact_index(&self) -> Option<u64> {
        match self {
            Finding::Gap { index, .. }
            | Finding::LeafHashMismatch { index }
            | Finding::Malformed { index, .. }
            | Finding::Misplaced { index, .. } => Some(*index),
            Finding::Truncated { stored_size, .. } => Some(*stored_size),
            Finding::RootMismatch { .. }
            | Finding::ForgedCheckpoint { .. }
            | Finding::TileMismatch { .. } => None,
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::Gap { index, next_stored } => {
                write!(
                    formatter,
                    "entries `{index}` to `{}` are missing (deleted)",
                    next_stored.saturating_sub(1)
                )
            }
            Finding::LeafHashMismatch { index } => {
                write!(
                    formatter,
                    "entry `{index}` does not match its stored leaf hash (modified)"
                )
            }
            Finding::Malformed { index, reason } => {
                write!(formatter, "entry `{index}` is malformed: {reason}")
            }
            Finding::Misplaced { index, claims } => {
                write!(
                    formatter,
                    "entry `{index}` was written as entry `{claims}` (reordered or moved)"
                )
            }
            Finding::Truncated {
                stored_size,
                checkpoint_size,
            } => write!(
                formatter,
                "log holds `{stored_size}` entries but a signed checkpoint covers `{checkpoint_size}` (truncated)"
            ),
            Finding::RootMismatch {
                size,
                first_bad_from,
                first_bad_before,
                ..
            } => write!(
                formatter,
                "entries do not hash to the signed root at size `{size}` (fork or rewrite); \
                 the first bad entry is in `{first_bad_from}..{first_bad_before}`"
            ),
            Finding::ForgedCheckpoint { size } => {
                write!(
                    formatter,
                    "stored checkpoint at size `{size}` is not signed by the log key"
                )
            }
            Finding::TileMismatch { tile } => write!(
                formatter,
                "stored tile `{tile}` (entries `{}` to `{}`) does not match the entries",
                tile * TILE_WIDTH,
                tile * TILE_WIDTH + TILE_WIDTH - 1
            ),
        }
    }
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// The trusted checkpoint, after its signature verified.
    pub checkpoint: Checkpoint,
    /// Rows found in the store.
    pub stored_rows: u64,
    /// Signed checkpoints found in the store whose signature verified.
    pub stored_checkpoints_verified: u64,
    pub findings: Vec<Finding>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.findings.is_empty()
    }

    /// The first entry index shown to be bad. A root mismatch alone only
    /// bounds it: then this is the lower bound `first_bad_from`, unless an
    /// exactly named index already lies before the mismatching size.
    pub fn first_bad_index(&self) -> Option<u64> {
        let exact = self.findings.iter().filter_map(Finding::exact_index).min();
        let bounded = self.findings.iter().find_map(|finding| match finding {
            Finding::RootMismatch {
                first_bad_from,
                first_bad_before,
                ..
            } => Some((*first_bad_from, *first_bad_before)),
            _ => None,
        });
        match (exact, bounded) {
            (Some(exact), Some((_, before))) if exact < before => Some(exact),
            (Some(exact), Some((from, _))) => Some(exact.min(from)),
            (None, Some((from, _))) => Some(from),
            (exact, None) => exact,
        }
    }
}

/// Why verification could not run at all (as opposed to finding tampering).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("trusted checkpoint does not verify: {0}")]
    TrustedCheckpoint(#[from] NoteError),
    #[error(transparent)]
    Store(#[from] AuditStoreError),
}

/// Recomputes the log in the SQLite file at `log_path` (opened read-only;
/// a missing file is an error) and checks it against `trusted_checkpoint`
/// (a signed note by `log_key`). See `verify_store`.
pub fn verify(
    log_path: &Path,
    trusted_checkpoint: &str,
    log_key: &NoteVerifier,
) -> Result<VerifyReport, VerifyError> {
    let checkpoint = Checkpoint::open(trusted_checkpoint, log_key)?;
    let store = SqliteAuditStore::open_read_only(log_path)?;
    verify_opened(&store, checkpoint, log_key)
}

/// Recomputes the log in `store` (either backend) from its stored leaves
/// and checks it against `trusted_checkpoint`, a signed note by `log_key`,
/// and against every checkpoint stored in it.
pub fn verify_store(
    store: &dyn AuditStore,
    trusted_checkpoint: &str,
    log_key: &NoteVerifier,
) -> Result<VerifyReport, VerifyError> {
    let checkpoint = Checkpoint::open(trusted_checkpoint, log_key)?;
    verify_opened(store, checkpoint, log_key)
}

/// The perfect subtrees covering the leaves pushed so far, largest first:
/// the tree head at the current size in O(log n) memory.
#[derive(Default)]
struct CompactRange {
    /// `(level, hash)`, levels strictly decreasing.
    subtrees: Vec<(u32, Hash)>,
    size: u64,
}

impl CompactRange {
    fn push(&mut self, hash: Hash) {
        let mut carry = (0u32, hash);
        while let Some(&(level, left)) = self.subtrees.last() {
            if level != carry.0 {
                break;
            }
            self.subtrees.pop();
            carry = (level + 1, node_hash(&left, &carry.1));
        }
        self.subtrees.push(carry);
        self.size += 1;
    }

    fn root(&self) -> Hash {
        let mut subtrees = self.subtrees.iter().rev();
        let Some(&(_, mut root)) = subtrees.next() else {
            return empty_root();
        };
        for (_, left) in subtrees {
            root = node_hash(left, &root);
        }
        root
    }
}

fn verify_opened(
    store: &dyn AuditStore,
    checkpoint: Checkpoint,
    log_key: &NoteVerifier,
) -> Result<VerifyReport, VerifyError> {
    let mut findings = Vec::new();

    // Every signed tree head available: the trusted one and those stored.
    let mut signed_heads: Vec<(u64, Hash)> = vec![(checkpoint.size, checkpoint.root)];
    let mut stored_checkpoints_verified = 0;
    for (size, note) in store.checkpoints()? {
        let size = u64::try_from(size).unwrap_or(u64::MAX);
        match Checkpoint::open(&note, log_key) {
            Ok(stored) if stored.size == size && stored.origin == checkpoint.origin => {
                stored_checkpoints_verified += 1;
                signed_heads.push((stored.size, stored.root));
            }
            _ => findings.push(Finding::ForgedCheckpoint { size }),
        }
    }
    signed_heads.sort_unstable();
    signed_heads.dedup();

    // Tiles are checked when the store has them (a log file from before
    // tiles has none, and a read-only copy cannot get them).
    let stored_tile_roots = store.tile_roots().ok();
    // After a gap or a moved row every later block is shifted: comparing
    // tiles then would only repeat the row-level finding thousands of times.
    let mut rows_in_place = true;

    // Heads at each signed size, computed as the scan passes that size.
    let mut computed_heads: Vec<(u64, Hash)> = Vec::new();
    let signed_sizes: Vec<u64> = signed_heads.iter().map(|(size, _)| *size).collect();
    let mut next_head = 0;
    let mut range = CompactRange::default();
    let mut block: Vec<Hash> = Vec::with_capacity(TILE_WIDTH as usize);
    record_heads(&range, &signed_sizes, &mut next_head, &mut computed_heads);

    let mut stored_rows = 0u64;
    let mut expected_index = 0u64;
    let mut after = None;
    loop {
        let rows = store.rows_after(after, SCAN_PAGE)?;
        let Some(last) = rows.last() else { break };
        after = Some(last.index);
        for row in rows {
            stored_rows += 1;
            let stored_index = u64::try_from(row.index).unwrap_or(u64::MAX);
            if stored_index != expected_index {
                findings.push(Finding::Gap {
                    index: expected_index,
                    next_stored: stored_index,
                });
                rows_in_place = false;
            }
            expected_index = stored_index.saturating_add(1);
            // Rows are named by their stored index, the one an auditor would
            // query; the tree is rebuilt in storage order, the order any proof
            // served from this store would use.
            let computed = leaf_hash(&row.leaf);
            if row.leaf_hash.as_slice() != computed.as_slice() {
                findings.push(Finding::LeafHashMismatch {
                    index: stored_index,
                });
            }
            match decode_leaf(&row.leaf) {
                Ok(decoded) if decoded.index != stored_index => {
                    findings.push(Finding::Misplaced {
                        index: stored_index,
                        claims: decoded.index,
                    });
                    rows_in_place = false;
                }
                Ok(_) => {}
                Err(error) => findings.push(Finding::Malformed {
                    index: stored_index,
                    reason: error.to_string(),
                }),
            }
            range.push(computed);
            record_heads(&range, &signed_sizes, &mut next_head, &mut computed_heads);
            block.push(computed);
            if block.len() as u64 == TILE_WIDTH {
                let tile = range.size / TILE_WIDTH - 1;
                if let Some(roots) = stored_tile_roots.as_ref().filter(|_| rows_in_place) {
                    check_tile(store, roots, tile, &block, &mut findings)?;
                }
                block.clear();
            }
        }
    }

    let recomputed_size = range.size;
    let largest_signed = signed_heads
        .iter()
        .map(|(size, _)| *size)
        .max()
        .unwrap_or(0);
    if recomputed_size < largest_signed {
        findings.push(Finding::Truncated {
            stored_size: recomputed_size,
            checkpoint_size: largest_signed,
        });
    }
    let mut last_matching = 0;
    for ((size, expected), (_, computed)) in signed_heads.iter().zip(&computed_heads) {
        if computed == expected {
            last_matching = *size;
            continue;
        }
        findings.push(Finding::RootMismatch {
            size: *size,
            expected_root: to_hex(expected),
            computed_root: to_hex(computed),
            first_bad_from: last_matching,
            first_bad_before: *size,
        });
        break;
    }
    Ok(VerifyReport {
        checkpoint,
        stored_rows,
        stored_checkpoints_verified,
        findings,
    })
}

/// Records the head at every signed size equal to the current size.
fn record_heads(
    range: &CompactRange,
    signed_sizes: &[u64],
    next_head: &mut usize,
    computed_heads: &mut Vec<(u64, Hash)>,
) {
    while let Some(&size) = signed_sizes.get(*next_head) {
        if size != range.size {
            break;
        }
        computed_heads.push((size, range.root()));
        *next_head += 1;
    }
}

/// Compares stored tile `tile` (its root, and its parts or, in a log from
/// before parts, its whole row) with the one recomputed from `block`. A
/// missing tile is not a finding: tiles are rebuilt from entries at open.
/// Some parts missing is one: proofs needing them fail.
fn check_tile(
    store: &dyn AuditStore,
    stored_roots: &[(i64, Vec<u8>)],
    tile: u64,
    block: &[Hash],
    findings: &mut Vec<Finding>,
) -> Result<(), VerifyError> {
    let Some(recomputed) = tile_from_leaf_hashes(tile, block) else {
        return Ok(());
    };
    let stored_root = i64::try_from(tile).ok().and_then(|tile| {
        stored_roots
            .binary_search_by_key(&tile, |(index, _)| *index)
            .ok()
            .and_then(|at| stored_roots.get(at))
            .map(|(_, root)| root)
    });
    let root_differs =
        stored_root.is_some_and(|root| root.as_slice() != recomputed.root.as_slice());
    let all_parts: Vec<u64> = (0..TILE_PARTS).collect();
    let stored_parts = store.tile_parts(tile, &all_parts)?;
    let parts_differ = !stored_parts.is_empty()
        && recomputed.part_rows().is_none_or(|expected| {
            stored_parts.len() != expected.len()
                || stored_parts.iter().zip(&expected).any(
                    |((part, stored), (expected_key, expected))| {
                        part_key(tile, *part) != Some(*expected_key) || stored != expected
                    },
                )
        });
    let stored_hashes = store.tile(tile)?;
    let hashes_differ = stored_hashes
        .as_ref()
        .is_some_and(|hashes| hashes != &recomputed.hashes);
    if root_differs || parts_differ || hashes_differ {
        findings.push(Finding::TileMismatch { tile });
    }
    Ok(())
}
