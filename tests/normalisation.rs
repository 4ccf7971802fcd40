//! Base-URL normalisation at construction: every accepted input gives exactly one base URL, every
//! rejected one a configuration error that explains the accepted forms.

use identity_connectors::{Error, FreshserviceApiKey, InteractBearer, ScimBearer};

fn config_message(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::InvalidConfig { message }) => message,
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

#[test]
fn interact_accepts_and_normalises() {
    let cases = [
        ("https://intranet.example.com/api/v2/scim/v2", "https://intranet.example.com/api/v2/scim/v2"),
        ("https://intranet.example.com/api/v2/scim/v2/", "https://intranet.example.com/api/v2/scim/v2"),
        ("  https://intranet.example.com/api/v2/scim/v2\n", "https://intranet.example.com/api/v2/scim/v2"),
        ("\u{a0}https://intranet.example.com/api/v2/scim/v2\t", "https://intranet.example.com/api/v2/scim/v2"),
        ("https://INTRANET.Example.COM/api/v2/scim/v2", "https://intranet.example.com/api/v2/scim/v2"),
        ("https://acme.interactgo.com/api/v2/scim/v2//", "https://acme.interactgo.com/api/v2/scim/v2"),
        ("https://intranet.example.com", "https://intranet.example.com/"),
        ("https://intranet.example.com/", "https://intranet.example.com/"),
        ("https://intranet.example.com:8443/api/v2/scim/v2", "https://intranet.example.com:8443/api/v2/scim/v2"),
        ("https://intranet.example.com:443/scim", "https://intranet.example.com/scim"),
        ("https://10.1.2.3/scim/v2", "https://10.1.2.3/scim/v2"),
        ("HTTPS://intranet.example.com/Api/V2/Scim/V2", "https://intranet.example.com/Api/V2/Scim/V2"),
    ];
    for (input, expected) in cases {
        let connector = InteractBearer::new(input, "token").unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(connector.base_url().as_str(), expected, "input {input:?}");
    }
}

#[test]
fn interact_rejects_with_a_reason() {
    let cases = [
        ("", "is empty"),
        ("   ", "is empty"),
        ("intranet.example.com/api/v2/scim/v2", "is not a URL"),
        ("not a url", "contains whitespace"),
        ("https://intra net.example.com/scim", "contains whitespace"),
        ("http://intranet.example.com/api/v2/scim/v2", "must use https"),
        ("ftp://intranet.example.com/scim", "must use https, not `ftp`"),
        ("mailto:admin@example.com", "must use https, not `mailto`"),
        ("https://user:pw@intranet.example.com/scim", "must not contain a user name or password"),
        ("https://token@intranet.example.com/scim", "must not contain a user name or password"),
        ("https://intranet.example.com/scim?tenant=1", "must not contain a query"),
        ("https://intranet.example.com/scim#users", "must not contain a fragment"),
        ("https://", "is not a URL"),
        ("https://:443/scim", "is not a URL"),
        ("http://127.0.0.1:8080/scim/v2", "plain http is accepted only for loopback"),
    ];
    for (input, reason) in cases {
        let message = config_message(InteractBearer::new(input, "token"));
        assert!(message.contains(reason), "input {input:?}: {message}");
        assert!(message.starts_with("the Interact SCIM URL"), "input {input:?}: {message}");
    }
}

#[test]
fn loopback_constructors_accept_only_loopback_hosts() {
    let accepted = [
        ("http://127.0.0.1:8080/scim/v2", "http://127.0.0.1:8080/scim/v2"),
        ("http://localhost:1/tenant/v2/", "http://localhost:1/tenant/v2"),
        ("http://[::1]:9000/scim", "http://[::1]:9000/scim"),
        ("http://127.5.6.7/scim", "http://127.5.6.7/scim"),
        ("https://127.0.0.1:8443/scim", "https://127.0.0.1:8443/scim"),
    ];
    for (input, expected) in accepted {
        assert_eq!(InteractBearer::for_loopback(input, "t").unwrap().base_url().as_str(), expected);
        assert_eq!(ScimBearer::for_loopback(input, "t").unwrap().base_url().as_str(), expected);
    }
    assert_eq!(
        FreshserviceApiKey::for_loopback("http://127.0.0.1:9999/api/v2/", "key").unwrap().base_url().as_str(),
        "http://127.0.0.1:9999/api/v2"
    );
    for input in [
        "http://192.168.1.10/scim",
        "http://example.com/scim",
        "http://10.0.0.1:80/api/v2",
        "http://localhost.evil.com/x",
    ] {
        let message = config_message(InteractBearer::for_loopback(input, "t"));
        assert!(message.contains("accepts only 127.0.0.0/8, localhost or [::1]"), "{input:?}: {message}");
        assert!(matches!(FreshserviceApiKey::for_loopback(input, "k"), Err(Error::InvalidConfig { .. })));
    }
}

#[test]
fn scim_bearer_shares_the_url_rules() {
    assert_eq!(
        ScimBearer::new(" https://api.example.com/scim/v2/ ", "t").unwrap().base_url().as_str(),
        "https://api.example.com/scim/v2"
    );
    let message = config_message(ScimBearer::new("http://api.example.com/scim/v2", "t"));
    assert!(message.starts_with("the SCIM base URL must use https"), "{message}");
}

#[test]
fn freshservice_accepts_every_copied_form() {
    let xyz = "https://xyz.freshservice.com/api/v2";
    let cases = [
        ("xyz", xyz),
        ("XYZ", xyz),
        ("  xyz ", xyz),
        ("\u{a0}xyz\u{a0}", xyz),
        ("xyz.freshservice.com", xyz),
        ("XYZ.FreshService.com", xyz),
        ("xyz.freshservice.com.", xyz),
        ("xyz.freshservice.com/", xyz),
        ("xyz.freshservice.com/api/v2", xyz),
        ("xyz.freshservice.com/api/v2/", xyz),
        ("https://xyz.freshservice.com", xyz),
        ("https://xyz.freshservice.com/", xyz),
        ("https://xyz.freshservice.com/api/v2", xyz),
        ("https://xyz.freshservice.com/api/v2/", xyz),
        ("https://xyz.freshservice.com/api/v2/requesters?page=2", xyz),
        ("http://xyz.freshservice.com", xyz),
        ("https://xyz.freshservice.com/a/tickets/1", xyz),
        ("https://xyz.freshservice.com/support/home?ref=bookmark#top", xyz),
        ("https://xyz.freshservice.com:443/", xyz),
        ("acme-fs-sandbox.freshservice.com", "https://acme-fs-sandbox.freshservice.com/api/v2"),
        ("acme2", "https://acme2.freshservice.com/api/v2"),
    ];
    for (input, expected) in cases {
        let connector = FreshserviceApiKey::new(input, "key").unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(connector.base_url().as_str(), expected, "input {input:?}");
    }
}

#[test]
fn freshservice_rejects_with_a_reason() {
    let cases = [
        ("", "is empty"),
        ("   ", "is empty"),
        ("xyz corp", "contains whitespace"),
        ("https://help.xyz.com", "not via a custom domain (CNAME)"),
        ("xyz.freshdesk.com", "is not on freshservice.com"),
        ("xyz.myfreshworks.com", "is not on freshservice.com"),
        ("a.b.freshservice.com", "more than one name before `.freshservice.com`"),
        ("freshservice.com", "has no instance name"),
        ("https://xyz.freshservice.com:8443", "names a port"),
        ("xyz.freshservice.com:8443", "names a port"),
        ("ftp://xyz.freshservice.com", "uses `ftp`"),
        ("-xyz", "is not a valid instance name"),
        ("xyz-", "is not a valid instance name"),
        ("xyz_1", "is not a valid instance name"),
        ("https://user:pw@xyz.freshservice.com", "contains a user name or password"),
        ("https://xyz.freshservice.com/api/v1", "other than `/api/v2`"),
        ("xyz.freshservice.com/api", "other than `/api/v2`"),
        ("api", "names a Freshservice service host"),
        ("www.freshservice.com", "names a Freshservice service host"),
        ("https://scim.freshservice.com/scim/v2", "names a Freshservice service host"),
        ("münchen", "contains non-ASCII characters"),
    ];
    for (input, reason) in cases {
        let message = config_message(FreshserviceApiKey::new(input, "key"));
        assert!(message.contains(reason), "input {input:?}: {message}");
        assert!(message.contains("use the instance name (`acme`)"), "input {input:?}: {message}");
    }
}

#[test]
fn empty_credentials_are_configuration_errors() {
    for secret in ["", "  ", "\n"] {
        assert_eq!(
            config_message(InteractBearer::new("https://i.example.com/scim", secret)),
            "the bearer token is empty; pass the one the app issued"
        );
        assert_eq!(
            config_message(ScimBearer::new("https://i.example.com/scim", secret)),
            "the bearer token is empty; pass the one the app issued"
        );
        assert_eq!(
            config_message(FreshserviceApiKey::new("acme", secret)),
            "the API key is empty; pass the one the app issued"
        );
    }
}
