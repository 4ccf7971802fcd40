//! A SCIM list response read by [`ScimList`]: its counts and its users, each read in its place.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Found, NO_ID, NOT_AN_OBJECT, Names, Scalar, UserInto, read_object, usable_version};
use crate::resource::{RemoteUser, UserId};
use crate::user::User;

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
                // small body allocate much. One more for the slot that finds the list's end.
                let expected = seq.size_hint().unwrap_or(self.0).min(MAX_RESERVED);
                let mut users = Vec::with_capacity(expected + 1);
                loop {
                    // Each user is read in its place in the list (see `UserInto`).
                    users.push(RemoteUser::new(UserId::new(String::new()), User::default()));
                    let index = users.len() - 1;
                    let Some(slot) = users.last_mut() else { break };
                    let message = match seq.next_element_seed(UserInto(&mut slot.user))? {
                        None => {
                            users.pop();
                            break;
                        }
                        Some(None) => NOT_AN_OBJECT.to_string(),
                        Some(Some(Found { id: Some(id), version })) => {
                            slot.id = UserId::new(id);
                            slot.version = usable_version(version);
                            continue;
                        }
                        Some(Some(Found { id: None, .. })) => NO_ID.to_string(),
                    };
                    while seq.next_element::<IgnoredAny>()?.is_some() {}
                    return Ok(Resources(Err(ResourcesProblem::Resource(index, message))));
                }
                Ok(Resources(Ok(users)))
            }
        }
        let hint = self.0.and_then(|n| usize::try_from(n).ok()).unwrap_or(0);
        deserializer.deserialize_any(ResourcesVisitor(hint))
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
