//! No byte waits for a later byte: a peer sends one line and waits, and
//! whoever reads netkit's output gets that line while the connection is still
//! open. For `connect` and `serve` (with and without -k), for stdout a pipe, a
//! file, a terminal or a socket (a relay under `serve --sh-exec`), and for
//! stdin through a pipe; over TCP, TLS and Unix sockets. Ordering tests with
//! a generous deadline, never a timing assertion: the broken copy loop held
//! such a line until the peer closed, so each test fails after `PATIENCE`
//! instead of passing late.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread;
use std::time::{Duration, Instant};

use common::{InProcess, PATIENCE, Reaped, TempDir, lines_of, netkit, spawn_server};
use netkit::serve::{TcpConfig, TcpMode};

/// Lone lines per test, each awaited before the next is sent: the stall this
/// guards against showed up in most tries, not all.
const LINES: usize = 20;

fn next(rx: &Receiver<String>, what: &str) -> String {
    rx.recv_timeout(PATIENCE)
        .unwrap_or_else(|_| panic!("{what} did not arrive while the connection was open"))
}

/// A socket line reader with the same deadline.
fn socket_lines(s: &TcpStream) -> Receiver<String> {
    lines_of(s.try_clone().expect("clone"))
}

/// `netkit connect` to `addr` with stdin and stdout pipes.
fn connect_piped(addr: SocketAddr) -> Child {
    netkit()
        .args(["connect", &addr.ip().to_string(), &addr.port().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start netkit connect")
}

fn exit_ok(mut child: Child) {
    let (tx, rx) = channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = rx
        .recv_timeout(PATIENCE)
        .expect("netkit exits")
        .expect("wait");
    assert!(status.success(), "{status}");
}

/// Both directions, one lone line at a time: peer -> netkit's stdout, and
/// netkit's stdin -> peer.
fn exchange(
    peer: &mut TcpStream,
    from_peer: &Receiver<String>,
    stdin: &mut impl Write,
    stdout: &Receiver<String>,
) {
    for i in 0..LINES {
        peer.write_all(format!("down {i}\n").as_bytes()).unwrap();
        assert_eq!(next(stdout, "a line from the peer"), format!("down {i}"));
        stdin.write_all(format!("up {i}\n").as_bytes()).unwrap();
        assert_eq!(next(from_peer, "a line from stdin"), format!("up {i}"));
    }
}

#[test]
fn connect_passes_each_line_on_while_the_connection_stays_open() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut child = connect_piped(listener.local_addr().unwrap());
    let (mut peer, _) = listener.accept().unwrap();
    let from_peer = socket_lines(&peer);
    let stdout = lines_of(child.stdout.take().unwrap());
    let mut stdin = child.stdin.take().unwrap();
    exchange(&mut peer, &from_peer, &mut stdin, &stdout);
    drop(stdin);
    assert!(from_peer.recv_timeout(PATIENCE).is_err(), "EOF after stdin");
    drop(peer);
    exit_ok(child);
}

#[test]
fn serve_passes_each_line_on_while_the_connection_stays_open() {
    for args in [&["serve", "0"][..], &["serve", "-k", "0"]] {
        let mut srv = spawn_server(args);
        let mut peer = TcpStream::connect(srv.addr).unwrap();
        let from_peer = socket_lines(&peer);
        let stdout = lines_of(srv.stdout.take().unwrap());
        let mut stdin = srv.stdin.take().unwrap();
        exchange(&mut peer, &from_peer, &mut stdin, &stdout);
    }
}

#[test]
fn connect_to_a_file_writes_each_line_while_the_connection_stays_open() {
    let dir = TempDir::new("stream-file");
    let path = dir.join("out.txt");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut child = netkit()
        .args(["connect", &addr.ip().to_string(), &addr.port().to_string()])
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&path).unwrap())
        .spawn()
        .expect("start netkit connect");
    let (mut peer, _) = listener.accept().unwrap();
    let mut expected = String::new();
    for i in 0..LINES {
        let line = format!("line {i}\n");
        peer.write_all(line.as_bytes()).unwrap();
        expected.push_str(&line);
        let deadline = Instant::now() + PATIENCE;
        while std::fs::read_to_string(&path).unwrap() != expected {
            assert!(Instant::now() < deadline, "line {i} never reached the file");
            thread::sleep(Duration::from_millis(2));
        }
    }
    drop(peer);
    drop(child.stdin.take());
    exit_ok(child);
}

#[test]
fn connect_to_a_terminal_shows_each_line_while_the_connection_stays_open() {
    // stdin is a pipe (from `cat`), so this is pipe mode with a terminal on stdout.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(format!(
        "cat | '{}' connect {} {}",
        env!("CARGO_BIN_EXE_netkit"),
        addr.ip(),
        addr.port()
    ));
    let mut p = rexpect::session::spawn_command(cmd, Some(PATIENCE.as_millis() as u64))
        .expect("spawn in a pty");
    let (mut peer, _) = listener.accept().unwrap();
    for i in 0..LINES {
        peer.write_all(format!("tty line {i}\n").as_bytes())
            .unwrap();
        p.exp_string(&format!("tty line {i}"))
            .expect("the line did not reach the terminal while the connection was open");
    }
    drop(peer);
    let _ = p.process_mut().exit();
}

#[test]
fn a_relay_of_netkit_serve_sh_exec_netkit_connect_passes_each_line_on_tcp_and_tls() {
    let backend = InProcess::tcp(TcpConfig {
        mode: TcpMode::Echo,
        ..TcpConfig::default()
    });
    let inner = format!(
        "'{}' connect {} {}",
        env!("CARGO_BIN_EXE_netkit"),
        backend.addr.ip(),
        backend.addr.port()
    );
    // Over TLS the command gets pipes that the relay copies to and from the
    // session (the plain loop: TLS cannot splice).
    for tls in [false, true] {
        let relay = if tls {
            spawn_server(&["serve", "--tls", "-k", "--sh-exec", &inner, "0"])
        } else {
            spawn_server(&["serve", "--sh-exec", &inner, "0"])
        };
        let mut child = if tls {
            let fp = common::fingerprint_of(&relay.listening);
            let port = relay.addr.port().to_string();
            connect_with(&["--tls", "--tls-pin", &fp, "127.0.0.1", &port])
        } else {
            connect_piped(relay.addr)
        };
        let stdout = lines_of(child.stdout.take().unwrap());
        let mut stdin = child.stdin.take().unwrap();
        for i in 0..LINES {
            stdin.write_all(format!("ping {i}\n").as_bytes()).unwrap();
            assert_eq!(
                next(&stdout, "an echo through the relay"),
                format!("ping {i}"),
                "TLS {tls}"
            );
        }
        // The end of stream passes through the relay both ways.
        drop(stdin);
        assert!(
            stdout.recv_timeout(PATIENCE).is_err(),
            "EOF through the relay, TLS {tls}"
        );
        exit_ok(child);
    }
}

#[test]
fn a_relay_passes_the_backend_close_on_as_end_of_stream() {
    // The backend answers and closes; the client still has its stdin open.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let backend = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut line = String::new();
        BufReader::new(s.try_clone().unwrap())
            .read_line(&mut line)
            .unwrap();
        s.write_all(format!("bye {line}").as_bytes()).unwrap();
    });
    let inner = format!(
        "'{}' connect {} {}",
        env!("CARGO_BIN_EXE_netkit"),
        backend.ip(),
        backend.port()
    );
    let relay = spawn_server(&["serve", "--sh-exec", &inner, "0"]);
    let mut client = TcpStream::connect(relay.addr).unwrap();
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    client.write_all(b"hello\n").unwrap();
    let mut got = Vec::new();
    client
        .read_to_end(&mut got)
        .expect("the backend's close did not reach the client");
    assert_eq!(got, b"bye hello\n");
    server.join().unwrap();
}

/// `netkit connect ARGS` with stdin and stdout pipes.
fn connect_with(args: &[&str]) -> Child {
    netkit()
        .arg("connect")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start netkit connect")
}

/// A netkit server and a netkit client, all four ends pipes: lone lines
/// cross both ways while the connection stays open.
fn both_ways(
    srv_in: &mut impl Write,
    srv_out: impl Read + Send + 'static,
    client: &mut Child,
    what: &str,
) {
    let srv_out = lines_of(srv_out);
    let cli_out = lines_of(client.stdout.take().unwrap());
    let mut cli_in = client.stdin.take().unwrap();
    // Up first: once a line has reached the server, the client is being
    // served (with -k, stdin read before that goes to the clients of then).
    for i in 0..LINES {
        cli_in.write_all(format!("up {i}\n").as_bytes()).unwrap();
        assert_eq!(next(&srv_out, what), format!("up {i}"), "{what}");
        srv_in.write_all(format!("down {i}\n").as_bytes()).unwrap();
        assert_eq!(next(&cli_out, what), format!("down {i}"), "{what}");
    }
}

#[test]
fn tls_pipes_pass_each_line_on_both_ways() {
    for keep in [false, true] {
        let args: &[&str] = if keep {
            &["serve", "--tls", "-k", "0"]
        } else {
            &["serve", "--tls", "0"]
        };
        let mut srv = spawn_server(args);
        let fp = common::fingerprint_of(&srv.listening);
        let port = srv.addr.port().to_string();
        let mut client = Reaped(connect_with(&[
            "--tls",
            "--tls-pin",
            &fp,
            "127.0.0.1",
            &port,
        ]));
        let mut srv_in = srv.stdin.take().unwrap();
        let srv_out = srv.stdout.take().unwrap();
        both_ways(
            &mut srv_in,
            srv_out,
            &mut client.0,
            &format!("TLS, -k {keep}"),
        );
    }
}

#[test]
fn unix_pipes_pass_each_line_on_both_ways() {
    let dir = TempDir::new("stream-unix");
    for keep in [false, true] {
        let path = dir.path(&format!("s-{keep}.sock"));
        let mut args = vec!["serve", "unix"];
        if keep {
            args.push("-k");
        }
        args.push(&path);
        let (srv, _, _stderr) = common::spawn_unix_server(&args);
        let mut srv = Reaped(srv);
        let mut client = Reaped(connect_with(&["-U", &path]));
        let mut srv_in = srv.0.stdin.take().unwrap();
        let srv_out = srv.0.stdout.take().unwrap();
        both_ways(
            &mut srv_in,
            srv_out,
            &mut client.0,
            &format!("Unix, -k {keep}"),
        );
    }
}
