//! `connect --framed`, `--json` and `--progress` against real servers on port 0.

mod common;

use std::io::Write;
use std::process::Output;

use common::{run_with_input, spawn_server};

fn connect(args: &[&str], input: &[u8]) -> Output {
    let args: Vec<&str> = std::iter::once("connect")
        .chain(args.iter().copied())
        .collect();
    run_with_input(&args, input)
}

#[test]
fn framed_lines_round_trip_through_serve_framed() {
    let server = spawn_server(&["serve", "--framed", "0"]);
    let addr = server.addr.to_string();
    let out = connect(&["--framed", &addr], b"hello\n\nwith space\r\nlast");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"hello\n\nwith space\nlast\n");
}

#[test]
fn framed_rejects_a_hostile_length() {
    // A server that answers with a 4 GiB frame header and nothing else.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let t = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let _ = s.write_all(&[0xff, 0xff, 0xff, 0xff]);
    });
    let out = connect(&["--framed", &addr], b"");
    t.join().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("exceeds"));
}

#[test]
fn json_summary_on_stderr() {
    let server = spawn_server(&["serve", "--echo", "0"]);
    let out = connect(&["--json", &server.addr.to_string()], b"hi\n");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"hi\n");
    let err = String::from_utf8_lossy(&out.stderr);
    let v: serde_json::Value = serde_json::from_str(err.trim()).expect("one json object");
    assert_eq!(v["bytes_out"], 3);
    assert_eq!(v["bytes_in"], 3);
    assert_eq!(v["end"], "closed by peer");
    assert_eq!(v["peer"], server.addr.to_string());
    assert!(v["duration_s"].as_f64().is_some());
}

#[test]
fn progress_is_hidden_when_stderr_is_not_a_terminal() {
    let server = spawn_server(&["serve", "--echo", "0"]);
    let out = connect(&["--progress", &server.addr.to_string()], b"data\n");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"data\n");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn ctrl_c_with_json_still_prints_the_summary_with_an_error() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let mut child = common::netkit()
        .args(["connect", "--json", &addr])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let (mut peer, _) = listener.accept().expect("accept");
    peer.set_read_timeout(Some(common::PATIENCE))
        .expect("timeout");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"hello\n").expect("write");
    let mut got = [0u8; 6];
    peer.read_exact(&mut got)
        .expect("the line reached the peer");
    // The session is live (stdin open, peer open): interrupt it.
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(130));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(err.trim()).expect("one JSON object");
    assert_eq!(v["event"], "summary");
    assert_eq!(v["error"], "interrupted");
    assert_eq!(v["bytes_out"], 6);
    assert_eq!(v["peer"], addr.as_str());
    drop(stdin);
}

#[test]
fn udp_with_json_prints_its_summary() {
    let server = spawn_server(&["serve", "udp", "--echo", "0"]);
    let out = connect(
        &[
            "-u",
            "--json",
            "--reply-timeout",
            "300ms",
            &server.addr.to_string(),
        ],
        b"ping",
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"ping");
    let v: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stderr).trim()).expect("one object");
    assert_eq!(v["proto"], "udp");
    assert_eq!(
        (v["bytes_out"].as_u64(), v["bytes_in"].as_u64()),
        (Some(4), Some(4))
    );
    assert_eq!(v["end"], "replies received");
}

#[test]
fn a_host_that_does_not_resolve_still_gets_one_json_summary() {
    // No DNS: an IPv4 literal asked for as IPv6 fails to resolve locally.
    let out = connect(&["--json", "-6", "127.0.0.1", "9"], b"");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(err.trim()).expect("one object");
    assert!(
        v["error"]
            .as_str()
            .expect("error")
            .contains("cannot resolve"),
        "{v}"
    );
    assert_eq!(v["exit_code"], 1);
}
