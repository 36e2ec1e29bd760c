//! The `connect` prompt in a real terminal (tmux), against misbehaving
//! peers written for these tests: partial lines, replies without a newline
//! timed against Enter, bursts, greetings, resets, escape-code junk. Each
//! test counts what the screen shows against what was sent.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::{self, JoinHandle};

use common::tmux::{SCREEN_PATIENCE, Tmux, sh_quote};

/// A peer that takes one connection and runs `script` on it.
struct Peer<T> {
    addr: SocketAddr,
    handle: Option<JoinHandle<T>>,
}

fn peer<T: Send + 'static>(script: impl FnOnce(TcpStream) -> T + Send + 'static) -> Peer<T> {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let handle = thread::spawn(move || {
        // No read timeout: netkit ends (or the test kills tmux and with it
        // netkit), and the peer's reads end with it.
        let (s, _) = listener.accept().expect("accept");
        script(s)
    });
    Peer {
        addr,
        handle: Some(handle),
    }
}

impl<T> Peer<T> {
    fn join(mut self) -> T {
        self.handle
            .take()
            .expect("joined once")
            .join()
            .expect("the peer failed")
    }
}

/// `netkit connect` to `addr` in a fresh tmux pane (history off unless given).
fn netkit_in_tmux(
    addr: SocketAddr,
    extra: &str,
    history: Option<&str>,
    size: (u16, u16),
) -> Option<Tmux> {
    let cmd = format!(
        "env NETKIT_HISTORY={} {} connect {extra} {} {}",
        sh_quote(history.unwrap_or("")),
        sh_quote(env!("CARGO_BIN_EXE_netkit")),
        addr.ip(),
        addr.port()
    );
    Tmux::start(&cmd, size.0, size.1)
}

/// Steps the test hands to the peer: "go on".
fn steps() -> (Sender<()>, Receiver<()>) {
    channel()
}

/// Keep the connection open until netkit closes it.
fn hold(s: &mut TcpStream) {
    let _ = s.set_read_timeout(None);
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

fn step(rx: &Receiver<()>) {
    rx.recv_timeout(SCREEN_PATIENCE)
        .expect("the test never said go");
}

#[test]
fn a_burst_of_10000_lines_shows_as_10000_rows() {
    const N: usize = 10_000;
    let p = peer(|mut s| {
        let burst: Vec<u8> = (1..=N)
            .flat_map(|i| format!("line {i:05} of the burst\n").into_bytes())
            .collect();
        // Odd-sized writes, so reads end in the middle of lines.
        s.set_nodelay(true).expect("nodelay");
        for chunk in burst.chunks(4099) {
            s.write_all(chunk).expect("write");
        }
        hold(&mut s);
    });
    let Some(t) = netkit_in_tmux(p.addr, "", None, (100, 30)) else {
        return;
    };
    t.wait_for(&format!("line {N:05} of the burst"));
    let rows = t.history();
    let data: Vec<&String> = rows.iter().filter(|r| r.starts_with("line ")).collect();
    assert_eq!(data.len(), N, "data rows");
    for (i, r) in data.iter().enumerate() {
        assert_eq!(**r, format!("line {:05} of the burst", i + 1));
    }
    assert!(rows[0].starts_with("connected to "), "{}", rows[0]);
    assert_eq!(
        rows.len(),
        N + 2,
        "banner, {N} lines, prompt: {:?}",
        &rows[rows.len() - 3..]
    );
    assert_eq!(rows[N + 1], ">");
    t.keys(&["C-c", "C-c"]);
    assert_eq!(t.wait_exit(), 0);
    p.join();
}

#[test]
fn a_line_in_three_packets_is_one_row_completed_in_place() {
    let (go, wait) = steps();
    let p = peer(move |mut s| {
        for part in ["par", "tial-", "line\n"] {
            step(&wait);
            s.write_all(part.as_bytes()).expect("write");
        }
        hold(&mut s);
    });
    let Some(t) = netkit_in_tmux(p.addr, "", None, (60, 10)) else {
        return;
    };
    t.wait_for("connected to");
    go.send(()).expect("go");
    let rows = t.wait_for("par");
    assert_eq!(
        rows[rows.len() - 2..],
        ["par", ">"],
        "shown at once, prompt below"
    );
    t.keys(&["-l", "typing"]);
    t.wait_for("> typing");
    go.send(()).expect("go");
    let rows = t.wait_for("partial-");
    assert_eq!(rows[rows.len() - 2..], ["partial-", "> typing"]);
    go.send(()).expect("go");
    let rows = t.wait_for("partial-line");
    assert_eq!(rows[rows.len() - 2..], ["partial-line", "> typing"]);
    assert_eq!(
        rows.iter().filter(|r| r.contains("par")).count(),
        1,
        "{rows:?}"
    );
    t.keys(&["C-u", "C-c", "C-c"]);
    assert_eq!(t.wait_exit(), 0);
    p.join();
}

#[test]
fn replies_without_newline_are_not_erased_by_the_prompt() {
    const N: usize = 60;
    let p = peer(|s| {
        let mut out = s.try_clone().expect("clone");
        let mut lines = BufReader::new(s).lines();
        for i in 1..=N {
            let line = lines.next().expect("a line").expect("read");
            assert_eq!(line, format!("x{i}"));
            // At once: it lands while the prompt is redrawn after Enter.
            out.write_all(format!("reply{i:02}> ").as_bytes())
                .expect("write");
        }
        let _ = lines.next();
    });
    let Some(t) = netkit_in_tmux(p.addr, "", None, (80, 40)) else {
        return;
    };
    t.wait_for("connected to");
    for i in 1..=N {
        t.line(&format!("x{i}"));
    }
    t.wait_until("the last reply", Tmux::history, |rows| {
        rows.iter().any(|r| r.contains(&format!("reply{N:02}>")))
    });
    let rows = t.history();
    for i in 1..=N {
        let reply = format!("reply{i:02}>");
        assert_eq!(
            rows.iter().filter(|r| r.contains(&reply)).count(),
            1,
            "{reply} shown once:\n{}",
            rows.join("\n")
        );
        assert_eq!(
            rows.iter().filter(|r| **r == format!("> x{i}")).count(),
            1,
            "echo of x{i}"
        );
    }
    t.keys(&["C-c", "C-c"]);
    assert_eq!(t.wait_exit(), 0);
    p.join();
}

#[test]
fn control_bytes_are_marked_and_the_same_text_sent_literally_is_not() {
    let p = peer(|mut s| {
        s.write_all(b"literal \\x1b and byte \x1b[2J\x1b[H\x07 end\r\n")
            .expect("write");
        hold(&mut s);
    });
    let Some(t) = netkit_in_tmux(p.addr, "", None, (100, 10)) else {
        return;
    };
    let rows = t.wait_for(" end");
    assert!(
        rows[0].starts_with("connected to"),
        "the screen was not cleared: {rows:?}"
    );
    assert_eq!(rows[1], r"literal \x1b and byte \x1b[2J\x1b[H\x07 end");
    let styled = t.styled();
    let row = styled
        .iter()
        .find(|r| r.contains(" end"))
        .expect("styled row");
    // tmux shows reverse video as SGR 7; the literal text has no attribute.
    assert!(row.starts_with(r"literal \x1b and byte "), "{row:?}");
    assert!(row.contains("\x1b[7m\\x1b"), "the byte is marked: {row:?}");
    assert_eq!(row.matches("\x1b[7m").count(), 3, "{row:?}");
    t.keys(&["C-c", "C-c"]);
    assert_eq!(t.wait_exit(), 0);
    p.join();
}

#[test]
fn the_banner_is_whole_before_a_greeting() {
    let p = peer(|mut s| {
        s.write_all(b"220 smtp.test ESMTP ready\r\n")
            .expect("greet");
        let mut lines = BufReader::new(s.try_clone().expect("clone")).lines();
        let helo = lines.next().expect("line").expect("read");
        s.write_all(format!("250 hello {}\r\n", &helo[5..]).as_bytes())
            .expect("write");
        let _ = lines.next();
    });
    let Some(t) = netkit_in_tmux(p.addr, "--crlf", None, (120, 10)) else {
        return;
    };
    let rows = t.wait_for("220 smtp.test");
    assert!(
        rows[0].starts_with("connected to 127.0.0.1:") && rows[0].ends_with(":quit leaves"),
        "{rows:?}"
    );
    assert_eq!(rows[1], "220 smtp.test ESMTP ready");
    t.line("HELO me");
    let rows = t.wait_for("250 hello me");
    assert_eq!(
        rows[1..4],
        ["220 smtp.test ESMTP ready", "> HELO me", "250 hello me"]
    );
    t.keys(&["C-c", "C-c"]);
    assert_eq!(t.wait_exit(), 0);
    p.join();
}

#[test]
fn a_progress_bar_is_never_drawn_over_data() {
    const FILE: usize = 16 << 20;
    let (go, wait) = steps();
    let p = peer(move |mut s| {
        // Read nothing until the test has seen the bar: the send blocks.
        step(&wait);
        for i in 1..=30 {
            s.write_all(format!("data row {i:02} arrives during the send\n").as_bytes())
                .expect("write");
        }
        step(&wait);
        let mut got = vec![0u8; FILE];
        s.read_exact(&mut got).expect("the whole file");
        hold(&mut s);
        got
    });
    let Some(t) = netkit_in_tmux(p.addr, "", None, (100, 45)) else {
        return;
    };
    let file = t.dir().join("big.bin");
    let content: Vec<u8> = (0..FILE).map(|i| (i % 251) as u8).collect();
    std::fs::write(&file, &content).expect("write file");
    t.wait_for("connected to");
    t.line(&format!(":send {}", file.display()));
    t.wait_for("sending ");
    go.send(()).expect("go");
    let rows = t.wait_for("data row 30");
    let first = rows
        .iter()
        .position(|r| r.starts_with("data row 01"))
        .expect("first row");
    for i in 0..30 {
        assert_eq!(
            rows[first + i],
            format!("data row {:02} arrives during the send", i + 1),
            "{}",
            rows.join("\n")
        );
    }
    let bar = rows.last().expect("a last row");
    assert!(
        bar.starts_with("sending "),
        "the bar is below the data: {bar}"
    );
    go.send(()).expect("go");
    let rows = t.wait_for("sent 16.00 MiB");
    assert!(
        !rows.iter().any(|r| r.starts_with("sending ")),
        "the bar is gone: {rows:?}"
    );
    assert_eq!(rows.last().map(String::as_str), Some(">"));
    t.keys(&["C-c", "C-c"]);
    assert_eq!(t.wait_exit(), 0);
    assert!(p.join() == content, "the file arrived intact");
}

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
    let out = std::env::temp_dir().join(format!("nk-redirect-{}.bin", std::process::id()));
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
    let dir = std::env::temp_dir().join(format!("nk-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
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
    let _ = std::fs::remove_dir_all(&dir);
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
    let dir = std::env::temp_dir().join(format!("nk-hist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
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
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        saved.ends_with("alpha command\n"),
        "saved after the line: {saved:?}"
    );
}
