//! Counted holds per key, under a cap: how many connections one client address has open, how
//! many event streams one bearer token or address holds, how many message reads one token
//! runs at once (issue 16). A [`Hold`] is released when dropped, so a hold moved into a
//! connection task or a response stream lasts exactly as long as it does.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

/// Open holds per key.
pub struct Holds<K> {
    counts: Mutex<HashMap<K, usize>>,
}

impl<K> Default for Holds<K> {
    fn default() -> Self {
        Holds {
            counts: Mutex::new(HashMap::new()),
        }
    }
}

/// One hold of a key; released on drop.
pub struct Hold<K: Hash + Eq> {
    holds: Arc<Holds<K>>,
    key: K,
}

impl<K: Hash + Eq + Clone> Holds<K> {
    /// Takes a hold of `key`, or `None` if it already has `cap` (a cap of 0 means no cap).
    pub fn try_hold(holds: &Arc<Holds<K>>, key: K, cap: usize) -> Option<Hold<K>> {
        let mut counts = holds.lock();
        let count = counts.entry(key.clone()).or_insert(0);
        if cap != 0 && *count >= cap {
            return None;
        }
        *count += 1;
        Some(Hold {
            holds: Arc::clone(holds),
            key,
        })
    }

    /// The holds of `key` now.
    pub fn count(&self, key: &K) -> usize {
        self.lock().get(key).copied().unwrap_or(0)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, usize>> {
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<K: Hash + Eq> Drop for Hold<K> {
    fn drop(&mut self) {
        let mut counts = self
            .holds
            .counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = counts.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_stop_at_the_cap_and_come_back_when_dropped() {
        let holds = Arc::new(Holds::default());
        let first = Holds::try_hold(&holds, 1u8, 2).unwrap();
        let _second = Holds::try_hold(&holds, 1u8, 2).unwrap();
        assert!(Holds::try_hold(&holds, 1u8, 2).is_none());
        assert!(Holds::try_hold(&holds, 2u8, 2).is_some());
        drop(first);
        assert_eq!(holds.count(&1), 1);
        assert!(Holds::try_hold(&holds, 1u8, 2).is_some());
        assert!(Holds::try_hold(&holds, 3u8, 0).is_some());
    }
}
