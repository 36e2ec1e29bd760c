//! `serve --chat`: lines from each client to all the others.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};

use common::{PATIENCE, spawn_server};

/// A chat client that has read its welcome line (so it is in the room).
struct Client {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
    addr: SocketAddr,
}

impl Client {
    fn join(server: SocketAddr) -> Client {
        Client::join_with(TcpStream::connect(server).expect("connect"))
    }

    fn join_with(stream: TcpStream) -> Client {
        stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
        let addr = stream.local_addr().expect("local");
        let mut c = Client {
            reader: BufReader::new(stream.try_clone().expect("clone")),
            stream,
            addr,
        };
        let welcome = c.line();
        assert!(
            welcome.starts_with(&format!("*** welcome {addr}")),
            "{welcome}"
        );
        c
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.reader.read_line(&mut l).expect("read line");
        l
    }

    fn say(&mut self, text: &str) {
        self.stream.write_all(text.as_bytes()).expect("write");
    }
}

#[test]
fn lines_reach_the_others_with_the_sender_and_joins_and_leaves_are_announced() {
    let srv = spawn_server(&["serve", "--chat", "0"]);
    let mut a = Client::join(srv.addr);
    let mut b = Client::join(srv.addr);
    assert_eq!(a.line(), format!("*** {} joined\n", b.addr));
    let mut c = Client::join(srv.addr);
    assert_eq!(a.line(), format!("*** {} joined\n", c.addr));
    assert_eq!(b.line(), format!("*** {} joined\n", c.addr));

    b.say("hello\r\n");
    assert_eq!(a.line(), format!("[{}] hello\n", b.addr));
    assert_eq!(c.line(), format!("[{}] hello\n", b.addr));
    // B does not get its own line back: its next line is A's.
    a.say("hi b\n");
    assert_eq!(b.line(), format!("[{}] hi b\n", a.addr));
    assert_eq!(c.line(), format!("[{}] hi b\n", a.addr));

    let b_addr = b.addr;
    drop(b);
    assert_eq!(a.line(), format!("*** {b_addr} left\n"));
    assert_eq!(c.line(), format!("*** {b_addr} left\n"));
}

#[test]
fn a_client_that_closes_with_lines_unread_left_rather_than_was_dropped() {
    let srv = spawn_server(&["serve", "--chat", "0"]);
    let mut a = Client::join(srv.addr);
    let b = Client::join(srv.addr);
    assert_eq!(a.line(), format!("*** {} joined\n", b.addr));
    let c = Client::join(srv.addr);
    assert_eq!(a.line(), format!("*** {} joined\n", c.addr));
    // B's notice of C is in its socket, unread: closing now sends a reset.
    let mut peek = [0u8; 1];
    assert_eq!(b.stream.peek(&mut peek).expect("peek"), 1);
    let b_addr = b.addr;
    drop(b);
    assert_eq!(a.line(), format!("*** {b_addr} left\n"));
}

#[test]
fn a_line_too_long_drops_only_that_client() {
    let srv = spawn_server(&["serve", "--chat", "0"]);
    let mut a = Client::join(srv.addr);
    let mut b = Client::join(srv.addr);
    assert_eq!(a.line(), format!("*** {} joined\n", b.addr));
    b.say(&"x".repeat(20_000));
    assert_eq!(
        b.line(),
        "*** error: line longer than 16384 bytes; closing\n"
    );
    let mut rest = Vec::new();
    let _ = b.reader.read_to_end(&mut rest);
    assert!(rest.is_empty(), "server kept talking to a dropped client");
    assert_eq!(a.line(), format!("*** {} dropped\n", b.addr));
    // The room still works.
    let mut c = Client::join(srv.addr);
    assert_eq!(a.line(), format!("*** {} joined\n", c.addr));
    c.say("still here\n");
    assert_eq!(a.line(), format!("[{}] still here\n", c.addr));
}

#[test]
fn a_client_that_stops_reading_is_dropped_and_never_stalls_the_others() {
    let srv = spawn_server(&["serve", "--chat", "0"]);
    let mut talker = Client::join(srv.addr);
    let mut listener = Client::join(srv.addr);
    assert_eq!(talker.line(), format!("*** {} joined\n", listener.addr));

    // The slow client: a small receive buffer, and it never reads again.
    let sock =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    sock.set_recv_buffer_size(4096).expect("rcvbuf");
    sock.connect(&srv.addr.into()).expect("connect");
    let slow = Client::join_with(sock.into());
    let slow_addr = slow.addr;
    assert_eq!(talker.line(), format!("*** {slow_addr} joined\n"));
    assert_eq!(listener.line(), format!("*** {slow_addr} joined\n"));

    // The talker floods in batches; the listener keeps pace (reads each
    // batch before the next), the slow client reads nothing. Only the slow
    // one may be dropped.
    const LINES: usize = 2000;
    const BATCH: usize = 50;
    let body = "y".repeat(8000);
    let line = format!("{body}\n");
    let from_talker = format!("[{}] {body}\n", talker.addr);
    let notice = format!("*** {slow_addr} dropped (too slow)\n");
    let mut got = 0;
    let mut dropped_notice = false;
    while got < LINES {
        for _ in 0..BATCH {
            talker.say(&line);
        }
        let target = got + BATCH;
        while got < target {
            let l = listener.line();
            assert!(!l.is_empty(), "listener lost the connection");
            if l == from_talker {
                got += 1;
            } else if l == notice {
                dropped_notice = true;
            } else {
                panic!("unexpected line: {}", &l[..l.len().min(80)]);
            }
        }
    }
    if !dropped_notice {
        assert_eq!(listener.line(), notice);
    }
    assert_eq!(
        talker.line(),
        format!("*** {slow_addr} dropped (too slow)\n")
    );
    drop(slow);
}

#[test]
fn a_burst_of_a_thousand_short_lines_drops_no_one() {
    // The queue is bounded by bytes and time: 1000 two-byte lines in one
    // write are a few kilobytes, not 1000 reasons to drop a reader.
    let srv = spawn_server(&["serve", "--chat", "-v", "0"]);
    let mut talker = Client::join(srv.addr);
    let mut readers: Vec<Client> = Vec::new();
    for _ in 0..5 {
        let c = Client::join(srv.addr);
        assert_eq!(talker.line(), format!("*** {} joined\n", c.addr));
        for r in &mut readers {
            assert_eq!(r.line(), format!("*** {} joined\n", c.addr));
        }
        readers.push(c);
    }
    let burst: String = (0..1000).map(|i| format!("{}\n", i % 10)).collect();
    assert_eq!(burst.len(), 2000);
    talker.say(&burst);
    for r in &mut readers {
        for i in 0..1000 {
            assert_eq!(r.line(), format!("[{}] {}\n", talker.addr, i % 10));
        }
    }
    // Everyone is still in the room.
    talker.say("done\n");
    for r in &mut readers {
        assert_eq!(r.line(), format!("[{}] done\n", talker.addr));
    }
}
