//! A set, kept the two ways Redis 7.0 keeps one so that every reply comes
//! back in redis-server's order.
//!
//! - `intset` while every member is an integer (Redis's strict `string2ll`
//!   form: no `+`, no leading zeros, no `-0`) and there are at most
//!   `set-max-intset-entries`: members sorted by value, found by binary
//!   search. SMEMBERS, SSCAN and `SORT ... BY nosort` list them ascending.
//! - `hashtable` after that: a [`Dict`], order arbitrary, no way back.
//!
//! A new set starts as an intset and converts at the first member that is
//! not an integer or the first that passes the limit, as Redis's
//! `setTypeCreate` and `setTypeAdd` decide.

use super::EncLimits;
use crate::kv::dict::Dict;
use crate::kv::protocol::parse_int;

enum Rep {
    /// Sorted by value; each with its text, so members read as bytes.
    Ints(Vec<(i64, Box<[u8]>)>),
    Table(Dict<()>),
}

/// A set of members (see the module doc).
pub struct Set {
    rep: Rep,
}

impl Default for Set {
    fn default() -> Self {
        Set {
            rep: Rep::Ints(Vec::new()),
        }
    }
}

/// `set-max-intset-entries`, capped as Redis caps it (1G entries).
fn max_ints(l: &EncLimits) -> usize {
    l.set_intset.clamp(0, 1 << 30) as usize
}

impl Set {
    /// Number of members.
    pub fn len(&self) -> usize {
        match &self.rep {
            Rep::Ints(v) => v.len(),
            Rep::Table(d) => d.len(),
        }
    }

    /// True when there are no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True once converted to `hashtable`.
    pub fn is_big(&self) -> bool {
        matches!(self.rep, Rep::Table(_))
    }

    /// `intset` or `hashtable`, the `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        if self.is_big() { "hashtable" } else { "intset" }
    }

    /// True when `m` is a member.
    pub fn contains(&self, m: &[u8]) -> bool {
        match &self.rep {
            Rep::Ints(v) => {
                parse_int(m).is_some_and(|n| v.binary_search_by_key(&n, |e| e.0).is_ok())
            }
            Rep::Table(d) => d.get(m).is_some(),
        }
    }

    /// Convert to `hashtable` (nothing if it is one).
    pub fn convert(&mut self) {
        if let Rep::Ints(v) = &mut self.rep {
            let mut d = Dict::new();
            for (_, m) in std::mem::take(v) {
                d.insert(&m, ());
            }
            self.rep = Rep::Table(d);
        }
    }

    /// Add `m`, converting as Redis's `setTypeAdd` does (before a member
    /// that is not an integer, after one past the limit); true if new.
    pub fn add(&mut self, m: &[u8], l: &EncLimits) -> bool {
        if !self.is_big() && parse_int(m).is_none() {
            self.convert();
        }
        let added = self.add_raw(m);
        if added && !self.is_big() && self.len() > max_ints(l) {
            self.convert();
        }
        added
    }

    /// Add `m` with no limit checked (undo); true if new. A member that is
    /// not an integer still converts: an intset cannot hold it.
    pub fn add_raw(&mut self, m: &[u8]) -> bool {
        if let Rep::Ints(v) = &mut self.rep {
            match parse_int(m) {
                Some(n) => {
                    return match v.binary_search_by_key(&n, |e| e.0) {
                        Ok(_) => false,
                        Err(i) => {
                            v.insert(i, (n, m.into()));
                            true
                        }
                    };
                }
                None => self.convert(),
            }
        }
        match &mut self.rep {
            Rep::Table(d) => d.insert(m, ()).is_none(),
            Rep::Ints(_) => false,
        }
    }

    /// True when adding `members` would convert it (the count is a bound:
    /// some may be members already).
    pub fn would_convert(&self, members: &[&[u8]], l: &EncLimits) -> bool {
        !self.is_big()
            && (self.len() + members.len() > max_ints(l)
                || members.iter().any(|m| parse_int(m).is_none()))
    }

    /// Remove `m`; true if it was a member.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match &mut self.rep {
            Rep::Ints(v) => match parse_int(m).map(|n| v.binary_search_by_key(&n, |e| e.0)) {
                Some(Ok(i)) => {
                    v.remove(i);
                    true
                }
                _ => false,
            },
            Rep::Table(d) => d.remove(m).is_some(),
        }
    }

    /// The set of the members of `d`, loaded whole (RESTORE): an intset if
    /// it could be one under the limits `l`, as Redis loads a set.
    pub fn loaded(d: Dict<()>, l: &EncLimits) -> Set {
        if d.len() <= max_ints(l) {
            let ints: Option<Vec<(i64, Box<[u8]>)>> = d
                .iter()
                .map(|(m, _)| Some((parse_int(m)?, m.into())))
                .collect();
            if let Some(mut v) = ints {
                v.sort_unstable_by_key(|e| e.0);
                return Set { rep: Rep::Ints(v) };
            }
        }
        Set { rep: Rep::Table(d) }
    }

    /// Every member: ascending by value while an intset.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let (ints, table) = match &self.rep {
            Rep::Ints(v) => (Some(v.iter().map(|(_, m)| &**m)), None),
            Rep::Table(d) => (None, Some(d.iter().map(|(m, _)| m))),
        };
        ints.into_iter()
            .flatten()
            .chain(table.into_iter().flatten())
    }

    /// The table once converted (for SSCAN's cursor and fair sampling).
    pub fn table(&self) -> Option<&Dict<()>> {
        match &self.rep {
            Rep::Ints(_) => None,
            Rep::Table(d) => Some(d),
        }
    }

    /// A member picked uniformly at random.
    pub fn random(&self, mut rand: impl FnMut() -> u64) -> Option<&[u8]> {
        match &self.rep {
            Rep::Ints(v) if v.is_empty() => None,
            Rep::Ints(v) => Some(&v[(rand() % v.len() as u64) as usize].1),
            Rep::Table(d) => d.fair_random(rand).map(|(m, _)| m),
        }
    }
}

/// Order `members` (distinct) as Redis would list a set it builds from them
/// for a reply (SUNION, SDIFF, SPOP of everything start from an empty
/// intset): ascending by value when they would make an intset, else as given.
pub fn order_as_built(members: &mut [&[u8]], l: &EncLimits) {
    if members.len() > max_ints(l) {
        return;
    }
    let ints: Option<Vec<i64>> = members.iter().map(|m| parse_int(m)).collect();
    if let Some(ints) = ints {
        let mut both: Vec<(i64, &[u8])> = ints.into_iter().zip(members.iter().copied()).collect();
        both.sort_unstable_by_key(|e| e.0);
        for (slot, (_, m)) in members.iter_mut().zip(both) {
            *slot = m;
        }
    }
}

impl Clone for Set {
    fn clone(&self) -> Self {
        let rep = match &self.rep {
            Rep::Ints(v) => Rep::Ints(v.clone()),
            Rep::Table(d) => {
                let mut c = Dict::new();
                for (m, _) in d.iter() {
                    c.insert(m, ());
                }
                Rep::Table(c)
            }
        };
        Set { rep }
    }
}

impl std::fmt::Debug for Set {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set()
            .entries(self.iter().map(String::from_utf8_lossy))
            .finish()
    }
}

/// Same members, whatever the encoding.
impl PartialEq for Set {
    fn eq(&self, o: &Self) -> bool {
        self.len() == o.len() && self.iter().all(|m| o.contains(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(s: &Set) -> Vec<String> {
        s.iter()
            .map(|m| String::from_utf8_lossy(m).into_owned())
            .collect()
    }

    #[test]
    fn an_intset_lists_members_ascending_by_value() {
        let l = EncLimits::default();
        let mut s = Set::default();
        for m in ["10", "-3", "2", "10", "9223372036854775807", "0"] {
            s.add(m.as_bytes(), &l);
        }
        assert_eq!(members(&s), ["-3", "0", "2", "10", "9223372036854775807"]);
        assert!(s.contains(b"2") && !s.contains(b"02") && !s.contains(b"x"));
        assert!(s.remove(b"2") && !s.remove(b"2") && !s.remove(b"+0"));
        assert_eq!(s.encoding(), "intset");
    }

    #[test]
    fn converts_at_a_non_integer_or_past_the_limit_for_good() {
        let l = EncLimits {
            set_intset: 2,
            ..EncLimits::default()
        };
        for odd in ["x", "01", "-0", "+1", " 1", "99999999999999999999"] {
            let mut s = Set::default();
            s.add(b"1", &l);
            assert!(s.would_convert(&[odd.as_bytes()], &l));
            assert!(s.add(odd.as_bytes(), &l));
            assert_eq!(s.encoding(), "hashtable", "{odd}");
            assert!(s.contains(odd.as_bytes()) && s.contains(b"1"));
            s.remove(odd.as_bytes());
            assert!(s.is_big());
        }
        let mut s = Set::default();
        s.add(b"1", &l);
        s.add(b"2", &l);
        assert!(!s.is_big());
        assert!(!s.add(b"2", &l));
        assert!(!s.is_big());
        s.add(b"3", &l);
        assert!(s.is_big());
        let mut d = Dict::new();
        for m in ["3", "1", "2"] {
            d.insert(m.as_bytes(), ());
        }
        let s = Set::loaded(d, &EncLimits::default());
        assert_eq!(members(&s), ["1", "2", "3"]);
        let mut d = Dict::new();
        for m in ["3", "1", "2"] {
            d.insert(m.as_bytes(), ());
        }
        assert!(Set::loaded(d, &l).is_big());
        let mut d = Dict::new();
        d.insert(b"a", ());
        assert!(Set::loaded(d, &EncLimits::default()).is_big());
    }

    #[test]
    fn built_sets_are_ordered_like_redis() {
        let l = EncLimits::default();
        let mut m: Vec<&[u8]> = vec![b"3", b"-1", b"20"];
        order_as_built(&mut m, &l);
        assert_eq!(m, [&b"-1"[..], b"3", b"20"]);
        let mut m: Vec<&[u8]> = vec![b"3", b"a", b"1"];
        order_as_built(&mut m, &l);
        assert_eq!(m, [&b"3"[..], b"a", b"1"]);
        let few = EncLimits {
            set_intset: 1,
            ..EncLimits::default()
        };
        let mut m: Vec<&[u8]> = vec![b"3", b"1"];
        order_as_built(&mut m, &few);
        assert_eq!(m, [&b"3"[..], b"1"]);
    }
}
