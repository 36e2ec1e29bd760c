//! `--hexdump FILE|-` on serve and connect: both directions, marks, offsets.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::{Command, Stdio};

use common::{PATIENCE, have, netkit, roundtrip, spawn_server};

/// The header lines of a dump (`<`/`>` records), without their timestamps.
fn headers(dump: &str) -> Vec<String> {
    dump.lines()
        .filter(|l| l.starts_with("< ") || l.starts_with("> "))
        .map(|l| {
            let mut words = l.split(' ');
            let mark = words.next().unwrap_or("");
            // Skip the date and the time.
            let rest: Vec<&str> = words.skip(2).collect();
            format!("{mark} {}", rest.join(" "))
        })
        .collect()
}

/// A dump file in a temp dir that goes away with the returned guard.
fn temp_file(name: &str) -> (common::TempDir, std::path::PathBuf) {
    let dir = common::TempDir::new(&format!("hexdump-{name}"));
    let path = dir.join("dump.txt");
    (dir, path)
}

#[test]
fn serve_echo_records_both_directions_to_a_file() {
    let (_dir, path) = temp_file("echo");
    let mut srv = spawn_server(&[
        "serve",
        "--echo",
        "--hexdump",
        path.to_str().expect("path"),
        "0",
    ]);
    let mut c = TcpStream::connect(srv.addr).expect("connect");
    c.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let peer = c.local_addr().expect("local");
    assert_eq!(roundtrip(&mut c, b"hello\n", 6), b"hello\n");
    assert_eq!(roundtrip(&mut c, b"\x00\xffAB", 4), b"\x00\xffAB");
    drop(c);
    srv.signal(15);
    assert!(srv.wait_exit().success());
    let dump = std::fs::read_to_string(&path).expect("dump file");
    assert_eq!(
        headers(&dump),
        [
            format!("< from {peer} length=6 offset=0"),
            format!("> to {peer} length=6 offset=0"),
            format!("< from {peer} length=4 offset=6"),
            format!("> to {peer} length=4 offset=6"),
        ]
    );
    assert!(
        dump.contains("00000000  68 65 6c 6c 6f 0a ") && dump.contains("|hello.|"),
        "{dump}"
    );
    assert!(dump.contains("00000006  00 ff 41 42 "), "{dump}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn connect_dumps_to_stderr_and_keeps_stdout_clean() {
    let srv = spawn_server(&["serve", "--echo", "0"]);
    let mut child = netkit()
        .args([
            "connect",
            "--hexdump",
            "-",
            "127.0.0.1",
            &srv.addr.port().to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("connect");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"ping")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    assert_eq!(out.stdout, b"ping");
    let err = String::from_utf8_lossy(&out.stderr);
    let h = headers(&err);
    let to = format!("> to {} length=4 offset=0", srv.addr);
    let from = format!("< from {} length=4 offset=0", srv.addr);
    assert!(h.contains(&to) && h.contains(&from), "{err}");
    assert!(
        err.contains("70 69 6e 67") && err.contains("|ping|"),
        "{err}"
    );
}

#[test]
fn listen_mode_with_socat_dumps_what_it_pipes() {
    if !have("socat") {
        return;
    }
    let mut srv = spawn_server(&["serve", "--hexdump", "-", "0"]);
    let status = Command::new("socat")
        .args(["-u", "-", &format!("TCP:{}", srv.addr)])
        .stdin(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().expect("stdin").write_all(b"from socat\n")?;
            c.wait()
        })
        .expect("socat");
    assert!(status.success());
    drop(srv.stdin.take());
    assert_eq!(srv.read_stdout(), b"from socat\n");
    let line = srv.wait_stderr("length=11 offset=0");
    assert!(line.starts_with("< "), "{line}");
    srv.wait_stderr("|from socat.|");
}

#[test]
fn chat_records_what_each_client_sends_and_gets() {
    let srv = spawn_server(&["serve", "--chat", "--hexdump", "-", "0"]);
    let mut a = TcpStream::connect(srv.addr).expect("connect");
    a.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let mut buf = [0u8; 256];
    let n = a.read(&mut buf).expect("welcome");
    assert!(buf[..n].starts_with(b"*** welcome"));
    srv.wait_stderr("|*** welcome 127.");
    a.write_all(b"typed\n").expect("write");
    a.shutdown(Shutdown::Write).expect("half-close");
    let line = srv.wait_stderr("length=6 offset=0");
    assert!(line.starts_with("< "), "{line}");
}

#[test]
fn modes_without_a_tap_refuse_hexdump() {
    for mode in ["--source", "--framed", "--time", "--upper"] {
        let out = netkit()
            .args(["serve", mode, "--hexdump", "-", "0"])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{mode}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--hexdump works in"), "{err}");
    }
    let out = netkit()
        .args(["serve", "--sh-exec", "cat", "--hexdump", "-", "0"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = netkit()
        .args(["connect", "-u", "--hexdump", "-", "127.0.0.1", "9"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}
