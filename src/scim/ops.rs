//! The SCIM 2.0 user operations, on top of the one request path ([`Http`]).
//!
//! [`ScimBearer`](crate::ScimBearer) and [`InteractBearer`](crate::InteractBearer) are thin
//! wrappers around these functions; a connector for another SCIM app (with another credential, or
//! its own extension) can implement [`Connector`](crate::Connector) the same way. Every request
//! with a body carries exactly one `Content-Type: application/scim+json`; ids go into the path as
//! one percent-encoded segment; filter values are JSON string literals, percent-encoded.

use crate::error::{DecodeError, Error, FieldError, Result};
use crate::http::{Http, Request, Response};
use crate::outcome::UpdateOutcome;
use crate::resource::{Lookup, PageRequest, PageToken, RemoteUser, UserId, UserPage};
use crate::scim::decode;
use crate::scim::{Filter, ListResponse, PatchOp};
use crate::user::User;

/// The media type of SCIM request bodies (RFC 7644 §8.1).
pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

/// The `Accept` header SCIM connectors send: SCIM's media type first, plain JSON for servers that
/// only know that.
pub const SCIM_ACCEPT: &str = "application/scim+json, application/json";

/// The largest page [`list_users`] asks for. Servers may cap it lower (and say so by returning
/// fewer resources, which paging handles).
pub const MAX_PAGE_SIZE: u32 = 1000;

/// The SCIM look-up that identifies a user: their `userName`. A user without one is a validation
/// error (nothing is sent).
pub fn match_key(user: &User) -> Result<Lookup> {
    match user.user_name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => Ok(Lookup::UserName(name.to_string())),
        _ => Err(Error::invalid_input(
            "a SCIM user needs a user name to be matched",
            vec![FieldError::new("userName", "is required")],
        )),
    }
}

/// Proves that the base URL and the token work: `GET /Users?startIndex=1&count=1`, which must
/// answer with a SCIM list (an HTML page from a wrong URL is a decode error). A `404` gets a hint
/// to check the base URL.
pub async fn test_connection(http: &Http) -> Result<()> {
    let mut url = http.endpoint(&["Users"])?;
    url.query_pairs_mut().append_pair("startIndex", "1").append_pair("count", "1");
    let response = http.send(Request::get(url, "/Users")).await.map_err(|error| match error {
        Error::NotFound(api) if api.hint.is_none() => Error::NotFound(api.with_hint(Some(
            "Check the SCIM base URL: it must be the one `/Users` hangs off, such as https://host/scim/v2".to_string(),
        ))),
        other => other,
    })?;
    ListResponse::from_response(&response).map(|_| ())
}

/// `POST /Users` with `user` as SCIM JSON. The server's answer (normally `201` with the user and
/// its `id`) is returned; an empty or id-less answer is a decode error. An existing user is
/// [`Error::Conflict`] (`409`, or `400` with `scimType: uniqueness`).
pub async fn create_user(http: &Http, user: &User) -> Result<RemoteUser> {
    let url = http.endpoint(&["Users"])?;
    let response = http.send(Request::post(url, "/Users").json(SCIM_CONTENT_TYPE, user)?).await?;
    user_from_response(&response)
}

/// `GET /Users/{id}`. An unknown id is [`Error::NotFound`].
pub async fn get_user(http: &Http, id: &UserId) -> Result<RemoteUser> {
    let request = Request::get(http.endpoint(&["Users", id.as_str()])?, "/Users/{id}");
    let response = http.send(request).await?;
    user_from_response(&response)
}

/// `GET /Users?filter=…`: every user the filter matches, in the server's order (its first page:
/// no paging parameters are sent, so the server's default page size applies). A `404` answer is
/// taken as "none" (Okta answers a filter that matches nothing so).
pub async fn search_users(http: &Http, filter: &Filter) -> Result<Vec<RemoteUser>> {
    // Built in a block: the URL and the query, moved into the request or not, would otherwise
    // stay in this future's state across the send.
    let request = {
        let mut url = http.endpoint(&["Users"])?;
        let mut query = String::with_capacity(7 + filter.as_str().len() * 3);
        query.push_str("filter=");
        filter.push_query_value(&mut query);
        url.set_query(Some(&query));
        Request::get(url, "/Users")
    };
    match http.send(request).await {
        Ok(response) => Ok(ListResponse::from_response(&response)?.resources),
        Err(Error::NotFound(_)) => Ok(Vec::new()),
        Err(error) => Err(error),
    }
}

/// Finds the one user `lookup` identifies, active or not.
///
/// - [`Lookup::UserName`] filters on `userName eq`, which SCIM servers compare case-insensitively
///   (RFC 7643: `caseExact: false`).
/// - [`Lookup::ExternalId`] filters on `externalId eq` (case-sensitive: `caseExact: true`).
/// - [`Lookup::Email`] filters on `emails.value eq`, which matches any of a user's addresses,
///   whatever its type: the question is "who has this address", and servers differ in which type
///   they give a work address.
///
/// The answer is checked here too, so a server that ignores or misreads the filter (and returns
/// other users) can never make the wrong person match: only users whose attribute equals the
/// value (user names and e-mail addresses ignoring ASCII case) count. If several remain for a
/// user name, the one whose user name matches exactly, case included, is taken. Any other
/// ambiguity is an [`Error::Ambiguous`]: picking one of several people would
/// risk updating or deactivating the wrong one.
pub async fn find_user(http: &Http, lookup: &Lookup) -> Result<Option<RemoteUser>> {
    let filter = lookup_filter(lookup)?;
    pick(lookup, search_users(http, &filter).await?)
}

/// The filter a look-up sends; an empty value is a validation error (nothing is sent).
pub(crate) fn lookup_filter(lookup: &Lookup) -> Result<Filter> {
    let value = lookup.value();
    if value.trim().is_empty() {
        return Err(Error::invalid_input(
            format!("cannot look a user up by an empty {}", lookup.attribute()),
            vec![FieldError::new(lookup.attribute(), "is empty")],
        ));
    }
    Ok(match lookup {
        Lookup::UserName(_) => Filter::eq_known("userName", value),
        Lookup::ExternalId(_) => Filter::eq_known("externalId", value),
        Lookup::Email(_) => Filter::eq_known("emails.value", value),
    })
}

/// The one user among `candidates` that `lookup` identifies (see [`find_user`] for the rules).
pub(crate) fn pick(lookup: &Lookup, mut candidates: Vec<RemoteUser>) -> Result<Option<RemoteUser>> {
    Ok(pick_index(lookup, &candidates)?.map(|index| candidates.swap_remove(index)))
}

/// Where in `candidates` the one user `lookup` identifies is, as [`pick`] would choose it; the
/// users, large, stay where they are until the caller takes the one.
pub(crate) fn pick_index(lookup: &Lookup, candidates: &[RemoteUser]) -> Result<Option<usize>> {
    let hit = |user: &RemoteUser| lookup_matches(lookup, &user.user);
    let exact = |user: &RemoteUser| match lookup {
        Lookup::UserName(name) => hit(user) && user.user.user_name.as_deref() == Some(name.as_str()),
        _ => hit(user),
    };
    let mut count = candidates.iter().filter(|user| hit(user)).count();
    // Several for a user name: the one spelt exactly so (case included), if any.
    let several_names = count > 1 && matches!(lookup, Lookup::UserName(_));
    if several_names {
        count = candidates.iter().filter(|user| exact(user)).count();
    }
    match count {
        0 => Ok(None),
        1 if several_names => Ok(candidates.iter().position(exact)),
        1 => Ok(candidates.iter().position(hit)),
        matches => Err(Error::Ambiguous { attribute: lookup.attribute(), matches }),
    }
}

/// Applies `changes` (a partial user) to user `id` with one `PATCH`, built by
/// [`PatchOp::from_changes`].
///
/// `current` lets e-mail and phone changes target only the values that changed; when it is not
/// given and `changes` touches e-mails or phone numbers, the user is read first. Nothing is sent
/// when there is nothing to change. Returns the user when the server answered `200` with it, and
/// `None` for `204 No Content` (read the user back with [`get_user`] if you need it).
pub async fn update_user(
    http: &Http,
    id: &UserId,
    changes: &User,
    current: Option<&RemoteUser>,
) -> Result<UpdateOutcome> {
    let needs_current = !changes.emails.is_empty() || !changes.phone_numbers.is_empty();
    let read;
    let current = match current {
        Some(current) => Some(current),
        None if needs_current => {
            read = get_user(http, id).await?;
            Some(&read)
        }
        None => None,
    };
    let patch = PatchOp::from_changes(changes, current.map(|c| &*c.user));
    if patch.is_empty() {
        return Ok(UpdateOutcome::Unchanged);
    }
    Ok(UpdateOutcome::Updated(patch_user(http, id, &patch).await?))
}

/// `PATCH /Users/{id}` with `patch`. Returns the user when the server answered with it (`200`),
/// `None` for an empty answer (`204`). A `200` whose body is not a user is treated like a `204`:
/// the change was applied, only the echo is unusable.
pub async fn patch_user(http: &Http, id: &UserId, patch: &PatchOp) -> Result<Option<RemoteUser>> {
    if patch.is_empty() {
        return Err(Error::invalid_input("a SCIM PATCH needs at least one operation", Vec::new()));
    }
    let url = http.endpoint(&["Users", id.as_str()])?;
    let response = http.send(Request::patch(url, "/Users/{id}").json(SCIM_CONTENT_TYPE, patch)?).await?;
    if response.is_empty() {
        return Ok(None);
    }
    match user_from_response(&response) {
        Ok(user) => Ok(Some(user)),
        Err(error) => {
            tracing::debug!(status = response.status(), %error, "PATCH answered with a body that is not a user");
            Ok(None)
        }
    }
}

/// Deactivates (`false`) or reactivates (`true`) user `id`:
/// `PATCH {"op":"replace","path":"active","value":…}`. Repeating it succeeds; `200` and `204` are
/// both success.
pub async fn set_active(http: &Http, id: &UserId, active: bool) -> Result<()> {
    let url = http.endpoint(&["Users", id.as_str()])?;
    let patch = PatchOp::new().replace("active", active);
    http.send(Request::patch(url, "/Users/{id}").json(SCIM_CONTENT_TYPE, &patch)?).await?;
    Ok(())
}

/// `DELETE /Users/{id}`. An unknown id is [`Error::NotFound`] (which
/// [`Client::hard_delete`](crate::Client::hard_delete) reports as already gone).
pub async fn delete_user(http: &Http, id: &UserId) -> Result<()> {
    let url = http.endpoint(&["Users", id.as_str()])?;
    http.send(Request::delete(url, "/Users/{id}")).await?;
    Ok(())
}

/// One page of users: `GET /Users?startIndex=…&count=…`.
///
/// The page token is the next 1-based `startIndex`, as text; anything else is a validation error.
/// The next page starts after the resources actually returned (servers may return fewer than
/// asked), and there is none after an empty page or once `totalResults` is reached. The size is
/// clamped to `1..=`[`MAX_PAGE_SIZE`].
pub async fn list_users(http: &Http, page: &PageRequest) -> Result<UserPage> {
    let start: u64 = match &page.token {
        None => 1,
        Some(token) => match token.as_str().parse::<u64>() {
            Ok(start) if start >= 1 => start,
            _ => {
                return Err(Error::invalid_input(
                    "invalid SCIM page token: expected a start index of 1 or more, as returned in UserPage::next",
                    Vec::new(),
                ));
            }
        },
    };
    let count = page.size.clamp(1, MAX_PAGE_SIZE);
    let mut url = http.endpoint(&["Users"])?;
    url.query_pairs_mut().append_pair("startIndex", &start.to_string()).append_pair("count", &count.to_string());
    let response = http.send(Request::get(url, "/Users")).await?;
    let list = ListResponse::from_response(&response)?;
    let returned = list.resources.len() as u64;
    let next_start = start.saturating_add(returned);
    let more = returned > 0 && list.total_results.is_none_or(|total| next_start <= total);
    let next = more.then(|| PageToken::new(next_start.to_string()));
    Ok(UserPage::new(list.resources, next, list.total_results))
}

/// Whether `user` really has the looked-up value (what the filter asked the server for).
pub(crate) fn lookup_matches(lookup: &Lookup, user: &User) -> bool {
    match lookup {
        Lookup::UserName(name) => user.user_name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name)),
        Lookup::ExternalId(external_id) => user.external_id.as_deref() == Some(external_id.as_str()),
        Lookup::Email(email) => user.emails.iter().any(|e| e.value.eq_ignore_ascii_case(email)),
    }
}

/// The user in `response`, with its version from the `ETag` header (else `meta.version`).
pub(crate) fn user_from_response(response: &Response) -> Result<RemoteUser> {
    let mut user =
        response.json_with(decode::read_remote_user)?.map_err(|message| not_a_user(response.status(), message))?;
    if let Some(etag) =
        response.known_header(&crate::http::ETAG).map(str::trim).filter(|e| !e.is_empty() && e.len() <= 256)
    {
        user.version = Some(etag.to_string());
    }
    Ok(user)
}

/// The error of a body that is JSON but not a SCIM user; cold and out of line, as the failures of
/// [`Response::json_with`].
#[cold]
#[inline(never)]
fn not_a_user(status: u16, message: &'static str) -> Error {
    DecodeError::new(Some(status), message, &[]).into()
}

#[cfg(test)]
mod tests {
    use super::{pick, pick_index};
    use crate::error::Error;
    use crate::resource::{Lookup, RemoteUser, UserId};
    use crate::user::User;

    fn user(id: &str, name: &str, email: &str) -> RemoteUser {
        RemoteUser::new(UserId::new(id), User::builder(name).email(email).build())
    }

    fn ids(lookup: &Lookup, users: &[RemoteUser]) -> Result<Option<String>, String> {
        let index = pick_index(lookup, users).map_err(|e| e.to_string())?;
        let picked = pick(lookup, users.to_vec()).map_err(|e| e.to_string())?;
        // `pick` takes exactly the user `pick_index` points at.
        assert_eq!(picked.as_ref().map(|u| &u.id), index.map(|i| &users[i].id));
        Ok(picked.map(|u| u.id.as_str().to_string()))
    }

    #[test]
    fn picks_the_one_match_and_refuses_to_guess_between_several() {
        let name = |n: &str| Lookup::UserName(n.to_string());
        let email = |e: &str| Lookup::Email(e.to_string());
        let users = [
            user("a", "casey-x", "casey@example.com"),
            user("b", "Casey-X", "casey@example.com"),
            user("c", "drew", "drew@example.com"),
        ];
        // Others in the answer (a server that ignored the filter) never match.
        assert_eq!(ids(&name("DREW"), &users), Ok(Some("c".to_string())));
        assert_eq!(ids(&name("nobody"), &users), Ok(None));
        // Several user names ignoring case: the one spelt exactly so, wherever it stands.
        assert_eq!(ids(&name("Casey-X"), &users), Ok(Some("b".to_string())));
        assert_eq!(ids(&name("casey-x"), &users), Ok(Some("a".to_string())));
        // …and none when none is (`CASEY-X` names neither of two people).
        assert_eq!(ids(&name("CASEY-X"), &users), Ok(None));
        // Two people with one address: no guess.
        let error = pick_index(&email("CASEY@example.com"), &users).unwrap_err();
        assert!(matches!(error, Error::Ambiguous { attribute: "email", matches: 2 }), "{error:?}");
        assert_eq!(ids(&email("drew@EXAMPLE.com"), &users), Ok(Some("c".to_string())));
        // Two with the very same user name: no guess either.
        let twins = [user("a", "sam", "s1@example.com"), user("b", "sam", "s2@example.com")];
        let error = pick_index(&name("sam"), &twins).unwrap_err();
        assert!(matches!(error, Error::Ambiguous { attribute: "userName", matches: 2 }), "{error:?}");
        assert_eq!(ids(&name("sam"), &[]), Ok(None));
    }
}
