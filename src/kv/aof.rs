//! The append-only file behind `--data FILE` (named `aof` because `crate::log`
//! is the diagnostics module).
//!
//! Layout: an 8-byte magic, then records `[len u32 LE][crc32 u32 LE][payload]`.
//! Payloads carry absolute expiry times, so replay needs no clock of its own.
//! A write is appended to an in-memory buffer while the store holds the key's
//! shard lock (so log order equals apply order per key); before a connection's
//! replies go out, the server calls [`Aof::commit`], which writes everything
//! buffered so far with one `write(2)` and, with `--fsync always`, one
//! `fsync` for the whole batch (group commit). `everysec` leaves the fsync to
//! [`Aof::tick`], called once a second on a cloned handle so writers never
//! wait for the disk.
//!
//! Replay stops at the first record that is short, oversized or fails its
//! checksum, truncates the file there and says so: a crash can tear the tail,
//! and starting with the good prefix beats refusing to start. Compaction
//! writes the live data to `FILE.tmp`, appends what was logged meanwhile,
//! fsyncs and renames over the log.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

const MAGIC: &[u8; 8] = b"NKKVAOF1";
/// Largest record accepted on replay: a 512 MiB value plus key and framing.
const MAX_RECORD: u32 = 1 << 31;

/// When an acknowledged write reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// fsync before every acknowledgement (batched per event-loop round).
    Always,
    /// fsync once a second: at most a second of acknowledged writes at risk.
    EverySec,
    /// Leave it to the OS.
    No,
}

/// One logged change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// Set `key` to `value`, expiring at this Unix time in ms (0: never).
    Set(Vec<u8>, Vec<u8>, u64),
    /// Delete `key`.
    Del(Vec<u8>),
    /// Set (or clear, with 0) the expiry of `key`.
    Expire(Vec<u8>, u64),
    /// Remove every key.
    Flush,
}

fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        t
    });
    let mut c = !0u32;
    for &b in data {
        c = table[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    buf.extend_from_slice(&(b.len() as u32).to_le_bytes());
    buf.extend_from_slice(b);
}

/// Append a framed record to `buf` (the borrowed form, to avoid copies).
pub fn encode(buf: &mut Vec<u8>, op: Op<'_>) {
    let start = buf.len();
    buf.extend_from_slice(&[0; 8]);
    match op {
        Op::Set(k, v, exp) => {
            buf.push(1);
            put_bytes(buf, k);
            put_bytes(buf, v);
            buf.extend_from_slice(&exp.to_le_bytes());
        }
        Op::Del(k) => {
            buf.push(2);
            put_bytes(buf, k);
        }
        Op::Expire(k, exp) => {
            buf.push(3);
            put_bytes(buf, k);
            buf.extend_from_slice(&exp.to_le_bytes());
        }
        Op::Flush => buf.push(4),
    }
    let len = (buf.len() - start - 8) as u32;
    let crc = crc32(&buf[start + 8..]);
    buf[start..start + 4].copy_from_slice(&len.to_le_bytes());
    buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// A record by reference, as the store logs it.
#[derive(Debug, Clone, Copy)]
pub enum Op<'a> {
    /// See [`Record::Set`].
    Set(&'a [u8], &'a [u8], u64),
    /// See [`Record::Del`].
    Del(&'a [u8]),
    /// See [`Record::Expire`].
    Expire(&'a [u8], u64),
    /// See [`Record::Flush`].
    Flush,
}

fn decode(p: &[u8]) -> Option<Record> {
    let mut pos = 1;
    let bytes = |pos: &mut usize| -> Option<Vec<u8>> {
        let n = u32::from_le_bytes(p.get(*pos..*pos + 4)?.try_into().ok()?) as usize;
        let v = p.get(*pos + 4..(*pos + 4).checked_add(n)?)?.to_vec();
        *pos += 4 + n;
        Some(v)
    };
    let u64_at = |pos: usize| -> Option<u64> {
        Some(u64::from_le_bytes(p.get(pos..pos + 8)?.try_into().ok()?))
    };
    let rec = match p.first()? {
        1 => {
            let k = bytes(&mut pos)?;
            let v = bytes(&mut pos)?;
            let r = Record::Set(k, v, u64_at(pos)?);
            pos += 8;
            r
        }
        2 => Record::Del(bytes(&mut pos)?),
        3 => {
            let k = bytes(&mut pos)?;
            let r = Record::Expire(k, u64_at(pos)?);
            pos += 8;
            r
        }
        4 => Record::Flush,
        _ => return None,
    };
    (pos == p.len()).then_some(rec)
}

/// What replay found.
#[derive(Debug, Default)]
pub struct Replay {
    /// Good records applied.
    pub records: u64,
    /// Bytes dropped from a torn or corrupt tail (0 when clean).
    pub dropped: u64,
    /// Offset of the first bad record, when there was one.
    pub bad_at: Option<u64>,
}

/// Read every good record of the log at `path`, passing each to `apply`;
/// truncate a torn or corrupt tail. A missing file is an empty log.
pub fn replay(path: &Path, mut apply: impl FnMut(Record)) -> io::Result<Replay> {
    let mut file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Replay::default()),
        Err(e) => return Err(e),
    };
    let total = file.metadata()?.len();
    let mut r = io::BufReader::with_capacity(1 << 20, &mut file);
    let mut magic = [0u8; 8];
    let got = read_full(&mut r, &mut magic)?;
    let mut out = Replay::default();
    if got < 8 {
        if magic[..got] != MAGIC[..got] {
            return Err(not_a_log(path));
        }
        drop(r);
        // A torn header: start the log afresh.
        file.set_len(0)?;
        out.dropped = got as u64;
        out.bad_at = (got > 0).then_some(0);
        return Ok(out);
    }
    if &magic != MAGIC {
        return Err(not_a_log(path));
    }
    let mut good = 8u64;
    let mut head = [0u8; 8];
    let mut payload = Vec::new();
    loop {
        let n = read_full(&mut r, &mut head)?;
        if n == 0 {
            break;
        }
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if n < 8 || len > MAX_RECORD || good + 8 + len as u64 > total {
            break;
        }
        payload.resize(len as usize, 0);
        if read_full(&mut r, &mut payload)? < len as usize || crc32(&payload) != crc {
            break;
        }
        let Some(rec) = decode(&payload) else { break };
        apply(rec);
        out.records += 1;
        good += 8 + len as u64;
    }
    drop(r);
    if good < total {
        out.dropped = total - good;
        out.bad_at = Some(good);
        file.set_len(good)?;
        file.sync_all()?;
    }
    Ok(out)
}

fn not_a_log(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "{} is not a netkit kv log (no NKKVAOF1 header); refusing to overwrite it",
            path.display()
        ),
    )
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

struct Pending {
    buf: Vec<u8>,
    /// Bytes ever appended (a logical position, across rewrites).
    appended: u64,
    /// While a rewrite runs: what was logged since its snapshot.
    capture: Option<Vec<u8>>,
}

struct FileState {
    file: File,
    /// Cloned handle the everysec ticker fsyncs without holding the lock.
    sync_handle: Arc<File>,
    /// Logical position written to the file.
    written: u64,
    /// Bytes in the file.
    size: u64,
    spare: Vec<u8>,
}

/// The open log. Shared by every connection through the store.
pub struct Aof {
    path: PathBuf,
    fsync: Fsync,
    pending: Mutex<Pending>,
    file: Mutex<FileState>,
    written: AtomicU64,
    synced: AtomicU64,
    /// Size after the last rewrite (or at open): the base for auto-compaction.
    base_size: AtomicU64,
    rewriting: AtomicBool,
    /// Compact when the file is this many times the base size...
    pub growth: u64,
    /// ...and at least this big.
    pub min_rewrite: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Aof {
    /// Open (creating) the log for appending, after [`replay`] has read it.
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
            size = MAGIC.len() as u64;
        }
        let sync_handle = Arc::new(file.try_clone()?);
        Ok(Aof {
            path: path.to_path_buf(),
            fsync,
            pending: Mutex::new(Pending {
                buf: Vec::with_capacity(64 * 1024),
                appended: 0,
                capture: None,
            }),
            file: Mutex::new(FileState {
                file,
                sync_handle,
                written: 0,
                size,
                spare: Vec::with_capacity(64 * 1024),
            }),
            written: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            base_size: AtomicU64::new(size),
            rewriting: AtomicBool::new(false),
            growth: 2,
            min_rewrite: 64 * 1024 * 1024,
        })
    }

    /// The fsync policy.
    pub fn fsync(&self) -> Fsync {
        self.fsync
    }

    /// Buffer one record; returns the position [`commit`](Self::commit) must reach.
    pub fn append(&self, op: Op<'_>) -> u64 {
        let mut p = lock(&self.pending);
        let before = p.buf.len();
        encode(&mut p.buf, op);
        let n = p.buf.len() - before;
        if p.capture.is_some() {
            let Pending { buf, capture, .. } = &mut *p;
            if let Some(c) = capture {
                c.extend_from_slice(&buf[before..]);
            }
        }
        p.appended += n as u64;
        p.appended
    }

    /// Make everything appended up to `upto` durable per the fsync policy
    /// (written; with `always`, also fsynced). Batches whatever is buffered.
    pub fn commit(&self, upto: u64) -> io::Result<()> {
        let need_sync = self.fsync == Fsync::Always;
        if self.written.load(Ordering::Acquire) >= upto
            && (!need_sync || self.synced.load(Ordering::Acquire) >= upto)
        {
            return Ok(());
        }
        let mut f = lock(&self.file);
        self.write_pending(&mut f)?;
        if need_sync && self.synced.load(Ordering::Acquire) < upto {
            f.file.sync_data()?;
            self.synced.store(f.written, Ordering::Release);
        }
        Ok(())
    }

    fn write_pending(&self, f: &mut FileState) -> io::Result<()> {
        let mut data = std::mem::take(&mut f.spare);
        {
            let mut p = lock(&self.pending);
            std::mem::swap(&mut p.buf, &mut data);
        }
        if !data.is_empty() {
            f.file.write_all(&data)?;
            f.written += data.len() as u64;
            f.size += data.len() as u64;
            self.written.store(f.written, Ordering::Release);
        }
        data.clear();
        if data.capacity() > 16 << 20 {
            data = Vec::with_capacity(64 * 1024);
        }
        f.spare = data;
        Ok(())
    }

    /// Write and fsync everything buffered (shutdown, `everysec` ticks).
    pub fn sync_all(&self) -> io::Result<()> {
        let mut f = lock(&self.file);
        self.write_pending(&mut f)?;
        f.file.sync_data()?;
        self.synced.store(f.written, Ordering::Release);
        Ok(())
    }

    /// Once a second: with `everysec`, fsync what was written, off the lock.
    pub fn tick(&self) -> io::Result<()> {
        if self.fsync != Fsync::EverySec {
            return Ok(());
        }
        let (handle, upto) = {
            let mut f = lock(&self.file);
            self.write_pending(&mut f)?;
            (f.sync_handle.clone(), f.written)
        };
        if self.synced.load(Ordering::Acquire) < upto {
            handle.sync_data()?;
            self.synced.fetch_max(upto, Ordering::AcqRel);
        }
        Ok(())
    }

    /// True when the file has grown past `growth` times its compacted size.
    pub fn wants_rewrite(&self) -> bool {
        let size = lock(&self.file).size;
        size >= self.min_rewrite
            && size
                >= self
                    .base_size
                    .load(Ordering::Relaxed)
                    .saturating_mul(self.growth)
            && !self.rewriting.load(Ordering::Relaxed)
    }

    /// Current size of the file in bytes.
    pub fn size(&self) -> u64 {
        lock(&self.file).size
    }

    /// Claim the rewrite; false if one is already running.
    pub fn begin_rewrite(&self) -> bool {
        !self.rewriting.swap(true, Ordering::AcqRel)
    }

    /// Start recording appends for the rewrite. Call while the store is
    /// locked, right before taking its snapshot.
    pub fn start_capture(&self) {
        lock(&self.pending).capture = Some(Vec::new());
    }

    /// Write `snapshot` (live data) to `FILE.tmp`, add what was logged since,
    /// fsync, and rename it over the log. Ends the rewrite either way.
    pub fn finish_rewrite(
        &self,
        snapshot: impl Iterator<Item = (Vec<u8>, Vec<u8>, u64)>,
    ) -> io::Result<()> {
        let result = self.finish_rewrite_inner(snapshot);
        if result.is_err() {
            lock(&self.pending).capture = None;
        }
        self.rewriting.store(false, Ordering::Release);
        result
    }

    fn finish_rewrite_inner(
        &self,
        snapshot: impl Iterator<Item = (Vec<u8>, Vec<u8>, u64)>,
    ) -> io::Result<()> {
        let tmp = tmp_path(&self.path);
        let file = File::create(&tmp)?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        w.write_all(MAGIC)?;
        let mut rec = Vec::new();
        for (k, v, exp) in snapshot {
            rec.clear();
            encode(&mut rec, Op::Set(&k, &v, exp));
            w.write_all(&rec)?;
        }
        let mut file = w.into_inner().map_err(|e| e.into_error())?;
        // Writers continue into the old file until the swap below.
        let mut f = lock(&self.file);
        self.write_pending(&mut f)?;
        let tail = lock(&self.pending).capture.take().unwrap_or_default();
        file.write_all(&tail)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        let mut file = OpenOptions::new().append(true).open(&self.path)?;
        let size = file.seek(SeekFrom::End(0))?;
        f.sync_handle = Arc::new(file.try_clone()?);
        f.file = file;
        f.size = size;
        self.synced.store(f.written, Ordering::Release);
        self.base_size.store(size, Ordering::Relaxed);
        Ok(())
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".tmp");
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn records_roundtrip() {
        for (op, rec) in [
            (
                Op::Set(b"k\xff", b"v a", 7),
                Record::Set(b"k\xff".to_vec(), b"v a".to_vec(), 7),
            ),
            (Op::Del(b""), Record::Del(Vec::new())),
            (Op::Expire(b"x", 0), Record::Expire(b"x".to_vec(), 0)),
            (Op::Flush, Record::Flush),
        ] {
            let mut buf = Vec::new();
            encode(&mut buf, op);
            let len = u32::from_le_bytes(buf[..4].try_into().unwrap()) as usize;
            assert_eq!(len, buf.len() - 8);
            assert_eq!(decode(&buf[8..]), Some(rec));
        }
    }
}
