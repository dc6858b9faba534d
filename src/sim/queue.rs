//! The simulator's event queue: a calendar queue (a ring of 1 ms buckets covering about
//! 16 seconds, with a heap for anything further out). Events at the same instant run in the
//! order they were scheduled, so a run is deterministic.
//!
//! Why not just a binary heap: a fleet keeps tens of thousands of pending ticks, and a
//! heap's pop walks log2(n) cache lines of a megabyte-sized array for each of millions of
//! probes; a bucket ring touches one short vector per event.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// Bucket width: 1 ms of virtual time.
const WIDTH_NS: u64 = 1_000_000;
/// Buckets in the ring: 2^14 × 1 ms ≈ 16 s ahead (a default probe period fits); later
/// events wait in the heap.
const BUCKETS: u64 = 1 << 14;

struct Far<E> {
    t: u64,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Far<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.t, self.seq) == (other.t, other.seq)
    }
}
impl<E> Eq for Far<E> {}
impl<E> PartialOrd for Far<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Far<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.t, self.seq).cmp(&(other.t, other.seq))
    }
}

pub struct Queue<E> {
    buckets: Vec<Vec<(u64, u64, E)>>,
    /// Absolute index of the bucket being drained.
    current: u64,
    /// Whether the current bucket is sorted (descending, so the next event is last).
    sorted: bool,
    far: BinaryHeap<Reverse<Far<E>>>,
    seq: u64,
    len: usize,
}

impl<E> Default for Queue<E> {
    fn default() -> Self {
        Queue {
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            current: 0,
            sorted: false,
            far: BinaryHeap::new(),
            seq: 0,
            len: 0,
        }
    }
}

impl<E> Queue<E> {
    fn slot(abs: u64) -> usize {
        (abs % BUCKETS) as usize
    }

    pub fn push(&mut self, t: u64, event: E) {
        self.seq += 1;
        self.len += 1;
        // Nothing is scheduled in the past; clamp defensively to the current bucket.
        let abs = (t / WIDTH_NS).max(self.current);
        if abs >= self.current + BUCKETS {
            self.far.push(Reverse(Far { t, seq: self.seq, event }));
            return;
        }
        let bucket = &mut self.buckets[Self::slot(abs)];
        if abs == self.current && self.sorted {
            // Keep the bucket sorted descending by (t, seq).
            let key = (t, self.seq);
            let pos = bucket.partition_point(|(bt, bs, _)| (*bt, *bs) > key);
            bucket.insert(pos, (t, self.seq, event));
        } else {
            bucket.push((t, self.seq, event));
        }
    }

    /// Move to the next non-empty bucket (pulling due far events in), if any.
    fn settle(&mut self) -> bool {
        if self.len == 0 {
            return false;
        }
        loop {
            let slot = Self::slot(self.current);
            if !self.buckets[slot].is_empty() {
                if !self.sorted {
                    self.buckets[slot].sort_unstable_by_key(|e| Reverse((e.0, e.1)));
                    self.sorted = true;
                }
                return true;
            }
            // Empty: advance. If only far events remain, jump straight to the first.
            self.current += 1;
            self.sorted = false;
            if self.far.len() == self.len
                && let Some(Reverse(f)) = self.far.peek()
            {
                self.current = self.current.max(f.t / WIDTH_NS);
            }
            while let Some(Reverse(f)) = self.far.peek() {
                if f.t / WIDTH_NS >= self.current + BUCKETS {
                    break;
                }
                let Some(Reverse(f)) = self.far.pop() else { break };
                let abs = (f.t / WIDTH_NS).max(self.current);
                self.buckets[Self::slot(abs)].push((f.t, f.seq, f.event));
            }
        }
    }

    pub fn pop(&mut self) -> Option<(u64, E)> {
        if !self.settle() {
            return None;
        }
        let slot = Self::slot(self.current);
        let (t, _, event) = self.buckets[slot].pop()?;
        self.len -= 1;
        Some((t, event))
    }

    pub fn peek_time(&mut self) -> Option<u64> {
        if !self.settle() {
            return None;
        }
        self.buckets[Self::slot(self.current)].last().map(|e| e.0)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn earliest_first_then_fifo() {
        let mut q = Queue::default();
        q.push(5, "b");
        q.push(1, "a");
        q.push(5, "c");
        assert_eq!(q.pop(), Some((1, "a")));
        assert_eq!(q.pop(), Some((5, "b")));
        assert_eq!(q.pop(), Some((5, "c")));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn matches_a_sorted_reference_with_pushes_while_draining() {
        let mut rng = rand_pcg::Pcg64Mcg::new(42);
        let mut q = Queue::default();
        let mut reference: Vec<(u64, u64)> = Vec::new();
        let mut seq = 0u64;
        let mut now = 0u64;
        let mut out = Vec::new();
        for round in 0..20_000u64 {
            // Mostly near events, some beyond the ring, some at exactly now.
            for _ in 0..rng.random_range(0..3) {
                let dt = match rng.random_range(0..10) {
                    0 => 0,
                    1 => rng.random_range(0..200_000_000_000u64),
                    _ => rng.random_range(0..20_000_000_000u64),
                };
                seq += 1;
                q.push(now + dt, seq);
                reference.push((now + dt, seq));
            }
            if round % 2 == 0
                && let Some((t, s)) = q.pop()
            {
                assert!(t >= now, "time went backwards");
                now = t;
                out.push((t, s));
            }
        }
        while let Some((t, s)) = q.pop() {
            out.push((t, s));
        }
        reference.sort();
        assert_eq!(out.len(), reference.len());
        // Popped in non-decreasing time; ties in push order.
        for pair in out.windows(2) {
            assert!(pair[0] < pair[1], "{pair:?}");
        }
        let mut sorted_out = out.clone();
        sorted_out.sort();
        assert_eq!(sorted_out, reference);
    }
}
