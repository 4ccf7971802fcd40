//! A typed extension the connector does not register comes back from the app untyped (in
//! `User::extra`); re-provisioning must still see that nothing changed and send no write.

use identity_connectors::prelude::*;
use identity_connectors::sandbox::ScimSandbox;
use identity_connectors::{Client, InteractAttributes, LoginType, ProvisionOutcome, User};

fn person(location: &str) -> User {
    User::builder("unreg.ext")
        .external_id("E-77")
        .given_name("Una")
        .family_name("Registered")
        .interact(InteractAttributes::new(LoginType::Saml).location(location))
        .build()
}

#[tokio::test]
async fn scim_bearer_without_the_interact_type_registered_re_provisions_without_a_write() {
    let sandbox = ScimSandbox::start().await.unwrap();
    // ScimBearer reads Interact's extension into `extra`, as it does not register the type.
    let client = Client::new(sandbox.scim_connector().unwrap()).unwrap();

    let first = client.provision(&person("London")).await.unwrap();
    assert_eq!(first.outcome, ProvisionOutcome::Created);

    let before = sandbox.requests().len();
    let second = client.provision(&person("London")).await.unwrap();
    assert_eq!(second.outcome, ProvisionOutcome::Linked);
    let sent: Vec<String> = sandbox.requests()[before..].iter().map(|r| r.method.clone()).collect();
    assert_eq!(sent, ["GET"], "a re-run with nothing changed must send only the look-up");

    // A real change in the extension is still sent.
    let before = sandbox.requests().len();
    let third = client.provision(&person("Leeds")).await.unwrap();
    assert_eq!(third.outcome, ProvisionOutcome::Updated);
    let sent: Vec<String> = sandbox.requests()[before..].iter().map(|r| r.method.clone()).collect();
    assert_eq!(sent, ["GET", "PATCH"]);
    let stored = sandbox.user_by_user_name("unreg.ext").unwrap();
    let extension = &stored["urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:User"];
    assert_eq!(extension["location"], "Leeds", "stored: {stored}");
}
