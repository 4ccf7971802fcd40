//! The Freshservice sandbox at the HTTP level, with plain reqwest: the documented API v2 shapes,
//! Basic auth, `Link` pagination and the request budget.

use std::time::Duration;

use base64::Engine as _;
use identity_connectors::prelude::*;
use identity_connectors::sandbox::FreshserviceSandbox;
use serde_json::{Value, json};

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

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

async fn send(method: &str, url: &str, authorization: Option<&str>, body: Option<Value>) -> Reply {
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = client.request(method, url).header("Accept", "application/json");
    if let Some(authorization) = authorization {
        request = request.header("Authorization", authorization);
    }
    if let Some(body) = body {
        request = request.header("Content-Type", "application/json").body(body.to_string());
    }
    let response = request.send().await.expect("the sandbox answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let raw = response.bytes().await.expect("body").to_vec();
    let body = if raw.is_empty() { Value::Null } else { serde_json::from_slice(&raw).expect("a JSON body") };
    Reply { status, headers, raw, body }
}

async fn call(sandbox: &FreshserviceSandbox, method: &str, path: &str, body: Option<Value>) -> Reply {
    let url = format!("{}{path}", sandbox.base_url());
    send(method, &url, Some(&basic(sandbox.api_key(), "X")), body).await
}

async fn sandbox() -> FreshserviceSandbox {
    FreshserviceSandbox::builder().no_rate_limit().start().await.expect("start")
}

/// A rendered user without its server-assigned id and timestamps.
fn without_server_fields(user: &Value) -> Value {
    let mut user = user.clone();
    if let Some(map) = user.as_object_mut() {
        for key in ["id", "created_at", "updated_at"] {
            map.remove(key);
        }
    }
    user
}

#[tokio::test]
async fn create_requester_answers_201_with_the_wrapped_requester() {
    let sandbox = sandbox().await;
    let finance = sandbox.department_id("Finance").expect("seeded");
    let london = sandbox.location_id("London").expect("seeded");
    let body = json!({
        "first_name": "Ron", "last_name": "Weasley", "job_title": "Student",
        "primary_email": "ron.weasley@example.com", "work_phone_number": 62443,
        "department_ids": [finance], "location_id": london, "time_zone": "Edinburgh",
        "custom_fields": {"employee_id": "E7"}
    });
    let reply = call(&sandbox, "POST", "/requesters", Some(body)).await;

    assert_eq!(reply.status, 201);
    assert_eq!(reply.header("content-type"), Some("application/json; charset=utf-8"));
    let id = reply.body["requester"]["id"].as_u64().expect("an integer id");
    assert!(id > 21_000_000_000, "{id}");
    let location = format!("{}/requesters/{id}", sandbox.base_url());
    assert_eq!(reply.header("location"), Some(location.as_str()));
    assert_eq!(
        without_server_fields(&reply.body["requester"]),
        json!({
            "first_name": "Ron", "last_name": "Weasley", "job_title": "Student",
            "primary_email": "ron.weasley@example.com", "secondary_emails": [],
            "work_phone_number": "62443", "mobile_phone_number": null,
            "department_ids": [finance], "department_names": ["Finance"],
            "can_see_all_tickets_from_associated_departments": false, "reporting_manager_id": null,
            "address": null, "time_zone": "Edinburgh", "time_format": "12h", "language": "en",
            "location_id": london, "location_name": "London", "background_information": null,
            "custom_fields": {"employee_id": "E7"}, "external_id": null,
            "active": true, "has_logged_in": false, "is_agent": false, "vip_user": false
        })
    );
    assert_eq!(sandbox.user_count(), 1);
    assert_eq!(sandbox.user_by_email("RON.weasley@example.com"), Some(reply.body.clone()));
    let shown = call(&sandbox, "GET", &format!("/requesters/{id}"), None).await;
    assert_eq!((shown.status, shown.body), (200, reply.body));
}

#[tokio::test]
async fn only_the_api_key_as_basic_user_name_is_accepted() {
    let sandbox = FreshserviceSandbox::builder().api_key("k3y").no_rate_limit().start().await.expect("start");
    assert_eq!(sandbox.api_key(), "k3y");
    let url = format!("{}/requesters", sandbox.base_url());
    let refused = json!({"code": "invalid_credentials", "message": "You have to be logged in to perform this action."});
    for authorization in
        [None, Some(basic("wrong", "X")), Some("Bearer k3y".to_string()), Some("Basic !!!".to_string())]
    {
        let reply = send("GET", &url, authorization.as_deref(), None).await;
        assert_eq!((reply.status, reply.body), (401, refused.clone()), "{authorization:?}");
    }
    for password in ["X", "", "anything"] {
        let reply = send("GET", &url, Some(&basic("k3y", password)), None).await;
        assert_eq!((reply.status, reply.body), (200, json!({"requesters": []})), "{password:?}");
    }
}

#[tokio::test]
async fn duplicate_emails_are_409_duplicate_value_across_requesters_and_agents() {
    let sandbox = sandbox().await;
    let role = sandbox.role_id("SD Agent").expect("seeded");
    call(&sandbox, "POST", "/requesters", Some(json!({"first_name": "A", "primary_email": "a@example.com"}))).await;

    let reply =
        call(&sandbox, "POST", "/requesters", Some(json!({"first_name": "B", "primary_email": "A@EXAMPLE.com"}))).await;
    assert_eq!(reply.status, 409);
    assert_eq!(
        reply.body,
        json!({"description": "Validation failed", "errors": [
            {"field": "primary_email", "message": "It should be a unique value", "code": "duplicate_value"}]})
    );
    let agent = json!({"first_name": "B", "email": "a@example.com",
        "roles": [{"role_id": role, "assignment_scope": "entire_helpdesk"}]});
    let reply = call(&sandbox, "POST", "/agents", Some(agent)).await;
    assert_eq!((reply.status, reply.body["errors"][0]["field"].clone()), (409, json!("email")));
    assert_eq!(reply.body["errors"][0]["code"], "duplicate_value");
    assert_eq!(sandbox.user_count(), 1);
}

#[tokio::test]
async fn unknown_fields_and_bad_values_are_400_validation_errors() {
    let sandbox = sandbox().await;
    let reply = call(
        &sandbox,
        "POST",
        "/requesters",
        Some(json!({"first_name": "A", "primary_email": "a@example.com", "ticket_scope": 1, "active": true})),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body,
        json!({"description": "Validation failed", "errors": [
            {"field": "active", "message": "Unexpected/invalid field in request", "code": "invalid_field"},
            {"field": "ticket_scope", "message": "Unexpected/invalid field in request", "code": "invalid_field"}]})
    );
    let reply = call(&sandbox, "POST", "/requesters", Some(json!({"last_name": "A"}))).await;
    assert_eq!(
        reply.body["errors"],
        json!([
            {"field": "first_name", "message": "It should be a/an String", "code": "missing_field"},
            {"field": "primary_email", "message": "Please specify at least one of primary_email, work_phone_number, mobile_phone_number", "code": "missing_field"}])
    );
    let reply = call(&sandbox, "POST", "/agents", Some(json!({"first_name": "A", "email": "a@example.com"}))).await;
    assert_eq!(
        reply.body["errors"],
        json!([{"field": "roles", "message": "It should be a/an Array", "code": "missing_field"}])
    );
    let reply = call(
        &sandbox,
        "POST",
        "/requesters",
        Some(json!({"first_name": "A", "primary_email": "a@example.com", "department_ids": [1]})),
    )
    .await;
    assert_eq!(reply.body["errors"][0]["code"], "invalid_value");
    let url = format!("{}/requesters", sandbox.base_url());
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let auth = basic(sandbox.api_key(), "X");
    let text =
        client.post(&url).header("Authorization", &auth).header("Content-Type", "text/plain").body("{}").send().await;
    assert_eq!(text.map(|r| r.status().as_u16()).ok(), Some(415));
    let xml = client.get(&url).header("Authorization", &auth).header("Accept", "application/xml").send().await;
    assert_eq!(xml.map(|r| r.status().as_u16()).ok(), Some(406));
    let broken = client
        .post(&url)
        .header("Authorization", &auth)
        .header("Content-Type", "application/json")
        .body("{")
        .send()
        .await;
    let broken = broken.expect("answer");
    assert_eq!(broken.status().as_u16(), 400);
    let body: Value = serde_json::from_slice(&broken.bytes().await.expect("body")).expect("json");
    assert_eq!(body["errors"][0]["code"], "invalid_json");
    assert_eq!(sandbox.user_count(), 0);
}

#[tokio::test]
async fn email_filter_include_agents_and_link_pagination() {
    let sandbox = sandbox().await;
    let role = sandbox.role_id("SD Agent").expect("seeded");
    for (n, name) in ["Eve", "Bob", "Dan", "Amy", "Cat"].iter().enumerate() {
        let body = json!({"first_name": name, "primary_email": format!("{}@example.com", name.to_lowercase()), "mobile_phone_number": format!("{n}")});
        assert_eq!(call(&sandbox, "POST", "/requesters", Some(body)).await.status, 201);
    }
    let agent = json!({"first_name": "Zed", "email": "zed@example.com", "roles": [{"role_id": role, "assignment_scope": "entire_helpdesk"}]});
    assert_eq!(call(&sandbox, "POST", "/agents", Some(agent)).await.status, 201);

    let names = |reply: &Reply, key: &str| -> Vec<String> {
        reply.body[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|u| u["first_name"].as_str())
            .map(String::from)
            .collect()
    };
    let page1 = call(&sandbox, "GET", "/requesters?per_page=2", None).await;
    assert_eq!(names(&page1, "requesters"), ["Amy", "Bob"], "sorted by first name");
    let next = format!("<{}/requesters?page=2&per_page=2>; rel=\"next\"", sandbox.base_url());
    assert_eq!(page1.header("link"), Some(next.as_str()));
    let page3 = call(&sandbox, "GET", "/requesters?per_page=2&page=3", None).await;
    assert_eq!((names(&page3, "requesters"), page3.header("link")), (vec!["Eve".to_string()], None));

    // Following the Link header keeps the other parameters.
    let with_agents = call(&sandbox, "GET", "/requesters?include_agents=true&per_page=5", None).await;
    let link = with_agents.header("link").expect("a next page").to_string();
    let next_url = link.trim_start_matches('<').split('>').next().unwrap_or("").to_string();
    assert_eq!(next_url, format!("{}/requesters?include_agents=true&page=2&per_page=5", sandbox.base_url()));
    let last = send("GET", &next_url, Some(&basic(sandbox.api_key(), "X")), None).await;
    assert_eq!(names(&last, "requesters"), ["Zed"]);
    assert_eq!(
        (last.body["requesters"][0]["is_agent"].clone(), last.body["requesters"][0]["primary_email"].clone()),
        (json!(true), json!("zed@example.com"))
    );

    let found = call(&sandbox, "GET", "/requesters?email=DAN%40Example.com", None).await;
    assert_eq!(names(&found, "requesters"), ["Dan"]);
    let hidden = call(&sandbox, "GET", "/requesters?email=zed%40example.com", None).await;
    assert_eq!(hidden.body, json!({"requesters": []}), "agents only with include_agents=true");
    let agents = call(&sandbox, "GET", "/agents?email=zed%40example.com", None).await;
    assert_eq!(names(&agents, "agents"), ["Zed"]);
    let by_phone = call(&sandbox, "GET", "/requesters?mobile_phone_number=3", None).await;
    assert_eq!(names(&by_phone, "requesters"), ["Amy"]);

    let too_many = call(&sandbox, "GET", "/requesters?per_page=101", None).await;
    assert_eq!(too_many.status, 400);
    assert_eq!(
        too_many.body,
        json!({"description": "Validation failed", "errors": [{"field": "per_page",
            "message": "It should be a/an Positive Integer less than or equal to 100", "code": "invalid_value"}]})
    );
    assert_eq!(call(&sandbox, "GET", "/requesters?page=0", None).await.status, 400);
}

#[tokio::test]
async fn update_deactivate_reactivate_and_forget_follow_the_documented_shapes() {
    let sandbox = sandbox().await;
    let body = json!({"first_name": "A", "primary_email": "a@example.com", "can_see_all_tickets_from_associated_departments": true});
    let id = call(&sandbox, "POST", "/requesters", Some(body)).await.body["requester"]["id"].as_u64().unwrap_or(0);
    let path = format!("/requesters/{id}");

    let updated = call(&sandbox, "PUT", &path, Some(json!({"job_title": "Analyst"}))).await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.body["requester"]["job_title"], "Analyst");
    assert_eq!(updated.body["requester"]["can_see_all_tickets_from_associated_departments"], false, "reset on PUT");
    let kept =
        call(&sandbox, "PUT", &path, Some(json!({"can_see_all_tickets_from_associated_departments": true}))).await;
    assert_eq!(kept.body["requester"]["can_see_all_tickets_from_associated_departments"], true);

    let deactivated = call(&sandbox, "DELETE", &path, None).await;
    assert_eq!((deactivated.status, deactivated.raw.len()), (204, 0));
    assert_eq!(sandbox.user(id).map(|u| u["requester"]["active"].clone()), Some(json!(false)));
    let listed = call(&sandbox, "GET", "/requesters?email=a%40example.com", None).await;
    assert_eq!(listed.body["requesters"][0]["active"], false, "deactivated requesters are still listed");
    let reactivated = call(&sandbox, "PUT", &format!("{path}/reactivate"), None).await;
    assert_eq!((reactivated.status, reactivated.body["requester"]["active"].clone()), (200, json!(true)));

    assert_eq!(call(&sandbox, "GET", &format!("/agents/{id}"), None).await.status, 404, "a requester is not an agent");
    let forgotten = call(&sandbox, "DELETE", &format!("{path}/forget"), None).await;
    assert_eq!((forgotten.status, forgotten.raw.len()), (204, 0));
    let gone = call(&sandbox, "GET", &path, None).await;
    assert_eq!((gone.status, gone.body["code"].clone()), (404, json!("not_found")));
    assert_eq!(sandbox.user_count(), 0);
}

#[tokio::test]
async fn agents_deactivate_with_200_and_the_agent() {
    let sandbox = sandbox().await;
    let role = sandbox.role_id("SD Agent").expect("seeded");
    let body = json!({"first_name": "Rolanda", "email": "rolanda@example.com", "occasional": true,
        "roles": [{"role_id": role, "assignment_scope": "assigned_items"}]});
    let created = call(&sandbox, "POST", "/agents", Some(body)).await;
    assert_eq!(created.status, 201);
    let agent = &created.body["agent"];
    assert_eq!((agent["email"].clone(), agent["occasional"].clone()), (json!("rolanda@example.com"), json!(true)));
    assert_eq!(agent["roles"], json!([{"role_id": role, "assignment_scope": "assigned_items"}]));
    let id = agent["id"].as_u64().unwrap_or(0);

    let deactivated = call(&sandbox, "DELETE", &format!("/agents/{id}"), None).await;
    assert_eq!(deactivated.status, 200);
    assert_eq!(deactivated.body["agent"]["active"], false);
    assert_eq!(deactivated.body["agent"]["id"], id);
    let occasional = call(&sandbox, "GET", "/agents?state=occasional&active=false", None).await;
    assert_eq!(occasional.body["agents"].as_array().map(Vec::len), Some(1));
    let fulltime = call(&sandbox, "GET", "/agents?state=fulltime", None).await;
    assert_eq!(fulltime.body, json!({"agents": []}));
    let reactivated = call(&sandbox, "PUT", &format!("/agents/{id}/reactivate"), None).await;
    assert_eq!(reactivated.body["agent"]["active"], true);
}

#[tokio::test]
async fn departments_locations_and_roles_resolve_names() {
    let sandbox = FreshserviceSandbox::builder()
        .department("Legal")
        .location("Paris")
        .no_rate_limit()
        .start()
        .await
        .expect("start");
    let departments = call(&sandbox, "GET", "/departments", None).await;
    let names: Vec<&str> =
        departments.body["departments"].as_array().into_iter().flatten().filter_map(|d| d["name"].as_str()).collect();
    assert_eq!(names, ["Finance", "Engineering", "Sales", "Legal"]);
    let sales = call(&sandbox, "GET", "/departments?query=%22name:%27Sales%27%22", None).await;
    assert_eq!(sales.body["departments"].as_array().map(Vec::len), Some(1));
    assert_eq!(sales.body["departments"][0]["id"], sandbox.department_id("Sales").unwrap_or(0));
    let paris = sandbox.location_id("Paris").expect("added");
    let location = call(&sandbox, "GET", &format!("/locations/{paris}"), None).await;
    assert_eq!(
        (location.body["location"]["name"].clone(), location.body["location"]["id"].clone()),
        (json!("Paris"), json!(paris))
    );
    let roles = call(&sandbox, "GET", "/roles", None).await;
    assert_eq!(roles.body["roles"].as_array().map(Vec::len), Some(4));
    assert_eq!(call(&sandbox, "GET", "/departments/1", None).await.status, 404);
    assert_eq!(call(&sandbox, "GET", "/tickets", None).await.status, 404);
}

#[tokio::test]
async fn every_response_carries_rate_limit_headers_and_the_budget_is_enforced() {
    let sandbox = FreshserviceSandbox::builder().rate_limit(3, Duration::from_secs(3600)).start().await.expect("start");
    for remaining in ["2", "1", "0"] {
        let reply = call(&sandbox, "GET", "/requesters", None).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("x-ratelimit-total"), Some("3"));
        assert_eq!(reply.header("x-ratelimit-remaining"), Some(remaining));
        assert_eq!(reply.header("x-ratelimit-used-currentrequest"), Some("1"));
        assert_eq!(reply.header("retry-after"), None);
    }
    let refused =
        call(&sandbox, "POST", "/requesters", Some(json!({"first_name": "A", "primary_email": "a@example.com"}))).await;
    assert_eq!(refused.status, 429);
    let retry_after: u64 = refused.header("retry-after").and_then(|v| v.parse().ok()).expect("Retry-After seconds");
    assert!((3500..=3600).contains(&retry_after), "{retry_after}");
    assert_eq!(refused.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(refused.body["code"], "too_many_requests");
    assert_eq!(sandbox.user_count(), 0, "a refused request is not applied");
    let stats = sandbox.stats();
    assert_eq!((stats.requests, stats.rate_limited, stats.status(200), stats.status(429)), (4, 1, 3, 1));
    assert_eq!((stats.max_received_in_window, stats.max_accepted_in_window), (4, 3));
}

#[tokio::test]
async fn the_budget_renews_with_the_window() {
    // Windows start with the sandbox, so the first two requests share the first one.
    let sandbox = FreshserviceSandbox::builder().rate_limit(1, Duration::from_secs(1)).start().await.expect("start");
    assert_eq!(call(&sandbox, "GET", "/requesters", None).await.status, 200);
    let refused = call(&sandbox, "GET", "/requesters", None).await;
    assert_eq!((refused.status, refused.header("retry-after")), (429, Some("1")));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(call(&sandbox, "GET", "/requesters", None).await.status, 200);
    let stats = sandbox.stats();
    assert_eq!((stats.max_accepted_in_window, stats.rate_limited), (1, 1));
}

#[tokio::test]
async fn garbage_gets_client_errors_and_the_server_keeps_serving() {
    let sandbox = sandbox().await;
    let id =
        call(&sandbox, "POST", "/requesters", Some(json!({"first_name": "Kept", "primary_email": "kept@example.com"})))
            .await
            .body["requester"]["id"]
            .as_u64()
            .unwrap_or(0);
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let auth = basic(sandbox.api_key(), "X");
    let bodies: [&[u8]; 4] = [b"\xff\xfe\x00", b"[[[[", b"null", br#"{"first_name": {"a": 1}, "department_ids": "x"}"#];
    for body in bodies {
        for (method, path) in
            [(reqwest::Method::POST, "/requesters".to_string()), (reqwest::Method::PUT, format!("/requesters/{id}"))]
        {
            let response = client
                .request(method.clone(), format!("{}{path}", sandbox.base_url()))
                .header("Authorization", &auth)
                .header("Content-Type", "application/json")
                .body(body.to_vec())
                .send()
                .await
                .expect("an answer");
            assert_eq!(response.status().as_u16(), 400, "{method} {path} {body:?}");
        }
    }
    for path in [
        "/requesters/%FF",
        "/requesters/99999999999999999999999",
        "/requesters/-1",
        "/agents/abc/reactivate",
        "/requesters?per_page=-1",
        "/requesters?page=x",
    ] {
        let reply = call(&sandbox, "GET", path, None).await;
        assert!(matches!(reply.status, 400 | 404 | 405), "{path}: {}", reply.status);
    }
    let kept = sandbox.user(id).map(|u| u["requester"]["first_name"].clone());
    assert_eq!(kept, Some(json!("Kept")));
    assert_eq!(call(&sandbox, "GET", "/requesters", None).await.status, 200);
}

/// The crate's own Freshservice connector against the sandbox: a requester who becomes an agent
/// (converted in place), leaves and comes back.
#[tokio::test]
async fn the_connector_promotes_a_requester_to_agent_and_back_in_and_out() {
    use identity_connectors::{
        AgentRole, Client, DeprovisionOutcome, FreshserviceAttributes, FreshserviceUserKind, ProvisionOutcome, User,
    };
    let sandbox = sandbox().await;
    let client = Client::new(sandbox.connector().expect("connector")).expect("client");
    let role = sandbox.role_id("SD Supervisor").expect("seeded");
    let sam = User::builder("sam.lee@example.com")
        .given_name("Sam")
        .family_name("Lee")
        .email("sam.lee@example.com")
        .department("Engineering")
        .freshservice(FreshserviceAttributes::new(FreshserviceUserKind::Requester).location("Berlin"))
        .build();

    let created = client.provision(&sam).await.expect("provision");
    assert_eq!(created.outcome, ProvisionOutcome::Created);
    let id: u64 = created.user.id.as_str().parse().expect("a numeric id");
    let stored = sandbox.user(id).expect("stored");
    assert_eq!(stored["requester"]["department_ids"], json!([sandbox.department_id("Engineering")]));
    assert_eq!(stored["requester"]["location_id"], json!(sandbox.location_id("Berlin")));

    let mut promoted = sam.clone();
    let mut agent = FreshserviceAttributes::agent(vec![AgentRole::new(role, "entire_helpdesk")]).location("Berlin");
    agent.occasional = Some(false);
    promoted.set_freshservice(agent);
    let moved = client.provision(&promoted).await.expect("promote");
    assert_eq!((moved.outcome, moved.user.id.as_str()), (ProvisionOutcome::Updated, id.to_string().as_str()));
    let stored = sandbox.user(id).expect("stored");
    assert_eq!(stored["agent"]["email"], "sam.lee@example.com");
    assert_eq!(stored["agent"]["occasional"], false);
    assert_eq!(stored["agent"]["roles"], json!([{"role_id": role, "assignment_scope": "entire_helpdesk"}]));
    assert_eq!(sandbox.user_count(), 1);

    assert_eq!(client.deprovision(&promoted).await.expect("leave"), DeprovisionOutcome::Deactivated);
    assert_eq!(sandbox.user(id).map(|u| u["agent"]["active"].clone()), Some(json!(false)));
    let back = client.provision(&promoted).await.expect("rehire");
    assert_eq!(back.outcome, ProvisionOutcome::Reactivated);
    assert_eq!(sandbox.user(id).map(|u| u["agent"]["active"].clone()), Some(json!(true)));
    let paths: Vec<String> = sandbox.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert!(paths.contains(&format!("PUT /api/v2/requesters/{id}/convert_to_agent")), "{paths:#?}");
}
