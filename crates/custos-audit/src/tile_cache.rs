//! A bounded LRU cache of decoded tiles, inside `AuditLog`, counted in
//! tiles but filled part by part: a proof that misses reads only the two
//! parts it needs (see `tiles`), and keeps them under their tile.
//!
//! The tile of a complete block never changes once written (the log is
//! append-only; the partial block at the edge is kept in memory and never
//! cached), so a cached tile never goes stale and nothing is invalidated
//! on append. The cache only serves proofs: `verify_store` reads every row
//! from the store itself, so a tile tampered with in the store after it was
//! cached is still found by the verifier (and by a fresh open's proofs,
//! which fail at the client).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::tiles::{TILE_PARTS, TilePart};

/// Default capacity of an `AuditLog`'s tile cache, in tiles: 1,024 tiles of
/// at most 16,320 bytes of hashes each, about 16 MB (17 MB with
/// bookkeeping), the lower levels of the last 262,144 entries, or any 1,024
/// blocks.
pub const DEFAULT_TILE_CACHE_TILES: usize = 1024;

/// Counters of an `AuditLog`'s tile cache since the log was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TileCacheStats {
    /// Most tiles kept (0: the cache is off).
    pub capacity: usize,
    /// Tiles kept now (whole or in part).
    pub len: usize,
    /// Tile part loads served from the cache.
    pub hits: u64,
    /// Tile part loads read from the store.
    pub misses: u64,
}

/// The parts of one tile held so far, by part number.
type CachedParts = [Option<Arc<TilePart>>; TILE_PARTS as usize];

/// Least-recently-used tiles by block index. O(log n) per operation.
pub(crate) struct TileCache {
    capacity: usize,
    /// Bumped on every use; the stamp orders tiles by recency.
    clock: u64,
    tiles: HashMap<u64, (CachedParts, u64)>,
    /// stamp -> block index, oldest first.
    by_use: BTreeMap<u64, u64>,
    hits: u64,
    misses: u64,
}

impl std::fmt::Debug for TileCache {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TileCache")
            .field("capacity", &self.capacity)
            .field("len", &self.tiles.len())
            .field("hits", &self.hits)
            .field("misses", &self.misses)
            .finish_non_exhaustive()
    }
}

impl TileCache {
    pub(crate) fn new(capacity: usize) -> TileCache {
        TileCache {
            capacity,
            clock: 0,
            tiles: HashMap::new(),
            by_use: BTreeMap::new(),
            hits: 0,
            misses: 0,
        }
    }

    pub(crate) fn stats(&self) -> TileCacheStats {
        TileCacheStats {
            capacity: self.capacity,
            len: self.tiles.len(),
            hits: self.hits,
            misses: self.misses,
        }
    }

    /// Changes the capacity, dropping the least recently used tiles beyond it.
    pub(crate) fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
        self.evict_to(capacity);
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// Part `part` of tile `index` if cached; the tile becomes the most
    /// recently used. Counts a hit or a miss.
    pub(crate) fn get(&mut self, index: u64, part: u64) -> Option<Arc<TilePart>> {
        let stamp = self.tick();
        let found = self.tiles.get_mut(&index).map(|(parts, used)| {
            let previous = std::mem::replace(used, stamp);
            let part = usize::try_from(part)
                .ok()
                .and_then(|part| parts.get(part))
                .and_then(Option::clone);
            (previous, part)
        });
        let Some((previous, part)) = found else {
            self.misses += 1;
            return None;
        };
        self.by_use.remove(&previous);
        self.by_use.insert(stamp, index);
        match part {
            Some(part) => {
                self.hits += 1;
                Some(part)
            }
            None => {
                self.misses += 1;
                None
            }
        }
    }

    /// Keeps `tile_part` as part `part` of tile `index`, the most recently
    /// used tile, evicting the least recently used tile if the cache is full.
    pub(crate) fn insert(&mut self, index: u64, part: u64, tile_part: Arc<TilePart>) {
        if self.capacity == 0 {
            return;
        }
        let Some(slot) = usize::try_from(part)
            .ok()
            .filter(|part| *part < TILE_PARTS as usize)
        else {
            return;
        };
        let stamp = self.tick();
        let (parts, used) = self
            .tiles
            .entry(index)
            .or_insert_with(|| (Default::default(), stamp));
        parts[slot] = Some(tile_part);
        let previous = std::mem::replace(used, stamp);
        self.by_use.remove(&previous);
        self.by_use.insert(stamp, index);
        self.evict_to(self.capacity);
    }

    fn evict_to(&mut self, capacity: usize) {
        while self.tiles.len() > capacity {
            let Some((_, index)) = self.by_use.pop_first() else {
                break;
            };
            self.tiles.remove(&index);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::tiles::{TILE_WIDTH, TOP_PART, Tile, tile_from_leaf_hashes};

    fn part(seed: u64, part: u64) -> Arc<TilePart> {
        let hashes: Vec<_> = (0..TILE_WIDTH)
            .map(|leaf| leaf_hash(&(seed * TILE_WIDTH + leaf).to_be_bytes()))
            .collect();
        let row = tile_from_leaf_hashes(seed, &hashes).unwrap_or_else(|| unreachable!());
        let tile = Tile::from_bytes(&row.hashes).unwrap_or_else(|| unreachable!());
        Arc::new(tile.part(part).unwrap_or_else(|| unreachable!()))
    }

    #[test]
    fn keeps_the_most_recently_used_tiles() {
        let mut cache = TileCache::new(2);
        cache.insert(0, 3, part(0, 3));
        cache.insert(1, 3, part(1, 3));
        assert_eq!(cache.get(0, 3).as_deref(), Some(&*part(0, 3)));
        cache.insert(2, TOP_PART, part(2, TOP_PART)); // evicts 1, the least recently used
        assert!(cache.get(1, 3).is_none());
        assert!(cache.get(0, 3).is_some());
        assert!(cache.get(2, TOP_PART).is_some());
        let stats = cache.stats();
        assert_eq!((stats.len, stats.hits, stats.misses), (2, 3, 1));
        cache.set_capacity(1);
        assert_eq!(cache.stats().len, 1);
        assert!(cache.get(2, TOP_PART).is_some());
        assert_eq!(cache.by_use.len(), 1);
    }

    #[test]
    fn parts_of_a_tile_count_once_and_a_missing_part_is_a_miss() {
        let mut cache = TileCache::new(1);
        cache.insert(7, 0, part(7, 0));
        cache.insert(7, TOP_PART, part(7, TOP_PART));
        assert_eq!(cache.stats().len, 1);
        assert!(cache.get(7, 1).is_none());
        assert_eq!(cache.get(7, 0).as_deref(), Some(&*part(7, 0)));
        assert_eq!(cache.get(7, TOP_PART).as_deref(), Some(&*part(7, TOP_PART)));
        cache.insert(7, TILE_PARTS, part(7, 0)); // not a part number: ignored
        assert!(cache.get(7, TILE_PARTS).is_none());
        let stats = cache.stats();
        assert_eq!((stats.len, stats.hits, stats.misses), (1, 2, 2));
        cache.insert(8, 0, part(8, 0)); // evicts tile 7 with all its parts
        assert!(cache.get(7, 0).is_none());
        assert_eq!((cache.tiles.len(), cache.by_use.len()), (1, 1));
    }

    #[test]
    fn a_zero_capacity_cache_keeps_nothing() {
        let mut cache = TileCache::new(0);
        cache.insert(0, 0, part(0, 0));
        assert!(cache.get(0, 0).is_none());
        assert_eq!(cache.stats().len, 0);
        let mut cache = TileCache::new(3);
        cache.insert(5, 0, part(5, 0));
        cache.insert(5, 0, part(5, 0));
        assert_eq!((cache.tiles.len(), cache.by_use.len()), (1, 1));
        cache.set_capacity(0);
        assert_eq!((cache.tiles.len(), cache.by_use.len()), (0, 0));
    }
}
