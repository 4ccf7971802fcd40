//! Freshservice's error answers and bad input at the request level: what the connection test says
//! for each status, rate limiting and its budget, validation and permission errors, and input that
//! is refused before anything is sent.

#[path = "support/common/mod.rs"]
mod common;

use std::time::Duration;

use common::freshservice::{
    catch_all, client, connector, directory, find_agents, find_requesters, fixture, json_body, no_body, request,
    respond,
};
use httpmock::{Method, MockServer};
use identity_connectors::prelude::*;
use identity_connectors::{AgentRole, Error, FreshserviceAttributes, FreshserviceUserKind, Lookup, User, UserId};
use serde_json::{Value, json};

async fn connection_test_error(status: u16, body: Value) -> Error {
    let server = MockServer::start_async().await;
    let probe = server
        .mock_async(|when, then| {
            no_body(request(when, Method::GET, "/requesters", &[("per_page", "1")]));
            respond(then, status, body);
        })
        .await;
    let unexpected = catch_all(&server).await;
    let error = client(connector(&server)).test_connection().await.unwrap_err();
    probe.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
    error
}

#[tokio::test]
async fn connection_test_succeeds_on_a_requester_page() {
    let server = MockServer::start_async().await;
    let probe = server
        .mock_async(|when, then| {
            no_body(request(when, Method::GET, "/requesters", &[("per_page", "1")]));
            respond(then, 200, fixture("listing_page3.json"));
        })
        .await;
    let unexpected = catch_all(&server).await;
    client(connector(&server)).test_connection().await.unwrap();
    probe.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn connection_test_401_says_to_check_the_api_key() {
    let error = connection_test_error(401, fixture("invalid_credentials.json")).await;
    assert!(matches!(error, Error::Unauthorized(_)), "{error:?}");
    assert_eq!(
        error.to_string(),
        "Unauthorized: HTTP 401 (invalid_credentials): You have to be logged in to perform this action. Check the API \
         key: it is under Profile settings > Your API key in Freshservice, and must belong to an active administrator"
    );
}

#[tokio::test]
async fn connection_test_403_says_the_key_owner_lacks_admin_rights() {
    let error = connection_test_error(403, fixture("access_denied.json")).await;
    let Error::Forbidden(api) = &error else { panic!("{error:?}") };
    assert_eq!(api.code.as_deref(), Some("access_denied"));
    assert_eq!(
        error.to_string(),
        "Forbidden: HTTP 403 (access_denied): You are not authorized to perform this action. The API key works, but \
         its owner lacks the permission: use the key of an administrator (with Manage Agents); creating a full-time \
         agent also fails this way when no agent licence is left"
    );
}

#[tokio::test]
async fn connection_test_404_says_to_check_the_instance_name() {
    let error = connection_test_error(404, json!({"code": "not_found", "message": "Not found"})).await;
    assert!(error.is_not_found(), "{error:?}");
    assert_eq!(
        error.to_string(),
        "Not found: HTTP 404 (not_found): Not found. Check the instance name: API v2 answers only on \
         `<name>.freshservice.com`, not on a custom domain"
    );
}

#[tokio::test]
async fn a_429_is_rate_limited_with_retry_after_and_the_budget_is_recorded() {
    let server = MockServer::start_async().await;
    let limited = server
        .mock_async(|when, then| {
            no_body(request(
                when,
                Method::GET,
                "/requesters",
                &[("email", "a@example.com"), ("include_agents", "true")],
            ));
            then.status(429)
                .header("retry-after", "37")
                .header("X-RateLimit-Total", "200")
                .header("X-RateLimit-Remaining", "0")
                .header("X-RateLimit-Used-CurrentRequest", "1")
                .json_body(json!({"code": "rate_limit_exceeded", "message": "Too many requests"}));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let client = client(connector(&server));
    let error = client.find_by_email("a@example.com").await.unwrap_err();

    let Error::RateLimited { retry_after, error: api } = &error else { panic!("{error:?}") };
    assert_eq!(*retry_after, Some(Duration::from_secs(37)));
    assert_eq!(api.code.as_deref(), Some("rate_limit_exceeded"));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(37)));
    let budget = client.rate_limit().unwrap();
    assert_eq!((budget.total, budget.remaining), (Some(200), 0));
    limited.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_400_lists_every_field_and_a_flat_body_keeps_its_code() {
    let server = MockServer::start_async().await;
    let rejected = server
        .mock_async(|when, then| {
            json_body(
                request(when, Method::POST, "/requesters", &[]),
                json!({"first_name": "x", "primary_email": "x@example.com"}),
            );
            respond(then, 400, fixture("validation_failed.json"));
        })
        .await;
    let denied = server
        .mock_async(|when, then| {
            json_body(
                request(when, Method::POST, "/agents", &[]),
                json!({"first_name": "y", "email": "y@example.com", "roles": [{"role_id": 1, "assignment_scope": "entire_helpdesk"}]}),
            );
            respond(then, 403, fixture("access_denied.json"));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let client = client(connector(&server));

    let x = User::builder("x@example.com").email("x@example.com").build();
    let error = client.connector().create_user(client.http(), &x).await.unwrap_err();
    let Error::Validation(validation) = &error else { panic!("{error:?}") };
    assert_eq!(validation.status, Some(400));
    assert_eq!(validation.fields.len(), 2);
    assert_eq!(
        error.to_string(),
        "Validation failed (HTTP 400): Validation failed; job_title: It should be a/an String (datatype_mismatch); \
         cost_code: It should be one of the choice value. (invalid_value)"
    );

    let y = User::builder("y@example.com")
        .email("y@example.com")
        .freshservice(FreshserviceAttributes::agent(vec![AgentRole::new(1, "entire_helpdesk")]))
        .build();
    let error = client.connector().create_user(client.http(), &y).await.unwrap_err();
    let Error::Forbidden(api) = &error else { panic!("{error:?}") };
    assert_eq!(api.code.as_deref(), Some("access_denied"));

    rejected.assert_calls_async(1).await;
    denied.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn an_unknown_department_name_is_a_validation_error_and_nothing_is_created() {
    let server = MockServer::start_async().await;
    let email = "new.hire@example.com";
    let find = find_requesters(&server, email, json!([])).await;
    let departments = directory(&server, "departments", "departments.json").await;
    let unexpected = catch_all(&server).await;

    let user = User::builder(email).email(email).department("Marketing").build();
    let error = client(connector(&server)).provision(&user).await.unwrap_err();

    let Error::Validation(validation) = &error else { panic!("{error:?}") };
    assert_eq!(validation.status, None);
    assert_eq!(
        error.to_string(),
        "Validation failed before sending (nothing was sent): the department `Marketing` does not exist in \
         Freshservice; create it there or correct the name; department: unknown department `Marketing`"
    );
    find.assert_calls_async(1).await;
    departments.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn an_unknown_manager_email_is_a_validation_error_without_the_address() {
    let server = MockServer::start_async().await;
    let requester = find_requesters(&server, "nobody@example.com", json!([])).await;
    let agent = find_agents(&server, "nobody@example.com", json!([])).await;
    let unexpected = catch_all(&server).await;

    let client = client(connector(&server));
    let user = User::builder("x@example.com").email("x@example.com").manager("nobody@example.com").build();
    let error = client.connector().create_user(client.http(), &user).await.unwrap_err();

    assert!(matches!(&error, Error::Validation(v) if v.fields[0].field == "manager"), "{error:?}");
    assert!(!error.to_string().contains("nobody"), "{error}");
    requester.assert_calls_async(1).await;
    agent.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn bad_input_is_rejected_before_anything_is_sent() {
    let server = MockServer::start_async().await;
    let unexpected = catch_all(&server).await;
    let client = client(connector(&server));

    let no_email = User::builder("jdoe").given_name("J").build();
    let error = client.provision(&no_email).await.unwrap_err();
    assert!(matches!(&error, Error::Validation(v) if v.status.is_none() && v.fields[0].field == "emails"), "{error:?}");

    let agent_without_roles = User::builder("a@example.com")
        .email("a@example.com")
        .freshservice(FreshserviceAttributes::new(FreshserviceUserKind::Agent))
        .build();
    let error = client.provision(&agent_without_roles).await.unwrap_err();
    assert!(matches!(&error, Error::Validation(v) if v.fields[0].field == "roles"), "{error:?}");

    let error = client.find(&Lookup::ExternalId("E1001".into())).await.unwrap_err();
    assert!(matches!(&error, Error::Validation(v) if v.status.is_none()), "{error:?}");
    let error = client.find_by_user_name("jdoe").await.unwrap_err();
    assert!(matches!(&error, Error::Validation(_)), "{error:?}");
    for id in ["../888", "888/forget", "", "abc", "-1"] {
        let error = client.get(&UserId::new(id)).await.unwrap_err();
        assert!(matches!(&error, Error::Validation(v) if v.status.is_none()), "{id}: {error:?}");
    }

    unexpected.assert_calls_async(0).await;
}
