//! SCIM groups (RFC 7643 §4.2) from the client's side: the group primitives every SCIM connector
//! provides through [`GroupConnector`](crate::GroupConnector), as functions a connector for
//! another SCIM app can reuse.
//!
//! | primitive | SCIM request |
//! |---|---|
//! | find by name | `GET /Groups?filter=displayName eq "…"&excludedAttributes=members` |
//! | find by id | `GET /Groups/{id}?excludedAttributes=members` (`404`: none) |
//! | list | `GET /Groups?startIndex=…&count=…&excludedAttributes=members` |
//! | memberships | `GET /Groups?filter=members[value eq "…"]&startIndex=…&count=100&excludedAttributes=members`, trusted only as far as it proves membership; else the person's read-only `groups` (`GET /Users/{id}?attributes=groups`), else the groups read with their members (see [below](#when-the-filter-misleads)) |
//! | add a member | `PATCH /Groups/{id}` `{"op":"add","path":"members","value":[{"value":"…"}]}` |
//! | remove a member | `PATCH /Groups/{id}` `{"op":"remove","path":"members[value eq \"…\"]"}` |
//! | replace every member (explicit only) | `PATCH /Groups/{id}` `{"op":"replace","path":"members","value":[…]}` |
//! | create | `POST /Groups` |
//! | delete (explicit only) | `DELETE /Groups/{id}` |
//!
//! | add, remove or replace members on a server without `PATCH` (per discovery) | none: [`Error::Unsupported`] |
//!
//! Members are not downloaded: every read asks `excludedAttributes=members`, so a group of
//! 50 000 people costs what a group of one does (the one exception is the last resort below).
//! Answers are checked locally where they can be (a name look-up keeps only groups whose
//! `displayName` equals the name; a membership answer that carries members anyway keeps only
//! groups that list the person).
//!
//! # When the filter misleads
//!
//! Some servers refuse the `members[value eq "…"]` filter, and some ignore it (answering every
//! group) while declaring `filter.supported`. Without members in the answer, every group would
//! then look like a membership; so an answer is trusted only as far as it proves something:
//!
//! - a group counts as a membership when its `members` (sent anyway) list the person, or when
//!   the server is known to apply the filter: a probe for a member no server has
//!   (`GET /Groups?filter=members[value eq "identity-connectors-probe"]&startIndex=1&count=1&excludedAttributes=members`)
//!   comes back empty. It is sent only when an answer holds groups without their members, and
//!   its verdict is kept with the connector's discovery (once per connector; again after
//!   [`Client::refresh_discovery`](crate::Client::refresh_discovery));
//! - when the filter is refused or ignored, the person's read-only `groups` decides
//!   (`GET /Users/{id}?attributes=groups`, RFC 7643 §4.1.2); a server that leaves that attribute
//!   out (scim2-server does) has its groups read with their members
//!   (`GET /Groups?startIndex=…&count=20&attributes=displayName,members`), up to the connector's
//!   scan limit, beyond which the read is [`Error::LookupIncomplete`], never "no memberships";
//! - a name look-up whose answer holds a group of another name (the filter was ignored) reads the
//!   following pages too, and one whose filter is refused lists every group; both up to the scan
//!   limit.

use serde_json::{Map, Value, json};

use crate::error::{Error, FieldError, Result};
use crate::group::{Group, GroupKey, GroupKind, GroupRef, NewGroup};
use crate::http::{Http, Request};
use crate::resource::RemoteUser;
use crate::scim::core::DEFAULT_SCAN_PAGES;
use crate::scim::discovery::ServerCapabilities;
use crate::scim::group_reads::{self, ReadLimits};
use crate::scim::{Filter, PatchOp, SCIM_CONTENT_TYPE};

pub use crate::scim::group_reads::PROBE_MEMBER;
use crate::scim::group_wire::one;
pub use crate::scim::group_wire::{MAX_PAGE_SIZE, get_group, list_groups};

/// The URN of the core SCIM Group schema.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// A validation error unless `kind` is SCIM's one kind of group.
pub fn check_kind(kind: Option<GroupKind>) -> Result<()> {
    match kind {
        None | Some(GroupKind::Group) => Ok(()),
        Some(other) => Err(Error::invalid_input(
            format!("SCIM has no {other}s: name a plain group"),
            vec![FieldError::new("kind", "SCIM groups are of kind Group")],
        )),
    }
}

/// The `Group` answer of a connector call, or a validation error for another kind.
fn scim_group(group: &Group) -> Result<&Group> {
    check_kind(Some(group.kind))?;
    Ok(group)
}

/// Finds the group `group` names: by id (`Ok(None)` for an unknown one) or by `displayName`,
/// compared as SCIM does (case-insensitively); among several, the one whose name matches exactly
/// wins, and otherwise the name is [`Error::Ambiguous`].
pub async fn find_group(http: &Http, group: &GroupRef) -> Result<Option<Group>> {
    find_group_within(http, group, DEFAULT_SCAN_PAGES).await
}

/// [`find_group`], reading at most `scan_limit` pages when the server ignores or refuses the
/// filter.
pub(crate) async fn find_group_within(http: &Http, group: &GroupRef, scan_limit: u32) -> Result<Option<Group>> {
    check_kind(group.kind())?;
    let name = match group.key() {
        GroupKey::Id(id) => {
            return match get_group(http, id).await {
                Ok(found) => Ok(Some(found)),
                Err(Error::NotFound(_)) => Ok(None),
                Err(error) => Err(error),
            };
        }
        GroupKey::Name(name) => name,
    };
    let limits = ReadLimits { cache: None, scan_limit };
    let mut hits = group_reads::groups_named(http, name, limits).await?;
    if hits.len() > 1 {
        hits.retain(|g| g.display_name == *name);
    }
    match hits.len() {
        0 => Ok(None),
        1 => Ok(hits.pop()),
        matches => Err(Error::Ambiguous { attribute: "group displayName", matches }),
    }
}

/// Every group `member` belongs to directly, trusting the server's answer only as far as it
/// proves membership (see [the module documentation](self#when-the-filter-misleads)). Without
/// a connector to remember it in, the probe is sent again on every read that needs it.
pub async fn memberships(http: &Http, member: &RemoteUser) -> Result<Vec<Group>> {
    group_reads::memberships(http, member, ReadLimits { cache: None, scan_limit: DEFAULT_SCAN_PAGES }).await
}

/// [`Error::Unsupported`] when discovery says the server has no `PATCH`: members are changed
/// only with `PATCH` (a `PUT` of the group would replace every member), so nothing is sent.
pub(crate) fn check_patch(capabilities: &ServerCapabilities, connector: &str) -> Result<()> {
    if capabilities.patch == Some(false) {
        return Err(Error::unsupported(connector, "changing group members on a server without PATCH"));
    }
    Ok(())
}

/// The `scimType` of an error response, whichever variant the status made it.
fn scim_type(error: &Error) -> Option<&str> {
    match error {
        Error::Validation(invalid) => invalid.code.as_deref(),
        other => other.api_error().and_then(|api| api.code.as_deref()),
    }
}

async fn patch_group(http: &Http, group: &Group, patch: &PatchOp) -> Result<()> {
    let url = http.endpoint(&["Groups", scim_group(group)?.id.as_str()])?;
    http.send(Request::patch(url, "/Groups/{id}").json(SCIM_CONTENT_TYPE, patch)?).await.map(drop)
}

/// Adds `member` to `group`: `PATCH` `add` of `members`. Adding a present member changes nothing
/// on a conforming server; a `409` ("already a member") counts as done.
pub async fn add_member(http: &Http, group: &Group, member: &RemoteUser) -> Result<()> {
    let patch = PatchOp::new().add("members", json!([{ "value": member.id.as_str() }]));
    match patch_group(http, group, &patch).await {
        Err(error) if error.is_conflict() => Ok(()),
        other => other,
    }
}

/// Removes `member` from `group`: `PATCH` `remove` with path `members[value eq "…"]`. A `400
/// noTarget` (the filter matched no member: they are not one) counts as done.
pub async fn remove_member(http: &Http, group: &Group, member: &RemoteUser) -> Result<()> {
    let path = Filter::value_path("members", Filter::eq("value", member.id.as_str())?)?;
    let patch = PatchOp::new().remove(path.as_str());
    match patch_group(http, group, &patch).await {
        Err(error) if scim_type(&error).is_some_and(|t| t.eq_ignore_ascii_case("noTarget")) => Ok(()),
        other => other,
    }
}

/// Replaces every member of `group` with `members`: `PATCH` `replace` of `members` (an empty
/// list removes everyone). Only for an explicit caller request.
pub async fn replace_members(http: &Http, group: &Group, members: &[RemoteUser]) -> Result<()> {
    let values: Vec<Value> = members.iter().map(|m| json!({ "value": m.id.as_str() })).collect();
    patch_group(http, group, &PatchOp::new().replace("members", Value::Array(values))).await
}

/// The `POST /Groups` body of `group`: `schemas` (core Group, then each extension's URN),
/// `displayName`, `externalId` when set, and each extension object under its URN.
pub fn group_body(group: &NewGroup) -> Result<Value> {
    check_kind(group.kind())?;
    let mut schemas = vec![Value::from(GROUP_SCHEMA)];
    let mut body = Map::new();
    body.insert("displayName".into(), Value::from(group.display_name()));
    if let Some(external_id) = group.external_id() {
        body.insert("externalId".into(), Value::from(external_id));
    }
    for (urn, attributes) in group.extensions() {
        schemas.push(Value::from(urn));
        body.insert(urn.to_string(), Value::Object(attributes.clone()));
    }
    body.insert("schemas".into(), Value::Array(schemas));
    Ok(Value::Object(body))
}

/// `POST /Groups` with [`group_body`]. An existing name is [`Error::Conflict`] where the server
/// enforces uniqueness.
pub async fn create_group(http: &Http, group: &NewGroup) -> Result<Group> {
    let body = group_body(group)?;
    let url = http.endpoint(&["Groups"])?;
    let response = http.send(Request::post(url, "/Groups").json(SCIM_CONTENT_TYPE, &body)?).await?;
    Ok(one(&response)?.group)
}

/// `DELETE /Groups/{id}`; a group already gone (`404`) counts as deleted.
pub async fn delete_group(http: &Http, group: &Group) -> Result<()> {
    let url = http.endpoint(&["Groups", scim_group(group)?.id.as_str()])?;
    match http.send(Request::delete(url, "/Groups/{id}")).await {
        Ok(_) | Err(Error::NotFound(_)) => Ok(()),
        Err(error) => Err(error),
    }
}

/// Implements [`GroupConnector`](crate::GroupConnector) for a SCIM connector type through the
/// functions of this module (every SCIM connector has the same groups).
macro_rules! scim_group_connector {
    ($connector:ty) => {
        impl $connector {
            /// [`Error::Unsupported`](crate::Error::Unsupported) when discovery says the server has
            /// no `PATCH`.
            async fn check_patch(&self, http: &$crate::http::Http) -> $crate::error::Result<()> {
                let capabilities = self.core.capabilities(http).await;
                $crate::scim::groups::check_patch(&capabilities, &$crate::Connector::display_name(self))
            }
        }

        #[async_trait::async_trait]
        impl $crate::group::GroupConnector for $connector {
            /// SCIM has one kind of group.
            fn check_group_ref(&self, group: &$crate::group::GroupRef) -> $crate::error::Result<()> {
                $crate::scim::groups::check_kind(group.kind())
            }

            async fn find_group(
                &self,
                http: &$crate::http::Http,
                group: &$crate::group::GroupRef,
            ) -> $crate::error::Result<Option<$crate::group::Group>> {
                $crate::scim::groups::find_group_within(http, group, self.core.scan_limit).await
            }

            async fn list_groups(
                &self,
                http: &$crate::http::Http,
                kind: Option<$crate::group::GroupKind>,
                page: &$crate::resource::PageRequest,
            ) -> $crate::error::Result<$crate::group::GroupPage> {
                $crate::scim::groups::check_kind(kind)?;
                $crate::scim::groups::list_groups(http, page).await
            }

            async fn memberships(
                &self,
                http: &$crate::http::Http,
                member: &$crate::resource::RemoteUser,
            ) -> $crate::error::Result<Vec<$crate::group::Group>> {
                let limits = $crate::scim::group_reads::ReadLimits {
                    cache: Some(&self.core.discovery),
                    scan_limit: self.core.scan_limit,
                };
                $crate::scim::group_reads::memberships(http, member, limits).await
            }

            async fn add_member(
                &self,
                http: &$crate::http::Http,
                group: &$crate::group::Group,
                member: &$crate::resource::RemoteUser,
            ) -> $crate::error::Result<()> {
                self.check_patch(http).await?;
                $crate::scim::groups::add_member(http, group, member).await
            }

            async fn remove_member(
                &self,
                http: &$crate::http::Http,
                group: &$crate::group::Group,
                member: &$crate::resource::RemoteUser,
            ) -> $crate::error::Result<()> {
                self.check_patch(http).await?;
                $crate::scim::groups::remove_member(http, group, member).await
            }

            async fn replace_members(
                &self,
                http: &$crate::http::Http,
                group: &$crate::group::Group,
                members: &[$crate::resource::RemoteUser],
            ) -> $crate::error::Result<()> {
                self.check_patch(http).await?;
                $crate::scim::groups::replace_members(http, group, members).await
            }

            async fn create_group(
                &self,
                http: &$crate::http::Http,
                group: &$crate::group::NewGroup,
            ) -> $crate::error::Result<$crate::group::Group> {
                $crate::scim::groups::create_group(http, group).await
            }

            async fn delete_group(
                &self,
                http: &$crate::http::Http,
                group: &$crate::group::Group,
            ) -> $crate::error::Result<()> {
                $crate::scim::groups::delete_group(http, group).await
            }
        }
    };
}
pub(crate) use scim_group_connector;

scim_group_connector!(crate::scim::ScimBearer);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_carry_the_group_and_its_extensions() {
        let mut ext = Map::new();
        ext.insert("a".into(), json!(true));
        let group = NewGroup::new("Sales")
            .unwrap()
            .with_external_id("hr-1")
            .unwrap()
            .with_extension("urn:x:Group", ext)
            .unwrap();
        assert_eq!(
            group_body(&group).unwrap(),
            json!({"schemas": [GROUP_SCHEMA, "urn:x:Group"], "displayName": "Sales", "externalId": "hr-1",
                   "urn:x:Group": {"a": true}})
        );
        assert!(group_body(&NewGroup::new("x").unwrap().of_kind(GroupKind::AgentRole)).is_err());
    }
}
