//! Freshservice error responses, and what to check for each.
//!
//! Freshservice answers `{"description": "Validation failed", "errors": [{"field", "message",
//! "code"}]}` for rejected input and `{"code": "access_denied", "message": "…"}` otherwise; a
//! `duplicate_value` code on a field marks an existing user. Anything else falls back to the
//! generic error shapes.

use crate::error::ApiError;
use crate::error_body::{ErrorParts, parse_api_error};
use crate::http::Response;

const HINT_UNAUTHORIZED: &str = "Check the API key: it is under Profile settings > Your API key in Freshservice, and must belong to an active administrator";
const HINT_FORBIDDEN: &str = "The API key works, but its owner lacks the permission: use the key of an administrator (with Manage Agents); creating a full-time agent also fails this way when no agent licence is left";
const HINT_NOT_FOUND: &str =
    "Check the instance name: API v2 answers only on `<name>.freshservice.com`, not on a custom domain";

/// The error a Freshservice non-success response describes. `redact` removes the connector's
/// credential from any excerpt of the body.
pub(crate) fn freshservice_api_error(status: u16, body: &[u8], redact: &dyn Fn(&str) -> String) -> ApiError {
    parse_api_error(status, body, redact, |json| ErrorParts {
        message: json.text("description").or_else(|| json.text("message")),
        code: json.text("code"),
        fields: json.field_errors("errors"),
    })
}

/// The error in `response`, with what to check added to a `401` (the API key) and a `403` (the
/// key owner's rights).
pub(crate) fn api_error(response: &Response) -> ApiError {
    let error = freshservice_api_error(response.status(), response.body(), &|text| response.redact(text));
    match error.status {
        401 => with_hint(error, HINT_UNAUTHORIZED),
        403 => with_hint(error, HINT_FORBIDDEN),
        _ => error,
    }
}

/// A `404` from the connection test, with the instance name to check.
pub(crate) fn with_not_found_hint(error: ApiError) -> ApiError {
    with_hint(error, HINT_NOT_FOUND)
}

/// Adds what to check to a server error. The message's final full stop goes, since the hint is
/// printed after it as a sentence of its own.
fn with_hint(mut error: ApiError, hint: &str) -> ApiError {
    error.message = error.message.trim_end_matches('.').to_string();
    error.with_hint(Some(hint.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(status: u16, body: &str) -> ApiError {
        freshservice_api_error(status, body.as_bytes(), &|text| text.to_string())
    }

    #[test]
    fn a_validation_error_gives_its_description_and_every_field() {
        let e = parse(
            400,
            r#"{"description":"Validation failed","errors":[{"field":"primary_email","message":"It should be a/an String","code":"datatype_mismatch"},{"field":"x","message":"Unexpected/invalid field in request","code":"invalid_field"}]}"#,
        );
        assert_eq!(
            e.to_string(),
            "HTTP 400: Validation failed; primary_email: It should be a/an String (datatype_mismatch); x: Unexpected/invalid field in request (invalid_field)"
        );
        assert!(!e.is_duplicate());
        let e = parse(
            409,
            r#"{"description":"Validation failed","errors":[{"field":"primary_email","message":"exists","code":"duplicate_value"}]}"#,
        );
        assert!(e.is_duplicate());
    }

    #[test]
    fn a_coded_error_gives_its_code_and_message() {
        let e = parse(403, r#"{"code":"access_denied","message":"You are not authorized to perform this action."}"#);
        assert_eq!(e.to_string(), "HTTP 403 (access_denied): You are not authorized to perform this action.");
    }

    #[test]
    fn other_bodies_fall_back_to_the_generic_shapes() {
        assert_eq!(parse(404, r#"{"error":"Not found"}"#).to_string(), "HTTP 404: Not found");
        assert_eq!(parse(404, "Cannot GET /x").to_string(), "HTTP 404: Not Found (body starts: \"Cannot GET /x\")");
        assert_eq!(parse(502, "").to_string(), "HTTP 502: Bad Gateway");
    }

    #[test]
    fn hints_go_on_401_and_403_after_the_message() {
        let response = Response::new(401, vec![], br#"{"code":"invalid_credentials","message":"Wrong key."}"#.to_vec());
        assert_eq!(
            api_error(&response).to_string(),
            format!("HTTP 401 (invalid_credentials): Wrong key. {HINT_UNAUTHORIZED}")
        );
        let response = Response::new(403, vec![], br#"{"message":"No."}"#.to_vec());
        assert_eq!(api_error(&response).hint.as_deref(), Some(HINT_FORBIDDEN));
        let response = Response::new(400, vec![], br#"{"message":"No."}"#.to_vec());
        assert_eq!(api_error(&response).hint, None);
    }
}
