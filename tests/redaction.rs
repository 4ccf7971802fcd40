//! Credentials never show in `Debug`: exact output of every connector and configuration type.

use identity_connectors::{
    Authorization, Client, FreshserviceApiKey, FreshserviceUserKind, InteractBearer, RetryPolicy, ScimBearer,
};

const TOKEN: &str = "tok-4f8a9c-SECRET";

#[test]
fn connector_debug_output_is_exact_and_redacted() {
    let interact = InteractBearer::new("https://intranet.example.com/api/v2/scim/v2/", TOKEN).unwrap();
    assert_eq!(
        format!("{interact:?}"),
        r#"InteractBearer { base_url: "https://intranet.example.com/api/v2/scim/v2", token: "[REDACTED]" }"#
    );
    let scim = ScimBearer::new("https://api.example.com/scim/v2", TOKEN).unwrap();
    assert_eq!(
        format!("{scim:?}"),
        r#"ScimBearer { base_url: "https://api.example.com/scim/v2", token: "[REDACTED]" }"#
    );
    let freshservice = FreshserviceApiKey::new("acme", TOKEN).unwrap();
    assert_eq!(
        format!("{freshservice:?}"),
        r#"FreshserviceApiKey { base_url: "https://acme.freshservice.com/api/v2", api_key: "[REDACTED]", default_kind: Requester, default_agent_roles: [], default_occasional: None, employee_number_field: None }"#
    );
    let agent_default = freshservice.clone().with_default_kind(FreshserviceUserKind::Agent);
    assert!(format!("{agent_default:#?}").contains("default_kind: Agent"));
    let auth = Authorization::bearer(&TOKEN.into()).unwrap();
    assert_eq!(format!("{auth:?}"), "Authorization([REDACTED])");
}

#[test]
fn client_and_builder_debug_never_show_the_token() {
    let builder = Client::builder(InteractBearer::new("https://intranet.example.com/scim", TOKEN).unwrap())
        .retry_policy(RetryPolicy::none());
    let text = format!("{builder:?} {builder:#?}");
    assert!(text.contains("token: \"[REDACTED]\""), "{text}");
    let client = builder.build().unwrap();
    assert_eq!(
        format!("{client:?}"),
        r#"Client { connector: InteractBearer { base_url: "https://intranet.example.com/scim", token: "[REDACTED]" }, http: Http { connector: "interact", timeout: 30s, max_response_bytes: 10485760, retry: RetryPolicy { max_attempts: 1, base_delay: 200ms, max_delay: 60s, deadline: 0ns }, max_in_flight: 4, rate_limit_window: 60s } }"#
    );
    let freshservice = Client::new(FreshserviceApiKey::new("acme", TOKEN).unwrap()).unwrap();
    for text in [format!("{freshservice:?}"), format!("{freshservice:#?}")] {
        assert!(!text.contains(TOKEN) && !text.contains("dG9r"), "{text}");
    }
}
