//! What differs between two users: the partial user an update sends, and applying one.

use serde_json::{Map, Value};

use super::{EnterpriseAttributes, Manager, MultiValue, Name, User};
use crate::extension::{ErasedExtension, Extensions};

impl User {
    /// The attributes of `self` that differ from `current`, as a partial user: what an update must
    /// send to make `current` look like `self`. Attributes `self` leaves unset are left alone, and
    /// `active` is never included (activation has its own operation).
    pub fn changes_from(&self, current: &User) -> User {
        fn pick<T: Clone + PartialEq>(desired: &Option<T>, current: &Option<T>) -> Option<T> {
            if differs(desired, current) { desired.clone() } else { None }
        }
        let name = match (&self.name, &current.name) {
            (Some(d), c) => {
                let none = Name::default();
                let c = c.as_ref().unwrap_or(&none);
                let n = Name {
                    formatted: pick(&d.formatted, &c.formatted),
                    family_name: pick(&d.family_name, &c.family_name),
                    given_name: pick(&d.given_name, &c.given_name),
                    middle_name: pick(&d.middle_name, &c.middle_name),
                    honorific_prefix: pick(&d.honorific_prefix, &c.honorific_prefix),
                    honorific_suffix: pick(&d.honorific_suffix, &c.honorific_suffix),
                };
                (!n.is_empty()).then_some(n)
            }
            (None, _) => None,
        };
        let enterprise = match (&self.enterprise, &current.enterprise) {
            (Some(d), c) => {
                let none = EnterpriseAttributes::default();
                let c = c.as_ref().unwrap_or(&none);
                let e = EnterpriseAttributes {
                    employee_number: pick(&d.employee_number, &c.employee_number),
                    cost_center: pick(&d.cost_center, &c.cost_center),
                    organization: pick(&d.organization, &c.organization),
                    division: pick(&d.division, &c.division),
                    department: pick(&d.department, &c.department),
                    manager: if manager_differs(&d.manager, &c.manager) { d.manager.clone() } else { None },
                };
                (!e.is_empty()).then_some(e)
            }
            (None, _) => None,
        };
        let emails = if list_differs(&self.emails, &current.emails) { self.emails.clone() } else { Vec::new() };
        let phone_numbers = if list_differs(&self.phone_numbers, &current.phone_numbers) {
            self.phone_numbers.clone()
        } else {
            Vec::new()
        };
        let mut extensions = Extensions::default();
        for desired in self.extensions.iter() {
            if let Some(changes) = extension_changes(desired, current) {
                extensions.insert_box(changes);
            }
        }
        let mut extra = Map::new();
        for (key, value) in &self.extra {
            if current.extra.get(key) != Some(value) {
                extra.insert(key.clone(), value.clone());
            }
        }
        User {
            user_name: if user_name_differs(&self.user_name, &current.user_name) {
                self.user_name.clone()
            } else {
                None
            },
            external_id: pick(&self.external_id, &current.external_id),
            name,
            display_name: pick(&self.display_name, &current.display_name),
            nick_name: pick(&self.nick_name, &current.nick_name),
            title: pick(&self.title, &current.title),
            user_type: pick(&self.user_type, &current.user_type),
            preferred_language: pick(&self.preferred_language, &current.preferred_language),
            locale: pick(&self.locale, &current.locale),
            timezone: pick(&self.timezone, &current.timezone),
            active: None,
            emails,
            phone_numbers,
            enterprise,
            extra,
            extensions,
        }
    }

    /// Applies a partial user (as made by [`changes_from`](Self::changes_from)): every attribute
    /// `changes` sets replaces the one in `self`.
    pub fn apply(&mut self, changes: &User) {
        macro_rules! take {
            ($($field:ident),*) => {$(
                if changes.$field.is_some() {
                    self.$field = changes.$field.clone();
                }
            )*};
        }
        take!(
            user_name,
            external_id,
            display_name,
            nick_name,
            title,
            user_type,
            preferred_language,
            locale,
            timezone,
            active
        );
        if let Some(n) = &changes.name {
            let name = self.name.get_or_insert_with(Name::default);
            macro_rules! part { ($($f:ident),*) => {$( if n.$f.is_some() { name.$f = n.$f.clone(); } )*}; }
            part!(formatted, family_name, given_name, middle_name, honorific_prefix, honorific_suffix);
        }
        if let Some(e) = &changes.enterprise {
            let ent = self.enterprise.get_or_insert_with(EnterpriseAttributes::default);
            macro_rules! part { ($($f:ident),*) => {$( if e.$f.is_some() { ent.$f = e.$f.clone(); } )*}; }
            part!(employee_number, cost_center, organization, division, department, manager);
        }
        if !changes.emails.is_empty() {
            self.emails = changes.emails.clone();
        }
        if !changes.phone_numbers.is_empty() {
            self.phone_numbers = changes.phone_numbers.clone();
        }
        for change in changes.extensions.iter() {
            self.extensions.apply(change);
        }
        for (k, v) in &changes.extra {
            self.extra.insert(k.clone(), v.clone());
        }
    }

    /// Whether [`changes_from`](Self::changes_from) would set any attribute: the same comparisons
    /// without building (and dropping) the partial user. What provisioning asks of nearly everyone
    /// it finds, most of whom need nothing.
    pub(crate) fn differs_from(&self, current: &User) -> bool {
        let name = self.name.as_ref().is_some_and(|d| {
            let none = Name::default();
            let c = current.name.as_ref().unwrap_or(&none);
            differs(&d.formatted, &c.formatted)
                || differs(&d.family_name, &c.family_name)
                || differs(&d.given_name, &c.given_name)
                || differs(&d.middle_name, &c.middle_name)
                || differs(&d.honorific_prefix, &c.honorific_prefix)
                || differs(&d.honorific_suffix, &c.honorific_suffix)
        });
        let enterprise = self.enterprise.as_ref().is_some_and(|d| {
            let none = EnterpriseAttributes::default();
            let c = current.enterprise.as_ref().unwrap_or(&none);
            differs(&d.employee_number, &c.employee_number)
                || differs(&d.cost_center, &c.cost_center)
                || differs(&d.organization, &c.organization)
                || differs(&d.division, &c.division)
                || differs(&d.department, &c.department)
                || manager_differs(&d.manager, &c.manager)
        });
        user_name_differs(&self.user_name, &current.user_name)
            || differs(&self.external_id, &current.external_id)
            || name
            || differs(&self.display_name, &current.display_name)
            || differs(&self.nick_name, &current.nick_name)
            || differs(&self.title, &current.title)
            || differs(&self.user_type, &current.user_type)
            || differs(&self.preferred_language, &current.preferred_language)
            || differs(&self.locale, &current.locale)
            || differs(&self.timezone, &current.timezone)
            || list_differs(&self.emails, &current.emails)
            || list_differs(&self.phone_numbers, &current.phone_numbers)
            || enterprise
            || self.extensions.iter().any(|desired| extension_changes(desired, current).is_some())
            || self.extra.iter().any(|(key, value)| current.extra.get(key) != Some(value))
    }
}

/// Whether `desired` sets a value that `current` does not hold.
fn differs<T: PartialEq>(desired: &Option<T>, current: &Option<T>) -> bool {
    matches!(desired, Some(v) if Some(v) != current.as_ref())
}

/// User names compare case-insensitively (SCIM `caseExact: false`; e-mail addresses): a
/// case-only difference is not worth an update.
fn user_name_differs(desired: &Option<String>, current: &Option<String>) -> bool {
    match (desired, current) {
        (Some(d), Some(c)) => !d.eq_ignore_ascii_case(c),
        (d, c) => differs(d, c),
    }
}

/// A manager is the same one when the ids are, whatever the display names say.
fn manager_differs(desired: &Option<Manager>, current: &Option<Manager>) -> bool {
    match (desired, current) {
        (Some(d), Some(c)) => d.value != c.value,
        (desired, _) => desired.is_some(),
    }
}

/// Whether the desired list, if any is given, differs from the current one.
fn list_differs(desired: &[MultiValue], current: &[MultiValue]) -> bool {
    !desired.is_empty() && !same_values(desired, current)
}

/// What an update must send of extension `desired` to `current`, if anything.
fn extension_changes(desired: &dyn ErasedExtension, current: &User) -> Option<Box<dyn ErasedExtension>> {
    let typed = current.extensions.get_dyn(desired.as_any().type_id());
    if typed.is_none() && raw_extension_matches(desired, &current.extra) {
        // The app returned this extension untyped (its connector does not register the type):
        // equal JSON means there is nothing to send, so a re-run stays a no-op.
        return None;
    }
    desired.changes_from(typed)
}

/// Whether two lists hold the same values (ignoring ASCII case and order; a value without a type
/// matches one of any type).
fn same_values(a: &[MultiValue], b: &[MultiValue]) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|x| b.iter().any(|y| x.value.eq_ignore_ascii_case(&y.value) && (x.kind.is_none() || x.kind == y.kind)))
}

/// Whether `current_extra` holds, under `desired`'s schema URN (in any case), an object with every
/// attribute `desired` sets, equal in value: the untyped form of an extension that needs no change.
fn raw_extension_matches(desired: &dyn ErasedExtension, current_extra: &Map<String, Value>) -> bool {
    let Some(urn) = desired.schema_urn() else { return false };
    let Some(Value::Object(raw)) = current_extra.iter().find(|(k, _)| k.eq_ignore_ascii_case(urn)).map(|(_, v)| v)
    else {
        return false;
    };
    let Value::Object(wanted) = desired.to_json() else { return false };
    wanted.iter().filter(|(_, v)| !v.is_null()).all(|(key, value)| {
        raw.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).is_some_and(|(_, have)| have == value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_from_lists_only_what_differs() {
        let current = User::builder("jdoe").given_name("John").family_name("Doe").email("j@x.io").title("Dev").build();
        let desired = User::builder("jdoe")
            .given_name("Johnny")
            .family_name("Doe")
            .email("J@X.io")
            .title("Lead")
            .department("R&D")
            .active(false)
            .build();
        let changes = desired.changes_from(&current);
        let expected = User {
            name: Some(Name { given_name: Some("Johnny".into()), ..Name::default() }),
            title: Some("Lead".into()),
            enterprise: Some(EnterpriseAttributes { department: Some("R&D".into()), ..Default::default() }),
            ..User::default()
        };
        assert_eq!(changes, expected);
        assert!(current.changes_from(&current).is_empty());
        let shouting = User::builder("JDOE").build();
        assert!(shouting.changes_from(&current).is_empty());
        assert_eq!(User::builder("jdoe2").build().changes_from(&current).user_name.as_deref(), Some("jdoe2"));
    }
}

#[cfg(test)]
mod equivalence {
    use serde_json::json;

    use crate::InteractAttributes;
    use crate::user::{EnterpriseAttributes, Manager, MultiValue, Name, User};

    /// A user built from `choices` (each picks one of a few values per attribute, `0` mostly
    /// meaning unset), so that two users drawn alike often agree, differ in case only, or differ.
    fn user(choices: &[u8]) -> User {
        let mut next = choices.iter().copied();
        let mut pick = |options: &[Option<&str>]| {
            let index = usize::from(next.next().unwrap_or(0)) % options.len();
            options[index].map(str::to_string)
        };
        let text = [None, Some("a"), Some("A"), Some("b")];
        let mut user = User {
            user_name: pick(&text),
            external_id: pick(&text),
            display_name: pick(&text),
            title: pick(&text),
            timezone: pick(&text),
            ..User::default()
        };
        if pick(&[None, Some("name")]).is_some() {
            user.name = Some(Name { given_name: pick(&text), family_name: pick(&text), ..Name::default() });
        }
        if let Some(email) = pick(&[None, Some("a@x.io"), Some("A@X.IO"), Some("b@x.io")]) {
            let kind = pick(&[None, Some("work"), Some("home")]);
            user.emails = vec![MultiValue { value: email, kind, primary: None, display: None }];
        }
        if pick(&[None, Some("enterprise")]).is_some() {
            let manager =
                pick(&[None, Some("m1"), Some("m2")]).map(|value| Manager { value: Some(value), ..Manager::default() });
            user.enterprise =
                Some(EnterpriseAttributes { department: pick(&text), manager, ..EnterpriseAttributes::default() });
        }
        if let Some(value) = pick(&[None, Some("1"), Some("2")]) {
            user.extra.insert("x-custom".to_string(), json!(value));
        }
        match pick(&[None, Some("typed"), Some("raw")]) {
            Some(kind) if kind == "typed" => {
                let location = pick(&[None, Some("L1"), Some("L2")]);
                user.set_extension(InteractAttributes { location, ..InteractAttributes::default() });
            }
            Some(_) => {
                let location = pick(&[Some("L1"), Some("L2")]);
                user.extra.insert(
                    "urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:User".to_string(),
                    json!({ "location": location }),
                );
            }
            None => {}
        }
        user
    }

    proptest::proptest! {
        /// Provisioning skips the update exactly when the update would send nothing. The current
        /// user is the desired one with a choice or two made otherwise, so that most pairs
        /// differ in one attribute only (the case where one missed comparison shows).
        #[test]
        fn differs_from_is_whether_changes_from_sets_anything(
            a in proptest::collection::vec(0u8..6, 24),
            edits in proptest::collection::vec((0usize..24, 0u8..6), 0..3),
        ) {
            let mut b = a.clone();
            for (index, choice) in edits {
                b[index] = choice;
            }
            let (desired, current) = (user(&a), user(&b));
            proptest::prop_assert_eq!(desired.differs_from(&current), !desired.changes_from(&current).is_empty());
            proptest::prop_assert!(!desired.differs_from(&desired));
        }
    }
}
