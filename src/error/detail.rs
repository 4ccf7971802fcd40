//! What an [`Error`](super::Error) carries: the server's answer ([`ApiError`], [`FieldError`]), the
//! input rejected ([`ValidationError`]), the network failure ([`TransportError`]) and the answer
//! that could not be read ([`DecodeError`]). Split from the enum so each file stays readable.

use std::fmt;

use crate::redact::{self, MAX_FIELDS, MAX_MESSAGE_CHARS, sanitize_server_text};

/// A non-success response: its status and what the server said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The server's machine-readable code: SCIM `scimType` (`uniqueness`, `invalidFilter`, …) or
    /// Freshservice `code` (`access_denied`, `duplicate_value`, …).
    pub code: Option<String>,
    /// The server's own message (SCIM `detail`, Freshservice `description`/`message`), or a short,
    /// secret-free excerpt of a body that was not the expected JSON.
    pub message: String,
    /// Per-field messages (Freshservice `errors[]`).
    pub fields: Vec<FieldError>,
    /// What the user should check, where the connector knows (for example the API key on a `401`).
    pub hint: Option<String>,
}

impl ApiError {
    /// A response with a status and the server's message.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        ApiError { status, code: None, message: message.into(), fields: Vec::new(), hint: None }
    }

    /// Sets the machine-readable code.
    pub fn with_code(mut self, code: Option<String>) -> Self {
        self.code = code;
        self
    }

    /// Sets the per-field messages.
    pub fn with_fields(mut self, fields: Vec<FieldError>) -> Self {
        self.fields = fields;
        self
    }

    /// Sets the hint shown after the server's message.
    pub fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    /// Whether the server said the value already exists (`uniqueness` / `duplicate_value`).
    pub fn is_duplicate(&self) -> bool {
        let is_dup = |c: &str| c.eq_ignore_ascii_case("uniqueness") || c == "duplicate_value";
        self.code.as_deref().is_some_and(is_dup) || self.fields.iter().any(|f| f.code.as_deref().is_some_and(is_dup))
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        write!(f, ": {}", self.message)?;
        for field in &self.fields {
            write!(f, "; {field}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, ". {hint}")?;
        }
        Ok(())
    }
}

/// One field the server (or this crate) rejected, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldError {
    /// The field, in the API's own naming (`primary_email`, `name.givenName`, …).
    pub field: String,
    /// Why it was rejected.
    pub message: String,
    /// The machine-readable code, if the server sent one (`invalid_value`, `duplicate_value`, …).
    pub code: Option<String>,
}

impl FieldError {
    /// A field and its message.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into(), code: None }
    }

    /// Sets the machine-readable code.
    pub fn with_code(mut self, code: Option<String>) -> Self {
        self.code = code;
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        Ok(())
    }
}

/// Input rejected before sending, or by the server with per-field messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct ValidationError {
    /// The HTTP status, or `None` when this crate rejected the input and sent nothing.
    pub status: Option<u16>,
    /// The server's machine-readable code, if any.
    pub code: Option<String>,
    /// The overall message.
    pub message: String,
    /// One entry per offending field.
    pub fields: Vec<FieldError>,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(f, "Validation failed (HTTP {status}")?,
            None => write!(f, "Validation failed before sending (nothing was sent")?,
        }
        if let Some(code) = &self.code {
            write!(f, ", {code}")?;
        }
        write!(f, "): {}", self.message)?;
        for field in &self.fields {
            write!(f, "; {field}")?;
        }
        Ok(())
    }
}

/// What kind of network failure a [`TransportError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No response within the configured timeout. The server may have acted on the request.
    Timeout,
    /// The connection could not be established. The request was not received.
    Connect,
    /// The TLS handshake failed: the server's certificate is not trusted (an unknown authority,
    /// another host's name, expired) or the handshake was refused. The request was not received,
    /// and sending it again cannot help until the configuration changes, so it is not retried.
    Tls,
    /// The connection failed during the exchange (dropped, reset, protocol).
    Other,
}

/// A network failure. Its message never contains the request URL.
#[derive(Debug, thiserror::Error)]
#[error("Transport error ({kind:?}) during {method} {path}: {message}")]
pub struct TransportError {
    kind: TransportErrorKind,
    method: &'static str,
    path: String,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    pub(crate) fn new(
        kind: TransportErrorKind,
        method: &'static str,
        path: String,
        message: String,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        TransportError { kind, method, path, message, source }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether the request timed out.
    pub fn is_timeout(&self) -> bool {
        self.kind == TransportErrorKind::Timeout
    }

    /// Whether the connection could not be established.
    pub fn is_connect(&self) -> bool {
        self.kind == TransportErrorKind::Connect
    }

    /// Whether the TLS handshake failed (a certificate not trusted, or refused by the server).
    pub fn is_tls(&self) -> bool {
        self.kind == TransportErrorKind::Tls
    }
}

/// A response that could not be understood. Keeps a short, secret-free excerpt of the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Could not decode the response{}: {message}{}", .status.map(|s| format!(" (HTTP {s})")).unwrap_or_default(), fmt_excerpt(.excerpt))]
#[non_exhaustive]
pub struct DecodeError {
    /// The HTTP status of the response.
    pub status: Option<u16>,
    /// What was wrong with it.
    pub message: String,
    /// The start of the body, at most [`EXCERPT_CHARS`](super::EXCERPT_CHARS) characters, with anything that looks like
    /// a credential removed.
    pub excerpt: String,
}

fn fmt_excerpt(excerpt: &str) -> String {
    if excerpt.is_empty() { String::new() } else { format!("; body starts: {excerpt:?}") }
}

impl DecodeError {
    /// A decode failure with an excerpt of the offending body. The message and the excerpt are
    /// made safe like every server text (one line, e-mail addresses masked, bounded); use
    /// [`Response::decode_error`](crate::Response::decode_error) to also redact the credential.
    pub fn new(status: Option<u16>, message: impl Into<String>, body: &[u8]) -> Self {
        Self::redacted(status, message, body, &|text| text.to_string())
    }

    /// Like [`new`](Self::new), with `clean` (credential redaction) run on the message and on the
    /// body before it is cut to an excerpt, so a credential across the cut is removed whole.
    pub(crate) fn redacted(
        status: Option<u16>,
        message: impl Into<String>,
        body: &[u8],
        clean: &dyn Fn(&str) -> String,
    ) -> Self {
        let message = sanitize_server_text(&message.into(), MAX_MESSAGE_CHARS, clean);
        DecodeError { status, message, excerpt: crate::redact::excerpt(body, clean) }
    }
}

impl ApiError {
    /// The same error with every server-provided text made safe ([`sanitize_server_text`], with
    /// `clean` for credential redaction) and bounded, so an error never carries what a server
    /// echoed: an e-mail address, a credential, megabytes. Field errors that mark a duplicate are
    /// kept first, so bounding their number never changes how the error is classified.
    pub(crate) fn sanitized(mut self, clean: impl Fn(&str) -> String) -> Self {
        let clean: &dyn Fn(&str) -> String = &clean;
        self.message = sanitize_server_text(&self.message, MAX_MESSAGE_CHARS, clean);
        self.code = self.code.map(|c| sanitize_server_text(&c, redact::MAX_CODE_CHARS, clean));
        // A hint is the connector's own advice, not server text: bounded and stripped of addresses,
        // but not run through the credential redaction (a test token such as `wrong` would blank a
        // word of it).
        self.hint = self.hint.map(|h| sanitize_server_text(&h, MAX_MESSAGE_CHARS, &|text| text.to_string()));
        let (mut fields, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.fields).into_iter().partition(|f| {
            f.code.as_deref().is_some_and(|c| c.eq_ignore_ascii_case("uniqueness") || c == "duplicate_value")
        });
        fields.extend(rest);
        fields.truncate(MAX_FIELDS);
        for field in &mut fields {
            field.field = sanitize_server_text(&field.field, redact::MAX_CODE_CHARS, clean);
            field.message = sanitize_server_text(&field.message, redact::MAX_FIELD_MESSAGE_CHARS, clean);
            field.code = field.code.take().map(|c| sanitize_server_text(&c, redact::MAX_CODE_CHARS, clean));
        }
        self.fields = fields;
        self
    }
}
