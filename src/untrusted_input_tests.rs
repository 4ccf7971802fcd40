//! Every parser of network data, fed random bytes and randomly mutated valid answers: none may
//! panic. (A seeded generator, so a failure reproduces; 2,000 inputs per parser.)

use serde_json::{Map, Value, json};
use url::Url;

use crate::freshservice::FreshserviceUserKind;
use crate::freshservice::wire::{self, NameSource};
use crate::http::{Response, generic_api_error, parse_retry_after};
use crate::scim::ListResponse;
use crate::scim::codec::remote_user_from_scim;
use crate::user::User;

/// splitmix64: tiny, seeded, good enough to spread inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn bytes(&mut self) -> Vec<u8> {
        let len = self.below(300);
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// A random JSON value, biased towards the shapes the parsers look for.
    fn value(&mut self, depth: u32) -> Value {
        const KEYS: &[&str] = &[
            "id",
            "userName",
            "UserName",
            "active",
            "emails",
            "value",
            "type",
            "primary",
            "name",
            "givenName",
            "Resources",
            "resources",
            "totalResults",
            "startIndex",
            "itemsPerPage",
            "detail",
            "scimType",
            "status",
            "errors",
            "field",
            "message",
            "code",
            "description",
            "requester",
            "requesters",
            "agent",
            "agents",
            "primary_email",
            "email",
            "first_name",
            "department_ids",
            "location_id",
            "work_phone_number",
            "is_agent",
            "custom_fields",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:User",
            "manager",
            "loginType",
            "ü@x.é",
        ];
        match (self.below(9), depth) {
            (0, _) => Value::Null,
            (1, _) => Value::Bool(self.below(2) == 0),
            (2, _) => json!(self.next() as i64),
            (3, _) => json!((self.next() as f64) / 7.0),
            (4, _) => json!(["True", "false", "", "ö\u{0}", "a@b.c", "-1", "18446744073709551616"][self.below(7)]),
            (5, d) if d < 4 => Value::Array((0..self.below(4)).map(|_| self.value(d + 1)).collect()),
            (_, d) if d < 4 => {
                let mut map = Map::new();
                for _ in 0..self.below(6) {
                    map.insert(KEYS[self.below(KEYS.len())].to_string(), self.value(d + 1));
                }
                Value::Object(map)
            }
            _ => json!("x"),
        }
    }
}

struct NoNames;

impl NameSource for NoNames {
    fn department(&self, _: u64) -> Option<&str> {
        None
    }
    fn location(&self, _: u64) -> Option<&str> {
        None
    }
}

fn response(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Response {
    Response::new(status, headers, body)
}

#[test]
fn no_parser_panics_on_any_input() {
    let mut rng = Rng(0x1D_C0_22_26);
    let page_url = Url::parse("https://acme.freshservice.com/api/v2/requesters?page=1").unwrap();
    for round in 0..2000 {
        let body = if round % 2 == 0 { rng.bytes() } else { serde_json::to_vec(&rng.value(0)).unwrap() };
        let status = [200, 201, 204, 400, 401, 404, 409, 429, 500, 503][rng.below(10)];
        let header = String::from_utf8_lossy(&rng.bytes()).into_owned();
        let r = response(status, vec![("link".into(), header.clone()), ("retry-after".into(), header.clone())], body);

        let _ = generic_api_error(&r);
        let same = |t: &str| t.to_string();
        let _ = crate::error_body::api_error_from_body(status, r.body(), &same);
        let _ = crate::scim::api_error_with_401_hint(&r, "hint");
        let _ = crate::freshservice::error::api_error(&r);
        let _ = crate::redact::excerpt(r.body(), &|t| t.to_string());
        let _ = r.json::<Value>();
        let _ = r.json::<User>();
        let _ = ListResponse::from_response(&r);
        let _ = parse_retry_after(&header);
        let _ = wire::one(&r, "requester");
        let _ = wire::many(&r, "requesters", "requester");
        let _ = wire::next_page(&r, &page_url, 1);
        if let Ok(Value::Object(map)) = r.json::<Value>() {
            let _ = remote_user_from_scim(Value::Object(map.clone()));
            let _ = wire::remote_user(map.clone(), FreshserviceUserKind::Requester, &NoNames, Some("employee_id"));
            let _ = wire::remote_user(map, FreshserviceUserKind::Agent, &NoNames, None);
        }
        let value = rng.value(0);
        let _ = remote_user_from_scim(value.clone());
        let _ = serde_json::from_value::<User>(value);
    }
}
