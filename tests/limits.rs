//! Servers at the edge of their resources: few open files, many clients,
//! a process per client. Clients beyond what fits wait and are served as
//! others leave; nobody is accepted and dropped unserved.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;

use common::{PATIENCE, Running, spawn_server, spawn_server_cmd};

/// `netkit ARGS` under `ulimit -n LIMIT` (soft and hard, so netkit cannot
/// raise it).
fn under_fd_limit(limit: u32, args: &[&str]) -> Running {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_netkit"))
        .args(args);
    spawn_server_cmd(cmd)
}

fn client(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    s
}

/// Stop the server and return every stderr line up to its summary.
fn stop_and_read_stderr(srv: &mut Running) -> Vec<String> {
    srv.signal(15);
    let mut lines = Vec::new();
    while let Some(l) = srv.stderr_line() {
        let last = l.contains("served");
        lines.push(l);
        if last {
            break;
        }
    }
    assert!(srv.wait_exit().success());
    lines
}

#[test]
fn exec_under_a_small_open_file_limit_serves_every_client_in_turn() {
    let mut srv = under_fd_limit(40, &["serve", "--sh-exec", "cat", "0"]);
    // All connect at once: far more than 40 descriptors' worth.
    let mut clients: Vec<TcpStream> = (0..60).map(|_| client(srv.addr)).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        let msg = format!("hello {i}\n");
        c.write_all(msg.as_bytes()).expect("write");
        let mut line = String::new();
        BufReader::new(&*c)
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("client {i} was not served: {e}"));
        assert_eq!(line, msg, "client {i} was not served");
        c.shutdown(std::net::Shutdown::Write).expect("half-close");
        let mut rest = Vec::new();
        c.read_to_end(&mut rest).expect("the command's end");
    }
    let lines = stop_and_read_stderr(&mut srv);
    let warnings = lines
        .iter()
        .filter(|l| l.contains("open-file limit (40) reached"))
        .count();
    assert_eq!(warnings, 1, "said once, without -v: {lines:?}");
}

#[test]
fn chat_under_a_small_open_file_limit_lets_clients_in_as_others_leave() {
    let srv = under_fd_limit(32, &["serve", "--chat", "0"]);
    // Far more than fit at once; each joins when the one before it leaves.
    let clients: Vec<TcpStream> = (0..30).map(|_| client(srv.addr)).collect();
    let mut previous: Option<(TcpStream, BufReader<TcpStream>)> = None;
    for (i, c) in clients.into_iter().enumerate() {
        let mut reader = BufReader::new(c.try_clone().expect("clone"));
        let mut welcome = String::new();
        reader
            .read_line(&mut welcome)
            .unwrap_or_else(|e| panic!("client {i}: {e}"));
        assert!(
            welcome.starts_with("*** welcome"),
            "client {i}: {welcome:?}"
        );
        // A member in full: what it says reaches the one still in the room.
        (&c).write_all(format!("from {i}\n").as_bytes())
            .expect("write");
        if let Some((p, mut preader)) = previous.take() {
            let me = format!("[{}] ", c.local_addr().expect("addr"));
            loop {
                let mut l = String::new();
                preader.read_line(&mut l).expect("read");
                assert!(!l.is_empty() && !l.contains("dropped"), "client {i}: {l:?}");
                if let Some(text) = l.strip_prefix(&me) {
                    assert_eq!(text, format!("from {i}\n"));
                    break;
                }
            }
            drop(p); // leaves, making room for the next
        }
        previous = Some((c, reader));
    }
}

#[test]
fn exec_has_a_default_cap_on_processes() {
    let mut srv = spawn_server(&["serve", "--sh-exec", "cat", "0"]);
    let mut served: Vec<TcpStream> = Vec::new();
    for i in 0..100 {
        let mut c = client(srv.addr);
        // An echo proves the server took this client (and runs its process).
        c.write_all(b"x\n").expect("write");
        let mut b = [0u8; 2];
        c.read_exact(&mut b)
            .unwrap_or_else(|e| panic!("client {i}: {e}"));
        served.push(c);
    }
    let mut extra = client(srv.addr);
    let mut buf = [0u8; 1];
    let n = extra.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the 101st client is closed, not given a process");
    drop(served);
    let lines = stop_and_read_stderr(&mut srv);
    let summary = lines.last().expect("summary");
    assert!(summary.contains("(1 rejected)"), "{summary}");
}

#[test]
fn an_ipv4_client_of_a_dual_stack_listener_is_plain_ipv4_to_the_command() {
    let srv = spawn_server(&[
        "serve",
        "--bind",
        "::",
        "--sh-exec",
        "echo $NETKIT_PEER_ADDR $NETKIT_LOCAL_ADDR",
        "0",
    ]);
    let mut c = client(SocketAddr::from(([127, 0, 0, 1], srv.addr.port())));
    let mut out = String::new();
    c.read_to_string(&mut out).expect("read");
    assert_eq!(out, "127.0.0.1 127.0.0.1\n");
}
