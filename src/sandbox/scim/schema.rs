//! The user schema the SCIM side stores (core, enterprise and Interact extension): checking and
//! canonicalising `POST`/`PUT` bodies, and projecting responses onto `attributes=`.
//!
//! Behaviour follows the observable behaviour of `scim2-server` 0.8.3 (strict about unknown
//! attributes, case-insensitive attribute names), plus the Interact extension, which scim2-server
//! does not know.

use serde_json::{Map, Value};

use super::error::{Result, ScimError};
use crate::{CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, INTERACT_USER_SCHEMA};

/// The type of an attribute (RFC 7643 §2.3), as `/Schemas` declares it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Type {
    String,
    Boolean,
    /// A URI; the resource types it may point at (`external`, `User`, …).
    Reference(&'static [&'static str]),
    /// Base64 text.
    Binary,
    Complex(&'static [Attr]),
}

/// When a client may write an attribute (RFC 7643 §7 `mutability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mutability {
    ReadWrite,
    ReadOnly,
    WriteOnly,
}

/// One attribute of a schema with the characteristics `/Schemas` publishes for it.
#[derive(Debug)]
pub(crate) struct Attr {
    pub(crate) name: &'static str,
    pub(super) ty: Type,
    pub(super) multi: bool,
    pub(super) mutability: Mutability,
    /// `returned: never` (the password): stored, never sent back.
    pub(super) never_returned: bool,
    pub(super) case_exact: bool,
    pub(super) required: bool,
    /// `uniqueness: server` (`userName`).
    pub(super) unique: bool,
    /// RFC 7643's suggested values, published as `canonicalValues` (not enforced).
    pub(super) canonical: &'static [&'static str],
}

/// A plain read-write attribute: the defaults every schema table starts from.
pub(super) const fn attr(name: &'static str, ty: Type, multi: bool) -> Attr {
    Attr {
        name,
        ty,
        multi,
        mutability: Mutability::ReadWrite,
        never_returned: false,
        case_exact: false,
        required: false,
        unique: false,
        canonical: &[],
    }
}
const fn string(name: &'static str) -> Attr {
    attr(name, Type::String, false)
}
const fn boolean(name: &'static str) -> Attr {
    attr(name, Type::Boolean, false)
}
const fn reference(name: &'static str, types: &'static [&'static str]) -> Attr {
    attr(name, Type::Reference(types), false).case_exact()
}
const fn complex(name: &'static str, subs: &'static [Attr]) -> Attr {
    attr(name, Type::Complex(subs), false)
}
const fn multi(name: &'static str, subs: &'static [Attr]) -> Attr {
    attr(name, Type::Complex(subs), true)
}

impl Attr {
    const fn read_only(mut self) -> Attr {
        self.mutability = Mutability::ReadOnly;
        self
    }
    const fn case_exact(mut self) -> Attr {
        self.case_exact = true;
        self
    }
    const fn canonical(mut self, values: &'static [&'static str]) -> Attr {
        self.canonical = values;
        self
    }
    pub(super) fn read_only_attr(&self) -> bool {
        self.mutability == Mutability::ReadOnly
    }
}

/// `value`, `display`, `type` (with these suggested values) and `primary`.
macro_rules! multi_value {
    ($($canonical:expr),*) => {
        &[string("value"), string("display"), string("type").canonical(&[$($canonical),*]), boolean("primary")]
    };
}

const NAME: &[Attr] = &[
    string("formatted"),
    string("familyName"),
    string("givenName"),
    string("middleName"),
    string("honorificPrefix"),
    string("honorificSuffix"),
];
const EMAILS: &[Attr] = multi_value!("work", "home", "other");
const PHONES: &[Attr] = multi_value!("work", "home", "mobile", "fax", "pager", "other");
const IMS: &[Attr] = multi_value!("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo");
const PHOTOS: &[Attr] = &[
    reference("value", &["external"]),
    string("display"),
    string("type").canonical(&["photo", "thumbnail"]),
    boolean("primary"),
];
const MULTI_VALUE: &[Attr] = multi_value!();
const CERTIFICATES: &[Attr] =
    &[attr("value", Type::Binary, false).case_exact(), string("display"), string("type"), boolean("primary")];
const ADDRESS: &[Attr] = &[
    string("formatted"),
    string("streetAddress"),
    string("locality"),
    string("region"),
    string("postalCode"),
    string("country"),
    string("type").canonical(&["work", "home", "other"]),
    boolean("primary"),
];
const GROUP: &[Attr] = &[
    string("value").case_exact().read_only(),
    reference("$ref", &["User", "Group"]).read_only(),
    string("display").read_only(),
    string("type").canonical(&["direct", "indirect"]).read_only(),
];
const MANAGER: &[Attr] =
    &[string("value").case_exact(), reference("$ref", &["User"]), string("displayName").read_only()];
const INTERACT_NAME: &[Attr] = &[string("title"), string("initials")];

/// The core User schema. `externalId` is a common attribute (RFC 7643 §3.1), stored with the
/// core ones but published in `/Schemas` only by the profile that makes it read-only.
const CORE_ATTRS: &[Attr] = &[
    Attr { required: true, unique: true, ..string("userName") },
    string("externalId").case_exact(),
    complex("name", NAME),
    string("displayName"),
    string("nickName"),
    reference("profileUrl", &["external"]),
    string("title"),
    string("userType"),
    string("preferredLanguage"),
    string("locale"),
    string("timezone"),
    boolean("active"),
    Attr { mutability: Mutability::WriteOnly, never_returned: true, ..string("password").case_exact() },
    multi("emails", EMAILS),
    multi("phoneNumbers", PHONES),
    multi("ims", IMS),
    multi("photos", PHOTOS),
    multi("addresses", ADDRESS),
    multi("groups", GROUP).read_only(),
    multi("entitlements", MULTI_VALUE),
    multi("roles", MULTI_VALUE),
    multi("x509Certificates", CERTIFICATES),
];
const ENTERPRISE_ATTRS: &[Attr] = &[
    string("employeeNumber"),
    string("costCenter"),
    string("organization"),
    string("division"),
    string("department"),
    complex("manager", MANAGER),
];
const INTERACT_ATTRS: &[Attr] = &[
    string("loginType").canonical(&["SAML", "Local Login", "Windows Login"]),
    string("location"),
    string("jobStartDate"),
    boolean("forcePasswordReset"),
    boolean("omitFromSearch"),
    string("pronouns"),
    string("dateOfBirth"),
    complex("name", INTERACT_NAME),
];

/// A schema: the core user schema or one of the extensions stored under their URN.
#[derive(Debug)]
pub(crate) struct Schema {
    pub(crate) urn: &'static str,
    /// `name` and `description` in `/Schemas`.
    pub(super) name: &'static str,
    pub(super) description: &'static str,
    pub(super) attrs: &'static [Attr],
}

pub(crate) const CORE: Schema =
    Schema { urn: CORE_USER_SCHEMA, name: "User", description: "User Account", attrs: CORE_ATTRS };
/// The extensions, in the order their URNs appear in `schemas`.
pub(crate) const EXTENSIONS: [Schema; 2] = [
    Schema {
        urn: ENTERPRISE_USER_SCHEMA,
        name: "EnterpriseUser",
        description: "Enterprise User",
        attrs: ENTERPRISE_ATTRS,
    },
    Schema {
        urn: INTERACT_USER_SCHEMA,
        name: "InteractUser",
        description: "Interact Software user extension",
        attrs: INTERACT_ATTRS,
    },
];

/// What a server profile changes in the schema rules (see `ScimProfile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rules {
    /// Whether the enterprise extension is declared (and accepted).
    pub(crate) enterprise: bool,
    /// Whether `externalId` is read-only: ignored on create, `400 mutability` on change.
    pub(crate) external_id_read_only: bool,
    /// Whether `userName` is compared exactly (filters and uniqueness).
    pub(crate) user_name_case_exact: bool,
}

impl Rules {
    /// RFC 7643's rules, as scim2-server applies them (what the unit tests use).
    #[cfg(test)]
    pub(crate) const STANDARD: Rules =
        Rules { enterprise: true, external_id_read_only: false, user_name_case_exact: false };

    /// Whether the client may not write `attr` of `schema` under these rules.
    pub(super) fn read_only(&self, schema: &Schema, attr: &Attr) -> bool {
        attr.read_only_attr() || (self.external_id_read_only && schema.urn == CORE.urn && attr.name == "externalId")
    }

    /// Whether `schema` is declared under these rules.
    pub(super) fn declares(&self, schema: &Schema) -> bool {
        self.enterprise || schema.urn != ENTERPRISE_USER_SCHEMA
    }
}

pub(super) fn find_attr(attrs: &'static [Attr], name: &str) -> Option<&'static Attr> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

pub(super) fn find_extension(urn: &str) -> Option<&'static Schema> {
    EXTENSIONS.iter().find(|s| s.urn.eq_ignore_ascii_case(urn))
}

/// Splits a known schema URN prefix (`urn:…:User:`) off a path, case-insensitively.
pub(super) fn split_urn(path: &str) -> Option<(&'static Schema, &str)> {
    std::iter::once(&CORE).chain(EXTENSIONS.iter()).find_map(|schema| {
        let prefix = path.get(..schema.urn.len())?;
        let rest = path.get(schema.urn.len()..)?.strip_prefix(':')?;
        prefix.eq_ignore_ascii_case(schema.urn).then_some((schema, rest))
    })
}

/// Whether a stored top-level attribute is never returned (`password`, RFC 7643 `returned: never`).
pub(super) fn never_returned(key: &str) -> bool {
    find_attr(CORE.attrs, key).is_some_and(|a| a.never_returned)
}

/// A case-insensitive key lookup in a JSON object.
pub(crate) fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// Whether `s` starts with `urn:`, in any case (never slicing inside a multi-byte character).
pub(super) fn has_urn_prefix(s: &str) -> bool {
    s.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("urn:"))
}

fn extra_input(at: &str) -> ScimError {
    ScimError::bad_request("invalidSyntax", format!("Extra inputs are not permitted: {at}"))
}

/// Checks and canonicalises one value of `attr` (`null` means "absent").
pub(super) fn normalise_value(attr: &Attr, value: Value, at: &str) -> Result<Option<Value>> {
    if value.is_null() {
        return Ok(None);
    }
    if !attr.multi {
        return normalise_single(attr, value, at);
    }
    let items = match value {
        Value::Array(items) => items,
        single => vec![single],
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if let Some(item) = normalise_single(attr, item, at)? {
            out.push(item);
        }
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

pub(super) fn normalise_single(attr: &Attr, value: Value, at: &str) -> Result<Option<Value>> {
    match (attr.ty, value) {
        (_, Value::Null) => Ok(None),
        (Type::String | Type::Reference(_) | Type::Binary, Value::String(s)) => Ok(Some(Value::String(s))),
        (Type::String | Type::Reference(_) | Type::Binary, _) => {
            Err(ScimError::bad_request("invalidValue", format!("'{at}' must be a string")))
        }
        (Type::Boolean, Value::Bool(b)) => Ok(Some(Value::Bool(b))),
        // Entra's legacy PATCH sends "True"/"False"; scim2-server accepts them too.
        (Type::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(Value::Bool(true))),
        (Type::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(Value::Bool(false))),
        (Type::Boolean, _) => Err(ScimError::bad_request("invalidValue", format!("'{at}' must be a boolean"))),
        (Type::Complex(subs), Value::Object(map)) => {
            let mut out = Map::new();
            for (key, value) in map {
                let sub_at = format!("{at}.{key}");
                let sub = find_attr(subs, &key).ok_or_else(|| extra_input(&sub_at))?;
                // Read-only sub-attributes (`manager.displayName`) are the server's to set.
                if sub.read_only_attr() {
                    continue;
                }
                if let Some(value) = normalise_single(sub, value, &sub_at)? {
                    out.insert(sub.name.to_string(), value);
                }
            }
            Ok((!out.is_empty()).then_some(Value::Object(out)))
        }
        (Type::Complex(_), _) => Err(ScimError::bad_request("invalidValue", format!("'{at}' must be an object"))),
    }
}

fn normalise_attributes(
    schema: &'static Schema,
    map: Map<String, Value>,
    out: &mut Map<String, Value>,
    rules: Rules,
) -> Result<()> {
    for (key, value) in map {
        let at = if schema.urn == CORE.urn { key.clone() } else { format!("{}:{key}", schema.urn) };
        let attr = find_attr(schema.attrs, &key).ok_or_else(|| extra_input(&at))?;
        // RFC 7644 §3.3/§3.5.1: values of read-only attributes in a body are ignored.
        if rules.read_only(schema, attr) {
            continue;
        }
        match normalise_value(attr, value, &at)? {
            Some(value) => out.insert(attr.name.to_string(), value),
            None => out.remove(attr.name),
        };
    }
    Ok(())
}

/// Checks a `POST`/`PUT` body and returns the stored attributes: canonical names, extension
/// objects under their URN, read-only attributes (`id`, `meta`, `groups`) and `schemas` dropped.
/// An extension the rules do not declare is an unknown attribute.
pub(crate) fn normalise_resource(body: Value, rules: Rules) -> Result<Map<String, Value>> {
    let Value::Object(body) = body else {
        return Err(ScimError::bad_request("invalidSyntax", "The request body must be a JSON object"));
    };
    let mut core = Map::new();
    let mut out = Map::new();
    for (key, value) in body {
        if ["schemas", "id", "meta"].iter().any(|k| k.eq_ignore_ascii_case(&key)) {
            continue;
        }
        if has_urn_prefix(&key) {
            let schema = find_extension(&key).filter(|s| rules.declares(s)).ok_or_else(|| extra_input(&key))?;
            let Value::Object(map) = value else {
                if value.is_null() {
                    continue;
                }
                return Err(ScimError::bad_request("invalidValue", format!("'{key}' must be an object")));
            };
            let mut ext = Map::new();
            // Some clients (scim2-models) repeat the extension's `schemas` inside its object.
            let map = map.into_iter().filter(|(k, _)| !k.eq_ignore_ascii_case("schemas")).collect();
            normalise_attributes(schema, map, &mut ext, rules)?;
            if !ext.is_empty() {
                out.insert(schema.urn.to_string(), Value::Object(ext));
            }
        } else {
            core.insert(key, value);
        }
    }
    normalise_attributes(&CORE, core, &mut out, rules)?;
    user_name(&out)?;
    Ok(out)
}

/// The stored `userName`, which must be a non-empty string.
pub(crate) fn user_name(attributes: &Map<String, Value>) -> Result<&str> {
    match attributes.get("userName") {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        _ => Err(ScimError::bad_request(
            "invalidValue",
            "Field 'userName' is required but value is missing, null or empty",
        )),
    }
}

/// Keeps only the requested attributes (`attributes=`) or drops the excluded ones
/// (`excludedAttributes=`); `id` and `schemas` are always returned.
pub(crate) fn project(
    resource: Map<String, Value>,
    attributes: Option<&str>,
    excluded: Option<&str>,
) -> Map<String, Value> {
    let names = |list: &str| -> Vec<String> {
        list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
    };
    // The top-level key a requested name designates: an extension URN or a core attribute.
    let top_level = |name: &str| -> String {
        if let Some(schema) = find_extension(name) {
            return schema.urn.to_string();
        }
        match split_urn(name) {
            Some((schema, _)) if schema.urn != CORE.urn => schema.urn.to_string(),
            Some((_, rest)) => rest.split('.').next().unwrap_or(rest).to_string(),
            None => name.split('.').next().unwrap_or(name).to_string(),
        }
    };
    let always = |key: &str| key == "id" || key == "schemas";
    if let Some(list) = attributes.filter(|l| !l.trim().is_empty()) {
        let wanted: Vec<String> = names(list).iter().map(|n| top_level(n)).collect();
        return resource
            .into_iter()
            .filter(|(k, _)| always(k) || wanted.iter().any(|w| w.eq_ignore_ascii_case(k)))
            .collect();
    }
    if let Some(list) = excluded {
        let unwanted: Vec<String> = names(list).iter().map(|n| top_level(n)).collect();
        return resource
            .into_iter()
            .filter(|(k, _)| always(k) || !unwanted.iter().any(|w| w.eq_ignore_ascii_case(k)))
            .collect();
    }
    resource
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn bodies_are_canonicalised_and_unknown_attributes_rejected() {
        let stored = normalise_resource(
            json!({
            "schemas": ["x"], "id": "ignored", "meta": {}, "groups": [{"value": "g"}],
            "UserName": "a", "ACTIVE": "True", "name": {"GIVENNAME": "A"},
            "urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:user": {"LoginType": "SAML"}
            }),
            Rules::STANDARD,
        )
        .map(Value::Object);
        assert_eq!(
            stored,
            Ok(json!({"userName": "a", "active": true, "name": {"givenName": "A"},
                INTERACT_USER_SCHEMA: {"loginType": "SAML"}}))
        );
        let err =
            |body: Value| normalise_resource(body, Rules::STANDARD).map(|_| ()).map_err(|e| (e.scim_type, e.detail));
        assert_eq!(
            err(json!({"userName": "a", "bogus": 1})),
            Err((Some("invalidSyntax"), "Extra inputs are not permitted: bogus".into()))
        );
        assert_eq!(
            err(json!({"userName": "a", "name": {"bogus": 1}})).map_err(|e| e.1),
            Err("Extra inputs are not permitted: name.bogus".into())
        );
        assert_eq!(err(json!({"userName": "a", "urn:x:y": {}})).map_err(|e| e.0), Err(Some("invalidSyntax")));
        assert_eq!(err(json!({"userName": " "})).map_err(|e| e.0), Err(Some("invalidValue")));
        assert_eq!(err(json!({"userName": "a", "active": 3})).map_err(|e| e.0), Err(Some("invalidValue")));
        assert_eq!(err(json!(["not", "an", "object"])).map_err(|e| e.0), Err(Some("invalidSyntax")));
    }

    #[test]
    fn projection_keeps_id_and_schemas() {
        let rendered =
            object(json!({"schemas": [], "id": "1", "userName": "a", "name": {"givenName": "A"}, "meta": {},
            ENTERPRISE_USER_SCHEMA: {"department": "D"}}));
        assert_eq!(
            Value::Object(project(
                rendered.clone(),
                Some("name.givenName, urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"),
                None
            )),
            json!({"schemas": [], "id": "1", "name": {"givenName": "A"}, ENTERPRISE_USER_SCHEMA: {"department": "D"}})
        );
        assert_eq!(
            Value::Object(project(rendered, None, Some("meta,name"))),
            json!({"schemas": [], "id": "1", "userName": "a", ENTERPRISE_USER_SCHEMA: {"department": "D"}})
        );
    }
}
