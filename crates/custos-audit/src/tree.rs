//! The append-only Merkle tree: where node hashes live (`NodeSource`), the
//! in-memory layout (`MemoryTree`), tree heads and proof generation.
//!
//! Layout: level 0 holds every leaf hash; level `k` holds the hash of every
//! *complete* subtree of `2^k` leaves, aligned on a multiple of `2^k`. Any
//! tree head or proof for a size `≤ n` is then made of O(log n) stored
//! perfect-subtree hashes plus O(log n) hashing of the ragged right edge.

use crate::hash::{Hash, empty_root, node_hash};
use crate::proof::ProofError;

/// Where the hashes of complete, aligned subtrees live.
pub trait NodeSource {
    /// Number of leaves available.
    fn size(&self) -> u64;
    /// Hash of the complete subtree at `level` covering leaves
    /// `[index << level, (index + 1) << level)`, if all of them exist.
    fn node(&self, level: u32, index: u64) -> Option<Hash>;
}

/// All leaf hashes plus every complete subtree node, in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    // INVARIANT: levels[k].len() == levels[0].len() >> k, and levels[k][j]
    // is the hash of leaves [j << k, (j + 1) << k).
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one leaf hash and completes the subtrees it closes.
    pub fn push_leaf_hash(&mut self, leaf_hash: Hash) {
        let mut level = 0;
        let mut carry = leaf_hash;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let nodes = &mut self.levels[level];
            nodes.push(carry);
            if nodes.len() % 2 == 1 {
                return;
            }
            let right = nodes[nodes.len() - 1];
            let left = nodes[nodes.len() - 2];
            carry = node_hash(&left, &right);
            level += 1;
        }
    }

    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Leaf hash at `index`, if present.
    pub fn leaf_hash(&self, index: u64) -> Option<Hash> {
        self.node(0, index)
    }

    /// Tree head of the first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, ProofError> {
        root(self, size)
    }
}

impl NodeSource for MemoryTree {
    fn size(&self) -> u64 {
        self.len()
    }

    fn node(&self, level: u32, index: u64) -> Option<Hash> {
        let nodes = self.levels.get(usize::try_from(level).ok()?)?;
        nodes.get(usize::try_from(index).ok()?).copied()
    }
}

/// Largest power of two strictly less than `n` (`n >= 2`).
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

fn check_size<S: NodeSource + ?Sized>(source: &S, size: u64) -> Result<(), ProofError> {
    if size > source.size() {
        return Err(ProofError::SizeBeyondTree {
            size,
            available: source.size(),
        });
    }
    Ok(())
}

/// MTH of leaves `[low, high)`, `low < high`.
fn range_hash<S: NodeSource + ?Sized>(source: &S, low: u64, high: u64) -> Result<Hash, ProofError> {
    let width = high - low;
    if width.is_power_of_two() && low % width == 0 {
        let level = width.trailing_zeros();
        return source
            .node(level, low >> level)
            .ok_or(ProofError::MissingNode {
                level,
                index: low >> level,
            });
    }
    let split = split_point(width);
    let left = range_hash(source, low, low + split)?;
    let right = range_hash(source, low + split, high)?;
    Ok(node_hash(&left, &right))
}

/// Tree head (MTH) of the first `size` leaves.
pub fn root<S: NodeSource + ?Sized>(source: &S, size: u64) -> Result<Hash, ProofError> {
    check_size(source, size)?;
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(source, 0, size)
}

/// Inclusion proof (audit path, RFC 9162 §2.1.3.1) of leaf `index` in the
/// tree of the first `size` leaves, leaf-side first.
pub fn inclusion_proof<S: NodeSource + ?Sized>(
    source: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError> {
    check_size(source, size)?;
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut path = Vec::new();
    let (mut low, mut high) = (0, size);
    // Walk from the root down, collecting siblings; reversed at the end.
    while high - low > 1 {
        let split = low + split_point(high - low);
        if index < split {
            path.push(range_hash(source, split, high)?);
            high = split;
        } else {
            path.push(range_hash(source, low, split)?);
            low = split;
        }
    }
    path.reverse();
    Ok(path)
}

/// Consistency proof (RFC 9162 §2.1.4.1) between the trees of the first
/// `old_size` and `new_size` leaves. Empty when `old_size` is 0 or equal.
pub fn consistency_proof<S: NodeSource + ?Sized>(
    source: &S,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, ProofError> {
    check_size(source, new_size)?;
    if old_size > new_size {
        return Err(ProofError::SizesOutOfOrder { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    let mut proof = Vec::new();
    // SUBPROOF(m, D[low:high], whole), iteratively, root-side first.
    let (mut low, mut high, mut m) = (0, new_size, old_size);
    let mut whole = true;
    loop {
        let width = high - low;
        if m == width {
            if !whole {
                proof.push(range_hash(source, low, high)?);
            }
            break;
        }
        let split = split_point(width);
        if m <= split {
            proof.push(range_hash(source, low + split, high)?);
            high = low + split;
        } else {
            proof.push(range_hash(source, low, low + split)?);
            low += split;
            m -= split;
            whole = false;
        }
    }
    proof.reverse();
    Ok(proof)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        for (n, want) in [
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 4),
            (8, 4),
            (9, 8),
            (1 << 40, 1 << 39),
        ] {
            assert_eq!(split_point(n), want, "n = {n}");
        }
    }

    #[test]
    fn levels_hold_complete_subtrees_only() {
        let mut tree = MemoryTree::new();
        for i in 0u8..5 {
            tree.push_leaf_hash(leaf_hash(&[i]));
        }
        assert_eq!(
            tree.node(1, 1),
            Some(node_hash(&leaf_hash(&[2]), &leaf_hash(&[3])))
        );
        assert_eq!(tree.node(1, 2), None);
        assert!(tree.node(2, 0).is_some());
        assert_eq!(tree.node(3, 0), None);
    }

    #[test]
    fn sizes_beyond_the_tree_are_refused() {
        let mut tree = MemoryTree::new();
        tree.push_leaf_hash(leaf_hash(b"a"));
        assert_eq!(
            tree.root(2),
            Err(ProofError::SizeBeyondTree {
                size: 2,
                available: 1
            })
        );
        assert_eq!(
            inclusion_proof(&tree, 1, 1),
            Err(ProofError::IndexOutOfRange { index: 1, size: 1 })
        );
        assert_eq!(
            consistency_proof(&tree, 2, 1),
            Err(ProofError::SizesOutOfOrder {
                old_size: 2,
                new_size: 1
            })
        );
    }
}
