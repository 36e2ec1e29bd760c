//! The geo family against redis-server 7.0's replies (captured from a real
//! server): scores, positions, distances and searches in both protocols,
//! the STORE forms, and hostile arguments (bad coordinates, huge or
//! negative radii, COUNT 0, wrong types).

use super::{NIL, NIL_ARRAY, T, WT, arr, bulk, int};

const INVALID: &str = "-ERR invalid longitude,latitude pair";

fn sicily(t: &mut T) {
    assert_eq!(
        t.r(&[
            "GEOADD",
            "Sicily",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania"
        ]),
        int(2)
    );
}

/// `[[member, dist], ...]` as RESP2 text.
fn with_dist(items: &[(&str, &str)]) -> String {
    let mut s = format!("*{}\r\n", items.len());
    for (m, d) in items {
        s.push_str(&format!("*2\r\n{}{}", bulk(m), bulk(d)));
    }
    s
}

#[test]
fn geoadd_stores_redis_scores_in_a_zset() {
    let mut t = T::new();
    sicily(&mut t);
    assert_eq!(
        t.r(&["ZRANGE", "Sicily", "0", "-1", "WITHSCORES"]),
        arr(&["Palermo", "3479099956230698", "Catania", "3479447370796909"])
    );
    assert_eq!(t.r(&["TYPE", "Sicily"]), "+zset\r\n");
    // NX / XX / CH are ZADD's.
    assert_eq!(
        t.r(&["GEOADD", "Sicily", "NX", "1", "1", "Palermo", "2", "2", "X"]),
        int(1)
    );
    assert_eq!(
        t.r(&[
            "GEOADD", "Sicily", "XX", "CH", "1", "1", "Palermo", "2", "2", "Y"
        ]),
        int(1)
    );
    assert_eq!(t.r(&["ZSCORE", "Sicily", "Y"]), NIL);
    assert_eq!(
        t.r(&["GEOADD", "Sicily", "CH", "1", "1", "Palermo"]),
        int(0)
    );
    // Extreme corners are valid.
    assert_eq!(
        t.r(&[
            "GEOADD",
            "w",
            "180",
            "85.05112878",
            "ne",
            "-180",
            "-85.05112878",
            "sw"
        ]),
        int(2)
    );
    assert_eq!(
        t.r(&["GEOPOS", "w", "ne", "sw"]),
        format!(
            "*2\r\n*2\r\n{}{}*2\r\n{}{}",
            bulk("180"),
            bulk("85.0511287799999991"),
            bulk("-179.99999731779098511"),
            bulk("-85.05112751263942528")
        )
    );
}

#[test]
fn geoadd_refuses_bad_arguments_before_writing() {
    let mut t = T::new();
    assert_eq!(
        t.r(&["GEOADD", "g", "1", "1", "a", "200", "100", "b"]),
        format!("{INVALID} 200.000000,100.000000\r\n")
    );
    assert_eq!(t.r(&["EXISTS", "g"]), int(0), "nothing added");
    assert_eq!(
        t.r(&["GEOADD", "g", "0", "85.06", "a"]),
        format!("{INVALID} 0.000000,85.060000\r\n")
    );
    assert_eq!(
        t.r(&["GEOADD", "g", "-inf", "0", "a"]),
        format!("{INVALID} -inf,0.000000\r\n")
    );
    assert_eq!(
        t.r(&["GEOADD", "g", "1e999", "0", "a"]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(
        t.r(&["GEOADD", "g", "nan", "0", "a"]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(
        t.r(&["GEOADD", "g", "1", "1", "a", "2"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        t.r(&["GEOADD", "g", "NX", "XX", "1", "1", "a"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        t.r(&["GEOADD", "g", "NX", "CH", "CH"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        t.r(&["GEOADD", "g", "GT", "1", "1"]),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(
        t.r(&["GEOADD", "g", "1", "1"]),
        "-ERR wrong number of arguments for 'geoadd' command\r\n"
    );
    t.r(&["SET", "s", "x"]);
    assert_eq!(t.r(&["GEOADD", "s", "1", "1", "a"]), WT);
}

#[test]
fn positions_hashes_and_distances() {
    let mut t = T::new();
    sicily(&mut t);
    assert_eq!(
        t.r(&["GEOHASH", "Sicily", "Palermo", "Catania", "nope"]),
        format!("*3\r\n{}{}{NIL}", bulk("sqc8b49rny0"), bulk("sqdtr74hyu0"))
    );
    assert_eq!(
        t.r(&["GEOPOS", "Sicily", "Palermo", "nope"]),
        format!(
            "*2\r\n*2\r\n{}{}{NIL_ARRAY}",
            bulk("13.36138933897018433"),
            bulk("38.11555639549629859")
        )
    );
    assert_eq!(t.r(&["GEOPOS", "none", "a"]), format!("*1\r\n{NIL_ARRAY}"));
    assert_eq!(t.r(&["GEOHASH", "Sicily"]), "*0\r\n");
    assert_eq!(
        t.r(&["GEODIST", "Sicily", "Palermo", "Catania"]),
        bulk("166274.1516")
    );
    assert_eq!(
        t.r(&["GEODIST", "Sicily", "Palermo", "Catania", "KM"]),
        bulk("166.2742")
    );
    assert_eq!(
        t.r(&["GEODIST", "Sicily", "Palermo", "Catania", "mi"]),
        bulk("103.3182")
    );
    assert_eq!(
        t.r(&["GEODIST", "Sicily", "Palermo", "Palermo"]),
        bulk("0.0000")
    );
    assert_eq!(t.r(&["GEODIST", "Sicily", "Palermo", "x"]), NIL);
    assert_eq!(t.r(&["GEODIST", "none", "a", "b"]), NIL);
    assert_eq!(
        t.r(&["GEODIST", "Sicily", "Palermo", "Catania", "yd"]),
        "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"
    );
    assert_eq!(
        t.r(&["GEODIST", "Sicily", "a", "b", "km", "x"]),
        "-ERR syntax error\r\n"
    );
    // RESP3: coordinates are doubles, distances stay strings.
    t.resp3();
    assert_eq!(
        t.r(&["GEOPOS", "Sicily", "Palermo", "nope"]),
        "*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n"
    );
    assert_eq!(
        t.r(&["GEODIST", "Sicily", "Palermo", "Catania"]),
        bulk("166274.1516")
    );
    assert_eq!(t.r(&["GEODIST", "none", "a", "b"]), "_\r\n");
    t.r(&["SET", "s", "x"]);
    assert_eq!(t.r(&["GEOPOS", "s", "a"]), WT);
    assert_eq!(t.r(&["GEOHASH", "s", "a"]), WT);
    assert_eq!(t.r(&["GEODIST", "s", "a", "b"]), WT);
}

#[test]
fn searches_answer_like_redis() {
    let mut t = T::new();
    sicily(&mut t);
    assert_eq!(
        t.r(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST"]),
        with_dist(&[("Palermo", "190.4424"), ("Catania", "56.4413")])
    );
    assert_eq!(
        t.r(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "ASC",
            "COUNT",
            "1"
        ]),
        arr(&["Catania"])
    );
    assert_eq!(
        t.r(&[
            "GEOSEARCH",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "400",
            "400",
            "km",
            "DESC",
            "WITHHASH"
        ]),
        "*2\r\n*2\r\n$7\r\nPalermo\r\n:3479099956230698\r\n*2\r\n$7\r\nCatania\r\n:3479447370796909\r\n"
    );
    assert_eq!(
        t.r(&[
            "GEOSEARCH",
            "Sicily",
            "FROMMEMBER",
            "Palermo",
            "BYRADIUS",
            "100",
            "km",
            "WITHCOORD"
        ]),
        format!(
            "*1\r\n*2\r\n{}*2\r\n{}{}",
            bulk("Palermo"),
            bulk("13.36138933897018433"),
            bulk("38.11555639549629859")
        )
    );
    assert_eq!(
        t.r(&[
            "GEORADIUSBYMEMBER_RO",
            "Sicily",
            "Palermo",
            "200",
            "km",
            "WITHDIST",
            "ASC"
        ]),
        with_dist(&[("Palermo", "0.0000"), ("Catania", "166.2742")])
    );
    // A missing source: an empty array.
    assert_eq!(
        t.r(&[
            "GEOSEARCH",
            "none",
            "FROMMEMBER",
            "x",
            "BYRADIUS",
            "1",
            "km"
        ]),
        "*0\r\n"
    );
    assert_eq!(
        t.r(&["GEORADIUSBYMEMBER", "none", "x", "1", "km"]),
        "*0\r\n"
    );
    assert_eq!(t.r(&["GEORADIUS", "Sicily", "0", "0", "1", "m"]), "*0\r\n");
    // Huge radii reach the whole world once per member.
    assert_eq!(
        t.r(&["GEORADIUS", "Sicily", "-170", "-80", "1e300", "km"]),
        arr(&["Palermo", "Catania"])
    );
    assert_eq!(
        t.r(&["GEORADIUS", "Sicily", "-170", "-80", "inf", "km"]),
        arr(&["Palermo", "Catania"])
    );
    assert_eq!(
        t.r(&[
            "GEOSEARCH",
            "Sicily",
            "FROMLONLAT",
            "0",
            "0",
            "BYBOX",
            "inf",
            "inf",
            "m"
        ]),
        arr(&["Palermo", "Catania"])
    );
    t.resp3();
    assert_eq!(
        t.r(&[
            "GEOSEARCH",
            "Sicily",
            "FROMMEMBER",
            "Catania",
            "BYRADIUS",
            "1",
            "km",
            "WITHCOORD",
            "WITHDIST"
        ]),
        "*1\r\n*3\r\n$7\r\nCatania\r\n$6\r\n0.0000\r\n*2\r\n,15.08726745843887329\r\n,37.50266842333162032\r\n"
    );
}

#[test]
fn search_errors_are_redis_texts() {
    let mut t = T::new();
    sicily(&mut t);
    let e = |t: &mut T, a: &[&str]| t.r(a);
    assert_eq!(
        e(
            &mut t,
            &["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "0"]
        ),
        "-ERR COUNT must be > 0\r\n"
    );
    assert_eq!(
        e(
            &mut t,
            &[
                "GEORADIUS",
                "Sicily",
                "15",
                "37",
                "200",
                "km",
                "COUNT",
                "-3"
            ]
        ),
        "-ERR COUNT must be > 0\r\n"
    );
    assert_eq!(
        e(
            &mut t,
            &["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "x"]
        ),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        e(
            &mut t,
            &["GEORADIUS", "Sicily", "15", "37", "200", "km", "ANY"]
        ),
        "-ERR the ANY argument requires COUNT argument\r\n"
    );
    assert_eq!(
        e(&mut t, &["GEORADIUS", "Sicily", "15", "37", "-1", "km"]),
        "-ERR radius cannot be negative\r\n"
    );
    assert_eq!(
        e(&mut t, &["GEORADIUS", "Sicily", "15", "37", "1e999", "km"]),
        "-ERR need numeric radius\r\n"
    );
    assert_eq!(
        e(&mut t, &["GEORADIUS", "Sicily", "15", "37", "1", "yards"]),
        "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"
    );
    assert_eq!(
        e(&mut t, &["GEORADIUS", "Sicily", "181", "37", "1", "km"]),
        format!("{INVALID} 181.000000,37.000000\r\n")
    );
    assert_eq!(
        e(&mut t, &["GEORADIUSBYMEMBER", "Sicily", "nope", "1", "km"]),
        "-ERR could not decode requested zset member\r\n"
    );
    assert_eq!(
        e(
            &mut t,
            &[
                "GEORADIUS_RO",
                "Sicily",
                "15",
                "37",
                "1",
                "km",
                "STORE",
                "d"
            ]
        ),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        e(
            &mut t,
            &[
                "GEORADIUS",
                "Sicily",
                "15",
                "37",
                "1",
                "km",
                "STORE",
                "d",
                "WITHCOORD"
            ]
        ),
        "-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"
    );
    assert_eq!(
        e(
            &mut t,
            &[
                "GEOSEARCHSTORE",
                "d",
                "Sicily",
                "FROMMEMBER",
                "Palermo",
                "BYRADIUS",
                "1",
                "km",
                "WITHHASH"
            ]
        ),
        "-ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"
    );
    assert_eq!(
        e(
            &mut t,
            &[
                "GEOSEARCH",
                "Sicily",
                "BYRADIUS",
                "1",
                "km",
                "ASC",
                "WITHDIST"
            ]
        ),
        "-ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH\r\n"
    );
    assert_eq!(
        e(
            &mut t,
            &[
                "geosearch",
                "Sicily",
                "FROMLONLAT",
                "1",
                "1",
                "ASC",
                "WITHDIST"
            ]
        ),
        "-ERR exactly one of BYRADIUS and BYBOX can be specified for geosearch\r\n"
    );
    assert_eq!(
        e(
            &mut t,
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "1",
                "1",
                "FROMMEMBER",
                "Palermo",
                "BYRADIUS",
                "1",
                "km"
            ]
        ),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        e(
            &mut t,
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "1",
                "1",
                "BYBOX",
                "1",
                "-1",
                "km"
            ]
        ),
        "-ERR height or width cannot be negative\r\n"
    );
    assert_eq!(
        e(
            &mut t,
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "1",
                "1",
                "BYBOX",
                "w",
                "1",
                "km"
            ]
        ),
        "-ERR need numeric width\r\n"
    );
    assert_eq!(
        e(
            &mut t,
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "1",
                "1",
                "BYRADIUS",
                "1",
                "km",
                "STOREDIST"
            ]
        ),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        e(
            &mut t,
            &[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "1",
                "1",
                "BYRADIUS",
                "1",
                "km",
                "STORE",
                "d"
            ]
        ),
        "-ERR syntax error\r\n"
    );
    t.r(&["SET", "s", "x"]);
    // The type is checked before the arguments.
    assert_eq!(e(&mut t, &["GEORADIUS", "s", "999", "37", "1", "km"]), WT);
    assert_eq!(
        e(
            &mut t,
            &[
                "GEOSEARCHSTORE",
                "d",
                "s",
                "FROMLONLAT",
                "1",
                "1",
                "BYRADIUS",
                "1",
                "km"
            ]
        ),
        WT
    );
}

#[test]
fn stores_write_a_sorted_set_or_delete() {
    let mut t = T::new();
    sicily(&mut t);
    assert_eq!(
        t.r(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d"]),
        int(2)
    );
    assert_eq!(
        t.r(&["ZRANGE", "d", "0", "-1", "WITHSCORES"]),
        arr(&["Palermo", "3479099956230698", "Catania", "3479447370796909"])
    );
    assert_eq!(
        t.r(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "STORE",
            "d",
            "STOREDIST",
            "e"
        ]),
        int(2)
    );
    assert_eq!(
        t.r(&["ZRANGE", "e", "0", "-1", "WITHSCORES"]),
        arr(&[
            "Catania",
            "56.441257870158204",
            "Palermo",
            "190.44242984775784"
        ])
    );
    assert_eq!(
        t.r(&[
            "GEOSEARCHSTORE",
            "f",
            "Sicily",
            "FROMMEMBER",
            "Palermo",
            "BYRADIUS",
            "200",
            "km",
            "COUNT",
            "1",
            "STOREDIST"
        ]),
        int(1)
    );
    assert_eq!(
        t.r(&["ZRANGE", "f", "0", "-1", "WITHSCORES"]),
        arr(&["Palermo", "0"])
    );
    // The source may be the destination.
    assert_eq!(
        t.r(&[
            "GEOSEARCHSTORE",
            "Sicily",
            "Sicily",
            "FROMMEMBER",
            "Palermo",
            "BYRADIUS",
            "1",
            "km"
        ]),
        int(1)
    );
    assert_eq!(t.r(&["ZCARD", "Sicily"]), int(1));
    // Nothing found, or no source: the destination is deleted.
    t.r(&["SET", "g", "old"]);
    assert_eq!(
        t.r(&[
            "GEOSEARCHSTORE",
            "g",
            "Sicily",
            "FROMLONLAT",
            "0",
            "0",
            "BYRADIUS",
            "1",
            "km"
        ]),
        int(0)
    );
    assert_eq!(t.r(&["EXISTS", "g"]), int(0));
    t.r(&["SET", "g", "old"]);
    assert_eq!(
        t.r(&["GEORADIUSBYMEMBER", "none", "x", "1", "km", "STORE", "g"]),
        int(0)
    );
    assert_eq!(t.r(&["EXISTS", "g"]), int(0));
}

#[test]
fn count_any_and_order() {
    let mut t = T::new();
    let mut args = vec!["GEOADD".to_string(), "pts".to_string()];
    for i in 0..20 {
        args.push(format!("{}", i as f64 * 0.01));
        args.push("0".into());
        args.push(format!("p{i}"));
    }
    let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    assert_eq!(t.r(&a), int(20));
    assert_eq!(
        t.r(&[
            "GEOSEARCH",
            "pts",
            "FROMLONLAT",
            "0.1",
            "0",
            "BYRADIUS",
            "3",
            "km",
            "COUNT",
            "3"
        ]),
        arr(&["p10", "p9", "p11"])
    );
    assert_eq!(
        t.r(&[
            "GEOSEARCH",
            "pts",
            "FROMLONLAT",
            "0.1",
            "0",
            "BYRADIUS",
            "3",
            "km",
            "COUNT",
            "3",
            "DESC"
        ]),
        arr(&["p12", "p8", "p11"])
    );
    // ANY stops at the first COUNT found, in score order, unsorted.
    let any = t.r(&[
        "GEOSEARCH",
        "pts",
        "FROMLONLAT",
        "0.1",
        "0",
        "BYRADIUS",
        "3000",
        "km",
        "COUNT",
        "2",
        "ANY",
    ]);
    assert_eq!(any, arr(&["p0", "p1"]));
    // A huge COUNT is no allocation.
    assert_eq!(
        t.r(&[
            "GEOSEARCH",
            "pts",
            "FROMLONLAT",
            "0",
            "0",
            "BYRADIUS",
            "1",
            "m",
            "COUNT",
            "9223372036854775807"
        ]),
        arr(&["p0"])
    );
}

#[test]
fn scores_not_made_by_geoadd_still_decode() {
    let mut t = T::new();
    t.r(&[
        "ZADD", "z", "-1", "neg", "1e300", "big", "0", "zero", "inf", "i",
    ]);
    // As x86-64's C conversion to u64: -1 is all ones (the north-east
    // corner, clamped), 1e300 and inf are 0 (the south-west corner).
    let corner = |lon: &str, lat: &str| format!("*2\r\n{}{}", bulk(lon), bulk(lat));
    let ne = corner("180", "85.0511287799999991");
    let sw = corner("-179.99999731779098511", "-85.05112751263942528");
    assert_eq!(
        t.r(&["GEOPOS", "z", "neg", "big", "zero", "i"]),
        format!("*4\r\n{ne}{sw}{sw}{sw}")
    );
    assert_eq!(
        t.r(&["GEOHASH", "z", "zero", "neg"]),
        arr(&["00bh0hbj200", "bp05b5048p0"])
    );
    // Searches scan score ranges: only scores in [0, 2^52) are seen.
    assert_eq!(
        t.r(&[
            "GEOSEARCH",
            "z",
            "FROMLONLAT",
            "0",
            "0",
            "BYRADIUS",
            "inf",
            "m"
        ]),
        arr(&["zero"])
    );
}

/// The keyspace events in `t`'s outbox, as `event key` strings.
fn events(t: &mut T) -> Vec<String> {
    use crate::kv::shared::Msg;
    t.outbox()
        .into_iter()
        .filter_map(|(_, m)| match m {
            Msg::Push(_, m) if m.channel.starts_with(b"__keyevent") => Some(format!(
                "{} {}",
                String::from_utf8_lossy(
                    &m.channel[m.channel.iter().position(|&c| c == b':')? + 1..]
                ),
                String::from_utf8_lossy(&m.payload)
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn keyspace_events_are_redis_events() {
    let mut t = T::new();
    let mut sub = T::client_on(&t.sh, 1);
    sub.r(&["PSUBSCRIBE", "__keyevent*"]);
    t.r(&["CONFIG", "SET", "notify-keyspace-events", "Ezg"]);
    sicily(&mut t);
    assert_eq!(events(&mut t), ["zadd Sicily"]);
    // Nothing changed: no event.
    t.r(&["GEOADD", "Sicily", "NX", "1", "1", "Palermo"]);
    assert!(events(&mut t).is_empty());
    t.r(&[
        "GEOSEARCHSTORE",
        "d",
        "Sicily",
        "FROMMEMBER",
        "Palermo",
        "BYRADIUS",
        "1",
        "km",
    ]);
    assert_eq!(events(&mut t), ["geosearchstore d"]);
    t.r(&[
        "GEORADIUS",
        "Sicily",
        "15",
        "37",
        "200",
        "km",
        "STOREDIST",
        "d",
    ]);
    assert_eq!(events(&mut t), ["georadiusstore d"]);
    t.r(&["GEORADIUS", "Sicily", "0", "0", "1", "km", "STORE", "d"]);
    assert_eq!(events(&mut t), ["del d"]);
    t.r(&["GEORADIUS", "Sicily", "0", "0", "1", "km", "STORE", "d"]);
    assert!(events(&mut t).is_empty(), "nothing to delete");
}
