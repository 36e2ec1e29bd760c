//! `netkit kv`: the arguments of the client and of `kv serve`, and their
//! conversion into [`ClientConfig`] and the server's [`Config`].

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::LogArgs;
use crate::acl::Cidr;
use crate::error;
use crate::kv::client::{ClientConfig, Target};
use crate::kv::logfile::Fsync;
use crate::kv::protocol::Limits;
use crate::kv::shared::{Config, Settings};
use crate::net;
use crate::units::{parse_duration, parse_nonzero_size, parse_size};

/// `netkit kv serve ...` or `netkit kv [OPTIONS] [COMMAND ARGS...]`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, disable_help_subcommand = true)]
#[command(after_help = concat!(
    "Examples:\n",
    "  netkit kv serve                      server on 127.0.0.1:6380, in memory\n",
    "  netkit kv serve --data kv.aof 0      durable, on a free port\n",
    "  netkit kv set greeting 'hello world'\n",
    "  netkit kv get greeting               value on stdout; exit 1 if there is none\n",
    "  netkit kv -x set blob < file.bin     last argument from stdin\n",
    "  netkit kv                            a redis-cli style prompt (on a terminal)\n",
    "  netkit kv -n 2 -s /run/redis.sock    database 2 of a server on a Unix socket\n",
    "  netkit kv subscribe news             print messages as they come, until Ctrl-C\n\n",
    "The prompt: Tab completes command names, grey hints show the arguments still to type,\n",
    "`help`, `help SET` and `help @string` are answered locally. It shows the database\n",
    "(127.0.0.1:6380[2]>), (TX) inside MULTI and `not connected>` when the server is gone;\n",
    "the next command connects again. SUBSCRIBE enters subscribed mode: messages are printed\n",
    "as they arrive, above the line being typed, until Ctrl-C (MONITOR likewise). Every line\n",
    "is saved at once to ~/.netkit_kv_history ($NETKIT_KV_HISTORY; empty: none), except\n",
    "lines with passwords (AUTH, ...). `3 incr n` runs a command 3 times.\n\n",
    "Any command is sent as RESP, so this also talks to redis-server.\n",
    "Output is formatted like redis-cli on a terminal and raw when piped.\n\n",
    exit_codes!()
))]
pub struct KvArgs {
    /// `serve`, or nothing for the client.
    #[command(subcommand)]
    pub serve: Option<KvCommand>,
    /// Client options and the command to send.
    #[command(flatten)]
    pub client: KvClientArgs,
}

/// The kv server subcommands.
#[allow(clippy::large_enum_variant)] // parsed once per run; boxing buys nothing
#[derive(Debug, Subcommand)]
pub enum KvCommand {
    /// Serve a Redis-compatible key-value store (RESP2/RESP3, inline commands) and a line protocol (nc).
    Serve(KvServeArgs),
    /// Check a --data log for damage; --fix repairs it, keeping a backup (like redis-check-aof).
    CheckLog(KvCheckLogArgs),
}

/// `netkit kv check-log FILE [--fix]`.
#[derive(Debug, Args)]
#[command(after_help = concat!(
    "Examples:\n",
    "  netkit kv check-log kv.aof           report torn or corrupt records and their offsets\n",
    "  netkit kv check-log kv.aof --fix     keep kv.aof.bak, drop the damaged records, keep the rest\n\n",
    "Exit status: 0 when the log is clean (or was repaired), 1 when problems remain.\n",
))]
pub struct KvCheckLogArgs {
    /// The log written by `netkit kv serve --data FILE`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Repair: save FILE.bak, then rewrite FILE with only its good records.
    #[arg(long)]
    pub fix: bool,
}

/// `netkit kv` client options.
#[derive(Debug, Args)]
pub struct KvClientArgs {
    /// Server to talk to.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:6380")]
    pub addr: String,
    /// Talk to a server on this Unix socket instead (redis-server's unixsocket).
    #[arg(
        short = 's',
        long = "socket",
        value_name = "PATH",
        conflicts_with = "addr"
    )]
    pub socket: Option<PathBuf>,
    /// Database number to select (SELECT); the prompt shows it, as in 127.0.0.1:6380[2]>.
    #[arg(short = 'n', value_name = "DB", default_value = "0")]
    pub db: i64,
    /// Speak RESP3 (HELLO 3 on connect), as redis-cli -3.
    #[arg(short = '3', long = "resp3")]
    pub resp3: bool,
    /// Print replies raw (bare values), even on a terminal.
    #[arg(long, conflicts_with = "no_raw")]
    pub raw: bool,
    /// Print replies formatted like redis-cli, even when piped.
    #[arg(long)]
    pub no_raw: bool,
    /// Read the last argument from stdin.
    #[arg(short = 'x')]
    pub stdin_last: bool,
    /// The command and its arguments (any command is passed through as RESP).
    #[arg(
        value_name = "COMMAND",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<std::ffi::OsString>,
}

/// When the log is fsynced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FsyncArg {
    /// Before every acknowledgement (batched per round of requests).
    Always,
    /// Once a second.
    Everysec,
    /// Never explicitly; the OS decides.
    No,
}

/// `netkit kv serve` options.
#[derive(Debug, Args)]
#[command(after_help = concat!(
    "Examples:\n",
    "  netkit kv serve                      127.0.0.1:6380, in memory only\n",
    "  netkit kv serve --data kv.aof        every write logged before it is acknowledged\n",
    "  netkit kv serve --data kv.aof --fsync always 7000\n",
    "  netkit kv serve --requirepass s3cret --timeout 300 --deny 127.0.0.2\n",
    "  redis-cli -p 6380 set k v  /  echo PING | nc -q1 127.0.0.1 6380  /  printf 'SET k v w\\nGET k\\n' | nc 127.0.0.1 6380\n\n",
    "Protocols, told apart by a connection's first request: a first byte `*` is RESP (RESP2, or\n",
    "RESP3 after HELLO 3; Redis inline commands are accepted too). Otherwise a first line that\n",
    "starts with SET, GET, DEL or QUIT and ends with a bare LF (printf, echo, nc) starts the line\n",
    "protocol (SET key value -- the value is the rest of the line --, GET key, DEL key, QUIT;\n",
    "bare-line replies); anything else, including a CRLF-ended line, is a Redis inline command\n",
    "(PING, ECHO \"a b\") and the connection speaks RESP from then on.\n\n",
    "Data: strings, hashes, lists, sets and sorted sets with Redis 7.0's commands and replies\n",
    "(COMMAND lists them). Blocking pops (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN BZPOPMAX\n",
    "BZMPOP) wait up to a timeout in seconds (fractions allowed, 0 for ever), first blocked first\n",
    "served; inside MULTI they answer at once.\n\n",
    "Durability: every write is in the log before it is acknowledged or visible; a multi-key write\n",
    "or a transaction is one record, and a served blocking pop one record of the pop it did. A\n",
    "failed append (full disk) is undone and answered with -MISCONF. A torn last record is cut\n",
    "with a warning at start; corruption in the middle refuses to start until `netkit kv check-log\n",
    "FILE --fix`. The log is compacted when it grows past twice its compacted size (and 64MiB), or\n",
    "on BGREWRITEAOF; each collection is then written as HSET/RPUSH/SADD/ZADD ops of 512 items.\n",
    "Ctrl-C or SIGTERM: answer what was received, fsync the log, print a summary."
))]
pub struct KvServeArgs {
    /// Where to listen: PORT, ADDR:PORT or [V6]:PORT (0 picks a free port).
    #[arg(value_name = "[ADDR:]PORT", default_value = "6380")]
    pub addr: String,
    /// Address to bind (default 127.0.0.1; 0.0.0.0 or :: accept other hosts).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// Append every write to this log before acknowledging it; replay it at start.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// When the log is fsynced (with --data).
    #[arg(long, value_enum, default_value = "everysec", requires = "data")]
    pub fsync: FsyncArg,
    /// At most N clients at once; the next one gets an error and is closed.
    #[arg(long, value_name = "N", default_value = "10000", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_conns: u64,
    /// Largest bulk string (a key or value) a client may send.
    #[arg(long, value_name = "SIZE", value_parser = parse_nonzero_size, default_value = "512MiB")]
    pub max_bulk: u64,
    /// Longest line (line protocol) a client may send.
    #[arg(long, value_name = "SIZE", value_parser = parse_nonzero_size, default_value = "64KiB")]
    pub max_line: u64,
    /// Most arguments in one command.
    #[arg(long, value_name = "N", default_value = "1048576", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_args: u64,
    /// Event-loop threads (0: one per core but one, left to the clients; at least one).
    #[arg(long, value_name = "N", default_value = "0")]
    pub threads: usize,
    /// After work, poll this long without sleeping (faster replies, more CPU;
    /// 0: off; only when a core is left over beside the loops).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "50us")]
    pub busy_poll: std::time::Duration,
    /// Number of databases (SELECT 0..N-1).
    #[arg(long, value_name = "N", default_value = "16", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub databases: u64,
    /// Clients must AUTH with this password first (CONFIG SET requirepass changes it).
    #[arg(long, value_name = "PASSWORD")]
    pub requirepass: Option<String>,
    /// Close a client idle this many seconds (0: never).
    #[arg(long, value_name = "SECONDS", default_value = "0")]
    pub timeout: u64,
    /// TCP keepalive probes every SECONDS, to release dead peers (0: off).
    #[arg(long, value_name = "SECONDS", default_value = "300")]
    pub tcp_keepalive: u64,
    /// Disconnect a client whose unsent replies exceed SIZE (0: no limit), with a log line.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "1GiB")]
    pub output_limit: u64,
    /// The same for a client subscribed to pub/sub channels (Redis's pubsub class).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "32MiB")]
    pub pubsub_output_limit: u64,
    /// A script running longer makes other clients' commands answer -BUSY and
    /// SCRIPT KILL may stop it (0: never; CONFIG SET busy-reply-threshold|lua-time-limit MS).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5s")]
    pub busy_reply_threshold: std::time::Duration,
    /// Publish keyspace events of these classes, Redis's letters: K (keyspace
    /// channels) and/or E (keyevent channels) with g $ l s h z x e t m d n or
    /// A (all but m and n), e.g. KEA (CONFIG SET notify-keyspace-events changes it).
    #[arg(long, value_name = "FLAGS", value_parser = parse_notify_flags)]
    pub notify_keyspace_events: Option<u32>,
    /// Memory limit, as Redis reads it (100mb, 1gb, bytes; 0: none): past it
    /// keys are evicted by --maxmemory-policy, or (noeviction) commands that
    /// grow memory get -OOM. Counted as Redis does: the heap's bytes.
    #[arg(long, value_name = "BYTES", default_value = "0", value_parser = parse_maxmemory)]
    pub maxmemory: u64,
    /// What to evict past --maxmemory: noeviction, allkeys-lru,
    /// allkeys-random, volatile-lru, volatile-random, volatile-ttl
    /// (allkeys-lfu and volatile-lfu evict as LRU: netkit counts no accesses).
    #[arg(long, value_name = "POLICY", default_value = "noeviction", value_parser = parse_policy)]
    pub maxmemory_policy: &'static str,
    /// Admit only clients in this network (CIDR or address; repeatable).
    #[arg(long, value_name = "CIDR", help_heading = "Access")]
    pub allow: Vec<Cidr>,
    /// Refuse clients in this network (CIDR or address; repeatable; wins over --allow).
    #[arg(long, value_name = "CIDR", help_heading = "Access")]
    pub deny: Vec<Cidr>,
    /// Read --allow networks from FILE, one per line, `#` comments.
    #[arg(long, value_name = "FILE", help_heading = "Access")]
    pub allow_file: Vec<PathBuf>,
    /// Read --deny networks from FILE, one per line, `#` comments.
    #[arg(long, value_name = "FILE", help_heading = "Access")]
    pub deny_file: Vec<PathBuf>,
    #[command(flatten)]
    pub log: LogArgs,
    #[command(flatten)]
    pub tls: super::tls::TlsServerArgs,
}

/// `--maxmemory`: Redis's memory units.
fn parse_maxmemory(s: &str) -> std::result::Result<u64, String> {
    crate::kv::memory::parse_size(s.as_bytes())
        .ok_or_else(|| "expected bytes, or a number with k, kb, m, mb, g or gb".to_string())
}

/// `--maxmemory-policy`: one of Redis's policies.
fn parse_policy(s: &str) -> std::result::Result<&'static str, String> {
    let all = crate::kv::shared::MAXMEMORY_POLICIES;
    all.iter()
        .find(|p| p.eq_ignore_ascii_case(s))
        .copied()
        .ok_or_else(|| format!("expected one of {}", all.join(", ")))
}

/// `--notify-keyspace-events`: Redis's flag letters, or Redis's error.
fn parse_notify_flags(s: &str) -> std::result::Result<u32, String> {
    crate::kv::notify::parse(s.as_bytes()).ok_or_else(|| crate::kv::notify::BAD_FLAGS.to_string())
}

impl TryFrom<KvClientArgs> for ClientConfig {
    type Error = anyhow::Error;

    fn try_from(a: KvClientArgs) -> Result<ClientConfig> {
        use std::os::unix::ffi::OsStringExt;
        let target = match a.socket {
            Some(path) => Target::Unix(path),
            None => match net::split_host_port(&a.addr)? {
                (host, Some(p)) => Target::Tcp {
                    host,
                    port: net::parse_port(&p)?,
                },
                (_, None) => {
                    return Err(error::usage(format!(
                        "--addr '{}' needs a port, e.g. 127.0.0.1:6380",
                        a.addr
                    )));
                }
            },
        };
        if a.db < 0 {
            return Err(error::usage(format!(
                "-n {}: a database number is 0 or more",
                a.db
            )));
        }
        Ok(ClientConfig {
            target,
            db: a.db,
            resp3: a.resp3,
            raw: if a.raw {
                Some(true)
            } else if a.no_raw {
                Some(false)
            } else {
                None
            },
            stdin_last: a.stdin_last,
            args: a.command.into_iter().map(|s| s.into_vec()).collect(),
        })
    }
}

impl KvServeArgs {
    /// The address to bind: `[ADDR:]PORT` with `--bind`, loopback by default.
    pub fn listen_addr(&self) -> Result<SocketAddr> {
        net::listen_addr(&self.addr, self.bind.as_deref())
    }

    /// When the log is fsynced.
    pub fn fsync(&self) -> Fsync {
        match self.fsync {
            FsyncArg::Always => Fsync::Always,
            FsyncArg::Everysec => Fsync::EverySec,
            FsyncArg::No => Fsync::No,
        }
    }
}

impl TryFrom<&KvServeArgs> for Config {
    type Error = anyhow::Error;

    fn try_from(a: &KvServeArgs) -> Result<Config> {
        let size = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        Ok(Config {
            limits: Limits {
                max_line: size(a.max_line),
                max_bulk: size(a.max_bulk),
                max_args: size(a.max_args),
            },
            max_conns: size(a.max_conns),
            threads: a.threads,
            busy_poll: a.busy_poll,
            databases: size(a.databases),
            data: a.data.clone(),
            acl: super::serve::acl_of(&a.allow, &a.deny, &a.allow_file, &a.deny_file)?,
            settings: Settings {
                requirepass: a.requirepass.clone().map(String::into_bytes),
                timeout: a.timeout,
                tcp_keepalive: a.tcp_keepalive,
                output_limit: a.output_limit,
                pubsub_output_limit: a.pubsub_output_limit,
                busy_reply_ms: a.busy_reply_threshold.as_millis() as u64,
                maxmemory: a.maxmemory,
                maxmemory_policy: a.maxmemory_policy,
            },
            log: (&a.log).into(),
            tls: a.tls.build(&a.bind.iter().cloned().collect::<Vec<_>>())?,
            notify_keyspace_events: a.notify_keyspace_events.unwrap_or(0),
        })
    }
}
