//! Tuning without the held-out split: carves a validation split out of the
//! TRAINING families (one family in five, by a hash of its name), trains on
//! the rest and reports the validation recall and benign flag rate, plus the
//! chatterbot small talk (public negatives, when installed) as an
//! out-of-domain check. Held-out (`split: test`) lines are never read.
//! The UCI SMS ham is deliberately not used here: it is a judged target.
//!
//! `cargo run --release -p custos-conversation --example validate [-- --verbose] [benign_weight...]`

#[path = "../tests/support/eval.rs"]
mod eval;

use custos_conversation::corpus::{Example, committed_corpus};
use custos_conversation::{ConversationConfig, Guard, Speaker, TrainOptions, train};

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "--verbose");
    let weights: Vec<f32> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let weights = if weights.is_empty() {
        vec![TrainOptions::default().benign_weight]
    } else {
        weights
    };
    let Ok(corpus) = committed_corpus() else {
        eprintln!("error: cannot read the corpus");
        std::process::exit(1);
    };
    // Validation lines are relabelled `test` so `train` skips them; the
    // real held-out lines are dropped entirely.
    let mut tuning: Vec<Example> = Vec::new();
    let mut validation: Vec<Example> = Vec::new();
    for e in corpus.into_iter().filter(|e| !e.is_held_out()) {
        let key = format!("{}/{}/{}", e.lang, e.label, e.family);
        if fnv(&key) % 5 == 0 {
            let mut held = e.clone();
            held.split = "test".to_owned();
            tuning.push(held);
            validation.push(e);
        } else {
            tuning.push(e);
        }
    }
    let talk: Vec<String> = eval::public_negatives()
        .unwrap_or_default()
        .into_iter()
        .filter(|(set, _)| set == "chatterbot")
        .map(|(_, t)| t)
        .step_by(4)
        .collect();
    let config = ConversationConfig::default();
    println!(
        "validation: {} lines ({} scam) carved from training families; chatterbot sample {}",
        validation.len(),
        validation.iter().filter(|e| e.is_scam()).count(),
        talk.len()
    );
    println!("| benign_weight | recall | benign flagged | chatterbot flagged |\n|---|---|---|---|");
    for w in weights {
        let options = TrainOptions {
            benign_weight: w,
            ..TrainOptions::default()
        };
        let Ok((model, _)) = train(&tuning, &options) else {
            eprintln!("error: training failed");
            std::process::exit(1);
        };
        let Ok(guard) = Guard::with_model(model) else {
            eprintln!("error: guard");
            std::process::exit(1);
        };
        let lines: Vec<&Example> = validation.iter().collect();
        let report = eval::evaluate_corpus(&lines, &guard, &config);
        let talk_flagged = talk
            .iter()
            .filter(|t| {
                guard.score(t, Speaker::default(), 2.0).score >= config.suspicious_threshold
            })
            .count();
        println!(
            "| {w} | {:.1}% | {:.1}% ({} of {}) | {:.1}% |",
            report.scam.rate() * 100.0,
            report.benign.rate() * 100.0,
            report.benign.flagged,
            report.benign.total,
            talk_flagged as f64 * 100.0 / talk.len().max(1) as f64
        );
        if verbose {
            println!(
                "missed:\n{}\n\nfalse flags:\n{}\n",
                report.missed.join("\n"),
                report.false_flags.join("\n")
            );
        }
    }
}
