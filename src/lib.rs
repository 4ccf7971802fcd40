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
//! - [`Connector`] (`connector.rs`) is what one app must provide: its normalised base URL, its
//!   `Authorization` header, and seven user primitives (create, get, find, update, set active,
//!   delete, list a page) mapped onto its API. Connectors are object safe, so a service can keep
//!   `Vec<Box<dyn Connector>>` built from configuration.
//! - [`Client`] (`client.rs`) is what a service calls. It owns everything that is the same for
//!   every app: idempotent [`provision`](Client::provision) (look up by the connector's match key,
//!   then link, reactivate, update or create; reconcile "already exists" and lost responses by
//!   looking up again), [`deprovision`](Client::deprovision) that succeeds for people already
//!   inactive or gone, and [`list`](Client::list) as a stream bounded by one page.
//! - [`Http`] (`http.rs`) is the one request path every connector sends through: authorisation
//!   header (marked sensitive), timeout, response-size cap, retries per [`RetryPolicy`],
//!   rate-limit pacing from `X-RateLimit-*` headers, an in-flight cap, typed errors and tracing.
//! - [`User`] (`user.rs`) is the common user model: SCIM 2.0 core + enterprise attributes with
//!   typed places for connector-specific ones, serialising to exactly the SCIM JSON.
//! - [`Error`] (`error.rs`) is one error type by cause, whose `Display` always carries the HTTP
//!   status and the server's own message, with accessors that drive retries.
//! - Protocol and app modules: [`scim`] (filters, PATCH, lenient parsing, shared by every SCIM
//!   app), [`interact`] and [`freshservice`].
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
//! - Base URLs must be `https`. Plain `http` is accepted only for loopback hosts, through the
//!   explicit `for_loopback` constructors meant for tests and the sandbox.
//! - Redirects are not followed, so a credential is never sent to a host it was not meant for.
//! - SCIM filters and Freshservice look-ups carry e-mail addresses in the query string. Errors and
//!   traces name the endpoint by its path template (`/Users/{id}`) instead of the URL, so no query
//!   string (and no e-mail address) reaches them. [`Lookup`]'s `Debug` hides its value.
//! - Response bodies are read up to a cap (10 MiB by default) and parsed without panicking on any
//!   input; error excerpts are short and cut anything that looks like a credential.
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
mod connector;
mod error;
pub mod freshservice;
mod http;
pub mod interact;
mod retry;
#[cfg(feature = "sandbox")]
#[cfg_attr(docsrs, doc(cfg(feature = "sandbox")))]
pub mod sandbox;
pub mod scim;
mod user;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use auth::Authorization;
pub use bulk::{BulkFailure, BulkItem, BulkSummary};
pub use client::{
    Client, ClientBuilder, DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, DeprovisionOutcome,
    ProvisionOutcome, ProvisionPolicy, Provisioned, UpdateOutcome,
};
pub use connector::{Connector, Lookup, PageRequest, PageToken, RemoteUser, UserId, UserPage};
pub use error::{
    ApiError, DecodeError, EXCERPT_CHARS, Error, ErrorKind, FieldError, Result, TransportError, TransportErrorKind,
    ValidationError,
};
pub use freshservice::{AgentRole, FreshserviceApiKey, FreshserviceAttributes, FreshserviceUserKind};
pub use http::{Http, MAX_RETRY_AFTER, Method, RateLimitStatus, Request, Response, parse_retry_after};
pub use interact::{InteractAttributes, InteractBearer, InteractName, LoginType};
pub use retry::RetryPolicy;
pub use scim::ScimBearer;
pub use user::{
    CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, EnterpriseAttributes, INTERACT_USER_SCHEMA, Manager, MultiValue, Name,
    User, UserBuilder,
};
