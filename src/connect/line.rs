//! What a line typed at the `connect` prompt means, and how received bytes
//! are shown: pure functions, no terminal and no socket, so every case is a
//! unit test.
//!
//! A line is either bytes to send (escapes `\n \r \t \\ \0 \xHH` decoded,
//! the line ending appended) or a `:command`. `::text` sends `:text`.

use std::fmt::Write as _;
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
    Send(Vec<u8>),
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
lines are sent with \\n (:crlf on: \\r\\n); escapes: \\n \\r \\t \\\\ \\0 \\xHH
  :help            this text
  :quit            close the connection and exit (also Ctrl-D: half-close, wait for the peer)
  :hex on|off      show received bytes as a hex dump
  :crlf on|off     end sent lines with \\r\\n
  :send FILE       send a file's bytes as they are
  :status          peer, bytes each way, time connected
  ::text           send a line that starts with ':'";

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

fn send(text: &str, crlf: bool) -> Result<Input, LineError> {
    let mut bytes = unescape(text)?;
    bytes.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
    Ok(Input::Send(bytes))
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

/// Decode `\n \r \t \\ \0 \xHH` into bytes; any other character is sent as UTF-8.
pub fn unescape(text: &str) -> Result<Vec<u8>, LineError> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('n') => out.push(b'\n'),
            Some('r') => out.push(b'\r'),
            Some('t') => out.push(b'\t'),
            Some('0') => out.push(0),
            Some('\\') => out.push(b'\\'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                let byte = (hex.len() == 2)
                    .then(|| u8::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .ok_or_else(|| {
                        LineError(format!(
                            "bad escape \\x{hex}: write two hex digits, \\x00 to \\xff"
                        ))
                    })?;
                out.push(byte);
            }
            Some(other) => {
                return Err(LineError(format!(
                    "unknown escape \\{other}; known: \\n \\r \\t \\\\ \\0 \\xHH (\\\\ sends a backslash)"
                )));
            }
            None => {
                return Err(LineError(
                    "the line ends with a lone backslash; write \\\\ to send one".into(),
                ));
            }
        }
    }
    Ok(out)
}

/// Received bytes as terminal-safe text: printable characters and `\n`/`\t`
/// as they are, `\r\n` as a newline, every other control byte and invalid
/// UTF-8 as `\xHH`, so a peer cannot drive the terminal with escape codes.
/// `carry` holds an incomplete UTF-8 sequence from the previous chunk.
pub fn render_text(carry: &mut Vec<u8>, data: &[u8]) -> String {
    let mut bytes = std::mem::take(carry);
    bytes.extend_from_slice(data);
    let mut out = String::with_capacity(bytes.len());
    let mut rest: &[u8] = &bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                push_safe(&mut out, s);
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                // valid_up_to marks valid UTF-8, so this cannot fail.
                push_safe(&mut out, std::str::from_utf8(good).unwrap_or_default());
                match e.error_len() {
                    None => {
                        // Incomplete sequence at the end: wait for the next chunk.
                        carry.extend_from_slice(bad);
                        break;
                    }
                    Some(n) => {
                        for b in &bad[..n] {
                            let _ = write!(out, "\\x{b:02x}");
                        }
                        rest = &bad[n..];
                    }
                }
            }
        }
    }
    out
}

fn push_safe(out: &mut String, s: &str) {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).as_bytes() {
                    let _ = write!(out, "\\x{b:02x}");
                }
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(line: &str) -> Vec<u8> {
        match parse(line, false) {
            Ok(Input::Send(b)) => b,
            other => panic!("{line:?}: {other:?}"),
        }
    }

    #[test]
    fn plain_lines_get_the_line_ending() {
        assert_eq!(sent("hello"), b"hello\n");
        assert_eq!(sent(""), b"\n");
        assert_eq!(parse("GET /", true), Ok(Input::Send(b"GET /\r\n".to_vec())));
        assert_eq!(sent("héllo"), "héllo\n".as_bytes());
    }

    #[test]
    fn escapes_send_raw_bytes() {
        assert_eq!(sent(r"a\tb\r\n"), b"a\tb\r\n\n");
        assert_eq!(sent(r"\x00\xff\x7F"), b"\x00\xff\x7f\n");
        assert_eq!(sent(r"\0"), b"\0\n");
        assert_eq!(sent(r"back\\slash"), b"back\\slash\n");
        for bad in [r"\q", r"\x", r"\x4", r"\xgg", r"end\", r"\xé1"] {
            assert!(parse(bad, false).is_err(), "{bad}");
        }
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
    fn received_text_is_terminal_safe() {
        let mut carry = Vec::new();
        assert_eq!(render_text(&mut carry, b"hi\r\n"), "hi\n");
        assert_eq!(
            render_text(&mut carry, b"\x1b[2J\x07ok\r"),
            "\\x1b[2J\\x07ok\\x0d"
        );
        assert_eq!(render_text(&mut carry, b"\xff\xfe"), "\\xff\\xfe");
        // "é" split across two chunks is held, then shown whole.
        assert_eq!(render_text(&mut carry, b"caf\xc3"), "caf");
        assert_eq!(carry, b"\xc3");
        assert_eq!(render_text(&mut carry, b"\xa9!"), "é!");
        assert!(carry.is_empty());
        assert_eq!(render_text(&mut carry, b"\xc2\x9b"), "\\xc2\\x9b"); // C1 CSI
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
