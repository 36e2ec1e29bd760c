//! How much heap the process holds, for `kv serve`'s `used_memory` and
//! `maxmemory`: Redis counts its allocator's bytes (zmalloc), and so does
//! netkit, with [`Counting`], a global allocator that wraps the system one
//! and keeps a running total. The binary installs it (`src/main.rs`); a
//! program that does not (the unit tests) reads 0.
//!
//! Each thread adds its changes to a thread-local tally and moves it to the
//! shared total once it passes [`FLUSH`] bytes either way, so the hot path
//! costs a thread-local add, not an atomic one: the total is exact to within
//! `FLUSH` bytes per thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

/// Bytes a thread may hold back from the total.
const FLUSH: isize = 16 << 10;

static TOTAL: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    static TALLY: Cell<isize> = const { Cell::new(0) };
}

/// Heap bytes held by the process now (to within a few KiB per thread).
pub fn used() -> usize {
    TOTAL.load(Relaxed).max(0) as usize
}

#[inline]
fn add(delta: isize) {
    let flushed = TALLY.try_with(|t| {
        let v = t.get() + delta;
        if (-FLUSH..=FLUSH).contains(&v) {
            t.set(v);
        } else {
            t.set(0);
            TOTAL.fetch_add(v, Relaxed);
        }
    });
    if flushed.is_err() {
        // The thread is going away: count straight into the total.
        TOTAL.fetch_add(delta, Relaxed);
    }
}

/// The system allocator, counted.
pub struct Counting;

// SAFETY: every call is passed unchanged to `System`; the bookkeeping
// neither allocates nor touches the memory.
unsafe impl GlobalAlloc for Counting {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            add(layout.size() as isize);
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            add(layout.size() as isize);
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        add(-(layout.size() as isize));
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            add(new_size as isize - layout.size() as isize);
        }
        p
    }
}

/// Redis's `memtoull`: bytes, or a number with `k`/`m`/`g` (powers of 1000)
/// or `kb`/`mb`/`gb` (powers of 1024), any case.
pub fn parse_size(s: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(s).ok()?.to_ascii_lowercase();
    let (num, mul) = [
        ("gb", 1u64 << 30),
        ("mb", 1 << 20),
        ("kb", 1 << 10),
        ("g", 1_000_000_000),
        ("m", 1_000_000),
        ("k", 1_000),
        ("b", 1),
    ]
    .iter()
    .find_map(|(suf, m)| s.strip_suffix(suf).map(|n| (n.to_string(), *m)))
    .unwrap_or((s.clone(), 1));
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    num.parse::<u64>().ok()?.checked_mul(mul)
}

/// Redis's `bytesToHuman`: `1.50K`, `2.00M`, `0B`.
pub fn human(n: u64) -> String {
    let f = n as f64;
    match n {
        0..1024 => format!("{n}B"),
        1024..1_048_576 => format!("{:.2}K", f / 1024.0),
        1_048_576..1_073_741_824 => format!("{:.2}M", f / 1_048_576.0),
        _ => format!("{:.2}G", f / 1_073_741_824.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_as_redis_reads_them() {
        assert_eq!(parse_size(b"0"), Some(0));
        assert_eq!(parse_size(b"100"), Some(100));
        assert_eq!(parse_size(b"1k"), Some(1000));
        assert_eq!(parse_size(b"1KB"), Some(1024));
        assert_eq!(parse_size(b"2mb"), Some(2 << 20));
        assert_eq!(parse_size(b"3g"), Some(3_000_000_000));
        assert_eq!(parse_size(b"1gb"), Some(1 << 30));
        for bad in [
            &b""[..],
            b"-1",
            b"1.5mb",
            b"mb",
            b"bla",
            b"1tb",
            b"99999999999999999999",
        ] {
            assert_eq!(parse_size(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(0), "0B");
        assert_eq!(human(1536), "1.50K");
        assert_eq!(human(3 << 20), "3.00M");
    }
}
