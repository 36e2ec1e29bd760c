//! The GEO family through the real `netkit kv serve` binary: a scripted
//! sequence answered as redis-server 7.0 answers it (RESP2 and RESP3, when
//! redis-server is installed), geo sets moved between the two servers as
//! plain sorted sets (the same scores) and through DUMP/RESTORE, and
//! GEOADD / GEOSEARCHSTORE replayed from `--data` after a restart.

mod common;

use std::net::{SocketAddr, TcpStream};

use common::kv::{Resp, temp_path};
use common::redis::Redis;
use common::{PATIENCE, spawn_server};
use netkit::kv::protocol::Reply;

fn dial(addr: SocketAddr) -> Resp {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    Resp { s, buf: Vec::new() }
}

/// Points around Sicily and a few at the edges of the map.
const SETUP: &[&[&str]] = &[
    &[
        "GEOADD",
        "Sicily",
        "13.361389",
        "38.115556",
        "Palermo",
        "15.087269",
        "37.502669",
        "Catania",
    ],
    &[
        "GEOADD",
        "Sicily",
        "CH",
        "12.758489",
        "38.788135",
        "edge1",
        "17.241510",
        "38.788135",
        "edge2",
        "13.583333",
        "37.316667",
        "Agrigento",
    ],
    &[
        "GEOADD",
        "world",
        "180",
        "85.05112878",
        "ne",
        "-180",
        "-85.05112878",
        "sw",
        "0",
        "0",
        "origin",
        "-122.4194",
        "37.7749",
        "sf",
        "139.6917",
        "35.6895",
        "tokyo",
        "-0.1278",
        "51.5074",
        "london",
        "151.2093",
        "-33.8688",
        "sydney",
    ],
    &["ZADD", "odd", "-1", "neg", "1e300", "big", "0.5", "half"],
    &["SET", "str", "x"],
];

const CASES: &[&[&str]] = &[
    &["ZRANGE", "Sicily", "0", "-1", "WITHSCORES"],
    &["GEOPOS", "Sicily", "Palermo", "Catania", "nope", "edge1"],
    &["GEOPOS", "world", "ne", "sw", "origin", "sf", "tokyo"],
    &["GEOPOS", "odd", "neg", "big", "half"],
    &["GEOHASH", "world", "ne", "sw", "origin", "sf", "nope"],
    &["GEOHASH", "odd", "neg", "big", "half"],
    &["GEODIST", "world", "sf", "tokyo"],
    &["GEODIST", "world", "sf", "tokyo", "km"],
    &["GEODIST", "world", "london", "sydney", "MI"],
    &["GEODIST", "world", "london", "sydney", "ft"],
    &["GEODIST", "world", "ne", "sw"],
    &["GEODIST", "world", "sf", "nope"],
    &["GEODIST", "nokey", "a", "b"],
    &["GEODIST", "world", "sf", "tokyo", "parsec"],
    &[
        "GEORADIUS",
        "Sicily",
        "15",
        "37",
        "200",
        "km",
        "WITHDIST",
        "WITHCOORD",
        "WITHHASH",
        "ASC",
    ],
    &[
        "GEORADIUS",
        "Sicily",
        "15",
        "37",
        "200",
        "km",
        "DESC",
        "COUNT",
        "2",
    ],
    &[
        "GEORADIUS",
        "Sicily",
        "15",
        "37",
        "200",
        "km",
        "COUNT",
        "2",
        "ANY",
    ],
    &[
        "GEORADIUS_RO",
        "Sicily",
        "15",
        "37",
        "100",
        "mi",
        "WITHDIST",
    ],
    &[
        "GEORADIUSBYMEMBER",
        "Sicily",
        "Agrigento",
        "100",
        "km",
        "WITHDIST",
    ],
    &[
        "GEORADIUSBYMEMBER_RO",
        "Sicily",
        "Palermo",
        "300",
        "km",
        "WITHCOORD",
        "DESC",
    ],
    &[
        "GEOSEARCH",
        "Sicily",
        "FROMLONLAT",
        "15",
        "37",
        "BYBOX",
        "400",
        "400",
        "km",
        "ASC",
        "WITHCOORD",
        "WITHDIST",
        "WITHHASH",
    ],
    &[
        "GEOSEARCH",
        "Sicily",
        "FROMMEMBER",
        "Palermo",
        "BYRADIUS",
        "250",
        "km",
        "COUNT",
        "3",
        "WITHDIST",
    ],
    &[
        "GEOSEARCH",
        "world",
        "FROMLONLAT",
        "0",
        "0",
        "BYRADIUS",
        "1e9",
        "km",
        "ASC",
        "WITHDIST",
    ],
    &[
        "GEOSEARCH",
        "world",
        "FROMLONLAT",
        "179",
        "84",
        "BYBOX",
        "5000",
        "2000",
        "km",
        "WITHCOORD",
    ],
    &[
        "GEOSEARCH",
        "odd",
        "FROMLONLAT",
        "0",
        "0",
        "BYRADIUS",
        "inf",
        "m",
        "WITHHASH",
    ],
    &[
        "GEOSEARCHSTORE",
        "dst",
        "Sicily",
        "FROMMEMBER",
        "Palermo",
        "BYRADIUS",
        "200",
        "km",
        "STOREDIST",
    ],
    &["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
    &[
        "GEORADIUS",
        "Sicily",
        "15",
        "37",
        "200",
        "km",
        "STORE",
        "dst2",
    ],
    &["ZRANGE", "dst2", "0", "-1", "WITHSCORES"],
    &["GEORADIUS", "Sicily", "15", "37", "1", "m", "STORE", "dst2"],
    &["EXISTS", "dst2"],
    &["TYPE", "dst"],
    // Hostile arguments.
    &["GEOADD", "g", "181", "0", "a"],
    &["GEOADD", "g", "0", "-85.06", "a"],
    &["GEOADD", "g", "1e400", "0", "a"],
    &["GEOADD", "g", "inf", "0", "a"],
    &["GEOADD", "g", "1", "1", "a", "1"],
    &["GEOADD", "g", "NX", "XX", "1", "1", "a"],
    &["GEOADD", "str", "1", "1", "a"],
    &["GEORADIUS", "Sicily", "15", "37", "1e308", "km", "WITHDIST"],
    &["GEORADIUS", "Sicily", "15", "37", "-5", "km"],
    &["GEORADIUS", "Sicily", "15", "37", "5", "furlong"],
    &["GEORADIUS", "Sicily", "15", "37", "5", "km", "COUNT", "0"],
    &["GEORADIUS", "Sicily", "15", "37", "5", "km", "ANY"],
    &[
        "GEORADIUS",
        "Sicily",
        "15",
        "37",
        "5",
        "km",
        "STORE",
        "x",
        "WITHDIST",
    ],
    &[
        "GEORADIUS_RO",
        "Sicily",
        "15",
        "37",
        "5",
        "km",
        "STORE",
        "x",
    ],
    &["GEORADIUSBYMEMBER", "Sicily", "nope", "5", "km"],
    &["GEOSEARCH", "Sicily", "BYRADIUS", "5", "km"],
    &["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2"],
    &[
        "GEOSEARCH",
        "Sicily",
        "FROMLONLAT",
        "1",
        "2",
        "FROMMEMBER",
        "Palermo",
        "BYRADIUS",
        "1",
        "km",
    ],
    &[
        "GEOSEARCH",
        "Sicily",
        "FROMLONLAT",
        "1",
        "2",
        "BYBOX",
        "1",
        "-1",
        "km",
    ],
    &[
        "GEOSEARCHSTORE",
        "d",
        "Sicily",
        "FROMLONLAT",
        "1",
        "2",
        "BYBOX",
        "1",
        "1",
        "km",
        "WITHCOORD",
    ],
    &[
        "GEOSEARCH",
        "str",
        "FROMLONLAT",
        "1",
        "2",
        "BYRADIUS",
        "1",
        "km",
    ],
    &["GEOPOS", "str", "a"],
    &[
        "GEOSEARCH",
        "nokey",
        "FROMMEMBER",
        "x",
        "BYRADIUS",
        "1",
        "km",
    ],
    &["GEOADD", "g"],
];

/// Run the setup and the cases through `call`, each reply in order.
fn script(call: &mut dyn FnMut(&[&str]) -> Reply) -> Vec<Reply> {
    call(&["FLUSHALL"]);
    SETUP.iter().chain(CASES).map(|cmd| call(cmd)).collect()
}

#[test]
fn replies_match_redis_server_in_both_protocols() {
    let Some(redis) = Redis::start() else {
        eprintln!(
            "SKIP replies_match_redis_server_in_both_protocols: no redis-server to compare with"
        );
        return;
    };
    let srv = spawn_server(&["kv", "serve", "0"]);
    for proto in ["2", "3"] {
        let mut r = redis.conn();
        let mut n = dial(srv.addr);
        r.call(&["HELLO", proto]);
        n.call(&["HELLO", proto]);
        let want = script(&mut |a| r.call(a));
        let got = script(&mut |a| n.call(a));
        assert_eq!(want.len(), got.len());
        for ((cmd, w), g) in SETUP.iter().chain(CASES).zip(&want).zip(&got) {
            assert_eq!(w, g, "RESP{proto} {cmd:?}");
        }
    }
}

/// `ZRANGE key 0 -1 WITHSCORES` as a ZADD of the same members and scores.
fn as_zadd(key: &str, range: Reply) -> Vec<String> {
    let Reply::Array(Some(items)) = range else {
        panic!("ZRANGE: {range:?}")
    };
    let mut cmd = vec!["ZADD".to_string(), key.to_string()];
    for pair in items.chunks(2) {
        let text = |r: &Reply| match r {
            Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
            r => panic!("{r:?}"),
        };
        cmd.push(text(&pair[1]));
        cmd.push(text(&pair[0]));
    }
    cmd
}

#[test]
fn geo_sets_move_between_netkit_and_redis_as_sorted_sets() {
    let Some(redis) = Redis::start() else {
        eprintln!("SKIP geo_sets_move_between_netkit_and_redis_as_sorted_sets: no redis-server");
        return;
    };
    let srv = spawn_server(&["kv", "serve", "0"]);
    let mut r = redis.conn();
    let mut n = dial(srv.addr);
    n.call(SETUP[0]);
    r.call(SETUP[2]);
    // Redis's geo set into netkit and netkit's into Redis, as plain sorted
    // sets: the scores are the same geohashes.
    let world = as_zadd(
        "world",
        r.call(&["ZRANGE", "world", "0", "-1", "WITHSCORES"]),
    );
    let world: Vec<&str> = world.iter().map(|s| s.as_str()).collect();
    assert_eq!(n.call(&world), Reply::Int(7));
    let sicily = as_zadd(
        "Sicily",
        n.call(&["ZRANGE", "Sicily", "0", "-1", "WITHSCORES"]),
    );
    let sicily: Vec<&str> = sicily.iter().map(|s| s.as_str()).collect();
    assert_eq!(r.call(&sicily), Reply::Int(2));
    // DUMP/RESTORE (netkit's own payload) keeps a geo set a geo set.
    let Reply::Bulk(Some(payload)) = n.call(&["DUMP", "world"]) else {
        panic!("DUMP")
    };
    n.send(&[b"RESTORE", b"world2", b"0", &payload]);
    assert_eq!(n.reply(), Reply::Status("OK".into()));
    r.call(&["COPY", "world", "world2"]);
    for cmd in [
        &["GEOPOS", "world", "sf", "tokyo", "ne"][..],
        &["GEODIST", "Sicily", "Palermo", "Catania", "km"],
        &[
            "GEOSEARCH",
            "world",
            "FROMMEMBER",
            "london",
            "BYRADIUS",
            "20000",
            "km",
            "ASC",
            "WITHDIST",
        ],
        &["GEOHASH", "Sicily", "Palermo", "Catania"],
        &[
            "GEORADIUS",
            "world2",
            "0",
            "0",
            "1e9",
            "km",
            "ASC",
            "WITHCOORD",
        ],
        &["TYPE", "world2"],
    ] {
        assert_eq!(n.call(cmd), r.call(cmd), "{cmd:?}");
    }
}

#[test]
fn geo_writes_are_replayed_after_a_restart() {
    let path = temp_path("geo-log");
    let p = path.to_str().expect("utf-8 temp path").to_string();
    let srv = spawn_server(&["kv", "serve", "--data", &p, "0"]);
    let mut c = dial(srv.addr);
    for cmd in SETUP {
        c.call(cmd);
    }
    let store = [
        "GEOSEARCHSTORE",
        "near",
        "Sicily",
        "FROMMEMBER",
        "Palermo",
        "BYRADIUS",
        "200",
        "km",
        "STOREDIST",
    ];
    assert_eq!(c.call(&store), Reply::Int(4));
    let radius = ["GEORADIUS", "world", "0", "0", "1e9", "km", "STORE", "all"];
    assert_eq!(
        c.call(&radius),
        Reply::Int(6),
        "ne's score is past 2^52: no cell has it"
    );
    let reads: &[&[&str]] = &[
        &["ZRANGE", "near", "0", "-1", "WITHSCORES"],
        &["ZRANGE", "all", "0", "-1", "WITHSCORES"],
        &["GEOPOS", "Sicily", "Palermo", "Agrigento"],
        &["GEORADIUS_RO", "world", "0", "0", "1e9", "km", "ASC"],
    ];
    let before: Vec<Reply> = reads.iter().map(|cmd| c.call(cmd)).collect();
    drop(c);
    drop(srv);
    let srv = spawn_server(&["kv", "serve", "--data", &p, "0"]);
    let mut c = dial(srv.addr);
    let after: Vec<Reply> = reads.iter().map(|cmd| c.call(cmd)).collect();
    assert_eq!(before, after);
    drop(srv);
}
