//! The append-only log's format, pure: encoding records, and reading a whole
//! log back with every problem found and classified (the writer is
//! [`super::logfile`]).
//!
//! Layout: the 8-byte magic `NKKVAOF2`, then records `[len u32 LE][crc32 u32
//! LE][payload]`. A payload is one or more ops; a record is all or nothing
//! (one command, an `MSET`, a whole `EXEC`). Ops carry absolute expiry times
//! and the database index, so replay needs no clock and no connection state.
//!
//! A bad record is classified by what follows it: if a valid record starts
//! anywhere after it, the damage is in the middle of the log (refuse to start,
//! name the offset; `netkit kv check-log --fix` repairs it); if nothing valid
//! follows, the tail was torn by a crash (truncate it with a warning). The
//! seed's `NKKVAOF1` logs (one op per record, database 0) are still read.
//!
//! Collections are logged as their effects, as Redis's AOF propagates them
//! ([`CollOp`]: HSET of the computed value for HINCRBYFLOAT, LPOP for a
//! served BLPOP, SREM of the chosen members for SPOP...), so replay needs
//! no randomness, no clock and no blocked clients, and reproduces memory
//! exactly.

use std::io;

/// The current file header.
pub const MAGIC: &[u8; 8] = b"NKKVAOF2";
/// The seed's header: one op per record, no database index.
pub const MAGIC_V1: &[u8; 8] = b"NKKVAOF1";
/// Largest record accepted: a 512 MiB value plus key and framing, with room.
pub const MAX_RECORD: u32 = 1 << 31;

const T_SET_STR: u8 = 1;
const T_DEL: u8 = 2;
const T_EXPIRE: u8 = 3;
const T_FLUSHALL: u8 = 4;
const T_FLUSHDB: u8 = 5;
const T_SWAPDB: u8 = 6;
const T_COLL: u8 = 7;
const T_RENAME: u8 = 8;
/// The highest op tag (resync looks for a record starting with a known tag).
const T_LAST: u8 = T_RENAME;

/// Which change a [`CollOp`] makes. Items, `a` and `b` mean, per kind:
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CollKind {
    /// Set fields: items are field, value, field, value... (creates the hash).
    HSet = 1,
    /// Delete the fields in items (the key goes when emptied).
    HDel,
    /// Push items one by one at the head (creates the list).
    LPush,
    /// Push items one by one at the tail (creates the list).
    RPush,
    /// Pop `a` elements from the head.
    LPop,
    /// Pop `a` elements from the tail.
    RPop,
    /// Replace the element at index `a` with items\[0\].
    LSet,
    /// Insert items\[0\] so that it ends up at index `a`.
    LInsert,
    /// LREM with count `a` and element items\[0\].
    LRem,
    /// Drop `a` elements from the head and `b` from the tail.
    LTrim,
    /// Add the members in items (creates the set).
    SAdd,
    /// Remove the members in items.
    SRem,
    /// Set member items\[i\] to score scores\[i\] (creates the sorted set).
    ZAdd,
    /// Remove the members in items.
    ZRem,
    /// Remove the members of 0-based ranks `a..=b`.
    ZRemRange,
    /// Append to a stream: items\[0\] is the ID (16 bytes), then fields
    /// and values; `a` is the node size (creates the stream).
    XAdd,
    /// Remove the stream entries whose IDs are in items; `a` = 1 for XDEL
    /// (raises the max deleted ID), 0 for a trim.
    XDel,
    /// Set a stream's last ID, entries added and max deleted ID (items:
    /// 16, 8 and 16 bytes; creates the stream).
    XSetId,
    /// Consumer group items\[0\]: `a` = 0 creates it or sets its last ID
    /// (items\[1\], 16 bytes) and entries read (items\[2\], i64); 1 destroys it.
    XGroup,
    /// Consumer items\[1\] of group items\[0\]: `a` = 0 creates it (or
    /// just marks it seen) at time `b`; 1 deletes it with its pending entries.
    XConsumer,
    /// Pending entries of group items\[0\]: `a` = 0 gives each entry of
    /// items\[2..\] (ID, delivery time, delivery count: 16+8+8 bytes) to
    /// consumer items\[1\] (created if new, seen at `b`); 1 acknowledges
    /// the IDs in items\[2..\].
    XPel,
}

const KINDS: [CollKind; 21] = [
    CollKind::HSet,
    CollKind::HDel,
    CollKind::LPush,
    CollKind::RPush,
    CollKind::LPop,
    CollKind::RPop,
    CollKind::LSet,
    CollKind::LInsert,
    CollKind::LRem,
    CollKind::LTrim,
    CollKind::SAdd,
    CollKind::SRem,
    CollKind::ZAdd,
    CollKind::ZRem,
    CollKind::ZRemRange,
    CollKind::XAdd,
    CollKind::XDel,
    CollKind::XSetId,
    CollKind::XGroup,
    CollKind::XConsumer,
    CollKind::XPel,
];

/// A change to the hash, list, set or sorted set at `key` in `db`.
#[derive(Debug, Clone, Copy)]
pub struct CollOp<'a> {
    /// What it does.
    pub kind: CollKind,
    /// The database.
    pub db: u32,
    /// The key.
    pub key: &'a [u8],
    /// First number (see [`CollKind`]).
    pub a: i64,
    /// Second number.
    pub b: i64,
    /// Members, fields, values or elements.
    pub items: &'a [&'a [u8]],
    /// Scores (ZADD).
    pub scores: &'a [f64],
}

impl<'a> CollOp<'a> {
    /// An op with items only.
    pub fn items(kind: CollKind, db: usize, key: &'a [u8], items: &'a [&'a [u8]]) -> Self {
        CollOp {
            kind,
            db: db as u32,
            key,
            a: 0,
            b: 0,
            items,
            scores: &[],
        }
    }

    /// An op with numbers only.
    pub fn nums(kind: CollKind, db: usize, key: &'a [u8], a: i64, b: i64) -> Self {
        CollOp {
            kind,
            db: db as u32,
            key,
            a,
            b,
            items: &[],
            scores: &[],
        }
    }
}

/// [`CollOp`], owned (as replay reads it).
#[derive(Debug, Clone, PartialEq)]
pub struct CollRecord {
    /// What it does.
    pub kind: CollKind,
    /// The database.
    pub db: u32,
    /// The key.
    pub key: Vec<u8>,
    /// First number.
    pub a: i64,
    /// Second number.
    pub b: i64,
    /// Items.
    pub items: Vec<Vec<u8>>,
    /// Scores.
    pub scores: Vec<f64>,
}

impl CollRecord {
    /// Run `f` with the borrowed op.
    pub fn with_op<R>(&self, f: impl FnOnce(&CollOp<'_>) -> R) -> R {
        let items: Vec<&[u8]> = self.items.iter().map(|i| i.as_slice()).collect();
        f(&CollOp {
            kind: self.kind,
            db: self.db,
            key: &self.key,
            a: self.a,
            b: self.b,
            items: &items,
            scores: &self.scores,
        })
    }
}

/// One logged change, borrowed (as commands log it, without copies).
#[derive(Debug, Clone, Copy)]
pub enum Op<'a> {
    /// `db`, `key` := string `val`, expiring at `exp` (Unix ms, 0: never).
    SetStr(u32, &'a [u8], &'a [u8], u64),
    /// Delete `key` in `db`.
    Del(u32, &'a [u8]),
    /// Set (or with 0 clear) the expiry of `key` in `db`.
    Expire(u32, &'a [u8], u64),
    /// Empty one database.
    FlushDb(u32),
    /// Empty every database.
    FlushAll,
    /// Swap two databases.
    SwapDb(u32, u32),
    /// Change a collection.
    Coll(CollOp<'a>),
    /// Move the value (and expiry) of `key` in `db` to `key2` in `db2`,
    /// replacing what was there (RENAME, MOVE).
    Rename(u32, &'a [u8], u32, &'a [u8]),
}

/// One logged change, owned (as replay reads it).
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// See [`Op::SetStr`].
    SetStr(u32, Vec<u8>, Vec<u8>, u64),
    /// See [`Op::Del`].
    Del(u32, Vec<u8>),
    /// See [`Op::Expire`].
    Expire(u32, Vec<u8>, u64),
    /// See [`Op::FlushDb`].
    FlushDb(u32),
    /// See [`Op::FlushAll`].
    FlushAll,
    /// See [`Op::SwapDb`].
    SwapDb(u32, u32),
    /// See [`Op::Coll`].
    Coll(CollRecord),
    /// See [`Op::Rename`].
    Rename(u32, Vec<u8>, u32, Vec<u8>),
}

/// CRC-32 (IEEE), table driven.
pub fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        t
    });
    let mut c = !0u32;
    for &b in data {
        c = table[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    buf.extend_from_slice(&(b.len() as u32).to_le_bytes());
    buf.extend_from_slice(b);
}

/// Start a record in `buf`; returns where it starts (pass it to [`end_record`]).
pub fn begin_record(buf: &mut Vec<u8>) -> usize {
    let start = buf.len();
    buf.extend_from_slice(&[0; 8]);
    start
}

/// Append one op to the record being built.
pub fn push_op(buf: &mut Vec<u8>, op: Op<'_>) {
    match op {
        Op::SetStr(db, k, v, exp) => {
            buf.push(T_SET_STR);
            buf.extend_from_slice(&db.to_le_bytes());
            put_bytes(buf, k);
            put_bytes(buf, v);
            buf.extend_from_slice(&exp.to_le_bytes());
        }
        Op::Del(db, k) => {
            buf.push(T_DEL);
            buf.extend_from_slice(&db.to_le_bytes());
            put_bytes(buf, k);
        }
        Op::Expire(db, k, exp) => {
            buf.push(T_EXPIRE);
            buf.extend_from_slice(&db.to_le_bytes());
            put_bytes(buf, k);
            buf.extend_from_slice(&exp.to_le_bytes());
        }
        Op::FlushAll => buf.push(T_FLUSHALL),
        Op::FlushDb(db) => {
            buf.push(T_FLUSHDB);
            buf.extend_from_slice(&db.to_le_bytes());
        }
        Op::SwapDb(a, b) => {
            buf.push(T_SWAPDB);
            buf.extend_from_slice(&a.to_le_bytes());
            buf.extend_from_slice(&b.to_le_bytes());
        }
        Op::Coll(c) => {
            buf.push(T_COLL);
            buf.push(c.kind as u8);
            buf.extend_from_slice(&c.db.to_le_bytes());
            put_bytes(buf, c.key);
            buf.extend_from_slice(&c.a.to_le_bytes());
            buf.extend_from_slice(&c.b.to_le_bytes());
            buf.extend_from_slice(&(c.items.len() as u32).to_le_bytes());
            for i in c.items {
                put_bytes(buf, i);
            }
            buf.extend_from_slice(&(c.scores.len() as u32).to_le_bytes());
            for s in c.scores {
                buf.extend_from_slice(&s.to_bits().to_le_bytes());
            }
        }
        Op::Rename(d1, k1, d2, k2) => {
            buf.push(T_RENAME);
            buf.extend_from_slice(&d1.to_le_bytes());
            put_bytes(buf, k1);
            buf.extend_from_slice(&d2.to_le_bytes());
            put_bytes(buf, k2);
        }
    }
}

fn decode_coll(r: &mut Reader<'_>) -> Option<CollRecord> {
    let k = *r.p.get(r.pos)?;
    r.pos += 1;
    let kind = *KINDS.get((k as usize).checked_sub(1)?)?;
    let db = r.u32()?;
    let key = r.bytes()?;
    let a = r.u64()? as i64;
    let b = r.u64()? as i64;
    let n = r.u32()? as usize;
    // Each item takes at least 4 bytes: a hostile count cannot allocate much.
    let mut items = Vec::with_capacity(n.min(r.p.len() / 4));
    for _ in 0..n {
        items.push(r.bytes()?);
    }
    let n = r.u32()? as usize;
    let mut scores = Vec::with_capacity(n.min(r.p.len() / 8));
    for _ in 0..n {
        scores.push(f64::from_bits(r.u64()?));
    }
    Some(CollRecord {
        kind,
        db,
        key,
        a,
        b,
        items,
        scores,
    })
}

/// Close the record started at `start`: fill in its length and checksum. An
/// empty record is removed.
pub fn end_record(buf: &mut Vec<u8>, start: usize) {
    let len = buf.len() - start - 8;
    if len == 0 {
        buf.truncate(start);
        return;
    }
    let crc = crc32(&buf[start + 8..]);
    buf[start..start + 4].copy_from_slice(&(len as u32).to_le_bytes());
    buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

struct Reader<'a> {
    p: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn u32(&mut self) -> Option<u32> {
        let v = u32::from_le_bytes(self.p.get(self.pos..self.pos + 4)?.try_into().ok()?);
        self.pos += 4;
        Some(v)
    }
    fn u64(&mut self) -> Option<u64> {
        let v = u64::from_le_bytes(self.p.get(self.pos..self.pos + 8)?.try_into().ok()?);
        self.pos += 8;
        Some(v)
    }
    fn bytes(&mut self) -> Option<Vec<u8>> {
        let n = self.u32()? as usize;
        let v = self.p.get(self.pos..self.pos.checked_add(n)?)?.to_vec();
        self.pos += n;
        Some(v)
    }
}

/// Decode a payload into its ops; `None` if it is not well formed.
pub fn decode(p: &[u8], v1: bool) -> Option<Vec<Record>> {
    let mut r = Reader { p, pos: 0 };
    let mut out = Vec::new();
    while r.pos < p.len() {
        let tag = p[r.pos];
        r.pos += 1;
        let db = |r: &mut Reader<'_>| if v1 { Some(0) } else { r.u32() };
        let rec = match tag {
            T_SET_STR => {
                let d = db(&mut r)?;
                Record::SetStr(d, r.bytes()?, r.bytes()?, r.u64()?)
            }
            T_DEL => Record::Del(db(&mut r)?, r.bytes()?),
            T_EXPIRE => {
                let d = db(&mut r)?;
                Record::Expire(d, r.bytes()?, r.u64()?)
            }
            T_FLUSHALL => Record::FlushAll,
            T_FLUSHDB if !v1 => Record::FlushDb(r.u32()?),
            T_SWAPDB if !v1 => Record::SwapDb(r.u32()?, r.u32()?),
            T_COLL if !v1 => Record::Coll(decode_coll(&mut r)?),
            T_RENAME if !v1 => {
                let d1 = r.u32()?;
                let k1 = r.bytes()?;
                Record::Rename(d1, k1, r.u32()?, r.bytes()?)
            }
            _ => return None,
        };
        out.push(rec);
        if v1 && r.pos != p.len() {
            return None;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// What is wrong at one place in a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The log ends inside a record (a crash mid-write): `bytes` from `at`.
    Torn {
        /// Offset of the torn record.
        at: u64,
        /// Bytes from there to the end.
        bytes: u64,
    },
    /// A bad record in the middle: `at`..`next` is unreadable, good records follow.
    Corrupt {
        /// Offset of the bad record.
        at: u64,
        /// Offset of the next good record.
        next: u64,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// What reading a whole log found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Good records (each applied, in order, by [`scan`]'s callback).
    pub records: u64,
    /// Byte ranges of good data to keep (header and good records).
    pub good: Vec<(u64, u64)>,
    /// Problems, in file order.
    pub problems: Vec<Problem>,
    /// True for a seed (`NKKVAOF1`) log.
    pub v1: bool,
}

/// Check the record at `pos`: its end and ops, or what is wrong.
fn record_at(data: &[u8], pos: usize, v1: bool) -> Result<(usize, Vec<Record>), &'static str> {
    let head = data.get(pos..pos + 8).ok_or("short header")?;
    let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    if len == 0 || len > MAX_RECORD {
        return Err("impossible length");
    }
    let end = pos + 8 + len as usize;
    let payload = data
        .get(pos + 8..end)
        .ok_or("length past the end of the file")?;
    if crc32(payload) != crc {
        return Err("checksum mismatch");
    }
    let ops = decode(payload, v1).ok_or("malformed payload")?;
    Ok((end, ops))
}

/// The next offset after `from` where a valid record starts.
fn resync(data: &[u8], from: usize, v1: bool) -> Option<usize> {
    (from + 1..data.len().saturating_sub(8)).find(|&p| {
        matches!(data.get(p + 8), Some(&t) if (1..=T_LAST).contains(&t))
            && record_at(data, p, v1).is_ok()
    })
}

/// Read a whole log, calling `apply` with the ops of each good record in
/// order, and report every problem. Errors only if it is not a log at all.
pub fn scan(data: &[u8], mut apply: impl FnMut(Vec<Record>)) -> io::Result<Scan> {
    let mut out = Scan::default();
    if data.len() < 8 {
        // Empty, or a header torn before it was complete.
        if !MAGIC.starts_with(data) && !MAGIC_V1.starts_with(data) {
            return Err(not_a_log());
        }
        if !data.is_empty() {
            out.problems.push(Problem::Torn {
                at: 0,
                bytes: data.len() as u64,
            });
        }
        return Ok(out);
    }
    out.v1 = &data[..8] == MAGIC_V1;
    if &data[..8] != MAGIC && !out.v1 {
        return Err(not_a_log());
    }
    out.good.push((0, 8));
    let mut pos = 8;
    while pos < data.len() {
        match record_at(data, pos, out.v1) {
            Ok((end, ops)) => {
                apply(ops);
                out.records += 1;
                match out.good.last_mut() {
                    Some(last) if last.1 == pos as u64 => last.1 = end as u64,
                    _ => out.good.push((pos as u64, end as u64)),
                }
                pos = end;
            }
            Err(why) => match resync(data, pos, out.v1) {
                Some(next) => {
                    out.problems.push(Problem::Corrupt {
                        at: pos as u64,
                        next: next as u64,
                        why,
                    });
                    pos = next;
                }
                None => {
                    out.problems.push(Problem::Torn {
                        at: pos as u64,
                        bytes: (data.len() - pos) as u64,
                    });
                    break;
                }
            },
        }
    }
    Ok(out)
}

fn not_a_log() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "not a netkit kv log (no NKKVAOF2 header); refusing to touch it",
    )
}

/// The good parts of `data` per `scan`, as one clean log.
pub fn repaired(data: &[u8], scan: &Scan) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for &(a, b) in &scan.good {
        out.extend_from_slice(&data[a as usize..b as usize]);
    }
    if out.is_empty() {
        out.extend_from_slice(MAGIC);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_of(records: &[&[Op<'_>]]) -> Vec<u8> {
        let mut buf = MAGIC.to_vec();
        for ops in records {
            let s = begin_record(&mut buf);
            for op in ops.iter() {
                push_op(&mut buf, *op);
            }
            end_record(&mut buf, s);
        }
        buf
    }

    #[test]
    fn crc_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn records_roundtrip_with_many_ops() {
        let data = log_of(&[
            &[Op::SetStr(3, b"k\xff", b"v a", 7), Op::Del(0, b"")],
            &[
                Op::Expire(1, b"x", 0),
                Op::FlushDb(2),
                Op::FlushAll,
                Op::SwapDb(0, 9),
            ],
        ]);
        let mut got = Vec::new();
        let s = scan(&data, |ops| got.push(ops)).unwrap();
        assert!(s.problems.is_empty());
        assert_eq!(s.records, 2);
        assert_eq!(
            got[0][0],
            Record::SetStr(3, b"k\xff".to_vec(), b"v a".to_vec(), 7)
        );
        assert_eq!(got[1].len(), 4);
        assert_eq!(got[1][3], Record::SwapDb(0, 9));
    }

    #[test]
    fn an_empty_record_is_not_written() {
        let mut buf = Vec::new();
        let s = begin_record(&mut buf);
        end_record(&mut buf, s);
        assert!(buf.is_empty());
    }

    #[test]
    fn a_torn_tail_is_told_from_corruption_in_the_middle() {
        let recs: Vec<Vec<u8>> = (0..10).map(|i| format!("key{i}").into_bytes()).collect();
        let ops: Vec<[Op<'_>; 1]> = recs.iter().map(|k| [Op::SetStr(0, k, b"v", 0)]).collect();
        let refs: Vec<&[Op<'_>]> = ops.iter().map(|o| &o[..]).collect();
        let data = log_of(&refs);
        // Torn: cut in the middle of the last record.
        let cut = &data[..data.len() - 3];
        let s = scan(cut, |_| {}).unwrap();
        assert_eq!(s.records, 9);
        assert!(matches!(s.problems[..], [Problem::Torn { .. }]));
        // Corrupt: flip a byte of the third record's payload.
        let rec_len = (data.len() - 8) / 10;
        let mut bad = data.clone();
        bad[8 + 2 * rec_len + 12] ^= 0x40;
        let s = scan(&bad, |_| {}).unwrap();
        assert_eq!(s.records, 9, "only the damaged record is lost");
        match &s.problems[..] {
            [Problem::Corrupt { at, next, why }] => {
                assert_eq!(*at as usize, 8 + 2 * rec_len);
                assert_eq!(*next as usize, 8 + 3 * rec_len);
                assert_eq!(*why, "checksum mismatch");
            }
            p => panic!("{p:?}"),
        }
        let fixed = repaired(&bad, &s);
        let s2 = scan(&fixed, |_| {}).unwrap();
        assert!(s2.problems.is_empty());
        assert_eq!(s2.records, 9);
        // A damaged length field in the middle is corruption too.
        let mut bad = data.clone();
        bad[8 + 4 * rec_len + 1] = 0x7f;
        let s = scan(&bad, |_| {}).unwrap();
        assert!(
            matches!(s.problems[..], [Problem::Corrupt { .. }]),
            "{:?}",
            s.problems
        );
    }

    #[test]
    fn not_a_log_is_an_error() {
        assert!(scan(b"hello world, not a log", |_| {}).is_err());
        assert!(scan(b"NKK", |_| {}).is_ok());
        assert!(scan(b"", |_| {}).unwrap().problems.is_empty());
    }

    #[test]
    fn seed_logs_are_read() {
        // NKKVAOF1: one op per record, no database index.
        let mut data = MAGIC_V1.to_vec();
        let s = begin_record(&mut data);
        data.push(T_SET_STR);
        put_bytes(&mut data, b"k");
        put_bytes(&mut data, b"v");
        data.extend_from_slice(&0u64.to_le_bytes());
        end_record(&mut data, s);
        let mut got = Vec::new();
        let sc = scan(&data, |ops| got.extend(ops)).unwrap();
        assert!(sc.v1 && sc.problems.is_empty());
        assert_eq!(
            got,
            vec![Record::SetStr(0, b"k".to_vec(), b"v".to_vec(), 0)]
        );
    }
}
