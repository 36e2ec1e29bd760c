use super::{NIL, OK, T, bulk, int};
use crate::kv::shared::{Config, Settings};
use crate::kv::store::Store;

#[test]
fn ping_echo_select_swapdb() {
    let mut t = T::new();
    assert_eq!(t.r(&["PING"]), "+PONG\r\n");
    assert_eq!(t.r(&["PING", "hi"]), bulk("hi"));
    assert_eq!(
        t.r(&["PING", "a", "b"]),
        "-ERR wrong number of arguments for 'ping' command\r\n"
    );
    assert_eq!(t.r(&["ECHO", "x y"]), bulk("x y"));
    assert_eq!(t.r(&["SELECT", "16"]), "-ERR DB index is out of range\r\n");
    assert_eq!(
        t.r(&["SELECT", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    t.r(&["SET", "k", "db0"]);
    assert_eq!(t.r(&["SELECT", "15"]), OK);
    assert_eq!(t.r(&["GET", "k"]), NIL);
    assert_eq!(t.r(&["SWAPDB", "0", "15"]), OK);
    assert_eq!(t.r(&["GET", "k"]), bulk("db0"));
    assert_eq!(
        t.r(&["SWAPDB", "0", "16"]),
        "-ERR DB index is out of range\r\n"
    );
}

#[test]
fn hello_switches_protocols_and_reset_goes_back() {
    let mut t = T::new();
    let r = t.r(&["HELLO", "3", "SETNAME", "me"]);
    assert!(
        r.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"),
        "{r}"
    );
    assert!(r.contains("$5\r\nproto\r\n:3\r\n"));
    assert_eq!(t.r(&["GET", "nope"]), "_\r\n");
    assert_eq!(t.r(&["CLIENT", "GETNAME"]), bulk("me"));
    assert_eq!(
        t.r(&["HELLO", "4"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(t.r(&["RESET"]), "+RESET\r\n");
    assert_eq!(t.r(&["GET", "nope"]), NIL);
    assert_eq!(t.r(&["CLIENT", "GETNAME"]), NIL);
    assert!(t.r(&["HELLO"]).starts_with("*14\r\n"));
}

#[test]
fn auth_with_requirepass() {
    let cfg = Config {
        settings: Settings {
            requirepass: Some(b"pw".to_vec()),
            ..Settings::default()
        },
        ..Config::default()
    };
    let mut t = T::with(cfg, Store::new(16));
    assert_eq!(t.r(&["GET", "k"]), "-NOAUTH Authentication required.\r\n");
    assert!(
        t.r(&["HELLO", "3"])
            .starts_with("-NOAUTH HELLO must be called")
    );
    assert_eq!(
        t.r(&["AUTH", "bad"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(t.r(&["AUTH", "default", "pw"]), OK);
    assert_eq!(t.r(&["GET", "k"]), NIL);
    assert_eq!(t.r(&["RESET"]), "+RESET\r\n");
    assert_eq!(t.r(&["PING"]), "-NOAUTH Authentication required.\r\n");
    assert!(
        t.r(&["HELLO", "2", "AUTH", "default", "pw"])
            .starts_with("*14")
    );
    let mut open = T::new();
    assert!(
        open.r(&["AUTH", "x"])
            .starts_with("-ERR AUTH <password> called without any password")
    );
}

#[test]
fn client_subcommands() {
    let mut t = T::new();
    let mut other = T::client(&t.sh);
    assert_eq!(t.r(&["CLIENT", "ID"]), int(t.sess.id as i64));
    assert_eq!(
        t.r(&["CLIENT", "SETNAME", "a b"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(t.r(&["CLIENT", "SETNAME", "worker"]), OK);
    let list = t.r(&["CLIENT", "LIST"]);
    assert!(list.contains("name=worker"), "{list}");
    assert_eq!(list.matches("id=").count(), 2);
    assert!(
        t.r(&["CLIENT", "INFO"])
            .contains(&format!("id={}", t.sess.id))
    );
    assert_eq!(t.r(&["CLIENT", "NO-EVICT", "on"]), OK);
    assert_eq!(
        t.r(&["CLIENT", "NO-EVICT", "maybe"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        t.r(&["CLIENT", "KILL", "ID", &other.sess.id.to_string()]),
        int(1)
    );
    assert_eq!(
        t.r(&["CLIENT", "KILL", "1.2.3.4:5"]),
        "-ERR No such client\r\n"
    );
    assert_eq!(
        t.r(&["CLIENT", "BOGUS"]),
        "-ERR unknown subcommand 'BOGUS'. Try CLIENT HELP.\r\n"
    );
    assert_eq!(
        t.r(&["CLIENT"]),
        "-ERR wrong number of arguments for 'client' command\r\n"
    );
    assert_eq!(
        t.r(&["CLIENT", "SETNAME"]),
        "-ERR wrong number of arguments for 'client|setname' command\r\n"
    );
    let _ = other.r(&["PING"]);
}
