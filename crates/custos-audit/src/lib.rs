//! custos-audit: a tamper-evident, append-only audit log in the style of
//! Certificate Transparency (RFC 9162 Merkle tree, C2SP signed checkpoints),
//! stored in its own SQLite file, with an offline verifier.

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
pub mod log;
pub mod verify;

pub use log::{AuditLog, LogError};
pub use verify::{Finding, VerifyError, VerifyReport, verify};
