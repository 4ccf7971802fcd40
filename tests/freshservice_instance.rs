//! The instance normaliser against the reference's test vectors: every accepted spelling gives
//! `https://<name>.freshservice.com/api/v2`, every rejected one an explanation and no connector.

use identity_connectors::{Error, FreshserviceApiKey};

#[test]
fn accepted_spellings_normalise_to_one_base_url() {
    let accepted = [
        ("xyz", "xyz"),
        ("XYZ", "xyz"),
        ("  xyz ", "xyz"),
        ("\u{a0}xyz\u{a0}", "xyz"),
        ("xyz.freshservice.com", "xyz"),
        ("xyz.freshservice.com.", "xyz"),
        ("xyz.freshservice.com/api/v2", "xyz"),
        ("XYZ.FreshService.com", "xyz"),
        ("https://xyz.freshservice.com", "xyz"),
        ("https://xyz.freshservice.com/", "xyz"),
        ("https://xyz.freshservice.com/api/v2", "xyz"),
        ("https://xyz.freshservice.com/api/v2/", "xyz"),
        ("http://xyz.freshservice.com", "xyz"),
        ("https://xyz.freshservice.com/a/tickets/1", "xyz"),
        ("https://xyz.freshservice.com/support/home?x=1#top", "xyz"),
        ("acme-fs-sandbox.freshservice.com", "acme-fs-sandbox"),
    ];
    for (input, name) in accepted {
        let connector = FreshserviceApiKey::new(input, "key").unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(connector.base_url().as_str(), format!("https://{name}.freshservice.com/api/v2"), "{input:?}");
    }
}

#[test]
fn rejected_spellings_explain_why() {
    let rejected = [
        ("", "is empty"),
        ("   ", "is empty"),
        ("xyz corp", "contains whitespace"),
        ("https://help.xyz.com", "not via a custom domain (CNAME)"),
        ("xyz.freshdesk.com", "is not on freshservice.com"),
        ("xyz.myfreshworks.com", "is not on freshservice.com"),
        ("a.b.freshservice.com", "more than one name"),
        ("freshservice.com", "has no instance name"),
        ("https://xyz.freshservice.com:8443", "names a port"),
        ("xyz.freshservice.com:8443", "names a port"),
        ("ftp://xyz.freshservice.com", "https only"),
        ("-xyz", "not a valid instance name"),
        ("xyz_1", "not a valid instance name"),
        ("https://user:pw@xyz.freshservice.com", "user name or password"),
        ("https://xyz.freshservice.com/api/v1", "API v2 only"),
        ("api.freshservice.com", "service host"),
        ("xyzé", "non-ASCII"),
    ];
    for (input, why) in rejected {
        let error = FreshserviceApiKey::new(input, "key").unwrap_err();
        assert!(matches!(error, Error::InvalidConfig { .. }), "{input:?}: {error:?}");
        assert!(error.to_string().contains(why), "{input:?}: {error}");
    }
}

#[test]
fn loopback_is_only_for_loopback_hosts() {
    let local = FreshserviceApiKey::for_loopback("http://127.0.0.1:8080/api/v2", "key").unwrap();
    assert_eq!(local.base_url().as_str(), "http://127.0.0.1:8080/api/v2");
    assert!(FreshserviceApiKey::for_loopback("http://acme.freshservice.com/api/v2", "key").is_err());
}
