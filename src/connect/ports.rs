//! The port list of `connect -z`: `22`, `1-1024`, `20-30,80,443`,
//! `http,ssh`. The parser is pure and strict; service names are looked up
//! by the caller's function (`/etc/services` from the command line).

/// Parse a port list such as `22`, `1-1024`, `20-30,80,443` or
/// `http,ssh` into sorted, distinct ports; `service` turns a name into a
/// port (`/etc/services` from the command line). Port 0, ports over 65535,
/// reversed ranges, empty items and unknown names are errors that say
/// which item is wrong.
pub fn parse_ports(
    spec: &str,
    service: &dyn Fn(&str) -> Result<u16, String>,
) -> Result<Vec<u16>, String> {
    if spec.trim().is_empty() {
        return Err("no ports given: write e.g. 80, 1-1024 or 20-30,80,443".into());
    }
    let mut seen = vec![false; 65536];
    for item in spec.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(format!("empty item in port list '{spec}'"));
        }
        let (lo, hi) = match item.split_once('-') {
            Some((a, b)) if is_number(a) && is_number(b) => {
                (one_port(a, item)?, one_port(b, item)?)
            }
            _ if is_number(item) => {
                let p = one_port(item, item)?;
                (p, p)
            }
            // A name (`http`, `http-alt`), or something that is neither.
            _ if item.bytes().any(|b| b.is_ascii_alphabetic()) => {
                let p = service(item)?;
                (p, p)
            }
            _ => {
                return Err(format!(
                    "bad port '{item}': ports are numbers 1-65535, ranges A-B or service names"
                ));
            }
        };
        if lo > hi {
            return Err(format!("reversed range '{item}': write {hi}-{lo}"));
        }
        for p in lo..=hi {
            seen[usize::from(p)] = true;
        }
    }
    Ok((1..=65535u16).filter(|&p| seen[usize::from(p)]).collect())
}

fn is_number(s: &str) -> bool {
    let t = s.trim();
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
}

fn one_port(text: &str, item: &str) -> Result<u16, String> {
    let t = text.trim();
    match t.parse::<u32>() {
        Ok(0) => Err(format!(
            "port 0 in '{item}' cannot be probed: ports are 1-65535"
        )),
        Ok(p) if p <= 65535 => Ok(p as u16),
        _ => Err(format!("port '{t}' in '{item}' is over 65535")),
    }
}

#[cfg(test)]
mod tests {
    fn no_names(name: &str) -> Result<u16, String> {
        Err(format!("unknown port '{name}'"))
    }

    fn parse_ports(spec: &str) -> Result<Vec<u16>, String> {
        super::parse_ports(spec, &no_names)
    }

    #[test]
    fn service_names_are_ports() {
        let names = |n: &str| match n {
            "http" => Ok(80),
            "ssh" => Ok(22),
            "http-alt" => Ok(8080),
            _ => Err(format!("unknown port '{n}'")),
        };
        assert_eq!(super::parse_ports("http,ssh", &names), Ok(vec![22, 80]));
        assert_eq!(
            super::parse_ports("http-alt,20-22", &names),
            Ok(vec![20, 21, 22, 8080])
        );
        assert!(super::parse_ports("gopherx", &names).is_err());
    }

    #[test]
    fn port_lists() {
        assert_eq!(parse_ports("80"), Ok(vec![80]));
        assert_eq!(parse_ports("20-22,80, 443"), Ok(vec![20, 21, 22, 80, 443]));
        assert_eq!(parse_ports("5,1-3,2"), Ok(vec![1, 2, 3, 5]));
        assert_eq!(parse_ports("65535"), Ok(vec![65535]));
        assert_eq!(parse_ports("1-65535").map(|v| v.len()), Ok(65535));
        assert_eq!(parse_ports("7-7"), Ok(vec![7]));
    }

    #[test]
    fn hostile_port_lists() {
        for bad in [
            "",
            " ",
            "0",
            "0-10",
            "70000",
            "65536",
            "5-1",
            "a",
            "1,,2",
            "1-",
            "-1",
            "1-2-3",
            "+80",
            "80,",
            "1 2",
            "99999999999999999999",
        ] {
            let e = parse_ports(bad).expect_err(bad);
            assert!(!e.contains('\n'), "{e}");
        }
        // A huge list is bounded by the 65535 distinct ports it can name.
        let huge = vec!["1-65535"; 100].join(",") + &",80".repeat(10_000);
        assert_eq!(parse_ports(&huge).map(|v| v.len()), Ok(65535));
    }
}
