//! `netkit bench` as a user runs it: exit codes and one-line errors, usage
//! errors, the JSON summary (netkit's one schema) and NDJSON rows, and a
//! stderr free of progress bars when it is not a terminal.

mod common;

use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};

use common::{netkit, run_bounded, spawn_server};
use netkit::error::code;

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
        .map(|s| s["bytes_out"].as_u64().expect("n"))
        .sum();
    assert_eq!(v["bytes_out"].as_u64(), Some(sum));
    assert_eq!(v["total"]["bytes_measured"].as_u64(), Some(sum));
    assert_eq!(v["server"]["bytes_in"].as_u64(), Some(sum));
    assert_eq!(v["server"]["connections"].as_u64(), Some(2));
    let gbit = v["total"]["gbit_s"].as_f64().expect("gbit");
    let gib = v["total"]["gib_s"].as_f64().expect("gib");
    assert!(gbit > 0.0);
    assert!((gbit * 1e9 / 8.0 / (1u64 << 30) as f64 - gib).abs() < 1e-6);
    assert!(v["duration_s"].as_f64().expect("s") > 0.1);
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
    assert_eq!(v["peer"], target.as_str());
    assert_eq!(v["connections"], 2);
    assert_eq!(v["warmup_s"].as_f64(), Some(0.05));
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
    assert_eq!(summary["datagrams_in"].as_u64(), Some(ops));
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
fn a_rate_beyond_reach_stops_at_t_and_says_it_was_not_met() {
    let out = run_bounded(&[
        "bench", "latency", "--rate", "10M", "-t", "300ms", "--warmup", "0", "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["rate_asked"].as_f64(), Some(1e7));
    assert_eq!(v["rate_met"], false, "{v}");
    let got = v["rate_achieved"].as_f64().expect("achieved");
    assert!(got < 1e7, "{got}");
    // The text table says it too.
    let out = run_bounded(&["bench", "latency", "--rate", "10M", "-t", "200ms"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("rate not met: answered"), "{text}");
}

#[test]
fn a_rate_that_is_kept_is_reported_as_met() {
    let out = run_bounded(&[
        "bench", "udp", "--rate", "2000", "-t", "300ms", "-l", "64", "--json",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["rate_met"], true, "{v}");
}

#[test]
fn json_with_interval_rows_is_json_on_every_line() {
    let out = run_bounded(&["bench", "-t", "600ms", "-i", "200ms", "--json"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let (summary, intervals) = rows.split_last().expect("rows");
    assert_eq!(summary["event"], "summary");
    assert!(intervals.len() >= 2, "{text}");
    let mut out_bytes = 0;
    for r in intervals {
        assert_eq!(r["event"], "interval");
        out_bytes += r["bytes_out"].as_u64().expect("bytes_out");
    }
    assert_eq!(summary["bytes_out"].as_u64(), Some(out_bytes));
}

#[test]
fn a_failed_run_with_json_still_prints_one_object_with_the_error() {
    let (_held, addr) = refusing_port();
    let out = run_bounded(&["bench", "latency", &addr.to_string(), "--json"]);
    assert_eq!(out.status.code(), Some(code::REFUSED));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(text.lines().count(), 1, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["event"], "summary");
    assert_eq!(v["peer"], addr.to_string());
    assert_eq!(v["exit_code"], code::REFUSED);
    assert!(
        v["error"].as_str().expect("error").contains("refused"),
        "{v}"
    );
    // The human line still goes to stderr.
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("netkit: error:"));
}

#[test]
fn find_rate_prints_its_trials_and_the_rate_found() {
    let out = run_bounded(&["bench", "udp", "--find-rate", "-t", "150ms", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["max_loss_percent"].as_f64(), Some(1.0));
    let trials = v["trials"].as_array().expect("trials");
    assert!(!trials.is_empty());
    assert!(trials[0]["rate_asked"].is_null(), "flat out first");
    assert!(v["loss_percent"].as_f64().expect("loss") < 1.0);
    let text = run_bounded(&[
        "bench",
        "udp",
        "--find-rate",
        "-t",
        "150ms",
        "--max-loss",
        "5",
    ]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.starts_with("trial:"), "{text}");
    assert!(text.contains("highest rate under 5% loss"), "{text}");
    for bad in [
        &["bench", "latency", "--find-rate"][..],
        &["bench", "udp", "--find-rate", "--rate", "1000"],
        &["bench", "udp", "--find-rate", "-i", "1s"],
        &["bench", "udp", "--max-loss", "2"],
        &["bench", "--no-gso"],
    ] {
        assert_eq!(run_bounded(bad).status.code(), Some(code::USAGE), "{bad:?}");
    }
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
