//! In-process fake Interact (SCIM) and Freshservice servers, for tests and the quickstart.
//!
//! Behind the `sandbox` feature; off by default, so library users pay nothing for it.
//!
//! Each sandbox is a real HTTP/1.1 server (hyper) on `127.0.0.1` with a random free port, running
//! on the current tokio runtime and keeping its data in memory. It stops, closing every
//! connection, when dropped. Use it to try the crate without an account, or to test a
//! provisioning service's joiner/mover/leaver flows against something that behaves like the real
//! API, failures included.
//!
//! ```
//! use identity_connectors::sandbox::{FreshserviceSandbox, ScimSandbox};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let interact = ScimSandbox::start().await?;
//! let freshservice = FreshserviceSandbox::start().await?;
//! let interact_connector = interact.interact_connector()?; // an `InteractBearer`
//! let freshservice_connector = freshservice.connector()?; // a `FreshserviceApiKey`
//! // … drive them through `Client`, then inspect what the servers stored:
//! assert_eq!(interact.user_count(), 0);
//! assert_eq!(freshservice.stats().requests, 0);
//! # let _ = (interact_connector, freshservice_connector);
//! # Ok(()) }
//! ```
//!
//! # The SCIM side ([`ScimSandbox`], plays Interact)
//!
//! Base URL `http://127.0.0.1:<port>/scim/v2`. It reproduces what the `scim2-server` reference
//! peer (0.8.3) does, so code that passes against one passes against the other, and it passes
//! every check of python-scim's conformance checker (`scim2 test`, scim2-tester 0.5.2):
//!
//! - Discovery (RFC 7644 §4): `GET /ServiceProviderConfig` (patch, filter and ETags supported;
//!   no bulk, sort or password change), `GET /ResourceTypes[/User]` and `GET /Schemas[/{urn}]`,
//!   rendered from the attributes the server enforces: the core User schema, the enterprise
//!   extension and Interact's. Other methods on them → `405`; an unknown id → `404`.
//! - `Authorization: Bearer <token>` on everything but `GET /ServiceProviderConfig`; otherwise
//!   `401` with `WWW-Authenticate: Bearer realm="SCIM"` and a SCIM error body.
//! - `POST /Users` → `201` with `Location`, `ETag: W/"<n>"` and the full resource (32-hex `id`,
//!   `meta`). A `userName` already taken, compared case-insensitively, → `409`
//!   `{"status":"409","scimType":"uniqueness",…}` (unless turned off with
//!   [`enforce_unique_user_names(false)`](ScimSandboxBuilder::enforce_unique_user_names)).
//! - Bodies are `application/scim+json` or `application/json` (else `415`). Attribute names are
//!   case-insensitive; unknown attributes → `400 invalidSyntax` ("Extra inputs are not
//!   permitted"); a missing `userName` → `400 invalidValue`; malformed JSON → `400
//!   invalidSyntax`. `id`, `meta`, `schemas` and read-only attributes (`groups`,
//!   `manager.displayName`) in a body are ignored. Known schemas: core User, the enterprise
//!   extension and Interact's `urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:User`
//!   (`loginType`, `location`, `jobStartDate`, `forcePasswordReset`, `omitFromSearch`,
//!   `pronouns`, `dateOfBirth`, `name.title`, `name.initials`). `password` is stored but never
//!   returned (`returned: never`).
//! - `GET /Users/{id}`, `PUT /Users/{id}` (a true replace: attributes not sent are removed),
//!   `DELETE /Users/{id}` (`204`, then `404`). `If-Match` with a stale ETag → `412`;
//!   `If-None-Match` with the current one → `304`.
//! - `PATCH /Users/{id}` → `204` with no body (`200` with the resource only when `attributes=` or
//!   `excludedAttributes=` is given). Operations are atomic and `op` is case-insensitive. Paths:
//!   simple (`active`, `title`), sub-attributes (`name.givenName`), value filters
//!   (`emails[type eq "work"].value`; no match → `400 noTarget`), URN-prefixed extension
//!   attributes, and a whole extension object (its URN). Path-less `add`/`replace` take an
//!   object whose keys may be attributes, dotted or URN-prefixed paths, or extension URNs. A
//!   read-only attribute → `400 mutability`. `"True"`/`"False"` strings are accepted as booleans.
//! - `GET /Users` → a ListResponse (`totalResults`, `startIndex`, `itemsPerPage`, `Resources`,
//!   always present) with `filter` (`eq ne co sw ew gt ge lt le pr`, `and`, `or`, `not`,
//!   parentheses, `emails[type eq "work"]`), compared case-insensitively except `id` and
//!   `externalId`; an unparsable filter → `400 invalidFilter`. `startIndex` (1-based, values
//!   below 1 mean 1) and `count` (negative means 0; capped by
//!   [`max_results`](ScimSandboxBuilder::max_results), 1000 by default) paginate in creation
//!   order. `POST /Users/.search` and `POST /.search` take the same query as a SearchRequest.
//!
//! [`ScimProfile`]s, chosen with [`ScimSandboxBuilder::profile`], play the ways real servers
//! differ: no PATCH, no filter, a filter ignored with paging, no ETags, a read-only
//! `externalId`, no enterprise extension, case-sensitive `userName`, no discovery endpoints,
//! and garbage discovery documents. [`ScimProfile::ALL`] lists them for test suites.
//!
//! # The Freshservice side ([`FreshserviceSandbox`])
//!
//! Base URL `http://127.0.0.1:<port>/api/v2`, following the API v2 documentation:
//!
//! - `Authorization: Basic base64("<api key>:<anything>")`; otherwise `401`
//!   `{"code":"invalid_credentials",…}`. `Accept` must allow `application/json` (else `406`);
//!   bodies must be `application/json` (else `415`).
//! - `POST /requesters` and `POST /agents` → `201` `{"requester":{…}}` / `{"agent":{…}}` with
//!   `Location` and large integer ids. Requesters need `first_name` and one of `primary_email`,
//!   `work_phone_number`, `mobile_phone_number`; agents need `first_name`, `email` and at least
//!   one role. Unknown (or deprecated, or read-only) fields → `400 invalid_field`; wrong types →
//!   `datatype_mismatch`; unknown department, location, manager or role ids → `invalid_value`.
//!   An e-mail already used by any user (requester or agent, primary or secondary, compared
//!   case-insensitively) → `409`
//!   `{"description":"Validation failed","errors":[{"field":"primary_email",…,"code":"duplicate_value"}]}`.
//! - `GET /{requesters|agents}/{id}`; `PUT /{…}/{id}` (partial update; it resets
//!   `can_see_all_tickets_from_associated_departments` to `false` unless the body sends `true`,
//!   as Freshservice does); `DELETE /requesters/{id}` deactivates with `204` and no body,
//!   `DELETE /agents/{id}` deactivates with `200` `{"agent":{…,"active":false}}`; `PUT
//!   /{…}/{id}/reactivate` → `200`; `DELETE /{…}/{id}/forget` → `204`, gone for good; `PUT
//!   /requesters/{id}/convert_to_agent` (an occasional agent with the SD Agent role) and `PUT
//!   /agents/{id}/convert_to_requester` keep the id. An agent's id under `/requesters` (and the
//!   reverse) is `404`.
//! - `GET /requesters` and `GET /agents`, sorted by first name, with `?email=` (case-insensitive,
//!   primary address), `?work_phone_number=`, `?mobile_phone_number=`, `?include_agents=true`
//!   (requesters), `?active=` and `?state=fulltime|occasional` (agents). Deactivated users are
//!   listed (with `active: false`). `page` and `per_page` (default 30, more than 100 → `400`);
//!   `Link: <http://127.0.0.1:<port>/api/v2/…&page=N&per_page=M>; rel="next"` while more pages
//!   exist. `query=` is not implemented there (`400`).
//! - `GET /departments`, `/locations` and `/roles` (and `/{id}`), with `query="name:'…'"` on the
//!   lists. Seeded with Finance, Engineering and Sales; London and Berlin; Account Admin, Admin,
//!   SD Supervisor and SD Agent (add more with the builder).
//! - Requester groups (seeded Employees, Contractors): `GET /requester_groups` (paged) and
//!   `/{id}`; `GET /requester_groups/{id}/members` → `{"requesters":[…]}` (paged);
//!   `POST /requester_groups/{id}/members/{requester_id}` → `201` with no body (`409
//!   duplicate_value` for a member already in, `404` for an unknown group or requester);
//!   `DELETE` on the same path → `204` (`404` when not a member). Forgetting a requester, or
//!   converting them to an agent, takes them out of every requester group.
//! - Agent groups (seeded Service Desk, Hardware, Network): `GET /groups` (paged) and `/{id}`,
//!   whose `members` and `observers` are the agents whose `member_of` / `observer_of` name the
//!   group; unknown group ids in those fields → `invalid_value`.
//! - A request budget per window (100 per 60 s by default, configurable): every response carries
//!   `X-RateLimit-Total`, `X-RateLimit-Remaining` and `X-RateLimit-Used-CurrentRequest`; past the
//!   budget the answer is `429` with `Retry-After` in seconds until the window resets.
//!
//! # Faults, budgets and inspection (both sides)
//!
//! [`Faults`] answers a seeded share of requests with `429` + `Retry-After`, `503`, a closed
//! connection, a delay, or a closed connection *after* the request was applied
//! ([`Fault::DropAfterCommit`]). A [`RateLimit`] can be set on either side. For assertions,
//! [`SandboxStats`] counts requests, responses by status, faults by kind and budget rejections,
//! [`RequestRecord`]s list every request in order, and the sandboxes read their stored users
//! directly (`user_count`, `user_by_user_name`, `user_by_email`, `users`).

// Layout: `server` (the hyper plumbing) and `gate` (faults, budget, counters) serve both sides;
// `scim/` and `freshservice/` hold one sandbox each: the sandbox and its builder in `mod.rs`,
// routing in `api.rs`, users in `store.rs`, and one file per engine or table beside them.
mod freshservice;
mod gate;
mod rng;
mod scim;
mod server;

pub use freshservice::{FreshserviceSandbox, FreshserviceSandboxBuilder};
pub use gate::{Fault, FaultKind, Faults, RateLimit, RequestRecord, SandboxStats};
pub use scim::{ScimProfile, ScimSandbox, ScimSandboxBuilder};
