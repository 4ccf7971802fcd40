//! Freshservice, through its REST API v2 with an admin's API key.
//!
//! The API key is sent as HTTP Basic auth with the key as user name and `X` as password. API v2
//! answers only on `https://<name>.freshservice.com/api/v2`, never on a custom (CNAME) domain.
//!
//! # Requesters and agents
//!
//! A Freshservice user is a *requester* (an employee who raises tickets) or an *agent* (IT staff
//! who work them). A [`User`](crate::User) becomes a requester unless its [`FreshserviceAttributes::kind`] or
//! the connector's [`with_default_kind`](FreshserviceApiKey::with_default_kind) says agent; an
//! agent is created with its roles (at least one), its `occasional` flag and, where given, its
//! group memberships. The connector's default applies when a user is created; an explicit
//! [`FreshserviceAttributes::kind`] that differs from an existing user's converts them
//! (`PUT /requesters/{id}/convert_to_agent` or `PUT /agents/{id}/convert_to_requester`; the id
//! stays the same).
//!
//! # Mapping
//!
//! | [`User`](crate::User) | Freshservice |
//! |---|---|
//! | given name (else the e-mail's local part) | `first_name` |
//! | family name | `last_name` |
//! | [`primary_email`](crate::User::primary_email), other e-mails | `primary_email` (agents: `email`), `secondary_emails` (requesters) |
//! | `title` | `job_title` |
//! | `work` / `mobile` phone | `work_phone_number` / `mobile_phone_number` |
//! | enterprise `department` (a name) | `department_ids`, resolved through `GET /departments` |
//! | enterprise `manager.value` (a user id, or an e-mail address) | `reporting_manager_id` |
//! | [`FreshserviceAttributes::location`] (a name) | `location_id`, resolved through `GET /locations` |
//! | `timezone` (a Rails name such as `Edinburgh`) | `time_zone` |
//! | `preferred_language` (such as `en`, `pt-BR`) | `language` |
//! | enterprise `employee_number` | a custom field, see [`with_employee_number_field`](FreshserviceApiKey::with_employee_number_field) |
//! | [`FreshserviceAttributes::custom_fields`] | `custom_fields` |
//!
//! Attributes Freshservice has no field for (`externalId`, `displayName`, `locale`, …) are not
//! sent. Read back, every field the model has no place for is kept in
//! [`FreshserviceAttributes::extra`] (including the raw `department_ids` and `location_id`).
//!
//! Department and location lists are fetched once per connector (all pages) the first time a name
//! is needed (to send one, or to name the department or location of a user read back) and cached;
//! a name that is not in them is a validation error naming it, and nothing is sent. Build a new
//! connector to pick up departments or locations created since. Names match exactly, or else
//! case-insensitively.
//!
//! # Requests
//!
//! - Look-up by e-mail: `GET /requesters?email=…&include_agents=true`, exact case-insensitive match
//!   on the e-mail; an agent found so is read again through `GET /agents/{id}` (for its roles).
//!   Nothing found: `GET /agents?email=…`.
//! - Provisioning a new person: `GET /requesters?email=…&include_agents=true` (which shows agents
//!   too), then the create: 2 requests. Under [`FreshserviceProvisioning::CreateFirst`], the create
//!   alone: 1 request. A create refused with `duplicate_value` runs the full look-up above and
//!   links the person found.
//! - By id: `GET /requesters/{id}`; on `404` (or a record that says `is_agent`), `GET /agents/{id}`.
//!   Deactivation, reactivation, deletion and updates without a known current state read the user
//!   this way first, to learn whether they are a requester or an agent, and to succeed without a
//!   request when the user already is as asked.
//! - Deactivate: `DELETE /requesters/{id}` (`204`) or `DELETE /agents/{id}` (`200` with the agent).
//!   Reactivate: `PUT …/{id}/reactivate`.
//! - Delete ([`Client::hard_delete`](crate::Client::hard_delete) only): `DELETE …/{id}/forget`.
//!   **This is irreversible and also deletes every ticket the person requested.** Deprovisioning
//!   deactivates instead.
//! - Update: `PUT …/{id}` with only the fields that change, always with
//!   `can_see_all_tickets_from_associated_departments` (Freshservice resets it to `false` when a
//!   `PUT` omits it). Nothing is sent when no Freshservice field changes.
//! - Listing: `GET /requesters?per_page=…&page=…&include_agents=true` (at most 100 per page),
//!   following the `Link: <…>; rel="next"` header, which must stay on the instance's host. Agents
//!   in a listing carry the requester view (no roles); [`Client::get`](crate::Client::get) reads
//!   their agent record.
//! - Connection test: `GET /requesters?per_page=1`.

mod attributes;
mod body;
mod connector;
pub(crate) mod error;
mod groups;
mod instance;
mod names;
mod users;
pub(crate) mod wire;

pub use attributes::{
    AgentRole, FreshserviceAttributes, FreshserviceBuilderExt, FreshserviceUserExt, FreshserviceUserKind,
};
pub use connector::{FreshserviceApiKey, FreshserviceProvisioning};
pub(crate) use instance::{Misplaced, argument_order_problem};
