//! `-o FILE`: the session's bytes, both directions, in the order they
//! crossed the socket, as they are (ncat's `-o`). A tap on the copy loops
//! and on the prompt's sends and receives.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};

use crate::hexdump::Tap;

/// Create (or truncate) `path` and return a tap that appends every chunk.
/// A failing write is reported once; the session goes on.
pub fn open(path: &Path) -> Result<Tap> {
    let file =
        File::create(path).with_context(|| format!("cannot open output log {}", path.display()))?;
    let file = Mutex::new(file);
    let failed = AtomicBool::new(false);
    Ok(Tap::new(move |_dir, data| {
        if failed.load(Ordering::Relaxed) {
            return;
        }
        let mut f = file.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = f.write_all(data) {
            if !failed.swap(true, Ordering::Relaxed) {
                eprintln!("netkit: warning: output log stopped: {e}");
            }
        }
    }))
}

/// One tap that calls both.
pub fn both(a: Option<Tap>, b: Option<Tap>) -> Option<Tap> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Tap::new(move |dir, data| {
            a.call(dir, data);
            b.call(dir, data);
        })),
        (a, b) => a.or(b),
    }
}
