//! Proxies: `connect --proxy socks5://` and `http://` (through netkit's own
//! proxy modes, through microsocks and through `ncat -l --proxy-type http`),
//! and `serve --socks5` / `serve --http-proxy` used by curl.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

use common::{PATIENCE, have, peers, run_with_input, spawn_server};

const PROXY_EXIT: i32 = 7;

/// A tiny HTTP server: `serve --sh-exec` answering every request with its request line.
fn http_server() -> common::Running {
    spawn_server(&[
        "serve",
        "--sh-exec",
        "read -r req; while read -r h; do [ \"$h\" = \"$(printf '\\r')\" ] && break; done; \
         body=\"got: $req\"; printf 'HTTP/1.1 200 OK\\r\\nContent-Length: %s\\r\\nConnection: close\\r\\n\\r\\n%s' \"${#body}\" \"$body\"",
        "0",
    ])
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn connect_through_netkit_socks5_and_http_proxies() {
    let echo = spawn_server(&["serve", "--echo", "0"]);
    let eport = echo.addr.port().to_string();
    let socks = spawn_server(&["serve", "--socks5", "-v", "0"]);
    let http = spawn_server(&["serve", "--http-proxy", "-v", "0"]);
    let data = common::random_bytes(1 << 20, 9);
    for url in [
        format!("socks5://127.0.0.1:{}", socks.addr.port()),
        format!("http://127.0.0.1:{}", http.addr.port()),
    ] {
        // A name: resolved by the proxy.
        let out = run_with_input(&["connect", "--proxy", &url, "localhost", &eport], &data);
        assert!(out.stdout == data, "{url}: {}", stderr(&out));
    }
    socks.wait_stderr(&format!("SOCKS5 CONNECT localhost:{eport}"));
    http.wait_stderr(&format!("CONNECT localhost:{eport}"));

    // --deny turns clients away before any negotiation.
    let denied = spawn_server(&["serve", "--socks5", "--deny", "127.0.0.0/8", "-v", "0"]);
    let url = format!("socks5://127.0.0.1:{}", denied.addr.port());
    let out = run_with_input(&["connect", "--proxy", &url, "127.0.0.1", &eport], b"x");
    assert!(!out.status.success());
    denied.wait_stderr("rejected by --allow/--deny");
}

#[test]
fn proxy_credentials_and_refusals() {
    let echo = spawn_server(&["serve", "--echo", "0"]);
    let eport = echo.addr.port().to_string();
    for mode in ["--socks5", "--http-proxy"] {
        let p = spawn_server(&["serve", mode, "--proxy-auth", "alice:s3cret", "0"]);
        let scheme = if mode == "--socks5" { "socks5" } else { "http" };
        let base = format!("{scheme}://127.0.0.1:{}", p.addr.port());
        let with_url = format!("{scheme}://alice:s3cret@127.0.0.1:{}", p.addr.port());
        let out = run_with_input(
            &["connect", "--proxy", &with_url, "127.0.0.1", &eport],
            b"in url",
        );
        assert_eq!(out.stdout, b"in url", "{mode}: {}", stderr(&out));
        let out = run_with_input(
            &[
                "connect",
                "--proxy",
                &base,
                "--proxy-auth",
                "alice:s3cret",
                "127.0.0.1",
                &eport,
            ],
            b"flag",
        );
        assert_eq!(out.stdout, b"flag", "{mode}: {}", stderr(&out));
        for args in [
            vec![
                "connect",
                "--proxy",
                &base,
                "--proxy-auth",
                "alice:wrong",
                "127.0.0.1",
                &eport,
            ],
            vec!["connect", "--proxy", &base, "127.0.0.1", &eport],
        ] {
            let out = run_with_input(&args, b"x");
            assert_eq!(
                out.status.code(),
                Some(PROXY_EXIT),
                "{mode} {args:?}: {}",
                stderr(&out)
            );
            assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
        }
    }

    // A target that refuses, behind the proxy: exit 3 as for a direct connect.
    let closed = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    closed
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap(); // bound, never listening: connections are refused
    let cport = closed
        .local_addr()
        .unwrap()
        .as_socket()
        .unwrap()
        .port()
        .to_string();
    let socks = spawn_server(&["serve", "--socks5", "0"]);
    let out = run_with_input(
        &[
            "connect",
            "--proxy",
            &format!("socks5://127.0.0.1:{}", socks.addr.port()),
            "127.0.0.1",
            &cport,
        ],
        b"x",
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let http = spawn_server(&["serve", "--http-proxy", "0"]);
    let out = run_with_input(
        &[
            "connect",
            "--proxy",
            &format!("http://127.0.0.1:{}", http.addr.port()),
            "127.0.0.1",
            &cport,
        ],
        b"x",
    );
    assert_eq!(out.status.code(), Some(PROXY_EXIT), "{}", stderr(&out));
    assert!(stderr(&out).contains("502"), "{}", stderr(&out));
}

#[test]
fn the_http_proxy_only_tunnels_and_keeps_early_bytes() {
    let echo = spawn_server(&["serve", "--echo", "0"]);
    let http = spawn_server(&["serve", "--http-proxy", "0"]);
    let mut c = TcpStream::connect(http.addr).unwrap();
    c.set_read_timeout(Some(PATIENCE)).unwrap();
    c.write_all(b"GET http://example.test/ HTTP/1.1\r\nHost: example.test\r\n\r\n")
        .unwrap();
    let mut resp = String::new();
    c.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 405 "), "{resp}");
    assert!(resp.contains("Allow: CONNECT"), "{resp}");

    // Bytes sent right behind the request reach the target after the 200.
    let mut c = TcpStream::connect(http.addr).unwrap();
    c.set_read_timeout(Some(PATIENCE)).unwrap();
    let req = format!(
        "CONNECT 127.0.0.1:{0} HTTP/1.1\r\nHost: 127.0.0.1:{0}\r\n\r\npipelined",
        echo.addr.port()
    );
    c.write_all(req.as_bytes()).unwrap();
    c.shutdown(std::net::Shutdown::Write).unwrap();
    let mut resp = Vec::new();
    c.read_to_end(&mut resp).unwrap();
    let text = String::from_utf8_lossy(&resp);
    assert!(text.starts_with("HTTP/1.1 200 "), "{text}");
    assert!(text.ends_with("\r\n\r\npipelined"), "{text}");
}

#[test]
fn curl_through_netkit_proxies() {
    if !have("curl") {
        return;
    }
    let web = http_server();
    let url = format!("http://localhost:{}/path", web.addr.port());
    let socks = spawn_server(&["serve", "--socks5", "0"]);
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--socks5-hostname"])
        .arg(format!("127.0.0.1:{}", socks.addr.port()))
        .arg(&url)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "got: GET /path HTTP/1.1\r",
        "{}",
        stderr(&out)
    );
    let http = spawn_server(&["serve", "--http-proxy", "--proxy-auth", "u:p", "0"]);
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "-p", "-x"])
        .arg(format!("http://u:p@127.0.0.1:{}", http.addr.port()))
        .arg(&url)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "got: GET /path HTTP/1.1\r",
        "{}",
        stderr(&out)
    );
    // Without the password: 407, and curl says so.
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "-p", "-x"])
        .arg(format!("http://127.0.0.1:{}", http.addr.port()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("407"), "{}", stderr(&out));
}

#[test]
fn connect_through_microsocks() {
    if !have("microsocks") {
        return;
    }
    let echo = spawn_server(&["serve", "--echo", "0"]);
    let mut cmd = Command::new("microsocks");
    cmd.args(["-i", "127.0.0.1", "-p", "0"]);
    let ms = peers::start_silent(cmd);
    // microsocks ends a tunnel at the first EOF (no half-close), so the
    // echo is read through the library's client before anything closes.
    let url = format!("socks5://127.0.0.1:{}", ms.port);
    assert_eq!(
        ask(&url, "localhost", echo.addr.port(), "via microsocks\n"),
        "via microsocks\n"
    );

    let mut cmd = Command::new("microsocks");
    cmd.args(["-i", "127.0.0.1", "-p", "0", "-u", "bob", "-P", "pw"]);
    let authed = peers::start_silent(cmd);
    let url = format!("socks5://bob:pw@127.0.0.1:{}", authed.port);
    assert_eq!(
        ask(&url, "127.0.0.1", echo.addr.port(), "authed\n"),
        "authed\n"
    );
    // Bad credentials: one line, exit 7, through the binary.
    let url = format!("socks5://bob:nope@127.0.0.1:{}", authed.port);
    let eport = echo.addr.port().to_string();
    let out = run_with_input(&["connect", "--proxy", &url, "127.0.0.1", &eport], b"x");
    assert_eq!(out.status.code(), Some(PROXY_EXIT), "{}", stderr(&out));
}

/// ncat 7.93 in `--proxy-type http` mode binds every address whatever it is
/// told, so it runs in a network namespace of its own (only a loopback
/// device exists there), with the echo server and the netkit client.
#[test]
fn connect_through_ncat_http_proxy_in_a_private_network() {
    if !have("ncat") || !have("unshare") || !have("ss") {
        return;
    }
    let probe = Command::new("unshare").args(["-rn", "true"]).status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("SKIP: unshare -rn (a private network namespace) is not permitted here");
        return;
    }
    let dir = common::TempDir::new("ncat-proxy");
    let script = r#"
set -eu
ip link set lo up
"$NK" serve --echo 0 >/dev/null 2>"$D/echo.err" &
echo_pid=$!
until ep=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$D/echo.err") && [ -n "$ep" ]; do sleep 0.02; done
ncat -lk --proxy-type http 127.0.0.1 0 >/dev/null 2>&1 &
np=$!
until port=$(ss -Hltnp | awk -v p="pid=$np," 'index($0, p) && $4 ~ /^0\.0\.0\.0:/ { split($4, a, ":"); print a[2] }') && [ -n "$port" ]; do sleep 0.02; done
# ncat ends a tunnel at the first EOF: hold stdin open while the echo returns.
(printf 'via ncat\n'; sleep 2) | "$NK" connect --proxy "http://127.0.0.1:$port" 127.0.0.1 "$ep"
kill $np $echo_pid 2>/dev/null || true
"#;
    let out = Command::new("unshare")
        .args(["-rn", "sh", "-c", script])
        .env("NK", env!("CARGO_BIN_EXE_netkit"))
        .env("D", &dir.0)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "via ncat\n",
        "{}",
        stderr(&out)
    );
}

/// Through the proxy at `url` to `host:port` with netkit's own client (the
/// code `connect --proxy` runs): send `line`, return the first line back.
fn ask(url: &str, host: &str, port: u16, line: &str) -> String {
    use netkit::transport::dial::{self, DialOptions, Target};
    let proxy = netkit::proxy::ProxyUrl::parse(url).unwrap();
    let s = dial::dial(
        &Target::Tcp {
            host: host.into(),
            port,
        },
        &DialOptions {
            proxy: Some(proxy),
            connect: netkit::net::ConnectOptions {
                timeout: Some(PATIENCE),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .expect("through the proxy");
    s.set_timeouts(Some(PATIENCE)).unwrap();
    (&s).write_all(line.as_bytes()).unwrap();
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    while (&s).read(&mut b).unwrap() == 1 {
        out.push(b[0]);
        if b[0] == b'\n' {
            break;
        }
    }
    String::from_utf8(out).unwrap()
}
