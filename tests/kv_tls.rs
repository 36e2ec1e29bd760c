//! `kv serve --tls`: the readiness loops serve TLS sessions; redis-cli
//! --tls and netkit connect --tls talk to it.

mod common;

use std::process::Command;

use common::{fingerprint_of, have, run_with_input, spawn_server};

#[test]
fn kv_serve_tls_with_redis_cli_and_connect() {
    let srv = spawn_server(&["kv", "serve", "--tls", "0"]);
    assert!(srv.listening.contains("(tls kv"), "{}", srv.listening);
    let fp = fingerprint_of(&srv.listening);
    let port = srv.addr.port().to_string();
    let out = run_with_input(
        &["connect", "--tls-pin", &fp, "127.0.0.1", &port],
        b"SET greeting hello there\nGET greeting\n",
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "OK\nhello there\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A large value crosses in many records both ways.
    let big = "v".repeat(3 << 20);
    let mut req = format!(
        "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n${}\r\n{big}\r\n",
        big.len()
    )
    .into_bytes();
    req.extend_from_slice(b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n");
    let out = run_with_input(&["connect", "--tls-pin", &fp, "127.0.0.1", &port], &req);
    let expect = format!("+OK\r\n${}\r\n{big}\r\n", big.len());
    assert!(
        out.stdout == expect.as_bytes(),
        "{} bytes back",
        out.stdout.len()
    );
    if have("redis-cli") {
        let cli = |args: &[&str]| {
            Command::new("redis-cli")
                .args(["--tls", "--insecure", "-p", &port])
                .args(args)
                .output()
                .unwrap()
        };
        let out = cli(&["SET", "k", "v"]);
        if String::from_utf8_lossy(&out.stderr).contains("not supported") {
            eprintln!("SKIP: this redis-cli was built without TLS");
            return;
        }
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "OK");
        assert_eq!(
            String::from_utf8_lossy(&cli(&["GET", "k"]).stdout).trim(),
            "v"
        );
    }
}
