//! Retrains the shipped model from the committed corpus:
//! `cargo run --release -p custos-conversation --example train [-- SEED]`.

use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let inputs = [
        root.join("corpus/generated.jsonl"),
        root.join("corpus/handwritten.jsonl"),
    ];
    let output = root.join("model/conversation-v1.bin");
    match custos_conversation::train_files(&inputs, &output, seed) {
        Ok(report) => eprintln!("trained on {report:?}, wrote {}", output.display()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
