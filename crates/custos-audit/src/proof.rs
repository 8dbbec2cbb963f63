//! Proof verification (RFC 9162 §2.1.3.2 and §2.1.4.2) and proof errors.

use crate::hash::{Hash, node_hash};

/// Why a proof could not be produced or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("tree size `{size}` is beyond the `{available}` leaves available")]
    SizeBeyondTree { size: u64, available: u64 },
    #[error("leaf index `{index}` is not below tree size `{size}`")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("old size `{old_size}` is larger than new size `{new_size}`")]
    SizesOutOfOrder { old_size: u64, new_size: u64 },
    #[error("node at level `{level}` index `{index}` is missing from the store")]
    MissingNode { level: u32, index: u64 },
    #[error("proof has the wrong number of hashes for these sizes")]
    WrongLength,
    #[error("recomputed root does not match the expected root")]
    RootMismatch,
}

/// Verifies that `leaf_hash` is leaf `index` of the tree of `size` leaves
/// whose head is `root`, given its audit path (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let computed = root_from_inclusion(index, size, leaf_hash, proof)?;
    if &computed != root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// The root an inclusion proof implies, or `WrongLength`.
pub fn root_from_inclusion(
    index: u64,
    size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut fn_ = index;
    let mut sn = size - 1;
    let mut running = *leaf_hash;
    for sibling in proof {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            running = node_hash(sibling, &running);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            running = node_hash(&running, sibling);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    Ok(running)
}

/// Verifies that the tree of `old_size` leaves with head `old_root` is a
/// prefix of the tree of `new_size` leaves with head `new_root`
/// (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizesOutOfOrder { old_size, new_size });
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        if old_root != new_root {
            return Err(ProofError::RootMismatch);
        }
        return Ok(());
    }
    if old_size == 0 {
        // Every tree extends the empty tree; there is nothing to prove.
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return Ok(());
    }
    let (first, rest) = match proof.split_first() {
        Some(split) => split,
        None => return Err(ProofError::WrongLength),
    };
    // When old_size is a power of two the old root is itself a node of the
    // new tree and the proof omits it.
    let (seed, rest) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        (first, rest)
    };
    let mut fn_ = old_size - 1;
    let mut sn = new_size - 1;
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let mut old_running = *seed;
    let mut new_running = *seed;
    for sibling in rest {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            old_running = node_hash(sibling, &old_running);
            new_running = node_hash(sibling, &new_running);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            new_running = node_hash(&new_running, sibling);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if &old_running != old_root || &new_running != new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    #[test]
    fn single_leaf_tree_root_is_the_leaf_hash() {
        let hash = leaf_hash(b"data");
        assert_eq!(verify_inclusion(0, 1, &hash, &[], &hash), Ok(()));
        assert_eq!(
            verify_inclusion(0, 1, &hash, &[hash], &hash),
            Err(ProofError::WrongLength)
        );
        assert_eq!(
            verify_inclusion(1, 1, &hash, &[], &hash),
            Err(ProofError::IndexOutOfRange { index: 1, size: 1 })
        );
    }

    #[test]
    fn consistency_edge_cases() {
        let a = leaf_hash(b"a");
        let b = leaf_hash(b"b");
        assert_eq!(verify_consistency(0, 0, &a, &a, &[]), Ok(()));
        assert_eq!(verify_consistency(0, 5, &a, &b, &[]), Ok(()));
        assert_eq!(verify_consistency(3, 3, &a, &a, &[]), Ok(()));
        assert_eq!(
            verify_consistency(3, 3, &a, &b, &[]),
            Err(ProofError::RootMismatch)
        );
        assert_eq!(
            verify_consistency(3, 3, &a, &a, &[a]),
            Err(ProofError::WrongLength)
        );
        assert_eq!(
            verify_consistency(2, 1, &a, &b, &[]),
            Err(ProofError::SizesOutOfOrder {
                old_size: 2,
                new_size: 1
            })
        );
        assert_eq!(
            verify_consistency(1, 2, &a, &b, &[]),
            Err(ProofError::WrongLength)
        );
    }
}
