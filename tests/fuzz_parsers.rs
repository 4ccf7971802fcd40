//! Property tests of every public parser of network data: no input panics, and each answer is a
//! typed result whose error text is bounded.
//!
//! Inputs are the real answers in `tests/fixtures/**/*.json` and SCIM bodies serialised from random
//! `User`s, mutated (values replaced, keys dropped or renamed, bytes flipped, cut or inserted) and
//! spliced with deep nesting (up to 100,000 levels), huge numbers, invalid UTF-8, lone surrogates
//! and huge strings and arrays; headers carry garbage `Retry-After`, `X-RateLimit-*` and `Link`.
//!
//! CI runs the default (about 12,000 cases). The long run, which prints
//! `fuzz_parsers: 1000000 cases, 0 panics`:
//!
//! ```text
//! FUZZ_CASES=1000000 cargo test --release --test fuzz_parsers -- --nocapture
//! ```

#[path = "support/fuzz/mod.rs"]
mod fuzz_support;

use fuzz_support::inputs::Body;
use fuzz_support::{Binary, inputs, is_single_line};
use identity_connectors::scim::ListResponse;
use identity_connectors::{
    Connector, EXCERPT_CHARS, Error, FreshserviceApiKey, InteractBearer, MAX_RETRY_AFTER, Response, ScimBearer, User,
    parse_retry_after,
};
use proptest::prelude::*;

const BINARY: Binary = Binary { name: "fuzz_parsers", default_cases: 12_000, properties: 6, total_weight: 24 };

/// A response as the request path hands it to a parser: any status, garbage headers, any body.
/// (Kept apart until the test runs: `Response`'s `Debug` hides the body, and a failure must show it.)
fn response() -> impl Strategy<Value = (u16, Vec<(String, String)>, Body)> {
    let status = prop_oneof![
        3 => proptest::sample::select(vec![200u16, 201, 204, 400, 401, 403, 404, 409, 422, 429, 500, 503]),
        1 => 100u16..1000,
    ];
    (status, inputs::headers(), inputs::body().prop_map(Body))
}

fn build((status, headers, body): (u16, Vec<(String, String)>, Body)) -> Response {
    Response::new(status, headers, body.0)
}

/// An error from a parser: its text is one line and bounded, whatever the body held.
fn check_error(error: &Error) -> Result<(), TestCaseError> {
    let text = error.to_string();
    prop_assert!(is_single_line(&text), "error text spans lines: {text:?}");
    prop_assert!(text.chars().count() <= 4 * EXCERPT_CHARS + 1_000, "error text is {} chars", text.chars().count());
    Ok(())
}

#[test]
fn user_from_any_body() {
    BINARY.check("user_from_slice", 5, inputs::body().prop_map(Body), |body| {
        if let Ok(user) = serde_json::from_slice::<User>(&body.0) {
            // What was read can be written back and read again to the same core attributes.
            // (Not the whole user: serde_json does not round-trip every float exactly.)
            let again = serde_json::to_vec(&user).expect("a parsed User serialises");
            let reread: User = serde_json::from_slice(&again).expect("a serialised User parses");
            prop_assert_eq!(&reread.user_name, &user.user_name);
            prop_assert_eq!(&reread.external_id, &user.external_id);
            prop_assert_eq!(reread.active, user.active);
            prop_assert_eq!(&reread.emails, &user.emails);
            prop_assert_eq!(&reread.name, &user.name);
        }
        Ok(())
    });
}

#[test]
fn response_json_of_any_body() {
    BINARY.check("response_json", 4, response(), |input| {
        let response = build(input);
        for result in [response.json::<User>().map(drop), response.json::<serde_json::Value>().map(drop)] {
            if let Err(error) = result {
                prop_assert!(matches!(error, Error::Decode(_)), "not a decode error: {error:?}");
                check_error(&error)?;
            }
        }
        Ok(())
    });
}

#[test]
fn list_response_of_any_body() {
    let scim_heavy = prop_oneof![
        3 => inputs::mutated(inputs::scim_seed()),
        1 => inputs::body(),
    ];
    BINARY.check("list_response", 6, (inputs::headers(), scim_heavy.prop_map(Body)), |(headers, body)| {
        let response = build((200, headers, body));
        match ListResponse::from_response(&response) {
            Ok(list) => {
                // Every resource read was a JSON object of the body.
                let objects = response.body().iter().filter(|b| **b == b'{').count();
                prop_assert!(
                    list.resources.len() <= objects,
                    "{} resources from {objects} objects",
                    list.resources.len()
                );
            }
            Err(error) => {
                prop_assert!(matches!(error, Error::Decode(_)), "not a decode error: {error:?}");
                check_error(&error)?;
            }
        }
        Ok(())
    });
}

#[test]
fn api_error_of_any_response() {
    let scim = ScimBearer::new("https://scim.example.com/scim/v2", "token").unwrap();
    let interact = InteractBearer::new("https://intranet.example.com/api/v2/scim/v2", "token").unwrap();
    let freshservice = FreshserviceApiKey::new("acme", "api-key").unwrap();
    let connectors: [&dyn Connector; 3] = [&scim, &interact, &freshservice];
    BINARY.check("api_error", 6, response(), |input| {
        let response = build(input);
        for connector in connectors {
            let error = connector.api_error(&response);
            prop_assert_eq!(error.status, response.status());
            // Rendering it must not panic either.
            let _ = (error.to_string(), format!("{error:?}"), error.is_duplicate());
        }
        Ok(())
    });
}

#[test]
fn retry_after_of_any_text() {
    let text = prop_oneof![inputs::header_value(), any::<String>(), "[0-9 ]{0,30}"];
    BINARY.check("parse_retry_after", 2, text, |value| {
        if let Some(wait) = parse_retry_after(&value) {
            prop_assert!(wait <= MAX_RETRY_AFTER, "{wait:?} exceeds MAX_RETRY_AFTER");
        }
        Ok(())
    });
}

#[test]
fn every_fixture_survives_every_splice() {
    // Each fixture with one hostile text at each position the strategy picks, no other change:
    // the deep and huge inputs reach the parser whole instead of being cut by byte damage.
    let bodies =
        (proptest::sample::select(inputs::fixtures().to_vec()), any::<proptest::sample::Index>(), inputs::raw())
            .prop_map(|((_, _, seed), at, raw)| {
                Body(inputs::apply(seed, &[inputs::JsonMutation::Splice(at, raw)], &[]))
            });
    BINARY.check("spliced_fixtures", 1, bodies, |body| {
        let response = build((200, Vec::new(), body));
        let _ = serde_json::from_slice::<User>(response.body());
        let _ = ListResponse::from_response(&response);
        if let Err(error) = response.json::<serde_json::Value>() {
            check_error(&error)?;
        }
        Ok(())
    });
}
