//! The one request path: every HTTP request of every connector goes through [`Http::send`].
//!
//! That is where the `Authorization` header is attached (marked sensitive), the timeout and
//! response-size cap apply, retries and rate-limit pacing happen, `X-RateLimit-*` headers are
//! recorded, non-success responses become typed [`Error`]s, and each attempt is traced. No
//! `reqwest` type appears in this module's public items.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::Semaphore;
use tracing::Instrument as _;
use url::Url;

use crate::connector::Connector;
use crate::error::{ApiError, DecodeError, Error, FieldError, Result, TransportError, TransportErrorKind};
use crate::pacing::{Pacer, PacingLimits, fits};
use crate::retry::{RetryDecision, RetryPolicy};

/// An HTTP method. Only the ones the lifecycle needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`: never retried blindly, since it may create.
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl Method {
    /// The method's name, as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// Whether repeating the request has the same effect as sending it once. `POST` is not.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Method::Post)
    }

    fn to_reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request a connector asks [`Http`] to send.
#[derive(Clone)]
pub struct Request {
    method: Method,
    url: Url,
    path_template: &'static str,
    body: Option<(&'static str, Vec<u8>)>,
}

impl Request {
    /// A request to `url`. `path_template` names the endpoint in traces and errors without ids,
    /// query strings or e-mail addresses, for example `/Users/{id}`.
    pub fn new(method: Method, url: Url, path_template: &'static str) -> Self {
        Request { method, url, path_template, body: None }
    }

    /// A `GET` request.
    pub fn get(url: Url, path_template: &'static str) -> Self {
        Request::new(Method::Get, url, path_template)
    }

    /// A `POST` request.
    pub fn post(url: Url, path_template: &'static str) -> Self {
        Request::new(Method::Post, url, path_template)
    }

    /// A `PUT` request.
    pub fn put(url: Url, path_template: &'static str) -> Self {
        Request::new(Method::Put, url, path_template)
    }

    /// A `PATCH` request.
    pub fn patch(url: Url, path_template: &'static str) -> Self {
        Request::new(Method::Patch, url, path_template)
    }

    /// A `DELETE` request.
    pub fn delete(url: Url, path_template: &'static str) -> Self {
        Request::new(Method::Delete, url, path_template)
    }

    /// Sets a JSON body, sent with exactly one `Content-Type: <content_type>` header.
    pub fn json<T: Serialize + ?Sized>(mut self, content_type: &'static str, body: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::invalid_input(format!("the request body could not be encoded: {e}"), Vec::new()))?;
        self.body = Some((content_type, bytes));
        Ok(self)
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The full URL (which may carry a query with personal data: do not log it).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The endpoint's template, safe to log.
    pub fn path_template(&self) -> &'static str {
        self.path_template
    }

    /// The body, if any, with its content type.
    pub fn body(&self) -> Option<(&'static str, &[u8])> {
        self.body.as_ref().map(|(ct, b)| (*ct, b.as_slice()))
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path_template)
            .field("body_bytes", &self.body.as_ref().map(|(_, b)| b.len()))
            .finish()
    }
}

/// A response, with its body read in full (up to the client's size cap).
#[derive(Clone)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// The connector that received it, whose credential is redacted from every excerpt and
    /// message built from the body (servers echo what they were sent). `None` when built by hand.
    connector: Option<Arc<dyn Connector>>,
}

impl Response {
    /// A response from its parts (for connector tests and the sandbox).
    pub fn new(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Self {
        Response { status, headers, body, connector: None }
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
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
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
    /// [`Error::Decode`] with a short excerpt of the body.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        if self.is_empty() {
            return Err(DecodeError::new(Some(self.status), "expected a JSON body, got an empty one", &[]).into());
        }
        // serde's message can quote a value from the body, so it is redacted like the excerpt.
        serde_json::from_slice(&self.body)
            .map_err(|e| self.decode_error(format!("unexpected response body: {e}")).into())
    }

    /// A decode error for this response: `message` and an excerpt of the body, with e-mail
    /// addresses masked and, for a response a [`Http`] received, the connector's credential
    /// redacted (before the excerpt is cut, so none survives half-visible). Connectors build every
    /// decode error that quotes a body this way.
    pub fn decode_error(&self, message: impl Into<String>) -> DecodeError {
        DecodeError::redacted(Some(self.status), message, &self.body, &|text| self.redact(text))
    }

    /// `text` with the receiving connector's credential replaced by `[REDACTED]`.
    pub(crate) fn redact(&self, text: &str) -> String {
        match &self.connector {
            Some(connector) => connector.authorization().redact(text),
            None => text.to_string(),
        }
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response").field("status", &self.status).field("body_bytes", &self.body.len()).finish()
    }
}

/// The budget a server reported in its latest `X-RateLimit-Total` / `X-RateLimit-Remaining`
/// headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitStatus {
    /// Requests allowed per window (`X-RateLimit-Total`), if sent.
    pub total: Option<u64>,
    /// Requests left in the current window (`X-RateLimit-Remaining`).
    pub remaining: u64,
    /// When the headers were read.
    pub observed_at: Instant,
}

/// The settings of the request path, fixed when a [`Client`](crate::Client) is built.
#[derive(Debug, Clone)]
pub(crate) struct HttpConfig {
    pub(crate) timeout: Duration,
    pub(crate) user_agent: String,
    pub(crate) max_response_bytes: usize,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_in_flight: usize,
    pub(crate) rate_limit_window: Duration,
}

/// The handle a connector sends its requests through. Cheap to clone.
#[derive(Clone)]
pub struct Http {
    inner: reqwest::Client,
    connector: Arc<dyn Connector>,
    config: Arc<HttpConfig>,
    in_flight: Arc<Semaphore>,
    rate: Arc<Pacer>,
}

impl fmt::Debug for Http {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Http")
            .field("connector", &self.connector.kind())
            .field("timeout", &self.config.timeout)
            .field("max_response_bytes", &self.config.max_response_bytes)
            .field("retry", &self.config.retry)
            .field("max_in_flight", &self.config.max_in_flight)
            .field("rate_limit_window", &self.config.rate_limit_window)
            .finish()
    }
}

impl Http {
    pub(crate) fn new(connector: Arc<dyn Connector>, config: HttpConfig) -> Result<Self> {
        let inner = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .user_agent(config.user_agent.clone())
            // A redirect could carry the Authorization header to another host; APIs we speak
            // never redirect, so a 3xx is reported instead of followed.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                Error::invalid_config(format!("the HTTP client could not be built: {}", error_without_url(&e)))
            })?;
        let max_in_flight = config.max_in_flight.max(1);
        Ok(Http {
            inner,
            connector,
            config: Arc::new(config),
            in_flight: Arc::new(Semaphore::new(max_in_flight)),
            rate: Arc::new(Pacer::new()),
        })
    }

    /// The connector's base URL with `segments` appended, each as one percent-encoded segment.
    /// An empty, `.` or `..` segment is rejected, so an id can never change the addressed resource.
    pub fn endpoint(&self, segments: &[&str]) -> Result<Url> {
        crate::base_url::endpoint(self.connector.base_url(), segments)
    }

    /// The client's retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.config.retry
    }

    /// How many requests may be in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.config.max_in_flight
    }

    /// The latest rate-limit budget the server reported, if it reports one.
    pub fn rate_limit(&self) -> Option<RateLimitStatus> {
        self.rate.status()
    }

    /// The pacing state and the number of free in-flight slots, for the pacing tests.
    #[cfg(test)]
    pub(crate) fn pacing_parts(&self) -> (&Pacer, usize) {
        (&self.rate, self.in_flight.available_permits())
    }

    /// Sends `request` and returns its `2xx` response. Any other status becomes a typed [`Error`]
    /// through [`Connector::api_error`]; throttled and transient failures are retried per the
    /// client's [`RetryPolicy`] when the request is safe to repeat.
    ///
    /// Every wait of the request (retry waits and rate-limit pacing) counts against the policy's
    /// [`deadline`](RetryPolicy::deadline), measured from this call: a retry whose wait would end
    /// after it is not made (the last error is returned), and a pacing wait that would is skipped
    /// (the request is sent at once and the server's answer decides).
    pub async fn send(&self, request: Request) -> Result<Response> {
        let span = tracing::debug_span!(
            "http_request",
            connector = self.connector.kind(),
            method = request.method.as_str(),
            path = request.path_template,
        );
        self.send_with_retries(&request).instrument(span).await
    }

    async fn send_with_retries(&self, request: &Request) -> Result<Response> {
        // `None` when the deadline is too far ahead to represent: no deadline.
        let deadline = Instant::now().checked_add(self.config.retry.deadline());
        let mut attempt: u32 = 1;
        loop {
            let result = self.attempt(request, attempt, deadline).await;
            let error = match result {
                Ok(response) => return Ok(response),
                Err(error) => error,
            };
            match self.config.retry.decide(request.method, &error, attempt) {
                RetryDecision::GiveUp => return Err(error),
                RetryDecision::RetryAfter(wait) if !fits(deadline, wait) => {
                    tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, error_kind = ?error.kind(), "not retrying: the wait would end after the deadline");
                    return Err(error);
                }
                RetryDecision::RetryAfter(wait) => {
                    tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, error_kind = ?error.kind(), "retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt(&self, request: &Request, attempt: u32, deadline: Option<Instant>) -> Result<Response> {
        let span = tracing::debug_span!("http_attempt", attempt, status = tracing::field::Empty);
        let work = async {
            // Pacing waits without an in-flight slot, so a waiting request never keeps another
            // from being sent; the budget is checked again once a slot is taken, as it may have
            // been spent while this request queued for one.
            let _permit = loop {
                self.pace(deadline).await;
                let permit =
                    self.in_flight.acquire().await.map_err(|_| Error::invalid_config("the client was shut down"))?;
                if self.pacing_wait(deadline).is_none() {
                    break permit;
                }
            };
            let started = Instant::now();
            let result = self.exchange(request).await;
            let elapsed_ms = started.elapsed().as_millis() as u64;
            let status = match &result {
                Ok(response) => Some(response.status),
                Err(error) => error.status(),
            };
            if let Some(status) = status {
                tracing::Span::current().record("status", status);
            }
            match &result {
                Ok(_) => tracing::debug!(status, elapsed_ms, "response"),
                Err(error) => tracing::debug!(status, elapsed_ms, error_kind = ?error.kind(), "request failed"),
            }
            result
        };
        work.instrument(span).await
    }

    /// Waits before a request when the server's reported budget is nearly spent (no more left than
    /// may be in flight) until the window that budget belongs to has reset, instead of running
    /// into `429`. The reset moment is known once the server has sent one `Retry-After`.
    ///
    /// The wait ends early when anything new is learnt (a response that shows budget ends it at
    /// once), and is not started at all when it would end after `deadline`: the request is then
    /// sent at once, and the server's answer decides.
    async fn pace(&self, deadline: Option<Instant>) {
        loop {
            // Subscribed before reading the state, so no change between the two is missed.
            let mut changed = self.rate.subscribe();
            let Some(wait) = self.pacing_wait(deadline) else {
                return;
            };
            tracing::debug!(wait_ms = wait.as_millis() as u64, "pacing: rate-limit budget nearly spent");
            // Either outcome means "check again": the wait is over, or the state changed.
            let _ = tokio::time::timeout(wait, changed.changed()).await;
        }
    }

    /// The pacing wait a request should make now: `None` when there is no need, or when the wait
    /// would end after `deadline`.
    fn pacing_wait(&self, deadline: Option<Instant>) -> Option<Duration> {
        let limits = PacingLimits {
            max_in_flight: self.config.max_in_flight,
            window: self.config.rate_limit_window,
            max_delay: self.config.retry.max_delay(),
        };
        let wait = self.rate.delay(limits, Instant::now())?;
        if fits(deadline, wait) {
            Some(wait)
        } else {
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                "pacing: the wait would end after the deadline; not waiting"
            );
            None
        }
    }

    async fn exchange(&self, request: &Request) -> Result<Response> {
        let mut builder = self
            .inner
            .request(request.method.to_reqwest(), request.url.clone())
            .header(reqwest::header::ACCEPT, self.connector.accept());
        builder = builder.header(reqwest::header::AUTHORIZATION, authorization_header(self.connector.authorization())?);
        if let Some((content_type, body)) = &request.body {
            builder = builder.header(reqwest::header::CONTENT_TYPE, *content_type).body(body.clone());
        }
        let response = builder.send().await.map_err(|e| self.transport_error(request, &e))?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), v.to_string())))
            .collect();
        let body = self.read_body(request, status, response).await?;
        let response = Response { status, headers, body, connector: Some(Arc::clone(&self.connector)) };
        self.record_rate_limit(&response);
        if response.is_success() {
            return Ok(response);
        }
        let retry_after = response.header("retry-after").and_then(parse_retry_after);
        if status == 429 {
            if let Some(wait) = retry_after {
                self.rate.learn_reset(wait, self.config.rate_limit_window, Instant::now());
            }
        }
        let authorization = self.connector.authorization();
        let error = self.connector.api_error(&response).sanitized(|text| authorization.redact(text));
        Err(Error::from_response(error, retry_after))
    }

    async fn read_body(&self, request: &Request, status: u16, mut response: reqwest::Response) -> Result<Vec<u8>> {
        let cap = self.config.max_response_bytes;
        let too_large = || -> Error {
            DecodeError::new(Some(status), format!("the response body exceeds the {cap}-byte limit"), &[]).into()
        };
        if response.content_length().is_some_and(|len| len > cap as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport_error(request, &e))? {
            if body.len() + chunk.len() > cap {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn record_rate_limit(&self, response: &Response) {
        let number = |name: &str| response.header(name).and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(remaining) = number("x-ratelimit-remaining") {
            let status = RateLimitStatus { total: number("x-ratelimit-total"), remaining, observed_at: Instant::now() };
            self.rate.record(status);
        }
    }

    fn transport_error(&self, request: &Request, error: &reqwest::Error) -> Error {
        let kind = if error.is_timeout() {
            TransportErrorKind::Timeout
        } else if error.is_connect() {
            TransportErrorKind::Connect
        } else {
            TransportErrorKind::Other
        };
        // `without_url` keeps the query string (which may hold an e-mail address) out of the
        // message; the path template names the endpoint instead.
        let message = error_without_url(error);
        TransportError::new(kind, request.method.as_str(), request.path_template.to_string(), message, None).into()
    }
}

fn error_without_url(error: &reqwest::Error) -> String {
    // reqwest::Error is not Clone; render its text and its sources without the URL.
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "<url>");
    }
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text.replace(" for url (<url>)", "")
}

/// The `Authorization` header value, marked sensitive so HTTP-level logging never prints it.
fn authorization_header(authorization: &crate::auth::Authorization) -> Result<reqwest::header::HeaderValue> {
    let mut value = reqwest::header::HeaderValue::from_str(authorization.expose())
        .map_err(|_| Error::invalid_config("the credential cannot be sent in an HTTP header"))?;
    value.set_sensitive(true);
    Ok(value)
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

/// Extracts status, code, message and field errors from any JSON error body this crate knows
/// (SCIM, Freshservice, `{"message"}`, `{"error"}`), or an excerpt of any other body.
pub(crate) fn generic_api_error(response: &Response) -> ApiError {
    let status = response.status();
    let parsed: Option<Value> = serde_json::from_slice(response.body()).ok();
    let Some(Value::Object(map)) = parsed else {
        let message = if response.is_empty() {
            reason_phrase(status).to_string()
        } else {
            let excerpt = crate::error::excerpt(response.body(), &|text| response.redact(text));
            format!("{} (body starts: {excerpt:?})", reason_phrase(status))
        };
        return ApiError::new(status, message);
    };
    let get = |key: &str| -> Option<&Value> { map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v) };
    let text = |key: &str| -> Option<String> {
        match get(key)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let code = text("scimType").or_else(|| text("code"));
    let fields: Vec<FieldError> = match get("errors") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| {
                let field = item.get("field").and_then(Value::as_str).unwrap_or("").to_string();
                let message = item.get("message").and_then(Value::as_str)?.to_string();
                let code = item.get("code").and_then(Value::as_str).map(str::to_string);
                Some(FieldError::new(field, message).with_code(code))
            })
            .collect(),
        _ => Vec::new(),
    };
    let message = text("detail")
        .or_else(|| text("description"))
        .or_else(|| text("message"))
        .or_else(|| text("error_description"))
        .or_else(|| text("error"))
        .unwrap_or_else(|| reason_phrase(status).to_string());
    ApiError::new(status, message).with_code(code).with_fields(fields)
}

fn reason_phrase(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("unexpected status")
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn the_authorization_header_is_exact_and_marked_sensitive() {
        let bearer = crate::auth::Authorization::bearer(&"tok-123".into()).unwrap();
        let header = authorization_header(&bearer).unwrap();
        assert!(header.is_sensitive());
        assert_eq!(header.to_str().unwrap(), "Bearer tok-123");
        assert_eq!(format!("{header:?}"), "Sensitive");
        let basic = crate::auth::Authorization::basic(&"abcdefgh12345678".into(), "X").unwrap();
        let header = authorization_header(&basic).unwrap();
        assert!(header.is_sensitive());
        assert_eq!(header.to_str().unwrap(), "Basic YWJjZGVmZ2gxMjM0NTY3ODpY");
    }

    fn response(status: u16, body: &str) -> Response {
        Response::new(status, vec![], body.as_bytes().to_vec())
    }

    #[test]
    fn generic_error_reads_scim_bodies() {
        let e = generic_api_error(&response(
            409,
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"scimType":"uniqueness","detail":"User already exists","status":"409"}"#,
        ));
        assert_eq!(e.to_string(), "HTTP 409 (uniqueness): User already exists");
        assert!(e.is_duplicate());
        let e = generic_api_error(&response(404, r#"{"detail":"Resource 42 not found","status":404}"#));
        assert_eq!(e.to_string(), "HTTP 404: Resource 42 not found");
    }

    #[test]
    fn generic_error_reads_freshservice_bodies() {
        let e = generic_api_error(&response(
            400,
            r#"{"description":"Validation failed","errors":[{"field":"primary_email","message":"It should be a/an String","code":"datatype_mismatch"},{"field":"x","message":"Unexpected/invalid field in request","code":"invalid_field"}]}"#,
        ));
        assert_eq!(
            e.to_string(),
            "HTTP 400: Validation failed; primary_email: It should be a/an String (datatype_mismatch); x: Unexpected/invalid field in request (invalid_field)"
        );
        let e = generic_api_error(&response(
            403,
            r#"{"code":"access_denied","message":"You are not authorized to perform this action."}"#,
        ));
        assert_eq!(e.to_string(), "HTTP 403 (access_denied): You are not authorized to perform this action.");
    }

    #[test]
    fn generic_error_excerpts_non_json() {
        let e = generic_api_error(&response(500, "<html><body>Internal Server Error</body></html>"));
        assert_eq!(
            e.to_string(),
            "HTTP 500: Internal Server Error (body starts: \"<html><body>Internal Server Error</body></html>\")"
        );
        let e = generic_api_error(&response(502, ""));
        assert_eq!(e.to_string(), "HTTP 502: Bad Gateway");
        let e = generic_api_error(&Response::new(500, vec![], vec![0xff, 0x00, 0xfe]));
        assert_eq!(e.status, 500);
    }
}
