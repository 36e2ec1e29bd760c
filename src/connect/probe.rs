//! `connect -z`: which ports answer. TCP ports are probed with a connect
//! each, many at once from a pool of threads that take the next port from a
//! shared counter, each connect bounded by `-w` (SO_SNDTIMEO on a blocking
//! connect: one syscall per port). UDP ports get a one-byte datagram (`X`,
//! as nc sends; servers do not answer an empty one): a reply
//! means open, an ICMP port unreachable means closed, and silence means
//! `open|filtered`, which is all UDP can honestly say.
//!
//! The port list is parsed in `ports`.

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

pub use super::ports::parse_ports;

/// Default number of ports probed at once.
pub const DEFAULT_CONCURRENCY: usize = 256;

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
            // One byte, as nc sends: servers do not answer an empty datagram.
            s.send(b"X")?;
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
            "event": "port", "host": cfg.host, "peer": SocketAddr::new(ip, r.port).to_string(),
            "port": r.port, "proto": proto, "state": r.state.name(),
            "duration_s": (r.time.as_secs_f64() * 1e6).round() / 1e6,
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

/// How many ports ended in each state.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    open: usize,
    closed: usize,
    filtered: usize,
    open_filtered: usize,
    errors: usize,
}

impl Tally {
    fn of(results: &[PortResult]) -> Tally {
        let mut t = Tally::default();
        for r in results {
            match r.state {
                State::Open => t.open += 1,
                State::Closed => t.closed += 1,
                State::Filtered => t.filtered += 1,
                State::OpenFiltered => t.open_filtered += 1,
                State::Error(_) => t.errors += 1,
            }
        }
        t
    }
}

/// Resolve the host (its first address), probe, print, and fail (exit 1)
/// when no port is open. With `--json` the last stdout line is a summary
/// object, with `error` when the run failed.
pub fn run(cfg: &ProbeConfig) -> Result<()> {
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut peer = None;
    let result = probe_and_print(cfg, started, &mut tally, &mut peer);
    if cfg.json && !result.as_ref().is_err_and(crate::error::is_broken_pipe) {
        let mut v = json!({
            "event": "summary", "host": cfg.host, "peer": peer.map(|ip: IpAddr| ip.to_string()),
            "proto": if cfg.udp { "udp" } else { "tcp" }, "ports": cfg.ports.len(),
            "open": tally.open, "closed": tally.closed, "filtered": tally.filtered,
            "open_filtered": tally.open_filtered, "errors": tally.errors,
            "duration_s": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        });
        if let Err(e) = &result {
            v["error"] = json!(format!("{e:#}"));
            v["hint"] = json!(crate::error::hint(e));
            v["exit_code"] = json!(crate::error::exit_code(e));
        }
        let mut out = io::stdout().lock();
        use std::io::Write;
        writeln!(out, "{v}").context("cannot write stdout")?;
    }
    result
}

fn probe_and_print(
    cfg: &ProbeConfig,
    started: Instant,
    tally: &mut Tally,
    peer: &mut Option<IpAddr>,
) -> Result<()> {
    use std::io::Write;
    let host = cfg.host.trim_start_matches('[').trim_end_matches(']');
    let ip = crate::net::resolve(host, 0, cfg.family)?[0].ip();
    *peer = Some(ip);
    let results = probe(ip, cfg)?;
    *tally = Tally::of(&results);
    let mut out = io::BufWriter::new(io::stdout().lock());
    for r in &results {
        let shown = cfg.verbose || matches!(r.state, State::Open | State::OpenFiltered);
        if shown {
            writeln!(out, "{}", format_result(r, cfg, ip)).context("cannot write stdout")?;
        }
    }
    out.flush().context("cannot write stdout")?;
    let t = *tally;
    if cfg.verbose && !cfg.json {
        eprintln!(
            "netkit: probed {} ports on {ip} in {}: {} open, {} closed, {} filtered, {} open|filtered, {} errors",
            results.len(),
            crate::units::format_duration(started.elapsed()),
            t.open,
            t.closed,
            t.filtered,
            t.open_filtered,
            t.errors,
        );
    }
    if t.open > 0 {
        return Ok(());
    }
    if t.open_filtered > 0 {
        return Err(anyhow!(
            "no port confirmed open on {ip}: {} open|filtered (UDP silence is not proof)",
            t.open_filtered
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
