//! What fires on everyday messages that are not scams: the tuning half of
//! the UCI SMS ham (never the held-out half) and chatterbot small talk,
//! and the training split of the corpus's benign lines (never the held-out
//! split), with the rule codes, trigger terms and classifier words of every
//! flagged line, counted:
//! `cargo run --release -p custos-conversation --example diagnose [-- --lines] [--retrain]`.
//! `--retrain` reads `corpus/*.jsonl` from disk (not the compiled-in copy),
//! trains in memory with the default options and diagnoses that model, so a
//! template change can be tried without rebuilding.

#[path = "../tests/support/eval.rs"]
mod eval;

use custos_conversation::corpus::{Example, committed_corpus, read_corpus};
use custos_conversation::{ConversationConfig, Guard, Speaker, TrainOptions, train};

fn corpus_from_disk() -> Option<Vec<Example>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut all = Vec::new();
    for name in ["generated.jsonl", "handwritten.jsonl"] {
        let file = std::fs::File::open(dir.join(name)).ok()?;
        all.extend(read_corpus(std::io::BufReader::new(file)).ok()?);
    }
    Some(all)
}
use std::collections::BTreeMap;

fn main() {
    let show_lines = std::env::args().any(|a| a == "--lines");
    let config = ConversationConfig::default();
    let retrain = std::env::args().any(|a| a == "--retrain");
    let corpus = if retrain {
        corpus_from_disk()
    } else {
        committed_corpus().ok()
    };
    let Some(corpus) = corpus else {
        eprintln!("error: cannot read the corpus");
        std::process::exit(1);
    };
    let guard = if retrain {
        train(&corpus, &TrainOptions::default())
            .ok()
            .and_then(|(model, _)| Guard::with_model(model).ok())
    } else {
        Guard::new().ok()
    };
    let Some(guard) = guard else {
        eprintln!("error: cannot load or train the model");
        std::process::exit(1);
    };
    let Some(lines) = eval::public_negatives() else {
        eprintln!("error: public corpora not installed (scripts/install_public_corpora.sh)");
        std::process::exit(1);
    };
    let mut lines = lines;
    lines.extend(
        corpus
            .iter()
            .filter(|e| !e.is_held_out() && !e.is_scam() && e.sender_role == "unknown")
            .map(|e| {
                (
                    "corpus benign, training split, unknown sender".to_owned(),
                    e.text.clone(),
                )
            }),
    );
    for wanted in [
        eval::UCI_HAM_TUNING,
        "chatterbot",
        "corpus benign, training split, unknown sender",
    ] {
        let mut total = 0u64;
        let mut flagged = 0u64;
        let mut codes: BTreeMap<String, u64> = BTreeMap::new();
        let mut terms: BTreeMap<String, u64> = BTreeMap::new();
        let mut words: BTreeMap<String, u64> = BTreeMap::new();
        let mut shown = Vec::new();
        for (_, text) in lines.iter().filter(|(set, _)| set == wanted) {
            total += 1;
            let scored = guard.score(text, Speaker::default(), config.suspicious_threshold);
            if scored.score < config.suspicious_threshold {
                continue;
            }
            flagged += 1;
            let fired: Vec<String> = scored
                .hits
                .iter()
                .filter(|h| !h.negated)
                .map(|h| {
                    *codes.entry(h.code.as_str().to_owned()).or_default() += 1;
                    for t in &h.terms {
                        *terms
                            .entry(format!("{}: {t}", h.code.as_str()))
                            .or_default() += 1;
                    }
                    format!("{}{:?}", h.code.as_str(), h.terms)
                })
                .collect();
            if fired.is_empty() {
                *codes.entry("(classifier only)".to_owned()).or_default() += 1;
            }
            for w in &scored.top_words {
                *words.entry(w.clone()).or_default() += 1;
            }
            shown.push(format!(
                "{:.2} {} {:?} | {}",
                scored.score,
                fired.join(" "),
                scored.top_words,
                text
            ));
        }
        println!(
            "## {wanted}: {flagged} of {total} flagged = {:.2}%",
            flagged as f64 * 100.0 / total.max(1) as f64
        );
        for (title, map) in [
            ("codes", &codes),
            ("terms", &terms),
            ("classifier words", &words),
        ] {
            let mut sorted: Vec<_> = map.iter().collect();
            sorted.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let top: Vec<String> = sorted
                .iter()
                .take(25)
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            println!("{title}: {}", top.join("; "));
        }
        if show_lines {
            println!("{}\n", shown.join("\n"));
        }
    }
}
