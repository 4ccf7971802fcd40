//! The Freshservice side's HTTP API: Basic authorisation, content negotiation, routing under
//! `/api/v2`, the handlers, and `page`/`per_page` paging with `Link` headers.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hyper::header::{ACCEPT, AUTHORIZATION, LINK, LOCATION};
use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use super::error::{FsError, JSON, field_error};
use super::fields::Kind;
use super::names::{parse_name_query, render_named};
use super::store::{FreshserviceState, FsUser};
use crate::sandbox::server::{Api, ApiRequest, ApiResponse, constant_time_eq, rfc3339};

pub(super) const BASE_PATH: &str = "/api/v2";
/// Freshservice's default page size and maximum `per_page`.
const DEFAULT_PER_PAGE: usize = 30;
const MAX_PER_PAGE: usize = 100;

/// The API behind the server: the accepted key, the origin for links, and the store.
pub(super) struct FreshserviceApi {
    pub(super) api_key: String,
    /// `http://127.0.0.1:<port>`, for `Location` and `Link`.
    pub(super) origin: String,
    pub(super) state: Mutex<FreshserviceState>,
}

type Handled = Result<ApiResponse, FsError>;

impl FreshserviceApi {
    pub(super) fn state(&self) -> MutexGuard<'_, FreshserviceState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `Authorization: Basic base64("<api key>:<anything>")`.
    fn authorised(&self, request: &ApiRequest) -> bool {
        let Some((scheme, encoded)) = request.header(AUTHORIZATION).and_then(|v| v.split_once(' ')) else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return false;
        }
        let Ok(decoded) = BASE64.decode(encoded.trim()) else { return false };
        let user = decoded.split(|b| *b == b':').next().unwrap_or(&[]);
        decoded.contains(&b':') && constant_time_eq(user, self.api_key.as_bytes())
    }

    fn accepts_json(request: &ApiRequest) -> bool {
        request.header(ACCEPT).is_none_or(|accept| {
            accept.split(',').any(|range| {
                let range = range.split(';').next().unwrap_or("").trim();
                ["application/json", "application/*", "*/*"].iter().any(|ok| ok.eq_ignore_ascii_case(range))
            })
        })
    }

    fn json_body(request: &ApiRequest, empty_allowed: bool) -> Result<Value, FsError> {
        if empty_allowed && request.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(json!({}));
        }
        if !request.has_content_type(&["application/json"]) {
            return Err(FsError::Flat(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid_content_type",
                "Content-Type header should be application/json".into(),
            ));
        }
        serde_json::from_slice(&request.body).map_err(|e| {
            FsError::validation(vec![field_error(
                "",
                format!("Request body has invalid json format: {e}"),
                "invalid_json",
            )])
        })
    }

    fn route(&self, request: &ApiRequest) -> Handled {
        let Some(segments) = request.segments(BASE_PATH) else { return Err(FsError::not_found()) };
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        if !self.authorised(request) {
            return Err(FsError::Flat(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "You have to be logged in to perform this action.".into(),
            ));
        }
        if !Self::accepts_json(request) {
            return Err(FsError::Flat(
                StatusCode::NOT_ACCEPTABLE,
                "invalid_accept_header",
                "Only application/json is supported".into(),
            ));
        }
        let kind = match segments.first() {
            Some(&"requesters") => Some(Kind::Requester),
            Some(&"agents") => Some(Kind::Agent),
            _ => None,
        };
        match (kind, &request.method, segments.as_slice()) {
            (Some(kind), &Method::GET, [_]) => self.list_users(request, kind),
            (Some(kind), &Method::POST, [_]) => self.create(request, kind),
            (Some(kind), &Method::GET, [_, id]) => self.show(kind, id),
            (Some(kind), &Method::PUT, [_, id]) => self.update(request, kind, id),
            (Some(kind), &Method::DELETE, [_, id]) => self.deactivate(kind, id),
            (Some(kind), &Method::PUT, [_, id, "reactivate"]) => self.reactivate(kind, id),
            (Some(kind), &Method::DELETE, [_, id, "forget"]) => self.forget(kind, id),
            (Some(Kind::Requester), &Method::PUT, [_, id, "convert_to_agent"]) => self.convert(Kind::Requester, id),
            (Some(Kind::Agent), &Method::PUT, [_, id, "convert_to_requester"]) => self.convert(Kind::Agent, id),
            (None, &Method::GET, ["requester_groups"]) => self.list_requester_groups(request),
            (None, &Method::GET, ["requester_groups", id]) => self.show_requester_group(id),
            (None, &Method::GET, ["requester_groups", id, "members"]) => self.list_requester_group_members(request, id),
            (None, &Method::POST, ["requester_groups", id, "members", requester]) => {
                self.add_requester_group_member(id, requester)
            }
            (None, &Method::DELETE, ["requester_groups", id, "members", requester]) => {
                self.remove_requester_group_member(id, requester)
            }
            (None, &Method::GET, ["groups"]) => self.list_agent_groups(request),
            (None, &Method::GET, ["groups", id]) => self.show_agent_group(id),
            (None, _, ["requester_groups" | "groups"] | ["requester_groups" | "groups", _])
            | (None, _, ["requester_groups", _, "members"] | ["requester_groups", _, "members", _]) => {
                Err(FsError::Flat(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed".into()))
            }
            (None, &Method::GET, [collection @ ("departments" | "locations" | "roles")]) => {
                self.list_named(request, collection)
            }
            (None, &Method::GET, [collection @ ("departments" | "locations" | "roles"), id]) => {
                self.show_named(collection, id)
            }
            (
                Some(_),
                _,
                [_] | [_, _] | [_, _, "reactivate" | "forget" | "convert_to_agent" | "convert_to_requester"],
            )
            | (None, _, ["departments" | "locations" | "roles"] | ["departments" | "locations" | "roles", _]) => {
                Err(FsError::Flat(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed".into()))
            }
            _ => Err(FsError::not_found()),
        }
    }

    fn wrapped(&self, status: StatusCode, kind: Kind, id: u64) -> Handled {
        let state = self.state();
        let user = state.users.get(&id).ok_or_else(FsError::not_found)?;
        Ok(ApiResponse::json(status, JSON, &json!({ kind.singular(): state.render(kind, user) })))
    }

    fn create(&self, request: &ApiRequest, kind: Kind) -> Handled {
        let body = Self::json_body(request, false)?;
        let id = self.state().create(kind, body)?;
        let location = format!("{}{BASE_PATH}/{}s/{id}", self.origin, kind.singular());
        Ok(self.wrapped(StatusCode::CREATED, kind, id)?.with_header(LOCATION, location))
    }

    fn show(&self, kind: Kind, id: &str) -> Handled {
        let id = self.state().get(kind, id)?.id;
        self.wrapped(StatusCode::OK, kind, id)
    }

    fn update(&self, request: &ApiRequest, kind: Kind, id: &str) -> Handled {
        let body = Self::json_body(request, false)?;
        let id = self.state().update(kind, id, body)?;
        self.wrapped(StatusCode::OK, kind, id)
    }

    /// `DELETE /requesters/{id}` answers 204; `DELETE /agents/{id}` answers 200 with the agent.
    fn deactivate(&self, kind: Kind, id: &str) -> Handled {
        let id = self.state().set_active(kind, id, false)?;
        match kind {
            Kind::Requester => Ok(ApiResponse::empty(StatusCode::NO_CONTENT)),
            Kind::Agent => self.wrapped(StatusCode::OK, kind, id),
        }
    }

    fn reactivate(&self, kind: Kind, id: &str) -> Handled {
        let id = self.state().set_active(kind, id, true)?;
        self.wrapped(StatusCode::OK, kind, id)
    }

    /// `convert_to_agent` makes an occasional agent with the SD Agent role and no groups;
    /// `convert_to_requester` goes back. The id stays the same.
    fn convert(&self, from: Kind, id: &str) -> Handled {
        let mut state = self.state();
        let id = state.get(from, id)?.id;
        let sd_agent = state.roles.iter().find(|r| r.name == "SD Agent").map(|r| r.id);
        // Converting drops secondary addresses (agents have none): re-indexed below.
        state.unindex(id);
        let user = state.users.get_mut(&id).ok_or_else(FsError::not_found)?;
        let to = match from {
            Kind::Requester => Kind::Agent,
            Kind::Agent => Kind::Requester,
        };
        if let Some(email) = user.fields.remove(from.email_field()) {
            user.fields.insert(to.email_field().to_string(), email);
        }
        // Only the fields the new kind has survive (agents have no secondary e-mails, requesters
        // no roles).
        user.fields.retain(|name, _| to.fields().iter().any(|f| f.name == name));
        if to == Kind::Agent {
            user.fields.insert("occasional".into(), Value::Bool(true));
            let roles = sd_agent
                .map(|role_id| json!([{ "role_id": role_id, "assignment_scope": "entire_helpdesk", "groups": [] }]));
            user.fields.insert("roles".into(), roles.unwrap_or_else(|| json!([])));
        }
        user.kind = to;
        user.updated_at = rfc3339(SystemTime::now());
        state.reindexed(id);
        if to == Kind::Agent {
            state.leave_requester_groups(id);
        }
        drop(state);
        self.wrapped(StatusCode::OK, to, id)
    }

    fn forget(&self, kind: Kind, id: &str) -> Handled {
        let mut state = self.state();
        let id = state.get(kind, id)?.id;
        state.unindex(id);
        state.users.remove(&id);
        state.leave_requester_groups(id);
        Ok(ApiResponse::empty(StatusCode::NO_CONTENT))
    }

    fn list_users(&self, request: &ApiRequest, kind: Kind) -> Handled {
        let param = |name: &str| request.query_param(name);
        if param("query").is_some() {
            return Err(FsError::validation(vec![field_error(
                "query",
                "The sandbox does not implement query= on this endpoint; use email=",
                "invalid_field",
            )]));
        }
        let flag = |name: &str| -> Result<Option<bool>, FsError> {
            match param(name).as_deref() {
                None => Ok(None),
                Some("true") => Ok(Some(true)),
                Some("false") => Ok(Some(false)),
                Some(_) => Err(FsError::validation(vec![field_error(
                    name,
                    "It should be one of these values: 'true,false'",
                    "invalid_value",
                )])),
            }
        };
        let include_agents = kind == Kind::Requester && flag("include_agents")? == Some(true);
        let active = if kind == Kind::Agent { flag("active")? } else { None };
        let occasional = match (kind, param("state").as_deref()) {
            (Kind::Agent, Some("fulltime")) => Some(false),
            (Kind::Agent, Some("occasional")) => Some(true),
            (Kind::Agent, Some(_)) => {
                return Err(FsError::validation(vec![field_error(
                    "state",
                    "It should be one of these values: 'fulltime,occasional'",
                    "invalid_value",
                )]));
            }
            _ => None,
        };
        let email = param("email");
        let work_phone = param("work_phone_number");
        let mobile_phone = param("mobile_phone_number");
        let state = self.state();
        // An address narrows the candidates through the index; they are then filtered as usual.
        let candidates: Box<dyn Iterator<Item = &FsUser>> = match email.as_deref() {
            Some(e) => Box::new(state.with_email(e).filter_map(|id| state.users.get(&id))),
            None => Box::new(state.users.values()),
        };
        let mut users: Vec<&FsUser> = candidates
            .filter(|u| u.kind == kind || include_agents)
            .filter(|u| email.as_deref().is_none_or(|e| u.email().is_some_and(|m| m.eq_ignore_ascii_case(e))))
            .filter(|u| {
                work_phone
                    .as_deref()
                    .is_none_or(|p| u.fields.get("work_phone_number").and_then(Value::as_str) == Some(p))
            })
            .filter(|u| {
                mobile_phone
                    .as_deref()
                    .is_none_or(|p| u.fields.get("mobile_phone_number").and_then(Value::as_str) == Some(p))
            })
            .filter(|u| active.is_none_or(|a| u.active == a))
            .filter(|u| {
                occasional.is_none_or(|o| u.fields.get("occasional").and_then(Value::as_bool).unwrap_or(false) == o)
            })
            .collect();
        // "Always sorted by the first name of the user"; each name folded once, not per comparison.
        users.sort_by_cached_key(|u| (u.first_name(), u.id));
        // Only the requested page is rendered.
        self.page_with(request, users, &format!("{}s", kind.singular()), |u| state.render(kind, u))
    }

    fn list_named(&self, request: &ApiRequest, collection: &str) -> Handled {
        let name_filter = match request.query_param("query") {
            Some(query) => Some(parse_name_query(&query)?),
            None => None,
        };
        let state = self.state();
        let list = match collection {
            "departments" => &state.departments,
            "locations" => &state.locations,
            _ => &state.roles,
        };
        let items: Vec<Value> = list
            .iter()
            .filter(|n| name_filter.as_deref().is_none_or(|name| n.name.eq_ignore_ascii_case(name)))
            .map(|n| render_named(collection, n))
            .collect();
        drop(state);
        self.page(request, items, collection)
    }

    fn show_named(&self, collection: &str, id: &str) -> Handled {
        let id: u64 = id.parse().map_err(|_| FsError::not_found())?;
        let state = self.state();
        let list = match collection {
            "departments" => &state.departments,
            "locations" => &state.locations,
            _ => &state.roles,
        };
        let named = list.iter().find(|n| n.id == id).ok_or_else(FsError::not_found)?;
        let singular = collection.strip_suffix('s').unwrap_or(collection);
        Ok(ApiResponse::json(StatusCode::OK, JSON, &json!({ singular: render_named(collection, named) })))
    }

    /// One page of `items` under `key`, with `Link: <…>; rel="next"` while more pages exist.
    pub(super) fn page(&self, request: &ApiRequest, items: Vec<Value>, key: &str) -> Handled {
        self.page_with(request, items, key, |item| item)
    }

    /// [`page`](Self::page) over unrendered items: only the page's items are rendered.
    fn page_with<T>(&self, request: &ApiRequest, items: Vec<T>, key: &str, render: impl FnMut(T) -> Value) -> Handled {
        let number = |name: &str, default: usize, max: usize| -> Result<usize, FsError> {
            match request.query_param(name) {
                None => Ok(default),
                Some(v) => v.parse::<usize>().ok().filter(|n| (1..=max).contains(n)).ok_or_else(|| {
                    let message = if max == usize::MAX {
                        "It should be a/an Positive Integer".to_string()
                    } else {
                        format!("It should be a/an Positive Integer less than or equal to {max}")
                    };
                    FsError::validation(vec![field_error(name, message, "invalid_value")])
                }),
            }
        };
        let per_page = number("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
        let page = number("page", 1, usize::MAX)?;
        let start = (page - 1).saturating_mul(per_page);
        let has_next = items.len() > start.saturating_add(per_page);
        let items: Vec<Value> = items.into_iter().skip(start).take(per_page).map(render).collect();
        let response = ApiResponse::json(StatusCode::OK, JSON, &json!({ key: items }));
        if !has_next {
            return Ok(response);
        }
        let mut next = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in request.query_pairs().iter().filter(|(k, _)| k != "page" && k != "per_page") {
            next.append_pair(k, v);
        }
        next.append_pair("page", &page.saturating_add(1).to_string());
        next.append_pair("per_page", &per_page.to_string());
        let link = format!("<{}{}?{}>; rel=\"next\"", self.origin, request.path, next.finish());
        Ok(response.with_header(LINK, link))
    }
}

impl Api for FreshserviceApi {
    fn handle(&self, request: &ApiRequest) -> ApiResponse {
        self.route(request).unwrap_or_else(|error| error.response())
    }

    fn too_many_requests(&self, retry_after_secs: u64) -> ApiResponse {
        FsError::Flat(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!("You have exceeded the limit of requests per window; retry after {retry_after_secs} seconds"),
        )
        .response()
    }

    fn payload_too_large(&self) -> ApiResponse {
        FsError::Flat(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "The request body is too large".into())
            .response()
    }
}
