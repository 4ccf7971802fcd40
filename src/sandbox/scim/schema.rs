//! The SCIM side's data rules: the user schema (core, enterprise and Interact extension),
//! normalising request bodies, the filter language, and PATCH operations.
//!
//! Behaviour follows the observable behaviour of `scim2-server` 0.8.3 (strict about unknown
//! attributes, case-insensitive attribute names, `noTarget` when a PATCH filter matches nothing),
//! plus the Interact extension, which scim2-server does not know.

use serde_json::{Map, Value};

use crate::{CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, INTERACT_USER_SCHEMA};

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

type Result<T> = std::result::Result<T, ScimError>;

/// The type of an attribute.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Type {
    String,
    Boolean,
    Complex(&'static [Attr]),
}

/// One attribute of a schema.
#[derive(Debug)]
pub(crate) struct Attr {
    pub(crate) name: &'static str,
    ty: Type,
    multi: bool,
    read_only: bool,
}

const fn string(name: &'static str) -> Attr {
    Attr { name, ty: Type::String, multi: false, read_only: false }
}
const fn boolean(name: &'static str) -> Attr {
    Attr { name, ty: Type::Boolean, multi: false, read_only: false }
}
const fn complex(name: &'static str, subs: &'static [Attr]) -> Attr {
    Attr { name, ty: Type::Complex(subs), multi: false, read_only: false }
}
const fn multi(name: &'static str, subs: &'static [Attr]) -> Attr {
    Attr { name, ty: Type::Complex(subs), multi: true, read_only: false }
}

const NAME: &[Attr] = &[
    string("formatted"),
    string("familyName"),
    string("givenName"),
    string("middleName"),
    string("honorificPrefix"),
    string("honorificSuffix"),
];
const MULTI_VALUE: &[Attr] = &[string("value"), string("display"), string("type"), boolean("primary")];
const ADDRESS: &[Attr] = &[
    string("formatted"),
    string("streetAddress"),
    string("locality"),
    string("region"),
    string("postalCode"),
    string("country"),
    string("type"),
    boolean("primary"),
];
const GROUP: &[Attr] = &[string("value"), string("$ref"), string("display"), string("type")];
const MANAGER: &[Attr] = &[string("value"), string("$ref"), string("displayName")];
const INTERACT_NAME: &[Attr] = &[string("title"), string("initials")];

const CORE_ATTRS: &[Attr] = &[
    string("userName"),
    string("externalId"),
    complex("name", NAME),
    string("displayName"),
    string("nickName"),
    string("profileUrl"),
    string("title"),
    string("userType"),
    string("preferredLanguage"),
    string("locale"),
    string("timezone"),
    boolean("active"),
    string("password"),
    multi("emails", MULTI_VALUE),
    multi("phoneNumbers", MULTI_VALUE),
    multi("ims", MULTI_VALUE),
    multi("photos", MULTI_VALUE),
    multi("addresses", ADDRESS),
    Attr { name: "groups", ty: Type::Complex(GROUP), multi: true, read_only: true },
    multi("entitlements", MULTI_VALUE),
    multi("roles", MULTI_VALUE),
    multi("x509Certificates", MULTI_VALUE),
];
const ENTERPRISE_ATTRS: &[Attr] = &[
    string("employeeNumber"),
    string("costCenter"),
    string("organization"),
    string("division"),
    string("department"),
    complex("manager", MANAGER),
];
const INTERACT_ATTRS: &[Attr] = &[
    string("loginType"),
    string("location"),
    string("jobStartDate"),
    boolean("forcePasswordReset"),
    boolean("omitFromSearch"),
    string("pronouns"),
    string("dateOfBirth"),
    complex("name", INTERACT_NAME),
];

/// A schema: the core user schema or one of the extensions stored under their URN.
#[derive(Debug)]
pub(crate) struct Schema {
    pub(crate) urn: &'static str,
    attrs: &'static [Attr],
}

pub(crate) const CORE: Schema = Schema { urn: CORE_USER_SCHEMA, attrs: CORE_ATTRS };
/// The extensions, in the order their URNs appear in `schemas`.
pub(crate) const EXTENSIONS: [Schema; 2] = [
    Schema { urn: ENTERPRISE_USER_SCHEMA, attrs: ENTERPRISE_ATTRS },
    Schema { urn: INTERACT_USER_SCHEMA, attrs: INTERACT_ATTRS },
];

fn find_attr(attrs: &'static [Attr], name: &str) -> Option<&'static Attr> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

fn find_extension(urn: &str) -> Option<&'static Schema> {
    EXTENSIONS.iter().find(|s| s.urn.eq_ignore_ascii_case(urn))
}

/// Splits a known schema URN prefix (`urn:…:User:`) off a path, case-insensitively.
fn split_urn(path: &str) -> Option<(&'static Schema, &str)> {
    std::iter::once(&CORE).chain(EXTENSIONS.iter()).find_map(|schema| {
        let prefix = path.get(..schema.urn.len())?;
        let rest = path.get(schema.urn.len()..)?.strip_prefix(':')?;
        prefix.eq_ignore_ascii_case(schema.urn).then_some((schema, rest))
    })
}

/// A case-insensitive key lookup in a JSON object.
pub(crate) fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// Whether `s` starts with `urn:`, in any case (never slicing inside a multi-byte character).
fn has_urn_prefix(s: &str) -> bool {
    s.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("urn:"))
}

fn extra_input(at: &str) -> ScimError {
    ScimError::bad_request("invalidSyntax", format!("Extra inputs are not permitted: {at}"))
}

/// Checks and canonicalises one value of `attr` (`null` means "absent").
fn normalise_value(attr: &Attr, value: Value, at: &str) -> Result<Option<Value>> {
    if value.is_null() {
        return Ok(None);
    }
    if !attr.multi {
        return normalise_single(attr, value, at);
    }
    let items = match value {
        Value::Array(items) => items,
        single => vec![single],
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if let Some(item) = normalise_single(attr, item, at)? {
            out.push(item);
        }
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

fn normalise_single(attr: &Attr, value: Value, at: &str) -> Result<Option<Value>> {
    match (attr.ty, value) {
        (_, Value::Null) => Ok(None),
        (Type::String, Value::String(s)) => Ok(Some(Value::String(s))),
        (Type::String, _) => Err(ScimError::bad_request("invalidValue", format!("'{at}' must be a string"))),
        (Type::Boolean, Value::Bool(b)) => Ok(Some(Value::Bool(b))),
        // Entra's legacy PATCH sends "True"/"False"; scim2-server accepts them too.
        (Type::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(Value::Bool(true))),
        (Type::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(Value::Bool(false))),
        (Type::Boolean, _) => Err(ScimError::bad_request("invalidValue", format!("'{at}' must be a boolean"))),
        (Type::Complex(subs), Value::Object(map)) => {
            let mut out = Map::new();
            for (key, value) in map {
                let sub_at = format!("{at}.{key}");
                let sub = find_attr(subs, &key).ok_or_else(|| extra_input(&sub_at))?;
                if let Some(value) = normalise_single(sub, value, &sub_at)? {
                    out.insert(sub.name.to_string(), value);
                }
            }
            Ok((!out.is_empty()).then_some(Value::Object(out)))
        }
        (Type::Complex(_), _) => Err(ScimError::bad_request("invalidValue", format!("'{at}' must be an object"))),
    }
}

fn normalise_attributes(schema: &'static Schema, map: Map<String, Value>, out: &mut Map<String, Value>) -> Result<()> {
    for (key, value) in map {
        let at = if schema.urn == CORE.urn { key.clone() } else { format!("{}:{key}", schema.urn) };
        let attr = find_attr(schema.attrs, &key).ok_or_else(|| extra_input(&at))?;
        if attr.read_only {
            continue;
        }
        match normalise_value(attr, value, &at)? {
            Some(value) => out.insert(attr.name.to_string(), value),
            None => out.remove(attr.name),
        };
    }
    Ok(())
}

/// Checks a `POST`/`PUT` body and returns the stored attributes: canonical names, extension
/// objects under their URN, read-only attributes (`id`, `meta`, `groups`) and `schemas` dropped.
pub(crate) fn normalise_resource(body: Value) -> Result<Map<String, Value>> {
    let Value::Object(body) = body else {
        return Err(ScimError::bad_request("invalidSyntax", "The request body must be a JSON object"));
    };
    let mut core = Map::new();
    let mut out = Map::new();
    for (key, value) in body {
        if ["schemas", "id", "meta"].iter().any(|k| k.eq_ignore_ascii_case(&key)) {
            continue;
        }
        if has_urn_prefix(&key) {
            let schema = find_extension(&key).ok_or_else(|| extra_input(&key))?;
            let Value::Object(map) = value else {
                if value.is_null() {
                    continue;
                }
                return Err(ScimError::bad_request("invalidValue", format!("'{key}' must be an object")));
            };
            let mut ext = Map::new();
            normalise_attributes(schema, map, &mut ext)?;
            if !ext.is_empty() {
                out.insert(schema.urn.to_string(), Value::Object(ext));
            }
        } else {
            core.insert(key, value);
        }
    }
    normalise_attributes(&CORE, core, &mut out)?;
    user_name(&out)?;
    Ok(out)
}

/// The stored `userName`, which must be a non-empty string.
pub(crate) fn user_name(attributes: &Map<String, Value>) -> Result<&str> {
    match attributes.get("userName") {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        _ => Err(ScimError::bad_request(
            "invalidValue",
            "Field 'userName' is required but value is missing, null or empty",
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Filters (RFC 7644 §3.4.2.2)

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Present(AttrPath),
    Compare(AttrPath, Op, Value),
    /// `emails[type eq "work"]`: some value of a multi-valued attribute matches the inner filter.
    ValuePath(AttrPath, Box<Filter>),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// `[urn:…:]attr[.sub]` in a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttrPath {
    /// The extension URN, or `None` for the core schema.
    schema: Option<String>,
    attr: String,
    sub: Option<String>,
}

/// Filters nested deeper than this are rejected rather than risking the stack.
const MAX_FILTER_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Word(String),
    Str(String),
}

fn invalid_filter(detail: impl Into<String>) -> ScimError {
    ScimError::bad_request("invalidFilter", detail)
}

fn tokenize(input: &str) -> Result<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(at, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '[' | ']' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    '[' => Token::OpenBracket,
                    _ => Token::CloseBracket,
                });
            }
            '"' => {
                chars.next();
                let mut escaped = false;
                let mut end = None;
                for (i, c) in chars.by_ref() {
                    match (escaped, c) {
                        (true, _) => escaped = false,
                        (false, '\\') => escaped = true,
                        (false, '"') => {
                            end = Some(i);
                            break;
                        }
                        _ => {}
                    }
                }
                let end = end.ok_or_else(|| invalid_filter(format!("unterminated string at column {}", at + 1)))?;
                // A filter string is a JSON string literal (RFC 7644 compValue).
                let literal: String = serde_json::from_str(&input[at..=end])
                    .map_err(|_| invalid_filter(format!("invalid string at column {}", at + 1)))?;
                tokens.push(Token::Str(literal));
            }
            _ => {
                let mut word = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_whitespace() || "()[]\"".contains(c) {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword))
    }

    fn descend(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(invalid_filter("the filter is nested too deeply"));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Filter> {
        self.descend()?;
        let mut left = self.and()?;
        while self.keyword("or") {
            self.next();
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.next();
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter> {
        if self.keyword("not") {
            self.next();
            if self.next() != Some(Token::Open) {
                return Err(invalid_filter("expected '(' after 'not'"));
            }
            let inner = self.or()?;
            self.expect(Token::Close, "')'")?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.peek() == Some(&Token::Open) {
            self.next();
            let inner = self.or()?;
            self.expect(Token::Close, "')'")?;
            return Ok(inner);
        }
        let path = match self.next() {
            Some(Token::Word(word)) => parse_attr_path(&word)?,
            _ => return Err(invalid_filter("expected an attribute name")),
        };
        if self.peek() == Some(&Token::OpenBracket) {
            self.next();
            let inner = self.or()?;
            self.expect(Token::CloseBracket, "']'")?;
            return Ok(Filter::ValuePath(path, Box::new(inner)));
        }
        let op = match self.next() {
            Some(Token::Word(op)) => op.to_ascii_lowercase(),
            _ => return Err(invalid_filter("expected an operator")),
        };
        let op = match op.as_str() {
            "pr" => return Ok(Filter::Present(path)),
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            other => return Err(invalid_filter(format!("unknown operator '{other}'"))),
        };
        let value = match self.next() {
            Some(Token::Str(s)) => Value::String(s),
            Some(Token::Word(w)) if w == "true" => Value::Bool(true),
            Some(Token::Word(w)) if w == "false" => Value::Bool(false),
            Some(Token::Word(w)) if w == "null" => Value::Null,
            Some(Token::Word(w)) => match serde_json::from_str::<serde_json::Number>(&w) {
                Ok(n) => Value::Number(n),
                Err(_) => return Err(invalid_filter(format!("the value '{w}' is not quoted"))),
            },
            _ => return Err(invalid_filter("expected a value")),
        };
        Ok(Filter::Compare(path, op, value))
    }

    fn expect(&mut self, token: Token, what: &str) -> Result<()> {
        if self.next() == Some(token) { Ok(()) } else { Err(invalid_filter(format!("expected {what}"))) }
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
}

fn parse_attr_path(word: &str) -> Result<AttrPath> {
    let (schema, rest) = match split_urn(word) {
        Some((schema, rest)) => ((schema.urn != CORE.urn).then(|| schema.urn.to_string()), rest),
        None if has_urn_prefix(word) => match word.rsplit_once(':') {
            Some((urn, rest)) => (Some(urn.to_string()), rest),
            None => (None, word),
        },
        None => (None, word),
    };
    let (attr, sub) = match rest.split_once('.') {
        Some((attr, sub)) => (attr, Some(sub)),
        None => (rest, None),
    };
    if !valid_name(attr) || !sub.is_none_or(valid_name) {
        return Err(invalid_filter(format!("'{word}' is not an attribute path")));
    }
    Ok(AttrPath { schema, attr: attr.to_string(), sub: sub.map(str::to_string) })
}

/// Parses a filter expression.
pub(crate) fn parse_filter(input: &str) -> Result<Filter> {
    let mut parser = Parser { tokens: tokenize(input)?, at: 0, depth: 0 };
    if parser.tokens.is_empty() {
        return Err(invalid_filter("the filter is empty"));
    }
    let filter = parser.or()?;
    if parser.at < parser.tokens.len() {
        return Err(invalid_filter("unexpected text after the filter"));
    }
    Ok(filter)
}

impl Filter {
    /// Whether a rendered resource (or, inside a value path, one value object) matches.
    pub(crate) fn matches(&self, resource: &Map<String, Value>) -> bool {
        match self {
            Filter::And(a, b) => a.matches(resource) && b.matches(resource),
            Filter::Or(a, b) => a.matches(resource) || b.matches(resource),
            Filter::Not(inner) => !inner.matches(resource),
            Filter::Present(path) => resolve(path, resource).iter().any(|v| match v {
                Value::Null => false,
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                Value::Object(o) => !o.is_empty(),
                _ => true,
            }),
            Filter::Compare(path, op, expected) => {
                let values = resolve(path, resource);
                let case_exact = path.schema.is_none()
                    && path.sub.is_none()
                    && (path.attr.eq_ignore_ascii_case("id") || path.attr.eq_ignore_ascii_case("externalId"));
                let any = |op: Op| values.iter().any(|v| compare(v, op, expected, case_exact));
                match op {
                    Op::Ne => !any(Op::Eq),
                    Op::Eq if expected.is_null() => values.iter().all(|v| v.is_null()),
                    op => any(*op),
                }
            }
            Filter::ValuePath(path, inner) => {
                resolve(path, resource).iter().any(|v| matches!(v, Value::Object(item) if inner.matches(item)))
            }
        }
    }
}

/// The values an attribute path designates: the elements of a multi-valued attribute, or the
/// sub-attribute of each.
fn resolve<'a>(path: &AttrPath, resource: &'a Map<String, Value>) -> Vec<&'a Value> {
    let container = match &path.schema {
        Some(urn) => match get_ci(resource, urn) {
            Some(Value::Object(ext)) => ext,
            _ => return Vec::new(),
        },
        None => resource,
    };
    let Some(value) = get_ci(container, &path.attr) else { return Vec::new() };
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    match &path.sub {
        Some(sub) => items.into_iter().filter_map(|item| item.as_object().and_then(|o| get_ci(o, sub))).collect(),
        None => items,
    }
}

fn compare(actual: &Value, op: Op, expected: &Value, case_exact: bool) -> bool {
    // A complex value compares by its `value` sub-attribute (`emails eq "x"`).
    let actual = match actual {
        Value::Object(map) => match get_ci(map, "value") {
            Some(value) => value,
            None => return false,
        },
        other => other,
    };
    match (actual, expected) {
        (Value::String(a), Value::String(e)) => {
            let (a, e) = if case_exact { (a.clone(), e.clone()) } else { (a.to_lowercase(), e.to_lowercase()) };
            match op {
                Op::Eq => a == e,
                Op::Ne => a != e,
                Op::Co => a.contains(&e),
                Op::Sw => a.starts_with(&e),
                Op::Ew => a.ends_with(&e),
                Op::Gt => a > e,
                Op::Ge => a >= e,
                Op::Lt => a < e,
                Op::Le => a <= e,
            }
        }
        (Value::Bool(a), Value::Bool(e)) => match op {
            Op::Eq => a == e,
            Op::Ne => a != e,
            _ => false,
        },
        (Value::Number(a), Value::Number(e)) => {
            let (Some(a), Some(e)) = (a.as_f64(), e.as_f64()) else { return false };
            match op {
                Op::Eq => a == e,
                Op::Ne => a != e,
                Op::Gt => a > e,
                Op::Ge => a >= e,
                Op::Lt => a < e,
                Op::Le => a <= e,
                Op::Co | Op::Sw | Op::Ew => false,
            }
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// PATCH (RFC 7644 §3.5.2)

/// A PATCH operation's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatchOp {
    Add,
    Replace,
    Remove,
}

/// A parsed PATCH `path`.
struct PatchPath {
    schema: &'static Schema,
    attr: &'static Attr,
    filter: Option<Filter>,
    sub: Option<&'static Attr>,
}

fn invalid_path(detail: impl Into<String>) -> ScimError {
    ScimError::bad_request("invalidPath", detail)
}

fn parse_patch_path(path: &str) -> Result<PatchPath> {
    let path = path.trim();
    let (schema, rest) = match split_urn(path) {
        Some(found) => found,
        None if has_urn_prefix(path) => {
            return Err(invalid_path(format!("'{path}' names an unknown schema")));
        }
        None => (&CORE, path),
    };
    let (name, filter, sub) = match rest.find('[') {
        Some(open) => {
            let close = rest.rfind(']').filter(|&c| c > open).ok_or_else(|| invalid_path("unbalanced '[' in path"))?;
            let filter = parse_filter(&rest[open + 1..close]).map_err(|e| invalid_path(e.detail))?;
            let after = &rest[close + 1..];
            let sub = match after {
                "" => None,
                _ => {
                    Some(after.strip_prefix('.').ok_or_else(|| invalid_path(format!("'{path}' is not a valid path")))?)
                }
            };
            (&rest[..open], Some(filter), sub)
        }
        None => match rest.split_once('.') {
            Some((name, sub)) => (name, None, Some(sub)),
            None => (rest, None, None),
        },
    };
    let attr = find_attr(schema.attrs, name)
        .ok_or_else(|| invalid_path(format!("'{name}' is not an attribute of the schema")))?;
    if attr.read_only {
        return Err(ScimError::bad_request("mutability", format!("'{}' is read-only", attr.name)));
    }
    let subs = match attr.ty {
        Type::Complex(subs) => subs,
        _ if sub.is_some() || filter.is_some() => {
            return Err(invalid_path(format!("'{}' has no sub-attributes", attr.name)));
        }
        _ => &[],
    };
    if filter.is_some() && !attr.multi {
        return Err(invalid_path(format!("'{}' is not multi-valued", attr.name)));
    }
    let sub = match sub {
        Some(sub) => Some(
            find_attr(subs, sub)
                .ok_or_else(|| invalid_path(format!("'{sub}' is not a sub-attribute of '{}'", attr.name)))?,
        ),
        None => None,
    };
    Ok(PatchPath { schema, attr, filter, sub })
}

/// The object that holds a schema's attributes: the resource itself, or its extension object.
fn container<'a>(resource: &'a mut Map<String, Value>, schema: &Schema) -> &'a mut Map<String, Value> {
    if schema.urn == CORE.urn {
        return resource;
    }
    let slot = resource.entry(schema.urn.to_string()).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(map) => map,
        _ => unreachable!("replaced by an object just above"),
    }
}

/// Merges `from` into the object `into` (sub-attributes not in `from` stay).
fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => into.extend(from),
        (into, from) => *into = from,
    }
}

fn apply_with_path(resource: &mut Map<String, Value>, op: PatchOp, path: &str, value: Option<Value>) -> Result<()> {
    let PatchPath { schema, attr, filter, sub } = parse_patch_path(path)?;
    let at = attr.name;
    let map = container(resource, schema);
    match (filter, sub) {
        (None, None) => {
            if op == PatchOp::Remove {
                map.remove(at);
                return Ok(());
            }
            let Some(new) = normalise_value(attr, value.unwrap_or(Value::Null), at)? else {
                if op == PatchOp::Replace {
                    map.remove(at);
                }
                return Ok(());
            };
            match (op, map.get_mut(at)) {
                (PatchOp::Add, Some(Value::Array(items))) => {
                    if let Value::Array(new) = new {
                        items.extend(new);
                    }
                }
                (_, Some(existing)) if !attr.multi => merge(existing, new),
                _ => {
                    map.insert(at.to_string(), new);
                }
            }
        }
        (None, Some(sub)) if !attr.multi => {
            if op == PatchOp::Remove {
                if let Some(Value::Object(object)) = map.get_mut(at) {
                    object.remove(sub.name);
                }
            } else {
                let new = normalise_single(sub, value.unwrap_or(Value::Null), &format!("{at}.{}", sub.name))?;
                let slot = map.entry(at.to_string()).or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(object) = slot {
                    match new {
                        Some(new) => object.insert(sub.name.to_string(), new),
                        None => object.remove(sub.name),
                    };
                }
            }
        }
        (filter, sub) => {
            // Multi-valued: the values the filter selects (all of them without a filter).
            let items = match map.get_mut(at) {
                Some(Value::Array(items)) => items,
                _ if op == PatchOp::Remove => return Ok(()),
                _ => return Err(ScimError::bad_request("noTarget", format!("'{at}' has no values"))),
            };
            let selected: Vec<bool> = items
                .iter()
                .map(|item| match (&filter, item) {
                    (None, _) => true,
                    (Some(filter), Value::Object(object)) => filter.matches(object),
                    _ => false,
                })
                .collect();
            if op == PatchOp::Remove {
                let mut keep = selected.iter().map(|s| !s);
                match sub {
                    None => items.retain(|_| keep.next().unwrap_or(true)),
                    Some(sub) => {
                        for (item, chosen) in items.iter_mut().zip(&selected) {
                            if let (true, Value::Object(object)) = (chosen, item) {
                                object.remove(sub.name);
                            }
                        }
                    }
                }
            } else {
                if !selected.contains(&true) {
                    return Err(ScimError::bad_request(
                        "noTarget",
                        format!("no value of '{at}' matches the path filter"),
                    ));
                }
                let value = value.unwrap_or(Value::Null);
                let new = match sub {
                    Some(sub) => normalise_single(sub, value, &format!("{at}.{}", sub.name))?,
                    None => normalise_single(attr, value, at)?,
                };
                for (item, chosen) in items.iter_mut().zip(&selected) {
                    if !chosen {
                        continue;
                    }
                    match (sub, &new, item) {
                        (Some(sub), Some(new), Value::Object(object)) => {
                            object.insert(sub.name.to_string(), new.clone());
                        }
                        (Some(sub), None, Value::Object(object)) => {
                            object.remove(sub.name);
                        }
                        (None, Some(new), item) if op == PatchOp::Add => merge(item, new.clone()),
                        (None, Some(new), item) => *item = new.clone(),
                        _ => {}
                    }
                }
            }
        }
    }
    Ok(())
}

/// Drops attributes left empty by an operation (`{}`, `[]`, empty extension objects).
fn prune(resource: &mut Map<String, Value>) {
    fn is_empty(value: &Value) -> bool {
        matches!(value, Value::Null)
            || matches!(value, Value::Object(o) if o.is_empty())
            || matches!(value, Value::Array(a) if a.is_empty())
    }
    for value in resource.values_mut() {
        match value {
            Value::Object(object) => {
                object.retain(|_, v| !is_empty(v));
                for v in object.values_mut() {
                    if let Value::Array(items) = v {
                        items.retain(|i| !is_empty(i));
                    }
                }
                object.retain(|_, v| !is_empty(v));
            }
            Value::Array(items) => items.retain(|i| !is_empty(i)),
            _ => {}
        }
    }
    resource.retain(|_, v| !is_empty(v));
}

/// Applies a PatchOp request body to a copy of `resource`; the caller commits it only if every
/// operation succeeded (PATCH is atomic).
pub(crate) fn apply_patch(resource: &Map<String, Value>, body: &Value) -> Result<Map<String, Value>> {
    let operations = body
        .as_object()
        .and_then(|b| get_ci(b, "Operations"))
        .ok_or_else(|| ScimError::bad_request("invalidSyntax", "The PatchOp body needs 'Operations'"))?;
    let Value::Array(operations) = operations else {
        return Err(ScimError::bad_request("invalidSyntax", "'Operations' must be an array"));
    };
    if operations.is_empty() {
        return Err(ScimError::bad_request("invalidValue", "operations holds one or more operations"));
    }
    let mut patched = resource.clone();
    for operation in operations {
        let Value::Object(operation) = operation else {
            return Err(ScimError::bad_request("invalidSyntax", "each operation must be an object"));
        };
        let op = match get_ci(operation, "op").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
            Some("add") => PatchOp::Add,
            Some("replace") => PatchOp::Replace,
            Some("remove") => PatchOp::Remove,
            _ => return Err(ScimError::bad_request("invalidSyntax", "'op' must be add, replace or remove")),
        };
        let value = get_ci(operation, "value").cloned();
        match get_ci(operation, "path") {
            Some(Value::String(path)) => apply_with_path(&mut patched, op, path, value)?,
            Some(Value::Null) | None => {
                if op == PatchOp::Remove {
                    return Err(ScimError::bad_request("noTarget", "Remove operation requires a path"));
                }
                let Some(Value::Object(values)) = value else {
                    return Err(ScimError::bad_request(
                        "invalidValue",
                        "an operation without a path needs an object value",
                    ));
                };
                for (key, value) in values {
                    match find_extension(&key) {
                        // `{"urn:…:enterprise:2.0:User": {"department": …}}`: each attribute in turn.
                        Some(schema) => {
                            let Value::Object(attributes) = value else {
                                return Err(ScimError::bad_request(
                                    "invalidValue",
                                    format!("'{key}' must be an object"),
                                ));
                            };
                            for (name, value) in attributes {
                                apply_with_path(&mut patched, op, &format!("{}:{name}", schema.urn), Some(value))?;
                            }
                        }
                        // A plain, dotted (`name.givenName`) or URN-prefixed attribute path.
                        None => apply_with_path(&mut patched, op, &key, Some(value))?,
                    }
                }
            }
            Some(_) => return Err(ScimError::bad_request("invalidPath", "'path' must be a string")),
        }
    }
    prune(&mut patched);
    user_name(&patched)?;
    Ok(patched)
}

/// Keeps only the requested attributes (`attributes=`) or drops the excluded ones
/// (`excludedAttributes=`); `id` and `schemas` are always returned.
pub(crate) fn project(
    resource: Map<String, Value>,
    attributes: Option<&str>,
    excluded: Option<&str>,
) -> Map<String, Value> {
    let names = |list: &str| -> Vec<String> {
        list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
    };
    // The top-level key a requested name designates: an extension URN or a core attribute.
    let top_level = |name: &str| -> String {
        if let Some(schema) = find_extension(name) {
            return schema.urn.to_string();
        }
        match split_urn(name) {
            Some((schema, _)) if schema.urn != CORE.urn => schema.urn.to_string(),
            Some((_, rest)) => rest.split('.').next().unwrap_or(rest).to_string(),
            None => name.split('.').next().unwrap_or(name).to_string(),
        }
    };
    let always = |key: &str| key == "id" || key == "schemas";
    if let Some(list) = attributes.filter(|l| !l.trim().is_empty()) {
        let wanted: Vec<String> = names(list).iter().map(|n| top_level(n)).collect();
        return resource
            .into_iter()
            .filter(|(k, _)| always(k) || wanted.iter().any(|w| w.eq_ignore_ascii_case(k)))
            .collect();
    }
    if let Some(list) = excluded {
        let unwanted: Vec<String> = names(list).iter().map(|n| top_level(n)).collect();
        return resource
            .into_iter()
            .filter(|(k, _)| always(k) || !unwanted.iter().any(|w| w.eq_ignore_ascii_case(k)))
            .collect();
    }
    resource
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn patch(resource: Value, operations: Value) -> Result<Value> {
        apply_patch(&object(resource), &json!({ "Operations": operations })).map(Value::Object)
    }

    #[test]
    fn bodies_are_canonicalised_and_unknown_attributes_rejected() {
        let stored = normalise_resource(json!({
            "schemas": ["x"], "id": "ignored", "meta": {}, "groups": [{"value": "g"}],
            "UserName": "a", "ACTIVE": "True", "name": {"GIVENNAME": "A"},
            "urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:user": {"LoginType": "SAML"}
        }))
        .map(Value::Object);
        assert_eq!(
            stored,
            Ok(json!({"userName": "a", "active": true, "name": {"givenName": "A"},
                INTERACT_USER_SCHEMA: {"loginType": "SAML"}}))
        );
        let err = |body: Value| normalise_resource(body).map(|_| ()).map_err(|e| (e.scim_type, e.detail));
        assert_eq!(
            err(json!({"userName": "a", "bogus": 1})),
            Err((Some("invalidSyntax"), "Extra inputs are not permitted: bogus".into()))
        );
        assert_eq!(
            err(json!({"userName": "a", "name": {"bogus": 1}})).map_err(|e| e.1),
            Err("Extra inputs are not permitted: name.bogus".into())
        );
        assert_eq!(err(json!({"userName": "a", "urn:x:y": {}})).map_err(|e| e.0), Err(Some("invalidSyntax")));
        assert_eq!(err(json!({"userName": " "})).map_err(|e| e.0), Err(Some("invalidValue")));
        assert_eq!(err(json!({"userName": "a", "active": 3})).map_err(|e| e.0), Err(Some("invalidValue")));
        assert_eq!(err(json!(["not", "an", "object"])).map_err(|e| e.0), Err(Some("invalidSyntax")));
    }

    #[test]
    fn filters_parse_and_match_like_scim2_server() {
        let user = object(json!({"id": "abc", "userName": "Jane.Doe@x.com", "externalId": "E1", "active": true,
            "emails": [{"value": "jane@x.com", "type": "work"}, {"value": "j@home.org", "type": "home"}],
            ENTERPRISE_USER_SCHEMA: {"department": "Finance"}}));
        let matches = |f: &str| parse_filter(f).map(|f| f.matches(&user));
        assert_eq!(matches(r#"userName eq "JANE.DOE@X.COM""#), Ok(true));
        assert_eq!(matches(r#"USERNAME Eq "jane.doe@x.com" and externalId eq "E1""#), Ok(true));
        assert_eq!(matches(r#"externalId eq "e1""#), Ok(false), "externalId is case-exact");
        assert_eq!(matches(r#"emails.value eq "J@HOME.org""#), Ok(true));
        assert_eq!(matches(r#"emails[type eq "work" and value co "jane"]"#), Ok(true));
        assert_eq!(matches(r#"emails[type eq "other"]"#), Ok(false));
        assert_eq!(
            matches(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "finance""#),
            Ok(true)
        );
        assert_eq!(matches(r#"not (active eq true) or (userName sw "x")"#), Ok(false));
        assert_eq!(matches(r#"title pr"#), Ok(false));
        assert_eq!(matches(r#"userName ne "nobody""#), Ok(true));
        assert_eq!(matches(r#"userName eq "with \"quote\" and \\""#), Ok(false));
        for bad in [
            "",
            "userName eq jane",
            "userName xx \"a\"",
            "userName eq \"a",
            "(userName eq \"a\"",
            "userName eq \"a\" x",
            "1abc eq \"a\"",
        ] {
            assert_eq!(parse_filter(bad).map_err(|e| e.scim_type), Err(Some("invalidFilter")), "{bad}");
        }
        let deep = format!("{}userName pr{}", "(".repeat(100), ")".repeat(100));
        assert_eq!(parse_filter(&deep).map_err(|e| e.scim_type), Err(Some("invalidFilter")));
    }

    #[test]
    fn patch_supports_the_shapes_clients_send() {
        let user = json!({"userName": "a", "active": true, "title": "T", "name": {"givenName": "A", "familyName": "B"},
            "emails": [{"value": "a@x.com", "type": "work", "primary": true}]});
        assert_eq!(
            patch(
                user.clone(),
                json!([
                    {"op": "Replace", "path": "active", "value": "False"},
                    {"op": "replace", "path": "name.givenName", "value": "Ann"},
                    {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "ann@x.com"},
                    {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales"},
                    {"op": "replace", "value": {"name.familyName": "C", "urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:User:location": "London",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"costCenter": "CC"}}},
                    {"op": "remove", "path": "title"},
                    {"op": "remove", "path": "nickName"}
                ])
            ),
            Ok(json!({"userName": "a", "active": false, "name": {"givenName": "Ann", "familyName": "C"},
                "emails": [{"value": "ann@x.com", "type": "work", "primary": true}],
                ENTERPRISE_USER_SCHEMA: {"department": "Sales", "costCenter": "CC"},
                INTERACT_USER_SCHEMA: {"location": "London"}}))
        );
        assert_eq!(
            patch(
                user.clone(),
                json!([{"op": "add", "path": "emails", "value": [{"value": "h@x.com", "type": "home"}]},
                {"op": "remove", "path": "emails[type eq \"work\"]"}])
            ),
            Ok(json!({"userName": "a", "active": true, "title": "T", "name": {"givenName": "A", "familyName": "B"},
                "emails": [{"value": "h@x.com", "type": "home"}]}))
        );
        let error = |ops: Value| patch(user.clone(), ops).map_err(|e| e.scim_type);
        assert_eq!(
            error(json!([{"op": "replace", "path": "emails[type eq \"home\"].value", "value": "x"}])),
            Err(Some("noTarget"))
        );
        assert_eq!(error(json!([{"op": "remove"}])), Err(Some("noTarget")));
        assert_eq!(error(json!([{"op": "replace", "path": "bogus", "value": 1}])), Err(Some("invalidPath")));
        assert_eq!(error(json!([{"op": "replace", "path": "urn:x:y:z", "value": 1}])), Err(Some("invalidPath")));
        assert_eq!(error(json!([{"op": "replace", "path": "name.bogus", "value": 1}])), Err(Some("invalidPath")));
        assert_eq!(error(json!([{"op": "replace", "path": "groups", "value": []}])), Err(Some("mutability")));
        assert_eq!(error(json!([{"op": "move", "path": "title"}])), Err(Some("invalidSyntax")));
        assert_eq!(error(json!([])), Err(Some("invalidValue")));
        assert_eq!(error(json!([{"op": "remove", "path": "userName"}])), Err(Some("invalidValue")));
        // Atomic: the first operation is not kept when the second fails.
        assert!(
            patch(user, json!([{"op": "replace", "path": "title", "value": "X"}, {"op": "replace", "path": "bogus"}]))
                .is_err()
        );
    }

    #[test]
    fn arbitrary_text_never_panics() {
        let alphabet: Vec<char> =
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.[]()\"\\ eq and or not pr é€😀{}:,09aXtruefalsenull$"
                .chars()
                .collect();
        let mut rng = crate::sandbox::rng::SplitMix64::new(99);
        for _ in 0..5000 {
            let text: String = (0..rng.below(48)).map(|_| alphabet[rng.below(alphabet.len())]).collect();
            let _ = parse_filter(&text);
            let _ = parse_patch_path(&text);
            let _ = normalise_resource(json!({ "userName": "x", text.clone(): text.clone() }));
            let user = object(
                json!({"userName": "x", "emails": [{"value": "a", "type": "work"}], "name": {"givenName": "A"}}),
            );
            for op in ["add", "replace", "remove"] {
                let _ = apply_patch(
                    &user,
                    &json!({"Operations": [{"op": op, "path": text.clone(), "value": text.clone()}]}),
                );
                let _ =
                    apply_patch(&user, &json!({"Operations": [{"op": op, "value": { text.clone(): text.clone() }}]}));
            }
            let _ = project(user, Some(&text), Some(&text));
        }
    }

    #[test]
    fn projection_keeps_id_and_schemas() {
        let rendered =
            object(json!({"schemas": [], "id": "1", "userName": "a", "name": {"givenName": "A"}, "meta": {},
            ENTERPRISE_USER_SCHEMA: {"department": "D"}}));
        assert_eq!(
            Value::Object(project(
                rendered.clone(),
                Some("name.givenName, urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"),
                None
            )),
            json!({"schemas": [], "id": "1", "name": {"givenName": "A"}, ENTERPRISE_USER_SCHEMA: {"department": "D"}})
        );
        assert_eq!(
            Value::Object(project(rendered, None, Some("meta,name"))),
            json!({"schemas": [], "id": "1", "userName": "a", ENTERPRISE_USER_SCHEMA: {"department": "D"}})
        );
    }
}
