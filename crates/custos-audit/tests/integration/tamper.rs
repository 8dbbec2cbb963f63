//! Tamper tests on both backends: rows edited, deleted, swapped, renumbered
//! or truncated directly in SQL (SQLite and PostgreSQL), a forged fork, a
//! forged checkpoint and a tampered tile; `verify_store` names each, with
//! the first bad index.

use custos_audit::tiles::{TILE_PARTS, TILE_WIDTH, tile_from_leaf_hashes};
use custos_audit::{Checkpoint, Finding, VerifyReport, leaf_hash, verify_inclusion, verify_store};

use crate::backends::Backend;
use crate::conformance::{append_entries, open_log, stored_parts};
use crate::log::{ORIGIN, entry, log_key};
use crate::notes::signer;

on_both_backends!(
    edited_leaf_is_named,
    edited_leaf_with_recomputed_hash_is_located_between_checkpoints,
    edited_leaf_is_named_exactly_with_a_checkpoint_per_entry,
    deleted_row_is_named,
    deleted_row_with_renumbering_is_named,
    swapped_rows_are_named,
    truncation_is_named,
    truncation_with_checkpoints_removed_is_still_caught_by_the_trusted_one,
    fork_is_detected,
    forged_stored_checkpoint_is_named,
    non_canonical_leaf_with_matching_hash_is_named,
    tampered_tile_is_named,
    tampered_tile_part_is_named,
    deleted_tile_part_is_named,
    log_from_before_tile_parts_proves_and_is_verified,
    a_deleted_row_in_a_large_log_is_not_repeated_per_tile,
);

/// A log of `size` entries appended in batches of `batch`, with a signed
/// checkpoint after every batch; returns the last checkpoint.
pub fn build(backend: &dyn Backend, size: u64, batch: u64) -> String {
    let mut log = open_log(backend);
    let mut note = log.checkpoint().unwrap();
    let mut next = 0;
    while next < size {
        let end = (next + batch).min(size);
        append_entries(&mut log, next..end);
        note = log.checkpoint().unwrap();
        next = end;
    }
    note
}

fn verify_now(backend: &dyn Backend, note: &str) -> VerifyReport {
    let store = backend.store();
    verify_store(store.as_ref(), note, &log_key().unwrap()).unwrap()
}

/// Builds a 40-entry log (checkpoints every 7), runs `sql` on it directly,
/// and returns what verify finds.
fn tampered(backend: &dyn Backend, sql: &str) -> VerifyReport {
    let note = build(backend, 40, 7);
    backend.execute(sql);
    verify_now(backend, &note)
}

fn replacement_leaf(index: u64) -> Vec<u8> {
    let mut forged = entry(index);
    forged.actor = "nobody".into();
    forged.to_leaf(index).unwrap()
}

/// `UPDATE` setting `leaf` (and `leaf_hash` when `rehash`) at `index`.
fn rewrite_leaf(backend: &dyn Backend, index: u64, leaf: &[u8], rehash: bool) -> String {
    let leaf_literal = backend.bytes_literal(leaf);
    if rehash {
        let hash_literal = backend.bytes_literal(&leaf_hash(leaf));
        format!(
            "UPDATE entries SET leaf = {leaf_literal}, leaf_hash = {hash_literal} WHERE idx = {index}"
        )
    } else {
        format!("UPDATE entries SET leaf = {leaf_literal} WHERE idx = {index}")
    }
}

fn edited_leaf_is_named(backend: &dyn Backend) {
    let sql = rewrite_leaf(backend, 17, &replacement_leaf(17), false);
    let report = tampered(backend, &sql);
    assert!(
        report
            .findings
            .contains(&Finding::LeafHashMismatch { index: 17 }),
        "{:?}",
        report.findings
    );
    assert_eq!(report.first_bad_index(), Some(17));
}

fn edited_leaf_with_recomputed_hash_is_located_between_checkpoints(backend: &dyn Backend) {
    let sql = rewrite_leaf(backend, 17, &replacement_leaf(17), true);
    let report = tampered(backend, &sql);
    // Checkpoints were signed at 0, 7, 14, 21, ...: index 17 lies in [14, 21).
    assert!(
        matches!(
            report.findings[..],
            [Finding::RootMismatch {
                size: 21,
                first_bad_from: 14,
                first_bad_before: 21,
                ..
            }]
        ),
        "{:?}",
        report.findings
    );
    assert_eq!(report.first_bad_index(), Some(14));
}

fn edited_leaf_is_named_exactly_with_a_checkpoint_per_entry(backend: &dyn Backend) {
    let note = build(backend, 12, 1);
    backend.execute(&rewrite_leaf(backend, 9, &replacement_leaf(9), true));
    let report = verify_now(backend, &note);
    assert!(
        matches!(
            report.findings[..],
            [Finding::RootMismatch {
                size: 10,
                first_bad_from: 9,
                first_bad_before: 10,
                ..
            }]
        ),
        "{:?}",
        report.findings
    );
}

fn deleted_row_is_named(backend: &dyn Backend) {
    let report = tampered(backend, "DELETE FROM entries WHERE idx = 23");
    assert!(
        report.findings.contains(&Finding::Gap {
            index: 23,
            next_stored: 24
        }),
        "{:?}",
        report.findings
    );
    assert_eq!(report.first_bad_index(), Some(23));
}

fn deleted_row_with_renumbering_is_named(backend: &dyn Backend) {
    // Close the gap in increasing order so the primary key never collides.
    let mut sql = String::from("DELETE FROM entries WHERE idx = 23;");
    for index in 24..40 {
        sql.push_str(&format!(
            "UPDATE entries SET idx = {} WHERE idx = {index};",
            index - 1
        ));
    }
    let report = tampered(backend, &sql);
    assert!(
        report.findings.contains(&Finding::Misplaced {
            index: 23,
            claims: 24
        }),
        "{:?}",
        report.findings
    );
    assert!(report.findings.contains(&Finding::Truncated {
        stored_size: 39,
        checkpoint_size: 40
    }));
    assert_eq!(report.first_bad_index(), Some(23));
}

fn swapped_rows_are_named(backend: &dyn Backend) {
    let report = tampered(
        backend,
        "UPDATE entries SET idx = -1 WHERE idx = 5;
         UPDATE entries SET idx = 5 WHERE idx = 30;
         UPDATE entries SET idx = 30 WHERE idx = -1;",
    );
    assert!(
        report.findings.contains(&Finding::Misplaced {
            index: 5,
            claims: 30
        }),
        "{:?}",
        report.findings
    );
    assert!(report.findings.contains(&Finding::Misplaced {
        index: 30,
        claims: 5
    }));
    assert_eq!(report.first_bad_index(), Some(5));
}

fn truncation_is_named(backend: &dyn Backend) {
    let report = tampered(backend, "DELETE FROM entries WHERE idx >= 33");
    assert!(
        report.findings.contains(&Finding::Truncated {
            stored_size: 33,
            checkpoint_size: 40
        }),
        "{:?}",
        report.findings
    );
    assert_eq!(report.first_bad_index(), Some(33));
}

fn truncation_with_checkpoints_removed_is_still_caught_by_the_trusted_one(backend: &dyn Backend) {
    let report = tampered(
        backend,
        "DELETE FROM entries WHERE idx >= 33; DELETE FROM checkpoints WHERE size > 33;",
    );
    assert!(
        report.findings.contains(&Finding::Truncated {
            stored_size: 33,
            checkpoint_size: 40
        }),
        "{:?}",
        report.findings
    );
    assert_eq!(report.first_bad_index(), Some(33));
}

fn fork_is_detected(backend: &dyn Backend) {
    // The insider rebuilds a different but self-consistent log in place of
    // the real one: every row checks out, only the signed roots do not.
    let note = build(backend, 40, 7);
    let mut sql = String::from("DELETE FROM checkpoints;");
    for index in 0..40 {
        sql.push_str(&rewrite_leaf(
            backend,
            index,
            &replacement_leaf(index),
            true,
        ));
        sql.push(';');
    }
    backend.execute(&sql);
    let report = verify_now(backend, &note);
    assert!(
        matches!(
            report.findings[..],
            [Finding::RootMismatch {
                size: 40,
                first_bad_from: 0,
                first_bad_before: 40,
                ..
            }]
        ),
        "{:?}",
        report.findings
    );
    assert_eq!(report.first_bad_index(), Some(0));
}

fn forged_stored_checkpoint_is_named(backend: &dyn Backend) {
    let forged = Checkpoint {
        origin: ORIGIN.into(),
        size: 50,
        root: leaf_hash(b"x"),
    }
    .sign(&signer(ORIGIN, 2).unwrap())
    .unwrap();
    let sql = format!(
        "INSERT INTO checkpoints (size, note) VALUES (50, '{}')",
        forged.replace('\'', "''")
    );
    let report = tampered(backend, &sql);
    assert_eq!(
        report.findings,
        vec![Finding::ForgedCheckpoint { size: 50 }]
    );
}

fn non_canonical_leaf_with_matching_hash_is_named(backend: &dyn Backend) {
    let leaf = b"custos-audit/v1\n{\"kind\": \"reveal\"}";
    let sql = rewrite_leaf(backend, 3, leaf, true);
    let report = tampered(backend, &sql);
    assert!(
        report
            .findings
            .iter()
            .any(|finding| matches!(finding, Finding::Malformed { index: 3, .. })),
        "{:?}",
        report.findings
    );
    assert_eq!(report.first_bad_index(), Some(3));
}

fn tampered_tile_is_named(backend: &dyn Backend) {
    // Entries intact, but a tile (what proofs are served from) rewritten.
    let note = build(backend, 600, 300);
    let zeros = backend.bytes_literal(&[0; 32]);
    backend.execute(&format!(
        "UPDATE tile_roots SET root = {zeros} WHERE idx = 1"
    ));
    let report = verify_now(backend, &note);
    assert_eq!(report.findings, vec![Finding::TileMismatch { tile: 1 }]);
    assert_eq!(report.first_bad_index(), None);
}

fn a_deleted_row_in_a_large_log_is_not_repeated_per_tile(backend: &dyn Backend) {
    let note = build(backend, 900, 450);
    backend.execute("DELETE FROM entries WHERE idx = 100");
    let report = verify_now(backend, &note);
    assert!(
        !report
            .findings
            .iter()
            .any(|finding| matches!(finding, Finding::TileMismatch { .. })),
        "{:?}",
        report.findings
    );
    assert_eq!(report.first_bad_index(), Some(100));
}

fn tampered_tile_part_is_named(backend: &dyn Backend) {
    let note = build(backend, 600, 300);
    let zeros = backend.bytes_literal(&[0; 960]);
    // The top part (levels 4-7) of tile 1: in every proof of its entries.
    let key = TILE_PARTS + 16;
    backend.execute(&format!(
        "UPDATE tile_parts SET hashes = {zeros} WHERE idx = {key}"
    ));
    let report = verify_now(backend, &note);
    assert_eq!(report.findings, vec![Finding::TileMismatch { tile: 1 }]);
    // A fresh log serves the tampered part: the proof fails at the client.
    let index = 256 + 40;
    let checkpoint = Checkpoint::open(&note, &log_key().unwrap()).unwrap();
    let leaf = leaf_hash(&entry(index).to_leaf(index).unwrap());
    let proof = open_log(backend).inclusion_proof(index, 600).unwrap();
    assert!(verify_inclusion(index, 600, &leaf, &proof, &checkpoint.root).is_err());
}

fn deleted_tile_part_is_named(backend: &dyn Backend) {
    let note = build(backend, 600, 300);
    backend.execute(&format!("DELETE FROM tile_parts WHERE idx = {}", 3));
    let report = verify_now(backend, &note);
    assert_eq!(report.findings, vec![Finding::TileMismatch { tile: 0 }]);
    // Proofs needing the part fail; the others are still served.
    let log = open_log(backend);
    assert!(log.inclusion_proof(3 * 16 + 1, 600).is_err());
    assert!(log.inclusion_proof(0, 600).is_ok());
}

/// Rewrites the log's tiles as a log from before tile parts stored them:
/// one whole row per tile in `tiles`, no `tile_parts`.
fn to_whole_tiles(backend: &dyn Backend, size: u64) {
    let mut sql = String::from("DELETE FROM tile_parts;");
    for tile in 0..size / TILE_WIDTH {
        let hashes: Vec<_> = (tile * TILE_WIDTH..(tile + 1) * TILE_WIDTH)
            .map(|index| leaf_hash(&entry(index).to_leaf(index).unwrap()))
            .collect();
        let row = tile_from_leaf_hashes(tile, &hashes).unwrap();
        let bytes = backend.bytes_literal(&row.hashes);
        sql.push_str(&format!(
            "INSERT INTO tiles (idx, hashes) VALUES ({tile}, {bytes});"
        ));
    }
    backend.execute(&sql);
}

fn log_from_before_tile_parts_proves_and_is_verified(backend: &dyn Backend) {
    let note = build(backend, 700, 350);
    let before = open_log(backend);
    let proofs: Vec<_> = (0..700)
        .step_by(23)
        .map(|index| before.inclusion_proof(index, 700).unwrap())
        .collect();
    let consistency = before.consistency_proof(300, 700).unwrap();
    drop(before);
    to_whole_tiles(backend, 700);
    assert!(stored_parts(backend.store().as_ref(), 1).is_empty());
    // The compatible read path: whole tiles, the same proofs.
    let log = open_log(backend);
    for (index, proof) in (0..700).step_by(23).zip(&proofs) {
        assert_eq!(&log.inclusion_proof(index, 700).unwrap(), proof, "{index}");
    }
    assert_eq!(log.consistency_proof(300, 700).unwrap(), consistency);
    assert!(verify_now(backend, &note).is_intact());
    // A tampered whole tile is still named.
    let zeros = backend.bytes_literal(&[0; 32]);
    let tampered = match backend.name() {
        "sqlite" => format!(
            "UPDATE tiles SET hashes = CAST({zeros} || substr(hashes, 33) AS BLOB) WHERE idx = 1"
        ),
        _ => {
            format!("UPDATE tiles SET hashes = {zeros} || substring(hashes from 33) WHERE idx = 1")
        }
    };
    backend.execute(&tampered);
    let report = verify_now(backend, &note);
    assert_eq!(report.findings, vec![Finding::TileMismatch { tile: 1 }]);
}
