//! The service's one error type, answered as an RFC 9457 problem document
//! (`application/problem+json`) naming the field, line and value at fault.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// A problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (relative: `/problems/<kind>`).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The part of the request at fault: a setting, a form field, a column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The line of the uploaded data at fault (1-based, the header is line 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The value that was wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{detail}")]
    BadRequest {
        detail: String,
        field: Option<String>,
        value: Option<String>,
    },
    /// The uploaded data broke its format (a malformed line, a missing column).
    #[error("{detail}")]
    BadData { detail: String, line: Option<u64> },
    #[error("no model named {0:?} in the store")]
    UnknownModel(String),
    #[error("no {what} with id {id:?}")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    Conflict(String),
    #[error("the request body is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("unsupported content type {found:?}; {expected}")]
    UnsupportedType { found: String, expected: String },
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn bad(detail: impl Into<String>, field: &str) -> Error {
        Error::BadRequest {
            detail: detail.into(),
            field: Some(field.into()),
            value: None,
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> Error {
        Error::Internal(e.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Error::BadData { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::UnknownModel(_) | Error::NotFound { .. } => StatusCode::NOT_FOUND,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Error::BadRequest { .. } => "bad-request",
            Error::BadData { .. } => "bad-data",
            Error::UnknownModel(_) => "unknown-model",
            Error::NotFound { .. } => "not-found",
            Error::Conflict(_) => "conflict",
            Error::TooLarge { .. } => "too-large",
            Error::UnsupportedType { .. } => "unsupported-media-type",
            Error::Unavailable(_) => "unavailable",
            Error::Internal(_) => "internal",
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        let (field, line, value) = match self {
            Error::BadRequest { field, value, .. } => (field.clone(), None, value.clone()),
            Error::BadData { line, .. } => (None, *line, None),
            Error::UnknownModel(name) => (Some("name".into()), None, Some(name.clone())),
            Error::NotFound { id, .. } => (Some("id".into()), None, Some(id.clone())),
            Error::UnsupportedType { found, .. } => {
                (Some("content-type".into()), None, Some(found.clone()))
            }
            _ => (None, None, None),
        };
        Problem {
            kind: format!("/problems/{}", self.kind()),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: self.to_string(),
            field,
            line,
            value,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if matches!(self, Error::Internal(_)) {
            tracing::error!("{self}");
        }
        problem_response(&self.problem())
    }
}

/// A problem document as a response.
pub fn problem_response(p: &Problem) -> Response {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(p).unwrap_or_default();
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    r
}

/// Every error response a problem document: axum's own rejections (a query that does not
/// parse, a missing parameter) and the timeout layer's 408 come as plain text; their status
/// is kept and their text becomes the detail.
pub async fn as_problem(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), 64 << 10)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body).trim().to_string();
    let detail = match (status, text.is_empty()) {
        (StatusCode::REQUEST_TIMEOUT, _) => {
            "the request took longer than the service's request timeout".to_string()
        }
        (_, true) => status.canonical_reason().unwrap_or("error").to_string(),
        _ => text,
    };
    problem_response(&Problem {
        kind: format!("/problems/{}", status.as_u16()),
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        status: status.as_u16(),
        detail,
        field: None,
        line: None,
        value: None,
    })
}
