//! TLS: `serve --tls` in every mode, `connect --tls` with pins, CAs, SNI,
//! ALPN and client certificates, one-line handshake errors with exit code 6,
//! and interop with openssl, ncat, socat and curl.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::thread;

use common::{PATIENCE, Running, TempDir, fingerprint_of, have, netkit, peers, pki, spawn_server};
use netkit::transport::Stream;
use netkit::transport::dial::{self, DialOptions, Target};
use netkit::transport::tlsconfig::{TlsClientOptions, parse_pin};

const TLS_EXIT: i32 = 6;

/// A TLS client through the library, trusting the server's printed pin.
fn tls_client(srv: &Running) -> Stream {
    let tls = TlsClientOptions {
        pin: Some(parse_pin(&fingerprint_of(&srv.listening)).unwrap()),
        ..Default::default()
    }
    .build()
    .unwrap();
    let s = dial::dial(
        &Target::Tcp {
            host: "127.0.0.1".into(),
            port: srv.addr.port(),
        },
        &DialOptions {
            tls: Some(tls),
            ..Default::default()
        },
    )
    .expect("dial");
    s.set_timeouts(Some(PATIENCE)).unwrap();
    s
}

fn read_line(s: &Stream) -> String {
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    loop {
        match (&*s).read(&mut b) {
            Ok(0) => break,
            Ok(_) => {
                out.push(b[0]);
                if b[0] == b'\n' {
                    break;
                }
            }
            Err(e) => panic!("read: {e}"),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn read_to_end(s: &Stream) -> Vec<u8> {
    let mut out = Vec::new();
    (&*s).read_to_end(&mut out).expect("read");
    out
}

/// `netkit connect ARGS` with `input` on stdin.
fn connect(args: &[&str], input: &[u8]) -> std::process::Output {
    common::run_with_input(args, input)
}

#[test]
fn serve_tls_with_no_files_and_connect_with_the_printed_pin() {
    let srv = spawn_server(&["serve", "--tls", "--echo", "0"]);
    assert!(
        srv.listening.contains("(tls echo, sha256 "),
        "{}",
        srv.listening
    );
    let fp = fingerprint_of(&srv.listening);
    assert_eq!(fp.len(), 95, "{fp}");
    let port = srv.addr.port().to_string();
    let data = common::random_bytes(3 << 20, 7);
    let out = connect(
        &["connect", "--tls", "--tls-pin", &fp, "127.0.0.1", &port],
        &data,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout == data,
        "echo differs ({} bytes back)",
        out.stdout.len()
    );
    // The pin in lower case without colons is the same pin.
    let bare = fp.replace(':', "").to_lowercase();
    let out = connect(&["connect", "--tls-pin", &bare, "localhost", &port], b"x");
    assert_eq!(out.stdout, b"x", "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_lone_line_crosses_tls_before_stdin_closes() {
    let srv = spawn_server(&["serve", "--tls", "--echo", "0"]);
    let fp = fingerprint_of(&srv.listening);
    let mut child = netkit()
        .args([
            "connect",
            "--tls-pin",
            &fp,
            "127.0.0.1",
            &srv.addr.port().to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for word in ["first\n", "second\n"] {
        stdin.write_all(word.as_bytes()).unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line, word);
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn every_stream_mode_speaks_tls() {
    // upper
    let srv = spawn_server(&["serve", "--tls", "--upper", "0"]);
    let c = tls_client(&srv);
    (&c).write_all(b"hello\n").unwrap();
    assert_eq!(read_line(&c), "HELLO\n");
    (&c).write_all(b"quit\n").unwrap();
    assert_eq!(read_line(&c), "bye\n");

    // time, then close
    let srv = spawn_server(&["serve", "--tls", "--time", "0"]);
    let c = tls_client(&srv);
    let t = String::from_utf8(read_to_end(&c)).unwrap();
    assert!(t.trim().parse::<u64>().unwrap() > 1_600_000_000, "{t}");

    // source
    let srv = spawn_server(&["serve", "--tls", "--source", "0"]);
    let c = tls_client(&srv);
    let mut buf = vec![0u8; 74];
    (&c).read_exact(&mut buf).unwrap();
    assert!(buf.starts_with(b" !\"#$"), "{buf:?}");

    // discard, counted with -v
    let srv = spawn_server(&["serve", "--tls", "--discard", "-v", "0"]);
    let c = tls_client(&srv);
    (&c).write_all(&vec![b'z'; 100_000]).unwrap();
    c.shutdown_write().unwrap();
    assert!(read_to_end(&c).is_empty());
    srv.wait_stderr("(100000 bytes)");

    // framed
    let srv = spawn_server(&["serve", "--tls", "--framed", "0"]);
    let c = tls_client(&srv);
    (&c).write_all(&[0, 0, 0, 3, b'a', b'b', b'c']).unwrap();
    let mut back = [0u8; 7];
    (&c).read_exact(&mut back).unwrap();
    assert_eq!(&back, &[0, 0, 0, 3, b'a', b'b', b'c']);

    // exec: the command sees plaintext through pipes netkit relays
    let srv = spawn_server(&["serve", "--tls", "--sh-exec", "tr a-z A-Z", "0"]);
    let c = tls_client(&srv);
    (&c).write_all(b"shout\n").unwrap();
    c.shutdown_write().unwrap();
    assert_eq!(read_to_end(&c), b"SHOUT\n");

    // chat between two TLS clients
    let srv = spawn_server(&["serve", "--tls", "--chat", "0"]);
    let a = tls_client(&srv);
    assert!(read_line(&a).starts_with("*** welcome"));
    let b = tls_client(&srv);
    assert!(read_line(&b).starts_with("*** welcome"));
    assert!(read_line(&a).contains("joined"));
    (&a).write_all(b"hi b\n").unwrap();
    assert!(read_line(&b).ends_with("] hi b\n"));
}

#[test]
fn listen_mode_over_tls_pipes_both_ways() {
    let mut srv = spawn_server(&["serve", "--tls", "0"]);
    let c = tls_client(&srv);
    let mut stdin = srv.stdin.take().unwrap();
    stdin.write_all(b"from server\n").unwrap();
    drop(stdin);
    assert_eq!(read_line(&c), "from server\n");
    (&c).write_all(b"from client\n").unwrap();
    c.shutdown_write().unwrap();
    assert_eq!(srv.read_stdout(), b"from client\n");
    assert!(srv.wait_exit().success());
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn handshake_failures_are_one_line_with_exit_code_6() {
    let pki = pki::make("tls-errors");
    let port_of = |srv: &Running| srv.addr.port().to_string();

    // Unknown CA: the self-signed certificate against the system roots.
    let srv = spawn_server(&["serve", "--tls", "--echo", "0"]);
    let out = connect(&["connect", "--tls", "127.0.0.1", &port_of(&srv)], b"x");
    assert_eq!(out.status.code(), Some(TLS_EXIT), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("unknown authority"), "{err}");

    // Pin mismatch: names the fingerprint the server really has.
    let wrong = "AA:".repeat(31) + "AA";
    let out = connect(
        &["connect", "--tls-pin", &wrong, "127.0.0.1", &port_of(&srv)],
        b"x",
    );
    assert_eq!(out.status.code(), Some(TLS_EXIT));
    assert!(
        stderr_of(&out).contains("pin mismatch"),
        "{}",
        stderr_of(&out)
    );
    assert!(stderr_of(&out).contains(&fingerprint_of(&srv.listening)));

    // Expired.
    let srv = spawn_server(&[
        "serve",
        "--tls-cert",
        &pki.expired_cert,
        "--tls-key",
        &pki.expired_key,
        "--echo",
        "0",
    ]);
    let out = connect(
        &["connect", "--tls-ca", &pki.ca, "127.0.0.1", &port_of(&srv)],
        b"x",
    );
    assert_eq!(out.status.code(), Some(TLS_EXIT));
    assert!(
        stderr_of(&out).contains("certificate expired on "),
        "{}",
        stderr_of(&out)
    );

    // Wrong name, and --tls-sni to check the right one.
    let srv = spawn_server(&[
        "serve",
        "--tls-cert",
        &pki.other_cert,
        "--tls-key",
        &pki.other_key,
        "--echo",
        "0",
    ]);
    let out = connect(
        &["connect", "--tls-ca", &pki.ca, "127.0.0.1", &port_of(&srv)],
        b"x",
    );
    assert_eq!(out.status.code(), Some(TLS_EXIT));
    assert!(
        stderr_of(&out).contains("certificate is for other.test, not '127.0.0.1'"),
        "{}",
        stderr_of(&out)
    );
    let out = connect(
        &[
            "connect",
            "--tls-ca",
            &pki.ca,
            "--tls-sni",
            "other.test",
            "127.0.0.1",
            &port_of(&srv),
        ],
        b"ok",
    );
    assert_eq!(out.stdout, b"ok", "{}", stderr_of(&out));

    // Not a TLS server at all.
    let plain = spawn_server(&["serve", "--echo", "0"]);
    let out = connect(
        &["connect", "--tls-insecure", "127.0.0.1", &port_of(&plain)],
        b"x",
    );
    assert_eq!(out.status.code(), Some(TLS_EXIT), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("does not speak TLS"),
        "{}",
        stderr_of(&out)
    );

    // --tls-insecure accepts the expired one.
    let srv = spawn_server(&[
        "serve",
        "--tls-cert",
        &pki.expired_cert,
        "--tls-key",
        &pki.expired_key,
        "--echo",
        "0",
    ]);
    let out = connect(
        &["connect", "--tls-insecure", "127.0.0.1", &port_of(&srv)],
        b"y",
    );
    assert_eq!(out.stdout, b"y");
}

#[test]
fn client_certificates_sni_and_alpn() {
    let pki = pki::make("tls-client");
    let srv = spawn_server(&[
        "serve",
        "--tls-cert",
        &pki.cert,
        "--tls-key",
        &pki.key,
        "--tls-ca",
        &pki.ca,
        "--echo",
        "0",
    ]);
    let port = srv.addr.port().to_string();
    let out = connect(&["connect", "--tls-ca", &pki.ca, "localhost", &port], b"x");
    assert_eq!(out.status.code(), Some(TLS_EXIT), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("requires a client certificate"),
        "{}",
        stderr_of(&out)
    );
    let out = connect(
        &[
            "connect",
            "--tls-ca",
            &pki.ca,
            "--tls-cert",
            &pki.client_cert,
            "--tls-key",
            &pki.client_key,
            "localhost",
            &port,
        ],
        b"mutual",
    );
    assert_eq!(out.stdout, b"mutual", "{}", stderr_of(&out));

    // The command sees the SNI and ALPN the client asked for.
    let srv = spawn_server(&[
        "serve",
        "--tls",
        "--tls-alpn",
        "h2,http/1.1",
        "--sh-exec",
        "echo \"$NETKIT_TLS_SNI $NETKIT_TLS_ALPN $NETKIT_TLS_VERSION\"",
        "0",
    ]);
    let fp = fingerprint_of(&srv.listening);
    let out = connect(
        &[
            "connect",
            "--tls-pin",
            &fp,
            "--tls-sni",
            "api.test",
            "--tls-alpn",
            "http/1.1",
            "-v",
            "127.0.0.1",
            &srv.addr.port().to_string(),
        ],
        b"",
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "api.test http/1.1 TLSv1.3\n",
        "{}",
        stderr_of(&out)
    );
    assert!(
        stderr_of(&out).contains("ALPN http/1.1"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn openssl_s_client_and_s_server() {
    if !have("openssl") {
        return;
    }
    let srv = spawn_server(&["serve", "--tls", "--echo", "0"]);
    // s_client -quiet ignores stdin EOF: read the echo, then stop it.
    let mut client = Command::new("openssl")
        .args(["s_client", "-quiet", "-connect", &srv.addr.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut c_in = client.stdin.take().unwrap();
    let mut c_out = BufReader::new(client.stdout.take().unwrap());
    c_in.write_all(b"through openssl\n").unwrap();
    let mut line = String::new();
    c_out.read_line(&mut line).unwrap();
    assert_eq!(line, "through openssl\n");
    let _ = client.kill();
    let _ = client.wait();

    // netkit connect against openssl s_server, verified by our CA.
    let pki = pki::make("tls-s_server");
    // Without -quiet, s_server prints the port it bound ("ACCEPT ...").
    let mut cmd = Command::new("openssl");
    cmd.args([
        "s_server",
        "-accept",
        "127.0.0.1:0",
        "-cert",
        &pki.cert,
        "-key",
        &pki.key,
        "-naccept",
        "1",
    ]);
    let mut peer = peers::start(cmd, "ACCEPT ");
    let mut s_stdin = peer.child.stdin.take().unwrap();
    let port = peer.port.to_string();
    let mut child = netkit()
        .args(["connect", "--tls-ca", &pki.ca, "localhost", &port])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    s_stdin.write_all(b"from s_server\n").unwrap();
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "from s_server\n");
    drop(child.stdin.take());
    drop(peer);
    let _ = child.wait();
}

#[test]
fn ncat_ssl_and_socat_openssl_clients_and_socat_server() {
    let srv = spawn_server(&["serve", "--tls", "--echo", "0"]);
    let port = srv.addr.port().to_string();
    let data = common::random_bytes(200_000, 3);
    if have("ncat") {
        let out = run_peer(
            Command::new("ncat").args(["--ssl", "127.0.0.1", &port]),
            &data,
        );
        assert!(out == data, "ncat got {} bytes back", out.len());
    }
    if !have("socat") {
        return;
    }
    let out = run_peer(
        Command::new("socat").args(["-", &format!("OPENSSL:127.0.0.1:{port},verify=0")]),
        &data,
    );
    assert!(out == data, "socat got {} bytes back", out.len());

    // netkit connect against socat OPENSSL-LISTEN (an echo), verified by our CA.
    let pki = pki::make("tls-socat");
    let mut cmd = Command::new("socat");
    cmd.args([
        "-d",
        "-d",
        &format!(
            "OPENSSL-LISTEN:0,bind=127.0.0.1,reuseaddr,cert={},key={},verify=0",
            pki.cert, pki.key
        ),
        "PIPE",
    ]);
    let peer = peers::start(cmd, "listening on AF=2 ");
    let out = connect(
        &[
            "connect",
            "--tls-ca",
            &pki.ca,
            "localhost",
            &peer.port.to_string(),
        ],
        &data,
    );
    assert!(out.stdout == data, "{}", stderr_of(&out));
}

/// Run a client program with `input` on stdin; its stdout.
fn run_peer(cmd: &mut Command, input: &[u8]) -> Vec<u8> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("peer");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let feeder = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    out.stdout
}

#[test]
fn curl_https_against_serve_tls_sh_exec() {
    if !have("curl") {
        return;
    }
    let pki = pki::make("tls-curl");
    let dir = TempDir::new("tls-curl-script");
    let script = dir.path("http.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\n\
         read -r request\n\
         while read -r h; do [ \"$h\" = \"$(printf '\\r')\" ] && break; done\n\
         body=\"you asked: $request\"\n\
         printf 'HTTP/1.1 200 OK\\r\\nContent-Length: %s\\r\\nConnection: close\\r\\n\\r\\n%s' \"${#body}\" \"$body\"\n",
    )
    .unwrap();
    let srv = spawn_server(&[
        "serve",
        "--tls-cert",
        &pki.cert,
        "--tls-key",
        &pki.key,
        "--sh-exec",
        &format!("sh {script}"),
        "0",
    ]);
    let url = format!("https://localhost:{}/hello", srv.addr.port());
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--cacert", &pki.ca, &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(body.starts_with("you asked: GET /hello HTTP/1.1"), "{body}");
}

#[test]
fn the_prompt_runs_over_tls() {
    let srv = spawn_server(&["serve", "--tls", "--upper", "0"]);
    let fp = fingerprint_of(&srv.listening);
    let out = connect(
        &[
            "connect",
            "-i",
            "--tls-pin",
            &fp,
            "127.0.0.1",
            &srv.addr.port().to_string(),
        ],
        b"through the prompt\n",
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("THROUGH THE PROMPT"),
        "{} / {}",
        String::from_utf8_lossy(&out.stdout),
        stderr_of(&out)
    );
}
