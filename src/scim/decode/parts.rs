//! The parts of a SCIM user read by [`UserInto`](super::UserInto): `name`, the multi-valued
//! attributes, the enterprise extension and `meta`.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Names, Scalar, read_object, text_into};
use crate::user::{EnterpriseAttributes, Manager, MultiValue, Name};

/// `name`: its parts, `None` when it is not an object or has none.
pub(super) struct NameValue(pub(super) Option<Name>);

impl<'de> Deserialize<'de> for NameValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = NameValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SCIM name")
            }
            otherwise!(NameValue(None); scalars str unit seq);
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<NameValue, A::Error> {
                const NAMES: Names =
                    names!["formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix"];
                let mut n = Name::default();
                read_object(map, &NAMES, &mut n, |n, index, map| {
                    let field = match index {
                        0 => &mut n.formatted,
                        1 => &mut n.family_name,
                        2 => &mut n.given_name,
                        3 => &mut n.middle_name,
                        4 => &mut n.honorific_prefix,
                        _ => &mut n.honorific_suffix,
                    };
                    text_into(map, field)
                })?;
                Ok(NameValue((!n.is_empty()).then_some(n)))
            }
        }
        deserializer.deserialize_any(NameVisitor)
    }
}

/// One item of a multi-valued attribute: `None` unless it is an object with a `value`.
struct Item(Option<MultiValue>);

fn read_item<'de, A: MapAccess<'de>>(map: A) -> Result<Option<MultiValue>, A::Error> {
    const NAMES: Names = names!["value", "type", "primary", "display"];
    let mut item = (None, MultiValue::default());
    read_object(map, &NAMES, &mut item, |(value, item), index, map| {
        let field = match index {
            0 => value,
            1 => &mut item.kind,
            2 => {
                item.primary = map.next_value::<Scalar>()?.boolean();
                return Ok(());
            }
            _ => &mut item.display,
        };
        text_into(map, field)
    })?;
    let (value, item) = item;
    Ok(value.map(|value| MultiValue { value, ..item }))
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ItemVisitor;
        impl<'de> Visitor<'de> for ItemVisitor {
            type Value = Item;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SCIM multi-valued attribute's item")
            }
            otherwise!(Item(None); scalars str unit seq);
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Item, A::Error> {
                read_item(map).map(Item)
            }
        }
        deserializer.deserialize_any(ItemVisitor)
    }
}

/// A multi-valued attribute (`emails`, `phoneNumbers`): a list of items, or one item alone.
pub(super) struct Multi(pub(super) Vec<MultiValue>);

impl<'de> Deserialize<'de> for Multi {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MultiVisitor;
        impl<'de> Visitor<'de> for MultiVisitor {
            type Value = Multi;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SCIM multi-valued attribute")
            }
            otherwise!(Multi(Vec::new()); scalars str unit);
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Multi, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16));
                while let Some(Item(item)) = seq.next_element()? {
                    items.extend(item);
                }
                Ok(Multi(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Multi, A::Error> {
                Ok(Multi(read_item(map)?.into_iter().collect()))
            }
        }
        deserializer.deserialize_any(MultiVisitor)
    }
}

/// The enterprise extension's `manager`: an object, or its id alone as a string.
struct ManagerValue(Option<Manager>);

impl<'de> Deserialize<'de> for ManagerValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ManagerVisitor;
        impl<'de> Visitor<'de> for ManagerVisitor {
            type Value = ManagerValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SCIM manager")
            }
            otherwise!(ManagerValue(None); scalars unit seq);
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ManagerValue, E> {
                Ok(ManagerValue(Some(Manager::new(v))))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ManagerValue, A::Error> {
                let mut manager = Manager { value: None, reference: None, display_name: None };
                read_object(map, &names!["value", "$ref", "displayName"], &mut manager, |m, index, map| {
                    let field = match index {
                        0 => &mut m.value,
                        1 => &mut m.reference,
                        _ => &mut m.display_name,
                    };
                    text_into(map, field)
                })?;
                Ok(ManagerValue(Some(manager)))
            }
        }
        deserializer.deserialize_any(ManagerVisitor)
    }
}

/// The enterprise extension object; `None` when it is not an object or carries nothing.
pub(super) struct Enterprise(pub(super) Option<EnterpriseAttributes>);

impl<'de> Deserialize<'de> for Enterprise {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EnterpriseVisitor;
        impl<'de> Visitor<'de> for EnterpriseVisitor {
            type Value = Enterprise;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the SCIM enterprise extension")
            }
            otherwise!(Enterprise(None); scalars str unit seq);
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Enterprise, A::Error> {
                const NAMES: Names =
                    names!["employeeNumber", "costCenter", "organization", "division", "department", "manager"];
                let mut e = EnterpriseAttributes::default();
                read_object(map, &NAMES, &mut e, |e, index, map| {
                    let field = match index {
                        0 => &mut e.employee_number,
                        1 => &mut e.cost_center,
                        2 => &mut e.organization,
                        3 => &mut e.division,
                        4 => &mut e.department,
                        _ => {
                            e.manager = map.next_value::<ManagerValue>()?.0;
                            return Ok(());
                        }
                    };
                    text_into(map, field)
                })?;
                Ok(Enterprise((!e.is_empty()).then_some(e)))
            }
        }
        deserializer.deserialize_any(EnterpriseVisitor)
    }
}

/// `meta`: only its `version` is read.
pub(super) struct Meta(pub(super) Option<String>);

impl<'de> Deserialize<'de> for Meta {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MetaVisitor;
        impl<'de> Visitor<'de> for MetaVisitor {
            type Value = Meta;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SCIM meta object")
            }
            otherwise!(Meta(None); scalars str unit seq);
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Meta, A::Error> {
                let mut version = None;
                read_object(map, &names!["version"], &mut version, |version, _, map| text_into(map, version))?;
                Ok(Meta(version))
            }
        }
        deserializer.deserialize_any(MetaVisitor)
    }
}
