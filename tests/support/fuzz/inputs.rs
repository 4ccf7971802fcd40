//! Input strategies: real answers (every `tests/fixtures/**/*.json`, and SCIM bodies serialised
//! from random `User`s) mutated structurally and byte by byte, plus the hostile shapes a parser
//! must survive: deep nesting (up to 100,000 levels), huge numbers, invalid UTF-8, lone
//! surrogates, huge strings and arrays, and garbage header values.

use std::path::Path;
use std::sync::OnceLock;

use identity_connectors::User;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value, json};

/// A body whose `Debug` (what a failure report shows) is its text, lossily decoded and cut to
/// 2,000 characters, and its length.
#[derive(Clone)]
pub struct Body(pub Vec<u8>);

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text: String = String::from_utf8_lossy(&self.0).chars().take(2_000).collect();
        write!(f, "Body({} bytes: {text:?})", self.0.len())
    }
}

/// Which app's answers a seed imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Scim,
    Freshservice,
}

/// Every JSON fixture, parsed, with the app it belongs to (by directory).
pub fn fixtures() -> &'static [(Family, String, Value)] {
    static FIXTURES: OnceLock<Vec<(Family, String, Value)>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut found = Vec::new();
        let mut dirs = vec![root.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("tests/fixtures is readable") {
                let path = entry.expect("a fixture entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    let name = path.strip_prefix(&root).unwrap().display().to_string();
                    let family = if name.starts_with("freshservice") { Family::Freshservice } else { Family::Scim };
                    let bytes = std::fs::read(&path).expect("a readable fixture");
                    let value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("fixture {name}: {e}"));
                    found.push((family, name, value));
                }
            }
        }
        found.sort_by(|a, b| a.1.cmp(&b.1));
        assert!(found.len() >= 10, "expected the real fixtures under tests/fixtures, found {}", found.len());
        found
    })
}

fn fixture(family: Option<Family>) -> impl Strategy<Value = Value> {
    let values: Vec<Value> =
        fixtures().iter().filter(|(f, _, _)| family.is_none_or(|want| *f == want)).map(|(_, _, v)| v.clone()).collect();
    proptest::sample::select(values)
}

/// Short text: plausible values most of the time, any Unicode (controls included) otherwise.
pub fn text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[a-z]{1,8}(\\.[a-z]{1,8})?@example\\.(com|org)",
        2 => "[A-Za-z0-9 _.-]{0,16}",
        2 => any::<String>(),
        1 => Just(String::new()),
    ]
    .boxed()
}

/// A user: half of them random (through the public builder), half complete enough for every
/// connector to send (read from SCIM JSON, so app attributes need no app-specific builder).
pub fn user() -> BoxedStrategy<User> {
    prop_oneof![random_user(), complete_user()].boxed()
}

fn complete_user() -> BoxedStrategy<User> {
    let parts = ("[a-z]{1,8}\\.[a-z]{1,8}", "[A-Z]?[0-9]{1,6}", "[A-Z][a-z]{0,8}", "[A-Z][a-z]{0,8}");
    let login = proptest::sample::select(vec!["SAML", "Local Login", "Windows Login", "other"]);
    (parts, login, any::<bool>(), proptest::option::of(text()))
        .prop_map(|((local, external_id, given, family), login, active, department)| {
            let email = format!("{local}@example.com");
            let mut value = json!({
                "userName": email, "externalId": external_id, "active": active,
                "name": {"givenName": given, "familyName": family},
                "emails": [{"value": email, "type": "work", "primary": true}],
                "urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:User": {"loginType": login},
            });
            if let Some(department) = department {
                value["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = json!({"department": department});
            }
            serde_json::from_value(value).expect("a complete user parses")
        })
        .boxed()
}

/// A user built through the public builder, with random core and enterprise attributes.
fn random_user() -> BoxedStrategy<User> {
    let names = (text(), proptest::option::of(text()), proptest::option::of(text()), proptest::option::of(text()));
    let more =
        (proptest::option::of(text()), proptest::option::of(text()), proptest::option::of(text()), any::<bool>());
    let places = (proptest::option::of(text()), proptest::option::of(text()));
    (names, more, places)
        .prop_map(|((user_name, given, family, email), (phone, employee, manager, active), (department, org))| {
            let mut b = User::builder(user_name).active(active);
            if let Some(v) = department {
                b = b.department(v);
            }
            if let Some(v) = org {
                b = b.organization(v);
            }
            if let Some(v) = given {
                b = b.given_name(v);
            }
            if let Some(v) = family {
                b = b.family_name(v);
            }
            if let Some(v) = email {
                b = b.email(v);
            }
            if let Some(v) = phone {
                b = b.phone(v, "work");
            }
            if let Some(v) = employee {
                b = b.employee_number(v);
            }
            if let Some(v) = manager {
                b = b.manager(v);
            }
            b.build()
        })
        .boxed()
}

/// A SCIM user resource as a server returns it: the user's own serialisation plus `id` and `meta`.
fn scim_resource() -> impl Strategy<Value = Value> {
    (user(), text()).prop_map(|(user, id)| {
        let mut value = serde_json::to_value(&user).expect("a User serialises");
        if let Value::Object(map) = &mut value {
            map.insert("id".into(), Value::String(id));
            map.insert("meta".into(), json!({"resourceType": "User", "location": "https://h/scim/v2/Users/1"}));
        }
        value
    })
}

/// SCIM answers: a user, a list response of users, an error, or a SCIM fixture.
pub fn scim_seed() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => scim_resource(),
        3 => proptest::collection::vec(scim_resource(), 0..4).prop_map(|users| json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": users.len(), "startIndex": 1, "itemsPerPage": users.len(), "Resources": users,
        })),
        1 => (prop_oneof![Just("400"), Just("404"), Just("409"), Just("429")], proptest::option::of(text()), text())
            .prop_map(|(status, kind, detail)| json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": status, "scimType": kind, "detail": detail,
            })),
        1 => fixture(Some(Family::Scim)),
    ]
    .boxed()
}

/// Freshservice answers: its fixtures.
pub fn freshservice_seed() -> BoxedStrategy<Value> {
    fixture(Some(Family::Freshservice)).boxed()
}

/// A raw JSON text spliced where a value was: what no `Value` can hold or what is costly to build.
#[derive(Debug, Clone)]
pub enum Raw {
    /// `depth` nested arrays (`open == 0`) or objects around a number.
    Deep { depth: usize, objects: bool },
    /// A number of `digits` digits, optionally negative, with a fraction or an exponent.
    HugeNumber { digits: usize, form: u8 },
    /// A fixed tricky number (`1e999999`, `-0`, `18446744073709551616`, …).
    Number(&'static str),
    /// A string holding bytes that are not UTF-8.
    InvalidUtf8(Vec<u8>),
    /// A string with an escaped lone surrogate.
    LoneSurrogate(&'static str),
    /// A string of `len` characters.
    LongString { len: usize },
    /// An array of `len` zeros.
    LongArray { len: usize },
}

impl Raw {
    pub fn render(&self) -> Vec<u8> {
        match self {
            Raw::Deep { depth, objects: false } => {
                let mut out = vec![b'['; *depth];
                out.push(b'1');
                out.extend(std::iter::repeat_n(b']', *depth));
                out
            }
            Raw::Deep { depth, objects: true } => {
                let mut out = b"{\"a\":".repeat(*depth);
                out.push(b'1');
                out.extend(std::iter::repeat_n(b'}', *depth));
                out
            }
            Raw::HugeNumber { digits, form } => {
                let mut out = Vec::with_capacity(digits + 8);
                if form & 1 == 1 {
                    out.push(b'-');
                }
                out.push(b'9');
                out.extend(std::iter::repeat_n(b'7', *digits));
                match form >> 1 {
                    1 => out.extend_from_slice(b".5"),
                    2 => out.extend_from_slice(b"e308"),
                    3 => out.extend_from_slice(b"E-400"),
                    _ => {}
                }
                out
            }
            Raw::Number(n) => n.as_bytes().to_vec(),
            Raw::InvalidUtf8(bytes) => {
                let mut out = vec![b'"'];
                out.extend(bytes.iter().map(|b| if *b == b'"' || *b == b'\\' { 0xff } else { *b }));
                out.push(b'"');
                out
            }
            Raw::LoneSurrogate(s) => s.as_bytes().to_vec(),
            Raw::LongString { len } => {
                let mut out = vec![b'"'];
                out.extend(std::iter::repeat_n(b'x', *len));
                out.push(b'"');
                out
            }
            Raw::LongArray { len } => {
                let mut out = b"[".to_vec();
                out.extend(std::iter::repeat_n(b"0,".as_slice(), *len).flatten());
                out.extend_from_slice(b"0]");
                out
            }
        }
    }
}

/// Depths around serde_json's recursion limit (128) and far beyond it.
fn depth() -> impl Strategy<Value = usize> {
    prop_oneof![4 => 1usize..140, 1 => Just(1_000), 1 => Just(100_000)]
}

pub fn raw() -> BoxedStrategy<Raw> {
    prop_oneof![
        2 => (depth(), any::<bool>()).prop_map(|(depth, objects)| Raw::Deep { depth, objects }),
        2 => (prop_oneof![4 => 15usize..40, 1 => 300usize..5_000], 0u8..8)
            .prop_map(|(digits, form)| Raw::HugeNumber { digits, form }),
        2 => proptest::sample::select(vec![
            "1e999999", "-1e999999", "1e-999999", "-0", "-0.0", "18446744073709551616", "-9223372036854775809",
            "1.7976931348623157e309", "4294967296", "0.1e1", "00", "1.", ".1", "NaN", "Infinity", "+1", "0x10",
        ]).prop_map(Raw::Number),
        2 => proptest::collection::vec(0x80u8..=0xff, 1..8).prop_map(Raw::InvalidUtf8),
        1 => proptest::sample::select(vec![r#""\ud800""#, r#""\udc00x""#, r#""\ud800\u0041""#, r#""\u0000""#])
            .prop_map(Raw::LoneSurrogate),
        1 => prop_oneof![1usize..200, Just(70_000), Just(1_100_000)].prop_map(|len| Raw::LongString { len }),
        1 => prop_oneof![1usize..100, Just(100_000)].prop_map(|len| Raw::LongArray { len }),
    ]
    .boxed()
}

/// A value of any JSON type, shallow.
fn small_value() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text().prop_map(Value::String),
        prop_oneof![Just("True"), Just("FALSE"), Just("1"), Just("-1"), Just(" 42 ")].prop_map(|s| json!(s)),
        Just(json!([])),
        Just(json!({})),
        Just(json!([{"value": "x"}, null])),
    ]
    .boxed()
}

/// One change to a parsed answer; `Index` picks the node (in depth-first order).
#[derive(Debug, Clone)]
pub enum JsonMutation {
    Replace(Index, Value),
    Splice(Index, Raw),
    Remove(Index),
    RenameKey(Index, u8),
}

/// One change to the serialised bytes.
#[derive(Debug, Clone)]
pub enum ByteMutation {
    Truncate(Index),
    Flip(Index, u8),
    Insert(Index, Vec<u8>),
    Delete(Index, u8),
}

fn json_mutation() -> BoxedStrategy<JsonMutation> {
    prop_oneof![
        4 => (any::<Index>(), small_value()).prop_map(|(i, v)| JsonMutation::Replace(i, v)),
        3 => (any::<Index>(), raw()).prop_map(|(i, r)| JsonMutation::Splice(i, r)),
        2 => any::<Index>().prop_map(JsonMutation::Remove),
        1 => (any::<Index>(), 0u8..4).prop_map(|(i, s)| JsonMutation::RenameKey(i, s)),
    ]
    .boxed()
}

fn byte_mutation() -> impl Strategy<Value = ByteMutation> {
    prop_oneof![
        any::<Index>().prop_map(ByteMutation::Truncate),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| ByteMutation::Flip(i, b)),
        (any::<Index>(), proptest::collection::vec(any::<u8>(), 1..6)).prop_map(|(i, b)| ByteMutation::Insert(i, b)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, n)| ByteMutation::Delete(i, n)),
    ]
}

/// Visits every node depth-first, calling `f` with the node's number; `f` may change the node.
fn visit(value: &mut Value, counter: &mut usize, f: &mut dyn FnMut(usize, &mut Value) -> bool) -> bool {
    let this = *counter;
    *counter += 1;
    if f(this, value) {
        return true;
    }
    match value {
        Value::Array(items) => items.iter_mut().any(|v| visit(v, counter, f)),
        Value::Object(map) => map.values_mut().any(|v| visit(v, counter, f)),
        _ => false,
    }
}

fn count(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(count).sum(),
        Value::Object(map) => map.values().map(count).sum(),
        _ => 0,
    }
}

fn marker(n: usize) -> String {
    format!("\u{1}RAW{n}\u{1}")
}

/// Applies the mutations to `seed` and serialises it, splicing raw texts in place.
pub fn apply(mut seed: Value, json: &[JsonMutation], bytes: &[ByteMutation]) -> Vec<u8> {
    let mut raws: Vec<Vec<u8>> = Vec::new();
    for mutation in json {
        let target = match mutation {
            JsonMutation::Replace(i, _) | JsonMutation::Splice(i, _) | JsonMutation::Remove(i) => i,
            JsonMutation::RenameKey(i, _) => i,
        }
        .index(count(&seed));
        visit(&mut seed, &mut 0, &mut |n, node| {
            match mutation {
                JsonMutation::Replace(_, v) if n == target => *node = v.clone(),
                JsonMutation::Splice(_, raw) if n == target => {
                    *node = Value::String(marker(raws.len()));
                    raws.push(raw.render());
                }
                // Removal and renaming act on a container's first child / key at or after `target`.
                JsonMutation::Remove(_) if n >= target => match node {
                    Value::Array(items) if !items.is_empty() => drop(items.remove(0)),
                    Value::Object(map) if !map.is_empty() => {
                        let key = map.keys().next().cloned().unwrap();
                        map.remove(&key);
                    }
                    _ => return false,
                },
                JsonMutation::RenameKey(_, style) if n >= target => match node {
                    Value::Object(map) if !map.is_empty() => {
                        let entries: Map<String, Value> = std::mem::take(map)
                            .into_iter()
                            .map(|(k, v)| {
                                let k = match style {
                                    0 => k.to_uppercase(),
                                    1 => k.to_lowercase(),
                                    2 => format!(" {k}"),
                                    _ => k.replace('_', ""),
                                };
                                (k, v)
                            })
                            .collect();
                        *map = entries;
                    }
                    _ => return false,
                },
                _ => return false,
            }
            true
        });
    }
    let mut out = serde_json::to_vec(&seed).expect("a Value serialises");
    for (n, raw) in raws.iter().enumerate() {
        let quoted = serde_json::to_vec(&marker(n)).unwrap();
        if let Some(at) = out.windows(quoted.len()).position(|w| w == quoted) {
            out.splice(at..at + quoted.len(), raw.iter().copied());
        }
    }
    for mutation in bytes {
        let len = out.len().max(1);
        match mutation {
            ByteMutation::Truncate(i) => out.truncate(i.index(len)),
            ByteMutation::Flip(i, b) if !out.is_empty() => {
                let at = i.index(len);
                out[at] ^= b | 1;
            }
            ByteMutation::Insert(i, b) => {
                let at = i.index(len + 1).min(out.len());
                out.splice(at..at, b.iter().copied());
            }
            ByteMutation::Delete(i, n) if !out.is_empty() => {
                let at = i.index(len);
                let end = (at + usize::from(*n)).min(out.len());
                out.drain(at..end);
            }
            _ => {}
        }
    }
    out
}

/// A body mutated from `seed`: mostly a few JSON-level changes, sometimes byte damage.
pub fn mutated(seed: impl Strategy<Value = Value> + 'static) -> BoxedStrategy<Vec<u8>> {
    let json = proptest::collection::vec(json_mutation(), 0..4);
    let bytes = prop_oneof![3 => Just(Vec::new()), 1 => proptest::collection::vec(byte_mutation(), 1..3)];
    (seed, json, bytes).prop_map(|(seed, json, bytes)| apply(seed, &json, &bytes)).boxed()
}

/// Any body a parser may meet: mutated real answers of both apps, random bytes, or a raw
/// hostile text on its own.
pub fn body() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        4 => mutated(scim_seed()),
        4 => mutated(freshservice_seed()),
        1 => proptest::collection::vec(any::<u8>(), 0..300),
        1 => raw().prop_map(|r| r.render()),
    ]
    .boxed()
}

/// Header values a hostile server sends: numbers of every size, dates, links, garbage.
pub fn header_value() -> BoxedStrategy<String> {
    prop_oneof![
        2 => prop_oneof![Just(0u64), Just(1), Just(59), Just(86_401), Just(u64::MAX), any::<u64>()].prop_map(|n| n.to_string()),
        1 => "[0-9]{20,60}",
        1 => Just("-1".to_string()),
        1 => Just(" 3 ".to_string()),
        1 => (0u64..4_000_000_000).prop_map(|s| httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(s))),
        1 => Just("Fri, 31 Dec 9999 23:59:59 GMT".to_string()),
        1 => "[ -~]{0,40}",
        1 => (0u64..u64::MAX, prop_oneof![Just("https://127.0.0.1"), Just("https://evil.example"), Just(""), Just("http://[::1")])
            .prop_map(|(page, host)| format!("<{host}/api/v2/requesters?page={page}>; rel=\"next\"")),
        1 => "<[ -~]{0,30}>; rel=\"?next\"?",
    ]
    .boxed()
}

/// Response headers: `Retry-After`, `X-RateLimit-*`, `Link` and `Content-Type`, each maybe present.
pub fn headers() -> BoxedStrategy<Vec<(String, String)>> {
    let names = proptest::sample::select(vec![
        "retry-after",
        "x-ratelimit-remaining",
        "x-ratelimit-total",
        "x-ratelimit-used-currentrequest",
        "link",
        "content-type",
        "Retry-After",
        "LINK",
    ]);
    proptest::collection::vec((names.prop_map(str::to_string), header_value()), 0..5).boxed()
}

/// A `Content-Type`: right, wrong, or nonsense.
pub fn content_type() -> BoxedStrategy<Option<String>> {
    proptest::option::weighted(
        0.9,
        prop_oneof![
            Just("application/scim+json".to_string()),
            Just("application/json; charset=utf-8".to_string()),
            Just("application/json; charset=utf-16".to_string()),
            Just("text/html".to_string()),
            Just("application/xml".to_string()),
            Just("multipart/form-data; boundary=x".to_string()),
            "[ -~]{0,30}",
        ],
    )
    .boxed()
}
