//! What the request path hands back: a [`Response`] read in full, the `Retry-After` parser, and the
//! generic reading of an error body.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName};
use serde::de::DeserializeOwned;

use super::credential::Credential;
use crate::error::{DecodeError, Error, Result};

/// `X-RateLimit-Remaining`, read on every answer.
pub(crate) const X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
/// `X-RateLimit-Total`.
pub(crate) const X_RATELIMIT_TOTAL: HeaderName = HeaderName::from_static("x-ratelimit-total");
pub(crate) use reqwest::header::{ETAG, RETRY_AFTER};

/// A response, with its body read in full (up to the client's size cap).
#[derive(Clone)]
pub struct Response {
    status: u16,
    headers: Headers,
    body: Bytes,
    /// The credential its request was sent with, redacted from every excerpt and message built
    /// from the body (servers echo what they were sent). `None` when built by hand.
    credential: Option<Arc<Credential>>,
}

/// The headers, kept as they came: the transport's map is not copied into strings.
#[derive(Clone)]
enum Headers {
    /// As the request path received them.
    Received(HeaderMap),
    /// As given to [`Response::new`].
    Given(Vec<(String, String)>),
}

impl Response {
    /// A response from its parts (for connector tests and the sandbox).
    pub fn new(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Self {
        Response { status, headers: Headers::Given(headers), body: Bytes::from(body), credential: None }
    }

    /// A response the request path received for a request sent with `credential`.
    pub(super) fn received(status: u16, headers: HeaderMap, body: Bytes, credential: Arc<Credential>) -> Self {
        Response { status, headers: Headers::Received(headers), body, credential: Some(credential) }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Whether the status is `2xx`.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first value of header `name` (case-insensitive), if present and valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        match &self.headers {
            Headers::Received(map) => first_text(map, name),
            Headers::Given(list) => list.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()),
        }
    }

    /// [`header`](Self::header) by a name parsed once, for the names the crate itself reads on
    /// every response (no parsing of the name per look-up).
    pub(crate) fn known_header(&self, name: &HeaderName) -> Option<&str> {
        match &self.headers {
            Headers::Received(map) => first_text(map, name),
            Headers::Given(_) => self.header(name.as_str()),
        }
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Whether the body is empty or only whitespace.
    pub fn is_empty(&self) -> bool {
        self.body.iter().all(u8::is_ascii_whitespace)
    }

    /// Parses the body as JSON into `T`. An empty body or a shape mismatch is an
    /// [`Error::Decode`](crate::Error::Decode) with a short excerpt of the body.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        self.json_with(|body| serde_json::from_slice(body))
    }

    /// [`json`](Self::json) with the body read by `read` (a reader of the crate's own that does
    /// not go through `Deserialize`), with the same errors.
    pub(crate) fn json_with<T>(&self, read: impl FnOnce(&[u8]) -> serde_json::Result<T>) -> Result<T> {
        if self.is_empty() {
            return Err(self.empty_body());
        }
        read(&self.body).map_err(|e| self.unreadable(&e))
    }

    // The failures of `json_with`, cold and out of line: the code every readable body runs
    // stays together (fewer instruction-cache lines per response).
    #[cold]
    #[inline(never)]
    fn empty_body(&self) -> Error {
        DecodeError::new(Some(self.status), "expected a JSON body, got an empty one", &[]).into()
    }

    #[cold]
    #[inline(never)]
    fn unreadable(&self, error: &serde_json::Error) -> Error {
        // serde's message can quote a value from the body, so it is redacted like the excerpt.
        self.decode_error(format!("unexpected response body: {error}")).into()
    }

    /// A decode error for this response: `message` and an excerpt of the body, with e-mail
    /// addresses masked and, for a response an [`Http`](crate::Http) received, the credential its
    /// request was sent with redacted (before the excerpt is cut, so none survives half-visible).
    /// Connectors build every decode error that quotes a body this way.
    pub fn decode_error(&self, message: impl Into<String>) -> DecodeError {
        DecodeError::redacted(Some(self.status), message, &self.body, &|text| self.redact(text))
    }

    /// `text` with the credential its request was sent with replaced by `[REDACTED]`.
    pub(crate) fn redact(&self, text: &str) -> String {
        match &self.credential {
            Some(credential) => credential.redact(text),
            None => text.to_string(),
        }
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response").field("status", &self.status).field("body_bytes", &self.body.len()).finish()
    }
}

/// The first value of header `name` that is text. A name that is no valid header name matches
/// nothing; a value that is not visible ASCII is skipped, as it cannot be read as text.
fn first_text<K: reqwest::header::AsHeaderName>(map: &HeaderMap, name: K) -> Option<&str> {
    map.get_all(name).iter().find_map(|value| value.to_str().ok())
}

/// The longest `Retry-After` taken at face value; a larger one (or a date further ahead) is read
/// as this, so no server-sent number can overflow a clock computation.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Parses `Retry-After` in both forms: delta-seconds (`120`) and an HTTP-date; at most
/// [`MAX_RETRY_AFTER`].
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    let wait = if value.bytes().all(|b| b.is_ascii_digit()) && !value.is_empty() {
        // Any run of digits is a valid (if absurd) delay: saturate instead of rejecting it.
        value.parse::<u64>().map_or(MAX_RETRY_AFTER, Duration::from_secs)
    } else {
        let when = httpdate::parse_http_date(value).ok()?;
        when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_headers_are_read_as_received() {
        use reqwest::header::{HeaderName, HeaderValue};
        let mut map = HeaderMap::new();
        map.append(HeaderName::from_static("x-ratelimit-remaining"), HeaderValue::from_static(" 5"));
        // A value that is not visible ASCII cannot be read as text: the next one is.
        map.append(HeaderName::from_static("etag"), HeaderValue::from_bytes(b"W/\"\xff\"").unwrap());
        map.append(HeaderName::from_static("etag"), HeaderValue::from_static("W/\"2\""));
        let credential =
            Arc::new(Credential::new(&crate::Authorization::bearer(&"tok-123456".into()).unwrap()).unwrap());
        let response = Response::received(200, map, Bytes::from_static(b"{}"), credential);
        assert_eq!(response.header("X-RateLimit-Remaining"), Some(" 5"));
        assert_eq!(response.header("ETag"), Some("W/\"2\""));
        assert_eq!(response.header("retry-after"), None);
        assert_eq!(response.header("not a header name"), None);
        assert_eq!(response.known_header(&X_RATELIMIT_REMAINING), Some(" 5"));
        assert_eq!(response.known_header(&ETAG), Some("W/\"2\""));
        assert_eq!(response.known_header(&RETRY_AFTER), None);
        assert_eq!(response.body(), b"{}");
        let given = Response::new(204, vec![("ETag".into(), "W/\"1\"".into())], Vec::new());
        assert_eq!(given.header("etag"), Some("W/\"1\""));
        assert!(given.is_empty());
    }

    #[test]
    fn retry_after_both_forms() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(90));
        let parsed = parse_retry_after(&future).unwrap();
        assert!(parsed <= Duration::from_secs(90) && parsed >= Duration::from_secs(88), "{parsed:?}");
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("-5"), None);
        assert_eq!(parse_retry_after(""), None);
        assert_eq!(parse_retry_after("9999999999999999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("99999999999999999999999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT"), Some(MAX_RETRY_AFTER));
    }
}
