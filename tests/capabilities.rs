//! The resource seam: a connector without an optional capability (groups) makes the client report
//! a typed error naming the connector and the capability; one that has it hands it out, also
//! through `Box<dyn Connector>` and `Arc<dyn Connector>`.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use identity_connectors::{
    Authorization, Client, Connector, Error, ErrorKind, FreshserviceApiKey, GroupConnector, Http, InteractBearer,
    Lookup, PageRequest, RemoteUser, Result, ScimBearer, UpdateOutcome, User, UserId, UserPage,
};
use url::Url;

/// A connector for an app with groups. Its user primitives are never called here.
#[derive(Debug)]
struct Directory {
    name: &'static str,
    base_url: Url,
    authorization: Authorization,
    groups: Option<DirectoryGroups>,
}

struct DirectoryGroups {
    tenant: &'static str,
}

impl fmt::Debug for DirectoryGroups {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DirectoryGroups({})", self.tenant)
    }
}

impl GroupConnector for DirectoryGroups {}

impl Directory {
    fn new(name: &'static str, groups: Option<DirectoryGroups>) -> Directory {
        Directory {
            name,
            base_url: Url::parse("https://directory.example.com/api").unwrap(),
            authorization: Authorization::bearer(&"token-123456".into()).unwrap(),
            groups,
        }
    }
}

fn not_used<T>() -> Result<T> {
    Err(Error::invalid_input("not used by the capability tests", vec![]))
}

#[async_trait]
impl Connector for Directory {
    fn kind(&self) -> &'static str {
        "directory"
    }
    fn display_name(&self) -> &str {
        self.name
    }
    fn base_url(&self) -> &Url {
        &self.base_url
    }
    fn authorization(&self) -> &Authorization {
        &self.authorization
    }
    fn match_key(&self, _: &User) -> Result<Lookup> {
        not_used()
    }
    async fn test_connection(&self, _: &Http) -> Result<()> {
        not_used()
    }
    async fn create_user(&self, _: &Http, _: &User) -> Result<RemoteUser> {
        not_used()
    }
    async fn get_user(&self, _: &Http, _: &UserId) -> Result<RemoteUser> {
        not_used()
    }
    async fn find_user(&self, _: &Http, _: &Lookup) -> Result<Option<RemoteUser>> {
        not_used()
    }
    async fn update_user(&self, _: &Http, _: &UserId, _: &User, _: Option<&RemoteUser>) -> Result<UpdateOutcome> {
        not_used()
    }
    async fn set_active(&self, _: &Http, _: &UserId, _: bool) -> Result<()> {
        not_used()
    }
    async fn delete_user(&self, _: &Http, _: &UserId) -> Result<()> {
        not_used()
    }
    async fn list_users(&self, _: &Http, _: &PageRequest) -> Result<UserPage> {
        not_used()
    }
    fn groups(&self) -> Option<&dyn GroupConnector> {
        self.groups.as_ref().map(|g| g as &dyn GroupConnector)
    }
}

fn unsupported(client: &Client) -> Error {
    client.groups().expect_err("the connector has no groups")
}

#[test]
fn a_connector_without_groups_is_reported_by_name_and_capability() {
    let connectors: Vec<(Box<dyn Connector>, &str)> = vec![(
        Box::new(Directory::new("Directory", None)),
        "The Directory connector does not support groups; nothing was sent. Skip it for this app",
    )];
    for (connector, expected) in connectors {
        let client = Client::new(connector).unwrap();
        let error = unsupported(&client);
        assert_eq!(error.to_string(), expected);
        assert!(matches!(&error, Error::Unsupported { capability: "groups", .. }), "{error:?}");
        assert_eq!(error.kind(), ErrorKind::Client);
        assert!(!error.is_retryable());
        assert_eq!(error.status(), None);
        assert!(!error.outcome_unknown());
    }
}

#[test]
fn freshservice_has_groups_through_every_wrapper() {
    let boxed: Box<dyn Connector> = Box::new(FreshserviceApiKey::new("acme", "api-key-123456").unwrap());
    let client = Client::new(boxed).unwrap();
    let groups = client.groups().expect("Freshservice has requester groups, agent groups and roles");
    assert!(format!("{groups:?}").starts_with("FreshserviceApiKey {"));
}

#[test]
fn every_scim_connector_has_groups_through_every_wrapper() {
    let connectors: Vec<(Box<dyn Connector>, &str)> = vec![
        (Box::new(ScimBearer::new("https://scim.example.com/scim/v2", "token-123456").unwrap()), "ScimBearer {"),
        (
            Box::new(InteractBearer::new("https://intranet.example.com/api/v2/scim/v2", "token-123456").unwrap()),
            "InteractBearer {",
        ),
    ];
    for (connector, debug) in connectors {
        let client = Client::new(connector).unwrap();
        let groups = client.groups().expect("SCIM has groups");
        assert!(format!("{groups:?}").starts_with(debug), "{groups:?}");
        assert!(!format!("{groups:?}").contains("token-123456"));
    }
}

#[test]
fn the_connector_name_in_the_error_is_one_line_without_addresses() {
    let client = Client::new(Directory::new("Directory of admin@example.com\nsecond line", None)).unwrap();
    let text = unsupported(&client).to_string();
    assert_eq!(
        text,
        "The Directory of [EMAIL] second line connector does not support groups; nothing was sent. Skip it for this app"
    );
}

#[test]
fn a_connector_with_groups_hands_them_out_through_every_wrapper() {
    let direct = Client::new(Directory::new("Directory", Some(DirectoryGroups { tenant: "t1" }))).unwrap();
    assert_eq!(format!("{:?}", direct.groups().unwrap()), "DirectoryGroups(t1)");

    let boxed: Box<dyn Connector> = Box::new(Directory::new("Directory", Some(DirectoryGroups { tenant: "t2" })));
    let boxed = Client::new(boxed).unwrap();
    assert_eq!(format!("{:?}", boxed.groups().unwrap()), "DirectoryGroups(t2)");

    let shared: Arc<dyn Connector> = Arc::new(Directory::new("Directory", Some(DirectoryGroups { tenant: "t3" })));
    let shared = Client::new(Arc::clone(&shared)).unwrap();
    assert_eq!(format!("{:?}", shared.groups().unwrap()), "DirectoryGroups(t3)");
    assert_eq!(format!("{:?}", shared.connector().groups().unwrap()), "DirectoryGroups(t3)");
}
