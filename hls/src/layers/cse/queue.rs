//! The CSE's priority queue: a 4-ary max-heap. It pops in the same order as
//! [`std::collections::BinaryHeap`] for entries that are totally ordered (as the CSE's are:
//! the pattern is part of every entry), with half the levels, each level's children on one or
//! two cache lines, which is what a queue of millions of entries is paying for.

/// A max-heap of `T` with four children per node.
#[derive(Debug, Default)]
pub(super) struct Queue<T> {
    items: Vec<T>,
}

impl<T: Ord + Copy> Queue<T> {
    pub fn from_vec(items: Vec<T>) -> Queue<T> {
        let mut q = Queue { items };
        for i in (0..q.items.len() / 4 + 1).rev() {
            q.sift_down(i);
        }
        q
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn push(&mut self, x: T) {
        let mut i = self.items.len();
        self.items.push(x);
        while i > 0 {
            let parent = (i - 1) / 4;
            if self.items[parent] >= x {
                break;
            }
            self.items[i] = self.items[parent];
            i = parent;
        }
        self.items[i] = x;
    }

    pub fn pop(&mut self) -> Option<T> {
        let last = self.items.pop()?;
        if self.items.is_empty() {
            return Some(last);
        }
        let top = std::mem::replace(&mut self.items[0], last);
        self.sift_down(0);
        Some(top)
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.items.len();
        if i >= n {
            return;
        }
        let x = self.items[i];
        loop {
            let first = 4 * i + 1;
            if first >= n {
                break;
            }
            let mut best = first;
            for c in first + 1..(first + 4).min(n) {
                if self.items[c] > self.items[best] {
                    best = c;
                }
            }
            if self.items[best] <= x {
                break;
            }
            self.items[i] = self.items[best];
            i = best;
        }
        self.items[i] = x;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BinaryHeap;

    proptest! {
        /// Any sequence of pushes and pops gives what the standard heap gives.
        #[test]
        fn pops_as_binary_heap(init in prop::collection::vec(0u32..50, 0..40), ops in prop::collection::vec(prop::option::of(0u32..50), 0..200)) {
            let mut q = Queue::from_vec(init.clone());
            let mut h: BinaryHeap<u32> = init.into_iter().collect();
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
    }
}
