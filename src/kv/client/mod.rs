//! `netkit kv [COMMAND ARGS...]`: a redis-cli for netkit (or any RESP
//! server). One command from the arguments, one per line from a piped
//! stdin, or a prompt on a terminal (`repl`).
//!
//! - `conn`: the connection (TCP or a Unix socket) and its replies.
//! - `format`: replies as redis-cli prints them, or raw.
//! - `help`: `help`, hints and Tab completion from the command table;
//!   `docs` reads a server's COMMAND DOCS into the same entries.
//! - `state`: database, transaction and subscribed mode, for the prompt.
//! - `repl`: the prompt; `link`: its connection (connect, wait, loss).
//!
//! A one-shot SUBSCRIBE or MONITOR prints what arrives until the server
//! closes or Ctrl-C, as redis-cli does.

pub mod conn;
mod docs;
pub mod format;
pub mod help;
mod link;
pub mod repl;
pub mod state;

use std::io::{self, BufRead, IsTerminal, Read, Write};

use anyhow::{Context, Result, anyhow, bail};

pub use conn::{Conn, Target};
pub use format::{format_reply, quote, show_reply};

use crate::kv::resp::Reply;

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Where the server is.
    pub target: Target,
    /// `-n`: the database to select.
    pub db: i64,
    /// `-3`: switch to RESP3 (HELLO 3) on connect.
    pub resp3: bool,
    /// Raw output (`Some(true)`), redis-cli formatting (`Some(false)`), or
    /// raw exactly when stdout is not a terminal (`None`), like redis-cli.
    pub raw: Option<bool>,
    /// `-x`: read the last argument from stdin.
    pub stdin_last: bool,
    /// The command; empty for a prompt (terminal) or commands from stdin.
    pub args: Vec<Vec<u8>>,
}

/// Run the client. Ok(false): the command got a nil or error reply (exit 1).
pub fn run(cfg: &ClientConfig) -> Result<bool> {
    let raw = cfg.raw.unwrap_or(!io::stdout().is_terminal());
    if cfg.args.is_empty() {
        if cfg.stdin_last {
            bail!("-x needs a command, e.g. netkit kv -x set key < file");
        }
        if io::stdin().is_terminal() {
            return repl::run(cfg);
        }
        let mut conn = connect(cfg)?;
        return from_stdin(&mut conn, raw);
    }
    if cfg.args[0].eq_ignore_ascii_case(b"help") && !cfg.stdin_last {
        // Answered locally, as redis-cli does (`redis-cli help set`).
        let text = help::Help::builtin().text(&cfg.args[1..]);
        let text = if io::stdout().is_terminal() {
            text
        } else {
            strip_sgr(&text)
        };
        print!("{text}");
        return Ok(true);
    }
    let mut args = cfg.args.clone();
    if cfg.stdin_last {
        let mut last = Vec::new();
        io::stdin()
            .read_to_end(&mut last)
            .context("cannot read stdin")?;
        args.push(last);
    }
    let mut conn = connect(cfg)?;
    let reply = conn.call(&args)?;
    let streams = state::is_subscribe(&args) || args[0].eq_ignore_ascii_case(b"monitor");
    if streams && !matches!(reply, Reply::Error(_)) {
        return stream(&mut conn, &args, reply, raw);
    }
    print_reply(&args, &reply, raw)
}

/// Connect, then `-3` and `-n`.
fn connect(cfg: &ClientConfig) -> Result<Conn> {
    let mut conn = Conn::open(&cfg.target)?;
    if cfg.resp3 {
        if let Reply::Error(e) = conn.call(&[b"HELLO".to_vec(), b"3".to_vec()])? {
            bail!("HELLO 3 failed: {e}");
        }
    }
    if cfg.db != 0 {
        let select = [b"SELECT".to_vec(), cfg.db.to_string().into_bytes()];
        if let Reply::Error(e) = conn.call(&select)? {
            bail!("SELECT {} failed: {e}", cfg.db);
        }
    }
    Ok(conn)
}

fn print_reply(args: &[Vec<u8>], reply: &Reply, raw: bool) -> Result<bool> {
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
            out.write_all(&show_reply(args, r, raw))?;
            out.flush()?;
            Ok(true)
        }
    }
}

/// SUBSCRIBE or MONITOR from the command line: every reply as it comes,
/// flushed at once (grep-friendly), until the server closes.
fn stream(conn: &mut Conn, args: &[Vec<u8>], first: Reply, raw: bool) -> Result<bool> {
    if !raw && state::is_subscribe(args) {
        println!("Reading messages... (press Ctrl-C to quit)");
    }
    let mut out = io::stdout().lock();
    let mut reply = first;
    loop {
        out.write_all(&show_reply(&[], &reply, raw))?;
        out.flush()?;
        reply = match conn.read_reply() {
            Ok(r) => r,
            Err(_) if conn.closed() => return Err(anyhow!("the server closed the connection")),
            Err(e) => return Err(e),
        };
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
        all_ok &= print_reply(&args, &reply, raw)?;
    }
    Ok(all_ok)
}

/// `text` without its SGR sequences (colours), for a pipe.
fn strip_sgr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("\x1b[") {
        out.push_str(&rest[..at]);
        let seq = &rest[at + 2..];
        match seq.find('m') {
            Some(end) => rest = &seq[end + 1..],
            None => rest = "",
        }
    }
    out.push_str(rest);
    out
}

/// Split a typed line into arguments like redis-cli (the server's inline
/// splitter: same quoting rules).
pub fn split_args(line: &str) -> Result<Vec<Vec<u8>>, String> {
    crate::kv::protocol::split_args(line.as_bytes())
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
    fn colours_come_off_for_a_pipe() {
        assert_eq!(
            strip_sgr("\n  \x1b[1mGET\x1b[0m \x1b[90mkey\x1b[0m\n"),
            "\n  GET key\n"
        );
        assert_eq!(strip_sgr("plain"), "plain");
    }

    #[test]
    fn targets_name_themselves_like_redis_cli_prompts() {
        let tcp = |h: &str| Target::Tcp {
            host: h.into(),
            port: 6380,
        };
        assert_eq!(tcp("127.0.0.1").to_string(), "127.0.0.1:6380");
        assert_eq!(tcp("::1").to_string(), "[::1]:6380");
        assert_eq!(
            Target::Unix("/tmp/r.sock".into()).to_string(),
            "unix:/tmp/r.sock"
        );
    }
}
