//! Adapting writes to what a SCIM server accepts: which attributes to leave out (from discovery
//! and from earlier refusals), which operations a `400` named, and the full `PUT` body for a
//! server without `PATCH`. Pure functions; the requests are in [`super::core`].

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::error::Error;
use crate::scim::discovery::{Mutability, ServerCapabilities, SkipReason, split_path};
use crate::scim::patch::{PatchKind, PatchOperation};

/// The `scimType`s of a `400` that refuse some attributes rather than the whole request.
const REFUSING_TYPES: [&str; 4] = ["mutability", "invalidPath", "noTarget", "invalidValue"];

/// The operations that may be sent and the paths that may not (with why, for the trace).
pub(crate) fn filter_operations(
    operations: Vec<PatchOperation>,
    capabilities: &ServerCapabilities,
    refused: &BTreeSet<String>,
) -> (Vec<PatchOperation>, Vec<(String, SkipReason)>) {
    let mut kept = Vec::new();
    let mut skipped = Vec::new();
    for operation in operations {
        let path = operation.path.clone().unwrap_or_default();
        let (urn, attribute) = split_path(&path);
        let reason = capabilities.skip_reason(&path, false).or_else(|| {
            let parent = attribute.split('.').next().unwrap_or_default();
            (refused.contains(&format!("{urn}|{attribute}")) || refused.contains(&format!("{urn}|{parent}")))
                .then_some(SkipReason::Refused)
        });
        match reason {
            Some(reason) => skipped.push((path, reason)),
            None => kept.push(operation),
        }
    }
    (kept, skipped)
}

/// Whether `error` is a `400` refusing attributes (`mutability`, `invalidPath`, `noTarget`,
/// `invalidValue`); its message (the server's `detail`) when it is.
pub(crate) fn refusal_detail(error: &Error) -> Option<&str> {
    match error {
        Error::Validation(v)
            if v.status == Some(400)
                && v.code.as_deref().is_some_and(|c| REFUSING_TYPES.iter().any(|t| t.eq_ignore_ascii_case(c))) =>
        {
            Some(v.message.as_str())
        }
        _ => None,
    }
}

/// The indexes of the operations whose attribute path `detail` names: the whole path, or the
/// attribute part without its schema URN and value filter, as a whole word.
pub(crate) fn named_operations(detail: &str, operations: &[PatchOperation]) -> Vec<usize> {
    let detail = detail.to_ascii_lowercase();
    operations
        .iter()
        .enumerate()
        .filter(|(_, op)| {
            let path = op.path.as_deref().unwrap_or_default().to_ascii_lowercase();
            let (_, attribute) = split_path(&path);
            contains_word(&detail, &path) || contains_word(&detail, &attribute)
        })
        .map(|(index, _)| index)
        .collect()
}

fn contains_word(text: &str, word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    let part_of_name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '$');
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        // A trailing `.` ends a sentence; elsewhere it joins a sub-attribute.
        let after_ok = match after {
            None => true,
            Some('.') => text[at + word.len() + 1..].chars().next().is_none_or(|c| !part_of_name(c)),
            Some(c) => !part_of_name(c),
        };
        before.is_none_or(|c| !part_of_name(c) && c != ':') && after_ok
    })
}

/// Applies the operations [`PatchOp::from_changes`](crate::scim::PatchOp::from_changes) makes to a
/// resource's JSON: what a server would do with them, for a server that takes only `PUT`.
pub(crate) fn apply_operations(resource: &mut Map<String, Value>, operations: &[PatchOperation]) {
    for operation in operations {
        let Some(path) = operation.path.as_deref() else { continue };
        let value = operation.value.clone().unwrap_or(Value::Null);
        let (object, attribute) = match path.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
            true => match path.rfind(':') {
                Some(colon) => {
                    let urn = &path[..colon];
                    let key = key_of(resource, urn);
                    let entry = resource.entry(key).or_insert_with(|| Value::Object(Map::new()));
                    if !entry.is_object() {
                        *entry = Value::Object(Map::new());
                    }
                    let Some(object) = entry.as_object_mut() else { continue };
                    (object, &path[colon + 1..])
                }
                None => continue,
            },
            false => (&mut *resource, path),
        };
        match operation.op {
            PatchKind::Remove => {
                let key = key_of(object, attribute);
                object.remove(&key);
            }
            PatchKind::Add if value.is_array() => {
                let key = key_of(object, attribute);
                match object.get_mut(&key) {
                    Some(Value::Array(items)) => items.extend(value.as_array().into_iter().flatten().cloned()),
                    _ => {
                        object.insert(key, value);
                    }
                }
            }
            PatchKind::Add | PatchKind::Replace => set_path(object, attribute, value),
        }
    }
}

/// Sets `a`, `a.b` or `a[type eq "t"].b` in `object`.
fn set_path(object: &mut Map<String, Value>, path: &str, value: Value) {
    if let Some(open) = path.find('[') {
        let attribute = &path[..open];
        let Some(close) = path[open..].find(']').map(|c| open + c) else { return };
        let kind: Option<String> = path[open + 1..close]
            .split_once('"')
            .and_then(|(_, rest)| serde_json::from_str(&format!("\"{}", rest.trim_end())).ok());
        let sub = path[close + 1..].trim_start_matches('.');
        let (Some(kind), false) = (kind, sub.is_empty()) else { return };
        let key = key_of(object, attribute);
        let items = object.entry(key).or_insert_with(|| Value::Array(Vec::new()));
        if !items.is_array() {
            *items = Value::Array(Vec::new());
        }
        let Some(items) = items.as_array_mut() else { return };
        let same =
            |item: &Value| item.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case(&kind));
        match items.iter_mut().find(|item| same(item)).and_then(Value::as_object_mut) {
            Some(item) => {
                item.insert(sub.to_string(), value);
            }
            None => items.push(serde_json::json!({"type": kind, sub: value})),
        }
        return;
    }
    match path.split_once('.') {
        Some((parent, rest)) => {
            let key = key_of(object, parent);
            let child = object.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            if let Some(child) = child.as_object_mut() {
                set_path(child, rest, value);
            }
        }
        None => {
            let key = key_of(object, path);
            object.insert(key, value);
        }
    }
}

/// The key `name` has in `object` (matched in any case, as SCIM names are), or `name`.
fn key_of(object: &Map<String, Value>, name: &str) -> String {
    object.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned().unwrap_or_else(|| name.to_string())
}

/// Removes what a write must not carry: `meta`, `id`, objects of extensions the server does not
/// declare, and every attribute or sub-attribute `/Schemas` marks read-only. Returns the paths
/// removed (but `groups`, which no write sets).
pub(crate) fn strip_read_only(resource: &mut Map<String, Value>, capabilities: &ServerCapabilities) -> Vec<String> {
    let read_only = |path: &str| capabilities.mutability(path) == Some(Mutability::ReadOnly);
    let mut removed = Vec::new();
    // One pass, in place: no copy of the keys.
    resource.retain(|key, value| {
        if key.eq_ignore_ascii_case("meta") || key.eq_ignore_ascii_case("id") {
            return false;
        }
        if key.eq_ignore_ascii_case("schemas") {
            return true;
        }
        let is_urn = key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
        if (is_urn && !capabilities.declares(key)) || (!is_urn && read_only(key)) {
            match value {
                Value::Object(inner) if is_urn => removed.extend(inner.keys().map(|name| format!("{key}:{name}"))),
                _ => removed.push(key.clone()),
            }
            return false;
        }
        // Without known mutabilities no sub-attribute can be read-only: skip building their paths.
        let Value::Object(inner) = value else { return true };
        if !capabilities.knows_mutability() {
            return true;
        }
        let separator = if is_urn { ':' } else { '.' };
        inner.retain(|name, value| {
            let path = format!("{key}{separator}{name}");
            if read_only(&path) {
                removed.push(path);
                return false;
            }
            if let Value::Object(deeper) = value {
                deeper.retain(|sub, _| {
                    let sub_path = format!("{path}.{sub}");
                    let drop = read_only(&sub_path);
                    if drop {
                        removed.push(sub_path);
                    }
                    !drop
                });
            }
            true
        });
        true
    });
    removed.retain(|path| !path.eq_ignore_ascii_case("groups"));
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::PatchOp;
    use serde_json::json;

    #[test]
    fn the_detail_names_operations_by_path_or_attribute() {
        let ops = PatchOp::new()
            .replace("externalId", "E1")
            .replace("title", "Lead")
            .replace("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "R&D")
            .replace("name.givenName", "J")
            .into_operations();
        assert_eq!(named_operations("Attribute 'externalId' is readOnly.", &ops), [0]);
        assert_eq!(
            named_operations(
                "invalid path urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
                &ops
            ),
            [2]
        );
        assert_eq!(named_operations("name.givenName is immutable", &ops), [3]);
        assert!(named_operations("the request is invalid", &ops).is_empty());
        assert!(named_operations("subtitle cannot be set", &ops).is_empty());
    }

    #[test]
    fn operations_apply_to_the_resource_as_a_server_would() {
        let mut resource =
            json!({"userName": "a", "Name": {"givenName": "A"}, "emails": [{"type": "work", "value": "a@x"}],
            "urn:x:ext:User": {"badge": 1}, "nickName": "keep"})
            .as_object()
            .cloned()
            .unwrap();
        let ops = PatchOp::new()
            .replace("name.familyName", "B")
            .replace("emails[type eq \"work\"].value", "b@x")
            .replace("emails[type eq \"home\"].value", "h@x")
            .replace("URN:X:EXT:USER:badge", 2)
            .replace("urn:y:ext:User:x.y", true)
            .add("phoneNumbers", json!([{"value": "1"}]))
            .into_operations();
        apply_operations(&mut resource, &ops);
        assert_eq!(
            Value::Object(resource),
            json!({"userName": "a", "Name": {"givenName": "A", "familyName": "B"},
                "emails": [{"type": "work", "value": "b@x"}, {"type": "home", "value": "h@x"}],
                "urn:x:ext:User": {"badge": 2}, "urn:y:ext:User": {"x": {"y": true}}, "nickName": "keep",
                "phoneNumbers": [{"value": "1"}]})
        );
    }
}
