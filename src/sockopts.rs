//! Options applied to each TCP stream a server accepts or a client opens:
//! TCP_NODELAY, and keepalive that releases a peer which vanished without
//! FIN or RST (`--keepalive=DUR`).

use std::io;
use std::net::TcpStream;
use std::time::Duration;

use socket2::TcpKeepalive;

/// Socket options a server or client applies to each TCP stream.
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamOptions {
    /// TCP_NODELAY.
    pub nodelay: bool,
    /// `--keepalive=DUR`: release a peer that vanished (no FIN, no RST)
    /// after about twice this long (see `keepalive_plan`).
    pub keepalive: Option<Duration>,
}

/// Unanswered keepalive probes that drop a connection.
pub const KEEPALIVE_PROBES: u32 = 3;

/// How `--keepalive=DUR` releases a vanished peer: the first probe after
/// `DUR` of silence, then one every `DUR/3` (at least 1s); three unanswered
/// probes drop the connection, about `2 x DUR` after the peer went quiet.
/// Data the peer never acknowledges (it vanished while we were sending)
/// is given the same `2 x DUR` (TCP_USER_TIMEOUT), where the kernel's
/// default retransmissions would take 15 minutes or more.
/// Returns (idle, interval, user timeout).
pub fn keepalive_plan(dur: Duration) -> (Duration, Duration, Duration) {
    let idle = dur.max(Duration::from_secs(1));
    let interval = (idle / KEEPALIVE_PROBES).max(Duration::from_secs(1));
    (idle, interval, idle + interval * KEEPALIVE_PROBES)
}

impl StreamOptions {
    /// Apply the options to a connected stream.
    pub fn apply(&self, stream: &TcpStream) -> io::Result<()> {
        if self.nodelay {
            stream.set_nodelay(true)?;
        }
        if let Some(dur) = self.keepalive {
            let (idle, interval, give_up) = keepalive_plan(dur);
            let ka = TcpKeepalive::new()
                .with_time(idle)
                .with_interval(interval)
                .with_retries(KEEPALIVE_PROBES);
            let sock = socket2::SockRef::from(stream);
            sock.set_tcp_keepalive(&ka)?;
            sock.set_tcp_user_timeout(Some(give_up))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn keepalive_releases_a_vanished_peer_in_about_twice_the_duration() {
        let s = Duration::from_secs;
        assert_eq!(keepalive_plan(s(60)), (s(60), s(20), s(120)));
        assert_eq!(keepalive_plan(s(2)), (s(2), s(1), s(5)));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let opts = StreamOptions {
            nodelay: false,
            keepalive: Some(s(9)),
        };
        opts.apply(&client).expect("apply");
        let sock = socket2::SockRef::from(&client);
        assert!(sock.keepalive().expect("SO_KEEPALIVE"));
        assert_eq!(sock.tcp_keepalive_time().expect("idle"), s(9));
        assert_eq!(sock.tcp_keepalive_interval().expect("interval"), s(3));
        assert_eq!(sock.tcp_keepalive_retries().expect("count"), 3);
        assert_eq!(sock.tcp_user_timeout().expect("user timeout"), Some(s(18)));
    }
}
