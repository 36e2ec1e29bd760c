use super::{OK, T, bulk, int};

#[test]
fn flush_and_dbsize() {
    let mut t = T::new();
    t.r(&["MSET", "a", "1", "b", "2"]);
    t.r(&["SELECT", "1"]);
    t.r(&["SET", "c", "3"]);
    assert_eq!(t.r(&["DBSIZE"]), int(1));
    assert_eq!(t.r(&["FLUSHDB"]), OK);
    assert_eq!(t.r(&["DBSIZE"]), int(0));
    t.r(&["SELECT", "0"]);
    assert_eq!(t.r(&["DBSIZE"]), int(2));
    assert_eq!(t.r(&["FLUSHALL", "ASYNC"]), OK);
    assert_eq!(t.r(&["FLUSHALL", "NOW"]), "-ERR syntax error\r\n");
    assert_eq!(t.r(&["DBSIZE"]), int(0));
    assert_eq!(t.r(&["FUNCTION", "FLUSH"]), OK);
}

#[test]
fn time_info_config_debug() {
    let mut t = T::new();
    let r = t.r(&["TIME"]);
    assert!(r.starts_with("*2\r\n$10\r\n"), "{r}");
    t.r(&["SET", "k", "v", "EX", "100"]);
    let info = t.r(&["INFO"]);
    for field in [
        "redis_version:7.0",
        "connected_clients:",
        "used_memory:",
        "aof_enabled:0",
        "total_commands_processed:",
        "keyspace_hits:",
        "role:master",
        "used_cpu_user:",
        "db0:keys=1,expires=1,avg_ttl=0",
    ] {
        assert!(info.contains(field), "INFO lacks {field}");
    }
    assert!(!info.contains("rejected_calls"));
    let cpu = t.r(&["INFO", "cpu"]);
    assert!(cpu.contains("used_cpu_user") && !cpu.contains("used_memory"));
    assert!(
        t.r(&["INFO", "commandstats"])
            .contains("cmdstat_set:calls=1,")
    );
    assert!(t.r(&["INFO", "everything"]).contains("rejected_calls"));
    assert_eq!(
        t.r(&["CONFIG", "GET", "databases"]),
        "*2\r\n$9\r\ndatabases\r\n$2\r\n16\r\n"
    );
    assert_eq!(
        t.r(&["CONFIG", "GET", "appendf*"]),
        "*4\r\n$11\r\nappendfsync\r\n$8\r\neverysec\r\n$14\r\nappendfilename\r\n$0\r\n\r\n"
    );
    assert_eq!(t.r(&["CONFIG", "SET", "timeout", "30"]), OK);
    assert_eq!(
        t.r(&["CONFIG", "GET", "timeout"]),
        "*2\r\n$7\r\ntimeout\r\n$2\r\n30\r\n"
    );
    assert_eq!(
        t.r(&["CONFIG", "SET", "nosuch", "1"]),
        "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"
    );
    assert!(
        t.r(&["CONFIG", "SET", "databases", "3"])
            .contains("can't set immutable config")
    );
    // Several at once: all or none; a name twice is refused.
    assert_eq!(
        t.r(&["CONFIG", "SET", "timeout", "5", "TIMEOUT", "6"]),
        "-ERR CONFIG SET failed (possibly related to argument 'timeout') - duplicate parameter\r\n"
    );
    assert!(
        t.r(&["CONFIG", "SET", "timeout", "7", "maxmemory", "x"])
            .starts_with("-ERR")
    );
    assert_eq!(
        t.r(&["CONFIG", "GET", "timeout"]),
        "*2\r\n$7\r\ntimeout\r\n$2\r\n30\r\n"
    );
    assert_eq!(t.r(&["DEBUG", "SLEEP", "0"]), OK);
    assert_eq!(
        t.r(&["DEBUG", "PROTOCOL", "bignum"]),
        bulk("1234567999999999999999999999999999999")
    );
    assert_eq!(
        t.r(&["DEBUG", "PROTOCOL", "map"]),
        "*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n"
    );
    t.r(&["HELLO", "3"]);
    assert_eq!(
        t.r(&["DEBUG", "PROTOCOL", "map"]),
        "%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n"
    );
    assert_eq!(t.r(&["DEBUG", "PROTOCOL", "double"]), ",3.141\r\n");
    assert!(t.r(&["DEBUG", "PROTOCOL", "push"]).starts_with(">2\r\n"));
    assert!(t.r(&["DEBUG", "PROTOCOL", "attrib"]).starts_with("|1\r\n"));
    t.r(&["HELLO", "2"]);
    assert_eq!(t.r(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), OK);
    assert!(
        t.r(&["DEBUG", "NOPE"])
            .starts_with("-ERR Unknown subcommand")
    );
    assert!(
        t.r(&["BGREWRITEAOF"])
            .starts_with("-ERR no append-only file")
    );
}

#[test]
fn command_introspection_comes_from_the_table() {
    let mut t = T::new();
    let n = crate::kv::cmd::all().count();
    assert_eq!(t.r(&["COMMAND", "COUNT"]), int(n as i64));
    let info = t.r(&["COMMAND", "INFO", "get", "nosuch"]);
    assert!(
        info.starts_with(
            "*2\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n"
        ),
        "{info}"
    );
    assert!(info.ends_with("*-1\r\n"));
    let docs = t.r(&["COMMAND", "DOCS", "set"]);
    assert!(
        docs.contains("$7\r\nsummary\r\n")
            && docs.contains("$9\r\narguments\r\n")
            && docs.contains("+optional\r\n"),
        "{docs}"
    );
    assert_eq!(
        t.r(&["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"]),
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
    // A subcommand's keys; a script with none; no keys where some must be.
    let one_key = "*1\r\n$3\r\nkey\r\n";
    assert_eq!(
        t.r(&["COMMAND", "GETKEYS", "MEMORY", "USAGE", "key"]),
        one_key
    );
    assert_eq!(
        t.r(&["COMMAND", "GETKEYS", "XGROUP", "CREATE", "key", "g", "$"]),
        one_key
    );
    assert_eq!(
        t.r(&["COMMAND", "GETKEYS", "EVAL", "return 1", "0"]),
        "*0\r\n"
    );
    assert_eq!(
        t.r(&["COMMAND", "GETKEYS", "ZUNION", "0", "a"]),
        "-ERR Invalid arguments specified for command\r\n"
    );
    assert_eq!(
        t.r(&["COMMAND", "GETKEYS", "CONFIG", "GET", "x"]),
        "-ERR The command has no key arguments\r\n"
    );
    let list = t.r(&["COMMAND", "LIST"]);
    assert!(list.contains(&bulk("lcs")) && list.contains(&bulk("config|get")));
    let config = t.r(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "CONFIG*"]);
    assert!(config.starts_with("*6\r\n") && config.contains(&bulk("config|resetstat")));
    let hash = t.r(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "hash"]);
    assert!(
        hash.starts_with("*16\r\n") && hash.contains(&bulk("hrandfield")),
        "{hash}"
    );
    for none in [["ACLCAT", "nope"], ["MODULE", "m"]] {
        assert_eq!(
            t.r(&["COMMAND", "LIST", "FILTERBY", none[0], none[1]]),
            "*0\r\n"
        );
    }
    assert_eq!(
        t.r(&["COMMAND", "LIST", "FILTERBY", "NAME", "x"]),
        "-ERR syntax error\r\n"
    );
    assert!(t.r(&["COMMAND"]).starts_with(&format!("*{n}\r\n")));
    // Every entry is complete and unique.
    let mut names = std::collections::HashSet::new();
    for c in crate::kv::cmd::all() {
        assert!(names.insert(c.name), "{} twice", c.name);
        assert!(!c.summary.is_empty() && c.arity != 0, "{}", c.name);
        assert_eq!(c.name, c.name.to_ascii_lowercase());
    }
}

#[test]
fn command_docs_read_back_like_redis_cli_gives_the_table_syntax() {
    // redis-cli builds its hints from COMMAND DOCS; read ours the same way
    // (the client's reader follows redis-cli's cliConcatArguments) and
    // every command's hint must be its documented syntax.
    use crate::kv::client::help::Help;
    use crate::kv::resp::parse_reply;
    let mut t = T::new();
    let wire = t.bytes(&[b"COMMAND", b"DOCS"]);
    let (reply, _) = parse_reply(&wire, &Default::default())
        .expect("parses")
        .expect("whole");
    let docs = Help::from_docs(&reply).expect("a docs map");
    for c in crate::kv::cmd::all() {
        if c.subcommands.is_empty() {
            let hint = docs.hint(&format!("{} ", c.name)).unwrap_or_default();
            // A required group (`<M|KM|FT|MI>`) reads back unmarked, as
            // redis-cli prints a required oneof or block.
            let syntax = c.syntax.replace(['<', '>'], "");
            assert_eq!(hint, syntax, "COMMAND DOCS of {}", c.name);
        }
        for s in c.subcommands {
            let hint = docs
                .hint(&format!("{} {} ", c.name, s.name))
                .unwrap_or_default();
            assert_eq!(hint, s.syntax, "COMMAND DOCS of {} {}", c.name, s.name);
        }
    }
    assert_eq!(
        docs.hint("mset ").as_deref(),
        Some("key value [key value ...]")
    );
    assert_eq!(
        docs.hint("config set ").as_deref(),
        Some("parameter value [parameter value ...]")
    );
}

#[test]
fn cluster_answers_as_a_non_cluster_redis() {
    let mut t = T::new();
    let off = "-ERR This instance has cluster support disabled\r\n";
    assert_eq!(t.r(&["CLUSTER", "INFO"]), off);
    assert_eq!(t.r(&["cluster", "reset", "hard"]), off);
    assert_eq!(t.r(&["CLUSTER", "KEYSLOT", "k"]), off);
    assert_eq!(
        t.r(&["CLUSTER", "NOPE"]),
        "-ERR unknown subcommand 'NOPE'. Try CLUSTER HELP.\r\n"
    );
    assert_eq!(
        t.r(&["CLUSTER", "INFO", "x"]),
        "-ERR wrong number of arguments for 'cluster|info' command\r\n"
    );
    // RESET is noscript, INFO is not: a script gets Redis's two errors.
    assert!(
        t.r(&["EVAL", "return redis.call('cluster', 'reset', 'hard')", "0"])
            .starts_with("-ERR This Redis command is not allowed from script")
    );
    assert!(
        t.r(&["EVAL", "return redis.pcall('cluster', 'info')", "0"])
            .starts_with("-ERR This instance has cluster support disabled")
    );
    let info = t.r(&["COMMAND", "INFO", "cluster|reset"]);
    assert!(info.contains("+noscript\r\n"), "{info}");
}

#[test]
fn commandstats_count_rejected_and_failed_calls() {
    let mut t = T::new();
    t.r(&["CONFIG", "RESETSTAT"]);
    t.r(&["GET"]); // wrong arity: rejected
    t.r(&["SET", "s", "abc"]);
    t.r(&["INCR", "s"]); // ran, answered an error: failed
    t.r(&["INCR"]);
    t.r(&["EVAL", "return redis.call('incr','s')", "0"]);
    t.r(&["EVAL", "return redis.call('get')", "0"]);
    let stats = t.r(&["INFO", "commandstats"]);
    for line in [
        "cmdstat_get:calls=0,usec=0,usec_per_call=0.00,rejected_calls=2,failed_calls=0",
        "cmdstat_set:calls=1,usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=0",
        "cmdstat_incr:calls=2,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=2",
        "cmdstat_eval:calls=2,usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=2",
    ] {
        assert!(stats.contains(line), "{line} not in {stats}");
    }
    t.r(&["CONFIG", "RESETSTAT"]);
    assert!(!t.r(&["INFO", "commandstats"]).contains("cmdstat_get"));
}

#[test]
fn errorstats_count_each_error_once_in_scripts_and_exec() {
    let mut t = T::new();
    t.r(&["SET", "s", "abc"]);
    let errors = |t: &mut T| {
        let stats = t.r(&["INFO", "errorstats"]);
        let total = t.r(&["INFO", "stats"]);
        let total = total
            .lines()
            .find_map(|l| l.strip_prefix("total_error_replies:"))
            .map(str::to_owned);
        (stats, total)
    };
    // A command error a script raises, catches, or returns: counted once,
    // when the command failed.
    for script in [
        "return redis.call('incr','s')",
        "local t = redis.pcall('incr','s'); return t['err']",
        "return redis.pcall('incr','s')",
    ] {
        t.r(&["CONFIG", "RESETSTAT"]);
        t.r(&["EVAL", script, "0"]);
        let (stats, total) = errors(&mut t);
        assert!(
            stats.contains("errorstat_ERR:count=1\r\n"),
            "{script}: {stats}"
        );
        assert_eq!(total.as_deref(), Some("1"), "{script}");
    }
    // The script's own error counts when it is answered.
    t.r(&["CONFIG", "RESETSTAT"]);
    t.r(&["EVAL", "return redis.error_reply('MY_ERR custom')", "0"]);
    assert!(errors(&mut t).0.contains("errorstat_MY_ERR:count=1\r\n"));
    // Each error inside EXEC's reply counts.
    t.r(&["CONFIG", "RESETSTAT"]);
    t.r(&["MULTI"]);
    t.r(&["INCR", "s"]);
    t.r(&["EVAL", "return redis.call('incr','s')", "0"]);
    t.r(&["GET", "s"]);
    t.r(&["EXEC"]);
    let (stats, total) = errors(&mut t);
    assert!(stats.contains("errorstat_ERR:count=2\r\n"), "{stats}");
    assert_eq!(total.as_deref(), Some("2"));
}
