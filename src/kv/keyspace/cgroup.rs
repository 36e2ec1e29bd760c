//! Consumer-group ops on a stream ([`CollKind::XGroup`],
//! [`CollKind::XConsumer`], [`CollKind::XPel`]): applied the same way live
//! and in replay, with undo per pending entry (a group is copied whole only
//! when it is destroyed), and the ops that recreate every group for
//! compaction.

use super::coll::{Applied, CollUndo};
use crate::kv::aof::{CollKind, CollOp, Op};
use crate::kv::types::stream::{Consumer, Group, Pending};
use crate::kv::types::{Stream, StreamId};

/// One pending entry as the XPel op carries it.
pub fn pel_item(id: StreamId, time: u64, count: u64) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[..16].copy_from_slice(&id.to_bytes());
    b[16..24].copy_from_slice(&time.to_be_bytes());
    b[24..].copy_from_slice(&count.to_be_bytes());
    b
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Apply a group op; the undo entry when `want`.
pub(super) fn change(
    st: &mut Stream,
    op: &CollOp<'_>,
    want: bool,
    r: &mut Applied,
) -> Option<CollUndo> {
    let name = *op.items.first()?;
    match (op.kind, op.a) {
        (CollKind::XGroup, 0) => {
            let last = StreamId::from_bytes(op.items.get(1)?)?;
            let read = u64_at(op.items.get(2)?, 0)? as i64;
            r.changed = true;
            match st.groups.get_mut(name) {
                Some(g) => {
                    let undo = CollUndo::GroupMeta(name.into(), g.last_id, g.entries_read);
                    (g.last_id, g.entries_read) = (last, read);
                    want.then_some(undo)
                }
                None => {
                    let g = Group {
                        last_id: last,
                        entries_read: read,
                        ..Group::default()
                    };
                    st.groups.insert(name.into(), g);
                    r.added = 1;
                    want.then(|| CollUndo::Group(name.into(), None))
                }
            }
        }
        (CollKind::XGroup, _) => {
            let g = st.groups.remove(name)?;
            r.changed = true;
            r.removed = 1;
            want.then(|| CollUndo::Group(name.into(), Some(Box::new(g))))
        }
        (CollKind::XConsumer, a) => {
            let g = st.groups.get_mut(name)?;
            let cname = *op.items.get(1)?;
            let seen = g.consumers.get(cname).map(|c| c.seen);
            if a == 0 {
                g.consumers.entry(cname.into()).or_default().seen = op.b as u64;
                r.added = seen.is_none() as usize;
                r.changed = true;
                return want.then(|| CollUndo::Pel {
                    group: name.into(),
                    consumer: cname.into(),
                    seen,
                    old: Vec::new(),
                });
            }
            let c = g.consumers.remove(cname)?;
            let mut old = Vec::new();
            for id in &c.pel {
                if let Some(p) = g.pel.remove(id) {
                    old.push((*id, Some(p)));
                }
            }
            r.removed = old.len();
            r.changed = true;
            want.then(|| CollUndo::Pel {
                group: name.into(),
                consumer: cname.into(),
                seen,
                old,
            })
        }
        (CollKind::XPel, a) => {
            let g = st.groups.get_mut(name)?;
            let cname = *op.items.get(1)?;
            let seen = g.consumers.get(cname).map(|c| c.seen);
            let mut old = Vec::new();
            if a == 0 {
                g.consumers.entry(cname.into()).or_default().seen = op.b as u64;
                for it in &op.items[2..] {
                    let (Some(id), Some(time), Some(count)) = (
                        StreamId::from_bytes(it.get(..16)?),
                        u64_at(it, 16),
                        u64_at(it, 24),
                    ) else {
                        continue;
                    };
                    let prev = g.pel.get(&id).cloned();
                    g.set_pending(
                        id,
                        Pending {
                            consumer: cname.into(),
                            time,
                            count,
                        },
                    );
                    if want {
                        old.push((id, prev));
                    }
                    r.added += 1;
                }
                r.changed = true;
            } else {
                for it in &op.items[2..] {
                    let Some(id) = StreamId::from_bytes(it) else {
                        continue;
                    };
                    if let Some(p) = g.ack(id) {
                        r.removed += 1;
                        if want {
                            old.push((id, Some(p)));
                        }
                    }
                }
                r.changed = r.removed > 0;
            }
            want.then(|| CollUndo::Pel {
                group: name.into(),
                consumer: cname.into(),
                seen,
                old,
            })
        }
        _ => None,
    }
}

/// Reverse a group op.
pub(super) fn undo(st: &mut Stream, u: CollUndo) {
    match u {
        CollUndo::Group(name, g) => match g {
            Some(g) => {
                st.groups.insert(name, *g);
            }
            None => {
                st.groups.remove(&name);
            }
        },
        CollUndo::GroupMeta(name, last, read) => {
            if let Some(g) = st.groups.get_mut(&name) {
                (g.last_id, g.entries_read) = (last, read);
            }
        }
        CollUndo::Pel {
            group,
            consumer,
            seen,
            old,
        } => {
            let Some(g) = st.groups.get_mut(&group) else {
                return;
            };
            if let Some(s) = seen {
                g.consumers.entry(consumer.clone()).or_default().seen = s;
            }
            for (id, p) in old.into_iter().rev() {
                match p {
                    Some(p) => g.set_pending(id, p),
                    None => {
                        g.ack(id);
                    }
                }
            }
            if seen.is_none() {
                g.consumers.remove(&consumer);
            }
        }
        _ => {}
    }
}

/// Pending entries per XPel op when a group is written whole.
const CHUNK: usize = 512;

/// The ops that recreate every group of `st` (after its entries).
pub(super) fn ops(db: usize, key: &[u8], st: &Stream, emit: &mut dyn FnMut(Op<'_>)) {
    for (name, g) in &st.groups {
        let last = g.last_id.to_bytes();
        let read = g.entries_read.to_be_bytes();
        let items: [&[u8]; 3] = [name, &last, &read];
        emit(Op::Coll(CollOp::items(CollKind::XGroup, db, key, &items)));
        for (cname, c) in &g.consumers {
            consumer_ops(db, key, name, cname, c, g, emit);
        }
    }
}

fn consumer_ops(
    db: usize,
    key: &[u8],
    group: &[u8],
    cname: &[u8],
    c: &Consumer,
    g: &Group,
    emit: &mut dyn FnMut(Op<'_>),
) {
    let head: [&[u8]; 2] = [group, cname];
    emit(Op::Coll(CollOp {
        b: c.seen as i64,
        ..CollOp::items(CollKind::XConsumer, db, key, &head)
    }));
    let ids: Vec<&StreamId> = c.pel.iter().collect();
    for chunk in ids.chunks(CHUNK) {
        let recs: Vec<[u8; 32]> = chunk
            .iter()
            .filter_map(|id| g.pel.get(id).map(|p| pel_item(**id, p.time, p.count)))
            .collect();
        let mut items: Vec<&[u8]> = vec![group, cname];
        items.extend(recs.iter().map(|r| &r[..]));
        emit(Op::Coll(CollOp {
            b: c.seen as i64,
            ..CollOp::items(CollKind::XPel, db, key, &items)
        }));
    }
}
