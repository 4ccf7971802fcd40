//! A SCIM list response read by [`ScimList`]: its counts and its users, each read in its place.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Found, NO_ID, NOT_AN_OBJECT, Names, Scalar, UserInto, read_object, usable_version};
use crate::resource::{RemoteUser, UserId};

/// What `Resources` of a list response held that is not a list of users.
pub(crate) enum ResourcesProblem {
    /// It is not a list (nor `null`).
    NotAList,
    /// The resource at this index is not a user with an `id`, for this reason.
    Resource(usize, String),
}

/// A SCIM list response as read, or [`NotAnObject`](ScimList::NotAnObject).
pub(crate) enum ScimList {
    /// A JSON object, read leniently.
    Read {
        total_results: Option<u64>,
        start_index: Option<u64>,
        items_per_page: Option<u64>,
        /// The users on the page (none when `Resources` is missing or `null`).
        resources: Result<Vec<RemoteUser>, ResourcesProblem>,
    },
    /// Any other JSON value.
    NotAnObject,
}

/// `Resources`: every item read as a user; after the first that is not one, the rest are skipped.
struct Resources(Result<Vec<RemoteUser>, ResourcesProblem>);

/// Reads [`Resources`], with room for the page size the response stated before it (if any).
struct ResourcesSeed(Option<u64>);

impl<'de> DeserializeSeed<'de> for ResourcesSeed {
    type Value = Resources;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Resources, D::Error> {
        struct ResourcesVisitor(usize);
        impl<'de> Visitor<'de> for ResourcesVisitor {
            type Value = Resources;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of SCIM users")
            }
            otherwise!(Resources(Err(ResourcesProblem::NotAList)); scalars str map);
            fn visit_unit<E: de::Error>(self) -> Result<Resources, E> {
                Ok(Resources(Ok(Vec::new())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Resources, A::Error> {
                // The stated size is only a hint from the network: bounded, so it cannot make a
                // small body allocate much.
                let mut users = Vec::with_capacity(seq.size_hint().unwrap_or(self.0).min(MAX_RESERVED));
                while let Some(found) = seq.next_element_seed(Appended(&mut users))? {
                    let message = match found {
                        Some(Found { id: Some(id), version }) => {
                            if let Some(user) = users.last_mut() {
                                user.id = UserId::new(id);
                                user.version = usable_version(version);
                            }
                            continue;
                        }
                        Some(Found { id: None, .. }) => NO_ID,
                        None => NOT_AN_OBJECT,
                    };
                    let index = users.len() - 1;
                    while seq.next_element::<IgnoredAny>()?.is_some() {}
                    return Ok(Resources(Err(ResourcesProblem::Resource(index, message.to_string()))));
                }
                Ok(Resources(Ok(users)))
            }
        }
        let hint = self.0.and_then(|n| usize::try_from(n).ok()).unwrap_or(0);
        deserializer.deserialize_any(ResourcesVisitor(hint))
    }
}

/// Reads the next user of a list in its place at the end of the list: the slot is added only once
/// the list is known to have another item (see `UserInto`).
struct Appended<'a>(&'a mut Vec<RemoteUser>);

impl<'de> DeserializeSeed<'de> for Appended<'_> {
    type Value = Option<Found>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Found>, D::Error> {
        self.0.push(RemoteUser::empty());
        let last = self.0.len() - 1;
        UserInto(&mut self.0[last].user).deserialize(deserializer)
    }
}

/// The most users room is made for ahead of reading them.
const MAX_RESERVED: usize = 1000;

impl<'de> Deserialize<'de> for ScimList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;
        impl<'de> Visitor<'de> for ListVisitor {
            type Value = ScimList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SCIM list response")
            }
            otherwise!(ScimList::NotAnObject; scalars str unit seq);
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ScimList, A::Error> {
                const NAMES: Names = names!["totalResults", "startIndex", "itemsPerPage", "Resources"];
                let mut list = (None, None, None, Ok(Vec::new()));
                read_object(map, &NAMES, &mut list, |list, index, map| {
                    match index {
                        0 => list.0 = map.next_value::<Scalar>()?.count(),
                        1 => list.1 = map.next_value::<Scalar>()?.count(),
                        2 => list.2 = map.next_value::<Scalar>()?.count(),
                        // `itemsPerPage`, when it came first, sizes the list.
                        _ => list.3 = map.next_value_seed(ResourcesSeed(list.2))?.0,
                    }
                    Ok(())
                })?;
                let (total_results, start_index, items_per_page, resources) = list;
                Ok(ScimList::Read { total_results, start_index, items_per_page, resources })
            }
        }
        deserializer.deserialize_any(ListVisitor)
    }
}
