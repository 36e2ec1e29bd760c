//! The classic inetd services on a thread per client: discard (RFC 863),
//! chargen-style source (RFC 864), time, and the line-based upper-case echo.
//! (Echo, RFC 862, runs on the readiness loops of `evloop`.)
//! Every handler owns one bounded buffer; none grows with what a peer sends.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use super::tcp::{Conn, End};
use crate::hexdump::{Direction, Tap};

/// Discard reads in large gulps: fewer syscalls.
const DISCARD_BUF: usize = 256 * 1024;
/// `--upper`: the longest line accepted; a longer one closes the connection.
pub const MAX_LINE: usize = 64 * 1024;

/// Read into `buf`, retrying on EINTR.
fn read_some(stream: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match stream.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// RFC 863: read and count.
pub fn discard(conn: &mut Conn) -> End {
    discard_tapped(conn, None)
}

/// `discard` with `--hexdump`: each chunk read is reported.
pub fn discard_tapped(conn: &mut Conn, tap: Option<&Tap>) -> End {
    let mut buf = vec![0u8; DISCARD_BUF];
    let mut stream = &*conn.stream;
    loop {
        match read_some(&mut stream, &mut buf) {
            Ok(0) => return End::PeerClosed,
            Ok(n) => {
                conn.bytes_in += n as u64;
                if let Some(t) = tap {
                    t.call(Direction::In, &buf[..n]);
                }
            }
            Err(e) => return End::from_io(&e),
        }
    }
}

/// The chargen pattern (RFC 864): lines of 72 printable characters, each
/// starting one character further along, repeated for whole periods so the
/// buffer can be sent again and again without a seam.
pub fn chargen_block() -> &'static [u8] {
    static BLOCK: OnceLock<Vec<u8>> = OnceLock::new();
    BLOCK.get_or_init(|| {
        const PRINTABLE: usize = 95; // ' ' ..= '~'
        const PERIODS: usize = 18; // 18 * 95 lines * 74 bytes ≈ 124 KiB
        let mut out = Vec::with_capacity(PERIODS * PRINTABLE * 74);
        for _ in 0..PERIODS {
            for line in 0..PRINTABLE {
                for col in 0..72 {
                    out.push(b' ' + ((line + col) % PRINTABLE) as u8);
                }
                out.extend_from_slice(b"\r\n");
            }
        }
        out
    })
}

/// RFC 864-style source: the chargen pattern until the client goes away.
pub fn source(conn: &mut Conn) -> End {
    let block = chargen_block();
    let mut stream = &*conn.stream;
    loop {
        match stream.write(block) {
            Ok(0) => return End::PeerClosed,
            Ok(n) => conn.bytes_out += n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return match e.kind() {
                    io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => End::PeerClosed,
                    _ => End::from_io(&e),
                };
            }
        }
    }
}

/// Seconds since the Unix epoch.
pub fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The time service: Unix seconds as ASCII and a newline, then close.
pub fn time(conn: &mut Conn) -> End {
    let line = format!("{}\n", unix_seconds());
    let mut stream = &*conn.stream;
    match stream.write_all(line.as_bytes()) {
        Ok(()) => {
            conn.bytes_out += line.len() as u64;
            End::Done
        }
        Err(e) => End::from_io(&e),
    }
}

/// What `--upper` answers to one line (without its line ending).
#[derive(Debug, PartialEq, Eq)]
pub enum UpperReply {
    /// Send this back.
    Line(Vec<u8>),
    /// Send `bye` and close.
    Quit,
}

/// Pure line handling of `--upper`.
pub fn upper_line(line: &[u8]) -> UpperReply {
    if line.trim_ascii().eq_ignore_ascii_case(b"quit") {
        UpperReply::Quit
    } else {
        UpperReply::Line(line.to_ascii_uppercase())
    }
}

/// Line echo, upper-cased; `quit` answers `bye` and closes.
pub fn upper(conn: &mut Conn) -> End {
    let mut reader = BufReader::with_capacity(8 * 1024, &*conn.stream);
    let mut writer = &*conn.stream;
    let mut line = Vec::new();
    loop {
        line.clear();
        let limit = MAX_LINE as u64 + 1;
        match (&mut reader).take(limit).read_until(b'\n', &mut line) {
            Ok(0) => return End::PeerClosed,
            Ok(n) => conn.bytes_in += n as u64,
            Err(e) => return End::from_io(&e),
        }
        let ending: &[u8] = if line.ends_with(b"\r\n") {
            b"\r\n"
        } else if line.ends_with(b"\n") {
            b"\n"
        } else if line.len() > MAX_LINE {
            let _ = writer.write_all(b"ERR line too long\n");
            return End::Error(format!("line longer than {MAX_LINE} bytes"));
        } else {
            b"" // last line without a newline
        };
        let body = &line[..line.len() - ending.len()];
        let reply = match upper_line(body) {
            UpperReply::Quit => {
                let _ = writer.write_all(b"bye\n");
                conn.bytes_out += 4;
                return End::Done;
            }
            UpperReply::Line(mut up) => {
                up.extend_from_slice(if ending.is_empty() { b"\n" } else { ending });
                up
            }
        };
        if let Err(e) = writer.write_all(&reply) {
            return End::from_io(&e);
        }
        conn.bytes_out += reply.len() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_lines() {
        assert_eq!(upper_line(b"hello"), UpperReply::Line(b"HELLO".to_vec()));
        assert_eq!(upper_line(b"QuIt "), UpperReply::Quit);
        assert_eq!(
            upper_line(b"quitter"),
            UpperReply::Line(b"QUITTER".to_vec())
        );
        assert_eq!(
            upper_line(b"\xff\x00a"),
            UpperReply::Line(b"\xff\x00A".to_vec())
        );
    }

    #[test]
    fn chargen_repeats_without_a_seam() {
        let b = chargen_block();
        assert_eq!(b.len() % (95 * 74), 0);
        assert_eq!(&b[..4], b" !\"#");
        assert_eq!(&b[74..78], b"!\"#$");
        // The line after the last one of the block is the first line again.
        let last = &b[b.len() - 74..b.len() - 2];
        assert_eq!(last[0], b'~');
    }
}
