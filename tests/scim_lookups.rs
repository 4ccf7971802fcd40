//! `ScimBearer` look-ups at the request level: how filter values are escaped and encoded, which
//! attribute each look-up filters on, how missing, ambiguous and wrong hits are handled, and
//! lenient parsing of a user read by id. One mock server per test; a catch-all answers anything
//! unexpected with 599 and must never be hit.

#[path = "support/common/mod.rs"]
mod common;

use common::mock::{self, catch_all, client, jane_resource, path, raw_query, without_body};
use httpmock::MockServer;
use identity_connectors::{Error, Lookup, MultiValue, UserId};
use serde_json::json;

#[tokio::test]
async fn filter_values_are_escaped_json_strings_and_percent_encoded() {
    let server = MockServer::start_async().await;
    let tricky = r#"a"b\c or userName pr"#;
    let find = server
        .mock_async(|when, then| {
            let when = without_body(when.method("GET").path(path("/Users")))
                .query_param("filter", r#"userName eq "a\"b\\c or userName pr""#)
                .query_param_count(".*", ".*", 1);
            raw_query(when, "filter=userName%20eq%20%22a%5C%22b%5C%5Cc%20or%20userName%20pr%22");
            // A server that ignored the filter would answer with everyone: only the exact user
            // name may match.
            then.status(200).json_body(mock::list(
                2,
                1,
                vec![json!({"id": "other", "userName": "a"}), json!({"id": "u-7", "userName": tricky})],
            ));
        })
        .await;
    // An answer holding a user that does not match means the filter was ignored: every page is
    // read and matched locally.
    let scan = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), "startIndex=1&count=100");
            then.status(200).json_body(mock::list(
                2,
                1,
                vec![json!({"id": "other", "userName": "a"}), json!({"id": "u-7", "userName": tricky})],
            ));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let found = client(&server).find_by_user_name(tricky).await.expect("find").expect("found");
    assert_eq!(found.id.as_str(), "u-7");
    find.assert_calls_async(1).await;
    scan.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn find_by_external_id_and_email_use_their_attributes() {
    let server = MockServer::start_async().await;
    let by_external_id = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), "filter=externalId%20eq%20%22E1%22");
            then.status(200).json_body(mock::list(1, 1, vec![jane_resource("u-1", true)]));
        })
        .await;
    let by_email = server
        .mock_async(|when, then| {
            raw_query(
                without_body(when.method("GET").path(path("/Users"))),
                "filter=emails.value%20eq%20%22JANE.DOE%40example.com%22",
            );
            then.status(200).json_body(mock::list(1, 1, vec![jane_resource("u-1", true)]));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);

    assert_eq!(client.find_by_external_id("E1").await.expect("find").map(|u| u.id), Some(UserId::new("u-1")));
    assert_eq!(
        client.find_by_email("JANE.DOE@example.com").await.expect("find").map(|u| u.id),
        Some(UserId::new("u-1"))
    );
    by_external_id.assert_calls_async(1).await;
    by_email.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn find_tolerates_404_missing_resources_and_wrong_hits() {
    let server = MockServer::start_async().await;
    // Okta answers a filter that matches nobody with 404.
    let okta = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users"))).query_param("filter", r#"userName eq "okta""#);
            then.status(404).header("content-type", "text/html").body("<html>Not Found</html>");
        })
        .await;
    // `Resources` may be left out when there are no results.
    let no_resources = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users"))).query_param("filter", r#"userName eq "bare""#);
            then.status(200).json_body(json!({"totalResults": 0}));
        })
        .await;
    // A server that ignores the filter: nobody it returns has the user name asked for.
    let ignores_filter = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users"))).query_param("filter", r#"userName eq "ghost""#);
            then.status(200).json_body(mock::list(1, 1, vec![jane_resource("u-1", true)]));
        })
        .await;
    // ...so every page is read (one, here) before "not found".
    let scan = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), "startIndex=1&count=100");
            then.status(200).json_body(mock::list(1, 1, vec![jane_resource("u-1", true)]));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);

    for name in ["okta", "bare", "ghost"] {
        assert_eq!(client.find_by_user_name(name).await.expect("find"), None, "{name}");
    }
    okta.assert_calls_async(1).await;
    no_resources.assert_calls_async(1).await;
    ignores_filter.assert_calls_async(1).await;
    scan.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn find_prefers_the_exact_user_name_and_refuses_ambiguous_emails() {
    let server = MockServer::start_async().await;
    let two_cases = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users"))).query_param("filter", r#"userName eq "Jane""#);
            then.status(200).json_body(mock::list(
                2,
                1,
                vec![json!({"id": "lower", "userName": "jane"}), json!({"id": "exact", "userName": "Jane"})],
            ));
        })
        .await;
    let shared_email = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users")))
                .query_param("filter", r#"emails.value eq "team@example.com""#);
            then.status(200).json_body(mock::list(
                2,
                1,
                vec![
                    json!({"id": "a", "userName": "a", "emails": [{"value": "team@example.com"}]}),
                    json!({"id": "b", "userName": "b", "emails": [{"value": "TEAM@example.com"}]}),
                ],
            ));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);

    let found = client.find_by_user_name("Jane").await.expect("find").expect("found");
    assert_eq!(found.id.as_str(), "exact");
    let error = client.find_by_email("team@example.com").await.expect_err("two people share the address");
    assert!(matches!(error, Error::Ambiguous { attribute: "email", matches: 2 }), "{error:?}");
    assert_eq!(error.to_string(), "Ambiguous look-up: 2 users match the email; use a key that identifies one person");
    assert_eq!(error.status(), None);
    two_cases.assert_calls_async(1).await;
    shared_email.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn invalid_filter_is_a_validation_error_with_the_scim_type() {
    let server = MockServer::start_async().await;
    let find = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users")));
            then.status(400).json_body(mock::error(400, Some("invalidFilter"), "Unsupported filter"));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let error = client(&server).find_by_user_name("x").await.expect_err("a 400 must fail");
    let Error::Validation(invalid) = &error else { panic!("{error:?}") };
    assert_eq!(invalid.status, Some(400));
    assert_eq!(invalid.code.as_deref(), Some("invalidFilter"));
    assert_eq!(invalid.message, "Unsupported filter");
    find.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn empty_look_up_values_send_nothing() {
    let server = MockServer::start_async().await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);
    for lookup in [Lookup::UserName(String::new()), Lookup::Email(" ".into()), Lookup::ExternalId(String::new())] {
        let error = client.find(&lookup).await.expect_err("empty look-ups are refused");
        assert!(matches!(&error, Error::Validation(v) if v.status.is_none()), "{error:?}");
    }
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn get_parses_leniently_and_maps_404() {
    let server = MockServer::start_async().await;
    let found = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users/u-1"))).query_param_count(".*", ".*", 0);
            then.status(200).header("content-type", "application/json").json_body(json!({
                "ID": "u-1",
                "UserName": "jane",
                "Active": "False",
                "emails": [{"value": "j@example.com", "type": "work", "primary": "True"}],
                "urn:example:custom:1.0:User": {"badge": 7},
                "groups": [{"value": "g1", "display": "Staff"}],
                "nickName": null
            }));
        })
        .await;
    let missing = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users/gone")));
            then.status(404).json_body(mock::error(404, None, "User gone not found"));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);

    let user = client.get(&UserId::new("u-1")).await.expect("get");
    assert_eq!(user.id.as_str(), "u-1");
    assert_eq!(user.user.user_name.as_deref(), Some("jane"));
    assert_eq!(user.user.active, Some(false));
    assert_eq!(user.user.emails, vec![MultiValue::new("j@example.com", "work").primary()]);
    assert_eq!(user.user.extra.get("urn:example:custom:1.0:User"), Some(&json!({"badge": 7})));
    assert_eq!(user.user.extra.get("groups"), Some(&json!([{"value": "g1", "display": "Staff"}])));
    assert!(!user.user.extra.contains_key("nickName"));

    let error = client.get(&UserId::new("gone")).await.expect_err("404");
    assert!(error.is_not_found(), "{error:?}");
    assert_eq!(error.to_string(), "Not found: HTTP 404: User gone not found");
    found.assert_calls_async(1).await;
    missing.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}
