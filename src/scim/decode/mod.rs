//! SCIM users and list responses read straight from the body into the typed model, with no
//! `serde_json::Value` in between (only attributes the model has no field for are kept as values,
//! in [`User::extra`]).
//!
//! The leniency is the codec's: attribute names in any case (the exact spelling wins over another
//! case of the same name, otherwise the last one read does), booleans as `"True"`/`"0"` strings or
//! 0/1 numbers, numbers and booleans where text belongs, `null`s. A body that is valid JSON never
//! fails to deserialize here: what does not fit the model is reported as a value ([`ScimUser`],
//! [`ScimList`]), so callers keep their own messages.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::resource::{RemoteUser, UserId};
use crate::user::{ENTERPRISE_USER_SCHEMA, User};

/// Answers the listed JSON types with `$default`, consuming the value (`seq` and `map` skip their
/// contents), for the visitors below that read only some types.
macro_rules! otherwise {
    ($default:expr; $($kind:ident)*) => { $( otherwise!(@$kind $default); )* };
    (@scalars $default:expr) => {
        otherwise!(@bool $default);
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($default)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($default)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($default)
        }
    };
    (@bool $default:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($default)
        }
    };
    (@str $default:expr) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($default)
        }
    };
    (@unit $default:expr) => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($default)
        }
    };
    (@seq $default:expr) => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($default)
        }
    };
    (@map $default:expr) => {
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok($default)
        }
    };
}

/// An attribute name, borrowed from the body when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an attribute name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// The attribute names of one kind of object, in the model's spelling, with a matcher of exactly
/// those spellings (built by [`names!`], it compiles to comparisons of constant length, as
/// serde's derived field matchers do).
struct Names {
    all: &'static [&'static str],
    exact: fn(&str) -> Option<usize>,
}

macro_rules! names {
    ($($name:expr),* $(,)?) => {{
        // Inlined where a constant `Names` is matched, as a `match` on the name would be.
        #[inline(always)]
        fn exact(key: &str) -> Option<usize> {
            let mut index = 0;
            $(
                if key == $name {
                    return Some(index);
                }
                index += 1;
            )*
            let _ = index;
            None
        }
        Names { all: &[$($name),*], exact }
    }};
}

/// Which of `names` `key` is, in any case, and whether it is spelt exactly so.
// Inlined, so the matcher of a constant `Names` is called directly (it runs for every key read).
#[inline(always)]
fn known(key: &str, names: &Names) -> Option<(usize, bool)> {
    if let Some(index) = (names.exact)(key) {
        return Some((index, true));
    }
    names.all.iter().position(|name| name.eq_ignore_ascii_case(key)).map(|index| (index, false))
}

/// Tracks, per attribute, whether its value came from the exact spelling, which no other case of
/// the name may then replace.
#[derive(Default)]
struct Exact(u32);

impl Exact {
    /// Whether a value under a key that is (`exact`) or is not the exact spelling of attribute
    /// `index` should be read; records it when it is.
    fn take(&mut self, index: usize, exact: bool) -> bool {
        let bit = 1u32 << index;
        if self.0 & bit != 0 && !exact {
            return false;
        }
        if exact {
            self.0 |= bit;
        }
        true
    }
}

/// A JSON scalar, as SCIM text or a boolean is read from it.
enum Scalar {
    Text(String),
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Other,
}

impl Scalar {
    /// A string, or a number or boolean rendered as one (as [`codec::string`](super::codec::string)).
    fn text(self) -> Option<String> {
        match self {
            Scalar::Text(s) => Some(s),
            Scalar::Bool(b) => Some(b.to_string()),
            Scalar::Unsigned(n) => Some(n.to_string()),
            Scalar::Signed(n) => Some(n.to_string()),
            Scalar::Float(n) => serde_json::Number::from_f64(n).map(|n| n.to_string()),
            Scalar::Other => None,
        }
    }

    /// A boolean, also from `"True"`/`"false"`/`"1"`/`"0"` strings or whole numbers (as
    /// [`codec::boolean`](super::codec::boolean)).
    fn boolean(self) -> Option<bool> {
        match self {
            Scalar::Bool(b) => Some(b),
            Scalar::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Some(true),
                "false" | "0" | "no" => Some(false),
                _ => None,
            },
            Scalar::Unsigned(n) => i64::try_from(n).ok().map(|n| n != 0),
            Scalar::Signed(n) => Some(n != 0),
            Scalar::Float(_) | Scalar::Other => None,
        }
    }

    /// A count: a whole non-negative number, or a string holding one.
    fn count(self) -> Option<u64> {
        match self {
            Scalar::Unsigned(n) => Some(n),
            Scalar::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Signed(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar::Unsigned(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar::Text(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

/// Reads a value as SCIM text (see [`Scalar::text`]) into its field: without the detour through
/// [`Scalar`] for the usual case, a string, and without passing the text back up to be moved in.
struct TextInto<'a>(&'a mut Option<String>);

impl<'de> DeserializeSeed<'de> for TextInto<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        struct TextVisitor<'a>(&'a mut Option<String>);
        impl<'de> Visitor<'de> for TextVisitor<'_> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
                *self.0 = Some(v.to_owned());
                Ok(())
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
                *self.0 = Some(v);
                Ok(())
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
                *self.0 = Scalar::Bool(v).text();
                Ok(())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
                *self.0 = Scalar::Signed(v).text();
                Ok(())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
                *self.0 = Scalar::Unsigned(v).text();
                Ok(())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
                *self.0 = Scalar::Float(v).text();
                Ok(())
            }
            fn visit_unit<E: de::Error>(self) -> Result<(), E> {
                *self.0 = None;
                Ok(())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                *self.0 = None;
                Ok(())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                *self.0 = None;
                Ok(())
            }
        }
        deserializer.deserialize_any(TextVisitor(self.0))
    }
}

/// Reads the value of the current attribute as text into `field`.
fn text_into<'de, A: MapAccess<'de>>(map: &mut A, field: &mut Option<String>) -> Result<(), A::Error> {
    map.next_value_seed(TextInto(field))
}

/// Reads the object `map` into `T` by attribute: `set(target, index, map)` reads the value of
/// attribute `names[index]`; other keys are skipped.
#[inline(always)]
fn read_object<'de, A, T>(
    mut map: A,
    names: &Names,
    target: &mut T,
    mut set: impl FnMut(&mut T, usize, &mut A) -> Result<(), A::Error>,
) -> Result<(), A::Error>
where
    A: MapAccess<'de>,
{
    let mut exact = Exact::default();
    while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
        match known(&key, names) {
            Some((index, is_exact)) if exact.take(index, is_exact) => set(target, index, &mut map)?,
            _ => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    Ok(())
}

mod list;
mod parts;

pub(crate) use list::{ResourcesProblem, ScimList};
use parts::{Enterprise, Meta, Multi, NameValue};

/// A SCIM user resource as read: its `id` and `meta.version` (if any) and its attributes, or
/// [`NotAnObject`](ScimUser::NotAnObject).
// Transient: read, then moved into a `RemoteUser` at once; boxing would allocate for nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum ScimUser {
    /// A JSON object, read leniently. Extension objects are in [`User::extra`].
    Read {
        id: Option<String>,
        /// Read by the tests; the request path reads users with [`read_remote_user`].
        #[cfg_attr(not(test), allow(dead_code))]
        version: Option<String>,
        user: User,
    },
    /// Any other JSON value.
    NotAnObject,
}

/// The user attributes the model has a field for, in the model's spelling; the enterprise
/// extension's URN is matched as a key too.
const USER_ATTRIBUTES: Names = names![
    "schemas",
    "meta",
    "id",
    "userName",
    "externalId",
    "name",
    "displayName",
    "nickName",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "active",
    "emails",
    "phoneNumbers",
    ENTERPRISE_USER_SCHEMA,
];

/// The field the text attribute `USER_ATTRIBUTES[index]` is read into (`id` is the resource's,
/// kept aside from the user's attributes).
fn text_attribute<'a>(index: usize, id: &'a mut Option<String>, user: &'a mut User) -> &'a mut Option<String> {
    match index {
        2 => id,
        3 => &mut user.user_name,
        4 => &mut user.external_id,
        6 => &mut user.display_name,
        7 => &mut user.nick_name,
        8 => &mut user.title,
        9 => &mut user.user_type,
        10 => &mut user.preferred_language,
        11 => &mut user.locale,
        _ => &mut user.timezone,
    }
}

impl ScimUser {
    /// The resource with its `id`; a missing `id` or a non-object is an error message.
    #[cfg(test)]
    pub(crate) fn into_remote(self) -> Result<RemoteUser, String> {
        let ScimUser::Read { id, version, user } = self else {
            return Err(NOT_AN_OBJECT.to_string());
        };
        let id = id.ok_or_else(|| NO_ID.to_string())?;
        let mut remote = RemoteUser::new(UserId::new(id), user);
        remote.version = usable_version(version);
        Ok(remote)
    }
}

/// Why a user resource cannot be used.
const NO_ID: &str = "the SCIM user has no `id`";

/// `meta.version`, if it can be sent back as `If-Match`: not empty, and short.
fn usable_version(version: Option<String>) -> Option<String> {
    version.filter(|v| !v.is_empty() && v.len() <= 256)
}

/// Why a value is no SCIM user.
pub(crate) const NOT_AN_OBJECT: &str = "a SCIM user must be a JSON object";

impl<'de> Deserialize<'de> for ScimUser {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut user = User::default();
        Ok(match UserInto(&mut user).deserialize(deserializer)? {
            Some(Found { id, version }) => ScimUser::Read { id, version, user },
            None => ScimUser::NotAnObject,
        })
    }
}

/// Reads the SCIM user `body` holds straight into a [`RemoteUser`], where it stays (each move of
/// the model is a copy of several hundred bytes). `Err` when the body is no JSON; `Ok(Err)` with
/// a message when it is JSON but no usable user.
pub(crate) fn read_remote_user(body: &[u8]) -> Result<Result<RemoteUser, &'static str>, serde_json::Error> {
    let mut remote = RemoteUser::empty();
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let found = UserInto(&mut remote.user).deserialize(&mut deserializer)?;
    deserializer.end()?;
    let Some(Found { id, version }) = found else { return Ok(Err(NOT_AN_OBJECT)) };
    let Some(id) = id else { return Ok(Err(NO_ID)) };
    remote.id = UserId::new(id);
    remote.version = usable_version(version);
    Ok(Ok(remote))
}

/// What a user object held besides the attributes written into the [`User`].
struct Found {
    id: Option<String>,
    version: Option<String>,
}

/// Reads a SCIM user object into the given [`User`] (a default one), where it is to stay: the
/// model is large, and a list page moved each of its users several times otherwise. `None` when
/// the value is not an object.
struct UserInto<'a>(&'a mut User);

impl<'de> DeserializeSeed<'de> for UserInto<'_> {
    type Value = Option<Found>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Found>, D::Error> {
        struct UserVisitor<'a>(&'a mut User);
        impl<'de> Visitor<'de> for UserVisitor<'_> {
            type Value = Option<Found>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SCIM user")
            }
            otherwise!(None; scalars str unit seq);
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Found>, A::Error> {
                let (mut id, mut version, user) = (None, None, self.0);
                let mut exact = Exact::default();
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    let Some((index, is_exact)) = known(&key, &USER_ATTRIBUTES) else {
                        let value: Value = map.next_value()?;
                        if !value.is_null() {
                            user.extra.insert(key.into_owned(), value);
                        }
                        continue;
                    };
                    if !exact.take(index, is_exact) {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    match index {
                        0 => {
                            map.next_value::<IgnoredAny>()?;
                        }
                        1 => version = map.next_value::<Meta>()?.0,
                        5 => user.name = map.next_value::<NameValue>()?.0,
                        13 => user.active = map.next_value::<Scalar>()?.boolean(),
                        14 => user.emails = map.next_value::<Multi>()?.0,
                        15 => user.phone_numbers = map.next_value::<Multi>()?.0,
                        16 => user.enterprise = map.next_value::<Enterprise>()?.0,
                        // Every text attribute read through one call.
                        _ => text_into(&mut map, text_attribute(index, &mut id, user))?,
                    }
                }
                Ok(Some(Found { id, version }))
            }
        }
        deserializer.deserialize_any(UserVisitor(self.0))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::user::MultiValue;

    fn from_bytes(body: &str) -> ScimUser {
        serde_json::from_str(body).unwrap()
    }

    fn read(user: ScimUser) -> (Option<String>, Option<String>, User) {
        match user {
            ScimUser::Read { id, version, user } => (id, version, user),
            ScimUser::NotAnObject => panic!("expected an object"),
        }
    }

    /// The body is read straight from its bytes, and a `Value` through the same code: both reads
    /// agree, quirks included (a key with an escape is not borrowed from the body).
    #[test]
    fn bytes_and_values_read_alike() {
        for body in [
            r#"{"ID":42,"UserName":"Bjensen","Active":"False","name":{"GivenName":"B","familyName":null},
                "emails":[{"Value":"b@example.com","Primary":"True","type":"work"},{"primary":true},7],
                "phoneNumbers":{"value":5551234,"type":"work"},"nickName":null,"groups":[{"value":"g1"}],
                "urn:ietf:params:scim:schemas:extension:Enterprise:2.0:User":{"employeeNumber":7,"manager":"m1"},
                "meta":{"version":"W/\"3\"","location":"x"},"schemas":[]}"#,
            r#"{"id":"1","user\u004eame":"esc\u00e9","title":1.5,"active":1,"x-custom":{"a":[1,{}]},"timezone":true}"#,
            r#"{"id":"2","name":"not an object","emails":"nor this","meta":[],"active":2.0}"#,
            r#"{}"#,
        ] {
            let value: Value = serde_json::from_str(body).unwrap();
            assert_eq!(read(from_bytes(body)), read(ScimUser::deserialize(value).unwrap()), "{body}");
        }
        let (id, version, user) = read(from_bytes(
            r#"{"ID":42,"UserName":"Bjensen","Active":"False","emails":[{"Value":"b@example.com","Primary":"True","type":"work"}],"meta":{"version":"W/\"3\""},"x":null,"title":1.5}"#,
        ));
        assert_eq!((id.as_deref(), version.as_deref()), (Some("42"), Some("W/\"3\"")));
        assert_eq!(user.user_name.as_deref(), Some("Bjensen"));
        assert_eq!(user.active, Some(false));
        assert_eq!(user.title.as_deref(), Some("1.5"));
        assert_eq!(user.emails, vec![MultiValue::new("b@example.com", "work").primary()]);
        assert!(user.extra.is_empty(), "a null attribute is not kept: {:?}", user.extra);
        let (_, _, user) = read(from_bytes(r#"{"user\u004eame":"esc\u00e9"}"#));
        assert_eq!(user.user_name.as_deref(), Some("esc\u{e9}"));
        for other in ["[1]", "\"x\"", "3", "null", "true"] {
            assert!(matches!(from_bytes(other), ScimUser::NotAnObject), "{other}");
        }
    }

    /// A user read straight into a `RemoteUser` is the user read through a value, id and version
    /// included; what is no usable user says why, and what is no JSON is a JSON error.
    #[test]
    fn remote_users_read_in_place_read_alike() {
        for body in [
            r#"{"id":"42","userName":"Bjensen","meta":{"version":"W/\"3\""},"emails":[{"value":"b@example.com"}]}"#,
            r#"{"ID":7,"UserName":"x","meta":{"version":""},"x-custom":[1]}"#,
        ] {
            let value: Value = serde_json::from_str(body).unwrap();
            let expected = ScimUser::deserialize(value).unwrap().into_remote().unwrap();
            let read = read_remote_user(body.as_bytes()).unwrap().unwrap();
            assert_eq!((&read, &read.version), (&expected, &expected.version), "{body}");
        }
        assert_eq!(read_remote_user(br#"{"userName":"no id"}"#).unwrap().unwrap_err(), NO_ID);
        assert_eq!(read_remote_user(b"[1]").unwrap().unwrap_err(), NOT_AN_OBJECT);
        for broken in [&b"{"[..], b"{} x", b"\xff"] {
            assert!(read_remote_user(broken).is_err(), "{broken:?}");
        }
    }

    /// An attribute spelt exactly as the model spells it wins over another case of its name,
    /// wherever the two stand; among other cases the last one read wins.
    #[test]
    fn the_exact_spelling_wins_over_another_case() {
        for body in [
            r#"{"userName":"exact","username":"other","name":{"givenName":"G","GIVENNAME":"X"}}"#,
            r#"{"username":"other","userName":"exact","name":{"GIVENNAME":"X","givenName":"G"}}"#,
        ] {
            let (_, _, user) = read(from_bytes(body));
            assert_eq!(user.user_name.as_deref(), Some("exact"), "{body}");
            assert_eq!(user.given_name(), Some("G"), "{body}");
        }
        let (_, _, user) = read(from_bytes(r#"{"USERNAME":"first","UserName":"last"}"#));
        assert_eq!(user.user_name.as_deref(), Some("last"));
        let value = json!({"USERNAME": "first", "UserName": "last", "userName": "exact"});
        let (_, _, user) = read(ScimUser::deserialize(value).unwrap());
        assert_eq!(user.user_name.as_deref(), Some("exact"));
    }
}
