//! Wire parsing, pure: bytes in; "need more", a command, or an error out. No
//! sockets here, so every split point can be tested.
//!
//! One port speaks three request syntaxes, decided per connection by its
//! first request ([`Parser::next`]): a first byte `*` is RESP (arrays of bulk
//! strings; Redis inline commands are accepted between them, as Redis does);
//! otherwise a first line that starts with `SET`, `GET`, `DEL` or `QUIT`
//! and ends with a bare LF (as printf, echo and nc send it) starts the seed's
//! line protocol (bare-line replies, `SET`'s value is the rest of the line,
//! spaces included); anything else, including any CRLF-terminated line (as
//! Redis clients send inline commands), is a Redis inline command and the
//! connection speaks RESP from then on.
//!
//! Parsing resumes where it stopped: the parser keeps its place inside a
//! request across reads (offsets relative to the request's start, which is
//! where the server keeps unconsumed input), so input trickled in byte by
//! byte costs linear time. Arguments are byte ranges into the caller's
//! buffer (no copy), except inline commands whose quoting is unescaped.

use std::ops::Range;

pub use super::resp::{Reply, parse_reply};

/// Bounds on what a peer may make the server buffer.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest line (line protocol, inline command) without its newline.
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

/// Which syntax a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// RESP, with inline commands.
    Resp,
    /// The seed's line protocol.
    Line,
}

/// The outcome of parsing the front of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Not a whole request yet; read more.
    Incomplete,
    /// A command ending at this many bytes: its arguments are
    /// [`Parser::args`] (ranges) or, when `inline`, [`Parser::owned`].
    Command {
        /// Bytes consumed.
        len: usize,
        /// The arguments were unescaped into `owned`.
        inline: bool,
    },
    /// Bytes to skip without a reply (blank line, `*0`, `*-1`).
    Skip(usize),
    /// The line protocol: skip this many bytes and answer `ERR <why>`.
    BadLine(usize, String),
    /// Answer `-ERR Protocol error: <why>` and close.
    Fatal(String),
}

/// Commands that start the line protocol when they come first.
const LINE_COMMANDS: [&[u8]; 4] = [b"SET", b"GET", b"DEL", b"QUIT"];
/// Redis's limits for a header line without its CRLF and an inline request.
const MAX_HEADER: usize = 64 * 1024;

/// A parser position saved by [`Parser::mark`].
#[derive(Debug, Clone, Copy)]
pub struct ParserMark {
    proto: Option<Proto>,
}

/// A connection's request parser: its protocol and where it stopped.
#[derive(Debug, Default, Clone)]
pub struct Parser {
    /// The connection's protocol, once known.
    pub proto: Option<Proto>,
    /// Arguments of the last command, as ranges of the buffer passed in.
    pub args: Vec<Range<usize>>,
    /// Arguments of the last inline command.
    pub owned: Vec<Vec<u8>>,
    /// Inside a RESP array: arguments still to read, and where the next starts.
    pending: Option<(usize, usize)>,
    /// Bytes already searched for a newline (lines and headers).
    scanned: usize,
}

fn find(b: u8, hay: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .iter()
        .position(|&c| c == b)
        .map(|p| p + from)
}

impl Parser {
    /// Parse the next request at the front of `buf` (unconsumed input; the
    /// server passes the same start until a step consumes bytes).
    pub fn next(&mut self, buf: &[u8], lim: &Limits) -> Step {
        let Some(&first) = buf.first() else {
            return Step::Incomplete;
        };
        match self.proto {
            Some(Proto::Line) => self.line(buf, lim),
            Some(Proto::Resp) if first == b'*' || self.pending.is_some() => self.resp(buf, lim),
            Some(Proto::Resp) => self.inline(buf),
            None => {
                if first == b'*' {
                    self.proto = Some(Proto::Resp);
                    return self.resp(buf, lim);
                }
                if first == b'\r' || first == b'\n' {
                    // A blank line before anything else decides nothing.
                    return match find(b'\n', buf, 0) {
                        Some(nl) => Step::Skip(nl + 1),
                        None => Step::Incomplete,
                    };
                }
                let end = buf
                    .iter()
                    .position(|&c| c == b' ' || c == b'\r' || c == b'\n' || c == b'\t');
                let Some(end) = end else {
                    if buf.len() > MAX_HEADER {
                        self.proto = Some(Proto::Resp);
                        return Step::Fatal("too big inline request".into());
                    }
                    return Step::Incomplete;
                };
                let word = &buf[..end];
                if LINE_COMMANDS.iter().any(|c| c.eq_ignore_ascii_case(word)) {
                    // Redis clients (and the Redis test suite) end inline
                    // commands with CRLF; printf, echo and nc send a bare LF.
                    let Some(nl) = self.newline(buf) else {
                        if buf.len() > MAX_HEADER {
                            self.proto = Some(Proto::Resp);
                            return Step::Fatal("too big inline request".into());
                        }
                        return Step::Incomplete;
                    };
                    self.scanned = 0;
                    if nl > 0 && buf[nl - 1] == b'\r' {
                        self.proto = Some(Proto::Resp);
                        return self.inline(buf);
                    }
                    self.proto = Some(Proto::Line);
                    self.line(buf, lim)
                } else {
                    self.proto = Some(Proto::Resp);
                    self.inline(buf)
                }
            }
        }
    }

    fn newline(&mut self, buf: &[u8]) -> Option<usize> {
        let nl = find(b'\n', buf, self.scanned);
        self.scanned = if nl.is_some() { 0 } else { buf.len() };
        nl
    }

    fn inline(&mut self, buf: &[u8]) -> Step {
        let Some(nl) = self.newline(buf) else {
            if buf.len() > MAX_HEADER {
                return Step::Fatal("too big inline request".into());
            }
            return Step::Incomplete;
        };
        let mut end = nl;
        if end > 0 && buf[end - 1] == b'\r' {
            end -= 1;
        }
        match split_args(&buf[..end]) {
            Err(_) => Step::Fatal("unbalanced quotes in request".into()),
            Ok(a) if a.is_empty() => Step::Skip(nl + 1),
            Ok(a) => {
                self.owned = a;
                Step::Command {
                    len: nl + 1,
                    inline: true,
                }
            }
        }
    }

    fn header(&mut self, buf: &[u8], pos: usize) -> Result<Option<(i64, usize)>, ()> {
        let from = self.scanned.max(pos);
        let Some(nl) = find(b'\n', buf, from) else {
            self.scanned = buf.len();
            return if buf.len() - pos > MAX_HEADER {
                Err(())
            } else {
                Ok(None)
            };
        };
        self.scanned = 0;
        if nl == 0 || buf[nl - 1] != b'\r' || nl - 1 <= pos {
            return Err(());
        }
        parse_int(&buf[pos + 1..nl - 1])
            .map(|n| Some((n, nl + 1)))
            .ok_or(())
    }

    fn resp(&mut self, buf: &[u8], lim: &Limits) -> Step {
        let (mut remaining, mut pos) = match self.pending {
            Some(p) => p,
            None => {
                let (n, after) = match self.header(buf, 0) {
                    Ok(Some(h)) => h,
                    Ok(None) => return Step::Incomplete,
                    Err(()) => return Step::Fatal("invalid multibulk length".into()),
                };
                if n <= 0 {
                    return Step::Skip(after);
                }
                if n as u64 > lim.max_args as u64 {
                    return Step::Fatal("invalid multibulk length".into());
                }
                self.args.clear();
                (n as usize, after)
            }
        };
        while remaining > 0 {
            self.pending = Some((remaining, pos));
            let Some(&c) = buf.get(pos) else {
                return Step::Incomplete;
            };
            if c != b'$' {
                self.pending = None;
                return Step::Fatal(format!("expected '$', got '{}'", c as char));
            }
            let (len, start) = match self.header(buf, pos) {
                Ok(Some(h)) => h,
                Ok(None) => return Step::Incomplete,
                Err(()) => {
                    self.pending = None;
                    return Step::Fatal("invalid bulk length".into());
                }
            };
            if len < 0 || len as u64 > lim.max_bulk as u64 {
                self.pending = None;
                return Step::Fatal("invalid bulk length".into());
            }
            let end = start + len as usize;
            if buf.len() < end + 2 {
                return Step::Incomplete;
            }
            self.args.push(start..end);
            pos = end + 2;
            remaining -= 1;
        }
        self.pending = None;
        Step::Command {
            len: pos,
            inline: false,
        }
    }

    fn line(&mut self, buf: &[u8], lim: &Limits) -> Step {
        self.args.clear();
        let Some(nl) = self.newline(buf) else {
            if buf.len() > lim.max_line {
                return Step::BadLine(
                    buf.len(),
                    format!("line longer than {} bytes", lim.max_line),
                );
            }
            return Step::Incomplete;
        };
        if nl > lim.max_line {
            return Step::BadLine(nl + 1, format!("line longer than {} bytes", lim.max_line));
        }
        let mut end = nl;
        if end > 0 && buf[end - 1] == b'\r' {
            end -= 1;
        }
        let mut pos = 0;
        while self.args.len() < 2 {
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
            self.args.push(start..pos);
        }
        if self.args.len() == 2 && pos < end {
            // The value: everything after the single separating space.
            self.args.push(pos + 1..end);
        }
        if self.args.is_empty() {
            return Step::Skip(nl + 1);
        }
        Step::Command {
            len: nl + 1,
            inline: false,
        }
    }

    /// Where the parser stands (without the last command's arguments), to
    /// rewind it with [`Parser::rewind`].
    pub fn mark(&self) -> ParserMark {
        ParserMark { proto: self.proto }
    }

    /// Go back to a [`Parser::mark`]: the request at the caller's start is
    /// parsed again from its first byte (always valid; the partial
    /// arguments of that moment are not kept).
    pub fn rewind(&mut self, m: ParserMark) {
        self.proto = m.proto;
        self.pending = None;
        self.scanned = 0;
    }

    /// True in the middle of a request (bytes consumed into parser state).
    pub fn in_request(&self) -> bool {
        self.pending.is_some() || self.scanned > 0
    }
}

/// Split a line into arguments as Redis does (`sdssplitargs`): spaces
/// separate; `"double quotes"` take `\n \r \t \a \b \\ \" \xHH`; `'single'`
/// take `\'`; a closing quote must be followed by a space or the end.
pub fn split_args(b: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            return Ok(args);
        }
        let mut cur = Vec::new();
        let mut quote: Option<u8> = None;
        loop {
            let Some(&c) = b.get(i) else {
                if quote.is_some() {
                    return Err("unbalanced quotes".into());
                }
                break;
            };
            match quote {
                None if c.is_ascii_whitespace() => break,
                None if c == b'"' || c == b'\'' => quote = Some(c),
                None => cur.push(c),
                Some(q) if c == q => {
                    if b.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace()) {
                        return Err("closing quote must be followed by a space".into());
                    }
                    i += 1;
                    break;
                }
                Some(b'"') if c == b'\\' && i + 1 < b.len() => {
                    i += 1;
                    match b[i] {
                        b'n' => cur.push(b'\n'),
                        b'r' => cur.push(b'\r'),
                        b't' => cur.push(b'\t'),
                        b'a' => cur.push(7),
                        b'b' => cur.push(8),
                        b'x' if i + 2 < b.len()
                            && b[i + 1].is_ascii_hexdigit()
                            && b[i + 2].is_ascii_hexdigit() =>
                        {
                            let hex = |h: u8| (h as char).to_digit(16).unwrap_or(0) as u8;
                            cur.push(hex(b[i + 1]) * 16 + hex(b[i + 2]));
                            i += 2;
                        }
                        other => cur.push(other),
                    }
                }
                Some(b'\'') if c == b'\\' && b.get(i + 1) == Some(&b'\'') => {
                    i += 1;
                    cur.push(b'\'');
                }
                Some(_) => cur.push(c),
            }
            i += 1;
        }
        args.push(cur);
    }
}

pub(crate) fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(p) = find(b'\r', buf, i) {
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

/// Parse a decimal (optionally negative) integer strictly; `None` if not one.
pub fn parse_int(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 19 || (digits[0] == b'0' && digits.len() > 1) {
        return None;
    }
    if neg && digits == b"0" {
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

    fn args_of(buf: &[u8], p: &Parser) -> Vec<Vec<u8>> {
        p.args.iter().map(|x| buf[x.clone()].to_vec()).collect()
    }

    #[test]
    fn resp_every_split_point_is_incomplete_then_whole() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv a\xff\x00\r\n";
        let lim = Limits::default();
        for cut in 0..input.len() {
            // A fresh parser at each cut, and one resumed over growing input.
            let mut p = Parser::default();
            assert_eq!(
                p.next(&input[..cut], &lim),
                Step::Incomplete,
                "cut at {cut}"
            );
        }
        let mut p = Parser::default();
        for cut in 0..input.len() {
            assert_eq!(
                p.next(&input[..cut], &lim),
                Step::Incomplete,
                "resumed at {cut}"
            );
        }
        assert_eq!(
            p.next(input, &lim),
            Step::Command {
                len: input.len(),
                inline: false
            }
        );
        assert_eq!(
            args_of(input, &p),
            vec![b"SET".to_vec(), b"k".to_vec(), b"v a\xff\x00".to_vec()]
        );
    }

    #[test]
    fn resp_hostile_and_odd_headers_behave_like_redis() {
        let lim = Limits::default();
        for (bad, why) in [
            (&b"*3000000000\r\n"[..], "invalid multibulk length"),
            (b"*abc\r\n", "invalid multibulk length"),
            (b"*1\r\n$-5\r\n", "invalid bulk length"),
            (b"*1\r\n$1073741824\r\n", "invalid bulk length"),
            (b"*1\r\n$abc\r\n", "invalid bulk length"),
            (b"*1\r\nfoo\r\n", "expected '$', got 'f'"),
        ] {
            let mut p = Parser::default();
            assert_eq!(p.next(bad, &lim), Step::Fatal(why.into()), "{bad:?}");
        }
        let mut p = Parser::default();
        assert_eq!(p.next(b"*-10\r\n", &lim), Step::Skip(6));
        assert_eq!(p.next(b"*0\r\n", &lim), Step::Skip(4));
        // A long header without CRLF is refused once past Redis's 64 KiB.
        let mut long = b"*1".to_vec();
        long.extend(std::iter::repeat_n(b'1', 70_000));
        assert!(matches!(
            Parser::default().next(&long, &lim),
            Step::Fatal(_)
        ));
    }

    #[test]
    fn a_declared_length_allocates_nothing() {
        let lim = Limits::default();
        let mut p = Parser::default();
        assert_eq!(p.next(b"*1\r\n$536870912\r\nabc", &lim), Step::Incomplete);
        assert!(p.args.capacity() < 16);
    }

    #[test]
    fn first_word_picks_line_or_inline() {
        let lim = Limits::default();
        let mut p = Parser::default();
        let input = b"SET greeting hello  big world\n";
        assert_eq!(
            p.next(input, &lim),
            Step::Command {
                len: input.len(),
                inline: false
            }
        );
        assert_eq!(p.proto, Some(Proto::Line));
        assert_eq!(args_of(input, &p)[2], b"hello  big world");
        // Later lines may end in CRLF; the CR is not part of the value.
        let input = b"SET k a b\r\n";
        assert!(matches!(p.next(input, &lim), Step::Command { .. }));
        assert_eq!(args_of(input, &p)[2], b"a b");
        // A CRLF first line is a Redis inline command, even for SET.
        let mut p = Parser::default();
        assert_eq!(
            p.next(b"set \"a b\" c\r\n", &lim),
            Step::Command {
                len: 13,
                inline: true
            }
        );
        assert_eq!(p.proto, Some(Proto::Resp));
        assert_eq!(p.owned[1], b"a b");

        let mut p = Parser::default();
        assert_eq!(p.next(b"\r\n", &lim), Step::Skip(2));
        assert_eq!(p.proto, None);
        assert_eq!(
            p.next(b"PING\r\n", &lim),
            Step::Command {
                len: 6,
                inline: true
            }
        );
        assert_eq!(p.proto, Some(Proto::Resp));
        assert_eq!(
            p.next(b"set k \"a b\"\n", &lim),
            Step::Command {
                len: 12,
                inline: true
            }
        );
        assert_eq!(
            p.owned,
            vec![b"set".to_vec(), b"k".to_vec(), b"a b".to_vec()]
        );
        assert_eq!(
            p.next(b"echo \"open\n", &lim),
            Step::Fatal("unbalanced quotes in request".into())
        );
        let mut p = Parser::default();
        assert_eq!(
            p.next(b"*1\r\n$4\r\nPING\r\n", &lim),
            Step::Command {
                len: 14,
                inline: false
            }
        );
        assert_eq!(
            p.next(b"PING\n", &lim),
            Step::Command {
                len: 5,
                inline: true
            }
        );
    }

    #[test]
    fn trickled_lines_are_scanned_once() {
        let lim = Limits::default();
        let mut p = Parser::default();
        let mut line = b"ECHO ".to_vec();
        line.extend(std::iter::repeat_n(b'x', 1000));
        for cut in 6..line.len() {
            assert_eq!(p.next(&line[..cut], &lim), Step::Incomplete);
            assert_eq!(p.scanned, cut);
        }
        line.push(b'\n');
        assert!(matches!(p.next(&line, &lim), Step::Command { .. }));
    }

    #[test]
    fn line_too_long_is_an_error_then_usable() {
        let lim = Limits {
            max_line: 8,
            ..Limits::default()
        };
        let mut p = Parser::default();
        assert!(matches!(
            p.next(b"SET k 0123456789\nGET k\n", &lim),
            Step::BadLine(17, _)
        ));
        assert!(matches!(
            p.next(b"GET k\n", &lim),
            Step::Command { len: 6, .. }
        ));
    }

    #[test]
    fn split_like_redis() {
        let v = |s: &str| split_args(s.as_bytes()).unwrap();
        assert_eq!(
            v("set k  v"),
            vec![b"set".to_vec(), b"k".to_vec(), b"v".to_vec()]
        );
        assert_eq!(
            v(r#"set "a b" "x\n\xff\"""#)[1..],
            [b"a b".to_vec(), b"x\n\xff\"".to_vec()]
        );
        assert!(split_args(b"echo 'it''s'").is_err());
        assert_eq!(v(r"echo 'it\'s'")[1], b"it's");
        assert!(v("   ").is_empty());
        assert!(split_args(b"echo \"open").is_err());
    }

    #[test]
    fn ints_parse_strictly() {
        assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int(b"9223372036854775808"), None);
        assert_eq!(parse_int(b""), None);
        assert_eq!(parse_int(b"-"), None);
        assert_eq!(parse_int(b"1a"), None);
        assert_eq!(parse_int(b"01"), None);
        assert_eq!(parse_int(b" 1"), None);
    }

    #[test]
    fn encode_then_parse_roundtrips() {
        let cmd = vec![b"SET".to_vec(), vec![0, 1, 255], Vec::new()];
        let wire = encode_command(&cmd);
        let lim = Limits::default();
        let mut p = Parser::default();
        assert_eq!(
            p.next(&wire, &lim),
            Step::Command {
                len: wire.len(),
                inline: false
            }
        );
        assert_eq!(args_of(&wire, &p), cmd);
    }
}
