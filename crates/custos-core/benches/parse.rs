//! Contract parsing and the pipeline with no detectors, on simulator NDJSON.
//! Each group has a baseline in the same run: parsing the same lines into a
//! generic `serde_json::Value` (the floor any typed parser is compared with),
//! and splitting lines without parsing.
#![allow(clippy::panic)]
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use custos_core::parse::{NdjsonReader, parse_event};
use custos_core::{Pipeline, PipelineConfig};
use std::hint::black_box;

const EVENTS: usize = 20_000;

fn simulated_ndjson() -> String {
    let config = custos_sim::SimConfig {
        days: 30,
        seed: 42,
        ..Default::default()
    };
    let sim = custos_sim::Simulator::new(config).unwrap_or_else(|e| panic!("simulator: {e}"));
    // Skip the directory preamble (50k customer records) to measure the
    // steady-state mix of accesses, tickets, actions and messages.
    let mut lines: Vec<String> = sim.skip(60_000).take(EVENTS).collect();
    lines.push(String::new());
    lines.join("\n")
}

fn bench(c: &mut Criterion) {
    let ndjson = simulated_ndjson();
    let lines: Vec<&str> = ndjson.lines().filter(|l| !l.is_empty()).collect();
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function(BenchmarkId::new("custos_event", lines.len()), |b| {
        b.iter(|| {
            let mut ok = 0usize;
            for (i, line) in lines.iter().enumerate() {
                ok += usize::from(parse_event(black_box(line), || i.to_string()).is_ok());
            }
            assert_eq!(ok, lines.len());
            ok
        })
    });
    group.bench_function(
        BenchmarkId::new("baseline_serde_json_value", lines.len()),
        |b| {
            b.iter(|| {
                let mut ok = 0usize;
                for line in &lines {
                    ok += usize::from(
                        serde_json::from_str::<serde_json::Value>(black_box(line)).is_ok(),
                    );
                }
                ok
            })
        },
    );
    group.finish();

    let mut group = c.benchmark_group("replay");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function(
        BenchmarkId::new("ndjson_pipeline_no_detectors", lines.len()),
        |b| {
            b.iter(|| {
                let mut pipeline = Pipeline::new(PipelineConfig::default(), Vec::new());
                let mut out = Vec::new();
                for line in NdjsonReader::new(ndjson.as_bytes()) {
                    if let Ok(Ok(event)) = line.map(|l| l.result) {
                        pipeline.push(event, &mut out);
                    }
                }
                pipeline.finish(&mut out);
                black_box(pipeline.stats().processed)
            })
        },
    );
    group.bench_function(BenchmarkId::new("baseline_split_lines", lines.len()), |b| {
        b.iter(|| {
            black_box(
                ndjson
                    .as_bytes()
                    .split(|&b| b == b'\n')
                    .filter(|l| !l.is_empty())
                    .count(),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
