//! Typed, idempotent user-lifecycle connectors for HR-driven provisioning services.
//!
//! When a person joins, moves or leaves a company, a provisioning service creates, updates,
//! deactivates, reactivates or deletes their account in every downstream app. This crate is the
//! typed client for that job: one [`Connector`] trait, one [`Client`] that drives the lifecycle the
//! same way for every connector, and the first connectors:
//!
//! | Connector | App | API | Credential |
//! |---|---|---|---|
//! | [`InteractBearer`] | Interact Software intranet | SCIM 2.0 + Interact extension | profile source bearer token |
//! | [`ScimBearer`] | any SCIM 2.0 service provider | SCIM 2.0 | bearer token |
//! | [`FreshserviceApiKey`] | Freshservice | REST API v2 | admin API key (HTTP Basic, password `X`) |
//!
//! # Architecture
//!
//! Layers, top to bottom; a module imports only from layers below it (no cycle, checked by
//! `tests/architecture.rs`):
//!
//! - `client.rs` ([`Client`]) is what a service calls. It owns everything that is the same for
//!   every app: idempotent [`provision`](Client::provision) (look up by the connector's match key,
//!   then link, reactivate, update or create; reconcile "already exists" and lost responses by
//!   looking up again), [`deprovision`](Client::deprovision) that succeeds for people already
//!   inactive or gone, [`list`](Client::list) as a stream bounded by one page, and the optional
//!   capabilities ([`groups`](Client::groups)). `flight.rs`: single-flight per match key;
//!   `bulk.rs`: many people at a time.
//! - `scim/`, `interact/`, `freshservice/`: the protocol and app modules. [`scim`] holds the SCIM
//!   JSON codec with its extension registry, filters, PATCH and list parsing, shared by every SCIM
//!   app; [`interact`] and [`freshservice`] each hold their connector, their typed attributes and
//!   their `User`/`UserBuilder` shorthands.
//! - `connector.rs` ([`Connector`]) is what one app must provide: its normalised base URL, its
//!   `Authorization` header, its error-body reading, and seven user primitives (create, get, find,
//!   update, set active, delete, list a page) mapped onto its API. Other resources are optional
//!   capabilities, each a trait in its own module (`group.rs`: [`GroupConnector`]). Connectors are
//!   object safe, so a service can keep `Vec<Box<dyn Connector>>` built from configuration.
//! - `outcome.rs`: what lifecycle calls did ([`ProvisionOutcome`], [`UpdateOutcome`], …), shared by
//!   the trait and the client.
//! - `http/` ([`Http`]) is the one request path every connector sends through, and knows no
//!   connector: `mod.rs` holds the send path and the target it sends to (base URL, headers and
//!   error parser, built by the client from the connector); `request.rs`, `response.rs`,
//!   `credential.rs` (the `Authorization` header, built once, marked sensitive, replaceable),
//!   `retry.rs` ([`RetryPolicy`]), `pacing.rs` (rate-limit pacing from `X-RateLimit-*`) and
//!   `call.rs` (one client call's trace span and deadline).
//! - `resource.rs`: the user resource as an app holds it ([`UserId`], [`Lookup`], [`RemoteUser`],
//!   pages). `user.rs` ([`User`]): the common model, SCIM 2.0 core + enterprise attributes and a
//!   typed slot for each app's own ([`UserExtension`], `extension.rs`), with `user/changes.rs`
//!   (what differs between two users); it knows no app and no wire format.
//! - `error.rs` ([`Error`]): one error type by cause, whose `Display` always carries the HTTP
//!   status and the server's own message, with accessors that drive retries. `redact.rs` holds
//!   every masking and redaction rule server texts pass through; `error_body.rs` reads an error
//!   body knowing no app (SCIM's and Freshservice's shapes are read in their own modules).
//!   `auth.rs` ([`Authorization`]) and `base_url.rs`: credentials and URL rules.
//! - [`config`] (`config/`) builds connectors and clients from configuration files (TOML, JSON,
//!   any serde format), with secrets read from environment variables or files, and one error
//!   naming every bad field by its path.
//!
//! # Example
//!
//! ```no_run
//! use identity_connectors::{Client, Connector, FreshserviceApiKey, InteractBearer, User};
//!
//! # async fn run() -> Result<(), identity_connectors::Error> {
//! let connectors: Vec<Box<dyn Connector>> = vec![
//!     Box::new(InteractBearer::new("https://intranet.example.com/api/v2/scim/v2", "scim-token")?),
//!     Box::new(FreshserviceApiKey::new("acme", "api-key")?),
//! ];
//! let leaver = User::builder("jane.doe@example.com").email("jane.doe@example.com").build();
//! for connector in connectors {
//!     let client = Client::new(connector)?;
//!     let outcome = client.deprovision(&leaver).await?;
//!     println!("{}: {outcome}", client.connector().display_name());
//! }
//! # Ok(()) }
//! ```
//!
//! # Security
//!
//! - Credentials are held as [`secrecy::SecretString`] and turned into an `Authorization` header
//!   once, at construction. Every connector, the client and every configuration type print
//!   `[REDACTED]` in `Debug`; errors and traces never contain a credential.
//! - A credential rotates without a restart: [`Client::set_credential`] replaces the header of a
//!   running client and its clones whole (a request carries the old header or the new one, never
//!   part of each), and a [`CredentialSource`] (a connection's secret file or variable, for clients
//!   built from [`config`]) is read again after a `401`, at most once per request, the request then
//!   sent once more only if the credential changed.
//! - Transport settings are the crate's own types: extra trusted roots ([`RootCertificate`]), a
//!   client certificate for mutual TLS ([`ClientIdentity`], its key a secret) and the proxy
//!   ([`Proxy`]: the environment's by default, an explicit URL, or none). A bad PEM or proxy URL is
//!   refused when given, in words that quote neither; a proxy URL's password is redacted in `Debug`.
//! - Base URLs must be `https`. Plain `http` is accepted only for loopback hosts, through the
//!   explicit `for_loopback` constructors meant for tests and the sandbox.
//! - Redirects are not followed, so a credential is never sent to a host it was not meant for.
//! - SCIM filters and Freshservice look-ups carry e-mail addresses in the query string. Errors and
//!   traces name the endpoint by its path template (`/Users/{id}`) instead of the URL, so no query
//!   string (and no e-mail address) reaches them. [`Lookup`]'s `Debug` hides its value.
//! - Response bodies are read up to a cap (10 MiB by default) and parsed without panicking on any
//!   input; error excerpts are short and cut anything that looks like a credential.
//!
//! # Tracing
//!
//! The crate emits [`tracing`](https://docs.rs/tracing) spans and events under the target
//! `identity_connectors` and installs no subscriber. Nested, outermost first:
//!
//! | Span | Level | Fields | Covers |
//! |---|---|---|---|
//! | `operation` | INFO | `connector` ([`Connector::kind`]: `scim`, `interact`, `freshservice`), `operation` (`provision`, `deprovision`, `get`, `find`, `update`, `deactivate`, `reactivate`, `hard_delete`, `list_page`, `test_connection`; for groups `find_group`, `list_groups` (one per page), `memberships`, `grant`, `revoke`, `set_memberships`, `create_group`, `delete_group`, `replace_members`, and `revoke_memberships` within a deprovisioning) | one [`Client`] call |
//! | `http_request` | DEBUG | `connector`, `method`, `path` (the path template, such as `/Users/{id}`) | one request, every attempt |
//! | `http_attempt` | DEBUG | `attempt` (from 1), `status` (once a response arrived) | one attempt |
//!
//! | Event | Level | Fields | When |
//! |---|---|---|---|
//! | `provisioned` | INFO | `outcome` (its `Display`: `created`, `already existed, linked`, …) | [`Client::provision`] succeeded |
//! | `deprovisioned` | INFO | `outcome` | [`Client::deprovision`] succeeded |
//! | `create not confirmed; looking the user up` | INFO | `attempt`, `conflict` | a create was refused as a duplicate or its outcome is unknown |
//! | `response` | DEBUG | `status`, `elapsed_ms` | an attempt got a `2xx` |
//! | `request failed` | DEBUG | `status` (if any), `elapsed_ms`, `error_kind` ([`ErrorKind`]) | an attempt failed |
//! | `retrying` | DEBUG | `attempt`, `wait_ms`, `error_kind` | before a retry's wait |
//! | `not retrying: the wait would end after the deadline` | DEBUG | `attempt`, `wait_ms`, `error_kind` | a retry's wait would cross [`RetryPolicy::deadline`]; the error is returned |
//! | `pacing: rate-limit budget nearly spent` | DEBUG | `wait_ms` | before waiting for a rate-limit window to reset |
//! | `pacing: waiting for the first answer to show the budget` | DEBUG | `wait_ms` | the rate-limit budget is not known yet (or its window has just reset) and one request went first to learn it |
//! | `pacing: the wait would end after the deadline; not waiting` | DEBUG | `wait_ms` | the request is sent at once instead |
//! | `retrying with the replaced credential` | DEBUG | `attempt` | a `401` was answered to a credential that has since been replaced (by [`Client::set_credential`] or the [`CredentialSource`]) |
//! | `the credential source still yields the refused credential; not retrying` | DEBUG | | after a `401` |
//! | `the credential source could not be read; not retrying` | WARN | `error` (the source's error: a variable's name or a file's path, never a value) | after a `401`; the `401` is returned |
//! | `the credential source's credential cannot be sent; not retrying` | WARN | `error` | after a `401`, the source yields an empty or malformed credential |
//! | `PATCH answered with a body that is not a user` | DEBUG | `status`, `error` (an [`Error`]'s `Display`) | a SCIM `PATCH` was applied but its answer is unusable (treated like a `204`) |
//!
//! Never recorded: credentials (tokens, API keys, the `Authorization` header), URLs and query
//! strings (endpoints appear only as path templates, so no user id, e-mail address or filter),
//! request and response bodies, and user attributes. An error's `Display` is bounded and masks
//! e-mail addresses and credential-like text.
//!
//! To see them, install a subscriber in the application, for example with `tracing-subscriber`
//! (features `fmt`, `registry`, `std`):
//!
//! ```no_run
//! use tracing_subscriber::filter::{LevelFilter, Targets};
//! use tracing_subscriber::prelude::*;
//!
//! // INFO from everything, DEBUG (every HTTP attempt) from this crate.
//! let filter = Targets::new().with_default(LevelFilter::INFO).with_target("identity_connectors", LevelFilter::DEBUG);
//! tracing_subscriber::registry().with(tracing_subscriber::fmt::layer()).with(filter).init();
//! ```
//!
//! which prints lines such as
//! `DEBUG operation{connector="interact" operation="provision"}:http_request{connector="interact"
//! method="GET" path="/Users"}:http_attempt{attempt=1 status=200}: identity_connectors::http:
//! response status=200 elapsed_ms=12`.
//!
//! # Features
//!
//! - `rustls` (default): TLS through rustls.
//! - `native-tls`: TLS through the platform's library.
//! - `sandbox`: in-process fake Interact and Freshservice servers, for tests and demos.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms, unreachable_pub)]

mod auth;
mod base_url;
mod bulk;
mod client;
pub mod config;
mod connector;
mod error;
mod error_body;
mod extension;
mod flight;
pub mod freshservice;
mod group;
mod http;
pub mod interact;
mod memberships;
mod outcome;
mod redact;
mod resource;
#[cfg(feature = "sandbox")]
#[cfg_attr(docsrs, doc(cfg(feature = "sandbox")))]
pub mod sandbox;
pub mod scim;
pub mod sync;
mod user;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use auth::{Authorization, CredentialSource};
pub use bulk::{BulkFailure, BulkItem, BulkSummary};
pub use client::{Client, ClientBuilder, DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT};
pub use config::{ConfigError, ConnectionsConfig, ConnectorConfig, SecretSource};
pub use connector::Connector;
pub use error::{
    ApiError, DecodeError, EXCERPT_CHARS, Error, ErrorKind, FieldError, Result, TransportError, TransportErrorKind,
    ValidationError,
};
pub use extension::UserExtension;
pub use freshservice::{
    AgentRole, FreshserviceApiKey, FreshserviceAttributes, FreshserviceBuilderExt, FreshserviceProvisioning,
    FreshserviceUserExt, FreshserviceUserKind,
};
pub use group::{Group, GroupConnector, GroupId, GroupKey, GroupKind, GroupPage, GroupRef, NewGroup};
pub use http::{
    ClientIdentity, DEFAULT_RETRY_DEADLINE, Http, MAX_RETRY_AFTER, Method, Proxy, RateLimitStatus, Request, Response,
    RetryPolicy, RootCertificate, parse_retry_after,
};
pub use interact::{
    INTERACT_USER_SCHEMA, InteractAttributes, InteractBearer, InteractBuilderExt, InteractName, InteractUserExt,
    LoginType,
};
pub use memberships::{CreatedGroup, DeprovisionPolicy, Deprovisioned, MembershipChange};
pub use outcome::{
    ConnectionReport, DeprovisionOutcome, ProvisionOutcome, ProvisionPolicy, ProvisionStep, Provisioned, UpdateOutcome,
};
pub use resource::{Lookup, PageRequest, PageToken, RemoteUser, UserId, UserPage};
pub use scim::ScimBearer;
pub use user::{
    CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, EnterpriseAttributes, Manager, MultiValue, Name, User, UserBuilder,
};

/// The extension traits that give [`User`] and [`UserBuilder`] each app's shorthands
/// (`User::builder(..).interact(..)`, `user.freshservice()`): `use identity_connectors::prelude::*;`.
pub mod prelude {
    pub use crate::freshservice::{FreshserviceBuilderExt, FreshserviceUserExt};
    pub use crate::interact::{InteractBuilderExt, InteractUserExt};
}
