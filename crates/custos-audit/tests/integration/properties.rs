//! Property tests: random trees, every proof against the naive model.

use custos_audit::{
    MemoryTree, consistency_proof, inclusion_proof, leaf_hash, verify_consistency, verify_inclusion,
};
use proptest::prelude::*;

use crate::model;

fn leaves() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..12), 1..48)
}

fn tree_of(leaves: &[Vec<u8>]) -> MemoryTree {
    let mut tree = MemoryTree::new();
    for leaf in leaves {
        tree.push_leaf_hash(leaf_hash(leaf));
    }
    tree
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_root_matches_the_model(leaves in leaves()) {
        let tree = tree_of(&leaves);
        for size in 0..=leaves.len() {
            prop_assert_eq!(tree.root(size as u64).ok(), Some(model::mth(&leaves[..size])));
        }
    }

    #[test]
    fn every_inclusion_proof_matches_the_model_and_verifies(leaves in leaves(), flip in any::<u8>()) {
        let tree = tree_of(&leaves);
        for size in 1..=leaves.len() {
            let root = model::mth(&leaves[..size]);
            for index in 0..size {
                let proof = inclusion_proof(&tree, index as u64, size as u64);
                prop_assert_eq!(proof.as_ref().ok(), Some(&model::path(index, &leaves[..size])));
                let proof = proof.unwrap_or_default();
                let leaf = leaf_hash(&leaves[index]);
                prop_assert_eq!(verify_inclusion(index as u64, size as u64, &leaf, &proof, &root), Ok(()));
                // A modified leaf does not verify.
                let mut modified = leaves[index].clone();
                modified.push(flip);
                prop_assert!(verify_inclusion(index as u64, size as u64, &leaf_hash(&modified), &proof, &root).is_err());
            }
        }
    }

    #[test]
    fn every_consistency_proof_matches_the_model_and_verifies(leaves in leaves(), flip in any::<u8>()) {
        let tree = tree_of(&leaves);
        let n = leaves.len();
        let new_root = model::mth(&leaves);
        for m in 0..=n {
            let old_root = model::mth(&leaves[..m]);
            let proof = consistency_proof(&tree, m as u64, n as u64);
            prop_assert_eq!(proof.as_ref().ok(), Some(&model::consistency(m, &leaves)));
            let proof = proof.unwrap_or_default();
            prop_assert_eq!(verify_consistency(m as u64, n as u64, &old_root, &new_root, &proof), Ok(()));
            if m > 0 && m < n {
                // A history where one old leaf differs is not consistent.
                let mut forked = leaves[..m].to_vec();
                forked[m / 2].push(flip);
                let forked_root = model::mth(&forked);
                prop_assert!(verify_consistency(m as u64, n as u64, &forked_root, &new_root, &proof).is_err());
            }
        }
    }
}
