//! Attribute fingerprints: one 64-bit hash per attribute a user sets, so a listed account can be
//! compared with a desired person without keeping the account.
//!
//! Each hash covers the attribute's name and its value, normalised the way
//! [`User::changes_from`] compares it (user names and e-mail addresses ignoring ASCII case, e-mail
//! and phone lists as sets, a manager by its value). An account keeps the sorted hashes of every
//! attribute it has; a desired person's attribute is unchanged when its hash is among them. A hash
//! collision could hide a change only with odds of about 2⁻⁶⁴ per attribute, and
//! [`apply`](crate::sync::Reconciler::apply) compares real values again before it sends anything.

use std::any::TypeId;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use serde_json::Value;

use crate::user::{EnterpriseAttributes, Name, User};

/// One attribute a user can set, as fingerprints and diffs name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Field {
    /// A core attribute with a single value, by its SCIM name.
    Core(&'static str),
    /// A part of `name`.
    Name(&'static str),
    /// The e-mail addresses, values and types.
    EmailsTyped,
    /// The e-mail addresses, values only (for desired addresses without a type).
    EmailsValues,
    /// The phone numbers, values and types.
    PhonesTyped,
    /// The phone numbers, values only.
    PhonesValues,
    /// A part of the enterprise extension.
    Enterprise(&'static str),
    /// A top-level member of an extension's JSON (or `member.key` for an object member).
    Extension { type_id: TypeId, type_name: &'static str, member: String },
    /// An attribute of [`User::extra`].
    Extra(String),
}

impl Field {
    /// The attribute's name, for a plan: `title`, `name.givenName`, `emails`,
    /// `InteractAttributes.location`.
    pub(crate) fn label(&self) -> String {
        match self {
            Field::Core(name) => (*name).to_string(),
            Field::Name(part) => format!("name.{part}"),
            Field::EmailsTyped | Field::EmailsValues => "emails".to_string(),
            Field::PhonesTyped | Field::PhonesValues => "phoneNumbers".to_string(),
            Field::Enterprise(part) => format!("enterprise.{part}"),
            Field::Extension { type_name, member, .. } => format!("{type_name}.{member}"),
            Field::Extra(key) => key.clone(),
        }
    }
}

/// Every attribute `user` sets, with its fingerprint. `both_list_forms` adds the values-only
/// form of e-mail and phone lists next to the typed one (an account offers both; a desired person
/// is compared by the form its own values allow).
pub(crate) fn fields(user: &User, both_list_forms: bool) -> Vec<(Field, u64)> {
    let mut out = Vec::new();
    let mut push = |field: Field, value: &dyn Fn(&mut DefaultHasher)| {
        let mut hasher = DefaultHasher::new();
        field.hash(&mut hasher);
        value(&mut hasher);
        out.push((field, hasher.finish()));
    };
    if let Some(name) = &user.user_name {
        push(Field::Core("userName"), &|h| name.to_ascii_lowercase().hash(h));
    }
    let scalars = [
        ("externalId", &user.external_id),
        ("displayName", &user.display_name),
        ("nickName", &user.nick_name),
        ("title", &user.title),
        ("userType", &user.user_type),
        ("preferredLanguage", &user.preferred_language),
        ("locale", &user.locale),
        ("timezone", &user.timezone),
    ];
    for (field, value) in scalars {
        if let Some(value) = value {
            push(Field::Core(field), &|h| value.hash(h));
        }
    }
    if let Some(name) = &user.name {
        for (part, value) in name_parts(name) {
            if let Some(value) = value {
                push(Field::Name(part), &|h| value.hash(h));
            }
        }
    }
    for (values, typed, plain) in [
        (&user.emails, Field::EmailsTyped, Field::EmailsValues),
        (&user.phone_numbers, Field::PhonesTyped, Field::PhonesValues),
    ] {
        if values.is_empty() {
            continue;
        }
        let all_typed = values.iter().all(|v| v.kind.is_some());
        if both_list_forms || all_typed {
            let mut list: Vec<(String, Option<&str>)> =
                values.iter().map(|v| (v.value.to_ascii_lowercase(), v.kind.as_deref())).collect();
            list.sort();
            push(typed, &|h| list.hash(h));
        }
        if both_list_forms || !all_typed {
            let mut list: Vec<String> = values.iter().map(|v| v.value.to_ascii_lowercase()).collect();
            list.sort();
            push(plain, &|h| list.hash(h));
        }
    }
    if let Some(enterprise) = &user.enterprise {
        for (part, value) in enterprise_parts(enterprise) {
            if let Some(value) = value {
                push(Field::Enterprise(part), &|h| value.hash(h));
            }
        }
    }
    for extension in user.extensions() {
        let type_id = extension.as_any().type_id();
        let type_name = extension.type_name();
        for (member, value) in extension_members(&extension.to_json()) {
            let field = Field::Extension { type_id, type_name, member };
            push(field, &|h| value.to_string().hash(h));
        }
    }
    for (key, value) in &user.extra {
        push(Field::Extra(key.clone()), &|h| value.to_string().hash(h));
    }
    out
}

/// The sorted fingerprints of every attribute `user` has: what an account keeps.
pub(crate) fn account_prints(user: &User) -> Box<[u64]> {
    let mut prints: Vec<u64> = fields(user, true).into_iter().map(|(_, hash)| hash).collect();
    prints.sort_unstable();
    prints.dedup();
    prints.into_boxed_slice()
}

/// One hash of an account's identity, attributes and version (a SCIM `meta.version`, when the app
/// gives one), to notice that it changed between a plan and its application. The version catches
/// what attributes cannot: an account deactivated and reactivated meanwhile (someone who left and
/// came back) has its old attributes but a new version.
pub(crate) fn account_digest(
    key: Option<&str>,
    external_id: Option<&str>,
    prints: &[u64],
    version: Option<&str>,
) -> u64 {
    let mut hasher = DefaultHasher::new();
    key.map(str::to_ascii_lowercase).hash(&mut hasher);
    external_id.hash(&mut hasher);
    prints.hash(&mut hasher);
    version.hash(&mut hasher);
    hasher.finish()
}

/// The attributes of `desired` whose fingerprint is not among `account`'s, as a partial user
/// (what an update must send) and their names. An extension with any differing member is taken
/// whole: the account's value is not kept, and apply narrows it to what really differs.
pub(crate) fn changes(desired: &User, account: &[u64]) -> (User, Vec<String>) {
    let differing: Vec<Field> = fields(desired, false)
        .into_iter()
        .filter(|(_, hash)| account.binary_search(hash).is_err())
        .map(|(field, _)| field)
        .collect();
    let mut labels: Vec<String> = differing.iter().map(Field::label).collect();
    labels.dedup();
    (restrict(desired, &differing), labels)
}

/// `desired` with only the attributes in `fields`.
fn restrict(desired: &User, fields: &[Field]) -> User {
    let mut out = User::default();
    for field in fields {
        match field {
            Field::Core(name) => {
                let (target, source) = match *name {
                    "userName" => (&mut out.user_name, &desired.user_name),
                    "externalId" => (&mut out.external_id, &desired.external_id),
                    "displayName" => (&mut out.display_name, &desired.display_name),
                    "nickName" => (&mut out.nick_name, &desired.nick_name),
                    "title" => (&mut out.title, &desired.title),
                    "userType" => (&mut out.user_type, &desired.user_type),
                    "preferredLanguage" => (&mut out.preferred_language, &desired.preferred_language),
                    "locale" => (&mut out.locale, &desired.locale),
                    _ => (&mut out.timezone, &desired.timezone),
                };
                target.clone_from(source);
            }
            Field::Name(part) => {
                let source = desired.name.clone().unwrap_or_default();
                let name = out.name.get_or_insert_with(Name::default);
                for (target, (p, value)) in name_parts_mut(name).into_iter().zip(name_parts(&source)) {
                    if p == *part {
                        *target = value.cloned();
                    }
                }
            }
            Field::EmailsTyped | Field::EmailsValues => out.emails.clone_from(&desired.emails),
            Field::PhonesTyped | Field::PhonesValues => out.phone_numbers.clone_from(&desired.phone_numbers),
            Field::Enterprise(part) => {
                let source = desired.enterprise.clone().unwrap_or_default();
                let target = out.enterprise.get_or_insert_with(EnterpriseAttributes::default);
                match *part {
                    "employeeNumber" => target.employee_number = source.employee_number,
                    "costCenter" => target.cost_center = source.cost_center,
                    "organization" => target.organization = source.organization,
                    "division" => target.division = source.division,
                    "department" => target.department = source.department,
                    _ => target.manager = source.manager,
                }
            }
            Field::Extension { type_id, .. } => {
                if out.extensions.get_dyn(*type_id).is_none() {
                    if let Some(whole) = desired.extensions.get_dyn(*type_id).and_then(|e| e.changes_from(None)) {
                        out.extensions.insert_box(whole);
                    }
                }
            }
            Field::Extra(key) => {
                if let Some(value) = desired.extra.get(key) {
                    out.extra.insert(key.clone(), value.clone());
                }
            }
        }
    }
    out
}

fn name_parts(name: &Name) -> [(&'static str, Option<&String>); 6] {
    [
        ("formatted", name.formatted.as_ref()),
        ("familyName", name.family_name.as_ref()),
        ("givenName", name.given_name.as_ref()),
        ("middleName", name.middle_name.as_ref()),
        ("honorificPrefix", name.honorific_prefix.as_ref()),
        ("honorificSuffix", name.honorific_suffix.as_ref()),
    ]
}

fn name_parts_mut(name: &mut Name) -> [&mut Option<String>; 6] {
    [
        &mut name.formatted,
        &mut name.family_name,
        &mut name.given_name,
        &mut name.middle_name,
        &mut name.honorific_prefix,
        &mut name.honorific_suffix,
    ]
}

/// The enterprise parts with the value `changes_from` compares (a manager by its `value`).
fn enterprise_parts(e: &EnterpriseAttributes) -> [(&'static str, Option<&String>); 6] {
    [
        ("employeeNumber", e.employee_number.as_ref()),
        ("costCenter", e.cost_center.as_ref()),
        ("organization", e.organization.as_ref()),
        ("division", e.division.as_ref()),
        ("department", e.department.as_ref()),
        ("manager", e.manager.as_ref().and_then(|m| m.value.as_ref())),
    ]
}

/// An extension's JSON as attributes: each set top-level member, and each set key of an object
/// member (`custom_fields.cost_code`), as extensions compare custom fields key by key. Unset
/// members (null, an empty list or object) are left out, as `changes_from` leaves them alone.
fn extension_members(json: &Value) -> Vec<(String, Value)> {
    let Value::Object(members) = json else { return Vec::new() };
    let mut out = Vec::new();
    for (name, value) in members {
        match value {
            Value::Null => {}
            Value::Array(items) if items.is_empty() => {}
            Value::Object(inner) => {
                for (key, value) in inner.iter().filter(|(_, v)| !v.is_null()) {
                    out.push((format!("{name}.{key}"), value.clone()));
                }
            }
            other => out.push((name.clone(), other.clone())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interact::{InteractAttributes, InteractBuilderExt, LoginType};
    use crate::user::MultiValue;

    fn jane() -> User {
        User::builder("Jane@Example.com")
            .external_id("E1")
            .given_name("Jane")
            .family_name("Doe")
            .email("jane@example.com")
            .title("Dev")
            .department("R&D")
            .interact(InteractAttributes::new(LoginType::Saml).location("London"))
            .build()
    }

    #[test]
    fn an_account_equal_to_the_person_has_no_changes_and_case_is_ignored_where_changes_from_ignores_it() {
        let account = account_prints(&jane());
        let mut desired = jane();
        desired.user_name = Some("jane@EXAMPLE.com".into());
        desired.emails[0].value = "JANE@example.com".into();
        let (changes, labels) = changes(&desired, &account);
        assert!(changes.is_empty(), "{changes:?}");
        assert!(labels.is_empty());
        assert!(desired.changes_from(&jane()).is_empty(), "the same verdict as changes_from");
    }

    #[test]
    fn changes_name_and_carry_only_what_differs() {
        let account = account_prints(&jane());
        let desired = User::builder("jane@example.com")
            .given_name("Janet")
            .family_name("Doe")
            .title("Lead")
            .interact(InteractAttributes::new(LoginType::Saml).location("Paris"))
            .build();
        let (changes, labels) = changes(&desired, &account);
        assert_eq!(labels, ["title", "name.givenName", "InteractAttributes.location"]);
        assert_eq!(changes.title.as_deref(), Some("Lead"));
        assert_eq!(changes.given_name(), Some("Janet"));
        assert_eq!(changes.family_name(), None);
        assert_eq!(changes.user_name, None);
        // The whole desired extension: apply narrows it against the account read then.
        let interact = changes.extension::<InteractAttributes>().expect("the extension");
        assert_eq!(interact.location.as_deref(), Some("Paris"));
        assert_eq!(desired.changes_from(&jane()).changes_from(&jane()), desired.changes_from(&jane()));
    }

    #[test]
    fn untyped_desired_addresses_compare_by_value() {
        let account = account_prints(&jane());
        let mut desired = User::default();
        desired.emails.push(MultiValue { value: "jane@example.com".into(), ..MultiValue::default() });
        assert!(changes(&desired, &account).0.is_empty());
        desired.emails[0].value = "j.doe@example.com".into();
        assert_eq!(changes(&desired, &account).1, ["emails"]);
    }

    #[test]
    fn the_digest_changes_with_any_attribute() {
        let before = account_prints(&jane());
        let mut changed = jane();
        changed.title = Some("CTO".into());
        let after = account_prints(&changed);
        let digest = |key, prints: &[u64], version| account_digest(Some(key), Some("E1"), prints, version);
        assert_ne!(digest("k", &before, None), digest("k", &after, None));
        assert_eq!(digest("K", &before, None), digest("k", &before, None));
        assert_ne!(digest("k", &before, Some("W/\"1\"")), digest("k", &before, Some("W/\"2\"")), "a new version");
    }
}
