//! The crate's one error type, classified by cause.
//!
//! Every failure of every connector is an [`Error`]. Its [`Display`](std::fmt::Display) always says
//! what went wrong: the HTTP status and the server's own message where there was a response, and
//! what to check where the connector knows (a wrong API key, a wrong instance name). It never
//! contains a credential or a URL query string (those can hold e-mail addresses).

use std::time::Duration;

pub use crate::redact::EXCERPT_CHARS;
use crate::redact::one_line;

mod detail;

pub use detail::{ApiError, DecodeError, FieldError, TransportError, TransportErrorKind, ValidationError};

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, by cause.
///
/// Code can branch on the variant, or use the accessors ([`status`](Error::status),
/// [`kind`](Error::kind), [`is_retryable`](Error::is_retryable), [`retry_after`](Error::retry_after))
/// that work across variants.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A connector or client was configured with a value it cannot use (a URL, a credential, an
    /// option). Nothing was sent.
    #[error("Invalid configuration: {message}")]
    InvalidConfig {
        /// What is wrong and which forms are accepted.
        message: String,
    },

    /// The request could not be completed on the network: a timeout, a refused or dropped
    /// connection, a TLS failure. The server may or may not have acted on it.
    #[error(transparent)]
    Transport(#[from] TransportError),

    /// `401`: the credential was missing, wrong or revoked.
    #[error("Unauthorized: {0}")]
    Unauthorized(ApiError),

    /// `403`: the credential works but lacks a permission (or the account lacks a feature or seat).
    #[error("Forbidden: {0}")]
    Forbidden(ApiError),

    /// `404`: the user (or the instance) does not exist.
    #[error("Not found: {0}")]
    NotFound(ApiError),

    /// `409` (or a duplicate-value answer): the request conflicts with existing state, typically a
    /// user that already exists.
    #[error("Conflict: {0}")]
    Conflict(ApiError),

    /// The input was rejected, either by this crate before sending (then
    /// [`ValidationError::status`] is `None` and nothing was sent) or by the server (`400`/`422`),
    /// with the server's per-field messages.
    #[error(transparent)]
    Validation(#[from] ValidationError),

    /// `429` (or `503` with `Retry-After`): the server asked the client to slow down.
    #[error("Rate limited{}: {error}", fmt_retry_after(*.retry_after))]
    RateLimited {
        /// The response.
        error: ApiError,
        /// How long the server asked the client to wait, if it said.
        retry_after: Option<Duration>,
    },

    /// A look-up that must identify one person matched several: acting on any of them could
    /// update or deactivate the wrong one. The server answered successfully; the data is the
    /// problem (two accounts share an e-mail address, say).
    #[error("Ambiguous look-up: {matches} {} match the {attribute}; use a key that identifies one {}", ambiguous_nouns(attribute).0, ambiguous_nouns(attribute).1)]
    Ambiguous {
        /// The attribute looked up (`userName`, `email`, `externalId`).
        attribute: &'static str,
        /// How many users matched.
        matches: usize,
    },

    /// A group or person the call refers to does not exist in the app: it was looked up (by id or
    /// name) and not found. Nothing was changed. Unlike [`Error::NotFound`] it carries no response:
    /// the look-up succeeded and found nothing.
    #[error("{} {reference} does not exist; nothing was changed. {}", capitalised(resource), missing_advice(resource))]
    Missing {
        /// What was looked up: `group`, `requester group`, `agent role`, `user`, …
        resource: &'static str,
        /// How it was named (`"Sales"`, `with id 42`, `matching the email`), as one bounded
        /// line with e-mail addresses masked.
        reference: String,
    },

    /// The connector does not support a capability the caller asked for (its app has no groups,
    /// say). Nothing was sent; retrying cannot help.
    #[error("The {connector} connector does not support {capability}; nothing was sent. Skip it for this app")]
    Unsupported {
        /// The connector's [`display_name`](crate::Connector::display_name), as one bounded line
        /// with e-mail addresses masked.
        connector: String,
        /// The capability asked for, such as `groups`.
        capability: &'static str,
    },

    /// Any other non-success response.
    #[error("API error: {0}")]
    Api(ApiError),

    /// Provisioning did some steps, then one failed: `completed` happened (a reactivation, say)
    /// and is not undone. [`kind`](Error::kind) and the other accessors describe `error`.
    #[error("Provisioning stopped part-way ({} done; {failed} failed): {error}", crate::outcome::fmt_steps(.completed))]
    ProvisionIncomplete {
        /// The steps that happened, in order.
        completed: Vec<crate::outcome::ProvisionStep>,
        /// The step that failed.
        failed: crate::outcome::ProvisionStep,
        /// Why it failed.
        error: Box<Error>,
    },

    /// A look-up read every page (the server does not filter, or ignored the filter) and stopped
    /// at the page limit ([`ScimBearer::with_scan_limit`](crate::ScimBearer::with_scan_limit)):
    /// the person may exist, so this is never "not found".
    #[error(
        "Look-up by {attribute} incomplete: the server does not filter, and {pages} pages were read (the limit) without reaching the last; raise the limit with `with_scan_limit`"
    )]
    LookupIncomplete {
        /// The attribute looked up.
        attribute: &'static str,
        /// How many pages were read.
        pages: u32,
    },

    /// A response arrived but could not be understood (not JSON, wrong shape, too large).
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// What an [`Error::Ambiguous`] look-up matched, by its attribute: groups (`group name`, …) or
/// users, in the plural and the singular.
fn ambiguous_nouns(attribute: &str) -> (&'static str, &'static str) {
    if attribute.contains("group") || attribute.contains("role") { ("groups", "group") } else { ("users", "person") }
}

/// What to do about an [`Error::Missing`] resource.
fn missing_advice(resource: &str) -> &'static str {
    if resource == "user" || resource == "person" {
        "Provision the person first, or check the look-up"
    } else {
        "Check the name or id, or create it first"
    }
}

/// `requester group` → `Requester group`: a message starts with a capital.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn fmt_retry_after(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(" (retry after {} s)", d.as_secs_f64()),
        None => String::new(),
    }
}

/// How an error should be treated by a retrying caller, in the vocabulary of the AWS SDKs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server asked the client to slow down (`429`, or `503` with `Retry-After`). Retry after
    /// the advised delay.
    Throttling,
    /// A failure that is likely to pass: a timeout, a connect error, a dropped connection, `502`,
    /// `503`, `504`. Retry idempotent requests with backoff.
    Transient,
    /// The server failed (`500` and other `5xx`). Retrying rarely helps.
    Server,
    /// The request itself was wrong or not allowed (`4xx`, local validation, configuration, a TLS
    /// handshake refused). Do not retry without changing it.
    Client,
    /// The response could not be decoded.
    Decode,
}

impl Error {
    /// Builds an [`Error::InvalidConfig`]. The message is made one bounded line with e-mail
    /// addresses masked (the rules server messages get), whatever it was built from.
    pub fn invalid_config(message: impl Into<String>) -> Self {
        Error::InvalidConfig { message: one_line(&message.into()) }
    }

    /// Builds a local [`Error::Validation`] (nothing was sent) with one message per offending field.
    /// The message is made one bounded line with e-mail addresses masked.
    pub fn invalid_input(message: impl Into<String>, fields: Vec<FieldError>) -> Self {
        Error::Validation(ValidationError { status: None, code: None, message: one_line(&message.into()), fields })
    }

    /// Builds an [`Error::Unsupported`]: the connector named `connector` lacks `capability`.
    pub(crate) fn unsupported(connector: &str, capability: &'static str) -> Self {
        Error::Unsupported { connector: one_line(connector), capability }
    }

    /// Builds an [`Error::Missing`]: no `resource` named `reference` exists. The reference is
    /// made one bounded line with e-mail addresses masked.
    pub(crate) fn missing(resource: &'static str, reference: &str) -> Self {
        Error::Missing { resource, reference: one_line(reference) }
    }

    /// Maps a non-success response to the variant its status calls for.
    ///
    /// `retry_after` is the parsed `Retry-After` header, if any. A `400`/`409` whose body names a
    /// duplicate value (`scimType: uniqueness`, Freshservice `duplicate_value`) becomes
    /// [`Error::Conflict`], so callers can branch on "already exists" whatever the server's status.
    pub fn from_response(error: ApiError, retry_after: Option<Duration>) -> Self {
        let duplicate = error.is_duplicate();
        match error.status {
            401 => Error::Unauthorized(error),
            403 => Error::Forbidden(error),
            404 | 410 => Error::NotFound(error),
            409 => Error::Conflict(error),
            400 | 422 if duplicate => Error::Conflict(error),
            400 | 422 => Error::Validation(ValidationError {
                status: Some(error.status),
                code: error.code,
                message: error.message,
                fields: error.fields,
            }),
            429 => Error::RateLimited { error, retry_after },
            503 if retry_after.is_some() => Error::RateLimited { error, retry_after },
            _ => Error::Api(error),
        }
    }

    /// The HTTP status of the response that caused this error, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Unauthorized(e)
            | Error::Forbidden(e)
            | Error::NotFound(e)
            | Error::Conflict(e)
            | Error::Api(e)
            | Error::RateLimited { error: e, .. } => Some(e.status),
            Error::Validation(v) => v.status,
            Error::Decode(d) => d.status,
            Error::ProvisionIncomplete { error, .. } => error.status(),
            Error::InvalidConfig { .. } | Error::Transport(_) | Error::Ambiguous { .. } => None,
            Error::Unsupported { .. } | Error::LookupIncomplete { .. } | Error::Missing { .. } => None,
        }
    }

    /// How a retrying caller should treat this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::RateLimited { .. } => ErrorKind::Throttling,
            // A certificate that is not trusted stays so: fixed by configuration, not by waiting.
            Error::Transport(t) if t.kind() == TransportErrorKind::Tls => ErrorKind::Client,
            Error::Transport(_) => ErrorKind::Transient,
            Error::Api(e) if matches!(e.status, 502..=504) => ErrorKind::Transient,
            Error::Api(e) if e.status >= 500 => ErrorKind::Server,
            Error::Decode(_) => ErrorKind::Decode,
            Error::ProvisionIncomplete { error, .. } => error.kind(),
            _ => ErrorKind::Client,
        }
    }

    /// Whether retrying the same idempotent request may succeed: throttling and transient failures.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind(), ErrorKind::Throttling | ErrorKind::Transient)
    }

    /// The delay the server asked for, if it sent `Retry-After`.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            Error::ProvisionIncomplete { error, .. } => error.retry_after(),
            _ => None,
        }
    }

    /// Whether this is a `404`-style "no such user".
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound(_))
    }

    /// Whether this is a conflict, typically "the user already exists".
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Conflict(_))
    }

    /// The server's response details, for variants that carry one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Unauthorized(e)
            | Error::Forbidden(e)
            | Error::NotFound(e)
            | Error::Conflict(e)
            | Error::Api(e)
            | Error::RateLimited { error: e, .. } => Some(e),
            Error::ProvisionIncomplete { error, .. } => error.api_error(),
            _ => None,
        }
    }

    /// Whether the request may have been acted on although it failed: a timeout or dropped
    /// connection after sending, a `5xx`, or a `2xx` whose answer could not be read (the server did
    /// act). A create that fails so must be reconciled by a look-up before it is sent again.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Error::Transport(t) => !matches!(t.kind(), TransportErrorKind::Connect | TransportErrorKind::Tls),
            Error::Api(e) => e.status >= 500,
            Error::RateLimited { error, .. } => error.status >= 500,
            // The server said yes but its answer could not be read: it did act.
            Error::Decode(d) => d.status.is_some_and(|s| (200..300).contains(&s)),
            Error::ProvisionIncomplete { error, .. } => error.outcome_unknown(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::{MAX_FIELDS, MAX_MESSAGE_CHARS};

    fn api(status: u16, code: Option<&str>, message: &str) -> ApiError {
        ApiError::new(status, message).with_code(code.map(str::to_string))
    }

    #[test]
    fn display_always_carries_status_and_server_message() {
        let cases: Vec<(Error, &str)> = vec![
            (
                Error::from_response(api(401, None, "Invalid token").with_hint(Some("Check the key".into())), None),
                "Unauthorized: HTTP 401: Invalid token. Check the key",
            ),
            (
                Error::from_response(api(403, Some("access_denied"), "You are not authorized"), None),
                "Forbidden: HTTP 403 (access_denied): You are not authorized",
            ),
            (Error::from_response(api(404, None, "User 9 not found"), None), "Not found: HTTP 404: User 9 not found"),
            (
                Error::from_response(api(409, Some("uniqueness"), "userName taken"), None),
                "Conflict: HTTP 409 (uniqueness): userName taken",
            ),
            (
                Error::from_response(api(400, Some("invalidFilter"), "Bad filter"), None),
                "Validation failed (HTTP 400, invalidFilter): Bad filter",
            ),
            (
                Error::from_response(
                    api(400, None, "Validation failed").with_fields(vec![
                        FieldError::new("email", "It should be a String").with_code(Some("invalid_value".into())),
                    ]),
                    None,
                ),
                "Validation failed (HTTP 400): Validation failed; email: It should be a String (invalid_value)",
            ),
            (
                Error::from_response(api(429, None, "Too many requests"), Some(Duration::from_secs(30))),
                "Rate limited (retry after 30 s): HTTP 429: Too many requests",
            ),
            (
                Error::from_response(api(503, None, "Maintenance"), Some(Duration::from_millis(1500))),
                "Rate limited (retry after 1.5 s): HTTP 503: Maintenance",
            ),
            (
                Error::from_response(api(503, None, "Service Unavailable"), None),
                "API error: HTTP 503: Service Unavailable",
            ),
            (Error::from_response(api(500, None, "boom"), None), "API error: HTTP 500: boom"),
            (
                Error::invalid_input("missing required fields", vec![FieldError::new("externalId", "required")]),
                "Validation failed before sending (nothing was sent): missing required fields; externalId: required",
            ),
            (Error::invalid_config("the API key is empty"), "Invalid configuration: the API key is empty"),
            (
                DecodeError::new(Some(200), "unexpected response body: expected value at line 1 column 1", b"<html>")
                    .into(),
                "Could not decode the response (HTTP 200): unexpected response body: expected value at line 1 column 1; body starts: \"<html>\"",
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(error.to_string(), expected);
        }
    }

    #[test]
    fn accessors_classify_for_retries() {
        let throttled = Error::from_response(api(429, None, "x"), Some(Duration::from_secs(2)));
        assert_eq!(
            (throttled.status(), throttled.kind(), throttled.is_retryable()),
            (Some(429), ErrorKind::Throttling, true)
        );
        assert_eq!(throttled.retry_after(), Some(Duration::from_secs(2)));
        for (status, kind, retryable) in [
            (502, ErrorKind::Transient, true),
            (503, ErrorKind::Transient, true),
            (504, ErrorKind::Transient, true),
            (500, ErrorKind::Server, false),
            (501, ErrorKind::Server, false),
            (400, ErrorKind::Client, false),
            (401, ErrorKind::Client, false),
            (404, ErrorKind::Client, false),
            (409, ErrorKind::Client, false),
        ] {
            let e = Error::from_response(api(status, None, "x"), None);
            assert_eq!(
                (e.status(), e.kind(), e.is_retryable(), e.retry_after()),
                (Some(status), kind, retryable, None)
            );
        }
        let duplicate = Error::from_response(
            api(400, None, "Validation failed").with_fields(vec![
                FieldError::new("primary_email", "exists").with_code(Some("duplicate_value".into())),
            ]),
            None,
        );
        assert!(duplicate.is_conflict());
        assert!(Error::from_response(api(404, None, "x"), None).is_not_found());
        assert!(Error::from_response(api(500, None, "x"), None).outcome_unknown());
        assert!(!Error::from_response(api(400, None, "x"), None).outcome_unknown());
        assert_eq!(Error::invalid_config("x").status(), None);
    }

    #[test]
    fn bounding_fields_keeps_the_duplicate_that_classifies_the_error() {
        let mut fields: Vec<FieldError> = (0..60).map(|i| FieldError::new(format!("f{i}"), "bad")).collect();
        fields.push(FieldError::new("primary_email", "exists").with_code(Some("duplicate_value".into())));
        let error = ApiError::new(400, "Validation failed").with_fields(fields).sanitized(|t| t.to_string());
        assert_eq!(error.fields.len(), MAX_FIELDS);
        assert_eq!(error.fields[0].field, "primary_email");
        assert!(Error::from_response(error, None).is_conflict());
        let long = ApiError::new(500, "m".repeat(10_000))
            .with_code(Some("c".repeat(1000)))
            .with_hint(Some("h".repeat(1000)))
            .sanitized(|t| t.to_string());
        assert_eq!(long.message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert_eq!(long.code.map(|c| c.chars().count()), Some(101));
        assert_eq!(long.hint.map(|h| h.chars().count()), Some(MAX_MESSAGE_CHARS + 1));
    }
}
