//! `ScimBearer` listing at the request level: paging by what the server returned, lenient list
//! bodies, where a listing stops, and page tokens checked before sending. One mock server per test;
//! a catch-all answers anything unexpected with 599 and must never be hit.

#[path = "support/common/mod.rs"]
mod common;

use common::mock::{self, catch_all, client, path, raw_query, without_body};
use futures_util::TryStreamExt as _;
use httpmock::MockServer;
use identity_connectors::{Error, PageRequest, PageToken};
use serde_json::{Value, json};

fn users(from: usize, to: usize) -> Vec<Value> {
    (from..=to).map(|n| json!({"id": format!("u{n}"), "userName": format!("user{n}")})).collect()
}

#[tokio::test]
async fn list_advances_by_what_was_returned_and_stops_at_total() {
    let server = MockServer::start_async().await;
    // The server caps pages at 4 although 10 were asked for.
    let mut pages = Vec::new();
    for (start, last) in [(1, 4), (5, 8), (9, 10)] {
        pages.push(
            server
                .mock_async(|when, then| {
                    raw_query(
                        without_body(when.method("GET").path(path("/Users"))),
                        Box::leak(format!("startIndex={start}&count=10").into_boxed_str()),
                    );
                    then.status(200).json_body(mock::list(10, start, users(start, last)));
                })
                .await,
        );
    }
    let unexpected = catch_all(&server).await;

    let listed: Vec<_> = client(&server).list(10).try_collect().await.expect("list");
    let ids: Vec<String> = listed.iter().map(|u| u.id.to_string()).collect();
    assert_eq!(ids, (1..=10).map(|n| format!("u{n}")).collect::<Vec<_>>());
    for page in &pages {
        page.assert_calls_async(1).await;
    }
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn list_reads_lenient_lists_and_stops_at_total_results() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), "startIndex=1&count=2");
            // Lower-case `resources`, no `totalResults`.
            then.status(200).json_body(json!({"resources": users(1, 2)}));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), "startIndex=3&count=2");
            then.status(200).json_body(json!({"totalResults": "3", "Resources": users(3, 3)}));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);

    let page = client.list_page(&PageRequest::first(2)).await.expect("page 1");
    assert_eq!(page.users.len(), 2);
    assert_eq!(page.total, None);
    assert_eq!(page.next, Some(PageToken::new("3")));
    let page = client.list_page(&PageRequest::next(page.next.expect("next"), 2)).await.expect("page 2");
    assert_eq!(page.users.len(), 1);
    assert_eq!(page.total, Some(3));
    assert_eq!(page.next, None, "totalResults reached");
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn an_empty_page_ends_the_listing() {
    let server = MockServer::start_async().await;
    let empty = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), "startIndex=7&count=5");
            then.status(200).json_body(json!({"Resources": []}));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let page = self::client(&server).list_page(&PageRequest::next(PageToken::new("7"), 5)).await.expect("page");
    assert!(page.users.is_empty());
    assert_eq!(page.next, None, "an empty page ends the listing");
    empty.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn list_rejects_invalid_page_tokens_without_sending() {
    let server = MockServer::start_async().await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);
    for token in ["0", "-1", "abc", "", "1.5"] {
        let error = client.list_page(&PageRequest::next(PageToken::new(token), 10)).await.expect_err("invalid token");
        assert!(matches!(&error, Error::Validation(v) if v.status.is_none()), "{token:?}: {error:?}");
    }
    unexpected.assert_calls_async(0).await;
}
