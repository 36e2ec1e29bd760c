use super::{NIL, OK, T, bulk, int};

#[test]
fn eval_converts_both_ways_as_redis() {
    let mut t = T::new();
    assert_eq!(t.r(&["EVAL", "return 100.5", "0"]), int(100));
    assert_eq!(t.r(&["EVAL", "return 'hello'", "0"]), bulk("hello"));
    assert_eq!(t.r(&["EVAL", "return true", "0"]), int(1));
    assert_eq!(t.r(&["EVAL", "return false", "0"]), NIL);
    assert_eq!(t.r(&["EVAL", "return {ok='fine'}", "0"]), "+fine\r\n");
    assert_eq!(
        t.r(&["EVAL", "return {err='My Error'}", "0"]),
        "-My Error\r\n"
    );
    assert_eq!(
        t.r(&["EVAL", "return {1,2,3,'ciao',{1,2}}", "0"]),
        "*5\r\n:1\r\n:2\r\n:3\r\n$4\r\nciao\r\n*2\r\n:1\r\n:2\r\n"
    );
    assert_eq!(t.r(&["EVAL", "return {1,nil,3}", "0"]), "*1\r\n:1\r\n");
    assert_eq!(
        t.r(&[
            "EVAL",
            "return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}",
            "2",
            "a",
            "b",
            "c",
            "d"
        ]),
        "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"
    );
    t.r(&["SET", "x", "0"]);
    assert_eq!(
        t.r(&[
            "EVAL",
            "local v = redis.pcall('incr', KEYS[1]) return {type(v), v}",
            "1",
            "x"
        ]),
        "*2\r\n$6\r\nnumber\r\n:1\r\n"
    );
    assert_eq!(
        t.r(&["EVAL", "return {type(redis.call('get', 'nokey'))}", "0"]),
        "*1\r\n$7\r\nboolean\r\n"
    );
    assert_eq!(
        t.r(&["EVAL", "return redis.pcall('incr', 'x', 'y')['err']", "0"]),
        bulk("ERR Wrong number of args calling Redis command from script")
    );
    // RESP3 inside the script: a boolean comes back as a boolean.
    assert!(t.r(&["HELLO", "3"]).starts_with("%7"));
    assert_eq!(
        t.r(&["EVAL", "redis.setresp(3) return true", "0"]),
        "#t\r\n"
    );
}

#[test]
fn errors_name_the_script_and_line() {
    let mut t = T::new();
    let sha = crate::kv::script::sha1hex(b"return a");
    assert_eq!(
        t.r(&["EVAL", "return a", "0"]),
        format!(
            "-ERR user_script:1: Script attempted to access nonexistent global variable 'a' script: {sha}, on @user_script:1.\r\n"
        )
    );
    assert!(
        t.r(&["EVAL", "a = 1", "0"])
            .contains("Attempt to modify a readonly table")
    );
    assert!(
        t.r(&["EVAL", "redis.call = nil", "0"])
            .contains("Attempt to modify a readonly table")
    );
    assert!(
        t.r(&["EVAL", "loadfile('x')", "0"])
            .contains("nonexistent global variable 'loadfile'")
    );
    assert!(
        t.r(&["EVAL", "return os.time()", "0"])
            .contains("nonexistent global variable 'os'")
    );
    assert!(
        t.r(&["EVAL", "return (", "0"])
            .starts_with("-ERR Error compiling script (new function): user_script:1:")
    );
    assert!(
        t.r(&["EVAL", "return redis.call('nosuch')", "0"])
            .starts_with("-ERR Unknown Redis command called from script")
    );
    assert!(
        t.r(&["EVAL", "return redis.call('multi')", "0"])
            .starts_with("-ERR This Redis command is not allowed from script")
    );
    assert_eq!(
        t.r(&["EVAL", "return 1", "-1"]),
        "-ERR Number of keys can't be negative\r\n"
    );
    assert_eq!(
        t.r(&["EVAL", "return 1", "2", "a"]),
        "-ERR Number of keys can't be greater than number of args\r\n"
    );
    assert!(
        t.r(&["EVAL_RO", "redis.call('set', 'k', 'v')", "0"])
            .starts_with("-ERR Write commands are not allowed from read-only scripts.")
    );
}

#[test]
fn script_cache_and_evalsha() {
    let mut t = T::new();
    let sha = crate::kv::script::sha1hex(b"return 'hi'");
    assert_eq!(
        t.r(&["EVALSHA", &sha, "0"]),
        "-NOSCRIPT No matching script. Please use EVAL.\r\n"
    );
    assert_eq!(t.r(&["SCRIPT", "LOAD", "return 'hi'"]), bulk(&sha));
    assert_eq!(t.r(&["EVALSHA", &sha.to_uppercase(), "0"]), bulk("hi"));
    assert_eq!(
        t.r(&["SCRIPT", "EXISTS", &sha, "ffff"]),
        "*2\r\n:1\r\n:0\r\n"
    );
    assert_eq!(t.r(&["SCRIPT", "FLUSH"]), OK);
    assert_eq!(t.r(&["SCRIPT", "EXISTS", &sha]), "*1\r\n:0\r\n");
    assert_eq!(
        t.r(&["SCRIPT", "KILL"]),
        "-NOTBUSY No scripts in execution right now.\r\n"
    );
    assert_eq!(
        t.r(&["EVAL", "return redis.sha1hex('')", "0"]),
        bulk("da39a3ee5e6b4b0d3255bfef95601890afd80709")
    );
    assert_eq!(t.r(&["EVAL", "return bit.bxor(5, 3)", "0"]), int(6));
}

#[test]
fn select_inside_a_script_stays_there() {
    let mut t = T::new();
    t.r(&["SET", "k", "db0"]);
    assert_eq!(
        t.r(&[
            "EVAL",
            "redis.call('select', 1) return redis.call('set', 'k', 'db1')",
            "0"
        ]),
        OK
    );
    assert_eq!(t.r(&["GET", "k"]), bulk("db0"));
    t.r(&["SELECT", "1"]);
    assert_eq!(t.r(&["GET", "k"]), bulk("db1"));
}

#[test]
fn subscribe_mode_and_its_replies() {
    let mut t = T::new();
    assert_eq!(
        t.r(&["SUBSCRIBE", "a", "b"]),
        "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
    );
    assert_eq!(t.r(&["PING"]), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    assert_eq!(
        t.r(&["GET", "k"]),
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
    let mut other = T::client(&t.sh);
    assert_eq!(
        other.r(&["PUBSUB", "NUMSUB", "a", "z"]),
        "*4\r\n$1\r\na\r\n:1\r\n$1\r\nz\r\n:0\r\n"
    );
    assert_eq!(other.r(&["PUBLISH", "a", "hi"]), int(1));
    assert_eq!(t.r(&["RESET"]), "+RESET\r\n");
    assert_eq!(other.r(&["PUBLISH", "a", "hi"]), int(0));
    assert_eq!(
        t.r(&["UNSUBSCRIBE"]),
        "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"
    );
    assert_eq!(
        t.r(&["PUNSUBSCRIBE"]),
        "*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n"
    );
}

#[test]
fn redis_call_takes_as_many_arguments_as_lua_can_pass() {
    let mut t = T::new();
    // Redis's "Script check unpack with massive arguments": 7,999 numbers.
    let script =
        "local a = {} for i=1,7999 do a[i] = 1 end return redis.call('lpush', 'l', unpack(a))";
    assert_eq!(t.r(&["EVAL", script, "0"]), int(7999));
    // Strings too (each used to become an mlua reference, and those ran out).
    let script =
        "local a = {} for i=1,7999 do a[i] = 'v'..i end return redis.call('rpush', 'm', unpack(a))";
    assert_eq!(t.r(&["EVAL", script, "0"]), int(7999));
    assert_eq!(t.r(&["LINDEX", "m", "7998"]), bulk("v7999"));
    assert!(
        t.r(&["EVAL", "return redis.call('set', 'k', {})", "0"])
            .starts_with("-ERR Lua redis lib command arguments must be strings or integers")
    );
    assert_eq!(
        t.r(&["EVAL", "return redis.pcall()", "0"]),
        "-ERR Please specify at least one argument for this redis lib call\r\n"
    );
    assert_eq!(
        t.r(&["EVAL", "return {pcall(redis.call, 'nosuch')}", "0"]),
        "*2\r\n$-1\r\n$44\r\nERR Unknown Redis command called from script\r\n"
    );
    t.r(&["EVAL", "return redis.call('set', 'f', 0.1)", "0"]);
    assert_eq!(t.r(&["GET", "f"]), bulk("0.10000000000000001"));
}

#[test]
fn many_cached_scripts_do_not_exhaust_lua() {
    let mut t = T::new();
    // Each compiled script used to hold an mlua reference of its own; at
    // about 8,000 mlua panicked and took the server down.
    let mut last = String::new();
    for i in 0..9000 {
        last = t.r(&["SCRIPT", "LOAD", &format!("return {i}")]);
    }
    let sha = last.lines().nth(1).unwrap_or_default().to_string();
    assert_eq!(t.r(&["EVALSHA", &sha, "0"]), int(8999));
    assert_eq!(t.r(&["EVAL", "return 1", "0"]), int(1));
}
