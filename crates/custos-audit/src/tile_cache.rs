//! A bounded LRU cache of decoded tiles, inside `AuditLog`.
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

use crate::tiles::Tile;

/// Default capacity of an `AuditLog`'s tile cache, in tiles: 1,024 tiles of
/// 16,320 bytes of hashes each, about 16 MB (17 MB with bookkeeping), the
/// lower levels of the last 262,144 entries, or any 1,024 blocks.
pub const DEFAULT_TILE_CACHE_TILES: usize = 1024;

/// Counters of an `AuditLog`'s tile cache since the log was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TileCacheStats {
    /// Most tiles kept (0: the cache is off).
    pub capacity: usize,
    /// Tiles kept now.
    pub len: usize,
    /// Tile loads served from the cache.
    pub hits: u64,
    /// Tile loads read from the store.
    pub misses: u64,
}

/// Least-recently-used tiles by block index. O(log n) per operation.
pub(crate) struct TileCache {
    capacity: usize,
    /// Bumped on every use; the stamp orders tiles by recency.
    clock: u64,
    tiles: HashMap<u64, (Arc<Tile>, u64)>,
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

    /// The cached tile `index`, now the most recently used; counts a hit
    /// or a miss.
    pub(crate) fn get(&mut self, index: u64) -> Option<Arc<Tile>> {
        let stamp = self.tick();
        let Some((tile, used)) = self.tiles.get_mut(&index) else {
            self.misses += 1;
            return None;
        };
        let previous = std::mem::replace(used, stamp);
        let tile = Arc::clone(tile);
        self.by_use.remove(&previous);
        self.by_use.insert(stamp, index);
        self.hits += 1;
        Some(tile)
    }

    /// Keeps `tile` as block `index`, the most recently used, evicting the
    /// least recently used tile if the cache is full.
    pub(crate) fn insert(&mut self, index: u64, tile: Arc<Tile>) {
        if self.capacity == 0 {
            return;
        }
        let stamp = self.tick();
        if let Some((_, previous)) = self.tiles.insert(index, (tile, stamp)) {
            self.by_use.remove(&previous);
        }
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
    use crate::tiles::{TILE_WIDTH, tile_from_leaf_hashes};

    fn tile(seed: u64) -> Arc<Tile> {
        let hashes: Vec<_> = (0..TILE_WIDTH)
            .map(|leaf| leaf_hash(&(seed * TILE_WIDTH + leaf).to_be_bytes()))
            .collect();
        let row = tile_from_leaf_hashes(seed, &hashes).unwrap_or_else(|| unreachable!());
        Arc::new(Tile::from_bytes(&row.hashes).unwrap_or_else(|| unreachable!()))
    }

    #[test]
    fn keeps_the_most_recently_used_tiles() {
        let mut cache = TileCache::new(2);
        cache.insert(0, tile(0));
        cache.insert(1, tile(1));
        assert_eq!(cache.get(0).as_deref(), Some(&*tile(0)));
        cache.insert(2, tile(2)); // evicts 1, the least recently used
        assert!(cache.get(1).is_none());
        assert!(cache.get(0).is_some());
        assert!(cache.get(2).is_some());
        let stats = cache.stats();
        assert_eq!((stats.len, stats.hits, stats.misses), (2, 3, 1));
        cache.set_capacity(1);
        assert_eq!(cache.stats().len, 1);
        assert!(cache.get(2).is_some());
        assert_eq!(cache.by_use.len(), 1);
    }

    #[test]
    fn a_zero_capacity_cache_keeps_nothing() {
        let mut cache = TileCache::new(0);
        cache.insert(0, tile(0));
        assert!(cache.get(0).is_none());
        assert_eq!(cache.stats().len, 0);
        let mut cache = TileCache::new(3);
        cache.insert(5, tile(5));
        cache.insert(5, tile(5));
        assert_eq!((cache.tiles.len(), cache.by_use.len()), (1, 1));
        cache.set_capacity(0);
        assert_eq!((cache.tiles.len(), cache.by_use.len()), (0, 0));
    }
}
