//! `connect --exec` / `--sh-exec`: a command on the connecting side, with the
//! connection as its stdin and stdout (ncat -e / -c), over TCP, TLS and Unix.

mod common;

use common::{TempDir, fingerprint_of, netkit, spawn_server, spawn_unix_server};

fn run(args: &[&str]) -> std::process::Output {
    netkit().args(args).output().expect("netkit")
}

#[test]
fn the_command_talks_to_the_peer() {
    let upper = spawn_server(&["serve", "--upper", "0"]);
    let port = upper.addr.port().to_string();
    let out = run(&[
        "connect",
        "--sh-exec",
        "echo hello; read -r reply; [ \"$reply\" = HELLO ] && [ -n \"$NETKIT_PEER_PORT\" ]",
        "127.0.0.1",
        &port,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // --exec splits at spaces, no shell; the command reads the socket.
    let source = spawn_server(&["serve", "--source", "0"]);
    let dir = TempDir::new("connect-exec");
    let file = dir.path("got.txt");
    let out = run(&[
        "connect",
        "--sh-exec",
        &format!("head -c 74 > {file}"),
        "127.0.0.1",
        &source.addr.port().to_string(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = std::fs::read(&file).unwrap();
    assert_eq!(got.len(), 74);
    assert!(got.starts_with(b" !\"#$%"));
    let out = run(&["connect", "--exec", "true", "127.0.0.1", &port]);
    assert!(out.status.success());
}

#[test]
fn a_failing_command_fails_netkit() {
    let echo = spawn_server(&["serve", "--echo", "0"]);
    let out = run(&[
        "connect",
        "--sh-exec",
        "exit 3",
        "127.0.0.1",
        &echo.addr.port().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("exited with status 3"), "{err}");
    let out = run(&[
        "connect",
        "--exec",
        "no-such-program-netkit",
        "127.0.0.1",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn over_tls_and_unix_sockets() {
    let tls = spawn_server(&["serve", "--tls", "--echo", "0"]);
    let fp = fingerprint_of(&tls.listening);
    let out = run(&[
        "connect",
        "--tls-pin",
        &fp,
        "--sh-exec",
        "echo sealed; read -r back; [ \"$back\" = sealed ] && [ \"$NETKIT_TLS_VERSION\" = TLSv1.3 ]",
        "127.0.0.1",
        &tls.addr.port().to_string(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let dir = TempDir::new("connect-exec-unix");
    let path = dir.path("echo.sock");
    let (mut srv, _, _) = spawn_unix_server(&["serve", "unix", "--echo", &path]);
    let out = run(&[
        "connect",
        "-U",
        &path,
        "--sh-exec",
        "echo local; read -r back; [ \"$back\" = local ]",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = srv.kill();
    let _ = srv.wait();
}
