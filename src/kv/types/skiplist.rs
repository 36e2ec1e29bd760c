//! The ordered half of a sorted set: a skip list with spans (Pugh's skip
//! list, with Redis's addition of a width per link), ordered by (score,
//! member). Spans give O(log n) rank lookups and access by rank, which a
//! `BTreeMap` cannot: its iterators only walk, so `ZRANK` or `ZRANGE 5000
//! 5010` would cost O(n). Nodes live in arenas (`Vec`s) and link by index,
//! so the structure is plain safe Rust with a free list for reuse.
//!
//! Every lookup is "how many elements satisfy a monotone predicate"
//! ([`SkipList::count_while`]): rank of a member, first score >= min, last
//! member <= a lex bound... all descend the same way.
//!
//! Layout: a descent reads, per step, the next node's score and then that
//! node's link at the same level. Both sit in one 64-byte `Hot` record (the
//! score and the lowest `INLINE` levels; a node needs more with probability
//! 4^-7), so a step costs one cache miss, as in Redis's node with its levels
//! inline. The member, the back link and any higher levels are in `Cold`.
//! Measured at 1M members, `ZRANK` of a random member: the node-plus-`Vec`
//! layout before spent 42% of the command on the second miss.

/// An index into the arena; `NIL` ends a chain.
pub type Idx = u32;
/// No node.
pub const NIL: Idx = u32::MAX;
const HEAD: Idx = 0;
const MAX_LEVEL: usize = 32;
/// Levels stored in the hot record.
const INLINE: usize = 7;

#[derive(Debug, Clone, Copy)]
struct Link {
    next: Idx,
    /// Elements skipped by following `next` (the node itself included).
    span: u32,
}

const NIL_LINK: Link = Link { next: NIL, span: 0 };

/// What a descent touches: the score and the lowest levels, one cache line.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct Hot {
    score: f64,
    low: [Link; INLINE],
}

/// The rest of a node.
#[derive(Debug, Clone, Default)]
struct Cold {
    ele: Box<[u8]>,
    back: Idx,
    levels: u32,
    /// Levels `INLINE..levels`.
    high: Box<[Link]>,
}

/// (score, member) order: by score, ties by member bytes.
pub fn before(s1: f64, e1: &[u8], s2: f64, e2: &[u8]) -> bool {
    s1 < s2 || (s1 == s2 && e1 < e2)
}

/// A skip list of (score, member), each member at most once.
#[derive(Debug, Clone)]
pub struct SkipList {
    hot: Vec<Hot>,
    cold: Vec<Cold>,
    free: Vec<Idx>,
    level: usize,
    len: usize,
    tail: Idx,
    rng: u64,
}

impl Default for SkipList {
    fn default() -> Self {
        SkipList::new()
    }
}

impl SkipList {
    /// An empty list.
    pub fn new() -> SkipList {
        let mut sl = SkipList {
            hot: Vec::new(),
            cold: Vec::new(),
            free: Vec::new(),
            level: 1,
            len: 0,
            tail: NIL,
            rng: 0x2545_F491_4F6C_DD1D,
        };
        sl.reset_head();
        sl
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn random_level(&mut self) -> usize {
        let mut lvl = 1;
        loop {
            let mut x = self.rng;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.rng = x;
            // p = 1/4 per level, as Redis.
            if x & 3 != 0 || lvl >= MAX_LEVEL {
                return lvl;
            }
            lvl += 1;
        }
    }

    fn link(&self, x: Idx, i: usize) -> Link {
        if i < INLINE {
            self.hot[x as usize].low[i]
        } else {
            self.cold[x as usize].high[i - INLINE]
        }
    }

    fn link_mut(&mut self, x: Idx, i: usize) -> &mut Link {
        if i < INLINE {
            &mut self.hot[x as usize].low[i]
        } else {
            &mut self.cold[x as usize].high[i - INLINE]
        }
    }

    fn score_of(&self, x: Idx) -> f64 {
        self.hot[x as usize].score
    }

    fn ele_of(&self, x: Idx) -> &[u8] {
        &self.cold[x as usize].ele
    }

    fn next(&self, x: Idx, i: usize) -> Idx {
        self.link(x, i).next
    }

    /// The member and score at `x`.
    pub fn get(&self, x: Idx) -> (&[u8], f64) {
        (self.ele_of(x), self.score_of(x))
    }

    /// The first node (lowest), or `NIL`.
    pub fn first(&self) -> Idx {
        self.next(HEAD, 0)
    }

    /// The last node (highest), or `NIL`.
    pub fn last(&self) -> Idx {
        self.tail
    }

    /// The node after `x`, or `NIL`.
    pub fn succ(&self, x: Idx) -> Idx {
        self.next(x, 0)
    }

    /// The node before `x`, or `NIL`.
    pub fn pred(&self, x: Idx) -> Idx {
        self.cold[x as usize].back
    }

    /// (score, member) of `x` strictly before (score, ele).
    fn node_before(&self, x: Idx, score: f64, ele: &[u8]) -> bool {
        let s = self.score_of(x);
        s < score || (s == score && self.ele_of(x) < ele)
    }

    /// How many leading elements satisfy `f` (which must hold for a prefix
    /// of the order), and the last of them (`NIL` if none). O(log n).
    pub fn count_while(&self, mut f: impl FnMut(f64, &[u8]) -> bool) -> (usize, Idx) {
        self.descend(|sl, x| f(sl.score_of(x), sl.ele_of(x)))
    }

    /// `count_while` with the node itself: a predicate that needs only the
    /// score never touches the cold record.
    fn descend(&self, mut f: impl FnMut(&SkipList, Idx) -> bool) -> (usize, Idx) {
        let mut x = HEAD;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.link(x, i);
                if l.next == NIL || !f(self, l.next) {
                    break;
                }
                rank += l.span as usize;
                x = l.next;
            }
        }
        (rank, if x == HEAD { NIL } else { x })
    }

    /// The 0-based rank of (score, ele), if present.
    pub fn rank(&self, score: f64, ele: &[u8]) -> Option<usize> {
        // Count the nodes <= (score, ele); the member is the last of them.
        let (n, x) = self.descend(|sl, y| {
            let s = sl.score_of(y);
            s < score || (s == score && sl.ele_of(y) <= ele)
        });
        (x != NIL && self.score_of(x) == score && self.ele_of(x) == ele).then(|| n - 1)
    }

    /// The node at 0-based `rank`, or `NIL`.
    pub fn at(&self, rank: usize) -> Idx {
        if rank >= self.len {
            return NIL;
        }
        let want = rank + 1;
        let mut x = HEAD;
        let mut traversed = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.link(x, i);
                if l.next == NIL || traversed + l.span as usize > want {
                    break;
                }
                traversed += l.span as usize;
                x = l.next;
            }
            if traversed == want {
                return x;
            }
        }
        NIL
    }

    fn alloc(&mut self, score: f64, ele: Box<[u8]>, levels: usize) -> Idx {
        let hot = Hot {
            score,
            low: [NIL_LINK; INLINE],
        };
        let cold = Cold {
            ele,
            back: NIL,
            levels: levels as u32,
            high: vec![NIL_LINK; levels.saturating_sub(INLINE)].into_boxed_slice(),
        };
        match self.free.pop() {
            Some(i) => {
                self.hot[i as usize] = hot;
                self.cold[i as usize] = cold;
                i
            }
            None => {
                self.hot.push(hot);
                self.cold.push(cold);
                (self.hot.len() - 1) as Idx
            }
        }
    }

    /// Insert (score, ele); the member must not be present.
    pub fn insert(&mut self, score: f64, ele: Box<[u8]>) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let l = self.link(x, i);
                if l.next == NIL || !self.node_before(l.next, score, &ele) {
                    break;
                }
                rank[i] += l.span;
                x = l.next;
            }
            update[i] = x;
        }
        let lvl = self.random_level();
        if lvl > self.level {
            for i in self.level..lvl {
                rank[i] = 0;
                update[i] = HEAD;
                self.link_mut(HEAD, i).span = self.len as u32;
            }
            self.level = lvl;
        }
        let new = self.alloc(score, ele, lvl);
        for i in 0..lvl {
            let u = self.link(update[i], i);
            let taken = rank[0] - rank[i];
            *self.link_mut(new, i) = Link {
                next: u.next,
                span: u.span - taken,
            };
            *self.link_mut(update[i], i) = Link {
                next: new,
                span: taken + 1,
            };
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(lvl) {
            self.link_mut(u, i).span += 1;
        }
        self.cold[new as usize].back = if update[0] == HEAD { NIL } else { update[0] };
        match self.next(new, 0) {
            NIL => self.tail = new,
            nx => self.cold[nx as usize].back = new,
        }
        self.len += 1;
    }

    /// Predecessors of the first node not before (score, ele), per level.
    fn path(&self, score: f64, ele: &[u8]) -> [Idx; MAX_LEVEL] {
        let mut update = [HEAD; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let nx = self.next(x, i);
                if nx == NIL || !self.node_before(nx, score, ele) {
                    break;
                }
                x = nx;
            }
            update[i] = x;
        }
        update
    }

    fn unlink(&mut self, x: Idx, update: &[Idx; MAX_LEVEL]) {
        let xl = self.cold[x as usize].levels as usize;
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let ul = self.link(u, i);
            if i < xl && ul.next == x {
                let own = self.link(x, i);
                *self.link_mut(u, i) = Link {
                    next: own.next,
                    span: ul.span + own.span - 1,
                };
            } else {
                self.link_mut(u, i).span -= 1;
            }
        }
        let (back, next) = (self.cold[x as usize].back, self.next(x, 0));
        match next {
            NIL => self.tail = back,
            nx => self.cold[nx as usize].back = back,
        }
        while self.level > 1 && self.next(HEAD, self.level - 1) == NIL {
            self.level -= 1;
        }
        self.len -= 1;
    }

    fn release(&mut self, x: Idx) -> Box<[u8]> {
        self.free.push(x);
        let c = &mut self.cold[x as usize];
        c.high = Box::default();
        std::mem::take(&mut c.ele)
    }

    /// Remove (score, ele); returns the member's bytes if it was there.
    pub fn remove(&mut self, score: f64, ele: &[u8]) -> Option<Box<[u8]>> {
        let update = self.path(score, ele);
        let x = self.next(update[0], 0);
        if x == NIL || self.score_of(x) != score || self.ele_of(x) != ele {
            return None;
        }
        self.unlink(x, &update);
        let e = self.release(x);
        if self.len == 0 {
            // Give the arena back once empty (a queue drained by ZPOPMIN).
            self.reset_head();
        }
        Some(e)
    }

    fn reset_head(&mut self) {
        self.free.clear();
        self.hot.clear();
        self.cold.clear();
        self.hot.push(Hot {
            score: 0.0,
            low: [NIL_LINK; INLINE],
        });
        self.cold.push(Cold {
            ele: Box::default(),
            back: NIL,
            levels: MAX_LEVEL as u32,
            high: vec![NIL_LINK; MAX_LEVEL - INLINE].into_boxed_slice(),
        });
        self.level = 1;
        self.tail = NIL;
    }

    /// Change the score of `ele` from `old` to `new` (it must be present).
    pub fn rescore(&mut self, old: f64, ele: &[u8], new: f64) {
        let update = self.path(old, ele);
        let x = self.next(update[0], 0);
        if x == NIL {
            return;
        }
        // Still in place between its neighbours: change it where it is.
        let back = self.cold[x as usize].back;
        let next = self.next(x, 0);
        let after_prev = back == NIL || self.node_before(back, new, ele);
        let before_next = next == NIL || {
            let (e, s) = self.get(next);
            before(new, ele, s, e)
        };
        if after_prev && before_next {
            self.hot[x as usize].score = new;
            return;
        }
        self.unlink(x, &update);
        let e = self.release(x);
        self.insert(new, e);
    }

    /// Remove the elements of 0-based ranks `start..=end` (clamped), calling
    /// `f` with each removed member and score, lowest first.
    pub fn remove_ranks(&mut self, start: usize, end: usize, mut f: impl FnMut(Box<[u8]>, f64)) {
        let end = end.min(self.len.saturating_sub(1));
        if start > end || self.len == 0 {
            return;
        }
        let mut update = [HEAD; MAX_LEVEL];
        let mut x = HEAD;
        let mut traversed = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.link(x, i);
                if l.next == NIL || traversed + l.span as usize > start {
                    break;
                }
                traversed += l.span as usize;
                x = l.next;
            }
            update[i] = x;
        }
        let mut x = self.next(x, 0);
        let mut n = end - start + 1;
        while n > 0 && x != NIL {
            let nx = self.next(x, 0);
            self.unlink(x, &update);
            let score = self.score_of(x);
            let e = self.release(x);
            f(e, score);
            x = nx;
            n -= 1;
        }
        if self.len == 0 {
            self.reset_head();
        }
    }

    /// Every element in order (for tests, COPY and compaction).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        let mut x = self.first();
        std::iter::from_fn(move || {
            if x == NIL {
                return None;
            }
            let item = self.get(x);
            x = self.next(x, 0);
            Some(item)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reference model: a sorted vector.
    fn check(sl: &SkipList, model: &[(f64, Vec<u8>)]) {
        assert_eq!(sl.len(), model.len());
        let got: Vec<(f64, Vec<u8>)> = sl.iter().map(|(e, s)| (s, e.to_vec())).collect();
        assert_eq!(got, model);
        for (r, (s, e)) in model.iter().enumerate() {
            assert_eq!(sl.rank(*s, e), Some(r), "rank of {e:?}");
            let x = sl.at(r);
            assert_eq!(sl.get(x), (&e[..], *s));
        }
        assert_eq!(sl.at(model.len()), NIL);
        // Backward links.
        let mut back = Vec::new();
        let mut x = sl.last();
        while x != NIL {
            back.push(sl.get(x).1);
            x = sl.pred(x);
        }
        back.reverse();
        assert_eq!(back, model.iter().map(|m| m.0).collect::<Vec<_>>());
    }

    fn sort(model: &mut [(f64, Vec<u8>)]) {
        model.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap().then(a.1.cmp(&b.1)));
    }

    #[test]
    fn random_operations_match_a_sorted_vector() {
        let mut sl = SkipList::new();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut rnd = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for step in 0..4000 {
            let m = format!("m{}", rnd(300)).into_bytes();
            let s = (rnd(50) as f64) - 25.0;
            let pos = model.iter().position(|x| x.1 == m);
            match rnd(4) {
                0 | 1 => match pos {
                    None => {
                        sl.insert(s, m.clone().into());
                        model.push((s, m));
                    }
                    Some(p) => {
                        sl.rescore(model[p].0, &m, s);
                        model[p].0 = s;
                    }
                },
                2 => {
                    if let Some(p) = pos {
                        let (os, _) = model.remove(p);
                        assert_eq!(sl.remove(os, &m).as_deref(), Some(&m[..]));
                    } else {
                        assert!(sl.remove(s, &m).is_none());
                    }
                }
                _ => {
                    if !model.is_empty() {
                        let a = rnd(model.len() as u64) as usize;
                        let b = a + rnd(5) as usize;
                        let mut gone = Vec::new();
                        sl.remove_ranks(a, b, |e, s| gone.push((s, e.to_vec())));
                        let end = b.min(model.len() - 1);
                        let want: Vec<_> = model.drain(a..=end).collect();
                        assert_eq!(gone, want);
                    }
                }
            }
            sort(&mut model);
            if step % 97 == 0 {
                check(&sl, &model);
            }
        }
        check(&sl, &model);
    }

    /// Levels past the hot record's `INLINE` live in the cold one: a list
    /// tall enough to use them (a node above level 7 comes once in 16384)
    /// stays consistent through inserts, rescores and removals.
    #[test]
    fn tall_lists_use_the_cold_levels_consistently() {
        let mut sl = SkipList::new();
        let n = 200_000u64;
        // Members in a scrambled order, score = index / 3 (ties by member).
        let key = |i: u64| format!("k{:08}", (i * 7_919) % n).into_bytes();
        for i in 0..n {
            sl.insert((i / 3) as f64, key(i).into());
        }
        assert!(
            sl.level > INLINE,
            "level {} never left the hot record",
            sl.level
        );
        // Move every 5th member to a new score, remove every 7th.
        for i in (0..n).step_by(5) {
            sl.rescore((i / 3) as f64, &key(i), (n - i) as f64 + 0.5);
        }
        for i in (0..n).step_by(7) {
            let old = if i % 5 == 0 {
                (n - i) as f64 + 0.5
            } else {
                (i / 3) as f64
            };
            assert!(sl.remove(old, &key(i)).is_some(), "remove {i}");
        }
        let mut model: Vec<(f64, Vec<u8>)> = (0..n)
            .filter(|i| i % 7 != 0)
            .map(|i| {
                let s = if i % 5 == 0 {
                    (n - i) as f64 + 0.5
                } else {
                    (i / 3) as f64
                };
                (s, key(i))
            })
            .collect();
        sort(&mut model);
        check(&sl, &model);
        sl.remove_ranks(0, model.len(), |_, _| {});
        assert!(sl.is_empty());
        model.clear();
        check(&sl, &model);
    }

    #[test]
    fn count_while_finds_score_bounds() {
        let mut sl = SkipList::new();
        for i in 0..100 {
            sl.insert((i / 2) as f64, format!("{i:03}").into_bytes().into());
        }
        // Elements with score < 10: 20 of them.
        let (n, x) = sl.count_while(|s, _| s < 10.0);
        assert_eq!(n, 20);
        assert_eq!(sl.get(x), (&b"019"[..], 9.0));
        let (n, x) = sl.count_while(|_, _| false);
        assert_eq!((n, x), (0, NIL));
        let (n, _) = sl.count_while(|_, _| true);
        assert_eq!(n, 100);
    }

    #[test]
    fn emptied_lists_are_reusable() {
        let mut sl = SkipList::new();
        for round in 0..3 {
            for i in 0..50 {
                sl.insert(i as f64, format!("r{round}-{i}").into_bytes().into());
            }
            sl.remove_ranks(0, 100, |_, _| {});
            assert!(sl.is_empty());
            assert_eq!(sl.first(), NIL);
            assert_eq!(sl.last(), NIL);
        }
        sl.insert(1.0, b"a".to_vec().into());
        assert_eq!(sl.remove(1.0, b"a").as_deref(), Some(&b"a"[..]));
        assert!(sl.is_empty());
        sl.insert(2.0, b"b".to_vec().into());
        assert_eq!(sl.rank(2.0, b"b"), Some(0));
    }
}
