//! Every rule that makes a text safe to keep in an error or a log line, in one place.
//!
//! Server texts (messages, codes, field errors, body excerpts) and messages this crate builds
//! around a caller's value are made one line (control characters become spaces, invisible and
//! reordering characters vanish), have every e-mail address masked as `[EMAIL]` in any spelling,
//! have the connector's credential redacted as `[REDACTED]` (raw, percent-encoded or
//! JSON-escaped), and are bounded. Excerpts of bodies also stop at anything that looks like a
//! credential marker (`Bearer `, `password`, …).
//!
//! The module works on strings and bytes only: the credential comes in as `&str` values or as a
//! `clean` closure, so it knows neither the error types nor [`Authorization`](crate::Authorization).

/// How many characters of a body an error keeps.
pub const EXCERPT_CHARS: usize = 200;
/// Longest server message an error keeps, in characters.
pub(crate) const MAX_MESSAGE_CHARS: usize = 500;
/// Longest server-sent code (and field name) an error keeps, in characters.
pub(crate) const MAX_CODE_CHARS: usize = 100;
/// Longest per-field message an error keeps, in characters.
pub(crate) const MAX_FIELD_MESSAGE_CHARS: usize = 200;
/// Most per-field messages an error keeps.
pub(crate) const MAX_FIELDS: usize = 50;
/// How far past a cut texts are read before masking and redaction, so an address or a credential
/// (a JWT runs to a few thousand characters) across the cut is found whole.
const SANITIZE_SLACK: usize = 4096;
/// Credential values shorter than this are not redacted: they would match ordinary words
/// (Freshservice's `X` password, say).
const MIN_SECRET_CHARS: usize = 4;
/// What a redacted credential (or the rest of an excerpt after a credential marker) becomes.
const REDACTED: &str = "[REDACTED]";

/// The first [`EXCERPT_CHARS`] characters of `body`, lossily decoded, with control characters
/// replaced, invisible ones dropped, e-mail addresses masked, `clean` (credential redaction) run
/// before the cut, and anything after a credential-looking marker (`Bearer `, `Basic `, `token`,
/// `api_key`, `password`) cut off.
pub(crate) fn excerpt(body: &[u8], clean: &dyn Fn(&str) -> String) -> String {
    let head = &body[..body.len().min((EXCERPT_CHARS + SANITIZE_SLACK) * 4)];
    let text = String::from_utf8_lossy(head);
    // Mask and redact before cutting, so nothing across the cut is left half-visible.
    let masked = clean(&mask_emails(&visible(&text, EXCERPT_CHARS + SANITIZE_SLACK)));
    let mut out: String = masked.chars().take(EXCERPT_CHARS).collect();
    let lower = out.to_ascii_lowercase();
    let cut = ["bearer ", "basic ", "token", "api_key", "apikey", "password", "secret"]
        .iter()
        .filter_map(|m| lower.find(m))
        .min();
    if let Some(at) = cut {
        out.truncate(at);
        out.push_str(REDACTED);
    }
    out.trim().to_string()
}

/// A message this crate builds (possibly around a caller's or server's value) as one bounded line
/// without e-mail addresses, so no input can forge a log line or carry megabytes into one.
pub(crate) fn one_line(message: &str) -> String {
    sanitize_server_text(message, MAX_MESSAGE_CHARS, &|text| text.to_string())
}

/// Characters that render as nothing or reorder text (soft hyphen, zero-width and bidirectional
/// controls, line and paragraph separators, byte-order mark): dropped from server texts, so they
/// can neither hide an address from masking nor disguise a log line.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// The first `max_chars` characters of `text` with control characters as spaces and invisible
/// ones dropped.
fn visible(text: &str, max_chars: usize) -> String {
    text.chars().filter(|c| !is_invisible(*c)).take(max_chars).map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// A server-provided text made safe to show and log: control characters become spaces, invisible
/// ones vanish, e-mail addresses become `[EMAIL]`, `clean` runs (credential redaction), and only
/// then is it cut to `max_chars` characters.
pub(crate) fn sanitize_server_text(text: &str, max_chars: usize, clean: &dyn Fn(&str) -> String) -> String {
    let cleaned = clean(&mask_emails(&visible(text, max_chars + SANITIZE_SLACK)));
    if cleaned.chars().count() <= max_chars {
        return cleaned;
    }
    let mut out: String = cleaned.chars().take(max_chars).collect();
    out.push('…');
    out
}

/// The spellings of `@` that server texts carry: raw, percent-encoded (once or twice), JSON- and
/// HTML-escaped. Matched ASCII-case-insensitively.
const AT_SIGNS: [&str; 7] = ["@", "%40", "%2540", "\\u0040", "&#64;", "&#x40;", "&commat;"];

/// Replaces every e-mail-address-like word (`local@domain.tld`, also with a quoted local part or
/// non-ASCII letters and marks, and with `@` or the dots percent-encoded, JSON- or HTML-escaped,
/// in any case) with `[EMAIL]`, so no server text carries one into an error message or a log line.
fn mask_emails(text: &str) -> String {
    let wordish = |c: char| c.is_alphanumeric() || (!c.is_ascii() && !c.is_whitespace());
    // Not `/`, `=`, `?`, `&`: legal in a local part, but in practice they delimit the path or query
    // parameter an address sits in (`?email=jane%40example.com`), which stays readable. `%` and `\\`
    // let an encoded or escaped local part (`jane%2Bhr`, `jane\\u002bhr`) be masked whole.
    let is_local = |c: char| wordish(c) || "._%+-'!#$*^`{|}~\\".contains(c);
    let is_domain = |c: char| wordish(c) || c == '.' || c == '-' || c == '%';
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    // The next at-sign spelling at or after `from`, and its length. Every spelling starts with an
    // ASCII byte, so the positions found are character boundaries of `text`.
    let next_at = |from: usize| {
        (from..bytes.len()).find_map(|i| {
            if !matches!(bytes[i], b'@' | b'%' | b'\\' | b'&') {
                return None;
            }
            AT_SIGNS.iter().find(|a| bytes[i..].starts_with(a.as_bytes())).map(|a| (i, a.len()))
        })
    };
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    let mut from = 0;
    while let Some((at, len)) = next_at(from) {
        let before = &text[pos..at];
        let quoted = (len == 1).then(|| before.strip_suffix('"')).flatten().and_then(|inner| {
            // A quoted local part, `"john doe"@example.com`; not JSON's `"key":"@…`.
            let open = inner.rfind('"')?;
            let content = &inner[open + 1..];
            (!content.is_empty() && !content.contains([':', ',', '{', '}'])).then_some(open)
        });
        let local_start =
            quoted.or_else(|| before.char_indices().rev().take_while(|(_, c)| is_local(*c)).last().map(|(i, _)| i));
        let after = &text[at + len..];
        let scanned: usize = after.chars().take_while(|c| is_domain(*c)).map(char::len_utf8).sum();
        // A sentence's full stop after the address is not part of it.
        let domain_len = after[..scanned].trim_end_matches('.').len();
        let domain = after[..domain_len].to_ascii_lowercase();
        match local_start {
            Some(start) if domain.contains('.') || domain.contains("%2e") => {
                out.push_str(&before[..start]);
                out.push_str("[EMAIL]");
                pos = at + len + domain_len;
                from = pos;
            }
            _ => from = at + len,
        }
    }
    out.push_str(&text[pos..]);
    out
}

/// Whether `value` has the shape of an API key (Freshservice's among them): 16 or more ASCII
/// letters and digits, both present, nothing else. Instance names and variable names rarely do.
pub(crate) fn looks_like_api_key(value: &str) -> bool {
    value.len() >= 16
        && value.bytes().all(|b| b.is_ascii_alphanumeric())
        && value.bytes().any(|b| b.is_ascii_digit())
        && value.bytes().any(|b| b.is_ascii_alphabetic())
}

/// Whether `value` has both upper- and lower-case ASCII letters, as generated keys do and names
/// written by people rarely do.
pub(crate) fn has_mixed_case(value: &str) -> bool {
    value.bytes().any(|b| b.is_ascii_uppercase()) && value.bytes().any(|b| b.is_ascii_lowercase())
}

/// `text` with every occurrence of each of `secrets` (raw, percent-encoded in either case, or
/// JSON-escaped) replaced by `[REDACTED]`: for server messages that echo what they were sent.
/// Values shorter than 4 characters are left alone: they would match ordinary words.
pub(crate) fn credentials<'a>(text: &str, secrets: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = text.to_string();
    for secret in secrets.into_iter().filter(|s| s.len() >= MIN_SECRET_CHARS) {
        for spelling in spellings(secret) {
            if out.contains(&spelling) {
                out = out.replace(&spelling, REDACTED);
            }
        }
    }
    out
}

/// The ways a server may echo `secret`: as is, percent-encoded (upper- and lower-case hex), and
/// JSON-escaped (`/` as `\/`). A base64 header value holds `+`, `/` and `=`, which a query string
/// or a JSON body encodes.
fn spellings(secret: &str) -> Vec<String> {
    let percent = |upper: bool| -> String {
        secret
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
                _ if upper => format!("%{b:02X}"),
                _ => format!("%{b:02x}"),
            })
            .collect()
    };
    let mut forms = vec![secret.to_string()];
    for form in [percent(true), percent(false), secret.replace('/', "\\/")] {
        if !forms.contains(&form) {
            forms.push(form);
        }
    }
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_sees_through_unicode_tricks_and_quoted_names() {
        let clean = |t: &str| t.to_string();
        for (input, expected) in [
            ("jose\u{301}@example.com left", "[EMAIL] left"),
            ("jane\u{200B}@example.com", "[EMAIL]"),
            ("jane@exa\u{AD}mple.com", "[EMAIL]"),
            ("jane@example\u{301}.com", "[EMAIL]"),
            ("\"john doe\"@example.com exists", "[EMAIL] exists"),
            ("x \u{202E}moc.elpmaxe@enaj", "x moc.elpmaxe@enaj"),
            ("line\u{2028}break\u{2029}and\u{7}bell", "linebreakand bell"),
            ("ping me @home or a@b", "ping me @home or a@b"),
            ("user@example.com.", "[EMAIL]."),
        ] {
            assert_eq!(sanitize_server_text(input, 100, &clean), expected, "{input:?}");
        }
    }

    #[test]
    fn every_spelling_of_an_address_is_masked() {
        for (input, expected) in [
            (
                "Cannot GET /api/v2/requesters?email=jane.doe%40example.com",
                "Cannot GET /api/v2/requesters?email=[EMAIL]",
            ),
            ("?email=Jane%2BHR%40Example%2Ecom&page=1", "?email=[EMAIL]&page=1"),
            ("to=jane+hr%40EXAMPLE.COM.", "to=[EMAIL]."),
            ("jane%2540example.com", "[EMAIL]"),
            (r"jane\u002bhr\u0040example.com", "[EMAIL]"),
            (r"jane\U0040example.com", "[EMAIL]"),
            ("jane&#64;example.com, jane&#x40;example.com, jane&commat;example.com", "[EMAIL], [EMAIL], [EMAIL]"),
            ("mailto:jane@example.com", "mailto:[EMAIL]"),
            ("a%40b 100%40 @home x@y %40", "a%40b 100%40 @home x@y %40"),
            ("a@b then c%40d.org", "a@b then [EMAIL]"),
        ] {
            assert_eq!(mask_emails(input), expected, "{input:?}");
        }
    }

    #[test]
    fn nothing_straddling_the_cut_survives_half_masked() {
        let same = |t: &str| t.to_string();
        let clean = |t: &str| t.replace("tok-SECRET-0123456789", "[REDACTED]");
        // The address spans characters 491..511 and the cut is at 500: it is masked whole.
        let text = format!("{} jane.doe@example.com and tok-SECRET-0123456789", "x".repeat(489));
        assert_eq!(sanitize_server_text(&text, 500, &clean), format!("{} [EMAIL] an…", "x".repeat(489)));
        // The credential spans the cut: it is redacted whole, then cut.
        let text = format!("{} tok-SECRET-0123456789", "y".repeat(494));
        assert_eq!(sanitize_server_text(&text, 500, &clean), format!("{} [REDA…", "y".repeat(494)));
        let body = format!("{} jane.doe@example.com", "z".repeat(194));
        assert_eq!(excerpt(body.as_bytes(), &same), format!("{} [EMAI", "z".repeat(194)));
    }

    #[test]
    fn excerpt_is_bounded_and_redacts_credential_markers() {
        let same = |t: &str| t.to_string();
        let long = "x".repeat(5000);
        assert_eq!(excerpt(long.as_bytes(), &same).len(), EXCERPT_CHARS);
        assert_eq!(excerpt(b"<html>\n<b>oops</b>", &same), "<html> <b>oops</b>");
        assert_eq!(excerpt(b"invalid Bearer abc123", &same), "invalid [REDACTED]");
        assert_eq!(excerpt(&[0xff, 0xfe, b'a'], &same), "\u{fffd}\u{fffd}a");
        assert_eq!(
            excerpt(br#"{"userName":"jane.doe+hr@example.co.uk","x":"a@b","y":"@home.example.com"}"#, &same),
            r#"{"userName":"[EMAIL]","x":"a@b","y":"@home.example.com"}"#
        );
        assert_eq!(excerpt("ünïcode@ex.org ok".as_bytes(), &same), "[EMAIL] ok");
    }

    #[test]
    fn credentials_are_redacted_in_every_echoed_spelling() {
        let secrets = ["az4/fms+P346WA==", "svc-user", "X"];
        for echo in ["az4/fms+P346WA==", "az4%2Ffms%2BP346WA%3D%3D", "az4%2ffms%2bP346WA%3d%3d", "az4\\/fms+P346WA=="] {
            assert_eq!(credentials(&format!("got {echo}."), secrets), "got [REDACTED].", "{echo}");
        }
        // Short values would match ordinary words: `X` stays.
        assert_eq!(credentials("svc-user rejected; X stays", secrets), "[REDACTED] rejected; X stays");
        assert_eq!(credentials("nothing here", []), "nothing here");
    }
}
