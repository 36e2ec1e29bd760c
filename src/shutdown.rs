//! A shutdown handle shared by a server and whoever may stop it (a signal
//! thread in `main`, a test, `--count`).
//!
//! Blocking calls are woken rather than polled: a server registers a waker
//! (for sockets, `shutdown(2)` on a clone, which makes a blocked `accept` or
//! `recv` return at once on Linux) and `trigger` runs every waker once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

type Waker = Box<dyn Fn() + Send + Sync>;

/// Cloneable "stop now" flag with wakers. Cheap to check in a loop.
#[derive(Clone, Default)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    stopped: AtomicBool,
    wakers: Mutex<Vec<Waker>>,
}

impl Shutdown {
    /// A handle that has not been triggered.
    pub fn new() -> Self {
        Self::default()
    }

    /// True once `trigger` has been called.
    pub fn is_triggered(&self) -> bool {
        self.inner.stopped.load(Ordering::Acquire)
    }

    /// Ask everything holding this handle to stop, and wake blocked calls.
    pub fn trigger(&self) {
        if self.inner.stopped.swap(true, Ordering::AcqRel) {
            return;
        }
        let wakers = match self.inner.wakers.lock() {
            Ok(mut w) => std::mem::take(&mut *w),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        for wake in wakers {
            wake();
        }
    }

    /// Run `wake` when the handle is triggered (at once if it already was).
    pub fn on_trigger(&self, wake: impl Fn() + Send + Sync + 'static) {
        if self.is_triggered() {
            wake();
            return;
        }
        match self.inner.wakers.lock() {
            Ok(mut w) => w.push(Box::new(wake)),
            Err(poisoned) => poisoned.into_inner().push(Box::new(wake)),
        }
        // A trigger may have raced with the push; waking twice is harmless.
        if self.is_triggered() {
            self.trigger_wakers_again();
        }
    }

    /// SIGINT/SIGTERM trigger this handle (a graceful stop); a second
    /// signal exits the process at once with 130.
    pub fn stop_on_signals(&self) -> anyhow::Result<()> {
        use anyhow::Context;
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
            .context("cannot install signal handlers")?;
        let shutdown = self.clone();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for _ in signals.forever() {
                    if shutdown.is_triggered() {
                        std::process::exit(130);
                    }
                    shutdown.trigger();
                }
            })?;
        Ok(())
    }

    fn trigger_wakers_again(&self) {
        let wakers = match self.inner.wakers.lock() {
            Ok(mut w) => std::mem::take(&mut *w),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        for wake in wakers {
            wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn wakers_run_once_and_late_ones_run_at_once() {
        let s = Shutdown::new();
        let n = Arc::new(AtomicUsize::new(0));
        let n2 = n.clone();
        s.on_trigger(move || {
            n2.fetch_add(1, Ordering::SeqCst);
        });
        assert!(!s.is_triggered());
        s.trigger();
        s.trigger();
        assert!(s.is_triggered());
        assert_eq!(n.load(Ordering::SeqCst), 1);
        let n3 = n.clone();
        s.on_trigger(move || {
            n3.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(n.load(Ordering::SeqCst), 2);
    }
}
