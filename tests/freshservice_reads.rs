//! Reading Freshservice accounts at the request level: a user by id (with department and location
//! names from paged, cached directories), the paged listing and its `Link` headers, and a look-up
//! by user name. Fixtures follow the API v2 docs' shapes.

#[path = "support/common/mod.rs"]
mod common;

use common::freshservice::{
    catch_all, client, connector, directory, find_agents, find_requesters, fixture, no_body, read, request, respond,
};
use futures_util::StreamExt;
use httpmock::{Method, MockServer};
use identity_connectors::prelude::*;
use identity_connectors::{Error, FreshserviceUserKind, PageRequest, PageToken, UserId};
use serde_json::json;

#[tokio::test]
async fn get_reads_phones_given_as_numbers_and_names_from_paged_directories() {
    let server = MockServer::start_async().await;
    let get = read(&server, "/requesters/21000418007", 200, fixture("requester_phones_as_numbers.json")).await;
    let page2 = server.url("/api/v2/departments?per_page=100&page=2");
    let departments1 = server
        .mock_async(|when, then| {
            no_body(request(when, Method::GET, "/departments", &[("per_page", "100"), ("page", "1")]));
            respond(then, 200, fixture("departments.json")).header("link", format!("<{page2}>; rel=\"next\""));
        })
        .await;
    let departments2 = server
        .mock_async(|when, then| {
            no_body(request(when, Method::GET, "/departments", &[("per_page", "100"), ("page", "2")]));
            respond(then, 200, fixture("departments_page2.json"));
        })
        .await;
    let locations = directory(&server, "locations", "locations.json").await;
    let unexpected = catch_all(&server).await;

    let client = client(connector(&server).with_employee_number_field("employee_id"));
    let harry = client.get(&UserId::new("21000418007")).await.unwrap();

    let user = &harry.user;
    assert_eq!(user.phone("work"), Some("62443"));
    assert_eq!(user.phone("mobile"), Some("7776244301"));
    let emails: Vec<(&str, Option<&str>)> = user.emails.iter().map(|e| (e.value.as_str(), e.kind.as_deref())).collect();
    assert_eq!(emails, vec![("harry.potter@example.com", Some("work")), ("hp@example.org", Some("other"))]);
    assert_eq!(user.timezone.as_deref(), Some("Eastern Time (US & Canada)"));
    assert_eq!(user.preferred_language.as_deref(), Some("pt-BR"));
    let enterprise = user.enterprise.as_ref().unwrap();
    assert_eq!(enterprise.department.as_deref(), Some("Human Resources"));
    assert_eq!(enterprise.employee_number.as_deref(), Some("1002"));
    let fs = user.freshservice().unwrap();
    assert_eq!(fs.location.as_deref(), Some("London HQ"));
    assert_eq!(fs.can_see_all_tickets_from_associated_departments, Some(true));
    assert_eq!(fs.extra.get("workspace_info"), Some(&json!({"id": 2, "name": "IT"})));
    assert_eq!(fs.extra.get("department_ids"), Some(&json!([555, 553])));
    assert_eq!(fs.extra.get("address"), Some(&json!("Gryffindor Tower")));

    // The lists are cached: a second read sends only the user's GET.
    client.get(&UserId::new("21000418007")).await.unwrap();
    get.assert_calls_async(2).await;
    departments1.assert_calls_async(1).await;
    departments2.assert_calls_async(1).await;
    locations.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn listing_follows_link_headers_over_three_pages() {
    let server = MockServer::start_async().await;
    let mut pages = Vec::new();
    for page in 1..=3u32 {
        let next = (page < 3)
            .then(|| server.url(format!("/api/v2/requesters?per_page=100&page={}&include_agents=true", page + 1)));
        let body = fixture(&format!("listing_page{page}.json"));
        let page_text = page.to_string();
        pages.push(
            server
                .mock_async(|when, then| {
                    no_body(request(
                        when,
                        Method::GET,
                        "/requesters",
                        &[("per_page", "100"), ("page", &page_text), ("include_agents", "true")],
                    ));
                    let then = respond(then, 200, body);
                    if let Some(next) = next {
                        // No space before `rel`, as Freshservice's docs print it.
                        then.header("link", format!("<{next}>;rel=\"next\""));
                    }
                })
                .await,
        );
    }
    let unexpected = catch_all(&server).await;

    let client = client(connector(&server));
    let users: Vec<_> = client.list(100).collect().await;

    let users: Vec<_> = users.into_iter().map(Result::unwrap).collect();
    let ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["101", "102", "103", "104", "105"]);
    let kinds: Vec<_> = users.iter().map(|u| u.user.freshservice().unwrap().kind.unwrap()).collect();
    assert_eq!(kinds[1], FreshserviceUserKind::Agent);
    assert_eq!(kinds.iter().filter(|k| **k == FreshserviceUserKind::Requester).count(), 4);
    assert!(!users[2].is_active());
    for page in &pages {
        page.assert_calls_async(1).await;
    }
    unexpected.assert_calls_async(0).await;

    let page = client.list_page(&PageRequest::first(100)).await.unwrap();
    assert_eq!(page.next, Some(PageToken::new("2")));
    assert_eq!(page.total, None);
}

#[tokio::test]
async fn listing_never_follows_a_link_to_another_host() {
    let server = MockServer::start_async().await;
    let page = server
        .mock_async(|when, then| {
            no_body(request(
                when,
                Method::GET,
                "/requesters",
                &[("per_page", "50"), ("page", "1"), ("include_agents", "true")],
            ));
            respond(then, 200, fixture("listing_page3.json"))
                .header("link", "<https://attacker.example.com/api/v2/requesters?page=2>; rel=\"next\"");
        })
        .await;
    let unexpected = catch_all(&server).await;

    let error = client(connector(&server)).list_page(&PageRequest::first(50)).await.unwrap_err();

    assert!(matches!(error, Error::Decode(_)), "{error:?}");
    assert_eq!(
        error.to_string(),
        "Could not decode the response (HTTP 200): the `Link` header's next page points to another host; it was not followed"
    );
    page.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn page_size_is_capped_at_100_and_a_foreign_token_is_rejected_unsent() {
    let server = MockServer::start_async().await;
    let page = server
        .mock_async(|when, then| {
            no_body(request(
                when,
                Method::GET,
                "/requesters",
                &[("per_page", "100"), ("page", "7"), ("include_agents", "true")],
            ));
            respond(then, 200, json!({"requesters": []}));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let client = client(connector(&server));
    let empty = client.list_page(&PageRequest::next(PageToken::new("7"), 1000)).await.unwrap();
    assert!(empty.users.is_empty() && empty.next.is_none());
    let error = client.list_page(&PageRequest::next(PageToken::new("cursor-abc"), 10)).await.unwrap_err();
    assert!(matches!(&error, Error::Validation(v) if v.status.is_none()), "{error:?}");

    page.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn find_by_user_name_with_an_at_sign_searches_requesters_then_agents() {
    let server = MockServer::start_async().await;
    let email = "Agent.Smith@example.com";
    // The requester filter may return near matches; only the exact (case-insensitive) one counts.
    let requester =
        find_requesters(&server, email, json!([{"id": 1, "primary_email": "agent.smith2@example.com"}])).await;
    let agent =
        find_agents(&server, email, json!([{"id": 9, "email": "agent.smith@example.com", "active": true}])).await;
    let unexpected = catch_all(&server).await;

    let found = client(connector(&server)).find_by_user_name(email).await.unwrap().unwrap();

    assert_eq!(found.id, UserId::new("9"));
    assert_eq!(found.user.freshservice().cloned().unwrap().kind, Some(FreshserviceUserKind::Agent));
    requester.assert_calls_async(1).await;
    agent.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}
