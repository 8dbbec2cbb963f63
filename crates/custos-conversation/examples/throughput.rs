//! Throughput and per-message latency of `scan` without criterion, for
//! profiling (`valgrind --tool=callgrind`) and for comparing two builds in
//! one command: `cargo run --release -p custos-conversation --example
//! throughput [-- ROUNDS]`.
//!
//! Input: the bench's 2,000 lines (corpus messages cycled, half bare lines,
//! half `message` events). Prints messages/s (median round) and the p50 /
//! p99 / max latency of one `Scanner::scan_line` call.

use custos_conversation::corpus::committed_corpus;
use custos_conversation::{ConversationConfig, Guard, Scanner, scan_reader};
use std::time::Instant;

fn input(lines: usize) -> Option<Vec<String>> {
    let corpus = committed_corpus().ok()?;
    let mut out = Vec::with_capacity(lines);
    for (i, e) in corpus.iter().cycle().take(lines).enumerate() {
        let text = serde_json::to_string(&e.text).ok()?;
        if i % 2 == 0 {
            out.push(format!("{{\"id\":\"b{i}\",\"text\":{text}}}"));
        } else {
            out.push(format!(
                "{{\"type\":\"message\",\"ts\":\"2025-03-03T10:00:00Z\",\"id\":\"e{i}\",\"conversation_id\":\"conv-{}\",\"channel\":\"chat\",\"direction\":\"inbound\",\"sender_role\":\"unknown\",\"text\":{text}}}",
                i % 500
            ));
        }
    }
    Some(out)
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let (Ok(guard), Some(lines)) = (Guard::new(), input(2_000)) else {
        eprintln!("error: cannot load the model or the corpus");
        std::process::exit(1);
    };
    let config = ConversationConfig::default();
    let data = lines.join("\n");
    let mut round_secs = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let mut out = Vec::with_capacity(data.len());
        let start = Instant::now();
        if scan_reader(data.as_bytes(), &mut out, &guard, &config).is_err() {
            eprintln!("error: scan failed");
            std::process::exit(1);
        }
        round_secs.push(start.elapsed().as_secs_f64());
        std::hint::black_box(out);
    }
    round_secs.sort_by(f64::total_cmp);
    let median = round_secs[round_secs.len() / 2];
    let mut latencies = Vec::with_capacity(lines.len() * rounds.min(5));
    for _ in 0..rounds.min(5) {
        let mut scanner = Scanner::new(&guard, config.clone());
        for (n, line) in lines.iter().enumerate() {
            let start = Instant::now();
            let scored = scanner.scan_line(line, n as u64 + 1);
            latencies.push(start.elapsed().as_nanos() as u64);
            std::hint::black_box(scored.ok());
        }
    }
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize] as f64 / 1000.0;
    println!(
        "{:.0} messages/s (median of {rounds} rounds of {} lines: {:.2} ms); scan_line p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        lines.len() as f64 / median,
        lines.len(),
        median * 1000.0,
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
}
