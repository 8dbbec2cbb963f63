//! The tiled tree behind `AuditLog`: what is persisted so that opening a log
//! is cheap and proofs stay O(log n) without holding every node in memory.
//!
//! The leaves are cut into blocks of `TILE_WIDTH` (256). A *tile* holds the
//! node hashes of one complete block at levels 0 to 7 (510 hashes, 16,320
//! bytes); the block's root (its level-8 node) is stored apart, in
//! `tile_roots`. In memory the log keeps only:
//! - the *upper tree*: a `MemoryTree` whose leaves are the tile roots, so
//!   every node at level 8 and above (`n / 128` hashes: 2.5 MB at 10M entries);
//! - the *edge*: a `MemoryTree` of the last, incomplete block (< 256 leaves).
//!
//! Opening reads the tile roots and the edge rows and hashes `n / 256` nodes;
//! a proof reads the (at most a few) tiles it touches below level 8.

use std::borrow::Borrow;
use std::cell::RefCell;

use crate::hash::Hash;
use crate::proof::ProofError;
use crate::tree::{MemoryTree, NodeSource};

/// Levels of the tree inside one tile.
pub const TILE_HEIGHT: u32 = 8;
/// Leaves per tile.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;
/// Hashes stored per tile: levels 0..8 of a 256-leaf block, root excluded.
pub const TILE_HASHES: usize = 2 * (TILE_WIDTH as usize) - 2;
/// Bytes of a stored tile.
pub const TILE_BYTES: usize = TILE_HASHES * 32;

/// Offset in a tile of the first node at `level` (`level < TILE_HEIGHT`).
fn level_offset(level: u32) -> usize {
    let width = TILE_WIDTH as usize;
    2 * width - ((2 * width) >> level)
}

/// The nodes of one complete block below its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tile {
    // INVARIANT: TILE_HASHES hashes, level by level from the leaves up.
    hashes: Vec<Hash>,
}

impl Tile {
    /// Parses a stored tile; `None` if it is not `TILE_BYTES` long.
    pub fn from_bytes(bytes: &[u8]) -> Option<Tile> {
        if bytes.len() != TILE_BYTES {
            return None;
        }
        let hashes = bytes
            .chunks_exact(32)
            .map(|chunk| Hash::try_from(chunk).ok())
            .collect::<Option<Vec<Hash>>>()?;
        Some(Tile { hashes })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.hashes.concat()
    }

    /// Node at `level` (< 8), `offset` within the block.
    pub fn node(&self, level: u32, offset: u64) -> Option<Hash> {
        if level >= TILE_HEIGHT || offset >= TILE_WIDTH >> level {
            return None;
        }
        self.hashes
            .get(level_offset(level) + usize::try_from(offset).ok()?)
            .copied()
    }

    /// The leaf hashes of the block.
    pub fn leaf_hashes(&self) -> &[Hash] {
        &self.hashes[..TILE_WIDTH as usize]
    }

    /// Builds the tile of a complete block and returns it with the block's root.
    fn from_block(block: &MemoryTree) -> Option<(Tile, Hash)> {
        if block.len() != TILE_WIDTH {
            return None;
        }
        let mut hashes = Vec::with_capacity(TILE_HASHES);
        for level in 0..TILE_HEIGHT {
            for offset in 0..TILE_WIDTH >> level {
                hashes.push(block.node(level, offset)?);
            }
        }
        Some((Tile { hashes }, block.node(TILE_HEIGHT, 0)?))
    }
}

/// A tile completed by an append, to persist with the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileRow {
    /// Block number: the tile covers leaves `[index * 256, (index + 1) * 256)`.
    pub index: u64,
    /// The block's root, its level-8 node.
    pub root: Hash,
    /// `Tile::to_bytes`.
    pub hashes: Vec<u8>,
}

/// Builds the tile row of block `index` from its 256 leaf hashes.
pub fn tile_from_leaf_hashes(index: u64, leaf_hashes: &[Hash]) -> Option<TileRow> {
    let mut block = MemoryTree::new();
    for hash in leaf_hashes {
        block.push_leaf_hash(*hash);
    }
    let (tile, root) = Tile::from_block(&block)?;
    Some(TileRow {
        index,
        root,
        hashes: tile.to_bytes(),
    })
}

/// What the log holds in memory: the upper tree and the edge.
#[derive(Debug, Clone, Default)]
pub struct TiledTree {
    /// Leaves are the roots of the complete tiles, in order.
    upper: MemoryTree,
    /// The leaves after the last complete tile.
    edge: MemoryTree,
}

impl TiledTree {
    pub fn new() -> TiledTree {
        TiledTree::default()
    }

    /// From the roots of the complete tiles and the leaf hashes after them.
    pub fn from_parts(tile_roots: &[Hash], edge_leaf_hashes: &[Hash]) -> Option<TiledTree> {
        if edge_leaf_hashes.len() as u64 >= TILE_WIDTH {
            return None;
        }
        let mut tree = TiledTree::new();
        for root in tile_roots {
            tree.upper.push_leaf_hash(*root);
        }
        for hash in edge_leaf_hashes {
            tree.edge.push_leaf_hash(*hash);
        }
        Some(tree)
    }

    pub fn len(&self) -> u64 {
        self.upper.len() * TILE_WIDTH + self.edge.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of complete tiles.
    pub fn tile_count(&self) -> u64 {
        self.upper.len()
    }

    /// Appends one leaf hash; returns the tile it completes, if any.
    pub fn push_leaf_hash(&mut self, hash: Hash) -> Option<TileRow> {
        self.edge.push_leaf_hash(hash);
        if self.edge.len() < TILE_WIDTH {
            return None;
        }
        let block = std::mem::take(&mut self.edge);
        let (tile, root) = Tile::from_block(&block)?;
        let index = self.upper.len();
        self.upper.push_leaf_hash(root);
        Some(TileRow {
            index,
            root,
            hashes: tile.to_bytes(),
        })
    }

    /// Runs `compute` (a tree head or proof over `NodeSource`) with the tiles
    /// it needs below level 8, loaded by `load_tile`. A first pass with
    /// placeholder hashes finds which tiles those are (the shape of a
    /// computation does not depend on hash values); the second pass is exact.
    /// `load_tile` may hand out an owned `Tile` or a shared one (`Arc<Tile>`).
    pub fn compute<T, E, L>(
        &self,
        mut load_tile: impl FnMut(u64) -> Result<L, E>,
        compute: impl Fn(&dyn NodeSource) -> Result<T, ProofError>,
    ) -> Result<T, E>
    where
        E: From<ProofError>,
        L: Borrow<Tile>,
    {
        let recording = TiledSource::<L> {
            tree: self,
            loaded: Vec::new(),
            wanted: Some(RefCell::new(Vec::new())),
        };
        let first = compute(&recording);
        let wanted = recording
            .wanted
            .map(RefCell::into_inner)
            .unwrap_or_default();
        if wanted.is_empty() {
            return Ok(first?);
        }
        let mut loaded = Vec::with_capacity(wanted.len());
        for index in wanted {
            loaded.push((index, load_tile(index)?));
        }
        let exact = TiledSource {
            tree: self,
            loaded,
            wanted: None,
        };
        Ok(compute(&exact)?)
    }
}

/// A `NodeSource` over a `TiledTree` plus the tiles loaded for one call.
struct TiledSource<'a, L> {
    tree: &'a TiledTree,
    loaded: Vec<(u64, L)>,
    /// Recording pass: tiles asked for but not loaded (answered with zeros).
    wanted: Option<RefCell<Vec<u64>>>,
}

impl<L: Borrow<Tile>> NodeSource for TiledSource<'_, L> {
    fn size(&self) -> u64 {
        self.tree.len()
    }

    fn node(&self, level: u32, index: u64) -> Option<Hash> {
        if level >= TILE_HEIGHT {
            return self.tree.upper.node(level - TILE_HEIGHT, index);
        }
        let shift = TILE_HEIGHT - level;
        let tile = index >> shift;
        let offset = index - (tile << shift);
        let tiles = self.tree.upper.len();
        if tile == tiles {
            return self.tree.edge.node(level, offset);
        }
        if tile > tiles {
            return None;
        }
        if let Some((_, loaded)) = self.loaded.iter().find(|(at, _)| *at == tile) {
            return loaded.borrow().node(level, offset);
        }
        let wanted = self.wanted.as_ref()?;
        let mut wanted = wanted.borrow_mut();
        if !wanted.contains(&tile) {
            wanted.push(tile);
        }
        Some([0; 32])
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::hash::leaf_hash;
    use crate::tree::{consistency_proof, inclusion_proof, root};

    fn build(size: u64) -> (MemoryTree, TiledTree, HashMap<u64, Tile>) {
        let mut memory = MemoryTree::new();
        let mut tiled = TiledTree::new();
        let mut tiles = HashMap::new();
        for index in 0..size {
            let hash = leaf_hash(&index.to_be_bytes());
            memory.push_leaf_hash(hash);
            if let Some(row) = tiled.push_leaf_hash(hash) {
                let tile = Tile::from_bytes(&row.hashes).unwrap_or_else(|| unreachable!());
                tiles.insert(row.index, tile);
            }
        }
        (memory, tiled, tiles)
    }

    fn load(tiles: &HashMap<u64, Tile>) -> impl FnMut(u64) -> Result<Tile, ProofError> + '_ {
        |index| {
            tiles
                .get(&index)
                .cloned()
                .ok_or(ProofError::MissingNode { level: 0, index })
        }
    }

    #[test]
    fn level_offsets_pack_the_levels() {
        assert_eq!(level_offset(0), 0);
        assert_eq!(level_offset(1), 256);
        assert_eq!(level_offset(7), TILE_HASHES - 2);
        assert_eq!(TILE_BYTES, 16_320);
    }

    #[test]
    fn heads_and_proofs_match_the_memory_tree() {
        let size = 3 * TILE_WIDTH + 77;
        let (memory, tiled, tiles) = build(size);
        assert_eq!(tiled.len(), size);
        assert_eq!(tiled.tile_count(), 3);
        let sizes = [
            1,
            2,
            3,
            255,
            256,
            257,
            300,
            511,
            512,
            513,
            768,
            size - 1,
            size,
        ];
        for &tree_size in &sizes {
            let head = tiled.compute(load(&tiles), |source| root(source, tree_size));
            assert_eq!(head, memory.root(tree_size), "size {tree_size}");
            for index in (0..tree_size).step_by(37).chain([tree_size - 1]) {
                let proof = tiled.compute(load(&tiles), |source| {
                    inclusion_proof(source, index, tree_size)
                });
                assert_eq!(
                    proof,
                    inclusion_proof(&memory, index, tree_size),
                    "{index} in {tree_size}"
                );
            }
            for &old_size in &sizes {
                if old_size <= tree_size {
                    let proof = tiled.compute(load(&tiles), |source| {
                        consistency_proof(source, old_size, tree_size)
                    });
                    assert_eq!(
                        proof,
                        consistency_proof(&memory, old_size, tree_size),
                        "{old_size} to {tree_size}"
                    );
                }
            }
        }
    }

    #[test]
    fn reassembled_from_parts_gives_the_same_heads() {
        let (memory, tiled, tiles) = build(2 * TILE_WIDTH + 5);
        let roots: Vec<Hash> = (0..2)
            .filter_map(|index| memory.node(TILE_HEIGHT, index))
            .collect();
        let edge: Vec<Hash> = (2 * TILE_WIDTH..tiled.len())
            .filter_map(|index| memory.leaf_hash(index))
            .collect();
        let reopened = TiledTree::from_parts(&roots, &edge).unwrap_or_default();
        assert_eq!(reopened.len(), tiled.len());
        let size = reopened.len();
        assert_eq!(
            reopened.compute(load(&tiles), |source| root(source, size)),
            memory.root(size)
        );
    }

    #[test]
    fn a_tile_round_trips_through_bytes() {
        let (_, _, tiles) = build(TILE_WIDTH);
        let tile = &tiles[&0];
        assert_eq!(Tile::from_bytes(&tile.to_bytes()).as_ref(), Some(tile));
        assert_eq!(Tile::from_bytes(&[0; 32]), None);
        assert_eq!(tile.leaf_hashes().len(), 256);
        assert_eq!(tile.node(8, 0), None);
    }
}
