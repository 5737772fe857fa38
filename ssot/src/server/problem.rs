//! RFC 9457 problem details, as the TypeScript server writes them: `{type, title, status,
//! detail, instance, requestId, errors?}` with `application/problem+json`. Nothing of a database
//! message reaches the client.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use serde::Serialize;

/// One field's error in a 400 or 409 answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

/// An error with an HTTP status whose `detail` is safe to show the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    pub status: u16,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub headers: Vec<(&'static str, String)>,
}

impl HttpError {
    pub fn new(status: u16, detail: impl Into<String>) -> Self {
        HttpError { status, detail: detail.into(), errors: Vec::new(), headers: Vec::new() }
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// 400 with one field error.
    pub fn bad(path: impl Into<String>, message: impl Into<String>) -> Self {
        HttpError::new(400, "The request is not valid.").with_errors(vec![FieldError { path: path.into(), message: message.into() }])
    }

    pub fn not_found() -> Self {
        HttpError::new(404, "The row does not exist.")
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        HttpError::new(403, detail)
    }

    /// 500 without internals (the cause goes to the log, not to the caller).
    pub fn internal() -> Self {
        HttpError::new(500, "The server could not handle the request.")
    }
}

impl From<sqlx::Error> for HttpError {
    /// Errors of the database, by SQLSTATE: class 22 is bad data, class 23 a violated constraint
    /// (unique: 409 with the TypeScript server's wording); an unreachable database is 503.
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) => {
                let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                // SQLite's extended codes: 2067 / 1555 unique, 787 foreign key, 1299 not null.
                if db.is_unique_violation() {
                    return HttpError::new(409, "A row with the same unique value already exists.");
                }
                if db.is_foreign_key_violation() {
                    return HttpError::new(409, "The change conflicts with a related row (a reference is missing or still in use).");
                }
                if code.starts_with("22") {
                    return HttpError::new(400, "A value cannot be stored by the database.");
                }
                if code.starts_with("23") || db.is_check_violation() || code == "1299" {
                    return HttpError::new(409, "The change conflicts with a constraint of the database.");
                }
                if code == "40001" || code == "40P01" {
                    return HttpError::new(409, "The change conflicted with a concurrent change; retry it.");
                }
                // SQLite busy or locked past busy_timeout, PostgreSQL shutting down or a lost
                // connection: the database is there but cannot answer now.
                if code == "5" || code == "6" || code == "57P01" || code == "57P03" || code.starts_with("08") {
                    tracing::error!(error = %e, "database busy or unavailable");
                    return HttpError::new(503, "The database cannot be reached; retry later.").with_header("retry-after", "1");
                }
                if code == "42P01" || code == "42703" {
                    tracing::error!(error = %e, "the database lacks a table or column of the schema");
                    return HttpError::new(503, "The database lacks a table or column of this model; apply the schema's migrations.");
                }
                tracing::error!(error = %e, "database error");
                HttpError::internal()
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                tracing::error!(error = %e, "database unreachable");
                HttpError::new(503, "The database cannot be reached; retry later.").with_header("retry-after", "1")
            }
            _ => {
                tracing::error!(error = %e, "database error");
                HttpError::internal()
            }
        }
    }
}

fn title(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    r#type: &'static str,
    title: &'static str,
    status: u16,
    detail: &'a str,
    instance: &'a str,
    request_id: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [FieldError],
}

impl HttpError {
    /// The response for a request to `instance` (its path) with this request id.
    pub fn response(&self, instance: &str, request_id: &str) -> axum::response::Response {
        let body = Body {
            r#type: "about:blank",
            title: title(self.status),
            status: self.status,
            detail: &self.detail,
            instance,
            request_id,
            errors: &self.errors,
        };
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/problem+json"));
        for (name, value) in &self.headers {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(HeaderName::from_static(name), v);
            }
        }
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, headers, serde_json::to_string(&body).unwrap_or_default()).into_response()
    }
}
