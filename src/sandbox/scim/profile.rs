//! Server profiles: the ways real SCIM servers differ, each played by the sandbox on request,
//! with discovery documents that say what the profile does (or, for the last two, say nothing
//! useful).

use super::schema::Rules;

/// How a [`ScimSandbox`](super::ScimSandbox) behaves: the standard, fully featured server, or
/// one of the restrictions real SCIM servers have. Chosen with
/// [`ScimSandboxBuilder::profile`](super::ScimSandboxBuilder::profile).
///
/// The discovery documents (`/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`) always agree
/// with what the profile does, except under [`NoDiscovery`](ScimProfile::NoDiscovery) and
/// [`GarbageDiscovery`](ScimProfile::GarbageDiscovery), whose point is that a client cannot learn
/// anything from them. Everything a profile does not mention behaves as under
/// [`Standard`](ScimProfile::Standard).
///
/// To run a test suite under every profile, iterate [`ScimProfile::ALL`]:
///
/// ```
/// use identity_connectors::sandbox::{ScimProfile, ScimSandbox};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
/// for &profile in ScimProfile::ALL {
///     let sandbox = ScimSandbox::builder().profile(profile).start().await?;
///     assert_eq!(sandbox.profile(), profile);
///     // … drive sandbox.scim_connector() through the lifecycle …
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ScimProfile {
    /// Everything supported and declared: PATCH, filters, ETags (`ETag`, `meta.version`,
    /// `If-Match` answered `412` on a mismatch), the enterprise and Interact extensions,
    /// case-insensitive `userName`, and all three discovery endpoints. The default.
    #[default]
    Standard,
    /// No PATCH: `patch.supported` is `false` and every `PATCH` is answered `501 Not
    /// Implemented` with a SCIM error (RFC 7644 §3.12's status for an unsupported operation).
    /// Updates must be a full `PUT`.
    NoPatch,
    /// No filtering: `filter.supported` is `false`, and a `GET /Users` with a `filter` is refused
    /// with `400 invalidFilter` (the sandbox does not silently ignore it: a client that filters
    /// anyway fails visibly). Listing without a filter pages as usual.
    NoFilter,
    /// A filter the server ignores: `filter.supported` is `true` (as such servers claim), but
    /// `filter` is ignored and every user is returned, two per page unless
    /// [`max_results`](super::ScimSandboxBuilder::max_results) sets another page size
    /// (`filter.maxResults` says the page size). A client that trusts the first page, or the
    /// first resource, gets the wrong person.
    FilterIgnoredPaged,
    /// No ETags: `etag.supported` is `false`, responses carry no `ETag` header and no
    /// `meta.version`, and `If-Match` / `If-None-Match` are ignored.
    NoEtag,
    /// `externalId` is read-only: `/Schemas` declares it in the User schema with `mutability:
    /// readOnly`; a value in `POST` is ignored (not stored); a `PUT` that changes it and any
    /// `PATCH` operation that names it (path or path-less value) are refused with `400
    /// mutability`. A `PUT` that repeats the stored value, or omits it, keeps it.
    ReadOnlyExternalId,
    /// The enterprise extension is not declared: it is absent from `/Schemas` and from the User
    /// resource type's `schemaExtensions`; a `PATCH` operation on it or on any of its attributes
    /// is refused with `400 invalidPath`, and a `POST`/`PUT` body holding it with `400
    /// invalidSyntax` (an unknown attribute, as scim2-server answers).
    NoEnterpriseExtension,
    /// `userName` compared case-sensitively: `/Schemas` declares it `caseExact: true`, filters
    /// compare it exactly, and users whose names differ only in case may coexist (uniqueness is
    /// exact too).
    CaseSensitiveUserName,
    /// No discovery endpoints: `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas` are
    /// `404` (any method). Everything else is standard.
    NoDiscovery,
    /// Garbage discovery: the three endpoints answer `200` with JSON of the wrong shape (strings
    /// where objects belong, wrong types, missing fields). Everything else is standard.
    GarbageDiscovery,
}

/// How `GET /Users` treats `filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FilterMode {
    Applied,
    Refused,
    Ignored,
}

/// What the discovery endpoints answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Discovery {
    Served,
    Absent,
    Garbage,
}

/// The page size of [`ScimProfile::FilterIgnoredPaged`] when none is set.
const IGNORED_FILTER_PAGE_SIZE: usize = 2;

impl ScimProfile {
    /// Every profile, for test suites that run under each (a slice, so a new profile is not a
    /// breaking change).
    pub const ALL: &'static [ScimProfile] = &[
        ScimProfile::Standard,
        ScimProfile::NoPatch,
        ScimProfile::NoFilter,
        ScimProfile::FilterIgnoredPaged,
        ScimProfile::NoEtag,
        ScimProfile::ReadOnlyExternalId,
        ScimProfile::NoEnterpriseExtension,
        ScimProfile::CaseSensitiveUserName,
        ScimProfile::NoDiscovery,
        ScimProfile::GarbageDiscovery,
    ];

    /// A short, stable name (`"no-patch"`), for test names and logs.
    pub fn name(self) -> &'static str {
        match self {
            ScimProfile::Standard => "standard",
            ScimProfile::NoPatch => "no-patch",
            ScimProfile::NoFilter => "no-filter",
            ScimProfile::FilterIgnoredPaged => "filter-ignored-paged",
            ScimProfile::NoEtag => "no-etag",
            ScimProfile::ReadOnlyExternalId => "read-only-external-id",
            ScimProfile::NoEnterpriseExtension => "no-enterprise-extension",
            ScimProfile::CaseSensitiveUserName => "case-sensitive-user-name",
            ScimProfile::NoDiscovery => "no-discovery",
            ScimProfile::GarbageDiscovery => "garbage-discovery",
        }
    }

    pub(super) fn rules(self) -> Rules {
        Rules {
            enterprise: self != ScimProfile::NoEnterpriseExtension,
            external_id_read_only: self == ScimProfile::ReadOnlyExternalId,
            user_name_case_exact: self == ScimProfile::CaseSensitiveUserName,
        }
    }

    pub(super) fn patch(self) -> bool {
        self != ScimProfile::NoPatch
    }

    pub(super) fn etag(self) -> bool {
        self != ScimProfile::NoEtag
    }

    pub(super) fn filter(self) -> FilterMode {
        match self {
            ScimProfile::NoFilter => FilterMode::Refused,
            ScimProfile::FilterIgnoredPaged => FilterMode::Ignored,
            _ => FilterMode::Applied,
        }
    }

    pub(super) fn discovery(self) -> Discovery {
        match self {
            ScimProfile::NoDiscovery => Discovery::Absent,
            ScimProfile::GarbageDiscovery => Discovery::Garbage,
            _ => Discovery::Served,
        }
    }

    /// The page size when the builder sets none.
    pub(super) fn default_page_size(self, standard: usize) -> usize {
        if self == ScimProfile::FilterIgnoredPaged { IGNORED_FILTER_PAGE_SIZE } else { standard }
    }
}

impl std::fmt::Display for ScimProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_variant_in_declaration_order() {
        // An exhaustive match: a new variant does not compile until it is placed here and in ALL.
        let position = |profile: ScimProfile| match profile {
            ScimProfile::Standard => 0,
            ScimProfile::NoPatch => 1,
            ScimProfile::NoFilter => 2,
            ScimProfile::FilterIgnoredPaged => 3,
            ScimProfile::NoEtag => 4,
            ScimProfile::ReadOnlyExternalId => 5,
            ScimProfile::NoEnterpriseExtension => 6,
            ScimProfile::CaseSensitiveUserName => 7,
            ScimProfile::NoDiscovery => 8,
            ScimProfile::GarbageDiscovery => 9,
        };
        assert_eq!(ScimProfile::ALL.len(), 10);
        for (index, &profile) in ScimProfile::ALL.iter().enumerate() {
            assert_eq!(position(profile), index, "{profile}");
        }
    }
}
