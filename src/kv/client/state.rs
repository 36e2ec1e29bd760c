//! What the prompt tracks about its connection, as redis-cli does: the
//! selected database (`127.0.0.1:6380[2]>`), a transaction (`(TX)`),
//! subscribed mode and MONITOR, updated from each command and its reply.
//! Pure: commands and replies in, state out, so each rule is a unit test.

use crate::kv::resp::Reply;

/// What the connection is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Commands and replies.
    Normal,
    /// After SUBSCRIBE/PSUBSCRIBE/SSUBSCRIBE: messages arrive at any time.
    Subscribed,
    /// After MONITOR: the server streams every command it runs.
    Monitor,
}

/// The connection's state as the prompt shows it.
#[derive(Debug, Clone)]
pub struct State {
    /// The database the server has selected for us.
    pub db: i64,
    /// The database the user asked for (`-n`, SELECT): selected again
    /// after a reconnect.
    pub want_db: i64,
    /// Inside MULTI.
    pub multi: bool,
    pre_multi_db: i64,
    /// Normal, subscribed or monitoring.
    pub mode: Mode,
    /// Channel and pattern subscriptions, then shard channel ones, as the
    /// server last counted them.
    subs: (i64, i64),
}

fn is(a: Option<&Vec<u8>>, word: &str) -> bool {
    a.is_some_and(|a| a.eq_ignore_ascii_case(word.as_bytes()))
}

/// What a command is, for the prompt.
fn name(args: &[Vec<u8>]) -> String {
    args.first()
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .unwrap_or_default()
}

/// SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE.
pub fn is_subscribe(args: &[Vec<u8>]) -> bool {
    matches!(
        name(args).as_str(),
        "subscribe" | "psubscribe" | "ssubscribe"
    )
}

/// How many pub/sub confirmations answer `args` (one per channel, at least
/// one), or `None` when it is not a (un)subscribe command.
pub fn confirmations(args: &[Vec<u8>]) -> Option<usize> {
    match name(args).as_str() {
        "subscribe" | "psubscribe" | "ssubscribe" | "unsubscribe" | "punsubscribe"
        | "sunsubscribe" => Some(args.len().saturating_sub(1).max(1)),
        _ => None,
    }
}

/// A pub/sub message or confirmation (`message`, `pmessage`, `smessage`,
/// `subscribe`, `unsubscribe`, ...): an array (RESP2) or push (RESP3) of
/// at least three items whose first is a string ending so.
pub fn pubsub_kind(r: &Reply) -> Option<String> {
    let items = r.items()?;
    if items.len() < 3 {
        return None;
    }
    let kind = String::from_utf8_lossy(items[0].bytes()?).to_ascii_lowercase();
    (kind.ends_with("message") || kind.ends_with("subscribe")).then_some(kind)
}

/// Commands whose line is kept out of the history file (passwords), as
/// redis-cli does.
pub fn sensitive(args: &[Vec<u8>]) -> bool {
    let n = args.len();
    let at = |i: usize, w: &str| is(args.get(i), w);
    if at(0, "auth") || (at(0, "acl") && at(1, "setuser")) {
        return true;
    }
    if n > 2 && at(0, "config") && at(1, "set") {
        return ["masterauth", "masteruser", "requirepass"]
            .iter()
            .any(|w| at(2, w));
    }
    if n > 4 && at(0, "hello") {
        return (2..n).any(|j| at(j, "auth"));
    }
    if n > 7 && at(0, "migrate") {
        return (6..n).any(|j| at(j, "auth") || at(j, "auth2"));
    }
    false
}

/// redis-cli's repeat prefix: `3 incr x` runs `incr x` three times.
/// `Err` for a count that is zero, negative or too large.
pub fn repeat(args: &[Vec<u8>]) -> Result<(u64, &[Vec<u8>]), &'static str> {
    if args.len() < 2 || !args[0].iter().all(|c| c.is_ascii_digit() || *c == b'-') {
        return Ok((1, args));
    }
    match std::str::from_utf8(&args[0])
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
    {
        Some(n) if n > 0 => Ok((n as u64, &args[1..])),
        _ => Err("Invalid repeat count (a number of times to run the command, 1 or more)."),
    }
}

impl State {
    /// A fresh connection that will select `db`.
    pub fn new(db: i64) -> State {
        State {
            db: 0,
            want_db: db,
            multi: false,
            pre_multi_db: 0,
            mode: Mode::Normal,
            subs: (0, 0),
        }
    }

    /// The connection is gone: nothing of it remains but the wish for a
    /// database.
    pub fn disconnected(&mut self) {
        *self = State::new(self.want_db);
    }

    /// The prompt: `127.0.0.1:6380[2](TX)> `, `... (subscribed mode)> `,
    /// or `not connected> `.
    pub fn prompt(&self, addr: &str, connected: bool) -> String {
        if !connected {
            return "not connected> ".into();
        }
        let mut p = addr.to_string();
        if self.db != 0 {
            p.push_str(&format!("[{}]", self.db));
        }
        if self.multi {
            p.push_str("(TX)");
        }
        if self.mode == Mode::Subscribed {
            p.push_str("(subscribed mode)");
        }
        p.push_str("> ");
        p
    }

    /// Update after the final reply to `args` (redis-cli's rules: SELECT
    /// and MULTI take effect unless refused, EXEC ends a transaction and an
    /// aborted one (error or nil) undoes a SELECT queued in it, DISCARD
    /// undoes it too, RESET forgets everything).
    pub fn after(&mut self, args: &[Vec<u8>], reply: &Reply) {
        let failed = matches!(reply, Reply::Error(_));
        let n = args.len();
        match name(args).as_str() {
            "select" if n == 2 && !failed => {
                if let Some(db) = std::str::from_utf8(&args[1])
                    .ok()
                    .and_then(|s| s.parse().ok())
                {
                    self.db = db;
                    self.want_db = db;
                }
            }
            "multi" if n == 1 && !failed => {
                self.multi = true;
                self.pre_multi_db = self.db;
            }
            "exec" if n == 1 && self.multi => {
                self.multi = false;
                if failed || matches!(reply, Reply::Array(None) | Reply::Bulk(None)) {
                    self.db = self.pre_multi_db;
                    self.want_db = self.db;
                }
            }
            "discard" if n == 1 && !failed => {
                self.multi = false;
                self.db = self.pre_multi_db;
                self.want_db = self.db;
            }
            "reset" if n == 1 && !failed => {
                *self = State::new(0);
            }
            "monitor" if !failed => self.mode = Mode::Monitor,
            _ => {}
        }
    }

    /// A pub/sub confirmation (`subscribe`, `unsubscribe`, ... with the
    /// count of subscriptions left) arrived: subscribed mode starts with
    /// the first and ends when nothing is left.
    pub fn confirmed(&mut self, r: &Reply) {
        let Some(kind) = pubsub_kind(r) else { return };
        let Some(&Reply::Int(count)) = r.items().and_then(|i| i.get(2)) else {
            return;
        };
        match kind.as_str() {
            "subscribe" | "psubscribe" | "unsubscribe" | "punsubscribe" => self.subs.0 = count,
            "ssubscribe" | "sunsubscribe" => self.subs.1 = count,
            _ => return,
        }
        self.mode = if self.subs == (0, 0) {
            Mode::Normal
        } else {
            Mode::Subscribed
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Vec<Vec<u8>> {
        s.split(' ').map(|w| w.as_bytes().to_vec()).collect()
    }

    fn ok() -> Reply {
        Reply::Status("OK".into())
    }

    const ADDR: &str = "127.0.0.1:6380";

    #[test]
    fn select_and_transactions_show_in_the_prompt() {
        let mut s = State::new(0);
        assert_eq!(s.prompt(ADDR, true), "127.0.0.1:6380> ");
        s.after(&a("select 2"), &ok());
        assert_eq!(s.prompt(ADDR, true), "127.0.0.1:6380[2]> ");
        s.after(
            &a("select 99"),
            &Reply::Error("ERR DB index is out of range".into()),
        );
        assert_eq!(s.db, 2);
        s.after(&a("MULTI"), &ok());
        assert_eq!(s.prompt(ADDR, true), "127.0.0.1:6380[2](TX)> ");
        // A SELECT queued in the transaction shows at once (redis-cli does).
        s.after(&a("select 3"), &Reply::Status("QUEUED".into()));
        assert_eq!(s.prompt(ADDR, true), "127.0.0.1:6380[3](TX)> ");
        s.after(&a("exec"), &Reply::Array(Some(vec![ok()])));
        assert_eq!(s.prompt(ADDR, true), "127.0.0.1:6380[3]> ");
        // An aborted transaction (EXECABORT, or nil after WATCH) undoes it.
        s.after(&a("multi"), &ok());
        s.after(&a("select 5"), &Reply::Status("QUEUED".into()));
        s.after(
            &a("exec"),
            &Reply::Error("EXECABORT Transaction discarded".into()),
        );
        assert_eq!((s.db, s.multi), (3, false));
        s.after(&a("multi"), &ok());
        s.after(&a("select 5"), &Reply::Status("QUEUED".into()));
        s.after(&a("discard"), &ok());
        assert_eq!(s.prompt(ADDR, true), "127.0.0.1:6380[3]> ");
        // A refused MULTI (nested) changes nothing.
        s.after(&a("multi"), &ok());
        s.after(
            &a("multi"),
            &Reply::Error("ERR MULTI calls can not be nested".into()),
        );
        assert!(s.multi);
        s.after(&a("reset"), &Reply::Status("RESET".into()));
        assert_eq!(s.prompt(ADDR, true), "127.0.0.1:6380> ");
        assert_eq!(s.prompt(ADDR, false), "not connected> ");
    }

    #[test]
    fn a_lost_connection_keeps_only_the_wanted_database() {
        let mut s = State::new(4);
        assert_eq!(s.prompt(ADDR, true), "127.0.0.1:6380> ", "until selected");
        s.after(&a("select 4"), &ok());
        s.after(&a("multi"), &ok());
        s.disconnected();
        assert_eq!((s.db, s.want_db, s.multi), (0, 4, false));
    }

    fn push(kind: &str, ch: &str, n: i64) -> Reply {
        Reply::Push(vec![
            Reply::Bulk(Some(kind.as_bytes().to_vec())),
            Reply::Bulk(Some(ch.as_bytes().to_vec())),
            Reply::Int(n),
        ])
    }

    #[test]
    fn subscribed_mode_lasts_while_subscriptions_do() {
        let mut s = State::new(0);
        assert_eq!(confirmations(&a("subscribe a b")), Some(2));
        assert_eq!(confirmations(&a("unsubscribe")), Some(1));
        assert_eq!(confirmations(&a("publish a b")), None);
        s.confirmed(&push("subscribe", "a", 1));
        assert_eq!(s.mode, Mode::Subscribed);
        assert_eq!(s.prompt(ADDR, true), "127.0.0.1:6380(subscribed mode)> ");
        s.confirmed(&push("ssubscribe", "s", 1));
        s.confirmed(&push("unsubscribe", "a", 0));
        assert_eq!(s.mode, Mode::Subscribed, "a shard channel is left");
        // A message is not a confirmation.
        s.confirmed(&Reply::Array(Some(vec![
            Reply::Bulk(Some(b"smessage".to_vec())),
            Reply::Bulk(Some(b"s".to_vec())),
            Reply::Bulk(Some(b"0".to_vec())),
        ])));
        assert_eq!(s.mode, Mode::Subscribed);
        s.confirmed(&push("sunsubscribe", "s", 0));
        assert_eq!(s.mode, Mode::Normal);
        assert_eq!(
            pubsub_kind(&push("pmessage", "p", 0)).as_deref(),
            Some("pmessage")
        );
        assert_eq!(pubsub_kind(&Reply::Array(Some(vec![ok(), ok()]))), None);
    }

    #[test]
    fn passwords_stay_out_of_the_history() {
        assert!(sensitive(&a("AUTH secret")));
        assert!(sensitive(&a("auth user secret")));
        assert!(sensitive(&a("acl setuser bob on >pw")));
        assert!(sensitive(&a("config set requirepass x")));
        assert!(!sensitive(&a("config set maxmemory 1")));
        assert!(sensitive(&a("hello 3 AUTH user pw")));
        assert!(!sensitive(&a("hello 3")));
        assert!(!sensitive(&a("set auth x")));
    }

    #[test]
    fn a_number_first_repeats_the_command() {
        let args = a("3 incr x");
        let (n, rest) = repeat(&args).unwrap();
        assert_eq!((n, rest), (3, &args[1..]));
        let args = a("incr x");
        assert_eq!(repeat(&args).unwrap().0, 1);
        assert!(repeat(&a("0 incr x")).is_err());
        assert!(repeat(&a("-1 incr x")).is_err());
        let one = a("42");
        assert_eq!(
            repeat(&one).unwrap(),
            (1, &one[..]),
            "a lone number is a command"
        );
    }
}
