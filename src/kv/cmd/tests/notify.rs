//! Keyspace notifications through dispatch: events go to other loops'
//! subscribers through the round's outbox, nothing is noted with the flags
//! off, and a subscriber on the same client gets them before the reply.

use super::{OK, T};
use crate::kv::shared::Msg;

/// (client, channel, payload) of each pub/sub message in `t`'s outbox.
fn pushes(t: &mut T) -> Vec<(u64, String, String)> {
    t.outbox()
        .into_iter()
        .filter_map(|(_, m)| match m {
            Msg::Push(id, m) => Some((
                id,
                String::from_utf8_lossy(&m.channel).into_owned(),
                String::from_utf8_lossy(&m.payload).into_owned(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn events_reach_other_loops_through_the_outbox_and_only_when_on() {
    let mut a = T::new();
    let mut b = T::client_on(&a.sh, 1);
    let bid = b.sess.id;
    b.r(&["PSUBSCRIBE", "__key*"]);
    // Off by default: nothing is published.
    assert_eq!(a.r(&["SET", "k", "v"]), OK);
    assert!(pushes(&mut a).is_empty());
    assert_eq!(
        a.r(&["CONFIG", "SET", "notify-keyspace-events", "KEg$"]),
        OK
    );
    assert_eq!(a.r(&["SET", "k", "w", "PX", "100000"]), OK);
    assert_eq!(
        pushes(&mut a),
        [
            (bid, "__keyspace@0__:k".into(), "set".into()),
            (bid, "__keyevent@0__:set".into(), "k".into()),
            (bid, "__keyspace@0__:k".into(), "expire".into()),
            (bid, "__keyevent@0__:expire".into(), "k".into()),
        ]
    );
    // A class not selected: nothing.
    a.r(&["LPUSH", "l", "x"]);
    assert!(pushes(&mut a).is_empty());
    a.r(&["SELECT", "3"]);
    a.r(&["DEL", "l", "k"]);
    assert!(pushes(&mut a).is_empty(), "nothing of these in db 3");
    a.r(&["SELECT", "0"]);
    a.r(&["DEL", "l", "k"]);
    assert_eq!(
        pushes(&mut a),
        [
            (bid, "__keyspace@0__:l".into(), "del".into()),
            (bid, "__keyevent@0__:del".into(), "l".into()),
            (bid, "__keyspace@0__:k".into(), "del".into()),
            (bid, "__keyevent@0__:del".into(), "k".into()),
        ]
    );
    assert_eq!(a.r(&["CONFIG", "SET", "notify-keyspace-events", ""]), OK);
    a.r(&["SET", "k", "v"]);
    assert!(pushes(&mut a).is_empty());
}

#[test]
fn a_resp3_subscriber_gets_its_own_events_before_the_reply() {
    let mut a = T::new();
    a.resp3();
    a.r(&["CONFIG", "SET", "notify-keyspace-events", "El"]);
    a.r(&["SUBSCRIBE", "__keyevent@0__:rpush"]);
    assert_eq!(
        a.r(&["RPUSH", "q", "x"]),
        ">3\r\n$7\r\nmessage\r\n$20\r\n__keyevent@0__:rpush\r\n$1\r\nq\r\n:1\r\n"
    );
    assert!(pushes(&mut a).is_empty());
}
