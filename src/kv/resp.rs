//! Replies as a client sees them, RESP2 and RESP3, and their parser: pure,
//! bytes in, "need more", a reply, or an error out. The client (`kv`'s
//! prompt and one-shot commands) and the tests read servers through it, so
//! a `HELLO 3` typed at the prompt, a pub/sub push or an attribute never
//! leaves the client out of step with the server.

use super::protocol::{Limits, ProtoError, find_crlf, parse_int};

/// One reply. RESP3's null (`_`) reads as `Bulk(None)` and its blob error
/// (`!`) as `Error`; an attribute (`|`) is read and dropped, leaving the
/// reply it decorates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`
    Status(String),
    /// `-ERR ...` (or `!`)
    Error(String),
    /// `:1`
    Int(i64),
    /// `$3\r\nabc` or `$-1` / `_` (nil).
    Bulk(Option<Vec<u8>>),
    /// `*2 ...` or `*-1` (nil).
    Array(Option<Vec<Reply>>),
    /// `,3.14` as sent.
    Double(String),
    /// `#t` / `#f`.
    Bool(bool),
    /// `(12345678901234567890` as sent.
    BigNum(String),
    /// `=15\r\ntxt:Some string`: text meant to be shown as it is.
    Verbatim {
        /// The three-letter format (`txt`, `mkd`).
        format: String,
        /// The text after the format.
        text: Vec<u8>,
    },
    /// `%2 ...`: key-value pairs in order.
    Map(Vec<(Reply, Reply)>),
    /// `~2 ...`
    Set(Vec<Reply>),
    /// `>3 ...`: out-of-band data (pub/sub messages, invalidations).
    Push(Vec<Reply>),
}

impl Reply {
    /// The elements of an array or a push.
    pub fn items(&self) -> Option<&[Reply]> {
        match self {
            Reply::Array(Some(v)) | Reply::Push(v) => Some(v),
            _ => None,
        }
    }

    /// The bytes of a bulk, status or verbatim string.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Reply::Bulk(Some(b)) => Some(b),
            Reply::Status(s) => Some(s.as_bytes()),
            Reply::Verbatim { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// Parse one reply from the front of `buf`: `Ok(None)` when incomplete,
/// otherwise the reply and the bytes it took.
pub fn parse_reply(buf: &[u8], lim: &Limits) -> Result<Option<(Reply, usize)>, ProtoError> {
    let (mut stack, mut pos) = (Vec::new(), 0);
    Ok(step(&mut stack, buf, &mut pos, lim)?.map(|r| (r, pos)))
}

/// Replies read from a stream, kept across reads: the parts of a reply
/// already parsed are not parsed again when more bytes come, so a long
/// reply (KEYS on a big database) arriving in thousands of reads costs
/// linear time, not quadratic.
#[derive(Debug, Default)]
pub struct ReplyReader {
    buf: Vec<u8>,
    /// Bytes of `buf` already parsed into `stack`.
    pos: usize,
    stack: Vec<Frame>,
}

impl ReplyReader {
    /// Bytes read from the stream.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole reply, if the bytes so far hold one.
    pub fn next(&mut self, lim: &Limits) -> Result<Option<Reply>, ProtoError> {
        let r = step(&mut self.stack, &self.buf, &mut self.pos, lim);
        // Parsed bytes are dropped once they are most of the buffer.
        if self.pos > 0 && (self.pos == self.buf.len() || self.pos >= 64 * 1024) {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        r
    }

    /// Part of a reply is waiting for more bytes.
    pub fn partial(&self) -> bool {
        !self.stack.is_empty() || self.pos < self.buf.len()
    }
}

/// An aggregate being filled.
#[derive(Debug)]
struct Frame {
    kind: u8,
    left: usize,
    items: Vec<Reply>,
}

/// How deep aggregates may nest.
const MAX_DEPTH: usize = 64;

/// One element at the front of the unparsed bytes.
enum Elem {
    Value(Reply),
    /// An aggregate header: its type byte and element count.
    Open(u8, usize),
}

/// Parse elements from `buf[*pos..]` into `stack` until a whole reply is
/// done (`Some`) or the bytes run out (`None`, the work kept in `stack`).
fn step(
    stack: &mut Vec<Frame>,
    buf: &[u8],
    pos: &mut usize,
    lim: &Limits,
) -> Result<Option<Reply>, ProtoError> {
    loop {
        let Some((elem, next)) = element(buf, *pos, lim)? else {
            return Ok(None);
        };
        *pos = next;
        let mut value = match elem {
            Elem::Value(v) => v,
            Elem::Open(kind, n) if n > 0 => {
                if stack.len() >= MAX_DEPTH {
                    return Err(ProtoError("reply nested too deeply".into()));
                }
                stack.push(Frame {
                    kind,
                    left: n,
                    items: Vec::new(),
                });
                continue;
            }
            Elem::Open(kind, _) => match finish(kind, Vec::new()) {
                Some(v) => v,
                None => continue, // an empty attribute
            },
        };
        // Hand the value up: it may complete its aggregate, and that one
        // its parent.
        loop {
            let Some(top) = stack.last_mut() else {
                return Ok(Some(value));
            };
            top.items.push(value);
            top.left -= 1;
            if top.left > 0 {
                break;
            }
            let Some(done) = stack.pop() else { break };
            match finish(done.kind, done.items) {
                Some(v) => value = v,
                // An attribute: dropped; the value it decorates comes next.
                None => break,
            }
        }
    }
}

/// A complete aggregate as a reply; `None` for an attribute.
fn finish(kind: u8, items: Vec<Reply>) -> Option<Reply> {
    Some(match kind {
        b'~' => Reply::Set(items),
        b'>' => Reply::Push(items),
        b'%' => Reply::Map(pairs(items)),
        b'|' => return None,
        _ => Reply::Array(Some(items)),
    })
}

/// The element at `pos`: a whole scalar, or an aggregate's header.
fn element(buf: &[u8], pos: usize, lim: &Limits) -> Result<Option<(Elem, usize)>, ProtoError> {
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
    let done = |r: Reply| Ok(Some((Elem::Value(r), next)));
    match kind {
        b'+' => done(Reply::Status(text())),
        b'-' => done(Reply::Error(text())),
        b':' => done(Reply::Int(int()?)),
        b',' => done(Reply::Double(text())),
        b'(' => done(Reply::BigNum(text())),
        b'_' => done(Reply::Bulk(None)),
        b'#' => match line {
            b"t" => done(Reply::Bool(true)),
            b"f" => done(Reply::Bool(false)),
            _ => Err(ProtoError(format!("bad boolean '{}'", text()))),
        },
        b'$' | b'=' | b'!' => {
            let n = int()?;
            if n < 0 {
                return done(Reply::Bulk(None));
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
            let body = buf[next..stop].to_vec();
            let reply = match kind {
                b'$' => Reply::Bulk(Some(body)),
                b'!' => Reply::Error(String::from_utf8_lossy(&body).into_owned()),
                _ => match body.get(3) {
                    Some(b':') => Reply::Verbatim {
                        format: String::from_utf8_lossy(&body[..3]).into_owned(),
                        text: body[4..].to_vec(),
                    },
                    _ => Reply::Verbatim {
                        format: String::new(),
                        text: body,
                    },
                },
            };
            Ok(Some((Elem::Value(reply), stop + 2)))
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = int()?;
            if n < 0 {
                return done(Reply::Array(None));
            }
            let per = if matches!(kind, b'%' | b'|') { 2 } else { 1 };
            if n as u64 > (lim.max_args / per) as u64 {
                return Err(ProtoError(format!(
                    "aggregate reply of {n} items is over the limit"
                )));
            }
            Ok(Some((Elem::Open(kind, n as usize * per), next)))
        }
        other => Err(ProtoError(format!(
            "unexpected reply type '{}'",
            other.escape_ascii()
        ))),
    }
}

fn pairs(items: Vec<Reply>) -> Vec<(Reply, Reply)> {
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(input: &[u8]) -> Reply {
        let lim = Limits::default();
        for cut in 0..input.len() {
            assert_eq!(parse_reply(&input[..cut], &lim), Ok(None), "cut {cut}");
        }
        let (r, n) = parse_reply(input, &lim).unwrap().unwrap();
        assert_eq!(n, input.len());
        r
    }

    #[test]
    fn resp2_replies_parse_at_every_split_point() {
        assert_eq!(
            whole(b"*4\r\n+OK\r\n:-12\r\n$-1\r\n*2\r\n$2\r\n\xff\x00\r\n-ERR no\r\n"),
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
        let lim = Limits::default();
        assert!(parse_reply(b"$99999999999\r\n", &lim).is_err());
        assert!(parse_reply(b"?x\r\n", &lim).is_err());
    }

    #[test]
    fn resp3_types_parse_at_every_split_point() {
        assert_eq!(
            whole(b"%2\r\n+a\r\n~2\r\n#t\r\n,3.5\r\n$1\r\nb\r\n=12\r\ntxt:one\r\ntwo\r\n"),
            Reply::Map(vec![
                (
                    Reply::Status("a".into()),
                    Reply::Set(vec![Reply::Bool(true), Reply::Double("3.5".into())])
                ),
                (
                    Reply::Bulk(Some(b"b".to_vec())),
                    Reply::Verbatim {
                        format: "txt".into(),
                        text: b"one\r\ntwo".to_vec()
                    }
                ),
            ])
        );
        assert_eq!(
            whole(b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n_\r\n"),
            Reply::Push(vec![
                Reply::Bulk(Some(b"message".to_vec())),
                Reply::Bulk(Some(b"ch".to_vec())),
                Reply::Bulk(None),
            ])
        );
        assert_eq!(
            whole(b"(123456789012345678901\r\n"),
            Reply::BigNum("123456789012345678901".into())
        );
        assert_eq!(whole(b"!5\r\nERR x\r\n"), Reply::Error("ERR x".into()));
        // An attribute is dropped; the reply after it is the reply.
        assert_eq!(whole(b"|1\r\n+ttl\r\n:3\r\n:42\r\n"), Reply::Int(42));
    }

    #[test]
    fn hostile_replies_are_errors() {
        let lim = Limits {
            max_args: 10,
            ..Limits::default()
        };
        assert!(parse_reply(b"%6\r\n", &lim).is_err());
        assert!(parse_reply(b"#x\r\n", &lim).is_err());
        let deep = "*1\r\n".repeat(100);
        assert!(parse_reply(deep.as_bytes(), &Limits::default()).is_err());
        let long = vec![b'+'; 70 * 1024];
        assert!(parse_reply(&long, &Limits::default()).is_err());
    }

    #[test]
    fn a_reader_fed_byte_by_byte_gives_the_same_replies() {
        let input =
            b"*3\r\n$1\r\na\r\n%1\r\n+k\r\n|1\r\n+x\r\n:1\r\n~0\r\n:7\r\n>2\r\n+p\r\n*0\r\n+OK\r\n";
        let lim = Limits::default();
        let mut whole = Vec::new();
        let mut rest: &[u8] = input;
        while let Some((r, n)) = parse_reply(rest, &lim).unwrap() {
            whole.push(r);
            rest = &rest[n..];
        }
        assert_eq!(whole.len(), 3);
        assert_eq!(
            whole[0],
            Reply::Array(Some(vec![
                Reply::Bulk(Some(b"a".to_vec())),
                Reply::Map(vec![(Reply::Status("k".into()), Reply::Set(vec![]))]),
                Reply::Int(7),
            ]))
        );
        let mut reader = ReplyReader::default();
        let mut got = Vec::new();
        for b in input {
            reader.feed(&[*b]);
            while let Some(r) = reader.next(&lim).unwrap() {
                got.push(r);
            }
        }
        assert_eq!(got, whole);
        assert!(!reader.partial());
    }

    #[test]
    fn a_long_reply_in_small_pieces_is_parsed_once() {
        // 200,000 elements in 4 KiB reads: the reader keeps its work across
        // reads (each element once, none lost at a read boundary).
        let n = 200_000;
        let mut wire = format!("*{n}\r\n").into_bytes();
        for i in 0..n {
            let k = format!("key:{i}");
            wire.extend_from_slice(format!("${}\r\n{k}\r\n", k.len()).as_bytes());
        }
        let lim = Limits::default();
        let mut reader = ReplyReader::default();
        let mut got = None;
        for chunk in wire.chunks(4096) {
            reader.feed(chunk);
            if let Some(r) = reader.next(&lim).unwrap() {
                got = Some(r);
            }
        }
        match got {
            Some(Reply::Array(Some(items))) => assert_eq!(items.len(), n),
            other => panic!("{other:?}"),
        }
    }
}
