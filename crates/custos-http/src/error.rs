//! The one error type of the HTTP edge: a transport-neutral [`ErrorCode`],
//! mapped to an HTTP status in exactly one place ([`ErrorCode::http_status`]),
//! and rendered as an RFC 9457 `application/problem+json` body.
//!
//! **Architecture Invariant:** a 5xx body never carries details. Whatever
//! went wrong inside is logged with `tracing`; the client reads
//! "internal error".

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Where every problem `type` URI starts.
pub const PROBLEM_TYPE_BASE: &str = "https://custos.dev/problems/";

/// The media type of every error body.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// What the detail of every 5xx answer says.
pub const INTERNAL_DETAIL: &str = "internal error";

/// Why a request failed, independent of the transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The body cannot be read as events at all (not UTF-8, not a JSON array).
    InvalidBody,
    /// A query parameter is missing, unknown, repeated or malformed.
    InvalidParameter,
    /// No credentials, or credentials that match no configured token.
    Unauthenticated,
    /// A known token without the scope the route needs.
    Forbidden,
    /// No route has this path.
    NotFound,
    /// The path exists, the method does not.
    MethodNotAllowed,
    /// Too many bytes or too many events in one request.
    PayloadTooLarge,
    /// A `Content-Type` the route does not read.
    UnsupportedMediaType,
    /// The request is understood but refused by a rule: self-approval,
    /// an approver without the role or step-up, a wrong one-time code.
    Refused,
    /// The request conflicts with the current state: a grant already
    /// decided, expired or spent; an agent already enrolled.
    Conflict,
    /// The database or the pipeline cannot take the request right now.
    Unavailable,
    /// Anything else: a bug or an unexpected failure.
    Internal,
}

impl ErrorCode {
    /// Every code, for tests and documentation.
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::InvalidBody,
        ErrorCode::InvalidParameter,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::Refused,
        ErrorCode::Conflict,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ];

    /// The last segment of the problem `type` URI.
    pub fn slug(self) -> &'static str {
        match self {
            ErrorCode::InvalidBody => "invalid-body",
            ErrorCode::InvalidParameter => "invalid-parameter",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not-found",
            ErrorCode::MethodNotAllowed => "method-not-allowed",
            ErrorCode::PayloadTooLarge => "payload-too-large",
            ErrorCode::UnsupportedMediaType => "unsupported-media-type",
            ErrorCode::Refused => "refused",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }

    /// A short summary that is the same for every occurrence of the code.
    pub fn title(self) -> &'static str {
        match self {
            ErrorCode::InvalidBody => "invalid request body",
            ErrorCode::InvalidParameter => "invalid query parameter",
            ErrorCode::Unauthenticated => "authentication required",
            ErrorCode::Forbidden => "missing scope",
            ErrorCode::NotFound => "not found",
            ErrorCode::MethodNotAllowed => "method not allowed",
            ErrorCode::PayloadTooLarge => "payload too large",
            ErrorCode::UnsupportedMediaType => "unsupported media type",
            ErrorCode::Refused => "refused by a rule",
            ErrorCode::Conflict => "conflicts with the current state",
            ErrorCode::Unavailable => "service unavailable",
            ErrorCode::Internal => "internal error",
        }
    }

    /// The one place codes become HTTP statuses.
    pub fn http_status(self) -> StatusCode {
        match self {
            ErrorCode::InvalidBody | ErrorCode::InvalidParameter => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::Refused => StatusCode::FORBIDDEN,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem `type` URI.
    pub fn type_uri(self) -> String {
        format!("{PROBLEM_TYPE_BASE}{}", self.slug())
    }
}

/// One specific thing wrong with a request: a JSON pointer into the body or
/// the name of a query parameter, and what is wrong there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProblemItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    pub detail: String,
}

/// A failed request, ready to become a problem+json response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    /// For the client; replaced by [`INTERNAL_DETAIL`] on 5xx answers.
    pub detail: String,
    pub errors: Vec<ProblemItem>,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            code,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// A bad query parameter, named both in the detail and in `errors`.
    pub fn parameter(name: &str, detail: impl Into<String>) -> ApiError {
        let detail = detail.into();
        ApiError {
            code: ErrorCode::InvalidParameter,
            detail: detail.clone(),
            errors: vec![ProblemItem {
                pointer: None,
                parameter: Some(name.to_owned()),
                detail,
            }],
        }
    }

    /// A failure inside custos: the cause goes to the log, not to the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "request failed");
        ApiError::new(ErrorCode::Internal, INTERNAL_DETAIL)
    }

    /// The database (or the ingest thread) cannot take the request now.
    pub fn unavailable(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::warn!(error = %cause, "service unavailable");
        ApiError::new(ErrorCode::Unavailable, INTERNAL_DETAIL)
    }

    pub fn status(&self) -> StatusCode {
        self.code.http_status()
    }

    /// The problem document (RFC 9457).
    pub fn body(&self) -> Problem<'_> {
        let server_side = self.status().is_server_error();
        Problem {
            type_uri: self.code.type_uri(),
            title: self.code.title(),
            status: self.status().as_u16(),
            detail: if server_side {
                INTERNAL_DETAIL
            } else {
                &self.detail
            },
            errors: if server_side { &[] } else { &self.errors },
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.slug(), self.detail)
    }
}

/// The RFC 9457 body of an error answer.
#[derive(Debug, Serialize)]
pub struct Problem<'a> {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: &'a str,
    #[serde(skip_serializing_if = "<[ProblemItem]>::is_empty")]
    pub errors: &'a [ProblemItem],
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // INVARIANT: the problem holds only strings and integers, so
        // serialising it cannot fail.
        let body = serde_json::to_vec(&self.body()).unwrap_or_default();
        let mut response = (self.status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        match self.code {
            ErrorCode::Unauthenticated => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"custos\""),
                );
            }
            ErrorCode::Unavailable => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_own_slug_and_an_error_status() {
        let mut slugs = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(slugs.insert(code.slug()), "{code:?}");
            let status = code.http_status();
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{code:?}"
            );
            let title = code.title();
            assert!(title.starts_with(char::is_lowercase), "{title}");
            assert!(!title.ends_with('.'), "{title}");
        }
    }

    #[test]
    fn server_errors_hide_their_details() {
        let mut error = ApiError::new(ErrorCode::Internal, "disk /var/lib/custos is full");
        error.errors.push(ProblemItem {
            pointer: Some("#".into()),
            parameter: None,
            detail: "secret".into(),
        });
        let body = serde_json::to_value(error.body()).unwrap();
        assert_eq!(body["detail"], INTERNAL_DETAIL);
        assert!(body.get("errors").is_none());
        assert_eq!(body["status"], 500);
        assert_eq!(body["type"], "https://custos.dev/problems/internal");
    }

    #[test]
    fn client_errors_keep_their_details_and_items() {
        let error = ApiError::parameter("since", "`since`: not a time");
        let body = serde_json::to_value(error.body()).unwrap();
        assert_eq!(body["status"], 400);
        assert_eq!(body["detail"], "`since`: not a time");
        assert_eq!(body["errors"][0]["parameter"], "since");
        assert!(body["errors"][0].get("pointer").is_none());
    }
}
