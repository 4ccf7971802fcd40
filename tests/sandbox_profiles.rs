//! The SCIM sandbox's discovery documents and server profiles at the HTTP level, with plain
//! reqwest: what each `ScimProfile` answers (status, `scimType`, body), and that the discovery
//! documents say what the server then does.

use identity_connectors::sandbox::{ScimProfile, ScimSandbox};
use serde_json::{Value, json};

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const INTERACT: &str = "urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn error(&self) -> (u16, Value, Value) {
        assert_eq!(self.body["schemas"], json!([ERROR]), "a SCIM error body: {}", self.body);
        (self.status, self.body["status"].clone(), self.body["scimType"].clone())
    }
}

/// Sends one request with the sandbox's token (or none) and optional headers.
async fn send(
    sandbox: &ScimSandbox,
    method: &str,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
    authorised: bool,
) -> Reply {
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = client.request(method, format!("{}{path}", sandbox.base_url()));
    if authorised {
        request = request.header("Authorization", format!("Bearer {}", sandbox.token()));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.header("Content-Type", "application/scim+json").body(body.to_string());
    }
    let response = request.send().await.expect("the sandbox answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let raw = response.bytes().await.expect("body");
    let body = if raw.is_empty() { Value::Null } else { serde_json::from_slice(&raw).expect("a JSON body") };
    Reply { status, headers, body }
}

async fn call(sandbox: &ScimSandbox, method: &str, path: &str, body: Option<Value>) -> Reply {
    send(sandbox, method, path, body, &[], true).await
}

async fn start(profile: ScimProfile) -> ScimSandbox {
    ScimSandbox::builder().profile(profile).start().await.expect("start")
}

async fn create(sandbox: &ScimSandbox, body: Value) -> String {
    let reply = call(sandbox, "POST", "/Users", Some(body)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body["id"].as_str().expect("an id").to_string()
}

fn patch(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": operations})
}

fn user_names(reply: &Reply) -> Vec<String> {
    reply.body["Resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["userName"].as_str())
        .map(String::from)
        .collect()
}

/// The `/Schemas` attribute `name` of schema `urn`, when declared.
fn declared(schemas: &Value, urn: &str, name: &str) -> Option<Value> {
    let schema = schemas["Resources"].as_array()?.iter().find(|s| s["id"] == urn)?;
    schema["attributes"].as_array()?.iter().find(|a| a["name"] == name).cloned()
}

fn schema_ids(schemas: &Value) -> Vec<Value> {
    schemas["Resources"].as_array().into_iter().flatten().map(|s| s["id"].clone()).collect()
}

#[test]
fn the_profile_list_holds_every_profile_once_with_distinct_names() {
    assert_eq!(ScimProfile::ALL.len(), 10);
    assert_eq!(ScimProfile::ALL[0], ScimProfile::default());
    assert_eq!(ScimProfile::default(), ScimProfile::Standard);
    let mut names: Vec<&str> = ScimProfile::ALL.iter().map(|p| p.name()).collect();
    assert_eq!(ScimProfile::NoPatch.to_string(), "no-patch");
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), ScimProfile::ALL.len());
}

#[tokio::test]
async fn the_standard_profile_serves_discovery_and_refuses_writes_to_it() {
    let sandbox = ScimSandbox::start().await.expect("start");
    assert_eq!(sandbox.profile(), ScimProfile::Standard);
    let config = send(&sandbox, "GET", "/ServiceProviderConfig", None, &[], false).await;
    assert_eq!(config.status, 200);
    assert_eq!(config.header("content-type"), Some("application/scim+json"));
    assert_eq!(config.body["patch"], json!({"supported": true}));
    assert_eq!(config.body["filter"], json!({"supported": true, "maxResults": 1000}));
    assert_eq!(config.body["etag"], json!({"supported": true}));
    assert_eq!(config.body["bulk"]["supported"], false);

    let types = call(&sandbox, "GET", "/ResourceTypes", None).await;
    assert_eq!((types.status, types.body["totalResults"].clone()), (200, json!(2)));
    let user_type = &types.body["Resources"][0];
    assert_eq!((user_type["id"].clone(), user_type["endpoint"].clone()), (json!("User"), json!("/Users")));
    assert_eq!(user_type["schema"], CORE);
    assert_eq!(
        user_type["schemaExtensions"],
        json!([{"schema": ENTERPRISE, "required": false}, {"schema": INTERACT, "required": false}])
    );
    assert_eq!(call(&sandbox, "GET", "/ResourceTypes/User", None).await.body, *user_type);
    let group_type = &types.body["Resources"][1];
    assert_eq!((group_type["id"].clone(), group_type["endpoint"].clone()), (json!("Group"), json!("/Groups")));
    assert_eq!((group_type["schema"].clone(), group_type["schemaExtensions"].clone()), (json!(GROUP), json!([])));
    assert_eq!(call(&sandbox, "GET", "/ResourceTypes/Group", None).await.body, *group_type);
    assert_eq!(call(&sandbox, "GET", "/ResourceTypes/Role", None).await.error(), (404, json!("404"), Value::Null));

    let schemas = call(&sandbox, "GET", "/Schemas", None).await;
    assert_eq!(schema_ids(&schemas.body), vec![json!(CORE), json!(ENTERPRISE), json!(INTERACT), json!(GROUP)]);
    let members = declared(&schemas.body, GROUP, "members").expect("members");
    assert_eq!((members["multiValued"].clone(), members["mutability"].clone()), (json!(true), json!("readWrite")));
    assert_eq!(declared(&schemas.body, GROUP, "displayName").map(|d| d["required"].clone()), Some(json!(true)));
    let password = declared(&schemas.body, CORE, "password").expect("password is declared");
    assert_eq!((password["mutability"].clone(), password["returned"].clone()), (json!("writeOnly"), json!("never")));
    let user_name = declared(&schemas.body, CORE, "userName").expect("userName");
    assert_eq!(
        (user_name["required"].clone(), user_name["caseExact"].clone(), user_name["uniqueness"].clone()),
        (json!(true), json!(false), json!("server"))
    );
    assert_eq!(declared(&schemas.body, CORE, "groups").map(|g| g["mutability"].clone()), Some(json!("readOnly")));
    assert_eq!(declared(&schemas.body, CORE, "externalId"), None, "a common attribute, outside the schema");
    let manager = declared(&schemas.body, ENTERPRISE, "manager").expect("manager");
    assert_eq!(manager["subAttributes"][2]["name"], "displayName");
    assert_eq!(manager["subAttributes"][2]["mutability"], "readOnly");
    assert!(declared(&schemas.body, INTERACT, "loginType").is_some());
    let one = call(&sandbox, "GET", &format!("/Schemas/{ENTERPRISE}"), None).await;
    assert_eq!(one.body, schemas.body["Resources"][1]);
    assert_eq!(call(&sandbox, "GET", "/Schemas/urn:nope", None).await.error(), (404, json!("404"), Value::Null));

    assert_eq!(send(&sandbox, "GET", "/Schemas", None, &[], false).await.status, 401);
    for path in ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas", "/Schemas/x"] {
        for method in ["POST", "PUT", "PATCH", "DELETE"] {
            let reply = call(&sandbox, method, path, Some(json!({}))).await;
            assert_eq!(reply.error(), (405, json!("405"), Value::Null), "{method} {path}");
        }
    }
}

#[tokio::test]
async fn the_password_is_stored_but_never_returned() {
    let sandbox = ScimSandbox::start().await.expect("start");
    let created = call(&sandbox, "POST", "/Users", Some(json!({"userName": "pw", "password": "hunter2!"}))).await;
    assert_eq!(created.status, 201);
    assert_eq!(created.body.get("password"), None);
    let id = created.body["id"].as_str().unwrap_or("").to_string();
    for path in [format!("/Users/{id}"), format!("/Users/{id}?attributes=password"), "/Users".to_string()] {
        let reply = call(&sandbox, "GET", &path, None).await;
        assert_eq!(reply.status, 200);
        assert!(!reply.body.to_string().contains("hunter2!"), "{path}: {}", reply.body);
    }
    let replaced =
        call(&sandbox, "PUT", &format!("/Users/{id}"), Some(json!({"userName": "pw", "password": "x"}))).await;
    assert_eq!((replaced.status, replaced.body.get("password")), (200, None));
    assert!(!format!("{:?}", sandbox.users()).contains("hunter2!"));
}

#[tokio::test]
async fn a_whole_extension_object_can_be_replaced_added_and_removed() {
    let sandbox = ScimSandbox::start().await.expect("start");
    let id = create(&sandbox, json!({"userName": "ext", ENTERPRISE: {"department": "Old", "costCenter": "C1"}})).await;
    let path = format!("/Users/{id}");
    let operations = json!([{"op": "replace", "path": ENTERPRISE,
        "value": {"schemas": [ENTERPRISE], "department": "New", "manager": {"value": "m1", "displayName": "ignored"}}}]);
    assert_eq!(call(&sandbox, "PATCH", &path, Some(patch(operations))).await.status, 204);
    assert_eq!(
        sandbox.user(&id).map(|u| u[ENTERPRISE].clone()),
        Some(json!({"department": "New", "costCenter": "C1", "manager": {"value": "m1"}}))
    );
    let operations = json!([{"op": "add", "value": {INTERACT: {"location": "Leeds"}}}]);
    assert_eq!(call(&sandbox, "PATCH", &path, Some(patch(operations))).await.status, 204);
    assert_eq!(sandbox.user(&id).map(|u| u[INTERACT].clone()), Some(json!({"location": "Leeds"})));
    let operations = json!([{"op": "remove", "path": ENTERPRISE}]);
    assert_eq!(call(&sandbox, "PATCH", &path, Some(patch(operations))).await.status, 204);
    let user = sandbox.user(&id).unwrap_or_default();
    assert_eq!((user.get(ENTERPRISE), user["schemas"].clone()), (None, json!([CORE, INTERACT])));
    let bad = json!([{"op": "replace", "path": ENTERPRISE, "value": "x"}]);
    assert_eq!(
        call(&sandbox, "PATCH", &path, Some(patch(bad))).await.error(),
        (400, json!("400"), json!("invalidValue"))
    );
}

#[tokio::test]
async fn search_requests_filter_page_and_project_like_get() {
    let sandbox = ScimSandbox::start().await.expect("start");
    for name in ["ann", "bob", "cat"] {
        create(&sandbox, json!({"userName": name, "title": "T"})).await;
    }
    let request = json!({"schemas": [SEARCH], "filter": "userName ne \"bob\"", "attributes": ["userName"],
        "startIndex": 1, "count": 5});
    for path in ["/Users/.search", "/.search"] {
        let reply = call(&sandbox, "POST", path, Some(request.clone())).await;
        assert_eq!((reply.status, reply.body["totalResults"].clone()), (200, json!(2)), "{path}");
        assert_eq!(user_names(&reply), vec!["ann", "cat"]);
        assert_eq!(reply.body["Resources"][0].get("title"), None, "projected onto userName");
    }
    let reply = call(&sandbox, "POST", "/.search", Some(json!({"count": "ten"}))).await;
    assert_eq!(reply.error(), (400, json!("400"), json!("invalidValue")));
}

#[tokio::test]
async fn standard_etags_make_stale_writes_412() {
    let sandbox = ScimSandbox::start().await.expect("start");
    let id = create(&sandbox, json!({"userName": "etag"})).await;
    let path = format!("/Users/{id}");
    let operations = patch(json!([{"op": "replace", "path": "title", "value": "X"}]));
    let stale = send(&sandbox, "PATCH", &path, Some(operations.clone()), &[("If-Match", "W/\"0\"")], true).await;
    assert_eq!(stale.error(), (412, json!("412"), Value::Null));
    let stale = send(&sandbox, "PUT", &path, Some(json!({"userName": "etag"})), &[("If-Match", "W/\"7\"")], true).await;
    assert_eq!(stale.status, 412);
    assert_eq!(sandbox.user(&id).map(|u| u.get("title").cloned()), Some(None));
    let current = send(&sandbox, "PATCH", &path, Some(operations), &[("If-Match", "W/\"1\"")], true).await;
    assert_eq!((current.status, current.header("etag")), (204, Some("W/\"2\"")));
}

#[tokio::test]
async fn no_patch_says_so_and_answers_501_while_put_works() {
    let sandbox = start(ScimProfile::NoPatch).await;
    let config = call(&sandbox, "GET", "/ServiceProviderConfig", None).await;
    assert_eq!(config.body["patch"], json!({"supported": false}));
    let id = create(&sandbox, json!({"userName": "np", "title": "A"})).await;
    let path = format!("/Users/{id}");
    let reply =
        call(&sandbox, "PATCH", &path, Some(patch(json!([{"op": "replace", "path": "title", "value": "B"}])))).await;
    assert_eq!(reply.error(), (501, json!("501"), Value::Null));
    assert_eq!(reply.body["detail"], "PATCH is not supported by this service provider");
    assert_eq!(sandbox.user(&id).map(|u| u["title"].clone()), Some(json!("A")));
    let replaced = call(&sandbox, "PUT", &path, Some(json!({"userName": "np", "title": "B"}))).await;
    assert_eq!((replaced.status, replaced.body["title"].clone()), (200, json!("B")));
}

#[tokio::test]
async fn no_filter_says_so_and_refuses_filters_with_invalid_filter() {
    let sandbox = ScimSandbox::builder().profile(ScimProfile::NoFilter).max_results(2).start().await.expect("start");
    let config = call(&sandbox, "GET", "/ServiceProviderConfig", None).await;
    assert_eq!(config.body["filter"], json!({"supported": false, "maxResults": 2}));
    for name in ["a", "b", "c"] {
        create(&sandbox, json!({"userName": name})).await;
    }
    let reply = call(&sandbox, "GET", "/Users?filter=userName%20eq%20%22a%22", None).await;
    assert_eq!(reply.error(), (400, json!("400"), json!("invalidFilter")));
    assert_eq!(reply.body["detail"], "Filtering is not supported");
    let reply = call(&sandbox, "POST", "/Users/.search", Some(json!({"filter": "userName eq \"a\""}))).await;
    assert_eq!(reply.error(), (400, json!("400"), json!("invalidFilter")));
    let page = call(&sandbox, "GET", "/Users?startIndex=3", None).await;
    assert_eq!(
        (page.status, page.body["totalResults"].clone(), user_names(&page)),
        (200, json!(3), vec!["c".to_string()])
    );
}

#[tokio::test]
async fn filter_ignored_returns_everyone_two_per_page() {
    let sandbox = start(ScimProfile::FilterIgnoredPaged).await;
    let config = call(&sandbox, "GET", "/ServiceProviderConfig", None).await;
    assert_eq!(config.body["filter"], json!({"supported": true, "maxResults": 2}));
    for n in 1..=5 {
        create(&sandbox, json!({"userName": format!("user{n}")})).await;
    }
    let reply = call(&sandbox, "GET", "/Users?filter=userName%20eq%20%22user5%22&count=10", None).await;
    assert_eq!(
        (reply.status, reply.body["totalResults"].clone(), reply.body["itemsPerPage"].clone()),
        (200, json!(5), json!(2))
    );
    assert_eq!(user_names(&reply), vec!["user1", "user2"]);
    let last = call(&sandbox, "GET", "/Users?filter=userName%20eq%20%22user5%22&startIndex=5", None).await;
    assert_eq!(user_names(&last), vec!["user5"]);
    let garbage = call(&sandbox, "GET", "/Users?filter=((((", None).await;
    assert_eq!((garbage.status, garbage.body["totalResults"].clone()), (200, json!(5)), "not even parsed");

    let wider =
        ScimSandbox::builder().profile(ScimProfile::FilterIgnoredPaged).max_results(3).start().await.expect("start");
    let config = call(&wider, "GET", "/ServiceProviderConfig", None).await;
    assert_eq!(config.body["filter"]["maxResults"], 3);
}

#[tokio::test]
async fn no_etag_sends_no_versions_and_ignores_preconditions() {
    let sandbox = start(ScimProfile::NoEtag).await;
    let config = call(&sandbox, "GET", "/ServiceProviderConfig", None).await;
    assert_eq!(config.body["etag"], json!({"supported": false}));
    let created = call(&sandbox, "POST", "/Users", Some(json!({"userName": "ne"}))).await;
    assert_eq!((created.status, created.header("etag"), created.body["meta"].get("version")), (201, None, None));
    let path = format!("/Users/{}", created.body["id"].as_str().unwrap_or(""));
    let fetched = send(&sandbox, "GET", &path, None, &[("If-None-Match", "W/\"1\"")], true).await;
    assert_eq!((fetched.status, fetched.header("etag"), fetched.body["meta"].get("version")), (200, None, None));
    let operations = patch(json!([{"op": "replace", "path": "title", "value": "X"}]));
    let patched = send(&sandbox, "PATCH", &path, Some(operations), &[("If-Match", "W/\"99\"")], true).await;
    assert_eq!((patched.status, patched.header("etag")), (204, None));
    let deleted = send(&sandbox, "DELETE", &path, None, &[("If-Match", "W/\"99\"")], true).await;
    assert_eq!(deleted.status, 204);
}

#[tokio::test]
async fn read_only_external_id_is_declared_ignored_on_create_and_refused_on_change() {
    let sandbox = start(ScimProfile::ReadOnlyExternalId).await;
    let schemas = call(&sandbox, "GET", "/Schemas", None).await;
    let external_id = declared(&schemas.body, CORE, "externalId").expect("declared");
    assert_eq!((external_id["mutability"].clone(), external_id["caseExact"].clone()), (json!("readOnly"), json!(true)));

    let created = call(&sandbox, "POST", "/Users", Some(json!({"userName": "ro", "externalId": "E1"}))).await;
    assert_eq!((created.status, created.body.get("externalId")), (201, None));
    let seeded = sandbox.insert_user(json!({"userName": "seeded", "externalId": "S1"})).expect("insert");
    assert_eq!(seeded["externalId"], "S1", "the server's own side sets it");
    let path = format!("/Users/{}", seeded["id"].as_str().unwrap_or(""));
    for operations in [
        json!([{"op": "replace", "path": "externalId", "value": "S2"}]),
        json!([{"op": "add", "path": "externalId", "value": "S1"}]),
        json!([{"op": "remove", "path": "externalId"}]),
        json!([{"op": "replace", "value": {"title": "T", "externalId": "S2"}}]),
    ] {
        let reply = call(&sandbox, "PATCH", &path, Some(patch(operations.clone()))).await;
        assert_eq!(reply.error(), (400, json!("400"), json!("mutability")), "{operations}");
    }
    let changed = call(&sandbox, "PUT", &path, Some(json!({"userName": "seeded", "externalId": "S2"}))).await;
    assert_eq!(changed.error(), (400, json!("400"), json!("mutability")));
    for body in [json!({"userName": "seeded", "externalId": "S1", "title": "A"}), json!({"userName": "seeded"})] {
        let kept = call(&sandbox, "PUT", &path, Some(body)).await;
        assert_eq!((kept.status, kept.body["externalId"].clone()), (200, json!("S1")));
    }
}

#[tokio::test]
async fn an_undeclared_enterprise_extension_is_absent_and_refused() {
    let sandbox = start(ScimProfile::NoEnterpriseExtension).await;
    let schemas = call(&sandbox, "GET", "/Schemas", None).await;
    assert_eq!(schema_ids(&schemas.body), vec![json!(CORE), json!(INTERACT), json!(GROUP)]);
    assert_eq!(call(&sandbox, "GET", &format!("/Schemas/{ENTERPRISE}"), None).await.status, 404);
    let user_type = call(&sandbox, "GET", "/ResourceTypes/User", None).await;
    assert_eq!(user_type.body["schemaExtensions"], json!([{"schema": INTERACT, "required": false}]));

    let refused =
        call(&sandbox, "POST", "/Users", Some(json!({"userName": "x", ENTERPRISE: {"department": "D"}}))).await;
    assert_eq!(refused.error(), (400, json!("400"), json!("invalidSyntax")));
    let id = create(&sandbox, json!({"userName": "ne", INTERACT: {"location": "Leeds"}})).await;
    let path = format!("/Users/{id}");
    for operations in [
        json!([{"op": "replace", "path": format!("{ENTERPRISE}:department"), "value": "D"}]),
        json!([{"op": "add", "path": format!("{ENTERPRISE}:manager.value"), "value": "m"}]),
        json!([{"op": "remove", "path": format!("{ENTERPRISE}:department")}]),
        json!([{"op": "replace", "path": ENTERPRISE, "value": {"department": "D"}}]),
        json!([{"op": "replace", "value": {ENTERPRISE: {"department": "D"}}}]),
        json!([{"op": "replace", "value": {format!("{ENTERPRISE}:department"): "D"}}]),
    ] {
        let reply = call(&sandbox, "PATCH", &path, Some(patch(operations.clone()))).await;
        assert_eq!(reply.error(), (400, json!("400"), json!("invalidPath")), "{operations}");
    }
    let interact = json!([{"op": "replace", "path": format!("{INTERACT}:location"), "value": "York"}]);
    assert_eq!(call(&sandbox, "PATCH", &path, Some(patch(interact))).await.status, 204);
}

#[tokio::test]
async fn case_sensitive_user_names_compare_exactly() {
    let sandbox = start(ScimProfile::CaseSensitiveUserName).await;
    let schemas = call(&sandbox, "GET", "/Schemas", None).await;
    assert_eq!(declared(&schemas.body, CORE, "userName").map(|a| a["caseExact"].clone()), Some(json!(true)));
    let lower = create(&sandbox, json!({"userName": "casey-x"})).await;
    let upper = create(&sandbox, json!({"userName": "CASEY-X"})).await;
    assert_ne!(lower, upper);
    let duplicate = call(&sandbox, "POST", "/Users", Some(json!({"userName": "casey-x"}))).await;
    assert_eq!(duplicate.error(), (409, json!("409"), json!("uniqueness")));
    let found = call(&sandbox, "GET", "/Users?filter=userName%20eq%20%22CASEY-X%22", None).await;
    assert_eq!(user_names(&found), vec!["CASEY-X"]);
    let none = call(&sandbox, "GET", "/Users?filter=userName%20eq%20%22Casey-X%22", None).await;
    assert_eq!(none.body["totalResults"], 0);
    assert_eq!(sandbox.user_by_user_name("casey-x").map(|u| u["id"].clone()), Some(json!(lower)));
    assert_eq!(sandbox.user_by_user_name("Casey-X"), None);
}

#[tokio::test]
async fn no_discovery_answers_404_everywhere_discovery_would_be() {
    let sandbox = start(ScimProfile::NoDiscovery).await;
    for path in
        ["/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/User", "/Schemas", &format!("/Schemas/{CORE}")]
    {
        for (method, authorised) in [("GET", true), ("GET", false), ("POST", true)] {
            let reply = send(&sandbox, method, path, None, &[], authorised).await;
            assert_eq!(reply.error(), (404, json!("404"), Value::Null), "{method} {path}");
        }
    }
    let id = create(&sandbox, json!({"userName": "nd"})).await;
    let operations = patch(json!([{"op": "replace", "path": "active", "value": false}]));
    assert_eq!(call(&sandbox, "PATCH", &format!("/Users/{id}"), Some(operations)).await.status, 204);
}

#[tokio::test]
async fn garbage_discovery_answers_200_with_the_wrong_shapes() {
    let sandbox = start(ScimProfile::GarbageDiscovery).await;
    let config = send(&sandbox, "GET", "/ServiceProviderConfig", None, &[], false).await;
    assert_eq!(
        (config.status, config.body["patch"].clone(), config.body["etag"].clone()),
        (200, json!("yes"), json!([true]))
    );
    let types = call(&sandbox, "GET", "/ResourceTypes", None).await;
    assert_eq!((types.status, types.body["Resources"].is_object()), (200, true));
    let schemas = call(&sandbox, "GET", "/Schemas", None).await;
    assert_eq!((schemas.status, schemas.body.is_array()), (200, true));
    let one = call(&sandbox, "GET", &format!("/Schemas/{CORE}"), None).await;
    assert_eq!((one.status, one.body["id"].clone()), (200, json!(12)));
    // Behind the garbage, a standard server.
    let id = create(&sandbox, json!({"userName": "gd"})).await;
    let operations = patch(json!([{"op": "replace", "path": "active", "value": false}]));
    assert_eq!(call(&sandbox, "PATCH", &format!("/Users/{id}"), Some(operations)).await.status, 204);
}

/// Under every profile that serves discovery, what `/ServiceProviderConfig`, `/ResourceTypes`
/// and `/Schemas` say is what the server does.
#[tokio::test]
async fn every_served_discovery_document_agrees_with_the_behaviour() {
    for &profile in ScimProfile::ALL {
        if matches!(profile, ScimProfile::NoDiscovery | ScimProfile::GarbageDiscovery) {
            continue;
        }
        let sandbox = start(profile).await;
        let config = call(&sandbox, "GET", "/ServiceProviderConfig", None).await.body;
        let created = call(&sandbox, "POST", "/Users", Some(json!({"userName": "Agree"}))).await;
        let path = format!("/Users/{}", created.body["id"].as_str().unwrap_or(""));
        assert_eq!(config["etag"]["supported"], json!(created.header("etag").is_some()), "{profile}");
        assert_eq!(config["etag"]["supported"], json!(created.body["meta"].get("version").is_some()), "{profile}");
        let patched =
            call(&sandbox, "PATCH", &path, Some(patch(json!([{"op": "replace", "path": "title", "value": "T"}]))))
                .await;
        assert_eq!(config["patch"]["supported"], json!(patched.status == 204), "{profile}: {}", patched.status);
        call(&sandbox, "POST", "/Users", Some(json!({"userName": "other"}))).await;
        let filtered = call(&sandbox, "GET", "/Users?filter=userName%20eq%20%22Agree%22", None).await;
        let honoured = filtered.status == 200 && filtered.body["totalResults"] == 1;
        let ignored = profile == ScimProfile::FilterIgnoredPaged;
        assert_eq!(config["filter"]["supported"], json!(honoured || ignored), "{profile}");
        let lower = call(&sandbox, "GET", "/Users?filter=userName%20eq%20%22agree%22", None).await;
        let schemas = call(&sandbox, "GET", "/Schemas", None).await.body;
        let case_exact = declared(&schemas, CORE, "userName").map(|a| a["caseExact"].clone());
        if !ignored && honoured {
            assert_eq!(case_exact, Some(json!(lower.body["totalResults"] == 0)), "{profile}");
        }
        let mut declared_ids = Vec::new();
        for resource_type in ["User", "Group"] {
            let declared = call(&sandbox, "GET", &format!("/ResourceTypes/{resource_type}"), None).await.body;
            declared_ids.push(declared["schema"].clone());
            declared_ids
                .extend(declared["schemaExtensions"].as_array().into_iter().flatten().map(|e| e["schema"].clone()));
        }
        assert_eq!(schema_ids(&schemas), declared_ids, "{profile}");
    }
}
