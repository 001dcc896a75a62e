//! The CSE's priority queue: entries bucketed by their first component (a pattern's score), so
//! that moving an entry down costs an append, not a sift through a heap of millions.
//!
//! The search re-queues a pattern whenever it finds its entry stale, and counts fall at every
//! step: on a 256 × 256 8-bit layer, 9.5 M of 9.5 M pops were stale re-queues (17,858 patterns
//! taken) and a 4-ary heap of a million 24-byte entries paid a cache miss per level for each.
//! Here the entries of one score wait unsorted until that score is the highest: then they are
//! sorted once and popped from the end of a vector; entries pushed into the highest score after
//! that wait in a small heap beside it. It pops in exactly the order of
//! [`std::collections::BinaryHeap`] (the largest entry first; entries are totally ordered).

use std::collections::{BTreeMap, BinaryHeap};

/// The entries of one score.
#[derive(Debug)]
struct Bucket<T> {
    /// Entries pushed before the bucket was first the highest.
    unsorted: Vec<T>,
    /// Since then: the entries sorted then (ascending, so the largest is last) and a heap of
    /// those pushed after.
    active: bool,
    sorted: Vec<T>,
    pending: BinaryHeap<T>,
}

/// A max-queue of entries `(score, rest)`, ordered as tuples, bucketed by score (a bucket
/// stores only the rest).
#[derive(Debug)]
pub(super) struct Queue<T> {
    buckets: BTreeMap<i64, Bucket<T>>,
    len: usize,
}

impl<T: Ord + Copy> Queue<T> {
    pub fn from_vec(items: Vec<(i64, T)>) -> Queue<T> {
        let mut q = Queue { buckets: BTreeMap::new(), len: 0 };
        for x in items {
            q.push(x);
        }
        q
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn push(&mut self, (score, x): (i64, T)) {
        self.len += 1;
        let b = self.buckets.entry(score).or_insert_with(|| Bucket {
            unsorted: vec![],
            active: false,
            sorted: vec![],
            pending: BinaryHeap::new(),
        });
        if b.active {
            b.pending.push(x);
        } else {
            b.unsorted.push(x);
        }
    }

    /// The largest entry.
    fn peek(&mut self) -> Option<(i64, T)> {
        let mut top = self.buckets.last_entry()?;
        let b = top.get_mut();
        if !b.active {
            b.active = true;
            b.sorted = std::mem::take(&mut b.unsorted);
            b.sorted.sort_unstable();
        } else if b.pending.len() > 64 && b.pending.len() * 8 > b.sorted.len() {
            // Many pushes into the highest score: one sort instead of a big heap.
            let v = std::mem::take(&mut b.pending).into_vec();
            b.sorted.extend(v);
            b.sorted.sort_unstable();
        }
        let x = match (b.sorted.last(), b.pending.peek()) {
            (Some(&s), Some(&p)) => s.max(p),
            (Some(&s), None) => s,
            (None, Some(&p)) => p,
            (None, None) => unreachable!("empty buckets are removed"),
        };
        Some((*top.key(), x))
    }

    pub fn pop(&mut self) -> Option<(i64, T)> {
        let (score, x) = self.peek()?;
        let mut top = self.buckets.last_entry().expect("peeked");
        let b = top.get_mut();
        if b.sorted.last() == Some(&x) {
            b.sorted.pop();
        } else {
            b.pending.pop();
        }
        if b.sorted.is_empty() && b.pending.is_empty() {
            top.remove();
        }
        self.len -= 1;
        Some((score, x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any sequence of pushes and pops gives what the standard heap gives (scores from a
        /// small range, so buckets hold many entries).
        #[test]
        fn pops_as_binary_heap(
            init in prop::collection::vec((0i64..6, 0u32..20), 0..60),
            ops in prop::collection::vec(prop::option::of((0i64..6, 0u32..20)), 0..300),
        ) {
            let mut q = Queue::from_vec(init.clone());
            let mut h: BinaryHeap<(i64, u32)> = init.into_iter().collect();
            for op in ops {
                match op {
                    Some(x) => { q.push(x); h.push(x); }
                    None => prop_assert_eq!(q.pop(), h.pop()),
                }
                prop_assert_eq!(q.len(), h.len());
            }
            while let Some(x) = h.pop() {
                prop_assert_eq!(q.pop(), Some(x));
            }
            prop_assert_eq!(q.pop(), None);
        }

        /// Many pushes into the highest score while it is popped (the sort-on-overflow path).
        #[test]
        fn many_pushes_into_the_top(n in 0usize..400, seed in 0u32..1000) {
            let mut q = Queue::from_vec(vec![(5i64, 0u32)]);
            let mut h: BinaryHeap<(i64, u32)> = [(5i64, 0u32)].into_iter().collect();
            q.peek();
            for i in 0..n as u32 {
                let x = (5 - (i % 2) as i64, (i * 7919 + seed) % 1000);
                q.push(x);
                h.push(x);
                if i % 5 == 0 {
                    prop_assert_eq!(q.pop(), h.pop());
                }
            }
            while let Some(x) = h.pop() {
                prop_assert_eq!(q.pop(), Some(x));
            }
        }
    }
}
