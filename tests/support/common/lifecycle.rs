//! The user-lifecycle suite, written once and run against any SCIM target: the real
//! `scim2-server` peer (see [`super::peer`]) today, an in-process fake server tomorrow.
//!
//! Every step works through the crate's public API only ([`Client`] over the connector the
//! target's `connect` builds), and checks the server's state with its own plain `GET` requests
//! ([`ServerView`]), not only the client's return values. A step expects an empty target (a fresh
//! tenant or server) and leaves users behind.

use std::collections::HashSet;

use futures_util::TryStreamExt as _;
use identity_connectors::prelude::*;
use identity_connectors::{
    Client, Connector, DeprovisionOutcome, EnterpriseAttributes, Error, InteractAttributes, LoginType, MultiValue,
    Name, PageRequest, ProvisionOutcome, ProvisionPolicy, Result, UpdateOutcome, User, UserId,
};
use serde_json::Value;

/// Builds the connector under test from a SCIM base URL and a bearer token.
pub type Connect = fn(&str, &str) -> Result<Box<dyn Connector>>;

/// A SCIM target and how to reach it.
pub struct Target {
    /// The SCIM base URL (the one `/Users` hangs off), empty of users.
    pub base_url: String,
    /// A token the target accepts.
    pub token: String,
    /// Builds the connector under test.
    pub connect: Connect,
    /// Whether users carry Interact's extension (the connector requires it, the server knows it).
    pub interact_extension: bool,
    /// Text a `401`'s message must contain: the connector's hint.
    pub unauthorized_hint: &'static str,
    /// What the server refuses or does differently ([`Quirks::STANDARD`] for a full server).
    pub quirks: Quirks,
}

/// The ways a target server differs from a fully featured one, so that a step states exactly
/// what must then hold (for example: the department is reported skipped instead of stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quirks {
    /// Whether the server stores the enterprise extension (department, manager).
    pub enterprise: bool,
    /// Whether the server stores the `externalId` a client sends (false: read-only on it).
    pub external_id_writable: bool,
    /// The most users one list page holds, whatever the client asks for.
    pub page_size: usize,
    /// Whether the server lets a client change group members (false: it has no `PATCH`, and the
    /// connectors refuse with `Error::Unsupported`).
    pub group_writes: bool,
}

impl Quirks {
    /// A fully featured server.
    pub const STANDARD: Quirks =
        Quirks { enterprise: true, external_id_writable: true, page_size: 1000, group_writes: true };

    /// The attribute paths a provision of [`Target::person`] must report skipped.
    pub fn skipped_on_provision(&self) -> Vec<String> {
        let mut skipped = Vec::new();
        if !self.external_id_writable {
            skipped.push("externalId".to_string());
        }
        if !self.enterprise {
            skipped.push(format!("{ENTERPRISE}:department"));
        }
        skipped
    }
}

impl Quirks {
    /// `stored`'s department is `department`, or absent when the server has no enterprise extension.
    pub fn assert_department(&self, stored: &Value, department: &str) {
        if self.enterprise {
            assert_eq!(stored[ENTERPRISE]["department"], department, "{stored}");
        } else {
            assert_eq!(stored.get(ENTERPRISE), None, "the server stores no enterprise extension: {stored}");
        }
    }

    /// `stored`'s `externalId` is `external_id`, or absent when it is read-only on the server.
    pub fn assert_external_id(&self, stored: &Value, external_id: &str) {
        if self.external_id_writable {
            assert_eq!(stored["externalId"], external_id, "{stored}");
        } else {
            assert_eq!(stored.get("externalId"), None, "the server ignores a client's externalId: {stored}");
        }
    }
}

/// `values` in order, to compare lists whose order is not part of the contract.
pub fn sorted(mut values: Vec<String>) -> Vec<String> {
    values.sort();
    values
}

impl Default for Quirks {
    fn default() -> Self {
        Quirks::STANDARD
    }
}

impl Target {
    /// A client of the connector under test, with the valid token.
    pub fn client(&self) -> Client {
        self.client_with_token(&self.token)
    }

    /// A client of the connector under test, with `token`.
    pub fn client_with_token(&self, token: &str) -> Client {
        let connector = (self.connect)(&self.base_url, token).expect("the target's connector must build");
        Client::new(connector).expect("the client must build")
    }

    /// The server's own view, through plain HTTP.
    pub fn server(&self) -> ServerView {
        ServerView { base_url: self.base_url.clone(), token: self.token.clone(), http: reqwest::Client::new() }
    }

    /// A new person numbered `n`, with user name `user_name` and everything the connector requires.
    pub fn person(&self, user_name: &str, n: u32) -> User {
        let mut builder = User::builder(user_name)
            .external_id(format!("E{n:04}"))
            .given_name(format!("Given{n}"))
            .family_name(format!("Family{n}"))
            .email(format!("person{n}@example.com"))
            .title("Analyst")
            .department("Finance");
        if self.interact_extension {
            builder = builder.interact(
                InteractAttributes::new(LoginType::Saml).location("London").job_start_date("2026-01-05T00:00:00Z"),
            );
        }
        builder.build()
    }
}

/// Reads the server's state with plain `GET`s, independently of the crate.
pub struct ServerView {
    base_url: String,
    token: String,
    http: reqwest::Client,
}

impl ServerView {
    async fn get(&self, url: url::Url) -> (u16, Value) {
        let response = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .header("Accept", "application/scim+json")
            .send()
            .await
            .expect("the server must answer");
        let status = response.status().as_u16();
        let body = response.bytes().await.expect("the server's body must be readable");
        let json = if body.is_empty() { Value::Null } else { serde_json::from_slice(&body).unwrap_or(Value::Null) };
        (status, json)
    }

    /// `GET {base}{path_and_query}`: the status and the body.
    pub async fn get_path(&self, path_and_query: &str) -> (u16, Value) {
        let url = url::Url::parse(&format!("{}{path_and_query}", self.base_url)).expect("a valid URL");
        self.get(url).await
    }

    fn users_url(&self) -> url::Url {
        url::Url::parse(&format!("{}/Users", self.base_url)).expect("the base URL must be valid")
    }

    /// `GET /Users/{id}`: the status and the body.
    pub async fn user(&self, id: &UserId) -> (u16, Value) {
        let mut url = self.users_url();
        url.path_segments_mut().expect("a base URL with a path").push(id.as_str());
        self.get(url).await
    }

    /// `GET /Users/{id}`, which must answer 200.
    pub async fn existing_user(&self, id: &UserId) -> Value {
        let (status, body) = self.user(id).await;
        assert_eq!(status, 200, "the server must have user {id}: {body}");
        body
    }

    /// Every user the server has, page after page (a server may cap the page size).
    pub async fn all_users(&self) -> Vec<Value> {
        let mut users = Vec::new();
        loop {
            let mut url = self.users_url();
            let start = (users.len() + 1).to_string();
            url.query_pairs_mut().append_pair("startIndex", &start).append_pair("count", "1000");
            let (status, body) = self.get(url).await;
            assert_eq!(status, 200, "listing must work: {body}");
            let page = body.get("Resources").and_then(Value::as_array).cloned().unwrap_or_default();
            let total = body.get("totalResults").and_then(Value::as_u64).unwrap_or(0);
            let empty = page.is_empty();
            users.extend(page);
            if empty || users.len() as u64 >= total {
                return users;
            }
        }
    }

    /// How many users the server has whose `userName` equals `user_name`, ignoring case.
    pub async fn count_named(&self, user_name: &str) -> usize {
        let all = self.all_users().await;
        all.iter()
            .filter(|u| u.get("userName").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(user_name)))
            .count()
    }
}

const INTERACT: &str = "urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Provision creates a user; provisioning the same person again links to them instead of creating
/// a second one.
pub async fn provision_then_provision_again_links(t: &Target) {
    let client = t.client();
    let server = t.server();
    client.test_connection().await.expect("test_connection with the valid token");
    let jane = t.person("jane.doe@example.com", 1);

    let first = client.provision(&jane).await.expect("first provision");
    assert_eq!(first.outcome, ProvisionOutcome::Created);
    assert_eq!(
        sorted(first.skipped.clone()),
        t.quirks.skipped_on_provision(),
        "what the server does not store is reported"
    );
    assert_eq!(first.user.user.user_name.as_deref(), Some("jane.doe@example.com"));
    let id = first.user.id.clone();

    let stored = server.existing_user(&id).await;
    assert_eq!(stored["userName"], "jane.doe@example.com");
    t.quirks.assert_external_id(&stored, "E0001");
    assert_eq!(stored["active"], true);
    assert_eq!(stored["name"]["givenName"], "Given1");
    assert_eq!(stored["name"]["familyName"], "Family1");
    assert_eq!(stored["emails"][0]["value"], "person1@example.com");
    assert_eq!(stored["title"], "Analyst");
    t.quirks.assert_department(&stored, "Finance");
    if t.interact_extension {
        assert_eq!(stored[INTERACT]["loginType"], "SAML");
        assert_eq!(stored[INTERACT]["location"], "London");
        assert_eq!(stored[INTERACT]["jobStartDate"], "2026-01-05T00:00:00Z");
        let schemas = stored["schemas"].as_array().cloned().unwrap_or_default();
        assert!(schemas.iter().any(|s| s == INTERACT), "schemas: {schemas:?}");
    }

    let again = client.provision(&jane).await.expect("second provision");
    assert_eq!(again.outcome, ProvisionOutcome::Linked);
    assert_eq!(sorted(again.skipped.clone()), t.quirks.skipped_on_provision(), "still reported, never sent");
    assert_eq!(again.user.id, id);
    assert_eq!(server.count_named("jane.doe@example.com").await, 1);
    assert_eq!(server.all_users().await.len(), 1);
}

/// A new user missing required fields is refused before anything is sent, with every missing
/// field named (SCIM requires `userName`; Interact also `externalId`, `active`, the name parts and
/// `loginType`).
pub async fn provision_refuses_incomplete_user(t: &Target) {
    let client = t.client();
    let server = t.server();
    let (incomplete, expected) = if t.interact_extension {
        let mut user = User::builder("incomplete@example.com").build();
        user.active = None;
        let login_type = format!("{INTERACT}:loginType");
        (
            user,
            vec![
                "externalId".to_string(),
                "active".into(),
                "name.givenName".into(),
                "name.familyName".into(),
                login_type,
            ],
        )
    } else {
        let mut user = User::default();
        user.title = Some("No user name".to_string());
        (user, vec!["userName".to_string()])
    };
    let error = client.provision(&incomplete).await.expect_err("an incomplete user must be refused");
    let Error::Validation(invalid) = &error else { panic!("expected a validation error, got {error:?}") };
    assert_eq!(invalid.status, None, "nothing may be sent");
    let fields: Vec<String> = invalid.fields.iter().map(|f| f.field.clone()).collect();
    assert_eq!(fields, expected);
    assert!(server.all_users().await.is_empty());
}

/// `update` sends only the changed attributes, and `provision` updates a changed person (or, with
/// the link-only policy, leaves them alone).
pub async fn update_changes_only_what_is_given(t: &Target) {
    let client = t.client();
    let server = t.server();
    let jane = t.person("jane.update@example.com", 2);
    let id = client.provision(&jane).await.expect("provision").user.id;

    let mut changes = User::default();
    let mut name = Name::default();
    name.given_name = Some("Janet".to_string());
    changes.name = Some(name);
    changes.title = Some("Lead Analyst".to_string());
    changes.emails = vec![MultiValue::new("janet@example.com", "work")];
    let mut enterprise = EnterpriseAttributes::default();
    enterprise.department = Some("R&D".to_string());
    changes.enterprise = Some(enterprise);
    if t.interact_extension {
        let mut interact = InteractAttributes::default();
        interact.location = Some("Paris".to_string());
        changes.set_interact(interact);
    }
    let outcome = client.update(&id, &changes).await.expect("update");
    if t.quirks.enterprise {
        assert!(matches!(outcome, UpdateOutcome::Updated(_)), "{outcome:?}");
    } else {
        let UpdateOutcome::Partial { applied, skipped, .. } = &outcome else { panic!("expected Partial: {outcome:?}") };
        assert!(applied, "the other changes land: {outcome:?}");
        assert_eq!(skipped, &[format!("{ENTERPRISE}:department")], "{outcome:?}");
    }

    let stored = server.existing_user(&id).await;
    assert_eq!(stored["name"]["givenName"], "Janet");
    assert_eq!(stored["name"]["familyName"], "Family2", "untouched attributes stay");
    assert_eq!(stored["title"], "Lead Analyst");
    assert_eq!(stored["emails"].as_array().map(Vec::len), Some(1));
    assert_eq!(stored["emails"][0]["value"], "janet@example.com");
    assert_eq!(stored["emails"][0]["type"], "work");
    t.quirks.assert_department(&stored, "R&D");
    t.quirks.assert_external_id(&stored, "E0002");
    if t.interact_extension {
        assert_eq!(stored[INTERACT]["location"], "Paris");
        assert_eq!(stored[INTERACT]["loginType"], "SAML", "untouched extension attributes stay");
    }

    assert_eq!(client.update(&id, &User::default()).await.expect("empty update"), UpdateOutcome::Unchanged);

    let mut promoted = jane.clone();
    promoted.title = Some("Director".to_string());
    let linked = client.provision_with(&promoted, ProvisionPolicy::link_only()).await.expect("link-only provision");
    assert_eq!(linked.outcome, ProvisionOutcome::Linked);
    assert_eq!(server.existing_user(&id).await["title"], "Lead Analyst", "link-only must not update");

    let updated = client.provision(&promoted).await.expect("provision with changes");
    assert_eq!(updated.outcome, ProvisionOutcome::Updated);
    assert_eq!(updated.user.id, id);
    let stored = server.existing_user(&id).await;
    assert_eq!(stored["title"], "Director");
    assert_eq!(stored["name"]["givenName"], "Given2", "provision makes the user look like the person given");
    assert_eq!(server.all_users().await.len(), 1);
}

/// Deactivation and reactivation work and are safe to repeat; provisioning an inactive person
/// reactivates them unless the policy says not to.
pub async fn deactivate_and_reactivate(t: &Target) {
    let client = t.client();
    let server = t.server();
    let jane = t.person("jane.leaver@example.com", 3);
    let id = client.provision(&jane).await.expect("provision").user.id;

    assert_eq!(client.deactivate(&id).await.expect("deactivate"), DeprovisionOutcome::Deactivated);
    assert_eq!(server.existing_user(&id).await["active"], false);
    assert_eq!(client.deactivate(&id).await.expect("deactivate again"), DeprovisionOutcome::Deactivated);
    assert_eq!(server.existing_user(&id).await["active"], false);
    assert_eq!(client.deprovision(&jane).await.expect("deprovision"), DeprovisionOutcome::AlreadyInactive);
    assert!(!client.get(&id).await.expect("get").is_active());

    let linked = client.provision_with(&jane, ProvisionPolicy::link_only()).await.expect("link-only provision");
    assert_eq!(linked.outcome, ProvisionOutcome::Linked);
    assert_eq!(server.existing_user(&id).await["active"], false, "link-only must not reactivate");

    let back = client.provision(&jane).await.expect("provision a leaver again");
    assert_eq!(back.outcome, ProvisionOutcome::Reactivated);
    assert_eq!(back.user.id, id);
    assert_eq!(server.existing_user(&id).await["active"], true);

    client.reactivate(&id).await.expect("reactivate an active user");
    assert_eq!(server.existing_user(&id).await["active"], true);
    client.deactivate(&id).await.expect("deactivate");
    client.reactivate(&id).await.expect("reactivate");
    assert_eq!(server.existing_user(&id).await["active"], true);
    assert_eq!(server.all_users().await.len(), 1);
}

/// Look-ups ignore the case of user names, work by external id and e-mail, and a user name full
/// of filter syntax matches only itself.
pub async fn find_by_user_name_email_and_external_id(t: &Target) {
    let client = t.client();
    let mixed = t.person("Mixed.Case@Example.com", 4);
    let mixed_id = client.provision(&mixed).await.expect("provision").user.id;
    let tricky_name = r#"a"b\c or userName pr"#;
    let tricky = t.person(tricky_name, 5);
    let tricky_id = client.provision(&tricky).await.expect("provision a user name full of filter syntax").user.id;
    let plain_id = client.provision(&t.person("abc", 6)).await.expect("provision").user.id;

    let found = client.find_by_user_name("MIXED.CASE@EXAMPLE.COM").await.expect("find").expect("found");
    assert_eq!(found.id, mixed_id);
    assert_eq!(found.user.user_name.as_deref(), Some("Mixed.Case@Example.com"));
    let again = client.provision(&t.person("mixed.case@example.com", 4)).await.expect("provision, other case");
    assert_eq!(again.user.id, mixed_id, "a user name differing only in case is the same user");

    let by_external_id = client.find_by_external_id("E0004").await.expect("find").map(|u| u.id);
    let expected = t.quirks.external_id_writable.then(|| mixed_id.clone());
    assert_eq!(by_external_id, expected, "found by externalId exactly when the server stores it");
    assert_eq!(client.find_by_email("person4@example.com").await.expect("find").map(|u| u.id), Some(mixed_id));
    assert_eq!(client.find_by_user_name(tricky_name).await.expect("find").map(|u| u.id), Some(tricky_id.clone()));
    assert_eq!(client.find_by_user_name("abc").await.expect("find").map(|u| u.id), Some(plain_id));
    for absent in [r#"a"b\c"#, "a", r#"x" or userName pr or userName eq "y"#, "nobody@example.com"] {
        assert!(client.find_by_user_name(absent).await.expect("find").is_none(), "{absent:?} must match nobody");
    }
    assert!(client.find_by_external_id("e0004").await.expect("find").is_none(), "externalId is case-sensitive");
    assert_eq!(client.provision(&tricky).await.expect("provision again").user.id, tricky_id);
    assert_eq!(t.server().all_users().await.len(), 3);
}

/// Listing pages through everyone exactly once.
pub async fn list_pages_through_everyone(t: &Target) {
    let client = t.client();
    let mut created = HashSet::new();
    for n in 1..=25 {
        let person = t.person(&format!("person{n:02}@example.com"), 100 + n);
        let provisioned = client.provision(&person).await.expect("provision");
        assert_eq!(provisioned.outcome, ProvisionOutcome::Created);
        created.insert(provisioned.user.id);
    }
    assert_eq!(t.server().all_users().await.len(), 25);

    let listed: Vec<_> = client.list(10).try_collect().await.expect("list");
    assert_eq!(listed.len(), 25, "every user once");
    let ids: HashSet<UserId> = listed.into_iter().map(|u| u.id).collect();
    assert_eq!(ids, created, "no user twice, none missing");

    let mut sizes = Vec::new();
    let mut request = PageRequest::first(10);
    loop {
        let page = client.list_page(&request).await.expect("page");
        assert_eq!(page.total, Some(25));
        sizes.push(page.users.len());
        match page.next {
            Some(token) => request = PageRequest::next(token, 10),
            None => break,
        }
    }
    let page = t.quirks.page_size.min(10);
    let expected: Vec<usize> = (0..25).step_by(page).map(|start| page.min(25 - start)).collect();
    assert_eq!(sizes, expected, "pages of {page}: the client asks for 10, the server may give fewer");
}

/// Hard delete removes the user; deleting again succeeds as "already gone".
pub async fn delete_then_delete_again(t: &Target) {
    let client = t.client();
    let server = t.server();
    let jane = t.person("jane.gone@example.com", 7);
    let id = client.provision(&jane).await.expect("provision").user.id;

    assert_eq!(client.hard_delete(&id).await.expect("delete"), DeprovisionOutcome::Deleted);
    assert_eq!(server.user(&id).await.0, 404);
    assert_eq!(client.hard_delete(&id).await.expect("delete again"), DeprovisionOutcome::AlreadyGone);
    assert!(matches!(client.get(&id).await, Err(Error::NotFound(_))));
    assert!(client.find_by_user_name("jane.gone@example.com").await.expect("find").is_none());
    assert_eq!(client.deactivate(&id).await.expect("deactivate a deleted user"), DeprovisionOutcome::AlreadyGone);
    assert_eq!(client.deprovision(&jane).await.expect("deprovision"), DeprovisionOutcome::AlreadyGone);
    assert!(server.all_users().await.is_empty());
}

/// A wrong token is an unauthorized error that says what to check, never echoes the token, and
/// changes nothing.
pub async fn wrong_token_is_unauthorized(t: &Target) {
    let wrong = "wrong-token-0123456789";
    let client = t.client_with_token(wrong);
    let error = client.test_connection().await.expect_err("a wrong token must fail");
    assert!(matches!(error, Error::Unauthorized(_)), "{error:?}");
    assert_eq!(error.status(), Some(401));
    let message = error.to_string();
    assert!(message.contains(t.unauthorized_hint), "{message}");
    assert!(!message.contains(wrong), "{message}");

    let error = client.provision(&t.person("nobody@example.com", 8)).await.expect_err("provision must fail");
    assert!(matches!(error, Error::Unauthorized(_)), "{error:?}");
    assert!(t.server().all_users().await.is_empty(), "nothing may be created");
}

/// Joiners get groups, a mover changes them, leavers lose them: the group flow of
/// [`super::group_flow`], without fault injection (for targets that have none, like the peer).
pub async fn joiner_mover_leaver_groups(t: &Target) {
    let world = super::group_flow::ScimWorld { target: t, injector: super::group_flow::Injector::None };
    super::group_flow::joiner_mover_leaver(&world).await;
}
