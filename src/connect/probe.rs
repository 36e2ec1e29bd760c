//! `connect -z`: which ports answer. TCP ports are probed with a connect
//! each, many at once from a pool of threads that take the next port from a
//! shared counter, each connect bounded by `-w` (SO_SNDTIMEO on a blocking
//! connect: one syscall per port). UDP ports get an empty datagram: a reply
//! means open, an ICMP port unreachable means closed, and silence means
//! `open|filtered`, which is all UDP can honestly say.
//!
//! The port list parser is pure and strict: `1-1024,8080`, nothing else.

use std::io::{self, ErrorKind};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use serde_json::json;
use socket2::{Domain, Protocol, Socket, Type};

use crate::net::Family;

/// Default number of ports probed at once.
pub const DEFAULT_CONCURRENCY: usize = 256;

/// Parse a port list such as `22`, `1-1024`, `20-30,80,443` into sorted,
/// distinct ports. Port 0, ports over 65535, reversed ranges, empty items
/// and anything not a number are errors that say which item is wrong.
pub fn parse_ports(spec: &str) -> Result<Vec<u16>, String> {
    if spec.trim().is_empty() {
        return Err("no ports given: write e.g. 80, 1-1024 or 20-30,80,443".into());
    }
    let mut seen = vec![false; 65536];
    for item in spec.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(format!("empty item in port list '{spec}'"));
        }
        let (lo, hi) = match item.split_once('-') {
            Some((a, b)) => (one_port(a, item)?, one_port(b, item)?),
            None => {
                let p = one_port(item, item)?;
                (p, p)
            }
        };
        if lo > hi {
            return Err(format!("reversed range '{item}': write {hi}-{lo}"));
        }
        for p in lo..=hi {
            seen[usize::from(p)] = true;
        }
    }
    Ok((1..=65535u16).filter(|&p| seen[usize::from(p)]).collect())
}

fn one_port(text: &str, item: &str) -> Result<u16, String> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "bad port '{t}' in '{item}': ports are numbers 1-65535"
        ));
    }
    match t.parse::<u32>() {
        Ok(0) => Err(format!(
            "port 0 in '{item}' cannot be probed: ports are 1-65535"
        )),
        Ok(p) if p <= 65535 => Ok(p as u16),
        _ => Err(format!("port '{t}' in '{item}' is over 65535")),
    }
}

/// What a probe found on one port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// TCP: the connect succeeded. UDP: a reply came.
    Open,
    /// TCP: refused. UDP: ICMP port unreachable.
    Closed,
    /// TCP: no answer within the timeout.
    Filtered,
    /// UDP: no answer; open and silent, or filtered.
    OpenFiltered,
    /// Something else went wrong for this port.
    Error(String),
}

impl State {
    /// The word printed for this state.
    pub fn name(&self) -> &str {
        match self {
            State::Open => "open",
            State::Closed => "closed",
            State::Filtered => "filtered",
            State::OpenFiltered => "open|filtered",
            State::Error(_) => "error",
        }
    }
}

/// One probed port.
#[derive(Debug, Clone)]
pub struct PortResult {
    /// The port.
    pub port: u16,
    /// What was found.
    pub state: State,
    /// How long the probe took.
    pub time: Duration,
}

/// How to probe.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// Host as the user wrote it.
    pub host: String,
    /// Sorted, distinct ports.
    pub ports: Vec<u16>,
    /// Per-port timeout.
    pub timeout: Duration,
    /// Ports probed at once.
    pub concurrency: usize,
    /// UDP instead of TCP.
    pub udp: bool,
    /// Print every port with its state and time.
    pub verbose: bool,
    /// One JSON object per port on stdout.
    pub json: bool,
    /// Which address family to resolve `host` to.
    pub family: Family,
}

/// Probe every port of `ip`, concurrently; results in port order.
pub fn probe(ip: IpAddr, cfg: &ProbeConfig) -> Result<Vec<PortResult>> {
    let ports = Arc::new(cfg.ports.clone());
    let next = Arc::new(AtomicUsize::new(0));
    let workers = cfg.concurrency.clamp(1, ports.len().max(1));
    let mut handles = Vec::with_capacity(workers);
    for _ in 0..workers {
        let ports = ports.clone();
        let next = next.clone();
        let (timeout, udp) = (cfg.timeout, cfg.udp);
        let spawned = thread::Builder::new()
            .name("probe".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                let mut found = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&port) = ports.get(i) else { break };
                    let addr = SocketAddr::new(ip, port);
                    let started = Instant::now();
                    let state = if udp {
                        probe_udp(addr, timeout)
                    } else {
                        probe_tcp(addr, timeout)
                    };
                    found.push(PortResult {
                        port,
                        state,
                        time: started.elapsed(),
                    });
                }
                found
            });
        match spawned {
            Ok(h) => handles.push(h),
            // Fewer threads than asked still finish the job.
            Err(_) if !handles.is_empty() => break,
            Err(e) => return Err(anyhow::Error::new(e).context("cannot start probe threads")),
        }
    }
    let mut results = Vec::with_capacity(ports.len());
    for h in handles {
        results.extend(h.join().map_err(|_| anyhow!("a probe thread panicked"))?);
    }
    results.sort_by_key(|r| r.port);
    Ok(results)
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
        || e.raw_os_error() == Some(libc::EINPROGRESS)
}

fn probe_tcp(addr: SocketAddr, timeout: Duration) -> State {
    let attempt = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .and_then(|s| {
            // On Linux a blocking connect honours SO_SNDTIMEO.
            s.set_write_timeout(Some(timeout))?;
            s.connect(&addr.into())
        });
    match attempt {
        Ok(()) => State::Open,
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => State::Closed,
        Err(e) if is_timeout(&e) => State::Filtered,
        Err(e) => State::Error(e.to_string()),
    }
}

fn probe_udp(addr: SocketAddr, timeout: Duration) -> State {
    let attempt = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))
        .and_then(|s| {
            s.connect(&addr.into())?;
            s.set_read_timeout(Some(timeout))?;
            s.send(&[])?;
            let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 1];
            s.recv(&mut buf).map(|_| ())
        });
    match attempt {
        Ok(()) => State::Open,
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => State::Closed,
        Err(e) if is_timeout(&e) => State::OpenFiltered,
        Err(e) => State::Error(e.to_string()),
    }
}

/// One output line for a port.
pub fn format_result(r: &PortResult, cfg: &ProbeConfig, ip: IpAddr) -> String {
    let proto = if cfg.udp { "udp" } else { "tcp" };
    let ms = r.time.as_secs_f64() * 1000.0;
    if cfg.json {
        let mut v = json!({
            "host": cfg.host, "addr": ip.to_string(), "port": r.port, "proto": proto,
            "state": r.state.name(), "ms": (ms * 1000.0).round() / 1000.0,
        });
        if let State::Error(msg) = &r.state {
            v["error"] = json!(msg);
        }
        v.to_string()
    } else if cfg.verbose {
        let detail = match &r.state {
            State::Error(msg) => format!(" ({msg})"),
            _ => String::new(),
        };
        format!("{}/{proto} {}{detail} {ms:.2}ms", r.port, r.state.name())
    } else {
        format!("{}/{proto} {}", r.port, r.state.name())
    }
}

/// Resolve the host (its first address), probe, print, and fail (exit 1)
/// when no port is open.
pub fn run(cfg: &ProbeConfig) -> Result<()> {
    use std::io::Write;
    let host = cfg.host.trim_start_matches('[').trim_end_matches(']');
    let ip = crate::net::resolve(host, 0, cfg.family)?[0].ip();
    let started = Instant::now();
    let results = probe(ip, cfg)?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    let count = |s: &State| results.iter().filter(|r| &r.state == s).count();
    for r in &results {
        let shown = cfg.verbose || matches!(r.state, State::Open | State::OpenFiltered);
        if shown {
            writeln!(out, "{}", format_result(r, cfg, ip)).context("cannot write stdout")?;
        }
    }
    out.flush().context("cannot write stdout")?;
    let (open, open_filtered) = (count(&State::Open), count(&State::OpenFiltered));
    if cfg.verbose && !cfg.json {
        eprintln!(
            "netkit: probed {} ports on {ip} in {}: {open} open, {} closed, {} filtered, {open_filtered} open|filtered, {} errors",
            results.len(),
            crate::units::format_duration(started.elapsed()),
            count(&State::Closed),
            count(&State::Filtered),
            results
                .iter()
                .filter(|r| matches!(r.state, State::Error(_)))
                .count(),
        );
    }
    if open > 0 {
        return Ok(());
    }
    if open_filtered > 0 {
        return Err(anyhow!(
            "no port confirmed open on {ip}: {open_filtered} open|filtered (UDP silence is not proof)"
        ));
    }
    Err(anyhow!(
        "no open port among {} probed on {ip}",
        results.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_lists() {
        assert_eq!(parse_ports("80"), Ok(vec![80]));
        assert_eq!(parse_ports("20-22,80, 443"), Ok(vec![20, 21, 22, 80, 443]));
        assert_eq!(parse_ports("5,1-3,2"), Ok(vec![1, 2, 3, 5]));
        assert_eq!(parse_ports("65535"), Ok(vec![65535]));
        assert_eq!(parse_ports("1-65535").map(|v| v.len()), Ok(65535));
        assert_eq!(parse_ports("7-7"), Ok(vec![7]));
    }

    #[test]
    fn hostile_port_lists() {
        for bad in [
            "",
            " ",
            "0",
            "0-10",
            "70000",
            "65536",
            "5-1",
            "a",
            "1,,2",
            "1-",
            "-1",
            "1-2-3",
            "+80",
            "80,",
            "1 2",
            "99999999999999999999",
        ] {
            let e = parse_ports(bad).expect_err(bad);
            assert!(!e.contains('\n'), "{e}");
        }
        // A huge list is bounded by the 65535 distinct ports it can name.
        let huge = vec!["1-65535"; 100].join(",") + &",80".repeat(10_000);
        assert_eq!(parse_ports(&huge).map(|v| v.len()), Ok(65535));
    }

    #[test]
    fn a_closed_and_an_open_port() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap().port();
        let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed = gone.local_addr().unwrap().port();
        drop(gone);
        let cfg = ProbeConfig {
            host: "127.0.0.1".into(),
            ports: {
                let mut p = vec![open, closed];
                p.sort();
                p
            },
            timeout: Duration::from_secs(2),
            concurrency: 4,
            udp: false,
            verbose: true,
            json: false,
            family: Family::Any,
        };
        let r = probe("127.0.0.1".parse().unwrap(), &cfg).unwrap();
        let state = |p| r.iter().find(|x| x.port == p).map(|x| x.state.clone());
        assert_eq!(state(open), Some(State::Open));
        assert_eq!(state(closed), Some(State::Closed));
    }
}
