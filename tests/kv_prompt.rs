//! The `netkit kv` prompt in a real terminal (tmux) against netkit's own
//! server: Tab completion, hints and `help` answered locally, the database
//! and `(TX)` in the prompt, text replies as text, the history file
//! written line by line, `not connected>` and reconnecting after a server
//! restart, a redirected stdout. And redis-cli's own hints against `netkit
//! kv serve`. (Pub/sub, MONITOR and blocking commands: `kv_prompt_redis.rs`.)

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use common::kv::{Kv, bulk, quiet, temp_path};
use common::tmux::{Tmux, sh_quote};
use netkit::kv::resp::Reply;
use netkit::kv::store::Store;

/// `netkit kv ARGS` in a fresh tmux pane; `history`: the history file.
fn kv_in_tmux(args: &str, history: Option<&Path>, size: (u16, u16)) -> Option<Tmux> {
    let hist = history.map(|p| p.to_string_lossy().into_owned());
    let cmd = format!(
        "env NETKIT_KV_HISTORY={} {} kv {args}",
        sh_quote(hist.as_deref().unwrap_or("")),
        sh_quote(env!("CARGO_BIN_EXE_netkit")),
    );
    Tmux::start(&cmd, size.0, size.1)
}

/// Type without Enter.
fn typed(t: &Tmux, text: &str) {
    t.keys(&["-l", text]);
}

/// Wait until the last row of the screen is `row`.
fn wait_last(t: &Tmux, row: &str) -> Vec<String> {
    t.wait_until(&format!("a last row {row:?}"), Tmux::screen, |rows| {
        rows.last().is_some_and(|r| r == row)
    })
}

/// Enter `line` and wait for its reply and the prompt `prompt` after it;
/// returns the screen.
fn run(t: &Tmux, line: &str, prompt: &str) -> Vec<String> {
    t.line(line);
    let echo = format!("> {line}");
    t.wait_until(
        &format!("the reply to {line:?}, then {prompt:?}"),
        Tmux::screen,
        |rows| {
            rows.iter()
                .rposition(|r| r.ends_with(&echo))
                .is_some_and(|at| at + 2 < rows.len())
                && rows.last().is_some_and(|r| r == prompt)
        },
    )
}

/// The row right after the echo of `line`.
fn reply_after(rows: &[String], line: &str) -> String {
    let at = rows
        .iter()
        .rposition(|r| r.ends_with(&format!("> {line}")))
        .unwrap_or_else(|| panic!("no echo of {line}:\n{}", rows.join("\n")));
    rows.get(at + 1).cloned().unwrap_or_default()
}

#[test]
fn tab_hints_and_help_work_with_no_server_at_all() {
    // No server: whatever help, hints and completion show came from the
    // client's own table.
    let sock = std::env::temp_dir().join(format!("nk-none-{}.sock", std::process::id()));
    let Some(t) = kv_in_tmux(
        &format!("-s {}", sh_quote(&sock.to_string_lossy())),
        None,
        (100, 40),
    ) else {
        return;
    };
    let rows = wait_last(&t, "not connected>");
    assert!(
        rows[0].starts_with("Could not connect to unix:")
            && rows[0].ends_with("No such file or directory"),
        "{rows:?}"
    );
    typed(&t, "mse");
    wait_last(&t, "not connected> mset");
    t.keys(&["Tab"]);
    wait_last(&t, "not connected> MSET key value [key value ...]");
    let styled = t.styled();
    let row = styled.last().expect("a row");
    assert!(
        row.contains("MSET\u{1b}[90m key value"),
        "the hint is grey: {row:?}"
    );
    t.keys(&["Tab"]);
    wait_last(&t, "not connected> MSETNX key value [key value ...]");
    t.keys(&["Tab"]);
    // Back to what was typed, the rest of the name hinted in grey.
    t.wait_until("mse typed, t hinted", Tmux::styled, |rows| {
        rows.last()
            .is_some_and(|r| r.contains("not connected> mse\u{1b}[90mt"))
    });
    t.keys(&["C-u"]);
    typed(&t, "config g");
    t.keys(&["Tab"]);
    wait_last(&t, "not connected> CONFIG GET parameter [parameter ...]");
    t.keys(&["C-u"]);
    typed(&t, "set k v ");
    let rows = t.wait_for("not connected> set k v [NX|XX]");
    assert!(
        rows.last()
            .unwrap()
            .starts_with("not connected> set k v [NX|XX] [GET]")
    );
    t.keys(&["C-u"]);
    typed(&t, "help @stri");
    t.keys(&["Tab"]);
    wait_last(&t, "not connected> help @string");
    t.keys(&["Enter"]);
    let rows = t.wait_for("SETRANGE key offset value");
    assert!(rows.iter().any(|r| r == "  STRLEN key"), "{rows:?}");
    assert!(
        !rows.iter().any(|r| r.contains("group:")),
        "a group's list names no group"
    );
    t.line("help getex");
    let rows =
        t.wait_for("summary: Returns the string value of a key after setting its expiration time.");
    assert!(rows.iter().any(|r| r == "  group: string"), "{rows:?}");
    t.line("help");
    t.wait_for("\"help <tab>\" to get a list of possible help topics");
    t.keys(&["C-d"]);
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn the_prompt_shows_the_database_and_transactions_like_redis_cli() {
    let kv = Kv::memory();
    let p = format!("127.0.0.1:{}", kv.addr.port());
    let Some(t) = kv_in_tmux(&format!("--addr {p} -n 2"), None, (100, 40)) else {
        return;
    };
    wait_last(&t, &format!("{p}[2]>"));
    t.line("multi");
    wait_last(&t, &format!("{p}[2](TX)>"));
    t.line("set a 1");
    t.wait_for("QUEUED");
    let rows = run(&t, "exec", &format!("{p}[2]>"));
    assert_eq!(reply_after(&rows, "exec"), "1) OK");
    t.line("select 5");
    wait_last(&t, &format!("{p}[5]>"));
    // A SELECT queued in a transaction shows at once; DISCARD undoes it.
    t.line("multi");
    t.line("select 7");
    wait_last(&t, &format!("{p}[7](TX)>"));
    t.line("discard");
    wait_last(&t, &format!("{p}[5]>"));
    // A transaction aborted by an error ends with EXEC too.
    t.line("multi");
    t.line("nosuchcommand");
    t.wait_for("(error) ERR unknown command 'nosuchcommand'");
    wait_last(&t, &format!("{p}[5](TX)>"));
    let rows = run(&t, "exec", &format!("{p}[5]>"));
    assert!(
        reply_after(&rows, "exec").starts_with("(error) EXECABORT"),
        "{rows:?}"
    );
    let mut c = kv.conn();
    c.call(&["SELECT", "2"]);
    assert_eq!(
        c.call(&["GET", "a"]),
        bulk("1"),
        "the transaction ran in db 2"
    );
    // A slow command says how long it took, as redis-cli does.
    t.line("debug sleep 0.6");
    let rows = t.wait_until("the time it took", Tmux::screen, |rows| {
        rows.iter().any(|r| r.starts_with('(') && r.ends_with("s)"))
    });
    let at = rows
        .iter()
        .rposition(|r| r.ends_with("> debug sleep 0.6"))
        .expect("echo");
    assert_eq!(rows[at + 1], "OK");
    let secs: f64 = rows[at + 2]
        .trim_matches(['(', ')', 's'])
        .parse()
        .expect("seconds");
    assert!(secs >= 0.6, "{secs}");
    t.line("quit");
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn info_and_verbatim_replies_are_shown_as_text() {
    let kv = Kv::memory();
    let p = format!("127.0.0.1:{}", kv.addr.port());
    let Some(t) = kv_in_tmux(&format!("--addr {p}"), None, (160, 60)) else {
        return;
    };
    wait_last(&t, &format!("{p}>"));
    let prompt = format!("{p}>");
    let rows = run(&t, "info server", &prompt);
    assert_eq!(reply_after(&rows, "info server"), "# Server");
    assert!(
        rows.iter().any(|r| r.starts_with("redis_version:")),
        "{rows:?}"
    );
    assert!(
        !rows.iter().any(|r| r.contains("\\r\\n")),
        "no quoted line: {rows:?}"
    );
    let rows = run(&t, "client list", &prompt);
    assert!(
        reply_after(&rows, "client list").starts_with("id="),
        "{rows:?}"
    );
    // RESP3: verbatim strings are text whatever the command.
    t.line("hello 3");
    t.wait_for("=> (integer) 3");
    let rows = run(&t, "debug protocol verbatim", &prompt);
    let at = rows
        .iter()
        .rposition(|r| r.ends_with("> debug protocol verbatim"))
        .expect("echo");
    assert_eq!(rows[at + 1..at + 3], ["This is a verbatim", "string"]);
    let rows = run(&t, "client info", &prompt);
    assert!(
        reply_after(&rows, "client info").starts_with("id="),
        "{rows:?}"
    );
    // Other strings stay quoted, one line.
    t.line(r#"set q "a\nb""#);
    let rows = run(&t, "get q", &prompt);
    assert_eq!(reply_after(&rows, "get q"), r#""a\nb""#);
    t.line("quit");
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn history_is_saved_after_every_line_without_passwords() {
    let kv = Kv::memory();
    let p = format!("127.0.0.1:{}", kv.addr.port());
    let hist = temp_path("history");
    let Some(t) = kv_in_tmux(&format!("--addr {p}"), Some(&hist), (100, 30)) else {
        return;
    };
    wait_last(&t, &format!("{p}>"));
    t.line("set a 1");
    t.line("auth s3cret");
    t.wait_for("(error)");
    // The reply comes after the line was saved.
    run(&t, "get a", &format!("{p}>"));
    // Still running: the file already has every line but the password.
    let saved = std::fs::read_to_string(&hist).expect("history written while running");
    assert!(
        saved.contains("set a 1\n") && saved.contains("get a\n"),
        "{saved}"
    );
    assert!(!saved.contains("s3cret"), "{saved}");
    drop(t); // the terminal goes away: nothing more is written
    let Some(t) = kv_in_tmux(&format!("--addr {p}"), Some(&hist), (100, 30)) else {
        return;
    };
    wait_last(&t, &format!("{p}>"));
    for line in ["get a", "set a 1"] {
        t.keys(&["Up"]);
        let want = format!("{p}> {line}");
        t.wait_until(&want, Tmux::screen, |rows| {
            rows.last().is_some_and(|r| r.starts_with(&want))
        });
    }
}

#[test]
fn not_connected_then_reconnects_after_a_server_restart() {
    // The test holds the listener: the port stays the same across the
    // restart and nobody else can take it.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let serve = || {
        Kv::serve(
            listener.try_clone().expect("clone"),
            Arc::new(Store::new(16)),
            quiet(),
        )
    };
    let first = serve();
    let p = format!("127.0.0.1:{port}");
    let Some(t) = kv_in_tmux(&format!("--addr {p} -n 3"), None, (100, 30)) else {
        return;
    };
    wait_last(&t, &format!("{p}[3]>"));
    t.line("set k before");
    t.wait_for("OK");
    first.stop();
    // Seen at once, at the idle prompt.
    let rows = wait_last(&t, "not connected>");
    assert_eq!(rows[rows.len() - 2], "Error: Server closed the connection");
    let second = serve();
    let rows = run(&t, "set k after", &format!("{p}[3]>"));
    assert_eq!(
        reply_after(&rows, "set k after"),
        "OK",
        "the command went to the new server"
    );
    let mut c = second.conn();
    c.call(&["SELECT", "3"]);
    assert_eq!(
        c.call(&["GET", "k"]),
        bulk("after"),
        "in the database selected again"
    );
    t.line("quit");
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn with_stdout_redirected_replies_go_to_the_file_and_the_prompt_stays() {
    let kv = Kv::memory();
    let p = format!("127.0.0.1:{}", kv.addr.port());
    let out = temp_path("replies");
    let Some(t) = kv_in_tmux(
        &format!("--addr {p} > {}", sh_quote(&out.to_string_lossy())),
        None,
        (100, 30),
    ) else {
        return;
    };
    wait_last(&t, &format!("{p}>"));
    t.line(r#"set a "x y""#);
    t.line("get a");
    t.line("quit");
    assert_eq!(t.wait_exit(), 0);
    let got = std::fs::read_to_string(&out).expect("replies");
    assert_eq!(
        got, "OK\nx y\n",
        "raw replies, as redis-cli writes to a file"
    );
    let rows = t.screen();
    assert!(rows.iter().any(|r| r.ends_with("> get a")), "{rows:?}");
    assert!(
        !rows.iter().any(|r| r.contains("x y") && !r.contains("set")),
        "{rows:?}"
    );
}

#[test]
fn redis_cli_hints_and_completion_work_against_netkit_kv_serve() {
    if !common::have("redis-cli") {
        return;
    }
    let kv = Kv::memory();
    let port = kv.addr.port();
    let Some(t) = Tmux::start(&format!("redis-cli -p {port}"), 120, 40) else {
        return;
    };
    let p = format!("127.0.0.1:{port}>");
    wait_last(&t, &p);
    typed(&t, "mset ");
    wait_last(&t, &format!("{p} mset key value [key value ...]"));
    t.keys(&["C-u"]);
    typed(&t, "config get ");
    wait_last(&t, &format!("{p} config get parameter [parameter ...]"));
    t.keys(&["C-u"]);
    typed(&t, "getr");
    t.keys(&["Tab"]);
    wait_last(&t, &format!("{p} GETRANGE key start end"));
    t.keys(&["C-u"]);
    t.line("help @string");
    t.wait_for("SETRANGE key offset value");
    let mut c = kv.conn();
    assert!(matches!(c.call(&["COMMAND", "DOCS", "get"]), Reply::Array(Some(v)) if v.len() == 2));
    t.keys(&["C-c"]);
}

#[test]
fn subscribed_mode_against_netkit_kv_serve() {
    let kv = Kv::memory();
    let p = format!("127.0.0.1:{}", kv.addr.port());
    let Some(t) = kv_in_tmux(&format!("--addr {p}"), None, (100, 40)) else {
        return;
    };
    let prompt = format!("{p}>");
    wait_last(&t, &prompt);
    t.line("subscribe news");
    let sub = format!("{p}(subscribed mode)>");
    wait_last(&t, &sub);
    typed(&t, "ping hel");
    let mut c = kv.conn();
    for i in 1..=50 {
        assert_eq!(
            c.call(&["PUBLISH", "news", &format!("msg {i}")]),
            Reply::Int(1)
        );
    }
    let rows = t.wait_for("3) \"msg 50\"");
    assert!(
        rows.last().unwrap().starts_with(&format!("{sub} ping hel")),
        "{rows:?}"
    );
    t.keys(&["C-u", "C-c"]);
    wait_last(&t, &prompt);
    let rows = run(&t, "echo hi", &prompt);
    assert_eq!(reply_after(&rows, "echo hi"), "\"hi\"");
    t.line("quit");
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn typing_on_the_first_row_leaves_no_copies_in_tmux_scrollback() {
    // tmux copies the screen to its scrollback when it is cleared from the
    // top-left corner; redrawing the prompt must not look like that.
    let kv = Kv::memory();
    let p = format!("127.0.0.1:{}", kv.addr.port());
    let Some(t) = kv_in_tmux(&format!("--addr {p}"), None, (100, 10)) else {
        return;
    };
    wait_last(&t, &format!("{p}>"));
    for c in ["e", "c", "h", "o"] {
        typed(&t, c);
    }
    wait_last(&t, &format!("{p}> echo message"));
    assert_eq!(t.history(), [format!("{p}> echo message")]);
}
