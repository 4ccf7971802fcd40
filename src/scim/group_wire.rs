//! The wire side of SCIM groups shared by [`groups`](crate::scim::groups) and the reads that
//! must not trust a filter (`group_reads`): decoding group resources and list responses, and the
//! plain reads (`GET /Groups` with a filter or a page, `GET /Groups/{id}`), all without members.

use serde_json::Value;

use crate::error::{DecodeError, Error, FieldError, Result};
use crate::group::{Group, GroupId, GroupKind, GroupPage};
use crate::http::{Http, Request, Response};
use crate::resource::{PageRequest, PageToken};
use crate::scim::Filter;
use crate::scim::codec::{field, string};

/// The largest page [`list_groups`] asks for.
pub const MAX_PAGE_SIZE: u32 = 1000;
pub(crate) const NO_MEMBERS: &str = "excludedAttributes=members";

/// A group resource as read: its id, name and, if the server sent them anyway, its members' ids.
pub(crate) struct GroupRecord {
    pub(crate) group: Group,
    pub(crate) members: Option<Vec<String>>,
}

pub(crate) fn decode(response: &Response, message: impl Into<String>) -> Error {
    // No excerpt: group bodies may list people.
    DecodeError::new(Some(response.status()), message, &[]).into()
}

pub(crate) fn record(value: &Value) -> std::result::Result<GroupRecord, String> {
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

pub(crate) fn one(response: &Response) -> Result<GroupRecord> {
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
}
