//! Human durations (`500ms`, `10s`, `2m`, `1h`; a bare number is seconds) and
//! sizes (`64`, `128KiB`, `16MiB`, `1GiB`, `1k`, `2M`, SI `KB`/`MB`/`GB`).
//!
//! Used as clap value parsers, so a bad value is a usage error with the reason.

use std::time::Duration;

/// Split `12.5KiB` into its number and its unit; `what` names the kind of
/// value for the error message.
fn number_and_unit<'a>(s: &'a str, what: &str) -> Result<(f64, &'a str), String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value = num.parse().map_err(|_| format!("'{s}' is not {what}"))?;
    Ok((value, unit.trim()))
}

/// Parse a duration such as `500ms`, `1.5s`, `10s`, `2m`, `1h`, or `3` (seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (value, unit) = number_and_unit(s, "a duration (try 500ms, 10s, 2m)")?;
    let scale = match unit {
        "" | "s" | "sec" | "secs" => 1.0,
        "ms" => 1e-3,
        "us" | "µs" => 1e-6,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "unknown duration unit '{other}' (use us, ms, s, m or h)"
            ));
        }
    };
    let secs = value * scale;
    if !secs.is_finite() || !(0.0..=1e9).contains(&secs) {
        return Err(format!("duration '{s}' is out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A duration that must be above zero (a timeout of 0 would end every
/// connection at once): `0`, `0s` and `0ms` are refused at parse time.
pub fn parse_nonzero_duration(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err(format!("'{s}' must be above zero"));
    }
    Ok(d)
}

/// A size that must be at least one byte.
pub fn parse_nonzero_size(s: &str) -> Result<u64, String> {
    let n = parse_size(s)?;
    if n == 0 {
        return Err(format!("'{s}' must be at least 1 byte"));
    }
    Ok(n)
}

/// Parse a size such as `64`, `128KiB`, `16MiB`, `1GiB`, `4k`, `10MB`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let (value, unit) = number_and_unit(s, "a size (try 64, 128KiB, 1GiB)")?;
    let scale: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tib" => 1024.0f64.powi(4),
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        other => return Err(format!("unknown size unit '{other}' (use KiB, MiB or GiB)")),
    };
    let bytes = value * scale;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 / 2.0 {
        return Err(format!("size '{s}' is out of range"));
    }
    Ok(bytes.round() as u64)
}

/// Parse a size that must be at least 1 byte and fit in memory as one buffer.
pub fn parse_buffer_size(s: &str) -> Result<usize, String> {
    let n = parse_size(s)?;
    if n == 0 {
        return Err("size must be at least 1 byte".into());
    }
    usize::try_from(n).map_err(|_| format!("size '{s}' is too large"))
}

/// Format bytes for people: `1.50 GiB`, `512 B`.
pub fn format_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.2} {}", UNITS[i])
    }
}

/// Format a duration for people: `850ms`, `12.3s`, `2m05s`.
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{}ms", d.as_millis())
    } else if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        for bad in ["", "x", "10q", "-1s", "1e999", "s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64"), Ok(64));
        assert_eq!(parse_size("128KiB"), Ok(128 * 1024));
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("4k"), Ok(4096));
        assert_eq!(parse_size("1MB"), Ok(1_000_000));
        for bad in ["", "KiB", "1XB", "-5", "99999999999999999999999GiB"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert!(parse_buffer_size("0").is_err());
    }

    #[test]
    fn formatting() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(1536), "1.50 KiB");
        assert_eq!(format_duration(Duration::from_millis(850)), "850ms");
        assert_eq!(format_duration(Duration::from_secs(125)), "2m05s");
    }
}
