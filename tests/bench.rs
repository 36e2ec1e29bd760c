//! `netkit bench`: every kind against an in-process server on port 0 with short
//! runs, the figures checked against what the server itself counted; wrong
//! servers, refusals and silence; and the binary's JSON and clean stderr.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use common::InProcess;
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
    // 1000/s for 0.4s: 400 requests, scheduled, whatever the server does,
    // unless the machine starved the client past -t: then it stopped and
    // the report says the rate was not met.
    let issued: u64 = r.streams.iter().map(|s| s.issued).sum();
    if r.rate_met() == Some(false) {
        eprintln!("the client was starved: {issued} of 400 requests sent");
        assert!(issued < 390);
        return;
    }
    assert_eq!(issued, 400);
    assert_eq!(r.rate_met(), Some(true));
    assert_ordered(&r.latency.expect("percentiles"));
    assert!((390..=410).contains(&r.ops()), "{}", r.ops());
}

#[test]
fn latency_with_messages_larger_than_the_socket_buffers() {
    // A 10 MiB request fills both socket buffers before netkit's own echo
    // server can send its echo: the client must read while it writes.
    let mut c = cfg(Kind::Latency, 300);
    c.size = 10 << 20;
    let r = bench::run(&c).expect("10 MiB round trips");
    assert!(r.ops() > 0);
    let sent: u64 = r.streams.iter().map(|s| s.sent).sum();
    let server = r.server.clone().expect("summary");
    assert_eq!(server.bytes_in, sent);
    assert_eq!(server.bytes_out, sent);
    assert_ordered(&r.latency.expect("percentiles"));
}

#[test]
fn connect_counts_connections_the_server_saw() {
    let mut c = cfg(Kind::Connect, 150);
    c.connections = 2;
    let r = bench::run(&c).expect("bench");
    assert!(r.ops() > 0);
    assert_ordered(&r.latency.expect("percentiles"));
    // The server saw every connection: the measured ones and the first
    // check (there is no warm-up here). The bench waits for its in-process
    // server to accept what still sits in the backlog before stopping it,
    // however loaded the machine.
    let seen = r.server.clone().expect("summary").connections;
    assert_eq!(r.opened, r.ops() + 1);
    assert_eq!(
        seen, r.opened,
        "client opened {}, server saw {seen}",
        r.opened
    );
}

#[test]
fn udp_at_a_modest_rate_loses_nothing() {
    for gso in [true, false] {
        udp_at_5000_per_second(gso);
    }
}

fn udp_at_5000_per_second(gso: bool) {
    let mut c = cfg(Kind::Udp, 200);
    c.rate = Some(5000.0);
    c.size = 200;
    c.gso = gso;
    let r = bench::run(&c).expect("bench");
    let u = r.udp.expect("udp figures");
    if r.rate_met() == Some(false) {
        eprintln!("the client was starved: {} of 1000 datagrams", u.sent);
        assert!(u.sent < 970);
        return;
    }
    assert_eq!(u.sent, 1000, "the whole schedule");
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

#[test]
fn udp_flat_out_counts_every_datagram_both_ends() {
    // Runs of datagrams (GSO) and coalesced receives (GRO) still count
    // datagram by datagram, at the client and at the server.
    let r = bench::run(&cfg(Kind::Udp, 200)).expect("bench");
    let u = r.udp.expect("udp figures");
    let server = r.server.clone().expect("summary");
    assert!(u.received > 0 && u.received <= u.sent);
    assert_eq!(u.duplicates, 0);
    assert!(server.connections >= u.received && server.connections <= u.sent);
    assert_eq!(server.bytes_in, server.connections * 1400);
    assert_eq!(
        server.bytes_out, server.bytes_in,
        "echo answers every datagram"
    );
}

#[test]
fn udp_find_rate_reports_a_rate_under_the_loss_bound() {
    let mut c = cfg(Kind::Udp, 150);
    c.find_rate = Some(1.0);
    let r = bench::run(&c).expect("bench");
    assert!(!r.trials.is_empty());
    assert_eq!(
        r.trials[0].rate_asked, None,
        "the first trial runs flat out"
    );
    let u = r.udp.expect("udp figures");
    assert!(u.loss_percent() < 1.0, "{}", u.loss_percent());
    assert!(r.trials.iter().any(|t| t.loss_percent < 1.0));
    assert_eq!(r.max_loss, Some(1.0));
}
