//! Connections from configuration: TOML and JSON parse to the same thing, every secret source
//! resolves or says why not, `Debug` never shows a secret, a list builds all or nothing with every
//! problem's path, and typos are refused with their path. (Built clients at work: `config_sandbox.rs`.)

use std::path::PathBuf;
use std::time::Duration;

use identity_connectors::config::{
    ClientSettings, ConnectionsConfig, ConnectorConfig, FreshserviceConfig, RetrySettings, ScimConfig, SecretSource,
};
use identity_connectors::{AgentRole, Client, FreshserviceApiKey, FreshserviceUserKind, RetryPolicy};
use secrecy::{ExposeSecret as _, SecretString};

/// An environment variable no test sets.
const UNSET: &str = "IDENTITY_CONNECTORS_TEST_UNSET_TOKEN_3F9A";
const INLINE_TOKEN: &str = "inline-token-a1b2c3d4e5";
const INLINE_KEY: &str = "InlineApiKey1234abcd";

const FULL_TOML: &str = r#"
[[connections]]
type = "interact"
name = "Intranet"
instance_url = "https://intranet.example.com/api/v2/scim/v2/"
token = { env = "INTERACT_TOKEN" }

[connections.client]
timeout = "20s"
max_in_flight = 8
rate_limit_window = 90
user_agent = "hr-sync/2.1"
max_response_bytes = 1048576

[connections.client.retry]
max_attempts = 2
base_delay = "100ms"
max_delay = "30s"
deadline = "1m"

[[connections]]
type = "freshservice"
name = "Service desk"
instance = "acme"
api_key = { file = "/run/secrets/freshservice" }
default_kind = "agent"
default_agent_roles = [
    { role_id = 7, assignment_scope = "entire_helpdesk" },
    { role_id = 9, assignment_scope = "specified_groups", groups = [4, 5] },
]
default_occasional = true
employee_number_field = "employee_id"
name_cache_ttl = "5m"

[[connections]]
type = "scim"
name = "Directory"
instance_url = "https://scim.example.net/v2"
token = "inline-token-a1b2c3d4e5"
"#;

const FULL_JSON: &str = r#"{"connections": [
  {"type": "interact", "name": "Intranet", "instance_url": "https://intranet.example.com/api/v2/scim/v2/",
   "token": {"env": "INTERACT_TOKEN"},
   "client": {"timeout": "20s", "max_in_flight": 8, "rate_limit_window": 90, "user_agent": "hr-sync/2.1",
              "max_response_bytes": 1048576,
              "retry": {"max_attempts": 2, "base_delay": "100ms", "max_delay": "30s", "deadline": "1m"}}},
  {"type": "freshservice", "name": "Service desk", "instance": "acme",
   "api_key": {"file": "/run/secrets/freshservice"}, "default_kind": "agent",
   "default_agent_roles": [{"role_id": 7, "assignment_scope": "entire_helpdesk"},
                           {"role_id": 9, "assignment_scope": "specified_groups", "groups": [4, 5]}],
   "default_occasional": true, "employee_number_field": "employee_id", "name_cache_ttl": "5m"},
  {"type": "scim", "name": "Directory", "instance_url": "https://scim.example.net/v2",
   "token": "inline-token-a1b2c3d4e5"}
]}"#;

fn toml_config(text: &str) -> ConnectionsConfig {
    toml::from_str(text).unwrap_or_else(|e| panic!("the TOML must parse: {e}"))
}

fn build_error(config: &ConnectionsConfig) -> String {
    match config.build() {
        Ok(built) => panic!("the build must fail, got {} connections", built.len()),
        Err(error) => error.to_string(),
    }
}

fn temp_file(name: &str, content: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("identity-connectors-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, content).expect("temp file");
    path
}

#[test]
fn toml_and_json_parse_to_the_same_fields() {
    let from_toml = toml_config(FULL_TOML);
    let from_json: ConnectionsConfig = serde_json::from_str(FULL_JSON).expect("the JSON must parse");
    assert_eq!(format!("{from_toml:?}"), format!("{from_json:?}"));

    let [interact, freshservice, scim] = from_toml.connections.as_slice() else { panic!("three connections") };
    assert_eq!((interact.name(), interact.app()), ("Intranet", "interact"));
    assert_eq!((freshservice.name(), freshservice.app()), ("Service desk", "freshservice"));
    assert_eq!((scim.name(), scim.app()), ("Directory", "scim"));

    let ConnectorConfig::Interact(interact) = interact else { panic!("{interact:?}") };
    assert_eq!(interact.instance_url.as_deref(), Some("https://intranet.example.com/api/v2/scim/v2/"));
    assert_eq!(interact.loopback_url, None);
    assert!(matches!(&interact.token, SecretSource::Env(name) if name == "INTERACT_TOKEN"));
    let client = &interact.client;
    assert_eq!(client.timeout, Some(Duration::from_secs(20)));
    assert_eq!(client.max_in_flight, Some(8));
    assert_eq!(client.rate_limit_window, Some(Duration::from_secs(90)));
    assert_eq!(client.user_agent.as_deref(), Some("hr-sync/2.1"));
    assert_eq!(client.max_response_bytes, Some(1_048_576));
    let retry = client.retry.as_ref().expect("retry settings");
    assert_eq!(
        retry.policy(),
        RetryPolicy::default()
            .with_max_attempts(2)
            .with_base_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_secs(30))
            .with_deadline(Duration::from_secs(60))
    );

    let ConnectorConfig::Freshservice(fs) = freshservice else { panic!("{freshservice:?}") };
    assert_eq!(fs.instance.as_deref(), Some("acme"));
    assert!(matches!(&fs.api_key, SecretSource::File(path) if path == &PathBuf::from("/run/secrets/freshservice")));
    assert_eq!(fs.default_kind, Some(FreshserviceUserKind::Agent));
    let mut specified = AgentRole::new(9, "specified_groups");
    specified.groups = vec![4, 5];
    assert_eq!(fs.default_agent_roles, vec![AgentRole::new(7, "entire_helpdesk"), specified]);
    assert_eq!(fs.default_occasional, Some(true));
    assert_eq!(fs.employee_number_field.as_deref(), Some("employee_id"));
    assert_eq!(fs.name_cache_ttl, Some(Duration::from_secs(300)));

    let ConnectorConfig::Scim(scim) = scim else { panic!("{scim:?}") };
    let SecretSource::Inline(token) = &scim.token else { panic!("{:?}", scim.token) };
    assert_eq!(token.expose_secret(), INLINE_TOKEN);
}

#[test]
fn settings_reach_the_client_as_the_builder_would_set_them() {
    let config = toml_config(&format!(
        r#"
        [[connections]]
        type = "scim"
        name = "Directory"
        instance_url = "https://scim.example.net/v2"
        token = "{INLINE_TOKEN}"
        client = {{ timeout = "20s", max_in_flight = 8, rate_limit_window = "2m", max_response_bytes = 4096, retry = {{ max_attempts = 2, deadline = "0s" }} }}
        "#
    ));
    let built = config.build().expect("builds");
    let by_hand =
        Client::builder(identity_connectors::ScimBearer::new("https://scim.example.net/v2", INLINE_TOKEN).unwrap())
            .timeout(Duration::from_secs(20))
            .max_in_flight(8)
            .rate_limit_window(Duration::from_secs(120))
            .max_response_bytes(4096)
            .retry_policy(RetryPolicy::default().with_max_attempts(2).with_deadline(Duration::ZERO))
            .build()
            .unwrap();
    assert_eq!(built.len(), 1);
    assert_eq!(format!("{:?}", built[0].client.http()), format!("{:?}", by_hand.http()));
    assert_eq!(built[0].client.connector().base_url().as_str(), "https://scim.example.net/v2");
    // Settings left out keep the builder's defaults.
    let defaults = ScimConfig::new("D", "https://scim.example.net/v2", SecretSource::Inline(INLINE_TOKEN.into()));
    let client = ConnectorConfig::Scim(defaults).build_client().expect("builds");
    let by_hand =
        Client::new(identity_connectors::ScimBearer::new("https://scim.example.net/v2", INLINE_TOKEN).unwrap())
            .unwrap();
    assert_eq!(format!("{:?}", client.http()), format!("{:?}", by_hand.http()));
}

#[test]
fn freshservice_options_reach_the_connector() {
    let mut config = FreshserviceConfig::new("Desk", "ACME.freshservice.com", SecretSource::Inline(INLINE_KEY.into()));
    config.default_kind = Some(FreshserviceUserKind::Agent);
    config.default_agent_roles = vec![AgentRole::new(7, "entire_helpdesk")];
    config.default_occasional = Some(false);
    config.employee_number_field = Some("employee_id".into());
    let built = ConnectorConfig::Freshservice(config).build().expect("builds");
    let by_hand = FreshserviceApiKey::new("acme", INLINE_KEY)
        .unwrap()
        .with_default_kind(FreshserviceUserKind::Agent)
        .with_default_agent_roles(vec![AgentRole::new(7, "entire_helpdesk")])
        .with_default_occasional(false)
        .with_employee_number_field("employee_id");
    assert_eq!(format!("{built:?}"), format!("{by_hand:?}"));
    assert_eq!(built.base_url().as_str(), "https://acme.freshservice.com/api/v2");
}

#[test]
fn every_secret_source_resolves_or_says_why_not() {
    // Inline.
    let inline = SecretSource::Inline(SecretString::from(INLINE_TOKEN));
    assert_eq!(inline.resolve().unwrap().expose_secret(), INLINE_TOKEN);
    // A file: its trailing line breaks are not part of the secret; inner text is kept as is.
    for (name, content) in [("lf", "tok-123\n"), ("crlf", "tok-123\r\n"), ("two", "tok-123\n\n"), ("none", "tok-123")] {
        let path = temp_file(&format!("secret-{name}"), content.as_bytes());
        assert_eq!(SecretSource::File(path).resolve().unwrap().expose_secret(), "tok-123", "{name}");
    }
    // A missing file, an empty one, one that is not text: named, never quoted.
    let missing = std::env::temp_dir().join("identity-connectors-no-such-secret-file");
    assert_eq!(
        SecretSource::File(missing.clone()).resolve().unwrap_err(),
        format!("file {} does not exist", missing.display())
    );
    let empty = temp_file("secret-empty", b"\n");
    assert_eq!(SecretSource::File(empty.clone()).resolve().unwrap_err(), format!("file {} is empty", empty.display()));
    let binary = temp_file("secret-binary", &[0xff, 0xfe, b's', b'e', b'c']);
    assert_eq!(
        SecretSource::File(binary.clone()).resolve().unwrap_err(),
        format!("file {} is not UTF-8 text", binary.display())
    );
    let huge = temp_file("secret-huge", &vec![b'a'; 70 * 1024]);
    assert_eq!(
        SecretSource::File(huge.clone()).resolve().unwrap_err(),
        format!("file {} is larger than 65536 bytes; is it the right file?", huge.display())
    );
    // Built in code, the same checks apply when the secret is read.
    assert_eq!(
        SecretSource::Env("Ab12Cd34Ef56Gh78s3cr3t".into()).resolve().unwrap_err(),
        "`env` looks like a credential, not the name of an environment variable; put the secret in the variable and its name here"
    );
    // An unset variable (the set case is in `config_env.rs`, alone in its process).
    assert_eq!(
        SecretSource::Env(UNSET.into()).resolve().unwrap_err(),
        format!("environment variable {UNSET} is not set")
    );

    // Through a build, each failure is reported at the secret's path.
    let config = toml_config(&format!(
        r#"
        [[connections]]
        type = "interact"
        name = "Intranet"
        instance_url = "https://intranet.example.com/api/v2/scim/v2"
        token = {{ env = "{UNSET}" }}

        [[connections]]
        type = "freshservice"
        name = "Desk"
        instance = "acme"
        api_key = {{ file = "{}" }}
        "#,
        missing.display()
    ));
    assert_eq!(
        build_error(&config),
        format!(
            "Invalid configuration (2 problems):\n  connections[0].token: environment variable {UNSET} is not set\n  connections[1].api_key: file {} does not exist",
            missing.display()
        )
    );
}

#[test]
fn malformed_secrets_are_refused_without_quoting_them() {
    for (value, message) in [
        (
            "12345678901234",
            "expected a secret: { env = \"VARIABLE\" }, { file = \"/path\" }, or an inline string (for tests only)",
        ),
        ("{ value = \"s3cr3t-value\" }", "unknown field `value`, expected `env` or `file`"),
        ("{ env = \"A\", file = \"/b\" }", "give exactly one of `env` and `file`"),
        ("{}", "give one of `env` and `file`"),
        ("{ env = \"\" }", "`env` is empty"),
        // A secret pasted where the variable's name or the file's path goes is not repeated.
        (
            "{ env = \"Ab12Cd34Ef56Gh78s3cr3t\" }",
            "`env` looks like a credential, not the name of an environment variable; put the secret in the variable and its name here",
        ),
        (
            "{ env = \"eyJhbGciOi.s3cr3t.sig\" }",
            "`env` must be the name of an environment variable (letters, digits and `_`)",
        ),
        (
            "{ file = \"Ab12Cd34Ef56Gh78s3cr3t\" }",
            "`file` looks like a credential, not a path; put the secret in the file and its path here",
        ),
    ] {
        let text = format!(
            "[[connections]]\ntype = \"scim\"\nname = \"D\"\ninstance_url = \"https://h/v2\"\ntoken = {value}\n"
        );
        let error = toml::from_str::<ConnectionsConfig>(&text).unwrap_err().to_string();
        assert!(error.contains(&format!("connections[0].token: {message}")), "{value}: {error}");
        assert!(!error.contains("12345678901234") && !error.contains("s3cr3t"), "{error}");
    }
}

#[test]
fn debug_of_every_config_type_is_redacted() {
    let mut scim =
        ScimConfig::new("Directory", "https://scim.example.net/v2", SecretSource::Inline(INLINE_TOKEN.into()));
    scim.client.timeout = Some(Duration::from_secs(5));
    assert_eq!(
        format!("{scim:?}"),
        "ScimConfig { name: \"Directory\", instance_url: Some(\"https://scim.example.net/v2\"), loopback_url: None, \
         token: Inline([REDACTED]), client: ClientSettings { timeout: Some(5s), max_in_flight: None, \
         rate_limit_window: None, user_agent: None, max_response_bytes: None, retry: None, proxy: None, tls: None } }"
    );
    assert_eq!(format!("{:?}", SecretSource::Env("INTERACT_TOKEN".into())), "Env(\"INTERACT_TOKEN\")");
    assert_eq!(format!("{:?}", SecretSource::File("/run/secrets/x".into())), "File(\"/run/secrets/x\")");
    assert_eq!(format!("{:?}", SecretSource::Inline(INLINE_TOKEN.into())), "Inline([REDACTED])");

    let config = toml_config(FULL_TOML);
    let fs = FreshserviceConfig::new("Desk", "acme", SecretSource::Inline(INLINE_KEY.into()));
    let built =
        ConnectionsConfig::new(vec![ConnectorConfig::Freshservice(fs.clone()), ConnectorConfig::Scim(scim.clone())])
            .build()
            .expect("builds");
    let debugs = [
        format!("{config:?}"),
        format!("{config:#?}"),
        format!("{:?}", config.connections[2]),
        format!("{fs:?}"),
        format!("{:?}", ConnectorConfig::Freshservice(fs.clone())),
        format!("{built:?}"),
        format!("{:?}", ConnectorConfig::Freshservice(fs).build().unwrap()),
        format!("{:?}", ClientSettings::default()),
        format!("{:?}", RetrySettings::default()),
    ];
    for debug in debugs {
        assert!(!debug.contains(INLINE_TOKEN) && !debug.contains(INLINE_KEY), "{debug}");
        assert!(!debug.contains("a1b2c3") && !debug.contains("1234abcd"), "{debug}");
    }
}

#[test]
fn a_list_builds_all_or_nothing_and_reports_every_problem_with_its_path() {
    let config = toml_config(&format!(
        r#"
        [[connections]]
        type = "interact"
        name = "Intranet"
        instance_url = "https://intranet.example.com/api/v2/scim/v2"
        token = {{ env = "{UNSET}" }}

        [[connections]]
        type = "scim"
        name = "Directory"
        instance_url = "https://scim.example.net/v2"
        token = "{INLINE_TOKEN}"

        [[connections]]
        type = "scim"
        name = "Legacy"
        instance_url = "http://legacy.example.net/scim"
        token = "   "

        [[connections]]
        type = "freshservice"
        name = "directory"
        instance = "https://help.acme.com"
        api_key = "{INLINE_KEY}"
        default_agent_roles = [{{ role_id = 7, assignment_scope = "everything" }}, {{ role_id = 8, assignment_scope = "specified_groups" }}]
        client = {{ timeout = "0s", max_in_flight = 2000, retry = {{ max_attempts = 0 }} }}

        [[connections]]
        type = "interact"
        name = ""
        loopback_url = "http://intranet.example.com/scim/v2"
        token = "jane.doe@example.com"
        "#
    ));
    let error = config.build().unwrap_err();
    let paths: Vec<&str> = error.problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "connections[0].token",
            "connections[2].instance_url",
            "connections[2].token",
            "connections[3].name",
            "connections[3].instance",
            "connections[3].default_agent_roles[0].assignment_scope",
            "connections[3].default_agent_roles[1].groups",
            "connections[3].client.timeout",
            "connections[3].client.max_in_flight",
            "connections[3].client.retry.max_attempts",
            "connections[4].name",
            "connections[4].loopback_url",
        ]
    );
    assert_eq!(
        error.to_string(),
        format!(
            "Invalid configuration (12 problems):
  connections[0].token: environment variable {UNSET} is not set
  connections[2].instance_url: must use https; plain http is accepted only for loopback test servers, as `loopback_url`
  connections[2].token: the bearer token is empty; pass the one the app issued
  connections[3].name: is already the name of connections[1]
  connections[3].instance: the Freshservice instance is not on freshservice.com: API v2 works only via `<name>.freshservice.com`, not via a custom domain (CNAME) or another Freshworks product; use the instance name (`acme`), its host (`acme.freshservice.com`) or a URL on that host
  connections[3].default_agent_roles[0].assignment_scope: must be `entire_helpdesk`, `member_groups`, `specified_groups` or `assigned_items`
  connections[3].default_agent_roles[1].groups: `specified_groups` needs at least one group
  connections[3].client.timeout: must be greater than zero
  connections[3].client.max_in_flight: must be at most 1024
  connections[3].client.retry.max_attempts: must be at least 1 (1: no retries)
  connections[4].name: is empty
  connections[4].loopback_url: it accepts only 127.0.0.0/8, localhost or [::1]; the loopback URL names another host"
        )
    );
    // No secret and no address, whatever the fields held.
    let text = error.to_string();
    assert!(!text.contains(INLINE_TOKEN) && !text.contains(INLINE_KEY) && !text.contains("jane.doe"), "{text}");
    // The crate's own error carries the same problems on one line.
    let crate_error = identity_connectors::Error::from(error);
    assert!(matches!(crate_error, identity_connectors::Error::InvalidConfig { .. }));
    assert!(crate_error.to_string().starts_with("Invalid configuration: connections[0].token: environment variable"));
    assert!(!crate_error.to_string().contains('\n'));
}

#[test]
fn unknown_fields_and_bad_entries_are_refused_with_their_path() {
    let text = format!(
        r#"
        [[connections]]
        type = "scim"
        name = "A"
        instance_url = "https://scim.example.net/v2"
        token = "{INLINE_TOKEN}"

        [[connections]]
        type = "scim"
        name = "B"
        instance_url = "https://scim.example.net/v2"
        tokn = "{INLINE_TOKEN}"

        [[connections]]
        type = "interact"
        name = "C"
        instance_url = "https://intranet.example.com/api/v2/scim/v2"
        token = {{ env = "T" }}
        client = {{ retry = {{ max_attemps = 3 }} }}

        [[connections]]
        type = "freshservice"
        name = "D"
        instance = "acme"
        api_key = {{ env = "K" }}
        default_agent_roles = [{{ role_id = 7, assignment_scope = "entire_helpdesk", group = [1] }}]

        [[connections]]
        type = "freshdesk"
        name = "E"

        [[connections]]
        name = "F"

        [[connections]]
        type = "scim"
        name = "G"
        instance_url = "https://scim.example.net/v2"
        token = {{ env = "T" }}
        client = {{ timeout = "soon" }}
        "#
    );
    let expected = [
        "connections[1].tokn: unknown field `tokn`, expected one of `name`, `instance_url`, `loopback_url`, `token`, `client`",
        "connections[2].client.retry.max_attemps: unknown field `max_attemps`, expected one of `max_attempts`, `base_delay`, `max_delay`, `deadline`",
        "connections[3].default_agent_roles[0].group: unknown field `group`, expected one of `role_id`, `assignment_scope`, `groups`",
        "connections[4].type: must be `interact`, `scim` or `freshservice`",
        "connections[5].type: is missing: `interact`, `scim` or `freshservice`",
        "connections[6].client.timeout: expected a duration such as \"30s\", \"2m\", \"1h\" or \"500ms\", or a whole number of seconds",
    ];
    let error = toml::from_str::<ConnectionsConfig>(&text).unwrap_err().to_string();
    // toml prints the deserialiser's message as it is (plus a line break).
    assert_eq!(error.trim_end(), format!("Invalid configuration (6 problems):\n  {}", expected.join("\n  ")));

    // `tokn` alone (with `token` present) is named by its own path.
    let typo = format!(
        "[[connections]]\ntype = \"scim\"\nname = \"B\"\ninstance_url = \"https://h/v2\"\ntoken = \"{INLINE_TOKEN}\"\ntokn = 1\n"
    );
    let error = toml::from_str::<ConnectionsConfig>(&typo).unwrap_err().to_string();
    assert_eq!(
        error.trim_end(),
        "Invalid configuration: connections[0].tokn: unknown field `tokn`, expected one of `name`, `instance_url`, `loopback_url`, `token`, `client`"
    );
    // And at the top level.
    let error = toml::from_str::<ConnectionsConfig>("[[connection]]\nname = \"A\"\n").unwrap_err().to_string();
    assert!(error.contains("unknown field `connection`, expected `connections`"), "{error}");

    // JSON reports the same.
    let json = r#"{"connections": [{"type": "scim", "name": "B", "instance_url": "https://h/v2", "token": {"env": "T"}, "client": {"retry": {"max_attemps": 3}}}]}"#;
    let error = serde_json::from_str::<ConnectionsConfig>(json).unwrap_err().to_string();
    assert!(
        error.contains("Invalid configuration: connections[0].client.retry.max_attemps: unknown field `max_attemps`"),
        "{error}"
    );
    // A single connection parses on its own too, with paths relative to it.
    let error = serde_json::from_str::<ConnectorConfig>(r#"{"type": "scim", "name": "B", "instance_url": "https://h/v2", "token": {"env": "T"}, "client": {"timout": "1s"}}"#)
        .unwrap_err()
        .to_string();
    assert!(error.contains("Invalid configuration: client.timout: unknown field `timout`"), "{error}");
}

#[test]
fn exactly_one_place_per_connection() {
    let token = || SecretSource::Inline(INLINE_TOKEN.into());
    let mut both = ScimConfig::new("A", "https://scim.example.net/v2", token());
    both.loopback_url = Some("http://127.0.0.1:9/scim/v2".into());
    let mut neither = ScimConfig::new("B", "https://scim.example.net/v2", token());
    neither.instance_url = None;
    let mut fs_both = FreshserviceConfig::new("C", "acme", SecretSource::Inline(INLINE_KEY.into()));
    fs_both.loopback_url = Some("http://127.0.0.1:9/api/v2".into());
    let mut fs_neither = FreshserviceConfig::new("D", "acme", SecretSource::Inline(INLINE_KEY.into()));
    fs_neither.instance = None;
    let config = ConnectionsConfig::new(vec![
        ConnectorConfig::Scim(both),
        ConnectorConfig::Interact(neither),
        ConnectorConfig::Freshservice(fs_both),
        ConnectorConfig::Freshservice(fs_neither),
    ]);
    assert_eq!(
        build_error(&config),
        "Invalid configuration (4 problems):
  connections[0]: give `instance_url` or `loopback_url`, not both
  connections[1].instance_url: is missing (the SCIM base URL)
  connections[2]: give `instance` or `loopback_url`, not both
  connections[3].instance: is missing (the instance name, such as `acme`)"
    );
}

#[test]
fn swapped_freshservice_arguments_are_reported_at_the_right_field() {
    let swapped = FreshserviceConfig::new("A", INLINE_KEY, SecretSource::Inline("acme".into()));
    let address_as_key =
        FreshserviceConfig::new("B", "acme", SecretSource::Inline("https://acme.freshservice.com".into()));
    let config = ConnectionsConfig::new(vec![
        ConnectorConfig::Freshservice(swapped),
        ConnectorConfig::Freshservice(address_as_key),
    ]);
    let error = config.build().unwrap_err();
    let paths: Vec<&str> = error.problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["connections[0].instance", "connections[1].api_key"], "{error}");
    assert!(error.problems[0].message.starts_with("the Freshservice instance looks like an API key"), "{error}");
    assert!(!error.to_string().contains(INLINE_KEY), "{error}");
}
