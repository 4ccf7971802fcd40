//! PATCH (RFC 7644 §3.5.2): parsing operation paths and applying a PatchOp body to a copy of a
//! stored user, atomically, with `noTarget` when a path filter matches nothing (as `scim2-server`).

use serde_json::{Map, Value};

use super::error::{Result, ScimError};
use super::filter::{Filter, parse_filter};
use super::schema::{
    Attr, CORE, Rules, Schema, Type, find_attr, find_extension, get_ci, has_urn_prefix, normalise_single,
    normalise_value, split_urn, user_name,
};

/// A PATCH operation's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatchOp {
    Add,
    Replace,
    Remove,
}

/// A parsed PATCH `path`.
struct PatchPath {
    schema: &'static Schema,
    attr: &'static Attr,
    filter: Option<Filter>,
    sub: Option<&'static Attr>,
}

fn invalid_path(detail: impl Into<String>) -> ScimError {
    ScimError::bad_request("invalidPath", detail)
}

fn parse_patch_path(path: &str, rules: Rules) -> Result<PatchPath> {
    let path = path.trim();
    let (schema, rest) = match split_urn(path) {
        Some((schema, _)) if !rules.declares(schema) => {
            return Err(invalid_path(format!("'{path}' names an unknown schema")));
        }
        Some(found) => found,
        None if has_urn_prefix(path) => {
            return Err(invalid_path(format!("'{path}' names an unknown schema")));
        }
        None => (&CORE, path),
    };
    let (name, filter, sub) = match rest.find('[') {
        Some(open) => {
            let close = rest.rfind(']').filter(|&c| c > open).ok_or_else(|| invalid_path("unbalanced '[' in path"))?;
            let filter = parse_filter(&rest[open + 1..close]).map_err(|e| invalid_path(e.detail))?;
            let after = &rest[close + 1..];
            let sub = match after {
                "" => None,
                _ => {
                    Some(after.strip_prefix('.').ok_or_else(|| invalid_path(format!("'{path}' is not a valid path")))?)
                }
            };
            (&rest[..open], Some(filter), sub)
        }
        None => match rest.split_once('.') {
            Some((name, sub)) => (name, None, Some(sub)),
            None => (rest, None, None),
        },
    };
    let attr = find_attr(schema.attrs, name)
        .ok_or_else(|| invalid_path(format!("'{name}' is not an attribute of the schema")))?;
    if rules.read_only(schema, attr) {
        return Err(ScimError::bad_request("mutability", format!("'{}' is read-only", attr.name)));
    }
    let subs = match attr.ty {
        Type::Complex(subs) => subs,
        _ if sub.is_some() || filter.is_some() => {
            return Err(invalid_path(format!("'{}' has no sub-attributes", attr.name)));
        }
        _ => &[],
    };
    if filter.is_some() && !attr.multi {
        return Err(invalid_path(format!("'{}' is not multi-valued", attr.name)));
    }
    let sub = match sub {
        Some(sub) => Some(
            find_attr(subs, sub)
                .ok_or_else(|| invalid_path(format!("'{sub}' is not a sub-attribute of '{}'", attr.name)))?,
        ),
        None => None,
    };
    if let Some(sub) = sub.filter(|s| s.read_only_attr()) {
        return Err(ScimError::bad_request("mutability", format!("'{}.{}' is read-only", attr.name, sub.name)));
    }
    Ok(PatchPath { schema, attr, filter, sub })
}

/// The object that holds a schema's attributes: the resource itself, or its extension object.
fn container<'a>(resource: &'a mut Map<String, Value>, schema: &Schema) -> &'a mut Map<String, Value> {
    if schema.urn == CORE.urn {
        return resource;
    }
    let slot = resource.entry(schema.urn.to_string()).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(map) => map,
        _ => unreachable!("replaced by an object just above"),
    }
}

/// Merges `from` into the object `into` (sub-attributes not in `from` stay).
fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => into.extend(from),
        (into, from) => *into = from,
    }
}

/// An operation on a whole extension object (`path` is its URN): `remove` drops it, `add` and
/// `replace` apply each attribute of the value in turn (sub-attributes not given stay, as for
/// any complex attribute, RFC 7644 §3.5.2.3).
fn apply_to_extension(
    resource: &mut Map<String, Value>,
    op: PatchOp,
    schema: &'static Schema,
    value: Option<Value>,
    rules: Rules,
) -> Result<()> {
    if !rules.declares(schema) {
        return Err(invalid_path(format!("'{}' names an unknown schema", schema.urn)));
    }
    if op == PatchOp::Remove {
        resource.remove(schema.urn);
        return Ok(());
    }
    let Some(Value::Object(attributes)) = value else {
        return Err(ScimError::bad_request("invalidValue", format!("'{}' must be an object", schema.urn)));
    };
    // Some clients (scim2-models) repeat the extension's `schemas` inside its object.
    for (name, value) in attributes.into_iter().filter(|(name, _)| !name.eq_ignore_ascii_case("schemas")) {
        apply_with_path(resource, op, &format!("{}:{name}", schema.urn), Some(value), rules)?;
    }
    Ok(())
}

fn apply_with_path(
    resource: &mut Map<String, Value>,
    op: PatchOp,
    path: &str,
    value: Option<Value>,
    rules: Rules,
) -> Result<()> {
    if let Some(schema) = find_extension(path.trim()) {
        return apply_to_extension(resource, op, schema, value, rules);
    }
    let PatchPath { schema, attr, filter, sub } = parse_patch_path(path, rules)?;
    let at = attr.name;
    let map = container(resource, schema);
    match (filter, sub) {
        (None, None) => {
            if op == PatchOp::Remove {
                map.remove(at);
                return Ok(());
            }
            let Some(new) = normalise_value(attr, value.unwrap_or(Value::Null), at)? else {
                if op == PatchOp::Replace {
                    map.remove(at);
                }
                return Ok(());
            };
            match (op, map.get_mut(at)) {
                (PatchOp::Add, Some(Value::Array(items))) => {
                    if let Value::Array(new) = new {
                        items.extend(new);
                    }
                }
                (_, Some(existing)) if !attr.multi => merge(existing, new),
                _ => {
                    map.insert(at.to_string(), new);
                }
            }
        }
        (None, Some(sub)) if !attr.multi => {
            if op == PatchOp::Remove {
                if let Some(Value::Object(object)) = map.get_mut(at) {
                    object.remove(sub.name);
                }
            } else {
                let new = normalise_single(sub, value.unwrap_or(Value::Null), &format!("{at}.{}", sub.name))?;
                let slot = map.entry(at.to_string()).or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(object) = slot {
                    match new {
                        Some(new) => object.insert(sub.name.to_string(), new),
                        None => object.remove(sub.name),
                    };
                }
            }
        }
        (filter, sub) => {
            // Multi-valued: the values the filter selects (all of them without a filter).
            let items = match map.get_mut(at) {
                Some(Value::Array(items)) => items,
                _ if op == PatchOp::Remove => return Ok(()),
                _ => return Err(ScimError::bad_request("noTarget", format!("'{at}' has no values"))),
            };
            let selected: Vec<bool> = items
                .iter()
                .map(|item| match (&filter, item) {
                    (None, _) => true,
                    (Some(filter), Value::Object(object)) => filter.matches(object, rules),
                    _ => false,
                })
                .collect();
            if op == PatchOp::Remove {
                let mut keep = selected.iter().map(|s| !s);
                match sub {
                    None => items.retain(|_| keep.next().unwrap_or(true)),
                    Some(sub) => {
                        for (item, chosen) in items.iter_mut().zip(&selected) {
                            if let (true, Value::Object(object)) = (chosen, item) {
                                object.remove(sub.name);
                            }
                        }
                    }
                }
            } else {
                if !selected.contains(&true) {
                    return Err(ScimError::bad_request(
                        "noTarget",
                        format!("no value of '{at}' matches the path filter"),
                    ));
                }
                let value = value.unwrap_or(Value::Null);
                let new = match sub {
                    Some(sub) => normalise_single(sub, value, &format!("{at}.{}", sub.name))?,
                    None => normalise_single(attr, value, at)?,
                };
                for (item, chosen) in items.iter_mut().zip(&selected) {
                    if !chosen {
                        continue;
                    }
                    match (sub, &new, item) {
                        (Some(sub), Some(new), Value::Object(object)) => {
                            object.insert(sub.name.to_string(), new.clone());
                        }
                        (Some(sub), None, Value::Object(object)) => {
                            object.remove(sub.name);
                        }
                        (None, Some(new), item) if op == PatchOp::Add => merge(item, new.clone()),
                        (None, Some(new), item) => *item = new.clone(),
                        _ => {}
                    }
                }
            }
        }
    }
    Ok(())
}

/// Drops attributes left empty by an operation (`{}`, `[]`, empty extension objects).
fn prune(resource: &mut Map<String, Value>) {
    fn is_empty(value: &Value) -> bool {
        matches!(value, Value::Null)
            || matches!(value, Value::Object(o) if o.is_empty())
            || matches!(value, Value::Array(a) if a.is_empty())
    }
    for value in resource.values_mut() {
        match value {
            Value::Object(object) => {
                object.retain(|_, v| !is_empty(v));
                for v in object.values_mut() {
                    if let Value::Array(items) = v {
                        items.retain(|i| !is_empty(i));
                    }
                }
                object.retain(|_, v| !is_empty(v));
            }
            Value::Array(items) => items.retain(|i| !is_empty(i)),
            _ => {}
        }
    }
    resource.retain(|_, v| !is_empty(v));
}

/// Applies a PatchOp request body to a copy of `resource`; the caller commits it only if every
/// operation succeeded (PATCH is atomic).
pub(crate) fn apply_patch(resource: &Map<String, Value>, body: &Value, rules: Rules) -> Result<Map<String, Value>> {
    let operations = body
        .as_object()
        .and_then(|b| get_ci(b, "Operations"))
        .ok_or_else(|| ScimError::bad_request("invalidSyntax", "The PatchOp body needs 'Operations'"))?;
    let Value::Array(operations) = operations else {
        return Err(ScimError::bad_request("invalidSyntax", "'Operations' must be an array"));
    };
    if operations.is_empty() {
        return Err(ScimError::bad_request("invalidValue", "operations holds one or more operations"));
    }
    let mut patched = resource.clone();
    for operation in operations {
        let Value::Object(operation) = operation else {
            return Err(ScimError::bad_request("invalidSyntax", "each operation must be an object"));
        };
        let op = match get_ci(operation, "op").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
            Some("add") => PatchOp::Add,
            Some("replace") => PatchOp::Replace,
            Some("remove") => PatchOp::Remove,
            _ => return Err(ScimError::bad_request("invalidSyntax", "'op' must be add, replace or remove")),
        };
        let value = get_ci(operation, "value").cloned();
        match get_ci(operation, "path") {
            Some(Value::String(path)) => apply_with_path(&mut patched, op, path, value, rules)?,
            Some(Value::Null) | None => {
                if op == PatchOp::Remove {
                    return Err(ScimError::bad_request("noTarget", "Remove operation requires a path"));
                }
                let Some(Value::Object(values)) = value else {
                    return Err(ScimError::bad_request(
                        "invalidValue",
                        "an operation without a path needs an object value",
                    ));
                };
                // Keys are attributes, dotted (`name.givenName`) or URN-prefixed paths, or
                // extension URNs (`{"urn:…:enterprise:2.0:User": {"department": …}}`).
                for (key, value) in values {
                    apply_with_path(&mut patched, op, &key, Some(value), rules)?;
                }
            }
            Some(_) => return Err(ScimError::bad_request("invalidPath", "'path' must be a string")),
        }
    }
    prune(&mut patched);
    user_name(&patched)?;
    Ok(patched)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::scim::schema::{normalise_resource, project};
    use crate::{ENTERPRISE_USER_SCHEMA, INTERACT_USER_SCHEMA};
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn patch(resource: Value, operations: Value) -> Result<Value> {
        apply_patch(&object(resource), &json!({ "Operations": operations }), Rules::STANDARD).map(Value::Object)
    }

    #[test]
    fn patch_supports_the_shapes_clients_send() {
        let user = json!({"userName": "a", "active": true, "title": "T", "name": {"givenName": "A", "familyName": "B"},
            "emails": [{"value": "a@x.com", "type": "work", "primary": true}]});
        assert_eq!(
            patch(
                user.clone(),
                json!([
                    {"op": "Replace", "path": "active", "value": "False"},
                    {"op": "replace", "path": "name.givenName", "value": "Ann"},
                    {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "ann@x.com"},
                    {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales"},
                    {"op": "replace", "value": {"name.familyName": "C", "urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:User:location": "London",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"costCenter": "CC"}}},
                    {"op": "remove", "path": "title"},
                    {"op": "remove", "path": "nickName"}
                ])
            ),
            Ok(json!({"userName": "a", "active": false, "name": {"givenName": "Ann", "familyName": "C"},
                "emails": [{"value": "ann@x.com", "type": "work", "primary": true}],
                ENTERPRISE_USER_SCHEMA: {"department": "Sales", "costCenter": "CC"},
                INTERACT_USER_SCHEMA: {"location": "London"}}))
        );
        assert_eq!(
            patch(
                user.clone(),
                json!([{"op": "add", "path": "emails", "value": [{"value": "h@x.com", "type": "home"}]},
                {"op": "remove", "path": "emails[type eq \"work\"]"}])
            ),
            Ok(json!({"userName": "a", "active": true, "title": "T", "name": {"givenName": "A", "familyName": "B"},
                "emails": [{"value": "h@x.com", "type": "home"}]}))
        );
        let error = |ops: Value| patch(user.clone(), ops).map_err(|e| e.scim_type);
        assert_eq!(
            error(json!([{"op": "replace", "path": "emails[type eq \"home\"].value", "value": "x"}])),
            Err(Some("noTarget"))
        );
        assert_eq!(error(json!([{"op": "remove"}])), Err(Some("noTarget")));
        assert_eq!(error(json!([{"op": "replace", "path": "bogus", "value": 1}])), Err(Some("invalidPath")));
        assert_eq!(error(json!([{"op": "replace", "path": "urn:x:y:z", "value": 1}])), Err(Some("invalidPath")));
        assert_eq!(error(json!([{"op": "replace", "path": "name.bogus", "value": 1}])), Err(Some("invalidPath")));
        assert_eq!(error(json!([{"op": "replace", "path": "groups", "value": []}])), Err(Some("mutability")));
        assert_eq!(error(json!([{"op": "move", "path": "title"}])), Err(Some("invalidSyntax")));
        assert_eq!(error(json!([])), Err(Some("invalidValue")));
        assert_eq!(error(json!([{"op": "remove", "path": "userName"}])), Err(Some("invalidValue")));
        // Atomic: the first operation is not kept when the second fails.
        assert!(
            patch(user, json!([{"op": "replace", "path": "title", "value": "X"}, {"op": "replace", "path": "bogus"}]))
                .is_err()
        );
    }

    #[test]
    fn arbitrary_text_never_panics() {
        let alphabet: Vec<char> =
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.[]()\"\\ eq and or not pr é€😀{}:,09aXtruefalsenull$"
                .chars()
                .collect();
        let mut rng = crate::sandbox::rng::SplitMix64::new(99);
        for _ in 0..5000 {
            let text: String = (0..rng.below(48)).map(|_| alphabet[rng.below(alphabet.len())]).collect();
            let _ = parse_filter(&text);
            let _ = parse_patch_path(&text, Rules::STANDARD);
            let _ = normalise_resource(json!({ "userName": "x", text.clone(): text.clone() }), Rules::STANDARD);
            let user = object(
                json!({"userName": "x", "emails": [{"value": "a", "type": "work"}], "name": {"givenName": "A"}}),
            );
            for op in ["add", "replace", "remove"] {
                let body = json!({"Operations": [{"op": op, "path": text.clone(), "value": text.clone()}]});
                let _ = apply_patch(&user, &body, Rules::STANDARD);
                let body = json!({"Operations": [{"op": op, "value": { text.clone(): text.clone() }}]});
                let _ = apply_patch(&user, &body, Rules::STANDARD);
            }
            let _ = project(user, Some(&text), Some(&text));
        }
    }
}
