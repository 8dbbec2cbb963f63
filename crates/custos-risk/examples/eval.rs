//! Prints the evaluation on the tuning seeds (1–5) and the held-out seeds
//! (101–105): `cargo run --release -p custos-risk --example eval`, or
//! `-- SEED...` for chosen seeds, `-- --misses SEED...` to list misses.

#[path = "../tests/support/eval.rs"]
mod eval;

use custos_risk::RiskConfig;

fn main() {
    let config = RiskConfig::default();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let misses = args.first().is_some_and(|a| a == "--misses");
    if misses {
        args.remove(0);
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
        if misses {
            println!("### misses\n");
            for m in &report.misses {
                println!("- {m}");
            }
            println!("\n### benign holds by rule\n");
            for (k, n) in &report.benign_hold_reasons {
                println!("- {n}: {k}");
            }
        }
    }
}
