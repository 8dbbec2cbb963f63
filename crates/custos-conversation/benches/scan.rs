//! Throughput of `scan` over a mix of corpus messages (bare lines and
//! message events), and the latency of scoring one message, for the fast
//! path and, in the same run, the reference path (`Guard::reference_path`:
//! the session-4 normalisation, feature extraction and rule search).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use custos_conversation::corpus::committed_corpus;
use custos_conversation::{ConversationConfig, Guard, Speaker, scan_reader};
use std::hint::black_box;

fn input(lines: usize) -> String {
    let corpus = committed_corpus().unwrap();
    let mut out = String::new();
    for (i, e) in corpus.iter().cycle().take(lines).enumerate() {
        let text = serde_json::to_string(&e.text).unwrap();
        if i % 2 == 0 {
            out.push_str(&format!("{{\"id\":\"b{i}\",\"text\":{text}}}\n"));
        } else {
            out.push_str(&format!(
                "{{\"type\":\"message\",\"ts\":\"2025-03-03T10:00:00Z\",\"id\":\"e{i}\",\"conversation_id\":\"conv-{}\",\"channel\":\"chat\",\"direction\":\"inbound\",\"sender_role\":\"unknown\",\"text\":{text}}}\n",
                i % 500
            ));
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let fast = Guard::new().unwrap();
    let reference = Guard::new().unwrap().reference_path();
    let guards = [("reference", &reference), ("fast", &fast)];
    let config = ConversationConfig::default();
    let corpus = committed_corpus().unwrap();
    // The first 2,000 corpus lines (85% English: comparable with earlier
    // sessions), then every corpus line once (all eight languages).
    for (group_name, lines) in [
        ("scan_reader_2000_lines", 2_000),
        ("scan_reader_whole_corpus", corpus.len()),
    ] {
        let data = input(lines);
        let mut group = c.benchmark_group(group_name);
        group.throughput(Throughput::Elements(lines as u64));
        for (name, guard) in guards {
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter(|| {
                    let mut out = Vec::with_capacity(data.len());
                    scan_reader(black_box(data.as_bytes()), &mut out, guard, &config).unwrap();
                    out
                })
            });
        }
        group.finish();
    }
    let long = corpus
        .iter()
        .max_by_key(|e| e.text.len())
        .unwrap()
        .text
        .clone();
    let typical = "Please read me the 6-digit code we just sent to your phone to confirm it's you";
    for (group_name, text) in [
        ("score_one_typical", typical),
        ("score_one_longest_corpus_line", long.as_str()),
    ] {
        let mut group = c.benchmark_group(group_name);
        for (name, guard) in guards {
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter(|| guard.score(black_box(text), Speaker::default(), 0.5))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
