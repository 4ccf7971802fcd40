//! SCIM list responses (RFC 7644 §3.4.2), read leniently.

use crate::error::{DecodeError, Error, Result};
use crate::http::Response;
use crate::resource::RemoteUser;
use crate::scim::decode::{ResourcesProblem, ScimList};

/// The URN of a SCIM list response.
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// A page of users from `GET /Users`, read the way real servers write it.
///
/// Tolerated: `Resources` missing (the RFC allows it when `totalResults` is 0), `null`, or spelled
/// in another case (`resources`); numbers sent as strings (`"totalResults": "25"`); attribute names
/// in any case; `schemas` missing. Each resource is read like any SCIM user (unknown attributes
/// kept in [`User::extra`](crate::User::extra)); one without an `id` is an error, since it could
/// not be addressed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ListResponse {
    /// The number of results the whole query has (`totalResults`), if the server said.
    pub total_results: Option<u64>,
    /// The 1-based index of the first resource on this page (`startIndex`), if the server said.
    pub start_index: Option<u64>,
    /// The number of resources on this page according to the server (`itemsPerPage`).
    pub items_per_page: Option<u64>,
    /// The users on this page.
    pub resources: Vec<RemoteUser>,
}

impl ListResponse {
    /// Reads a list response body. A body that is empty, not JSON, not an object, or whose
    /// `Resources` is not a list is an [`Error::Decode`](crate::Error::Decode) with a short excerpt.
    pub fn from_response(response: &Response) -> Result<ListResponse> {
        // Read straight into the users, each taken by value: no `Value` tree, no copy of it.
        let ScimList::Read { total_results, start_index, items_per_page, resources } = response.json()? else {
            return Err(not_a_list(response));
        };
        let resources = resources.map_err(|problem| resources_error(response.status(), problem))?;
        Ok(ListResponse { total_results, start_index, items_per_page, resources })
    }
}

// The failures of `from_response`, cold and out of line: the code every list runs stays together.
#[cold]
#[inline(never)]
fn not_a_list(response: &Response) -> Error {
    response.decode_error("a SCIM list response must be a JSON object").into()
}

#[cold]
#[inline(never)]
fn resources_error(status: u16, problem: ResourcesProblem) -> Error {
    let status = Some(status);
    match problem {
        ResourcesProblem::NotAList => {
            DecodeError::new(status, "`Resources` in a SCIM list response must be a list", &[]).into()
        }
        // No excerpt: the resource holds personal data, and the message says enough.
        ResourcesProblem::Resource(index, message) => {
            DecodeError::new(status, format!("resource #{index} of the list: {message}"), &[]).into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<ListResponse> {
        ListResponse::from_response(&Response::new(200, vec![], body.as_bytes().to_vec()))
    }

    #[test]
    fn reads_the_rfc_shape() {
        let list = parse(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":2,"startIndex":1,
                "itemsPerPage":2,"Resources":[{"id":"1","userName":"a"},{"id":"2","userName":"b","x-custom":1}]}"#,
        )
        .unwrap();
        assert_eq!((list.total_results, list.start_index, list.items_per_page), (Some(2), Some(1), Some(2)));
        let ids: Vec<_> = list.resources.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, ["1", "2"]);
        assert_eq!(list.resources[1].user.extra.get("x-custom"), Some(&serde_json::json!(1)));
    }

    #[test]
    fn tolerates_missing_lowercase_and_string_fields() {
        let list = parse(r#"{"totalResults":0}"#).unwrap();
        assert!(list.resources.is_empty());
        assert_eq!(list.total_results, Some(0));
        let list = parse(r#"{"TotalResults":"3","resources":[{"id":7,"UserName":"x"}],"Resources2":1}"#).unwrap();
        assert_eq!(list.total_results, Some(3));
        assert_eq!(list.resources[0].id.as_str(), "7");
        assert_eq!(list.resources[0].user.user_name.as_deref(), Some("x"));
        let list = parse(r#"{"Resources":null}"#).unwrap();
        assert_eq!(list.total_results, None);
        assert!(list.resources.is_empty());
    }

    #[test]
    fn a_bad_resource_is_named_by_its_index() {
        let error = parse(r#"{"itemsPerPage":3,"Resources":[{"id":"1"},{"userName":"no id"},[2]]}"#).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Could not decode the response (HTTP 200): resource #1 of the list: the SCIM user has no `id`"
        );
        let error = parse(r#"{"Resources":[{"id":"1"},"text"]}"#).unwrap_err();
        assert!(error.to_string().ends_with("resource #1 of the list: a SCIM user must be a JSON object"), "{error}");
    }

    #[test]
    fn a_stated_page_size_reserves_only_a_bounded_room() {
        // `itemsPerPage` comes from the network: a huge one must not allocate for that many.
        let list = parse(r#"{"itemsPerPage":18446744073709551615,"Resources":[{"id":"1"}]}"#).unwrap();
        assert_eq!(list.resources.len(), 1);
        assert!(list.resources.capacity() <= 1000, "{}", list.resources.capacity());
        let list = parse(r#"{"itemsPerPage":"2","Resources":[{"id":"1"},{"id":"2"}]}"#).unwrap();
        assert_eq!(list.resources.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(), ["1", "2"]);
    }

    #[test]
    fn rejects_what_cannot_be_a_list() {
        for body in
            ["", "<html>oops</html>", "[1]", r#"{"Resources":{"id":"1"}}"#, r#"{"Resources":[{"userName":"no id"}]}"#]
        {
            assert!(matches!(parse(body), Err(Error::Decode(_))), "{body:?}");
        }
    }
}
