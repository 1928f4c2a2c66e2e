//! Durations as flow files write them: `500ms`, `15s`, `2m`, `1h`.

use std::time::Duration;

/// Reads `500ms`, `15s`, `2m` or `1h` (a whole number and a unit); `None` otherwise.
pub fn parse(source: &str) -> Option<Duration> {
    let source = source.trim();
    let digits_end = source.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = source.split_at(digits_end);
    let number: u64 = number.parse().ok()?;
    let millis = match unit {
        "ms" => number,
        "s" => number.checked_mul(1_000)?,
        "m" => number.checked_mul(60_000)?,
        "h" => number.checked_mul(3_600_000)?,
        _ => return None,
    };
    Some(Duration::from_millis(millis))
}

/// Writes a duration in the largest unit that keeps it whole: `1h`, `90s`, `500ms`.
pub fn format(duration: Duration) -> String {
    let millis = duration.as_millis();
    match millis {
        0 => "0s".to_owned(),
        m if m % 3_600_000 == 0 => format!("{}h", m / 3_600_000),
        m if m % 60_000 == 0 => format!("{}m", m / 60_000),
        m if m % 1_000 == 0 => format!("{}s", m / 1_000),
        m => format!("{m}ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_unit() {
        assert_eq!(parse("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse("15s"), Some(Duration::from_secs(15)));
        assert_eq!(parse("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Some(Duration::from_secs(3600)));
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for source in [
            "",
            "15",
            "s",
            "1.5s",
            "-1s",
            "15 seconds",
            "99999999999999999999h",
        ] {
            assert_eq!(parse(source), None, "{source}");
        }
    }

    #[test]
    fn formats_back() {
        for source in ["500ms", "15s", "2m", "1h", "90s"] {
            assert_eq!(format(parse(source).unwrap()), source);
        }
    }
}
