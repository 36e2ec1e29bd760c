//! Keys from terminal input bytes: a pure, incremental decoder.
//!
//! Bytes arrive in arbitrary pieces (a read may end inside an escape
//! sequence or a UTF-8 character), so the decoder keeps what it cannot yet
//! decide and hands out whole keys. A lone ESC is ambiguous (the Esc key, or
//! the start of a sequence whose rest is still in flight): `next_key` leaves it
//! pending and the caller, after a short quiet time, calls `flush_escape`.
//! A bracketed paste (`ESC [200~ ... ESC [201~`) comes out as one
//! `Key::Paste` holding the pasted text, so pasted newlines never look like
//! Enter.

/// One decoded key (or paste).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// A printable character.
    Char(char),
    /// Alt (Meta) with a character: `ESC c`.
    Alt(char),
    /// Ctrl with a letter, lower case: `Ctrl('a')` is byte 0x01.
    Ctrl(char),
    /// Enter (CR or LF).
    Enter,
    /// Tab.
    Tab,
    /// Backspace (DEL or BS).
    Backspace,
    /// Delete (the key under Insert).
    Delete,
    /// Esc on its own.
    Esc,
    /// Arrow keys.
    Up,
    /// Arrow down.
    Down,
    /// Arrow left.
    Left,
    /// Arrow right.
    Right,
    /// Ctrl-Left (word left).
    CtrlLeft,
    /// Ctrl-Right (word right).
    CtrlRight,
    /// Home.
    Home,
    /// End.
    End,
    /// A bracketed paste: the text between the markers, as sent.
    Paste(String),
    /// A sequence this decoder does not know; ignored by the editor.
    Unknown,
}

/// The paste is larger than this: the rest is dropped (a terminal paste of
/// 16 MiB is a mistake, not a message).
pub const MAX_PASTE: usize = 16 << 20;

#[cfg(test)]
const PASTE_START: &[u8] = b"\x1b[200~";
const PASTE_END: &[u8] = b"\x1b[201~";

/// Incremental decoder: `feed` bytes, then take keys with `next_key`.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Inside a bracketed paste: the pasted bytes so far.
    paste: Option<Vec<u8>>,
}

/// What the decoder found at the start of its buffer.
enum Step {
    /// A key, consuming this many bytes.
    Key(Key, usize),
    /// The start of a paste, consuming this many bytes.
    PasteStart(usize),
    /// Not enough bytes to decide.
    Incomplete,
}

impl Decoder {
    /// A decoder with nothing pending.
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Add bytes read from the terminal.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// True when bytes are held that may still become a key: the caller
    /// waits briefly, then calls `flush_escape`.
    pub fn pending(&self) -> bool {
        !self.buf.is_empty() && self.paste.is_none()
    }

    /// The next whole key, if the buffered bytes hold one.
    pub fn next_key(&mut self) -> Option<Key> {
        if self.paste.is_some() {
            return self.paste_step();
        }
        match decode(&self.buf) {
            Step::Key(k, n) => {
                self.buf.drain(..n);
                Some(k)
            }
            Step::PasteStart(n) => {
                self.buf.drain(..n);
                self.paste = Some(Vec::new());
                self.paste_step()
            }
            Step::Incomplete => None,
        }
    }

    /// Nothing more came after a partial sequence: a lone ESC is the Esc
    /// key, anything else held is dropped as an unknown key.
    pub fn flush_escape(&mut self) -> Option<Key> {
        if self.paste.is_some() || self.buf.is_empty() {
            return None;
        }
        if self.buf[0] == 0x1b {
            if self.buf.len() == 1 {
                self.buf.clear();
                return Some(Key::Esc);
            }
            // An unfinished CSI or SS3 sequence: junk.
            self.buf.clear();
            return Some(Key::Unknown);
        }
        // An incomplete UTF-8 character that never finished.
        self.buf.clear();
        Some(Key::Unknown)
    }

    fn paste_step(&mut self) -> Option<Key> {
        let paste = self.paste.as_mut()?;
        if let Some(at) = find(&self.buf, PASTE_END) {
            take_bounded(paste, &self.buf[..at]);
            self.buf.drain(..at + PASTE_END.len());
            let bytes = self.paste.take().unwrap_or_default();
            return Some(Key::Paste(String::from_utf8_lossy(&bytes).into_owned()));
        }
        // Keep a tail that may be the start of the end marker.
        let keep = (1..PASTE_END.len())
            .rev()
            .find(|&k| self.buf.len() >= k && self.buf.ends_with(&PASTE_END[..k]))
            .unwrap_or(0);
        let cut = self.buf.len() - keep;
        take_bounded(paste, &self.buf[..cut]);
        self.buf.drain(..cut);
        None
    }
}

fn take_bounded(paste: &mut Vec<u8>, bytes: &[u8]) {
    let room = MAX_PASTE.saturating_sub(paste.len());
    paste.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn decode(b: &[u8]) -> Step {
    let Some(&first) = b.first() else {
        return Step::Incomplete;
    };
    match first {
        0x1b => decode_escape(b),
        b'\r' | b'\n' => Step::Key(Key::Enter, 1),
        b'\t' => Step::Key(Key::Tab, 1),
        0x7f | 0x08 => Step::Key(Key::Backspace, 1),
        0x00 => Step::Key(Key::Unknown, 1),
        c @ 0x01..=0x1a => Step::Key(Key::Ctrl((b'a' + c - 1) as char), 1),
        0x1c..=0x1f => Step::Key(Key::Unknown, 1),
        0x20..=0x7e => Step::Key(Key::Char(first as char), 1),
        _ => decode_utf8(b),
    }
}

fn decode_utf8(b: &[u8]) -> Step {
    let len = match b[0] {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return Step::Key(Key::Unknown, 1),
    };
    if b.len() < len {
        // Wait for the rest only while what we have is a valid prefix.
        if b[1..].iter().all(|&c| c & 0xc0 == 0x80) {
            return Step::Incomplete;
        }
        return Step::Key(Key::Unknown, 1);
    }
    match std::str::from_utf8(&b[..len]) {
        Ok(s) => match s.chars().next() {
            Some(c) if !c.is_control() => Step::Key(Key::Char(c), len),
            _ => Step::Key(Key::Unknown, len),
        },
        Err(_) => Step::Key(Key::Unknown, 1),
    }
}

fn decode_escape(b: &[u8]) -> Step {
    let Some(&second) = b.get(1) else {
        return Step::Incomplete;
    };
    match second {
        b'[' => decode_csi(b),
        b'O' => match b.get(2) {
            None => Step::Incomplete,
            Some(&c) => Step::Key(ss3_key(c), 3),
        },
        0x7f | 0x08 => Step::Key(Key::Unknown, 2),
        0x1b => Step::Key(Key::Esc, 1),
        c if c.is_ascii_graphic() => Step::Key(Key::Alt(c as char), 2),
        _ => Step::Key(Key::Esc, 1),
    }
}

fn ss3_key(c: u8) -> Key {
    match c {
        b'A' => Key::Up,
        b'B' => Key::Down,
        b'C' => Key::Right,
        b'D' => Key::Left,
        b'H' => Key::Home,
        b'F' => Key::End,
        _ => Key::Unknown,
    }
}

/// `ESC [ params final`: parameters are digits and `;`, the final byte is
/// 0x40..=0x7e. A sequence that grows past 32 bytes is junk.
fn decode_csi(b: &[u8]) -> Step {
    let body = &b[2..];
    let Some(end) = body.iter().position(|&c| (0x40..=0x7e).contains(&c)) else {
        if body.len() > 32 {
            return Step::Key(Key::Unknown, b.len());
        }
        return Step::Incomplete;
    };
    let params = &body[..end];
    let fin = body[end];
    let used = 2 + end + 1;
    if fin == b'~' && params == b"200" {
        return Step::PasteStart(used);
    }
    let mut nums = params.split(|&c| c == b';').map(|p| {
        std::str::from_utf8(p)
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
    });
    let first = nums.next().flatten();
    let modifier = nums.next().flatten();
    let ctrl = matches!(modifier, Some(5));
    let key = match (fin, first) {
        (b'A', _) => Key::Up,
        (b'B', _) => Key::Down,
        (b'C', _) if ctrl => Key::CtrlRight,
        (b'D', _) if ctrl => Key::CtrlLeft,
        (b'C', _) => Key::Right,
        (b'D', _) => Key::Left,
        (b'H', _) => Key::Home,
        (b'F', _) => Key::End,
        (b'~', Some(1 | 7)) => Key::Home,
        (b'~', Some(4 | 8)) => Key::End,
        (b'~', Some(3)) => Key::Delete,
        _ => Key::Unknown,
    };
    Step::Key(key, used)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(bytes: &[u8]) -> Vec<Key> {
        let mut d = Decoder::new();
        d.feed(bytes);
        std::iter::from_fn(|| d.next_key()).collect()
    }

    #[test]
    fn plain_and_control_keys() {
        assert_eq!(
            keys(b"a\x01\r\x7f\t\x03"),
            [
                Key::Char('a'),
                Key::Ctrl('a'),
                Key::Enter,
                Key::Backspace,
                Key::Tab,
                Key::Ctrl('c')
            ]
        );
        assert_eq!(
            keys("é€😀".as_bytes()),
            [Key::Char('é'), Key::Char('€'), Key::Char('😀')]
        );
        assert_eq!(keys(b"\xff"), [Key::Unknown]);
    }

    #[test]
    fn escape_sequences() {
        assert_eq!(
            keys(b"\x1b[A\x1b[B\x1bOC\x1b[D\x1b[1;5C\x1b[1;5D\x1b[3~\x1b[H\x1b[4~\x1bb\x1b[99Z"),
            [
                Key::Up,
                Key::Down,
                Key::Right,
                Key::Left,
                Key::CtrlRight,
                Key::CtrlLeft,
                Key::Delete,
                Key::Home,
                Key::End,
                Key::Alt('b'),
                Key::Unknown
            ]
        );
    }

    #[test]
    fn every_split_decodes_the_same() {
        let input = "x\x1b[1;5Cé\x1b[200~a\nb\x1b[201~\x1b[3~€".as_bytes();
        let whole = keys(input);
        for cut in 0..=input.len() {
            let mut d = Decoder::new();
            let mut got = Vec::new();
            d.feed(&input[..cut]);
            got.extend(std::iter::from_fn(|| d.next_key()));
            d.feed(&input[cut..]);
            got.extend(std::iter::from_fn(|| d.next_key()));
            assert_eq!(got, whole, "split at {cut}");
        }
    }

    #[test]
    fn lone_escape_waits_then_is_esc() {
        let mut d = Decoder::new();
        d.feed(b"\x1b");
        assert_eq!(d.next_key(), None);
        assert!(d.pending());
        assert_eq!(d.flush_escape(), Some(Key::Esc));
        assert!(!d.pending());
        d.feed(b"\x1b[");
        assert_eq!(d.next_key(), None);
        assert_eq!(d.flush_escape(), Some(Key::Unknown));
    }

    #[test]
    fn pastes_keep_newlines_and_escapes_as_text() {
        assert_eq!(
            keys(b"\x1b[200~one\rtwo\n\x1b[A\x1b[201~z"),
            [Key::Paste("one\rtwo\n\x1b[A".into()), Key::Char('z')]
        );
        // The end marker split across reads.
        let mut d = Decoder::new();
        d.feed(b"\x1b[200~abc\x1b[20");
        assert_eq!(d.next_key(), None);
        assert!(!d.pending(), "a paste in flight is not an escape to flush");
        d.feed(b"1~");
        assert_eq!(d.next_key(), Some(Key::Paste("abc".into())));
    }

    #[test]
    fn hostile_input_is_bounded() {
        let mut junk = b"\x1b[".to_vec();
        junk.extend(std::iter::repeat_n(b'1', 100));
        assert_eq!(keys(&junk), [Key::Unknown]);
        let mut d = Decoder::new();
        d.feed(PASTE_START);
        d.feed(&vec![b'x'; MAX_PASTE + 10]);
        d.feed(PASTE_END);
        match d.next_key() {
            Some(Key::Paste(p)) => assert_eq!(p.len(), MAX_PASTE),
            other => panic!("{other:?}"),
        }
    }
}
