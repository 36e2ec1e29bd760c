//! `netkit bench`: every kind against an in-process server on port 0 with short
//! runs, the figures checked against what the server itself counted; wrong
//! servers, refusals and silence; and the binary's JSON and clean stderr.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{InProcess, netkit, spawn_server};
use netkit::bench::{self, BenchConfig, Direction, Kind, Limit};
use netkit::error::{code, exit_code};
use netkit::serve::{TcpConfig, TcpMode};

fn cfg(kind: Kind, ms: u64) -> BenchConfig {
    BenchConfig {
        kind,
        limit: Limit::Time(Duration::from_millis(ms)),
        size: match kind {
            Kind::Latency => 64,
            Kind::Udp => 1400,
            _ => 128 * 1024,
        },
        timeout: Duration::from_secs(5),
        ..BenchConfig::default()
    }
}

fn at(addr: SocketAddr) -> Option<(String, u16)> {
    Some((addr.ip().to_string(), addr.port()))
}

#[test]
fn throughput_bytes_agree_with_the_server() {
    let r = bench::run(&cfg(Kind::Throughput, 200)).expect("bench");
    let server = r.server.clone().expect("in-process server summary");
    let sent: u64 = r.streams.iter().map(|s| s.sent).sum();
    assert!(sent > 0);
    assert_eq!(server.bytes_in, sent, "client and server disagree");
    assert_eq!(
        r.measured_bytes(),
        sent,
        "no warm-up: every byte is measured"
    );
    assert!(r.secs > 0.1 && r.secs < 2.0, "{}", r.secs);
    assert!(r.bits_per_sec() > 0.0);
}

#[test]
fn throughput_with_a_byte_count_sends_exactly_that_over_two_streams() {
    let mut c = cfg(Kind::Throughput, 0);
    c.limit = Limit::Bytes(10 << 20);
    c.streams = 2;
    c.size = 100_000; // not a divisor: the last write is short
    let r = bench::run(&c).expect("bench");
    assert_eq!(r.streams.len(), 2);
    for s in &r.streams {
        assert_eq!(s.sent, 5 << 20);
    }
    assert_eq!(r.server.expect("summary").bytes_in, 10 << 20);
}

#[test]
fn reverse_reads_what_the_source_sent() {
    let mut c = cfg(Kind::Throughput, 200);
    c.direction = Direction::Receive;
    let r = bench::run(&c).expect("bench");
    let got: u64 = r.streams.iter().map(|s| s.received).sum();
    assert!(got > 0);
    let server = r.server.clone().expect("summary");
    assert!(server.bytes_out >= got, "{} < {got}", server.bytes_out);
}

#[test]
fn bidir_gets_back_every_byte() {
    let mut c = cfg(Kind::Throughput, 200);
    c.direction = Direction::Both;
    c.streams = 2;
    let r = bench::run(&c).expect("bench");
    let server = r.server.clone().expect("summary");
    for s in &r.streams {
        assert!(s.sent > 0);
        assert_eq!(s.sent, s.received);
    }
    let sent: u64 = r.streams.iter().map(|s| s.sent).sum();
    assert_eq!(server.bytes_in, sent);
    assert_eq!(server.bytes_out, sent);
}

fn assert_ordered(p: &bench::report::Percentiles) {
    assert!(p.count > 0);
    assert!(p.min <= p.p50, "{p:?}");
    assert!(
        p.p50 <= p.p90 && p.p90 <= p.p99 && p.p99 <= p.p999 && p.p999 <= p.max,
        "{p:?}"
    );
}

#[test]
fn latency_closed_loop_counts_every_round_trip() {
    let mut c = cfg(Kind::Latency, 200);
    c.connections = 3;
    let r = bench::run(&c).expect("bench");
    let p = r.latency.expect("percentiles");
    assert_ordered(&p);
    assert_eq!(p.count, r.ops());
    let server = r.server.clone().expect("summary");
    let sent: u64 = r.streams.iter().map(|s| s.sent).sum();
    assert_eq!(server.bytes_in, sent);
    assert_eq!(server.bytes_out, sent);
    assert_eq!(server.connections, 3);
    // No warm-up was asked for: every request is a sample.
    assert_eq!(sent, r.ops() * 64);
}

#[test]
fn latency_warmup_is_excluded() {
    let mut c = cfg(Kind::Latency, 150);
    c.warmup = Duration::from_millis(100);
    let r = bench::run(&c).expect("bench");
    let sent: u64 = r.streams.iter().map(|s| s.sent).sum();
    assert!(sent > r.ops() * 64, "warm-up requests must not be samples");
    assert_eq!(r.server.expect("summary").bytes_in, sent);
}

#[test]
fn latency_open_loop_sends_at_the_rate() {
    let mut c = cfg(Kind::Latency, 400);
    c.connections = 2;
    c.rate = Some(1000.0);
    let r = bench::run(&c).expect("bench");
    assert_ordered(&r.latency.expect("percentiles"));
    // 1000/s for 0.4s: 400 requests, scheduled, whatever the server does.
    assert!((390..=410).contains(&r.ops()), "{}", r.ops());
}

#[test]
fn connect_counts_connections_the_server_saw() {
    let mut c = cfg(Kind::Connect, 150);
    c.connections = 2;
    let r = bench::run(&c).expect("bench");
    assert!(r.ops() > 0);
    assert_ordered(&r.latency.expect("percentiles"));
    // The server also saw the probe connection made before measuring; on a
    // loaded machine many may still sit in its backlog (connected, never
    // accepted) when it is stopped, so it can have seen fewer, never more.
    let seen = r.server.clone().expect("summary").connections;
    assert!(seen > 0 && seen <= r.ops() + 1, "{seen} vs {} + 1", r.ops());
}

#[test]
fn udp_at_a_modest_rate_loses_nothing() {
    let mut c = cfg(Kind::Udp, 200);
    c.rate = Some(5000.0);
    c.size = 200;
    let r = bench::run(&c).expect("bench");
    let u = r.udp.expect("udp figures");
    assert!((990..=1010).contains(&u.sent), "{}", u.sent);
    assert_eq!(u.received, u.sent, "loss on loopback at 5000/s");
    assert_eq!(u.lost(), 0);
    assert_eq!(u.duplicates, 0);
    assert_ordered(&r.latency.expect("percentiles"));
    let server = r.server.clone().expect("summary");
    assert_eq!(server.connections, u.sent);
    assert_eq!(server.bytes_in, u.sent * 200);
}

fn against(mode: TcpMode, kind: Kind, f: impl FnOnce(&mut BenchConfig)) -> anyhow::Error {
    let server = InProcess::tcp(TcpConfig {
        mode,
        ..TcpConfig::default()
    });
    let mut c = cfg(kind, 2000);
    c.target = at(server.addr);
    c.timeout = Duration::from_millis(300);
    f(&mut c);
    bench::run(&c).expect_err("a wrong server must be an error")
}

#[test]
fn latency_against_discard_is_no_reply_not_a_hang() {
    let e = against(TcpMode::Discard, Kind::Latency, |_| {});
    assert_eq!(exit_code(&e), code::NO_REPLY, "{e:#}");
    assert!(format!("{e:#}").contains("echo server"), "{e:#}");
}

#[test]
fn many_connections_against_the_wrong_server_fail_too() {
    let e = against(TcpMode::Discard, Kind::Latency, |c| c.connections = 4);
    assert_eq!(exit_code(&e), code::NO_REPLY, "{e:#}");
    let e = against(TcpMode::Source, Kind::Latency, |c| c.connections = 4);
    assert!(format!("{e:#}").contains("differs"), "{e:#}");
}

#[test]
fn latency_against_source_sees_a_different_reply() {
    let e = against(TcpMode::Source, Kind::Latency, |_| {});
    assert!(format!("{e:#}").contains("differs"), "{e:#}");
}

#[test]
fn reverse_against_discard_is_no_reply() {
    let e = against(TcpMode::Discard, Kind::Throughput, |c| {
        c.direction = Direction::Receive
    });
    assert_eq!(exit_code(&e), code::NO_REPLY, "{e:#}");
}

#[test]
fn throughput_against_echo_detects_a_server_that_stops_reading() {
    // The echo server blocks writing back to a client that never reads.
    let e = against(TcpMode::Echo, Kind::Throughput, |_| {});
    assert_eq!(exit_code(&e), code::NO_REPLY, "{e:#}");
}

#[test]
fn udp_against_a_silent_socket_is_no_reply() {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let mut c = cfg(Kind::Udp, 100);
    c.rate = Some(1000.0);
    c.target = at(silent.local_addr().expect("addr"));
    c.timeout = Duration::from_millis(300);
    let e = bench::run(&c).expect_err("nothing echoes");
    assert_eq!(exit_code(&e), code::NO_REPLY, "{e:#}");
}

#[test]
fn a_listener_that_never_accepts_is_no_reply() {
    // Connects succeed into the backlog; nothing ever answers.
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let mut c = cfg(Kind::Latency, 2000);
    c.target = at(l.local_addr().expect("addr"));
    c.timeout = Duration::from_millis(300);
    let e = bench::run(&c).expect_err("no answer");
    assert_eq!(exit_code(&e), code::NO_REPLY, "{e:#}");
}

/// A port that refuses: a socket bound but not listening, kept open meanwhile.
fn refusing_port() -> (socket2::Socket, SocketAddr) {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("sock");
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    s.bind(&addr.into()).expect("bind");
    let bound = s.local_addr().expect("addr").as_socket().expect("inet");
    (s, bound)
}

fn run_bin(args: &[&str]) -> Output {
    netkit()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run netkit")
}

#[test]
fn refused_target_exits_3_with_one_line() {
    let (_keep, addr) = refusing_port();
    for kind in ["throughput", "latency", "connect"] {
        let out = run_bin(&["bench", kind, &addr.to_string(), "-t", "200ms"]);
        assert_eq!(out.status.code(), Some(code::REFUSED), "{kind}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("netkit: error: "), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn bad_input_is_a_usage_error() {
    for args in [
        &["bench", "bogus"][..],
        &["bench", "-l", "0"],
        &["bench", "-l", "-5"],
        &["bench", "latency", "-n", "1MiB"],
        &["bench", "udp", "-l", "8"],
        &["bench", "-t", "0s"],
        &["bench", "latency", "127.0.0.1"],
        &["bench", "--rate", "100"],
        &["bench", "--rate", "-3", "latency"],
    ] {
        let out = run_bin(args);
        assert_eq!(out.status.code(), Some(code::USAGE), "{args:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    }
}

#[test]
fn json_summary_parses_field_by_field_and_stderr_is_clean() {
    let out = run_bin(&["bench", "throughput", "-t", "200ms", "-P", "2", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // stderr is a pipe here: no progress bar, no escape codes, nothing at all.
    assert!(
        out.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(text.lines().count(), 1, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["kind"], "throughput");
    assert_eq!(v["direction"], "send");
    assert_eq!(v["in_process"], true);
    assert_eq!(v["size"], 1 << 20);
    let streams = v["streams"].as_array().expect("streams");
    assert_eq!(streams.len(), 2);
    let sum: u64 = streams
        .iter()
        .map(|s| s["bytes_sent"].as_u64().expect("n"))
        .sum();
    assert_eq!(v["total"]["bytes_sent"].as_u64(), Some(sum));
    assert_eq!(v["server"]["bytes_in"].as_u64(), Some(sum));
    assert_eq!(v["server"]["connections"].as_u64(), Some(2));
    let gbit = v["total"]["gbit_s"].as_f64().expect("gbit");
    let gib = v["total"]["gib_s"].as_f64().expect("gib");
    assert!(gbit > 0.0);
    assert!((gbit * 1e9 / 8.0 / (1u64 << 30) as f64 - gib).abs() < 1e-6);
    assert!(v["seconds"].as_f64().expect("s") > 0.1);
}

#[test]
fn latency_json_against_a_real_echo_server() {
    let server = spawn_server(&["serve", "--echo", "0"]);
    let target = server.addr.to_string();
    let out = run_bin(&[
        "bench", "latency", &target, "-t", "200ms", "--warmup", "50ms", "-c", "2", "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["kind"], "latency");
    assert_eq!(v["in_process"], false);
    assert_eq!(v["target"], target.as_str());
    assert_eq!(v["connections"], 2);
    assert_eq!(v["warmup_seconds"].as_f64(), Some(0.05));
    let rtt = &v["rtt_us"];
    let n = v["requests"].as_u64().expect("requests");
    assert!(n > 0);
    assert_eq!(rtt["count"].as_u64(), Some(n));
    let keys = ["min", "p50", "p90", "p99", "p99_9", "max"];
    let vals: Vec<f64> = keys.iter().map(|k| rtt[k].as_f64().expect(k)).collect();
    assert!(vals.windows(2).all(|w| w[0] <= w[1]), "{vals:?}");
    assert!(v["requests_per_s"].as_f64().expect("rps") > 0.0);
}

#[test]
fn json_stream_emits_one_object_per_interval_then_the_summary() {
    let out = run_bin(&[
        "bench",
        "udp",
        "-t",
        "500ms",
        "--rate",
        "2000",
        "--interval",
        "100ms",
        "--json-stream",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let (summary, rows) = lines.split_last().expect("lines");
    assert!((4..=6).contains(&rows.len()), "{} rows", rows.len());
    let mut ops = 0;
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["event"], "interval");
        assert_eq!(row["kind"], "udp");
        let (s, e) = (
            row["start_s"].as_f64().expect("s"),
            row["end_s"].as_f64().expect("e"),
        );
        assert!(e > s);
        if i > 0 {
            assert_eq!(
                rows[i - 1]["end_s"].as_f64(),
                Some(s),
                "rows are contiguous"
            );
        }
        ops += row["ops"].as_u64().expect("ops");
    }
    assert_eq!(summary["event"], "summary");
    assert_eq!(summary["lost"].as_u64(), Some(0));
    assert_eq!(summary["packets_received"].as_u64(), Some(ops));
}

#[test]
fn text_table_and_interval_rows_without_escape_codes() {
    let out = run_bin(&["bench", "connect", "-t", "300ms", "-c", "2", "-i", "100ms"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains("netkit bench connect: 127.0.0.1:"), "{text}");
    assert!(text.contains("connect time (µs): p50"), "{text}");
    assert!(
        text.lines().filter(|l| l.starts_with('[')).count() >= 2,
        "{text}"
    );
    assert!(!text.contains('\x1b') && out.stderr.is_empty());
}

#[test]
fn the_bar_is_not_drawn_into_a_pipe_even_without_q() {
    let child = Command::new(env!("CARGO_BIN_EXE_netkit"))
        .args(["bench", "-t", "300ms"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.contains(&0x1b));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Gbit/s]"));
}

#[test]
fn tls_and_unix_transports() {
    // In-process TLS server, trusted by its pin; in-process Unix socket.
    for args in [
        &["bench", "-n", "8MiB", "--tls", "--json"][..],
        &["bench", "-n", "8MiB", "-U", "--json"],
        &[
            "bench", "latency", "-t", "300ms", "--warmup", "0s", "--tls", "-c", "3", "--json",
        ],
        &[
            "bench", "latency", "-t", "300ms", "--warmup", "0s", "-U", "-c", "3", "--json",
        ],
        &["bench", "connect", "-t", "300ms", "--tls", "--json"],
    ] {
        let out = netkit().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v.to_string().len() > 10, "{args:?}");
    }
    // Against a TLS server of our own, with its pin; without it, exit 6.
    let srv = spawn_server(&["serve", "--tls", "--discard", "0"]);
    let fp = common::fingerprint_of(&srv.listening);
    let addr = srv.addr.to_string();
    let out = netkit()
        .args(["bench", "-n", "4MiB", "--tls-pin", &fp, "-q", &addr])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = netkit()
        .args(["bench", "-n", "4MiB", "--tls", "-q", &addr])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = netkit().args(["bench", "udp", "--tls"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
