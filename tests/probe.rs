//! `connect -z`: open, closed, filtered and UDP ports, all on loopback.

mod common;

use std::net::{TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

use common::{netkit, spawn_server};

fn closed_tcp_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port() // dropped: nothing listens there now
}

fn probe(args: &[&str]) -> std::process::Output {
    netkit()
        .args(["connect", "-z"])
        .args(args)
        .output()
        .expect("run netkit")
}

#[test]
fn open_ports_are_printed_in_order_and_exit_0() {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    let (pa, pb) = (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    );
    let closed = closed_tcp_port();
    let list = format!("{pb},{closed},{pa}");
    let out = probe(&["127.0.0.1", &list]);
    assert!(out.status.success(), "{out:?}");
    let (lo, hi) = (pa.min(pb), pa.max(pb));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{lo}/tcp open\n{hi}/tcp open\n")
    );

    let out = probe(&["-v", "127.0.0.1", &list]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("{closed}/tcp closed")), "{text}");
    assert_eq!(text.lines().count(), 3);

    let out = probe(&["--json", "-v", "127.0.0.1", &list]);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let (summary, ports) = lines.split_last().expect("lines");
    assert_eq!(summary["event"], "summary");
    assert_eq!(summary["open"], 2);
    assert_eq!(summary["closed"], 1);
    let states: Vec<(u64, String)> = ports
        .iter()
        .map(|v| {
            assert_eq!(v["event"], "port");
            (
                v["port"].as_u64().unwrap(),
                v["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(states.contains(&(u64::from(closed), "closed".into())));
    assert!(states.contains(&(u64::from(pa), "open".into())));
}

#[test]
fn nothing_open_exits_1() {
    let closed = closed_tcp_port().to_string();
    let out = probe(&["127.0.0.1", &closed]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("netkit: error: no open port"));
}

#[test]
fn bad_port_lists_are_usage_errors() {
    for bad in ["0", "70000", "5-1", "a", "", "1,,2"] {
        let out = probe(&["127.0.0.1", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn a_full_backlog_is_filtered() {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    s.bind(
        &"127.0.0.1:0"
            .parse::<std::net::SocketAddr>()
            .unwrap()
            .into(),
    )
    .unwrap();
    s.listen(0).unwrap();
    let addr = s.local_addr().unwrap().as_socket().unwrap();
    // Fill the accept queue (never accepted) until a connect times out.
    let mut held = Vec::new();
    let full =
        (0..16).any(
            |_| match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                Ok(c) => {
                    held.push(c);
                    false
                }
                Err(_) => true,
            },
        );
    if !full {
        panic!("the accept queue never filled; cannot test a filtered port");
    }
    let out = probe(&["-v", "-w", "300ms", "127.0.0.1", &addr.port().to_string()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("{}/tcp filtered", addr.port())),
        "{text}"
    );
}

#[test]
fn udp_is_open_closed_or_honestly_open_filtered() {
    let echo = spawn_server(&["serve", "udp", "--echo", "0"]);
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let closed = {
        let u = UdpSocket::bind("127.0.0.1:0").unwrap();
        u.local_addr().unwrap().port()
    };
    let (e, s) = (echo.addr.port(), silent.local_addr().unwrap().port());
    let mut ports = [e, s, closed];
    ports.sort();
    let list = ports.map(|p| p.to_string()).join(",");
    let out = probe(&["-u", "-v", "-w", "300ms", "127.0.0.1", &list]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("{e}/udp open ")), "{text}");
    assert!(text.contains(&format!("{s}/udp open|filtered")), "{text}");
    assert!(text.contains(&format!("{closed}/udp closed")), "{text}");

    // Silence alone is not success.
    let out = probe(&["-u", "-w", "200ms", "127.0.0.1", &s.to_string()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("open|filtered"));
}

#[test]
fn service_names_are_ports() {
    if !std::path::Path::new("/etc/services").exists() {
        eprintln!("SKIP: no /etc/services to look service names up in");
        return;
    }
    let out = probe(&["-v", "-w", "300ms", "127.0.0.1", "http,ssh"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let ports: Vec<&str> = text
        .lines()
        .map(|l| l.split('/').next().unwrap_or(""))
        .collect();
    assert_eq!(ports, ["22", "80"], "{text}");
    let out = probe(&["127.0.0.1", "no-such-service-netkit"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/etc/services"));
}
