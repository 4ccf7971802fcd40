//! Every message a person reads follows one style: one line, a capital first letter, no trailing
//! space, and for configuration mistakes a clause that says what to do. Checked over one error of
//! every kind the crate builds before sending, and every variant's `Display`.

use std::time::Duration;

use identity_connectors::config::ConnectorConfig;
use identity_connectors::{ApiError, Client, DecodeError, Error, FreshserviceApiKey, InteractBearer, ScimBearer};
use secrecy::SecretString;

fn check_style(message: &str) {
    let first = message.chars().next().unwrap_or_else(|| panic!("empty message"));
    assert!(first.is_uppercase(), "not in sentence case: {message:?}");
    assert!(!message.contains('\n'), "more than one line: {message:?}");
    assert_eq!(message.trim_end(), message, "trailing space: {message:?}");
}

/// A configuration mistake says what to do: after `;` or `.`, or as a `must`/`accepts` rule.
fn check_says_what_to_do(message: &str) {
    let advice = ["; ", ". ", " must ", " accepts ", "expected", "at most", "use "];
    assert!(advice.iter().any(|a| message.contains(a)), "says what is wrong but not what to do: {message:?}");
}

fn config_errors() -> Vec<Error> {
    let secret = || SecretString::from("k3y-abcdefgh12345678");
    let fake_builder = || Client::builder(ScimBearer::new("https://scim.example.com/v2", secret()).unwrap());
    let toml = |text: &str| {
        let config: Result<ConnectorConfig, _> = toml::from_str(text);
        match config {
            Ok(c) => c.build().map(|_| ()).map_err(Error::from),
            Err(e) => Err(Error::invalid_config(format!("{e}"))),
        }
    };
    vec![
        InteractBearer::new("", secret()).unwrap_err(),
        InteractBearer::new("http://intranet.example.com/scim", secret()).unwrap_err(),
        InteractBearer::new("https://intranet.example.com/scim?x=1", secret()).unwrap_err(),
        InteractBearer::new("https://intranet.example.com/scim#top", secret()).unwrap_err(),
        InteractBearer::new("https://intra net.example.com/scim", secret()).unwrap_err(),
        ScimBearer::new("not a url", secret()).unwrap_err(),
        ScimBearer::new("https://scim.example.com/v2", SecretString::from("")).unwrap_err(),
        FreshserviceApiKey::new("", secret()).unwrap_err(),
        FreshserviceApiKey::new("acme", SecretString::from(" ")).unwrap_err(),
        FreshserviceApiKey::new("xyz corp", secret()).unwrap_err(),
        fake_builder().timeout(Duration::ZERO).build().unwrap_err(),
        fake_builder().user_agent(" ").build().unwrap_err(),
        fake_builder().max_response_bytes(0).build().unwrap_err(),
        fake_builder().max_in_flight(usize::MAX).build().unwrap_err(),
        fake_builder().rate_limit_window(Duration::MAX).build().unwrap_err(),
        toml("type = \"scim\"\nname = \"dir\"\ninstance_url = \"\"\ntoken = \"t0k3n-abcdefgh\"").unwrap_err(),
    ]
}

#[test]
fn configuration_errors_are_one_sentence_that_says_what_to_do() {
    for error in config_errors() {
        assert!(matches!(error, Error::InvalidConfig { .. }), "{error:?}");
        let message = error.to_string();
        check_style(&message);
        check_says_what_to_do(&message);
    }
}

#[test]
fn every_error_kind_starts_with_a_capital() {
    let api = || ApiError::new(500, "boom");
    let errors = vec![
        Error::Unauthorized(ApiError::new(401, "Invalid token")),
        Error::Forbidden(ApiError::new(403, "no")),
        Error::NotFound(ApiError::new(404, "gone")),
        Error::Conflict(ApiError::new(409, "exists")),
        Error::RateLimited { error: ApiError::new(429, "slow down"), retry_after: Some(Duration::from_secs(2)) },
        Error::Ambiguous { attribute: "email", matches: 2 },
        Error::Api(api()),
        Error::from(DecodeError::new(Some(200), "not JSON", b"<html>")),
        Error::invalid_input("a new SCIM user needs a user name", Vec::new()),
    ];
    for error in errors {
        check_style(&error.to_string());
    }
}
