//! Property tests of every base-URL constructor (`new` and `for_loopback` of each connector) with
//! any string: no input panics; what is accepted is an `https` URL (or, through `for_loopback`, a
//! loopback one) with no user info, query, fragment, whitespace or control character; what is
//! refused is an `InvalidConfig` whose text is one bounded line.
//!
//! Inputs: any Unicode, URL-shaped strings built from tricky schemes, hosts (loopback in all its
//! spellings, look-alikes, IDNs), ports and path segments, then damaged by inserted control,
//! invisible and separator characters; and inputs of megabytes.
//!
//! CI runs the default (about 16,000 cases). The long run, which prints
//! `fuzz_base_url: 1000000 cases, 0 panics`:
//!
//! ```text
//! FUZZ_CASES=1000000 cargo test --release --test fuzz_base_url -- --nocapture
//! ```

#[path = "support/fuzz/mod.rs"]
mod fuzz_support;

use std::net::IpAddr;

use fuzz_support::{Binary, is_single_line};
use identity_connectors::{Error, FreshserviceApiKey, InteractBearer, ScimBearer};
use proptest::prelude::*;
use proptest::sample::Index;
use url::{Host, Url};

const BINARY: Binary = Binary { name: "fuzz_base_url", default_cases: 16_000, properties: 6, total_weight: 6 };

/// The longest refusal a constructor may print.
const MAX_ERROR_CHARS: usize = 600;

fn pick(items: &[&'static str]) -> BoxedStrategy<String> {
    proptest::sample::select(items.to_vec()).prop_map(str::to_string).boxed()
}

/// Characters that must never survive into an accepted URL, or that URL parsers strip silently.
fn nasty_char() -> BoxedStrategy<char> {
    prop_oneof![
        3 => proptest::sample::select(vec![
            '\t', '\n', '\r', '\0', '\u{7f}', '\u{85}', '\u{a0}', '\u{2028}', '\u{200b}', '\u{feff}', '\u{202e}', ' ',
            '\\', '@', '#', '?', '%', ':', '/', '.', '[', ']',
        ]),
        1 => any::<char>(),
    ]
    .boxed()
}

/// A URL assembled from tricky parts.
fn url_shaped() -> BoxedStrategy<String> {
    let scheme = pick(&["https", "http", "HTTPS", "hTTp", "ftp", "javascript", "file", "ws", ""]);
    let separator = pick(&["://", "://", "://", ":/", ":", ":///", "//", ":\\\\"]);
    let userinfo = pick(&["", "", "", "user@", "svc:Pw0rd@", ":@", "@", "a@b@"]);
    let host = prop_oneof![
        4 => pick(&[
            "localhost", "LOCALHOST", "localhost.", "127.0.0.1", "127.1", "127.255.255.254", "0x7f.1", "2130706433",
            "017700000001", "[::1]", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]", "0.0.0.0", "[::]", "acme.freshservice.com",
            "ACME.FreshService.com.", "api.freshservice.com", "acme.freshworks.com", "freshservice.com", "bücher.example",
            "xn--bcher-kva.example", "example.com", "127.0.0.1.nip.io", "localhost.evil.com", "evil.com#@127.0.0.1",
            "%31%32%37.0.0.1", "acme", "",
        ]),
        1 => "[a-z0-9.-]{0,20}",
    ];
    let port = pick(&["", "", "", ":", ":0", ":443", ":8080", ":65535", ":65536", ":99999999999", ":-1", ":x"]);
    let segment = prop_oneof![
        3 => pick(&["api", "v2", "scim", "Users", "", ".", "..", "%2e%2e", "%2F", "a%00b", "%zz", "a b", "ü", "a\\b"]),
        1 => "[ -~]{0,8}",
    ];
    let path = proptest::collection::vec(segment, 0..5)
        .prop_map(|segments| if segments.is_empty() { String::new() } else { format!("/{}", segments.join("/")) });
    let tail = pick(&["", "", "", "/", "?", "?a=1", "#", "#x", "?filter=userName%20eq%20%22a%22"]);
    let padding = pick(&["", "", "", " ", "\t", "\n", "\u{a0}"]);
    (scheme, separator, userinfo, host, port, path, tail, padding.clone(), padding)
        .prop_map(|(scheme, sep, userinfo, host, port, path, tail, before, after)| {
            format!("{before}{scheme}{sep}{userinfo}{host}{port}{path}{tail}{after}")
        })
        .boxed()
}

/// `base` with nasty characters inserted at random places.
fn damaged(base: BoxedStrategy<String>) -> BoxedStrategy<String> {
    let inserts =
        prop_oneof![2 => Just(Vec::new()), 1 => proptest::collection::vec((any::<Index>(), nasty_char()), 1..4)];
    (base, inserts)
        .prop_map(|(mut text, inserts)| {
            for (at, c) in inserts {
                let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
                text.insert(boundaries[at.index(boundaries.len())], c);
            }
            text
        })
        .boxed()
}

/// A length for a long input: mostly thousands of characters, rarely megabytes (slow to parse).
fn long() -> BoxedStrategy<usize> {
    prop_oneof![100 => 1usize..5_000, 1 => Just(2_200_000usize)].boxed()
}

/// Any input a constructor may be given.
fn input() -> BoxedStrategy<String> {
    prop_oneof![
        6 => damaged(url_shaped()),
        2 => any::<String>(),
        1 => "\\PC{0,40}",
        1 => long().prop_map(|n| format!("https://{}.example.com/", "a".repeat(n))),
        1 => long().prop_map(|n| format!("acme\n{}", "x".repeat(n))),
    ]
    .boxed()
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// What every accepted base URL must be.
fn check_accepted(url: &Url, loopback: bool) -> Result<(), TestCaseError> {
    let text = url.as_str();
    prop_assert!(!text.chars().any(|c| c.is_control() || c.is_whitespace()), "accepted {text:?}");
    prop_assert!(url.username().is_empty() && url.password().is_none(), "user info kept: {text:?}");
    prop_assert!(url.query().is_none() && url.fragment().is_none(), "query or fragment kept: {text:?}");
    prop_assert!(url.host_str().is_some_and(|h| !h.is_empty()), "no host: {text:?}");
    if loopback {
        prop_assert!(matches!(url.scheme(), "http" | "https"), "scheme of {text:?}");
        prop_assert!(is_loopback(url), "for_loopback accepted a non-loopback host: {text:?}");
    } else {
        prop_assert_eq!(url.scheme(), "https", "new accepted {:?}", text);
    }
    Ok(())
}

/// What every refusal must be: a configuration error in one bounded line.
fn check_refused(error: &Error) -> Result<(), TestCaseError> {
    check_refused_kind(error)?;
    let text = error.to_string();
    prop_assert!(is_single_line(&text), "refusal spans lines: {text:?}");
    prop_assert!(text.chars().count() <= MAX_ERROR_CHARS, "refusal of {} chars", text.chars().count());
    Ok(())
}

/// A refusal is a configuration error (its text unchecked).
fn check_refused_kind(error: &Error) -> Result<(), TestCaseError> {
    prop_assert!(matches!(error, Error::InvalidConfig { .. }), "not InvalidConfig: {error:?}");
    Ok(())
}

#[test]
fn scim_new() {
    BINARY.check("ScimBearer::new", 1, input(), |input| match ScimBearer::new(&input, "token") {
        Ok(c) => check_accepted(c.base_url(), false),
        Err(e) => check_refused(&e),
    });
}

#[test]
fn scim_for_loopback() {
    BINARY.check("ScimBearer::for_loopback", 1, input(), |input| match ScimBearer::for_loopback(&input, "token") {
        Ok(c) => check_accepted(c.base_url(), true),
        Err(e) => check_refused(&e),
    });
}

#[test]
fn interact_new() {
    BINARY.check("InteractBearer::new", 1, input(), |input| match InteractBearer::new(&input, "token") {
        Ok(c) => check_accepted(c.base_url(), false),
        Err(e) => check_refused(&e),
    });
}

#[test]
fn interact_for_loopback() {
    BINARY.check("InteractBearer::for_loopback", 1, input(), |input| {
        match InteractBearer::for_loopback(&input, "token") {
            Ok(c) => check_accepted(c.base_url(), true),
            Err(e) => check_refused(&e),
        }
    });
}

fn freshservice_instances() -> BoxedStrategy<String> {
    prop_oneof![
        3 => input(),
        1 => damaged("[a-z0-9-]{1,70}(\\.freshservice\\.com)?(/api/v2/?)?".boxed()),
    ]
    .boxed()
}

fn check_freshservice_new(input: &str, refused: fn(&Error) -> Result<(), TestCaseError>) -> Result<(), TestCaseError> {
    match FreshserviceApiKey::new(input, "api-key") {
        Ok(c) => {
            let url = c.base_url();
            check_accepted(url, false)?;
            let host = url.host_str().unwrap_or_default();
            prop_assert!(host.ends_with(".freshservice.com") && host.matches('.').count() == 2, "host {host:?}");
            prop_assert_eq!(url.path(), "/api/v2");
            prop_assert!(url.port().is_none());
            Ok(())
        }
        Err(e) => refused(&e),
    }
}

#[test]
fn freshservice_new() {
    BINARY.check("FreshserviceApiKey::new", 1, freshservice_instances(), |input| {
        check_freshservice_new(&input, check_refused_kind)
    });
}

/// The refusal-text half of `freshservice_new`: a refusal is one bounded line that never repeats
/// its raw input (before issue 9 point 3 it kept newlines and grew with the input).
#[test]
fn freshservice_new_refusals_are_one_bounded_line() {
    BINARY.check("FreshserviceApiKey::new refusals", 1, freshservice_instances(), |input| {
        check_freshservice_new(&input, check_refused)
    });
}

#[test]
fn freshservice_for_loopback() {
    BINARY.check("FreshserviceApiKey::for_loopback", 1, input(), |input| {
        match FreshserviceApiKey::for_loopback(&input, "api-key") {
            Ok(c) => check_accepted(c.base_url(), true),
            Err(e) => check_refused(&e),
        }
    });
}
