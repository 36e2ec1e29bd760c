//! The ordered half of a sorted set: a skip list with spans (Pugh's skip
//! list, with Redis's addition of a width per link), ordered by (score,
//! member). Spans give O(log n) rank lookups and access by rank, which a
//! `BTreeMap` cannot: its iterators only walk, so `ZRANK` or `ZRANGE 5000
//! 5010` would cost O(n). Nodes live in one arena (`Vec`) and link by index,
//! so the structure is plain safe Rust with a free list for reuse.
//!
//! Every lookup is "how many elements satisfy a monotone predicate"
//! ([`SkipList::count_while`]): rank of a member, first score >= min, last
//! member <= a lex bound... all descend the same way.

/// An index into the arena; `NIL` ends a chain.
pub type Idx = u32;
/// No node.
pub const NIL: Idx = u32::MAX;
const HEAD: Idx = 0;
const MAX_LEVEL: usize = 32;

#[derive(Debug, Clone, Copy)]
struct Link {
    next: Idx,
    /// Elements skipped by following `next` (the node itself included).
    span: u32,
}

#[derive(Debug, Clone)]
struct Node {
    ele: Box<[u8]>,
    score: f64,
    back: Idx,
    /// Level 0 inline (three nodes in four have only it), higher levels after.
    l0: Link,
    up: Vec<Link>,
}

impl Node {
    fn link(&self, i: usize) -> Link {
        if i == 0 { self.l0 } else { self.up[i - 1] }
    }
    fn link_mut(&mut self, i: usize) -> &mut Link {
        if i == 0 {
            &mut self.l0
        } else {
            &mut self.up[i - 1]
        }
    }
    fn levels(&self) -> usize {
        1 + self.up.len()
    }
}

/// (score, member) order: by score, ties by member bytes.
pub fn before(s1: f64, e1: &[u8], s2: f64, e2: &[u8]) -> bool {
    s1 < s2 || (s1 == s2 && e1 < e2)
}

/// A skip list of (score, member), each member at most once.
#[derive(Debug, Clone)]
pub struct SkipList {
    nodes: Vec<Node>,
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
        let nil = Link { next: NIL, span: 0 };
        SkipList {
            nodes: vec![Node {
                ele: Box::default(),
                score: 0.0,
                back: NIL,
                l0: nil,
                up: vec![nil; MAX_LEVEL - 1],
            }],
            free: Vec::new(),
            level: 1,
            len: 0,
            tail: NIL,
            rng: 0x2545_F491_4F6C_DD1D,
        }
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

    fn next(&self, x: Idx, i: usize) -> Idx {
        self.nodes[x as usize].link(i).next
    }

    /// The member and score at `x`.
    pub fn get(&self, x: Idx) -> (&[u8], f64) {
        let n = &self.nodes[x as usize];
        (&n.ele, n.score)
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
        self.nodes[x as usize].back
    }

    /// How many leading elements satisfy `f` (which must hold for a prefix
    /// of the order), and the last of them (`NIL` if none). O(log n).
    pub fn count_while(&self, mut f: impl FnMut(f64, &[u8]) -> bool) -> (usize, Idx) {
        let mut x = HEAD;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.nodes[x as usize].link(i);
                if l.next == NIL {
                    break;
                }
                let n = &self.nodes[l.next as usize];
                if !f(n.score, &n.ele) {
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
        let (n, x) = self.count_while(|s, e| !before(score, ele, s, e));
        (x != NIL && self.nodes[x as usize].score == score && &*self.nodes[x as usize].ele == ele)
            .then(|| n - 1)
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
                let l = self.nodes[x as usize].link(i);
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

    fn alloc(&mut self, n: Node) -> Idx {
        match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = n;
                i
            }
            None => {
                self.nodes.push(n);
                (self.nodes.len() - 1) as Idx
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
                let l = self.nodes[x as usize].link(i);
                if l.next == NIL {
                    break;
                }
                let n = &self.nodes[l.next as usize];
                if !before(n.score, &n.ele, score, &ele) {
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
                self.nodes[HEAD as usize].link_mut(i).span = self.len as u32;
            }
            self.level = lvl;
        }
        let nil = Link { next: NIL, span: 0 };
        let new = self.alloc(Node {
            ele,
            score,
            back: NIL,
            l0: nil,
            up: vec![nil; lvl - 1],
        });
        for i in 0..lvl {
            let u = self.nodes[update[i] as usize].link(i);
            let taken = rank[0] - rank[i];
            *self.nodes[new as usize].link_mut(i) = Link {
                next: u.next,
                span: u.span - taken,
            };
            *self.nodes[update[i] as usize].link_mut(i) = Link {
                next: new,
                span: taken + 1,
            };
        }
        for (i, u) in update.iter().enumerate().take(self.level).skip(lvl) {
            self.nodes[*u as usize].link_mut(i).span += 1;
        }
        self.nodes[new as usize].back = if update[0] == HEAD { NIL } else { update[0] };
        match self.nodes[new as usize].l0.next {
            NIL => self.tail = new,
            nx => self.nodes[nx as usize].back = new,
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
                if nx == NIL {
                    break;
                }
                let n = &self.nodes[nx as usize];
                if !before(n.score, &n.ele, score, ele) {
                    break;
                }
                x = nx;
            }
            update[i] = x;
        }
        update
    }

    fn unlink(&mut self, x: Idx, update: &[Idx; MAX_LEVEL]) {
        let xl = self.nodes[x as usize].levels();
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let ul = self.nodes[u as usize].link(i);
            if i < xl && ul.next == x {
                let own = self.nodes[x as usize].link(i);
                *self.nodes[u as usize].link_mut(i) = Link {
                    next: own.next,
                    span: ul.span + own.span - 1,
                };
            } else {
                self.nodes[u as usize].link_mut(i).span -= 1;
            }
        }
        let (back, next) = (self.nodes[x as usize].back, self.nodes[x as usize].l0.next);
        match next {
            NIL => self.tail = back,
            nx => self.nodes[nx as usize].back = back,
        }
        while self.level > 1 && self.next(HEAD, self.level - 1) == NIL {
            self.level -= 1;
        }
        self.len -= 1;
    }

    fn release(&mut self, x: Idx) -> Box<[u8]> {
        self.free.push(x);
        let n = &mut self.nodes[x as usize];
        n.up = Vec::new();
        std::mem::take(&mut n.ele)
    }

    /// Remove (score, ele); returns the member's bytes if it was there.
    pub fn remove(&mut self, score: f64, ele: &[u8]) -> Option<Box<[u8]>> {
        let update = self.path(score, ele);
        let x = self.next(update[0], 0);
        if x == NIL || self.nodes[x as usize].score != score || &*self.nodes[x as usize].ele != ele
        {
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
        let nil = Link { next: NIL, span: 0 };
        self.nodes.clear();
        self.nodes.push(Node {
            ele: Box::default(),
            score: 0.0,
            back: NIL,
            l0: nil,
            up: vec![nil; MAX_LEVEL - 1],
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
        let back = self.nodes[x as usize].back;
        let next = self.nodes[x as usize].l0.next;
        let after_prev = back == NIL || {
            let p = &self.nodes[back as usize];
            before(p.score, &p.ele, new, ele)
        };
        let before_next = next == NIL || {
            let n = &self.nodes[next as usize];
            before(new, ele, n.score, &n.ele)
        };
        if after_prev && before_next {
            self.nodes[x as usize].score = new;
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
                let l = self.nodes[x as usize].link(i);
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
            let nx = self.nodes[x as usize].l0.next;
            self.unlink(x, &update);
            let score = self.nodes[x as usize].score;
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
            let n = &self.nodes[x as usize];
            x = n.l0.next;
            Some((&*n.ele, n.score))
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
