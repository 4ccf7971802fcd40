//! Normalises whatever a user pastes as "the Freshservice instance" to its one-label name.

use url::Url;

use crate::error::{Error, Result};
use crate::redact::{has_mixed_case, looks_like_api_key};

const ACCEPTED_FORMS: &str = "use the instance name (`acme`), its host (`acme.freshservice.com`) or a URL on that host";

/// Reduces any accepted form of a Freshservice instance to its one-label name (`acme`).
///
/// Errors name the problem, never the input: what is pasted here by mistake is often a URL with a
/// password, an API key or an e-mail address, and it could be megabytes or forge log lines.
pub(crate) fn normalise_instance(input: &str) -> Result<String> {
    let reject = |why: &str| Error::invalid_config(format!("the Freshservice instance {why}; {ACCEPTED_FORMS}"));
    let trimmed = input.trim_matches(char::is_whitespace);
    if trimmed.is_empty() {
        return Err(Error::invalid_config(format!("the Freshservice instance is empty; {ACCEPTED_FORMS}")));
    }
    if !trimmed.is_ascii() {
        return Err(reject("contains non-ASCII characters"));
    }
    if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(reject("contains whitespace"));
    }
    let host = if trimmed.contains("://") {
        let url = Url::parse(trimmed).map_err(|e| reject(&format!("is not a valid URL ({e})")))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(reject(&format!(
                "uses {}; API v2 is served over https only",
                crate::base_url::scheme_name(&url)
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(reject("contains a user name or password; pass the API key separately"));
        }
        if url.port().is_some() {
            return Err(reject("names a port; API v2 is served on the default https port only"));
        }
        check_path(url.path()).map_err(&reject)?;
        url.host_str().unwrap_or_default().to_string()
    } else {
        let (host, path) = match trimmed.find('/') {
            Some(at) => trimmed.split_at(at),
            None => (trimmed, ""),
        };
        if host.contains(':') || host.contains('@') {
            return Err(reject("names a port or user info; API v2 is served on the default https port only"));
        }
        check_path(path).map_err(&reject)?;
        host.to_string()
    };
    let host = host.to_ascii_lowercase();
    let host = host.strip_suffix('.').unwrap_or(&host);
    let label = if host.contains('.') {
        match host.strip_suffix(".freshservice.com") {
            Some(label) if !label.contains('.') => label,
            Some(_) => return Err(reject("has more than one name before `.freshservice.com`")),
            None if host == "freshservice.com" => return Err(reject("has no instance name")),
            None => {
                return Err(reject(
                    "is not on freshservice.com: API v2 works only via `<name>.freshservice.com`, not via a custom domain (CNAME) or another Freshworks product",
                ));
            }
        }
    } else {
        host
    };
    if matches!(label, "api" | "www" | "scim") {
        return Err(reject("names a Freshservice service host, not an account"));
    }
    let valid_label = !label.is_empty()
        && label.len() <= 63
        && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-');
    if !valid_label {
        return Err(reject("is not a valid instance name (letters, digits and inner hyphens only)"));
    }
    Ok(label.to_string())
}

/// Refuses an API key passed as the instance, or an instance passed as the API key: without this,
/// `new(<key>, "acme")` would build `https://<key>.freshservice.com` and send the key to DNS.
///
/// Freshservice API keys are long runs of ASCII letters and digits (about 20, mixed case);
/// instance names are short, lower-case words. An instance that is such a run is refused when it
/// mixes cases (no instance name is written so; lower-case it if it really is one) or when the key
/// does not look like a key itself. A key holding an address is refused outright. Neither value is
/// ever repeated in the error.
pub(crate) fn check_argument_order(instance: &str, api_key: &str) -> Result<()> {
    argument_order_problem(instance, api_key).map_or(Ok(()), |(_, error)| Err(error))
}

/// The argument [`argument_order_problem`] finds out of place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Misplaced {
    /// The API key holds an address.
    ApiKey,
    /// The instance looks like an API key.
    Instance,
}

/// [`check_argument_order`]'s finding with the argument it is about, so configuration can name
/// the field without reading the message.
pub(crate) fn argument_order_problem(instance: &str, api_key: &str) -> Option<(Misplaced, Error)> {
    let key = api_key.trim();
    let key_lower = key.to_ascii_lowercase();
    if key_lower.contains("freshservice.com") || key_lower.starts_with("http://") || key_lower.starts_with("https://") {
        let error = Error::invalid_config(
            "the API key looks like a Freshservice address: pass the instance (`acme`) first and the API key second",
        );
        return Some((Misplaced::ApiKey, error));
    }
    let instance = instance.trim();
    if looks_like_api_key(instance) && (has_mixed_case(instance) || !looks_like_api_key(key)) {
        let error = Error::invalid_config(
            "the Freshservice instance looks like an API key (a long run of letters and digits): pass the instance name (`acme`) first and the API key second; an instance name that really looks like this is accepted in lower case",
        );
        return Some((Misplaced::Instance, error));
    }
    None
}

/// Accepts an empty path, `/api/v2` (with or without a trailing slash) and UI paths; rejects other
/// API versions.
fn check_path(path: &str) -> std::result::Result<(), &'static str> {
    let path = path.trim_end_matches('/');
    let lower = path.to_ascii_lowercase();
    if lower == "/api" || (lower.starts_with("/api/") && lower != "/api/v2" && !lower.starts_with("/api/v2/")) {
        return Err("names an API path other than `/api/v2`; this crate speaks API v2 only");
    }
    Ok(())
}
