//! `--framed`: frames of a 4-byte big-endian length and that many bytes, each
//! echoed back. The payload is streamed through a fixed buffer, so a peer's
//! length never turns into an allocation; a length over `--max-frame` closes
//! the connection with an error.

use std::io::{self, Read, Write};

use super::tcp::{Conn, End};

const CHUNK: usize = 64 * 1024;

/// Why a frame header was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The length is over the limit.
    TooLarge {
        /// Length the peer announced.
        len: u64,
        /// The configured limit.
        max: u64,
    },
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::TooLarge { len, max } => {
                write!(f, "frame of {len} bytes exceeds --max-frame {max}")
            }
        }
    }
}

/// Decode a frame header: the payload length, if within `max`.
pub fn parse_header(header: [u8; 4], max: u64) -> Result<u64, FrameError> {
    let len = u64::from(u32::from_be_bytes(header));
    if len > max {
        Err(FrameError::TooLarge { len, max })
    } else {
        Ok(len)
    }
}

/// Encode a frame header for a payload of `len` bytes.
pub fn encode_header(len: usize) -> io::Result<[u8; 4]> {
    u32::try_from(len)
        .map(u32::to_be_bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame longer than 4 GiB"))
}

/// Read exactly 4 header bytes; `Ok(None)` on a clean EOF before the first.
fn read_header(stream: &mut impl Read) -> io::Result<Option<[u8; 4]>> {
    let mut header = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match stream.read(&mut header[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Some(header))
}

/// Echo frames until the peer closes or sends a bad one.
pub fn echo(conn: &mut Conn, max_frame: u64) -> End {
    let mut buf = vec![0u8; CHUNK];
    let mut stream = &*conn.stream;
    loop {
        let header = match read_header(&mut stream) {
            Ok(Some(h)) => h,
            Ok(None) => return End::PeerClosed,
            Err(e) => return End::from_io(&e),
        };
        conn.bytes_in += 4;
        let mut left = match parse_header(header, max_frame) {
            Ok(len) => len,
            Err(e) => return End::Error(e.to_string()),
        };
        if let Err(e) = stream.write_all(&header) {
            return End::from_io(&e);
        }
        conn.bytes_out += 4;
        while left > 0 {
            let want = left.min(CHUNK as u64) as usize;
            let n = match stream.read(&mut buf[..want]) {
                Ok(0) => return End::Error("peer closed mid-frame".into()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return End::from_io(&e),
            };
            conn.bytes_in += n as u64;
            if let Err(e) = stream.write_all(&buf[..n]) {
                return End::from_io(&e);
            }
            conn.bytes_out += n as u64;
            left -= n as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert_eq!(parse_header([0, 0, 0, 5], 16), Ok(5));
        assert_eq!(parse_header([0, 0, 0, 0], 0), Ok(0));
        assert_eq!(
            parse_header([0xff, 0xff, 0xff, 0xff], 16 << 20),
            Err(FrameError::TooLarge {
                len: u32::MAX as u64,
                max: 16 << 20
            })
        );
        assert_eq!(encode_header(258).unwrap(), [0, 0, 1, 2]);
    }

    #[test]
    fn truncated_header_is_an_error_and_empty_is_eof() {
        assert_eq!(read_header(&mut &[][..]).unwrap(), None);
        assert!(read_header(&mut &[0u8, 1][..]).is_err());
        assert_eq!(
            read_header(&mut &[0u8, 0, 0, 9, 1][..]).unwrap(),
            Some([0, 0, 0, 9])
        );
    }
}
