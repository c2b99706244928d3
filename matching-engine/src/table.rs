//! Open-addressing table from an id's hash to a handle.
//!
//! Used for open orders, where the id is looked up, inserted and removed on
//! every cycle: the table stores only `(hash, handle)` and the caller
//! confirms a candidate by comparing the id stored with the order, so no
//! second copy of the id is allocated. Linear probing, at most half full,
//! backward-shift deletion (no tombstones).

use std::hash::{BuildHasher, BuildHasherDefault};

use crate::hash::IdHasher;

const EMPTY: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Slot {
    hash: u64,
    handle: u32,
}

const VACANT: Slot = Slot {
    hash: 0,
    handle: EMPTY,
};

#[derive(Debug, Clone)]
pub(crate) struct IdTable {
    slots: Vec<Slot>,
    len: usize,
}

impl Default for IdTable {
    fn default() -> Self {
        Self {
            slots: vec![VACANT; 16],
            len: 0,
        }
    }
}

/// Hash of an id as used by [`IdTable`].
#[inline]
pub(crate) fn id_hash(id: &str) -> u64 {
    BuildHasherDefault::<IdHasher>::default().hash_one(id)
}

impl IdTable {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The handle stored under `hash` for which `is_match` holds.
    #[inline]
    pub(crate) fn find(&self, hash: u64, mut is_match: impl FnMut(u32) -> bool) -> Option<u32> {
        let mask = self.mask();
        // Truncation keeps the low bits, which is what the mask wants.
        let mut i = hash as usize & mask;
        loop {
            let slot = self.slots[i];
            if slot.handle == EMPTY {
                return None;
            }
            if slot.hash == hash && is_match(slot.handle) {
                return Some(slot.handle);
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds `handle` under `hash`; the caller ensures the id is not present.
    pub(crate) fn insert(&mut self, hash: u64, handle: u32) {
        debug_assert!(handle != EMPTY);
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        self.place(Slot { hash, handle });
        self.len += 1;
    }

    /// Removes the entry of `handle` stored under `hash`, if present.
    pub(crate) fn remove(&mut self, hash: u64, handle: u32) {
        let mask = self.mask();
        let mut i = hash as usize & mask;
        loop {
            let slot = self.slots[i];
            if slot.handle == EMPTY {
                debug_assert!(false, "removing an absent handle");
                return;
            }
            if slot.handle == handle {
                break;
            }
            i = (i + 1) & mask;
        }
        // Backward shift: pull later entries of the probe run into the hole
        // when their home slot is at or before it.
        let mut hole = i;
        let mut j = (hole + 1) & mask;
        loop {
            let slot = self.slots[j];
            if slot.handle == EMPTY {
                break;
            }
            let home = slot.hash as usize & mask;
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(hole) & mask) {
                self.slots[hole] = slot;
                hole = j;
            }
            j = (j + 1) & mask;
        }
        self.slots[hole] = VACANT;
        self.len -= 1;
    }

    fn place(&mut self, entry: Slot) {
        let mask = self.mask();
        let mut i = entry.hash as usize & mask;
        while self.slots[i].handle != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = entry;
    }

    fn grow(&mut self) {
        let doubled = vec![VACANT; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        for slot in old.into_iter().filter(|s| s.handle != EMPTY) {
            self.place(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn behaves_like_a_map_under_churn() {
        let mut table = IdTable::default();
        let mut ids: Vec<Option<String>> = Vec::new();
        let mut reference: HashMap<String, u32> = HashMap::new();
        let mut x = 0x9e37_79b9_u64;
        for step in 0..50_000_u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let id = format!("ord_{}", x % 3_000);
            let hash = id_hash(&id);
            let found = table.find(hash, |h| ids[h as usize].as_deref() == Some(id.as_str()));
            assert_eq!(found, reference.get(&id).copied(), "step {step}");
            match found {
                Some(h) => {
                    table.remove(hash, h);
                    ids[h as usize] = None;
                    reference.remove(&id);
                }
                None => {
                    let h = ids.len() as u32;
                    ids.push(Some(id.clone()));
                    table.insert(hash, h);
                    reference.insert(id, h);
                }
            }
            assert_eq!(table.len(), reference.len());
        }
    }
}
