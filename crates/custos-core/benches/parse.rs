//! Contract parsing throughput on simulator-like NDJSON.
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use custos_core::parse::{NdjsonReader, parse_event};
use std::hint::black_box;

const LINES: &[&str] = &[
    r#"{"type":"agent_access","ts":"2025-03-04T09:15:07Z","id":"e1041","agent_id":"a-0042","customer_id":"c-018812","ticket_id":"t-90211","action":"view","fields":["name","balance","transactions"],"ip":"203.0.113.7","device_id":"dev-77"}"#,
    r#"{"type":"ticket","ts":"2025-03-04T09:15:09Z","id":"e1042","ticket_id":"t-90212","customer_id":"c-004411","agent_id":"a-0042","status":"assigned","channel":"chat","category":"withdrawal_delay","opened_by":"customer"}"#,
    r#"{"type":"customer_action","ts":"2025-03-04T09:15:10Z","id":"e1043","customer_id":"c-018812","action":"withdrawal","ip":"198.51.100.4","device_id":"fp-3a9c","geo":{"country":"US","lat":40.7,"lon":-74.0},"amount_usd":1200.5,"asset":"BTC","destination":"bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"}"#,
    r#"{"type":"customer_action","ts":"2025-03-04T09:15:11Z","id":"e1044","customer_id":"c-000812","action":"login","ip":"198.51.100.9","device_id":"fp-11aa","geo":{"country":"BR","lat":-23.5,"lon":-46.6}}"#,
    r#"{"type":"message","ts":"2025-03-04T09:15:12Z","id":"e1045","conversation_id":"conv-77","channel":"chat","direction":"outbound","sender_role":"customer","customer_id":"c-000812","text":"hi, my withdrawal has been pending for two hours, can you check?"}"#,
];

fn bench(c: &mut Criterion) {
    let ndjson: String = (0..2000)
        .map(|i| LINES[i % LINES.len()])
        .collect::<Vec<_>>()
        .join("\n");
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(2000));
    group.bench_function("ndjson_2000_events", |b| {
        b.iter(|| {
            let mut ok = 0usize;
            for line in NdjsonReader::new(ndjson.as_bytes()) {
                if matches!(line, Ok(l) if l.result.is_ok()) {
                    ok += 1;
                }
            }
            black_box(ok)
        })
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("agent_access_event", |b| {
        b.iter(|| black_box(parse_event(black_box(LINES[0]), || "1".into())))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
