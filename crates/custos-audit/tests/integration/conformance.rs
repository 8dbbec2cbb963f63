//! The conformance suite: every case runs against SQLite and PostgreSQL
//! (`sqlite::case`, `postgres::case`), first on the raw `AuditStore`, then
//! through `AuditLog` (tiles, cheap reopen, witness, schedule, API shapes).

use custos_audit::store::{AppendBatch, StoredRow};
use custos_audit::tiles::{TILE_PARTS, TILE_WIDTH, TOP_PART, TileRow, tile_from_leaf_hashes};
use custos_audit::{
    AuditEntry, AuditLog, AuditStore, Checkpoint, CheckpointPolicy, LogError, MemoryTree,
    StoredCosignature, api, cosign_checkpoint, leaf_hash, verify_consistency, verify_inclusion,
    verify_store,
};

use crate::backends::Backend;
use crate::log::{ORIGIN, entry, log_key};
use crate::notes::signer;

on_both_backends!(
    empty_store_has_nothing,
    append_round_trips_rows_and_tiles,
    append_is_all_or_nothing,
    rows_after_pages_in_index_order,
    checkpoints_keep_the_first_note_per_size,
    cosignatures_are_kept_per_size_and_witness,
    put_tiles_keeps_existing_tiles,
    data_survives_reopen,
    log_proves_across_tiles_and_reopens_cheaply,
    log_rebuilds_missing_tiles_at_open,
    log_refuses_tiles_beyond_its_entries,
    witness_cosigns_the_latest_checkpoint,
    checkpoints_follow_the_policy,
    api_responses_verify_against_the_checkpoint,
    intact_log_verifies,
);

fn leaf(index: u64) -> Vec<u8> {
    format!("leaf {index}").into_bytes()
}

fn append_raw(store: &dyn AuditStore, range: std::ops::Range<u64>, tiles: &[TileRow]) {
    let leaves: Vec<Vec<u8>> = range.clone().map(leaf).collect();
    let hashes: Vec<_> = leaves.iter().map(|leaf| leaf_hash(leaf)).collect();
    store
        .append(&AppendBatch {
            first_index: range.start,
            leaves: &leaves,
            leaf_hashes: &hashes,
            tiles,
        })
        .unwrap();
}

fn tile(index: u64) -> TileRow {
    let hashes: Vec<_> = (0..TILE_WIDTH)
        .map(|leaf| leaf_hash(&(index * TILE_WIDTH + leaf).to_be_bytes()))
        .collect();
    tile_from_leaf_hashes(index, &hashes).unwrap()
}

/// Every stored part of tile `index`, `(part, bytes)` in order.
pub fn stored_parts(store: &dyn AuditStore, index: u64) -> Vec<(u64, Vec<u8>)> {
    let all: Vec<u64> = (0..TILE_PARTS).collect();
    store.tile_parts(index, &all).unwrap()
}

/// The parts `row` is stored as, `(part, bytes)` in order.
fn expected_parts(row: &TileRow) -> Vec<(u64, Vec<u8>)> {
    (0..TILE_PARTS)
        .zip(row.part_rows().unwrap())
        .map(|(part, (_, bytes))| (part, bytes))
        .collect()
}

pub fn open_log(backend: &dyn Backend) -> AuditLog {
    AuditLog::with_store(backend.store(), ORIGIN, signer(ORIGIN, 1).unwrap()).unwrap()
}

pub fn append_entries(log: &mut AuditLog, range: std::ops::Range<u64>) {
    let entries: Vec<AuditEntry> = range.clone().map(entry).collect();
    assert_eq!(log.append(&entries).unwrap(), range.start);
}

// ------------------------------------------------------------ raw store

fn empty_store_has_nothing(backend: &dyn Backend) {
    let store = backend.store();
    assert_eq!(store.backend(), backend.name());
    assert_eq!(store.end_index().unwrap(), 0);
    assert!(store.rows_after(None, 10).unwrap().is_empty());
    assert!(store.leaves(0..10).unwrap().is_empty());
    assert!(store.tile_roots().unwrap().is_empty());
    assert_eq!(store.tile(0).unwrap(), None);
    assert!(stored_parts(store.as_ref(), 0).is_empty());
    assert_eq!(store.latest_checkpoint().unwrap(), None);
    assert!(store.checkpoints().unwrap().is_empty());
    assert!(store.cosignatures(None).unwrap().is_empty());
}

fn append_round_trips_rows_and_tiles(backend: &dyn Backend) {
    let store = backend.store();
    let tiles = [tile(0)];
    append_raw(store.as_ref(), 0..3, &tiles);
    append_raw(store.as_ref(), 3..5, &[]);
    assert_eq!(store.end_index().unwrap(), 5);
    assert_eq!(
        store.leaves(1..4).unwrap(),
        vec![(1, leaf(1)), (2, leaf(2)), (3, leaf(3))]
    );
    assert_eq!(
        store.leaf_hashes(4..9).unwrap(),
        vec![(4, leaf_hash(&leaf(4)).to_vec())]
    );
    assert_eq!(
        store.tile_roots().unwrap(),
        vec![(0, tiles[0].root.to_vec())]
    );
    let parts = stored_parts(store.as_ref(), 0);
    assert_eq!(parts, expected_parts(&tiles[0]));
    assert!(parts.iter().all(|(_, bytes)| bytes.len() == 960));
    // Asked parts come back in the order asked, absent ones left out.
    assert_eq!(
        store.tile_parts(0, &[TOP_PART, 3, TILE_PARTS]).unwrap(),
        vec![parts[16].clone(), parts[3].clone()]
    );
    // Whole-tile rows are only read (logs from before parts), not written.
    assert_eq!(store.tile(0).unwrap(), None);
    assert!(stored_parts(store.as_ref(), 1).is_empty());
}

fn append_is_all_or_nothing(backend: &dyn Backend) {
    let store = backend.store();
    append_raw(store.as_ref(), 0..3, &[]);
    let leaves: Vec<Vec<u8>> = (2..6).map(leaf).collect();
    let hashes: Vec<_> = leaves.iter().map(|leaf| leaf_hash(leaf)).collect();
    let refused = store.append(&AppendBatch {
        first_index: 2,
        leaves: &leaves,
        leaf_hashes: &hashes,
        tiles: &[tile(0)],
    });
    assert!(refused.is_err(), "an index already stored must be refused");
    assert_eq!(store.end_index().unwrap(), 3);
    assert!(store.tile_roots().unwrap().is_empty());
    // A duplicate tile alone also fails the whole batch.
    append_raw(store.as_ref(), 3..4, &[tile(0)]);
    let leaves = vec![leaf(4)];
    let hashes = vec![leaf_hash(&leaf(4))];
    let refused = store.append(&AppendBatch {
        first_index: 4,
        leaves: &leaves,
        leaf_hashes: &hashes,
        tiles: &[tile(0)],
    });
    assert!(refused.is_err());
    assert_eq!(store.end_index().unwrap(), 4);
}

fn rows_after_pages_in_index_order(backend: &dyn Backend) {
    let store = backend.store();
    append_raw(store.as_ref(), 0..7, &[]);
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.rows_after(after, 3).unwrap();
        let Some(last) = page.last() else { break };
        assert!(page.len() <= 3);
        after = Some(last.index);
        seen.extend(page);
    }
    let expected: Vec<StoredRow> = (0..7)
        .map(|index| StoredRow {
            index: i64::try_from(index).unwrap(),
            leaf: leaf(index),
            leaf_hash: leaf_hash(&leaf(index)).to_vec(),
        })
        .collect();
    assert_eq!(seen, expected);
    // Negative indexes (only an insider writes them) are scanned too.
    backend.execute("UPDATE entries SET idx = -5 WHERE idx = 3");
    let all = store.rows_after(None, 100).unwrap();
    assert_eq!(all.first().map(|row| row.index), Some(-5));
    assert_eq!(all.len(), 7);
}

fn checkpoints_keep_the_first_note_per_size(backend: &dyn Backend) {
    let store = backend.store();
    store.put_checkpoint(5, "five").unwrap();
    store.put_checkpoint(5, "five again").unwrap();
    store.put_checkpoint(9, "nine").unwrap();
    store.put_checkpoint(0, "zero").unwrap();
    assert_eq!(store.checkpoint(5).unwrap().as_deref(), Some("five"));
    assert_eq!(store.checkpoint(6).unwrap(), None);
    assert_eq!(
        store.latest_checkpoint().unwrap(),
        Some((9, "nine".to_owned()))
    );
    assert_eq!(
        store.checkpoints().unwrap(),
        vec![
            (0, "zero".to_owned()),
            (5, "five".to_owned()),
            (9, "nine".to_owned())
        ]
    );
}

fn cosignatures_are_kept_per_size_and_witness(backend: &dyn Backend) {
    let store = backend.store();
    let cosignature = |size, witness: &str, timestamp| StoredCosignature {
        size,
        witness: witness.to_owned(),
        timestamp,
        note: format!("{size} {witness} {timestamp}"),
    };
    store.put_cosignature(&cosignature(7, "w2", 1)).unwrap();
    store.put_cosignature(&cosignature(7, "w1", 1)).unwrap();
    store.put_cosignature(&cosignature(3, "w1", 1)).unwrap();
    store.put_cosignature(&cosignature(7, "w1", 2)).unwrap();
    assert_eq!(
        store.cosignatures(None).unwrap(),
        vec![
            cosignature(3, "w1", 1),
            cosignature(7, "w1", 2),
            cosignature(7, "w2", 1)
        ]
    );
    assert_eq!(
        store.cosignatures(Some(3)).unwrap(),
        vec![cosignature(3, "w1", 1)]
    );
    assert!(store.cosignatures(Some(4)).unwrap().is_empty());
}

fn put_tiles_keeps_existing_tiles(backend: &dyn Backend) {
    let store = backend.store();
    let first = tile(0);
    store.put_tiles(std::slice::from_ref(&first)).unwrap();
    let mut other = tile(1);
    other.index = 0;
    store.put_tiles(&[other, tile(1)]).unwrap();
    assert_eq!(stored_parts(store.as_ref(), 0), expected_parts(&first));
    assert_eq!(stored_parts(store.as_ref(), 1), expected_parts(&tile(1)));
    assert_eq!(store.tile_roots().unwrap().len(), 2);
}

fn data_survives_reopen(backend: &dyn Backend) {
    {
        let store = backend.store();
        append_raw(store.as_ref(), 0..4, &[tile(0)]);
        store.put_checkpoint(4, "four").unwrap();
    }
    let store = backend.store();
    assert_eq!(store.end_index().unwrap(), 4);
    assert_eq!(store.leaves(0..4).unwrap().len(), 4);
    assert_eq!(store.tile_roots().unwrap().len(), 1);
    assert_eq!(store.checkpoint(4).unwrap().as_deref(), Some("four"));
}

// ------------------------------------------------------------ through AuditLog

/// Sizes around tile boundaries, and indexes to prove at each.
const SIZES: [u64; 8] = [1, 255, 256, 257, 511, 512, 513, 600];

fn log_proves_across_tiles_and_reopens_cheaply(backend: &dyn Backend) {
    let mut log = open_log(backend);
    let mut model = MemoryTree::new();
    let mut next = 0;
    let mut notes = Vec::new();
    for size in SIZES {
        append_entries(&mut log, next..size);
        for index in next..size {
            model.push_leaf_hash(leaf_hash(&entry(index).to_leaf(index).unwrap()));
        }
        next = size;
        notes.push(log.checkpoint().unwrap());
    }
    drop(log);
    let log = open_log(backend);
    assert_eq!(log.size(), 600);
    assert_eq!(backend.store().tile_roots().unwrap().len(), 2);
    let key = log_key().unwrap();
    for (size, note) in SIZES.iter().zip(&notes) {
        let checkpoint = Checkpoint::open(note, &key).unwrap();
        assert_eq!(checkpoint.size, *size);
        assert_eq!(log.root(*size).unwrap(), model.root(*size).unwrap());
        assert_eq!(checkpoint.root, model.root(*size).unwrap());
        for index in (0..*size).step_by(61).chain([*size - 1]) {
            let proof = log.inclusion_proof(index, *size).unwrap();
            let leaf = log.leaf_hash(index).unwrap();
            assert_eq!(leaf, model.leaf_hash(index).unwrap());
            verify_inclusion(index, *size, &leaf, &proof, &checkpoint.root).unwrap();
        }
        for (old_size, old_note) in SIZES.iter().zip(&notes) {
            if old_size <= size {
                let old = Checkpoint::open(old_note, &key).unwrap();
                let proof = log.consistency_proof(*old_size, *size).unwrap();
                verify_consistency(*old_size, *size, &old.root, &checkpoint.root, &proof).unwrap();
            }
        }
    }
    assert_eq!(
        log.entries(255..258).unwrap(),
        vec![entry(255), entry(256), entry(257)]
    );
    assert!(matches!(
        log.entries(599..601),
        Err(LogError::RangeOutOfBounds { .. })
    ));
}

fn log_rebuilds_missing_tiles_at_open(backend: &dyn Backend) {
    let mut log = open_log(backend);
    append_entries(&mut log, 0..600);
    let root = log.root(600).unwrap();
    drop(log);
    // A log written before tiles existed has none.
    backend.execute("DELETE FROM tile_parts; DELETE FROM tiles; DELETE FROM tile_roots;");
    let log = open_log(backend);
    assert_eq!(log.root(600).unwrap(), root);
    assert_eq!(backend.store().tile_roots().unwrap().len(), 2);
    assert_eq!(stored_parts(backend.store().as_ref(), 1).len(), 17);
    assert!(log.inclusion_proof(3, 600).is_ok());
}

fn log_refuses_tiles_beyond_its_entries(backend: &dyn Backend) {
    let mut log = open_log(backend);
    append_entries(&mut log, 0..300);
    drop(log);
    backend.execute("DELETE FROM entries WHERE idx >= 200");
    let reopened = AuditLog::with_store(backend.store(), ORIGIN, signer(ORIGIN, 1).unwrap());
    assert!(
        matches!(
            reopened,
            Err(LogError::TilesBeyondEntries {
                tiles: 1,
                entries: 200
            })
        ),
        "{reopened:?}"
    );
}

fn witness_cosigns_the_latest_checkpoint(backend: &dyn Backend) {
    let mut log = open_log(backend);
    assert!(matches!(
        log.witness_request(0),
        Err(LogError::NoCheckpoint)
    ));
    append_entries(&mut log, 0..10);
    let old_note = log.checkpoint().unwrap();
    append_entries(&mut log, 10..25);
    let note = log.checkpoint().unwrap();

    let request = log.witness_request(10).unwrap();
    assert_eq!((request.note.as_str(), request.size), (note.as_str(), 25));
    let key = log_key().unwrap();
    let (old, new) = (
        Checkpoint::open(&old_note, &key).unwrap(),
        Checkpoint::open(&note, &key).unwrap(),
    );
    verify_consistency(10, 25, &old.root, &new.root, &request.consistency_proof).unwrap();

    let witness = signer("witness.example/w1", 7).unwrap();
    let cosigned = cosign_checkpoint(&request.note, &witness, 1_700_000_000).unwrap();
    let stored = log.add_cosignature(&cosigned, &witness.verifier()).unwrap();
    assert_eq!(
        (stored.size, stored.witness.as_str(), stored.timestamp),
        (25, "witness.example/w1", 1_700_000_000)
    );
    assert_eq!(log.cosignatures(None).unwrap(), vec![stored.clone()]);
    assert_eq!(log.cosignatures(Some(25)).unwrap(), vec![stored]);
    assert!(log.cosignatures(Some(10)).unwrap().is_empty());

    // Another witness's key does not verify that cosignature.
    let stranger = signer("witness.example/w1", 8).unwrap().verifier();
    assert!(matches!(
        log.add_cosignature(&cosigned, &stranger),
        Err(LogError::Note(_))
    ));
    // A checkpoint signed by the log key but never issued by this log.
    let forged = Checkpoint {
        origin: ORIGIN.into(),
        size: 25,
        root: leaf_hash(b"another tree"),
    }
    .sign(&signer(ORIGIN, 1).unwrap())
    .unwrap();
    let forged = cosign_checkpoint(&forged, &witness, 1).unwrap();
    assert!(matches!(
        log.add_cosignature(&forged, &witness.verifier()),
        Err(LogError::CheckpointNotIssued { size: 25 })
    ));
}

fn checkpoints_follow_the_policy(backend: &dyn Backend) {
    let mut log = open_log(backend);
    log.set_checkpoint_policy(CheckpointPolicy {
        every_entries: 10,
        every_secs: 60,
    });
    assert!(!log.checkpoint_due(1_000), "nothing to checkpoint yet");
    append_entries(&mut log, 0..3);
    assert!(
        log.checkpoint_due(1_000),
        "after open the last time is unknown"
    );
    assert!(log.checkpoint_if_due(1_000).unwrap().is_some());
    assert!(!log.checkpoint_due(1_030), "nothing new");
    append_entries(&mut log, 3..5);
    assert!(!log.checkpoint_due(1_030));
    assert!(log.checkpoint_due(1_060));
    append_entries(&mut log, 5..13);
    assert!(log.checkpoint_due(1_001), "ten new entries");
    let note = log.checkpoint_if_due(1_001).unwrap().unwrap();
    assert_eq!(
        Checkpoint::open(&note, &log_key().unwrap()).unwrap().size,
        13
    );
    assert_eq!(log.latest_checkpoint().unwrap(), Some(note));
    assert_eq!(log.checkpoint_if_due(1_002).unwrap(), None);
}

fn api_responses_verify_against_the_checkpoint(backend: &dyn Backend) {
    let mut log = open_log(backend);
    assert_eq!(api::latest_checkpoint(&log).unwrap(), None);
    append_entries(&mut log, 0..300);
    log.checkpoint().unwrap();
    let witness = signer("witness.example/w1", 7).unwrap();
    let request = api::witness_request(&log, 0).unwrap();
    assert!(request.consistency_proof.is_empty());
    let cosigned = cosign_checkpoint(&request.note, &witness, 5).unwrap();
    log.add_cosignature(&cosigned, &witness.verifier()).unwrap();

    let checkpoint = api::latest_checkpoint(&log).unwrap().unwrap();
    assert_eq!((checkpoint.origin.as_str(), checkpoint.size), (ORIGIN, 300));
    assert_eq!(checkpoint.cosignatures.len(), 1);
    let root = api::decode_hash(&checkpoint.root).unwrap();

    let proof = api::inclusion_proof(&log, 270, 300).unwrap();
    let hashes: Vec<_> = proof
        .proof
        .iter()
        .map(|hash| api::decode_hash(hash).unwrap())
        .collect();
    let leaf = api::decode_hash(&proof.leaf_hash).unwrap();
    verify_inclusion(270, 300, &leaf, &hashes, &root).unwrap();

    let page = api::entries(&log, 10, 5_000).unwrap();
    assert_eq!((page.start, page.end, page.tree_size), (10, 300, 300));
    assert_eq!(page.entries[0].index, 10);
    assert_eq!(page.entries[0].entry, entry(10));
    assert_eq!(api::decode_hash(&page.entries[260].leaf_hash), Some(leaf));
    assert!(api::entries(&log, 301, 400).is_err());
    let consistency = api::consistency_proof(&log, 100, 300).unwrap();
    assert!(!consistency.proof.is_empty());

    // The JSON shapes the HTTP layer serves.
    let json = serde_json::to_value(&proof).unwrap();
    assert_eq!(
        sorted_keys(&json),
        ["index", "leaf_hash", "proof", "tree_size"]
    );
    let json = serde_json::to_value(&checkpoint).unwrap();
    assert_eq!(
        sorted_keys(&json),
        ["cosignatures", "note", "origin", "root", "size"]
    );
    let back: api::CheckpointResponse = serde_json::from_value(json).unwrap();
    assert_eq!(back, checkpoint);
}

fn intact_log_verifies(backend: &dyn Backend) {
    let note = crate::tamper::build(backend, 300, 70);
    let store = backend.store();
    let report = verify_store(store.as_ref(), &note, &log_key().unwrap()).unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
    assert_eq!(report.stored_rows, 300);
    assert_eq!(report.stored_checkpoints_verified, 6);
    assert_eq!(report.first_bad_index(), None);
}

fn sorted_keys(json: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = json.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}
