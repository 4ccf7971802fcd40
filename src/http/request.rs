//! What a connector asks the request path to send: a [`Method`] and a [`Request`].

use std::fmt;

use bytes::Bytes;
use serde::Serialize;
use url::Url;

use crate::error::{Error, Result};

/// An HTTP method. Only the ones the lifecycle needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`: never retried blindly, since it may create.
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl Method {
    /// The method's name, as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// Whether repeating the request has the same effect as sending it once. `POST` is not.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Method::Post)
    }

    /// The method as reqwest names it, for the send path.
    pub(super) fn to_reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request a connector asks [`Http`](crate::Http) to send.
#[derive(Clone)]
pub struct Request {
    method: Method,
    url: Url,
    path_template: &'static str,
    /// Shared, not copied, by every attempt (and every clone of the request).
    body: Option<(&'static str, Bytes)>,
    if_match: Option<String>,
}

impl Request {
    /// A request to `url`. `path_template` names the endpoint in traces and errors without ids,
    /// query strings or e-mail addresses, for example `/Users/{id}`.
    pub fn new(method: Method, url: Url, path_template: &'static str) -> Self {
        Request { method, url, path_template, body: None, if_match: None }
    }

    /// A `GET` request.
    pub fn get(url: Url, path_template: &'static str) -> Self {
        Request::new(Method::Get, url, path_template)
    }

    /// A `POST` request.
    pub fn post(url: Url, path_template: &'static str) -> Self {
        Request::new(Method::Post, url, path_template)
    }

    /// A `PUT` request.
    pub fn put(url: Url, path_template: &'static str) -> Self {
        Request::new(Method::Put, url, path_template)
    }

    /// A `PATCH` request.
    pub fn patch(url: Url, path_template: &'static str) -> Self {
        Request::new(Method::Patch, url, path_template)
    }

    /// A `DELETE` request.
    pub fn delete(url: Url, path_template: &'static str) -> Self {
        Request::new(Method::Delete, url, path_template)
    }

    /// Sets a JSON body, sent with exactly one `Content-Type: <content_type>` header.
    pub fn json<T: Serialize + ?Sized>(mut self, content_type: &'static str, body: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::invalid_input(format!("the request body could not be encoded: {e}"), Vec::new()))?;
        self.body = Some((content_type, Bytes::from(bytes)));
        Ok(self)
    }

    /// Sends `If-Match: <etag>` (RFC 9110 §13.1.1): the server applies the write only to the
    /// version read. An ETag that is not visible ASCII (quotes, `W/` and spaces allowed) is
    /// refused as a validation error, as it could not be a header value.
    pub fn if_match(mut self, etag: &str) -> Result<Self> {
        if etag.is_empty() || !etag.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(Error::invalid_input("an ETag must be visible ASCII", Vec::new()));
        }
        self.if_match = Some(etag.to_string());
        Ok(self)
    }

    /// The `If-Match` value, if one is set.
    pub fn if_match_value(&self) -> Option<&str> {
        self.if_match.as_deref()
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The full URL (which may carry a query with personal data: do not log it).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The endpoint's template, safe to log.
    pub fn path_template(&self) -> &'static str {
        self.path_template
    }

    /// The body, if any, with its content type.
    pub fn body(&self) -> Option<(&'static str, &[u8])> {
        self.body.as_ref().map(|(ct, b)| (*ct, b.as_ref()))
    }

    /// The body as the send path hands it to each attempt: the same bytes, never a copy.
    pub(super) fn shared_body(&self) -> Option<(&'static str, Bytes)> {
        self.body.clone()
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path_template)
            .field("body_bytes", &self.body.as_ref().map(|(_, b)| b.len()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attempt_and_clone_shares_one_body() {
        let url = Url::parse("https://example.com/Users").unwrap();
        let request = Request::post(url, "/Users").json("application/scim+json", &serde_json::json!({"a": 1})).unwrap();
        let (content_type, first) = request.shared_body().unwrap();
        let (_, again) = request.clone().shared_body().unwrap();
        assert_eq!(content_type, "application/scim+json");
        assert_eq!(&first[..], br#"{"a":1}"#);
        // The same bytes, not a copy.
        assert_eq!(first.as_ptr(), again.as_ptr());
        assert_eq!(request.body(), Some(("application/scim+json", &br#"{"a":1}"#[..])));
        assert!(Request::get(Url::parse("https://example.com/").unwrap(), "/").shared_body().is_none());
    }
}
