//! The SQLite log through its path API (`AuditLog::open`, `verify(path)`):
//! what only the embedded backend has. Tamper tests on both backends are in
//! `tamper.rs`, the conformance suite in `conformance.rs`.

use std::path::Path;

use custos_audit::{
    AuditEntry, AuditLog, Checkpoint, Finding, LogError, NoteVerifier, ProofError, leaf_hash,
    verify, verify_consistency, verify_inclusion,
};
use serde_json::json;

use crate::TestResult;
use crate::notes::signer;

pub const ORIGIN: &str = "custos.example/audit";

pub fn entry(number: u64) -> AuditEntry {
    AuditEntry {
        kind: "reveal".into(),
        ts: format!("2026-01-02T03:04:{:02}Z", number % 60),
        actor: format!("agent-{}", number % 7),
        subject_commitment: format!("{number:016x}"),
        details: json!({"field": "phone", "n": number}),
    }
}

fn open(path: &Path) -> Result<AuditLog, LogError> {
    AuditLog::open(path, ORIGIN, signer(ORIGIN, 1)?)
}

pub fn log_key() -> Result<NoteVerifier, LogError> {
    Ok(signer(ORIGIN, 1)?.verifier())
}

/// A log of `size` entries appended in batches of `batch`, with a signed
/// checkpoint after every batch; returns the last checkpoint.
fn build(path: &Path, size: u64, batch: u64) -> Result<String, LogError> {
    let mut log = open(path)?;
    let mut note = log.checkpoint()?;
    let mut next = 0;
    while next < size {
        let end = (next + batch).min(size);
        let entries: Vec<AuditEntry> = (next..end).map(entry).collect();
        assert_eq!(log.append(&entries)?, next);
        note = log.checkpoint()?;
        next = end;
    }
    Ok(note)
}

#[test]
fn append_read_prove_and_reopen() -> TestResult {
    let directory = tempfile::tempdir()?;
    let path = directory.path().join("audit.sqlite");
    let mut log = open(&path)?;
    assert_eq!(log.append(&(0..5).map(entry).collect::<Vec<_>>())?, 0);
    let old_note = log.checkpoint()?;
    assert_eq!(log.append(&(5..13).map(entry).collect::<Vec<_>>())?, 5);
    let note = log.checkpoint()?;
    assert_eq!(log.latest_checkpoint()?, Some(note.clone()));
    assert_eq!(log.entries(3..6)?, vec![entry(3), entry(4), entry(5)]);
    assert!(matches!(
        log.entries(10..14),
        Err(LogError::RangeOutOfBounds { .. })
    ));

    let key = log_key()?;
    let old = Checkpoint::open(&old_note, &key)?;
    let new = Checkpoint::open(&note, &key)?;
    assert_eq!((old.size, new.size), (5, 13));
    for index in 0..13 {
        let proof = log.inclusion_proof(index, 13)?;
        let leaf = leaf_hash(&entry(index).to_leaf(index)?);
        assert_eq!(log.leaf_hash(index)?, leaf);
        assert_eq!(
            verify_inclusion(index, 13, &leaf, &proof, &new.root),
            Ok(())
        );
    }
    let proof = log.consistency_proof(5, 13)?;
    assert_eq!(
        verify_consistency(5, 13, &old.root, &new.root, &proof),
        Ok(())
    );
    assert!(matches!(
        log.inclusion_proof(13, 13),
        Err(LogError::Proof(ProofError::IndexOutOfRange {
            index: 13,
            size: 13
        }))
    ));
    drop(log);

    let reopened = open(&path)?;
    assert_eq!(reopened.size(), 13);
    assert_eq!(reopened.root(13)?, new.root);
    assert_eq!(reopened.root(5)?, old.root);
    Ok(())
}

#[test]
fn an_invalid_entry_appends_nothing() -> TestResult {
    let directory = tempfile::tempdir()?;
    let mut log = open(&directory.path().join("audit.sqlite"))?;
    let mut bad = entry(1);
    bad.details = json!({"ratio": 0.25});
    assert!(matches!(
        log.append(&[entry(0), bad]),
        Err(LogError::Entry(_))
    ));
    assert_eq!(log.size(), 0);
    assert_eq!(log.append(&[entry(0)])?, 0);
    Ok(())
}

#[test]
fn intact_log_verifies() -> TestResult {
    let directory = tempfile::tempdir()?;
    let path = directory.path().join("audit.sqlite");
    let note = build(&path, 40, 7)?;
    let report = verify(&path, &note, &log_key()?)?;
    assert!(report.is_intact(), "{:?}", report.findings);
    assert_eq!(report.stored_rows, 40);
    assert_eq!(report.checkpoint.size, 40);
    assert_eq!(report.stored_checkpoints_verified, 7);
    assert_eq!(report.first_bad_index(), None);
    // A log that grew since the trusted checkpoint is still intact.
    let mut log = open(&path)?;
    log.append(&[entry(40)])?;
    assert!(verify(&path, &note, &log_key()?)?.is_intact());
    Ok(())
}

#[test]
fn a_checkpoint_by_another_key_is_refused() -> TestResult {
    let directory = tempfile::tempdir()?;
    let path = directory.path().join("audit.sqlite");
    let note = build(&path, 3, 3)?;
    let stranger = signer(ORIGIN, 2)?.verifier();
    assert!(matches!(
        verify(&path, &note, &stranger),
        Err(custos_audit::VerifyError::TrustedCheckpoint(_))
    ));
    Ok(())
}

#[test]
fn large_batches_span_several_insert_statements() -> TestResult {
    let directory = tempfile::tempdir()?;
    let path = directory.path().join("audit.sqlite");
    let mut log = open(&path)?;
    // 64 rows per INSERT: cross full and partial statements, twice.
    let first_batch: Vec<AuditEntry> = (0..200).map(entry).collect();
    let second_batch: Vec<AuditEntry> = (200..265).map(entry).collect();
    assert_eq!(log.append(&first_batch)?, 0);
    assert_eq!(log.append(&second_batch)?, 200);
    assert_eq!(log.entries(0..265)?, [first_batch, second_batch].concat());
    let note = log.checkpoint()?;
    drop(log);
    let report = verify(&path, &note, &log_key()?)?;
    assert!(report.is_intact(), "{:?}", report.findings);
    assert_eq!(report.stored_rows, 265);
    Ok(())
}

#[test]
fn findings_read_as_sentences() {
    assert_eq!(
        Finding::Gap {
            index: 23,
            next_stored: 25
        }
        .to_string(),
        "entries `23` to `24` are missing (deleted)"
    );
    assert_eq!(
        Finding::RootMismatch {
            size: 21,
            expected_root: String::new(),
            computed_root: String::new(),
            first_bad_from: 14,
            first_bad_before: 21
        }
        .to_string(),
        "entries do not hash to the signed root at size `21` (fork or rewrite); the first bad entry is in `14..21`"
    );
}

#[test]
fn a_missing_log_file_is_an_error_not_an_empty_log() -> TestResult {
    let directory = tempfile::tempdir()?;
    let path = directory.path().join("audit.sqlite");
    let note = build(&path, 2, 2)?;
    let missing = directory.path().join("absent.sqlite");
    assert!(matches!(
        verify(&missing, &note, &log_key()?),
        Err(custos_audit::VerifyError::Store(
            custos_audit::AuditStoreError::Sqlite(_)
        ))
    ));
    assert!(!missing.exists());
    Ok(())
}

/// Every head and proof of `log` at a few sizes around tile boundaries.
fn heads_and_proofs(log: &AuditLog) -> Result<Vec<Vec<custos_audit::Hash>>, LogError> {
    let size = log.size();
    let mut out = Vec::new();
    for tree_size in [1, 255, 256, 257, 700, 1024, size - 1, size] {
        out.push(vec![log.root(tree_size)?]);
        for index in (0..tree_size).step_by(61).chain([tree_size - 1]) {
            out.push(log.inclusion_proof(index, tree_size)?);
        }
        for old_size in [1, 255, 256, 300, 1024, tree_size] {
            if old_size <= tree_size {
                out.push(log.consistency_proof(old_size, tree_size)?);
            }
        }
    }
    Ok(out)
}

#[test]
fn the_tile_cache_serves_what_the_store_holds_and_hides_no_tampering() -> TestResult {
    let directory = tempfile::tempdir()?;
    let path = directory.path().join("audit.sqlite");
    let size = 5 * 256 + 17;
    let note = build(&path, size, 100)?;
    let mut cached = open(&path)?;
    assert_eq!(
        cached.tile_cache_stats().capacity,
        custos_audit::DEFAULT_TILE_CACHE_TILES
    );
    let mut fresh = open(&path)?;
    fresh.set_tile_cache_capacity(0);
    let mut small = open(&path)?;
    small.set_tile_cache_capacity(2);

    // Twice: the second pass is served from the cache.
    let expected = heads_and_proofs(&fresh)?;
    for _ in 0..2 {
        assert_eq!(heads_and_proofs(&cached)?, expected);
        assert_eq!(heads_and_proofs(&small)?, expected);
    }
    let stats = cached.tile_cache_stats();
    assert_eq!(stats.len, 5, "{stats:?}");
    assert!(stats.hits > 0);
    // Parts are read as needed (17 per tile at most), each once.
    assert!(stats.misses >= 5 && stats.misses <= 5 * 17, "{stats:?}");
    assert_eq!(heads_and_proofs(&cached)?, expected);
    assert_eq!(cached.tile_cache_stats().misses, stats.misses);
    assert_eq!(small.tile_cache_stats().len, 2);
    let off = fresh.tile_cache_stats();
    assert_eq!((off.len, off.hits), (0, 0));

    // Appends cache the tiles they complete; a reopen reads the same.
    let entries: Vec<AuditEntry> = (size..size + 300).map(entry).collect();
    cached.append(&entries)?;
    assert_eq!(cached.tile_cache_stats().len, 6);
    let misses = cached.tile_cache_stats().misses;
    let grown = heads_and_proofs(&cached)?;
    assert_eq!(cached.tile_cache_stats().misses, misses);
    assert_eq!(heads_and_proofs(&open(&path)?)?, grown);

    // Tamper with tile 2 in the store, behind the cached log's back.
    let connection = rusqlite::Connection::open(&path)?;
    let changed = connection.execute(
        "UPDATE tile_parts SET hashes = zeroblob(length(hashes)) WHERE idx / 17 = 2",
        [],
    )?;
    assert_eq!(changed, 17);
    drop(connection);

    // The verifier reads the store, not the cache: the tile is named.
    let report = verify(&path, &note, &log_key()?)?;
    assert!(
        report.findings.contains(&Finding::TileMismatch { tile: 2 }),
        "{:?}",
        report.findings
    );
    // A fresh open serves the tampered tile: its proof fails at the client.
    let checkpoint = Checkpoint::open(&note, &log_key()?)?;
    // Proven by `heads_and_proofs` (step 61), so its parts are cached.
    let index = 2 * 256 + 37;
    let leaf = leaf_hash(&entry(index).to_leaf(index)?);
    let tampered = open(&path)?.inclusion_proof(index, size)?;
    assert!(verify_inclusion(index, size, &leaf, &tampered, &checkpoint.root).is_err());
    // The cached log still serves the tile it read (or wrote) before.
    let proof = cached.inclusion_proof(index, size)?;
    assert_eq!(
        verify_inclusion(index, size, &leaf, &proof, &checkpoint.root),
        Ok(())
    );
    cached.set_tile_cache_capacity(0);
    assert_eq!(cached.tile_cache_stats().len, 0);
    assert_eq!(cached.inclusion_proof(index, size)?, tampered);
    Ok(())
}
