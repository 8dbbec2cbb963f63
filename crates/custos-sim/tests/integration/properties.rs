//! Invariants over many small configurations, including degenerate ones
//! (one agent, one customer, one day).

use custos_sim::SimConfig;
use proptest::prelude::*;

use crate::common::{check_invariants, run};

fn configs() -> impl Strategy<Value = SimConfig> {
    (
        1u32..=3,
        any::<u64>(),
        1u32..=30,
        1u32..=400,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(days, seed, agents, customers, attacks, jitter)| SimConfig {
                days,
                seed,
                agents,
                customers,
                attacks,
                jitter,
                ..SimConfig::default()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn small_runs_keep_every_invariant(config in configs()) {
        let (lines, truth) = run(config);
        let events = check_invariants(&lines, &truth, &config);
        prop_assert!(lines.len() as u32 >= config.agents + config.customers, "directory at least");
        prop_assert_eq!(truth.days, config.days);
        prop_assert_eq!(truth.seed, config.seed);
        if !config.attacks {
            prop_assert!(truth.attacks.is_empty());
        }
        // Same config, same bytes.
        let (again, _) = run(config);
        prop_assert_eq!(&lines, &again);
        prop_assert_eq!(events.list.len(), lines.len());
    }
}
