//! `AuditLog`: the Merkle log over its own SQLite file — append, read,
//! prove, checkpoint.
//!
//! The file holds the leaves (`entries`: index, leaf bytes, leaf hash) and
//! every checkpoint signed so far (`checkpoints`). The tree's node hashes
//! are rebuilt in memory from the leaf hashes when the log is opened.

use std::ops::Range;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension as _, params};

use crate::entry::{AuditEntry, EntryError, decode_leaf};
use crate::hash::{Hash, leaf_hash};
use crate::note::{Checkpoint, NoteError, NoteSigner};
use crate::proof::ProofError;
use crate::tree::{self, MemoryTree};

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
    #[error(transparent)]
    Entry(#[from] EntryError),
    #[error(transparent)]
    Proof(#[from] ProofError),
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// The append-only audit log. One writer per file.
#[derive(Debug)]
pub struct AuditLog {
    connection: Connection,
    tree: MemoryTree,
    origin: String,
    signer: NoteSigner,
}

fn to_i64(value: u64) -> i64 {
    // INVARIANT: indexes and sizes stay far below 2^63 (SQLite's range).
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl AuditLog {
    /// Opens (or creates) the log at `path`. `origin` names the log in its
    /// checkpoints; `signer` signs them.
    pub fn open(path: &Path, origin: &str, signer: NoteSigner) -> Result<Self, LogError> {
        if origin.is_empty() || origin.contains('\n') {
            return Err(LogError::InvalidOrigin(origin.to_owned()));
        }
        let connection = Connection::open(path)?;
        // WAL + FULL: a committed batch survives power loss.
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.execute_batch(SCHEMA)?;
        let mut tree = MemoryTree::new();
        {
            let mut statement =
                connection.prepare("SELECT idx, leaf_hash FROM entries ORDER BY idx")?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                let index = row.get::<_, i64>(0)?;
                let expected = tree.len();
                if u64::try_from(index).ok() != Some(expected) {
                    return Err(LogError::NotContiguous {
                        expected,
                        found: u64::try_from(index).unwrap_or(u64::MAX),
                    });
                }
                let hash: Vec<u8> = row.get(1)?;
                let hash = Hash::try_from(hash.as_slice())
                    .map_err(|_| LogError::BadStoredHash(expected))?;
                tree.push_leaf_hash(hash);
            }
        }
        Ok(Self {
            connection,
            tree,
            origin: origin.to_owned(),
            signer,
        })
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.tree.len()
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Appends `entries` in one durable transaction; returns the index of
    /// the first. Nothing is appended if any entry is invalid.
    pub fn append(&mut self, entries: &[AuditEntry]) -> Result<u64, LogError> {
        let first = self.size();
        let mut leaves = Vec::with_capacity(entries.len());
        let mut hashes = Vec::with_capacity(entries.len());
        for (offset, entry) in (0u64..).zip(entries) {
            let leaf = entry.to_leaf(first + offset)?;
            hashes.push(leaf_hash(&leaf));
            leaves.push(leaf);
        }
        let transaction = self.connection.transaction()?;
        {
            // Multi-row inserts: per-statement overhead, not fsync, dominates
            // a durable batch once encoding is cheap.
            let mut full_chunk = transaction.prepare_cached(&insert_statement(INSERT_CHUNK))?;
            let mut index = first;
            let mut leaves = leaves.into_iter();
            for hash_chunk in hashes.chunks(INSERT_CHUNK) {
                let mut values: Vec<rusqlite::types::Value> =
                    Vec::with_capacity(hash_chunk.len() * 3);
                // Zip the chunk first: `zip` pulls from its left side first, and a
                // leaf pulled past the chunk's end would be lost.
                for (hash, leaf) in hash_chunk.iter().zip(leaves.by_ref()) {
                    values.push(rusqlite::types::Value::Integer(to_i64(index)));
                    values.push(rusqlite::types::Value::Blob(leaf));
                    values.push(rusqlite::types::Value::Blob(hash.to_vec()));
                    index += 1;
                }
                if hash_chunk.len() == INSERT_CHUNK {
                    full_chunk.execute(rusqlite::params_from_iter(values))?;
                } else {
                    transaction
                        .prepare_cached(&insert_statement(hash_chunk.len()))?
                        .execute(rusqlite::params_from_iter(values))?;
                }
            }
        }
        transaction.commit()?;
        for hash in hashes {
            self.tree.push_leaf_hash(hash);
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
        let mut statement = self
            .connection
            .prepare_cached("SELECT leaf FROM entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx")?;
        let mut rows = statement.query(params![to_i64(range.start), to_i64(range.end)])?;
        let mut entries = Vec::new();
        while let Some(row) = rows.next()? {
            let leaf: Vec<u8> = row.get(0)?;
            entries.push(decode_leaf(&leaf)?.entry);
        }
        Ok(entries)
    }

    /// Leaf hash of entry `index`, the value an inclusion proof starts from.
    pub fn leaf_hash(&self, index: u64) -> Result<Hash, LogError> {
        let size = self.size();
        self.tree
            .leaf_hash(index)
            .ok_or(LogError::Proof(ProofError::IndexOutOfRange { index, size }))
    }

    /// Tree head of the first `size` entries.
    pub fn root(&self, size: u64) -> Result<Hash, LogError> {
        Ok(self.tree.root(size)?)
    }

    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LogError> {
        Ok(tree::inclusion_proof(&self.tree, index, size)?)
    }

    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, LogError> {
        Ok(tree::consistency_proof(&self.tree, old_size, new_size)?)
    }

    /// Signs a checkpoint of the current tree, stores it and returns the note.
    pub fn checkpoint(&mut self) -> Result<String, LogError> {
        let size = self.size();
        let checkpoint = Checkpoint {
            origin: self.origin.clone(),
            size,
            root: self.root(size)?,
        };
        let note = checkpoint.sign(&self.signer)?;
        // Ed25519 is deterministic: signing the same size again gives the same note.
        self.connection.execute(
            "INSERT OR IGNORE INTO checkpoints (size, note) VALUES (?1, ?2)",
            params![to_i64(size), note],
        )?;
        Ok(note)
    }

    /// The most recent stored checkpoint note, if any.
    pub fn latest_checkpoint(&self) -> Result<Option<String>, LogError> {
        Ok(self
            .connection
            .query_row(
                "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1",
                [],
                |row| row.get(0),
            )
            .optional()?)
    }
}
