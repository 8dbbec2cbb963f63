//! A small bounded LRU of unwrapped data keys, so a hot customer's fields
//! are decrypted without unwrapping the data key every time.
//!
//! A cached key is dropped (and so zeroized: `DataKey` zeroizes its bytes and
//! its cipher on drop) when it is evicted, when its customer is erased, and
//! when the vault is dropped. The cache never decides whether a customer may
//! be read: the vault looks the customer's row up first on every read, so an
//! erasure in another process takes effect at once.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::format::{DataKey, DekId};

/// Unwrapped data keys by id, least recently used evicted first.
pub(crate) struct DekCache {
    capacity: usize,
    clock: u64,
    /// Key, the customer it was unwrapped for, last use.
    entries: HashMap<DekId, (Arc<DataKey>, String, u64)>,
    by_use: BTreeMap<u64, DekId>,
}

impl DekCache {
    /// A cache of at most `capacity` keys; 0 disables caching.
    pub(crate) fn new(capacity: usize) -> DekCache {
        DekCache {
            capacity,
            clock: 0,
            entries: HashMap::with_capacity(capacity.min(4096)),
            by_use: BTreeMap::new(),
        }
    }

    /// The key `id` if it was unwrapped for `customer`: a key is bound to
    /// its customer by the wrapped key's AAD, and a hit must not skip that
    /// check for a row whose wrapped key was copied from another customer.
    pub(crate) fn get(&mut self, id: &DekId, customer: &str) -> Option<Arc<DataKey>> {
        self.clock += 1;
        let clock = self.clock;
        let (key, owner, last_use) = self.entries.get_mut(id)?;
        if owner != customer {
            return None;
        }
        self.by_use.remove(last_use);
        *last_use = clock;
        self.by_use.insert(clock, *id);
        Some(Arc::clone(key))
    }

    pub(crate) fn insert(&mut self, customer: &str, key: Arc<DataKey>) {
        if self.capacity == 0 {
            return;
        }
        self.remove(&key.id());
        while self.entries.len() >= self.capacity {
            let Some((_, oldest)) = self.by_use.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
        self.clock += 1;
        self.by_use.insert(self.clock, key.id());
        self.entries
            .insert(key.id(), (key, customer.to_owned(), self.clock));
    }

    pub(crate) fn remove(&mut self, id: &DekId) {
        if let Some((_, _, last_use)) = self.entries.remove(id) {
            self.by_use.remove(&last_use);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.by_use.clear();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::DEK_ID_LEN;
    use crate::secret::SecretKey;

    fn key(byte: u8) -> Arc<DataKey> {
        Arc::new(DataKey::from_parts(
            DekId([byte; DEK_ID_LEN]),
            SecretKey::from_bytes([byte; 32]),
        ))
    }

    fn id(byte: u8) -> DekId {
        DekId([byte; DEK_ID_LEN])
    }

    #[test]
    fn least_recently_used_is_evicted_first() {
        let mut cache = DekCache::new(2);
        cache.insert("c", key(1));
        cache.insert("c", key(2));
        assert!(cache.get(&id(1), "c").is_some(), "1 is now the most recent");
        cache.insert("c", key(3));
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&id(2), "c").is_none(), "2 was the least recent");
        assert!(cache.get(&id(1), "c").is_some());
        assert!(cache.get(&id(3), "c").is_some());
    }

    #[test]
    fn removal_reinsertion_and_zero_capacity() {
        let mut cache = DekCache::new(2);
        cache.insert("c", key(1));
        cache.insert("c", key(1));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.by_use.len(), 1);
        cache.remove(&id(1));
        assert!(cache.get(&id(1), "c").is_none());
        cache.insert("c", key(4));
        cache.clear();
        assert_eq!(cache.len(), 0);
        let mut off = DekCache::new(0);
        off.insert("c", key(1));
        assert!(off.get(&id(1), "c").is_none());
    }

    #[test]
    fn evicted_keys_are_dropped_when_no_reader_holds_them() {
        let mut cache = DekCache::new(1);
        let first = key(1);
        let weak = Arc::downgrade(&first);
        cache.insert("c", first);
        assert!(
            cache.get(&id(1), "other").is_none(),
            "bound to its customer"
        );
        cache.insert("c", key(2));
        assert!(
            weak.upgrade().is_none(),
            "evicted key was dropped (and zeroized)"
        );
    }
}
