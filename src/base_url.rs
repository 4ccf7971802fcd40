//! Base-URL normalisation and safe endpoint joining.
//!
//! `Url::join("Users")` on `https://host/api/v2/scim/v2` yields `https://host/api/v2/scim/Users`:
//! it drops the last segment unless the base ends in `/`. This crate never calls `join`: it
//! appends segments with [`endpoint`], which keeps every segment of the base and percent-encodes
//! each appended one, so an id holding `/`, `?` or `#` stays one segment.

use std::net::IpAddr;

use url::{Host, Url};

use crate::error::{Error, FieldError, Result};

/// Whether plain `http` is allowed: only for loopback hosts, through the `for_loopback`
/// constructors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// `https` only.
    HttpsOnly,
    /// `http` or `https`, and the host must be loopback.
    Loopback,
}

/// Parses and checks a service base URL: trims whitespace, requires `https` (or a loopback host
/// with [`Scheme::Loopback`]), rejects user info, query, fragment, empty host and non-URLs, keeps
/// the path and drops one trailing slash.
pub(crate) fn parse_base_url(input: &str, scheme: Scheme, what: &str) -> Result<Url> {
    let trimmed = input.trim_matches(|c: char| c.is_whitespace());
    if trimmed.is_empty() {
        return Err(Error::invalid_config(format!(
            "the {what} is empty; give a full address such as https://intranet.example.com/api/v2/scim/v2"
        )));
    }
    if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid_config(format!("the {what} contains whitespace; remove it")));
    }
    let url = Url::parse(trimmed).map_err(|e| {
        Error::invalid_config(format!(
            "the {what} is not a URL ({e}); expected a full address such as https://intranet.example.com/api/v2/scim/v2"
        ))
    })?;
    match (url.scheme(), scheme) {
        ("https", _) => {}
        ("http", Scheme::Loopback) => {}
        ("http", Scheme::HttpsOnly) => {
            return Err(Error::invalid_config(format!(
                "the {what} must use https; plain http is accepted only for loopback test servers, through `for_loopback`"
            )));
        }
        _ => {
            return Err(Error::invalid_config(format!(
                "the {what} must use https, not {}; give an https address",
                scheme_name(&url)
            )));
        }
    }
    if url.cannot_be_a_base() || url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid_config(format!(
            "the {what} has no host; give a full address such as https://intranet.example.com/api/v2/scim/v2"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_config(format!(
            "the {what} must not contain a user name or password; pass the credential separately"
        )));
    }
    if url.query().is_some() {
        return Err(Error::invalid_config(format!("the {what} must not contain a query (`?…`); remove it")));
    }
    if url.fragment().is_some() {
        return Err(Error::invalid_config(format!("the {what} must not contain a fragment (`#…`); remove it")));
    }
    if scheme == Scheme::Loopback && !is_loopback(&url) {
        return Err(Error::invalid_config(format!(
            "`for_loopback` accepts only 127.0.0.0/8, localhost or [::1]; the {what} names another host"
        )));
    }
    let mut url = url;
    if url.path().len() > 1 && url.path().ends_with('/') {
        let path = url.path().trim_end_matches('/').to_string();
        url.set_path(if path.is_empty() { "/" } else { &path });
    }
    Ok(url)
}

/// The URL's scheme quoted for an error message when it is a short word (`ftp`, `mailto`), else
/// `another scheme`: a pasted credential can parse as a scheme (`sk-live-…:`), and errors never
/// repeat one.
pub(crate) fn scheme_name(url: &Url) -> String {
    let scheme = url.scheme();
    if scheme.len() <= 10 && scheme.bytes().all(|b| b.is_ascii_lowercase()) {
        format!("`{scheme}`")
    } else {
        "another scheme".to_string()
    }
}

/// Whether the URL's host is a loopback address or `localhost`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// `base` with `segments` appended, each as exactly one percent-encoded path segment.
///
/// Fails, before anything can be sent, for a segment the URL parser would not carry as given
/// ([`segment_problem`]), so an id can never change which resource a request addresses. Every
/// connector builds its paths here, so a new one gets the check for free.
pub(crate) fn endpoint(base: &Url, segments: &[&str]) -> Result<Url> {
    for segment in segments {
        if let Some(problem) = segment_problem(segment) {
            // The value stays out of the message: it may be anything, including a log-line forgery.
            return Err(Error::invalid_input(
                "a user id (or another path segment) cannot be used in a URL",
                vec![FieldError::new("id", problem)],
            ));
        }
    }
    let mut url = base.clone();
    url.path_segments_mut()
        .map_err(|()| Error::invalid_config("the base URL cannot carry a path"))?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

/// Why `segment` cannot be sent as one path segment, if it cannot.
///
/// The `url` crate's segment setter percent-encodes `/`, `?`, `#`, `%`, `\\`, spaces and non-ASCII
/// faithfully (so `%2e%2e` goes out as `%252e%252e` and stays literal), but it silently drops TAB,
/// LF and CR, after its own `.`/`..` check, and skips `.` and `..` without a word: `u-1\n`
/// would address `u-1`, `.\t.` the parent collection and `\t` the collection itself. Those are
/// refused, as are empty segments and every other control character (C0, DEL, C1), which no
/// identifier legitimately holds and which servers and logs treat inconsistently.
fn segment_problem(segment: &str) -> Option<&'static str> {
    if segment.is_empty() {
        Some("is empty")
    } else if segment.chars().any(char::is_control) {
        Some("contains a control character (such as a tab or a line break), which the URL parser drops or rewrites")
    } else if matches!(segment, "." | "..") {
        Some("is `.` or `..`, which a URL resolves to another path")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_keeps_base_segments_and_encodes_ids() {
        let base = parse_base_url("https://h/api/v2/scim/v2/", Scheme::HttpsOnly, "URL").unwrap();
        assert_eq!(endpoint(&base, &["Users"]).unwrap().as_str(), "https://h/api/v2/scim/v2/Users");
        for (id, path) in [
            ("a/b", "/api/v2/scim/v2/Users/a%2Fb"),
            ("../x", "/api/v2/scim/v2/Users/..%2Fx"),
            ("a?b=c", "/api/v2/scim/v2/Users/a%3Fb=c"),
            ("a#b", "/api/v2/scim/v2/Users/a%23b"),
            ("a b", "/api/v2/scim/v2/Users/a%20b"),
            ("%2e%2e", "/api/v2/scim/v2/Users/%252e%252e"),
        ] {
            let url = endpoint(&base, &["Users", id]).unwrap();
            assert_eq!(url.path(), path, "id {id:?}");
            assert_eq!(url.query(), None);
            assert_eq!(url.fragment(), None);
        }
        for bad in ["", ".", "..", "u-1\n", "\tu-1", "u-1\r", ".\t.", "\t", "a\u{0}b", "a\u{1b}b", "a\u{7f}", "a\u{85}"]
        {
            let error = endpoint(&base, &["Users", bad]).unwrap_err();
            let Error::Validation(v) = &error else { panic!("{bad:?}: {error:?}") };
            assert_eq!(v.status, None);
            assert!(!error.to_string().chars().any(char::is_control), "{error}");
        }
        let error = endpoint(&base, &["Users", "u-1\n"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Validation failed before sending (nothing was sent): a user id (or another path segment) cannot be used in a URL; id: contains a control character (such as a tab or a line break), which the URL parser drops or rewrites"
        );
    }
}
