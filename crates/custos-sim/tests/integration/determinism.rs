//! The output depends on the seed and nothing else.

use custos_sim::Simulator;

use crate::common::{run, small};

#[test]
fn same_seed_gives_byte_identical_output_and_truth() {
    let (a, truth_a) = run(small(6, 42));
    let (b, truth_b) = run(small(6, 42));
    assert_eq!(a, b);
    assert_eq!(truth_a, truth_b);
    assert!(a.len() > 5_000, "a non-trivial run, got {}", a.len());
}

#[test]
fn different_seeds_give_different_output() {
    let (a, _) = run(small(2, 1));
    let (b, _) = run(small(2, 2));
    assert_ne!(a, b);
    let differing = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    assert!(differing > a.len() / 2, "only {differing} lines differ");
}

#[test]
fn jitter_only_reorders_it_never_changes_events() {
    let strip_id = |line: &str| {
        let start = line.find(",\"id\":\"").unwrap();
        let end = start + line[start + 7..].find('"').unwrap() + 8;
        format!("{}{}", &line[..start], &line[end..])
    };
    let mut on = small(4, 9);
    on.jitter = true;
    let mut off = on;
    off.jitter = false;
    let (with, _) = run(on);
    let (without, _) = run(off);
    assert_eq!(with.len(), without.len());
    assert_ne!(with, without, "some events arrive late");
    let mut a: Vec<String> = with.iter().map(|l| strip_id(l)).collect();
    let mut b: Vec<String> = without.iter().map(|l| strip_id(l)).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn a_prefix_is_the_start_of_the_full_run() {
    // Taking a prefix must not change what comes before it.
    let full: Vec<String> = Simulator::new(small(3, 5)).unwrap().collect();
    let prefix: Vec<String> = Simulator::new(small(3, 5)).unwrap().take(10_000).collect();
    assert_eq!(&full[..prefix.len()], &prefix[..]);
}
