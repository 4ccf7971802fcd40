//! Freshservice's JSON, read leniently: envelopes, user records, name directories and the `Link`
//! header. Nothing here sends a request, and nothing panics on any input.

use serde_json::{Map, Value};
use url::Url;

use super::attributes::{AgentRole, FreshserviceAttributes, FreshserviceUserKind};
use crate::error::{DecodeError, Error, Result};
use crate::http::Response;
use crate::resource::{RemoteUser, UserId};
use crate::scim::codec;
use crate::user::{EnterpriseAttributes, Manager, MultiValue, Name, User};

/// The fields of a user record this module maps into the common model. Every other non-null field
/// is kept in [`FreshserviceAttributes::extra`].
const MAPPED_FIELDS: &[&str] = &[
    "id",
    "is_agent",
    "first_name",
    "last_name",
    "primary_email",
    "email",
    "secondary_emails",
    "job_title",
    "work_phone_number",
    "mobile_phone_number",
    "active",
    "time_zone",
    "language",
    "reporting_manager_id",
    "custom_fields",
    "occasional",
    "roles",
    "member_of",
    "can_see_all_tickets_from_associated_departments",
];

fn decode_error(response: &Response, message: impl Into<String>) -> Error {
    DecodeError::new(Some(response.status()), message, &[]).into()
}

/// The object under `key` of a response body such as `{"requester": {…}}`.
pub(crate) fn one(response: &Response, key: &str) -> Result<Map<String, Value>> {
    match response.json::<Value>()? {
        Value::Object(mut body) => match body.remove(key) {
            Some(Value::Object(record)) => Ok(record),
            _ => Err(decode_error(response, format!("expected a `{key}` object"))),
        },
        _ => Err(decode_error(response, "expected a JSON object")),
    }
}

/// The objects under `key` (or its singular `alias`, a quirk of some documented samples) of a
/// response body such as `{"requesters": […]}`.
pub(crate) fn many(response: &Response, key: &str, alias: &str) -> Result<Vec<Map<String, Value>>> {
    let Value::Object(mut body) = response.json::<Value>()? else {
        return Err(decode_error(response, "expected a JSON object"));
    };
    let items = match body.remove(key).or_else(|| body.remove(alias)) {
        Some(Value::Array(items)) => items,
        _ => return Err(decode_error(response, format!("expected a `{key}` array"))),
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::Object(record) => Ok(record),
            _ => Err(decode_error(response, format!("expected objects in the `{key}` array"))),
        })
        .collect()
}

/// A Freshservice id: a JSON number, or a string of digits.
pub(crate) fn id_value(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The record's user id.
pub(crate) fn record_id(record: &Map<String, Value>) -> Option<u64> {
    record.get("id").and_then(id_value)
}

/// Whether the record (read through the requesters API with `include_agents=true`) is an agent.
pub(crate) fn is_agent(record: &Map<String, Value>) -> bool {
    record.get("is_agent").and_then(codec::boolean).unwrap_or(false)
}

/// The record's e-mail address: `primary_email` for requesters, `email` for agents.
pub(crate) fn record_email(record: &Map<String, Value>) -> Option<&str> {
    ["primary_email", "email"].iter().find_map(|key| record.get(*key).and_then(Value::as_str))
}

/// Whether two e-mail addresses are the same mailbox as Freshservice sees it (case-insensitive).
pub(crate) fn same_email(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// One `{id, name}` entry of `/departments` or `/locations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NamedEntry {
    pub(crate) id: u64,
    pub(crate) name: String,
}

/// Reads the `{id, name}` pairs of a department or location page, skipping entries without both.
pub(crate) fn named_entries(records: Vec<Map<String, Value>>) -> Vec<NamedEntry> {
    records
        .into_iter()
        .filter_map(|record| {
            let id = record_id(&record)?;
            let name = record.get("name").and_then(Value::as_str)?.trim().to_string();
            (!name.is_empty()).then_some(NamedEntry { id, name })
        })
        .collect()
}

/// Turns ids into names while reading a user: the department and location directories, when
/// loaded.
pub(crate) trait NameSource {
    /// The department's name.
    fn department(&self, id: u64) -> Option<&str>;
    /// The location's name.
    fn location(&self, id: u64) -> Option<&str>;
}

/// Maps a user record, read through the `view` API, into the common model.
///
/// `employee_number_field` names the custom field that holds the enterprise employee number.
pub(crate) fn remote_user(
    mut record: Map<String, Value>,
    view: FreshserviceUserKind,
    names: &dyn NameSource,
    employee_number_field: Option<&str>,
) -> std::result::Result<RemoteUser, String> {
    let id = record_id(&record).ok_or("the user record has no numeric `id`")?;
    let kind = if view == FreshserviceUserKind::Agent || is_agent(&record) {
        FreshserviceUserKind::Agent
    } else {
        FreshserviceUserKind::Requester
    };
    let text = |record: &Map<String, Value>, key: &str| {
        record.get(key).and_then(codec::string).map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
    };

    let mut user = User::default();
    let name =
        Name { given_name: text(&record, "first_name"), family_name: text(&record, "last_name"), ..Name::default() };
    user.name = (!name.is_empty()).then_some(name);
    let primary = text(&record, "primary_email").or_else(|| text(&record, "email"));
    if let Some(primary) = &primary {
        user.emails.push(MultiValue::new(primary.clone(), "work").primary());
    }
    user.user_name = primary;
    if let Some(Value::Array(secondary)) = record.get("secondary_emails") {
        let addresses = secondary.iter().filter_map(codec::string).filter(|s| !s.trim().is_empty());
        user.emails.extend(addresses.map(|address| MultiValue::new(address, "other")));
    }
    user.title = text(&record, "job_title");
    // Phone numbers are documented as numbers but arrive as strings; `text` reads both.
    for (key, kind) in [("work_phone_number", "work"), ("mobile_phone_number", "mobile")] {
        if let Some(number) = text(&record, key) {
            user.phone_numbers.push(MultiValue::new(number, kind));
        }
    }
    user.active = record.get("active").and_then(codec::boolean);
    user.timezone = text(&record, "time_zone");
    user.preferred_language = text(&record, "language");

    let custom_fields = match record.get("custom_fields") {
        Some(Value::Object(fields)) => fields.clone(),
        _ => Map::new(),
    };
    let first_department = match record.get("department_ids") {
        Some(Value::Array(ids)) => ids.first().and_then(id_value),
        _ => None,
    };
    let enterprise = EnterpriseAttributes {
        department: first_department.and_then(|id| names.department(id)).map(str::to_string),
        manager: text(&record, "reporting_manager_id").map(Manager::new),
        employee_number: employee_number_field.and_then(|f| custom_fields.get(f)).and_then(codec::string),
        ..EnterpriseAttributes::default()
    };
    user.enterprise = (!enterprise.is_empty()).then_some(enterprise);

    let mut attributes = FreshserviceAttributes::new(kind);
    attributes.location =
        record.get("location_id").and_then(id_value).and_then(|id| names.location(id)).map(str::to_string);
    attributes.occasional = record.get("occasional").and_then(codec::boolean);
    if let Some(Value::Array(roles)) = record.get("roles") {
        attributes.roles = roles.iter().filter_map(|r| serde_json::from_value::<AgentRole>(r.clone()).ok()).collect();
    }
    if let Some(Value::Array(groups)) = record.get("member_of") {
        attributes.member_of = groups.iter().filter_map(id_value).collect();
    }
    attributes.can_see_all_tickets_from_associated_departments =
        record.get("can_see_all_tickets_from_associated_departments").and_then(codec::boolean);
    attributes.custom_fields = custom_fields;
    for key in MAPPED_FIELDS {
        record.remove(*key);
    }
    // Raw ids stay here too (`department_ids`, `location_id`): a name maps only the first department.
    attributes.extra = record.into_iter().filter(|(_, v)| !v.is_null()).collect();
    user.set_extension(attributes);
    Ok(RemoteUser::new(UserId::new(id.to_string()), user))
}

/// The page number the `Link: <…>; rel="next"` header points to, or `None` on the last page.
///
/// `page_url` is the URL the response answered. The link must stay on its origin and move forward: a link to another host is never
/// followed (it would receive the API key), and one that goes back would loop.
pub(crate) fn next_page(response: &Response, page_url: &Url, current: u32) -> Result<Option<u32>> {
    let Some(target) = response.header("link").and_then(next_link) else {
        return Ok(None);
    };
    let bad_link = |why: &str| -> Error {
        DecodeError::new(Some(response.status()), format!("the `Link` header's next page {why}"), &[]).into()
    };
    let url = page_url.join(target).map_err(|_| bad_link("is not a valid URL"))?;
    if url.origin() != page_url.origin() {
        return Err(bad_link("points to another host; it was not followed"));
    }
    let page = url
        .query_pairs()
        .find(|(key, _)| key == "page")
        .and_then(|(_, value)| value.parse::<u32>().ok())
        .ok_or_else(|| bad_link("has no page number"))?;
    if page <= current {
        return Err(bad_link("does not move forward"));
    }
    Ok(Some(page))
}

/// The target of the `rel="next"` entry of a `Link` header value (RFC 8288), tolerating missing
/// spaces, unquoted relation types and several relation types in one entry.
fn next_link(header: &str) -> Option<&str> {
    let mut rest = header;
    loop {
        let start = rest.find('<')?;
        let end = start + rest[start..].find('>')?;
        let target = &rest[start + 1..end];
        let after = &rest[end + 1..];
        let params_end = after.find('<').unwrap_or(after.len());
        let is_next = after[..params_end].split(';').any(|param| {
            let Some((name, value)) = param.split_once('=') else {
                return false;
            };
            name.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_end_matches(',')
                    .trim()
                    .trim_matches('"')
                    .split_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return Some(target.trim());
        }
        rest = &after[params_end..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct NoNames;
    impl NameSource for NoNames {
        fn department(&self, _: u64) -> Option<&str> {
            None
        }
        fn location(&self, _: u64) -> Option<&str> {
            None
        }
    }

    fn link_response(link: &str) -> Response {
        Response::new(200, vec![("Link".into(), link.into())], b"{}".to_vec())
    }

    #[test]
    fn finds_the_next_link_in_any_spelling() {
        assert_eq!(
            next_link(r#"<https://a.freshservice.com/api/v2/requesters?page=2>;rel="next""#),
            Some("https://a.freshservice.com/api/v2/requesters?page=2")
        );
        assert_eq!(next_link(r#"<x?page=1>; rel="prev", <x?page=3>; rel=next"#), Some("x?page=3"));
        assert_eq!(next_link(r#"<x?page=3>; rel="next last""#), Some("x?page=3"));
        assert_eq!(next_link(r#"<x?page=1>; rel="prev""#), None);
        assert_eq!(next_link("garbage <unterminated"), None);
        assert_eq!(next_link(""), None);
    }

    #[test]
    fn next_page_stays_on_origin_and_moves_forward() {
        let base = Url::parse("https://acme.freshservice.com/api/v2").unwrap();
        let ok = link_response(r#"<https://acme.freshservice.com/api/v2/requesters?per_page=100&page=3>; rel="next""#);
        assert_eq!(next_page(&ok, &base, 2).unwrap(), Some(3));
        let relative = link_response(r#"</api/v2/requesters?page=2>; rel="next""#);
        assert_eq!(next_page(&relative, &base, 1).unwrap(), Some(2));
        let elsewhere = link_response(r#"<https://evil.example.com/api/v2/requesters?page=2>; rel="next""#);
        let error = next_page(&elsewhere, &base, 1).unwrap_err();
        assert!(matches!(error, Error::Decode(_)), "{error}");
        assert!(error.to_string().contains("points to another host"), "{error}");
        let backwards = link_response(r#"<https://acme.freshservice.com/api/v2/requesters?page=1>; rel="next""#);
        assert!(matches!(next_page(&backwards, &base, 1), Err(Error::Decode(_))));
        let no_page = link_response(r#"<https://acme.freshservice.com/api/v2/requesters>; rel="next""#);
        assert!(matches!(next_page(&no_page, &base, 1), Err(Error::Decode(_))));
        assert_eq!(next_page(&Response::new(200, vec![], vec![]), &base, 1).unwrap(), None);
    }

    #[test]
    fn reads_a_record_leniently() {
        let record = json!({
            "id": 21000418006u64, "is_agent": false, "first_name": "Ron", "last_name": null,
            "primary_email": "ron@example.com", "secondary_emails": ["r@example.com", 7, null],
            "work_phone_number": 62443, "mobile_phone_number": "", "active": "true",
            "custom_fields": {"employee_id": 42}, "vip_user": true, "address": null,
            "roles": [{"role_id": "x"}, {"role_id": 7, "assignment_scope": "entire_helpdesk"}]
        });
        let Value::Object(record) = record else { unreachable!() };
        let remote = remote_user(record, FreshserviceUserKind::Requester, &NoNames, Some("employee_id")).unwrap();
        assert_eq!(remote.id.as_str(), "21000418006");
        let u = remote.user;
        assert_eq!(u.given_name(), Some("Ron"));
        assert_eq!(u.family_name(), None);
        assert_eq!(u.emails.len(), 3);
        assert_eq!(u.phone("work"), Some("62443"));
        assert_eq!(u.phone("mobile"), None);
        assert_eq!(u.active, Some(true));
        assert_eq!(u.enterprise.clone().unwrap().employee_number.as_deref(), Some("42"));
        let fs = u.extension::<FreshserviceAttributes>().unwrap().clone();
        assert_eq!(fs.roles, vec![AgentRole::new(7, "entire_helpdesk")]);
        assert_eq!(fs.extra, json!({"vip_user": true}).as_object().unwrap().clone());
    }

    #[test]
    fn rejects_records_without_an_id() {
        for bad in [json!({}), json!({"id": "abc"}), json!({"id": -1}), json!({"id": 1.5})] {
            let Value::Object(record) = bad else { unreachable!() };
            assert!(remote_user(record, FreshserviceUserKind::Agent, &NoNames, None).is_err());
        }
    }
}
