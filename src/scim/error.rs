//! SCIM error responses (RFC 7644 §3.12): `{"schemas":[…:Error], "status", "scimType", "detail"}`.
//!
//! The message is `detail` and the code is `scimType` (`uniqueness`, `invalidFilter`, …), which
//! marks a duplicate. The body's `status` (a string or a number) is not read: the HTTP status is
//! the one that counts. Anything else falls back to the generic error shapes.

use crate::error::ApiError;
use crate::error_body::{ErrorParts, parse_api_error};
use crate::http::Response;

/// The error a SCIM service's non-success response describes. `redact` removes the connector's
/// credential from any excerpt of the body.
pub(crate) fn scim_api_error(status: u16, body: &[u8], redact: &dyn Fn(&str) -> String) -> ApiError {
    parse_api_error(status, body, redact, |json| ErrorParts {
        message: json.text("detail"),
        code: json.text("scimType"),
        fields: Vec::new(),
    })
}

/// The SCIM error in `response`, with `hint` added to a `401`: what SCIM connectors'
/// [`Connector::api_error`](crate::Connector::api_error) return.
pub(crate) fn api_error_with_401_hint(response: &Response, hint: &str) -> ApiError {
    let error = scim_api_error(response.status(), response.body(), &|text| response.redact(text));
    if error.status == 401 && error.hint.is_none() { error.with_hint(Some(hint.to_string())) } else { error }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(status: u16, body: &str) -> ApiError {
        scim_api_error(status, body.as_bytes(), &|text| text.to_string())
    }

    #[test]
    fn a_scim_error_gives_its_detail_and_scim_type() {
        let e = parse(
            409,
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"scimType":"uniqueness","detail":"User already exists","status":"409"}"#,
        );
        assert_eq!(e.to_string(), "HTTP 409 (uniqueness): User already exists");
        assert!(e.is_duplicate());
        let e = parse(400, r#"{"ScimType":"invalidFilter","Detail":" Bad filter ","status":400}"#);
        assert_eq!((e.code.as_deref(), e.message.as_str()), (Some("invalidFilter"), "Bad filter"));
        let e = parse(404, r#"{"detail":"Resource 42 not found","status":404}"#);
        assert_eq!(e.to_string(), "HTTP 404: Resource 42 not found");
    }

    #[test]
    fn other_bodies_fall_back_to_the_generic_shapes() {
        assert_eq!(parse(401, r#"{"message":"Invalid token"}"#).to_string(), "HTTP 401: Invalid token");
        assert_eq!(
            parse(500, "<h1>Oops</h1>").to_string(),
            "HTTP 500: Internal Server Error (body starts: \"<h1>Oops</h1>\")"
        );
        assert_eq!(parse(403, r#"{"status":"403"}"#).to_string(), "HTTP 403: Forbidden");
    }

    #[test]
    fn a_401_gets_the_hint_and_other_statuses_do_not() {
        let response = Response::new(401, vec![], b"bad key".to_vec());
        let e = api_error_with_401_hint(&response, "check the token");
        assert_eq!(e.to_string(), "HTTP 401: Unauthorized (body starts: \"bad key\"). check the token");
        let response = Response::new(403, vec![], br#"{"detail":"No"}"#.to_vec());
        assert_eq!(api_error_with_401_hint(&response, "check the token").hint, None);
    }
}
