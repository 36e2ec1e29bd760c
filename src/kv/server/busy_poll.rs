//! Busy polling: after a poll that found work, poll again without sleeping
//! for a short window before blocking in the kernel.
//!
//! Why: under `redis-benchmark -c 50` on two cores the benchmark client is
//! the bottleneck (100% of its core; the server ~65% of the other). Each
//! request the client sends to a server asleep in `epoll_wait` pays, in the
//! client's own `send`, for waking that server; a server still polling is
//! woken for nothing. Measured on this machine (same runs, SET/GET/INCR/LPOP,
//! -n 150000): no window 68-92k requests/s, 20µs 80-98k, 50µs 83-100k,
//! 100µs 77-101k; redis-server 72-93k. The server's CPU time rose 5-15%.
//!
//! It never delays a byte: a spin poll returns at once with whatever is
//! ready. It costs CPU only right after activity (an idle server sleeps), and
//! only where a core is spare: with as many loops as cores, a spinning loop
//! would take the core its own clients need.

use std::time::{Duration, Instant};

/// The spin window of one event loop.
pub(super) struct BusyPoll {
    window: Duration,
    until: Option<Instant>,
}

impl BusyPoll {
    /// `window` as configured (`--busy-poll`), off when `loops` event loops
    /// leave no core spare.
    pub(super) fn new(window: Duration, loops: usize) -> BusyPoll {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        BusyPoll {
            window: if loops < cores {
                window
            } else {
                Duration::ZERO
            },
            until: None,
        }
    }

    /// The next poll's timeout: zero inside the window, `otherwise` after it.
    pub(super) fn timeout(&mut self, otherwise: Option<Duration>) -> Option<Duration> {
        match self.until {
            Some(t) if Instant::now() < t => Some(Duration::ZERO),
            Some(_) => {
                self.until = None;
                otherwise
            }
            None => otherwise,
        }
    }

    /// A poll returned `events` events: work came, so the window (re)opens.
    pub(super) fn polled(&mut self, events: bool) {
        if events && !self.window.is_zero() {
            self.until = Some(Instant::now() + self.window);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_opens_on_work_and_closes_after_it() {
        let mut b = BusyPoll {
            window: Duration::from_millis(50),
            until: None,
        };
        let idle = Some(Duration::from_secs(1));
        assert_eq!(b.timeout(idle), idle, "no work yet: sleep");
        b.polled(false);
        assert_eq!(b.timeout(idle), idle, "an empty poll opens nothing");
        b.polled(true);
        assert_eq!(b.timeout(idle), Some(Duration::ZERO));
        b.until = Some(Instant::now() - Duration::from_millis(1));
        assert_eq!(b.timeout(idle), idle, "the window has passed");
        assert_eq!(b.until, None);
    }

    #[test]
    fn no_window_when_it_is_zero_or_no_core_is_spare() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        for mut b in [
            BusyPoll::new(Duration::ZERO, 1),
            BusyPoll::new(Duration::from_millis(50), cores),
        ] {
            b.polled(true);
            assert_eq!(b.timeout(None), None);
        }
    }
}
