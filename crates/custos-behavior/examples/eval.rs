//! Prints the evaluation per attack style on the tuning seeds (1–5) and the
//! held-out seeds (101–105): `cargo run --release -p custos-behavior --example eval`.

#[path = "../tests/support/eval.rs"]
mod eval;
#[path = "../tests/support/features.rs"]
mod features;

use custos_behavior::BehaviorConfig;

fn main() {
    let config = BehaviorConfig::default();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "--features") {
        // Per agent-day features for the isolation-forest baseline, as CSV
        // on standard output: `--features SEED...`.
        args.remove(0);
        println!("{}", features::HEADER);
        for seed in args.iter().filter_map(|a| a.parse::<u64>().ok()) {
            for row in features::feature_rows(seed) {
                println!("{row}");
            }
        }
        return;
    }
    let splits: Vec<(&str, Vec<u64>)> = if args.is_empty() {
        vec![
            ("tuning", vec![1, 2, 3, 4, 5]),
            ("held-out", vec![101, 102, 103, 104, 105]),
        ]
    } else {
        vec![(
            "seeds",
            args.iter().filter_map(|a| a.parse().ok()).collect(),
        )]
    };
    for (name, seeds) in splits {
        let report = eval::evaluate_seeds(&seeds, &config);
        println!("## {name}\n\n{}", report.to_markdown());
    }
}
