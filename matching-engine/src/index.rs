//! The per-market ranking index: an augmented treap over listed acceptors.
//!
//! Nodes are ordered by [`RankKey`] — rate band, round-robin stamp, completion
//! score (descending), acceptor id — which is exactly the ranking order, so
//! "the best eligible acceptor" is "the first node in key order that passes
//! the filters". Each node also carries, per method slot, the largest
//! *capacity* found in each of its two subtrees, where an acceptor's capacity
//! is `min(free liquidity, quote max)` while it is below its concurrency
//! limit and [`NO_CAPACITY`] otherwise. A descent that only enters subtrees
//! whose capacity covers the amount finds the first node with enough
//! capacity in O(depth) = O(log n) expected.
//!
//! Slot 0 counts every node; slots `1..METHOD_SLOTS` count only nodes offering
//! the payment method interned at that slot by the market, so an order asking
//! for an interned method is found with the same single descent.
//!
//! The treap keeps parent links and rebalances by rotations, so removing a
//! node or changing its capacity needs no search from the root: an expected
//! O(1) rotations, then capacities are pushed upwards only until they stop
//! changing. Keeping each child's capacity in the parent (rather than the
//! subtree total in the child) means both the descent and the upward push
//! read one node per level. Priorities come from a fixed-seed generator, so
//! the tree shape (and hence every cost) is reproducible; matching results
//! never depend on the shape.
//!
//! Memory layout: a node is two cache lines, 128-byte aligned so that the
//! adjacent-line prefetcher loads both together.

use std::cmp::Ordering;

/// Method slots per market: slot 0 means "any method", the others are
/// interned payment methods.
pub(crate) const METHOD_SLOTS: usize = 4;
/// Capacity of an acceptor that cannot take any order (at its concurrency
/// limit). Amounts are ≥ 1, so it never covers one.
pub(crate) const NO_CAPACITY: i64 = -1;

/// Handle of a node inside one [`RankIndex`].
pub(crate) type NodeId = u32;
/// The sentinel node: the empty subtree.
const NIL: NodeId = 0;

type Caps = [i64; METHOD_SLOTS];
const NO_CAPS: Caps = [NO_CAPACITY; METHOD_SLOTS];

/// Ranking position of an acceptor in one market; smaller ranks first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RankKey {
    /// Tolerance band of the quoted rate (lower rate first).
    pub(crate) band: i64,
    /// Round-robin stamp of the last assignment here (least recent first).
    pub(crate) stamp: u64,
    /// Completion score (higher first).
    pub(crate) score: u32,
    /// Acceptor handle; ties are broken by the acceptor's id via `tie`.
    pub(crate) acceptor: u32,
}

impl RankKey {
    #[inline(always)]
    fn less<T: Fn(u32, u32) -> Ordering>(&self, other: &Self, tie: &T) -> bool {
        if self.band != other.band {
            return self.band < other.band;
        }
        if self.stamp != other.stamp {
            return self.stamp < other.stamp;
        }
        if self.score != other.score {
            return self.score > other.score;
        }
        self.acceptor != other.acceptor && tie(self.acceptor, other.acceptor) == Ordering::Less
    }
}

/// What the index knows about one listed acceptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Listing {
    pub(crate) key: RankKey,
    /// `min(free, quote max)`, or [`NO_CAPACITY`] at the concurrency limit.
    pub(crate) capacity: i64,
    /// Quote minimum: smaller orders are skipped.
    pub(crate) min_amount: i64,
    /// Bit `s` set when the acceptor offers the method at slot `s` (s ≥ 1).
    pub(crate) methods: u8,
}

#[derive(Debug, Clone, Copy)]
#[repr(C, align(128))]
struct Node {
    /// Largest capacity in the left subtree, per method slot.
    left_caps: Caps,
    /// Largest capacity in the right subtree, per method slot.
    right_caps: Caps,
    // Second cache line.
    capacity: i64,
    min_amount: i64,
    band: i64,
    stamp: u64,
    left: NodeId,
    right: NodeId,
    parent: NodeId,
    acceptor: u32,
    score: u32,
    priority: u32,
    methods: u8,
}

impl Node {
    const EMPTY: Node = Node {
        left_caps: NO_CAPS,
        right_caps: NO_CAPS,
        capacity: NO_CAPACITY,
        min_amount: i64::MAX,
        band: 0,
        stamp: 0,
        left: NIL,
        right: NIL,
        parent: NIL,
        acceptor: u32::MAX,
        score: 0,
        priority: 0,
        methods: 0,
    };

    #[inline(always)]
    fn own_cap(&self, slot: usize) -> i64 {
        if slot == 0 || self.methods & (1 << slot) != 0 {
            self.capacity
        } else {
            NO_CAPACITY
        }
    }

    /// Largest capacity in the subtree rooted here, per slot.
    #[inline(always)]
    fn total(&self) -> Caps {
        let mut caps = NO_CAPS;
        for (slot, cap) in caps.iter_mut().enumerate() {
            *cap = self
                .own_cap(slot)
                .max(self.left_caps[slot])
                .max(self.right_caps[slot]);
        }
        caps
    }

    fn key(&self) -> RankKey {
        RankKey {
            band: self.band,
            stamp: self.stamp,
            score: self.score,
            acceptor: self.acceptor,
        }
    }
}

/// Augmented treap of the acceptors listed in one market.
#[derive(Debug, Clone)]
pub(crate) struct RankIndex {
    nodes: Vec<Node>,
    free: Vec<NodeId>,
    root: NodeId,
    len: usize,
    priority_state: u64,
}

impl Default for RankIndex {
    fn default() -> Self {
        Self::new()
    }
}

impl RankIndex {
    pub(crate) fn new() -> Self {
        Self {
            nodes: vec![Node::EMPTY],
            free: Vec::new(),
            root: NIL,
            len: 0,
            priority_state: 0x5eed_0f7a_110c_8e00,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The listing stored at a node.
    #[inline]
    pub(crate) fn listing(&self, node: NodeId) -> Listing {
        let n = &self.nodes[node as usize];
        Listing {
            key: n.key(),
            capacity: n.capacity,
            min_amount: n.min_amount,
            methods: n.methods,
        }
    }

    /// Adds an acceptor and returns its node.
    pub(crate) fn insert<T: Fn(u32, u32) -> Ordering>(
        &mut self,
        listing: Listing,
        tie: &T,
    ) -> NodeId {
        let priority = self.next_priority();
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.nodes.push(Node::EMPTY);
                // Node count is bounded by acceptors, which are u32 handles.
                NodeId::try_from(self.nodes.len() - 1).unwrap_or(NIL)
            }
        };
        self.nodes[id as usize].priority = priority;
        self.store(id, &listing);
        self.link(id, tie);
        self.len += 1;
        id
    }

    /// Removes a node returned by [`insert`](Self::insert).
    pub(crate) fn remove(&mut self, node: NodeId) {
        self.unlink(node);
        self.nodes[node as usize] = Node::EMPTY;
        self.free.push(node);
        self.len -= 1;
    }

    /// Replaces a node's listing, keeping its handle.
    pub(crate) fn update<T: Fn(u32, u32) -> Ordering>(
        &mut self,
        node: NodeId,
        listing: Listing,
        tie: &T,
    ) {
        let current = self.listing(node);
        if current == listing {
            return;
        }
        if current.key == listing.key {
            self.store(node, &listing);
            self.push_up(node);
            return;
        }
        self.unlink(node);
        self.store(node, &listing);
        self.link(node, tie);
    }

    /// Changes only a node's own capacity.
    pub(crate) fn set_capacity(&mut self, node: NodeId, capacity: i64) {
        let n = &mut self.nodes[node as usize];
        if n.capacity != capacity {
            n.capacity = capacity;
            self.push_up(node);
        }
    }

    #[inline]
    fn store(&mut self, node: NodeId, listing: &Listing) {
        let n = &mut self.nodes[node as usize];
        n.capacity = listing.capacity;
        n.min_amount = listing.min_amount;
        n.methods = listing.methods;
        n.acceptor = listing.key.acceptor;
        n.band = listing.key.band;
        n.stamp = listing.key.stamp;
        n.score = listing.key.score;
    }

    /// The acceptor of the first node in rank order whose capacity in
    /// `slot` covers `amount`, whose quote minimum allows it and that
    /// `accept` agrees to.
    ///
    /// Cost: O(log n) expected plus O(log n) for every node with enough
    /// capacity that is turned down by its minimum or by `accept`.
    pub(crate) fn first_fit<F: FnMut(u32) -> bool>(
        &self,
        slot: usize,
        amount: i64,
        accept: &mut F,
    ) -> Option<u32> {
        debug_assert!(slot < METHOD_SLOTS && amount > 0);
        self.first_fit_in(self.root, slot, amount, accept)
    }

    fn first_fit_in<F: FnMut(u32) -> bool>(
        &self,
        mut t: NodeId,
        slot: usize,
        amount: i64,
        accept: &mut F,
    ) -> Option<u32> {
        while t != NIL {
            let node = &self.nodes[t as usize];
            if node.left_caps[slot] >= amount
                && let Some(found) = self.first_fit_in(node.left, slot, amount, accept)
            {
                return Some(found);
            }
            if node.own_cap(slot) >= amount && node.min_amount <= amount && accept(node.acceptor) {
                return Some(node.acceptor);
            }
            if node.right_caps[slot] < amount {
                return None;
            }
            t = node.right;
        }
        None
    }

    /// Node handles in rank order (for audits).
    pub(crate) fn in_order(&self) -> Vec<NodeId> {
        let mut out = Vec::with_capacity(self.len);
        let mut stack = Vec::new();
        let mut t = self.root;
        while t != NIL || !stack.is_empty() {
            while t != NIL {
                stack.push(t);
                t = self.nodes[t as usize].left;
            }
            if let Some(top) = stack.pop() {
                out.push(top);
                t = self.nodes[top as usize].right;
            }
        }
        out
    }

    /// Full structural audit: search order, heap order, parent links,
    /// subtree capacities and size. O(n).
    pub(crate) fn check<T: Fn(u32, u32) -> Ordering>(&self, tie: &T) -> Result<(), String> {
        let sentinel = &self.nodes[NIL as usize];
        if sentinel.total() != NO_CAPS || sentinel.left != NIL || sentinel.right != NIL {
            return Err("sentinel node was written".into());
        }
        if self.root != NIL && self.nodes[self.root as usize].parent != NIL {
            return Err("root has a parent".into());
        }
        let order = self.in_order();
        if order.len() != self.len {
            return Err(format!(
                "index holds {} nodes, counted {}",
                order.len(),
                self.len
            ));
        }
        for pair in order.windows(2) {
            let (a, b) = (self.listing(pair[0]).key, self.listing(pair[1]).key);
            if !a.less(&b, tie) {
                return Err(format!("index keys out of order: {a:?} !< {b:?}"));
            }
        }
        for &id in &order {
            let n = &self.nodes[id as usize];
            for (child, caps) in [(n.left, n.left_caps), (n.right, n.right_caps)] {
                if caps != self.nodes[child as usize].total() {
                    return Err(format!("stale child capacity at node {id}"));
                }
                if child == NIL {
                    continue;
                }
                if self.nodes[child as usize].priority > n.priority {
                    return Err(format!("heap order broken below node {id}"));
                }
                if self.nodes[child as usize].parent != id {
                    return Err(format!("bad parent link below node {id}"));
                }
            }
        }
        Ok(())
    }

    fn next_priority(&mut self) -> u32 {
        // splitmix64 step: a reproducible stream of well-mixed priorities.
        self.priority_state = self.priority_state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.priority_state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        // The top half of the mixed word; truncation is the point.
        (z >> 32) as u32
    }

    /// Pushes the subtree capacities of `t` into its ancestors, stopping as
    /// soon as an ancestor already holds the same values: above that point
    /// every stored maximum is still right.
    fn push_up(&mut self, mut t: NodeId) {
        loop {
            let node = &self.nodes[t as usize];
            let parent = node.parent;
            if parent == NIL {
                return;
            }
            let caps = node.total();
            let p = &mut self.nodes[parent as usize];
            let stored = if p.left == t {
                &mut p.left_caps
            } else {
                &mut p.right_caps
            };
            if *stored == caps {
                return;
            }
            *stored = caps;
            t = parent;
        }
    }

    /// Points `parent`'s link that referenced `old` (or the root) at `new`.
    /// The subtree under that link keeps its node set, so the capacity
    /// stored for it stays valid.
    #[inline(always)]
    fn replace_child(&mut self, parent: NodeId, old: NodeId, new: NodeId) {
        if parent == NIL {
            self.root = new;
        } else if self.nodes[parent as usize].left == old {
            self.nodes[parent as usize].left = new;
        } else {
            self.nodes[parent as usize].right = new;
        }
        if new != NIL {
            self.nodes[new as usize].parent = parent;
        }
    }

    /// Rotates `x` above its parent, keeping search order and the stored
    /// child capacities of both.
    fn rotate_up(&mut self, x: NodeId) {
        let p = self.nodes[x as usize].parent;
        debug_assert!(p != NIL);
        let g = self.nodes[p as usize].parent;
        if self.nodes[p as usize].left == x {
            let (middle, middle_caps) = {
                let n = &self.nodes[x as usize];
                (n.right, n.right_caps)
            };
            let pn = &mut self.nodes[p as usize];
            pn.left = middle;
            pn.left_caps = middle_caps;
            let p_total = pn.total();
            if middle != NIL {
                self.nodes[middle as usize].parent = p;
            }
            let xn = &mut self.nodes[x as usize];
            xn.right = p;
            xn.right_caps = p_total;
        } else {
            let (middle, middle_caps) = {
                let n = &self.nodes[x as usize];
                (n.left, n.left_caps)
            };
            let pn = &mut self.nodes[p as usize];
            pn.right = middle;
            pn.right_caps = middle_caps;
            let p_total = pn.total();
            if middle != NIL {
                self.nodes[middle as usize].parent = p;
            }
            let xn = &mut self.nodes[x as usize];
            xn.left = p;
            xn.left_caps = p_total;
        }
        self.nodes[p as usize].parent = x;
        self.replace_child(g, p, x);
    }

    /// Hangs detached node `n` into the tree by its key and priority.
    fn link<T: Fn(u32, u32) -> Ordering>(&mut self, n: NodeId, tie: &T) {
        {
            let node = &mut self.nodes[n as usize];
            node.left = NIL;
            node.right = NIL;
            node.parent = NIL;
            node.left_caps = NO_CAPS;
            node.right_caps = NO_CAPS;
        }
        if self.root == NIL {
            self.root = n;
            return;
        }
        let key = self.nodes[n as usize].key();
        let mut t = self.root;
        let goes_left = loop {
            let node = &self.nodes[t as usize];
            let left = key.less(&node.key(), tie);
            let next = if left { node.left } else { node.right };
            if next == NIL {
                break left;
            }
            t = next;
        };
        // The link's stored capacity stays "empty" for now: `push_up` below
        // fills in every ancestor that now sees a larger maximum.
        if goes_left {
            self.nodes[t as usize].left = n;
        } else {
            self.nodes[t as usize].right = n;
        }
        self.nodes[n as usize].parent = t;
        let priority = self.nodes[n as usize].priority;
        loop {
            let p = self.nodes[n as usize].parent;
            if p == NIL || self.nodes[p as usize].priority >= priority {
                break;
            }
            self.rotate_up(n);
        }
        self.push_up(n);
    }

    /// Detaches node `n` from the tree (its record stays in place).
    fn unlink(&mut self, n: NodeId) {
        // Rotate `n` down until it has at most one child.
        loop {
            let node = &self.nodes[n as usize];
            let (left, right) = (node.left, node.right);
            if left == NIL || right == NIL {
                break;
            }
            let heavier =
                if self.nodes[left as usize].priority > self.nodes[right as usize].priority {
                    left
                } else {
                    right
                };
            self.rotate_up(heavier);
        }
        let node = &self.nodes[n as usize];
        let (child, child_caps) = if node.left != NIL {
            (node.left, node.left_caps)
        } else {
            (node.right, node.right_caps)
        };
        let parent = node.parent;
        let was_left = parent != NIL && self.nodes[parent as usize].left == n;
        self.replace_child(parent, n, child);
        if parent != NIL {
            // The link now holds `child`'s subtree, without `n`.
            let p = &mut self.nodes[parent as usize];
            if was_left {
                p.left_caps = child_caps;
            } else {
                p.right_caps = child_caps;
            }
            self.push_up(parent);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_handle(a: u32, b: u32) -> Ordering {
        a.cmp(&b)
    }

    fn listing(band: i64, stamp: u64, acceptor: u32, capacity: i64, methods: u8) -> Listing {
        Listing {
            key: RankKey {
                band,
                stamp,
                score: 0,
                acceptor,
            },
            capacity,
            min_amount: 1,
            methods,
        }
    }

    /// Deterministic pseudo-random stream for the randomized test.
    fn stream(seed: u64) -> impl FnMut() -> u64 {
        let mut s = seed;
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        }
    }

    #[test]
    fn finds_first_node_with_enough_capacity_in_rank_order() {
        let mut index = RankIndex::new();
        let a = index.insert(listing(100, 0, 0, 50, 0), &by_handle);
        index.insert(listing(100, 0, 1, 500, 0b10), &by_handle);
        index.insert(listing(90, 0, 2, 10, 0), &by_handle);
        index.insert(listing(110, 0, 3, 1_000, 0b100), &by_handle);
        index.check(&by_handle).unwrap();
        assert_eq!(index.first_fit(0, 5, &mut |_| true), Some(2));
        assert_eq!(index.first_fit(0, 20, &mut |_| true), Some(0));
        assert_eq!(index.first_fit(0, 200, &mut |_| true), Some(1));
        assert_eq!(index.first_fit(0, 600, &mut |_| true), Some(3));
        assert_eq!(index.first_fit(0, 6_000, &mut |_| true), None);
        assert_eq!(index.first_fit(1, 5, &mut |_| true), Some(1));
        assert_eq!(index.first_fit(2, 5, &mut |_| true), Some(3));
        assert_eq!(index.first_fit(3, 5, &mut |_| true), None);
        assert_eq!(index.first_fit(0, 5, &mut |acc| acc != 2), Some(0));
        // Round-robin move: acceptor 0 goes behind acceptor 1 in its band.
        index.update(a, listing(100, 7, 0, 50, 0), &by_handle);
        index.check(&by_handle).unwrap();
        assert_eq!(index.first_fit(0, 20, &mut |_| true), Some(1));
        // A quote minimum above the amount skips the node.
        let mut raised = listing(90, 0, 2, 10, 0);
        raised.min_amount = 6;
        let node_of_2 = index
            .in_order()
            .into_iter()
            .find(|&n| index.listing(n).key.acceptor == 2)
            .unwrap();
        index.update(node_of_2, raised, &by_handle);
        assert_eq!(index.first_fit(0, 5, &mut |_| true), Some(1));
        assert_eq!(index.first_fit(0, 6, &mut |_| true), Some(2));
        index.remove(a);
        index.check(&by_handle).unwrap();
        assert_eq!(index.len(), 3);
    }

    #[test]
    fn matches_a_linear_scan_under_random_updates() {
        let mut next = stream(0x1234_5678);
        let mut index = RankIndex::new();
        let mut listed: Vec<Option<(NodeId, Listing)>> = vec![None; 64];
        for step in 0..20_000_u64 {
            let acc = (next() % 64) as u32;
            let mut l = listing(
                (next() % 8) as i64,
                next() % 16,
                acc,
                (next() % 1_000) as i64 - 100,
                (next() % 16) as u8 & 0b1110,
            );
            l.key.score = (next() % 3) as u32;
            l.min_amount = (next() % 300) as i64;
            match (listed[acc as usize], next() % 3) {
                (None, _) => {
                    let node = index.insert(l, &by_handle);
                    listed[acc as usize] = Some((node, l));
                }
                (Some((node, _)), 0) => {
                    index.remove(node);
                    listed[acc as usize] = None;
                }
                (Some((node, old)), 1) => {
                    // Capacity-only change, as liquidity moves do.
                    l.key = old.key;
                    index.update(node, l, &by_handle);
                    listed[acc as usize] = Some((node, l));
                }
                (Some((node, _)), _) => {
                    index.update(node, l, &by_handle);
                    listed[acc as usize] = Some((node, l));
                }
            }
            let slot = (next() % METHOD_SLOTS as u64) as usize;
            let amount = (next() % 900 + 1) as i64;
            let banned = (next() % 64) as u32;
            let expected = listed
                .iter()
                .flatten()
                .map(|(_, l)| l)
                .filter(|l| {
                    l.capacity >= amount
                        && l.min_amount <= amount
                        && (slot == 0 || l.methods & (1 << slot) != 0)
                        && l.key.acceptor != banned
                })
                .min_by(|a, b| {
                    if a.key.less(&b.key, &by_handle) {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
                })
                .map(|l| l.key.acceptor);
            let found = index.first_fit(slot, amount, &mut |a| a != banned);
            assert_eq!(found, expected, "step {step}");
            if step % 500 == 0 {
                index.check(&by_handle).unwrap();
            }
        }
        index.check(&by_handle).unwrap();
        assert_eq!(index.len(), listed.iter().flatten().count());
    }
}
