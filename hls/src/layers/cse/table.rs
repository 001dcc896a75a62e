//! The pair counts of the CSE: every pattern seen, packed into one integer, with its number of
//! occurrences across the matrix, and the bookkeeping that tells which counts rose during a step.
//!
//! A pattern `(a, b, d, neg)` packs into a [`Key`] whose integer order is the order of
//! [`Shared`] (`a`, then `b`, `d`, `neg`), so the queue breaks ties on keys exactly as it would
//! on patterns. Patterns get dense ids in the order they are first seen; the counts live in an
//! one hash map, so a count update is one lookup.
//!
//! Only patterns seen at least twice are kept. A pair of digits forms only when the newer of its
//! two variables is created (the inputs: at the start; a shared pattern: in the step that
//! replaces its occurrences), so after that a pattern's count can only fall: one left below 2 at
//! the end of the initial count or of a step can never be taken, and is forgotten. This keeps
//! the table at the size of the patterns that still matter, not of every pair ever formed.

use super::{Digit, Shared};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A pattern packed as `a << 36 | b << 8 | d << 1 | neg`.
pub(super) type Key = u64;

/// Variables are numbered below this (28 bits of a [`Key`]).
pub(super) const MAX_VARS: usize = 1 << 28;

/// Digit shifts are below this (7 bits of a [`Key`]; a CSD digit of an `i128` shifts ≤ 127).
pub(super) const MAX_SHIFT: u32 = 1 << 7;

#[cfg(test)]
pub(super) fn pack(p: &Shared) -> Key {
    (p.a as u64) << 36 | (p.b as u64) << 8 | (p.d as u64) << 1 | p.neg as u64
}

pub(super) fn unpack(k: Key) -> Shared {
    Shared { a: (k >> 36) as usize, b: (k >> 8 & 0x0fff_ffff) as usize, d: (k >> 1 & 0x7f) as u32, neg: k & 1 == 1 }
}

/// One digit of a row as the CSE stores it: 8 bytes, with a flag for digits already replaced.
#[derive(Clone, Copy, Debug)]
pub(super) struct Slot {
    pub var: u32,
    pub shift: u8,
    pub neg: bool,
    pub alive: bool,
}

impl Slot {
    pub fn of(d: &Digit) -> Slot {
        Slot { var: d.var as u32, shift: d.shift as u8, neg: d.neg, alive: true }
    }
    pub fn digit(&self) -> Digit {
        Digit { var: self.var as usize, shift: self.shift as u32, neg: self.neg }
    }
}

/// The key of the pattern two digits form (`a` the lower digit by shift, then variable; packed); `None` for two equal
/// digits.
#[inline]
pub(super) fn pair_key(p: Slot, q: Slot) -> Option<Key> {
    let (lo, hi) = if (p.shift, p.var) <= (q.shift, q.var) { (p, q) } else { (q, p) };
    if lo.var == hi.var && lo.shift == hi.shift {
        return None;
    }
    Some((lo.var as u64) << 36 | (hi.var as u64) << 8 | ((hi.shift - lo.shift) as u64) << 1 | (lo.neg != hi.neg) as u64)
}

/// A multiplicative hash of a [`Key`] whose low bits depend on every bit of the key (the
/// table indexes buckets by the low bits).
#[derive(Default)]
pub(super) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    #[inline]
    fn write_u64(&mut self, k: u64) {
        let x = (self.0 ^ k).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = x ^ (x >> 29);
    }
}

/// Count and step bookkeeping of one pattern.
#[derive(Clone, Copy, Default)]
struct Entry {
    count: u32,
    /// The step that last changed the count, and the count before that step.
    step: u32,
    start: u32,
}

/// Every pattern seen, with its count.
#[derive(Default)]
pub(super) struct Table {
    entries: HashMap<Key, Entry, BuildHasherDefault<KeyHasher>>,
    /// The current step (0: the initial count) and the patterns it changed.
    step: u32,
    touched: Vec<Key>,
    /// The variable the step creates, and the counts of the patterns it forms: new patterns,
    /// counted apart (a small map that stays in cache) and kept at the step's end if seen twice.
    var: u64,
    fresh: HashMap<Key, u32, BuildHasherDefault<KeyHasher>>,
}

impl Table {
    pub fn with_capacity(n: usize) -> Table {
        Table { entries: HashMap::with_capacity_and_hasher(n, Default::default()), ..Table::default() }
    }

    /// Remembers the count of `e` (pattern `k`) before the current step, on its first change.
    #[inline]
    fn touch(step: u32, touched: &mut Vec<Key>, k: Key, e: &mut Entry) {
        if e.step != step {
            e.step = step;
            e.start = e.count;
            touched.push(k);
        }
    }

    /// One more occurrence of pattern `k`, counted from the start.
    #[inline]
    pub fn add(&mut self, k: Key) {
        let e = self.entries.entry(k).or_default();
        e.count += 1;
    }

    /// Whether pattern `k` is formed with the variable the step creates.
    #[inline]
    fn is_fresh(&self, k: Key) -> bool {
        self.step > 0 && (k >> 36 == self.var || (k >> 8 & 0x0fff_ffff) == self.var)
    }

    /// One more occurrence of pattern `k`, formed with the variable the step creates.
    #[inline]
    pub fn add_fresh(&mut self, k: Key) {
        debug_assert!(self.is_fresh(k));
        *self.fresh.entry(k).or_insert(0) += 1;
    }

    /// One occurrence less of pattern `k`; nothing for a pattern no longer kept.
    #[inline]
    pub fn sub(&mut self, k: Key) {
        if self.is_fresh(k) {
            if let Some(c) = self.fresh.get_mut(&k) {
                *c -= 1;
            }
        } else if let Some(e) = self.entries.get_mut(&k) {
            Self::touch(self.step, &mut self.touched, k, e);
            e.count -= 1;
        }
    }

    /// The count of pattern `k`; 0 for a pattern no longer kept (its count is below 2).
    pub fn count(&self, k: Key) -> u32 {
        self.entries.get(&k).map_or(0, |e| e.count)
    }

    pub fn forget(&mut self, k: Key) {
        self.entries.remove(&k);
    }

    /// Ends the initial count: forgets the patterns seen once.
    pub fn end_count(&mut self) {
        self.entries.retain(|_, e| e.count >= 2);
    }

    /// Starts a new step, which creates variable `var`: later changes are reported by
    /// [`Table::end_step`].
    pub fn begin_step(&mut self, var: usize) {
        self.step += 1;
        self.var = var as u64;
        self.touched.clear();
        self.fresh.clear();
    }

    /// Ends a step: forgets the patterns it left below 2, and returns those whose count rose
    /// (net), with their counts.
    pub fn end_step(&mut self) -> Vec<(Key, u32)> {
        let mut rises = vec![];
        for k in &self.touched {
            let e = self.entries[k];
            if e.count < 2 {
                self.entries.remove(k);
            } else if e.count > e.start {
                rises.push((*k, e.count));
            }
        }
        for (&k, &count) in &self.fresh {
            if count >= 2 {
                self.entries.insert(k, Entry { count, step: self.step, start: 0 });
                rises.push((k, count));
            }
        }
        rises
    }

    /// Every pattern kept with its count.
    pub fn all(&self) -> impl Iterator<Item = (Key, u32)> + '_ {
        self.entries.iter().map(|(&k, e)| (k, e.count))
    }
}
