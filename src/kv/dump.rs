//! The DUMP payload, pure: encoding a value and decoding (and validating)
//! one, for `DUMP` and `RESTORE` ([`super::cmd::dump`]).
//!
//! The layout is netkit's own (Redis's RDB encodings are not reproduced, so
//! a payload does not load in redis-server, nor a redis-server payload here)
//! but the trailer is Redis's: a 2-byte format version and the CRC-64/Jones
//! of everything before the checksum, both little endian.
//!
//! ```text
//! [type u8] [body] [version u16 LE] [crc64 u64 LE]
//! type 1 string  body = the bytes
//! type 2 list    [count u32] then count x [len u32][element]
//! type 3 set     [count u32] then count x [len u32][member]
//! type 4 zset    [count u32] then count x [len u32][member][score f64 bits u64]
//! type 5 hash    [count u32] then count x [len u32][field][len u32][value]
//! type 6 stream  [last id][entries added u64][max deleted id][count u32]
//!                then count x [id][nfields u32] nfields x [len u32][bytes]
//!                then [groups u32] per group [len u32][name][last id][entries read i64]
//!                [consumers u32] per consumer [len u32][name][seen u64][pending u32]
//!                per pending entry [id][delivery time u64][delivery count u64]
//!                (an id is ms u64, seq u64; a stream may be empty)
//! ```
//!
//! The version is `NK` (0x4b4e): redis-server refuses it as a version from
//! its future, and netkit refuses any other (Redis's are 1 to 10), so a
//! foreign payload gets the version-or-checksum error rather than being
//! misread. Decoding checks every length against what is left, allocates
//! nothing a declared count asks for beyond what the payload can hold, and
//! refuses empty collections, duplicate members or fields, NaN scores,
//! unknown types and trailing bytes.

use std::collections::VecDeque;

use super::crc64::crc64;
use super::dict::Dict;
use super::types::stream::{Group, Pending};
use super::types::{EncLimits, Hash, List, Set, Stream, StreamId, ZSet};
use super::value::Value;

/// The payload format version in the trailer.
pub const VERSION: u16 = 0x4b4e;

// Never 0: CRC-64/Jones starts from 0, so leading zero bytes would not
// change it, and a payload starting with one could lose it unnoticed.
const T_STRING: u8 = 1;
const T_LIST: u8 = 2;
const T_SET: u8 = 3;
const T_ZSET: u8 = 4;
const T_HASH: u8 = 5;
const T_STREAM: u8 = 6;

/// Why a payload was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bad {
    /// Too short, another version, or the checksum does not match
    /// (`ERR DUMP payload version or checksum are wrong`).
    Checksum,
    /// The checksum matches but the body is not a valid value
    /// (`ERR Bad data format`).
    Format,
}

fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    buf.extend_from_slice(&(b.len() as u32).to_le_bytes());
    buf.extend_from_slice(b);
}

fn put_count(buf: &mut Vec<u8>, n: usize) {
    buf.extend_from_slice(&(n as u32).to_le_bytes());
}

/// The payload for `value`.
pub fn encode(value: &Value) -> Vec<u8> {
    let mut buf = Vec::new();
    match value {
        Value::Str(s) => {
            buf.reserve(s.len() + 11);
            buf.push(T_STRING);
            buf.extend_from_slice(s);
        }
        Value::List(l) => {
            buf.push(T_LIST);
            put_count(&mut buf, l.items.len());
            for x in &l.items {
                put_bytes(&mut buf, x);
            }
        }
        Value::Set(s) => {
            buf.push(T_SET);
            put_count(&mut buf, s.len());
            for m in s.iter() {
                put_bytes(&mut buf, m);
            }
        }
        Value::ZSet(z) => {
            buf.push(T_ZSET);
            put_count(&mut buf, z.len());
            for (m, s) in z.sl.iter() {
                put_bytes(&mut buf, m);
                buf.extend_from_slice(&s.to_bits().to_le_bytes());
            }
        }
        Value::Hash(h) => {
            buf.push(T_HASH);
            put_count(&mut buf, h.len());
            for (f, v) in h.iter() {
                put_bytes(&mut buf, f);
                put_bytes(&mut buf, v);
            }
        }
        Value::Stream(st) => {
            buf.push(T_STREAM);
            for n in [
                st.last_id.ms,
                st.last_id.seq,
                st.entries_added,
                st.max_deleted.ms,
                st.max_deleted.seq,
            ] {
                buf.extend_from_slice(&n.to_le_bytes());
            }
            put_count(&mut buf, st.entries.len());
            for (id, fields) in &st.entries {
                buf.extend_from_slice(&id.ms.to_le_bytes());
                buf.extend_from_slice(&id.seq.to_le_bytes());
                put_count(&mut buf, fields.len());
                for f in fields.iter() {
                    put_bytes(&mut buf, f);
                }
            }
            put_count(&mut buf, st.groups.len());
            for (name, g) in &st.groups {
                put_bytes(&mut buf, name);
                for n in [g.last_id.ms, g.last_id.seq, g.entries_read as u64] {
                    buf.extend_from_slice(&n.to_le_bytes());
                }
                put_count(&mut buf, g.consumers.len());
                for (cname, c) in &g.consumers {
                    put_bytes(&mut buf, cname);
                    buf.extend_from_slice(&c.seen.to_le_bytes());
                    put_count(&mut buf, c.pel.len());
                    for id in &c.pel {
                        let p = g.pel.get(id);
                        for n in [
                            id.ms,
                            id.seq,
                            p.map_or(0, |p| p.time),
                            p.map_or(0, |p| p.count),
                        ] {
                            buf.extend_from_slice(&n.to_le_bytes());
                        }
                    }
                }
            }
        }
    }
    seal(buf, VERSION)
}

/// Append the trailer (version, then the CRC-64 of everything before it).
fn seal(mut buf: Vec<u8>, version: u16) -> Vec<u8> {
    buf.extend_from_slice(&version.to_le_bytes());
    let crc = crc64(0, &buf);
    buf.extend_from_slice(&crc.to_le_bytes());
    buf
}

/// True when the trailer is netkit's and the checksum matches (Redis's
/// `verifyDumpPayload`).
pub fn verify(p: &[u8]) -> bool {
    if p.len() < 10 {
        return false;
    }
    let footer = &p[p.len() - 10..];
    if u16::from_le_bytes([footer[0], footer[1]]) != VERSION {
        return false;
    }
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&footer[2..]);
    crc64(0, &p[..p.len() - 8]) == u64::from_le_bytes(crc)
}

struct Reader<'a> {
    p: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Bad> {
        if n > self.p.len() {
            return Err(Bad::Format);
        }
        let (a, b) = self.p.split_at(n);
        self.p = b;
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32, Bad> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, Bad> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }
    fn bytes(&mut self) -> Result<&'a [u8], Bad> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    /// A collection's count: at least 1, and no more items than the rest of
    /// the payload could hold at `min` bytes each.
    fn count(&mut self, min: usize) -> Result<usize, Bad> {
        let n = self.u32()? as usize;
        if n == 0 || n > self.p.len() / min {
            return Err(Bad::Format);
        }
        Ok(n)
    }
}

/// The value a payload holds, validated (see the module doc). A hash or a
/// set is loaded in payload order and takes the encoding Redis would give
/// it under the limits `l` (a small hash keeps that order).
pub fn decode(p: &[u8], l: &EncLimits) -> Result<Value, Bad> {
    if !verify(p) {
        return Err(Bad::Checksum);
    }
    let body = &p[..p.len() - 10];
    let (&ty, rest) = body.split_first().ok_or(Bad::Format)?;
    let mut r = Reader { p: rest };
    let v = match ty {
        T_STRING => return Ok(Value::Str(rest.to_vec())),
        T_LIST => {
            let n = r.count(4)?;
            let mut items = VecDeque::with_capacity(n);
            for _ in 0..n {
                items.push_back(r.bytes()?.into());
            }
            Value::List(Box::new(List { items }))
        }
        T_SET => {
            let n = r.count(4)?;
            let mut d = Dict::new();
            for _ in 0..n {
                if d.insert(r.bytes()?, ()).is_some() {
                    return Err(Bad::Format);
                }
            }
            Value::Set(Box::new(Set::loaded(d, l)))
        }
        T_ZSET => {
            let n = r.count(12)?;
            let mut z = ZSet::default();
            for _ in 0..n {
                let m = r.bytes()?;
                let s = f64::from_bits(r.u64()?);
                if s.is_nan() || z.score(m).is_some() {
                    return Err(Bad::Format);
                }
                z.set(m, s);
            }
            Value::ZSet(Box::new(z))
        }
        T_HASH => {
            let n = r.count(8)?;
            // Duplicates are found by a table, not the listpack's scan.
            let mut seen: Dict<()> = Dict::new();
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                let f = r.bytes()?;
                let v: Box<[u8]> = r.bytes()?.into();
                if seen.insert(f, ()).is_some() {
                    return Err(Bad::Format);
                }
                pairs.push((f.into(), v));
            }
            let mut h = Hash::from_pairs(pairs);
            h.fit_loaded(l);
            Value::Hash(Box::new(h))
        }
        T_STREAM => Value::Stream(Box::new(stream(&mut r)?)),
        _ => return Err(Bad::Format),
    };
    if !r.p.is_empty() {
        return Err(Bad::Format);
    }
    Ok(v)
}

fn stream(r: &mut Reader<'_>) -> Result<Stream, Bad> {
    let id = |r: &mut Reader<'_>| -> Result<StreamId, Bad> {
        Ok(StreamId {
            ms: r.u64()?,
            seq: r.u64()?,
        })
    };
    let last = id(r)?;
    let added = r.u64()?;
    let maxdel = id(r)?;
    let n = r.u32()? as usize;
    if n > r.p.len() / 20 {
        return Err(Bad::Format);
    }
    let mut st = Stream::default();
    let mut prev = None;
    for _ in 0..n {
        let e = id(r)?;
        let nf = r.u32()? as usize;
        if nf % 2 != 0 || nf == 0 || nf > r.p.len() / 4 || prev.is_some_and(|p| p >= e) {
            return Err(Bad::Format);
        }
        let mut fields = Vec::with_capacity(nf);
        for _ in 0..nf {
            fields.push(r.bytes()?.into());
        }
        st.append(e, fields.into(), 100);
        prev = Some(e);
    }
    if prev.is_some_and(|p| p > last) {
        return Err(Bad::Format);
    }
    (st.last_id, st.entries_added, st.max_deleted) = (last, added, maxdel);
    let ng = r.u32()? as usize;
    for _ in 0..ng {
        let name: Box<[u8]> = r.bytes()?.into();
        let mut g = Group {
            last_id: id(r)?,
            entries_read: r.u64()? as i64,
            ..Group::default()
        };
        let nc = r.u32()? as usize;
        for _ in 0..nc {
            let cname: Box<[u8]> = r.bytes()?.into();
            let seen = r.u64()?;
            g.consumers.entry(cname.clone()).or_default().seen = seen;
            let np = r.u32()? as usize;
            for _ in 0..np {
                let pid = id(r)?;
                let (time, count) = (r.u64()?, r.u64()?);
                if g.pel.contains_key(&pid) {
                    return Err(Bad::Format);
                }
                let consumer = cname.clone();
                g.set_pending(
                    pid,
                    Pending {
                        consumer,
                        time,
                        count,
                    },
                );
            }
        }
        if st.groups.insert(name, g).is_some() {
            return Err(Bad::Format);
        }
    }
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&[u8]]) -> Value {
        Value::List(Box::new(List {
            items: items.iter().map(|x| (*x).into()).collect(),
        }))
    }

    fn set(items: &[&[u8]]) -> Value {
        let mut s = Set::default();
        for m in items {
            s.add(m, &EncLimits::default());
        }
        Value::Set(Box::new(s))
    }

    fn zset(items: &[(&[u8], f64)]) -> Value {
        let mut z = ZSet::default();
        for (m, s) in items {
            z.set(m, *s);
        }
        Value::ZSet(Box::new(z))
    }

    fn hash(items: &[(&[u8], &[u8])]) -> Value {
        let mut h = Hash::default();
        for (f, v) in items {
            h.set_raw(f, (*v).into());
        }
        Value::Hash(Box::new(h))
    }

    fn samples() -> Vec<Value> {
        let big = vec![b'x'; 70_000];
        vec![
            Value::Str(b"bar".to_vec()),
            Value::Str(Vec::new()),
            Value::Str(b"\x00\xff\r\n binary".to_vec()),
            Value::Str(big.clone()),
            list(&[b"a", b"", b"9223372036854775808", &big, b"a"]),
            set(&[b"1", b"2", b"three", b""]),
            zset(&[
                (b"a", 1.5),
                (b"b", f64::INFINITY),
                (b"c", f64::NEG_INFINITY),
                (b"", -0.0),
            ]),
            hash(&[(b"f", b"v"), (b"", b""), (b"big", &big)]),
        ]
    }

    #[test]
    fn every_type_round_trips() {
        for v in samples() {
            let p = encode(&v);
            assert!(verify(&p));
            assert_eq!(decode(&p, &EncLimits::default()), Ok(v.clone()), "{v:?}");
        }
        let n = 10_000;
        let items: Vec<Vec<u8>> = (0..n).map(|i| format!("m{i}").into_bytes()).collect();
        let refs: Vec<&[u8]> = items.iter().map(|x| x.as_slice()).collect();
        for v in [list(&refs), set(&refs)] {
            assert_eq!(decode(&encode(&v), &EncLimits::default()), Ok(v));
        }
    }

    #[test]
    fn small_hashes_and_intsets_load_in_order_under_the_limits() {
        let l = EncLimits::default();
        let few = EncLimits {
            hash_entries: 2,
            set_intset: 2,
            ..l
        };
        let p = encode(&hash(&[(b"z", b"1"), (b"a", b"2"), (b"m", b"3")]));
        let Ok(Value::Hash(h)) = decode(&p, &l) else {
            panic!("not a hash");
        };
        let fields: Vec<&[u8]> = h.iter().map(|(f, _)| f).collect();
        assert_eq!(fields, [&b"z"[..], b"a", b"m"]);
        assert_eq!(h.encoding(), "listpack");
        assert!(matches!(decode(&p, &few), Ok(Value::Hash(h)) if h.is_big()));
        let p = encode(&set(&[b"3", b"-1", b"2"]));
        let Ok(Value::Set(s)) = decode(&p, &l) else {
            panic!("not a set");
        };
        assert_eq!(s.iter().collect::<Vec<_>>(), [&b"-1"[..], b"2", b"3"]);
        assert_eq!(s.encoding(), "intset");
        assert!(matches!(decode(&p, &few), Ok(Value::Set(s)) if s.is_big()));
    }

    #[test]
    fn trailer_is_version_then_crc64() {
        let p = encode(&Value::Str(b"bar".to_vec()));
        assert_eq!(&p[..4], b"\x01bar");
        assert_eq!(&p[4..6], &VERSION.to_le_bytes());
        assert_eq!(&p[6..], &crc64(0, &p[..6]).to_le_bytes());
    }

    #[test]
    fn corrupt_truncated_and_foreign_payloads_fail_the_checksum() {
        assert_eq!(decode(b"", &EncLimits::default()), Err(Bad::Checksum));
        assert_eq!(decode(b"...", &EncLimits::default()), Err(Bad::Checksum));
        for v in samples() {
            let p = encode(&v);
            for cut in 0..p.len().min(40) {
                assert_eq!(decode(&p[..cut], &EncLimits::default()), Err(Bad::Checksum));
                assert_eq!(
                    decode(&p[cut + 1..], &EncLimits::default()),
                    Err(Bad::Checksum)
                );
            }
            for i in 0..p.len().min(40) {
                let mut q = p.clone();
                q[i] ^= 0x20;
                assert_eq!(decode(&q, &EncLimits::default()), Err(Bad::Checksum));
            }
        }
        // A payload as redis-server 7.0 writes it (RDB version 10, valid
        // CRC-64): refused by its version, not misread.
        let foreign = seal(b"\x00\x03bar".to_vec(), 10);
        assert_eq!(decode(&foreign, &EncLimits::default()), Err(Bad::Checksum));
    }

    #[test]
    fn hostile_bodies_with_a_good_checksum_are_bad_format() {
        let bad: Vec<Vec<u8>> = vec![
            vec![],                                                      // no type
            vec![0, b'b', b'a', b'r'],                                   // type 0 (Redis's string)
            vec![9, 1, 0, 0, 0, 0, 0, 0, 0],                             // unknown type
            vec![T_LIST, 0, 0, 0, 0],                                    // empty list
            vec![T_LIST, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0],            // count past the payload
            vec![T_LIST, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, b'a'],      // length past the payload
            vec![T_LIST, 1, 0, 0],                                       // truncated count
            vec![T_LIST, 1, 0, 0, 0, 1, 0, 0, 0, b'a', b'b'],            // trailing byte
            vec![T_SET, 2, 0, 0, 0, 1, 0, 0, 0, b'a', 1, 0, 0, 0, b'a'], // duplicate member
            vec![
                T_HASH, 2, 0, 0, 0, 1, 0, 0, 0, b'f', 0, 0, 0, 0, 1, 0, 0, 0, b'f', 0, 0, 0, 0,
            ],
            vec![T_HASH, 1, 0, 0, 0, 1, 0, 0, 0, b'f'], // field without value
        ];
        for body in bad {
            assert_eq!(
                decode(&seal(body.clone(), VERSION), &EncLimits::default()),
                Err(Bad::Format),
                "{body:?}"
            );
        }
        let mut z = vec![T_ZSET, 2, 0, 0, 0];
        for _ in 0..2 {
            z.extend_from_slice(&[1, 0, 0, 0, b'm']);
            z.extend_from_slice(&1f64.to_bits().to_le_bytes());
        }
        assert_eq!(
            decode(&seal(z, VERSION), &EncLimits::default()),
            Err(Bad::Format),
            "duplicate zset member"
        );
        let mut nan = vec![T_ZSET, 1, 0, 0, 0, 1, 0, 0, 0, b'm'];
        nan.extend_from_slice(&f64::NAN.to_bits().to_le_bytes());
        assert_eq!(
            decode(&seal(nan, VERSION), &EncLimits::default()),
            Err(Bad::Format),
            "NaN score"
        );
    }

    #[test]
    fn every_resealed_truncation_or_byte_change_is_refused_or_decoded_without_panic() {
        for v in samples() {
            let p = encode(&v);
            if p.len() > 200 {
                continue;
            }
            let body = &p[..p.len() - 10];
            for cut in 0..body.len() {
                let r = decode(&seal(body[..cut].to_vec(), VERSION), &EncLimits::default());
                // A string body is any bytes; collections must not decode cut.
                if !matches!(v, Value::Str(_)) && cut > 0 {
                    assert_eq!(r, Err(Bad::Format));
                }
            }
            for i in 0..body.len() {
                for x in [0u8, 1, 0x7f, 0xff] {
                    let mut b = body.to_vec();
                    b[i] = x;
                    let _ = decode(&seal(b, VERSION), &EncLimits::default());
                }
            }
        }
    }
}
