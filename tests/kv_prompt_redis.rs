//! The `netkit kv` prompt in a real terminal (tmux) against a real
//! redis-server on a Unix socket (`-s`): subscribed mode with messages
//! arriving while a line is typed, MONITOR, Ctrl-C on a blocking command,
//! a server restart with a gap in between, hints from Redis's own COMMAND
//! DOCS; and a one-shot SUBSCRIBE that streams.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use common::redis::Redis;
use common::tmux::{Tmux, sh_quote};
use netkit::kv::resp::Reply;

fn kv_in_tmux(r: &Redis, size: (u16, u16)) -> Option<(Tmux, String)> {
    let sock = r.socket().to_string_lossy().into_owned();
    let cmd = format!(
        "env NETKIT_KV_HISTORY= {} kv -s {}",
        sh_quote(env!("CARGO_BIN_EXE_netkit")),
        sh_quote(&sock)
    );
    Some((Tmux::start(&cmd, size.0, size.1)?, format!("unix:{sock}>")))
}

fn typed(t: &Tmux, text: &str) {
    t.keys(&["-l", text]);
}

fn wait_last(t: &Tmux, row: &str) -> Vec<String> {
    t.wait_until(&format!("a last row {row:?}"), Tmux::screen, |rows| {
        rows.last().is_some_and(|r| r == row)
    })
}

fn run(t: &Tmux, line: &str, prompt: &str) -> Vec<String> {
    t.line(line);
    let echo = format!("> {line}");
    t.wait_until(&format!("the reply to {line:?}"), Tmux::screen, |rows| {
        rows.iter()
            .rposition(|r| r.ends_with(&echo))
            .is_some_and(|at| at + 2 < rows.len())
            && rows.last().is_some_and(|r| r == prompt)
    })
}

fn reply_after(rows: &[String], line: &str) -> String {
    let at = rows
        .iter()
        .rposition(|r| r.ends_with(&format!("> {line}")))
        .unwrap_or_else(|| panic!("no echo of {line}:\n{}", rows.join("\n")));
    rows.get(at + 1).cloned().unwrap_or_default()
}

#[test]
fn subscribed_mode_prints_messages_as_they_come_and_the_line_survives() {
    const N: usize = 300;
    let Some(r) = Redis::start() else { return };
    let Some((t, p)) = kv_in_tmux(&r, (100, 40)) else {
        return;
    };
    wait_last(&t, &p);
    // Hints for a command netkit's table lacks: from Redis's COMMAND DOCS.
    typed(&t, "hset ");
    wait_last(&t, &format!("{p} hset key field value [field value ...]"));
    t.keys(&["C-u"]);
    t.line("subscribe news other");
    let sub = format!("{}(subscribed mode)>", &p[..p.len() - 1]);
    let rows = wait_last(&t, &sub);
    assert_eq!(
        rows[rows.len() - 2],
        "Reading messages... (press Ctrl-C to leave subscribed mode)"
    );
    let at = rows
        .iter()
        .rposition(|r| r.ends_with("> subscribe news other"))
        .expect("echo");
    assert_eq!(
        rows[at + 1..at + 7],
        [
            "1) \"subscribe\"",
            "2) \"news\"",
            "3) (integer) 1",
            "1) \"subscribe\"",
            "2) \"other\"",
            "3) (integer) 2"
        ]
    );
    // Half a line typed, then a stream of messages.
    typed(&t, "ping hel");
    wait_last(&t, &format!("{sub} ping hel [message]"));
    let mut c = r.conn();
    for i in 1..=N {
        assert_eq!(
            c.call(&["PUBLISH", "news", &format!("msg {i}")]),
            Reply::Int(1)
        );
    }
    t.wait_until("the last message", Tmux::history, |rows| {
        rows.iter().any(|r| r == &format!("3) \"msg {N}\""))
    });
    let rows = t.history();
    let shown: Vec<&String> = rows.iter().filter(|r| r.starts_with("3) \"msg ")).collect();
    assert_eq!(shown.len(), N, "every message once");
    for (i, row) in shown.iter().enumerate() {
        assert_eq!(**row, format!("3) \"msg {}\"", i + 1), "in order");
    }
    assert_eq!(
        rows[rows.len() - 2..],
        [
            "Reading messages... (press Ctrl-C to leave subscribed mode)".to_string(),
            format!("{sub} ping hel [message]")
        ],
        "the typed line is intact below the messages"
    );
    // Commands work in subscribed mode (RESP2 allows PING).
    typed(&t, "lo");
    t.keys(&["Enter"]);
    t.wait_for("2) \"hello\"");
    // Ctrl-C leaves subscribed mode; the next command gets its own reply,
    // not a message published meanwhile.
    t.keys(&["C-c"]);
    wait_last(&t, &p);
    c.call(&["PUBLISH", "news", "nobody hears"]);
    let rows = run(&t, "echo hi", &p);
    assert_eq!(reply_after(&rows, "echo hi"), "\"hi\"");
    assert!(!t.history().iter().any(|r| r.contains("nobody hears")));
    // UNSUBSCRIBE down to nothing leaves subscribed mode too.
    t.line("subscribe a");
    wait_last(&t, &sub);
    t.line("unsubscribe a");
    t.wait_for("3) (integer) 0");
    wait_last(&t, &p);
    // Patterns too.
    t.line("psubscribe ne*");
    wait_last(&t, &sub);
    assert_eq!(c.call(&["PUBLISH", "news", "by pattern"]), Reply::Int(1));
    let rows = t.wait_for("4) \"by pattern\"");
    let at = rows
        .iter()
        .rposition(|r| r == "1) \"pmessage\"")
        .expect("pmessage");
    assert_eq!(
        rows[at + 1..at + 4],
        ["2) \"ne*\"", "3) \"news\"", "4) \"by pattern\""]
    );
    t.keys(&["C-c"]);
    wait_last(&t, &p);
    t.line("quit");
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn monitor_streams_until_ctrl_c() {
    let Some(r) = Redis::start() else { return };
    let Some((t, p)) = kv_in_tmux(&r, (120, 30)) else {
        return;
    };
    wait_last(&t, &p);
    t.line("monitor");
    wait_last(&t, "Reading monitor output... (press Ctrl-C to stop)");
    let mut c = r.conn();
    c.call(&["SET", "watched", "value"]);
    t.wait_for("\"SET\" \"watched\" \"value\"");
    t.keys(&["C-c"]);
    wait_last(&t, &p);
    let rows = run(&t, "ping", &p);
    assert_eq!(reply_after(&rows, "ping"), "PONG");
}

#[test]
fn ctrl_c_gives_up_on_a_blocking_command() {
    let Some(r) = Redis::start() else { return };
    let Some((t, p)) = kv_in_tmux(&r, (100, 30)) else {
        return;
    };
    wait_last(&t, &p);
    t.line("blpop queue 0");
    // While it blocks, the prompt is away.
    wait_last(&t, &format!("{p} blpop queue 0"));
    t.keys(&["C-c"]);
    let rows = wait_last(&t, &p);
    assert_eq!(
        rows[rows.len() - 2],
        "(interrupted: the reply was abandoned; reconnected)"
    );
    // The old connection is gone (once Redis has seen it close, nobody is
    // blocked): nobody takes the element.
    let mut c = r.conn();
    let deadline = Instant::now() + common::PATIENCE;
    while !matches!(c.call(&["INFO", "clients"]), Reply::Bulk(Some(b)) if String::from_utf8_lossy(&b).contains("blocked_clients:0"))
    {
        assert!(Instant::now() < deadline, "a client stays blocked");
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(c.call(&["RPUSH", "queue", "x"]), Reply::Int(1));
    assert_eq!(c.call(&["LLEN", "queue"]), Reply::Int(1));
    let rows = run(&t, "lpop queue", &p);
    assert_eq!(reply_after(&rows, "lpop queue"), "\"x\"");
}

#[test]
fn a_server_down_then_up_again_is_not_connected_then_connected() {
    let Some(mut r) = Redis::start() else { return };
    let Some((t, p)) = kv_in_tmux(&r, (120, 30)) else {
        return;
    };
    wait_last(&t, &p);
    run(&t, "set k 1", &p);
    r.down();
    let rows = wait_last(&t, "not connected>");
    assert_eq!(rows[rows.len() - 2], "Error: Server closed the connection");
    let rows = run(&t, "get k", "not connected>");
    assert_eq!(
        reply_after(&rows, "get k"),
        format!(
            "Could not connect to {}: Connection refused",
            &p[..p.len() - 1]
        )
    );
    r.up();
    let rows = run(&t, "get k", &p);
    assert_eq!(
        reply_after(&rows, "get k"),
        "(nil)",
        "a fresh server (nothing saved)"
    );
}

#[test]
fn one_shot_subscribe_streams_until_the_server_goes() {
    let Some(mut r) = Redis::start() else { return };
    let mut child = common::netkit()
        .args(["kv", "-s"])
        .arg(r.socket())
        .args(["subscribe", "ch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("netkit kv subscribe");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut next = || lines.next().expect("a line").expect("read");
    assert_eq!([next(), next(), next()], ["subscribe", "ch", "1"]);
    let mut c = r.conn();
    for i in 1..=3 {
        assert_eq!(
            c.call(&["PUBLISH", "ch", &format!("hello {i}")]),
            Reply::Int(1)
        );
        assert_eq!(
            [next(), next(), next()],
            ["message", "ch", &format!("hello {i}")]
        );
    }
    r.down();
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(1), "the server went away: an error");
}
