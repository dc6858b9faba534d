//! The shard's timer structure: a hashed timing wheel of intrusive singly-linked lists.
//!
//! Why this shape: an idle worker must cost a few words, not a task. Each worker is one
//! index; the wheel keeps, per worker, its next deadline (8 bytes) and a link (4 bytes),
//! and per slot a list head (4 bytes) and one occupancy bit. Insert is O(1) with no
//! allocation ever (a heap of a million entries would cost ~20 cache-missing levels per
//! pop); popping due entries walks only slots that are occupied, found through the bitmap.
//!
//! Slots are 2^16 ns (65.5 µs) wide and the wheel has 2^18 of them (17.2 s), so a 10 s
//! period lands one round ahead; longer periods stay in their slot and are skipped until
//! their round comes (one cheap visit per 17 s). The slot width only decides which list
//! an entry sits in: deadlines are kept exactly, and [`Wheel::next_deadline`] returns the
//! exact earliest one, so the timer is armed to the nanosecond.

pub const NIL: u32 = u32::MAX;

#[derive(Debug)]
pub struct Wheel {
    heads: Vec<u32>,
    occupied: Vec<u64>,
    next: Vec<u32>,
    deadline: Vec<u64>,
    shift: u32,
    mask: u64,
    /// Absolute slot number (deadline >> shift) up to which everything due was popped.
    cursor: u64,
    len: usize,
}

impl Wheel {
    pub const SLOT_SHIFT: u32 = 16;
    pub const SLOTS_LOG2: u32 = 18;

    /// A wheel for `workers` worker indices, starting at `now_ns`.
    pub fn new(workers: usize, now_ns: u64) -> Self {
        Self::with_geometry(workers, now_ns, Self::SLOT_SHIFT, Self::SLOTS_LOG2)
    }

    pub fn with_geometry(workers: usize, now_ns: u64, shift: u32, slots_log2: u32) -> Self {
        let slots = 1usize << slots_log2;
        Wheel {
            heads: vec![NIL; slots],
            occupied: vec![0; slots.div_ceil(64)],
            next: vec![NIL; workers],
            deadline: vec![0; workers],
            shift,
            mask: (slots as u64) - 1,
            cursor: now_ns >> shift,
            len: 0,
        }
    }

    /// Entries currently linked.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes the wheel holds per worker and in total (for the memory accounting).
    pub fn bytes(&self) -> usize {
        self.heads.len() * 4
            + self.occupied.len() * 8
            + self.next.len() * 4
            + self.deadline.len() * 8
    }

    /// The worker's recorded deadline (its next grid point), linked or not.
    #[inline]
    pub fn deadline(&self, w: u32) -> u64 {
        self.deadline[w as usize]
    }

    /// Record a worker's next grid point without linking it (while its probe is in flight).
    #[inline]
    pub fn set_deadline(&mut self, w: u32, deadline_ns: u64) {
        self.deadline[w as usize] = deadline_ns;
    }

    /// Link worker `w` (not currently linked) to fire at `deadline_ns`.
    #[inline]
    pub fn schedule(&mut self, w: u32, deadline_ns: u64) {
        self.deadline[w as usize] = deadline_ns;
        // A deadline already in the past goes into the cursor's slot, found at once.
        let abs = (deadline_ns >> self.shift).max(self.cursor);
        let s = (abs & self.mask) as usize;
        self.next[w as usize] = self.heads[s];
        self.heads[s] = w;
        self.occupied[s / 64] |= 1 << (s % 64);
        self.len += 1;
    }

    /// Append to `out` every linked worker whose deadline is ≤ `now_ns`, unlinking them.
    pub fn pop_due(&mut self, now_ns: u64, out: &mut Vec<u32>) {
        let now_slot = now_ns >> self.shift;
        let slots = self.mask + 1;
        // Visit at most one full revolution; beyond that every slot has been seen.
        let last = now_slot.min(self.cursor + slots - 1);
        let mut abs = self.cursor;
        while abs <= last {
            let Some(found) = self.next_occupied(abs, last) else {
                break;
            };
            self.drain_slot(found, now_ns, out);
            abs = found + 1;
        }
        self.cursor = now_slot.max(self.cursor);
    }

    fn drain_slot(&mut self, abs: u64, now_ns: u64, out: &mut Vec<u32>) {
        let s = (abs & self.mask) as usize;
        let mut i = self.heads[s];
        let mut keep = NIL;
        while i != NIL {
            let n = self.next[i as usize];
            if self.deadline[i as usize] <= now_ns {
                out.push(i);
                self.len -= 1;
            } else {
                self.next[i as usize] = keep;
                keep = i;
            }
            i = n;
        }
        self.heads[s] = keep;
        if keep == NIL {
            self.occupied[s / 64] &= !(1 << (s % 64));
        }
    }

    /// First occupied absolute slot in [from, to], scanning the bitmap a word at a time.
    fn next_occupied(&self, from: u64, to: u64) -> Option<u64> {
        let mut abs = from;
        while abs <= to {
            let s = (abs & self.mask) as usize;
            let word = self.occupied[s / 64] >> (s % 64);
            if word != 0 {
                let found = abs + u64::from(word.trailing_zeros());
                return (found <= to).then_some(found);
            }
            // Skip to the next word boundary (or the wheel's end, for wheels < 64 slots).
            let slots = self.mask as usize + 1;
            abs += (64 - s % 64).min(slots - s) as u64;
        }
        None
    }

    /// The earliest deadline of any linked worker: exact, so the timer can be armed to it.
    /// If only entries of later rounds exist, returns the end of the current revolution
    /// (a harmless early wake that advances the cursor).
    pub fn next_deadline(&self) -> Option<u64> {
        if self.len == 0 {
            return None;
        }
        let slots = self.mask + 1;
        let end = self.cursor + slots - 1;
        let mut abs = self.cursor;
        while abs <= end {
            let Some(found) = self.next_occupied(abs, end) else {
                break;
            };
            let s = (found & self.mask) as usize;
            let mut i = self.heads[s];
            let mut best = u64::MAX;
            while i != NIL {
                let d = self.deadline[i as usize];
                // Entries of this round (or overdue ones parked at the cursor).
                if d >> self.shift <= found {
                    best = best.min(d);
                }
                i = self.next[i as usize];
            }
            if best != u64::MAX {
                return Some(best);
            }
            abs = found + 1;
        }
        Some((self.cursor + slots) << self.shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_exactly_the_due_entries_in_slot_order() {
        let mut w = Wheel::with_geometry(8, 0, 4, 4); // 16 ns slots, 16 slots
        w.schedule(0, 100);
        w.schedule(1, 35);
        w.schedule(2, 36);
        w.schedule(3, 1_000); // several rounds ahead
        assert_eq!(w.next_deadline(), Some(35));
        let mut out = Vec::new();
        w.pop_due(35, &mut out);
        assert_eq!(out, vec![1], "36 shares the slot but is not due");
        assert_eq!(w.next_deadline(), Some(36));
        out.clear();
        w.pop_due(200, &mut out);
        out.sort();
        assert_eq!(out, vec![0, 2]);
        assert_eq!(w.len(), 1);
        out.clear();
        w.pop_due(999, &mut out);
        assert!(out.is_empty(), "a later round is not due: {out:?}");
        w.pop_due(1_000, &mut out);
        assert_eq!(out, vec![3]);
        assert!(w.is_empty());
        assert_eq!(w.next_deadline(), None);
    }

    #[test]
    fn past_deadlines_fire_at_once() {
        let mut w = Wheel::with_geometry(2, 1_000, 4, 4);
        w.schedule(0, 10);
        assert_eq!(w.next_deadline(), Some(10));
        let mut out = Vec::new();
        w.pop_due(1_000, &mut out);
        assert_eq!(out, vec![0]);
    }

    #[test]
    fn far_entries_report_a_wake_at_the_revolution_end() {
        let mut w = Wheel::with_geometry(1, 0, 4, 4);
        w.schedule(0, 10_000);
        let wake = w.next_deadline().unwrap();
        assert!(wake <= 10_000 && wake > 0);
        let mut out = Vec::new();
        let mut now = 0;
        while out.is_empty() {
            now = w.next_deadline().unwrap();
            w.pop_due(now, &mut out);
        }
        assert_eq!(now, 10_000);
    }

    #[test]
    fn many_entries_random_order_all_fire_once_at_or_after_deadline() {
        let n = 10_000u32;
        let mut w = Wheel::with_geometry(n as usize, 0, 8, 6);
        let mut x = 12345u64;
        for i in 0..n {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            w.schedule(i, (x >> 33) % 1_000_000);
        }
        let mut fired = vec![false; n as usize];
        let mut out = Vec::new();
        let mut now = 0;
        while let Some(d) = w.next_deadline() {
            assert!(d >= now.min(d));
            now = d.max(now);
            out.clear();
            w.pop_due(now, &mut out);
            for &i in &out {
                assert!(w.deadline(i) <= now);
                assert!(!fired[i as usize]);
                fired[i as usize] = true;
            }
        }
        assert!(fired.iter().all(|&f| f));
    }
}
