//! Durable ingest throughput through the whole HTTP edge: concurrent clients
//! each post batches of 1,000 simulator-like events (JSON
//! arrays, about 250 bytes an event) to `POST /v1/events` in-process
//! (`tower::ServiceExt::oneshot`), against SQLite in a temporary directory.
//! Every request is answered only after its group commit is durable, so
//! events per second here is durable ingest per second.
//!
//! `cargo bench -p custos-http --bench ingest`

// Setup failures in a benchmark should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode, header};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use custos_http::{AppState, HttpSettings, Metrics, Scope, TokenSpec, router, token_sha256};
use custos_store::SqliteStore;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const BATCH_LEN: usize = 1_000;
const TOKEN: &str = "bench-token";

/// One batch of a support floor's and a customer base's traffic: mostly
/// record accesses, then customer actions, messages, tickets and sessions,
/// with the odd directory update.
fn batch(number: usize) -> Bytes {
    let base = 1_735_689_600 + number as i64 * 60;
    let events: Vec<String> = (0..BATCH_LEN)
        .map(|i| {
            let ts = custos_core::EventTime::from_micros((base * 1_000_000) + i as i64 * 997)
                .to_string();
            let id = format!("b{number}-{i}");
            let agent = format!("a-{:04}", (i * 31) % 400);
            let customer = format!("c-{:05}", (i * 7919) % 50_000);
            match i % 20 {
                0..=9 => format!(
                    r#"{{"type":"agent_access","ts":"{ts}","id":"{id}","agent_id":"{agent}","customer_id":"{customer}","ticket_id":"t-{}","action":"view","fields":["name","email","balance"],"ip":"203.0.113.{}","device_id":"dev-{}"}}"#,
                    i % 900,
                    i % 250,
                    i % 400
                ),
                10..=13 => format!(
                    r#"{{"type":"customer_action","ts":"{ts}","id":"{id}","customer_id":"{customer}","action":"withdrawal","ip":"198.51.100.{}","device_id":"fp-{}","geo":{{"country":"US","lat":40.7,"lon":-74.0}},"amount_usd":{}.5,"asset":"XLM","destination":"GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVW"}}"#,
                    i % 250,
                    i % 999,
                    100 + i
                ),
                14..=15 => format!(
                    r#"{{"type":"message","ts":"{ts}","id":"{id}","conversation_id":"conv-{}","channel":"chat","direction":"inbound","sender_role":"agent","customer_id":"{customer}","text":"hello, this is support, how can I help you with your withdrawal today"}}"#,
                    i % 300
                ),
                16 => format!(
                    r#"{{"type":"ticket","ts":"{ts}","id":"{id}","ticket_id":"t-{}","customer_id":"{customer}","agent_id":"{agent}","status":"assigned","channel":"chat","category":"withdrawal_delay","opened_by":"customer"}}"#,
                    i % 900
                ),
                17 => format!(
                    r#"{{"type":"agent_session","ts":"{ts}","id":"{id}","agent_id":"{agent}","kind":"login","ip":"203.0.113.7","device_id":"dev-77"}}"#
                ),
                18 => format!(
                    r#"{{"type":"customer","ts":"{ts}","id":"{id}","customer_id":"{customer}","tier":"retail","balance_usd":812.5,"country":"BR"}}"#
                ),
                _ => format!(
                    r#"{{"type":"agent","ts":"{ts}","id":"{id}","agent_id":"{agent}","team":"tier1-chat","role":"support_l1","site":"IN","shift":{{"start_hour":3,"end_hour":12}}}}"#
                ),
            }
        })
        .collect();
    Bytes::from(format!("[{}]", events.join(",")))
}

async fn post(router: &Router, body: Bytes) {
    let request = Request::post("/v1/events")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

fn ingest(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let settings = HttpSettings {
        tokens: vec![TokenSpec {
            name: "bench".to_owned(),
            token_sha256: token_sha256(TOKEN),
            scopes: vec![Scope::Ingest],
        }],
        max_future_skew: Duration::from_secs(3600),
        ..HttpSettings::default()
    };
    let state = AppState::new(
        store,
        settings,
        Arc::new(Metrics::new()),
        Arc::new(AtomicBool::new(true)),
    )
    .unwrap();
    let metrics = state.metrics.clone();
    let router = router(state);
    let bodies: Arc<Vec<Bytes>> = Arc::new((0..32).map(batch).collect());

    let mut group = c.benchmark_group("ingest");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(15));
    for clients in [1usize, 4, 8] {
        group.throughput(Throughput::Elements((clients * BATCH_LEN) as u64));
        group.bench_function(format!("{clients}_clients_x_1000_events"), |b| {
            b.iter_custom(|iterations| {
                runtime.block_on(async {
                    let started = Instant::now();
                    let tasks: Vec<_> = (0..clients)
                        .map(|client| {
                            let router = router.clone();
                            let bodies = bodies.clone();
                            tokio::spawn(async move {
                                for i in 0..iterations as usize {
                                    let body = bodies[(client * 7 + i) % bodies.len()].clone();
                                    post(&router, body).await;
                                }
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.unwrap();
                    }
                    started.elapsed()
                })
            });
        });
    }
    group.finish();
    // How the group commits went: their number, events and total time.
    let text = metrics.render(true, true);
    for line in text.lines().filter(|line| {
        line.starts_with("custos_ingest_commit_duration_seconds_sum")
            || line.starts_with("custos_ingest_commit_duration_seconds_count")
            || line.starts_with("custos_ingest_commit_events_total")
    }) {
        eprintln!("{line}");
    }
}

criterion_group!(benches, ingest);
criterion_main!(benches);
