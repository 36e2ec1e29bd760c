//! netkit against the real peers: nc into `netkit serve`, `netkit connect`
//! into `nc -l`, socat as a client and as an echo server. Each test prints why
//! it skips when a peer is missing (.ci/run installs them).

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::thread;
use std::time::Instant;

use common::{PATIENCE, have, netkit, random_bytes, spawn_server};

/// The port a child process listens on, read from `ss` once it has bound.
fn listening_port_of(pid: u32) -> u16 {
    let deadline = Instant::now() + PATIENCE;
    let needle = format!("pid={pid},");
    loop {
        let out = Command::new("ss").args(["-Hltnp"]).output().expect("ss");
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if line.contains(&needle) {
                let local = line.split_whitespace().nth(3).unwrap_or("");
                if let Some(port) = local.rsplit(':').next().and_then(|p| p.parse().ok()) {
                    return port;
                }
            }
        }
        assert!(Instant::now() < deadline, "process {pid} never listened");
    }
}

#[test]
fn nc_sends_a_file_into_netkit_serve() {
    if !have("nc") {
        return;
    }
    let mut srv = spawn_server(&["serve", "0"]);
    drop(srv.stdin.take());
    let mut out = srv.stdout.take().unwrap();
    let reader = thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).unwrap();
        v
    });
    let data = random_bytes(8 << 20, 3);
    let mut nc = Command::new("nc")
        .args(["-N", "127.0.0.1", &srv.addr.port().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    nc.stdin.take().unwrap().write_all(&data).unwrap();
    assert!(nc.wait().unwrap().success());
    assert!(reader.join().unwrap() == data, "bytes differ");
    assert!(srv.wait_exit().success());
}

#[test]
fn netkit_connect_talks_to_nc_listen_both_ways() {
    if !have("nc") || !have("ss") {
        return;
    }
    let mut nc = Command::new("nc")
        .args(["-l", "127.0.0.1", "0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let port = listening_port_of(nc.id());
    let mut nc_out = nc.stdout.take().unwrap();
    let reader = thread::spawn(move || {
        let mut v = Vec::new();
        nc_out.read_to_end(&mut v).unwrap();
        v
    });
    let mut nc_in = nc.stdin.take().unwrap();
    nc_in.write_all(b"hello from nc\n").unwrap();
    drop(nc_in);

    let data = random_bytes(4 << 20, 9);
    let mut child = netkit()
        .args(["connect", "127.0.0.1", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let d = data.clone();
    let feeder = thread::spawn(move || stdin.write_all(&d).unwrap());
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"hello from nc\n");
    assert!(
        reader.join().unwrap() == data,
        "nc received different bytes"
    );
    let _ = nc.wait();
}

#[test]
fn nc_udp_gets_the_time() {
    if !have("nc") {
        return;
    }
    let srv = spawn_server(&["serve", "udp", "--time", "0"]);
    let mut nc = Command::new("nc")
        .args(["-u", "-w1", "127.0.0.1", &srv.addr.port().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    nc.stdin.take().unwrap().write_all(b"TIME").unwrap();
    let out = nc.wait_with_output().unwrap();
    let t: u64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a time");
    assert!(t.abs_diff(netkit::serve::services::unix_seconds()) <= 5);
}

#[test]
fn socat_is_served_by_netkit_echo() {
    if !have("socat") {
        return;
    }
    let srv = spawn_server(&["serve", "--echo", "0"]);
    let data = random_bytes(1 << 20, 5);
    let mut socat = Command::new("socat")
        .args(["-t5", "-", &format!("TCP:{}", srv.addr)])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = socat.stdin.take().unwrap();
    let d = data.clone();
    let feeder = thread::spawn(move || stdin.write_all(&d).unwrap());
    let out = socat.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(
        out.stdout == data,
        "socat got {} bytes back",
        out.stdout.len()
    );
}

#[test]
fn netkit_connect_through_a_socat_echo_server() {
    if !have("socat") || !have("ss") {
        return;
    }
    let mut socat = Command::new("socat")
        .args(["TCP-LISTEN:0,bind=127.0.0.1,reuseaddr", "PIPE"])
        .spawn()
        .unwrap();
    let port = listening_port_of(socat.id());
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut child = netkit()
        .args(["connect", &addr.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"round trip\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, b"round trip\n");
    let _ = socat.kill();
    let _ = socat.wait();
}
