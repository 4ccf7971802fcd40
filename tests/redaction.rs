//! Credentials never show in `Debug`: exact output of every connector and configuration type.

use identity_connectors::{
    Authorization, Client, FreshserviceApiKey, FreshserviceUserKind, InteractBearer, RetryPolicy, ScimBearer,
};

const TOKEN: &str = "tok-4f8a9c-SECRET";

#[test]
fn connector_debug_output_is_exact_and_redacted() {
    let interact = InteractBearer::new("https://intranet.example.com/api/v2/scim/v2/", TOKEN).unwrap();
    assert_eq!(
        format!("{interact:?}"),
        r#"InteractBearer { base_url: "https://intranet.example.com/api/v2/scim/v2", token: "[REDACTED]" }"#
    );
    let scim = ScimBearer::new("https://api.example.com/scim/v2", TOKEN).unwrap();
    assert_eq!(
        format!("{scim:?}"),
        r#"ScimBearer { base_url: "https://api.example.com/scim/v2", token: "[REDACTED]" }"#
    );
    let freshservice = FreshserviceApiKey::new("acme", TOKEN).unwrap();
    assert_eq!(
        format!("{freshservice:?}"),
        r#"FreshserviceApiKey { base_url: "https://acme.freshservice.com/api/v2", api_key: "[REDACTED]", default_kind: Requester, default_agent_roles: [], default_occasional: None, employee_number_field: None, provisioning: LookUpFirst }"#
    );
    let agent_default = freshservice.clone().with_default_kind(FreshserviceUserKind::Agent);
    assert!(format!("{agent_default:#?}").contains("default_kind: Agent"));
    let auth = Authorization::bearer(&TOKEN.into()).unwrap();
    assert_eq!(format!("{auth:?}"), "Authorization([REDACTED])");
}

#[test]
fn client_and_builder_debug_never_show_the_token() {
    let builder = Client::builder(InteractBearer::new("https://intranet.example.com/scim", TOKEN).unwrap())
        .retry_policy(RetryPolicy::none());
    let text = format!("{builder:?} {builder:#?}");
    assert!(text.contains("token: \"[REDACTED]\""), "{text}");
    let client = builder.build().unwrap();
    assert_eq!(
        format!("{client:?}"),
        r#"Client { connector: InteractBearer { base_url: "https://intranet.example.com/scim", token: "[REDACTED]" }, http: Http { connector: "interact", timeout: 30s, max_response_bytes: 10485760, retry: RetryPolicy { max_attempts: 1, base_delay: 200ms, max_delay: 60s, deadline: 0ns }, max_in_flight: 4, rate_limit_window: 60s, transport: Transport { roots: [], identity: None, proxy: Proxy(from environment) }, credential_source: None } }"#
    );
    let freshservice = Client::new(FreshserviceApiKey::new("acme", TOKEN).unwrap()).unwrap();
    for text in [format!("{freshservice:?}"), format!("{freshservice:#?}")] {
        assert!(!text.contains(TOKEN) && !text.contains("dG9r"), "{text}");
    }
}

#[path = "support/raw_recorder.rs"]
mod raw_recorder;

use identity_connectors::{Error, UserId};
use raw_recorder::Recorder;

/// What no error may carry: the secret, the e-mail address and the forged log line planted in
/// the hostile inputs below.
const PLANTED: [&str; 4] = ["Pw0rdLEAK", "jane.doe", "svc:", "FORGED"];

fn assert_safe(what: &str, error: &Error) {
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(text.len() <= 1_000, "{what}: {} bytes", text.len());
        assert!(!text.contains(['\n', '\r', '\u{202E}']), "{what}: not one plain line: {text:?}");
        for planted in PLANTED {
            assert!(!text.contains(planted), "{what}: {planted} in {text:?}");
        }
    }
    assert!(!error.to_string().chars().any(char::is_control), "{what}: {error:?}");
}

#[test]
fn constructor_errors_are_bounded_single_line_and_never_echo_the_input() {
    let huge = format!("https://svc:{}@acme.freshservice.com", "Pw0rdLEAK".repeat(250_000));
    let hostile = [
        "https://svc:Pw0rdLEAK@acme.freshservice.com".to_string(),
        "https://svc:Pw0rdLEAK@127.0.0.1/scim".to_string(),
        "https://intranet.example.com/scim?access_token=Pw0rdLEAK&email=jane.doe@example.com".to_string(),
        "https://acme.freshservice.com/#Pw0rdLEAK".to_string(),
        "jane.doe@example.com".to_string(),
        "jane.doe%40example.com".to_string(),
        "Bearer Pw0rdLEAK".to_string(),
        "acme\nINFO FORGED log line Pw0rdLEAK".to_string(),
        "acme\u{202E}FORGED Pw0rdLEAK".to_string(),
        "sk-live-Pw0rdLEAK://acme.freshservice.com".to_string(),
        "Pw0rdLEAK9Pw0rdLEAK9".to_string(),
        format!("{}\nFORGED", "x".repeat(2_200_000)),
        huge,
    ];
    let mut refused = 0;
    for input in &hostile {
        let what = &input[..input.len().min(60)];
        let results = [
            ScimBearer::new(input, "tok-123").err(),
            ScimBearer::for_loopback(input, "tok-123").err(),
            InteractBearer::new(input, "tok-123").err(),
            InteractBearer::for_loopback(input, "tok-123").err(),
            FreshserviceApiKey::new(input, "fs-api-key").err(),
            FreshserviceApiKey::for_loopback(input, "fs-api-key").err(),
            // The same values passed as the credential.
            ScimBearer::new("https://api.example.com/scim/v2", input.as_str()).err(),
            FreshserviceApiKey::new("acme", input.as_str()).err(),
            Authorization::bearer(&input.as_str().into()).err(),
        ];
        for error in results.iter().flatten() {
            assert!(matches!(error, Error::InvalidConfig { .. }), "{what:?}: {error:?}");
            assert_safe(what, error);
            refused += 1;
        }
    }
    // Every hostile base URL is refused by every constructor (a few credentials are acceptable).
    assert!(refused >= hostile.len() * 6, "{refused}");
    let error = FreshserviceApiKey::new("https://svc:Pw0rdLEAK@acme.freshservice.com", "k").unwrap_err();
    assert_eq!(
        error.to_string(),
        "Invalid configuration: the Freshservice instance contains a user name or password; pass the API key separately; use the instance name (`acme`), its host (`acme.freshservice.com`) or a URL on that host"
    );
}

#[test]
fn swapped_freshservice_arguments_are_refused_without_repeating_the_key() {
    const KEY: &str = "Gh8sKd93hFjs0aLm2pQx";
    let swapped = "Invalid configuration: the Freshservice instance looks like an API key (a long run of letters and digits): pass the instance name (`acme`) first and the API key second; an instance name that really looks like this is accepted in lower case";
    for (instance, key, expected) in [
        (KEY, "acme", swapped),
        (
            KEY,
            "acme.freshservice.com",
            "Invalid configuration: the API key looks like a Freshservice address: pass the instance (`acme`) first and the API key second",
        ),
        ("a1b2c3d4e5f6g7h8i9j0", "acme", swapped),
        (KEY, KEY, swapped),
        (
            "acme",
            "https://acme.freshservice.com",
            "Invalid configuration: the API key looks like a Freshservice address: pass the instance (`acme`) first and the API key second",
        ),
    ] {
        let error = FreshserviceApiKey::new(instance, key).unwrap_err();
        assert_eq!(error.to_string(), expected, "{instance} / {key}");
        assert!(!format!("{error:?}").contains(KEY) && !format!("{error:?}").contains("a1b2c3"), "{error:?}");
    }
    // The right order, and a long lower-case instance name with a real-looking key, still work.
    for (instance, name) in [("acme", "acme"), ("acmecorp2024sandbox", "acmecorp2024sandbox")] {
        let connector = FreshserviceApiKey::new(instance, KEY).unwrap();
        assert_eq!(connector.base_url().as_str(), format!("https://{name}.freshservice.com/api/v2"));
    }
}

/// A server that echoes what it was sent, in a `404` page, percent-encoded.
#[tokio::test]
async fn percent_encoded_addresses_are_masked_in_display_and_debug() {
    let recorder = Recorder::start(|line| {
        let path = line.split(' ').nth(1).unwrap_or_default().to_string();
        (404, format!("Cannot GET {path}"))
    })
    .await;
    let fs = FreshserviceApiKey::for_loopback(&recorder.url("/api/v2"), "fs-api-key").unwrap();
    let client = Client::builder(fs).retry_policy(RetryPolicy::none()).build().unwrap();
    let error = client.find_by_email("Jane.Doe+HR@Example.com").await.unwrap_err();
    assert_eq!(
        recorder.lines(),
        ["GET /api/v2/requesters?email=Jane.Doe%2BHR%40Example.com&include_agents=true HTTP/1.1"]
    );
    assert_eq!(
        error.to_string(),
        r#"Not found: HTTP 404: Not Found (body starts: "Cannot GET /api/v2/requesters?email=[EMAIL]&include_agents=true")"#
    );
    assert_eq!(
        format!("{error:?}"),
        r#"NotFound(ApiError { status: 404, code: None, message: "Not Found (body starts: \"Cannot GET /api/v2/requesters?email=[EMAIL]&include_agents=true\")", fields: [], hint: None })"#
    );
}

#[tokio::test]
async fn every_spelling_of_an_address_is_masked() {
    let bodies = [
        (r#"{"detail":"jane.doe%40example.com exists"}"#, "[EMAIL] exists"),
        (r#"{"detail":"JANE.DOE%40EXAMPLE.COM exists"}"#, "[EMAIL] exists"),
        (r#"{"detail":"jane.doe%2Bhr%40example%2Ecom exists"}"#, "[EMAIL] exists"),
        (r#"{"detail":"jane.doe%2bhr%40example%2ecom exists"}"#, "[EMAIL] exists"),
        (r#"{"detail":"jane.doe+hr%40example.com exists"}"#, "[EMAIL] exists"),
        (r#"{"detail":"jane.doe%2540example.com exists"}"#, "[EMAIL] exists"),
        (r#"{"detail":"jane.doe&#64;example.com exists"}"#, "[EMAIL] exists"),
        (r#"{"detail":"jane.doe&#x40;example.com exists"}"#, "[EMAIL] exists"),
        (r#"{"detail":"jane.doe&commat;example.com exists"}"#, "[EMAIL] exists"),
        // JSON escapes: decoded by the parser, and also when the body is quoted raw.
        (r#"{"detail":"jane.doe\u0040example.com exists"}"#, "[EMAIL] exists"),
        (r#"{"detail":"jane.doe\\u0040example.com exists"}"#, "[EMAIL] exists"),
        (r#"{"detail":"jane\\u002bhr\\u0040example.com exists"}"#, "[EMAIL] exists"),
    ];
    for (body, message) in bodies {
        let recorder = Recorder::start(move |_| (409, body.to_string())).await;
        let scim = ScimBearer::for_loopback(&recorder.url("/scim/v2"), "tok-123").unwrap();
        let client = Client::builder(scim).retry_policy(RetryPolicy::none()).build().unwrap();
        let error = client.get(&UserId::new("u-1")).await.unwrap_err();
        assert_eq!(error.to_string(), format!("Conflict: HTTP 409: {message}"), "{body}");
        assert!(!format!("{error:?}").contains("jane"), "{error:?}");
    }
    // Not addresses: left alone.
    let recorder = Recorder::start(|_| (409, r#"{"detail":"100%40 done, a%40b, @home, x@y"}"#.to_string())).await;
    let scim = ScimBearer::for_loopback(&recorder.url("/scim/v2"), "tok-123").unwrap();
    let client = Client::builder(scim).retry_policy(RetryPolicy::none()).build().unwrap();
    let error = client.get(&UserId::new("u-1")).await.unwrap_err();
    assert_eq!(error.to_string(), "Conflict: HTTP 409: 100%40 done, a%40b, @home, x@y");
}

/// A `2xx` whose body cannot be read gets the same exact-credential redaction as an error body,
/// applied before the excerpt is cut.
#[tokio::test]
async fn a_credential_in_an_undecodable_success_body_is_redacted() {
    const SECRET: &str = "zq81Vb55Lm0Pq2Xc";
    let cases: [(&str, String); 3] = [
        // Not JSON at all: `Response::json`.
        ("/Users/u-1", format!("<html>session {SECRET} ok</html>")),
        // JSON, but not a list response: the list reader's own excerpt.
        ("/Users?filter", format!(r#"["{SECRET}"]"#)),
        // The credential across the excerpt's cut (at 200 characters).
        ("/Users/u-1", format!("<p>{} {SECRET}", "x".repeat(192))),
    ];
    for (path, body) in cases {
        let body_for_server = body.clone();
        let recorder = Recorder::start(move |_| (200, body_for_server.clone())).await;
        let scim = ScimBearer::for_loopback(&recorder.url("/scim/v2"), SECRET).unwrap();
        let client = Client::builder(scim).retry_policy(RetryPolicy::none()).build().unwrap();
        let error = if path == "/Users/u-1" {
            client.get(&UserId::new("u-1")).await.unwrap_err()
        } else {
            client.find_by_user_name("jane").await.unwrap_err()
        };
        let Error::Decode(decode) = &error else { panic!("{error:?}") };
        assert!(decode.excerpt.contains("[RED"), "{body}: {decode:?}");
        for text in [error.to_string(), format!("{error:?}")] {
            // No run of 4 or more of the credential's characters survives.
            for start in 0..=SECRET.len() - 4 {
                assert!(!text.contains(&SECRET[start..start + 4]), "{body}: {text}");
            }
        }
    }
}
