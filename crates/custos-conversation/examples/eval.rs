//! Prints the held-out evaluation per language and per inducement code,
//! public negatives when installed, and the custos-sim messages as an
//! out-of-distribution check:
//! `cargo run --release -p custos-conversation --example eval [-- --verbose]`.

#[path = "../tests/support/eval.rs"]
mod eval;

use custos_conversation::corpus::committed_corpus;
use custos_conversation::{ConversationConfig, Guard, Speaker};

fn main() {
    let verbose = std::env::args().any(|a| a == "--verbose");
    let config = ConversationConfig::default();
    let (Ok(guard), Ok(corpus)) = (Guard::new(), committed_corpus()) else {
        eprintln!("error: cannot load the model or the corpus");
        std::process::exit(1);
    };
    for (name, held_out) in [("training split (seen)", false), ("held-out split", true)] {
        let lines: Vec<_> = corpus
            .iter()
            .filter(|e| e.is_held_out() == held_out)
            .collect();
        let report = eval::evaluate_corpus(&lines, &guard, &config);
        println!("## {name}\n\n{}", report.to_markdown());
        if held_out {
            // Session-4 families (everyday messages, more KYC scams) apart
            // from the earlier ones, so each can be compared over sessions.
            for (part, session_4) in [
                ("session 1-3 families", false),
                ("session-4 families", true),
            ] {
                let subset: Vec<_> = lines
                    .iter()
                    .filter(|e| eval::is_session_4(e) == session_4)
                    .copied()
                    .collect();
                let report = eval::evaluate_corpus(&subset, &guard, &config);
                println!("### {name}, {part} only\n\n{}", report.to_markdown());
            }
        }
        if verbose && held_out {
            println!(
                "missed:\n{}\n\nfalse flags:\n{}\n",
                report.missed.join("\n"),
                report.false_flags.join("\n")
            );
        }
    }
    match eval::public_negatives() {
        None => println!(
            "## public corpora\n\nnot installed (run crates/custos-conversation/scripts/install_public_corpora.sh)\n"
        ),
        Some(lines) => {
            println!(
                "## public corpora (never trained on)\n\n| set | lines | flagged (suspicious+) | scam verdict |\n|---|---|---|---|"
            );
            let mut sets: std::collections::BTreeMap<String, (u64, u64, u64)> = Default::default();
            let mut examples = Vec::new();
            for (set, text) in &lines {
                let s = guard.score(text, Speaker::default(), 2.0).score;
                let mut names = vec![set.clone()];
                if set.starts_with("uci_sms_ham") {
                    names.push("uci_sms_ham (both halves)".to_owned());
                }
                for name in names {
                    let e = sets.entry(name).or_default();
                    e.0 += 1;
                    e.1 += u64::from(s >= config.suspicious_threshold);
                    e.2 += u64::from(s >= config.scam_threshold);
                }
                // Never print held-out UCI ham lines: they are only counted.
                if set != "uci_sms_spam"
                    && set != eval::UCI_HAM_HELD_OUT
                    && s >= config.suspicious_threshold
                    && examples.len() < 40
                {
                    examples.push(format!("{set} {s:.2} {text}"));
                }
            }
            for (set, (n, f, sc)) in sets {
                println!(
                    "| {set} | {n} | {:.2}% | {:.2}% |",
                    f as f64 * 100.0 / n as f64,
                    sc as f64 * 100.0 / n as f64
                );
            }
            if verbose {
                println!("\n{}", examples.join("\n"));
            }
            println!(
                "\n(`uci_sms_spam` is ordinary SMS spam — prizes, ringtones — not a social-engineering script: its flagged rate is informational, not a recall target.)\n"
            );
        }
    }
    let sim = eval::evaluate_sim(11, 10, &config);
    println!("## custos-sim seed 11, 10 days\n\n{}", sim.to_markdown());
}
