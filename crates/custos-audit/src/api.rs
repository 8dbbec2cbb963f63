//! The response shapes of the audit log's HTTP API, as plain serde structs,
//! and the functions that build them from an `AuditLog`. The HTTP crate
//! owns routing and status codes; nothing here knows axum.
//!
//! Hashes are standard base64 (as in checkpoints and RFC 9162's JSON).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use crate::entry::AuditEntry;
use crate::hash::{Hash, leaf_hash};
use crate::log::{AuditLog, LogError};
use crate::note::Checkpoint;
use crate::store::StoredCosignature;

/// Most entries one `entries` response carries; clients page with `end`.
pub const MAX_ENTRIES_PER_RESPONSE: u64 = 1_000;

/// Inclusion proof of entry `index` in the tree of `tree_size` entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProofResponse {
    pub index: u64,
    pub tree_size: u64,
    /// Leaf hash of the entry, the proof's starting point.
    pub leaf_hash: String,
    /// Audit path, leaf side first (RFC 9162 §2.1.3).
    pub proof: Vec<String>,
}

/// Consistency proof between the trees of `old_size` and `new_size` entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProofResponse {
    pub old_size: u64,
    pub new_size: u64,
    /// RFC 9162 §2.1.4; empty when `old_size` is 0 or equal to `new_size`.
    pub proof: Vec<String>,
}

/// One entry with its index and leaf hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexedEntry {
    pub index: u64,
    pub leaf_hash: String,
    pub entry: AuditEntry,
}

/// Entries `[start, end)`; `end` may be below what was asked (at most
/// `MAX_ENTRIES_PER_RESPONSE`, and not past the log's size): ask again from
/// `end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntriesResponse {
    pub start: u64,
    pub end: u64,
    /// The log's size when read.
    pub tree_size: u64,
    pub entries: Vec<IndexedEntry>,
}

/// A witness cosignature of a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosignatureView {
    pub witness: String,
    pub timestamp: u64,
    /// The checkpoint note carrying the log's and the witness's signatures.
    pub note: String,
}

/// The latest signed checkpoint, parsed, with the cosignatures collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointResponse {
    /// The signed note, verbatim: what an auditor saves.
    pub note: String,
    pub origin: String,
    pub size: u64,
    pub root: String,
    pub cosignatures: Vec<CosignatureView>,
}

/// What a witness needs to cosign the latest checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessRequestResponse {
    pub note: String,
    pub size: u64,
    pub old_size: u64,
    pub consistency_proof: Vec<String>,
}

pub fn encode_hash(hash: &Hash) -> String {
    BASE64.encode(hash)
}

/// A hash as encoded in these responses; `None` if it is not base64 of 32 bytes.
pub fn decode_hash(text: &str) -> Option<Hash> {
    let bytes = BASE64.decode(text).ok()?;
    Hash::try_from(bytes.as_slice()).ok()
}

fn encode_all(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(encode_hash).collect()
}

pub fn inclusion_proof(
    log: &AuditLog,
    index: u64,
    tree_size: u64,
) -> Result<InclusionProofResponse, LogError> {
    let proof = log.inclusion_proof(index, tree_size)?;
    Ok(InclusionProofResponse {
        index,
        tree_size,
        leaf_hash: encode_hash(&log.leaf_hash(index)?),
        proof: encode_all(&proof),
    })
}

pub fn consistency_proof(
    log: &AuditLog,
    old_size: u64,
    new_size: u64,
) -> Result<ConsistencyProofResponse, LogError> {
    Ok(ConsistencyProofResponse {
        old_size,
        new_size,
        proof: encode_all(&log.consistency_proof(old_size, new_size)?),
    })
}

/// Entries `[start, end)`, at most `MAX_ENTRIES_PER_RESPONSE` of them and
/// none past the log's size; `start` beyond the size is `RangeOutOfBounds`.
pub fn entries(log: &AuditLog, start: u64, end: u64) -> Result<EntriesResponse, LogError> {
    let end = end
        .min(start.saturating_add(MAX_ENTRIES_PER_RESPONSE))
        .min(log.size())
        .max(start);
    let entries = log
        .entries(start..end)?
        .into_iter()
        .zip(start..)
        .map(|(entry, index)| {
            Ok(IndexedEntry {
                index,
                leaf_hash: encode_hash(&leaf_hash(&entry.to_leaf(index)?)),
                entry,
            })
        })
        .collect::<Result<Vec<_>, LogError>>()?;
    Ok(EntriesResponse {
        start,
        end,
        tree_size: log.size(),
        entries,
    })
}

fn cosignature_view(cosignature: StoredCosignature) -> CosignatureView {
    CosignatureView {
        witness: cosignature.witness,
        timestamp: cosignature.timestamp,
        note: cosignature.note,
    }
}

/// The latest checkpoint, `None` before the first.
pub fn latest_checkpoint(log: &AuditLog) -> Result<Option<CheckpointResponse>, LogError> {
    let Some(note) = log.latest_checkpoint()? else {
        return Ok(None);
    };
    let checkpoint = Checkpoint::open(&note, &log.verifier())?;
    let cosignatures = log
        .cosignatures(Some(checkpoint.size))?
        .into_iter()
        .map(cosignature_view)
        .collect();
    Ok(Some(CheckpointResponse {
        note,
        origin: checkpoint.origin,
        size: checkpoint.size,
        root: encode_hash(&checkpoint.root),
        cosignatures,
    }))
}

pub fn witness_request(
    log: &AuditLog,
    witness_size: u64,
) -> Result<WitnessRequestResponse, LogError> {
    let request = log.witness_request(witness_size)?;
    Ok(WitnessRequestResponse {
        note: request.note,
        size: request.size,
        old_size: request.old_size,
        consistency_proof: encode_all(&request.consistency_proof),
    })
}
