use super::{NIL, OK, T, bulk, int};

#[test]
fn multi_exec_discard() {
    let mut t = T::new();
    assert_eq!(t.r(&["MULTI"]), OK);
    assert_eq!(t.r(&["INCRBY", "n", "5"]), "+QUEUED\r\n");
    assert_eq!(t.r(&["DECRBY", "n", "2"]), "+QUEUED\r\n");
    assert_eq!(t.r(&["MULTI"]), "-ERR MULTI calls can not be nested\r\n");
    assert_eq!(t.r(&["EXEC"]), "*2\r\n:5\r\n:3\r\n");
    assert_eq!(t.r(&["EXEC"]), "-ERR EXEC without MULTI\r\n");
    assert_eq!(t.r(&["DISCARD"]), "-ERR DISCARD without MULTI\r\n");
    t.r(&["MULTI"]);
    t.r(&["SET", "x", "1"]);
    assert_eq!(t.r(&["DISCARD"]), OK);
    assert_eq!(t.r(&["GET", "x"]), NIL);
}

#[test]
fn a_queueing_error_aborts_and_applies_nothing() {
    let mut t = T::new();
    t.r(&["MULTI"]);
    t.r(&["SET", "x", "1"]);
    assert!(t.r(&["NOSUCH"]).starts_with("-ERR unknown command"));
    assert_eq!(
        t.r(&["GET"]),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(
        t.r(&["EXEC"]),
        "-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
    assert_eq!(t.r(&["GET", "x"]), NIL);
    // A runtime error inside EXEC is just that command's reply.
    t.r(&["SET", "s", "abc"]);
    t.r(&["MULTI"]);
    t.r(&["INCR", "s"]);
    t.r(&["SET", "y", "2"]);
    assert_eq!(
        t.r(&["EXEC"]),
        "*2\r\n-ERR value is not an integer or out of range\r\n+OK\r\n"
    );
}

#[test]
fn watch_sees_changes_by_anyone_and_expiry() {
    let mut a = T::new();
    let mut b = T::client(&a.sh);
    a.r(&["SET", "k", "1"]);
    assert_eq!(a.r(&["WATCH", "k"]), OK);
    b.r(&["SET", "k", "2"]);
    a.r(&["MULTI"]);
    a.r(&["SET", "k", "3"]);
    assert_eq!(a.r(&["EXEC"]), "*-1\r\n");
    assert_eq!(a.r(&["GET", "k"]), bulk("2"));
    // Unchanged: runs. After EXEC the key is no longer watched.
    a.r(&["WATCH", "k"]);
    a.r(&["MULTI"]);
    a.r(&["INCR", "k"]);
    assert_eq!(a.r(&["EXEC"]), "*1\r\n:3\r\n");
    b.r(&["SET", "k", "9"]);
    a.r(&["MULTI"]);
    a.r(&["PING"]);
    assert_eq!(a.r(&["EXEC"]), "*1\r\n+PONG\r\n");
    // Expiry counts as a change.
    a.r(&["SET", "e", "1", "PX", "5"]);
    a.r(&["WATCH", "e"]);
    std::thread::sleep(std::time::Duration::from_millis(10));
    a.r(&["MULTI"]);
    a.r(&["PING"]);
    assert_eq!(a.r(&["EXEC"]), "*-1\r\n");
    // WATCH inside MULTI; UNWATCH; FLUSHALL touches watched keys.
    a.r(&["MULTI"]);
    assert_eq!(
        a.r(&["WATCH", "k"]),
        "-ERR WATCH inside MULTI is not allowed\r\n"
    );
    a.r(&["DISCARD"]);
    a.r(&["WATCH", "k"]);
    assert_eq!(a.r(&["UNWATCH"]), OK);
    b.r(&["SET", "k", "10"]);
    a.r(&["MULTI"]);
    a.r(&["PING"]);
    assert_eq!(a.r(&["EXEC"]), "*1\r\n+PONG\r\n");
    a.r(&["WATCH", "k"]);
    b.r(&["FLUSHALL"]);
    a.r(&["MULTI"]);
    a.r(&["PING"]);
    assert_eq!(a.r(&["EXEC"]), "*-1\r\n");
    assert_eq!(a.r(&["DBSIZE"]), int(0));
}
