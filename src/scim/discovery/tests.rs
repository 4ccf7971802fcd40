//! Unit tests of discovery: attribute paths, schema reading, and when capabilities are read again.

use super::*;

#[test]
fn paths_split_into_schema_and_attribute() {
    let core = CORE_USER_SCHEMA.to_ascii_lowercase();
    assert_eq!(split_path("externalId"), (core.clone(), "externalid".into()));
    assert_eq!(split_path("emails[type eq \"work\"].value"), (core, "emails.value".into()));
    assert_eq!(
        split_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"),
        ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:user".into(), "department".into())
    );
}

#[test]
fn attributes_are_read_with_sub_attributes_and_bounded_depth() {
    let mut map = BTreeMap::new();
    let attribute = serde_json::json!({"name": "name", "mutability": "readWrite", "subAttributes": [
        {"name": "givenName", "mutability": "immutable"}, {"name": 7}, "junk"
    ]});
    read_attribute(&mut map, "u", "", &attribute, 0);
    assert_eq!(map.get("u|name.givenname"), Some(&Mutability::Immutable));
    assert_eq!(map.len(), 2);
}

#[tokio::test]
async fn capabilities_read_during_a_passing_failure_are_read_again_later_and_only_those() {
    use httpmock::Method::GET;
    let server = httpmock::MockServer::start_async().await;
    let down = server
        .mock_async(|when, then| {
            when.method(GET).path("/scim/v2/ServiceProviderConfig");
            then.status(503).body("maintenance");
        })
        .await;
    let _others = server
        .mock_async(|when, then| {
            when.method(GET).path_matches("^/scim/v2/(ResourceTypes|Schemas)$");
            then.status(404);
        })
        .await;
    let connector = crate::ScimBearer::for_loopback(&server.url("/scim/v2"), "discovery-token-1234").unwrap();
    let client = crate::Client::builder(connector).retry_policy(crate::RetryPolicy::none()).build().unwrap();
    let cache = DiscoveryCache { rediscover_after: Duration::from_millis(200), ..DiscoveryCache::default() };

    let first = cache.get(client.http()).await;
    assert_eq!(first.filter, None);
    assert!(first.incomplete);
    assert!(first.describe().iter().any(|line| line.starts_with("discovery incomplete")), "{:?}", first.describe());
    down.assert_calls_async(1).await;
    down.delete_async().await;
    let up = server
        .mock_async(|when, then| {
            when.method(GET).path("/scim/v2/ServiceProviderConfig");
            then.status(200).json_body(serde_json::json!({"filter": {"supported": false}}));
        })
        .await;

    // Within the interval the incomplete answer stands: nothing is sent.
    assert_eq!(cache.get(client.http()).await.filter, None);
    up.assert_calls_async(0).await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    let second = cache.get(client.http()).await;
    assert_eq!(second.filter, Some(false));
    // The `404`s last: complete now, and never read again.
    assert!(!second.incomplete);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(cache.get(client.http()).await.filter, Some(false));
    up.assert_calls_async(1).await;
}

#[tokio::test]
async fn not_implemented_and_client_errors_are_lasting_answers() {
    use httpmock::Method::GET;
    for status in [501, 404, 403] {
        let server = httpmock::MockServer::start_async().await;
        let endpoints = server
            .mock_async(|when, then| {
                when.method(GET).path_matches("^/scim/v2/(ServiceProviderConfig|ResourceTypes|Schemas)$");
                then.status(status);
            })
            .await;
        let connector = crate::ScimBearer::for_loopback(&server.url("/scim/v2"), "discovery-token-1234").unwrap();
        let client = crate::Client::builder(connector).retry_policy(crate::RetryPolicy::none()).build().unwrap();
        let cache = DiscoveryCache { rediscover_after: Duration::from_millis(1), ..DiscoveryCache::default() };
        assert!(!cache.get(client.http()).await.incomplete, "{status}");
        tokio::time::sleep(Duration::from_millis(20)).await;
        cache.get(client.http()).await;
        endpoints.assert_calls_async(3).await;
    }
}
