//! The SCIM group reads a filter can mislead: one person's memberships, and a group found by
//! name. Real servers differ: some refuse a filter (`400 invalidFilter`), some ignore it and
//! answer every group (while still declaring `filter.supported`), and many leave out `members`,
//! as the client asks. An answer is only trusted as far as it proves something:
//!
//! - a group counts as a membership when its `members` (sent anyway) list the person, or when
//!   the server is known to apply `members[value eq "…"]`: a probe for a member no server has
//!   (`GET /Groups?filter=members[value eq "identity-connectors-probe"]&startIndex=1&count=1&excludedAttributes=members`)
//!   must come back empty. The verdict is kept with the connector's discovery (one probe per
//!   connector, read again by `Client::refresh_discovery`), and the probe is only sent when an
//!   answer holds groups without their members;
//! - when the filter is refused or ignored, the person's read-only `groups`
//!   (`GET /Users/{id}?attributes=groups`) decides, as RFC 7643 §4.1.2 defines it; a server that
//!   leaves that attribute out (scim2-server does) has its groups read with their members, 20 per
//!   page, up to the connector's scan limit ([`Error::LookupIncomplete`] beyond it, never "no
//!   memberships");
//! - a name look-up whose answer holds a group of another name (the filter was ignored) reads
//!   the following pages too, and one whose filter is refused lists every group; both up to the
//!   scan limit.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::group::{Group, GroupId, GroupKind};
use crate::http::{Http, Request};
use crate::resource::{PageRequest, RemoteUser};
use crate::scim::Filter;
use crate::scim::codec::{field, string};
use crate::scim::discovery::DiscoveryCache;
use crate::scim::group_wire::{GroupRecord, decode, get_group, list_groups, many, refused, search};

/// The page size of membership reads.
const MEMBERSHIP_PAGE: u64 = 100;
/// The page size of a scan that reads groups with their members (they may be large).
const MEMBER_SCAN_PAGE: u64 = 20;
/// The page size of a name look-up that lists every group.
const NAME_SCAN_PAGE: u32 = 100;
/// The member id of the probe: no server assigns it, so a server that applies the filter finds
/// no group holding it.
pub const PROBE_MEMBER: &str = "identity-connectors-probe";

/// What a connector lends a read: where to remember the probe's verdict, and the most pages a
/// scan may read.
#[derive(Clone, Copy)]
pub(crate) struct ReadLimits<'a> {
    pub(crate) cache: Option<&'a DiscoveryCache>,
    pub(crate) scan_limit: u32,
}

async fn remember(limits: ReadLimits<'_>, applied: bool) {
    if let Some(cache) = limits.cache {
        cache.set_members_filter(applied).await;
    }
}

fn push_unique(groups: &mut Vec<Group>, group: Group) {
    if !groups.iter().any(|g| g.same_as(&group)) {
        groups.push(group);
    }
}

/// Every group `member` belongs to directly (see the module documentation).
pub(crate) async fn memberships(http: &Http, member: &RemoteUser, limits: ReadLimits<'_>) -> Result<Vec<Group>> {
    let known = match limits.cache {
        Some(cache) => cache.members_filter().await,
        None => None,
    };
    if known == Some(false) {
        return without_filter(http, member, limits).await;
    }
    let (mut proven, unproven) = match filtered(http, member.id.as_str(), limits).await {
        Ok(found) => found,
        Err(error) if refused(&error) => {
            remember(limits, false).await;
            return without_filter(http, member, limits).await;
        }
        Err(error) => return Err(error),
    };
    if unproven.is_empty() {
        return Ok(proven);
    }
    // Groups without their members prove nothing unless the server applies the filter.
    let applied = match known {
        Some(applied) => applied,
        None => {
            let applied = probe(http).await?;
            remember(limits, applied).await;
            applied
        }
    };
    if !applied {
        return without_filter(http, member, limits).await;
    }
    for group in unproven {
        push_unique(&mut proven, group);
    }
    Ok(proven)
}

/// `GET /Groups?filter=members[value eq "…"]&startIndex=…&count=100&excludedAttributes=members`,
/// page by page: the groups whose `members` list the person, and those sent without members.
async fn filtered(http: &Http, uid: &str, limits: ReadLimits<'_>) -> Result<(Vec<Group>, Vec<Group>)> {
    let filter = Filter::value_path("members", Filter::eq("value", uid)?)?;
    let (mut proven, mut unproven) = (Vec::new(), Vec::new());
    let mut start = 1u64;
    for _ in 0..limits.scan_limit {
        let page = format!("&startIndex={start}&count={MEMBERSHIP_PAGE}");
        let (records, total) = search(http, &filter, &page).await?;
        let returned = records.len() as u64;
        for GroupRecord { group, members } in records {
            match members {
                Some(members) if members.iter().any(|m| m == uid) => push_unique(&mut proven, group),
                Some(_) => {}
                None => push_unique(&mut unproven, group),
            }
        }
        start = start.saturating_add(returned);
        if returned == 0 || total.is_none_or(|total| start > total) {
            return Ok((proven, unproven));
        }
    }
    Err(Error::LookupIncomplete { attribute: "group membership", pages: limits.scan_limit })
}

/// Whether the server applies the members filter: a filter for [`PROBE_MEMBER`] finds nothing.
async fn probe(http: &Http) -> Result<bool> {
    let filter = Filter::value_path("members", Filter::eq("value", PROBE_MEMBER)?)?;
    match search(http, &filter, "&startIndex=1&count=1").await {
        Ok((records, total)) => Ok(records.is_empty() && total.unwrap_or(0) == 0),
        Err(error) if refused(&error) => Ok(false),
        Err(error) => Err(error),
    }
}

/// The memberships without the filter: the person's read-only `groups`, or, when the server
/// leaves that attribute out, every group read with its members.
async fn without_filter(http: &Http, member: &RemoteUser, limits: ReadLimits<'_>) -> Result<Vec<Group>> {
    let mut url = http.endpoint(&["Users", member.id.as_str()])?;
    url.set_query(Some("attributes=groups"));
    let response = http.send(Request::get(url, "/Users/{id}")).await?;
    let value: Value = response.json()?;
    let Some(map) = value.as_object() else {
        return Err(decode(&response, "a SCIM user must be a JSON object"));
    };
    let Some(Value::Array(items)) = field(map, "groups") else {
        return scan_members(http, member.id.as_str(), limits).await;
    };
    let mut groups: Vec<Group> = Vec::new();
    for item in items.iter().filter_map(Value::as_object) {
        let indirect = field(item, "type").and_then(string).is_some_and(|t| t.eq_ignore_ascii_case("indirect"));
        let Some(id) = field(item, "value").and_then(string).filter(|id| !id.is_empty() && !indirect) else {
            continue;
        };
        let group = match field(item, "display").and_then(string) {
            Some(name) => Group::new(GroupKind::Group, GroupId::new(id), name),
            None => get_group(http, &GroupId::new(id)).await?,
        };
        push_unique(&mut groups, group);
    }
    Ok(groups)
}

/// Every group with its members, `GET /Groups?startIndex=…&count=20&attributes=displayName,members`,
/// keeping those that list `uid`; at most the scan limit of pages.
async fn scan_members(http: &Http, uid: &str, limits: ReadLimits<'_>) -> Result<Vec<Group>> {
    let mut groups = Vec::new();
    let mut start = 1u64;
    for _ in 0..limits.scan_limit {
        let mut url = http.endpoint(&["Groups"])?;
        url.set_query(Some(&format!("startIndex={start}&count={MEMBER_SCAN_PAGE}&attributes=displayName,members")));
        let response = http.send(Request::get(url, "/Groups")).await?;
        let (records, total) = many(&response)?;
        let returned = records.len() as u64;
        for GroupRecord { group, members } in records {
            // A group sent without `members` has none (servers leave out empty lists).
            if members.is_some_and(|m| m.iter().any(|v| v == uid)) {
                push_unique(&mut groups, group);
            }
        }
        start = start.saturating_add(returned);
        if returned == 0 || total.is_none_or(|total| start > total) {
            return Ok(groups);
        }
    }
    Err(Error::LookupIncomplete { attribute: "group members", pages: limits.scan_limit })
}

/// The groups named `name` (compared without case), however the server treats the filter.
pub(crate) async fn groups_named(http: &Http, name: &str, limits: ReadLimits<'_>) -> Result<Vec<Group>> {
    let same = |g: &Group| g.display_name.to_lowercase() == name.to_lowercase();
    let filter = Filter::eq("displayName", name)?;
    let (records, total) = match search(http, &filter, "").await {
        Ok(found) => found,
        Err(error) if refused(&error) => return scan_names(http, &same, limits).await,
        Err(error) => return Err(error),
    };
    let mut start = records.len() as u64 + 1;
    let ignored = records.iter().any(|r| !same(&r.group));
    let mut hits: Vec<Group> = records.into_iter().map(|r| r.group).filter(same).collect();
    if !ignored || records_done(start, total) {
        return Ok(hits);
    }
    // The server ignored the filter and answered one page of every group: read the rest.
    for _ in 1..limits.scan_limit {
        let page = format!("&startIndex={start}&count={NAME_SCAN_PAGE}");
        let (records, total) = search(http, &filter, &page).await?;
        let returned = records.len() as u64;
        hits.extend(records.into_iter().map(|r| r.group).filter(same));
        start = start.saturating_add(returned);
        if returned == 0 || records_done(start, total) {
            return Ok(hits);
        }
    }
    Err(Error::LookupIncomplete { attribute: "group displayName", pages: limits.scan_limit })
}

fn records_done(next_start: u64, total: Option<u64>) -> bool {
    total.is_none_or(|total| next_start > total)
}

/// Every group, page by page (`GET /Groups?startIndex=…&count=100&excludedAttributes=members`),
/// keeping those `keep` accepts: the look-up of a server that refuses filters.
async fn scan_names(http: &Http, keep: &(dyn Fn(&Group) -> bool + Sync), limits: ReadLimits<'_>) -> Result<Vec<Group>> {
    let mut hits = Vec::new();
    let mut request = PageRequest::first(NAME_SCAN_PAGE);
    for _ in 0..limits.scan_limit {
        let page = list_groups(http, &request).await?;
        hits.extend(page.groups.into_iter().filter(|g| keep(g)));
        match page.next {
            Some(token) => request = PageRequest::next(token, NAME_SCAN_PAGE),
            None => return Ok(hits),
        }
    }
    Err(Error::LookupIncomplete { attribute: "group displayName", pages: limits.scan_limit })
}
