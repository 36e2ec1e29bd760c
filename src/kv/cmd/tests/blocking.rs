use super::{NIL_ARRAY, T, WT, arr, bulk, int};
use crate::kv::shared::Msg;

/// The replies the outbox holds, as (worker, client, text).
fn replies(t: &mut T) -> Vec<(usize, u64, String)> {
    t.outbox()
        .into_iter()
        .filter_map(|(w, m)| match m {
            Msg::Unblock(id, b) => Some((w, id, String::from_utf8_lossy(&b).into_owned())),
            _ => None,
        })
        .collect()
}

#[test]
fn data_present_answers_at_once() {
    let mut t = T::new();
    t.r(&["RPUSH", "l", "a", "b"]);
    assert_eq!(t.r(&["BLPOP", "nokey", "l", "0"]), arr(&["l", "a"]));
    assert_eq!(t.r(&["BRPOP", "l", "0"]), arr(&["l", "b"]));
    t.r(&["ZADD", "z", "1", "m", "2", "n"]);
    assert_eq!(t.r(&["BZPOPMAX", "z", "0"]), arr(&["z", "n", "2"]));
    assert_eq!(
        t.r(&["BZMPOP", "0", "1", "z", "MIN"]),
        format!("*2\r\n{}*1\r\n{}", bulk("z"), arr(&["m", "1"]))
    );
    t.r(&["SET", "s", "x"]);
    assert_eq!(t.r(&["BLPOP", "nokey", "s", "0"]), WT);
    assert_eq!(t.r(&["BLPOP", "l", "-1"]), "-ERR timeout is negative\r\n");
    assert_eq!(
        t.r(&["BLPOP", "l", "x"]),
        "-ERR timeout is not a float or out of range\r\n"
    );
    assert!(t.sess.blocked.is_none());
}

#[test]
fn inside_multi_they_do_not_block() {
    let mut t = T::new();
    t.r(&["MULTI"]);
    t.r(&["BLPOP", "l", "0"]);
    t.r(&["BLMOVE", "l", "d", "LEFT", "LEFT", "0"]);
    t.r(&["BZPOPMIN", "z", "0"]);
    assert_eq!(
        t.r(&["EXEC"]),
        format!("*3\r\n{NIL_ARRAY}$-1\r\n{NIL_ARRAY}")
    );
    assert!(t.sess.blocked.is_none());
    assert_eq!(
        t.sh.store
            .round(&mut t.sh.store.batch())
            .space()
            .blocking
            .len(),
        0
    );
}

#[test]
fn waiters_are_served_first_come_first_served_on_their_own_loop() {
    let mut a = T::new();
    let mut b = T::client_on(&a.sh, 1);
    let mut pusher = T::client_on(&a.sh, 0);
    assert_eq!(a.r(&["BRPOP", "q", "other", "0"]), "");
    assert!(a.sess.blocked.is_some());
    assert_eq!(b.r(&["BLPOP", "q", "0.5"]), "");
    assert!(b.sess.blocked.is_some_and(|p| p.deadline.is_some()));
    assert!(pusher.r(&["INFO", "clients"]).contains("blocked_clients:2"));
    let id = a.sess.id.to_string();
    assert!(
        pusher
            .r(&["CLIENT", "LIST", "ID", &id])
            .contains(" flags=b ")
    );
    // One element: the first blocked gets it, on its loop (0).
    assert_eq!(pusher.r(&["LPUSH", "q", "x"]), int(1));
    assert_eq!(replies(&mut pusher), vec![(0, a.sess.id, arr(&["q", "x"]))]);
    // The pop happened: nothing is left for the next.
    assert_eq!(pusher.r(&["EXISTS", "q"]), int(0));
    // Two more: b (loop 1) gets one, the other stays.
    assert_eq!(pusher.r(&["RPUSH", "q", "y", "z"]), int(2));
    assert_eq!(replies(&mut pusher), vec![(1, b.sess.id, arr(&["q", "y"]))]);
    assert_eq!(pusher.r(&["LRANGE", "q", "0", "-1"]), arr(&["z"]));
}

#[test]
fn a_transaction_serves_only_what_is_left_at_exec_end() {
    let mut a = T::new();
    let mut p = T::client(&a.sh);
    a.r(&["BLPOP", "q", "0"]);
    p.r(&["MULTI"]);
    p.r(&["LPUSH", "q", "x"]);
    p.r(&["LPOP", "q"]);
    p.r(&["EXEC"]);
    assert!(replies(&mut p).is_empty());
    // A push then DEL then SET of another type: still nothing to serve.
    p.r(&["MULTI"]);
    p.r(&["LPUSH", "q", "x"]);
    p.r(&["DEL", "q"]);
    p.r(&["SET", "q", "str"]);
    p.r(&["EXEC"]);
    assert!(replies(&mut p).is_empty());
    p.r(&["DEL", "q"]);
    p.r(&["RPUSH", "q", "ok"]);
    assert_eq!(replies(&mut p), vec![(0, a.sess.id, arr(&["q", "ok"]))]);
}

#[test]
fn blmove_chains_and_wrong_destination() {
    let mut a = T::new();
    let mut b = T::client(&a.sh);
    let mut p = T::client(&a.sh);
    // a moves src -> mid, b waits on mid: one push feeds both.
    a.r(&["BLMOVE", "src", "mid", "RIGHT", "LEFT", "0"]);
    b.r(&["BRPOPLPUSH", "mid", "dst", "0"]);
    p.r(&["RPUSH", "src", "v"]);
    let got = replies(&mut p);
    assert_eq!(
        got,
        vec![(0, a.sess.id, bulk("v")), (0, b.sess.id, bulk("v")),]
    );
    assert_eq!(p.r(&["LRANGE", "dst", "0", "-1"]), arr(&["v"]));
    assert_eq!(p.r(&["EXISTS", "src", "mid"]), int(0));
    // A destination of the wrong type: WRONGTYPE, and nothing popped.
    p.r(&["SET", "bad", "x"]);
    a.r(&["BLMOVE", "src", "bad", "LEFT", "LEFT", "0"]);
    p.r(&["RPUSH", "src", "w"]);
    assert_eq!(replies(&mut p), vec![(0, a.sess.id, WT.to_string())]);
    assert_eq!(p.r(&["LRANGE", "src", "0", "-1"]), arr(&["w"]));
}

#[test]
fn sorted_set_waiters_and_mixed_types_on_one_key() {
    let mut a = T::new();
    let mut b = T::client(&a.sh);
    let mut p = T::client(&a.sh);
    a.resp3();
    a.r(&["BZPOPMIN", "k", "0"]);
    b.r(&["BLPOP", "k", "0"]);
    p.r(&["RPUSH", "k", "x"]);
    // The list feeds b, skipping a (who waits for a sorted set).
    assert_eq!(replies(&mut p), vec![(0, b.sess.id, arr(&["k", "x"]))]);
    p.r(&["ZADD", "k", "1.5", "m"]);
    assert_eq!(
        replies(&mut p),
        vec![(
            0,
            a.sess.id,
            format!("*3\r\n{}{},1.5\r\n", bulk("k"), bulk("m"))
        )]
    );
}

#[test]
fn blmpop_and_bzmpop_counts() {
    let mut a = T::new();
    let mut b = T::client(&a.sh);
    let mut p = T::client(&a.sh);
    a.r(&["BLMPOP", "0", "2", "x", "y", "RIGHT", "COUNT", "2"]);
    b.r(&["BZMPOP", "0", "1", "z", "MAX", "COUNT", "5"]);
    p.r(&["RPUSH", "y", "1", "2", "3"]);
    p.r(&["ZADD", "z", "1", "m", "2", "n"]);
    assert_eq!(
        replies(&mut p),
        vec![
            (
                0,
                a.sess.id,
                format!("*2\r\n{}{}", bulk("y"), arr(&["3", "2"]))
            ),
            (
                0,
                b.sess.id,
                format!(
                    "*2\r\n{}*2\r\n{}{}",
                    bulk("z"),
                    arr(&["n", "2"]),
                    arr(&["m", "1"])
                )
            ),
        ]
    );
}

#[test]
fn swapdb_and_rename_wake_waiters() {
    let mut a = T::new();
    let mut p = T::client(&a.sh);
    a.r(&["BLPOP", "k", "0"]);
    p.r(&["SELECT", "1"]);
    p.r(&["RPUSH", "k", "from1"]);
    p.r(&["SWAPDB", "0", "1"]);
    assert_eq!(replies(&mut p), vec![(0, a.sess.id, arr(&["k", "from1"]))]);
    a.sess.blocked = None;
    a.r(&["BLPOP", "k2", "0"]);
    p.r(&["SELECT", "0"]);
    p.r(&["RPUSH", "tmp", "moved"]);
    p.r(&["RENAME", "tmp", "k2"]);
    assert_eq!(replies(&mut p), vec![(0, a.sess.id, arr(&["k2", "moved"]))]);
}

#[test]
fn client_unblock() {
    let mut a = T::new();
    let mut p = T::client(&a.sh);
    a.r(&["BLPOP", "k", "0"]);
    let id = a.sess.id.to_string();
    assert_eq!(p.r(&["CLIENT", "UNBLOCK", &id, "ERROR"]), int(1));
    assert_eq!(
        replies(&mut p),
        vec![(
            0,
            a.sess.id,
            "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n".into()
        )]
    );
    // An error release is a failed call of the blocked command.
    let stats = p.r(&["INFO", "commandstats"]);
    let line = "cmdstat_blpop:calls=1,usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=1";
    assert!(stats.contains(line), "{stats}");
    assert!(
        p.r(&["INFO", "errorstats"])
            .contains("errorstat_UNBLOCKED:count=1")
    );
    assert_eq!(p.r(&["CLIENT", "UNBLOCK", &id]), int(0));
    assert_eq!(
        p.r(&["CLIENT", "UNBLOCK", &id, "NOW"]),
        "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n"
    );
    a.sess.blocked = None;
    a.r(&["BZPOPMIN", "k", "0"]);
    assert_eq!(p.r(&["CLIENT", "UNBLOCK", &id, "TIMEOUT"]), int(1));
    assert_eq!(replies(&mut p), vec![(0, a.sess.id, NIL_ARRAY.to_string())]);
}
