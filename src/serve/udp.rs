//! UDP services: datagrams to stdout (stdin lines to the last peer), echo,
//! discard, and time (Unix datagram sockets: `dgram`; `--forward`:
//! `udp_forward`). A UDP peer never gets silence from the time service:
//! anything but `TIME` is answered with an error datagram, except what
//! `udp_guard` keeps from being answered at all (loops, empty datagrams).
//!
//! Datagrams move in batches (`udpio`: `recvmmsg`/`sendmmsg`, GRO/GSO):
//! echo answers a whole batch with one system call. Echo and discard run
//! one socket per core on the port (`udp_sockets`), each on its own thread;
//! listen and time use the one socket they were given. A stop shuts the
//! sockets down (`shutdown(2)` wakes a blocked receive on Linux), so it
//! never depends on a datagram reaching the server.

use std::fs::File;
use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};

use super::services::unix_seconds;
use super::udp_guard::{self, Silence};
use super::{UdpConfig, UdpMode, udp_sockets, udp_stdin};
use crate::hexdump::Direction;
use crate::log::{Level, Summary};
use crate::net;
use crate::pipe;
use crate::shutdown::Shutdown;
use crate::transport::dgram::Dgram;
use crate::udpio::{self, Outgoing, RecvBatch, Sender};
use serde_json::json;

/// Messages per receive: a batch of GRO runs is up to 2 MiB of buffers.
const BATCH: usize = 32;
/// Socket buffers asked for by echo and discard.
const SOCKET_BUFFER: usize = 4 << 20;

/// The time service's answer to one datagram.
pub fn time_reply(datagram: &[u8], now: u64) -> Vec<u8> {
    if datagram.trim_ascii().eq_ignore_ascii_case(b"TIME") {
        format!("{now}\n").into_bytes()
    } else {
        b"ERR unknown request; send TIME for the Unix time\n".to_vec()
    }
}

/// What every socket's thread shares.
struct Ctx<'a> {
    cfg: &'a UdpConfig,
    local: SocketAddr,
    shutdown: &'a Shutdown,
    datagrams: AtomicU64,
    rejected: AtomicU64,
    bytes_in: AtomicU64,
    /// Bytes sent, the stdin thread's included (listen mode).
    bytes_out: Arc<AtomicU64>,
    /// `--count`: datagrams still to serve.
    budget: Option<AtomicU64>,
    last_peer: Arc<Mutex<Option<SocketAddr>>>,
    stdout: Option<Mutex<File>>,
}

impl Ctx<'_> {
    /// Take up to `want` datagrams from the `--count` budget; the last one
    /// taken stops the server.
    fn take(&self, want: u64) -> u64 {
        let Some(budget) = &self.budget else {
            return want;
        };
        let prev = budget
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                Some(left.saturating_sub(want))
            })
            .unwrap_or(0);
        if prev > 0 && prev <= want {
            self.shutdown.trigger();
        }
        prev.min(want)
    }

    fn silence(&self, peer: SocketAddr, why: Silence) {
        let peer = net::canonical(peer);
        self.cfg.log.event(
            Level::Verbose,
            "not_answered",
            json!({"peer": peer.to_string(), "reason": why.code()}),
            || format!("{peer}: datagram not answered: {}", why.describe()),
        );
    }
}

/// Make `shutdown` wake a receive blocked on `socket`: `shutdown(2)` on an
/// unconnected UDP socket reports ENOTCONN but wakes its readers.
fn wake_on_shutdown(socket: &UdpSocket, shutdown: &Shutdown) -> Result<()> {
    let waker = socket.try_clone().context("cannot clone the socket")?;
    shutdown.on_trigger(move || {
        let _ = socket2::SockRef::from(&waker).shutdown(std::net::Shutdown::Both);
    });
    Ok(())
}

/// Serve datagrams on an already bound socket until `shutdown` (or
/// `--count`): UDP here, in batches; a Unix datagram socket in `dgram`;
/// `--forward` in `udp_forward`.
pub fn run(socket: impl Into<Dgram>, shutdown: Shutdown, cfg: &UdpConfig) -> Result<Summary> {
    match socket.into() {
        Dgram::Udp(s) => run_group(group(s, cfg), shutdown, cfg),
        socket => run_one(socket, shutdown, cfg),
    }
}

/// One socket, one datagram at a time: `--forward`, and Unix datagrams.
fn run_one(socket: Dgram, shutdown: Shutdown, cfg: &UdpConfig) -> Result<Summary> {
    if let Dgram::Udp(s) = &socket {
        wake_on_shutdown(s, &shutdown)?;
    } else {
        super::dgram::wake_on_shutdown(&socket, &shutdown)?;
    }
    match &cfg.forward {
        Some(fwd) => super::udp_forward::run(socket, shutdown, cfg, fwd),
        None => super::dgram::run(socket, shutdown, cfg),
    }
}

/// The sockets a UDP server reads: for echo and discard, `socket` and one
/// more per core sharing its port (see `udp_sockets`). Form the group
/// before printing the listening line, so that nobody can join the port
/// between the two.
pub struct UdpGroup(Vec<UdpSocket>);

/// The group that serves `socket` in `cfg`'s mode.
pub fn group(socket: UdpSocket, cfg: &UdpConfig) -> UdpGroup {
    if !is_fast(cfg) {
        return UdpGroup(vec![socket]);
    }
    // Room for bursts: a GRO run is up to 64 KiB, and the default
    // buffer (208 KiB here) holds three (the kernel caps the request).
    let sock = socket2::SockRef::from(&socket);
    let _ = sock.set_recv_buffer_size(SOCKET_BUFFER);
    let _ = sock.set_send_buffer_size(SOCKET_BUFFER);
    let cores = thread::available_parallelism().map_or(2, |n| n.get());
    UdpGroup(udp_sockets::spread(socket, cores))
}

/// Echo and discard take the batched path on every core.
fn is_fast(cfg: &UdpConfig) -> bool {
    cfg.forward.is_none() && matches!(cfg.mode, UdpMode::Echo | UdpMode::Discard)
}

/// Serve a UDP group: batches of datagrams, a thread per socket.
pub fn run_group(group: UdpGroup, shutdown: Shutdown, cfg: &UdpConfig) -> Result<Summary> {
    let mut sockets = group.0;
    if cfg.forward.is_some() {
        return run_one(Dgram::Udp(sockets.swap_remove(0)), shutdown, cfg);
    }
    let local = sockets[0]
        .local_addr()
        .context("cannot read the bound address")?;
    let fast = is_fast(cfg);
    for s in &sockets {
        wake_on_shutdown(s, &shutdown)?;
        if fast {
            udpio::enable_gro(s);
        }
    }
    let ctx = Ctx {
        cfg,
        local,
        shutdown: &shutdown,
        datagrams: AtomicU64::new(0),
        rejected: AtomicU64::new(0),
        bytes_in: AtomicU64::new(0),
        bytes_out: Arc::new(AtomicU64::new(0)),
        budget: cfg.count.map(AtomicU64::new),
        last_peer: Arc::new(Mutex::new(None)),
        stdout: match cfg.mode {
            UdpMode::Listen => Some(Mutex::new(pipe::stdout_file()?)),
            _ => None,
        },
    };
    if cfg.mode == UdpMode::Listen {
        let socket = sockets[0].try_clone().context("cannot clone the socket")?;
        udp_stdin::spawn(
            cfg,
            ctx.last_peer.clone(),
            ctx.bytes_out.clone(),
            move |line, peer| socket.send_to(line, peer),
            |peer| Some(net::canonical(*peer)),
        )?;
    }
    let results: Vec<Result<()>> = thread::scope(|scope| {
        let (first, rest) = sockets.split_first().expect("at least one socket");
        let mut handles = Vec::new();
        for (i, s) in rest.iter().enumerate() {
            let ctx = &ctx;
            let spawned = thread::Builder::new()
                .name(format!("udp-{}", i + 1))
                .spawn_scoped(scope, move || serve_socket(s, ctx));
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => ctx.cfg.log.warn(&format!("cannot start a UDP thread: {e}")),
            }
        }
        let mut results = vec![serve_socket(first, &ctx)];
        for h in handles {
            results.push(
                h.join()
                    .unwrap_or_else(|_| Err(anyhow!("a UDP thread panicked"))),
            );
        }
        results
    });
    for r in results {
        r?;
    }
    Ok(Summary {
        connections: ctx.datagrams.load(Ordering::Relaxed),
        rejected: ctx.rejected.load(Ordering::Relaxed),
        bytes_in: ctx.bytes_in.load(Ordering::Relaxed),
        bytes_out: ctx.bytes_out.load(Ordering::Relaxed),
    })
}

/// A reply planned for one received buffer.
enum Reply {
    /// Message `i` of the batch, its first `len` bytes, as received.
    Echo {
        i: usize,
        len: usize,
        segment: usize,
    },
    /// Reply `k` of the owned ones.
    Owned(usize),
}

/// Receive, handle and answer batches on one socket until the stop.
fn serve_socket(socket: &UdpSocket, ctx: &Ctx<'_>) -> Result<()> {
    let mut batch = RecvBatch::new(BATCH, udpio::MAX_PAYLOAD + 1);
    let mut sender = Sender::new();
    let mut plan: Vec<(SocketAddr, Reply)> = Vec::with_capacity(BATCH);
    let mut owned: Vec<Vec<u8>> = Vec::new();
    loop {
        let received = batch.recv(socket, false);
        if ctx.shutdown.is_triggered() {
            return Ok(());
        }
        let n = match received {
            Ok(n) => n,
            Err(e) => {
                // Nothing a peer did; do not spin on it.
                ctx.cfg.log.event(
                    Level::Verbose,
                    "receive_error",
                    json!({"error": e.to_string()}),
                    || format!("receive error: {e}"),
                );
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        plan.clear();
        owned.clear();
        for i in 0..n {
            if !handle(ctx, &batch, i, &mut plan, &mut owned)? {
                return Ok(());
            }
        }
        if plan.is_empty() {
            continue;
        }
        let out: Vec<Outgoing<'_>> = plan
            .iter()
            .map(|(peer, r)| match *r {
                Reply::Echo { i, len, segment } => Outgoing {
                    data: &batch.get(i).data[..len],
                    to: Some(*peer),
                    segment: Some(segment),
                },
                Reply::Owned(k) => Outgoing {
                    data: &owned[k],
                    to: Some(*peer),
                    segment: None,
                },
            })
            .collect();
        match sender.send(socket, &out) {
            Ok(sent) => {
                ctx.bytes_out.fetch_add(sent.bytes, Ordering::Relaxed);
                if sent.dropped > 0 {
                    ctx.cfg.log.event(
                        Level::Verbose,
                        "replies_dropped",
                        json!({"datagrams": sent.dropped}),
                        || format!("{} replies dropped by the kernel", sent.dropped),
                    );
                }
            }
            Err(_) if ctx.shutdown.is_triggered() => return Ok(()),
            Err(e) => ctx.cfg.log.event(
                Level::Verbose,
                "reply_failed",
                json!({"error": e.to_string()}),
                || format!("cannot reply: {e}"),
            ),
        }
        if let Some(d) = &ctx.cfg.hexdump {
            for o in &out {
                let seg = o.segment.unwrap_or(o.data.len()).max(1);
                for chunk in o.data.chunks(seg) {
                    d.record(Direction::Out, o.to.map(net::canonical), 0, chunk);
                }
            }
        }
    }
}

/// Count, log and record message `i`, and plan its reply. False when the
/// server should stop (stdout closed).
fn handle(
    ctx: &Ctx<'_>,
    batch: &RecvBatch,
    i: usize,
    plan: &mut Vec<(SocketAddr, Reply)>,
    owned: &mut Vec<Vec<u8>>,
) -> Result<bool> {
    let m = batch.get(i);
    let Some(peer) = m.peer else {
        return Ok(true); // a wake-up, not a datagram
    };
    let cfg = ctx.cfg;
    let shown = net::canonical(peer);
    if !cfg.acl.permits(peer.ip()) {
        ctx.rejected.fetch_add(m.count() as u64, Ordering::Relaxed);
        cfg.log.event(
            Level::Verbose,
            "rejected",
            json!({"peer": shown.to_string(), "reason": "acl"}),
            || format!("{shown}: datagram ignored: rejected by --allow/--deny"),
        );
        return Ok(true);
    }
    let taken = ctx.take(m.count() as u64) as usize;
    if taken == 0 {
        return Ok(true);
    }
    let segment = m.segment.max(1);
    let len = if taken < m.count() {
        taken * segment
    } else {
        m.data.len()
    };
    let data = &m.data[..len];
    ctx.datagrams.fetch_add(taken as u64, Ordering::Relaxed);
    ctx.bytes_in.fetch_add(len as u64, Ordering::Relaxed);
    let datagrams = || udpio::Received { data, segment, ..m }.datagrams();
    if cfg.mode == UdpMode::Listen
        && let Ok(mut p) = ctx.last_peer.lock()
    {
        // Before the -v record: whoever reads it may answer at once.
        *p = Some(peer);
    }
    if cfg.hexdump.is_some() || cfg.log.level >= Level::Verbose {
        for d in datagrams() {
            if let Some(h) = &cfg.hexdump {
                h.record(Direction::In, Some(shown), 0, d);
            }
            cfg.log.event(
                Level::Verbose,
                "datagram",
                json!({"peer": shown.to_string(), "bytes_in": d.len()}),
                || format!("{shown}: {} byte datagram", d.len()),
            );
        }
    }
    match cfg.mode {
        // (`--forward` is served by `udp_forward`.)
        UdpMode::Discard | UdpMode::Forward => {}
        UdpMode::Echo => match udp_guard::check(ctx.local, peer, len) {
            Some(why) => ctx.silence(peer, why),
            None => plan.push((peer, Reply::Echo { i, len, segment })),
        },
        UdpMode::Time => {
            for d in datagrams() {
                let why = udp_guard::check(ctx.local, peer, d.len())
                    .or(udp_guard::is_error_reply(d).then_some(Silence::ErrorReply));
                match why {
                    Some(why) => ctx.silence(peer, why),
                    None => {
                        owned.push(time_reply(d, unix_seconds()));
                        plan.push((peer, Reply::Owned(owned.len() - 1)));
                    }
                }
            }
        }
        UdpMode::Listen => {
            if let Some(out) = &ctx.stdout {
                let mut out = out.lock().unwrap_or_else(|p| p.into_inner());
                if let Err(e) = out.write_all(data) {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        ctx.shutdown.trigger();
                        return Ok(false);
                    }
                    return Err(anyhow::Error::new(e).context("cannot write to stdout"));
                }
            }
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_answers_time_and_errors_otherwise() {
        assert_eq!(time_reply(b"TIME", 42), b"42\n");
        assert_eq!(time_reply(b"time\r\n", 42), b"42\n");
        assert!(time_reply(b"", 42).starts_with(b"ERR"));
        assert!(time_reply(b"\xff\xfe", 42).starts_with(b"ERR"));
    }
}
