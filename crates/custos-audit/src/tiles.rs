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
//! A tile is stored as `TILE_PARTS` (17) *parts* of 30 hashes (960 bytes,
//! one row each, inside one SQLite page): part `p < 16` holds levels 0–3 of
//! leaves `[16p, 16p + 16)`, part 16 holds levels 4–7 of the whole block.
//! A proof of one entry needs two parts (its bottom part and the top part),
//! so a tile that is not cached costs two small reads, not 16 KB. Logs
//! written before parts existed keep whole tiles (`Tile::from_bytes`, the
//! level-by-level layout of `TileRow::hashes`), still read.
//!
//! Opening reads the tile roots and the edge rows and hashes `n / 256` nodes;
//! a proof reads the (at most a few) tile parts it touches below level 8.

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
/// Bytes of a whole tile (`TileRow::hashes`, and a stored tile of a log
/// written before parts).
pub const TILE_BYTES: usize = TILE_HASHES * 32;
/// Levels of the tile inside one part.
pub const PART_HEIGHT: u32 = 4;
/// Nodes at the bottom level of a part.
const PART_WIDTH: u64 = 1 << PART_HEIGHT;
/// Hashes per part: levels 0..4 of a 16-node subtree, root excluded.
pub const PART_HASHES: usize = 2 * (PART_WIDTH as usize) - 2;
/// Bytes of a stored part.
pub const PART_BYTES: usize = PART_HASHES * 32;
/// Parts per tile: 16 bottom parts (levels 0–3), then the top part (4–7).
pub const TILE_PARTS: u64 = TILE_WIDTH / PART_WIDTH + 1;
/// The part holding levels 4–7 of a tile.
pub const TOP_PART: u64 = TILE_PARTS - 1;

/// Row key of part `part` of tile `tile` in `tile_parts`: a tile's parts are
/// adjacent. `None` past `u64`.
pub fn part_key(tile: u64, part: u64) -> Option<u64> {
    tile.checked_mul(TILE_PARTS)?.checked_add(part)
}

/// The part of a tile holding node (`level` < 8, `offset`), and the node's
/// level and offset inside that part.
fn part_of(level: u32, offset: u64) -> (u64, u32, u64) {
    if level < PART_HEIGHT {
        let shift = PART_HEIGHT - level;
        let part = offset >> shift;
        (part, level, offset - (part << shift))
    } else {
        (TOP_PART, level - PART_HEIGHT, offset)
    }
}

/// Offset in a part of its first node at `level` (`level < PART_HEIGHT`).
fn part_level_offset(level: u32) -> usize {
    let width = PART_WIDTH as usize;
    2 * width - ((2 * width) >> level)
}

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

    /// Part `part` (< `TILE_PARTS`) of this tile.
    pub fn part(&self, part: u64) -> Option<TilePart> {
        if part >= TILE_PARTS {
            return None;
        }
        let mut hashes = Vec::with_capacity(PART_HASHES);
        for level in 0..PART_HEIGHT {
            let width = PART_WIDTH >> level;
            for offset in 0..width {
                let (level, offset) = if part == TOP_PART {
                    (level + PART_HEIGHT, offset)
                } else {
                    (level, part * width + offset)
                };
                hashes.push(self.node(level, offset)?);
            }
        }
        Some(TilePart { hashes })
    }

    /// All `TILE_PARTS` parts, in order.
    pub fn parts(&self) -> Vec<TilePart> {
        (0..TILE_PARTS).filter_map(|part| self.part(part)).collect()
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

/// One stored part of a tile: 30 node hashes (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TilePart {
    // INVARIANT: PART_HASHES hashes, level by level from the bottom up.
    hashes: Vec<Hash>,
}

impl TilePart {
    /// Parses a stored part; `None` if it is not `PART_BYTES` long.
    pub fn from_bytes(bytes: &[u8]) -> Option<TilePart> {
        if bytes.len() != PART_BYTES {
            return None;
        }
        let hashes = bytes
            .chunks_exact(32)
            .map(|chunk| Hash::try_from(chunk).ok())
            .collect::<Option<Vec<Hash>>>()?;
        Some(TilePart { hashes })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.hashes.concat()
    }

    /// Node at `level` (< 4) and `offset` within the part.
    fn node(&self, level: u32, offset: u64) -> Option<Hash> {
        if level >= PART_HEIGHT || offset >= PART_WIDTH >> level {
            return None;
        }
        self.hashes
            .get(part_level_offset(level) + usize::try_from(offset).ok()?)
            .copied()
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

impl TileRow {
    /// The stored parts of this tile, `(part_key, bytes)` in order; `None`
    /// if `hashes` is not a whole tile or the key overflows.
    pub fn part_rows(&self) -> Option<Vec<(u64, Vec<u8>)>> {
        let tile = Tile::from_bytes(&self.hashes)?;
        (0..TILE_PARTS)
            .map(|part| Some((part_key(self.index, part)?, tile.part(part)?.to_bytes())))
            .collect()
    }
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

    /// Runs `compute` (a tree head or proof over `NodeSource`) with the tile
    /// parts it needs below level 8, loaded by `load_parts(tile, parts)`
    /// (the parts of one tile, returned in the order asked). A first pass
    /// with placeholder hashes finds which parts those are (the shape of a
    /// computation does not depend on hash values); the second pass is
    /// exact. `load_parts` may hand out owned parts or shared ones
    /// (`Arc<TilePart>`).
    pub fn compute<T, E, L>(
        &self,
        mut load_parts: impl FnMut(u64, &[u64]) -> Result<Vec<L>, E>,
        compute: impl Fn(&dyn NodeSource) -> Result<T, ProofError>,
    ) -> Result<T, E>
    where
        E: From<ProofError>,
        L: Borrow<TilePart>,
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
        // Grouped by tile, in first-asked order: one load per tile.
        let mut by_tile: Vec<(u64, Vec<u64>)> = Vec::new();
        for (tile, part) in wanted {
            match by_tile.iter_mut().find(|(at, _)| *at == tile) {
                Some((_, parts)) => parts.push(part),
                None => by_tile.push((tile, vec![part])),
            }
        }
        let mut loaded = Vec::new();
        for (tile, parts) in by_tile {
            let parts_loaded = load_parts(tile, &parts)?;
            loaded.extend(parts.into_iter().map(|part| (tile, part)).zip(parts_loaded));
        }
        let exact = TiledSource {
            tree: self,
            loaded,
            wanted: None,
        };
        Ok(compute(&exact)?)
    }
}

/// A `NodeSource` over a `TiledTree` plus the tile parts loaded for one call.
struct TiledSource<'a, L> {
    tree: &'a TiledTree,
    /// `((tile, part), part)`.
    loaded: Vec<((u64, u64), L)>,
    /// Recording pass: `(tile, part)` asked for but not loaded (answered
    /// with zeros).
    wanted: Option<RefCell<Vec<(u64, u64)>>>,
}

impl<L: Borrow<TilePart>> NodeSource for TiledSource<'_, L> {
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
        let (part, part_level, part_offset) = part_of(level, offset);
        if let Some((_, loaded)) = self.loaded.iter().find(|(at, _)| *at == (tile, part)) {
            return loaded.borrow().node(part_level, part_offset);
        }
        let wanted = self.wanted.as_ref()?;
        let mut wanted = wanted.borrow_mut();
        if !wanted.contains(&(tile, part)) {
            wanted.push((tile, part));
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

    fn load(
        tiles: &HashMap<u64, Tile>,
    ) -> impl FnMut(u64, &[u64]) -> Result<Vec<TilePart>, ProofError> + '_ {
        |index, parts| {
            parts
                .iter()
                .map(|part| tiles.get(&index).and_then(|tile| tile.part(*part)))
                .collect::<Option<Vec<_>>>()
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

    #[test]
    fn parts_hold_every_node_of_the_tile_once() {
        assert_eq!((PART_HASHES, PART_BYTES, TILE_PARTS), (30, 960, 17));
        assert_eq!(TILE_PARTS as usize * PART_HASHES, TILE_HASHES);
        let (_, _, tiles) = build(2 * TILE_WIDTH);
        let tile = &tiles[&1];
        let parts = tile.parts();
        assert_eq!(parts.len(), 17);
        for level in 0..TILE_HEIGHT {
            for offset in 0..TILE_WIDTH >> level {
                let (part, part_level, part_offset) = part_of(level, offset);
                assert_eq!(
                    parts[part as usize].node(part_level, part_offset),
                    tile.node(level, offset),
                    "level {level} offset {offset}"
                );
            }
        }
        let part = &parts[TOP_PART as usize];
        assert_eq!(TilePart::from_bytes(&part.to_bytes()).as_ref(), Some(part));
        assert_eq!(TilePart::from_bytes(&[0; 32]), None);
        assert_eq!(tile.part(TILE_PARTS), None);
        // Stored rows: keys adjacent per tile, bytes the parts'.
        let row = tile_from_leaf_hashes(1, tile.leaf_hashes()).unwrap_or_else(|| unreachable!());
        let rows = row.part_rows().unwrap_or_default();
        assert_eq!(rows.len(), 17);
        assert_eq!(rows[0].0, 17);
        assert_eq!(rows[16], (33, part.to_bytes()));
        assert_eq!(part_key(u64::MAX, 0), None);
    }
}
