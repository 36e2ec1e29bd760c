//! What a line typed at the `connect` prompt means: pure functions, no
//! terminal and no socket, so every case is a unit test (received bytes
//! are shown by `render`).
//!
//! A line is either bytes to send (escapes `\n \r \t \\ \0 \xHH` decoded,
//! the line ending appended) or a `:command`. `::text` sends `:text`. A
//! backslash that starts no known escape (a Windows path) is sent as it is;
//! the caller shows a hint about it once. Pasted lines are always data.

use std::path::PathBuf;

/// A `:command` typed at the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `:help`
    Help,
    /// `:quit` (also `:q`, `:exit`)
    Quit,
    /// `:hex on|off`: received bytes as a hex dump.
    Hex(bool),
    /// `:crlf on|off`: end lines with `\r\n`.
    Crlf(bool),
    /// `:send FILE`: stream a file's bytes as they are.
    Send(PathBuf),
    /// `:status`: peer, bytes each way, time connected.
    Status,
}

/// What a typed line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Send these bytes (line ending included).
    Send {
        /// The bytes.
        bytes: Vec<u8>,
        /// The first backslash sequence that is no escape and was sent as
        /// typed (e.g. `\q`), for a one-time hint.
        literal: Option<String>,
    },
    /// Run a command.
    Command(Command),
}

/// Why a typed line was not accepted; shown as one line, nothing is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError(pub String);

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `:help` text.
pub const HELP: &str = "\
lines are sent with \\n (:crlf on: \\r\\n); escapes: \\n \\r \\t \\\\ \\0 \\xHH (another backslash is sent as typed)
  :help            this text
  :quit            close the connection and exit (Ctrl-D: half-close, wait for the peer)
  :hex on|off      show received bytes as a hex dump
  :crlf on|off     end sent lines with \\r\\n
  :send FILE       send a file's bytes as they are (Ctrl-C stops)
  :status          peer, bytes each way, time connected
  ::text           send a line that starts with ':'
a paste sends each pasted line as data; Ctrl-C drops the line, twice on an empty line leaves;
received control bytes show as \\xHH in reverse video";

/// Interpret one typed line (without its newline).
pub fn parse(line: &str, crlf: bool) -> Result<Input, LineError> {
    if let Some(rest) = line.strip_prefix("::") {
        return send(&format!(":{rest}"), crlf);
    }
    match line.strip_prefix(':') {
        Some(cmd) => parse_command(cmd).map(Input::Command),
        None => send(line, crlf),
    }
}

/// A pasted line: data whatever it starts with, escapes decoded.
pub fn data_line(line: &str, crlf: bool) -> Input {
    let (mut bytes, literal) = unescape(line);
    bytes.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
    Input::Send { bytes, literal }
}

fn send(text: &str, crlf: bool) -> Result<Input, LineError> {
    Ok(data_line(text, crlf))
}

/// The hint shown (once) when a backslash sequence was sent as typed.
pub fn literal_hint(seq: &str) -> String {
    format!(
        "note: {seq} is not an escape, so it went out as typed (escapes: \\n \\r \\t \\\\ \\0 \\xHH)"
    )
}

fn on_off(cmd: &str, arg: &str) -> Result<bool, LineError> {
    match arg {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(LineError(format!(":{cmd} takes on or off, e.g. :{cmd} on"))),
    }
}

fn parse_command(text: &str) -> Result<Command, LineError> {
    let text = text.trim();
    let (name, arg) = match text.split_once(char::is_whitespace) {
        Some((n, a)) => (n, a.trim()),
        None => (text, ""),
    };
    let no_arg = |c: Command| {
        if arg.is_empty() {
            Ok(c)
        } else {
            Err(LineError(format!(":{name} takes no argument")))
        }
    };
    match name {
        "help" | "h" | "?" => no_arg(Command::Help),
        "quit" | "q" | "exit" => no_arg(Command::Quit),
        "status" => no_arg(Command::Status),
        "hex" => on_off(name, arg).map(Command::Hex),
        "crlf" => on_off(name, arg).map(Command::Crlf),
        "send" if arg.is_empty() => Err(LineError(":send needs a file: :send FILE".into())),
        "send" => Ok(Command::Send(PathBuf::from(arg))),
        "" => Err(LineError(
            "a bare ':' is not a command; :help lists them, ::text sends ':text'".into(),
        )),
        other => Err(LineError(format!(
            "unknown command :{other}; :help lists them, ::{other} sends ':{other}' as text"
        ))),
    }
}

/// Decode `\n \r \t \\ \0 \xHH` into bytes; any other character is sent as
/// UTF-8, and so is a backslash that starts no known escape: it and what
/// follows go out as typed. Returns the bytes and the first such sequence.
pub fn unescape(text: &str) -> (Vec<u8>, Option<String>) {
    let mut out = Vec::with_capacity(text.len());
    let mut literal = None;
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        out.extend_from_slice(&rest.as_bytes()[..at]);
        let after = &rest[at + 1..];
        let (byte, used) = match after.as_bytes().first() {
            Some(b'n') => (Some(b'\n'), 1),
            Some(b'r') => (Some(b'\r'), 1),
            Some(b't') => (Some(b'\t'), 1),
            Some(b'0') => (Some(0), 1),
            Some(b'\\') => (Some(b'\\'), 1),
            Some(b'x') => match after.get(1..3).map(|h| u8::from_str_radix(h, 16)) {
                Some(Ok(b)) if after.as_bytes()[1..3].iter().all(u8::is_ascii_hexdigit) => {
                    (Some(b), 3)
                }
                _ => (None, 0),
            },
            _ => (None, 0),
        };
        match byte {
            Some(b) => {
                out.push(b);
                rest = &after[used..];
            }
            None => {
                if literal.is_none() {
                    let seq: String = after
                        .chars()
                        .take(if after.starts_with('x') { 3 } else { 1 })
                        .collect();
                    literal = Some(format!("\\{seq}"));
                }
                out.push(b'\\');
                rest = after;
            }
        }
    }
    out.extend_from_slice(rest.as_bytes());
    (out, literal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(line: &str) -> Vec<u8> {
        match parse(line, false) {
            Ok(Input::Send {
                bytes,
                literal: None,
            }) => bytes,
            other => panic!("{line:?}: {other:?}"),
        }
    }

    #[test]
    fn plain_lines_get_the_line_ending() {
        assert_eq!(sent("hello"), b"hello\n");
        assert_eq!(sent(""), b"\n");
        assert_eq!(
            parse("GET /", true),
            Ok(Input::Send {
                bytes: b"GET /\r\n".to_vec(),
                literal: None
            })
        );
        assert_eq!(sent("héllo"), "héllo\n".as_bytes());
    }

    #[test]
    fn escapes_send_raw_bytes() {
        assert_eq!(sent(r"a\tb\r\n"), b"a\tb\r\n\n");
        assert_eq!(sent(r"\x00\xff\x7F"), b"\x00\xff\x7f\n");
        assert_eq!(sent(r"\0"), b"\0\n");
        assert_eq!(sent(r"back\\slash"), b"back\\slash\n");
    }

    #[test]
    fn unknown_escapes_are_sent_as_typed_and_reported() {
        for (line, bytes, seq) in [
            (r"C:\dir\sub", &b"C:\\dir\\sub"[..], r"\d"),
            (r"\q", b"\\q", r"\q"),
            (r"\x", b"\\x", r"\x"),
            (r"\x4", b"\\x4", r"\x4"),
            (r"\xgg", b"\\xgg", r"\xgg"),
            (r"\x+f", b"\\x+f", r"\x+f"),
            (r"end\", b"end\\", r"\"),
            (r"\xé1", "\\xé1".as_bytes(), r"\xé1"),
            (r"a\qb\n", b"a\\qb\n", r"\q"),
        ] {
            let (got, literal) = unescape(line);
            assert_eq!(got, bytes, "{line}");
            assert_eq!(literal.as_deref(), Some(seq), "{line}");
        }
        assert!(literal_hint(r"\q").contains(r"\q is not an escape"));
        assert!(!literal_hint(r"\q").contains('\n'));
    }

    #[test]
    fn pasted_lines_are_data_even_with_a_colon() {
        assert_eq!(
            data_line(":quit", false),
            Input::Send {
                bytes: b":quit\n".to_vec(),
                literal: None
            }
        );
        assert_eq!(
            data_line(r"C:\x41\q", true),
            Input::Send {
                bytes: b"C:A\\q\r\n".to_vec(),
                literal: Some(r"\q".into())
            }
        );
    }

    #[test]
    fn commands() {
        let cmd = |l| parse(l, false);
        assert_eq!(cmd(":help"), Ok(Input::Command(Command::Help)));
        assert_eq!(cmd(":quit"), Ok(Input::Command(Command::Quit)));
        assert_eq!(cmd(":q"), Ok(Input::Command(Command::Quit)));
        assert_eq!(cmd(":hex on"), Ok(Input::Command(Command::Hex(true))));
        assert_eq!(cmd(":hex   off "), Ok(Input::Command(Command::Hex(false))));
        assert_eq!(cmd(":crlf on"), Ok(Input::Command(Command::Crlf(true))));
        assert_eq!(cmd(":status"), Ok(Input::Command(Command::Status)));
        assert_eq!(
            cmd(":send my file.bin"),
            Ok(Input::Command(Command::Send("my file.bin".into())))
        );
        for bad in [
            ":hex",
            ":hex maybe",
            ":send",
            ":quit now",
            ":",
            ":frobnicate",
        ] {
            let e = cmd(bad).expect_err(bad);
            assert!(!e.0.contains('\n'), "one line: {e}");
        }
        assert!(cmd(":frobnicate").unwrap_err().0.contains(":help"));
    }

    #[test]
    fn double_colon_sends_a_colon_line() {
        assert_eq!(sent("::quit"), b":quit\n");
        assert_eq!(sent(r"::\x41"), b":A\n");
        assert_eq!(sent(" :quit"), b" :quit\n");
    }

    #[test]
    fn hex_dump_rows() {
        let d = crate::hexdump::dump_lines(16, b"hello\n");
        assert_eq!(
            d,
            "00000010  68 65 6c 6c 6f 0a                                 |hello.|\n"
        );
        let two = crate::hexdump::dump_lines(0, &[0u8; 17]);
        assert_eq!(two.lines().count(), 2);
        assert!(two.lines().nth(1).unwrap().starts_with("00000010  00 "));
        assert_eq!(crate::hexdump::dump_lines(0, b""), "");
    }
}
