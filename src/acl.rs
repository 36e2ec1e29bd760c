//! Client address filters for servers (`--allow`, `--deny`, `--allow-file`,
//! `--deny-file`): a pure CIDR parser and matcher, no I/O but reading a list
//! file.
//!
//! A bare address is a single host (/32 or /128). IPv4-mapped IPv6 peers
//! (`::ffff:10.0.0.1`, seen on a dual-stack `::` listener) and mapped rules
//! (`::ffff:10.0.0.0/104`) are compared as IPv4, so one rule covers both
//! spellings of a client. A deny rule wins over an allow rule; when any allow
//! rule exists, a client must match one to get in.

use std::fmt;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// The largest list file read: a list bigger than this is a mistake.
const MAX_LIST_FILE: u64 = 16 << 20;

/// One network: an address with its host bits cleared, and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

/// Why a CIDR string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CidrError(String);

impl fmt::Display for CidrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CidrError {}

fn mask_v4(a: Ipv4Addr, prefix: u8) -> u32 {
    let bits = u32::from(a);
    if prefix == 0 {
        0
    } else {
        bits & (u32::MAX << (32 - u32::from(prefix)))
    }
}

fn mask_v6(a: Ipv6Addr, prefix: u8) -> u128 {
    let bits = u128::from(a);
    if prefix == 0 {
        0
    } else {
        bits & (u128::MAX << (128 - u32::from(prefix)))
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it stands for.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

impl Cidr {
    /// Parse `ADDR`, `ADDR/PREFIX` or `[V6]/PREFIX`. Host bits are cleared
    /// (`10.1.2.3/8` is `10.0.0.0/8`), as ncat and most firewalls do.
    pub fn parse(s: &str) -> Result<Cidr, CidrError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(CidrError("empty address".into()));
        }
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr = addr
            .strip_prefix('[')
            .and_then(|a| a.strip_suffix(']'))
            .unwrap_or(addr);
        let ip: IpAddr = addr.parse().map_err(|_| {
            CidrError(format!(
                "'{s}' is not an address or network (e.g. 10.0.0.0/8, 192.168.1.7, fd00::/8)"
            ))
        })?;
        let max: u8 = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => {
                // Digits only: no sign, no spaces, no hex; at most 3 of them.
                if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(CidrError(format!("'{s}': bad prefix length '{p}'")));
                }
                let n: u8 = p
                    .parse()
                    .map_err(|_| CidrError(format!("'{s}': bad prefix length '{p}'")))?;
                if n > max {
                    return Err(CidrError(format!(
                        "'{s}': prefix length {n} is longer than {max}"
                    )));
                }
                n
            }
        };
        Ok(Cidr::new(ip, prefix))
    }

    /// The network `ip/prefix` (prefix clamped to the family's width).
    pub fn new(ip: IpAddr, prefix: u8) -> Cidr {
        match ip {
            IpAddr::V4(v4) => {
                let prefix = prefix.min(32);
                Cidr {
                    net: IpAddr::V4(Ipv4Addr::from(mask_v4(v4, prefix))),
                    prefix,
                }
            }
            IpAddr::V6(v6) => {
                let prefix = prefix.min(128);
                // ::ffff:a.b.c.d/96+ is an IPv4 rule in disguise.
                if let Some(v4) = v6.to_ipv4_mapped()
                    && prefix >= 96
                {
                    return Cidr::new(IpAddr::V4(v4), prefix - 96);
                }
                Cidr {
                    net: IpAddr::V6(Ipv6Addr::from(mask_v6(v6, prefix))),
                    prefix,
                }
            }
        }
    }

    /// True when `ip` is inside this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => mask_v4(ip, self.prefix) == u32::from(net),
            (IpAddr::V6(net), IpAddr::V6(ip)) => mask_v6(ip, self.prefix) == u128::from(net),
            _ => false,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.net, self.prefix)
    }
}

impl std::str::FromStr for Cidr {
    type Err = CidrError;
    fn from_str(s: &str) -> Result<Cidr, CidrError> {
        Cidr::parse(s)
    }
}

/// Parse a list: one CIDR per line, `#` starts a comment, blank lines skipped.
/// Errors name the 1-based line.
pub fn parse_list(text: &str) -> Result<Vec<Cidr>, CidrError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let cidr = Cidr::parse(line).map_err(|e| CidrError(format!("line {}: {e}", i + 1)))?;
        out.push(cidr);
    }
    Ok(out)
}

/// Read and parse a list file (see `parse_list`), refusing huge files.
pub fn read_list(path: &Path) -> anyhow::Result<Vec<Cidr>> {
    use anyhow::Context;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_LIST_FILE + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > MAX_LIST_FILE {
        return Err(crate::error::usage(format!(
            "{}: larger than {} MiB; is it really an address list?",
            path.display(),
            MAX_LIST_FILE >> 20
        )));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| crate::error::usage(format!("{}: not UTF-8 text", path.display())))?;
    parse_list(&text).map_err(|e| crate::error::usage(format!("{}: {e}", path.display())))
}

/// Which clients a server admits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acl {
    /// When not empty, only these networks get in.
    pub allow: Vec<Cidr>,
    /// These networks never get in, even when allowed.
    pub deny: Vec<Cidr>,
}

impl Acl {
    /// True when no rule is set: everyone gets in.
    pub fn is_open(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }

    /// True when a client at `ip` may connect (or send).
    pub fn permits(&self, ip: IpAddr) -> bool {
        if self.deny.iter().any(|c| c.contains(ip)) {
            return false;
        }
        self.allow.is_empty() || self.allow.iter().any(|c| c.contains(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    fn cidr(s: &str) -> Cidr {
        Cidr::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_networks_and_bare_addresses() {
        assert_eq!(cidr("10.0.0.0/8").to_string(), "10.0.0.0/8");
        assert_eq!(cidr("10.1.2.3/8").to_string(), "10.0.0.0/8");
        assert_eq!(cidr("127.0.0.1").to_string(), "127.0.0.1/32");
        assert_eq!(cidr("0.0.0.0/0").to_string(), "0.0.0.0/0");
        assert_eq!(cidr("::1").to_string(), "::1/128");
        assert_eq!(cidr("[::1]/128").to_string(), "::1/128");
        assert_eq!(cidr("fd00::1234/8").to_string(), "fd00::/8");
        assert_eq!(cidr("::/0").to_string(), "::/0");
        assert_eq!(cidr(" 192.168.1.0/24 ").to_string(), "192.168.1.0/24");
        assert_eq!(cidr("::ffff:10.0.0.0/104").to_string(), "10.0.0.0/8");
        assert_eq!(cidr("::ffff:127.0.0.1").to_string(), "127.0.0.1/32");
    }

    #[test]
    fn rejects_hostile_input() {
        for bad in [
            "",
            " ",
            "/",
            "/8",
            "10.0.0.0/",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "10.0.0.0/ 8",
            "10.0.0.0/8/8",
            "10.0.0.0/0x8",
            "10.0.0.0/256",
            "10.0.0.0/99999999999999999999",
            "10.0.0.256",
            "10.0.0",
            "1.2.3.4.5",
            "localhost",
            "[10.0.0.1]x/8",
            "::1::2",
            "[::1",
            "10.0.0.0/8\0",
            "\u{feff}10.0.0.0/8",
            "١٠.0.0.0/8",
            "10.0.0.0/٨",
        ] {
            assert!(Cidr::parse(bad).is_err(), "accepted {bad:?}");
        }
        let long = "1".repeat(100_000);
        assert!(Cidr::parse(&long).is_err());
        assert!(Cidr::parse(&format!("10.0.0.0/{long}")).is_err());
    }

    #[test]
    fn matches_inside_and_not_outside() {
        let net = cidr("192.168.1.0/24");
        assert!(net.contains(ip("192.168.1.0")));
        assert!(net.contains(ip("192.168.1.255")));
        assert!(!net.contains(ip("192.168.2.1")));
        assert!(!net.contains(ip("::1")));
        assert!(cidr("0.0.0.0/0").contains(ip("203.0.113.9")));
        assert!(!cidr("0.0.0.0/0").contains(ip("2001:db8::1")));
        assert!(cidr("::/0").contains(ip("2001:db8::1")));
        let host = cidr("127.0.0.1");
        assert!(host.contains(ip("127.0.0.1")));
        assert!(!host.contains(ip("127.0.0.2")));
        let v6 = cidr("2001:db8::/32");
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(cidr("::1/128").contains(ip("::1")));
        assert!(cidr("8000::/1").contains(ip("ffff::")));
        assert!(!cidr("8000::/1").contains(ip("7fff::")));
    }

    #[test]
    fn mapped_peers_match_ipv4_rules() {
        let lo = cidr("127.0.0.0/8");
        assert!(lo.contains(ip("::ffff:127.0.0.5")));
        assert!(!lo.contains(ip("::ffff:10.0.0.1")));
        let mapped_rule = cidr("::ffff:127.0.0.0/104");
        assert!(mapped_rule.contains(ip("127.9.9.9")));
        assert!(mapped_rule.contains(ip("::ffff:127.9.9.9")));
        // A short prefix over the mapped range stays an IPv6 rule, and a
        // mapped peer is an IPv4 client: IPv6 rules never match it.
        assert_eq!(cidr("::ffff:0:0/95").to_string(), "::fffe:0:0/95");
        assert!(!cidr("::/0").contains(ip("::ffff:127.0.0.1")));
        assert!(!cidr("::/0").contains(ip("127.0.0.1")));
    }

    #[test]
    fn deny_wins_and_allow_restricts() {
        let open = Acl::default();
        assert!(open.is_open());
        assert!(open.permits(ip("127.0.0.2")));

        let allow = Acl {
            allow: vec![cidr("127.0.0.1")],
            deny: vec![],
        };
        assert!(allow.permits(ip("127.0.0.1")));
        assert!(allow.permits(ip("::ffff:127.0.0.1")));
        assert!(!allow.permits(ip("127.0.0.2")));
        assert!(!allow.permits(ip("::1")));

        let deny = Acl {
            allow: vec![],
            deny: vec![cidr("127.0.0.2")],
        };
        assert!(deny.permits(ip("127.0.0.1")));
        assert!(!deny.permits(ip("127.0.0.2")));

        let both = Acl {
            allow: vec![cidr("127.0.0.0/8")],
            deny: vec![cidr("127.0.0.2/32")],
        };
        assert!(both.permits(ip("127.0.0.1")));
        assert!(!both.permits(ip("127.0.0.2")));
        assert!(!both.permits(ip("10.0.0.1")));
    }

    #[test]
    fn lists_skip_comments_and_name_bad_lines() {
        let list = parse_list("# office\n10.0.0.0/8  # lan\n\n  ::1\n\t\n").expect("list");
        assert_eq!(list, vec![cidr("10.0.0.0/8"), cidr("::1")]);
        let err = parse_list("10.0.0.0/8\nnonsense\n").expect_err("bad list");
        assert!(err.to_string().starts_with("line 2:"), "{err}");
        assert!(parse_list("").expect("empty").is_empty());
        assert!(
            parse_list("\r\n# only a comment\r\n")
                .expect("crlf")
                .is_empty()
        );
    }
}
