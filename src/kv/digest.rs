//! `DEBUG DIGEST` and `DEBUG DIGEST-VALUE`: a SHA1 fingerprint of the whole
//! data set or of single values, built the way Redis builds it, so two
//! values (or data sets) with the same content get the same digest whatever
//! order their unordered parts were made in. Tests compare digests before
//! and after COPY, a reload or a log replay.
//!
//! Unordered parts (keys, set members, hash fields, sorted-set members) are
//! each hashed and XORed in; ordered parts (a list's elements, a string)
//! are mixed in, feeding the digest so far back into SHA1. A value with an
//! expiry has `!!expire!!` XORed in (its time is not: a reload keeps it).

use sha1_smol::Sha1;

use super::reply::fmt_double;
use super::value::{Entry, Value};

/// A 20-byte digest.
pub type Digest = [u8; 20];

fn sha1(data: &[u8]) -> Digest {
    Sha1::from(data).digest().bytes()
}

/// XOR SHA1(`data`) into `d`: order does not matter.
fn xor(d: &mut Digest, data: &[u8]) {
    for (a, b) in d.iter_mut().zip(sha1(data)) {
        *a ^= b;
    }
}

/// `d = SHA1(d xor SHA1(data))`: order matters.
fn mix(d: &mut Digest, data: &[u8]) {
    xor(d, data);
    *d = sha1(d);
}

/// Redis's type number (`OBJ_STRING`...), mixed in first.
fn type_code(v: &Value) -> u32 {
    match v {
        Value::Str(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    }
}

/// Mix one value (and whether it expires) into `d`.
pub fn value_into(d: &mut Digest, e: &Entry) {
    mix(d, &type_code(&e.value).to_be_bytes());
    match &e.value {
        Value::Str(s) => mix(d, s),
        Value::List(l) => {
            for item in &l.items {
                mix(d, item);
            }
        }
        Value::Set(s) => {
            for m in s.iter() {
                xor(d, m);
            }
        }
        Value::ZSet(z) => {
            for (m, score) in z.dict.iter() {
                let mut el = [0u8; 20];
                mix(&mut el, m);
                mix(&mut el, fmt_double(*score).as_bytes());
                xor(d, &el);
            }
        }
        Value::Hash(h) => {
            for (f, v) in h.iter() {
                let mut el = [0u8; 20];
                mix(&mut el, f);
                mix(&mut el, v);
                xor(d, &el);
            }
        }
        Value::Stream(st) => {
            for (id, fields) in &st.entries {
                mix(d, format!("{}.{}", id.ms, id.seq).as_bytes());
                for f in fields.iter() {
                    mix(d, f);
                }
            }
        }
    }
    if e.expires_at != 0 {
        xor(d, b"!!expire!!");
    }
}

/// The digest of one value (`DEBUG DIGEST-VALUE`); all zeros for none.
pub fn of_value(e: Option<&Entry>) -> Digest {
    let mut d = [0u8; 20];
    if let Some(e) = e {
        value_into(&mut d, e);
    }
    d
}

/// The digest of databases given as (index, their keys): all zeros when
/// every one is empty.
pub fn of_dataset<'a, K, I>(dbs: impl IntoIterator<Item = (usize, I)>) -> Digest
where
    K: AsRef<[u8]> + 'a,
    I: IntoIterator<Item = (K, &'a Entry)>,
{
    let mut fin = [0u8; 20];
    for (i, keys) in dbs {
        let mut keys = keys.into_iter().peekable();
        if keys.peek().is_none() {
            continue;
        }
        mix(&mut fin, &(i as u32).to_be_bytes());
        for (k, e) in keys {
            let mut d = [0u8; 20];
            mix(&mut d, k.as_ref());
            value_into(&mut d, e);
            xor(&mut fin, &d);
        }
    }
    fin
}

/// Lowercase hex, as Redis prints a digest.
pub fn hex(d: &Digest) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::types::{List, Set};

    fn entry(value: Value) -> Entry {
        Entry::new(value, 0, 0)
    }

    fn set(members: &[&str]) -> Entry {
        let mut s = Set::default();
        for m in members {
            s.add_raw(m.as_bytes());
        }
        entry(Value::Set(Box::new(s)))
    }

    fn list(items: &[&str]) -> Entry {
        let l = List {
            items: items.iter().map(|s| s.as_bytes().into()).collect(),
        };
        entry(Value::List(Box::new(l)))
    }

    #[test]
    fn unordered_parts_ignore_order_and_ordered_parts_do_not() {
        assert_eq!(
            of_value(Some(&set(&["a", "b", "c"]))),
            of_value(Some(&set(&["c", "a", "b"])))
        );
        assert_ne!(
            of_value(Some(&list(&["a", "b"]))),
            of_value(Some(&list(&["b", "a"])))
        );
        // "fo"+"obar" is not "foo"+"bar".
        assert_ne!(
            of_value(Some(&list(&["fo", "obar"]))),
            of_value(Some(&list(&["foo", "bar"])))
        );
        // The same bytes as another type differ.
        assert_ne!(of_value(Some(&set(&["a"]))), of_value(Some(&list(&["a"]))));
    }

    #[test]
    fn nothing_digests_to_zeros_and_an_expiry_counts() {
        assert_eq!(hex(&of_value(None)), "0".repeat(40));
        let no_keys: Vec<(&[u8], &Entry)> = Vec::new();
        assert_eq!(of_dataset([(0, no_keys)]), [0u8; 20]);
        let plain = entry(Value::Str(b"v".to_vec()));
        let mut timed = entry(Value::Str(b"v".to_vec()));
        timed.expires_at = 1;
        assert_ne!(of_value(Some(&plain)), of_value(Some(&timed)));
    }

    #[test]
    fn a_data_set_digest_depends_on_the_database_and_not_on_key_order() {
        let (a, b) = (
            entry(Value::Str(b"1".to_vec())),
            entry(Value::Str(b"2".to_vec())),
        );
        let one = of_dataset(vec![(0, vec![(&b"x"[..], &a), (b"y", &b)])]);
        let other = of_dataset(vec![(0, vec![(&b"y"[..], &b), (b"x", &a)])]);
        assert_eq!(one, other);
        let moved = of_dataset(vec![(1, vec![(&b"x"[..], &a), (b"y", &b)])]);
        assert_ne!(one, moved);
    }
}
