//! `netkit kv [COMMAND ARGS...]`: a redis-cli for netkit (or any RESP2
//! server). One command from the arguments, one per line from a piped stdin,
//! or a REPL with history and argument hints on a terminal.
//!
//! Argument splitting and reply formatting are pure functions over strings
//! and [`Reply`] values, tested without a socket.

use std::borrow::Cow;
use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};

use super::protocol::{Limits, Reply, encode_command, parse_reply};
use crate::net::{self, ConnectOptions};

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Server host.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Raw output (`Some(true)`), redis-cli formatting (`Some(false)`), or
    /// raw exactly when stdout is not a terminal (`None`), like redis-cli.
    pub raw: Option<bool>,
    /// `-x`: read the last argument from stdin.
    pub stdin_last: bool,
    /// The command; empty for a REPL (terminal) or commands from stdin.
    pub args: Vec<Vec<u8>>,
}

/// A connection to a RESP2 server.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    limits: Limits,
}

impl Conn {
    /// Connect to `host:port`.
    pub fn connect(host: &str, port: u16) -> Result<Conn> {
        let opts = ConnectOptions {
            timeout: Some(Duration::from_secs(10)),
            ..ConnectOptions::default()
        };
        let stream = net::connect_tcp(host, port, &opts)?;
        let _ = stream.set_nodelay(true);
        Ok(Conn {
            stream,
            buf: Vec::new(),
            limits: Limits {
                max_args: usize::MAX,
                ..Limits::default()
            },
        })
    }

    /// Send one command and read its reply.
    pub fn call(&mut self, args: &[Vec<u8>]) -> Result<Reply> {
        self.stream
            .write_all(&encode_command(args))
            .context("cannot send the command")?;
        let mut chunk = [0u8; 64 * 1024];
        loop {
            if let Some((reply, n)) =
                parse_reply(&self.buf, &self.limits).map_err(|e| anyhow!("bad reply: {}", e.0))?
            {
                self.buf.drain(..n);
                return Ok(reply);
            }
            let n = self
                .stream
                .read(&mut chunk)
                .context("cannot read the reply")?;
            if n == 0 {
                bail!("the server closed the connection");
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Run the client. Ok(false): the command got a nil or error reply (exit 1).
pub fn run(cfg: &ClientConfig) -> Result<bool> {
    let raw = cfg.raw.unwrap_or(!io::stdout().is_terminal());
    if cfg.args.is_empty() {
        if cfg.stdin_last {
            bail!("-x needs a command, e.g. netkit kv -x set key < file");
        }
        let mut conn = Conn::connect(&cfg.host, cfg.port)?;
        if io::stdin().is_terminal() {
            return repl(&mut conn, cfg, cfg.raw.unwrap_or(false));
        }
        return from_stdin(&mut conn, raw);
    }
    let mut args = cfg.args.clone();
    if cfg.stdin_last {
        let mut last = Vec::new();
        io::stdin()
            .read_to_end(&mut last)
            .context("cannot read stdin")?;
        args.push(last);
    }
    let mut conn = Conn::connect(&cfg.host, cfg.port)?;
    let reply = conn.call(&args)?;
    print_reply(&reply, raw)
}

fn print_reply(reply: &Reply, raw: bool) -> Result<bool> {
    match reply {
        Reply::Error(e) => {
            let _ = io::stdout().flush();
            eprintln!("(error) {e}");
            Ok(false)
        }
        Reply::Bulk(None) | Reply::Array(None) => {
            if !raw {
                println!("(nil)");
            }
            Ok(false)
        }
        r => {
            let mut out = io::stdout().lock();
            out.write_all(&format_reply(r, raw))?;
            out.flush()?;
            Ok(true)
        }
    }
}

/// Commands from a piped stdin, one per line (redis-cli quoting).
fn from_stdin(conn: &mut Conn, raw: bool) -> Result<bool> {
    let mut all_ok = true;
    for line in io::stdin().lock().lines() {
        let line = line.context("cannot read stdin")?;
        let args = split_args(&line).map_err(|e| anyhow!("{e}: {line}"))?;
        if args.is_empty() {
            continue;
        }
        let reply = conn.call(&args)?;
        all_ok &= print_reply(&reply, raw)?;
    }
    Ok(all_ok)
}

/// Format a reply as redis-cli does (`"v"`, `(integer) 1`, `1) ...`), or
/// raw (`--raw`: bare values, one per line). Ends with a newline.
pub fn format_reply(r: &Reply, raw: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if raw {
        format_raw(r, &mut out);
    } else {
        format_pretty(r, 0, &mut out);
    }
    out.push(b'\n');
    out
}

fn format_raw(r: &Reply, out: &mut Vec<u8>) {
    match r {
        Reply::Status(s) | Reply::Error(s) => out.extend_from_slice(s.as_bytes()),
        Reply::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Reply::Bulk(Some(b)) => out.extend_from_slice(b),
        Reply::Bulk(None) | Reply::Array(None) => {}
        Reply::Array(Some(items)) => {
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b'\n');
                }
                format_raw(it, out);
            }
        }
    }
}

fn format_pretty(r: &Reply, indent: usize, out: &mut Vec<u8>) {
    match r {
        Reply::Status(s) => out.extend_from_slice(s.as_bytes()),
        Reply::Error(e) => out.extend_from_slice(format!("(error) {e}").as_bytes()),
        Reply::Int(n) => out.extend_from_slice(format!("(integer) {n}").as_bytes()),
        Reply::Bulk(None) | Reply::Array(None) => out.extend_from_slice(b"(nil)"),
        Reply::Bulk(Some(b)) => out.extend_from_slice(quote(b).as_bytes()),
        Reply::Array(Some(items)) if items.is_empty() => out.extend_from_slice(b"(empty array)"),
        Reply::Array(Some(items)) => {
            let width = items.len().to_string().len();
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b'\n');
                    out.extend(std::iter::repeat_n(b' ', indent));
                }
                let label = format!("{:>width$}) ", i + 1);
                out.extend_from_slice(label.as_bytes());
                format_pretty(it, indent + label.len(), out);
            }
        }
    }
}

/// Quote bytes the way redis-cli does: `"a\"b\n\xff"`.
pub fn quote(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() + 2);
    s.push('"');
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            7 => s.push_str("\\a"),
            8 => s.push_str("\\b"),
            c if c.is_ascii_graphic() || c == b' ' => s.push(c as char),
            c => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

/// Split a typed line into arguments like redis-cli (the server's inline
/// splitter: same quoting rules).
pub fn split_args(line: &str) -> Result<Vec<Vec<u8>>, String> {
    super::protocol::split_args(line.as_bytes())
}

/// The server's command table: names, argument syntax and summaries for the
/// REPL's hints and `help`.
fn table() -> impl Iterator<Item = &'static super::cmd::CommandSpec> {
    super::cmd::all()
}

/// The hint for a partly typed line: the rest of a command name, or the
/// arguments still to type.
pub fn hint_for(line: &str) -> Option<String> {
    if line.trim().is_empty() {
        return None;
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    let first = words[0];
    let exact = table().any(|c| c.name.eq_ignore_ascii_case(first));
    if words.len() == 1 && !line.ends_with(' ') && !exact {
        let low = first.to_ascii_lowercase();
        let mut hits: Vec<&str> = table()
            .map(|c| c.name)
            .filter(|c| c.len() > low.len() && c.starts_with(&low))
            .collect();
        hits.sort_by_key(|c| c.len());
        if let Some(c) = hits.first() {
            return Some(c[first.len()..].to_string());
        }
    }
    let syntax = table().find(|c| c.name.eq_ignore_ascii_case(first))?.syntax;
    let typed = words.len() - 1;
    let rest: Vec<&str> = syntax
        .split(' ')
        .filter(|s| !s.is_empty())
        .skip(typed)
        .collect();
    if rest.is_empty() {
        return None;
    }
    let lead = if line.ends_with(' ') { "" } else { " " };
    Some(format!("{lead}{}", rest.join(" ")))
}

/// `help` in the REPL: the command table's syntax and summary for the named
/// commands (like redis-cli's `help SET`), or how to ask.
pub fn help_text(names: &[Vec<u8>]) -> String {
    if names.is_empty() {
        return "Type: \"help <command>\" for a command's syntax and summary, e.g. help set\n"
            .into();
    }
    let mut out = String::new();
    for n in names {
        match super::cmd::lookup(n) {
            Some(c) => out.push_str(&format!(
                "\n  {} {}\n  summary: {}\n  since: {}\n  group: {}\n\n",
                c.name.to_ascii_uppercase(),
                c.syntax,
                c.summary,
                c.since,
                c.group
            )),
            None => out.push_str(&format!(
                "no such command: {}\n",
                String::from_utf8_lossy(n)
            )),
        }
    }
    out
}

struct Helper;

impl rustyline::hint::Hinter for Helper {
    type Hint = String;
    fn hint(&self, line: &str, pos: usize, _ctx: &rustyline::Context<'_>) -> Option<String> {
        if pos < line.len() {
            return None;
        }
        hint_for(line)
    }
}

impl rustyline::highlight::Highlighter for Helper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("\x1b[90m{hint}\x1b[0m"))
    }
}
impl rustyline::completion::Completer for Helper {
    type Candidate = String;
}
impl rustyline::validate::Validator for Helper {}
impl rustyline::Helper for Helper {}

fn history_path() -> Option<std::path::PathBuf> {
    std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".netkit_kv_history"))
}

fn repl(conn: &mut Conn, cfg: &ClientConfig, raw: bool) -> Result<bool> {
    use rustyline::error::ReadlineError;
    let mut ed = rustyline::Editor::<Helper, rustyline::history::DefaultHistory>::new()
        .context("cannot start the line editor")?;
    ed.set_helper(Some(Helper));
    let history = history_path();
    if let Some(h) = &history {
        let _ = ed.load_history(h);
    }
    let prompt = format!("{}:{}> ", cfg.host, cfg.port);
    loop {
        let line = match ed.readline(&prompt) {
            Ok(l) => l,
            Err(ReadlineError::Interrupted) | Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e).context("cannot read the terminal"),
        };
        let args = match split_args(&line) {
            Ok(a) if a.is_empty() => continue,
            Ok(a) => a,
            Err(e) => {
                println!("Invalid argument(s): {e}");
                continue;
            }
        };
        let _ = ed.add_history_entry(line.as_str());
        let quit = args[0].eq_ignore_ascii_case(b"quit") || args[0].eq_ignore_ascii_case(b"exit");
        if args[0].eq_ignore_ascii_case(b"exit") {
            break;
        }
        if args[0].eq_ignore_ascii_case(b"help") {
            print!("{}", help_text(&args[1..]));
            continue;
        }
        let reply = conn.call(&args)?;
        io::stdout().write_all(&format_reply(&reply, raw))?;
        if quit {
            break;
        }
    }
    if let Some(h) = &history {
        let _ = ed.save_history(h);
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_like_redis_cli() {
        let v = |s: &str| split_args(s).unwrap();
        assert_eq!(
            v("set k  v"),
            vec![b"set".to_vec(), b"k".to_vec(), b"v".to_vec()]
        );
        assert_eq!(
            v(r#"set "a b" "x\n\xff\"""#)[1..],
            [b"a b".to_vec(), b"x\n\xff\"".to_vec()]
        );
        assert!(split_args("echo 'it''s'").is_err());
        assert_eq!(v(r"echo 'it\'s'")[1], b"it's");
        assert_eq!(v("   "), Vec::<Vec<u8>>::new());
        assert!(split_args("echo \"open").is_err());
    }

    #[test]
    fn replies_format_like_redis_cli() {
        let s = |r: Reply, raw| String::from_utf8(format_reply(&r, raw)).unwrap();
        assert_eq!(s(Reply::Status("OK".into()), false), "OK\n");
        assert_eq!(s(Reply::Int(3), false), "(integer) 3\n");
        assert_eq!(s(Reply::Int(3), true), "3\n");
        assert_eq!(s(Reply::Bulk(None), false), "(nil)\n");
        assert_eq!(
            s(Reply::Bulk(Some(b"a\"\n\xff".to_vec())), false),
            "\"a\\\"\\n\\xff\"\n"
        );
        assert_eq!(s(Reply::Error("ERR x".into()), false), "(error) ERR x\n");
        assert_eq!(s(Reply::Array(Some(vec![])), false), "(empty array)\n");
        let arr = Reply::Array(Some(vec![
            Reply::Bulk(Some(b"a".to_vec())),
            Reply::Array(Some(vec![Reply::Int(1), Reply::Bulk(None)])),
        ]));
        assert_eq!(
            s(arr.clone(), false),
            "1) \"a\"\n2) 1) (integer) 1\n   2) (nil)\n"
        );
        assert_eq!(s(arr, true), "a\n1\n\n");
    }

    #[test]
    fn help_comes_from_the_command_table() {
        let h = help_text(&[b"getex".to_vec()]);
        assert!(h.contains("GETEX key [EX seconds"), "{h}");
        assert!(h.contains(
            "summary: Returns the string value of a key after setting its expiration time."
        ));
        assert!(help_text(&[b"nope".to_vec()]).contains("no such command"));
    }

    #[test]
    fn hints_complete_names_and_show_arguments() {
        assert_eq!(hint_for("ge").as_deref(), Some("t"));
        assert_eq!(hint_for("get").as_deref(), Some(" key"));
        let set = crate::kv::cmd::lookup(b"set").unwrap().syntax;
        assert_eq!(hint_for("set ").as_deref(), Some(set));
        assert_eq!(
            hint_for("set k v").as_deref(),
            Some(format!(" {}", &set["key value ".len()..]).as_str())
        );
        assert_eq!(hint_for("incrbyf").as_deref(), Some("loat"));
        assert_eq!(hint_for("get k"), None);
        assert_eq!(hint_for("nosuch "), None);
    }
}
