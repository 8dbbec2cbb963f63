//! custos-audit: a tamper-evident, append-only audit log in the style of
//! Certificate Transparency (RFC 9162 Merkle tree, C2SP signed checkpoints),
//! kept in SQLite or PostgreSQL through one `AuditStore` trait, with an
//! offline verifier, a checkpoint schedule, a witness interface and the
//! response shapes of its HTTP API (`api`).

pub mod canonical;
pub mod entry;
pub mod hash;
pub mod note;
pub mod proof;
pub mod tree;

pub use canonical::{CanonicalJsonError, to_canonical_json};
pub use entry::{AuditEntry, DecodedLeaf, EntryError, LEAF_DOMAIN, decode_leaf};
pub use hash::{Hash, empty_root, leaf_hash, node_hash};
pub use note::{
    Checkpoint, NoteError, NoteSignature, NoteSigner, NoteVerifier, cosign_checkpoint, open_note,
    parse_note, verify_cosignature,
};
pub use proof::{ProofError, root_from_inclusion, verify_consistency, verify_inclusion};
pub use tree::{MemoryTree, NodeSource, consistency_proof, inclusion_proof, root};
pub mod api;
pub mod log;
pub mod schedule;
pub mod store;
pub mod tile_cache;
pub mod tiles;
pub mod verify;

pub use log::{AuditLog, LogError, WitnessRequest};
pub use schedule::CheckpointPolicy;
pub use store::{
    AuditStore, AuditStoreError, DEFAULT_POSTGRES_SCHEMA, PostgresAuditStore, SqliteAuditStore,
    StoredCosignature,
};
pub use tile_cache::{DEFAULT_TILE_CACHE_TILES, TileCacheStats};
pub use verify::{Finding, VerifyError, VerifyReport, verify, verify_store};
