//! The OpenAPI 3.1 document of the API, written by hand in
//! `src/openapi.json` and served as is at `GET /openapi.json`.
//!
//! Tests keep it true: every route of [`crate::ROUTES`] is documented with
//! the same method and authentication, nothing else is, and real responses
//! carry every property the document marks required.

/// The document, as served.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");
