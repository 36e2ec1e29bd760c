//! How received bytes are shown on a terminal: text as it is, every other
//! byte as `\xHH` in reverse video, so a peer cannot drive the terminal
//! and the byte 0x1b never looks like the four characters `\x1b` sent
//! literally. Pure, chunk by chunk, with the same result however the bytes
//! were split.

use std::fmt::Write as _;

/// Reverse video on and off around bytes shown as escapes.
pub const MARK_ON: &str = "\x1b[7m";
/// See `MARK_ON`.
pub const MARK_OFF: &str = "\x1b[27m";

/// Turns received bytes into terminal-safe text, chunk by chunk, with the
/// same result however the bytes were split: an incomplete UTF-8
/// character or a CR that may start a CR LF is held until the next chunk
/// (or `flush`).
#[derive(Debug, Default)]
pub struct Renderer {
    carry: Vec<u8>,
}

impl Renderer {
    /// A renderer holding nothing.
    pub fn new() -> Renderer {
        Renderer::default()
    }

    /// Bytes are held back waiting for the next chunk.
    pub fn holding(&self) -> bool {
        !self.carry.is_empty()
    }

    /// Text for `data` (and what was held).
    pub fn feed(&mut self, data: &[u8]) -> String {
        let mut bytes = std::mem::take(&mut self.carry);
        bytes.extend_from_slice(data);
        let keep = held_tail(&bytes);
        self.carry = bytes[bytes.len() - keep..].to_vec();
        render_text(&bytes[..bytes.len() - keep])
    }

    /// Text for whatever is held (no more bytes are coming soon).
    pub fn flush(&mut self) -> String {
        let bytes = std::mem::take(&mut self.carry);
        render_text(&bytes)
    }
}

/// How many bytes at the end may change meaning with more bytes: a
/// trailing CR, or an unfinished UTF-8 character.
fn held_tail(b: &[u8]) -> usize {
    if b.last() == Some(&b'\r') {
        return 1;
    }
    // Up to 3 bytes of an unfinished UTF-8 sequence.
    for back in 1..=3.min(b.len()) {
        let lead = b[b.len() - back];
        let need = match lead {
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            0x80..=0xbf => continue,
            _ => return 0,
        };
        return if need > back && b[b.len() - back + 1..].iter().all(|&c| c & 0xc0 == 0x80) {
            back
        } else {
            0
        };
    }
    0
}

/// Bytes as terminal-safe text: printable characters, `\n` and `\t` as
/// they are, CR LF as a newline, every other control byte and each byte of
/// invalid UTF-8 as `\xHH` between `MARK_ON` and `MARK_OFF`, so a peer
/// cannot drive the terminal with escape codes, and an escaped byte never
/// looks like the same characters sent literally.
pub fn render_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 16);
    let mut marked = false;
    for chunk in bytes.utf8_chunks() {
        let mut chars = chunk.valid().chars().peekable();
        while let Some(c) = chars.next() {
            let plain = match c {
                '\r' if chars.peek() == Some(&'\n') => continue,
                '\n' | '\t' => true,
                c => !c.is_control(),
            };
            if plain {
                if marked {
                    out.push_str(MARK_OFF);
                    marked = false;
                }
                out.push(c);
            } else {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    mark(&mut out, &mut marked, b);
                }
            }
        }
        for &b in chunk.invalid() {
            mark(&mut out, &mut marked, b);
        }
    }
    if marked {
        out.push_str(MARK_OFF);
    }
    out
}

fn mark(out: &mut String, marked: &mut bool, b: u8) {
    if !*marked {
        out.push_str(MARK_ON);
        *marked = true;
    }
    let _ = write!(out, "\\x{b:02x}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> String {
        format!("{MARK_ON}{s}{MARK_OFF}")
    }

    #[test]
    fn received_text_is_terminal_safe_and_escapes_are_marked() {
        assert_eq!(render_text(b"hi\r\n\tx"), "hi\n\tx");
        assert_eq!(
            render_text(b"\x1b[2J\x07ok\r"),
            format!("{}[2J{}ok{}", m("\\x1b"), m("\\x07"), m("\\x0d"))
        );
        assert_eq!(render_text(b"\xff\xfe"), m("\\xff\\xfe"));
        assert_eq!(render_text(b"\xc2\x9b"), m("\\xc2\\x9b")); // C1 CSI
        // The byte and the four characters sent literally differ.
        assert_ne!(render_text(b"\x1b"), render_text(br"\x1b"));
        assert_eq!(render_text(br"\x1b"), r"\x1b");
    }

    #[test]
    fn rendering_does_not_depend_on_how_bytes_were_split() {
        let mut input = "caf\u{e9} \r\n\x1b[1m\r\n\u{4e16}\r\r\n\u{1f600}"
            .as_bytes()
            .to_vec();
        input.extend_from_slice(b"\xff!\r\xe4\xb8");
        let mut whole = Renderer::new();
        let expected = whole.feed(&input) + &whole.flush();
        for a in 0..=input.len() {
            for b in a..=input.len() {
                let mut r = Renderer::new();
                let mut got = r.feed(&input[..a]);
                got += &r.feed(&input[a..b]);
                got += &r.feed(&input[b..]);
                got += &r.flush();
                assert_eq!(got, expected, "split at {a}, {b}");
            }
        }
        assert!(expected.contains("\u{e9} \n"), "{expected}");
        assert!(expected.ends_with(&m("\\xe4\\xb8")), "{expected}");
    }

    #[test]
    fn held_bytes_wait_for_the_next_chunk() {
        let mut r = Renderer::new();
        assert_eq!(r.feed(b"a\r"), "a");
        assert!(r.holding());
        assert_eq!(r.feed(b"\nb"), "\nb");
        assert_eq!(r.feed(b"\xc3"), "");
        assert_eq!(r.feed(b"\xa9"), "\u{e9}");
        assert!(!r.holding());
        r.feed(b"\r");
        assert_eq!(r.flush(), m("\\x0d"));
    }
}
