//! The UDP bench's sender: runs of sequence-numbered, timestamped datagrams,
//! as many per system call as are due (GSO, or `sendmmsg` with `--no-gso`),
//! flat out or on the `--rate` schedule, until `-t` in real time.

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;

use super::udp::Shared;
use super::{BenchConfig, Clock, nanos};
use crate::udpio::{MAX_SEGMENTS, Outgoing, Sender};

/// The largest run sent at once: what one GSO send may carry.
const RUN_BYTES: usize = 63 * 1024;

/// The longest a paced datagram waits for its run to fill.
const PACING_TICK: Duration = Duration::from_millis(1);

/// How many datagrams a paced sender sends at once at one per `period`:
/// what falls due within `PACING_TICK`, at least one, at most `most`.
fn burst_for(period: Duration, most: usize) -> usize {
    ((PACING_TICK.as_secs_f64() / period.as_secs_f64()) as usize).clamp(1, most)
}

/// How many datagrams one every `period` are intended before the end.
fn scheduled(clock: &Clock, period: Duration) -> u64 {
    match clock.end {
        Some(end) => {
            let span = (end - clock.start).as_nanos();
            u64::try_from(span.div_ceil(period.as_nanos().max(1))).unwrap_or(u64::MAX)
        }
        None => u64::MAX,
    }
}

/// Datagrams per send for datagrams of `size` bytes.
pub fn run_length(size: usize) -> usize {
    (RUN_BYTES / size.max(1)).clamp(1, MAX_SEGMENTS)
}

/// Send until the clock ends; returns when the last datagram went out.
pub(super) fn send_loop(
    socket: &UdpSocket,
    clock: &Clock,
    cfg: &BenchConfig,
    shared: &Shared,
    stop: &AtomicBool,
) -> Result<Instant> {
    let size = cfg.size;
    let most = run_length(size);
    let block = super::throughput::pattern(size);
    let mut buf: Vec<u8> = block.iter().copied().cycle().take(most * size).collect();
    let period = cfg.rate.map(|r| Duration::from_secs_f64(1.0 / r));
    let mut sender = Sender::new();
    if !cfg.gso {
        sender.disable_gso();
    }
    let mut seq: u64 = 0;
    let mut last = clock.start;
    loop {
        let now = Instant::now();
        if stop.load(Ordering::Relaxed) {
            return Ok(last);
        }
        let n = match period {
            None if clock.over(now) => return Ok(last),
            None => most,
            Some(p) => {
                // The schedule: datagrams intended before the end, sent
                // until done unless too far behind; each run once `burst`
                // are due (or late), as iperf3 sends a burst per pacing tick.
                let total = scheduled(clock, p);
                if seq >= total || clock.late(now) {
                    return Ok(last);
                }
                let burst = (burst_for(p, most) as u64).min(total - seq);
                let due =
                    ((now.duration_since(clock.start).as_secs_f64() / p.as_secs_f64()) as u64 + 1)
                        .min(total);
                if due < seq + burst {
                    super::latency::wait_until(clock.start + p.mul_f64((seq + burst - 1) as f64));
                    continue;
                }
                ((due - seq) as usize).min(most)
            }
        };
        if now < clock.measure {
            shared.warm.fetch_add(n as u64, Ordering::Relaxed);
        }
        let ts = nanos(Instant::now().duration_since(clock.start));
        for k in 0..n {
            let d = &mut buf[k * size..(k + 1) * size];
            d[..8].copy_from_slice(&(seq + k as u64).to_be_bytes());
            d[8..16].copy_from_slice(&ts.to_be_bytes());
        }
        // Publish the sequence numbers before a datagram can come back.
        shared.sent.store(seq + n as u64, Ordering::Release);
        let run = [Outgoing {
            data: &buf[..n * size],
            to: None,
            segment: Some(size),
        }];
        let sent = match sender.send(socket, &run) {
            Ok(s) => s,
            Err(e) => {
                shared.sent.store(seq, Ordering::Release);
                return Err(anyhow::Error::new(e).context("cannot send a datagram"));
            }
        };
        if sent.dropped > 0 {
            // Refused by the kernel (no buffer): those never left; the
            // numbers are reused, so nothing counts as lost.
            shared.sent.store(seq + sent.datagrams, Ordering::Release);
            std::thread::yield_now();
        }
        seq += sent.datagrams;
        if sent.datagrams > 0 {
            last = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_fit_one_gso_send() {
        assert_eq!(run_length(1400), 46);
        assert_eq!(run_length(16), MAX_SEGMENTS);
        assert_eq!(run_length(65507), 1);
        assert!(run_length(1400) * 1400 <= 65507);
    }

    #[test]
    fn paced_runs_hold_at_most_a_tick() {
        assert_eq!(burst_for(Duration::from_millis(1), 46), 1);
        assert_eq!(burst_for(Duration::from_millis(5), 46), 1);
        assert_eq!(burst_for(Duration::from_micros(100), 46), 10);
        assert_eq!(burst_for(Duration::from_nanos(200), 46), 46);
    }
}
