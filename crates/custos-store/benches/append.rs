//! Append throughput: batches of 1,000 events of about 250 bytes, one
//! durable commit per batch. SQLite in a temporary directory always;
//! PostgreSQL too when `CUSTOS_TEST_DATABASE_URL` is set (in a throwaway
//! schema).
//!
//! `cargo bench -p custos-store --bench append`

// Setup failures in a benchmark should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use custos_store::{DirectoryKind, DirectoryUpdate, NewEvent, PostgresStore, SqliteStore, Store};

const BATCH_LEN: usize = 1_000;

/// `agent_access` events of about 250 bytes; every `directory_every`-th one
/// is an agent directory record instead (upserts current state).
fn batch(directory_every: Option<usize>) -> Vec<NewEvent> {
    (0..BATCH_LEN)
        .map(|i| {
            let is_directory = directory_every.is_some_and(|every| i % every == 0);
            let agent = format!("a-{:04}", i % 100);
            let raw = format!(
                r#"{{"type":"agent_access","ts":"2025-01-01T00:{:02}:{:02}.000000Z","id":"ev-{i:06}","agent_id":"{agent}","customer_id":"c-{:05}","ticket_id":"t-{:05}","action":"view","fields":["name","email","balance"],"ip":"203.0.113.7","device_id":"dev-0077"}}"#,
                i / 60 % 60,
                i % 60,
                i * 7 % 50_000,
                i % 9_000,
            );
            NewEvent {
                event_id: format!("ev-{i:06}"),
                event_type: if is_directory { "agent" } else { "agent_access" }.to_owned(),
                ts_micros: 1_735_689_600_000_000 + i64::try_from(i).unwrap() * 1_000,
                raw,
                directory: is_directory.then_some(DirectoryUpdate {
                    kind: DirectoryKind::Agent,
                    id: agent,
                }),
            }
        })
        .collect()
}

fn bench_store(c: &mut Criterion, name: &str, store: &dyn Store) {
    let mut group = c.benchmark_group(format!("append/{name}"));
    group.throughput(Throughput::Elements(BATCH_LEN as u64));
    for (label, directory_every) in [("events", None), ("events_10pct_directory", Some(10))] {
        let events = batch(directory_every);
        group.bench_function(label, |b| {
            b.iter(|| black_box(store.append_events(black_box(&events)).unwrap()));
        });
    }
    group.finish();
}

fn sqlite(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let sample: usize = batch(None).iter().map(|e| e.raw.len()).sum::<usize>() / BATCH_LEN;
    eprintln!(
        "average raw event size: {sample} bytes; sqlite in {}",
        dir.path().display()
    );
    bench_store(c, "sqlite", &store);
}

fn postgres(c: &mut Criterion) {
    let Ok(url) = std::env::var("CUSTOS_TEST_DATABASE_URL") else {
        eprintln!("skipped postgres: CUSTOS_TEST_DATABASE_URL is not set");
        return;
    };
    let mut bytes = [0_u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    let schema = format!(
        "custos_bench_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    {
        let store = PostgresStore::connect_with_schema(&url, &schema).unwrap();
        bench_store(c, "postgres", &store);
    }
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .unwrap();
}

criterion_group!(benches, sqlite, postgres);
criterion_main!(benches);
