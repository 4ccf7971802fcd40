//! Freshservice's two error bodies (validation errors by field, and the flat `code`/`message`
//! one), and the JSON content type every response carries.

use std::fmt;

use hyper::StatusCode;
use serde_json::{Value, json};

use crate::sandbox::server::ApiResponse;

pub(super) const JSON: &str = "application/json; charset=utf-8";

/// One entry of a Freshservice validation error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FieldError {
    pub(super) field: String,
    pub(super) message: String,
    pub(super) code: &'static str,
}

pub(super) fn field_error(field: &str, message: impl Into<String>, code: &'static str) -> FieldError {
    FieldError { field: field.to_string(), message: message.into(), code }
}

/// A Freshservice error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum FsError {
    /// `400` (or `409` for duplicates) with `{"description":"Validation failed","errors":[…]}`.
    Validation(StatusCode, Vec<FieldError>),
    /// Any other status with the flat `{"code","message"}` body.
    Flat(StatusCode, &'static str, String),
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FsError::Validation(status, errors) => {
                write!(f, "{status} Validation failed:")?;
                for e in errors {
                    write!(f, " {} {} ({});", e.field, e.message, e.code)?;
                }
                Ok(())
            }
            FsError::Flat(status, code, message) => write!(f, "{status} {code}: {message}"),
        }
    }
}

impl FsError {
    pub(super) fn validation(errors: Vec<FieldError>) -> Self {
        FsError::Validation(StatusCode::BAD_REQUEST, errors)
    }

    pub(super) fn not_found() -> Self {
        FsError::Flat(StatusCode::NOT_FOUND, "not_found", "The requested resource was not found".into())
    }

    pub(super) fn response(&self) -> ApiResponse {
        match self {
            FsError::Validation(status, errors) => {
                let errors: Vec<Value> =
                    errors.iter().map(|e| json!({ "field": e.field, "message": e.message, "code": e.code })).collect();
                ApiResponse::json(*status, JSON, &json!({ "description": "Validation failed", "errors": errors }))
            }
            FsError::Flat(status, code, message) => {
                ApiResponse::json(*status, JSON, &json!({ "code": code, "message": message }))
            }
        }
    }
}
