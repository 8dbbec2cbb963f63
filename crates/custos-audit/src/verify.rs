//! The offline verifier: recomputes the tree from the stored leaves and
//! compares it with a trusted checkpoint and the log's own signed checkpoints.
//!
//! What the trusted checkpoint proves: the first `size` leaves hash to its
//! root. What locates damage: each row's leaf carries its own index and the
//! row stores its leaf hash, so a local edit, deletion or swap names its row;
//! a rewrite that keeps every row self-consistent shows only as a root
//! mismatch, located between the nearest signed checkpoints (the insider has
//! the database, not the signing key).

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::entry::decode_leaf;
use crate::hash::{Hash, leaf_hash, to_hex};
use crate::note::{Checkpoint, NoteError, NoteVerifier};
use crate::tree::MemoryTree;

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
            Finding::RootMismatch { .. } | Finding::ForgedCheckpoint { .. } => None,
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
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Recomputes the log at `log_path` from its stored leaves and checks it
/// against `trusted_checkpoint` (a signed note by `log_key`).
pub fn verify(
    log_path: &Path,
    trusted_checkpoint: &str,
    log_key: &NoteVerifier,
) -> Result<VerifyReport, VerifyError> {
    let checkpoint = Checkpoint::open(trusted_checkpoint, log_key)?;
    let connection = Connection::open_with_flags(log_path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut findings = Vec::new();
    let mut tree = MemoryTree::new();
    let mut stored_rows = 0u64;
    {
        let mut statement =
            connection.prepare("SELECT idx, leaf, leaf_hash FROM entries ORDER BY idx")?;
        let mut rows = statement.query([])?;
        let mut expected_index = 0u64;
        while let Some(row) = rows.next()? {
            stored_rows += 1;
            let stored_index = u64::try_from(row.get::<_, i64>(0)?).unwrap_or(u64::MAX);
            if stored_index != expected_index {
                findings.push(Finding::Gap {
                    index: expected_index,
                    next_stored: stored_index,
                });
            }
            expected_index = stored_index.saturating_add(1);
            // Rows are named by their stored index, the one an auditor would
            // query; the tree is rebuilt in storage order, the order any proof
            // served from this store would use.
            let leaf: Vec<u8> = row.get(1)?;
            let stored_hash: Vec<u8> = row.get(2)?;
            let computed = leaf_hash(&leaf);
            if stored_hash.as_slice() != computed.as_slice() {
                findings.push(Finding::LeafHashMismatch {
                    index: stored_index,
                });
            }
            match decode_leaf(&leaf) {
                Ok(decoded) if decoded.index != stored_index => {
                    findings.push(Finding::Misplaced {
                        index: stored_index,
                        claims: decoded.index,
                    });
                }
                Ok(_) => {}
                Err(error) => findings.push(Finding::Malformed {
                    index: stored_index,
                    reason: error.to_string(),
                }),
            }
            tree.push_leaf_hash(computed);
        }
    }

    // Every signed tree head available: the trusted one and those stored.
    let mut signed_heads: Vec<(u64, Hash)> = vec![(checkpoint.size, checkpoint.root)];
    let mut stored_checkpoints_verified = 0;
    {
        let mut statement =
            connection.prepare("SELECT size, note FROM checkpoints ORDER BY size")?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let size = u64::try_from(row.get::<_, i64>(0)?).unwrap_or(u64::MAX);
            let note: String = row.get(1)?;
            match Checkpoint::open(&note, log_key) {
                Ok(stored) if stored.size == size && stored.origin == checkpoint.origin => {
                    stored_checkpoints_verified += 1;
                    signed_heads.push((stored.size, stored.root));
                }
                _ => findings.push(Finding::ForgedCheckpoint { size }),
            }
        }
    }
    signed_heads.sort_unstable();
    signed_heads.dedup();

    let recomputed_size = tree.len();
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
    for (size, expected) in signed_heads
        .iter()
        .filter(|(size, _)| *size <= recomputed_size)
    {
        // INVARIANT: size <= tree.len(), so root() cannot fail.
        let Ok(computed) = tree.root(*size) else {
            continue;
        };
        if &computed == expected {
            last_matching = *size;
            continue;
        }
        findings.push(Finding::RootMismatch {
            size: *size,
            expected_root: to_hex(expected),
            computed_root: to_hex(&computed),
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
