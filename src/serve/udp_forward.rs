//! `serve udp --forward HOST:PORT`: each client (sender address) gets its
//! own upstream socket, connected to the target, so the target's replies
//! find their way back to the right client, as with `socat
//! UDP-LISTEN:P,fork UDP:HOST:PORT`. A session that moves nothing either way
//! for `--idle-timeout` (default 60s) ends and its socket is closed.
//!
//! Faults per datagram, each direction: `--drop PERCENT` loses it at random,
//! `--limit-rate` drops what exceeds the rate (a policer with a quarter
//! second of burst; datagrams have no backpressure to wait on), `--delay`
//! and `--jitter` hold it in a timer queue (bounded in bytes, and unlike a
//! stream, datagrams may overtake each other under jitter, as on a network).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::UdpConfig;
use crate::faults::{self, Faults, Rng};
use crate::log::{Log, Summary};
use crate::net::{self, ConnectOptions};
use crate::shutdown::Shutdown;
use crate::transport::dgram::{Dgram, DgramPeer};
use crate::transport::dial::Target;
use crate::transport::unix;

/// The largest datagram.
const MAX_DATAGRAM: usize = 65536;
/// Bytes the delay queue may hold; datagrams beyond it are dropped.
const DELAY_QUEUE: usize = 8 << 20;

/// What `serve udp --forward` needs.
#[derive(Debug, Clone)]
pub struct UdpForward {
    /// The target: a UDP `HOST:PORT`, or a Unix datagram socket.
    pub target: Target,
    /// Faults to inject.
    pub faults: Option<Arc<Faults>>,
    /// End a client's session after this long without traffic.
    pub idle: Duration,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Drop, police and delay decisions for one direction of one session.
struct Lane {
    faults: Option<Arc<Faults>>,
    rng: Rng,
    tokens: f64,
    refilled: Instant,
}

impl Lane {
    fn new(faults: Option<Arc<Faults>>) -> Lane {
        let tokens = faults.as_ref().and_then(|f| f.rate).map_or(0.0, burst);
        Lane {
            faults,
            rng: Rng::new(),
            tokens,
            refilled: Instant::now(),
        }
    }

    /// `None`: drop the datagram; `Some(delay)`: send it after `delay`.
    fn admit(&mut self, len: usize) -> Option<Duration> {
        let Some(f) = &self.faults else {
            return Some(Duration::ZERO);
        };
        if f.drop_percent > 0.0 && self.rng.unit() * 100.0 < f.drop_percent {
            return None;
        }
        if let Some(rate) = f.rate {
            let now = Instant::now();
            let earned = now.duration_since(self.refilled).as_secs_f64() * rate as f64;
            self.tokens = (self.tokens + earned).min(burst(rate));
            self.refilled = now;
            if (len as f64) > self.tokens {
                return None;
            }
            self.tokens -= len as f64;
        }
        Some(faults::chunk_delay(f, &mut self.rng))
    }
}

/// A policer's burst: a quarter second of the rate, and room for one big datagram.
fn burst(rate: u64) -> f64 {
    (rate as f64 / 4.0).max(MAX_DATAGRAM as f64)
}

/// A datagram waiting for its time.
struct Job {
    due: Instant,
    seq: u64,
    sock: Arc<Dgram>,
    to: Option<DgramPeer>,
    data: Vec<u8>,
}

impl PartialEq for Job {
    fn eq(&self, o: &Self) -> bool {
        (self.due, self.seq) == (o.due, o.seq)
    }
}
impl Eq for Job {}
impl PartialOrd for Job {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Job {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.due, self.seq).cmp(&(o.due, o.seq))
    }
}

/// One timer thread sending delayed datagrams in due order.
struct Delayer {
    q: Mutex<(BinaryHeap<Reverse<Job>>, usize, u64)>,
    cv: Condvar,
    stop: AtomicBool,
}

impl Delayer {
    fn start() -> Result<Arc<Delayer>> {
        let d = Arc::new(Delayer {
            q: Mutex::new((BinaryHeap::new(), 0, 0)),
            cv: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let me = d.clone();
        thread::Builder::new()
            .name("udp-delay".into())
            .spawn(move || me.run())
            .context("cannot start the delay thread")?;
        Ok(d)
    }

    /// Queue a datagram; false when the queue is full (it is dropped).
    fn push(&self, due: Instant, sock: Arc<Dgram>, to: Option<DgramPeer>, data: &[u8]) -> bool {
        let mut q = lock(&self.q);
        if q.1 + data.len() > DELAY_QUEUE {
            return false;
        }
        q.1 += data.len();
        q.2 += 1;
        let seq = q.2;
        q.0.push(Reverse(Job {
            due,
            seq,
            sock,
            to,
            data: data.to_vec(),
        }));
        self.cv.notify_one();
        true
    }

    fn run(&self) {
        let mut q = lock(&self.q);
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return;
            }
            let now = Instant::now();
            match q.0.peek().map(|j| j.0.due) {
                Some(due) if due <= now => {
                    let Some(Reverse(job)) = q.0.pop() else {
                        continue;
                    };
                    q.1 -= job.data.len();
                    drop(q);
                    let _ = match &job.to {
                        Some(to) => job.sock.send_to(&job.data, to),
                        None => job.sock.send(&job.data),
                    };
                    q = lock(&self.q);
                }
                Some(due) => {
                    q = self
                        .cv
                        .wait_timeout(q, due - now)
                        .map(|(g, _)| g)
                        .unwrap_or_else(|p| p.into_inner().0);
                }
                None => {
                    q = self
                        .cv
                        .wait_timeout(q, Duration::from_millis(500))
                        .map(|(g, _)| g)
                        .unwrap_or_else(|p| p.into_inner().0);
                }
            }
        }
    }
}

/// Send now, or through the delayer.
fn deliver(
    delayer: &Option<Arc<Delayer>>,
    delay: Duration,
    sock: &Arc<Dgram>,
    to: Option<&DgramPeer>,
    data: &[u8],
) -> io::Result<usize> {
    match delayer {
        Some(d) if !delay.is_zero() => {
            d.push(Instant::now() + delay, sock.clone(), to.cloned(), data);
            Ok(data.len())
        }
        _ => match to {
            Some(t) => sock.send_to(data, t),
            None => sock.send(data),
        },
    }
}

/// Live sessions by client.
type Sessions = Arc<Mutex<HashMap<String, (Session, Arc<Activity>)>>>;

/// One client's session.
struct Session {
    upstream: Arc<Dgram>,
    lane: Lane,
}

/// Clock shared by a session's two threads: milliseconds since `t0`.
struct Activity {
    t0: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn touch(&self) {
        self.last_ms
            .store(self.t0.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
    fn idle_for(&self) -> Duration {
        self.t0
            .elapsed()
            .saturating_sub(Duration::from_millis(self.last_ms.load(Ordering::Relaxed)))
    }
}

fn connect_upstream(target: &Target) -> Result<Dgram> {
    Ok(match target {
        Target::Tcp { host, port } => {
            net::connect_udp(host, *port, &ConnectOptions::default())?.into()
        }
        Target::Unix(a) => unix::connect_datagram(a)
            .with_context(|| format!("cannot reach {a}"))?
            .into(),
    })
}

/// Serve `serve udp --forward` on a bound socket until `shutdown` (or `--count`).
pub fn run(
    socket: Dgram,
    shutdown: Shutdown,
    cfg: &UdpConfig,
    fwd: &UdpForward,
) -> Result<Summary> {
    let local = match &socket {
        Dgram::Udp(s) => s.local_addr().ok(),
        Dgram::Unix(_) => None,
    };
    let socket = Arc::new(socket);
    let delays = fwd
        .faults
        .as_ref()
        .is_some_and(|f| !f.delay.is_zero() || !f.jitter.is_zero());
    let delayer = if delays {
        Some(Delayer::start()?)
    } else {
        None
    };
    let sessions: Sessions = Arc::new(Mutex::new(HashMap::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let bytes_out = Arc::new(AtomicU64::new(0));
    let mut summary = Summary::default();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    while cfg.count.is_none_or(|c| summary.connections < c) {
        let received = socket.recv_from(&mut buf);
        if shutdown.is_triggered() {
            break;
        }
        let (n, peer) = match received {
            Ok(p) => p,
            Err(e) => {
                cfg.log.verbose(&format!("receive error: {e}"));
                continue;
            }
        };
        if let Some(a) = peer.inet()
            && !cfg.acl.permits(a.ip())
        {
            summary.rejected += 1;
            cfg.log.verbose(&format!(
                "{peer}: datagram ignored: rejected by --allow/--deny"
            ));
            continue;
        }
        if let (Some(l), Some(a)) = (local, peer.inet())
            && let Some(why) = super::udp_guard::check(l, a, n.max(1))
        {
            // From our own port or a service port: forwarding it could
            // loop through the target back to us (an empty one still goes).
            cfg.log.event(
                crate::log::Level::Verbose,
                "not_forwarded",
                serde_json::json!({"peer": a.to_string(), "reason": why.code()}),
                || format!("{a}: datagram not forwarded: {}", why.describe()),
            );
            continue;
        }
        summary.connections += 1;
        summary.bytes_in += n as u64;
        let key = peer.key();
        let mut map = lock(&sessions);
        if !map.contains_key(&key) {
            if !peer.can_reply() {
                cfg.log.verbose(
                    "datagram from an unnamed Unix socket: no reply could reach it; forwarded alone",
                );
            }
            let upstream = match connect_upstream(&fwd.target) {
                Ok(u) => Arc::new(u),
                Err(e) => {
                    cfg.log
                        .verbose(&format!("{peer}: cannot reach {}: {e:#}", fwd.target));
                    continue;
                }
            };
            let activity = Arc::new(Activity {
                t0: Instant::now(),
                last_ms: AtomicU64::new(0),
            });
            cfg.log.verbose(&format!(
                "{peer}: new session to {} from {}",
                fwd.target,
                upstream.describe()
            ));
            spawn_replies(ReplyLoop {
                upstream: upstream.clone(),
                server: socket.clone(),
                client: peer.clone(),
                key: key.clone(),
                sessions: sessions.clone(),
                activity: activity.clone(),
                lane: Lane::new(fwd.faults.clone()),
                delayer: delayer.clone(),
                idle: fwd.idle,
                stop: stop.clone(),
                log: cfg.log,
                bytes_out: bytes_out.clone(),
            })?;
            map.insert(
                key.clone(),
                (
                    Session {
                        upstream,
                        lane: Lane::new(fwd.faults.clone()),
                    },
                    activity,
                ),
            );
        }
        let Some((session, activity)) = map.get_mut(&key) else {
            continue;
        };
        activity.touch();
        let Some(delay) = session.lane.admit(n) else {
            continue; // dropped by --drop or --limit-rate
        };
        if let Err(e) = deliver(&delayer, delay, &session.upstream, None, &buf[..n]) {
            cfg.log
                .verbose(&format!("{peer}: cannot send to {}: {e}", fwd.target));
        }
    }
    stop.store(true, Ordering::Relaxed);
    if let Some(d) = &delayer {
        d.stop.store(true, Ordering::Relaxed);
        d.cv.notify_all();
    }
    summary.bytes_out = bytes_out.load(Ordering::Relaxed);
    Ok(summary)
}

/// The thread that carries one session's replies back to its client.
struct ReplyLoop {
    upstream: Arc<Dgram>,
    server: Arc<Dgram>,
    client: DgramPeer,
    key: String,
    sessions: Sessions,
    activity: Arc<Activity>,
    lane: Lane,
    delayer: Option<Arc<Delayer>>,
    idle: Duration,
    stop: Arc<AtomicBool>,
    log: Log,
    bytes_out: Arc<AtomicU64>,
}

fn spawn_replies(mut r: ReplyLoop) -> Result<()> {
    r.upstream.set_read_timeout(Some(
        r.idle
            .clamp(Duration::from_millis(10), Duration::from_secs(1)),
    ))?;
    thread::Builder::new()
        .name("udp-replies".into())
        .stack_size(128 * 1024)
        .spawn(move || {
            let mut buf = vec![0u8; MAX_DATAGRAM];
            let (mut replies, mut bytes) = (0u64, 0u64);
            let why = loop {
                if r.stop.load(Ordering::Relaxed) {
                    break "server stopped";
                }
                match r.upstream.recv(&mut buf) {
                    Ok(n) => {
                        r.activity.touch();
                        let Some(delay) = r.lane.admit(n) else {
                            continue;
                        };
                        if !r.client.can_reply() {
                            continue;
                        }
                        if deliver(&r.delayer, delay, &r.server, Some(&r.client), &buf[..n]).is_ok()
                        {
                            replies += 1;
                            bytes += n as u64;
                            r.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
                        }
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) =>
                    {
                        if r.activity.idle_for() >= r.idle {
                            break "idle";
                        }
                    }
                    // The target's port is closed (ICMP): the client may retry.
                    Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                        r.log.verbose(&format!(
                            "{}: the target refused a datagram (nothing listens there)",
                            r.client
                        ));
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => break "upstream error",
                }
            };
            lock(&r.sessions).remove(&r.key);
            r.log.verbose(&format!(
                "{}: session ended ({why}): {replies} replies, {bytes} bytes back",
                r.client
            ));
        })
        .context("cannot start a session thread")?;
    Ok(())
}
