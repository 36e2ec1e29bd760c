//! Service names as ports (`http`, `ssh`, `domain`), as nc and ncat take
//! them: looked up in `/etc/services` (names and aliases), the file
//! getservbyname(3) reads. The parser is pure; only `lookup` reads the file.

use std::collections::HashMap;

/// Which protocol a name is looked up for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// `name PORT/tcp`.
    Tcp,
    /// `name PORT/udp`.
    Udp,
}

impl Proto {
    fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// Where the system lists its services.
pub const SERVICES_FILE: &str = "/etc/services";

/// Names and aliases of `proto` services in `/etc/services` text: lines
/// `name port/proto [aliases...] [# comment]`; malformed lines are skipped.
pub fn parse_services(text: &str, proto: Proto) -> HashMap<String, u16> {
    let mut map = HashMap::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let (Some(name), Some(port_proto)) = (words.next(), words.next()) else {
            continue;
        };
        let Some((port, p)) = port_proto.split_once('/') else {
            continue;
        };
        let Ok(port) = port.parse::<u16>() else {
            continue;
        };
        if p != proto.name() || port == 0 {
            continue;
        }
        for n in std::iter::once(name).chain(words) {
            // The first line naming a service wins, as in getservbyname.
            map.entry(n.to_ascii_lowercase()).or_insert(port);
        }
    }
    map
}

/// The port of service `name` for `proto`, from `/etc/services`.
pub fn lookup(name: &str, proto: Proto) -> Result<u16, String> {
    let text = std::fs::read_to_string(SERVICES_FILE).map_err(|e| {
        format!("unknown port '{name}': cannot read {SERVICES_FILE} to look up service names ({e})")
    })?;
    parse_services(&text, proto)
        .get(&name.to_ascii_lowercase())
        .copied()
        .ok_or_else(|| {
            format!(
                "unknown port '{name}': not a number and not a {} service in {SERVICES_FILE}",
                proto.name()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
# comment line
ssh		22/tcp				# SSH Remote Login Protocol
http		80/tcp		www		# WorldWideWeb HTTP
http-alt	8080/tcp	webcache
domain		53/tcp
domain		53/udp
ntp		123/udp
broken		notaport/tcp
zero		0/tcp
short
";

    #[test]
    fn names_and_aliases_by_protocol() {
        let tcp = parse_services(SAMPLE, Proto::Tcp);
        assert_eq!(tcp.get("ssh"), Some(&22));
        assert_eq!(tcp.get("http"), Some(&80));
        assert_eq!(tcp.get("www"), Some(&80));
        assert_eq!(tcp.get("http-alt"), Some(&8080));
        assert_eq!(tcp.get("domain"), Some(&53));
        assert_eq!(tcp.get("ntp"), None);
        assert_eq!(tcp.get("broken"), None);
        assert_eq!(tcp.get("zero"), None);
        let udp = parse_services(SAMPLE, Proto::Udp);
        assert_eq!(udp.get("ntp"), Some(&123));
        assert_eq!(udp.get("ssh"), None);
    }
}
