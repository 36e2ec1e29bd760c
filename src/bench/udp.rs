//! UDP: a sender thread sends sequence-numbered, timestamped datagrams at
//! `--rate` (or flat out) to a UDP echo server; the reader matches the echoes
//! by their sequence number and counts loss, reordering and duplicates, and
//! takes each round trip from the timestamp the datagram carries.
//!
//! After the last send the reader waits a little for stragglers (at most a
//! quarter of a second, or `--timeout` if nothing came back at all).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};

use super::report::{Percentiles, Report, StreamFigures, UdpFigures};
use super::{
    BenchConfig, Clock, Meter, SOCKET_BUFFER, Target, nanos, new_histogram, no_reply, spawn_named,
    supervise,
};

/// Bytes at the start of each datagram: sequence number and send time (ns), both big-endian.
pub const HEADER: usize = 16;
/// How long the reader waits for stragglers after the last send.
const LINGER: Duration = Duration::from_millis(250);
/// Sequence numbers tracked for duplicates (2^27 bits = 16 MiB); beyond, duplicates are not told apart.
const MAX_TRACKED: u64 = 1 << 27;

struct Shared {
    sent: AtomicU64,
    done: AtomicBool,
}

/// Run a UDP bench against `target`.
pub fn run(cfg: &BenchConfig, target: &Target) -> Result<Report> {
    let addr = target
        .first_addr()
        .ok_or_else(|| anyhow::anyhow!("udp needs a UDP target"))?;
    let local = match addr.ip() {
        IpAddr::V4(ip) if ip.is_loopback() => SocketAddr::new(IpAddr::V4(ip), 0),
        IpAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        IpAddr::V6(ip) if ip.is_loopback() => SocketAddr::new(IpAddr::V6(ip), 0),
        IpAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    };
    let socket = UdpSocket::bind(local).with_context(|| format!("cannot bind {local}"))?;
    socket
        .connect(addr)
        .with_context(|| format!("cannot reach {} over UDP", target.describe()))?;
    let sock = socket2::SockRef::from(&socket);
    let _ = sock.set_recv_buffer_size(SOCKET_BUFFER);
    let _ = sock.set_send_buffer_size(SOCKET_BUFFER);
    socket.set_read_timeout(Some(Duration::from_millis(20)))?;
    let meter = Arc::new(Meter::default());
    let clock = Clock::new(cfg);
    let (meter2, cfg2, target2) = (meter.clone(), cfg.clone(), target.clone());
    let worker = spawn_named("udp-reader", move || {
        let r = exchange(socket, &cfg2, &clock, &meter2, &target2);
        if r.is_err() {
            meter2.stop.store(true, Ordering::Relaxed);
        }
        r
    })?;
    let mut results = supervise(cfg, &clock, &meter, vec![worker])?;
    let (fig, hist, udp) = results.pop().ok_or_else(|| anyhow!("no udp result"))?;
    let mut report = Report::new(cfg, target.describe());
    report.secs = fig.secs;
    report.streams.push(fig);
    report.latency = Some(Percentiles::of(&hist));
    report.udp = Some(udp);
    Ok(report)
}

type Outcome = (StreamFigures, hdrhistogram::Histogram<u64>, UdpFigures);

fn exchange(
    socket: UdpSocket,
    cfg: &BenchConfig,
    clock: &Clock,
    meter: &Meter,
    target: &Target,
) -> Result<Outcome> {
    let shared = Arc::new(Shared {
        sent: AtomicU64::new(0),
        done: AtomicBool::new(false),
    });
    let sender_socket = socket.try_clone().context("cannot clone the socket")?;
    let (sh, clock2, size, rate) = (shared.clone(), *clock, cfg.size, cfg.rate);
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let sender = spawn_named("udp-sender", move || -> Result<Instant> {
        let r = send_loop(&sender_socket, &clock2, size, rate, &sh, &stop2);
        sh.done.store(true, Ordering::Release);
        r
    })?;

    let mut buf = vec![0u8; 65536];
    let mut hist = new_histogram();
    let mut udp = UdpFigures::default();
    let mut seen: Vec<u64> = Vec::new();
    let mut max_seq: Option<u64> = None;
    let mut done_at: Option<Instant> = None;
    let mut failure = None;
    loop {
        if meter.stopped() {
            stop.store(true, Ordering::Relaxed);
        }
        match socket.recv(&mut buf) {
            Ok(n) => {
                let now = Instant::now();
                if n < HEADER {
                    continue; // not ours
                }
                let seq = u64::from_be_bytes(buf[..8].try_into().unwrap_or_default());
                let ts = u64::from_be_bytes(buf[8..16].try_into().unwrap_or_default());
                if seq >= shared.sent.load(Ordering::Acquire) {
                    continue; // never sent: not an echo of ours
                }
                if seq < MAX_TRACKED {
                    let (word, bit) = ((seq / 64) as usize, seq % 64);
                    if seen.len() <= word {
                        seen.resize(word + 1, 0);
                    }
                    if seen[word] & (1 << bit) != 0 {
                        udp.duplicates += 1;
                        continue;
                    }
                    seen[word] |= 1 << bit;
                }
                udp.received += 1;
                match max_seq {
                    Some(m) if seq < m => udp.reordered += 1,
                    _ => max_seq = Some(seq),
                }
                let sent_at = clock.start + Duration::from_nanos(ts);
                if sent_at >= clock.measure {
                    hist.saturating_record(nanos(now.saturating_duration_since(sent_at)).max(1));
                    meter.ops.fetch_add(1, Ordering::Relaxed);
                    meter.received.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                failure = Some(anyhow::Error::new(e).context(format!(
                    "cannot receive from {} (is a UDP echo server listening there?)",
                    target.describe()
                )));
                stop.store(true, Ordering::Relaxed);
                break;
            }
        }
        if shared.done.load(Ordering::Acquire) {
            let t = *done_at.get_or_insert_with(Instant::now);
            let sent = shared.sent.load(Ordering::Acquire);
            let wait = if udp.received == 0 {
                cfg.timeout
            } else {
                LINGER
            };
            if udp.received >= sent || t.elapsed() >= wait {
                break;
            }
        }
    }
    let last_send = sender
        .join()
        .map_err(|_| anyhow!("the udp sender panicked"))?;
    if let Some(e) = failure {
        return Err(e);
    }
    let last_send = last_send?;
    udp.sent = shared.sent.load(Ordering::Acquire);
    if udp.received == 0 && udp.sent > 0 {
        return Err(no_reply(
            target,
            cfg.timeout,
            "udp needs a UDP echo server (netkit serve udp --echo)",
        ));
    }
    let fig = StreamFigures {
        id: 0,
        sent: udp.sent * cfg.size as u64,
        received: udp.received * cfg.size as u64,
        measured: udp.received * cfg.size as u64,
        ops: udp.received,
        secs: last_send
            .saturating_duration_since(clock.measure)
            .as_secs_f64(),
    };
    Ok((fig, hist, udp))
}

/// Send until the clock ends; returns when the last datagram went out.
fn send_loop(
    socket: &UdpSocket,
    clock: &Clock,
    size: usize,
    rate: Option<f64>,
    shared: &Shared,
    stop: &AtomicBool,
) -> Result<Instant> {
    let mut buf = super::throughput::pattern(size);
    let period = rate.map(|r| Duration::from_secs_f64(1.0 / r));
    let mut seq: u64 = 0;
    let mut last = clock.start;
    loop {
        let now = Instant::now();
        if clock.over(now) || stop.load(Ordering::Relaxed) {
            return Ok(last);
        }
        if let Some(p) = period {
            let intended = clock.start + p.mul_f64(seq as f64);
            if clock.over(intended) {
                return Ok(last);
            }
            super::latency::wait_until(intended);
        }
        let ts = nanos(Instant::now().duration_since(clock.start));
        buf[..8].copy_from_slice(&seq.to_be_bytes());
        buf[8..16].copy_from_slice(&ts.to_be_bytes());
        // Publish the sequence number before the datagram can come back.
        shared.sent.store(seq + 1, Ordering::Release);
        match socket.send(&buf) {
            Ok(_) => {
                seq += 1;
                last = Instant::now();
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) || e.raw_os_error() == Some(libc::ENOBUFS) =>
            {
                shared.sent.store(seq, Ordering::Release);
                std::thread::yield_now();
            }
            Err(e) => {
                shared.sent.store(seq, Ordering::Release);
                return Err(anyhow::Error::new(e).context("cannot send a datagram"));
            }
        }
    }
}
