//! The filter language (RFC 7644 §3.4.2.2): parsing `filter=` and matching a parsed filter against
//! a rendered user, as `scim2-server` 0.8.3 does.

use serde_json::{Map, Value};

use super::error::{Result, ScimError};
use super::schema::{CORE, Rules, get_ci, has_urn_prefix, never_returned, split_urn};

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
    pub(crate) fn matches(&self, resource: &Map<String, Value>, rules: Rules) -> bool {
        match self {
            Filter::And(a, b) => a.matches(resource, rules) && b.matches(resource, rules),
            Filter::Or(a, b) => a.matches(resource, rules) || b.matches(resource, rules),
            Filter::Not(inner) => !inner.matches(resource, rules),
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
                    && (path.attr.eq_ignore_ascii_case("id")
                        || path.attr.eq_ignore_ascii_case("externalId")
                        || (rules.user_name_case_exact && path.attr.eq_ignore_ascii_case("userName")));
                let any = |op: Op| values.iter().any(|v| compare(v, op, expected, case_exact));
                match op {
                    Op::Ne => !any(Op::Eq),
                    Op::Eq if expected.is_null() => values.iter().all(|v| v.is_null()),
                    op => any(*op),
                }
            }
            Filter::ValuePath(path, inner) => {
                resolve(path, resource).iter().any(|v| matches!(v, Value::Object(item) if inner.matches(item, rules)))
            }
        }
    }
}

/// An attribute the store indexes (see the store's `index` module).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Indexed {
    Id,
    UserName,
    Email,
    ExternalId,
}

/// The index look-ups that find every user a filter can match (and maybe more: the filter is
/// still applied to each).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Plan {
    Lookup(Indexed, String),
    /// Users found by both.
    Both(Box<Plan>, Box<Plan>),
    /// Users found by either.
    Either(Box<Plan>, Box<Plan>),
}

impl AttrPath {
    /// Whether this is the core attribute `name` with no sub-attribute (names are case-insensitive).
    fn is_core(&self, name: &str) -> bool {
        self.schema.is_none() && self.sub.is_none() && self.attr.eq_ignore_ascii_case(name)
    }

    /// Whether only the rendered user has this attribute (`id`, `meta`, `schemas`, the read-only
    /// `groups`), or only the stored one does (a never-returned attribute such as `password`).
    fn differs_when_rendered(&self) -> bool {
        self.schema.is_none()
            && (["id", "meta", "schemas", "groups"].iter().any(|n| self.attr.eq_ignore_ascii_case(n))
                || never_returned(&self.attr))
    }
}

impl Filter {
    /// How the store's indexes can narrow this filter down, or `None` when every user must be
    /// tried: an `eq` on `id`, `userName`, `externalId` or an e-mail address (`emails`,
    /// `emails.value`, `emails[value eq …]`), combined with `and` (either side suffices) and `or`
    /// (both sides must be indexed).
    pub(crate) fn plan(&self) -> Option<Plan> {
        match self {
            Filter::And(a, b) => match (a.plan(), b.plan()) {
                (Some(a), Some(b)) => Some(Plan::Both(Box::new(a), Box::new(b))),
                (a, b) => a.or(b),
            },
            Filter::Or(a, b) => Some(Plan::Either(Box::new(a.plan()?), Box::new(b.plan()?))),
            Filter::Compare(path, Op::Eq, Value::String(value)) => {
                let is_email_value = path.schema.is_none()
                    && path.attr.eq_ignore_ascii_case("emails")
                    && path.sub.as_deref().is_none_or(|s| s.eq_ignore_ascii_case("value"));
                let indexed = if path.is_core("id") {
                    Indexed::Id
                } else if path.is_core("userName") {
                    Indexed::UserName
                } else if path.is_core("externalId") {
                    Indexed::ExternalId
                } else if is_email_value {
                    Indexed::Email
                } else {
                    return None;
                };
                Some(Plan::Lookup(indexed, value.clone()))
            }
            Filter::ValuePath(path, inner) if path.is_core("emails") => inner.email_value_plan(),
            _ => None,
        }
    }

    /// [`plan`](Self::plan) inside `emails[…]`, where `value` is the address.
    fn email_value_plan(&self) -> Option<Plan> {
        match self {
            Filter::And(a, b) => match (a.email_value_plan(), b.email_value_plan()) {
                (Some(a), Some(b)) => Some(Plan::Both(Box::new(a), Box::new(b))),
                (a, b) => a.or(b),
            },
            Filter::Or(a, b) => Some(Plan::Either(Box::new(a.email_value_plan()?), Box::new(b.email_value_plan()?))),
            Filter::Compare(path, Op::Eq, Value::String(value)) if path.is_core("value") => {
                Some(Plan::Lookup(Indexed::Email, value.clone()))
            }
            _ => None,
        }
    }

    /// Whether matching needs the user as rendered rather than its stored attributes: only when
    /// the filter names `id`, `meta`, `schemas` or a never-returned attribute. Everything else is
    /// the same in both, so filters run before (and instead of) rendering.
    pub(crate) fn needs_rendering(&self) -> bool {
        match self {
            Filter::And(a, b) | Filter::Or(a, b) => a.needs_rendering() || b.needs_rendering(),
            Filter::Not(inner) => inner.needs_rendering(),
            // Paths inside `[…]` are relative to the values: only the outer one is top-level.
            Filter::Present(path) | Filter::Compare(path, _, _) | Filter::ValuePath(path, _) => {
                path.differs_when_rendered()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ENTERPRISE_USER_SCHEMA;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn filters_parse_and_match_like_scim2_server() {
        let user = object(json!({"id": "abc", "userName": "Jane.Doe@x.com", "externalId": "E1", "active": true,
            "emails": [{"value": "jane@x.com", "type": "work"}, {"value": "j@home.org", "type": "home"}],
            ENTERPRISE_USER_SCHEMA: {"department": "Finance"}}));
        let matches = |f: &str| parse_filter(f).map(|f| f.matches(&user, Rules::STANDARD));
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
        let exact = Rules { user_name_case_exact: true, ..Rules::STANDARD };
        let matches_exactly = |f: &str| parse_filter(f).map(|f| f.matches(&user, exact));
        assert_eq!(matches_exactly(r#"userName eq "JANE.DOE@X.COM""#), Ok(false));
        assert_eq!(matches_exactly(r#"userName eq "Jane.Doe@x.com""#), Ok(true));
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
}
