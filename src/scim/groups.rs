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

use crate::error::{DecodeError, Error, FieldError, Result};
use crate::group::{Group, GroupId, GroupKey, GroupKind, GroupPage, GroupRef, NewGroup};
use crate::http::{Http, Request, Response};
use crate::resource::{PageRequest, PageToken, RemoteUser};
use crate::scim::codec::{field, string};
use crate::scim::core::DEFAULT_SCAN_PAGES;
use crate::scim::discovery::ServerCapabilities;
use crate::scim::group_reads::{self, ReadLimits};
use crate::scim::{Filter, PatchOp, SCIM_CONTENT_TYPE};

pub use crate::scim::group_reads::PROBE_MEMBER;

/// The URN of the core SCIM Group schema.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The largest page [`list_groups`] asks for.
pub const MAX_PAGE_SIZE: u32 = 1000;
const NO_MEMBERS: &str = "excludedAttributes=members";

/// A group resource as read: its id, name and, if the server sent them anyway, its members' ids.
pub(crate) struct GroupRecord {
    pub(crate) group: Group,
    pub(crate) members: Option<Vec<String>>,
}

pub(crate) fn decode(response: &Response, message: impl Into<String>) -> Error {
    // No excerpt: group bodies may list people.
    DecodeError::new(Some(response.status()), message, &[]).into()
}

fn record(value: &Value) -> std::result::Result<GroupRecord, String> {
    let map = value.as_object().ok_or("a SCIM group must be a JSON object")?;
    let id = field(map, "id").and_then(string).filter(|s| !s.is_empty()).ok_or("the SCIM group has no `id`")?;
    let name = field(map, "displayName").and_then(string).ok_or("the SCIM group has no `displayName`")?;
    let members = match field(map, "members") {
        Some(Value::Array(items)) => {
            Some(items.iter().filter_map(|m| m.as_object().and_then(|m| field(m, "value")).and_then(string)).collect())
        }
        _ => None,
    };
    Ok(GroupRecord { group: Group::new(GroupKind::Group, GroupId::new(id), name), members })
}

fn one(response: &Response) -> Result<GroupRecord> {
    let value: Value = response.json()?;
    record(&value).map_err(|message| decode(response, message))
}

/// The groups of a list response and its `totalResults`.
pub(crate) fn many(response: &Response) -> Result<(Vec<GroupRecord>, Option<u64>)> {
    let value: Value = response.json()?;
    let Value::Object(map) = value else {
        return Err(decode(response, "a SCIM list response must be a JSON object"));
    };
    let total = match field(&map, "totalResults") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let records = match field(&map, "Resources") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| record(item).map_err(|m| decode(response, format!("resource #{i} of the list: {m}"))))
            .collect::<Result<_>>()?,
        Some(_) => return Err(decode(response, "`Resources` in a SCIM list response must be a list")),
    };
    Ok((records, total))
}

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

/// `GET /Groups?filter=…&excludedAttributes=members`, plus `extra` query pairs. A `404` answer is
/// taken as "none", as for users.
pub(crate) async fn search(http: &Http, filter: &Filter, extra: &str) -> Result<(Vec<GroupRecord>, Option<u64>)> {
    let mut url = http.endpoint(&["Groups"])?;
    url.set_query(Some(&format!("filter={}{extra}&{NO_MEMBERS}", filter.to_query_value())));
    match http.send(Request::get(url, "/Groups")).await {
        Ok(response) => many(&response),
        Err(Error::NotFound(_)) => Ok((Vec::new(), Some(0))),
        Err(error) => Err(error),
    }
}

/// `GET /Groups/{id}?excludedAttributes=members`. An unknown id is [`Error::NotFound`].
pub async fn get_group(http: &Http, id: &GroupId) -> Result<Group> {
    let mut url = http.endpoint(&["Groups", id.as_str()])?;
    url.set_query(Some(NO_MEMBERS));
    Ok(one(&http.send(Request::get(url, "/Groups/{id}")).await?)?.group)
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

/// One page of groups: `GET /Groups?startIndex=…&count=…&excludedAttributes=members`. The token
/// is the next 1-based `startIndex`, as for users; the size is clamped to `1..=`[`MAX_PAGE_SIZE`].
pub async fn list_groups(http: &Http, page: &PageRequest) -> Result<GroupPage> {
    let start = match &page.token {
        None => 1,
        Some(token) => token.as_str().parse::<u64>().ok().filter(|s| *s >= 1).ok_or_else(|| {
            Error::invalid_input(
                "invalid SCIM page token: expected a start index of 1 or more, as returned in GroupPage::next",
                vec![FieldError::new("token", "must be a start index")],
            )
        })?,
    };
    let count = page.size.clamp(1, MAX_PAGE_SIZE);
    let mut url = http.endpoint(&["Groups"])?;
    url.set_query(Some(&format!("startIndex={start}&count={count}&{NO_MEMBERS}")));
    let response = http.send(Request::get(url, "/Groups")).await?;
    let (records, total) = many(&response)?;
    let returned = records.len() as u64;
    let next_start = start.saturating_add(returned);
    let more = returned > 0 && total.is_none_or(|total| next_start <= total);
    let groups = records.into_iter().map(|r| r.group).collect();
    Ok(GroupPage::new(groups, more.then(|| PageToken::new(next_start.to_string()))))
}

/// Whether the server refused a filter (rather than failing): `400` or `501`.
pub(crate) fn refused(error: &Error) -> bool {
    matches!(error.status(), Some(400 | 501))
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

    fn response(body: &str) -> Response {
        Response::new(200, vec![], body.as_bytes().to_vec())
    }

    #[test]
    fn groups_are_read_leniently_and_checked() {
        let (records, total) = many(&response(
            r#"{"TotalResults":"2","resources":[{"id":7,"DisplayName":"Sales","members":[{"value":"u1"}]},
                {"id":"g2","displayName":"Ops"}]}"#,
        ))
        .unwrap();
        assert_eq!(total, Some(2));
        assert_eq!(records[0].group, Group::new(GroupKind::Group, GroupId::new("7"), "Sales"));
        assert_eq!(records[0].members.as_deref(), Some(&["u1".to_string()][..]));
        assert!(records[1].members.is_none());
        for bad in [
            "",
            "[1]",
            r#"{"Resources":{}}"#,
            r#"{"Resources":[{"displayName":"x"}]}"#,
            r#"{"Resources":[{"id":"1"}]}"#,
        ] {
            assert!(matches!(many(&response(bad)), Err(Error::Decode(_))), "{bad}");
        }
    }

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
