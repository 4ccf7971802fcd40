//! A minimal connector over a made-up JSON API, to test the Client's shared lifecycle logic and the
//! request path independently of any real app. It is also the smallest example of a connector.
//!
//! API: `GET /users?email=` → `{"users":[…]}`; `POST /users` → 201 user; `GET|PUT|DELETE
//! /users/{id}`; `PUT /users/{id}/active` `{"active":bool}`; `GET /users?page=N` →
//! `{"users":[…],"next":N+1|null}`. A user is `{"id","email","title","active"}`.
#![allow(dead_code)]

use async_trait::async_trait;
use identity_connectors::{
    Authorization, Connector, Error, Http, Lookup, PageRequest, PageToken, RemoteUser, Request, Result, UpdateOutcome,
    User, UserId, UserPage,
};
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

pub const TOKEN: &str = "s3cr3t-T0KEN-value";
pub const EMAIL: &str = "jane.doe+hr@example.com";

#[derive(Debug)]
pub struct Fake {
    base_url: Url,
    authorization: Authorization,
}

impl Fake {
    pub fn new(base_url: &str) -> Fake {
        Fake {
            base_url: Url::parse(base_url.trim_end_matches('/')).unwrap(),
            authorization: Authorization::bearer(&TOKEN.into()).unwrap(),
        }
    }
}

#[derive(Deserialize)]
struct Wire {
    id: Value,
    email: String,
    title: Option<String>,
    active: bool,
}

fn to_remote(wire: Wire) -> RemoteUser {
    let mut user = User::builder(wire.email.clone()).email(wire.email).active(wire.active).build();
    user.title = wire.title;
    RemoteUser::new(UserId::new(wire.id.to_string().trim_matches('"')), user)
}

pub fn wire(id: u64, email: &str, title: &str, active: bool) -> Value {
    json!({"id": id, "email": email, "title": title, "active": active})
}

#[async_trait]
impl Connector for Fake {
    fn kind(&self) -> &'static str {
        "fake"
    }
    fn display_name(&self) -> &str {
        "Fake"
    }
    fn base_url(&self) -> &Url {
        &self.base_url
    }
    fn authorization(&self) -> &Authorization {
        &self.authorization
    }
    fn match_key(&self, user: &User) -> Result<Lookup> {
        user.primary_email()
            .map(|e| Lookup::Email(e.to_string()))
            .ok_or_else(|| Error::invalid_input("the user has no e-mail address", vec![]))
    }
    async fn test_connection(&self, http: &Http) -> Result<()> {
        http.send(Request::get(http.endpoint(&["users"])?, "/users")).await.map(|_| ())
    }
    async fn create_user(&self, http: &Http, user: &User) -> Result<RemoteUser> {
        let body = json!({"email": user.primary_email(), "title": user.title});
        let response =
            http.send(Request::post(http.endpoint(&["users"])?, "/users").json("application/json", &body)?).await?;
        Ok(to_remote(response.json()?))
    }
    async fn get_user(&self, http: &Http, id: &UserId) -> Result<RemoteUser> {
        let response = http.send(Request::get(http.endpoint(&["users", id.as_str()])?, "/users/{id}")).await?;
        Ok(to_remote(response.json()?))
    }
    async fn find_user(&self, http: &Http, lookup: &Lookup) -> Result<Option<RemoteUser>> {
        let mut url = http.endpoint(&["users"])?;
        url.query_pairs_mut().append_pair("email", lookup.value());
        #[derive(Deserialize)]
        struct List {
            users: Vec<Wire>,
        }
        let list: List = http.send(Request::get(url, "/users?email={email}")).await?.json()?;
        Ok(list.users.into_iter().next().map(to_remote))
    }
    async fn update_user(
        &self,
        http: &Http,
        id: &UserId,
        changes: &User,
        _current: Option<&RemoteUser>,
    ) -> Result<UpdateOutcome> {
        if changes.title.is_none() {
            return Ok(UpdateOutcome::Unchanged);
        }
        let body = json!({"title": changes.title});
        let request =
            Request::put(http.endpoint(&["users", id.as_str()])?, "/users/{id}").json("application/json", &body)?;
        let response = http.send(request).await?;
        let user = if response.is_empty() { None } else { Some(to_remote(response.json()?)) };
        Ok(UpdateOutcome::Updated(user))
    }
    async fn set_active(&self, http: &Http, id: &UserId, active: bool) -> Result<()> {
        let request = Request::put(http.endpoint(&["users", id.as_str(), "active"])?, "/users/{id}/active")
            .json("application/json", &json!({"active": active}))?;
        http.send(request).await.map(|_| ())
    }
    async fn delete_user(&self, http: &Http, id: &UserId) -> Result<()> {
        http.send(Request::delete(http.endpoint(&["users", id.as_str()])?, "/users/{id}")).await.map(|_| ())
    }
    async fn list_users(&self, http: &Http, page: &PageRequest) -> Result<UserPage> {
        let number = page.token.as_ref().map_or("1", |t| t.as_str()).to_string();
        let mut url = http.endpoint(&["users"])?;
        url.query_pairs_mut().append_pair("page", &number);
        #[derive(Deserialize)]
        struct Page {
            users: Vec<Wire>,
            next: Option<u64>,
        }
        let page: Page = http.send(Request::get(url, "/users?page={n}")).await?.json()?;
        let next = page.next.map(|n| PageToken::new(n.to_string()));
        Ok(UserPage::new(page.users.into_iter().map(to_remote).collect(), next, None))
    }
}
