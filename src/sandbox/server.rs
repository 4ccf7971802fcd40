//! The HTTP plumbing both sandboxes share: a loopback listener, one hyper HTTP/1.1 connection task
//! per client connection, the [`Gate`] in front of the API, and shutdown on drop.
//!
//! Connections are served with hyper's connection builder rather than a ready-made `serve` loop
//! because a [`Fault::Drop`] must close the connection without any response; hyper does exactly
//! that when the service returns an error.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use super::gate::{Admission, Fault, FaultKind, Gate};

/// Request bodies larger than this are answered `413` (scim2-server's bulk payload limit).
pub(crate) const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// A request, read completely, as an API sees it.
#[derive(Debug)]
pub(crate) struct ApiRequest {
    pub(crate) method: hyper::Method,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl ApiRequest {
    /// The percent-decoded path segments below `prefix` (`/scim/v2`), or `None` when the path is
    /// elsewhere or a segment is not valid UTF-8 once decoded.
    pub(crate) fn segments(&self, prefix: &str) -> Option<Vec<String>> {
        let rest = self.path.strip_prefix(prefix)?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        rest.split('/').filter(|s| !s.is_empty()).map(percent_decode).collect()
    }

    /// The query parameters, form-decoded, in order.
    pub(crate) fn query_pairs(&self) -> Vec<(String, String)> {
        let query = self.query.as_deref().unwrap_or("");
        url::form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    }

    /// The first value of a query parameter.
    pub(crate) fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// A header's value, when present and visible ASCII.
    pub(crate) fn header(&self, name: HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the request's `Content-Type` is one of `media_types` (parameters ignored).
    pub(crate) fn has_content_type(&self, media_types: &[&str]) -> bool {
        let Some(value) = self.header(CONTENT_TYPE) else { return false };
        let essence = value.split(';').next().unwrap_or("").trim();
        media_types.iter().any(|m| m.eq_ignore_ascii_case(essence))
    }
}

fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A response an API produces.
#[derive(Debug)]
pub(crate) struct ApiResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl ApiResponse {
    /// An empty response.
    pub(crate) fn empty(status: StatusCode) -> Self {
        ApiResponse { status, headers: HeaderMap::new(), body: Bytes::new() }
    }

    /// A JSON response with this media type.
    pub(crate) fn json(status: StatusCode, content_type: &'static str, body: &Value) -> Self {
        let mut response = ApiResponse::empty(status);
        response.headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        response.body = Bytes::from(body.to_string());
        response
    }

    /// A plain-text response.
    pub(crate) fn text(status: StatusCode, text: &'static str) -> Self {
        let mut response = ApiResponse::empty(status);
        response.headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        response.body = Bytes::from_static(text.as_bytes());
        response
    }

    /// Adds a header; values that are not valid header text are skipped (they come from our own
    /// formatting, so this never happens in practice).
    pub(crate) fn with_header(mut self, name: HeaderName, value: impl AsRef<str>) -> Self {
        if let Ok(value) = HeaderValue::from_str(value.as_ref()) {
            self.headers.insert(name, value);
        }
        self
    }

    fn into_hyper(self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(self.body));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }
}

/// One fake service: answers requests synchronously from its own state.
pub(crate) trait Api: Send + Sync + 'static {
    /// Handles a request that passed the gate.
    fn handle(&self, request: &ApiRequest) -> ApiResponse;
    /// A `429` body in the service's error shape (the gate adds the headers).
    fn too_many_requests(&self, retry_after_secs: u64) -> ApiResponse;
    /// A `413` in the service's error shape.
    fn payload_too_large(&self) -> ApiResponse;
}

/// What the connection tasks share: the API and its gate.
pub(crate) struct Shared<A> {
    pub(crate) api: A,
    gate: Mutex<Gate>,
}

impl<A> Shared<A> {
    pub(crate) fn new(api: A, gate: Gate) -> Arc<Self> {
        Arc::new(Shared { api, gate: Mutex::new(gate) })
    }

    /// The gate; a panic elsewhere cannot poison the sandbox for later requests.
    pub(crate) fn gate(&self) -> MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The error that makes hyper close a connection without a response.
#[derive(Debug)]
struct ConnectionDropped;

impl fmt::Display for ConnectionDropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for ConnectionDropped {}

/// A running server; dropping it stops accepting and aborts every open connection.
pub(crate) struct Server {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Server {
    /// Binds `127.0.0.1` on a free port; the caller learns the address before serving, so the API
    /// can know its own base URL from the start.
    pub(crate) async fn bind() -> io::Result<(TcpListener, SocketAddr)> {
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        Ok((listener, addr))
    }

    /// Serves `shared` on `listener` on the current tokio runtime.
    pub(crate) fn serve<A: Api>(listener: TcpListener, addr: SocketAddr, shared: Arc<Shared<A>>) -> Server {
        let task = tokio::spawn(accept_loop(listener, shared));
        Server { addr, task }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection task.
        self.task.abort();
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish()
    }
}

async fn accept_loop<A: Api>(listener: TcpListener, shared: Arc<Shared<A>>) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let shared = Arc::clone(&shared);
        connections.spawn(async move {
            let service = service_fn(move |request| respond(Arc::clone(&shared), request));
            // Connection errors (client gone, dropped by a fault) end only this connection.
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn respond<A: Api>(
    shared: Arc<Shared<A>>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, ConnectionDropped> {
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_string();
    let path_and_query = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let body = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            let response = shared.api.payload_too_large();
            let mut gate = shared.gate();
            gate.received();
            gate.record(&method, &path_and_query, Some(response.status.as_u16()), None);
            return Ok(response.into_hyper());
        }
        // The client went away mid-body: nothing to answer.
        Err(_) => return Err(ConnectionDropped),
    };
    let request = ApiRequest {
        method: parts.method,
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers,
        body,
    };

    let fault = {
        let mut gate = shared.gate();
        gate.received();
        gate.decide_fault(&method)
    };
    let kind = fault.as_ref().map(Fault::kind);
    let finish = |response: ApiResponse| -> Result<Response<Full<Bytes>>, ConnectionDropped> {
        shared.gate().record(&method, &path_and_query, Some(response.status.as_u16()), kind);
        Ok(response.into_hyper())
    };
    match fault {
        Some(Fault::Drop) => {
            shared.gate().record(&method, &path_and_query, None, kind);
            return Err(ConnectionDropped);
        }
        Some(Fault::Throttle { retry_after }) => {
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            return finish(shared.api.too_many_requests(secs).with_header(RETRY_AFTER, secs.to_string()));
        }
        Some(Fault::Unavailable) => {
            return finish(ApiResponse::text(StatusCode::SERVICE_UNAVAILABLE, "503 Service Unavailable\n"));
        }
        Some(Fault::Delay(delay)) => {
            // A client that gives up during the delay closes the connection and hyper drops this
            // future: the guard still logs the request, as dropped.
            let unanswered = Unanswered { shared: &*shared, method: &method, path: &path_and_query, kind };
            tokio::time::sleep(delay).await;
            std::mem::forget(unanswered);
        }
        Some(Fault::DropAfterCommit) | None => {}
    }

    let admission = shared.gate().admit();
    let response = match admission {
        Admission::Unlimited => shared.api.handle(&request),
        Admission::Accepted { total, remaining } => shared
            .api
            .handle(&request)
            .with_header(X_RATELIMIT_TOTAL, total.to_string())
            .with_header(X_RATELIMIT_REMAINING, remaining.to_string())
            .with_header(X_RATELIMIT_USED, "1"),
        Admission::Rejected { total, retry_after_secs } => shared
            .api
            .too_many_requests(retry_after_secs)
            .with_header(RETRY_AFTER, retry_after_secs.to_string())
            .with_header(X_RATELIMIT_TOTAL, total.to_string())
            .with_header(X_RATELIMIT_REMAINING, "0")
            .with_header(X_RATELIMIT_USED, "1"),
    };
    if kind == Some(FaultKind::DropAfterCommit) {
        shared.gate().record(&method, &path_and_query, None, kind);
        return Err(ConnectionDropped);
    }
    finish(response)
}

/// Logs its request as dropped (no status) when dropped: a request whose client went away.
struct Unanswered<'a, A> {
    shared: &'a Shared<A>,
    method: &'a str,
    path: &'a str,
    kind: Option<FaultKind>,
}

impl<A> Drop for Unanswered<'_, A> {
    fn drop(&mut self) {
        self.shared.gate().record(self.method, self.path, None, self.kind);
    }
}

const X_RATELIMIT_TOTAL: HeaderName = HeaderName::from_static("x-ratelimit-total");
const X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const X_RATELIMIT_USED: HeaderName = HeaderName::from_static("x-ratelimit-used-currentrequest");

/// Formats a UNIX time as RFC 3339 UTC (`2026-01-05T09:30:00Z`), without a date-time crate.
pub(crate) fn rfc3339(time: std::time::SystemTime) -> String {
    let secs = time.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (hour, minute, second) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 (non-negative here).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

/// Compares secrets without an early exit on the first differing byte.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(1_798_761_599)), "2026-12-31T23:59:59Z");
    }

    #[test]
    fn percent_decoding_rejects_broken_escapes() {
        assert_eq!(percent_decode("a%20b").as_deref(), Some("a b"));
        assert_eq!(percent_decode("%E2%82%AC").as_deref(), Some("€"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%FF"), None);
        assert!(
            constant_time_eq(b"abc", b"abc") && !constant_time_eq(b"abc", b"abd") && !constant_time_eq(b"a", b"ab")
        );
    }
}
