//! Reading a non-success response body into an [`ApiError`], knowing no app.
//!
//! [`api_error_from_body`] reads the JSON error shapes many APIs share: a message under `detail`
//! (RFC 7807 problem details), `message`, `error_description` or `error` (RFC 6749), a
//! machine-readable `code`, and per-field `errors[]` of `{field, message, code}`. Any other body
//! becomes the status's reason phrase with a short, masked excerpt of the body. An app whose
//! errors have their own shape (SCIM's `scimType`, Freshservice's `description`) reads it with
//! [`parse_api_error`] in its own module, and the generic shapes fill in what it leaves empty.
//!
//! Texts are returned as the server sent them; the request path bounds and masks them afterwards
//! ([`ApiError::sanitized`]). Only the excerpt is made safe here, since it is cut from the body.

use serde_json::{Map, Value};

use crate::error::{ApiError, FieldError};
use crate::redact;

/// A JSON error body's top-level object. Keys match ASCII-case-insensitively: servers vary the
/// case (`Detail`, `scimtype`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonErrorBody<'a>(&'a Map<String, Value>);

impl<'a> JsonErrorBody<'a> {
    /// The value under `key`, if any.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
    }

    /// The text under `key`, trimmed, if it is a non-blank string or a number.
    pub(crate) fn text(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// The per-field errors in an array of `{field, message, code}` objects under `key`. An item
    /// without a string `message` is skipped; a missing `field` is empty.
    pub(crate) fn field_errors(&self, key: &str) -> Vec<FieldError> {
        let Some(Value::Array(items)) = self.get(key) else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| {
                let field = item.get("field").and_then(Value::as_str).unwrap_or("").to_string();
                let message = item.get("message").and_then(Value::as_str)?.to_string();
                let code = item.get("code").and_then(Value::as_str).map(str::to_string);
                Some(FieldError::new(field, message).with_code(code))
            })
            .collect()
    }
}

/// What an app's parser read from a JSON error body. Whatever it leaves empty is read from the
/// generic shapes.
#[derive(Debug, Default)]
pub(crate) struct ErrorParts {
    /// The server's message.
    pub(crate) message: Option<String>,
    /// The machine-readable code.
    pub(crate) code: Option<String>,
    /// Per-field messages.
    pub(crate) fields: Vec<FieldError>,
}

/// The error a non-success response with `status` and `body` describes, read from the generic
/// JSON error shapes (see the [module documentation](self)), or else the status's reason phrase
/// with an excerpt of the body. `redact` removes the connector's credential from the body before
/// the excerpt is cut, so none survives half-visible.
///
/// This is what a connector's `api_error` gives when it knows nothing about its app's errors.
pub(crate) fn api_error_from_body(status: u16, body: &[u8], redact: &dyn Fn(&str) -> String) -> ApiError {
    parse_api_error(status, body, redact, |_| ErrorParts::default())
}

/// Like [`api_error_from_body`], with `app` reading the app's own shape from a JSON object body
/// first: its message, code and fields win, and the generic shapes fill what it leaves empty.
pub(crate) fn parse_api_error(
    status: u16,
    body: &[u8],
    redact: &dyn Fn(&str) -> String,
    app: impl FnOnce(JsonErrorBody<'_>) -> ErrorParts,
) -> ApiError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let Some(Value::Object(map)) = parsed else {
        let message = if body.iter().all(u8::is_ascii_whitespace) {
            reason_phrase(status).to_string()
        } else {
            format!("{} (body starts: {:?})", reason_phrase(status), redact::excerpt(body, redact))
        };
        return ApiError::new(status, message);
    };
    let json = JsonErrorBody(&map);
    let parts = app(json);
    let message = parts
        .message
        .or_else(|| json.text("detail"))
        .or_else(|| json.text("message"))
        .or_else(|| json.text("error_description"))
        .or_else(|| json.text("error"))
        .unwrap_or_else(|| reason_phrase(status).to_string());
    let code = parts.code.or_else(|| json.text("code"));
    let fields = if parts.fields.is_empty() { json.field_errors("errors") } else { parts.fields };
    ApiError::new(status, message).with_code(code).with_fields(fields)
}

/// The status's reason phrase (`Not Found`), or `unexpected status` for one without.
fn reason_phrase(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("unexpected status")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(text: &str) -> String {
        text.to_string()
    }

    #[test]
    fn generic_json_shapes_are_read() {
        let e = api_error_from_body(
            400,
            br#"{"message":"Bad input","code":"invalid","errors":[{"field":"email","message":"is taken","code":"duplicate_value"},{"message":"no field"},{"field":"x"}]}"#,
            &same,
        );
        assert_eq!(e.to_string(), "HTTP 400 (invalid): Bad input; email: is taken (duplicate_value); : no field");
        assert!(e.is_duplicate());
        let e =
            api_error_from_body(404, br#"{"type":"about:blank","title":"Not Found","detail":"User 9 is gone"}"#, &same);
        assert_eq!(e.to_string(), "HTTP 404: User 9 is gone");
        let e = api_error_from_body(401, br#"{"error":"invalid_token","error_description":"Expired"}"#, &same);
        assert_eq!(e.to_string(), "HTTP 401: Expired");
        let e = api_error_from_body(500, br#"{"Message":"  boom  ","code":42}"#, &same);
        assert_eq!(e.to_string(), "HTTP 500 (42): boom");
    }

    #[test]
    fn no_app_shape_is_read() {
        // SCIM's `scimType` and Freshservice's `description` belong to their modules' parsers.
        let e = api_error_from_body(409, br#"{"scimType":"uniqueness","description":"Exists"}"#, &same);
        assert_eq!(e.to_string(), "HTTP 409: Conflict");
        assert!(!e.is_duplicate());
    }

    #[test]
    fn other_bodies_are_the_reason_phrase_and_a_redacted_excerpt() {
        let redact = |text: &str| text.replace("tok-123", "[REDACTED]");
        let e = api_error_from_body(500, b"<html>tok-123 for jane@example.com</html>", &redact);
        assert_eq!(
            e.to_string(),
            "HTTP 500: Internal Server Error (body starts: \"<html>[REDACTED] for [EMAIL]</html>\")"
        );
        assert_eq!(api_error_from_body(502, b" \n", &same).to_string(), "HTTP 502: Bad Gateway");
        assert_eq!(api_error_from_body(503, b"[1,2]", &same).message, "Service Unavailable (body starts: \"[1,2]\")");
        assert_eq!(
            api_error_from_body(599, &[0xff, 0x00], &same).message,
            "unexpected status (body starts: \"\u{fffd}\")"
        );
        assert_eq!(api_error_from_body(418, b"{}", &same).to_string(), "HTTP 418: I'm a teapot");
    }

    #[test]
    fn an_apps_parts_win_and_the_generic_shapes_fill_the_rest() {
        let body =
            br#"{"detail":"generic","message":"also generic","code":"c","errors":[{"field":"f","message":"m"}]}"#;
        let e = parse_api_error(400, body, &same, |json| ErrorParts {
            message: json.text("message"),
            code: None,
            fields: Vec::new(),
        });
        assert_eq!(e.to_string(), "HTTP 400 (c): also generic; f: m");
        let e = parse_api_error(400, body, &same, |_| ErrorParts {
            message: Some("app".into()),
            code: Some("app_code".into()),
            fields: vec![FieldError::new("g", "n")],
        });
        assert_eq!(e.to_string(), "HTTP 400 (app_code): app; g: n");
    }
}
