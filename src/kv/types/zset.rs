//! A sorted set: a [`Dict`] from member to score (O(1) `ZSCORE`, and the
//! `ZSCAN` cursor) plus a [`SkipList`] ordered by (score, member) for ranks
//! and ranges in O(log n), as Redis pairs its dict with its skip list. Also
//! the score and lex range arguments (`(1.5`, `+inf`, `[abc`, `-`).

use super::skiplist::{Idx, NIL, SkipList};
use crate::kv::cmd::arg::parse_float;
use crate::kv::dict::Dict;

/// A sorted set.
#[derive(Default)]
pub struct ZSet {
    /// Member to score.
    pub dict: Dict<f64>,
    /// (score, member) order.
    pub sl: SkipList,
    /// Reported as `skiplist` from now on (Redis never converts back).
    pub big: bool,
}

impl Clone for ZSet {
    fn clone(&self) -> Self {
        let mut z = ZSet {
            big: self.big,
            ..ZSet::default()
        };
        for (m, s) in self.sl.iter() {
            z.set(m, s);
        }
        z
    }
}

impl std::fmt::Debug for ZSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.sl.iter().map(|(m, s)| (String::from_utf8_lossy(m), s)))
            .finish()
    }
}

impl PartialEq for ZSet {
    fn eq(&self, o: &Self) -> bool {
        self.len() == o.len() && self.sl.iter().eq(o.sl.iter())
    }
}

impl ZSet {
    /// Members.
    pub fn len(&self) -> usize {
        self.sl.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.sl.is_empty()
    }

    /// The score of `m`.
    pub fn score(&self, m: &[u8]) -> Option<f64> {
        self.dict.get(m).copied()
    }

    /// Set the score of `m` (adding it); returns the previous score.
    pub fn set(&mut self, m: &[u8], score: f64) -> Option<f64> {
        match self.dict.get_mut(m) {
            Some(s) => {
                let old = *s;
                if old != score {
                    *s = score;
                    self.sl.rescore(old, m, score);
                }
                Some(old)
            }
            None => {
                self.dict.insert(m, score);
                self.sl.insert(score, m.into());
                None
            }
        }
    }

    /// Remove `m`; returns its score.
    pub fn remove(&mut self, m: &[u8]) -> Option<f64> {
        let s = self.dict.remove(m)?;
        self.sl.remove(s, m);
        Some(s)
    }

    /// 0-based rank of `m`, from the lowest (or from the highest when `rev`).
    pub fn rank(&self, m: &[u8], rev: bool) -> Option<usize> {
        let s = self.score(m)?;
        let r = self.sl.rank(s, m)?;
        Some(if rev { self.len() - 1 - r } else { r })
    }

    /// Remove ranks `start..=end` (0-based, lowest first); returns them.
    pub fn remove_ranks(&mut self, start: usize, end: usize) -> Vec<(Box<[u8]>, f64)> {
        let mut gone = Vec::new();
        let dict = &mut self.dict;
        self.sl.remove_ranks(start, end, |m, s| {
            dict.remove(&m);
            gone.push((m, s));
        });
        gone
    }

    /// Ranks `[first, last]` of the members whose scores are in `r`.
    pub fn score_span(&self, r: &ScoreRange) -> Option<(usize, usize)> {
        if r.is_empty() {
            return None;
        }
        let (below, _) = self.sl.count_while(|s, _| !r.gte_min(s));
        let (upto, _) = self.sl.count_while(|s, _| r.lte_max(s));
        (upto > below).then(|| (below, upto - 1))
    }

    /// Ranks `[first, last]` of the members in the lex range `r` (meaningful
    /// when all scores are equal, as in Redis).
    pub fn lex_span(&self, r: &LexRange) -> Option<(usize, usize)> {
        if r.is_empty() {
            return None;
        }
        let (below, _) = self.sl.count_while(|_, m| !r.gte_min(m));
        let (upto, _) = self.sl.count_while(|_, m| r.lte_max(m));
        (upto > below).then(|| (below, upto - 1))
    }

    /// Walk `n` members from rank `start` (0-based, lowest first), or
    /// downwards from `start` when `rev` (ranks counted from the lowest).
    pub fn walk<'a>(&'a self, start: usize, n: usize, rev: bool, mut f: impl FnMut(&'a [u8], f64)) {
        let mut x: Idx = self.sl.at(start);
        let mut left = n;
        while left > 0 && x != NIL {
            let (m, s) = self.sl.get(x);
            f(m, s);
            x = if rev {
                self.sl.pred(x)
            } else {
                self.sl.succ(x)
            };
            left -= 1;
        }
    }
}

/// A score interval: `min`/`max`, each inclusive unless marked exclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    /// Lower bound.
    pub min: f64,
    /// Upper bound.
    pub max: f64,
    /// `(min`: exclusive.
    pub minex: bool,
    /// `(max`: exclusive.
    pub maxex: bool,
}

fn score_bound(a: &[u8]) -> Option<(f64, bool)> {
    let (ex, num) = match a.first() {
        Some(b'(') => (true, &a[1..]),
        _ => (false, a),
    };
    Some((parse_float(num)?, ex))
}

impl ScoreRange {
    /// Parse `min max` as ZRANGEBYSCORE takes them; `None`: Redis's
    /// "min or max is not a float".
    pub fn parse(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
        let (min, minex) = score_bound(min)?;
        let (max, maxex) = score_bound(max)?;
        Some(ScoreRange {
            min,
            max,
            minex,
            maxex,
        })
    }

    /// True when no score can be inside.
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }

    /// `v` is not below the lower bound.
    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    /// `v` is not above the upper bound.
    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    /// `v` is inside.
    pub fn contains(&self, v: f64) -> bool {
        self.gte_min(v) && self.lte_max(v)
    }
}

/// One end of a lex range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: below everything.
    Min,
    /// `+`: above everything.
    Max,
    /// `[x`: x included.
    Incl(Vec<u8>),
    /// `(x`: x excluded.
    Excl(Vec<u8>),
}

impl LexBound {
    fn parse(a: &[u8]) -> Option<LexBound> {
        match a.first()? {
            b'-' if a.len() == 1 => Some(LexBound::Min),
            b'+' if a.len() == 1 => Some(LexBound::Max),
            b'[' => Some(LexBound::Incl(a[1..].to_vec())),
            b'(' => Some(LexBound::Excl(a[1..].to_vec())),
            _ => None,
        }
    }
}

/// A lex interval (ZRANGEBYLEX).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexRange {
    /// Lower end.
    pub min: LexBound,
    /// Upper end.
    pub max: LexBound,
}

impl LexRange {
    /// Parse `min max`; `None`: Redis's "min or max not valid string range item".
    pub fn parse(min: &[u8], max: &[u8]) -> Option<LexRange> {
        Some(LexRange {
            min: LexBound::parse(min)?,
            max: LexBound::parse(max)?,
        })
    }

    /// True when nothing can be inside.
    pub fn is_empty(&self) -> bool {
        use LexBound::*;
        match (&self.min, &self.max) {
            (Max, _) | (_, Min) => true,
            (Min, _) | (_, Max) => false,
            (Incl(a), Incl(b)) => a > b,
            (Incl(a) | Excl(a), Incl(b) | Excl(b)) => a >= b,
        }
    }

    /// `m` is not below the lower end.
    pub fn gte_min(&self, m: &[u8]) -> bool {
        match &self.min {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Incl(x) => m >= &x[..],
            LexBound::Excl(x) => m > &x[..],
        }
    }

    /// `m` is not above the upper end.
    pub fn lte_max(&self, m: &[u8]) -> bool {
        match &self.max {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Incl(x) => m <= &x[..],
            LexBound::Excl(x) => m < &x[..],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn z(items: &[(&str, f64)]) -> ZSet {
        let mut z = ZSet::default();
        for (m, s) in items {
            z.set(m.as_bytes(), *s);
        }
        z
    }

    #[test]
    fn scores_ranks_and_spans() {
        let mut zs = z(&[("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 3.0), ("e", 5.0)]);
        assert_eq!(zs.rank(b"c", false), Some(2));
        assert_eq!(zs.rank(b"c", true), Some(2));
        assert_eq!(zs.rank(b"e", true), Some(0));
        assert_eq!(zs.set(b"a", 4.0), Some(1.0));
        assert_eq!(zs.rank(b"a", false), Some(3));
        let r = ScoreRange::parse(b"(2", b"4").unwrap();
        assert_eq!(zs.score_span(&r), Some((1, 3)));
        let r = ScoreRange::parse(b"-inf", b"(1").unwrap();
        assert_eq!(zs.score_span(&r), None);
        assert!(ScoreRange::parse(b"x", b"1").is_none());
        assert!(ScoreRange::parse(b"(5", b"5").unwrap().is_empty());
        assert_eq!(zs.remove(b"c"), Some(3.0));
        assert_eq!(zs.score(b"c"), None);
        let gone = zs.remove_ranks(0, 1);
        assert_eq!(gone.len(), 2);
        assert_eq!(zs.len(), 2);
        assert_eq!(zs.dict.len(), 2);
    }

    #[test]
    fn lex_ranges() {
        let zs = z(&[("a", 0.0), ("b", 0.0), ("c", 0.0), ("d", 0.0)]);
        let r = LexRange::parse(b"[b", b"(d").unwrap();
        assert_eq!(zs.lex_span(&r), Some((1, 2)));
        let r = LexRange::parse(b"-", b"+").unwrap();
        assert_eq!(zs.lex_span(&r), Some((0, 3)));
        assert!(LexRange::parse(b"b", b"+").is_none());
        assert!(LexRange::parse(b"(b", b"(b").unwrap().is_empty());
        assert!(LexRange::parse(b"+", b"-").unwrap().is_empty());
    }
}
