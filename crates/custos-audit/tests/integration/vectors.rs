//! The RFC 6962 / transparency-dev vectors in `tests/data/rfc6962_vectors.json`.

use custos_audit::{
    Hash, MemoryTree, ProofError, consistency_proof, empty_root, inclusion_proof, leaf_hash,
    root_from_inclusion, verify_consistency, verify_inclusion,
};
use serde::Deserialize;

use crate::{TestResult, hash_from_hex, hex};

#[derive(Deserialize)]
struct Vectors {
    leaves: Vec<String>,
    roots: Vec<String>,
    inclusion: Vec<InclusionVector>,
    consistency: Vec<ConsistencyVector>,
    hasher: HasherVectors,
}

#[derive(Deserialize)]
struct InclusionVector {
    index: u64,
    size: u64,
    path: Vec<String>,
}

#[derive(Deserialize)]
struct ConsistencyVector {
    old_size: u64,
    new_size: u64,
    path: Vec<String>,
}

#[derive(Deserialize)]
struct HasherVectors {
    empty_root: String,
    #[serde(rename = "leaf_hash_of_L123456")]
    leaf_hash_of_l123456: String,
}

struct Loaded {
    vectors: Vectors,
    leaves: Vec<Vec<u8>>,
    roots: Vec<Hash>,
    tree: MemoryTree,
}

fn load() -> Result<Loaded, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/rfc6962_vectors.json"
    ))?;
    let vectors: Vectors = serde_json::from_str(&text)?;
    let leaves = vectors
        .leaves
        .iter()
        .map(|leaf| hex(leaf))
        .collect::<Result<Vec<_>, _>>()?;
    let roots = vectors
        .roots
        .iter()
        .map(|root| hash_from_hex(root))
        .collect::<Result<Vec<_>, _>>()?;
    let mut tree = MemoryTree::new();
    for leaf in &leaves {
        tree.push_leaf_hash(leaf_hash(leaf));
    }
    Ok(Loaded {
        vectors,
        leaves,
        roots,
        tree,
    })
}

fn hashes(texts: &[String]) -> Result<Vec<Hash>, Box<dyn std::error::Error>> {
    texts.iter().map(|text| hash_from_hex(text)).collect()
}

#[test]
fn hasher_vectors() -> TestResult {
    let loaded = load()?;
    assert_eq!(
        empty_root(),
        hash_from_hex(&loaded.vectors.hasher.empty_root)?
    );
    assert_eq!(
        leaf_hash(b"L123456"),
        hash_from_hex(&loaded.vectors.hasher.leaf_hash_of_l123456)?
    );
    Ok(())
}

#[test]
fn roots_for_every_size_match_the_vectors_and_the_naive_model() -> TestResult {
    let loaded = load()?;
    assert_eq!(loaded.roots.len(), 8);
    for (size, expected) in (1u64..).zip(&loaded.roots) {
        assert_eq!(&loaded.tree.root(size)?, expected, "size {size}");
        let prefix = usize::try_from(size)?;
        assert_eq!(
            &crate::model::mth(&loaded.leaves[..prefix]),
            expected,
            "model, size {size}"
        );
    }
    Ok(())
}

#[test]
fn inclusion_vectors_are_generated_exactly_and_verify() -> TestResult {
    let loaded = load()?;
    for vector in &loaded.vectors.inclusion {
        let expected = hashes(&vector.path)?;
        let root = loaded.roots[usize::try_from(vector.size - 1)?];
        let leaf = leaf_hash(&loaded.leaves[usize::try_from(vector.index)?]);
        assert_eq!(
            inclusion_proof(&loaded.tree, vector.index, vector.size)?,
            expected
        );
        assert_eq!(
            verify_inclusion(vector.index, vector.size, &leaf, &expected, &root),
            Ok(())
        );
        for probe in corrupt_inclusion(vector.index, vector.size, &expected, &root) {
            assert!(
                verify_inclusion(probe.index, probe.size, &leaf, &probe.path, &probe.root).is_err(),
                "accepted `{}` for index {} size {}",
                probe.description,
                vector.index,
                vector.size
            );
        }
        assert!(
            verify_inclusion(
                vector.index,
                vector.size,
                &leaf_hash(b"WrongLeaf"),
                &expected,
                &root
            )
            .is_err()
        );
    }
    Ok(())
}

struct InclusionProbe {
    index: u64,
    size: u64,
    path: Vec<Hash>,
    root: Hash,
    description: String,
}

/// The corruptions transparency-dev's verifier test applies.
fn corrupt_inclusion(index: u64, size: u64, path: &[Hash], root: &Hash) -> Vec<InclusionProbe> {
    let probe =
        |index: u64, size: u64, path: Vec<Hash>, root: Hash, description: &str| InclusionProbe {
            index,
            size,
            path,
            root,
            description: description.to_owned(),
        };
    let mut probes = vec![
        probe(
            index.wrapping_sub(1),
            size,
            path.to_vec(),
            *root,
            "index - 1",
        ),
        probe(index + 1, size, path.to_vec(), *root, "index + 1"),
        probe(index ^ 2, size, path.to_vec(), *root, "index ^ 2"),
        probe(index, size * 2, path.to_vec(), *root, "size * 2"),
        probe(index, size / 2, path.to_vec(), *root, "size / 2"),
        probe(index, size, path.to_vec(), empty_root(), "empty root"),
        probe(
            index,
            size,
            [path, &[*root]].concat(),
            *root,
            "trailing root",
        ),
        probe(
            index,
            size,
            [&[*root], path].concat(),
            *root,
            "preceding root",
        ),
    ];
    for position in 0..path.len() {
        let mut wrong = path.to_vec();
        wrong[position][0] ^= 8;
        probes.push(probe(
            index,
            size,
            wrong,
            *root,
            &format!("modified path[{position}]"),
        ));
    }
    if let Some((_, shorter)) = path.split_last() {
        probes.push(probe(
            index,
            size,
            shorter.to_vec(),
            *root,
            "removed component",
        ));
    }
    probes
}

#[test]
fn consistency_vectors_are_generated_exactly_and_verify() -> TestResult {
    let loaded = load()?;
    for vector in &loaded.vectors.consistency {
        let expected = hashes(&vector.path)?;
        let old_root = loaded.roots[usize::try_from(vector.old_size - 1)?];
        let new_root = loaded.roots[usize::try_from(vector.new_size - 1)?];
        assert_eq!(
            consistency_proof(&loaded.tree, vector.old_size, vector.new_size)?,
            expected
        );
        assert_eq!(
            verify_consistency(
                vector.old_size,
                vector.new_size,
                &old_root,
                &new_root,
                &expected
            ),
            Ok(())
        );
        if expected.is_empty() {
            continue;
        }
        let (old, new) = (vector.old_size, vector.new_size);
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>, String)> = vec![
            (
                old - 1,
                new,
                old_root,
                new_root,
                expected.clone(),
                "old - 1".into(),
            ),
            (
                old + 1,
                new,
                old_root,
                new_root,
                expected.clone(),
                "old + 1".into(),
            ),
            (
                old ^ 2,
                new,
                old_root,
                new_root,
                expected.clone(),
                "old ^ 2".into(),
            ),
            (
                old,
                new * 2,
                old_root,
                new_root,
                expected.clone(),
                "new * 2".into(),
            ),
            (
                old,
                new / 2,
                old_root,
                new_root,
                expected.clone(),
                "new / 2".into(),
            ),
            (
                old,
                new,
                leaf_hash(b"WrongRoot"),
                new_root,
                expected.clone(),
                "wrong old root".into(),
            ),
            (
                old,
                new,
                old_root,
                leaf_hash(b"WrongRoot"),
                expected.clone(),
                "wrong new root".into(),
            ),
            (
                old,
                new,
                new_root,
                old_root,
                expected.clone(),
                "swapped roots".into(),
            ),
            (
                old,
                new,
                old_root,
                new_root,
                Vec::new(),
                "empty proof".into(),
            ),
            (
                old,
                new,
                old_root,
                new_root,
                [&expected[..], &[old_root]].concat(),
                "trailing root".into(),
            ),
            (
                old,
                new,
                old_root,
                new_root,
                [&[new_root], &expected[..]].concat(),
                "preceding root".into(),
            ),
            (
                old,
                new,
                old_root,
                new_root,
                expected[..expected.len() - 1].to_vec(),
                "truncated".into(),
            ),
        ];
        for position in 0..expected.len() {
            let mut wrong = expected.clone();
            wrong[position][0] ^= 16;
            probes.push((
                old,
                new,
                old_root,
                new_root,
                wrong,
                format!("modified proof[{position}]"),
            ));
        }
        for (old_size, new_size, old_root, new_root, proof, description) in probes {
            assert!(
                verify_consistency(old_size, new_size, &old_root, &new_root, &proof).is_err(),
                "accepted `{description}` for {old}..{new}"
            );
        }
    }
    Ok(())
}

#[test]
fn verification_refuses_impossible_sizes() {
    let some = leaf_hash(b"x");
    for (index, size) in [(0, 0), (1, 0), (2, 1)] {
        assert_eq!(
            root_from_inclusion(index, size, &some, &[]),
            Err(ProofError::IndexOutOfRange { index, size })
        );
    }
}
