//! Helpers shared by the collection families (hashes, lists, sets, sorted
//! sets): typed key lookups that answer `WRONGTYPE`, the `*SCAN` arguments,
//! and random sampling for HRANDFIELD, SRANDMEMBER and ZRANDMEMBER.

use super::arg::{self, SYNTAX, is};
use crate::kv::dict::Dict;
use crate::kv::keyspace::Ks;
use crate::kv::protocol::parse_int;
use crate::kv::reply::Out;
use crate::kv::value::{Value, WRONGTYPE, WrongType};

/// The error reply was written already: the handler just returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answered;

/// The live value at `key` for a read command (counted as a hit or miss),
/// as type `T`: `Ok(None)` when absent, `Err(Answered)` once WRONGTYPE was answered.
pub fn read<'a, T: ?Sized>(
    ks: &'a mut Ks<'_>,
    out: &mut Out,
    db: usize,
    key: &[u8],
    get: fn(&mut Value) -> Result<&mut T, WrongType>,
) -> Result<Option<&'a mut T>, Answered> {
    match ks.read(db, key) {
        None => Ok(None),
        Some(e) => match get(&mut e.value) {
            Ok(v) => Ok(Some(v)),
            Err(WrongType) => {
                out.err(WRONGTYPE);
                Err(Answered)
            }
        },
    }
}

/// The live value at `key` for a write command (an expired key is deleted
/// first), as type `T`: `Ok(None)` when absent, `Err(Answered)` after WRONGTYPE.
pub fn write<'a, T: ?Sized>(
    ks: &'a mut Ks<'_>,
    out: &mut Out,
    db: usize,
    key: &[u8],
    get: fn(&Value) -> Result<&T, WrongType>,
) -> Result<Option<&'a T>, Answered> {
    match ks.lookup_write(db, key) {
        None => Ok(None),
        Some(e) => match get(&e.value) {
            Ok(v) => Ok(Some(v)),
            Err(WrongType) => {
                out.err(WRONGTYPE);
                Err(Answered)
            }
        },
    }
}

/// `*SCAN key cursor [MATCH pattern] [COUNT count]` arguments (from `a[2]`).
pub struct ScanArgs<'a> {
    /// Where to resume.
    pub cursor: u64,
    /// Only names matching this glob.
    pub pattern: Option<&'a [u8]>,
    /// Work hint.
    pub count: usize,
}

impl ScanArgs<'_> {
    /// True when `k` matches the pattern (or there is none).
    pub fn keeps(&self, k: &[u8]) -> bool {
        self.pattern
            .is_none_or(|p| crate::kv::glob::glob_match(p, k))
    }
}

/// Parse the cursor and options of HSCAN, SSCAN, ZSCAN, or answer the error.
pub fn scan_args<'a>(out: &mut Out, a: &[&'a [u8]]) -> Option<ScanArgs<'a>> {
    let Some(cursor) = std::str::from_utf8(a[2])
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    else {
        out.err("ERR invalid cursor");
        return None;
    };
    let mut r = ScanArgs {
        cursor,
        pattern: None,
        count: 10,
    };
    let mut i = 3;
    while i < a.len() {
        if i + 1 >= a.len() {
            out.err(SYNTAX);
            return None;
        }
        if is(a[i], "MATCH") {
            r.pattern = (a[i + 1] != b"*").then_some(a[i + 1]);
        } else if is(a[i], "COUNT") {
            match parse_int(a[i + 1]) {
                Some(n) if n >= 1 => r.count = n as usize,
                Some(_) => {
                    out.err(SYNTAX);
                    return None;
                }
                None => {
                    out.err(arg::NOT_INT);
                    return None;
                }
            }
        } else {
            out.err(SYNTAX);
            return None;
        }
        i += 2;
    }
    Some(r)
}

/// Scan `d` from `sc.cursor`: the next cursor and the matching entries.
/// Small collections (Redis's compact encodings, here up to `small`
/// entries) come back whole in one call with cursor 0, as Redis does.
pub fn scan_dict<'d, V>(
    d: &'d Dict<V>,
    sc: &ScanArgs<'_>,
    small: usize,
) -> (u64, Vec<(&'d [u8], &'d V)>) {
    if d.len() <= small {
        let all = d.iter().filter(|(k, _)| sc.keeps(k)).collect();
        return (0, all);
    }
    let mut found = Vec::new();
    let next = d.scan(sc.cursor, sc.count, |k, v| {
        if sc.keeps(k) {
            found.push((k, v));
        }
    });
    (next, found)
}

/// The COUNT of HRANDFIELD, SRANDMEMBER or ZRANDMEMBER: `(n, distinct)`,
/// or the error answered. `pairs`: WITH(VALUES|SCORES) doubles the reply.
pub fn rand_count(out: &mut Out, a: &[u8], pairs: bool) -> Option<(usize, bool)> {
    let Some(l) = parse_int(a) else {
        out.err(arg::NOT_INT);
        return None;
    };
    if l == i64::MIN || (pairs && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l)) {
        out.err("ERR value is out of range");
        return None;
    }
    Some((l.unsigned_abs() as usize, l >= 0))
}

/// Pick `n` entries of `d` at random: distinct ones (all of them when `n`
/// reaches the size) or, when `!distinct`, `n` independent picks.
pub fn sample<'d, V>(
    d: &'d Dict<V>,
    n: usize,
    distinct: bool,
    rand: &mut dyn FnMut() -> u64,
) -> Vec<(&'d [u8], &'d V)> {
    if d.is_empty() || n == 0 {
        return Vec::new();
    }
    if !distinct {
        return (0..n).filter_map(|_| d.fair_random(&mut *rand)).collect();
    }
    if n >= d.len() {
        return d.iter().collect();
    }
    if n * 3 > d.len() {
        // Most of it: shuffle the front of a copy (Fisher-Yates).
        let mut all: Vec<_> = d.iter().collect();
        for i in 0..n {
            let j = i + (rand() % (all.len() - i) as u64) as usize;
            all.swap(i, j);
        }
        all.truncate(n);
        return all;
    }
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        if let Some((k, v)) = d.fair_random(&mut *rand) {
            if seen.insert(k) {
                out.push((k, v));
            }
        }
    }
    out
}

/// Pick `n` of `items` (a listpack's or an intset's entries, in their
/// order) as Redis 7.0 does for a compact encoding: `!distinct`, `n`
/// independent picks; `n` reaching the length, all of them in order;
/// else `n` distinct ones, in the items' order when `ordered` and `n` is at
/// most a third of them (a listpack's `lpRandomPairsUnique`), in random
/// order otherwise (Redis goes through a dict there).
pub fn sample_listed<T: Copy>(
    items: &[T],
    n: usize,
    distinct: bool,
    ordered: bool,
    rand: &mut dyn FnMut() -> u64,
) -> Vec<T> {
    let len = items.len();
    if len == 0 || n == 0 {
        return Vec::new();
    }
    let pick = |rand: &mut dyn FnMut() -> u64, below: usize| (rand() % below as u64) as usize;
    if !distinct {
        return (0..n).map(|_| items[pick(rand, len)]).collect();
    }
    if n >= len {
        return items.to_vec();
    }
    if ordered && n * 3 <= len {
        // Selection sampling (Knuth's algorithm S): one pass, order kept.
        let mut out = Vec::with_capacity(n);
        for (i, x) in items.iter().enumerate() {
            if pick(rand, len - i) < n - out.len() {
                out.push(*x);
            }
        }
        return out;
    }
    let mut all = items.to_vec();
    for i in 0..n {
        let j = i + pick(rand, len - i);
        all.swap(i, j);
    }
    all.truncate(n);
    all
}
