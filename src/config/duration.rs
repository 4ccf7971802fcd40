//! Durations as people write them in configuration: `"30s"`, `"2m"`, `"500ms"`, or whole seconds.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};

const EXPECTED: &str = "a duration such as \"30s\", \"2m\", \"1h\" or \"500ms\", or a whole number of seconds";

/// Parses `"<whole number><unit>"` with the unit `ms`, `s`, `m`, `min` or `h` (no unit: seconds),
/// spaces allowed around and between. The message does not repeat the input.
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let digits_end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    let number: u64 = number.parse().map_err(|_| format!("expected {EXPECTED}"))?;
    let scale = |factor: u64| {
        number.checked_mul(factor).map(Duration::from_secs).ok_or_else(|| "the duration is too long".to_string())
    };
    match unit.trim() {
        "ms" => Ok(Duration::from_millis(number)),
        "" | "s" => scale(1),
        "m" | "min" => scale(60),
        "h" => scale(60 * 60),
        _ => Err(format!("expected {EXPECTED}")),
    }
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_u64<E: de::Error>(self, seconds: u64) -> Result<Duration, E> {
        Ok(Duration::from_secs(seconds))
    }

    fn visit_i64<E: de::Error>(self, seconds: i64) -> Result<Duration, E> {
        u64::try_from(seconds).map(Duration::from_secs).map_err(|_| E::custom("a duration cannot be negative"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Duration, E> {
        Err(E::custom(format!("expected {EXPECTED}; for fractions of a second use \"ms\"")))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
        parse(text).map_err(E::custom)
    }
}

/// For `#[serde(deserialize_with)]` on an `Option<Duration>` field with `#[serde(default)]`.
pub(crate) fn option<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    deserializer.deserialize_any(DurationVisitor).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humane_forms_parse() {
        for (text, expected) in [
            ("30s", Duration::from_secs(30)),
            ("30", Duration::from_secs(30)),
            (" 2 m ", Duration::from_secs(120)),
            ("2min", Duration::from_secs(120)),
            ("1h", Duration::from_secs(3600)),
            ("500ms", Duration::from_millis(500)),
            ("0s", Duration::ZERO),
        ] {
            assert_eq!(parse(text), Ok(expected), "{text:?}");
        }
    }

    #[test]
    fn other_forms_are_refused_without_echo() {
        for text in ["", "s", "1.5s", "-3s", "3 days", "3d", "1m30s", "secret-token"] {
            let error = parse(text).unwrap_err();
            assert_eq!(error, format!("expected {EXPECTED}"), "{text:?}");
        }
        assert_eq!(parse("18446744073709551615h").unwrap_err(), "the duration is too long");
    }

    #[test]
    fn integers_are_seconds_and_negatives_are_refused() {
        let value = serde_json::json!(90);
        assert_eq!(option(value).unwrap(), Some(Duration::from_secs(90)));
        let error = option(serde_json::json!(-1)).unwrap_err();
        assert_eq!(error.to_string(), "a duration cannot be negative");
        assert!(option(serde_json::json!(1.5)).unwrap_err().to_string().contains("\"ms\""));
    }
}
