//! Network faults injected on a forwarded path, the way testers use
//! toxiproxy: `--delay DUR` (each chunk arrives that much later), `--jitter
//! DUR` (plus or minus up to that much, never reordering bytes),
//! `--limit-rate SIZE` (bytes per second, each direction on its own),
//! `--cut-after SIZE|DUR` (after that many bytes in all, or that long, both
//! sides get a TCP reset) and `--drop PERCENT` (UDP: datagrams lost at random).
//!
//! A [`Shaper`] is made per connection; its clones (one per direction) share
//! the `--cut-after` byte budget and pace their own direction. A delayed
//! direction writes through a [`DelayLine`]: a thread and a queue bounded in
//! bytes, so reading goes on while earlier chunks wait for their time, and a
//! fast sender is held back once `DELAY_QUEUE` bytes wait.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// The most bytes a delay line holds before the reader waits.
pub const DELAY_QUEUE: usize = 8 << 20;

/// What to inject (plain data, from the command line).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Added to every chunk's (datagram's) delivery.
    pub delay: Duration,
    /// Plus or minus up to this much on top of `delay`.
    pub jitter: Duration,
    /// Bytes per second, per direction.
    pub rate: Option<u64>,
    /// Reset both sides after this many bytes in all (both directions).
    pub cut_after_bytes: Option<u64>,
    /// Reset both sides this long after the connection began.
    pub cut_after_time: Option<Duration>,
    /// UDP: percent of datagrams dropped, 0 to 100.
    pub drop_percent: f64,
}

impl Faults {
    /// True when nothing is injected.
    pub fn is_none(&self) -> bool {
        *self == Faults::default()
    }

    /// A short description for the listening line.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let fd = crate::units::format_duration;
        if !self.delay.is_zero() {
            parts.push(format!("delay {}", fd(self.delay)));
        }
        if !self.jitter.is_zero() {
            parts.push(format!("jitter {}", fd(self.jitter)));
        }
        if let Some(r) = self.rate {
            parts.push(format!("rate {}/s", crate::units::format_bytes(r)));
        }
        if let Some(b) = self.cut_after_bytes {
            parts.push(format!("cut after {}", crate::units::format_bytes(b)));
        }
        if let Some(t) = self.cut_after_time {
            parts.push(format!("cut after {}", fd(t)));
        }
        if self.drop_percent > 0.0 {
            parts.push(format!("drop {}%", self.drop_percent));
        }
        parts.join(", ")
    }
}

/// Parse `--cut-after`: a size (`64KiB`) or a duration (`5s`, `250ms`). A
/// bare number is a size in bytes.
pub fn parse_cut(s: &str) -> Result<(Option<u64>, Option<Duration>), String> {
    let t = s.trim();
    let looks_like_time = t.ends_with("ms")
        || t.ends_with("us")
        || (t.ends_with(['s', 'm', 'h']) && !t.to_ascii_lowercase().ends_with("ib"));
    if looks_like_time && let Ok(d) = crate::units::parse_duration(t) {
        return if d.is_zero() {
            Err("--cut-after must be above 0".into())
        } else {
            Ok((None, Some(d)))
        };
    }
    match crate::units::parse_size(t) {
        Ok(0) => Err("--cut-after must be above 0".into()),
        Ok(n) => Ok((Some(n), None)),
        Err(_) => Err(format!(
            "'{s}' is neither a size (64KiB) nor a duration (5s) for --cut-after"
        )),
    }
}

/// Parse `--drop`: a percentage from 0 to 100 (`5`, `2.5`, `10%`).
pub fn parse_percent(s: &str) -> Result<f64, String> {
    let t = s.trim().trim_end_matches('%');
    match t.parse::<f64>() {
        Ok(v) if (0.0..=100.0).contains(&v) => Ok(v),
        _ => Err(format!("'{s}' is not a percentage from 0 to 100")),
    }
}

/// A small xorshift generator: fault injection needs variety, not secrecy.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeded from the clock and a counter.
    pub fn new() -> Rng {
        static N: AtomicU64 = AtomicU64::new(0);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Rng((t ^ N.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)) | 1)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Default for Rng {
    fn default() -> Self {
        Rng::new()
    }
}

/// The delay of one chunk: `delay` plus or minus up to `jitter`.
pub fn chunk_delay(f: &Faults, rng: &mut Rng) -> Duration {
    if f.jitter.is_zero() {
        return f.delay;
    }
    let j = f.jitter.as_secs_f64() * (2.0 * rng.unit() - 1.0);
    Duration::from_secs_f64((f.delay.as_secs_f64() + j).max(0.0))
}

/// Paces one direction to `rate` bytes per second.
#[derive(Debug)]
pub struct Pacer {
    rate: u64,
    start: Option<Instant>,
    sent: u64,
}

impl Pacer {
    /// A pacer for `rate` bytes per second.
    pub fn new(rate: u64) -> Pacer {
        Pacer {
            rate: rate.max(1),
            start: None,
            sent: 0,
        }
    }

    /// Account `n` bytes just sent; sleep until the average is back at the rate.
    pub fn pace(&mut self, n: usize) {
        let start = *self.start.get_or_insert_with(Instant::now);
        self.sent += n as u64;
        let due = start + Duration::from_secs_f64(self.sent as f64 / self.rate as f64);
        let now = Instant::now();
        if due > now {
            thread::sleep(due - now);
        }
    }
}

/// The faults of one connection: clones share the cut budget and each
/// paces its own direction.
pub struct Shaper {
    faults: Arc<Faults>,
    budget: Arc<AtomicU64>,
    pacer: Mutex<Option<Pacer>>,
}

impl Clone for Shaper {
    fn clone(&self) -> Self {
        Shaper {
            faults: self.faults.clone(),
            budget: self.budget.clone(),
            pacer: Mutex::new(self.faults.rate.map(Pacer::new)),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shaper {
    /// A shaper for one connection.
    pub fn new(faults: Arc<Faults>) -> Shaper {
        Shaper {
            budget: Arc::new(AtomicU64::new(faults.cut_after_bytes.unwrap_or(u64::MAX))),
            pacer: Mutex::new(faults.rate.map(Pacer::new)),
            faults,
        }
    }

    /// True when chunks must wait (`--delay`/`--jitter`).
    pub fn delays(&self) -> bool {
        !self.faults.delay.is_zero() || !self.faults.jitter.is_zero()
    }

    /// How much to read at once: with a rate, about a tenth of a second's worth.
    pub fn chunk_limit(&self, buf: usize) -> usize {
        match self.faults.rate {
            Some(r) => buf.min((r / 10).max(1) as usize),
            None => buf,
        }
    }

    /// Take up to `n` bytes of the `--cut-after` budget: how many may pass,
    /// and whether the budget is now spent (then cut after sending them).
    pub fn take_budget(&self, n: usize) -> (usize, bool) {
        if self.faults.cut_after_bytes.is_none() {
            return (n, false);
        }
        let mut left = self.budget.load(Ordering::Relaxed);
        loop {
            let take = left.min(n as u64);
            match self.budget.compare_exchange(
                left,
                left - take,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return (take as usize, left - take == 0),
                Err(now) => left = now,
            }
        }
    }

    /// Pace this direction after `n` bytes were sent.
    pub fn pace(&self, n: usize) {
        if let Some(p) = lock(&self.pacer).as_mut() {
            p.pace(n);
        }
    }

    /// A delay line writing to `w` on its own thread.
    pub fn delay_line<W: ChunkWriter + Send + 'static>(&self, w: W) -> DelayLine<W> {
        DelayLine::start(w, self.clone())
    }
}

/// Something a delay line writes to.
pub trait ChunkWriter {
    /// Write the whole chunk.
    fn write_chunk(&mut self, data: &[u8]) -> io::Result<()>;
    /// End the direction.
    fn close(&mut self);
}

struct Queue {
    items: VecDeque<(Instant, Vec<u8>)>,
    bytes: usize,
    last_due: Option<Instant>,
    done: bool,
    close: bool,
    error: Option<io::Error>,
    finished: bool,
}

struct Line {
    q: Mutex<Queue>,
    cv: Condvar,
}

/// Chunks delivered after their delay, in order, by a thread of their own.
pub struct DelayLine<W> {
    line: Arc<Line>,
    rng: Rng,
    faults: Arc<Faults>,
    handle: Option<thread::JoinHandle<W>>,
}

impl<W: ChunkWriter + Send + 'static> DelayLine<W> {
    fn start(mut w: W, shaper: Shaper) -> DelayLine<W> {
        let line = Arc::new(Line {
            q: Mutex::new(Queue {
                items: VecDeque::new(),
                bytes: 0,
                last_due: None,
                done: false,
                close: false,
                error: None,
                finished: false,
            }),
            cv: Condvar::new(),
        });
        let l = line.clone();
        let faults = shaper.faults.clone();
        let handle = thread::Builder::new()
            .name("delay-line".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                loop {
                    let item = {
                        let mut q = lock(&l.q);
                        loop {
                            if let Some(it) = q.items.pop_front() {
                                q.bytes -= it.1.len();
                                l.cv.notify_all();
                                break Some(it);
                            }
                            if q.done {
                                break None;
                            }
                            q = l.cv.wait(q).unwrap_or_else(|p| p.into_inner());
                        }
                    };
                    let Some((due, data)) = item else { break };
                    let now = Instant::now();
                    if due > now {
                        thread::sleep(due - now);
                    }
                    if let Err(e) = w.write_chunk(&data) {
                        let mut q = lock(&l.q);
                        q.error = Some(e);
                        q.items.clear();
                        q.bytes = 0;
                        l.cv.notify_all();
                        break;
                    }
                    shaper.pace(data.len());
                }
                let mut q = lock(&l.q);
                if q.close && q.error.is_none() {
                    w.close();
                }
                q.finished = true;
                l.cv.notify_all();
                w
            })
            .ok();
        DelayLine {
            line,
            rng: Rng::new(),
            faults,
            handle,
        }
    }

    /// Queue a chunk (waits while the queue is full).
    pub fn push(&mut self, chunk: &[u8]) -> io::Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        if self.handle.is_none() {
            return Err(io::Error::other("cannot start the delay-line thread"));
        }
        let delay = chunk_delay(&self.faults, &mut self.rng);
        let mut q = lock(&self.line.q);
        while q.bytes > 0 && q.bytes + chunk.len() > DELAY_QUEUE && q.error.is_none() {
            q = self.line.cv.wait(q).unwrap_or_else(|p| p.into_inner());
        }
        if let Some(e) = q.error.take() {
            return Err(e);
        }
        // Bytes of a stream never overtake each other, whatever the jitter.
        let due = (Instant::now() + delay).max(q.last_due.unwrap_or_else(Instant::now));
        q.last_due = Some(due);
        q.bytes += chunk.len();
        q.items.push_back((due, chunk.to_vec()));
        self.line.cv.notify_all();
        Ok(())
    }

    /// Deliver what is queued, then close the writer when `close`.
    pub fn finish(&mut self, close: bool) -> io::Result<()> {
        {
            let mut q = lock(&self.line.q);
            q.done = true;
            q.close = close;
            self.line.cv.notify_all();
        }
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        match lock(&self.line.q).error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl<W> Drop for DelayLine<W> {
    fn drop(&mut self) {
        let mut q = lock(&self.line.q);
        q.done = true;
        self.line.cv.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_after_is_a_size_or_a_duration() {
        assert_eq!(parse_cut("64KiB"), Ok((Some(65536), None)));
        assert_eq!(parse_cut("100"), Ok((Some(100), None)));
        assert_eq!(parse_cut("5s"), Ok((None, Some(Duration::from_secs(5)))));
        assert_eq!(
            parse_cut("250ms"),
            Ok((None, Some(Duration::from_millis(250))))
        );
        assert!(parse_cut("0").is_err());
        assert!(parse_cut("soon").is_err());
    }

    #[test]
    fn percentages() {
        assert_eq!(parse_percent("5"), Ok(5.0));
        assert_eq!(parse_percent("2.5%"), Ok(2.5));
        assert!(parse_percent("101").is_err());
        assert!(parse_percent("-1").is_err());
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let f = Faults {
            delay: Duration::from_millis(80),
            jitter: Duration::from_millis(20),
            ..Faults::default()
        };
        let mut rng = Rng::new();
        for _ in 0..1000 {
            let d = chunk_delay(&f, &mut rng);
            assert!(d >= Duration::from_millis(60) && d <= Duration::from_millis(100));
        }
    }

    #[test]
    fn the_cut_budget_is_shared_and_exact() {
        let s = Shaper::new(Arc::new(Faults {
            cut_after_bytes: Some(10),
            ..Faults::default()
        }));
        let other = s.clone();
        assert_eq!(s.take_budget(4), (4, false));
        assert_eq!(other.take_budget(4), (4, false));
        assert_eq!(s.take_budget(4), (2, true));
        assert_eq!(other.take_budget(4), (0, true));
    }

    type Log = Arc<Mutex<Vec<(Instant, Vec<u8>)>>>;
    struct Collect(Log, Arc<AtomicU64>);
    impl ChunkWriter for Collect {
        fn write_chunk(&mut self, data: &[u8]) -> io::Result<()> {
            lock(&self.0).push((Instant::now(), data.to_vec()));
            Ok(())
        }
        fn close(&mut self) {
            self.1.store(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn a_delay_line_keeps_order_and_closes_after_the_last_chunk() {
        let got = Arc::new(Mutex::new(Vec::new()));
        let closed = Arc::new(AtomicU64::new(0));
        let s = Shaper::new(Arc::new(Faults {
            delay: Duration::from_millis(30),
            jitter: Duration::from_millis(25),
            ..Faults::default()
        }));
        let t0 = Instant::now();
        let mut line = s.delay_line(Collect(got.clone(), closed.clone()));
        for i in 0..20u8 {
            line.push(&[i]).unwrap();
        }
        line.finish(true).unwrap();
        let got = lock(&got);
        let bytes: Vec<u8> = got.iter().flat_map(|(_, d)| d.clone()).collect();
        assert_eq!(bytes, (0..20).collect::<Vec<u8>>());
        assert!(got[0].0 - t0 >= Duration::from_millis(5));
        assert!(got.windows(2).all(|w| w[0].0 <= w[1].0));
        assert_eq!(closed.load(Ordering::Relaxed), 1);
    }
}
