//! Throughput and per-message latency of `scan` without criterion, for
//! profiling (`valgrind --tool=callgrind`) and for comparing two builds in
//! one command: `cargo run --release -p custos-conversation --example
//! throughput [-- ROUNDS [fast|reference|both] [LINES]]`.
//!
//! Input: the bench's 2,000 lines (corpus messages cycled, half bare lines,
//! half `message` events). Rounds alternate between the reference path
//! (`Guard::reference_path`, the session-4 code) and the fast one; prints,
//! for each, messages/s (median round) and the p50 / p99 / max latency of
//! one `Scanner::scan_line` call (first five rounds), and the ratio.

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

/// Median messages/s and the p50 / p99 / max of one `scan_line` call.
struct Figures {
    messages_per_second: f64,
    median_ms: f64,
    p50_us: f64,
    p99_us: f64,
    max_us: f64,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.0} messages/s (median round {:.2} ms); scan_line p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
            self.messages_per_second, self.median_ms, self.p50_us, self.p99_us, self.max_us
        )
    }
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    // Lines (corpus messages cycled): 2,000 by default (85% English, as
    // the bench's `scan_reader_2000_lines`); 8233 is the whole corpus once
    // (eight languages).
    let count: usize = std::env::args()
        .nth(3)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000);
    let (Ok(fast), Ok(reference), Some(lines)) = (
        Guard::new(),
        Guard::new().map(Guard::reference_path),
        input(count),
    ) else {
        eprintln!("error: cannot load the model or the corpus");
        std::process::exit(1);
    };
    // `fast` or `reference` alone, for `perf record`; both by default.
    let only = std::env::args().nth(2);
    let config = ConversationConfig::default();
    let data = lines.join("\n");
    // Rounds alternate between the two paths, so both see the same load.
    let guards = match only.as_deref() {
        Some("fast") => vec![&fast],
        Some("reference") => vec![&reference],
        _ => vec![&reference, &fast],
    };
    let mut round_secs = [Vec::with_capacity(rounds), Vec::with_capacity(rounds)];
    let mut latencies = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        for (k, guard) in guards.iter().enumerate() {
            let mut out = Vec::with_capacity(data.len());
            let start = Instant::now();
            if scan_reader(data.as_bytes(), &mut out, guard, &config).is_err() {
                eprintln!("error: scan failed");
                std::process::exit(1);
            }
            round_secs[k].push(start.elapsed().as_secs_f64());
            std::hint::black_box(out);
            if round < 5 {
                let mut scanner = Scanner::new(guard, config.clone());
                for (n, line) in lines.iter().enumerate() {
                    let start = Instant::now();
                    let scored = scanner.scan_line(line, n as u64 + 1);
                    latencies[k].push(start.elapsed().as_nanos() as u64);
                    std::hint::black_box(scored.ok());
                }
            }
        }
    }
    let mut figures = Vec::new();
    for k in 0..guards.len() {
        round_secs[k].sort_by(f64::total_cmp);
        latencies[k].sort_unstable();
        let median = round_secs[k][round_secs[k].len() / 2];
        let l = &latencies[k];
        let pct = |p: f64| l[((l.len() - 1) as f64 * p) as usize] as f64 / 1000.0;
        figures.push(Figures {
            messages_per_second: lines.len() as f64 / median,
            median_ms: median * 1000.0,
            p50_us: pct(0.5),
            p99_us: pct(0.99),
            max_us: pct(1.0),
        });
    }
    println!("{rounds} rounds of {} lines each, alternated", lines.len());
    if let [reference, fast] = figures.as_slice() {
        println!("reference: {reference}");
        println!("fast:      {fast}");
        println!(
            "fast / reference: {:.2}x messages/s",
            fast.messages_per_second / reference.messages_per_second
        );
    } else if let [one] = figures.as_slice() {
        println!("{}: {one}", only.as_deref().unwrap_or(""));
    }
}
