//! Transport settings through the crate's own types, on loopback: an extra root certificate, a
//! client certificate for mutual TLS, an explicit proxy; and their configuration errors, which
//! name the field and never quote a PEM or a proxy password. (Proxies from the environment and
//! `proxy = "none"` are in tests/transport_env.rs: they set environment variables.)

#[path = "support/raw_recorder.rs"]
mod raw_recorder;
#[path = "support/tls_server.rs"]
mod tls_server;

use identity_connectors::config::{ConnectionsConfig, ConnectorConfig};
use identity_connectors::{
    Client, ClientIdentity, Error, ErrorKind, Proxy, Request, RetryPolicy, RootCertificate, ScimBearer,
    TransportErrorKind,
};
use raw_recorder::Recorder;
use tls_server::{Pki, TlsServer};

const TOKEN: &str = "transport-test-token-9876";
const SCIM_LIST: &str = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}"#;
const REQUEST_LINE: &str = "GET /scim/v2/Users?startIndex=1&count=1 HTTP/1.1";

/// The request lines without SCIM discovery's three reads (`test_connection` asks for them after
/// its look-up): these tests are about where requests go, not how many a connection test sends.
fn without_discovery(lines: Vec<String>) -> Vec<String> {
    let discovery = ["/ServiceProviderConfig ", "/ResourceTypes ", "/Schemas "];
    lines.into_iter().filter(|line| !discovery.iter().any(|d| line.contains(d))).collect()
}

fn builder(base_url: &str) -> identity_connectors::ClientBuilder {
    Client::builder(ScimBearer::for_loopback(base_url, TOKEN).unwrap()).retry_policy(RetryPolicy::none())
}

fn file(name: &str, content: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("identity-connectors-transport-{}-{name}", std::process::id()));
    std::fs::write(&path, content).expect("write the file");
    path
}

/// A failed TLS handshake: a typed transport error naming the request, not a panic or a hang.
fn assert_tls_refused(error: &Error) {
    match error {
        Error::Transport(transport) => {
            assert_eq!(transport.kind(), TransportErrorKind::Tls, "{error}");
            assert!(transport.is_tls() && !transport.is_connect(), "{error}");
            assert!(error.to_string().starts_with("Transport error (Tls) during GET /Users: "), "{error}");
            assert!(error.to_string().ends_with("(ClientBuilder::root_certificate)"), "{error}");
            // Not worth retrying, and nothing reached the server.
            assert_eq!(error.kind(), ErrorKind::Client);
            assert!(!error.is_retryable() && !error.outcome_unknown(), "{error:?}");
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_server_signed_by_a_private_ca_is_reached_only_through_the_extra_root() {
    let pki = Pki::new("root");
    let server = TlsServer::start(&pki, false, SCIM_LIST).await;
    let base = server.url("/scim/v2");

    let error = builder(&base).build().unwrap().test_connection().await.unwrap_err();
    assert_tls_refused(&error);
    assert!(error.to_string().to_lowercase().contains("certificate"), "{error}");
    assert!(server.lines().is_empty(), "no request reached the server: {:?}", server.lines());

    let root = RootCertificate::from_pem(&pki.ca_pem).unwrap();
    assert_eq!(format!("{root:?}"), "RootCertificate(1 certificate)");
    let client = builder(&base).root_certificate(root).build().unwrap();
    client.test_connection().await.expect("trusted through the extra root");
    assert_eq!(without_discovery(server.lines()), [REQUEST_LINE]);

    // The same from configuration, the CA in a file.
    let ca = file("ca.pem", &pki.ca_pem);
    let config: ConnectorConfig = toml::from_str(&format!(
        "type = \"scim\"\nname = \"D\"\nloopback_url = \"{base}\"\ntoken = \"{TOKEN}\"\n[client.tls]\nroot_certificate = {{ file = \"{}\" }}\n",
        ca.display()
    ))
    .unwrap();
    config.build_client().unwrap().test_connection().await.expect("trusted through the configured root");
    assert_eq!(without_discovery(server.lines()).len(), 2);
    std::fs::remove_file(ca).ok();
}

#[tokio::test]
async fn an_untrusted_certificate_is_tried_once_even_when_retries_are_allowed() {
    let pki = Pki::new("untrusted");
    let server = TlsServer::start(&pki, false, SCIM_LIST).await;
    let retries = RetryPolicy::default().with_max_attempts(4).with_base_delay(std::time::Duration::from_millis(1));
    let client = builder(&server.url("/scim/v2")).retry_policy(retries).build().unwrap();
    let http = client.http();
    let error = http.send(Request::get(http.endpoint(&["Users"]).unwrap(), "/Users")).await.unwrap_err();
    assert_tls_refused(&error);
    assert_eq!(server.connections(), 1, "the handshake was tried again");

    // A port nobody listens on is a connect error, and that one is retried.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}/scim/v2", closed.local_addr().unwrap());
    drop(closed);
    let error = builder(&url).retry_policy(retries).build().unwrap().test_connection().await.unwrap_err();
    assert!(matches!(&error, Error::Transport(t) if t.kind() == TransportErrorKind::Connect), "{error:?}");
    assert!(error.is_retryable(), "{error:?}");
}

#[tokio::test]
async fn a_server_that_requires_a_client_certificate_accepts_the_identity_only() {
    let pki = Pki::new("mtls");
    let server = TlsServer::start(&pki, true, SCIM_LIST).await;
    let base = server.url("/scim/v2");
    let root = || RootCertificate::from_pem(&pki.ca_pem).unwrap();

    let error = builder(&base).root_certificate(root()).build().unwrap().test_connection().await.unwrap_err();
    // The server's refusal (a `CertificateRequired` alert) is a TLS error too: not retried.
    match &error {
        Error::Transport(t) => {
            assert_eq!(t.kind(), TransportErrorKind::Tls, "{error}");
            assert!(error.to_string().ends_with("configure the one it expects (ClientBuilder::identity)"), "{error}");
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert!(!error.is_retryable() && !error.outcome_unknown(), "{error:?}");
    assert!(server.lines().is_empty(), "{:?}", server.lines());

    let identity = ClientIdentity::from_pem(&pki.client_pem, pki.client_key_pem.clone()).unwrap();
    assert_eq!(format!("{identity:?}"), "ClientIdentity([REDACTED])");
    let client = builder(&base).root_certificate(root()).identity(identity).build().unwrap();
    client.test_connection().await.expect("accepted with the client certificate");
    assert_eq!(without_discovery(server.lines()), [REQUEST_LINE]);
    assert!(!format!("{client:?}").contains("PRIVATE KEY"), "{client:?}");

    // From configuration: the certificate and the key in files.
    let (ca, cert, key) = (
        file("m-ca.pem", &pki.ca_pem),
        file("m-client.pem", &pki.client_pem),
        file("m-client.key", &pki.client_key_pem),
    );
    let config: ConnectorConfig = toml::from_str(&format!(
        "type = \"scim\"\nname = \"D\"\nloopback_url = \"{base}\"\ntoken = \"{TOKEN}\"\n[client.tls]\nroot_certificate = {{ file = \"{}\" }}\nidentity = {{ certificate = {{ file = \"{}\" }}, key = {{ file = \"{}\" }} }}\n",
        ca.display(),
        cert.display(),
        key.display()
    ))
    .unwrap();
    config.build_client().unwrap().test_connection().await.expect("accepted with the configured identity");
    assert_eq!(without_discovery(server.lines()).len(), 2);
    for path in [ca, cert, key] {
        std::fs::remove_file(path).ok();
    }
}

#[tokio::test]
async fn an_explicit_proxy_gets_the_absolute_form_request() {
    let proxy = Recorder::start(|_| (200, SCIM_LIST.to_string())).await;
    // Nothing listens on the app's port: only the proxy can answer.
    let app = "http://127.0.0.1:9/scim/v2";
    let client = builder(app).proxy(Proxy::url(&proxy.url("")).unwrap()).build().unwrap();
    client.test_connection().await.expect("answered through the proxy");
    assert_eq!(
        without_discovery(proxy.lines()),
        ["GET http://127.0.0.1:9/scim/v2/Users?startIndex=1&count=1 HTTP/1.1"]
    );

    let config: ConnectorConfig = toml::from_str(&format!(
        "type = \"scim\"\nname = \"D\"\nloopback_url = \"{app}\"\ntoken = \"{TOKEN}\"\n[client]\nproxy = \"{}\"\n",
        proxy.url("")
    ))
    .unwrap();
    config.build_client().unwrap().test_connection().await.expect("the configured proxy answers");
    let lines = without_discovery(proxy.lines());
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1], lines[0]);
}

#[test]
fn proxy_debug_hides_the_password_and_bad_urls_are_refused_without_quoting_them() {
    let proxy = Proxy::url("http://svc:Pr0xyPa55word@proxy.internal:3128").unwrap();
    assert_eq!(format!("{proxy:?}"), "Proxy(http://[REDACTED]@proxy.internal:3128)");
    assert_eq!(format!("{:?}", Proxy::parse("NONE").unwrap()), "Proxy(none)");
    assert_eq!(format!("{:?}", Proxy::default()), "Proxy(from environment)");
    for (bad, message) in [
        ("socks5://proxy.internal:1080", "the proxy URL must start with http:// or https:// (SOCKS is not supported)"),
        ("proxy.internal:3128", "the proxy URL must start with http:// or https:// (SOCKS is not supported)"),
        ("not a url Pr0xyPa55word", "the proxy URL is not a valid URL (relative URL without a base)"),
    ] {
        let error = Proxy::url(bad).unwrap_err();
        assert_eq!(error.to_string(), format!("Invalid configuration: {message}"), "{bad}");
    }
}

#[test]
fn bad_pem_and_proxy_settings_are_configuration_errors_with_their_paths() {
    let pki = Pki::new("errors");
    let key_marker = "-----BEGIN PRIVATE KEY-----";
    let body_of = |pem: &str| pem.lines().nth(1).unwrap().to_string();
    // A certificate frame around bytes that are not base64.
    let broken = "-----BEGIN CERTIFICATE-----\n!!!!not-base64!!!!\n-----END CERTIFICATE-----\n";
    let toml_string = |s: &str| toml::Value::String(s.to_string()).to_string();
    let text = format!(
        r#"
        [[connections]]
        type = "scim"
        name = "Broken root"
        loopback_url = "http://127.0.0.1:9/scim/v2"
        token = "{TOKEN}"
        client = {{ proxy = "ftp://svc:Pr0xyPa55word@proxy.internal", tls = {{ root_certificate = {broken} }} }}

        [[connections]]
        type = "scim"
        name = "Key as root"
        loopback_url = "http://127.0.0.1:9/scim/v2"
        token = "{TOKEN}"
        client = {{ tls = {{ root_certificate = {key} }} }}

        [[connections]]
        type = "scim"
        name = "Swapped identity"
        loopback_url = "http://127.0.0.1:9/scim/v2"
        token = "{TOKEN}"
        client = {{ tls = {{ identity = {{ certificate = {key}, key = {cert} }} }} }}

        [[connections]]
        type = "scim"
        name = "Missing key file"
        loopback_url = "http://127.0.0.1:9/scim/v2"
        token = "{TOKEN}"
        client = {{ tls = {{ identity = {{ certificate = {cert}, key = {{ file = "/nonexistent/client.key" }} }} }} }}
        "#,
        broken = toml_string(broken),
        key = toml_string(&pki.client_key_pem),
        cert = toml_string(&pki.client_pem),
    );
    let config: ConnectionsConfig = toml::from_str(&text).expect("parses: values are checked when built");
    let debug = format!("{config:?}");
    assert!(!debug.contains("Pr0xyPa55word") && !debug.contains(key_marker), "{debug}");

    let error = config.build().unwrap_err();
    let paths: Vec<&str> = error.problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "connections[0].client.proxy",
            "connections[0].client.tls.root_certificate",
            "connections[1].client.tls.root_certificate",
            "connections[2].client.tls.identity",
            "connections[3].client.tls.identity.key",
        ],
        "{error}"
    );
    let messages: Vec<&str> = error.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(messages[0], "the proxy URL must start with http:// or https:// (SOCKS is not supported)");
    assert!(messages[1].starts_with("the root certificate cannot be read: "), "{}", messages[1]);
    assert_eq!(messages[2], "the root certificate holds a private key; give only the CA's certificate");
    assert_eq!(messages[3], "the client certificate chain holds a private key; give the key separately, as a secret");
    assert_eq!(messages[4], "file /nonexistent/client.key does not exist");
    let shown = format!("{error} {error:?}");
    for secret in ["Pr0xyPa55word", "not-base64", key_marker, &body_of(&pki.client_key_pem), &body_of(&pki.client_pem)]
    {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
}

#[test]
fn constructors_refuse_what_is_not_pem() {
    let pki = Pki::new("constructors");
    for (bad, message) in [
        ("", "the root certificate is not PEM: expected `-----BEGIN CERTIFICATE-----`"),
        ("MIIBszCCAVmgAwIBAgIU", "the root certificate is not PEM: expected `-----BEGIN CERTIFICATE-----`"),
    ] {
        assert_eq!(
            RootCertificate::from_pem(bad).unwrap_err().to_string(),
            format!("Invalid configuration: {message}")
        );
    }
    // A certificate frame around base64 that is not a certificate.
    let error =
        RootCertificate::from_pem("-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n").unwrap_err();
    assert!(error.to_string().starts_with("Invalid configuration: the root certificate cannot be "), "{error}");
    let error = ClientIdentity::from_pem(&pki.client_pem, "not a key").unwrap_err();
    assert_eq!(
        error.to_string(),
        "Invalid configuration: the client private key is not PEM: expected `-----BEGIN PRIVATE KEY-----`"
    );
    let error = ClientIdentity::from_pem("", pki.client_key_pem.clone()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Invalid configuration: the client certificate chain is not PEM: expected `-----BEGIN CERTIFICATE-----`"
    );
    // A key that does not decode is refused by the TLS library, in its words, without the PEM.
    let garbled: String = pki
        .client_key_pem
        .lines()
        .map(
            |line| {
                if line.starts_with("-----") { format!("{line}\n") } else { format!("{}\n", "A".repeat(line.len())) }
            },
        )
        .collect();
    let error = ClientIdentity::from_pem(&pki.client_pem, garbled).unwrap_err();
    assert!(
        error.to_string().starts_with("Invalid configuration: the client certificate or key cannot be read"),
        "{error}"
    );
}
