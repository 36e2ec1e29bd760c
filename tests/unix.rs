//! Unix sockets: `serve unix` in every mode (stream and `--dgram`), stale
//! socket files, `@abstract` names, `--unix-mode`, `connect -U` (and `-U -u`),
//! TLS over a Unix socket, and interop with nc -U, socat and curl.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

use common::{PATIENCE, TempDir, fingerprint_of, have, netkit, run_with_input, spawn_unix_server};

/// A `serve unix` child, stopped (SIGTERM) and reaped on drop.
struct Server {
    child: Child,
    listening: String,
    stderr: Receiver<String>,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut all = vec!["serve", "unix"];
        all.extend_from_slice(args);
        let (child, listening, stderr) = spawn_unix_server(&all);
        Server {
            child,
            listening,
            stderr,
        }
    }

    /// SIGTERM, then the exit status.
    fn stop(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        wait(&mut self.child)
    }

    fn wait_stderr(&self, needle: &str) -> String {
        loop {
            match self.stderr.recv_timeout(PATIENCE) {
                Ok(l) if l.contains(needle) => return l,
                Ok(_) => {}
                Err(_) => panic!("stderr never said '{needle}'"),
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait(child: &mut Child) -> std::process::ExitStatus {
    let t0 = std::time::Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s;
        }
        assert!(t0.elapsed() < PATIENCE, "netkit did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn client(path: &str) -> UnixStream {
    let s = UnixStream::connect(path).expect("connect");
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s
}

fn read_line(s: &mut impl Read) -> String {
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    while s.read(&mut b).unwrap() == 1 {
        out.push(b[0]);
        if b[0] == b'\n' {
            break;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn echo_over_a_unix_socket_and_the_file_goes_at_exit() {
    let dir = TempDir::new("unix-echo");
    let path = dir.path("echo.sock");
    let mut srv = Server::start(&["--echo", &path]);
    assert_eq!(srv.listening, format!("listening on {path} (unix echo)"));
    let data = common::random_bytes(2 << 20, 5);
    let out = run_with_input(&["connect", "-U", &path], &data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout == data);
    assert!(std::path::Path::new(&path).exists());
    assert!(srv.stop().success());
    assert!(
        !std::path::Path::new(&path).exists(),
        "socket file left behind"
    );
}

#[test]
fn every_stream_mode_on_a_unix_socket() {
    let dir = TempDir::new("unix-modes");
    let p = |n: &str| dir.path(n);

    let _u = Server::start(&["--upper", &p("upper")]);
    let mut c = client(&p("upper"));
    c.write_all(b"abc\n").unwrap();
    assert_eq!(read_line(&mut c), "ABC\n");

    let _t = Server::start(&["--time", &p("time")]);
    let mut c = client(&p("time"));
    let mut t = String::new();
    c.read_to_string(&mut t).unwrap();
    assert!(t.trim().parse::<u64>().is_ok(), "{t}");

    let _s = Server::start(&["--source", &p("source")]);
    let mut c = client(&p("source"));
    let mut b = [0u8; 10];
    c.read_exact(&mut b).unwrap();
    assert_eq!(&b, b" !\"#$%&'()");

    let d = Server::start(&["--discard", "-v", &p("discard")]);
    let mut c = client(&p("discard"));
    c.write_all(&[1u8; 5000]).unwrap();
    drop(c);
    let rec = d.wait_stderr("(5000 bytes)");
    assert!(rec.starts_with("unix:pid="), "{rec}");

    let _f = Server::start(&["--framed", &p("framed")]);
    let mut c = client(&p("framed"));
    c.write_all(&[0, 0, 0, 2, b'h', b'i']).unwrap();
    let mut back = [0u8; 6];
    c.read_exact(&mut back).unwrap();
    assert_eq!(&back, &[0, 0, 0, 2, b'h', b'i']);

    // exec: the command gets the socket itself and the peer's pid.
    let _e = Server::start(&["--sh-exec", "echo pid=$NETKIT_PEER_PID; cat", &p("exec")]);
    let mut c = client(&p("exec"));
    assert_eq!(read_line(&mut c), format!("pid={}\n", std::process::id()));
    c.write_all(b"back\n").unwrap();
    assert_eq!(read_line(&mut c), "back\n");

    // chat: lines are prefixed with the sender's pid.
    let _chat = Server::start(&["--chat", &p("chat")]);
    let mut a = client(&p("chat"));
    assert!(read_line(&mut a).starts_with("*** welcome"));
    let mut b2 = client(&p("chat"));
    assert!(read_line(&mut b2).starts_with("*** welcome"));
    assert!(read_line(&mut a).contains("joined"));
    a.write_all(b"hello\n").unwrap();
    assert_eq!(
        read_line(&mut b2),
        format!("[unix:pid={}] hello\n", std::process::id())
    );
}

#[test]
fn listen_mode_like_nc_l_u() {
    let dir = TempDir::new("unix-listen");
    let path = dir.path("in.sock");
    let mut srv = Server::start(&[&path]);
    let mut c = client(&path);
    c.write_all(b"to stdout\n").unwrap();
    c.shutdown(std::net::Shutdown::Write).unwrap();
    drop(srv.child.stdin.take());
    let mut out = String::new();
    srv.child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, "to stdout\n");
    assert!(wait(&mut srv.child).success());
    assert!(!std::path::Path::new(&path).exists());
}

#[test]
fn stale_files_are_replaced_live_ones_and_other_files_are_not() {
    let dir = TempDir::new("unix-stale");
    let path = dir.path("s.sock");
    drop(UnixListener::bind(&path).unwrap()); // a crashed server's leftover
    let srv = Server::start(&["--echo", &path]);
    let mut c = client(&path);
    c.write_all(b"x").unwrap();
    let mut b = [0u8; 1];
    c.read_exact(&mut b).unwrap();

    // A second server on the live socket: refused, and the file stays.
    let out = netkit()
        .args(["serve", "unix", "--echo", &path])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a server is listening there"), "{err}");
    assert!(client(&path).write_all(b"still there").is_ok());
    drop(srv);

    // A regular file is never removed.
    let file = dir.path("data.txt");
    std::fs::write(&file, "keep me").unwrap();
    let out = netkit()
        .args(["serve", "unix", "--echo", &file])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a socket"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
}

#[test]
fn abstract_names_and_file_modes() {
    let name = format!("@netkit-test-{}", std::process::id());
    let _srv = Server::start(&["--echo", &name]);
    let out = run_with_input(&["connect", "-U", &name], b"abstract");
    assert_eq!(
        out.stdout,
        b"abstract",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let dir = TempDir::new("unix-mode");
    let path = dir.path("m.sock");
    let _m = Server::start(&["--echo", "--unix-mode", "660", &path]);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);

    let out = netkit()
        .args(["serve", "unix", "--echo", "--unix-mode", "600", "@x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = netkit()
        .args([
            "serve",
            "unix",
            "--echo",
            "--allow",
            "127.0.0.1",
            &dir.path("a.sock"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn datagrams_echo_time_and_listen() {
    let dir = TempDir::new("unix-dgram");
    let echo = dir.path("echo.dgram");
    let srv = Server::start(&["--dgram", "--echo", &echo]);
    assert!(
        srv.listening.contains("(unixgram echo)"),
        "{}",
        srv.listening
    );
    let out = run_with_input(&["connect", "-U", "-u", &echo], b"one datagram");
    assert_eq!(
        out.stdout,
        b"one datagram",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let name = format!("@netkit-time-{}", std::process::id());
    let _t = Server::start(&["--dgram", "--time", &name]);
    let out = run_with_input(&["connect", "-U", "-u", &name], b"TIME");
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(t.trim().parse::<u64>().is_ok(), "{t}");

    // Listen: datagrams to stdout.
    let inbox = dir.path("inbox.dgram");
    let mut l = Server::start(&["--dgram", "--count", "2", &inbox]);
    let s = UnixDatagram::unbound().unwrap();
    s.send_to(b"a\n", &inbox).unwrap();
    s.send_to(b"b\n", &inbox).unwrap();
    let mut out = String::new();
    l.child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, "a\nb\n");
    assert!(wait(&mut l.child).success());
    assert!(!std::path::Path::new(&inbox).exists());

    // Nothing listening: refused, exit 3.
    let out = run_with_input(&["connect", "-U", "-u", &dir.path("none")], b"x");
    assert_ne!(out.status.code(), Some(0));
    drop(srv);
}

#[test]
fn tls_over_a_unix_socket() {
    let dir = TempDir::new("unix-tls");
    let path = dir.path("tls.sock");
    let srv = Server::start(&["--tls", "--echo", &path]);
    assert!(
        srv.listening.contains("(unix+tls echo, sha256 "),
        "{}",
        srv.listening
    );
    let fp = fingerprint_of(&srv.listening);
    let out = run_with_input(&["connect", "-U", "--tls-pin", &fp, &path], b"sealed");
    assert_eq!(
        out.stdout,
        b"sealed",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn interop_with_nc_socat_and_curl() {
    let dir = TempDir::new("unix-interop");
    let echo = dir.path("echo.sock");
    let _srv = Server::start(&["--echo", &echo]);
    if have("nc") {
        let out = pipe_through(Command::new("nc").args(["-N", "-U", &echo]), b"via nc\n");
        assert_eq!(out, b"via nc\n");
        // nc -lU as the server, netkit connect -U as the client.
        let nc_path = dir.path("nc.sock");
        let mut nc = Command::new("nc")
            .args(["-lU", &nc_path])
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = std::time::Instant::now();
        while !std::path::Path::new(&nc_path).exists() {
            assert!(t0.elapsed() < PATIENCE, "nc -lU did not bind");
            std::thread::sleep(Duration::from_millis(5));
        }
        let out = run_with_input(&["connect", "-U", &nc_path], b"to nc\n");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut got = String::new();
        BufReader::new(nc.stdout.take().unwrap())
            .read_line(&mut got)
            .unwrap();
        assert_eq!(got, "to nc\n");
        let _ = nc.kill();
        let _ = nc.wait();
    }
    if have("socat") {
        let out = pipe_through(
            Command::new("socat").args(["-", &format!("UNIX-CONNECT:{echo}")]),
            b"via socat\n",
        );
        assert_eq!(out, b"via socat\n");
    }
    if have("curl") {
        let http = dir.path("http.sock");
        let _h = Server::start(&[
            "--sh-exec",
            "read -r req; while read -r h; do [ \"$h\" = \"$(printf '\\r')\" ] && break; done; \
             printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 3\\r\\nConnection: close\\r\\n\\r\\nok\\n'",
            &http,
        ]);
        let out = Command::new("curl")
            .args([
                "-sS",
                "--max-time",
                "10",
                "--unix-socket",
                &http,
                "http://localhost/x",
            ])
            .output()
            .unwrap();
        assert_eq!(
            out.stdout,
            b"ok\n",
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Run a client with `input` on stdin; its stdout.
fn pipe_through(cmd: &mut Command, input: &[u8]) -> Vec<u8> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap().stdout
}
