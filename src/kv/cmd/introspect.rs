//! COMMAND and INFO: the server describing itself from the command table
//! and its counters.

use std::sync::atomic::Ordering;

use super::{CommandSpec, Ctx, LOADING, STALE, all, lookup, lookup_sub, spec};

const G: &str = "server";
const F: u32 = LOADING | STALE;

static COMMAND_SUBS: &[CommandSpec] = &[
    spec(
        "count",
        2,
        F,
        (0, 0, 0),
        G,
        "2.8.13",
        "Returns a count of commands.",
        "",
        command,
    ),
    spec(
        "info",
        -2,
        F,
        (0, 0, 0),
        G,
        "2.8.13",
        "Returns information about one, multiple or all commands.",
        "[command-name [command-name ...]]",
        command,
    ),
    spec(
        "docs",
        -2,
        F,
        (0, 0, 0),
        G,
        "7.0.0",
        "Returns documentary information about one, multiple or all commands.",
        "[command-name [command-name ...]]",
        command,
    ),
    spec(
        "list",
        -2,
        F,
        (0, 0, 0),
        G,
        "7.0.0",
        "Returns a list of command names.",
        "[FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern]",
        command,
    ),
    spec(
        "getkeys",
        -4,
        F,
        (0, 0, 0),
        G,
        "2.8.13",
        "Extracts the key names from an arbitrary command.",
        "command [arg [arg ...]]",
        command,
    ),
    spec(
        "help",
        2,
        F,
        (0, 0, 0),
        G,
        "5.0.0",
        "Returns helpful text about the different subcommands.",
        "",
        command,
    ),
];

/// COMMAND and INFO.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        subcommands: COMMAND_SUBS,
        ..spec(
            "command",
            -1,
            F,
            (0, 0, 0),
            G,
            "2.8.13",
            "Returns detailed information about all commands.",
            "[COUNT|INFO|DOCS|LIST|GETKEYS ...]",
            command,
        )
    },
    spec(
        "info",
        -1,
        F,
        (0, 0, 0),
        G,
        "1.0.0",
        "Returns information and statistics about the server.",
        "[section [section ...]]",
        info,
    ),
];

fn describe(ctx: &mut Ctx<'_>, c: &CommandSpec, parent: Option<&str>) {
    let name = match parent {
        Some(p) => format!("{p}|{}", c.name),
        None => c.name.to_string(),
    };
    ctx.out.array(10);
    ctx.out.bulk(name.as_bytes());
    ctx.out.int(c.arity as i64);
    let flags = c.flag_names();
    ctx.out.set(flags.len());
    for f in flags {
        ctx.out.status(f);
    }
    ctx.out.int(c.keys.0 as i64);
    ctx.out.int(c.keys.1 as i64);
    ctx.out.int(c.keys.2 as i64);
    let t = crate::kv::users::cats::table();
    let cats: Vec<&str> = crate::kv::users::cats::names(t.entries[t.id(c)].cats).collect();
    ctx.out.set(cats.len());
    for cat in cats {
        ctx.out.status(&format!("@{cat}"));
    }
    ctx.out.array(0);
    ctx.out.array(0);
    ctx.out.array(c.subcommands.len());
    for s in c.subcommands {
        describe(ctx, s, Some(c.name));
    }
}

/// One documented argument, from the syntax string.
struct DocArg {
    name: String,
    kind: &'static str,
    token: Option<String>,
    optional: bool,
    multiple: bool,
    /// Each repetition repeats the token too (`GET pattern [GET pattern ...]`).
    multiple_token: bool,
    children: Vec<DocArg>,
}

fn split_top(s: &str, sep: char) -> Vec<String> {
    let (mut out, mut cur, mut depth) = (Vec::new(), String::new(), 0);
    for ch in s.chars() {
        match ch {
            '[' | '<' => depth += 1,
            ']' | '>' => depth -= 1,
            _ => {}
        }
        if ch == sep && depth == 0 {
            if !cur.trim().is_empty() {
                out.push(cur.trim().to_string());
            }
            cur.clear();
        } else {
            cur.push(ch);
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

fn parse_seq(s: &str) -> Vec<DocArg> {
    let words = split_top(s, ' ');
    let mut out: Vec<DocArg> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        if w == "..." || w.ends_with("...]") {
            // `key value [key value ...]` repeats the last two arguments
            // together: one block (Redis's `data`), so clients render it
            // whole, not as `key value [value ...]`.
            let repeated: Vec<&str> = w
                .trim_start_matches('[')
                .trim_end_matches("...]")
                .split_whitespace()
                .collect();
            let k = repeated.len();
            let same = k > 1
                && out.len() >= k
                && out[out.len() - k..]
                    .iter()
                    .zip(&repeated)
                    .all(|(a, r)| a.name == *r && a.token.is_none());
            if same {
                let children = out.split_off(out.len() - k);
                out.push(DocArg {
                    name: "data".into(),
                    kind: "block",
                    token: None,
                    optional: false,
                    multiple: true,
                    multiple_token: false,
                    children,
                });
            } else if let Some(last) = out.last_mut() {
                last.multiple = true;
                last.multiple_token = k == 2
                    && last.token.as_deref() == Some(repeated[0])
                    && last.name == repeated[1];
            }
            i += 1;
            continue;
        }
        if let Some(inner) = w.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
            let mut a = parse_alt(inner);
            a.optional = true;
            out.push(a);
        } else if let Some(inner) = w.strip_prefix('<').and_then(|x| x.strip_suffix('>')) {
            // A required group (`<FROMMEMBER member | FROMLONLAT lon lat>`).
            out.push(parse_alt(inner));
        } else if w.contains('|') {
            out.push(parse_alt(w));
        } else if w.chars().all(|c| c.is_ascii_uppercase() || c == '-')
            && i + 1 < words.len()
            && words[i + 1]
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-')
        {
            out.push(DocArg {
                name: words[i + 1].clone(),
                kind: kind_of(&words[i + 1]),
                token: Some(w.clone()),
                optional: false,
                multiple: false,
                multiple_token: false,
                children: Vec::new(),
            });
            i += 1;
        } else {
            out.push(leaf(w));
        }
        i += 1;
    }
    out
}

fn kind_of(w: &str) -> &'static str {
    if w.contains("key") {
        "key"
    } else if [
        "seconds",
        "milliseconds",
        "offset",
        "start",
        "end",
        "count",
        "index",
        "db",
        "increment",
        "decrement",
        "bit",
        "value",
    ]
    .iter()
    .any(|k| w.contains(k))
        && w != "value"
    {
        "integer"
    } else {
        "string"
    }
}

fn leaf(w: &str) -> DocArg {
    let pure = w.chars().all(|c| c.is_ascii_uppercase() || c == '-');
    DocArg {
        name: w.to_ascii_lowercase(),
        kind: if pure { "pure-token" } else { kind_of(w) },
        token: pure.then(|| w.to_string()),
        optional: false,
        multiple: false,
        multiple_token: false,
        children: Vec::new(),
    }
}

fn parse_alt(s: &str) -> DocArg {
    let alts = split_top(s, '|');
    if alts.len() == 1 {
        let seq = parse_seq(s);
        if seq.len() == 1 {
            return seq.into_iter().next().unwrap_or_else(|| leaf(s));
        }
        return DocArg {
            name: "block".into(),
            kind: "block",
            token: None,
            optional: false,
            multiple: false,
            multiple_token: false,
            children: seq,
        };
    }
    DocArg {
        name: alts
            .iter()
            .map(|a| a.split(' ').next().unwrap_or("").to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join("-"),
        kind: "oneof",
        token: None,
        optional: false,
        multiple: false,
        multiple_token: false,
        children: alts.iter().map(|a| parse_alt(a)).collect(),
    }
}

fn write_arg(ctx: &mut Ctx<'_>, a: &DocArg) {
    let mut n = 2;
    n += a.token.is_some() as usize;
    let flags = a.optional || a.multiple;
    n += flags as usize;
    n += !a.children.is_empty() as usize;
    ctx.out.map(n);
    ctx.out.bulk(b"name");
    ctx.out.bulk(a.name.as_bytes());
    ctx.out.bulk(b"type");
    ctx.out.bulk(a.kind.as_bytes());
    if let Some(t) = &a.token {
        ctx.out.bulk(b"token");
        ctx.out.bulk(t.as_bytes());
    }
    if flags {
        ctx.out.bulk(b"flags");
        ctx.out.array(
            a.optional as usize + a.multiple as usize + (a.multiple && a.multiple_token) as usize,
        );
        if a.optional {
            ctx.out.status("optional");
        }
        if a.multiple {
            ctx.out.status("multiple");
            if a.multiple_token {
                ctx.out.status("multiple_token");
            }
        }
    }
    if !a.children.is_empty() {
        ctx.out.bulk(b"arguments");
        ctx.out.array(a.children.len());
        for c in &a.children {
            write_arg(ctx, c);
        }
    }
}

fn doc(ctx: &mut Ctx<'_>, c: &CommandSpec, parent: Option<&str>) {
    let name = match parent {
        Some(p) => format!("{p}|{}", c.name),
        None => c.name.to_string(),
    };
    ctx.out.bulk(name.as_bytes());
    let args = if c.subcommands.is_empty() {
        parse_seq(c.syntax)
    } else {
        Vec::new()
    };
    let n = 4 + !args.is_empty() as usize + !c.subcommands.is_empty() as usize;
    ctx.out.map(n);
    ctx.out.bulk(b"summary");
    ctx.out.bulk(c.summary.as_bytes());
    ctx.out.bulk(b"since");
    ctx.out.bulk(c.since.as_bytes());
    ctx.out.bulk(b"group");
    ctx.out.bulk(c.group.as_bytes());
    ctx.out.bulk(b"complexity");
    ctx.out.bulk(b"");
    if !args.is_empty() {
        ctx.out.bulk(b"arguments");
        ctx.out.array(args.len());
        for a in &args {
            write_arg(ctx, a);
        }
    }
    if !c.subcommands.is_empty() {
        ctx.out.bulk(b"subcommands");
        ctx.out.map(c.subcommands.len());
        for s in c.subcommands {
            doc(ctx, s, Some(c.name));
        }
    }
}

fn command(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let sub = a
        .get(1)
        .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase());
    match sub.as_deref() {
        None => {
            let cmds: Vec<_> = all().collect();
            ctx.out.array(cmds.len());
            for c in cmds {
                describe(ctx, c, None);
            }
        }
        Some("count") => ctx.out.int(all().count() as i64),
        Some("info") => {
            let names: Vec<&[u8]> = if a.len() > 2 {
                a[2..].to_vec()
            } else {
                all().map(|c| c.name.as_bytes()).collect()
            };
            ctx.out.array(names.len());
            for n in names {
                match find(n) {
                    Some((c, p)) => describe(ctx, c, p),
                    None => ctx.out.null_array(),
                }
            }
        }
        Some("docs") => {
            let found: Vec<_> = if a.len() > 2 {
                a[2..].iter().filter_map(|n| find(n)).collect()
            } else {
                all().map(|c| (c, None)).collect()
            };
            ctx.out.map(found.len());
            for (c, p) in found {
                doc(ctx, c, p);
            }
        }
        Some("list") => command_list(ctx, a),
        Some("getkeys") => getkeys(ctx, &a[2..]),
        _ => super::keys::help(
            ctx,
            &[
                "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "(no subcommand)",
                "    Return details about all Redis commands.",
                "COUNT",
                "    Return the total number of commands in this Redis server.",
                "LIST",
                "    Return a list of all commands in this Redis server.",
                "INFO [<command-name> ...]",
                "    Return details about multiple Redis commands.",
                "DOCS [<command-name> ...]",
                "    Return documentation details about multiple Redis commands.",
                "GETKEYS <full-command>",
                "    Return the keys from a full Redis command.",
                "HELP",
                "    Print this help.",
            ],
        ),
    }
}

/// `get` or `config|get`.
fn find(n: &[u8]) -> Option<(&'static CommandSpec, Option<&'static str>)> {
    let s = std::str::from_utf8(n).ok()?;
    match s.split_once('|') {
        None => lookup(n).map(|c| (c, None)),
        Some((p, sub)) => {
            let parent = lookup(p.as_bytes())?;
            lookup_sub(parent, sub.as_bytes()).map(|c| (c, Some(parent.name)))
        }
    }
}

const DEFAULT: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];

fn cpu_times() -> (f64, f64) {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we own.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return (0.0, 0.0);
    }
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(ru.ru_stime), t(ru.ru_utime))
}

fn info(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    let mut want: Vec<String> = Vec::new();
    let mut everything = false;
    if a.len() == 1 {
        want.extend(DEFAULT.iter().map(|s| s.to_string()));
    }
    for s in &a[1..] {
        let s = String::from_utf8_lossy(s).to_ascii_lowercase();
        match s.as_str() {
            "default" => want.extend(DEFAULT.iter().map(|s| s.to_string())),
            "all" | "everything" => {
                everything = true;
                want.extend(DEFAULT.iter().map(|s| s.to_string()));
                want.push("commandstats".into());
            }
            _ => want.push(s),
        }
    }
    let _ = everything;
    let mut text = String::new();
    let mut done: Vec<String> = Vec::new();
    for sec in want {
        if done.contains(&sec) {
            continue;
        }
        if let Some(body) = section(ctx, &sec) {
            if !text.is_empty() {
                text.push_str("\r\n");
            }
            text.push_str(&body);
        }
        done.push(sec);
    }
    ctx.out.verbatim(text.as_bytes());
}

fn section(ctx: &mut Ctx<'_>, name: &str) -> Option<String> {
    let srv = ctx.srv;
    let st = &srv.stats;
    let up = srv.started.elapsed().as_secs();
    let settings = srv.settings();
    let body = match name {
        "server" => format!(
            "# Server\r\nredis_version:{}\r\nnetkit_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{} {}\r\narch_bits:64\r\nmultiplexing_api:epoll\r\nprocess_id:{}\r\nrun_id:{:040x}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:10\r\nconfigured_hz:10\r\nio_threads_active:0\r\nexecutable:{}\r\nconfig_file:\r\n",
            super::server::REDIS_VERSION,
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH,
            std::process::id(),
            std::process::id() as u128 * 0x9e37_79b9_7f4a_7c15,
            srv.addr.port(),
            crate::kv::store::now_ms() * 1000,
            up,
            up / 86400,
            std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
        ),
        "clients" => format!(
            "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:{}\r\ntracking_clients:{}\r\nclients_in_timeout_table:0\r\n",
            srv.registry.len(),
            srv.cfg.max_conns,
            ctx.ks.space.blocking.len(),
            ctx.ks.space.tracking.clients()
        ),
        "memory" => {
            let used = crate::kv::memory::used() as u64;
            let max = settings.maxmemory;
            format!(
                "# Memory\r\nused_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{}\r\nused_memory_peak:{used}\r\nused_memory_lua:0\r\nmaxmemory:{max}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\nmem_fragmentation_ratio:1.00\r\nmem_not_counted_for_evict:0\r\nmem_allocator:libc\r\nlazyfree_pending_objects:0\r\nnumber_of_cached_scripts:{}\r\n",
                crate::kv::memory::human(used),
                crate::sys::rss_bytes().unwrap_or(used),
                crate::kv::memory::human(max),
                settings.maxmemory_policy,
                ctx.srv.scripts.count()
            )
        }
        "persistence" => {
            let aof = srv.store.aof();
            let broken = aof.and_then(|a| a.broken());
            // BGSAVE is a log compaction here: both flags show it.
            let rewriting = aof.is_some_and(|a| a.rewriting()) as u8;
            format!(
                "# Persistence\r\nloading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{rewriting}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:ok\r\naof_enabled:{}\r\naof_rewrite_in_progress:{rewriting}\r\naof_rewrite_scheduled:0\r\naof_last_bgrewrite_status:ok\r\naof_last_write_status:{}\r\naof_current_size:{}\r\n",
                ctx.ks.space.changes,
                super::server::last_save(ctx),
                aof.is_some() as u8,
                if broken.is_some() { "err" } else { "ok" },
                aof.map_or(0, |a| a.size()),
            )
        }
        "stats" => {
            let k = ctx.ks.space.stats;
            format!(
                "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:0\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\nexpired_keys:{}\r\nevicted_keys:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\nmigrate_cached_sockets:0\r\nclient_output_buffer_limit_disconnections:{}\r\nclient_idle_timeout_disconnections:{}\r\ntracking_total_keys:{}\r\ntracking_total_items:{}\r\ntracking_total_prefixes:{}\r\ntotal_error_replies:{}\r\n",
                st.connections.load(Ordering::Relaxed),
                st.commands.load(Ordering::Relaxed),
                st.net_in.load(Ordering::Relaxed),
                st.net_out.load(Ordering::Relaxed),
                st.rejected.load(Ordering::Relaxed),
                k.expired,
                k.evicted,
                k.hits,
                k.misses,
                ctx.srv.pubsub.channels(crate::kv::pubsub::Kind::Channel, None).len(),
                ctx.srv.pubsub.numpat(),
                st.output_disconnects.load(Ordering::Relaxed),
                st.timeouts.load(Ordering::Relaxed),
                ctx.ks.space.tracking.total_keys(),
                ctx.ks.space.tracking.total_items(),
                ctx.ks.space.tracking.total_prefixes(),
                srv.errors.total(),
            )
        }
        "replication" => "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_replid:0000000000000000000000000000000000000000\r\nmaster_repl_offset:0\r\nrepl_backlog_active:0\r\n".to_string(),
        "cpu" => {
            let (sys, user) = cpu_times();
            format!("# CPU\r\nused_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\nused_cpu_sys_children:0.000000\r\nused_cpu_user_children:0.000000\r\n")
        }
        "modules" => "# Modules\r\n".to_string(),
        "errorstats" => {
            let mut s = "# Errorstats\r\n".to_string();
            for (code, n) in srv.errors.codes() {
                s.push_str(&format!("errorstat_{code}:count={n}\r\n"));
            }
            s
        }
        "cluster" => "# Cluster\r\ncluster_enabled:0\r\n".to_string(),
        "keyspace" => {
            let mut s = "# Keyspace\r\n".to_string();
            for (i, d) in ctx.ks.space.dbs.iter().enumerate() {
                if !d.dict.is_empty() {
                    s.push_str(&format!("db{i}:keys={},expires={},avg_ttl=0\r\n", d.dict.len(), d.expires));
                }
            }
            s
        }
        "commandstats" => {
            let mut s = "# Commandstats\r\n".to_string();
            for (name, [calls, rejected, failed]) in srv.command_calls() {
                s.push_str(&format!(
                    "cmdstat_{name}:calls={calls},usec=0,usec_per_call=0.00,rejected_calls={rejected},failed_calls={failed}\r\n"
                ));
            }
            s
        }
        _ => return None,
    };
    let _ = settings;
    Some(body)
}

/// `COMMAND LIST [FILTERBY MODULE m|ACLCAT c|PATTERN p]`: every command and
/// subcommand (`config|get`) as Redis 7.0 lists them; a pattern matches the
/// full name, ignoring case; no module has commands.
fn command_list(ctx: &mut Ctx<'_>, a: &[&[u8]]) {
    enum Filter {
        All,
        Pattern(Vec<u8>),
        Cats(u32),
        Nothing,
    }
    let filter = match a {
        [_, _] => Filter::All,
        [_, _, by, kind, arg] if super::arg::is(by, "FILTERBY") => {
            if super::arg::is(kind, "PATTERN") {
                Filter::Pattern(arg.to_ascii_lowercase())
            } else if super::arg::is(kind, "ACLCAT") {
                crate::kv::users::cats::by_name(arg).map_or(Filter::Nothing, Filter::Cats)
            } else if super::arg::is(kind, "MODULE") {
                Filter::Nothing
            } else {
                ctx.out.err(super::arg::SYNTAX);
                return;
            }
        }
        _ => {
            ctx.out.err(super::arg::SYNTAX);
            return;
        }
    };
    let names: Vec<&str> = crate::kv::users::cats::table()
        .entries
        .iter()
        .filter(|e| match &filter {
            Filter::All => true,
            Filter::Pattern(p) => crate::kv::glob::glob_match(p, e.fullname.as_bytes()),
            Filter::Cats(bits) => e.cats & bits != 0,
            Filter::Nothing => false,
        })
        .map(|e| e.fullname.as_str())
        .collect();
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(n.as_bytes());
    }
}

/// `COMMAND GETKEYS cmd args...`: where the keys are, found as dispatch
/// finds them (a subcommand's own positions: `MEMORY USAGE key`).
fn getkeys(ctx: &mut Ctx<'_>, argv: &[&[u8]]) {
    let spec = match lookup(argv[0]) {
        Some(c) if !c.subcommands.is_empty() && argv.len() > 1 => super::lookup_sub(c, argv[1]),
        c => c,
    };
    let Some(c) = spec else {
        ctx.out.err("ERR Invalid command specified");
        return;
    };
    if c.keys.0 <= 0 && c.numkeys == 0 && c.getkeys.is_none() {
        ctx.out.err("ERR The command has no key arguments");
        return;
    }
    if !c.arity_ok(argv.len()) {
        ctx.out
            .err("ERR Invalid number of arguments specified for command");
        return;
    }
    let pos = c.key_positions(argv);
    if pos.is_empty() {
        // A script may name no keys (Redis's no_mandatory_keys).
        if matches!(c.name, "eval" | "evalsha" | "eval_ro" | "evalsha_ro") {
            ctx.out.array(0);
        } else {
            ctx.out.err("ERR Invalid arguments specified for command");
        }
        return;
    }
    ctx.out.array(pos.len());
    for p in pos {
        ctx.out.bulk(argv[p]);
    }
}
