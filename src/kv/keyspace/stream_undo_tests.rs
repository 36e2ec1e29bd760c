//! A failed round undoes every stream op: entries, nodes, metadata,
//! groups, consumers and pending entries come back exactly.

use super::{Batch, Ks, pel_item};
use crate::kv::aof::{CollKind, CollOp};
use crate::kv::db::Keyspace;
use crate::kv::types::StreamId;
use crate::kv::value::Value;

fn op(ks: &mut Ks<'_>, kind: CollKind, a: i64, b: i64, items: &[&[u8]]) {
    ks.coll(CollOp {
        a,
        b,
        ..CollOp::items(kind, 0, b"s", items)
    });
}

fn id(ms: u64) -> [u8; 16] {
    StreamId { ms, seq: 0 }.to_bytes()
}

fn snapshot(space: &Keyspace) -> Option<Value> {
    space.dbs[0].dict.get(b"s").map(|e| e.value.clone())
}

#[test]
fn a_failed_round_restores_the_stream_exactly() {
    let mut space = Keyspace::new(1);
    let mut batch = Batch::new(true);
    {
        let mut ks = Ks {
            space: &mut space,
            batch: &mut batch,
            now: 1000,
        };
        for ms in 1..=5 {
            op(&mut ks, CollKind::XAdd, 2, 0, &[&id(ms), b"f", b"v"]);
        }
        let read = 0i64.to_be_bytes();
        op(&mut ks, CollKind::XGroup, 0, 0, &[b"g", &id(0), &read]);
        op(
            &mut ks,
            CollKind::XPel,
            0,
            7,
            &[b"g", b"alice", &pel_item(StreamId { ms: 1, seq: 0 }, 7, 1)],
        );
    }
    batch.clear();
    let before = snapshot(&space);
    {
        let mut ks = Ks {
            space: &mut space,
            batch: &mut batch,
            now: 2000,
        };
        op(&mut ks, CollKind::XAdd, 2, 0, &[&id(6), b"f", b"v"]);
        op(&mut ks, CollKind::XDel, 1, 0, &[&id(1), &id(3)]);
        op(&mut ks, CollKind::XDel, 0, 0, &[&id(2)]);
        let meta = [&id(9)[..], &9u64.to_be_bytes(), &id(3)];
        op(&mut ks, CollKind::XSetId, 0, 0, &meta);
        op(
            &mut ks,
            CollKind::XPel,
            0,
            9,
            &[b"g", b"bob", &pel_item(StreamId { ms: 1, seq: 0 }, 9, 2)],
        );
        op(&mut ks, CollKind::XPel, 1, 0, &[b"g", b"", &id(1)]);
        op(&mut ks, CollKind::XConsumer, 1, 0, &[b"g", b"alice"]);
        op(
            &mut ks,
            CollKind::XGroup,
            0,
            0,
            &[b"g", &id(5), &3i64.to_be_bytes()],
        );
        op(
            &mut ks,
            CollKind::XGroup,
            0,
            0,
            &[b"h", &id(0), &(-1i64).to_be_bytes()],
        );
        op(&mut ks, CollKind::XGroup, 1, 0, &[b"g"]);
    }
    assert_ne!(snapshot(&space), before);
    batch.rollback(&mut space);
    assert_eq!(snapshot(&space), before);
}
