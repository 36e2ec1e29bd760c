//! The `connect` prompt in a real terminal (tmux), against misbehaving
//! peers written for these tests: partial lines, replies without a newline
//! timed against Enter, bursts, greetings, escape-code junk, a progress
//! bar. Each test counts what the screen shows against what was sent.

mod common;

use std::io::{BufRead, BufReader, Read, Write};

use common::screen::{hold, netkit_in_tmux, peer, step, steps};
use common::tmux::Tmux;

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
