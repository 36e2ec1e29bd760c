//! UDP: a sender thread (`udp_send`) sends sequence-numbered, timestamped
//! datagrams at `--rate` (or flat out) to a UDP echo server; the reader
//! matches the echoes by their sequence number and counts loss, reordering
//! and duplicates, and takes each round trip from the timestamp the
//! datagram carries. Both ends move datagrams in batches (`udpio`): runs of
//! datagrams with GSO out, `recvmmsg` with GRO in (`--no-gso`: one buffer
//! per datagram, batched with `sendmmsg`). `--find-rate` (`udp_search`)
//! repeats the run to find the highest rate under a loss bound.
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
    supervise, udp_send,
};
use crate::udpio::{self, RecvBatch};

/// Bytes at the start of each datagram: sequence number and send time (ns), both big-endian.
pub const HEADER: usize = 16;
/// How long the reader waits for stragglers after the last send: until
/// this long passes without an echo.
const LINGER: Duration = Duration::from_millis(250);
/// Sequence numbers tracked for duplicates (2^27 bits = 16 MiB); beyond, duplicates are not told apart.
const MAX_TRACKED: u64 = 1 << 27;
/// Messages per receive.
const BATCH: usize = 32;

/// What the sender and the reader share.
pub(super) struct Shared {
    /// Datagrams sent so far (published before they leave).
    pub sent: AtomicU64,
    /// The sender is done.
    pub done: AtomicBool,
    /// Datagrams sent during the warm-up.
    pub warm: AtomicU64,
}

/// Run a UDP bench against `target`: one run, or the search of `--find-rate`.
pub fn run(cfg: &BenchConfig, target: &Target) -> Result<Report> {
    match cfg.find_rate {
        Some(max_loss) => super::udp_search::run(cfg, target, max_loss),
        None => run_once(cfg, target),
    }
}

/// One run at `cfg.rate` (flat out when none) from a fresh socket.
pub(super) fn run_once(cfg: &BenchConfig, target: &Target) -> Result<Report> {
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
    if cfg.gso {
        udpio::enable_gro(&socket);
    }
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

/// What the reader has seen.
struct Tally {
    hist: hdrhistogram::Histogram<u64>,
    udp: UdpFigures,
    seen: Vec<u64>,
    max_seq: Option<u64>,
}

impl Tally {
    /// Count one echoed datagram that arrived at `now`.
    fn datagram(&mut self, d: &[u8], now: Instant, sent: u64, clock: &Clock, meter: &Meter) {
        if d.len() < HEADER {
            return; // not ours
        }
        let seq = u64::from_be_bytes(d[..8].try_into().unwrap_or_default());
        let ts = u64::from_be_bytes(d[8..16].try_into().unwrap_or_default());
        if seq >= sent {
            return; // never sent: not an echo of ours
        }
        if seq < MAX_TRACKED {
            let (word, bit) = ((seq / 64) as usize, seq % 64);
            if self.seen.len() <= word {
                self.seen.resize(word + 1, 0);
            }
            if self.seen[word] & (1 << bit) != 0 {
                self.udp.duplicates += 1;
                return;
            }
            self.seen[word] |= 1 << bit;
        }
        self.udp.received += 1;
        match self.max_seq {
            Some(m) if seq < m => self.udp.reordered += 1,
            _ => self.max_seq = Some(seq),
        }
        let sent_at = clock.start + Duration::from_nanos(ts);
        if sent_at >= clock.measure {
            self.hist
                .saturating_record(nanos(now.saturating_duration_since(sent_at)).max(1));
            meter.ops.fetch_add(1, Ordering::Relaxed);
            meter.received.fetch_add(d.len() as u64, Ordering::Relaxed);
        }
    }
}

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
        warm: AtomicU64::new(0),
    });
    let sender_socket = socket.try_clone().context("cannot clone the socket")?;
    let (sh, clock2, cfg2) = (shared.clone(), *clock, cfg.clone());
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let sender = spawn_named("udp-sender", move || -> Result<Instant> {
        let r = udp_send::send_loop(&sender_socket, &clock2, &cfg2, &sh, &stop2);
        sh.done.store(true, Ordering::Release);
        r
    })?;

    let mut batch = RecvBatch::new(BATCH, udpio::MAX_PAYLOAD + 1);
    let mut tally = Tally {
        hist: new_histogram(),
        udp: UdpFigures::default(),
        seen: Vec::new(),
        max_seq: None,
    };
    // When the reader last heard an echo, once the sender is done.
    let mut quiet_since: Option<Instant> = None;
    let mut failure = None;
    loop {
        if meter.stopped() {
            stop.store(true, Ordering::Relaxed);
        }
        match batch.recv(&socket, false) {
            Ok(n) => {
                let now = Instant::now();
                if n > 0 && quiet_since.is_some() {
                    quiet_since = Some(now);
                }
                let sent = shared.sent.load(Ordering::Acquire);
                for i in 0..n {
                    for d in batch.get(i).datagrams() {
                        tally.datagram(d, now, sent, clock, meter);
                    }
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
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
            let t = *quiet_since.get_or_insert_with(Instant::now);
            let sent = shared.sent.load(Ordering::Acquire);
            let wait = if tally.udp.received == 0 {
                cfg.timeout
            } else {
                LINGER
            };
            if tally.udp.received >= sent || t.elapsed() >= wait {
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
    let mut udp = tally.udp;
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
        opened: 0,
        issued: udp.sent.saturating_sub(shared.warm.load(Ordering::Relaxed)),
        secs: last_send
            .saturating_duration_since(clock.measure)
            .as_secs_f64(),
    };
    Ok((fig, tally.hist, udp))
}
