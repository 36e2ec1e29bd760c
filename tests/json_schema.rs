//! The JSON schema README.md documents is the one netkit prints: for every
//! example object in README's "JSON output" section, a real run of that
//! subcommand prints an object with the same `event` and exactly the same
//! fields (nested objects included). Shared names (`peer`, `bytes_in`,
//! `bytes_out`, `duration_s`, `end`, `error`) are checked across them.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};

use common::{PATIENCE, Running, run_bounded, run_with_input, spawn_server};
use serde_json::Value;

/// README's examples, by the name in their `<!-- json: NAME -->` marker.
fn documented() -> BTreeMap<String, Vec<Value>> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme
        .find("## JSON output")
        .expect("a JSON output section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let mut out = BTreeMap::new();
    let mut rest = section;
    while let Some(i) = rest.find("<!-- json: ") {
        rest = &rest[i + "<!-- json: ".len()..];
        let name = rest[..rest.find(" -->").expect("marker end")].to_string();
        let block = &rest[rest.find("```json\n").expect("a json block") + 8..];
        let block = &block[..block.find("```").expect("block end")];
        let objects = block
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("README {name}: {e}: {l}")))
            .collect();
        out.insert(name, objects);
    }
    out
}

/// The field names of `v`, nested objects as `outer.inner`.
fn shape(v: &Value) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    if let Value::Object(m) = v {
        for (k, inner) in m {
            keys.insert(k.clone());
            for sub in shape(inner) {
                keys.insert(format!("{k}.{sub}"));
            }
        }
    }
    keys
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Stderr JSON objects of a server until (and with) its summary.
fn until_summary(srv: &mut Running, mut seen: Vec<Value>) -> Vec<Value> {
    while let Some(l) = srv.stderr_line() {
        let v: Value = serde_json::from_str(&l).unwrap_or_else(|_| panic!("not JSON: {l}"));
        let last = v["event"] == "summary";
        seen.push(v);
        if last {
            break;
        }
    }
    seen
}

fn first_json(srv: &Running) -> Value {
    serde_json::from_str(&srv.listening).expect("a JSON listening line")
}

fn serve_tcp() -> Vec<Value> {
    let mut srv = spawn_server(&["serve", "--echo", "--json", "-v", "0"]);
    let first = first_json(&srv);
    let mut c = TcpStream::connect(srv.addr).expect("connect");
    c.set_read_timeout(Some(PATIENCE)).expect("timeout");
    c.write_all(b"hi\n").expect("write");
    let mut b = [0u8; 3];
    c.read_exact(&mut b).expect("echo");
    drop(c);
    let record = srv.wait_stderr("\"connection\"");
    srv.signal(15);
    let seen = until_summary(
        &mut srv,
        vec![first, serde_json::from_str(&record).expect("json")],
    );
    assert!(srv.wait_exit().success());
    seen
}

fn serve_udp() -> Vec<Value> {
    let mut srv = spawn_server(&["serve", "udp", "--echo", "--json", "-v", "0"]);
    let c = UdpSocket::bind("127.0.0.1:0").expect("bind");
    c.set_read_timeout(Some(PATIENCE)).expect("timeout");
    c.send_to(b"hi\n", srv.addr).expect("send");
    let mut b = [0u8; 8];
    c.recv(&mut b).expect("echo");
    srv.signal(15);
    until_summary(&mut srv, vec![])
}

fn serve_error() -> Vec<Value> {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let out = run_bounded(&["serve", "--echo", "--json", &port]);
    assert_eq!(out.status.code(), Some(1));
    let objects = json_lines(&String::from_utf8_lossy(&out.stderr));
    assert_eq!(objects.len(), 1, "one object, and nothing else: {out:?}");
    objects
}

fn connect_ok() -> Vec<Value> {
    let srv = spawn_server(&["serve", "--echo", "0"]);
    let out = run_with_input(&["connect", "--json", &srv.addr.to_string()], b"hi\n");
    assert!(out.status.success());
    json_lines(&String::from_utf8_lossy(&out.stderr))
}

fn refusing() -> (socket2::Socket, SocketAddr) {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("s");
    s.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .expect("bind");
    let a = s.local_addr().expect("addr").as_socket().expect("inet");
    (s, a)
}

fn connect_error() -> Vec<Value> {
    let (_held, addr) = refusing();
    let out = run_bounded(&["connect", "--json", &addr.to_string()]);
    assert_eq!(out.status.code(), Some(3));
    let objects = json_lines(&String::from_utf8_lossy(&out.stderr));
    assert_eq!(objects.len(), 1, "{out:?}");
    assert!(out.stderr.starts_with(b"{"), "only JSON on stderr: {out:?}");
    objects
}

fn probe() -> Vec<Value> {
    let open = TcpListener::bind("127.0.0.1:0").expect("bind");
    let p = open.local_addr().expect("addr").port().to_string();
    let out = run_bounded(&["connect", "-z", "--json", "127.0.0.1", &p]);
    assert!(out.status.success());
    json_lines(&String::from_utf8_lossy(&out.stdout))
}

fn bench() -> Vec<Value> {
    let out = run_bounded(&[
        "bench", "latency", "-t", "200ms", "--warmup", "50ms", "--json",
    ]);
    assert!(out.status.success());
    json_lines(&String::from_utf8_lossy(&out.stdout))
}

fn bench_error() -> Vec<Value> {
    let (_held, addr) = refusing();
    let out = run_bounded(&["bench", "latency", "--json", &addr.to_string()]);
    assert_eq!(out.status.code(), Some(3));
    json_lines(&String::from_utf8_lossy(&out.stdout))
}

fn kv() -> Vec<Value> {
    let mut srv = spawn_server(&["kv", "serve", "--json", "0"]);
    let first = first_json(&srv);
    srv.signal(15);
    until_summary(&mut srv, vec![first])
}

/// A run of a subcommand, returning the JSON objects it printed.
type Run = fn() -> Vec<Value>;

#[test]
fn readme_examples_match_what_each_subcommand_prints() {
    let docs = documented();
    let runs: [(&str, Run); 9] = [
        ("serve", serve_tcp),
        ("serve-udp", serve_udp),
        ("serve-error", serve_error),
        ("connect", connect_ok),
        ("connect-error", connect_error),
        ("probe", probe),
        ("bench", bench),
        ("bench-error", bench_error),
        ("kv", kv),
    ];
    assert_eq!(
        docs.keys().cloned().collect::<BTreeSet<_>>(),
        runs.iter().map(|(n, _)| n.to_string()).collect(),
        "README's examples and this test cover the same runs"
    );
    for (name, run) in runs {
        let real = run();
        for doc in &docs[name] {
            let event = &doc["event"];
            let got = real
                .iter()
                .find(|v| &v["event"] == event)
                .unwrap_or_else(|| panic!("{name}: no {event} object in {real:?}"));
            assert_eq!(
                shape(got),
                shape(doc),
                "{name} {event}: README and a real run differ"
            );
        }
    }
}

#[test]
fn shared_names_mean_the_same_everywhere() {
    let docs = documented();
    for (name, objects) in &docs {
        for v in objects {
            let m = v.as_object().expect("an object");
            for bad in [
                "sent",
                "received",
                "duration_ms",
                "seconds",
                "target",
                "message",
            ] {
                assert!(
                    !m.contains_key(bad),
                    "{name}: '{bad}' where the schema has a name"
                );
            }
            if m.contains_key("error") {
                assert!(
                    m.contains_key("exit_code") && m.contains_key("hint"),
                    "{name}"
                );
            }
            if let Some(d) = m.get("duration_s") {
                assert!(d.is_f64() || d.is_u64(), "{name}: duration_s is seconds");
            }
        }
    }
}
