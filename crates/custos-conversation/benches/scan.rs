//! Throughput of `scan` over a mix of corpus messages (bare lines and
//! message events), and the latency of scoring one message.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
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
    let guard = Guard::new().unwrap();
    let config = ConversationConfig::default();
    let lines = 2_000;
    let data = input(lines);
    let mut group = c.benchmark_group("scan");
    group.throughput(Throughput::Elements(lines as u64));
    group.bench_function("scan_reader_2000_lines", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(data.len());
            scan_reader(black_box(data.as_bytes()), &mut out, &guard, &config).unwrap();
            out
        })
    });
    group.finish();
    let corpus = committed_corpus().unwrap();
    let long = corpus
        .iter()
        .max_by_key(|e| e.text.len())
        .unwrap()
        .text
        .clone();
    c.bench_function("score_one_typical", |b| {
        b.iter(|| guard.score(black_box("Please read me the 6-digit code we just sent to your phone to confirm it's you"), Speaker::default(), 0.5))
    });
    c.bench_function("score_one_longest_corpus_line", |b| {
        b.iter(|| guard.score(black_box(&long), Speaker::default(), 0.5))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
