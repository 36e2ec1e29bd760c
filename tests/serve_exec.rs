//! `serve --exec` / `--sh-exec`: a process per connection on the socket.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::{Command, Stdio};
use std::thread;

use common::{PATIENCE, have, netkit, spawn_server, spawn_server_cmd};

fn client(addr: std::net::SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    s
}

/// Send `input`, half-close, read everything until the server closes.
fn exchange(addr: std::net::SocketAddr, input: &[u8]) -> Vec<u8> {
    let mut s = client(addr);
    s.write_all(input).expect("write");
    s.shutdown(Shutdown::Write).expect("half-close");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    out
}

#[test]
fn nc_into_sh_exec_tr_comes_back_upper_cased() {
    if !have("nc") {
        return;
    }
    let srv = spawn_server(&["serve", "--sh-exec", "tr a-z A-Z", "0"]);
    let out = Command::new("nc")
        .args(["-N", "127.0.0.1", &srv.addr.port().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin
                .take()
                .expect("stdin")
                .write_all(b"hello, netkit\n")?;
            c.wait_with_output()
        })
        .expect("nc");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "HELLO, NETKIT\n");
}

#[test]
fn the_child_sees_the_peer_in_its_environment() {
    let srv = spawn_server(&[
        "serve",
        "--sh-exec",
        "echo \"$NETKIT_PEER_ADDR $NETKIT_PEER_PORT $NETKIT_LOCAL_PORT\"",
        "0",
    ]);
    let mut s = client(srv.addr);
    let local = s.local_addr().expect("local");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    assert_eq!(
        out,
        format!("{} {} {}\n", local.ip(), local.port(), srv.addr.port())
    );
}

#[test]
fn exec_splits_without_a_shell() {
    let srv = spawn_server(&["serve", "--exec", "echo $HOME a|b;c", "0"]);
    assert_eq!(exchange(srv.addr, b""), b"$HOME a|b;c\n");
}

#[test]
fn no_server_descriptor_reaches_the_child() {
    // Start netkit with a stray inherited fd 7 (as a shell may leave one):
    // the child must still see only 0, 1, 2 and the directory ls opens.
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "exec 7</dev/null; exec \"$0\" \"$@\"",
        env!("CARGO_BIN_EXE_netkit"),
        "serve",
        "--exec",
        "ls /proc/self/fd",
        "0",
    ]);
    let srv = spawn_server_cmd(cmd);
    let out = exchange(srv.addr, b"");
    assert_eq!(String::from_utf8_lossy(&out), "0\n1\n2\n3\n");
}

#[test]
fn clients_are_served_at_once_each_by_its_own_process() {
    let srv = spawn_server(&["serve", "--sh-exec", "cat", "0"]);
    // Both connections are open together; each gets only its own bytes.
    let mut a = client(srv.addr);
    let mut b = client(srv.addr);
    a.write_all(b"from a\n").expect("write a");
    b.write_all(b"from b\n").expect("write b");
    let mut line = String::new();
    BufReader::new(&b).read_line(&mut line).expect("read b");
    assert_eq!(line, "from b\n");
    line.clear();
    BufReader::new(&a).read_line(&mut line).expect("read a");
    assert_eq!(line, "from a\n");
    let payload = common::random_bytes(1 << 20, 7);
    let p2 = payload.clone();
    let w = a.try_clone().expect("clone");
    let writer = thread::spawn(move || {
        let mut w = w;
        w.write_all(&p2).expect("write");
        w.shutdown(Shutdown::Write).expect("half-close");
    });
    let mut back = Vec::new();
    a.read_to_end(&mut back).expect("read");
    writer.join().expect("writer");
    assert_eq!(back.len(), payload.len());
    assert!(back == payload, "cat returned different bytes");
}

#[test]
fn a_stop_kills_children_after_the_grace_period() {
    let mut srv = spawn_server(&[
        "serve",
        "-v",
        "--grace",
        "200ms",
        "--sh-exec",
        "echo $$; exec sleep 30",
        "0",
    ]);
    let s = client(srv.addr);
    let mut line = String::new();
    let mut reader = BufReader::new(&s);
    reader.read_line(&mut line).expect("pid line");
    let pid: u32 = line.trim().parse().expect("pid");
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    srv.signal(15);
    srv.wait_stderr("killed by signal");
    let status = srv.wait_exit();
    assert!(status.success(), "{status:?}");
    // Reaped before the server exited: no process, not even a zombie.
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "child {pid} outlived the server"
    );
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
    assert!(rest.is_empty());
}

#[test]
fn a_missing_program_is_a_usage_error() {
    let out = netkit()
        .args(["serve", "--exec", "no-such-program-netkit arg", "0"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("netkit: error: --exec: cannot find program 'no-such-program-netkit'"),
        "{err}"
    );
    let out = netkit()
        .args(["serve", "--sh-exec", " ", "0"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = netkit()
        .args(["serve", "--exec", "cat", "--echo", "0"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "two modes at once");
}

#[test]
fn a_failing_command_does_not_stop_the_server() {
    let srv = spawn_server(&["serve", "-v", "--sh-exec", "echo out; exit 3", "0"]);
    assert_eq!(exchange(srv.addr, b""), b"out\n");
    srv.wait_stderr("command exited with status 3");
    assert_eq!(exchange(srv.addr, b""), b"out\n");
}
