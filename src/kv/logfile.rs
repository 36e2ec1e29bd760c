//! The open log behind `--data FILE`: appends, fsync policy, compaction.
//!
//! [`Aof::append`] is called by the store with its lock held, once per
//! event-loop round, with every record the round produced (group commit):
//! one `write(2)`. If it fails (a full disk), the file is truncated back to
//! where it was, so it never holds a partial record in the middle, and the
//! caller undoes the round in memory. With `--fsync always`, each loop calls
//! [`Aof::sync_to`] after releasing the store lock and before answering: one
//! `fdatasync` covers every loop's appends so far. `everysec` fsyncs from the
//! housekeeping thread through a cloned handle, so no writer waits for the
//! disk. A failed truncate or fsync marks the log broken: from then on every
//! write is refused (reads go on) until a restart, since what reached the
//! disk is no longer known.
//!
//! Compaction writes the live data to `FILE.tmp` while appends continue
//! into the old file and into a capture buffer, then, holding the file lock,
//! adds the capture, fsyncs and renames over the log.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::aof::MAGIC;

/// When an acknowledged write reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// fsync before every acknowledgement (one per event-loop round).
    Always,
    /// fsync once a second: at most a second of acknowledged writes at risk.
    EverySec,
    /// Leave it to the OS.
    No,
}

impl Fsync {
    /// The Redis name (`appendfsync`).
    pub fn name(self) -> &'static str {
        match self {
            Fsync::Always => "always",
            Fsync::EverySec => "everysec",
            Fsync::No => "no",
        }
    }

    /// Parse a Redis name.
    pub fn parse(s: &str) -> Option<Fsync> {
        match s.to_ascii_lowercase().as_str() {
            "always" => Some(Fsync::Always),
            "everysec" => Some(Fsync::EverySec),
            "no" => Some(Fsync::No),
            _ => None,
        }
    }
}

struct FileState {
    file: File,
    /// Cloned handle fsynced without holding the lock.
    sync_handle: Arc<File>,
    /// Bytes in the file.
    size: u64,
    /// While a rewrite runs: what was appended since its snapshot.
    capture: Option<Vec<u8>>,
}

/// The open log, shared by the store and the housekeeping thread.
pub struct Aof {
    path: PathBuf,
    fsync: AtomicU8,
    file: Mutex<FileState>,
    /// Serialises fsyncs so concurrent `sync_to` calls share one.
    sync_lock: Mutex<()>,
    /// Logical bytes appended (across rewrites).
    written: AtomicU64,
    synced: AtomicU64,
    broken: Mutex<Option<String>>,
    /// Fast check for `broken` (read on every write command).
    is_broken: AtomicBool,
    base_size: AtomicU64,
    rewriting: AtomicBool,
    /// Compact when the file is this many times its compacted size...
    pub growth: u64,
    /// ...and at least this big.
    pub min_rewrite: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn fsync_code(f: Fsync) -> u8 {
    match f {
        Fsync::Always => 0,
        Fsync::EverySec => 1,
        Fsync::No => 2,
    }
}

impl Aof {
    /// Open (creating) the log for appending, after it was replayed.
    pub fn open(path: &Path, fsync: Fsync) -> io::Result<Aof> {
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        let mut size = file.seek(SeekFrom::End(0))?;
        if size == 0 {
            file.write_all(MAGIC)?;
            file.sync_all()?;
            sync_dir(path);
            size = MAGIC.len() as u64;
        }
        let sync_handle = Arc::new(file.try_clone()?);
        Ok(Aof {
            path: path.to_path_buf(),
            fsync: AtomicU8::new(fsync_code(fsync)),
            file: Mutex::new(FileState {
                file,
                sync_handle,
                size,
                capture: None,
            }),
            sync_lock: Mutex::new(()),
            written: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            broken: Mutex::new(None),
            is_broken: AtomicBool::new(false),
            base_size: AtomicU64::new(size),
            rewriting: AtomicBool::new(false),
            growth: 2,
            min_rewrite: 64 * 1024 * 1024,
        })
    }

    /// The fsync policy.
    pub fn fsync(&self) -> Fsync {
        match self.fsync.load(Ordering::Relaxed) {
            0 => Fsync::Always,
            1 => Fsync::EverySec,
            _ => Fsync::No,
        }
    }

    /// Change the fsync policy (`CONFIG SET appendfsync`).
    pub fn set_fsync(&self, f: Fsync) {
        self.fsync.store(fsync_code(f), Ordering::Relaxed);
    }

    /// Why the log refuses writes, if it does.
    pub fn broken(&self) -> Option<String> {
        if !self.is_broken.load(Ordering::Acquire) {
            return None;
        }
        lock(&self.broken).clone()
    }

    fn mark_broken(&self, why: String) {
        lock(&self.broken).get_or_insert(why);
        self.is_broken.store(true, Ordering::Release);
    }

    /// Append whole records with one write; returns the logical position to
    /// pass to [`sync_to`](Self::sync_to). On failure nothing of `data` stays
    /// in the file.
    pub fn append(&self, data: &[u8]) -> io::Result<u64> {
        if let Some(why) = self.broken() {
            return Err(io::Error::other(why));
        }
        let mut f = lock(&self.file);
        let before = f.size;
        if let Err(e) = f.file.write_all(data) {
            if let Err(t) = f.file.set_len(before) {
                self.mark_broken(format!(
                    "the log could not be truncated back after a failed write ({e}): {t}"
                ));
            }
            return Err(e);
        }
        f.size += data.len() as u64;
        if let Some(c) = &mut f.capture {
            c.extend_from_slice(data);
        }
        let pos = self.written.fetch_add(data.len() as u64, Ordering::AcqRel) + data.len() as u64;
        Ok(pos)
    }

    /// With `--fsync always`: make sure everything up to `pos` is on disk
    /// (one fsync serves every caller waiting at the time).
    pub fn sync_to(&self, pos: u64) -> io::Result<()> {
        if self.fsync() != Fsync::Always || self.synced.load(Ordering::Acquire) >= pos {
            return Ok(());
        }
        let _one = lock(&self.sync_lock);
        if self.synced.load(Ordering::Acquire) >= pos {
            return Ok(());
        }
        self.sync_now()
    }

    fn sync_now(&self) -> io::Result<()> {
        let (handle, upto) = {
            let f = lock(&self.file);
            (f.sync_handle.clone(), self.written.load(Ordering::Acquire))
        };
        if let Err(e) = handle.sync_data() {
            self.mark_broken(format!("fsync of the log failed: {e}"));
            return Err(e);
        }
        self.synced.fetch_max(upto, Ordering::AcqRel);
        Ok(())
    }

    /// fsync everything written (shutdown, and the `everysec` tick).
    pub fn sync_all(&self) -> io::Result<()> {
        let _one = lock(&self.sync_lock);
        if self.synced.load(Ordering::Acquire) >= self.written.load(Ordering::Acquire) {
            return Ok(());
        }
        self.sync_now()
    }

    /// Bytes written but not yet fsynced.
    pub fn unsynced(&self) -> u64 {
        let w = self.written.load(Ordering::Acquire);
        w.saturating_sub(self.synced.load(Ordering::Acquire))
    }

    /// Once a second: with `everysec`, fsync what was written.
    pub fn tick(&self) -> io::Result<()> {
        if self.fsync() != Fsync::EverySec {
            return Ok(());
        }
        self.sync_all()
    }

    /// True when the file has grown past `growth` times its compacted size.
    pub fn wants_rewrite(&self) -> bool {
        let size = self.size();
        size >= self.min_rewrite
            && size
                >= self
                    .base_size
                    .load(Ordering::Relaxed)
                    .saturating_mul(self.growth)
            && !self.rewriting.load(Ordering::Relaxed)
    }

    /// Bytes in the file.
    pub fn size(&self) -> u64 {
        lock(&self.file).size
    }

    /// True while a compaction runs.
    pub fn rewriting(&self) -> bool {
        self.rewriting.load(Ordering::Relaxed)
    }

    /// Claim the rewrite; false if one is already running.
    pub fn begin_rewrite(&self) -> bool {
        !self.rewriting.swap(true, Ordering::AcqRel)
    }

    /// Give up a claimed rewrite that never started.
    pub fn abandon_rewrite(&self) {
        self.rewriting.store(false, Ordering::Release);
    }

    /// Start recording appends for the rewrite. Call with the store locked,
    /// right before taking its snapshot.
    pub fn start_capture(&self) {
        lock(&self.file).capture = Some(Vec::new());
    }

    /// Write the snapshot's records to `FILE.tmp`, add what was appended
    /// since, fsync and rename it over the log. Ends the rewrite either way.
    pub fn finish_rewrite(&self, records: impl Iterator<Item = Vec<u8>>) -> io::Result<()> {
        let result = self.finish_rewrite_inner(records);
        if result.is_err() {
            lock(&self.file).capture = None;
            let _ = std::fs::remove_file(tmp_path(&self.path));
        }
        self.rewriting.store(false, Ordering::Release);
        result
    }

    fn finish_rewrite_inner(&self, records: impl Iterator<Item = Vec<u8>>) -> io::Result<()> {
        let tmp = tmp_path(&self.path);
        let mut w = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
        w.write_all(MAGIC)?;
        for rec in records {
            w.write_all(&rec)?;
        }
        let mut file = w.into_inner().map_err(|e| e.into_error())?;
        // Appends continue into the old file until the swap below.
        let mut f = lock(&self.file);
        let tail = f.capture.take().unwrap_or_default();
        file.write_all(&tail)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        sync_dir(&self.path);
        let mut file = OpenOptions::new().append(true).open(&self.path)?;
        let size = file.seek(SeekFrom::End(0))?;
        f.sync_handle = Arc::new(file.try_clone()?);
        f.file = file;
        f.size = size;
        self.synced
            .store(self.written.load(Ordering::Acquire), Ordering::Release);
        self.base_size.store(size, Ordering::Relaxed);
        Ok(())
    }
}

/// fsync the directory holding `path` so a create or rename is durable.
pub fn sync_dir(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// `FILE.tmp`.
pub fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".tmp");
    PathBuf::from(s)
}
