//! Writing replies: one writer that knows whether the client chose RESP2 or
//! RESP3 (`HELLO 3`), so a command says "a map", "a double", "null" once and
//! each protocol gets its own encoding: RESP3 `%`, `,`, `_`, `~`, `#`, `>`;
//! RESP2 flattens maps to arrays, sends doubles as bulk strings, nulls as
//! `$-1` or `*-1`, booleans as integers and pushes as arrays.

/// A connection's pending output and its protocol version.
#[derive(Debug, Default)]
pub struct Out {
    /// Encoded replies not yet written to the socket.
    pub buf: Vec<u8>,
    /// RESP3 (`HELLO 3`) rather than RESP2.
    pub resp3: bool,
    /// `CLIENT REPLY OFF|SKIP`: the pushes written by the command running
    /// now (`None`: replies are not being dropped, nothing to note).
    pub pushes: Option<Vec<std::ops::Range<usize>>>,
}

/// Append the decimal form of `n` without allocating.
pub fn push_int(out: &mut Vec<u8>, n: i64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[i..]);
}

/// Format a double as Redis 7.0's `addReplyDouble` does: C's `%.17g`
/// (17 significant digits, trailing zeros dropped, an exponent below 1e-4
/// or from 1e17), and `inf`, `-inf`.
pub fn fmt_double(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d.is_nan() {
        return "nan".into();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0" } else { "0" }.into();
    }
    fn trim(s: &str) -> &str {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.')
        } else {
            s
        }
    }
    let sci = format!("{d:.16e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..17).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mant), exp.abs())
    } else {
        let fixed = format!("{:.*}", (16 - exp) as usize, d);
        trim(&fixed).to_string()
    }
}

impl Out {
    /// A push (pub/sub message or confirmation) was written from `start`
    /// to the end: it survives [`Out::drop_replies`].
    pub fn pushed(&mut self, start: usize) {
        if let Some(p) = &mut self.pushes {
            p.push(start..self.buf.len());
        }
    }

    /// Put pushes (`bytes`) at `at`, before replies already written from
    /// there (a client's own keyspace events come before its reply).
    pub fn insert_push(&mut self, at: usize, bytes: Vec<u8>) {
        let (at, n) = (at.min(self.buf.len()), bytes.len());
        self.buf.splice(at..at, bytes);
        if let Some(p) = &mut self.pushes {
            for r in p.iter_mut().filter(|r| r.start >= at) {
                *r = r.start + n..r.end + n;
            }
            p.push(at..at + n);
            p.sort_by_key(|r| r.start);
        }
    }

    /// Drop what was written since `at` except the pushes noted since (the
    /// command ran with its replies off).
    pub fn drop_replies(&mut self, at: usize) {
        let pushes = self.pushes.take().unwrap_or_default();
        let mut w = at;
        for r in pushes.into_iter().filter(|r| r.start >= at) {
            self.buf.copy_within(r.clone(), w);
            w += r.len();
        }
        self.buf.truncate(w);
    }

    fn header(&mut self, c: u8, n: i64) {
        self.buf.push(c);
        push_int(&mut self.buf, n);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `+OK`
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// A simple string (no CR or LF in it).
    pub fn status(&mut self, s: &str) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error; `msg` starts with its code (`ERR`, `WRONGTYPE`...).
    pub fn err(&mut self, msg: &str) {
        self.buf.push(b'-');
        self.buf.extend(
            msg.bytes()
                .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An integer.
    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    /// A bulk string.
    pub fn bulk(&mut self, v: &[u8]) {
        self.header(b'$', v.len() as i64);
        self.buf.extend_from_slice(v);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// A bulk string or a null.
    pub fn bulk_opt(&mut self, v: Option<&[u8]>) {
        match v {
            Some(v) => self.bulk(v),
            None => self.null(),
        }
    }

    /// The null of a missing string: `$-1` / `_`.
    pub fn null(&mut self) {
        self.buf
            .extend_from_slice(if self.resp3 { b"_\r\n" } else { b"$-1\r\n" });
    }

    /// The null of a missing array (EXEC aborted by WATCH): `*-1` / `_`.
    pub fn null_array(&mut self) {
        self.buf
            .extend_from_slice(if self.resp3 { b"_\r\n" } else { b"*-1\r\n" });
    }

    /// An array of `n` items (written next).
    pub fn array(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// A map of `n` key/value pairs (written next, key then value).
    pub fn map(&mut self, n: usize) {
        if self.resp3 {
            self.header(b'%', n as i64);
        } else {
            self.header(b'*', 2 * n as i64);
        }
    }

    /// A set of `n` items.
    pub fn set(&mut self, n: usize) {
        self.header(if self.resp3 { b'~' } else { b'*' }, n as i64);
    }

    /// An out-of-band push of `n` items (pub/sub messages, invalidations).
    pub fn push(&mut self, n: usize) {
        self.header(if self.resp3 { b'>' } else { b'*' }, n as i64);
    }

    /// A double.
    pub fn double(&mut self, d: f64) {
        self.double_text(&fmt_double(d));
    }

    /// A double already formatted (`s` is its text): a RESP3 double, or a
    /// bulk string in RESP2.
    pub fn double_text(&mut self, s: &str) {
        if self.resp3 {
            self.buf.push(b',');
            self.buf.extend_from_slice(s.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(s.as_bytes());
        }
    }

    /// A boolean (`#t` / `:1`).
    pub fn boolean(&mut self, b: bool) {
        if self.resp3 {
            self.buf
                .extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }

    /// A big number (`(` in RESP3; a bulk string in RESP2).
    pub fn bignum(&mut self, digits: &str) {
        if self.resp3 {
            self.buf.push(b'(');
            self.buf.extend_from_slice(digits.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(digits.as_bytes());
        }
    }

    /// An attribute map of `n` pairs (RESP3 only; the caller skips it in RESP2).
    pub fn attribute(&mut self, n: usize) {
        self.header(b'|', n as i64);
    }

    /// Verbatim text (`=` with a `txt` format in RESP3; a bulk string in RESP2).
    pub fn verbatim(&mut self, text: &[u8]) {
        if self.resp3 {
            self.header(b'=', text.len() as i64 + 4);
            self.buf.extend_from_slice(b"txt:");
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(f: impl Fn(&mut Out)) -> (String, String) {
        let mut a = Out::default();
        f(&mut a);
        let mut b = Out {
            resp3: true,
            ..Out::default()
        };
        f(&mut b);
        (
            String::from_utf8(a.buf).unwrap(),
            String::from_utf8(b.buf).unwrap(),
        )
    }

    #[test]
    fn each_type_in_both_protocols() {
        assert_eq!(both(|o| o.null()), ("$-1\r\n".into(), "_\r\n".into()));
        assert_eq!(both(|o| o.null_array()), ("*-1\r\n".into(), "_\r\n".into()));
        assert_eq!(both(|o| o.map(2)), ("*4\r\n".into(), "%2\r\n".into()));
        assert_eq!(both(|o| o.set(3)), ("*3\r\n".into(), "~3\r\n".into()));
        assert_eq!(both(|o| o.push(3)), ("*3\r\n".into(), ">3\r\n".into()));
        assert_eq!(
            both(|o| o.double(1.5)),
            ("$3\r\n1.5\r\n".into(), ",1.5\r\n".into())
        );
        assert_eq!(
            both(|o| o.boolean(true)),
            (":1\r\n".into(), "#t\r\n".into())
        );
        assert_eq!(
            both(|o| o.verbatim(b"hi")),
            ("$2\r\nhi\r\n".into(), "=6\r\ntxt:hi\r\n".into())
        );
        assert_eq!(both(|o| o.err("ERR a\r\nb")).0, "-ERR a  b\r\n");
    }

    #[test]
    #[allow(clippy::approx_constant)] // 3.141 is Redis's DEBUG PROTOCOL value
    fn doubles_print_like_redis() {
        // C's printf("%.17g") for each.
        assert_eq!(fmt_double(3.0), "3");
        assert_eq!(fmt_double(10.5), "10.5");
        assert_eq!(fmt_double(f64::INFINITY), "inf");
        assert_eq!(fmt_double(-0.1), "-0.10000000000000001");
        assert_eq!(fmt_double(3.141), "3.141");
        assert_eq!(fmt_double(1e17), "1e+17");
        assert_eq!(fmt_double(12345678901234567.0), "12345678901234568");
        assert_eq!(fmt_double(0.0001), "0.0001");
        assert_eq!(fmt_double(0.00001), "1.0000000000000001e-05");
        assert_eq!(fmt_double(-2.5e-300), "-2.5e-300");
        assert_eq!(fmt_double(1.5e300), "1.5000000000000001e+300");
        assert_eq!(fmt_double(1.1), "1.1000000000000001");
        assert_eq!(fmt_double(123456.789), "123456.789");
        for n in [0, 7, -7, 1234567890, i64::MIN, i64::MAX] {
            let mut out = Vec::new();
            push_int(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
    }
}
