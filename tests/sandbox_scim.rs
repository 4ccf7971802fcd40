//! The SCIM (Interact) sandbox at the HTTP level, with plain reqwest: every endpoint's behaviour
//! as scim2-server shows it, independent of the crate's client.

use identity_connectors::sandbox::ScimSandbox;
use serde_json::{Value, json};

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const INTERACT: &str = "urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:User";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    raw: Vec<u8>,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends one request; `token` `None` sends no `Authorization`.
async fn send(method: &str, url: &str, token: Option<&str>, body: Option<(&str, Vec<u8>)>) -> Reply {
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = client.request(method, url);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    if let Some((content_type, bytes)) = body {
        request = request.header("Content-Type", content_type).body(bytes);
    }
    let response = request.send().await.expect("the sandbox answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let raw = response.bytes().await.expect("body").to_vec();
    let body = if raw.is_empty() { Value::Null } else { serde_json::from_slice(&raw).expect("a JSON body") };
    Reply { status, headers, raw, body }
}

async fn call(sandbox: &ScimSandbox, method: &str, path: &str, body: Option<Value>) -> Reply {
    let url = format!("{}{path}", sandbox.base_url());
    let body = body.map(|b| ("application/scim+json", b.to_string().into_bytes()));
    send(method, &url, Some(sandbox.token()), body).await
}

fn jane() -> Value {
    json!({
        "schemas": [CORE, ENTERPRISE, INTERACT],
        "userName": "Jane.Doe@example.com",
        "externalId": "E1",
        "active": true,
        "name": {"givenName": "Jane", "familyName": "Doe"},
        "emails": [{"value": "jane.doe@example.com", "type": "work", "primary": true}],
        ENTERPRISE: {"department": "Finance", "employeeNumber": "1001"},
        INTERACT: {"loginType": "SAML", "location": "London"}
    })
}

fn scim_error(status: &str, scim_type: Option<&str>, detail: &str) -> Value {
    let mut error = json!({"schemas": [ERROR], "status": status, "detail": detail});
    if let Some(scim_type) = scim_type {
        error["scimType"] = json!(scim_type);
    }
    error
}

/// The stored attributes of a rendered user: everything but `id` and `meta`.
fn attributes(user: &Value) -> Value {
    let mut user = user.clone();
    if let Some(map) = user.as_object_mut() {
        map.remove("id");
        map.remove("meta");
    }
    user
}

#[tokio::test]
async fn create_answers_201_with_location_etag_and_the_full_resource() {
    let sandbox = ScimSandbox::start().await.expect("start");
    let reply = call(&sandbox, "POST", "/Users", Some(jane())).await;

    assert_eq!(reply.status, 201);
    let id = reply.body["id"].as_str().expect("an id").to_string();
    assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    let location = format!("{}/Users/{id}", sandbox.base_url());
    assert_eq!(reply.header("location"), Some(location.as_str()));
    assert_eq!(reply.header("content-type"), Some("application/scim+json"));
    assert_eq!(reply.header("etag"), Some("W/\"1\""));
    assert_eq!(attributes(&reply.body), jane());
    let meta = &reply.body["meta"];
    assert_eq!(meta["resourceType"], "User");
    assert_eq!(meta["location"], location.as_str());
    assert_eq!(meta["version"], "W/\"1\"");
    assert_eq!(meta["created"], meta["lastModified"]);
    assert!(meta["created"].as_str().is_some_and(|t| t.len() == 20 && t.ends_with('Z')));

    assert_eq!(sandbox.user_count(), 1);
    assert_eq!(sandbox.user_by_user_name("jane.doe@EXAMPLE.com"), Some(reply.body.clone()));
    assert_eq!(sandbox.user_by_email("JANE.DOE@example.com"), Some(reply.body.clone()));
    assert_eq!(sandbox.user(&id), Some(reply.body.clone()));
    assert_eq!(sandbox.users(), vec![reply.body.clone()]);

    let fetched = call(&sandbox, "GET", &format!("/Users/{id}"), None).await;
    assert_eq!((fetched.status, fetched.body), (200, reply.body));
}

#[tokio::test]
async fn a_duplicate_user_name_in_another_case_is_409_uniqueness() {
    let sandbox = ScimSandbox::start().await.expect("start");
    assert_eq!(call(&sandbox, "POST", "/Users", Some(jane())).await.status, 201);
    let reply = call(&sandbox, "POST", "/Users", Some(json!({"userName": "JANE.DOE@example.COM"}))).await;
    assert_eq!(reply.status, 409);
    assert_eq!(
        reply.body,
        scim_error("409", Some("uniqueness"), "One or more of the attribute values are already in use or are reserved")
    );
    assert_eq!(sandbox.user_count(), 1);
}

#[tokio::test]
async fn requests_without_the_right_token_are_401_but_discovery_is_public() {
    let sandbox = ScimSandbox::builder().token("s3cr3t").start().await.expect("start");
    assert_eq!(sandbox.token(), "s3cr3t");
    let url = format!("{}/Users", sandbox.base_url());
    let expected = scim_error("401", None, "Authorization failure. The authorization header is invalid or missing");
    for token in [None, Some("wrong"), Some("s3cr3")] {
        let reply = send("GET", &url, token, None).await;
        assert_eq!(reply.status, 401, "{token:?}");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer realm=\"SCIM\""));
        assert_eq!(reply.body, expected);
    }
    let created = send("POST", &url, None, Some(("application/scim+json", jane().to_string().into_bytes()))).await;
    assert_eq!(created.status, 401);
    assert_eq!(sandbox.user_count(), 0);

    let config = send("GET", &format!("{}/ServiceProviderConfig", sandbox.base_url()), None, None).await;
    assert_eq!(config.status, 200);
    assert_eq!(config.body["patch"], json!({"supported": true}));
    assert_eq!(config.body["filter"], json!({"supported": true, "maxResults": 1000}));
    assert_eq!(config.body["authenticationSchemes"][0]["type"], "oauthbearertoken");
}

#[tokio::test]
async fn filters_match_user_name_external_id_and_emails_combined_with_and() {
    let sandbox = ScimSandbox::start().await.expect("start");
    let mut ids = Vec::new();
    for (user_name, external_id, email) in
        [("ann@x.com", "E1", "ann@x.com"), ("bob@x.com", "E2", "robert@x.com"), ("cat@x.com", "e1", "cat@x.com")]
    {
        let body =
            json!({"userName": user_name, "externalId": external_id, "emails": [{"value": email, "type": "work"}]});
        ids.push(call(&sandbox, "POST", "/Users", Some(body)).await.body["id"].as_str().unwrap_or("").to_string());
    }
    let search = |filter: &'static str| {
        let sandbox = &sandbox;
        async move {
            let mut url = url::Url::parse(&format!("{}/Users", sandbox.base_url())).expect("url");
            url.query_pairs_mut().append_pair("filter", filter);
            send("GET", url.as_str(), Some(sandbox.token()), None).await
        }
    };
    let found = |reply: &Reply| -> Vec<String> {
        reply.body["Resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["id"].as_str())
            .map(String::from)
            .collect()
    };

    let reply = search(r#"userName eq "ANN@X.COM""#).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["schemas"], json!([LIST]));
    assert_eq!((reply.body["totalResults"].clone(), reply.body["startIndex"].clone()), (json!(1), json!(1)));
    assert_eq!(reply.body["itemsPerPage"], 1);
    assert_eq!(found(&reply), vec![ids[0].clone()]);
    assert_eq!(found(&search(r#"externalId eq "E1""#).await), vec![ids[0].clone()], "externalId is case-exact");
    assert_eq!(found(&search(r#"emails.value eq "Robert@X.com""#).await), vec![ids[1].clone()]);
    assert_eq!(
        found(&search(r#"userName eq "bob@x.com" and emails.value eq "robert@x.com""#).await),
        vec![ids[1].clone()]
    );
    assert_eq!(found(&search(r#"userName eq "bob@x.com" and externalId eq "E1""#).await), Vec::<String>::new());
    assert_eq!(found(&search(r#"emails[type eq "work" and value sw "cat"]"#).await), vec![ids[2].clone()]);

    let none = search(r#"userName eq "nobody@x.com""#).await;
    assert_eq!(
        none.body,
        json!({"schemas": [LIST], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []})
    );

    for bad in ["userName eq ann@x.com", r#"userName xx "a""#, r#"(userName eq "a""#] {
        let reply = search(bad).await;
        assert_eq!((reply.status, reply.body["scimType"].clone()), (400, json!("invalidFilter")), "{bad}");
        assert_eq!(reply.body["schemas"], json!([ERROR]));
    }
}

#[tokio::test]
async fn start_index_and_count_paginate_in_creation_order() {
    let sandbox = ScimSandbox::builder().max_results(3).start().await.expect("start");
    let mut ids = Vec::new();
    for n in 1..=5 {
        let reply = call(&sandbox, "POST", "/Users", Some(json!({"userName": format!("user{n}")}))).await;
        ids.push(reply.body["id"].clone());
    }
    let page = call(&sandbox, "GET", "/Users?startIndex=2&count=2", None).await;
    assert_eq!(page.body["totalResults"], 5);
    assert_eq!(page.body["startIndex"], 2);
    assert_eq!(page.body["itemsPerPage"], 2);
    let page_ids: Vec<Value> =
        page.body["Resources"].as_array().into_iter().flatten().map(|r| r["id"].clone()).collect();
    assert_eq!(page_ids, ids[1..3].to_vec());

    let capped = call(&sandbox, "GET", "/Users?count=50", None).await;
    assert_eq!((capped.body["itemsPerPage"].clone(), capped.body["totalResults"].clone()), (json!(3), json!(5)));
    let clamped = call(&sandbox, "GET", "/Users?startIndex=0&count=-1", None).await;
    assert_eq!((clamped.body["startIndex"].clone(), clamped.body["itemsPerPage"].clone()), (json!(1), json!(0)));
    assert_eq!(clamped.body["Resources"], json!([]));
    let past_end = call(&sandbox, "GET", "/Users?startIndex=6", None).await;
    assert_eq!((past_end.body["itemsPerPage"].clone(), past_end.body["Resources"].clone()), (json!(0), json!([])));
    let bad = call(&sandbox, "GET", "/Users?startIndex=abc", None).await;
    assert_eq!((bad.status, bad.body["scimType"].clone()), (400, json!("invalidValue")));
}

#[tokio::test]
async fn put_replaces_every_attribute_and_keeps_user_names_unique() {
    let sandbox = ScimSandbox::start().await.expect("start");
    let id = call(&sandbox, "POST", "/Users", Some(jane())).await.body["id"].as_str().unwrap_or("").to_string();
    call(&sandbox, "POST", "/Users", Some(json!({"userName": "other@example.com"}))).await;

    let replacement = json!({"schemas": [CORE], "userName": "jane.doe@example.com", "id": "ignored", "title": "CFO"});
    let reply = call(&sandbox, "PUT", &format!("/Users/{id}"), Some(replacement)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(attributes(&reply.body), json!({"schemas": [CORE], "userName": "jane.doe@example.com", "title": "CFO"}));
    assert_eq!(reply.body["id"], id.as_str());
    assert_eq!(reply.header("etag"), Some("W/\"3\""));

    let clash = call(&sandbox, "PUT", &format!("/Users/{id}"), Some(json!({"userName": "OTHER@example.com"}))).await;
    assert_eq!((clash.status, clash.body["scimType"].clone()), (409, json!("uniqueness")));
    let missing = call(&sandbox, "PUT", "/Users/nope", Some(json!({"userName": "x"}))).await;
    assert_eq!((missing.status, missing.body), (404, scim_error("404", None, "User 'nope' not found")));
}

#[tokio::test]
async fn patch_answers_204_and_supports_paths_filters_urns_and_pathless_values() {
    let sandbox = ScimSandbox::start().await.expect("start");
    let id = call(&sandbox, "POST", "/Users", Some(jane())).await.body["id"].as_str().unwrap_or("").to_string();
    let path = format!("/Users/{id}");
    let patch = |operations: Value| json!({"schemas": [PATCH_OP], "Operations": operations});

    let reply =
        call(&sandbox, "PATCH", &path, Some(patch(json!([{"op": "replace", "path": "active", "value": false}])))).await;
    assert_eq!((reply.status, reply.raw.len()), (204, 0));
    assert_eq!(sandbox.user(&id).map(|u| u["active"].clone()), Some(json!(false)));

    let reply =
        call(&sandbox, "PATCH", &path, Some(patch(json!([{"op": "Replace", "value": {"active": true}}])))).await;
    assert_eq!(reply.status, 204);

    let operations = json!([
        {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "jane.smith@example.com"},
        {"op": "replace", "path": "name.familyName", "value": "Smith"},
        {"op": "replace", "path": format!("{ENTERPRISE}:department"), "value": "Sales"},
        {"op": "replace", "value": {"title": "Director", format!("{INTERACT}:location"): "Berlin"}},
        {"op": "remove", "path": format!("{ENTERPRISE}:employeeNumber")}
    ]);
    let reply = call(
        &sandbox,
        "PATCH",
        &format!("{path}?attributes=emails,name,{ENTERPRISE},{INTERACT},title"),
        Some(patch(operations)),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        json!({
            "schemas": [CORE, ENTERPRISE, INTERACT],
            "id": id,
            "title": "Director",
            "name": {"givenName": "Jane", "familyName": "Smith"},
            "emails": [{"value": "jane.smith@example.com", "type": "work", "primary": true}],
            ENTERPRISE: {"department": "Sales"},
            INTERACT: {"loginType": "SAML", "location": "Berlin"}
        })
    );

    let before = sandbox.user(&id);
    let no_target = patch(json!([
        {"op": "replace", "path": "title", "value": "Changed"},
        {"op": "replace", "path": "emails[type eq \"home\"].value", "value": "x@y.z"}
    ]));
    let reply = call(&sandbox, "PATCH", &path, Some(no_target)).await;
    assert_eq!((reply.status, reply.body["scimType"].clone()), (400, json!("noTarget")));
    assert_eq!(sandbox.user(&id), before, "a failed PATCH changes nothing");

    let reply = call(&sandbox, "PATCH", &path, Some(patch(json!([{"op": "remove"}])))).await;
    assert_eq!(reply.body, scim_error("400", Some("noTarget"), "Remove operation requires a path"));
    let reply = call(&sandbox, "PATCH", &path, Some(patch(json!([])))).await;
    assert_eq!((reply.status, reply.body["scimType"].clone()), (400, json!("invalidValue")));
    let reply = call(&sandbox, "PATCH", "/Users/nope", Some(patch(json!([{"op": "remove", "path": "title"}])))).await;
    assert_eq!(reply.status, 404);
}

#[tokio::test]
async fn delete_answers_204_then_404() {
    let sandbox = ScimSandbox::start().await.expect("start");
    let id = call(&sandbox, "POST", "/Users", Some(jane())).await.body["id"].as_str().unwrap_or("").to_string();
    let path = format!("/Users/{id}");
    let reply = call(&sandbox, "DELETE", &path, None).await;
    assert_eq!((reply.status, reply.raw.len()), (204, 0));
    assert_eq!(sandbox.user_count(), 0);
    let expected = scim_error("404", None, &format!("User '{id}' not found"));
    for method in ["GET", "DELETE"] {
        let reply = call(&sandbox, method, &path, None).await;
        assert_eq!((reply.status, reply.body.clone()), (404, expected.clone()), "{method}");
    }
}

#[tokio::test]
async fn bad_bodies_get_scim_errors_and_change_nothing() {
    let sandbox = ScimSandbox::start().await.expect("start");
    let url = format!("{}/Users", sandbox.base_url());
    let token = Some(sandbox.token());
    let post = |content_type: &'static str, body: &[u8]| {
        let url = url.clone();
        let body = body.to_vec();
        async move { send("POST", &url, token, Some((content_type, body))).await }
    };
    let reply = post("application/scim+json", br#"{"userName":"b","#).await;
    assert_eq!((reply.status, reply.body["scimType"].clone()), (400, json!("invalidSyntax")));
    let reply = post("text/plain", br#"{"userName":"b"}"#).await;
    assert_eq!(
        (reply.status, reply.body),
        (415, scim_error("415", None, "The request body must be application/scim+json"))
    );
    let reply = post("application/json", br#"{"userName":"b","bogus":1}"#).await;
    assert_eq!(reply.body, scim_error("400", Some("invalidSyntax"), "Extra inputs are not permitted: bogus"));
    let reply = post("application/json", br#"{"displayName":"b"}"#).await;
    assert_eq!(
        reply.body,
        scim_error("400", Some("invalidValue"), "Field 'userName' is required but value is missing, null or empty")
    );
    let huge = format!(r#"{{"userName":"b","title":"{}"}}"#, "x".repeat(2 * 1024 * 1024));
    let reply = post("application/json", huge.as_bytes()).await;
    assert_eq!(reply.status, 413);
    assert_eq!(sandbox.user_count(), 0);

    let reply = post("application/json", br#"{"UserName":"b","ACTIVE":"True"}"#).await;
    assert_eq!(
        (reply.status, attributes(&reply.body)),
        (201, json!({"schemas": [CORE], "userName": "b", "active": true}))
    );
    let unknown = call(&sandbox, "GET", "/Roles", None).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(call(&sandbox, "POST", "/Users/x", Some(json!({}))).await.status, 405);
}

#[tokio::test]
async fn stale_if_match_is_412_and_current_if_none_match_is_304() {
    let sandbox = ScimSandbox::start().await.expect("start");
    let id = call(&sandbox, "POST", "/Users", Some(jane())).await.body["id"].as_str().unwrap_or("").to_string();
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let url = format!("{}/Users/{id}", sandbox.base_url());
    let auth = format!("Bearer {}", sandbox.token());
    let stale =
        client.delete(&url).header("Authorization", &auth).header("If-Match", "W/\"0\"").send().await.expect("answer");
    assert_eq!(stale.status().as_u16(), 412);
    assert_eq!(sandbox.user_count(), 1);
    let cached = client
        .get(&url)
        .header("Authorization", &auth)
        .header("If-None-Match", "W/\"1\"")
        .send()
        .await
        .expect("answer");
    assert_eq!(cached.status().as_u16(), 304);
    let current =
        client.delete(&url).header("Authorization", &auth).header("If-Match", "W/\"1\"").send().await.expect("answer");
    assert_eq!(current.status().as_u16(), 204);
}

#[tokio::test]
async fn seeded_data_and_dropping_the_sandbox_stops_the_server() {
    let sandbox = ScimSandbox::builder().seed(9).start().await.expect("start");
    let inserted = sandbox.insert_user(json!({"userName": "pre@x.com", "active": false})).expect("insert");
    assert_eq!(attributes(&inserted), json!({"schemas": [CORE], "userName": "pre@x.com", "active": false}));
    assert_eq!(
        sandbox.insert_user(json!({"userName": "PRE@x.com"})).map(|_| ()),
        Err("One or more of the attribute values are already in use or are reserved".to_string())
    );
    let again = ScimSandbox::builder().seed(9).start().await.expect("start");
    assert_eq!(again.token(), sandbox.token(), "the same seed gives the same token");
    assert_eq!(
        again.insert_user(json!({"userName": "pre@x.com"})).map(|u| u["id"].clone()),
        Ok(inserted["id"].clone())
    );

    let url = format!("{}/ServiceProviderConfig", sandbox.base_url());
    assert_eq!(send("GET", &url, None, None).await.status, 200);
    drop(sandbox);
    tokio::task::yield_now().await;
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    assert!(client.get(&url).send().await.is_err(), "nothing listens after drop");
}

#[tokio::test]
async fn garbage_gets_client_errors_and_the_server_keeps_serving() {
    let sandbox = ScimSandbox::start().await.expect("start");
    let id = call(&sandbox, "POST", "/Users", Some(json!({"userName": "kept"}))).await.body["id"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let token = Some(sandbox.token());
    let bodies: [&[u8]; 5] =
        [b"\xff\xfe\x00", b"[[[[", br#"{"userName": {"a": 1}}"#, b"null", br#"{"Operations": "x"}"#];
    for body in bodies {
        for (method, path) in
            [("POST", "/Users".to_string()), ("PATCH", format!("/Users/{id}")), ("PUT", format!("/Users/{id}"))]
        {
            let url = format!("{}{path}", sandbox.base_url());
            let reply = send(method, &url, token, Some(("application/scim+json", body.to_vec()))).await;
            assert_eq!(reply.status, 400, "{method} {path} {body:?}");
            assert_eq!(reply.body["schemas"], json!([ERROR]));
        }
    }
    for path in ["/Users/%FF", "/Users/%", "/Users/a/b", "/Users/%2e%2e", "/../Users"] {
        let reply = send("GET", &format!("{}{path}", sandbox.base_url()), token, None).await;
        assert_eq!(reply.status, 404, "{path}");
    }
    for filter in ["userName eq \"é€😀\"", "é€😀", "userName eq \"\\ud800\"", "((((((((((", "userName[type eq \"a\"]"]
    {
        let mut url = url::Url::parse(&format!("{}/Users", sandbox.base_url())).expect("url");
        url.query_pairs_mut().append_pair("filter", filter);
        let reply = send("GET", url.as_str(), token, None).await;
        assert!(matches!(reply.status, 200 | 400), "{filter}: {}", reply.status);
    }
    assert_eq!(sandbox.user(&id).map(|u| attributes(&u)), Some(json!({"schemas": [CORE], "userName": "kept"})));
    assert_eq!(send("GET", &format!("{}/ServiceProviderConfig", sandbox.base_url()), None, None).await.status, 200);
}

#[test]
fn debug_output_never_shows_the_token() {
    let builder = ScimSandbox::builder().token("s3cr3t-token");
    let debug = format!("{builder:?}");
    assert!(debug.contains("[REDACTED]") && !debug.contains("s3cr3t-token"), "{debug}");
    let builder = identity_connectors::sandbox::FreshserviceSandbox::builder().api_key("s3cr3t-key");
    let debug = format!("{builder:?}");
    assert!(debug.contains("[REDACTED]") && !debug.contains("s3cr3t-key"), "{debug}");
}
