//! ACL users of `netkit kv serve`: rules, passwords, enforcement of
//! commands, keys and channels (top level, MULTI/EXEC, Lua), RESET, HELLO
//! AUTH, ACL LOG, and the replies compared with a real redis-server 7.0.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::have;
use common::kv::{Kv, Resp, bulk, ok, quiet};
use netkit::kv::protocol::Reply;
use netkit::kv::shared::{Config, Settings};
use netkit::kv::store::Store;

fn err(s: &str) -> Reply {
    Reply::Error(s.into())
}

fn text(r: &Reply) -> String {
    match r {
        Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
        Reply::Status(s) | Reply::Error(s) => s.clone(),
        other => panic!("not text: {other:?}"),
    }
}

/// The same steps on two connections (0: admin, 1: the user), against
/// whichever server `call` talks to.
fn scenario(call: &mut dyn FnMut(usize, &[&str]) -> Reply) -> Vec<(String, Reply)> {
    let steps: &[(usize, &[&str])] = &[
        (
            0,
            &[
                "ACL",
                "SETUSER",
                "lim",
                "on",
                ">pw",
                "-@all",
                "+get",
                "+set",
                "+multi",
                "+exec",
                "+eval",
                "+publish",
                "+subscribe",
                "+acl|whoami",
                "~a*",
                "&news.*",
            ],
        ),
        (0, &["ACL", "GETUSER", "lim"]),
        (0, &["ACL", "LIST"]),
        (0, &["ACL", "USERS"]),
        (1, &["AUTH", "lim", "bad"]),
        (1, &["AUTH", "nosuch", "pw"]),
        (1, &["AUTH", "pw"]),
        (1, &["AUTH", "lim", "pw"]),
        (1, &["ACL", "WHOAMI"]),
        (1, &["GET", "a1"]),
        (1, &["GET", "b1"]),
        (1, &["SET", "a1", "v"]),
        (1, &["DEL", "a1"]),
        (1, &["ACL", "LIST"]),
        (1, &["CLIENT", "ID"]),
        (1, &["PUBLISH", "news.x", "m"]),
        (1, &["PUBLISH", "other", "m"]),
        (1, &["SPUBLISH", "news.x", "m"]),
        (1, &["SPUBLISH", "other", "m"]),
        (1, &["MULTI"]),
        (1, &["SET", "a2", "v"]),
        (1, &["DEL", "a2"]),
        (1, &["GET", "b2"]),
        (1, &["EXEC"]),
        (1, &["MULTI"]),
        (1, &["SET", "a3", "v"]),
        (1, &["GET", "a3"]),
        (1, &["EXEC"]),
        (1, &["EVAL", "return redis.call('get', KEYS[1])", "1", "a1"]),
        (1, &["EVAL", "return redis.call('get', KEYS[1])", "1", "b1"]),
        (1, &["EVAL", "return redis.call('get', 'b1')", "0"]),
        (1, &["EVAL", "return redis.call('del', 'a1')", "0"]),
        (1, &["EVAL", "return redis.pcall('del', 'a1')", "0"]),
        (1, &["EVAL", "return redis.call('publish', 'zz', 'm')", "0"]),
        // The rules change between MULTI and EXEC.
        (1, &["MULTI"]),
        (1, &["SET", "a4", "v"]),
        (0, &["ACL", "SETUSER", "lim", "-set"]),
        (1, &["EXEC"]),
        (0, &["ACL", "SETUSER", "lim", "+set"]),
        (0, &["ACL", "DRYRUN", "lim", "set", "a1", "x"]),
        (0, &["ACL", "DRYRUN", "lim", "set", "b1", "x"]),
        (0, &["ACL", "DRYRUN", "lim", "del", "a1"]),
        (0, &["ACL", "DRYRUN", "lim", "publish", "c", "x"]),
        (0, &["ACL", "DRYRUN", "nosuch", "get", "x"]),
        (0, &["ACL", "DRYRUN", "lim", "nosuch"]),
        (0, &["ACL", "DRYRUN", "lim", "get"]),
        (1, &["RESET"]),
        (1, &["ACL", "WHOAMI"]),
        (1, &["HELLO", "2", "AUTH", "lim", "bad"]),
        (1, &["AUTH", "lim", "pw"]),
        (1, &["ACL", "WHOAMI"]),
        (1, &["SUBSCRIBE", "news.a", "other"]),
        (1, &["SUBSCRIBE", "news.a"]),
        // Rules refused, and what is left unchanged then.
        (0, &["ACL", "SETUSER", "bad", "on", "bogus"]),
        (0, &["ACL", "SETUSER", "bad", "+nosuch"]),
        (0, &["ACL", "SETUSER", "bad", "+@nosuch"]),
        (0, &["ACL", "SETUSER", "bad", "~*", "~x"]),
        (0, &["ACL", "SETUSER", "bad", "&*", "&x"]),
        (0, &["ACL", "SETUSER", "bad", "<nope"]),
        (0, &["ACL", "SETUSER", "bad", "#abc"]),
        (0, &["ACL", "SETUSER", "bad", "+config|get|x"]),
        (0, &["ACL", "SETUSER", "bad user"]),
        (0, &["ACL", "GETUSER", "bad"]),
        (
            0,
            &["ACL", "SETUSER", "u6", "on", ">p1", ">p2", "<p1", "nopass"],
        ),
        (0, &["ACL", "GETUSER", "u6"]),
        (0, &["ACL", "SETUSER", "u6", "reset"]),
        (0, &["ACL", "GETUSER", "u6"]),
        (
            0,
            &[
                "ACL",
                "SETUSER",
                "u7",
                "-@all",
                "+config|get",
                "+client",
                "-client|kill",
                "~k1",
                "~k2",
            ],
        ),
        (0, &["ACL", "GETUSER", "u7"]),
        (
            0,
            &["ACL", "SETUSER", "u8", "+@all", "-@transaction", "+multi"],
        ),
        (0, &["ACL", "GETUSER", "u8"]),
        (0, &["ACL", "CAT", "nosuch"]),
        (0, &["ACL", "GENPASS", "0"]),
        (0, &["ACL", "GENPASS", "abc"]),
        (0, &["ACL", "LOG", "1", "2"]),
        (0, &["ACL", "DELUSER", "default"]),
        (0, &["ACL", "DELUSER", "u6", "u7", "u8", "nosuch"]),
        (0, &["ACL", "LOAD"]),
        (0, &["ACL", "HELP"]),
        (0, &["CONFIG", "SET", "requirepass", "sekret"]),
        (0, &["ACL", "GETUSER", "default"]),
        (0, &["CONFIG", "SET", "requirepass", ""]),
        (0, &["ACL", "GETUSER", "default"]),
    ];
    let mut out = Vec::new();
    for (c, args) in steps {
        out.push((format!("{c}: {args:?}"), call(*c, args)));
    }
    out
}

/// Redis writes single-command rules in its hash table's order: compare
/// the rules after `+@all`/`-@all` as a sorted list.
fn normalized(r: &Reply) -> Reply {
    match r {
        Reply::Bulk(Some(b)) => {
            let s = String::from_utf8_lossy(b);
            let mut words: Vec<&str> = s.split(' ').collect();
            if let Some(at) = words.iter().position(|w| *w == "+@all" || *w == "-@all") {
                words[at + 1..].sort_unstable();
                return Reply::Bulk(Some(words.join(" ").into_bytes()));
            }
            r.clone()
        }
        Reply::Array(Some(v)) => Reply::Array(Some(v.iter().map(normalized).collect())),
        other => other.clone(),
    }
}

#[test]
fn replies_match_redis_server() {
    let Some(redis) = common::redis::Redis::start() else {
        eprintln!(
            "SKIP replies_match_redis_server: redis-server is not installed (.ci/run installs it)"
        );
        return;
    };
    let mut rc = [redis.conn(), redis.conn()];
    let want = scenario(&mut |i, a| rc[i].call(a));
    let kv = Kv::memory();
    let mut nc = [kv.conn(), kv.conn()];
    let got = scenario(&mut |i, a| nc[i].call(a));
    for ((step, w), (_, g)) in want.iter().zip(&got) {
        assert_eq!(normalized(w), normalized(g), "step {step}");
    }
}

fn categories(info: &Reply) -> BTreeMap<String, Reply> {
    let mut m = BTreeMap::new();
    let Reply::Array(Some(all)) = info else {
        panic!("COMMAND: {info:?}")
    };
    for c in all {
        let Reply::Array(Some(f)) = c else { continue };
        m.insert(text(&f[0]), f[6].clone());
        if let Reply::Array(Some(subs)) = &f[9] {
            for s in subs {
                if let Reply::Array(Some(sf)) = s {
                    m.insert(text(&sf[0]), sf[6].clone());
                }
            }
        }
    }
    m
}

#[test]
fn command_categories_are_redis_7s() {
    let Some(redis) = common::redis::Redis::start() else {
        eprintln!(
            "SKIP command_categories_are_redis_7s: redis-server is not installed (.ci/run installs it)"
        );
        return;
    };
    let want = categories(&redis.conn().call(&["COMMAND"]));
    let kv = Kv::memory();
    let got = categories(&kv.conn().call(&["COMMAND"]));
    let mut compared = 0;
    for (name, cats) in &got {
        // Redis 7.0 lacks a few newer subcommands netkit has (CLIENT SETINFO...).
        if let Some(w) = want.get(name) {
            assert_eq!(w, cats, "categories of {name}");
            compared += 1;
        }
    }
    assert!(compared > 250, "only {compared} commands compared");
}

#[test]
fn reset_returns_to_the_default_user() {
    // Redis's unit/other "RESET clears authenticated state".
    let kv = Kv::memory();
    let mut c = kv.conn();
    assert_eq!(
        c.call(&["ACL", "SETUSER", "user1", "on", ">secret", "+@all"]),
        ok()
    );
    assert_eq!(c.call(&["AUTH", "user1", "secret"]), ok());
    assert_eq!(c.call(&["ACL", "WHOAMI"]), bulk("user1"));
    let info = text(&c.call(&["CLIENT", "INFO"]));
    assert!(info.contains(" user=user1 "), "{info}");
    assert_eq!(c.call(&["RESET"]), Reply::Status("RESET".into()));
    assert_eq!(c.call(&["ACL", "WHOAMI"]), bulk("default"));
    let list = text(&c.call(&["CLIENT", "LIST"]));
    assert!(list.contains(" user=default "), "{list}");
}

#[test]
fn requirepass_is_the_default_users_password() {
    let cfg = Config {
        settings: Settings {
            requirepass: Some(b"s3cret".to_vec()),
            ..Settings::default()
        },
        ..quiet()
    };
    let kv = Kv::start(std::sync::Arc::new(Store::new(16)), cfg);
    let mut c = kv.conn();
    assert_eq!(
        c.call(&["GET", "x"]),
        err("NOAUTH Authentication required.")
    );
    assert_eq!(
        c.call(&["AUTH", "wrong"]),
        err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(c.call(&["AUTH", "default", "s3cret"]), ok());
    assert_eq!(c.call(&["GET", "x"]), Reply::Bulk(None));
    // A user with its own password; RESET goes back to unauthenticated.
    assert_eq!(
        c.call(&[
            "ACL", "SETUSER", "app", "on", ">apppw", "~app:*", "+@read", "+@write"
        ]),
        ok()
    );
    assert_eq!(c.call(&["RESET"]), Reply::Status("RESET".into()));
    assert_eq!(
        c.call(&["ACL", "WHOAMI"]),
        err("NOAUTH Authentication required.")
    );
    let hello = c.call(&["HELLO", "3", "AUTH", "app", "apppw"]);
    assert!(matches!(hello, Reply::Map(_)), "{hello:?}");
    assert_eq!(c.call(&["SET", "app:1", "v"]), ok());
    assert_eq!(
        c.call(&["SET", "other", "v"]),
        err("NOPERM this user has no permissions to access one of the keys used as arguments")
    );
    // The default user's password follows CONFIG SET, as in Redis.
    assert_eq!(c.call(&["AUTH", "s3cret"]), ok());
    assert_eq!(c.call(&["CONFIG", "SET", "requirepass", "new"]), ok());
    let mut d = kv.conn();
    assert_eq!(
        d.call(&["AUTH", "s3cret"]),
        err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(d.call(&["AUTH", "new"]), ok());
    assert_eq!(c.call(&["CONFIG", "SET", "requirepass", ""]), ok());
    let mut e = kv.conn();
    assert_eq!(e.call(&["ACL", "WHOAMI"]), bulk("default"));
}

/// True when the server closed `c` (before or instead of answering PING).
fn closed(c: &mut Resp) -> bool {
    use std::io::{Read, Write};
    if c.s.write_all(b"PING\r\n").is_err() {
        return true;
    }
    let mut b = [0u8; 64];
    match c.s.read(&mut b) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

#[test]
fn deluser_and_narrowed_channels_close_clients() {
    let kv = Kv::memory();
    let mut admin = kv.conn();
    assert_eq!(
        admin.call(&["ACL", "SETUSER", "u", "on", "nopass", "+@all", "~*", "&*"]),
        ok()
    );
    let mut a = kv.conn();
    assert_eq!(a.call(&["AUTH", "u", "x"]), ok());
    let mut other = kv.conn();
    assert_eq!(admin.call(&["ACL", "DELUSER", "u"]), Reply::Int(1));
    assert!(closed(&mut a), "a client of a deleted user stays connected");
    assert_eq!(other.call(&["PING"]), Reply::Status("PONG".into()));

    assert_eq!(
        admin.call(&["ACL", "SETUSER", "s", "on", "nopass", "+@all", "&news.*"]),
        ok()
    );
    let mut sub = kv.conn();
    assert_eq!(sub.call(&["AUTH", "s", "x"]), ok());
    let r = sub.call(&["SUBSCRIBE", "news.1"]);
    assert!(matches!(r, Reply::Array(Some(_)) | Reply::Push(_)), "{r:?}");
    let mut idle = kv.conn();
    assert_eq!(idle.call(&["AUTH", "s", "x"]), ok());
    // Still allowed: nobody is closed.
    assert_eq!(admin.call(&["ACL", "SETUSER", "s", "&other"]), ok());
    assert_eq!(admin.call(&["PUBLISH", "news.1", "m"]), Reply::Int(1));
    let msg = sub.reply();
    assert!(
        matches!(&msg, Reply::Array(Some(v)) | Reply::Push(v) if v[0] == bulk("message")),
        "{msg:?}"
    );
    // No longer allowed: the subscriber is closed, the idle client stays.
    assert_eq!(
        admin.call(&["ACL", "SETUSER", "s", "resetchannels", "&other"]),
        ok()
    );
    assert!(
        closed(&mut sub),
        "a subscriber to a channel it may no longer use stays"
    );
    assert_eq!(idle.call(&["PING"]), Reply::Status("PONG".into()));
}

#[test]
fn acl_log_records_refusals() {
    let kv = Kv::memory();
    let mut admin = kv.conn();
    assert_eq!(
        admin.call(&["ACL", "SETUSER", "r", "on", ">pw", "+get", "~k*"]),
        ok()
    );
    let mut c = kv.conn();
    assert_eq!(
        c.call(&["AUTH", "r", "nope"]),
        err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(c.call(&["AUTH", "r", "pw"]), ok());
    for _ in 0..2 {
        c.call(&["GET", "x"]);
    }
    c.call(&["SET", "k", "v"]);
    let Reply::Array(Some(log)) = admin.call(&["ACL", "LOG"]) else {
        panic!("ACL LOG")
    };
    let fields: Vec<BTreeMap<String, String>> = log
        .iter()
        .map(|e| {
            let Reply::Array(Some(kv)) = e else {
                panic!("{e:?}")
            };
            kv.chunks(2)
                .map(|p| {
                    let v = match &p[1] {
                        Reply::Int(n) => n.to_string(),
                        Reply::Double(d) => d.clone(),
                        other => text(other),
                    };
                    (text(&p[0]), v)
                })
                .collect()
        })
        .collect();
    let brief: Vec<(&str, &str, &str, &str)> = fields
        .iter()
        .map(|m| {
            (
                m["reason"].as_str(),
                m["object"].as_str(),
                m["count"].as_str(),
                m["username"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        brief,
        [
            ("command", "set", "1", "r"),
            ("key", "x", "2", "r"),
            ("auth", "AUTH", "1", "r")
        ]
    );
    assert!(
        fields[0]["client-info"].contains("user=r"),
        "{:?}",
        fields[0]
    );
    assert_eq!(fields[0]["context"], "toplevel");
    assert_eq!(admin.call(&["ACL", "LOG", "RESET"]), ok());
    assert_eq!(admin.call(&["ACL", "LOG"]), Reply::Array(Some(vec![])));
}

#[test]
fn rules_netkit_does_not_enforce_are_refused() {
    let kv = Kv::memory();
    let mut c = kv.conn();
    for rule in [
        "%R~k*",
        "%W~k*",
        "(~k* +get)",
        "clearselectors",
        "+select|0",
        "skip-sanitize-payload",
    ] {
        let r = c.call(&["ACL", "SETUSER", "x", "on", rule]);
        let Reply::Error(e) = &r else {
            panic!("{rule} accepted: {r:?}")
        };
        assert!(
            e.starts_with(&format!("ERR Error in ACL SETUSER modifier '{rule}': ")),
            "{e}"
        );
    }
    // None of them created the user.
    assert_eq!(c.call(&["ACL", "GETUSER", "x"]), Reply::Bulk(None));
    let pass = text(&c.call(&["ACL", "GENPASS"]));
    assert_eq!(pass.len(), 64);
    assert!(pass.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(text(&c.call(&["ACL", "GENPASS", "5"])).len(), 2);
}

#[test]
fn redis_cli_authenticates_as_a_user() {
    if !have("redis-cli") {
        eprintln!("SKIP redis_cli_authenticates_as_a_user: redis-cli is not installed");
        return;
    }
    let kv = Kv::memory();
    let mut c = kv.conn();
    assert_eq!(
        c.call(&[
            "ACL",
            "SETUSER",
            "cli",
            "on",
            ">clipw",
            "+@all",
            "-flushall",
            "~*",
            "&*"
        ]),
        ok()
    );
    let port = kv.addr.port().to_string();
    let cli = |args: &[&str]| {
        let out = Command::new("redis-cli")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "--user",
                "cli",
                "--pass",
                "clipw",
                "--no-auth-warning",
            ])
            .args(args)
            .output()
            .expect("redis-cli");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(cli(&["ACL", "WHOAMI"]), "cli");
    assert_eq!(cli(&["SET", "k", "v"]), "OK");
    assert!(
        cli(&["FLUSHALL"])
            .contains("NOPERM this user has no permissions to run the 'flushall' command")
    );
    let out = Command::new("redis-cli")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "--user",
            "cli",
            "--pass",
            "bad",
            "--no-auth-warning",
            "PING",
        ])
        .output()
        .expect("redis-cli");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("WRONGPASS"), "{all}");
}

#[test]
fn scripts_ask_acl_check_cmd_about_the_user_running_them() {
    // Redis's unit/scripting "Script ACL check".
    let kv = Kv::memory();
    let mut c = kv.conn();
    assert_eq!(
        c.call(&[
            "ACL",
            "SETUSER",
            "bob",
            "on",
            ">123",
            "+@scripting",
            "+set",
            "~x*"
        ]),
        ok()
    );
    assert_eq!(c.call(&["AUTH", "bob", "123"]), ok());
    let check = |c: &mut Resp, body: &str, keys: &[&str]| {
        let n = keys.len().to_string();
        let mut args = vec!["EVAL", body, n.as_str()];
        args.extend_from_slice(keys);
        c.call(&args)
    };
    assert_eq!(
        check(&mut c, "return redis.acl_check_cmd('set','xx',1)", &["xx"]),
        Reply::Int(1)
    );
    // A command bob lacks, a key he may not touch: false, nothing logged.
    assert_eq!(
        check(
            &mut c,
            "return redis.acl_check_cmd('hset','xx','f',1)",
            &["xx"]
        ),
        Reply::Bulk(None)
    );
    assert_eq!(
        check(&mut c, "return redis.acl_check_cmd('set','yy',1)", &[]),
        Reply::Bulk(None)
    );
    let Reply::Error(e) = check(
        &mut c,
        "return redis.acl_check_cmd('invalid-cmd','arg')",
        &[],
    ) else {
        panic!("no error for an unknown command");
    };
    assert!(
        e.starts_with("ERR Invalid command passed to redis.acl_check_cmd()"),
        "{e}"
    );
    c.call(&["RESET"]);
    assert_eq!(c.call(&["ACL", "LOG"]), Reply::Array(Some(vec![])));
}
