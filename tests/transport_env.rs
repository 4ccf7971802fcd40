//! What a client takes from the environment: `HTTP_PROXY` (followed by default, ignored with
//! `proxy = "none"`) and a token from `{ env = … }` read again after a `401`. Alone in its own test
//! binary, as one test: it sets variables, and changing the environment is sound only while no
//! other thread reads it.

#[path = "support/raw_recorder.rs"]
mod raw_recorder;

use identity_connectors::config::ConnectorConfig;
use raw_recorder::Recorder;

const TOKEN_VAR: &str = "IDENTITY_CONNECTORS_TEST_ROTATING_TOKEN";
const OLD: &str = "old-env-token-AAAA1111";
const NEW: &str = "new-env-token-BBBB2222";
const SCIM_LIST: &str = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}"#;

/// Sets or removes variables.
///
/// # Safety
///
/// No other thread may read the environment meanwhile: call it only between `block_on`s of the
/// one current-thread runtime of this binary's one test.
unsafe fn set_env(vars: &[(&str, Option<&str>)]) {
    for (name, value) in vars {
        // SAFETY: the caller guarantees no other thread reads the environment.
        unsafe {
            match value {
                Some(value) => std::env::set_var(name, value),
                None => std::env::remove_var(name),
            }
        }
    }
}

fn config(base_url: &str, token: &str, client: &str) -> ConnectorConfig {
    toml::from_str(&format!(
        "type = \"scim\"\nname = \"D\"\nloopback_url = \"{base_url}\"\ntoken = {token}\n[client]\nretry = {{ max_attempts = 1, deadline = \"0s\" }}\n{client}\n"
    ))
    .expect("the configuration parses")
}

#[test]
fn the_environment_proxy_is_followed_unless_none_and_an_env_token_is_read_again_after_a_401() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let proxy = runtime.block_on(Recorder::start(|_| (200, SCIM_LIST.to_string())));
    let app = runtime.block_on(Recorder::start(|_| (200, SCIM_LIST.to_string())));
    let app_url = app.url("/scim/v2");
    let origin_form = "GET /scim/v2/Users?startIndex=1&count=1 HTTP/1.1";
    let absolute_form = format!("GET {app_url}/Users?startIndex=1&count=1 HTTP/1.1");

    // SAFETY: the runtime is idle and single-threaded; this is the binary's only test.
    unsafe {
        set_env(&[
            ("HTTP_PROXY", Some(&proxy.url(""))),
            ("http_proxy", None),
            ("ALL_PROXY", None),
            ("all_proxy", None),
            ("NO_PROXY", None),
            ("no_proxy", None),
        ]);
    }
    // Read when the client is built.
    let by_default = config(&app_url, "\"inline-token-1234\"", "").build_client().expect("builds");
    let direct = config(&app_url, "\"inline-token-1234\"", "proxy = \"none\"").build_client().expect("builds");
    // SAFETY: as above.
    unsafe { set_env(&[("HTTP_PROXY", None)]) };

    runtime.block_on(by_default.test_connection()).expect("through the environment's proxy");
    assert_eq!(without_discovery(proxy.lines()), [absolute_form], "the default follows HTTP_PROXY");
    assert!(app.lines().is_empty(), "{:?}", app.lines());

    runtime.block_on(direct.test_connection()).expect("straight to the app");
    assert_eq!(without_discovery(app.lines()), [origin_form], "`none` goes direct");
    assert_eq!(without_discovery(proxy.lines()).len(), 1, "`none` ignores HTTP_PROXY: {:?}", proxy.lines());

    // A token from the environment, rotated while the client runs.
    let server = runtime.block_on(httpmock::MockServer::start_async());
    let mock = |header: &'static str, status: u16| {
        runtime.block_on(server.mock_async(|when, then| {
            when.path("/scim/v2/Users").header("authorization", header);
            then.status(status).header("content-type", "application/json").body(SCIM_LIST);
        }))
    };
    let refused_old = mock("Bearer old-env-token-AAAA1111", 401);
    let accepted_new = mock("Bearer new-env-token-BBBB2222", 200);
    // SAFETY: as above.
    unsafe { set_env(&[(TOKEN_VAR, Some(OLD))]) };
    let config = config(&server.url("/scim/v2"), &format!("{{ env = \"{TOKEN_VAR}\" }}"), "proxy = \"none\"");
    let client = config.build_client().expect("builds with the old token");
    // SAFETY: as above.
    unsafe { set_env(&[(TOKEN_VAR, Some(NEW))]) };
    runtime.block_on(client.test_connection()).expect("the rotated token from the environment works");
    runtime.block_on(refused_old.assert_calls_async(1));
    runtime.block_on(accepted_new.assert_calls_async(1));
    let debug = format!("{config:?} {client:?}");
    assert!(debug.contains(TOKEN_VAR) && !debug.contains(OLD) && !debug.contains(NEW), "{debug}");
}

/// The request lines without SCIM discovery's three reads (`test_connection` asks for them after
/// its look-up): these tests are about where requests go, not how many a connection test sends.
fn without_discovery(lines: Vec<String>) -> Vec<String> {
    let discovery = ["/ServiceProviderConfig ", "/ResourceTypes ", "/Schemas "];
    lines.into_iter().filter(|line| !discovery.iter().any(|d| line.contains(d))).collect()
}
