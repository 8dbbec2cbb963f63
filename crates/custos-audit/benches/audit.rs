//! Audit log throughput, each figure next to a baseline measured in the same run.
//!
//! - `append/raw_sha256_leaf_hash`: baseline, RFC 6962 leaf hashing of 1,000
//!   pre-encoded leaves (no encoding, no IO).
//! - `append/encode_and_hash`: canonical JSON + domain prefix + leaf hash,
//!   in memory.
//! - `append/sqlite_durable_batch_1000`: `AuditLog::append` of 1,000 entries,
//!   one WAL transaction with `synchronous=FULL` per batch (fsync included);
//!   `append/sqlite_durable_batch_10000` the same with 10,000 per batch.
//! - `append/postgres_durable_batch_10000`: the same on PostgreSQL, only
//!   when `CUSTOS_TEST_DATABASE_URL` is set (a fresh schema, dropped after).
//! - `proof/*`: over an in-memory tree of `CUSTOS_AUDIT_BENCH_LEAVES` leaves
//!   (default 1,048,573: just under 2^20, so the right edge is ragged):
//!   inclusion proof generation at the full size, consistency proof
//!   generation, inclusion proof verification; baseline `proof/one_node_hash`.
//!   Before them, the p50/p99/p99.9/max latency of 100,000 individual
//!   inclusion proofs is printed to stderr (criterion reports means).
//! - `log_proof/*`: the same proofs from an `AuditLog` over a SQLite file of
//!   `CUSTOS_AUDIT_BENCH_LEAVES` entries: upper tree in memory, tiles below
//!   level 8 from the log's LRU tile cache or, on a miss, read from SQLite
//!   (what the service does). `*_cache_off` is the log with its tile cache
//!   disabled (every proof reads its tile: the path before the cache);
//!   `*_all_tiles_cached` has a cache as large as the log, warmed. The time
//!   to reopen the log (cheap open) and the inclusion proof latency
//!   percentiles go to stderr, in the same run: cache off; default cache
//!   (1,024 tiles) with uniformly random indexes; default cache with
//!   indexes among the last 262,144 entries; every tile cached. Each with
//!   the cache's hit rate.
//!
//! `CUSTOS_AUDIT_BENCH_FIXTURE=<file>` keeps the SQLite log there between
//! runs (built, or topped up, to `CUSTOS_AUDIT_BENCH_LEAVES` entries);
//! `CUSTOS_AUDIT_BENCH_LEGACY_FIXTURE=<file>`, the same log written by a
//! version before tile parts (whole 16 KB tiles), adds its cache-off
//! percentiles as a baseline in the same run.
//!
//! Under `cargo test --bench` (CI's smoke run, a debug build, no `--bench`
//! argument) every tree has 4,093 leaves whatever the environment says.
//!
//! Run: `cargo bench -p custos-audit --bench audit`
//! (`CUSTOS_AUDIT_BENCH_LEAVES=10000000` for the 10-million-entry figures;
//! building that SQLite log takes about a minute and 4 GB of disk).

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use custos_audit::tiles::TILE_WIDTH;
use custos_audit::{
    AuditEntry, AuditLog, DEFAULT_TILE_CACHE_TILES, LogError, MemoryTree, NodeSource, NoteSigner,
    PostgresAuditStore, SqliteAuditStore, TileCacheStats, consistency_proof, inclusion_proof,
    leaf_hash, node_hash, verify_inclusion,
};
use ed25519_dalek::SigningKey;
use serde_json::json;

const BATCH: u64 = 1_000;

fn entry(number: u64) -> AuditEntry {
    AuditEntry {
        kind: "reveal".into(),
        ts: "2026-01-02T03:04:05.123456Z".into(),
        actor: format!("agent-{}", number % 97),
        subject_commitment: format!("{:064x}", u128::from(number) * 0x9e37_79b9_7f4a_7c15),
        details: json!({"field": "phone", "ticket": format!("t-{number}"), "decision": "allow"}),
    }
}

/// A cheap deterministic index sequence (xorshift), so every sample does not
/// hit the same warm path.
fn next_index(state: &mut u64, bound: u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state % bound
}

fn append(c: &mut Criterion) -> Result<(), LogError> {
    let entries: Vec<AuditEntry> = (0..BATCH).map(entry).collect();
    let leaves = entries
        .iter()
        .zip(0u64..)
        .map(|(entry, index)| entry.to_leaf(index))
        .collect::<Result<Vec<_>, _>>()?;
    let directory =
        tempfile::tempdir().map_err(|error| LogError::InvalidOrigin(error.to_string()))?;
    let mut log = AuditLog::open(
        &directory.path().join("audit.sqlite"),
        "bench.example/audit",
        signer()?,
    )?;

    let mut group = c.benchmark_group("append");
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function("raw_sha256_leaf_hash", |b| {
        b.iter(|| {
            for leaf in &leaves {
                black_box(leaf_hash(black_box(leaf)));
            }
        });
    });
    group.bench_function("encode_and_hash", |b| {
        b.iter(|| {
            for (entry, index) in entries.iter().zip(0u64..) {
                if let Ok(leaf) = entry.to_leaf(index) {
                    black_box(leaf_hash(&leaf));
                }
            }
        });
    });
    group.sample_size(20);
    group.bench_function("sqlite_durable_batch_1000", |b| {
        b.iter(|| black_box(log.append(black_box(&entries)).is_ok()));
    });
    group.finish();

    // The same with ten times the batch: what one fsync per commit costs.
    let big_batch: Vec<AuditEntry> = (0..BATCH * 10).map(entry).collect();
    let mut group = c.benchmark_group("append");
    group.throughput(Throughput::Elements(BATCH * 10));
    group.sample_size(10);
    group.bench_function("sqlite_durable_batch_10000", |b| {
        b.iter(|| black_box(log.append(black_box(&big_batch)).is_ok()));
    });
    group.finish();
    Ok(())
}

/// Leaves of the proof benches' trees. `cargo test --bench` (CI's smoke
/// run, a debug build) runs each bench once without `--bench`: a small tree
/// keeps that quick, whatever the environment asks for.
fn measuring() -> bool {
    std::env::args().any(|argument| argument == "--bench")
}

/// Individual proofs timed for the printed percentiles.
fn latency_samples() -> usize {
    if measuring() { 100_000 } else { 1_000 }
}

fn bench_leaves() -> u64 {
    if !measuring() {
        return 4_093;
    }
    std::env::var("CUSTOS_AUDIT_BENCH_LEAVES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1_048_573)
}

fn bench_error(error: impl std::fmt::Display) -> LogError {
    LogError::InvalidOrigin(format!("bench setup: {error}"))
}

fn signer() -> Result<NoteSigner, LogError> {
    Ok(NoteSigner::new(
        "bench.example/audit",
        SigningKey::from_bytes(&[1; 32]),
    )?)
}

fn postgres_append(c: &mut Criterion) -> Result<(), LogError> {
    let Some(url) = std::env::var("CUSTOS_TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
    else {
        eprintln!("skipped: postgres append (CUSTOS_TEST_DATABASE_URL is not set)");
        return Ok(());
    };
    let schema = format!("custos_audit_bench_{}", std::process::id());
    let store = PostgresAuditStore::connect_with_schema(&url, &schema)?;
    let mut log = AuditLog::with_store(Box::new(store), "bench.example/audit", signer()?)?;
    let big_batch: Vec<AuditEntry> = (0..BATCH * 10).map(entry).collect();
    let mut group = c.benchmark_group("append");
    group.throughput(Throughput::Elements(BATCH * 10));
    group.sample_size(10);
    group.bench_function("postgres_durable_batch_10000", |b| {
        b.iter(|| black_box(log.append(black_box(&big_batch)).is_ok()));
    });
    group.finish();
    drop(log);
    let mut client = postgres::Client::connect(&url, postgres::NoTls).map_err(bench_error)?;
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .map_err(bench_error)?;
    Ok(())
}

/// Proofs served by an `AuditLog` over SQLite: tiles read per proof.
fn log_proofs(c: &mut Criterion) -> Result<(), LogError> {
    let leaves = bench_leaves();
    let directory = tempfile::tempdir().map_err(bench_error)?;
    // A fixture kept between runs (building 10M entries takes minutes);
    // only when measuring, and only at the size it was built for.
    let fixture = std::env::var_os("CUSTOS_AUDIT_BENCH_FIXTURE")
        .filter(|_| measuring())
        .map(std::path::PathBuf::from);
    let path = fixture
        .clone()
        .unwrap_or_else(|| directory.path().join("audit.sqlite"));
    {
        let mut log = AuditLog::open(&path, "bench.example/audit", signer()?)?;
        if log.size() > leaves {
            return Err(bench_error(format!(
                "fixture `{}` holds {} entries, more than {leaves}",
                path.display(),
                log.size()
            )));
        }
        if log.size() == leaves {
            eprintln!("reusing the {leaves}-entry fixture `{}`", path.display());
        }
        let started = Instant::now();
        let mut next = log.size();
        while next < leaves {
            let end = (next + 10 * BATCH).min(leaves);
            let batch: Vec<AuditEntry> = (next..end).map(entry).collect();
            log.append(&batch)?;
            next = end;
        }
        // Idempotent: a second note for the same size is ignored.
        log.checkpoint()?;
        eprintln!(
            "built a {leaves}-entry SQLite log in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let started = Instant::now();
    let store = SqliteAuditStore::open(&path)?;
    let mut log = AuditLog::with_store(Box::new(store), "bench.example/audit", signer()?)?;
    eprintln!(
        "reopened the {leaves}-entry log in {:.1} ms (tile roots + edge, no rehash)",
        started.elapsed().as_secs_f64() * 1e3
    );
    let root = log.root(leaves)?;
    let tiles = leaves / TILE_WIDTH;
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;

    // Before the cache: every proof reads its tile from SQLite.
    log.set_tile_cache_capacity(0);
    let nanos = time_proofs(&log, leaves, || next_index(&mut state, leaves))?;
    print_percentiles(
        "AuditLog::inclusion_proof (sqlite, cache off)",
        leaves,
        nanos,
    );

    // Baseline in the same run: a log of the same size written before tile
    // parts (whole 16 KB tiles, read through the compatible path), cache off.
    if let Some(legacy) =
        std::env::var_os("CUSTOS_AUDIT_BENCH_LEGACY_FIXTURE").filter(|_| measuring())
    {
        let store = SqliteAuditStore::open(std::path::Path::new(&legacy))?;
        let mut old = AuditLog::with_store(Box::new(store), "bench.example/audit", signer()?)?;
        if old.size() == leaves && old.root(leaves)? == root {
            old.set_tile_cache_capacity(0);
            let nanos = time_proofs(&old, leaves, || next_index(&mut state, leaves))?;
            print_percentiles(
                "AuditLog::inclusion_proof (sqlite, whole tiles from before parts, cache off)",
                leaves,
                nanos,
            );
        } else {
            eprintln!("skipped: the legacy fixture is not this log");
        }
    }

    // Default cache, uniformly random indexes: hits ~ capacity / tiles.
    log.set_tile_cache_capacity(DEFAULT_TILE_CACHE_TILES);
    time_proofs(&log, leaves, || next_index(&mut state, leaves))?;
    let before = log.tile_cache_stats();
    let nanos = time_proofs(&log, leaves, || next_index(&mut state, leaves))?;
    print_cache_percentiles(
        "AuditLog::inclusion_proof (sqlite, default cache, uniform index)",
        &log,
        before,
        leaves,
        nanos,
    );

    // Default cache, indexes among the last 1,024 tiles (recent entries).
    let recent = (DEFAULT_TILE_CACHE_TILES as u64 * TILE_WIDTH).min(leaves);
    let first_recent = leaves - recent;
    time_proofs(&log, leaves, || {
        first_recent + next_index(&mut state, recent)
    })?;
    let before = log.tile_cache_stats();
    let nanos = time_proofs(&log, leaves, || {
        first_recent + next_index(&mut state, recent)
    })?;
    print_cache_percentiles(
        "AuditLog::inclusion_proof (sqlite, default cache, last 262,144 entries)",
        &log,
        before,
        leaves,
        nanos,
    );

    // Every tile cached (about 16 KB per 256 entries: ~640 MB at 10M).
    log.set_tile_cache_capacity(usize::try_from(tiles).unwrap_or(usize::MAX));
    // One proof per 16 entries loads every part of every tile.
    for tile in 0..tiles {
        for part in 0..TILE_WIDTH / 16 {
            black_box(log.inclusion_proof(tile * TILE_WIDTH + part * 16, leaves)?);
        }
    }
    let before = log.tile_cache_stats();
    let nanos = time_proofs(&log, leaves, || next_index(&mut state, leaves))?;
    print_cache_percentiles(
        "AuditLog::inclusion_proof (sqlite, every tile cached, uniform index)",
        &log,
        before,
        leaves,
        nanos,
    );

    let index = leaves / 3;
    verify_inclusion(
        index,
        leaves,
        &log.leaf_hash(index)?,
        &log.inclusion_proof(index, leaves)?,
        &root,
    )?;

    let mut group = c.benchmark_group(format!("log_proof/{leaves}_leaves"));
    group.throughput(Throughput::Elements(1));
    group.bench_function("inclusion_proof_all_tiles_cached", |b| {
        b.iter(|| {
            let index = next_index(&mut state, leaves);
            black_box(
                log.inclusion_proof(index, leaves)
                    .map(|p| p.len())
                    .unwrap_or(0),
            )
        });
    });
    group.bench_function("consistency_proof_all_tiles_cached", |b| {
        b.iter(|| {
            let old = next_index(&mut state, leaves) + 1;
            black_box(
                log.consistency_proof(old, leaves)
                    .map(|p| p.len())
                    .unwrap_or(0),
            )
        });
    });
    log.set_tile_cache_capacity(0);
    group.bench_function("inclusion_proof_cache_off", |b| {
        b.iter(|| {
            let index = next_index(&mut state, leaves);
            black_box(
                log.inclusion_proof(index, leaves)
                    .map(|p| p.len())
                    .unwrap_or(0),
            )
        });
    });
    group.bench_function("consistency_proof_cache_off", |b| {
        b.iter(|| {
            let old = next_index(&mut state, leaves) + 1;
            black_box(
                log.consistency_proof(old, leaves)
                    .map(|p| p.len())
                    .unwrap_or(0),
            )
        });
    });
    group.finish();
    Ok(())
}

/// Times `latency_samples()` individual inclusion proofs at full size.
fn time_proofs(
    log: &AuditLog,
    leaves: u64,
    mut pick: impl FnMut() -> u64,
) -> Result<Vec<u128>, LogError> {
    let mut nanos: Vec<u128> = Vec::with_capacity(latency_samples());
    for _ in 0..latency_samples() {
        let index = pick();
        let started = Instant::now();
        black_box(log.inclusion_proof(index, leaves)?);
        nanos.push(started.elapsed().as_nanos());
    }
    Ok(nanos)
}

fn print_cache_percentiles(
    what: &str,
    log: &AuditLog,
    before: TileCacheStats,
    leaves: u64,
    nanos: Vec<u128>,
) {
    print_percentiles(what, leaves, nanos);
    let after = log.tile_cache_stats();
    let hits = after.hits - before.hits;
    let loads = hits + after.misses - before.misses;
    eprintln!(
        "  tile cache: capacity {} tiles, {} held, hit rate {:.1}% over {loads} tile loads",
        after.capacity,
        after.len,
        100.0 * hits as f64 / loads.max(1) as f64
    );
}

fn proofs(c: &mut Criterion) -> Result<(), LogError> {
    let leaves = bench_leaves();
    let mut tree = MemoryTree::new();
    for index in 0..leaves {
        tree.push_leaf_hash(leaf_hash(&index.to_be_bytes()));
    }
    let root = tree.root(leaves)?;
    let sample_proof = inclusion_proof(&tree, leaves / 3, leaves)?;
    // Every benched verification must be the success path.
    verify_inclusion(
        leaves / 3,
        leaves,
        &leaf_hash(&(leaves / 3).to_be_bytes()),
        &sample_proof,
        &root,
    )?;

    print_inclusion_latency_percentiles(&tree, leaves);

    let mut group = c.benchmark_group(format!("proof/{leaves}_leaves"));
    group.throughput(Throughput::Elements(1));
    let (left, right) = (leaf_hash(b"left"), leaf_hash(b"right"));
    group.bench_function("one_node_hash", |b| {
        b.iter(|| black_box(node_hash(black_box(&left), black_box(&right))));
    });
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    group.bench_function("inclusion_proof", |b| {
        b.iter(|| {
            let index = next_index(&mut state, leaves);
            black_box(
                inclusion_proof(&tree, index, leaves)
                    .map(|proof| proof.len())
                    .unwrap_or(0),
            )
        });
    });
    group.bench_function("consistency_proof", |b| {
        b.iter(|| {
            let old = next_index(&mut state, leaves) + 1;
            black_box(
                consistency_proof(&tree, old, leaves)
                    .map(|proof| proof.len())
                    .unwrap_or(0),
            )
        });
    });
    let prepared: Vec<(u64, Vec<custos_audit::Hash>)> = (0..1024)
        .map(|_| {
            let index = next_index(&mut state, leaves);
            (
                index,
                inclusion_proof(&tree, index, leaves).unwrap_or_default(),
            )
        })
        .collect();
    let mut cursor = 0;
    group.bench_function("verify_inclusion", |b| {
        b.iter(|| {
            let (index, proof) = &prepared[cursor % prepared.len()];
            cursor += 1;
            let leaf = leaf_hash(&index.to_be_bytes());
            black_box(verify_inclusion(*index, leaves, &leaf, proof, &root).is_ok())
        });
    });
    group.finish();
    Ok(())
}

/// Criterion reports means; the target is a p99, so time 100,000
/// individual proof generations and print the percentiles.
fn print_inclusion_latency_percentiles<S: NodeSource>(tree: &S, leaves: u64) {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let nanos: Vec<u128> = (0..latency_samples())
        .map(|_| {
            let index = next_index(&mut state, leaves);
            let started = Instant::now();
            black_box(
                inclusion_proof(tree, index, leaves)
                    .map(|proof| proof.len())
                    .unwrap_or(0),
            );
            started.elapsed().as_nanos()
        })
        .collect();
    print_percentiles("inclusion_proof (memory tree)", leaves, nanos);
}

fn print_percentiles(what: &str, leaves: u64, mut nanos: Vec<u128>) {
    nanos.sort_unstable();
    if nanos.is_empty() {
        return;
    }
    let at = |fraction: f64| nanos[((nanos.len() - 1) as f64 * fraction) as usize];
    eprintln!(
        "{what} latency at {leaves} leaves over {} proofs: p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
        nanos.len(),
        at(0.50),
        at(0.99),
        at(0.999),
        at(1.0)
    );
}

fn benches(c: &mut Criterion) {
    if let Err(error) = append(c) {
        eprintln!("append bench setup failed: {error}");
    }
    if let Err(error) = postgres_append(c) {
        eprintln!("postgres append bench setup failed: {error}");
    }
    if let Err(error) = proofs(c) {
        eprintln!("proof bench setup failed: {error}");
    }
    if let Err(error) = log_proofs(c) {
        eprintln!("log proof bench setup failed: {error}");
    }
}

criterion_group!(audit, benches);
criterion_main!(audit);
