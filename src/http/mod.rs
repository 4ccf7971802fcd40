//! The one request path: every HTTP request of every connector goes through [`Http::send`].
//!
//! That is where the `Authorization` header is attached (marked sensitive), the timeout and
//! response-size cap apply, retries and rate-limit pacing happen, `X-RateLimit-*` headers are
//! recorded, non-success responses become typed [`Error`]s, and each attempt is traced. No
//! `reqwest` type appears in this module's public items.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue};
use tokio::sync::Semaphore;
use tracing::Instrument as _;
use url::Url;

use crate::auth::{Authorization, CredentialSource};
use crate::error::{ApiError, DecodeError, Error, Result, TransportError, TransportErrorKind};

mod call;
mod credential;
mod pacing;
mod request;
mod response;
mod retry;
mod transport;

pub(crate) use call::{Call, current_call_deadline};
pub(crate) use credential::Authorizer;
use credential::Credential;

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
pub use pacing::RateLimitStatus;
use pacing::{Pacer, PacingLimits, Pass, fits};
pub use request::{Method, Request};
pub(crate) use response::ETAG;
pub use response::{MAX_RETRY_AFTER, Response, parse_retry_after};
use retry::RetryDecision;
pub use retry::{DEFAULT_RETRY_DEADLINE, RetryPolicy};
use transport::TlsError;
pub(crate) use transport::Transport;
pub use transport::{ClientIdentity, Proxy, RootCertificate};

/// Reads a non-success response into the server's status, code and message (a connector's
/// [`api_error`](crate::Connector::api_error)).
pub(crate) type ErrorParser = Arc<dyn Fn(&Response) -> ApiError + Send + Sync>;

/// What the request path knows of the app it sends to: everything it needs from a connector,
/// built once by the [`Client`](crate::Client) from it, so this layer knows no connector trait.
pub(crate) struct Target {
    /// The connector's kind, for traces.
    kind: &'static str,
    base_url: Url,
    accept: HeaderValue,
    /// Swapped as a whole (header and redaction together) when the credential changes; requests
    /// take a snapshot, so each is sent and redacted with one credential.
    credential: RwLock<Arc<Credential>>,
    /// Turns a replacement credential into an `Authorization` (the connector's
    /// [`authorization_for`](crate::Connector::authorization_for)).
    authorize: Authorizer,
    /// Read again after a `401`, if set.
    source: Option<Arc<dyn CredentialSource>>,
    api_error: ErrorParser,
    /// Endpoints of one segment (collections such as `Users`), each built once: the `url` crate's
    /// segment editing costs more than the rest of a request's set-up. The first
    /// [`MAX_COLLECTIONS`] names only, so ids sent as one segment cannot grow it.
    collections: RwLock<Vec<(Box<str>, Url)>>,
}

/// The most one-segment endpoints a [`Target`] keeps.
const MAX_COLLECTIONS: usize = 8;

impl Target {
    /// A target from a connector's parts. The `Authorization` and `Accept` header values are built
    /// here, once; one that cannot be sent in a header is an [`Error::InvalidConfig`].
    pub(crate) fn new(
        kind: &'static str,
        base_url: Url,
        accept: &str,
        authorization: &Authorization,
        authorize: Authorizer,
        source: Option<Arc<dyn CredentialSource>>,
        api_error: ErrorParser,
    ) -> Result<Self> {
        let accept = HeaderValue::from_str(accept)
            .map_err(|_| Error::invalid_config("the Accept header cannot be sent in an HTTP header"))?;
        let credential = RwLock::new(Arc::new(Credential::new(authorization)?));
        let collections = RwLock::new(Vec::new());
        Ok(Target { kind, base_url, accept, credential, authorize, source, api_error, collections })
    }

    /// The base URL with `segments` appended (see [`Http::endpoint`]).
    fn endpoint(&self, segments: &[&str]) -> Result<Url> {
        let [segment] = segments else {
            return crate::base_url::endpoint(&self.base_url, segments);
        };
        // A poisoned lock still holds whole entries: each is pushed whole.
        let known = self.collections.read().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, url)) = known.iter().find(|(name, _)| **name == **segment) {
            return Ok(url.clone());
        }
        drop(known);
        // Built (and checked) as any other; kept only once it was accepted.
        let url = crate::base_url::endpoint(&self.base_url, segments)?;
        let mut known = self.collections.write().unwrap_or_else(PoisonError::into_inner);
        if known.len() < MAX_COLLECTIONS && !known.iter().any(|(name, _)| **name == **segment) {
            known.push((Box::from(*segment), url.clone()));
        }
        Ok(url)
    }

    fn credential(&self) -> Arc<Credential> {
        // A poisoned lock still holds a whole credential: it is only ever replaced whole.
        Arc::clone(&self.credential.read().unwrap_or_else(PoisonError::into_inner))
    }
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
    pub(crate) transport: Transport,
}

/// The handle a connector sends its requests through. Cheap to clone.
#[derive(Clone)]
pub struct Http {
    inner: reqwest::Client,
    target: Arc<Target>,
    config: Arc<HttpConfig>,
    in_flight: Arc<Semaphore>,
    rate: Arc<Pacer>,
}

impl fmt::Debug for Http {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Http")
            .field("connector", &self.target.kind)
            .field("timeout", &self.config.timeout)
            .field("max_response_bytes", &self.config.max_response_bytes)
            .field("retry", &self.config.retry)
            .field("max_in_flight", &self.config.max_in_flight)
            .field("rate_limit_window", &self.config.rate_limit_window)
            .field("transport", &self.config.transport)
            .field("credential_source", &self.target.source)
            .finish()
    }
}

impl Http {
    pub(crate) fn new(target: Target, config: HttpConfig) -> Result<Self> {
        let builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .user_agent(config.user_agent.clone())
            // A redirect could carry the Authorization header to another host; APIs we speak
            // never redirect, so a 3xx is reported instead of followed.
            .redirect(reqwest::redirect::Policy::none());
        let inner = config.transport.apply(builder)?.build().map_err(|e| {
            Error::invalid_config(format!("the HTTP client could not be built: {}", error_without_url(&e)))
        })?;
        let max_in_flight = config.max_in_flight.max(1);
        Ok(Http {
            inner,
            target: Arc::new(target),
            config: Arc::new(config),
            in_flight: Arc::new(Semaphore::new(max_in_flight)),
            rate: Arc::new(Pacer::new()),
        })
    }

    /// The connector's base URL with `segments` appended, each as one percent-encoded segment.
    /// An empty, `.` or `..` segment is rejected, so an id can never change the addressed resource.
    pub fn endpoint(&self, segments: &[&str]) -> Result<Url> {
        self.target.endpoint(segments)
    }

    /// Replaces the credential for every later request of this handle and its clones (requests
    /// already under way keep theirs). The header value is built here, once.
    pub(crate) fn set_authorization(&self, authorization: &Authorization) -> Result<()> {
        let credential = Arc::new(Credential::new(authorization)?);
        *self.target.credential.write().unwrap_or_else(PoisonError::into_inner) = credential;
        Ok(())
    }

    /// [`set_authorization`](Self::set_authorization) with the `Authorization` the connector
    /// builds from `credential`.
    pub(crate) fn set_credential(&self, credential: &secrecy::SecretString) -> Result<()> {
        self.set_authorization(&(self.target.authorize)(credential)?)
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

    /// Runs `work` (one [`Client`](crate::Client) call, `operation` of a `connector`) inside an
    /// `operation` span made on its first poll, with a deadline of the policy's
    /// [`deadline`](RetryPolicy::deadline) from that poll, shared by every request it sends. A
    /// call made inside another keeps the outer, earlier deadline.
    pub(crate) fn call<F: Future>(&self, connector: &'static str, operation: &'static str, work: F) -> Call<F> {
        Call::new(work, connector, operation, self.config.retry.deadline())
    }

    /// Sends `request` and returns its `2xx` response. Any other status becomes a typed [`Error`]
    /// through the connector's
    /// [`api_error`](crate::Connector::api_error); throttled and transient failures are retried per the
    /// client's [`RetryPolicy`] when the request is safe to repeat.
    ///
    /// Every wait of the request (retry waits and rate-limit pacing) counts against the policy's
    /// [`deadline`](RetryPolicy::deadline), measured from this call: a retry whose wait would end
    /// after it is not made (the last error is returned), and a pacing wait that would is skipped
    /// (the request is sent at once and the server's answer decides).
    ///
    /// A `401` is answered by sending the request once more (whatever its method: the server did
    /// not act on it) when the credential was replaced since it was sent, or when the client's
    /// [`CredentialSource`] yields a different one; at most once per call of `send`.
    // Not an `async fn`: one of those keeps its parameter and the body's copy of it (two
    // requests, ~180 bytes each) in its state; the block captures the request once.
    #[allow(clippy::manual_async_fn)]
    pub fn send(&self, request: Request) -> impl Future<Output = Result<Response>> + Send + '_ {
        async move {
            let span = tracing::debug_span!(
                "http_request",
                connector = self.target.kind,
                method = request.method().as_str(),
                path = request.path_template(),
            );
            self.send_with_retries(&request).instrument(span).await
        }
    }

    async fn send_with_retries(&self, request: &Request) -> Result<Response> {
        // `None` when the deadline is too far ahead to represent: no deadline. Inside a client call
        // the call's own deadline, if earlier, bounds every request it sends.
        // A call's own deadline was set no later than this one would be, so the clock need not be
        // read again for it.
        let deadline = match current_call_deadline() {
            Some(deadline) => Some(deadline),
            None => Instant::now().checked_add(self.config.retry.deadline()),
        };
        let mut attempt: u32 = 1;
        // Whether the one retry with a replaced credential after a `401` was made; it is not one
        // of the policy's attempts.
        let mut refreshed = false;
        loop {
            let failed = match self.attempt(request, attempt, deadline).await {
                (Ok(response), _) => return Ok(response),
                (Err(error), sent_with) => {
                    // The credential a `401` was sent with, if it may get the one retry with a
                    // replaced credential.
                    let refresh = sent_with.filter(|_| error.status() == Some(401) && !refreshed);
                    // Most failures (a `404`, a refused write) are given back at once, unboxed.
                    let policy_attempt = attempt - u32::from(refreshed);
                    if refresh.is_none() && self.config.retry.gives_up(request.method(), &error, policy_attempt) {
                        return Err(error);
                    }
                    // The handling of one that may be retried, boxed: rare, and its state (the
                    // error, the waits) would otherwise be part of every request's future.
                    Box::pin(self.after_failure(request, error, refresh, attempt, refreshed, deadline))
                }
            };
            refreshed = failed.await?;
            attempt += 1;
        }
    }

    /// What follows failed attempt `attempt`: the error to return, or (once the policy's wait,
    /// if any, is over) a retry, with whether the one retry with a replaced credential was made.
    /// `refresh`: the credential a `401` was sent with, when that retry may still be made.
    async fn after_failure(
        &self,
        request: &Request,
        error: Error,
        refresh: Option<Arc<Credential>>,
        attempt: u32,
        mut refreshed: bool,
        deadline: Option<Instant>,
    ) -> Result<bool> {
        if let Some(used) = refresh {
            refreshed = true;
            let target = &self.target;
            if credential::replaced(&target.credential, &used, target.source.as_deref(), &target.authorize).await {
                tracing::debug!(attempt, "retrying with the replaced credential");
                return Ok(refreshed);
            }
        }
        let policy_attempt = attempt - u32::from(refreshed);
        match self.config.retry.decide(request.method(), &error, policy_attempt) {
            RetryDecision::GiveUp => Err(error),
            RetryDecision::RetryAfter(wait) if !fits(deadline, wait) => {
                tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, error_kind = ?error.kind(), "not retrying: the wait would end after the deadline");
                Err(error)
            }
            RetryDecision::RetryAfter(wait) => {
                tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, error_kind = ?error.kind(), "retrying");
                tokio::time::sleep(wait).await;
                Ok(refreshed)
            }
        }
    }

    /// One attempt, and the credential it was sent with (none if it was never sent).
    // Not an `async fn`: the traced work is handed back instrumented, not awaited inside one more
    // future whose state (~100 bytes measured) every request's future would carry.
    fn attempt<'a>(
        &'a self,
        request: &'a Request,
        attempt: u32,
        deadline: Option<Instant>,
    ) -> impl Future<Output = (Result<Response>, Option<Arc<Credential>>)> + Send + 'a {
        let span = tracing::debug_span!("http_attempt", attempt, status = tracing::field::Empty);
        // What is only traced is not computed when nobody listens.
        let traced = !span.is_disabled();
        async move {
            // Waits (without an in-flight slot) until the rate-limit budget allows the request.
            let limits =
                PacingLimits { window: self.config.rate_limit_window, max_delay: self.config.retry.max_delay() };
            let Some((_permit, mut pass)) = self.rate.clear(limits, deadline, &self.in_flight).await else {
                return (Err(Error::invalid_config("the client was shut down; build a new one")), None);
            };
            // One credential for the request and the redaction of its answer, even if it is
            // replaced meanwhile; taken once a slot is held, so it is the latest.
            let credential = self.target.credential();
            let started = traced.then(Instant::now);
            let result = self.exchange(request, &credential, &mut pass).await;
            if traced {
                trace_answer(&result, started);
            }
            (result, Some(credential))
        }
        .instrument(span)
    }

    async fn exchange(&self, request: &Request, credential: &Arc<Credential>, pass: &mut Pass<'_>) -> Result<Response> {
        // Each step in a block of its own: a local stays in this future's state until its scope
        // ends, moved out or not, and the request builder and the response (~400 bytes) are
        // moved on before the next await.
        let sent = {
            let mut builder = self
                .inner
                .request(request.method().to_reqwest(), request.url().clone())
                .header(reqwest::header::ACCEPT, self.target.accept.clone())
                .header(reqwest::header::AUTHORIZATION, credential.header().clone());
            if let Some(etag) = request.if_match_value() {
                builder = builder.header(reqwest::header::IF_MATCH, etag);
            }
            if let Some((content_type, body)) = request.shared_body() {
                builder = builder.header(reqwest::header::CONTENT_TYPE, content_type).body(body);
            }
            builder.send()
        };
        let (status, reading) = {
            let response = sent.await.map_err(|e| self.transport_error(request, &e))?;
            let status = response.status().as_u16();
            (status, self.read_body(request, status, response))
        };
        let (headers, body) = reading.await?;
        let response = Response::received(status, headers, body, Arc::clone(credential));
        pass.observe(&response);
        if response.is_success() {
            return Ok(response);
        }
        Err(self.refusal(&response, credential))
    }

    /// The error a non-success `response` is, its credential redacted from the server's words.
    // Cold and out of line, as the other failure paths here: the code of the path every success
    // takes stays together (fewer instruction-cache lines per request).
    #[cold]
    #[inline(never)]
    fn refusal(&self, response: &Response, credential: &Credential) -> Error {
        let retry_after = response.known_header(&response::RETRY_AFTER).and_then(parse_retry_after);
        let error = (self.target.api_error)(response).sanitized(|text| credential.redact(text));
        Error::from_response(error, retry_after)
    }

    /// The body of `response` (within the cap) and its headers.
    // Not an `async fn`, which would keep the response twice in its state (the parameter and the
    // body's copy of it).
    #[allow(clippy::manual_async_fn)]
    fn read_body<'a>(
        &'a self,
        request: &'a Request,
        status: u16,
        mut response: reqwest::Response,
    ) -> impl Future<Output = Result<(HeaderMap, Bytes)>> + Send + 'a {
        async move {
            let cap = self.config.max_response_bytes;
            let too_large = || too_large(status, cap);
            let announced = response.content_length();
            if announced.is_some_and(|len| len > cap as u64) {
                return Err(too_large());
            }
            // A body that arrives in one chunk is kept as that chunk; only a split one is copied, once.
            let mut first: Option<Bytes> = None;
            let mut joined: Vec<u8> = Vec::new();
            let mut received = 0usize;
            while let Some(chunk) = response.chunk().await.map_err(|e| self.transport_error(request, &e))? {
                received = received.saturating_add(chunk.len());
                if received > cap {
                    return Err(too_large());
                }
                if first.is_none() && joined.is_empty() {
                    first = Some(chunk);
                    continue;
                }
                if let Some(earlier) = first.take() {
                    // Within the cap, checked above.
                    let expected = announced.and_then(|len| usize::try_from(len).ok()).unwrap_or(0);
                    joined.reserve(expected.max(received));
                    joined.extend_from_slice(&earlier);
                }
                joined.extend_from_slice(&chunk);
            }
            // Taken once the body is read, so the future that reads it does not hold them twice;
            // kept as received, not copied into strings.
            let headers = std::mem::take(response.headers_mut());
            Ok((headers, first.unwrap_or_else(|| Bytes::from(joined))))
        }
    }

    #[cold]
    #[inline(never)]
    fn transport_error(&self, request: &Request, error: &reqwest::Error) -> Error {
        let tls = if error.is_timeout() { None } else { transport::tls_failure(error, error.is_connect()) };
        let kind = if error.is_timeout() {
            TransportErrorKind::Timeout
        } else if tls.is_some() {
            TransportErrorKind::Tls
        } else if error.is_connect() {
            TransportErrorKind::Connect
        } else {
            TransportErrorKind::Other
        };
        // `without_url` keeps the query string (which may hold an e-mail address) out of the
        // message; the path template names the endpoint instead.
        let mut message = error_without_url(error);
        message.push_str(match tls {
            Some(TlsError::CertificateAlert) => {
                ". The server refused this client's certificate: configure the one it expects \
                 (ClientBuilder::identity)"
            }
            Some(TlsError::Other) => {
                ". Check that the base URL names the server's own host; a certificate from a private \
                 authority needs that authority's certificate (ClientBuilder::root_certificate)"
            }
            None => "",
        });
        TransportError::new(kind, request.method().as_str(), request.path_template().to_string(), message, None).into()
    }
}

/// Traces the answer to an attempt that started at `started`, in the attempt's span.
#[cold]
#[inline(never)]
fn trace_answer(result: &Result<Response>, started: Option<Instant>) {
    let elapsed_ms = started.map_or(0, |started| started.elapsed().as_millis() as u64);
    let status = match result {
        Ok(response) => Some(response.status()),
        Err(error) => error.status(),
    };
    if let Some(status) = status {
        tracing::Span::current().record("status", status);
    }
    match result {
        Ok(_) => tracing::debug!(status, elapsed_ms, "response"),
        Err(error) => tracing::debug!(status, elapsed_ms, error_kind = ?error.kind(), "request failed"),
    }
}

/// The error of a body over the `cap`.
#[cold]
#[inline(never)]
fn too_large(status: u16, cap: usize) -> Error {
    DecodeError::new(Some(status), format!("the response body exceeds the {cap}-byte limit"), &[]).into()
}

fn error_without_url(error: &reqwest::Error) -> String {
    // reqwest::Error is not Clone; render its text and its sources without the URL.
    error_chain_text(error, error.url().map(url::Url::as_str))
}

/// `error` and its sources as one line, `url` (the request's, with its query) cut out and any
/// e-mail address a source names (a host's or a proxy's message, an address in a URL a source
/// quotes) masked: the text goes into errors and logs.
fn error_chain_text(error: &dyn std::error::Error, url: Option<&str>) -> String {
    // Cut from each text before it is compared: a source naming only part of the URL (its host)
    // is still news next to a text that quoted the whole URL.
    let cut = |text: String| match url {
        Some(url) => text.replace(url, "<url>"),
        None => text,
    };
    let mut text = cut(error.to_string());
    let mut source = error.source();
    while let Some(s) = source {
        let part = cut(s.to_string());
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    crate::redact::one_line(&text.replace(" for url (<url>)", ""))
}

#[cfg(test)]
mod tests {
    use httpmock::Method::GET;
    use httpmock::MockServer;

    use crate::{Authorization, Client, Error, Request, ScimBearer};

    /// An error with a message and an optional source, as a transport's chain.
    #[derive(Debug)]
    struct Link(String, Option<Box<Link>>);

    impl std::fmt::Display for Link {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }

    impl std::error::Error for Link {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|s| s as &(dyn std::error::Error + 'static))
        }
    }

    #[test]
    fn transport_messages_carry_neither_the_url_nor_an_address() {
        let url = "https://scim.example.com/Users?filter=userName%20eq%20%22jane%40corp.example%22";
        let chain = Link(
            format!("error sending request for url ({url})"),
            Some(Box::new(Link(
                format!("proxy refused {url} for jane.doe@corp.example"),
                Some(Box::new(Link("dns error: no such host\nforged line".into(), None))),
            ))),
        );
        let text = super::error_chain_text(&chain, Some(url));
        // The URL is cut wherever it appears, and a line break cannot forge a log line.
        assert_eq!(text, "error sending request: proxy refused <url> for [EMAIL]: dns error: no such host forged line");
        // A source naming only the URL's host is kept (it was compared with the URL cut out).
        let host = Link(format!("error for url ({url})"), Some(Box::new(Link("scim.example.com".into(), None))));
        assert_eq!(super::error_chain_text(&host, Some(url)), "error: scim.example.com");
        // An address spelt percent-encoded in a source that quotes another URL is masked too.
        let other = Link("bad gateway at https://gw.example/?u=jane%40corp.example".into(), None);
        assert_eq!(super::error_chain_text(&other, None), "bad gateway at https://gw.example/?u=[EMAIL]");
    }

    #[test]
    fn one_segment_endpoints_are_built_once_and_checked_as_any_other() {
        let connector = ScimBearer::for_loopback("http://127.0.0.1:9/scim/v2/", "token-123456").unwrap();
        let client = Client::builder(connector).build().unwrap();
        let http = client.http();
        let cached = || http.target.collections.read().unwrap().iter().map(|(n, _)| n.to_string()).collect::<Vec<_>>();
        for _ in 0..2 {
            assert_eq!(http.endpoint(&["Users"]).unwrap().as_str(), "http://127.0.0.1:9/scim/v2/Users");
        }
        assert_eq!(cached(), ["Users"]);
        assert_eq!(http.endpoint(&["Users", "a/b"]).unwrap().as_str(), "http://127.0.0.1:9/scim/v2/Users/a%2Fb");
        // A refused segment is refused every time, and never kept.
        for bad in ["", "..", "a\nb"] {
            for _ in 0..2 {
                assert!(matches!(http.endpoint(&[bad]), Err(Error::Validation(_))), "{bad:?}");
            }
        }
        // Each name is its own endpoint; past the first few, they are built each time.
        for i in 0..20 {
            let name = format!("c{i} x");
            assert_eq!(http.endpoint(&[&name]).unwrap().as_str(), format!("http://127.0.0.1:9/scim/v2/c{i}%20x"));
        }
        assert_eq!(http.endpoint(&["Users"]).unwrap().as_str(), "http://127.0.0.1:9/scim/v2/Users");
        let kept = cached();
        assert_eq!(kept.len(), super::MAX_COLLECTIONS);
        assert_eq!(kept[..2], ["Users", "c0 x"]);
    }

    #[tokio::test]
    async fn a_replaced_credential_is_sent_and_redacted_by_every_clone() {
        let server = MockServer::start_async().await;
        let old = server
            .mock_async(|when, then| {
                when.method(GET).path("/scim/v2/Users/u1").header("authorization", "Bearer old-token-123456");
                then.status(200).body("{}");
            })
            .await;
        let new = server
            .mock_async(|when, then| {
                when.method(GET).path("/scim/v2/Users/u1").header("authorization", "Bearer new-token-654321");
                then.status(401).json_body(serde_json::json!({"detail": "token new-token-654321 is revoked"}));
            })
            .await;
        let connector = ScimBearer::for_loopback(&server.url("/scim/v2"), "old-token-123456").unwrap();
        let client = Client::builder(connector).retry_policy(crate::RetryPolicy::none()).build().unwrap();
        let http = client.http();
        let request = || Request::get(http.endpoint(&["Users", "u1"]).unwrap(), "/Users/{id}");
        assert_eq!(http.send(request()).await.unwrap().status(), 200);

        // Replaced through a clone: the original handle sends the new one, and redacts it.
        let rotated = Authorization::bearer(&"new-token-654321".into()).unwrap();
        http.clone().set_authorization(&rotated).unwrap();
        let error = http.send(request()).await.unwrap_err();
        assert_eq!(error.status(), Some(401));
        assert_eq!(
            error.to_string(),
            "Unauthorized: HTTP 401: token [REDACTED] is revoked. Check the bearer token configured for this SCIM \
             service: it may be wrong, expired or revoked"
        );
        old.assert_calls_async(1).await;
        new.assert_calls_async(1).await;
    }
}
