//! SCIM filters (RFC 7644 §3.4.2.2), built from typed parts so that a value can never change the
//! filter's meaning.
//!
//! A comparison value is always written as a JSON string literal (through `serde_json`), so `"` and
//! `\` in it are escaped and a user name such as `a"b\c or userName pr` matches only itself.
//! [`Filter::to_query_value`] then percent-encodes the whole filter for the `filter` query
//! parameter.

use std::fmt;

use crate::error::{Error, Result};

/// A SCIM filter expression.
///
/// ```
/// use identity_connectors::scim::Filter;
///
/// let filter = Filter::eq("userName", r#"a"b\c or userName pr"#)?;
/// assert_eq!(filter.as_str(), r#"userName eq "a\"b\\c or userName pr""#);
/// assert_eq!(
///     filter.to_query_value(),
///     "userName%20eq%20%22a%5C%22b%5C%5Cc%20or%20userName%20pr%22"
/// );
///
/// let both = Filter::eq("userName", "jdoe")?.and(Filter::eq("active", "true")?);
/// assert_eq!(both.as_str(), r#"(userName eq "jdoe") and (active eq "true")"#);
/// # Ok::<(), identity_connectors::Error>(())
/// ```
///
/// Its `Debug` hides the expression, which usually holds a user name or an e-mail address;
/// [`as_str`](Filter::as_str) and `Display` give it in full.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Filter(String);

impl Filter {
    /// `attribute eq "value"`: equal. SCIM servers compare case-insensitively unless the attribute
    /// is `caseExact` (`userName` is not; `externalId` is).
    pub fn eq(attribute: &str, value: &str) -> Result<Filter> {
        Self::compare(attribute, "eq", value)
    }

    /// `attribute ne "value"`: not equal.
    pub fn ne(attribute: &str, value: &str) -> Result<Filter> {
        Self::compare(attribute, "ne", value)
    }

    /// `attribute co "value"`: contains.
    pub fn co(attribute: &str, value: &str) -> Result<Filter> {
        Self::compare(attribute, "co", value)
    }

    /// `attribute sw "value"`: starts with.
    pub fn sw(attribute: &str, value: &str) -> Result<Filter> {
        Self::compare(attribute, "sw", value)
    }

    /// `attribute ew "value"`: ends with.
    pub fn ew(attribute: &str, value: &str) -> Result<Filter> {
        Self::compare(attribute, "ew", value)
    }

    /// `attribute pr`: has a value.
    pub fn present(attribute: &str) -> Result<Filter> {
        check_attribute(attribute)?;
        Ok(Filter(format!("{attribute} pr")))
    }

    /// `attribute[inner]`: some value of the multi-valued `attribute` matches `inner` (a value
    /// path, RFC 7644 §3.4.2.2), such as `members[value eq "2819c223"]`. Also the form of a
    /// `PATCH` path that targets matching values.
    ///
    /// ```
    /// use identity_connectors::scim::Filter;
    ///
    /// let member = Filter::value_path("members", Filter::eq("value", "2819c223")?)?;
    /// assert_eq!(member.as_str(), r#"members[value eq "2819c223"]"#);
    /// # Ok::<(), identity_connectors::Error>(())
    /// ```
    pub fn value_path(attribute: &str, inner: Filter) -> Result<Filter> {
        check_attribute(attribute)?;
        Ok(Filter(format!("{attribute}[{}]", inner.0)))
    }

    /// Both filters must match. Each side is parenthesised, so precedence never depends on what
    /// the sides contain.
    pub fn and(self, other: Filter) -> Filter {
        Filter(format!("({}) and ({})", self.0, other.0))
    }

    /// Either filter must match. Each side is parenthesised.
    pub fn or(self, other: Filter) -> Filter {
        Filter(format!("({}) or ({})", self.0, other.0))
    }

    /// The filter expression.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The expression percent-encoded as one query value (space as `%20`, `"` as `%22`, `@` as
    /// `%40`, …), ready to follow `filter=`.
    pub fn to_query_value(&self) -> String {
        let mut out = String::new();
        self.push_query_value(&mut out);
        out
    }

    /// Appends [`to_query_value`](Self::to_query_value) to `out`.
    pub(crate) fn push_query_value(&self, out: &mut String) {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        // Written as bytes (one push each, no UTF-8 encoding of each `char`), then checked back
        // into text: every byte written is ASCII.
        let input = self.0.as_bytes();
        let mut bytes = std::mem::take(out).into_bytes();
        // At most three bytes each: one allocation, and no pass to count the escapes first.
        bytes.reserve(input.len() * 3);
        for &byte in input {
            if QUERY_VALUE_AS_IS[usize::from(byte)] {
                bytes.push(byte);
            } else {
                bytes.extend_from_slice(&[b'%', HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0x0f)]]);
            }
        }
        *out = String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    }

    /// [`eq`](Self::eq) on one of the crate's own attribute names, which need no check.
    pub(crate) fn eq_known(attribute: &'static str, value: &str) -> Filter {
        debug_assert!(check_attribute(attribute).is_ok(), "{attribute}");
        Self::write(attribute, "eq", value)
    }

    fn compare(attribute: &str, operator: &str, value: &str) -> Result<Filter> {
        check_attribute(attribute)?;
        Ok(Self::write(attribute, operator, value))
    }

    fn write(attribute: &str, operator: &str, value: &str) -> Filter {
        let mut text = String::with_capacity(attribute.len() + operator.len() + value.len() + 4);
        for part in [attribute, " ", operator, " "] {
            text.push_str(part);
        }
        push_json_string(&mut text, value);
        Filter(text)
    }
}

/// The bytes a query value keeps as they are: what `application/x-www-form-urlencoded` leaves
/// (letters, digits, `*-._`). All else, the space included, is written `%XX`: `%20` is understood
/// by every server, `+` only by form-decoding ones.
const QUERY_VALUE_AS_IS: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_');
        byte += 1;
    }
    table
};

/// `value` as a JSON string literal, the form RFC 7644 requires for string comparison values.
pub(crate) fn json_string(value: &str) -> String {
    let mut literal = String::with_capacity(value.len() + 2);
    push_json_string(&mut literal, value);
    literal
}

/// Appends `value` as a JSON string literal to `out`.
fn push_json_string(out: &mut String, value: &str) {
    // Most values (names, addresses, ids) need no escape: quoted as they are.
    if !value.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push('"');
        out.push_str(value);
        out.push('"');
        return;
    }
    // Serialising a `&str` cannot fail; the fallback still yields a well-formed, empty literal.
    out.push_str(&serde_json::to_string(value).unwrap_or_else(|_| "\"\"".to_string()));
}

/// Accepts an attribute path (`userName`, `name.givenName`, `emails.value`,
/// `urn:…:enterprise:2.0:User:department`, `meta.$ref`): letters, digits and `-_.:$` only, so the
/// attribute part cannot carry an operator, a quote or a bracket.
fn check_attribute(attribute: &str) -> Result<()> {
    let valid = attribute.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && attribute.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '$'));
    if valid {
        Ok(())
    } else {
        Err(Error::invalid_input(
            format!("{attribute:?} is not a SCIM attribute path (letters, digits and -_.:$ only)"),
            Vec::new(),
        ))
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Filter([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_json_string_literals() {
        let cases = [
            ("jdoe", r#"userName eq "jdoe""#),
            (r#"a"b\c or userName pr"#, r#"userName eq "a\"b\\c or userName pr""#),
            ("line\nbreak\ttab", r#"userName eq "line\nbreak\ttab""#),
            ("", r#"userName eq """#),
            ("ünï ☃", r#"userName eq "ünï ☃""#),
        ];
        for (value, expected) in cases {
            assert_eq!(Filter::eq("userName", value).unwrap().as_str(), expected, "value {value:?}");
        }
    }

    #[test]
    fn query_value_is_fully_percent_encoded() {
        let filter = Filter::eq("emails.value", "jane+doe@example.com").unwrap();
        assert_eq!(filter.to_query_value(), "emails.value%20eq%20%22jane%2Bdoe%40example.com%22");
        let filter = Filter::eq("userName", "a&filter=x#y?z").unwrap();
        assert_eq!(filter.to_query_value(), "userName%20eq%20%22a%26filter%3Dx%23y%3Fz%22");
    }

    proptest::proptest! {
        /// The literal is what serde_json writes for the string, escaped or not.
        #[test]
        fn literals_are_serde_json_strings(value in "\\PC*|[\\x00-\\x7f]*") {
            proptest::prop_assert_eq!(json_string(&value), serde_json::to_string(&value).unwrap());
        }

        /// The encoder writes what `application/x-www-form-urlencoded` writes, a space as `%20`
        /// instead of `+`, for any text (it never decodes to anything but the filter).
        #[test]
        fn query_value_is_form_encoding_with_percent_spaces(value in "\\PC*") {
            let filter = Filter(value.clone());
            let reference = url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>().replace('+', "%20");
            proptest::prop_assert_eq!(filter.to_query_value(), reference);
            let query = format!("filter={}", filter.to_query_value());
            let decoded: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
            proptest::prop_assert_eq!(decoded, vec![("filter".to_string(), value)]);
        }
    }

    #[test]
    fn operators_and_combinations() {
        assert_eq!(Filter::ne("title", "x").unwrap().as_str(), r#"title ne "x""#);
        assert_eq!(Filter::co("title", "x").unwrap().as_str(), r#"title co "x""#);
        assert_eq!(Filter::sw("title", "x").unwrap().as_str(), r#"title sw "x""#);
        assert_eq!(Filter::ew("title", "x").unwrap().as_str(), r#"title ew "x""#);
        assert_eq!(Filter::present("title").unwrap().as_str(), "title pr");
        let f = Filter::eq("a", "1").unwrap().or(Filter::eq("b", "2").unwrap()).and(Filter::present("c").unwrap());
        assert_eq!(f.as_str(), r#"((a eq "1") or (b eq "2")) and (c pr)"#);
        let urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";
        assert_eq!(Filter::eq(urn, "R&D").unwrap().as_str(), format!(r#"{urn} eq "R&D""#));
    }

    #[test]
    fn value_paths_wrap_the_inner_filter() {
        let inner = Filter::eq("value", r#"a"] or [x"#).unwrap();
        let path = Filter::value_path("members", inner).unwrap();
        assert_eq!(path.as_str(), r#"members[value eq "a\"] or [x"]"#);
        assert_eq!(path.to_query_value(), "members%5Bvalue%20eq%20%22a%5C%22%5D%20or%20%5Bx%22%5D");
        assert!(Filter::value_path("members]", Filter::present("value").unwrap()).is_err());
    }

    #[test]
    fn attribute_cannot_carry_syntax() {
        for bad in ["", "userName eq \"x\" or userName", "a\"b", "emails[type eq \"work\"]", "(x)", "1abc", "a b"] {
            assert!(matches!(Filter::eq(bad, "v"), Err(Error::Validation(_))), "{bad:?}");
            assert!(Filter::present(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn debug_hides_the_value() {
        let filter = Filter::eq("userName", "jane@example.com").unwrap();
        assert_eq!(format!("{filter:?}"), "Filter([REDACTED])");
        assert_eq!(filter.to_string(), r#"userName eq "jane@example.com""#);
    }
}
