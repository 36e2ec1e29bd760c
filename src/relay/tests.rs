//! The thread-per-direction relay between plain sockets (the spliced copy):
//! lone small writes cross at once both ways, a half-close passes through,
//! and the idle timeout ends it although splice never returns to user code
//! between chunks.

use super::*;
use std::net::{TcpListener, TcpStream};

const PATIENCE: Duration = Duration::from_secs(10);

fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (b, _) = l.accept().unwrap();
    for s in [&a, &b] {
        s.set_read_timeout(Some(PATIENCE)).unwrap();
    }
    (a, b)
}

/// A relay between (client, upstream) on a thread; returns the two far ends.
fn relayed(idle: Option<Duration>) -> (TcpStream, TcpStream, thread::JoinHandle<RelayOutcome>) {
    let (client, near_a) = tcp_pair();
    let (near_b, upstream) = tcp_pair();
    let h = thread::spawn(move || {
        relay(
            Endpoint::Stream(Arc::new(Stream::from(near_a))),
            Endpoint::Stream(Arc::new(Stream::from(near_b))),
            &RelayOptions {
                idle_timeout: idle,
                ..RelayOptions::default()
            },
        )
    });
    (client, upstream, h)
}

#[test]
fn lone_writes_and_half_close_cross_a_spliced_relay() {
    let (mut c, mut u, h) = relayed(None);
    let mut b = [0u8; 1];
    for round in 0..50u8 {
        c.write_all(&[round]).unwrap();
        u.read_exact(&mut b).unwrap();
        assert_eq!(b[0], round);
        u.write_all(&[round ^ 0xff]).unwrap();
        c.read_exact(&mut b).unwrap();
        assert_eq!(b[0], round ^ 0xff);
    }
    c.shutdown(Shutdown::Write).unwrap();
    assert_eq!(u.read(&mut b).unwrap(), 0, "the client's EOF passed on");
    u.write_all(b"late").unwrap();
    drop(u);
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"late");
    let out = h.join().unwrap();
    assert_eq!(out.end, RelayEnd::Closed);
    assert_eq!((out.a_to_b, out.b_to_a), (50, 54));
}

#[test]
fn an_idle_spliced_relay_ends_as_idle() {
    let (mut c, mut u, h) = relayed(Some(Duration::from_millis(200)));
    c.write_all(b"x").unwrap();
    let mut b = [0u8; 1];
    u.read_exact(&mut b).unwrap();
    let out = h.join().unwrap();
    assert_eq!(out.end, RelayEnd::Idle);
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
}
