//! The `connect` prompt in a real terminal (tmux) over a whole session:
//! redirected output, pastes, session logs and hex dumps, idle timeouts,
//! resets, the peer closing, Ctrl-C and Ctrl-R.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::thread;

use common::screen::{hold, netkit_in_tmux, peer, step, steps};
use common::tmux::{SCREEN_PATIENCE, Tmux, sh_quote};

#[test]
fn redirected_stdout_gets_exactly_the_peers_bytes() {
    let sent: Vec<u8> = {
        let mut v = b"partial line, then every byte value:".to_vec();
        v.extend(0u8..=255);
        v.extend_from_slice(b"\x1b[2J\x1b]0;title\x07\r\nno newline at the end");
        v
    };
    let expected = sent.clone();
    let p = peer(move |mut s| {
        let mut lines = BufReader::new(s.try_clone().expect("clone")).lines();
        assert_eq!(lines.next().expect("line").expect("read"), "go");
        s.write_all(&sent[..20]).expect("write");
        s.write_all(&sent[20..]).expect("write");
        assert_eq!(lines.next().expect("line").expect("read"), "bye");
    });
    let dir = common::TempDir::new("screen-redirect");
    let out = dir.join("out.bin");
    let extra = format!("> {}", sh_quote(&out.to_string_lossy()));
    let cmd = format!(
        "env NETKIT_HISTORY= {} connect 127.0.0.1 {} {extra}",
        sh_quote(env!("CARGO_BIN_EXE_netkit")),
        p.addr.port()
    );
    let Some(t) = Tmux::start(&cmd, 100, 20) else {
        return;
    };
    // The prompt and the echo are on the terminal, not in the file.
    t.wait_for("connected to");
    t.wait_until("the prompt", Tmux::screen, |r| {
        r.last().is_some_and(|l| l == ">")
    });
    t.line("go");
    t.wait_for("> go");
    let start = std::time::Instant::now();
    while std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0) < expected.len() as u64 {
        assert!(start.elapsed() < SCREEN_PATIENCE, "the file never filled");
        thread::sleep(std::time::Duration::from_millis(20));
    }
    t.line("bye");
    let rows = t.wait_for("connection closed by peer");
    assert_eq!(t.wait_exit(), 0);
    let got = std::fs::read(&out).expect("output file");
    let _ = std::fs::remove_file(&out);
    assert!(
        got == expected,
        "the file holds exactly the peer's bytes ({} vs {})",
        got.len(),
        expected.len()
    );
    assert!(
        !rows.iter().any(|r| r.contains("every byte")),
        "no data on the screen: {rows:?}"
    );
    p.join();
}

#[test]
fn a_paste_sends_one_line_per_line_with_the_line_ending() {
    let p = peer(|s| {
        let mut got = Vec::new();
        let mut r = BufReader::new(s);
        while !got.ends_with(b"last-partial\r\n") {
            let mut line = Vec::new();
            if r.read_until(b'\n', &mut line).expect("read") == 0 {
                break;
            }
            got.extend_from_slice(&line);
        }
        got
    });
    let Some(t) = netkit_in_tmux(p.addr, "", None, (100, 20)) else {
        return;
    };
    t.wait_for("connected to");
    t.line(":crlf on");
    t.wait_for("lines end with \\r\\n");
    t.paste("first\nC:\\Users\\q\nthird\\x41\n:not-a-command\nlast-partial");
    t.wait_for("> last-partial");
    let rows = t.screen();
    assert_eq!(
        rows.iter()
            .filter(|r| r.contains("is not an escape"))
            .count(),
        1,
        "the hint once: {rows:?}"
    );
    for echo in [
        "> first",
        r"> C:\Users\q",
        r"> third\x41",
        "> :not-a-command",
    ] {
        assert!(rows.iter().any(|r| r == echo), "{echo} echoed: {rows:?}");
    }
    t.keys(&["Enter"]);
    let got = p.join();
    assert_eq!(
        String::from_utf8_lossy(&got),
        "first\r\nC:\\Users\\q\r\nthirdA\r\n:not-a-command\r\nlast-partial\r\n",
        "one line per pasted line, in order, no extra line"
    );
    // The peer closed after the last line.
    t.wait_for("connection closed by peer");
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn session_log_and_hexdump_while_interactive() {
    let p = peer(|mut s| {
        let mut lines = BufReader::new(s.try_clone().expect("clone")).lines();
        let l = lines.next().expect("line").expect("read");
        s.write_all(format!("you said {l}\n").as_bytes())
            .expect("write");
        let _ = lines.next();
    });
    let dir = common::TempDir::new("screen-log");
    let (log, dump) = (dir.join("session.txt"), dir.join("dump.txt"));
    let extra = format!(
        "-o {} --hexdump {}",
        sh_quote(&log.to_string_lossy()),
        sh_quote(&dump.to_string_lossy())
    );
    let Some(t) = netkit_in_tmux(p.addr, &extra, None, (100, 20)) else {
        return;
    };
    t.wait_for("connected to");
    t.line("hello");
    t.wait_for("you said hello");
    t.line(":quit");
    assert_eq!(t.wait_exit(), 0);
    p.join();
    let text = std::fs::read_to_string(&log).expect("session log");
    assert_eq!(
        text, "hello\nyou said hello\n",
        "both directions, in order, as they are"
    );
    let hex = std::fs::read_to_string(&dump).expect("hexdump");
    let headers: Vec<&str> = hex.lines().filter(|l| l.starts_with(['<', '>'])).collect();
    assert_eq!(headers.len(), 2, "{hex}");
    assert!(
        headers[0].starts_with("> ") && headers[0].ends_with("length=6 offset=0"),
        "{hex}"
    );
    assert!(
        headers[1].starts_with("< ") && headers[1].ends_with("length=15 offset=0"),
        "{hex}"
    );
    assert!(hex.contains("68 65 6c 6c 6f 0a"), "{hex}");
}

#[test]
fn hexdump_to_stderr_at_the_prompt_shows_records_between_rows() {
    let p = peer(|mut s| {
        s.write_all(b"greeting\n").expect("write");
        hold(&mut s);
    });
    let Some(t) = netkit_in_tmux(p.addr, "--hexdump -", None, (100, 20)) else {
        return;
    };
    let rows = t.wait_for("|greeting.|");
    let at = rows
        .iter()
        .position(|r| r.starts_with("< "))
        .expect("record header");
    assert!(rows[at].ends_with("length=9 offset=0"), "{rows:?}");
    assert!(rows.iter().any(|r| r == "greeting"), "{rows:?}");
    t.keys(&["C-c", "C-c"]);
    assert_eq!(t.wait_exit(), 0);
    p.join();
}

#[test]
fn idle_timeout_applies_at_the_prompt() {
    let p = peer(|mut s| {
        hold(&mut s);
    });
    let Some(t) = netkit_in_tmux(p.addr, "--idle-timeout 1s", None, (100, 20)) else {
        return;
    };
    t.wait_for("connected to");
    t.keys(&["-l", "half typed"]);
    assert_eq!(t.wait_exit(), 4, "the timed-out code");
    let rows = t.history();
    assert_eq!(
        rows.iter().filter(|r| r.contains("idle timeout")).count(),
        1,
        "reported once: {rows:?}"
    );
    assert!(
        !rows.iter().any(|r| r.starts_with('>')),
        "no prompt left: {rows:?}"
    );
    p.join();
}

#[test]
fn a_reset_is_reported_once_and_leaves_no_prompt() {
    let p = peer(|s| {
        let mut lines = BufReader::new(s.try_clone().expect("clone")).lines();
        assert_eq!(lines.next().expect("line").expect("read"), "boom");
        // SO_LINGER 0: close sends a reset.
        socket2::SockRef::from(&s)
            .set_linger(Some(std::time::Duration::ZERO))
            .expect("linger");
    });
    let Some(t) = netkit_in_tmux(p.addr, "", None, (120, 20)) else {
        return;
    };
    t.wait_for("connected to");
    t.line("boom");
    assert_eq!(t.wait_exit(), 1);
    p.join();
    let rows = t.history();
    assert_eq!(
        rows.iter()
            .filter(|r| r.to_lowercase().contains("reset"))
            .count(),
        1,
        "{rows:?}"
    );
    assert!(rows.last().is_some_and(|r| r.contains("reset")), "{rows:?}");
    assert_eq!(
        rows.iter().filter(|r| r.starts_with('>')).count(),
        1,
        "only the echo: {rows:?}"
    );
}

#[test]
fn peer_close_shows_the_last_bytes_and_no_stray_prompt() {
    let p = peer(|mut s| {
        s.write_all(b"bye, no newline").expect("write");
    });
    let Some(t) = netkit_in_tmux(p.addr, "", None, (100, 20)) else {
        return;
    };
    assert_eq!(t.wait_exit(), 0);
    p.join();
    let rows = t.history();
    assert!(rows[0].starts_with("connected to"), "{rows:?}");
    assert_eq!(
        rows[1..],
        ["bye, no newline", "connection closed by peer"],
        "{rows:?}"
    );
}

#[test]
fn ctrl_c_discards_the_line_and_says_how_to_leave() {
    let p = peer(|s| {
        let mut lines = BufReader::new(s).lines();
        let first = lines.next().expect("line").expect("read");
        let _ = lines.next();
        first
    });
    let Some(t) = netkit_in_tmux(p.addr, "", None, (100, 20)) else {
        return;
    };
    t.wait_for("connected to");
    t.keys(&["-l", "secret"]);
    t.wait_for("> secret");
    t.keys(&["C-c"]);
    let rows = t.wait_for("not sent: secret");
    assert!(
        !rows.iter().any(|r| r == "> secret"),
        "it does not look sent: {rows:?}"
    );
    t.keys(&["C-c"]);
    t.wait_for("to leave, press Ctrl-C again");
    t.line("after");
    t.wait_for("> after");
    t.keys(&["C-c"]);
    t.wait_until("a second hint", Tmux::screen, |r| {
        r.iter().filter(|l| l.contains("to leave")).count() == 2
    });
    t.keys(&["C-c"]);
    assert_eq!(t.wait_exit(), 0);
    assert_eq!(p.join(), "after", "the cancelled line never went out");
}

#[test]
fn ctrl_r_search_does_not_hold_back_output() {
    let (go, wait) = steps();
    let p = peer(move |mut s| {
        step(&wait);
        s.write_all(b"arrives during the search\n").expect("write");
        let mut lines = BufReader::new(s).lines();
        lines.next().expect("line").expect("read")
    });
    let dir = common::TempDir::new("screen-hist");
    let history = dir.join("history");
    std::fs::write(&history, "#V2\nalpha command\nbeta command\n").expect("history");
    let Some(t) = netkit_in_tmux(p.addr, "", Some(&history.to_string_lossy()), (100, 20)) else {
        return;
    };
    t.wait_for("connected to");
    t.keys(&["C-r"]);
    t.keys(&["-l", "alp"]);
    t.wait_for("(reverse-i-search)`alp': alpha command");
    go.send(()).expect("go");
    let rows = t.wait_for("arrives during the search");
    assert!(
        rows.last()
            .is_some_and(|r| r.contains("(reverse-i-search)`alp'")),
        "still searching: {rows:?}"
    );
    t.keys(&["Enter"]);
    assert_eq!(p.join(), "alpha command");
    t.wait_for("connection closed by peer");
    assert_eq!(t.wait_exit(), 0);
    let saved = std::fs::read_to_string(&history).expect("history");
    assert!(
        saved.ends_with("alpha command\n"),
        "saved after the line: {saved:?}"
    );
}
