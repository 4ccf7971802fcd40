//! The discovery documents (RFC 7644 §4): `/ServiceProviderConfig`, `/ResourceTypes` and
//! `/Schemas`, rendered from the same attribute tables and profile the API enforces, so what a
//! client discovers is what the server does. [`garbage`] is what
//! [`ScimProfile::GarbageDiscovery`] serves instead.

use serde_json::{Map, Value, json};

use super::groups::GROUP;
use super::profile::ScimProfile;
use super::schema::{Attr, CORE, EXTENSIONS, Mutability, Rules, Schema, Type};

const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const CONFIG_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// What the discovery documents are built from.
pub(super) struct Describe<'a> {
    pub(super) profile: ScimProfile,
    pub(super) base_url: &'a str,
    pub(super) page_size: usize,
}

impl Describe<'_> {
    pub(super) fn service_provider_config(&self) -> Value {
        json!({
            "schemas": [CONFIG_SCHEMA],
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": format!("{}/ServiceProviderConfig", self.base_url),
            },
            "patch": { "supported": self.profile.patch() },
            "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
            "filter": { "supported": self.profile.filter() != super::profile::FilterMode::Refused, "maxResults": self.page_size },
            "changePassword": { "supported": false },
            "sort": { "supported": false },
            "etag": { "supported": self.profile.etag() },
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "Authentication scheme using the OAuth Bearer Token Standard",
                "specUri": "https://www.rfc-editor.org/info/rfc6750",
                "primary": true,
            }],
        })
    }

    /// The schemas this profile declares: core User, then its extensions, then core Group.
    fn schemas(&self) -> impl Iterator<Item = &'static Schema> {
        let rules = self.profile.rules();
        std::iter::once(&CORE)
            .chain(EXTENSIONS.iter().filter(move |s| rules.declares(s)))
            .chain(std::iter::once(&GROUP))
    }

    pub(super) fn user_resource_type(&self) -> Value {
        let extensions: Vec<Value> = self
            .schemas()
            .skip(1)
            .filter(|s| s.urn != GROUP.urn)
            .map(|s| json!({ "schema": s.urn, "required": false }))
            .collect();
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "User",
            "name": "User",
            "description": "User Account",
            "endpoint": "/Users",
            "schema": CORE.urn,
            "schemaExtensions": extensions,
            "meta": { "resourceType": "ResourceType", "location": format!("{}/ResourceTypes/User", self.base_url) },
        })
    }

    pub(super) fn resource_types(&self) -> Value {
        list(vec![self.user_resource_type(), self.group_resource_type()])
    }

    pub(super) fn resource_type(&self, id: &str) -> Option<Value> {
        match id {
            "User" => Some(self.user_resource_type()),
            "Group" => Some(self.group_resource_type()),
            _ => None,
        }
    }

    fn schema(&self, schema: &Schema) -> Value {
        let rules = self.profile.rules();
        let attributes: Vec<Value> = schema
            .attrs
            .iter()
            // `externalId` is a common attribute, outside every schema (RFC 7643 §3.1), unless
            // the profile has something to say about it.
            .filter(|a| !(schema.urn == CORE.urn && a.name == "externalId" && !rules.external_id_read_only))
            .map(|a| attribute(schema, a, rules))
            .collect();
        json!({
            "schemas": [SCHEMA_SCHEMA],
            "id": schema.urn,
            "name": schema.name,
            "description": schema.description,
            "attributes": attributes,
            "meta": { "resourceType": "Schema", "location": format!("{}/Schemas/{}", self.base_url, schema.urn) },
        })
    }

    pub(super) fn all_schemas(&self) -> Value {
        list(self.schemas().map(|s| self.schema(s)).collect())
    }

    pub(super) fn schema_by_id(&self, id: &str) -> Option<Value> {
        self.schemas().find(|s| s.urn == id).map(|s| self.schema(s))
    }
}

fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// One attribute as RFC 7643 §7 describes it.
fn attribute(schema: &Schema, attr: &Attr, rules: Rules) -> Value {
    let core = schema.urn == CORE.urn;
    let mutability = if rules.read_only(schema, attr) {
        "readOnly"
    } else {
        match attr.mutability {
            Mutability::ReadWrite => "readWrite",
            Mutability::ReadOnly => "readOnly",
            Mutability::WriteOnly => "writeOnly",
        }
    };
    let case_exact = attr.case_exact || (core && attr.name == "userName" && rules.user_name_case_exact);
    let mut out = Map::new();
    out.insert("name".into(), Value::from(attr.name));
    let ty = match attr.ty {
        Type::String => "string",
        Type::Boolean => "boolean",
        Type::Reference(_) => "reference",
        Type::Binary => "binary",
        Type::Complex(_) => "complex",
    };
    out.insert("type".into(), Value::from(ty));
    out.insert("multiValued".into(), Value::from(attr.multi));
    out.insert("required".into(), Value::from(attr.required));
    out.insert("caseExact".into(), Value::from(case_exact));
    out.insert("mutability".into(), Value::from(mutability));
    out.insert("returned".into(), Value::from(if attr.never_returned { "never" } else { "default" }));
    out.insert("uniqueness".into(), Value::from(if attr.unique { "server" } else { "none" }));
    if !attr.canonical.is_empty() {
        out.insert("canonicalValues".into(), json!(attr.canonical));
    }
    match attr.ty {
        Type::Reference(types) => {
            out.insert("referenceTypes".into(), json!(types));
        }
        Type::Complex(subs) => {
            let subs: Vec<Value> = subs.iter().map(|s| attribute(schema, s, rules)).collect();
            out.insert("subAttributes".into(), Value::Array(subs));
        }
        _ => {}
    }
    Value::Object(out)
}

/// Which discovery document a garbage answer stands in for.
#[derive(Debug, Clone, Copy)]
pub(super) enum Document {
    Config,
    ResourceTypes,
    Schemas,
    One,
}

/// `200` bodies of the wrong shape: valid JSON a client must not trust or choke on.
pub(super) fn garbage(document: Document) -> Value {
    match document {
        Document::Config => json!({
            "schemas": "ServiceProviderConfig",
            "patch": "yes",
            "filter": { "supported": "sometimes", "maxResults": "lots" },
            "etag": [true],
            "bulk": null,
            "authenticationSchemes": { "type": 7 },
        }),
        Document::ResourceTypes => json!({
            "schemas": 42,
            "totalResults": "two",
            "Resources": { "User": "/Users" },
        }),
        Document::Schemas => json!([CORE.urn, 3, null, { "attributes": "none" }]),
        Document::One => json!({ "id": 12, "attributes": [{ "name": null, "mutability": 5, "subAttributes": "x" }] }),
    }
}
