//! The current directory entries the SQLite store has read, kept in memory
//! so the access broker's two lookups per decision (agent, ticket) do not
//! each cost a SQL read.
//!
//! **Invariant:** an entry is never older than the store. The store is the
//! only writer of its file, and every append that touches the directory
//! calls [`DirectoryCache::invalidate`] after its commit, before it
//! returns: the entries are removed and the generation moves on. A read
//! that missed inserts its result only if no invalidation happened since
//! it started ([`DirectoryCache::generation`] before the SQL read,
//! [`DirectoryCache::insert_if_current`] after), so a result read before a
//! commit can never be cached after that commit's invalidation.

use crate::store::{DirectoryKind, DirectoryRecord};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Entries kept at most; at the bound the cache starts over (a flood of
/// unknown ids cannot grow memory).
pub(crate) const DIRECTORY_CACHE_CAPACITY: usize = 65_536;

type Key = (DirectoryKind, String);

#[derive(Default)]
pub(crate) struct DirectoryCache {
    entries: Mutex<HashMap<Key, Option<DirectoryRecord>>>,
    generation: AtomicU64,
}

impl DirectoryCache {
    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Option<DirectoryRecord>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Take before reading the store on a miss.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// `Some(found)` on a hit (`found` is `None` for an id known absent).
    pub(crate) fn get(&self, kind: DirectoryKind, id: &str) -> Option<Option<DirectoryRecord>> {
        self.lock().get(&(kind, id.to_owned())).cloned()
    }

    pub(crate) fn insert_if_current(
        &self,
        generation: u64,
        kind: DirectoryKind,
        id: &str,
        found: Option<DirectoryRecord>,
    ) {
        let mut entries = self.lock();
        // Checked under the lock `invalidate` bumps under.
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= DIRECTORY_CACHE_CAPACITY {
            entries.clear();
        }
        entries.insert((kind, id.to_owned()), found);
    }

    /// Forgets `keys` (written by a committed append).
    pub(crate) fn invalidate<'a>(&self, keys: impl IntoIterator<Item = (DirectoryKind, &'a str)>) {
        let mut entries = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        for (kind, id) in keys {
            entries.remove(&(kind, id.to_owned()));
        }
    }
}
