//! Wire parsing for both protocols, pure: bytes in, "need more", a command or
//! an error out. No sockets here, so every split point can be tested.
//!
//! A command is returned as byte ranges into the caller's buffer (no copy per
//! argument): the server parses many pipelined commands out of one read and
//! executes them in place. RESP2 requests are arrays of bulk strings
//! (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`); the line protocol is one command per
//! `\n`-terminated line whose last argument (the value of `SET`) runs to the
//! end of the line, spaces included. Replies from a server (for the client)
//! are parsed by [`parse_reply`].

use std::ops::Range;

/// Bounds on what a peer may make the server buffer.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest line (line protocol) or RESP header line, without the newline.
    pub max_line: usize,
    /// Longest RESP bulk string.
    pub max_bulk: usize,
    /// Most arguments in one RESP command.
    pub max_args: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 64 * 1024,
            max_bulk: 512 * 1024 * 1024,
            max_args: 1024 * 1024,
        }
    }
}

/// Why a request could not be parsed. RESP errors are fatal for the
/// connection (the stream cannot be resynchronised); line errors are not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtoError(pub String);

/// The outcome of parsing the front of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Not a whole command yet; read more.
    Incomplete,
    /// A command of `args.len()` arguments ending at this many bytes.
    Command(usize),
    /// The line protocol: a bad line of this many bytes (skip it, answer the error).
    BadLine(usize, String),
}

/// Which protocol a connection speaks, from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// RESP2 (first byte `*`).
    Resp,
    /// The line protocol (anything else).
    Line,
}

impl Proto {
    /// The protocol a connection whose first byte is `b` speaks.
    pub fn detect(b: u8) -> Proto {
        if b == b'*' { Proto::Resp } else { Proto::Line }
    }
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(off) = memchr(b'\r', &buf[i..]) {
        let p = i + off;
        if p + 1 >= buf.len() {
            return None;
        }
        if buf[p + 1] == b'\n' {
            return Some(p);
        }
        i = p + 1;
    }
    None
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

/// Parse a decimal (optionally negative) integer; `None` if not one.
pub fn parse_int(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?;
        n = if neg {
            n.checked_sub((d - b'0') as i64)?
        } else {
            n.checked_add((d - b'0') as i64)?
        };
    }
    Some(n)
}

/// Read a `<prefix><int>\r\n` header at `pos`; returns (value, position after it).
fn header(
    buf: &[u8],
    pos: usize,
    prefix: u8,
    what: &str,
) -> Result<Option<(i64, usize)>, ProtoError> {
    if pos >= buf.len() {
        return Ok(None);
    }
    if buf[pos] != prefix {
        return Err(ProtoError(format!(
            "Protocol error: expected '{}', got '{}'",
            prefix as char,
            buf[pos].escape_ascii()
        )));
    }
    let Some(end) = find_crlf(buf, pos + 1) else {
        // A header is a few digits; a long one without CRLF is hostile.
        if buf.len() - pos > 32 {
            return Err(ProtoError(format!("Protocol error: invalid {what} length")));
        }
        return Ok(None);
    };
    match parse_int(&buf[pos + 1..end]) {
        Some(n) => Ok(Some((n, end + 2))),
        None => Err(ProtoError(format!("Protocol error: invalid {what} length"))),
    }
}

/// Parse one RESP2 request from the front of `buf`, filling `args` with the
/// ranges of its arguments. `Ok(Parsed::Command(n))`: `n` bytes consumed.
pub fn parse_resp(
    buf: &[u8],
    lim: &Limits,
    args: &mut Vec<Range<usize>>,
) -> Result<Parsed, ProtoError> {
    args.clear();
    let Some((count, mut pos)) = header(buf, 0, b'*', "multibulk")? else {
        return Ok(Parsed::Incomplete);
    };
    if count < 0 || count as u64 > lim.max_args as u64 {
        return Err(ProtoError(format!(
            "Protocol error: invalid multibulk length (limit {} arguments)",
            lim.max_args
        )));
    }
    for _ in 0..count {
        let Some((len, start)) = header(buf, pos, b'$', "bulk")? else {
            return Ok(Parsed::Incomplete);
        };
        if len < 0 || len as u64 > lim.max_bulk as u64 {
            return Err(ProtoError(format!(
                "Protocol error: invalid bulk length (limit {} bytes)",
                lim.max_bulk
            )));
        }
        let end = start + len as usize;
        if buf.len() < end + 2 {
            return Ok(Parsed::Incomplete);
        }
        if &buf[end..end + 2] != b"\r\n" {
            return Err(ProtoError(
                "Protocol error: bulk string not followed by CRLF".into(),
            ));
        }
        args.push(start..end);
        pos = end + 2;
    }
    Ok(Parsed::Command(pos))
}

/// How many bytes the request being parsed still needs at least, when that is
/// known (a large bulk string): lets the server read straight to the end.
pub fn resp_hint(buf: &[u8]) -> Option<usize> {
    // Walk headers as parse_resp does, stopping at the first incomplete bulk.
    let (count, mut pos) = header(buf, 0, b'*', "multibulk").ok()??;
    for _ in 0..count.max(0) {
        let (len, start) = header(buf, pos, b'$', "bulk").ok()??;
        let end = start.checked_add(len.max(0) as usize)?;
        if buf.len() < end + 2 {
            return Some(end + 2);
        }
        pos = end + 2;
    }
    None
}

/// Parse one line-protocol command: up to three arguments where the third
/// (the value) is the rest of the line. Empty lines are skipped.
pub fn parse_line(
    buf: &[u8],
    lim: &Limits,
    args: &mut Vec<Range<usize>>,
) -> Result<Parsed, ProtoError> {
    args.clear();
    let Some(nl) = memchr(b'\n', buf) else {
        if buf.len() > lim.max_line {
            return Err(ProtoError(format!(
                "line longer than {} bytes",
                lim.max_line
            )));
        }
        return Ok(Parsed::Incomplete);
    };
    if nl > lim.max_line {
        return Ok(Parsed::BadLine(
            nl + 1,
            format!("line longer than {} bytes", lim.max_line),
        ));
    }
    let mut end = nl;
    if end > 0 && buf[end - 1] == b'\r' {
        end -= 1;
    }
    let mut pos = 0;
    while args.len() < 2 {
        while pos < end && buf[pos] == b' ' {
            pos += 1;
        }
        if pos >= end {
            break;
        }
        let start = pos;
        while pos < end && buf[pos] != b' ' {
            pos += 1;
        }
        args.push(start..pos);
    }
    if args.len() == 2 && pos < end {
        // The value: everything after the single separating space.
        args.push(pos + 1..end);
    }
    Ok(Parsed::Command(nl + 1))
}

/// A reply from a RESP2 server, as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`
    Status(String),
    /// `-ERR ...`
    Error(String),
    /// `:1`
    Int(i64),
    /// `$3\r\nabc` or `$-1` (nil).
    Bulk(Option<Vec<u8>>),
    /// `*2 ...` or `*-1` (nil).
    Array(Option<Vec<Reply>>),
}

/// Parse one reply from the front of `buf`: `Ok(None)` when incomplete,
/// otherwise the reply and the bytes it took.
pub fn parse_reply(buf: &[u8], lim: &Limits) -> Result<Option<(Reply, usize)>, ProtoError> {
    parse_reply_at(buf, 0, lim, 0)
}

fn parse_reply_at(
    buf: &[u8],
    pos: usize,
    lim: &Limits,
    depth: usize,
) -> Result<Option<(Reply, usize)>, ProtoError> {
    if depth > 64 {
        return Err(ProtoError("reply nested too deeply".into()));
    }
    let Some(&kind) = buf.get(pos) else {
        return Ok(None);
    };
    let Some(end) = find_crlf(buf, pos + 1) else {
        if buf.len() - pos > lim.max_line {
            return Err(ProtoError("reply line too long".into()));
        }
        return Ok(None);
    };
    let line = &buf[pos + 1..end];
    let next = end + 2;
    let text = || String::from_utf8_lossy(line).into_owned();
    let int = || parse_int(line).ok_or_else(|| ProtoError(format!("bad integer '{}'", text())));
    match kind {
        b'+' => Ok(Some((Reply::Status(text()), next))),
        b'-' => Ok(Some((Reply::Error(text()), next))),
        b':' => Ok(Some((Reply::Int(int()?), next))),
        b'$' => {
            let n = int()?;
            if n < 0 {
                return Ok(Some((Reply::Bulk(None), next)));
            }
            if n as u64 > lim.max_bulk as u64 {
                return Err(ProtoError(format!(
                    "bulk reply of {n} bytes is over the limit"
                )));
            }
            let stop = next + n as usize;
            if buf.len() < stop + 2 {
                return Ok(None);
            }
            Ok(Some((
                Reply::Bulk(Some(buf[next..stop].to_vec())),
                stop + 2,
            )))
        }
        b'*' => {
            let n = int()?;
            if n < 0 {
                return Ok(Some((Reply::Array(None), next)));
            }
            if n as u64 > lim.max_args as u64 {
                return Err(ProtoError(format!(
                    "array reply of {n} items is over the limit"
                )));
            }
            let mut items = Vec::new();
            let mut p = next;
            for _ in 0..n {
                match parse_reply_at(buf, p, lim, depth + 1)? {
                    None => return Ok(None),
                    Some((r, q)) => {
                        items.push(r);
                        p = q;
                    }
                }
            }
            Ok(Some((Reply::Array(Some(items)), p)))
        }
        other => Err(ProtoError(format!(
            "unexpected reply type '{}'",
            other.escape_ascii()
        ))),
    }
}

/// Encode a command as a RESP2 array of bulk strings.
pub fn encode_command(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args_of(buf: &[u8], r: &[Range<usize>]) -> Vec<Vec<u8>> {
        r.iter().map(|x| buf[x.clone()].to_vec()).collect()
    }

    #[test]
    fn resp_every_split_point_is_incomplete_then_whole() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv a\xff\x00\r\n";
        let lim = Limits::default();
        let mut args = Vec::new();
        for cut in 0..input.len() {
            assert_eq!(
                parse_resp(&input[..cut], &lim, &mut args),
                Ok(Parsed::Incomplete),
                "cut at {cut}"
            );
        }
        assert_eq!(
            parse_resp(input, &lim, &mut args),
            Ok(Parsed::Command(input.len()))
        );
        assert_eq!(
            args_of(input, &args),
            vec![b"SET".to_vec(), b"k".to_vec(), b"v a\xff\x00".to_vec()]
        );
    }

    #[test]
    fn resp_pipelined_commands_parse_one_at_a_time() {
        let input = b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
        let lim = Limits::default();
        let mut args = Vec::new();
        assert_eq!(parse_resp(input, &lim, &mut args), Ok(Parsed::Command(14)));
        let rest = &input[14..];
        assert_eq!(
            parse_resp(rest, &lim, &mut args),
            Ok(Parsed::Command(rest.len()))
        );
        assert_eq!(args_of(rest, &args)[1], b"k");
    }

    #[test]
    fn resp_hostile_lengths_are_errors_not_allocations() {
        let lim = Limits::default();
        let mut args = Vec::new();
        for bad in [
            &b"*99999999999\r\n"[..],
            b"*99999999999999999999999\r\n",
            b"*-5\r\n",
            b"*1\r\n$-5\r\n",
            b"*1\r\n$1073741824\r\n",
            b"*1\r\n$abc\r\n",
            b"*1\r\n+3\r\n",
            b"*1\r\n$3\r\nabcXY",
            b"*12345678901234567890123456789012345678",
        ] {
            assert!(
                parse_resp(bad, &lim, &mut args).is_err(),
                "{:?} accepted",
                bad.escape_ascii().to_string()
            );
        }
        assert!(args.capacity() < 16);
    }

    #[test]
    fn resp_limits_are_configurable() {
        let lim = Limits {
            max_line: 10,
            max_bulk: 4,
            max_args: 2,
        };
        let mut args = Vec::new();
        assert!(parse_resp(b"*3\r\n", &lim, &mut args).is_err());
        assert!(parse_resp(b"*1\r\n$5\r\n", &lim, &mut args).is_err());
        assert_eq!(
            parse_resp(b"*1\r\n$4\r\nabcd\r\n", &lim, &mut args),
            Ok(Parsed::Command(14))
        );
    }

    #[test]
    fn resp_hint_knows_how_far_a_big_bulk_reaches() {
        assert_eq!(resp_hint(b"*2\r\n$3\r\nSET\r\n$100\r\nab"), Some(121));
        assert_eq!(resp_hint(b"*2\r\n$3\r\nSE"), Some(13));
        assert_eq!(resp_hint(b"*2\r\n$3"), None);
    }

    #[test]
    fn line_value_is_the_rest_of_the_line() {
        let lim = Limits::default();
        let mut args = Vec::new();
        let input = b"SET greeting hello  big world\r\n";
        for cut in 0..input.len() {
            assert_eq!(
                parse_line(&input[..cut], &lim, &mut args),
                Ok(Parsed::Incomplete)
            );
        }
        assert_eq!(
            parse_line(input, &lim, &mut args),
            Ok(Parsed::Command(input.len()))
        );
        assert_eq!(
            args_of(input, &args),
            vec![
                b"SET".to_vec(),
                b"greeting".to_vec(),
                b"hello  big world".to_vec()
            ]
        );
        assert_eq!(
            parse_line(b"GET k\n", &lim, &mut args),
            Ok(Parsed::Command(6))
        );
        assert_eq!(args.len(), 2);
        assert_eq!(parse_line(b"\n", &lim, &mut args), Ok(Parsed::Command(1)));
        assert!(args.is_empty());
    }

    #[test]
    fn line_too_long_is_an_error() {
        let lim = Limits {
            max_line: 8,
            ..Limits::default()
        };
        let mut args = Vec::new();
        assert!(parse_line(b"SET k 0123456789", &lim, &mut args).is_err());
        assert!(matches!(
            parse_line(b"SET k 0123456789\nGET k\n", &lim, &mut args),
            Ok(Parsed::BadLine(17, _))
        ));
    }

    #[test]
    fn replies_parse_at_every_split_point() {
        let input = b"*4\r\n+OK\r\n:-12\r\n$-1\r\n*2\r\n$2\r\n\xff\x00\r\n-ERR no\r\n";
        let lim = Limits::default();
        for cut in 0..input.len() {
            assert_eq!(parse_reply(&input[..cut], &lim), Ok(None), "cut {cut}");
        }
        let (r, n) = parse_reply(input, &lim).unwrap().unwrap();
        assert_eq!(n, input.len());
        assert_eq!(
            r,
            Reply::Array(Some(vec![
                Reply::Status("OK".into()),
                Reply::Int(-12),
                Reply::Bulk(None),
                Reply::Array(Some(vec![
                    Reply::Bulk(Some(vec![0xff, 0])),
                    Reply::Error("ERR no".into())
                ])),
            ]))
        );
        assert!(parse_reply(b"$99999999999\r\n", &lim).is_err());
        assert!(parse_reply(b"?x\r\n", &lim).is_err());
    }

    #[test]
    fn encode_then_parse_roundtrips() {
        let cmd = vec![b"SET".to_vec(), vec![0, 1, 255], Vec::new()];
        let wire = encode_command(&cmd);
        let mut args = Vec::new();
        let lim = Limits::default();
        assert_eq!(
            parse_resp(&wire, &lim, &mut args),
            Ok(Parsed::Command(wire.len()))
        );
        assert_eq!(args_of(&wire, &args), cmd);
    }

    #[test]
    fn ints_parse_strictly() {
        assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int(b"9223372036854775808"), None);
        assert_eq!(parse_int(b""), None);
        assert_eq!(parse_int(b"-"), None);
        assert_eq!(parse_int(b"1a"), None);
    }
}
