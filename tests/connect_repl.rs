//! The interactive `connect` prompt, driven through a real pseudo-terminal
//! (rexpect) against `netkit serve` on port 0, plus `-i` over plain pipes.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{netkit, spawn_server};
use rexpect::session::{PtySession, spawn_command};

/// A history file in a temp dir that goes away with the returned guard.
fn history_file(tag: &str) -> (common::TempDir, std::path::PathBuf) {
    let dir = common::TempDir::new(&format!("history-{tag}"));
    let path = dir.join("history");
    (dir, path)
}

fn prompt(addr: std::net::SocketAddr, extra: &[&str], history: &std::path::Path) -> PtySession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netkit"));
    cmd.arg("connect")
        .args(extra)
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string())
        .env("NETKIT_HISTORY", history)
        .env("TERM", "xterm");
    let mut p = spawn_command(cmd, Some(10_000)).expect("spawn in a pty");
    p.exp_string("connected to").expect("banner");
    p
}

fn exited_ok(p: &mut PtySession) {
    p.exp_eof().expect("netkit exits");
    let status = p.process_mut().wait().expect("wait");
    assert!(
        format!("{status:?}").ends_with(", 0)"),
        "exit status: {status:?}"
    );
}

#[test]
fn prompt_sends_lines_shows_echo_status_hex_and_quits() {
    let server = spawn_server(&["serve", "--echo", "0"]);
    let (_dir, history) = history_file("echo");
    let _ = std::fs::remove_file(&history);
    let mut p = prompt(server.addr, &[], &history);
    // The escape makes the echo distinguishable from the typed text.
    p.send_line(r"ping\x41").expect("send");
    p.exp_string("pingA")
        .expect("echo arrives above the prompt");
    p.send_line(":status").expect("send");
    p.exp_string(&format!("peer {}", server.addr))
        .expect("status");
    p.exp_string("sent 6 B, received 6 B").expect("byte counts");
    p.send_line(":nonsense").expect("send");
    p.exp_string("unknown command :nonsense").expect("hint");
    p.send_line(":hex on").expect("send");
    p.exp_string("hex dump on").expect("hex on");
    p.send_line("xyz").expect("send");
    p.exp_string("00000006  78 79 7a 0a")
        .expect("hex dump with offset");
    p.send_line(":quit").expect("send");
    exited_ok(&mut p);
    let saved = std::fs::read_to_string(&history).expect("history saved");
    assert!(
        saved.contains("ping") && saved.contains(":hex on"),
        "{saved}"
    );
}

#[test]
fn peer_close_ends_the_prompt_with_exit_0() {
    let server = spawn_server(&["serve", "--upper", "0"]);
    let (_dir, history) = history_file("upper");
    let mut p = prompt(server.addr, &[], &history);
    p.send_line("quit").expect("send");
    p.exp_string("bye").expect("reply");
    p.exp_string("connection closed by peer")
        .expect("close shown");
    exited_ok(&mut p);
}

#[test]
fn ctrl_d_half_closes_and_waits_for_the_peer() {
    let server = spawn_server(&["serve", "--echo", "0"]);
    let (_dir, history) = history_file("eof");
    let mut p = prompt(server.addr, &[], &history);
    p.send_control('d').expect("ctrl-d");
    p.exp_string("half-close").expect("eof notice");
    p.exp_string("connection closed by peer")
        .expect("echo server closes");
    exited_ok(&mut p);
}

#[test]
fn udp_prompt_prints_replies_with_the_sender() {
    let server = spawn_server(&["serve", "udp", "--echo", "0"]);
    let (_dir, history) = history_file("udp");
    let mut p = prompt(server.addr, &["-u"], &history);
    p.send_line(r"dgr\x41m").expect("send");
    p.exp_string(&format!("[{}] dgrAm", server.addr))
        .expect("reply with sender");
    p.send_line(":quit").expect("send");
    exited_ok(&mut p);
}

#[test]
fn dash_i_reads_lines_from_a_pipe() {
    let server = spawn_server(&["serve", "--echo", "0"]);
    let mut child = netkit()
        .args(["connect", "-i", &server.addr.to_string()])
        .env("NETKIT_HISTORY", "")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(b"one\\ttwo\n::colon\n:frob\n:crlf on\nthree\n")
        .expect("write");
    drop(stdin);
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout, "one\ttwo\n:colon\nthree\r\n",
        "stdout is not a terminal: the echo's exact bytes"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown command :frob"), "{stderr}");
    assert!(stderr.contains("connection closed by peer"), "{stderr}");
}

#[test]
fn output_log_records_both_directions_in_pipe_mode_and_with_dash_i() {
    let server = spawn_server(&["serve", "--upper", "0"]);
    let dir = common::TempDir::new("olog");
    for (mode, extra) in [("pipe", None), ("prompt", Some("-i"))] {
        let log = dir.join(&format!("{mode}.txt"));
        let mut args = vec!["connect", "-o", log.to_str().expect("path")];
        args.extend(extra);
        let addr = server.addr.to_string();
        args.push(&addr);
        let out = common::run_with_input(&args, b"hello\nquit\n");
        assert!(out.status.success(), "{mode}: {out:?}");
        assert_eq!(out.stdout, b"HELLO\nbye\n", "{mode}");
        let text = std::fs::read_to_string(&log).expect("log");
        // Each request precedes its reply.
        let at = |s: &str| {
            text.find(s)
                .unwrap_or_else(|| panic!("{mode}: {s:?} in {text:?}"))
        };
        assert!(
            at("hello\n") < at("HELLO\n") && at("HELLO\n") < at("bye\n"),
            "{mode}: {text:?}"
        );
        assert_eq!(
            text.len(),
            "hello\nquit\nHELLO\nbye\n".len(),
            "{mode}: {text:?}"
        );
    }
    let out = netkit()
        .args(["connect", "-u", "-o", "x.txt", "127.0.0.1", "9"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-o/--output is for TCP"));
}
