//! Bearer-token authentication and scopes.
//!
//! Tokens are configured by their SHA-256 only, so the configuration (and a
//! memory dump) never holds a usable secret. A presented token is hashed and
//! compared in constant time against every configured hash, so the time an
//! answer takes says nothing about which bytes matched.
//!
//! **Architecture Invariant:** the presented token is never logged, echoed
//! or stored; only the configured token's `name` appears in logs.

use crate::error::{ApiError, ErrorCode};
use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};
use std::fmt;

/// What a token may do. [`Scope::Admin`] implies every other scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// `POST /v1/events`.
    Ingest,
    /// `GET /v1/alerts`, `GET /metrics`.
    Read,
    /// Everything.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Ingest, Scope::Read, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Read => "read",
            Scope::Admin => "admin",
        }
    }

    /// `ingest`, `read` or `admin`.
    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == text)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One configured API token.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSpec {
    /// Who holds the token (`siem-forwarder`); appears in logs.
    pub name: String,
    /// SHA-256 of the token text as presented after `Bearer `.
    pub token_sha256: [u8; 32],
    pub scopes: Vec<Scope>,
}

impl TokenSpec {
    /// Whether the token may use a route that needs `needed`.
    pub fn allows(&self, needed: Scope) -> bool {
        self.scopes
            .iter()
            .any(|&scope| scope == needed || scope == Scope::Admin)
    }
}

impl fmt::Debug for TokenSpec {
    /// Shows the name and scopes only: even the hash stays out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSpec")
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// The SHA-256 of a token, as [`TokenSpec::token_sha256`] holds it.
pub fn token_sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Why a hex SHA-256 was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DigestParse {
    #[error("expected 64 hexadecimal digits, got {0} characters")]
    Length(usize),
    #[error("not a hexadecimal digit at position {0}")]
    Digit(usize),
}

/// Parses a SHA-256 written as 64 hex digits (what `sha256sum` prints), for
/// configuration files.
pub fn parse_sha256_hex(text: &str) -> Result<[u8; 32], DigestParse> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return Err(DigestParse::Length(text.chars().count()));
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let high = hex_value(pair[0]).ok_or(DigestParse::Digit(2 * i + 1))?;
        let low = hex_value(pair[1]).ok_or(DigestParse::Digit(2 * i + 2))?;
        out[i] = high << 4 | low;
    }
    Ok(out)
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Equality whose running time does not depend on where the inputs differ.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // black_box keeps the optimiser from turning the fold into an early exit.
    std::hint::black_box(difference) == 0
}

/// Finds the configured token a request presents and checks its scope.
///
/// Returns the token's name. Every configured hash is compared, match or
/// not, so the answer time does not depend on the position of the match.
pub fn authorize<'a>(
    headers: &HeaderMap,
    tokens: &'a [TokenSpec],
    needed: Scope,
) -> Result<&'a str, ApiError> {
    let presented = bearer_token(headers)?;
    let digest = token_sha256(presented);
    let mut found: Option<&TokenSpec> = None;
    for spec in tokens {
        if constant_time_eq(&digest, &spec.token_sha256) && found.is_none() {
            found = Some(spec);
        }
    }
    let spec = found.ok_or_else(|| {
        ApiError::new(ErrorCode::Unauthenticated, "the bearer token is not valid")
    })?;
    if !spec.allows(needed) {
        tracing::info!(token = %spec.name, scope = %needed, "token lacks the scope");
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("this route needs the `{needed}` scope"),
        ));
    }
    Ok(&spec.name)
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let missing = || {
        ApiError::new(
            ErrorCode::Unauthenticated,
            "send `Authorization: Bearer <token>`",
        )
    };
    let value = headers.get(header::AUTHORIZATION).ok_or_else(missing)?;
    let text = value.to_str().map_err(|_| missing())?;
    let (scheme, token) = text.split_once(' ').ok_or_else(missing)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(missing());
    }
    Ok(token)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn tokens() -> Vec<TokenSpec> {
        vec![
            TokenSpec {
                name: "writer".into(),
                token_sha256: token_sha256("w-secret"),
                scopes: vec![Scope::Ingest],
            },
            TokenSpec {
                name: "root".into(),
                token_sha256: token_sha256("r-secret"),
                scopes: vec![Scope::Admin],
            },
        ]
    }

    fn check(authorization: Option<&str>, needed: Scope, expect: Result<&str, ErrorCode>) {
        let mut headers = HeaderMap::new();
        if let Some(value) = authorization {
            headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        let tokens = tokens();
        let got = authorize(&headers, &tokens, needed).map_err(|e| e.code);
        assert_eq!(got, expect, "{authorization:?} {needed:?}");
    }

    #[test]
    fn tokens_are_matched_by_hash_and_scoped() {
        check(Some("Bearer w-secret"), Scope::Ingest, Ok("writer"));
        check(Some("bearer w-secret"), Scope::Ingest, Ok("writer"));
        check(
            Some("Bearer w-secret"),
            Scope::Read,
            Err(ErrorCode::Forbidden),
        );
        check(Some("Bearer r-secret"), Scope::Read, Ok("root"));
        check(Some("Bearer r-secret"), Scope::Ingest, Ok("root"));
        check(
            Some("Bearer nope"),
            Scope::Ingest,
            Err(ErrorCode::Unauthenticated),
        );
        check(
            Some("Basic dzpw"),
            Scope::Ingest,
            Err(ErrorCode::Unauthenticated),
        );
        check(
            Some("Bearer "),
            Scope::Ingest,
            Err(ErrorCode::Unauthenticated),
        );
        check(None, Scope::Ingest, Err(ErrorCode::Unauthenticated));
    }

    #[test]
    fn hex_digests_parse_like_sha256sum_prints_them() {
        // `printf abc | sha256sum`
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(parse_sha256_hex(hex), Ok(token_sha256("abc")));
        assert_eq!(
            parse_sha256_hex(&hex.to_uppercase()),
            Ok(token_sha256("abc"))
        );
        assert_eq!(parse_sha256_hex("ab"), Err(DigestParse::Length(2)));
        let mut bad = hex.to_owned();
        bad.replace_range(5..6, "g");
        assert_eq!(parse_sha256_hex(&bad), Err(DigestParse::Digit(6)));
    }

    #[test]
    fn debug_output_hides_the_hash() {
        let text = format!("{:?}", tokens()[0]);
        assert!(text.contains("writer"));
        assert!(!text.contains("token_sha256"));
    }

    #[test]
    fn constant_time_eq_is_equality() {
        let a = token_sha256("a");
        let mut b = a;
        assert!(constant_time_eq(&a, &b));
        b[31] ^= 1;
        assert!(!constant_time_eq(&a, &b));
    }
}
