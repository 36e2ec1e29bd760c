//! Changing hashes, lists, sets and sorted sets. Every change is one
//! [`CollOp`], applied by [`apply_coll`], the same code for live commands
//! and for replay, so a replayed log rebuilds memory exactly. Live changes
//! go through [`Ks::coll`]: apply, and only if something changed log the
//! op, keep its undo entry (with a log), tell watchers, and mark the key
//! ready for clients blocked on it.
//!
//! Undo is per element (the field's old value and listpack place, the
//! popped elements, the old scores), so undoing an LPUSH onto a
//! million-element list costs one pop, not a copy of the list. The one
//! exception is an op that converts a small hash or set to a hashtable: it
//! keeps a copy of the small value (at most the encoding limit, once per
//! key), as per-element undo could not give back its order. A collection emptied by an op is deleted, as
//! Redis never keeps an empty one.

use super::{Ks, Undo, put_raw, remove_raw};
use crate::kv::aof::{CollKind, CollOp, Op};
use crate::kv::db::Db;
use crate::kv::types::stream::{Fields, Group, Node, Pending};
use crate::kv::types::{EncLimits, Hash, List, Set, Stream, StreamId, ZSet};
use crate::kv::value::{Entry, Value};

/// A field and its old value (none: it did not exist).
type OldField = (Box<[u8]>, Option<Box<[u8]>>);

/// A deleted field: its place in a listpack, the field, the value.
type GoneField = (usize, Box<[u8]>, Box<[u8]>);

/// How to undo one applied op on an existing collection.
pub(super) enum CollUndo {
    /// Restore each field's old value (none: delete it), newest last.
    HashFields(Vec<OldField>),
    /// Put back deleted fields at their old places, newest last.
    HashDeleted(Vec<GoneField>),
    /// Put back the whole hash as it was before an op that converted it
    /// (its listpack order, its encoding).
    HashWhole(Box<Hash>),
    /// Pop `n` elements pushed at the head (`front`) or tail.
    ListPushed { front: bool, n: usize },
    /// Push back elements popped from the head or tail, first popped first.
    ListPopped { front: bool, items: Vec<Box<[u8]>> },
    /// Put back the old element at an index.
    ListSet(usize, Box<[u8]>),
    /// Remove the element inserted at an index.
    ListInserted(usize),
    /// Put back the whole old list.
    ListWhole(std::collections::VecDeque<Box<[u8]>>),
    /// Put back what a trim dropped from each end (in list order).
    ListTrimmed {
        front: Vec<Box<[u8]>>,
        back: Vec<Box<[u8]>>,
    },
    /// Remove members that were added.
    SetAdded(Vec<Box<[u8]>>),
    /// Add back members that were removed.
    SetRemoved(Vec<Box<[u8]>>),
    /// Put back the whole set as it was before an op that converted it.
    SetWhole(Box<Set>),
    /// Restore each member's old score (none: remove it), newest last.
    ZScores(Vec<(Box<[u8]>, Option<f64>)>),
    /// Remove an appended stream entry; restore the metadata and the tail node.
    StreamAdded {
        id: StreamId,
        meta: StreamMeta,
        nodes_len: usize,
        tail: Option<Node>,
    },
    /// Put back removed stream entries, the nodes and the metadata.
    StreamRemoved {
        entries: Vec<(StreamId, Fields)>,
        nodes: std::collections::VecDeque<Node>,
        meta: StreamMeta,
    },
    /// Restore a stream's metadata.
    StreamMeta(StreamMeta),
    /// Put a consumer group back as it was (None: remove it).
    Group(Box<[u8]>, Option<Box<Group>>),
    /// Restore a group's last ID and entries read.
    GroupMeta(Box<[u8]>, StreamId, i64),
    /// Restore pending entries of a group (None: drop it), newest last,
    /// then the consumer: its old seen time, or None if it did not exist.
    Pel {
        group: Box<[u8]>,
        consumer: Box<[u8]>,
        seen: Option<u64>,
        old: Vec<(StreamId, Option<Pending>)>,
    },
}

/// Last ID, entries added, max deleted ID.
pub(super) type StreamMeta = (StreamId, u64, StreamId);

fn meta(s: &Stream) -> StreamMeta {
    (s.last_id, s.entries_added, s.max_deleted)
}

fn set_meta(s: &mut Stream, m: StreamMeta) {
    (s.last_id, s.entries_added, s.max_deleted) = m;
}

/// What an op did, for the command's reply.
#[derive(Debug, Default)]
pub struct Applied {
    /// Something changed (then it is logged and watchers are told).
    pub changed: bool,
    /// New fields or members added.
    pub added: usize,
    /// Fields, members or elements removed.
    pub removed: usize,
    /// List length after a push.
    pub len: usize,
    /// Elements popped, in pop order.
    pub popped: Vec<Box<[u8]>>,
    /// Sorted-set members removed by rank, lowest first.
    pub zpopped: Vec<(Box<[u8]>, f64)>,
    /// The op created the key.
    pub created: bool,
    /// The op emptied the collection, so the key was deleted.
    pub emptied: bool,
}

fn creates(kind: CollKind) -> Option<fn() -> Value> {
    match kind {
        CollKind::HSet => Some(|| Value::Hash(Box::<Hash>::default())),
        CollKind::LPush | CollKind::RPush => Some(|| Value::List(Box::<List>::default())),
        CollKind::SAdd => Some(|| Value::Set(Box::<Set>::default())),
        CollKind::ZAdd => Some(|| Value::ZSet(Box::<ZSet>::default())),
        CollKind::XAdd | CollKind::XSetId => Some(|| Value::Stream(Box::<Stream>::default())),
        _ => None,
    }
}

fn fits(kind: CollKind, v: &Value) -> bool {
    use CollKind::*;
    match v {
        Value::Hash(_) => matches!(kind, HSet | HDel),
        Value::List(_) => matches!(
            kind,
            LPush | RPush | LPop | RPop | LSet | LInsert | LRem | LTrim
        ),
        Value::Set(_) => matches!(kind, SAdd | SRem),
        Value::ZSet(_) => matches!(kind, ZAdd | ZRem | ZRemRange),
        Value::Stream(_) => matches!(kind, XAdd | XDel | XSetId | XGroup | XConsumer | XPel),
        Value::Str(_) => false,
    }
}

/// Apply `op` to `db` at time `now` (for a created key's access time),
/// hashes and sets converting under the limits `l` as Redis's would.
/// With `undo`, push what reverses it. An op that does not fit the key's
/// type (only a damaged log could hold one) changes nothing.
pub(super) fn apply_coll(
    db: &mut Db,
    op: &CollOp<'_>,
    now: u64,
    l: &EncLimits,
    mut undo: Option<&mut Vec<Undo>>,
) -> Applied {
    let dbi = op.db as usize;
    let make = creates(op.kind).filter(|_| !op.items.is_empty());
    let (e, created) = match make {
        // One lookup: the key is found or created in place.
        Some(make) => db
            .dict
            .get_or_insert_with(op.key, || Entry::new(make(), 0, now)),
        None => match db.dict.get_mut(op.key) {
            Some(e) => (e, false),
            None => return Applied::default(),
        },
    };
    if !fits(op.kind, &e.value) {
        return Applied::default();
    }
    if created {
        if let Some(u) = undo.as_deref_mut() {
            u.push(Undo::Restore {
                db: dbi,
                key: op.key.into(),
                old: None,
            });
        }
    }
    // A created key is undone whole: no per-element undo.
    let mut cu = None;
    let mut r = change(&mut e.value, op, l, undo.is_some() && !created, &mut cu);
    r.created = created;
    let emptied = e.value.is_empty();
    if let (Some(u), Some(c)) = (undo.as_deref_mut(), cu) {
        u.push(Undo::Coll {
            db: dbi,
            key: op.key.into(),
            u: c,
        });
    }
    if emptied {
        r.emptied = true;
        let old = remove_raw(db, op.key);
        if let Some(u) = undo {
            u.push(Undo::Restore {
                db: dbi,
                key: op.key.into(),
                old,
            });
        }
    }
    r
}

fn boxed(b: &[u8]) -> Box<[u8]> {
    b.into()
}

fn change(
    v: &mut Value,
    op: &CollOp<'_>,
    l: &EncLimits,
    want: bool,
    cu: &mut Option<CollUndo>,
) -> Applied {
    use CollKind::*;
    let mut r = Applied::default();
    match (op.kind, v) {
        (HSet, Value::Hash(h)) => {
            // An op that converts is undone whole: per-field undo could
            // not give back the listpack order.
            let whole = (want && h.would_convert(op.items, l)).then(|| h.clone());
            let mut old = Vec::new();
            h.fit_args(op.items, l);
            for p in op.items.chunks_exact(2) {
                let prev = h.set(p[0], boxed(p[1]), l);
                if prev.is_none() {
                    r.added += 1;
                }
                if want && whole.is_none() {
                    old.push((boxed(p[0]), prev));
                }
            }
            r.changed = op.items.len() >= 2;
            *cu = match whole {
                Some(w) => Some(CollUndo::HashWhole(w)),
                None => want.then_some(CollUndo::HashFields(old)),
            };
        }
        (HDel, Value::Hash(h)) => {
            let mut old = Vec::new();
            for f in op.items {
                if let Some((at, v)) = h.remove(f) {
                    r.removed += 1;
                    if want {
                        old.push((at, boxed(f), v));
                    }
                }
            }
            r.changed = r.removed > 0;
            *cu = want.then_some(CollUndo::HashDeleted(old));
        }
        (LPush | RPush, Value::List(l)) => {
            let front = op.kind == LPush;
            for i in op.items {
                if front {
                    l.items.push_front(boxed(i));
                } else {
                    l.items.push_back(boxed(i));
                }
            }
            r.len = l.items.len();
            r.changed = !op.items.is_empty();
            *cu = want.then_some(CollUndo::ListPushed {
                front,
                n: op.items.len(),
            });
        }
        (LPop | RPop, Value::List(l)) => {
            let front = op.kind == LPop;
            let n = (op.a.max(0) as usize).min(l.items.len());
            r.popped.reserve(n);
            for _ in 0..n {
                let x = if front {
                    l.items.pop_front()
                } else {
                    l.items.pop_back()
                };
                r.popped.extend(x);
            }
            r.changed = n > 0;
            if want {
                *cu = Some(CollUndo::ListPopped {
                    front,
                    items: r.popped.clone(),
                });
            }
        }
        (LSet, Value::List(l)) => {
            if let (Some(slot), Some(v)) = (l.items.get_mut(op.a as usize), op.items.first()) {
                let old = std::mem::replace(slot, boxed(v));
                r.changed = true;
                *cu = want.then_some(CollUndo::ListSet(op.a as usize, old));
            }
        }
        (LInsert, Value::List(l)) => {
            if let Some(v) = op.items.first() {
                let at = (op.a.max(0) as usize).min(l.items.len());
                l.items.insert(at, boxed(v));
                r.len = l.items.len();
                r.changed = true;
                *cu = want.then_some(CollUndo::ListInserted(at));
            }
        }
        (LRem, Value::List(l)) => {
            let Some(v) = op.items.first() else {
                return r;
            };
            // O(n) like the op itself: keep the whole old list.
            let before = (want && l.items.iter().any(|x| &x[..] == *v)).then(|| l.items.clone());
            r.removed = lrem(l, op.a, v);
            r.changed = r.removed > 0;
            *cu = before.map(CollUndo::ListWhole);
        }
        (LTrim, Value::List(l)) => {
            let a = (op.a.max(0) as usize).min(l.items.len());
            let front: Vec<Box<[u8]>> = l.items.drain(..a).collect();
            let b = (op.b.max(0) as usize).min(l.items.len());
            let back: Vec<Box<[u8]>> = l.items.drain(l.items.len() - b..).collect();
            r.removed = front.len() + back.len();
            r.changed = r.removed > 0;
            *cu = want.then_some(CollUndo::ListTrimmed { front, back });
        }
        (SAdd, Value::Set(s)) => {
            // An op that converts is undone whole, back to the intset.
            let whole = (want && s.would_convert(op.items, l)).then(|| s.clone());
            let mut added = Vec::new();
            for m in op.items {
                if s.add(m, l) {
                    r.added += 1;
                    if want && whole.is_none() {
                        added.push(boxed(m));
                    }
                }
            }
            r.changed = r.added > 0;
            *cu = match whole {
                Some(w) => Some(CollUndo::SetWhole(w)),
                None => want.then_some(CollUndo::SetAdded(added)),
            };
        }
        (SRem, Value::Set(s)) => {
            let mut gone = Vec::new();
            for m in op.items {
                if s.remove(m) {
                    r.removed += 1;
                    if want {
                        gone.push(boxed(m));
                    }
                }
            }
            r.changed = r.removed > 0;
            *cu = want.then_some(CollUndo::SetRemoved(gone));
        }
        (ZAdd, Value::ZSet(z)) => {
            let mut old = Vec::new();
            for (m, s) in op.items.iter().zip(op.scores) {
                let prev = z.set(m, *s);
                if prev.is_none() {
                    r.added += 1;
                }
                if prev != Some(*s) {
                    r.changed = true;
                }
                if want {
                    old.push((boxed(m), prev));
                }
            }
            *cu = want.then_some(CollUndo::ZScores(old));
        }
        (ZRem, Value::ZSet(z)) => {
            let mut old = Vec::new();
            for m in op.items {
                if let Some(s) = z.remove(m) {
                    r.removed += 1;
                    if want {
                        old.push((boxed(m), Some(s)));
                    }
                }
            }
            r.changed = r.removed > 0;
            *cu = want.then_some(CollUndo::ZScores(old));
        }
        (ZRemRange, Value::ZSet(z)) => {
            if op.a >= 0 && op.b >= op.a {
                r.zpopped = z.remove_ranks(op.a as usize, op.b as usize);
            }
            r.removed = r.zpopped.len();
            r.changed = r.removed > 0;
            if want {
                let old = r
                    .zpopped
                    .iter()
                    .map(|(m, s)| (m.clone(), Some(*s)))
                    .collect();
                *cu = Some(CollUndo::ZScores(old));
            }
        }
        (XAdd, Value::Stream(st)) => {
            let Some(id) = op.items.first().and_then(|b| StreamId::from_bytes(b)) else {
                return r;
            };
            if st.entries.contains_key(&id) {
                return r;
            }
            if want {
                *cu = Some(CollUndo::StreamAdded {
                    id,
                    meta: meta(st),
                    nodes_len: st.nodes.len(),
                    tail: st.nodes.back().copied(),
                });
            }
            let fields: Fields = op.items[1..].iter().map(|f| boxed(f)).collect();
            st.append(id, fields, op.a.clamp(1, u32::MAX as i64) as u32);
            r.added = 1;
            r.len = st.len();
            r.changed = true;
        }
        (XDel, Value::Stream(st)) => {
            let (old_meta, old_nodes) = (meta(st), want.then(|| st.nodes.clone()));
            let mut gone = Vec::new();
            for b in op.items {
                let Some(id) = StreamId::from_bytes(b) else {
                    continue;
                };
                if let Some(f) = st.remove(id) {
                    r.removed += 1;
                    if op.a == 1 && id > st.max_deleted {
                        st.max_deleted = id;
                    }
                    if want {
                        gone.push((id, f));
                    }
                }
            }
            r.changed = r.removed > 0;
            if let Some(nodes) = old_nodes {
                *cu = Some(CollUndo::StreamRemoved {
                    entries: gone,
                    nodes,
                    meta: old_meta,
                });
            }
        }
        (XSetId, Value::Stream(st)) => {
            let [last, added, maxdel] = op.items else {
                return r;
            };
            let (Some(last), Ok(added), Some(maxdel)) = (
                StreamId::from_bytes(last),
                <[u8; 8]>::try_from(*added),
                StreamId::from_bytes(maxdel),
            ) else {
                return r;
            };
            if want {
                *cu = Some(CollUndo::StreamMeta(meta(st)));
            }
            set_meta(st, (last, u64::from_be_bytes(added), maxdel));
            r.changed = true;
        }
        (XGroup | XConsumer | XPel, Value::Stream(st)) => {
            *cu = super::cgroup::change(st, op, want, &mut r);
        }
        _ => {}
    }
    r
}

/// LREM: remove up to |count| occurrences of `v` (from the head when
/// count > 0, from the tail when < 0, all when 0); returns how many.
fn lrem(l: &mut List, count: i64, v: &[u8]) -> usize {
    let limit = if count == 0 {
        usize::MAX
    } else {
        count.unsigned_abs() as usize
    };
    let mut removed = 0;
    if count >= 0 {
        let mut i = 0;
        while i < l.items.len() && removed < limit {
            if &l.items[i][..] == v {
                l.items.remove(i);
                removed += 1;
            } else {
                i += 1;
            }
        }
    } else {
        let mut i = l.items.len();
        while i > 0 && removed < limit {
            i -= 1;
            if &l.items[i][..] == v {
                l.items.remove(i);
                removed += 1;
            }
        }
    }
    removed
}

/// Reverse one [`CollUndo`] on the collection at `key` (it exists: undo
/// runs newest first, so a deleted key was restored before this).
pub(super) fn undo_coll(db: &mut Db, key: &[u8], u: CollUndo) {
    let Some(e) = db.dict.get_mut(key) else {
        return;
    };
    match (u, &mut e.value) {
        (CollUndo::HashFields(old), Value::Hash(h)) => {
            for (f, v) in old.into_iter().rev() {
                match v {
                    Some(v) => {
                        h.set_raw(&f, v);
                    }
                    None => {
                        h.remove(&f);
                    }
                }
            }
        }
        (CollUndo::HashDeleted(old), Value::Hash(h)) => {
            for (at, f, v) in old.into_iter().rev() {
                h.insert_at(at, f, v);
            }
        }
        (CollUndo::HashWhole(old), Value::Hash(h)) => **h = *old,
        (CollUndo::SetWhole(old), Value::Set(s)) => **s = *old,
        (CollUndo::ListPushed { front, n }, Value::List(l)) => {
            for _ in 0..n {
                if front {
                    l.items.pop_front();
                } else {
                    l.items.pop_back();
                }
            }
        }
        (CollUndo::ListPopped { front, items }, Value::List(l)) => {
            for x in items.into_iter().rev() {
                if front {
                    l.items.push_front(x);
                } else {
                    l.items.push_back(x);
                }
            }
        }
        (CollUndo::ListSet(i, old), Value::List(l)) => {
            if let Some(slot) = l.items.get_mut(i) {
                *slot = old;
            }
        }
        (CollUndo::ListInserted(i), Value::List(l)) => {
            l.items.remove(i);
        }
        (CollUndo::ListWhole(items), Value::List(l)) => l.items = items,
        (CollUndo::ListTrimmed { front, back }, Value::List(l)) => {
            for x in front.into_iter().rev() {
                l.items.push_front(x);
            }
            l.items.extend(back);
        }
        (CollUndo::SetAdded(ms), Value::Set(s)) => {
            for m in ms {
                s.remove(&m);
            }
        }
        (CollUndo::SetRemoved(ms), Value::Set(s)) => {
            for m in ms {
                s.add_raw(&m);
            }
        }
        (CollUndo::ZScores(old), Value::ZSet(z)) => {
            for (m, s) in old.into_iter().rev() {
                match s {
                    Some(s) => {
                        z.set(&m, s);
                    }
                    None => {
                        z.remove(&m);
                    }
                }
            }
        }
        (
            CollUndo::StreamAdded {
                id,
                meta,
                nodes_len,
                tail,
            },
            Value::Stream(st),
        ) => {
            st.entries.remove(&id);
            st.nodes.truncate(nodes_len);
            if let (Some(t), Some(b)) = (tail, st.nodes.back_mut()) {
                *b = t;
            }
            set_meta(st, meta);
        }
        (
            CollUndo::StreamRemoved {
                entries,
                nodes,
                meta,
            },
            Value::Stream(st),
        ) => {
            st.entries.extend(entries);
            st.nodes = nodes;
            set_meta(st, meta);
        }
        (CollUndo::StreamMeta(m), Value::Stream(st)) => set_meta(st, m),
        (
            u @ (CollUndo::Group(..) | CollUndo::GroupMeta(..) | CollUndo::Pel { .. }),
            Value::Stream(st),
        ) => super::cgroup::undo(st, u),
        _ => {}
    }
}

/// Items per op when a whole collection is written (a stored result, a
/// copied key, compaction): Redis's AOF rewrite batches the same way.
const CHUNK: usize = 512;

/// The ops that recreate `value` at `key` from nothing (then its expiry).
pub fn value_ops(db: usize, key: &[u8], value: &Value, exp: u64, emit: &mut dyn FnMut(Op<'_>)) {
    let d = db as u32;
    let mut refs: Vec<&[u8]> = Vec::with_capacity(CHUNK * 2);
    let mut flush = |kind, refs: &mut Vec<&[u8]>, scores: &[f64]| {
        if !refs.is_empty() {
            emit(Op::Coll(CollOp {
                scores,
                ..CollOp::items(kind, db, key, refs)
            }));
            refs.clear();
        }
    };
    match value {
        Value::Str(s) => emit(Op::SetStr(d, key, s, exp)),
        Value::Hash(h) => {
            for (f, v) in h.iter() {
                refs.push(f);
                refs.push(v);
                if refs.len() >= CHUNK * 2 {
                    flush(CollKind::HSet, &mut refs, &[]);
                }
            }
            flush(CollKind::HSet, &mut refs, &[]);
        }
        Value::List(l) => {
            for x in &l.items {
                refs.push(x);
                if refs.len() >= CHUNK {
                    flush(CollKind::RPush, &mut refs, &[]);
                }
            }
            flush(CollKind::RPush, &mut refs, &[]);
        }
        Value::Set(s) => {
            for m in s.iter() {
                refs.push(m);
                if refs.len() >= CHUNK {
                    flush(CollKind::SAdd, &mut refs, &[]);
                }
            }
            flush(CollKind::SAdd, &mut refs, &[]);
        }
        Value::ZSet(z) => {
            let mut scores = Vec::with_capacity(CHUNK);
            for (m, s) in z.sl.iter() {
                refs.push(m);
                scores.push(s);
                if refs.len() >= CHUNK {
                    flush(CollKind::ZAdd, &mut refs, &scores);
                    scores.clear();
                }
            }
            flush(CollKind::ZAdd, &mut refs, &scores);
        }
        Value::Stream(st) => stream_ops(db, key, st, emit),
    }
    if exp != 0 && !matches!(value, Value::Str(_)) {
        emit(Op::Expire(d, key, exp));
    }
}

/// The ops that recreate the stream `st`: its metadata (which creates
/// it, even empty), each entry, then the metadata again (the appends
/// counted entries added).
fn stream_ops(db: usize, key: &[u8], st: &Stream, emit: &mut dyn FnMut(Op<'_>)) {
    let last = st.last_id.to_bytes();
    let added = st.entries_added.to_be_bytes();
    let maxdel = st.max_deleted.to_bytes();
    let meta: [&[u8]; 3] = [&last, &added, &maxdel];
    emit(Op::Coll(CollOp::items(CollKind::XSetId, db, key, &meta)));
    for (id, fields) in &st.entries {
        let idb = id.to_bytes();
        let mut items: Vec<&[u8]> = Vec::with_capacity(fields.len() + 1);
        items.push(&idb);
        items.extend(fields.iter().map(|f| &f[..]));
        emit(Op::Coll(CollOp {
            a: STREAM_NODE,
            ..CollOp::items(CollKind::XAdd, db, key, &items)
        }));
    }
    if !st.entries.is_empty() {
        emit(Op::Coll(CollOp::items(CollKind::XSetId, db, key, &meta)));
    }
    super::cgroup::ops(db, key, st, emit);
}

/// Node size of a rewritten stream (Redis's default).
const STREAM_NODE: i64 = 100;

impl Ks<'_> {
    /// Apply a collection op for a command: see the module doc. A created
    /// key is noted `new` (the command notes its own event, and `del` when
    /// [`Applied::emptied`]).
    pub fn coll(&mut self, op: CollOp<'_>) -> Applied {
        let db = op.db as usize;
        let undo = if self.batch.logging {
            Some(&mut self.batch.undo)
        } else {
            None
        };
        let enc = self.space.enc;
        let r = apply_coll(&mut self.space.dbs[db], &op, self.now, &enc, undo);
        if r.created {
            self.notify(crate::kv::notify::NEW, "new", db, op.key);
        }
        if r.changed {
            self.log(Op::Coll(op));
            self.space.touch(db, op.key);
            if matches!(
                op.kind,
                CollKind::LPush
                    | CollKind::RPush
                    | CollKind::LInsert
                    | CollKind::ZAdd
                    | CollKind::XAdd
            ) {
                self.space.blocking.signal(db, op.key);
            }
        }
        r
    }

    /// Move the live value at `key` in `db` (with its expiry) to `dst` in
    /// `dst_db`, replacing what was there: O(1) and logged as one op (RENAME,
    /// MOVE); `dst` is noted `new`, as Redis adds it anew. False when there
    /// is no such key.
    pub fn rename(&mut self, db: usize, key: &[u8], dst_db: usize, dst: &[u8]) -> bool {
        if self.lookup_write(db, key).is_none() {
            return false;
        }
        if (db, key) == (dst_db, dst) {
            return true;
        }
        self.lookup_write(dst_db, dst);
        self.log(Op::Rename(db as u32, key, dst_db as u32, dst));
        let Some(e) = remove_raw(&mut self.space.dbs[db], key) else {
            return false;
        };
        let old = put_raw(&mut self.space.dbs[dst_db], dst, e);
        self.remember(Undo::Renamed {
            from: (db, key.into()),
            to: (dst_db, dst.into()),
            old,
        });
        self.space.touch(db, key);
        self.space.touch(dst_db, dst);
        self.space.blocking.signal(dst_db, dst);
        self.notify(crate::kv::notify::NEW, "new", dst_db, dst);
        true
    }
}

/// `DEBUG RELOAD`: write every live key out as log records, the way
/// compaction does, and rebuild every database from them, as a restart
/// would. Data and expiry times survive; anything the encoding lost would
/// show. Access times restart at `now`.
pub fn reload(space: &mut crate::kv::db::Keyspace, now: u64) {
    use crate::kv::aof;
    let mut buf = aof::MAGIC.to_vec();
    for (i, db) in space.dbs.iter().enumerate() {
        for (k, e) in db.dict.iter() {
            if e.live(now) {
                let s = aof::begin_record(&mut buf);
                value_ops(i, k, &e.value, e.expires_at, &mut |op| {
                    aof::push_op(&mut buf, op)
                });
                aof::end_record(&mut buf, s);
            }
        }
    }
    let mut fresh = crate::kv::db::Keyspace::new(space.dbs.len());
    // Reloaded under the limits in force, as Redis loads its RDB.
    fresh.enc = space.enc;
    let scanned = aof::scan(&buf, |ops| {
        for op in ops {
            super::apply_record(&mut fresh, op, now);
        }
    });
    if scanned.is_ok_and(|s| s.problems.is_empty()) {
        for (d, f) in space.dbs.iter_mut().zip(fresh.dbs) {
            d.dict = f.dict;
            d.expires = f.expires;
        }
    }
}

/// Replay a rename (see [`Ks::rename`]).
pub(super) fn apply_rename(dbs: &mut [Db], d1: usize, k1: &[u8], d2: usize, k2: &[u8]) {
    if (d1, k1) == (d2, k2) {
        return;
    }
    if let Some(e) = remove_raw(&mut dbs[d1], k1) {
        put_raw(&mut dbs[d2], k2, e);
    }
}
