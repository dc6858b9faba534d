//! The shard's timer structure: a hashed timing wheel of intrusive singly-linked lists.
//!
//! Why this shape: an idle worker must cost a few words, not a task. Each worker is one
//! node: its next deadline (8 bytes), a link (4 bytes) and its state, side by side; per
//! slot the wheel keeps a list head (4 bytes) and one occupancy bit. Insert is O(1) with no
//! allocation ever (a heap of a million entries would cost ~20 cache-missing levels per
//! pop); popping due entries walks only slots that are occupied, found through the bitmap.
//!
//! Slots are 2^16 ns (65.5 µs) wide and the wheel has 2^18 of them (17.2 s), so a 10 s
//! period lands one round ahead; longer periods stay in their slot and are skipped until
//! their round comes (one cheap visit per 17 s). The slot width only decides which list
//! an entry sits in: deadlines are kept exactly, and [`Wheel::next_deadline`] returns the
//! exact earliest one, so the timer is armed to the nanosecond.

pub const NIL: u32 = u32::MAX;

/// One worker's entry: its deadline and link sit beside its payload (the worker's state),
/// so firing a worker touches one cache line, not one per array.
#[derive(Debug, Clone)]
pub struct Node<P> {
    deadline: u64,
    next: u32,
    pub payload: P,
}

#[derive(Debug)]
pub struct Wheel<P> {
    nodes: Vec<Node<P>>,
    heads: Vec<u32>,
    occupied: Vec<u64>,
    shift: u32,
    mask: u64,
    /// Absolute slot number (deadline >> shift) up to which everything due was popped.
    cursor: u64,
    len: usize,
}

impl<P> Wheel<P> {
    pub const SLOT_SHIFT: u32 = 16;
    pub const SLOTS_LOG2: u32 = 18;

    /// A wheel over `payloads` (worker `i` is `payloads[i]`), none linked, at `now_ns`.
    pub fn new(payloads: Vec<P>, now_ns: u64) -> Self {
        Self::with_geometry(payloads, now_ns, Self::SLOT_SHIFT, Self::SLOTS_LOG2)
    }

    pub fn with_geometry(payloads: Vec<P>, now_ns: u64, shift: u32, slots_log2: u32) -> Self {
        let slots = 1usize << slots_log2;
        let mut nodes = Vec::with_capacity(payloads.len());
        advise_huge_pages(&mut nodes);
        nodes.extend(payloads.into_iter().map(|payload| Node { deadline: 0, next: NIL, payload }));
        Wheel {
            nodes,
            heads: vec![NIL; slots],
            occupied: vec![0; slots.div_ceil(64)],
            shift,
            mask: (slots as u64) - 1,
            cursor: now_ns >> shift,
            len: 0,
        }
    }

    /// Unlink everything and restart the wheel at `now_ns` (deadlines are kept).
    pub fn rebase(&mut self, now_ns: u64) {
        self.heads.iter_mut().for_each(|h| *h = NIL);
        self.occupied.iter_mut().for_each(|o| *o = 0);
        self.nodes.iter_mut().for_each(|n| n.next = NIL);
        self.cursor = now_ns >> self.shift;
        self.len = 0;
    }

    /// Workers (linked or not).
    pub fn workers(&self) -> usize {
        self.nodes.len()
    }

    /// Entries currently linked.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes the wheel holds: nodes (deadline, link, payload) and the slot arrays.
    pub fn bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node<P>>() + self.heads.len() * 4 + self.occupied.len() * 8
    }

    #[inline]
    pub fn payload(&self, w: u32) -> &P {
        &self.nodes[w as usize].payload
    }

    #[inline]
    pub fn payload_mut(&mut self, w: u32) -> &mut P {
        &mut self.nodes[w as usize].payload
    }

    /// The worker's recorded deadline (its next grid point), linked or not.
    #[inline]
    pub fn deadline(&self, w: u32) -> u64 {
        self.nodes[w as usize].deadline
    }

    /// Record a worker's next grid point without linking it (while its probe is in flight).
    #[inline]
    pub fn set_deadline(&mut self, w: u32, deadline_ns: u64) {
        self.nodes[w as usize].deadline = deadline_ns;
    }

    /// Link worker `w` (not currently linked) to fire at `deadline_ns`.
    #[inline]
    pub fn schedule(&mut self, w: u32, deadline_ns: u64) {
        // A deadline already in the past goes into the cursor's slot, found at once.
        let abs = (deadline_ns >> self.shift).max(self.cursor);
        let s = (abs & self.mask) as usize;
        let node = &mut self.nodes[w as usize];
        node.deadline = deadline_ns;
        node.next = self.heads[s];
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
            let node = &mut self.nodes[i as usize];
            let n = node.next;
            if node.deadline <= now_ns {
                out.push(i);
                self.len -= 1;
            } else {
                node.next = keep;
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
        let slots = self.mask as usize + 1;
        let mut abs = from;
        while abs <= to {
            let s = (abs & self.mask) as usize;
            let word = self.occupied[s / 64] >> (s % 64);
            if word != 0 {
                let found = abs + u64::from(word.trailing_zeros());
                return (found <= to).then_some(found);
            }
            // Skip to the next word boundary (or the wheel's end, for wheels < 64 slots).
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
                let node = &self.nodes[i as usize];
                // Entries of this round (or overdue ones parked at the cursor).
                if node.deadline >> self.shift <= found {
                    best = best.min(node.deadline);
                }
                i = node.next;
            }
            if best != u64::MAX {
                return Some(best);
            }
            abs = found + 1;
        }
        Some((self.cursor + slots) << self.shift)
    }
}

/// Ask for transparent huge pages on a large, not yet touched allocation: a million
/// workers are ~60 MB read in random order, and in a VM every TLB miss is a two-level page
/// walk. With THP in `madvise` mode (this machine's) nothing happens without this. Call it
/// right after `Vec::with_capacity`, before filling.
pub fn advise_huge_pages<T>(v: &mut Vec<T>) {
    let bytes = v.capacity() * std::mem::size_of::<T>();
    if bytes < 4 << 20 {
        return;
    }
    // madvise needs a page-aligned start: advise the whole pages inside the allocation.
    let addr = v.as_mut_ptr() as usize;
    let start = addr.next_multiple_of(4096);
    let len = (addr + bytes).saturating_sub(start) & !4095;
    let Some(start) = std::ptr::NonNull::new(start as *mut std::ffi::c_void) else {
        return;
    };
    // SAFETY: the range lies inside `v`'s live allocation, which we own; MADV_HUGEPAGE only
    // changes how the kernel backs those pages, never their contents. Failure (THP off) is
    // harmless and ignored.
    unsafe {
        let _ = nix::sys::mman::madvise(start, len, nix::sys::mman::MmapAdvise::MADV_HUGEPAGE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_exactly_the_due_entries_in_slot_order() {
        let mut w = Wheel::with_geometry(vec![(); 8], 0, 4, 4); // 16 ns slots, 16 slots
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
        let mut w = Wheel::with_geometry(vec![(); 2], 1_000, 4, 4);
        w.schedule(0, 10);
        assert_eq!(w.next_deadline(), Some(10));
        let mut out = Vec::new();
        w.pop_due(1_000, &mut out);
        assert_eq!(out, vec![0]);
    }

    #[test]
    fn far_entries_report_a_wake_at_the_revolution_end() {
        let mut w = Wheel::with_geometry(vec![(); 1], 0, 4, 4);
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
        let mut w = Wheel::with_geometry(vec![(); n as usize], 0, 8, 6);
        let mut x = 12345u64;
        for i in 0..n {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
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
