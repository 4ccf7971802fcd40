//! A connector written outside the crate attaches its own typed attributes to `User` and
//! round-trips them (create, look up, diff, patch, get) through the crate's SCIM operations and
//! codec, without any change to the crate: the extension slot and the registry are the whole seam.

use async_trait::async_trait;
use httpmock::{Mock, MockServer, When};
use identity_connectors::scim::codec::{self, ScimExtension, ScimExtensions};
use identity_connectors::scim::ops;
use identity_connectors::{
    Authorization, Client, Connector, Lookup, PageRequest, ProvisionOutcome, RemoteUser, Result, RetryPolicy,
    ScimBearer, UpdateOutcome, User, UserExtension, UserId, UserPage,
};
use serde_json::{Map, Value, json};
use url::Url;

const TOKEN: &str = "badge-token";
const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const BADGE_URN: &str = "urn:example:params:scim:schemas:extension:badge:1.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The outside app's own attributes: a door badge.
#[derive(Debug, Clone, Default, PartialEq)]
struct Badge {
    number: Option<u32>,
    site: Option<String>,
}

impl UserExtension for Badge {
    const SCHEMA_URN: Option<&'static str> = Some(BADGE_URN);

    fn to_json(&self) -> Value {
        let mut members = Map::new();
        if let Some(number) = self.number {
            members.insert("number".into(), json!(number));
        }
        if let Some(site) = &self.site {
            members.insert("site".into(), json!(site));
        }
        Value::Object(members)
    }

    fn is_empty(&self) -> bool {
        *self == Badge::default()
    }

    fn changes_from(&self, current: Option<&Self>) -> Option<Self> {
        let current = current.cloned().unwrap_or_default();
        let changes = Badge {
            number: self.number.filter(|n| Some(*n) != current.number),
            site: self.site.clone().filter(|s| Some(s) != current.site.as_ref()),
        };
        (!changes.is_empty()).then_some(changes)
    }

    fn apply(&mut self, changes: &Self) {
        if changes.number.is_some() {
            self.number = changes.number;
        }
        if changes.site.is_some() {
            self.site = changes.site.clone();
        }
    }
}

impl ScimExtension for Badge {
    fn from_scim(value: &Value) -> Option<Self> {
        let members = value.as_object()?;
        let badge = Badge {
            number: codec::field(members, "number").and_then(codec::string).and_then(|n| n.parse().ok()),
            site: codec::field(members, "site").and_then(codec::string),
        };
        (!badge.is_empty()).then_some(badge)
    }
}

/// The outside app's connector: SCIM through the crate's operations, with its extension registered.
#[derive(Debug)]
struct BadgeDirectory {
    base_url: Url,
    authorization: Authorization,
    extensions: ScimExtensions,
}

impl BadgeDirectory {
    fn new(base_url: &str) -> Self {
        BadgeDirectory {
            base_url: Url::parse(base_url).expect("base URL"),
            authorization: Authorization::bearer(&TOKEN.into()).expect("token"),
            extensions: ScimExtensions::new().with::<Badge>(),
        }
    }

    fn typed(&self, mut user: RemoteUser) -> RemoteUser {
        self.extensions.lift(&mut user.user);
        user
    }
}

#[async_trait]
impl Connector for BadgeDirectory {
    fn kind(&self) -> &'static str {
        "badge-directory"
    }
    fn display_name(&self) -> &str {
        "Badge directory"
    }
    fn base_url(&self) -> &Url {
        &self.base_url
    }
    fn authorization(&self) -> &Authorization {
        &self.authorization
    }
    fn accept(&self) -> &'static str {
        ops::SCIM_ACCEPT
    }
    fn match_key(&self, user: &User) -> Result<Lookup> {
        ops::match_key(user)
    }
    async fn test_connection(&self, http: &identity_connectors::Http) -> Result<()> {
        ops::test_connection(http).await
    }
    async fn create_user(&self, http: &identity_connectors::Http, user: &User) -> Result<RemoteUser> {
        Ok(self.typed(ops::create_user(http, user).await?))
    }
    async fn get_user(&self, http: &identity_connectors::Http, id: &UserId) -> Result<RemoteUser> {
        Ok(self.typed(ops::get_user(http, id).await?))
    }
    async fn find_user(&self, http: &identity_connectors::Http, lookup: &Lookup) -> Result<Option<RemoteUser>> {
        Ok(ops::find_user(http, lookup).await?.map(|user| self.typed(user)))
    }
    async fn update_user(
        &self,
        http: &identity_connectors::Http,
        id: &UserId,
        changes: &User,
        current: Option<&RemoteUser>,
    ) -> Result<UpdateOutcome> {
        Ok(match ops::update_user(http, id, changes, current).await? {
            UpdateOutcome::Updated(Some(user)) => UpdateOutcome::Updated(Some(self.typed(user))),
            other => other,
        })
    }
    async fn set_active(&self, http: &identity_connectors::Http, id: &UserId, active: bool) -> Result<()> {
        ops::set_active(http, id, active).await
    }
    async fn delete_user(&self, http: &identity_connectors::Http, id: &UserId) -> Result<()> {
        ops::delete_user(http, id).await
    }
    async fn list_users(&self, http: &identity_connectors::Http, page: &PageRequest) -> Result<UserPage> {
        let mut page = ops::list_users(http, page).await?;
        page.users = page.users.into_iter().map(|user| self.typed(user)).collect();
        Ok(page)
    }
}

fn authorised(when: When) -> When {
    when.header("authorization", format!("Bearer {TOKEN}")).header("accept", ops::SCIM_ACCEPT)
}

fn find_query(when: When) -> When {
    when.is_true(|req| req.uri().query() == Some("filter=userName%20eq%20%22ada%22"))
}

/// The user as the server stores it, written the way a lax server writes it (URN and member
/// names in another case, the number as a string).
fn stored(site: &str) -> Value {
    json!({
        "schemas": [CORE, BADGE_URN],
        "id": "42",
        "userName": "ada",
        "active": true,
        "urn:example:params:scim:schemas:extension:BADGE:1.0:User": {"Number": "7", "site": site}
    })
}

async fn catch_all(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(599).body("unexpected request");
        })
        .await
}

fn ada(site: &str) -> User {
    User::builder("ada").extension(Badge { number: Some(7), site: Some(site.into()) }).build()
}

#[tokio::test]
async fn an_outside_connector_round_trips_its_own_typed_attributes() {
    let server = MockServer::start_async().await;
    let connector = BadgeDirectory::new(&server.url("/scim/v2"));
    let client = Client::builder(connector).retry_policy(RetryPolicy::none()).build().expect("client");
    let leeds = Badge { number: Some(7), site: Some("Leeds".into()) };

    // Create: the badge is written under its URN and listed in `schemas`; the answer is typed.
    let nobody = server
        .mock_async(|when, then| {
            find_query(authorised(when.method("GET").path("/scim/v2/Users")));
            then.status(200).json_body(json!({"totalResults": 0, "Resources": []}));
        })
        .await;
    let create = server
        .mock_async(|when, then| {
            authorised(when.method("POST").path("/scim/v2/Users"))
                .header("content-type", "application/scim+json")
                .json_body(json!({
                    "schemas": [CORE, BADGE_URN],
                    "userName": "ada",
                    "active": true,
                    BADGE_URN: {"number": 7, "site": "Leeds"}
                }));
            then.status(201).json_body(stored("Leeds"));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let created = client.provision(&ada("Leeds")).await.expect("create");
    assert_eq!(created.outcome, ProvisionOutcome::Created);
    assert_eq!(created.user.user.extension::<Badge>(), Some(&leeds));
    assert!(created.user.user.extra.is_empty(), "{:?}", created.user.user.extra);
    create.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
    // Mocks match in the order they were added: clear the way for the user's next states.
    nobody.delete_async().await;
    unexpected.delete_async().await;

    // Provision again: the stored badge reads back equal, so nothing is sent.
    let found = server
        .mock_async(|when, then| {
            find_query(authorised(when.method("GET").path("/scim/v2/Users")));
            then.status(200).json_body(json!({"totalResults": 1, "Resources": [stored("Leeds")]}));
        })
        .await;
    let patch = server
        .mock_async(|when, then| {
            authorised(when.method("PATCH").path("/scim/v2/Users/42")).json_body(json!({
                "schemas": [PATCH_OP],
                "Operations": [{"op": "replace", "path": format!("{BADGE_URN}:site"), "value": "York"}]
            }));
            then.status(204);
        })
        .await;
    let get = server
        .mock_async(|when, then| {
            authorised(when.method("GET").path("/scim/v2/Users/42"));
            then.status(200).json_body(stored("York"));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let linked = client.provision(&ada("Leeds")).await.expect("link");
    assert_eq!(linked.outcome, ProvisionOutcome::Linked);
    assert_eq!(linked.user.user.extension::<Badge>(), Some(&leeds));

    assert_eq!(patch.calls_async().await, 0);

    // A moved badge: the diff holds only the site, patched by its URN path, and applied locally.
    let updated = client.provision(&ada("York")).await.expect("update");
    assert_eq!(updated.outcome, ProvisionOutcome::Updated);
    assert_eq!(updated.user.user.extension::<Badge>(), Some(&Badge { number: Some(7), site: Some("York".into()) }));
    patch.assert_calls_async(1).await;
    found.assert_calls_async(2).await;

    // Get: typed again.
    let fetched = client.get(&UserId::new("42")).await.expect("get");
    assert_eq!(fetched.user.extension::<Badge>().and_then(|b| b.site.as_deref()), Some("York"));
    get.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn only_a_registered_extension_is_typed() {
    let server = MockServer::start_async().await;
    let get = server
        .mock_async(|when, then| {
            authorised(when.method("GET").path("/scim/v2/Users/42"));
            then.status(200).json_body(stored("Leeds"));
        })
        .await;
    let base = server.url("/scim/v2");
    let raw_key = "urn:example:params:scim:schemas:extension:BADGE:1.0:User";

    let generic = Client::new(ScimBearer::for_loopback(&base, TOKEN).expect("connector")).expect("client");
    let user = generic.get(&UserId::new("42")).await.expect("get").user;
    assert_eq!(user.extension::<Badge>(), None);
    assert_eq!(user.extra.get(raw_key), Some(&json!({"Number": "7", "site": "Leeds"})));

    let registered = ScimBearer::for_loopback(&base, TOKEN).expect("connector").with_extension::<Badge>();
    let user = Client::new(registered).expect("client").get(&UserId::new("42")).await.expect("get").user;
    assert_eq!(user.extension::<Badge>(), Some(&Badge { number: Some(7), site: Some("Leeds".into()) }));
    assert!(user.extra.is_empty());
    get.assert_calls_async(2).await;
}
