//! The SCIM operations as [`ScimBearer`](crate::ScimBearer) and
//! [`InteractBearer`](crate::InteractBearer) run them: [`ops`] adapted to what discovery found and
//! to what the server refuses.
//!
//! - Creates leave out read-only attributes and extensions the server does not declare.
//! - Updates leave out read-only and immutable attributes, undeclared extensions and attributes
//!   the server refused before; are a full `PUT` of the resource as read when the server has no
//!   `PATCH`; carry `If-Match` when it has ETags (a `412` re-reads, re-diffs and retries once); and
//!   a `PATCH` refused with `400` (`mutability`, `invalidPath`, `noTarget`, `invalidValue`) is sent
//!   again without the operations the server named, or one operation at a time when it named none.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::http::{Http, Request};
use crate::outcome::UpdateOutcome;
use crate::resource::{RemoteUser, UserId};
use crate::scim::adapt::{apply_operations, filter_operations, named_operations, refusal_detail, strip_read_only};
use crate::scim::codec::ScimExtensions;
use crate::scim::discovery::{DiscoveryCache, ServerCapabilities};
use crate::scim::ops::{self, SCIM_CONTENT_TYPE, user_from_response};
use crate::scim::patch::{PatchOp, PatchOperation};
use crate::user::User;

/// The default look-up page limit ([`ScimBearer::with_scan_limit`](crate::ScimBearer::with_scan_limit)): pages of [`SCAN_PAGE_SIZE`] users.
pub const DEFAULT_SCAN_PAGES: u32 = 100;
/// The page size of a look-up that reads every page.
pub const SCAN_PAGE_SIZE: u32 = 100;

/// What a SCIM connector keeps besides its URL and credential: the extensions it types, the
/// discovery state (shared by its clones), and the most pages a look-up may read.
#[derive(Debug, Clone)]
pub(crate) struct ScimCore {
    pub(crate) extensions: ScimExtensions,
    pub(crate) discovery: DiscoveryCache,
    pub(crate) scan_limit: u32,
}

impl ScimCore {
    pub(crate) fn new(extensions: ScimExtensions) -> Self {
        ScimCore { extensions, discovery: DiscoveryCache::default(), scan_limit: DEFAULT_SCAN_PAGES }
    }

    pub(crate) async fn capabilities(&self, http: &Http) -> Arc<ServerCapabilities> {
        self.discovery.get(http).await
    }

    /// What discovery found, in words; `refresh` reads it again.
    pub(crate) async fn describe(&self, http: &Http, refresh: bool) -> Vec<String> {
        let capabilities = if refresh { self.discovery.refresh(http).await } else { self.discovery.get(http).await };
        capabilities.describe()
    }

    pub(crate) fn lift(&self, mut user: RemoteUser) -> RemoteUser {
        self.extensions.lift(&mut user.user);
        user
    }

    /// User `index` of `users`, lifted where it lies and then moved out.
    pub(crate) fn take_lifted(&self, users: &mut Vec<RemoteUser>, index: usize) -> RemoteUser {
        self.extensions.lift(&mut users[index].user);
        users.swap_remove(index)
    }

    /// `POST /Users` with what the server accepts of `user`; the paths left out are returned.
    pub(crate) async fn create(&self, http: &Http, user: &User) -> Result<(RemoteUser, Vec<String>)> {
        let capabilities = self.capabilities(http).await;
        let url = http.endpoint(&["Users"])?;
        if capabilities.adapts_nothing() && user.extra.is_empty() {
            // Nothing to leave out, and `schemas` already lists exactly the parts written: the
            // user's own SCIM JSON is what the adaptation below would send, built without the
            // detour through a JSON value.
            let response = http.send(Request::post(url, "/Users").json(SCIM_CONTENT_TYPE, user)?).await?;
            return Ok((self.lift(user_from_response(&response)?), Vec::new()));
        }
        let Value::Object(mut body) = serde_json::to_value(user)
            .map_err(|e| Error::invalid_input(format!("the user could not be encoded: {e}"), Vec::new()))?
        else {
            return Err(Error::invalid_input("the user could not be encoded as an object", Vec::new()));
        };
        let skipped = strip_read_only(&mut body, &capabilities);
        fix_schemas(&mut body);
        warn_skipped("create", skipped.iter().map(|p| (p.as_str(), "read-only or undeclared on this server")));
        let response = http.send(Request::post(url, "/Users").json(SCIM_CONTENT_TYPE, &body)?).await?;
        Ok((self.lift(user_from_response(&response)?), skipped))
    }

    /// Sets `changes` on user `id` (see the module documentation).
    pub(crate) async fn update(
        &self,
        http: &Http,
        id: &UserId,
        changes: &User,
        current: Option<&RemoteUser>,
    ) -> Result<UpdateOutcome> {
        // A hostile id is refused before anything, discovery included, is sent.
        http.endpoint(&["Users", id.as_str()])?;
        let capabilities = self.capabilities(http).await;
        let put = capabilities.patch == Some(false);
        let etag = capabilities.etag == Some(true);
        let multi = !changes.emails.is_empty() || !changes.phone_numbers.is_empty();
        let mut current = match current {
            Some(c) if !(etag && c.version.is_none()) => Some(c.clone()),
            given if put || etag || multi => Some(ops::get_user(http, id).await?).or_else(|| given.cloned()),
            given => given.cloned(),
        };
        let mut changes = changes.clone();
        let mut skipped: Vec<String> = Vec::new();
        let mut retried = false;
        loop {
            let refused = self.discovery.refused().await;
            let operations = PatchOp::from_changes(&changes, current.as_ref().map(|c| &*c.user)).into_operations();
            let (operations, left_out) = filter_operations(operations, &capabilities, &refused);
            warn_skipped("update", left_out.iter().map(|(p, r)| (p.as_str(), r.as_str())));
            for (path, _) in left_out {
                push_unique(&mut skipped, path);
            }
            if operations.is_empty() {
                return Ok(outcome(false, None, skipped));
            }
            let version = if etag { current.as_ref().and_then(|c| c.version.clone()) } else { None };
            let result = match (&current, put) {
                (Some(read), true) => self.put(http, read, &operations, &capabilities, version.as_deref()).await,
                _ => self.patch_adaptively(http, id, operations, version, &mut skipped).await,
            };
            match result {
                Ok((applied, user)) => return Ok(outcome(applied, user.map(|u| self.lift(u)), skipped)),
                Err(error) if error.status() == Some(412) && etag && !retried => {
                    // Someone changed the user since it was read: read it again and send only
                    // what still differs, once.
                    retried = true;
                    tracing::info!("the user changed since it was read (412); re-reading and retrying once");
                    let fresh = self.lift(ops::get_user(http, id).await?);
                    changes = changes.changes_from(&fresh.user);
                    current = Some(fresh);
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// `PUT /Users/{id}`: the user as read with `operations` applied, read-only attributes removed.
    async fn put(
        &self,
        http: &Http,
        read: &RemoteUser,
        operations: &[PatchOperation],
        capabilities: &ServerCapabilities,
        version: Option<&str>,
    ) -> Result<(bool, Option<RemoteUser>)> {
        let Value::Object(mut body) = serde_json::to_value(&read.user)
            .map_err(|e| Error::invalid_input(format!("the user could not be encoded: {e}"), Vec::new()))?
        else {
            return Err(Error::invalid_input("the user could not be encoded as an object", Vec::new()));
        };
        apply_operations(&mut body, operations);
        strip_read_only(&mut body, capabilities);
        fix_schemas(&mut body);
        let url = http.endpoint(&["Users", read.id.as_str()])?;
        let mut request = Request::put(url, "/Users/{id}").json(SCIM_CONTENT_TYPE, &body)?;
        if let Some(version) = version {
            request = request.if_match(version)?;
        }
        Ok((true, written_user(&http.send(request).await?)))
    }

    /// One `PATCH`; refused attributes (a `400` naming them) are dropped and the rest sent again;
    /// a refusal naming none splits the request into one `PATCH` per operation.
    async fn patch_adaptively(
        &self,
        http: &Http,
        id: &UserId,
        operations: Vec<PatchOperation>,
        version: Option<String>,
        skipped: &mut Vec<String>,
    ) -> Result<(bool, Option<RemoteUser>)> {
        let error = match send_patch(http, id, operations.clone(), version.as_deref()).await {
            Ok(user) => return Ok((true, user)),
            Err(error) => error,
        };
        let Some(detail) = refusal_detail(&error) else { return Err(error) };
        let named = named_operations(detail, &operations);
        let mut remaining = operations;
        if !named.is_empty() {
            let (refused, rest): (Vec<_>, Vec<_>) =
                remaining.into_iter().enumerate().partition(|(index, _)| named.contains(index));
            for (_, operation) in refused {
                self.refused(operation, skipped).await;
            }
            remaining = rest.into_iter().map(|(_, op)| op).collect();
            if remaining.is_empty() {
                return Ok((false, None));
            }
            match send_patch(http, id, remaining.clone(), version.as_deref()).await {
                Ok(user) => return Ok((true, user)),
                Err(error) if refusal_detail(&error).is_some() => {}
                Err(error) => return Err(error),
            }
        }
        // The server did not say which (or refused again): one operation at a time.
        let mut applied = false;
        let mut last = None;
        let mut version = version;
        for operation in remaining {
            match send_patch(http, id, vec![operation.clone()], version.as_deref()).await {
                Ok(user) => {
                    applied = true;
                    if version.is_some() {
                        // The write made a new version: the next one must name it.
                        version = match user.as_ref().and_then(|u| u.version.clone()) {
                            Some(v) => Some(v),
                            None => ops::get_user(http, id).await?.version,
                        };
                    }
                    last = user;
                }
                Err(error) if refusal_detail(&error).is_some() => self.refused(operation, skipped).await,
                Err(error) => return Err(error),
            }
        }
        Ok((applied, last))
    }

    async fn refused(&self, operation: PatchOperation, skipped: &mut Vec<String>) {
        let path = operation.path.unwrap_or_default();
        tracing::warn!(attribute = %path, "the server refused this attribute; it is left out from now on");
        self.discovery.refuse(&path).await;
        push_unique(skipped, path);
    }

    /// Deactivates or reactivates `user` as read: `If-Match` with its version where the server
    /// has ETags (a `412` re-reads and retries once), a full `PUT` where it has no `PATCH`.
    pub(crate) async fn set_active_of(&self, http: &Http, user: &RemoteUser, active: bool) -> Result<()> {
        http.endpoint(&["Users", user.id.as_str()])?;
        let capabilities = self.capabilities(http).await;
        let etag = capabilities.etag == Some(true);
        let put = capabilities.patch == Some(false);
        if !etag && !put {
            return ops::set_active(http, &user.id, active).await;
        }
        let mut read = if etag && user.version.is_none() { ops::get_user(http, &user.id).await? } else { user.clone() };
        for attempt in 0..2 {
            let version = if etag { read.version.clone() } else { None };
            let operation = PatchOp::new().replace("active", active).into_operations();
            let result = if put {
                self.put(http, &read, &operation, &capabilities, version.as_deref()).await.map(drop)
            } else {
                send_patch(http, &read.id, operation, version.as_deref()).await.map(drop)
            };
            match result {
                Err(error) if error.status() == Some(412) && attempt == 0 => {
                    read = ops::get_user(http, &user.id).await?;
                    if read.user.active == Some(active) {
                        return Ok(());
                    }
                }
                other => return other,
            }
        }
        Ok(())
    }

    /// [`set_active_of`](Self::set_active_of) by id: read first only when the server needs it.
    pub(crate) async fn set_active(&self, http: &Http, id: &UserId, active: bool) -> Result<()> {
        http.endpoint(&["Users", id.as_str()])?;
        let capabilities = self.capabilities(http).await;
        if capabilities.etag == Some(true) || capabilities.patch == Some(false) {
            let read = ops::get_user(http, id).await?;
            return self.set_active_of(http, &read, active).await;
        }
        ops::set_active(http, id, active).await
    }
}

/// `PATCH /Users/{id}` with `operations`, conditional on `version` when given.
async fn send_patch(
    http: &Http,
    id: &UserId,
    operations: Vec<PatchOperation>,
    version: Option<&str>,
) -> Result<Option<RemoteUser>> {
    let url = http.endpoint(&["Users", id.as_str()])?;
    let mut request =
        Request::patch(url, "/Users/{id}").json(SCIM_CONTENT_TYPE, &PatchOp::from_operations(operations))?;
    if let Some(version) = version {
        request = request.if_match(version)?;
    }
    Ok(written_user(&http.send(request).await?))
}

/// The user a write answered with; `None` for an empty answer or one that is not a user (the
/// write was applied, only the echo is unusable). An empty answer's `ETag` is kept as a version.
fn written_user(response: &crate::http::Response) -> Option<RemoteUser> {
    if response.is_empty() {
        return None;
    }
    match user_from_response(response) {
        Ok(user) => Some(user),
        Err(error) => {
            tracing::debug!(status = response.status(), %error, "a write answered with a body that is not a user");
            None
        }
    }
}

fn outcome(applied: bool, user: Option<RemoteUser>, skipped: Vec<String>) -> UpdateOutcome {
    match (applied, skipped.is_empty()) {
        (false, true) => UpdateOutcome::Unchanged,
        (true, true) => UpdateOutcome::Updated(user),
        (applied, false) => UpdateOutcome::Partial { applied, user, skipped },
    }
}

fn push_unique(paths: &mut Vec<String>, path: String) {
    if !paths.iter().any(|p| p.eq_ignore_ascii_case(&path)) {
        paths.push(path);
    }
}

/// Traces what was not sent: attribute paths only, never values.
fn warn_skipped<'a>(operation: &'static str, skipped: impl Iterator<Item = (&'a str, &'a str)>) {
    for (path, why) in skipped {
        tracing::warn!(operation, attribute = %path, reason = why, "attribute not sent");
    }
}

/// `schemas` keeps its order, loses the URNs whose object was removed, and gains those of
/// URN-keyed objects it did not list.
fn fix_schemas(body: &mut Map<String, Value>) {
    let present = |urn: &str| body.keys().any(|k| k.eq_ignore_ascii_case(urn));
    let core = crate::user::CORE_USER_SCHEMA;
    let mut schemas: Vec<String> = match body.get("schemas") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter(|urn| urn.eq_ignore_ascii_case(core) || present(urn))
            .map(str::to_string)
            .collect(),
        _ => vec![core.to_string()],
    };
    for (key, value) in body.iter() {
        let is_urn = key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
        if is_urn && value.is_object() && !schemas.iter().any(|s| s.eq_ignore_ascii_case(key)) {
            schemas.push(key.clone());
        }
    }
    body.insert("schemas".to_string(), Value::Array(schemas.into_iter().map(Value::String).collect()));
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::interact::{InteractAttributes, InteractBuilderExt, LoginType};
    use crate::scim::adapt::strip_read_only;

    /// `create` sends the user's own JSON when `adapts_nothing`: that must be exactly what the
    /// adaptation would have left of it.
    #[test]
    fn with_nothing_known_the_adapted_create_body_is_the_users_own_json() {
        let nothing = ServerCapabilities::default();
        assert!(nothing.adapts_nothing());
        let users = [
            User::builder("a@example.com").build(),
            User::builder("b@example.com")
                .external_id("E1")
                .given_name("B")
                .family_name("C")
                .email("b@example.com")
                .phone("555", "work")
                .title("T")
                .employee_number("7")
                .department("D")
                .manager("m-1")
                .active(false)
                .interact(InteractAttributes::new(LoginType::Saml).location("London"))
                .build(),
        ];
        for user in users {
            let own = serde_json::to_value(&user).unwrap();
            let Value::Object(mut adapted) = own.clone() else { panic!("a user is an object") };
            assert_eq!(strip_read_only(&mut adapted, &nothing), Vec::<String>::new());
            fix_schemas(&mut adapted);
            assert_eq!(Value::Object(adapted), own);
        }
        // A server that declared its schemas gets the adaptation.
        let mut declared = ServerCapabilities::default();
        declared.declared_schemas = Some(Default::default());
        assert!(!declared.adapts_nothing());
    }
}
