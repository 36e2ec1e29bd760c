//! `--hexdump FILE|-`: a record of every chunk that crosses a connection,
//! like `socat -x` and `ncat --hex-dump`.
//!
//! Each chunk is one record: a header with the direction mark (`<` received
//! from the peer, `>` sent to it), the UTC time, the peer, the length and the
//! chunk's offset in its direction of the stream, then `hexdump -C` style
//! lines whose offsets continue the stream's. The formatter is pure; `HexDump`
//! writes whole records under a lock, so records from many connections never
//! interleave. `Tap` is the hook the copy loops call.

use std::fmt::{self, Write as _};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

/// Bytes per dump line.
const WIDTH: usize = 16;

/// Which way a chunk went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Received from the peer (`<`).
    In,
    /// Sent to the peer (`>`).
    Out,
}

impl Direction {
    /// The mark that starts a record.
    pub fn mark(self) -> char {
        match self {
            Direction::In => '<',
            Direction::Out => '>',
        }
    }
}

/// `2026-11-21 05:01:22.123456` (UTC) for a point in time.
pub fn format_utc(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's days-to-civil, valid for any day after 1970.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:06}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_micros()
    )
}

/// `hexdump -C` lines for `data` whose first byte is at stream offset
/// `offset`: `00000010  68 65 6c 6c 6f 0a  ...  |hello.|`, 16 bytes a row.
/// Shared by `--hexdump` records and the prompt's `:hex on`.
pub fn dump_lines(offset: u64, data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(WIDTH) * 80);
    for (i, line) in data.chunks(WIDTH).enumerate() {
        let at = offset.wrapping_add((i * WIDTH) as u64);
        let _ = write!(out, "{at:08x} ");
        for col in 0..WIDTH {
            if col == WIDTH / 2 {
                out.push(' ');
            }
            match line.get(col) {
                Some(b) => {
                    let _ = write!(out, " {b:02x}");
                }
                None => out.push_str("   "),
            }
        }
        out.push_str("  |");
        for &b in line {
            out.push(if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            });
        }
        out.push_str("|\n");
    }
    out
}

/// One record: header line, then the dump lines, each ending in `\n`.
pub fn format_record(
    dir: Direction,
    peer: Option<SocketAddr>,
    when: SystemTime,
    offset: u64,
    data: &[u8],
) -> String {
    let mut out = String::with_capacity(80 + data.len().div_ceil(WIDTH) * 80);
    let _ = write!(out, "{} {}", dir.mark(), format_utc(when));
    if let Some(p) = peer {
        let word = match dir {
            Direction::In => "from",
            Direction::Out => "to",
        };
        let _ = write!(out, " {word} {p}");
    }
    let _ = writeln!(out, " length={} offset={offset}", data.len());
    out.push_str(&dump_lines(offset, data));
    out
}

/// Where records go: a file or stderr, shared by every connection.
pub struct HexDump {
    out: Mutex<Box<dyn Write + Send>>,
    failed: AtomicBool,
}

impl fmt::Debug for HexDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HexDump")
    }
}

impl HexDump {
    /// Records to any writer (tests use a shared buffer).
    pub fn new(out: Box<dyn Write + Send>) -> HexDump {
        HexDump {
            out: Mutex::new(out),
            failed: AtomicBool::new(false),
        }
    }

    /// `-` is stderr (stdout carries the data); anything else a file, created
    /// or truncated.
    pub fn open(spec: &str) -> Result<HexDump> {
        if spec == "-" {
            return Ok(HexDump::new(Box::new(io::stderr())));
        }
        let file = std::fs::File::create(spec)
            .with_context(|| format!("cannot open hexdump file {spec}"))?;
        Ok(HexDump::new(Box::new(file)))
    }

    /// Write one record. A failing sink is reported once, then ignored: the
    /// data path matters more than its trace.
    pub fn record(&self, dir: Direction, peer: Option<SocketAddr>, offset: u64, data: &[u8]) {
        if data.is_empty() || self.failed.load(Ordering::Relaxed) {
            return;
        }
        let text = format_record(dir, peer, SystemTime::now(), offset, data);
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            if !self.failed.swap(true, Ordering::Relaxed) {
                eprintln!("netkit: warning: hexdump stopped: {e}");
            }
        }
    }

    /// A tap for one connection: it keeps the offset of each direction.
    pub fn tap(self: &Arc<Self>, peer: Option<SocketAddr>) -> Tap {
        let dump = self.clone();
        let offsets = [AtomicU64::new(0), AtomicU64::new(0)];
        Tap::new(move |dir, data| {
            let slot = &offsets[dir as usize];
            let at = slot.fetch_add(data.len() as u64, Ordering::Relaxed);
            dump.record(dir, peer, at, data);
        })
    }
}

/// The closure behind a `Tap`.
type TapFn = dyn Fn(Direction, &[u8]) + Send + Sync;

/// A hook called with every chunk that crosses a connection.
#[derive(Clone)]
pub struct Tap(Arc<TapFn>);

impl Tap {
    /// Wrap a closure.
    pub fn new(f: impl Fn(Direction, &[u8]) + Send + Sync + 'static) -> Tap {
        Tap(Arc::new(f))
    }

    /// Report a chunk.
    pub fn call(&self, dir: Direction, data: &[u8]) {
        (self.0)(dir, data)
    }

    /// A reader that reports what it reads as going `dir`.
    pub fn reader<R: Read>(&self, inner: R, dir: Direction) -> TapReader<R> {
        TapReader {
            inner,
            tap: self.clone(),
            dir,
        }
    }
}

impl fmt::Debug for Tap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tap")
    }
}

/// A reader that reports every chunk it returns to a `Tap`.
pub struct TapReader<R> {
    inner: R,
    tap: Tap,
    dir: Direction,
}

impl<R> TapReader<R> {
    /// The wrapped reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }
}

impl<R: Read> Read for TapReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.tap.call(self.dir, &buf[..n]);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, micros: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros)
    }

    #[test]
    fn utc_dates() {
        assert_eq!(format_utc(at(0, 0)), "1970-01-01 00:00:00.000000");
        assert_eq!(format_utc(at(951_782_400, 7)), "2000-02-29 00:00:00.000007");
        assert_eq!(
            format_utc(at(1_700_000_000, 0)),
            "2023-11-14 22:13:20.000000"
        );
        assert_eq!(
            format_utc(at(4_102_444_799, 0)),
            "2099-12-31 23:59:59.000000"
        );
        assert_eq!(
            format_utc(UNIX_EPOCH - Duration::from_secs(5)),
            "1970-01-01 00:00:00.000000"
        );
    }

    #[test]
    fn a_short_record() {
        let peer = SocketAddr::from(([127, 0, 0, 1], 5555));
        let r = format_record(Direction::In, Some(peer), at(0, 0), 0, b"hello\n");
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(
            lines[0],
            "< 1970-01-01 00:00:00.000000 from 127.0.0.1:5555 length=6 offset=0"
        );
        assert_eq!(
            lines[1],
            "00000000  68 65 6c 6c 6f 0a                                 |hello.|"
        );
        assert_eq!(lines.len(), 2);
    }

    #[test]
    fn long_records_continue_the_stream_offset() {
        let data: Vec<u8> = (0u8..=33).collect();
        let r = format_record(Direction::Out, None, at(0, 0), 0x100, &data);
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(
            lines[0],
            "> 1970-01-01 00:00:00.000000 length=34 offset=256"
        );
        assert_eq!(
            lines[1],
            "00000100  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|"
        );
        assert_eq!(
            lines[2],
            "00000110  10 11 12 13 14 15 16 17  18 19 1a 1b 1c 1d 1e 1f  |................|"
        );
        assert_eq!(
            lines[3],
            "00000120  20 21                                             | !|"
        );
        // Every dump line has the same width up to the text column.
        assert_eq!(lines[1].find('|'), lines[3].find('|'));
    }

    #[test]
    fn hostile_bytes_stay_printable() {
        let data = [0x1b, b'[', b'2', b'J', 0x7f, 0xff, b'\r', b'\n'];
        let r = format_record(Direction::In, None, at(0, 0), u64::MAX - 3, &data);
        assert!(r.contains("|.[2J....|"), "{r}");
        assert!(!r.contains('\u{1b}'));
        assert!(
            format_record(Direction::In, None, at(0, 0), 0, b"")
                .lines()
                .count()
                == 1
        );
    }

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn taps_count_offsets_per_direction() {
        let buf = Shared::default();
        let dump = Arc::new(HexDump::new(Box::new(buf.clone())));
        let tap = dump.tap(None);
        let mut r = tap.reader(&b"abc"[..], Direction::In);
        let mut sink = Vec::new();
        r.read_to_end(&mut sink).expect("read");
        tap.call(Direction::Out, b"xy");
        tap.call(Direction::In, b"d");
        tap.call(Direction::Out, b"z");
        let text = String::from_utf8(buf.0.lock().expect("lock").clone()).expect("utf8");
        let headers: Vec<String> = text
            .lines()
            .filter(|l| l.starts_with('<') || l.starts_with('>'))
            .map(|l| {
                let (mark, rest) = l.split_at(1);
                format!("{mark}{}", &rest[rest.find(" length").expect("length")..])
            })
            .collect();
        assert_eq!(
            headers,
            [
                "< length=3 offset=0",
                "> length=2 offset=0",
                "< length=1 offset=3",
                "> length=1 offset=2"
            ]
        );
    }
}
