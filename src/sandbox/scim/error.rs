//! The SCIM side's error: an HTTP status, an optional `scimType` and a detail, which the API
//! renders as an RFC 7644 §3.12 body.

/// A SCIM error, rendered as an RFC 7644 §3.12 body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScimError {
    pub(crate) status: u16,
    pub(crate) scim_type: Option<&'static str>,
    pub(crate) detail: String,
}

impl ScimError {
    pub(crate) fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        ScimError { status, scim_type, detail: detail.into() }
    }

    pub(crate) fn bad_request(scim_type: &'static str, detail: impl Into<String>) -> Self {
        ScimError::new(400, Some(scim_type), detail)
    }
}

pub(super) type Result<T> = std::result::Result<T, ScimError>;
