//! The [`Connector`] trait: what one downstream app must provide.
//!
//! A connector knows its app's base URL, how to authorise a request, and how to map a handful of
//! user primitives (create, get, find, update, set active, delete, list a page) onto the app's API.
//! Everything that is the same for every app (idempotent provisioning, deprovisioning that
//! tolerates missing users, paging as a stream, retries, rate-limit pacing, tracing) lives in
//! [`Client`](crate::Client) and in the one request path, [`Http`]. A new connector is therefore one
//! module that implements this trait. Resources other than users are optional capabilities (see
//! [`Connector`]'s "Optional capabilities"): a connector without them compiles unchanged.
//!
//! The trait uses [`async_trait`] so that `Box<dyn Connector>` and `Arc<dyn Connector>` work
//! (rustdoc shows the desugared `Pin<Box<dyn Future>>` signatures; implement the methods as
//! `async fn` inside `#[async_trait]`). A complete connector for a small JSON API:
//!
//! ```no_run
//! use async_trait::async_trait;
//! use identity_connectors::{
//!     Authorization, Client, Connector, Error, Http, Lookup, PageRequest, PageToken, RemoteUser, Request,
//!     Result, UpdateOutcome, User, UserId, UserPage,
//! };
//! use serde_json::{Value, json};
//! use url::Url;
//!
//! #[derive(Debug)]
//! struct Directory {
//!     base_url: Url,
//!     authorization: Authorization, // its Debug prints [REDACTED]
//! }
//!
//! fn remote(v: Value) -> Result<RemoteUser> {
//!     let id = v["id"].as_u64().ok_or_else(|| Error::invalid_input("no id in the answer", vec![]))?;
//!     let email = v["email"].as_str().unwrap_or_default().to_string();
//!     let active = v["active"].as_bool().unwrap_or(true);
//!     Ok(RemoteUser::new(UserId::new(id.to_string()), User::builder(&email).email(email).active(active).build()))
//! }
//!
//! #[async_trait]
//! impl Connector for Directory {
//!     fn kind(&self) -> &'static str { "directory" }
//!     fn display_name(&self) -> &str { "Directory" }
//!     fn base_url(&self) -> &Url { &self.base_url }
//!     fn authorization(&self) -> &Authorization { &self.authorization }
//!     fn match_key(&self, user: &User) -> Result<Lookup> {
//!         let email = user.primary_email().ok_or_else(|| Error::invalid_input("no e-mail", vec![]))?;
//!         Ok(Lookup::Email(email.to_string()))
//!     }
//!     async fn test_connection(&self, http: &Http) -> Result<()> {
//!         http.send(Request::get(http.endpoint(&["users"])?, "/users")).await.map(drop)
//!     }
//!     async fn create_user(&self, http: &Http, user: &User) -> Result<RemoteUser> {
//!         let body = json!({"email": user.primary_email()});
//!         let request = Request::post(http.endpoint(&["users"])?, "/users").json("application/json", &body)?;
//!         remote(http.send(request).await?.json()?)
//!     }
//!     async fn get_user(&self, http: &Http, id: &UserId) -> Result<RemoteUser> {
//!         remote(http.send(Request::get(http.endpoint(&["users", id.as_str()])?, "/users/{id}")).await?.json()?)
//!     }
//!     async fn find_user(&self, http: &Http, lookup: &Lookup) -> Result<Option<RemoteUser>> {
//!         let mut url = http.endpoint(&["users"])?;
//!         url.query_pairs_mut().append_pair("email", lookup.value());
//!         let found: Vec<Value> = http.send(Request::get(url, "/users?email={email}")).await?.json()?;
//!         found.into_iter().next().map(remote).transpose()
//!     }
//!     async fn update_user(&self, _: &Http, _: &UserId, _: &User, _: Option<&RemoteUser>) -> Result<UpdateOutcome> {
//!         Ok(UpdateOutcome::Unchanged) // this directory stores nothing but the e-mail
//!     }
//!     async fn set_active(&self, http: &Http, id: &UserId, active: bool) -> Result<()> {
//!         let url = http.endpoint(&["users", id.as_str()])?;
//!         let request = Request::put(url, "/users/{id}").json("application/json", &json!({"active": active}))?;
//!         http.send(request).await.map(drop)
//!     }
//!     async fn delete_user(&self, http: &Http, id: &UserId) -> Result<()> {
//!         http.send(Request::delete(http.endpoint(&["users", id.as_str()])?, "/users/{id}")).await.map(drop)
//!     }
//!     async fn list_users(&self, http: &Http, page: &PageRequest) -> Result<UserPage> {
//!         let number: u32 = page.token.as_ref().and_then(|t| t.as_str().parse().ok()).unwrap_or(1);
//!         let mut url = http.endpoint(&["users"])?;
//!         url.query_pairs_mut().append_pair("page", &number.to_string());
//!         let users: Vec<Value> = http.send(Request::get(url, "/users?page={n}")).await?.json()?;
//!         let next = (!users.is_empty()).then(|| PageToken::new((number + 1).to_string()));
//!         Ok(UserPage::new(users.into_iter().map(remote).collect::<Result<_>>()?, next, None))
//!     }
//! }
//!
//! # async fn run() -> Result<()> {
//! let directory = Directory {
//!     base_url: Url::parse("https://directory.example.com/api").map_err(|e| Error::invalid_config(e.to_string()))?,
//!     authorization: Authorization::bearer(&"token".into())?,
//! };
//! let client = Client::new(directory)?; // provisioning, deprovisioning, paging, retries: all shared
//! client.provision(&User::builder("jane@example.com").email("jane@example.com").build()).await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use secrecy::SecretString;
use url::Url;

use crate::auth::Authorization;
use crate::error::{ApiError, Error, Result};
use crate::group::GroupConnector;
use crate::http::{Http, Response};
use crate::outcome::UpdateOutcome;
use crate::resource::{Lookup, PageRequest, RemoteUser, UserId, UserPage};
use crate::user::User;

/// One downstream app's API, as seen by the [`Client`](crate::Client).
///
/// Implementations must be cheap to share (`Send + Sync`) and must redact credentials in `Debug`.
/// Methods that take `http` must send every request through it, so that timeouts, retries,
/// rate-limit pacing, body-size limits and tracing apply uniformly.
///
/// # Optional capabilities
///
/// Users are the one resource every app has. Every other resource is a capability: its own
/// object-safe trait in its own module (`Send + Sync + Debug`, such as [`GroupConnector`]), handed
/// out by an accessor on this trait that defaults to `None`
/// ([`groups`](Connector::groups)). So the trait set grows without breaking a connector that
/// lacks the new resource: it compiles unchanged and keeps the default. A connector whose app has
/// it implements the capability trait (on itself or on a part it owns) and returns `Some`. The
/// client hands the capability out ([`Client::groups`](crate::Client::groups)) and turns `None`
/// into [`Error::Unsupported`](crate::Error::Unsupported), naming the connector and the capability,
/// before anything is sent.
///
/// Adding a capability takes four steps: the trait in its own module, with a default for every
/// method; a defaulted accessor here, forwarded by the `Box` and `Arc` implementations; a `Client`
/// method that returns it or the `Unsupported` error; and a root re-export.
#[async_trait]
pub trait Connector: Send + Sync + fmt::Debug {
    /// A short, stable identifier of the connector type, used in traces: `"interact"`, `"scim"`,
    /// `"freshservice"`.
    fn kind(&self) -> &'static str;

    /// A human-readable name for reports and logs, such as `Interact (intranet.example.com)`.
    fn display_name(&self) -> &str;

    /// The normalised base URL every request is built on.
    fn base_url(&self) -> &Url;

    /// The `Authorization` header to send with every request.
    fn authorization(&self) -> &Authorization;

    /// The `Authorization` header for `credential`, a replacement of the one the connector was
    /// built with: what [`Client::set_credential`](crate::Client::set_credential) and a
    /// [`CredentialSource`](crate::CredentialSource) hand over (for this crate's connectors, what
    /// their constructor takes: a bearer token, a Freshservice API key). A credential that cannot
    /// be used is an [`Error::InvalidConfig`](crate::Error::InvalidConfig) that does not repeat it.
    ///
    /// Defaults to [`Error::Unsupported`](crate::Error::Unsupported): a connector that can rotate
    /// its credential builds the header as its constructor does.
    fn authorization_for(&self, credential: &SecretString) -> Result<Authorization> {
        let _ = credential;
        Err(Error::unsupported(self.display_name(), "credential rotation"))
    }

    /// The `Accept` header for requests. Defaults to `application/json`.
    fn accept(&self) -> &'static str {
        "application/json"
    }

    /// Turns a non-success response into the server's status, code and message.
    ///
    /// The default understands SCIM error bodies (`detail`, `scimType`), Freshservice bodies
    /// (`description`, `errors[]`, `code`, `message`) and common `{"message"}` / `{"error"}` shapes,
    /// and falls back to a short excerpt of any other body. Connectors override it to add a
    /// [`hint`](ApiError::hint).
    fn api_error(&self, response: &Response) -> ApiError {
        crate::error_body::api_error_from_body(response.status(), response.body(), &|text| response.redact(text))
    }

    /// The look-up that identifies `user` in this app: the key provisioning uses to stay
    /// idempotent (SCIM: `userName`; Freshservice: the primary e-mail).
    fn match_key(&self, user: &User) -> Result<Lookup>;

    /// The largest page [`list_users`](Connector::list_users) may ask for. Reconciliation
    /// ([`Reconciler`](crate::sync::Reconciler)) lists at this size, so a full read costs as few
    /// requests as the app allows. Defaults to 100, a size every paging API this crate knows
    /// accepts; connectors whose app allows more (SCIM: 1000) say so.
    fn max_page_size(&self) -> u32 {
        100
    }

    /// The part of `user` this app stores and a [`list_users`](Connector::list_users) page shows,
    /// so reconciliation can compare a desired person with a listed account without reading each
    /// one: attributes the app does not store (or lists without) are left out of both sides.
    /// Defaults to the whole user.
    fn comparable(&self, user: &User) -> User {
        user.clone()
    }

    /// Checks that `user` has everything this app requires to create it, before any request is
    /// sent. Returns a validation error naming every missing field.
    fn check_new_user(&self, user: &User) -> Result<()> {
        let _ = user;
        Ok(())
    }

    /// Proves that the URL and credential work, with one cheap read.
    async fn test_connection(&self, http: &Http) -> Result<()>;

    /// Creates `user`. A user that already exists must come back as a conflict
    /// ([`Error::is_conflict`](crate::Error::is_conflict)), never as a second user.
    async fn create_user(&self, http: &Http, user: &User) -> Result<RemoteUser>;

    /// Reads one user by id. An unknown id is [`Error::NotFound`](crate::Error::NotFound).
    async fn get_user(&self, http: &Http, id: &UserId) -> Result<RemoteUser>;

    /// Finds the one user matching `lookup`, active or not. `Ok(None)` when there is none.
    async fn find_user(&self, http: &Http, lookup: &Lookup) -> Result<Option<RemoteUser>>;

    /// The look-up [`Client::provision`](crate::Client::provision) runs before it creates a
    /// person; `Ok(None)` sends the create. Defaults to [`find_user`](Connector::find_user).
    ///
    /// Only a connector whose server refuses a second user with the same match key may answer
    /// from a cheaper look-up that can miss an existing user, or skip the look-up (returning
    /// `Ok(None)` unsent): such a create fails as a conflict, and provisioning then runs
    /// [`find_user`](Connector::find_user) and links the person it finds.
    async fn find_before_create(&self, http: &Http, lookup: &Lookup) -> Result<Option<RemoteUser>> {
        self.find_user(http, lookup).await
    }

    /// The look-up before a create that a [sync plan](crate::sync) decided on: the plan listed
    /// every account of the app, and this person was not among them (user names and e-mail
    /// addresses compared ignoring ASCII case). A connector may leave out what only another full
    /// listing would find (every page read on a server that cannot filter, case variants on one
    /// that compares user names case-sensitively), but should still find a person created since
    /// the listing where its server can filter. Defaults to
    /// [`find_before_create`](Connector::find_before_create).
    async fn find_before_planned_create(&self, http: &Http, lookup: &Lookup) -> Result<Option<RemoteUser>> {
        self.find_before_create(http, lookup).await
    }

    /// Applies `changes` (a partial user: only the attributes to change are set) to user `id`.
    /// `current` is the user as last read, when the caller has it, so the connector can avoid a
    /// read. Returns [`UpdateOutcome::Unchanged`] when nothing was sent (nothing the app stores
    /// differed), else [`UpdateOutcome::Updated`] with the updated user when the response carried it.
    async fn update_user(
        &self,
        http: &Http,
        id: &UserId,
        changes: &User,
        current: Option<&RemoteUser>,
    ) -> Result<UpdateOutcome>;

    /// Deactivates (`active == false`) or reactivates a user. Repeating it must succeed.
    async fn set_active(&self, http: &Http, id: &UserId, active: bool) -> Result<()>;

    /// Permanently deletes a user. An unknown id is [`Error::NotFound`](crate::Error::NotFound).
    async fn delete_user(&self, http: &Http, id: &UserId) -> Result<()>;

    /// Reads one page of users.
    async fn list_users(&self, http: &Http, page: &PageRequest) -> Result<UserPage>;

    /// Like [`create_user`](Connector::create_user), and also returns the attribute paths of
    /// `user` that were not sent (read-only on the server, of an extension it does not declare).
    /// Defaults to `create_user` with nothing skipped.
    async fn create_user_reporting(&self, http: &Http, user: &User) -> Result<(RemoteUser, Vec<String>)> {
        Ok((self.create_user(http, user).await?, Vec::new()))
    }

    /// Deactivates or reactivates `user` as it was read, so a connector can make the write
    /// conditional on that version (SCIM `If-Match`). Defaults to
    /// [`set_active`](Connector::set_active) by id.
    async fn set_active_of(&self, http: &Http, user: &RemoteUser, active: bool) -> Result<()> {
        self.set_active(http, &user.id, active).await
    }

    /// What the app says about itself (SCIM discovery), one sentence per point, read on first
    /// use and cached; `refresh` reads it again. `None` (the default) for apps without discovery.
    async fn discovery(&self, http: &Http, refresh: bool) -> Option<Vec<String>> {
        let _ = (http, refresh);
        None
    }

    /// The group operations, if this app has groups. Defaults to `None`:
    /// [`Client::groups`](crate::Client::groups) then reports
    /// [`Error::Unsupported`](crate::Error::Unsupported). See
    /// [optional capabilities](Connector#optional-capabilities).
    fn groups(&self) -> Option<&dyn GroupConnector> {
        None
    }
}

/// The future an `#[async_trait]` method returns (also written out by connectors that box a
/// future directly).
pub(crate) type Boxed<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// `make()` in a box made first, so the future can be built in it rather than built aside and
/// copied in (most of a large future's bytes are unused until it runs).
#[inline(always)]
pub(crate) fn boxed_in_place<'a, F: Future + Send + 'a>(make: impl FnOnce() -> F) -> Boxed<'a, F::Output> {
    let boxed: Box<F> = Box::write(Box::<F>::new_uninit(), make());
    Box::into_pin(boxed)
}

/// A method of an `#[async_trait]` impl, written with the signature the attribute gives it, whose
/// future is built in its box ([`boxed_in_place`]); the attribute's own boxing builds it aside and
/// copies it in (~1 KB for a request's future). The lifetimes of the reference parameters, `self`
/// and the parameters are named by the caller (a macro cannot name them for the body it is given).
macro_rules! in_place {
    ($name:ident<$($life:lifetime),*>($self:ident, $($arg:ident: $ty:ty),* $(,)?) -> $out:ty => $body:expr) => {
        fn $name<'life0, $($life,)* 'async_trait>(
            &'life0 $self,
            $($arg: $ty),*
        ) -> $crate::connector::Boxed<'async_trait, $out>
        where
            'life0: 'async_trait,
            $($life: 'async_trait,)*
            Self: 'async_trait,
        {
            $crate::connector::boxed_in_place(move || $body)
        }
    };
}
pub(crate) use in_place;

/// A forwarding method with the signature `#[async_trait]` gives the trait's `async fn`, returning
/// the wrapped connector's future itself.
macro_rules! forward_boxed {
    ($name:ident<$($life:lifetime),*>($($arg:ident: $ty:ty),* $(,)?) -> $out:ty) => {
        fn $name<'life0, $($life,)* 'async_trait>(&'life0 self, $($arg: $ty),*) -> Boxed<'async_trait, $out>
        where
            'life0: 'async_trait,
            $($life: 'async_trait,)*
            Self: 'async_trait,
        {
            (**self).$name($($arg),*)
        }
    };
}

macro_rules! forward_connector {
    ($ty:ty) => {
        #[async_trait]
        impl<T: Connector + ?Sized> Connector for $ty {
            fn kind(&self) -> &'static str {
                (**self).kind()
            }
            fn display_name(&self) -> &str {
                (**self).display_name()
            }
            fn base_url(&self) -> &Url {
                (**self).base_url()
            }
            fn authorization(&self) -> &Authorization {
                (**self).authorization()
            }
            fn authorization_for(&self, credential: &SecretString) -> Result<Authorization> {
                (**self).authorization_for(credential)
            }
            fn accept(&self) -> &'static str {
                (**self).accept()
            }
            fn api_error(&self, response: &Response) -> ApiError {
                (**self).api_error(response)
            }
            fn match_key(&self, user: &User) -> Result<Lookup> {
                (**self).match_key(user)
            }
            fn check_new_user(&self, user: &User) -> Result<()> {
                (**self).check_new_user(user)
            }
            fn max_page_size(&self) -> u32 {
                (**self).max_page_size()
            }
            fn comparable(&self, user: &User) -> User {
                (**self).comparable(user)
            }
            // The wrapped connector's boxed futures are handed on as they are, not boxed again.
            forward_boxed!(test_connection<'life1>(http: &'life1 Http) -> Result<()>);
            forward_boxed!(create_user<'life1, 'life2>(http: &'life1 Http, user: &'life2 User) -> Result<RemoteUser>);
            forward_boxed!(get_user<'life1, 'life2>(http: &'life1 Http, id: &'life2 UserId) -> Result<RemoteUser>);
            forward_boxed!(find_user<'life1, 'life2>(http: &'life1 Http, lookup: &'life2 Lookup) -> Result<Option<RemoteUser>>);
            forward_boxed!(find_before_create<'life1, 'life2>(http: &'life1 Http, lookup: &'life2 Lookup) -> Result<Option<RemoteUser>>);
            forward_boxed!(update_user<'life1, 'life2, 'life3, 'life4>(
                http: &'life1 Http,
                id: &'life2 UserId,
                changes: &'life3 User,
                current: Option<&'life4 RemoteUser>
            ) -> Result<UpdateOutcome>);
            forward_boxed!(set_active<'life1, 'life2>(http: &'life1 Http, id: &'life2 UserId, active: bool) -> Result<()>);
            forward_boxed!(delete_user<'life1, 'life2>(http: &'life1 Http, id: &'life2 UserId) -> Result<()>);
            forward_boxed!(list_users<'life1, 'life2>(http: &'life1 Http, page: &'life2 PageRequest) -> Result<UserPage>);
            forward_boxed!(create_user_reporting<'life1, 'life2>(http: &'life1 Http, user: &'life2 User) -> Result<(RemoteUser, Vec<String>)>);
            forward_boxed!(set_active_of<'life1, 'life2>(http: &'life1 Http, user: &'life2 RemoteUser, active: bool) -> Result<()>);
            forward_boxed!(discovery<'life1>(http: &'life1 Http, refresh: bool) -> Option<Vec<String>>);
            fn groups(&self) -> Option<&dyn GroupConnector> {
                (**self).groups()
            }
        }
    };
}

forward_connector!(Box<T>);
forward_connector!(Arc<T>);
