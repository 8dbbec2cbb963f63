//! Server-side sessions and CSRF tokens.
//!
//! A session id is 256 random bits, sent to the browser once in an
//! `HttpOnly; Secure; SameSite=Strict; Path=/console` cookie and stored only
//! as its SHA-256, so a copy of the database opens no session. Sessions end
//! after an idle and an absolute lifetime. Each session carries its own
//! synchronizer CSRF token, which every POST form echoes.
//!
//! Before sign-in there is no session: the sign-in form is protected by a
//! pre-session cookie holding a random nonce and a form token that is the
//! HMAC of that nonce under a key of this process (a signed double-submit).

use crate::crypto::{constant_time_eq, hmac_sha256_hex, random_token, sha256_hex};
use crate::error::ConsoleError;
use crate::users::Role;
use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use rusqlite::{Connection, OptionalExtension, params};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "custos_console";
/// The pre-sign-in cookie's name.
pub const PRE_COOKIE: &str = "custos_console_pre";
/// The path every console cookie is scoped to.
pub const COOKIE_PATH: &str = "/console";

/// How long sessions live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLimits {
    /// A session unused this long (seconds) is over.
    pub idle_secs: i64,
    /// A session this old (seconds) is over, however busy.
    pub absolute_secs: i64,
}

impl Default for SessionLimits {
    fn default() -> SessionLimits {
        SessionLimits {
            idle_secs: 30 * 60,
            absolute_secs: 12 * 60 * 60,
        }
    }
}

/// A signed-in user's session.
#[derive(Clone, Debug)]
pub struct Session {
    pub user_id: i64,
    pub user_name: String,
    pub role: Role,
    /// The synchronizer token every POST of this session must carry.
    pub csrf: String,
}

impl Session {
    /// Whether a form's token is this session's.
    pub fn csrf_matches(&self, token: Option<&str>) -> bool {
        token.is_some_and(|token| constant_time_eq(token.as_bytes(), self.csrf.as_bytes()))
    }
}

/// Starts a session for `user_id`; returns the id for the cookie.
pub(crate) fn create(conn: &Connection, user_id: i64, now: i64) -> Result<String, ConsoleError> {
    let id = random_token()?;
    let csrf = random_token()?;
    conn.execute(
        "INSERT INTO sessions (id_hash, user_id, csrf, created_at, last_seen) VALUES (?1, ?2, ?3, ?4, ?4)",
        params![sha256_hex(&id), user_id, csrf, now],
    )?;
    Ok(id)
}

/// The live session with cookie value `id`, touching its idle timer; ends
/// (deletes) it when it has expired.
pub(crate) fn lookup(
    conn: &Connection,
    id: &str,
    now: i64,
    limits: SessionLimits,
) -> Result<Option<Session>, ConsoleError> {
    let id_hash = sha256_hex(id);
    let row = conn
        .query_row(
            "SELECT s.user_id, u.name, u.role, s.csrf, s.created_at, s.last_seen
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?1",
            [&id_hash],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, i64>(4)?,
                    row.get::<_, i64>(5)?,
                ))
            },
        )
        .optional()?;
    let Some((user_id, user_name, role, csrf, created_at, last_seen)) = row else {
        return Ok(None);
    };
    if now - last_seen >= limits.idle_secs || now - created_at >= limits.absolute_secs {
        conn.execute("DELETE FROM sessions WHERE id_hash = ?1", [&id_hash])?;
        return Ok(None);
    }
    // One write a minute at most: the idle timer needs no finer grain.
    if now - last_seen >= 60 {
        conn.execute(
            "UPDATE sessions SET last_seen = ?1 WHERE id_hash = ?2",
            params![now, id_hash],
        )?;
    }
    Ok(Some(Session {
        user_id,
        user_name,
        role: role.parse()?,
        csrf,
    }))
}

/// Ends the session with cookie value `id`, and any expired ones.
pub(crate) fn end(
    conn: &Connection,
    id: &str,
    now: i64,
    limits: SessionLimits,
) -> Result<(), ConsoleError> {
    conn.execute("DELETE FROM sessions WHERE id_hash = ?1", [sha256_hex(id)])?;
    conn.execute(
        "DELETE FROM sessions WHERE last_seen <= ?1 OR created_at <= ?2",
        params![now - limits.idle_secs, now - limits.absolute_secs],
    )?;
    Ok(())
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// A `Set-Cookie` value for a console cookie.
pub fn set_cookie(name: &str, value: &str, max_age_secs: Option<i64>) -> String {
    let mut cookie =
        format!("{name}={value}; HttpOnly; Secure; SameSite=Strict; Path={COOKIE_PATH}");
    if let Some(max_age) = max_age_secs {
        cookie.push_str(&format!("; Max-Age={max_age}"));
    }
    cookie
}

/// A `Set-Cookie` value that deletes a console cookie.
pub fn clear_cookie(name: &str) -> String {
    set_cookie(name, "", Some(0))
}

/// The form token that goes with pre-session nonce `nonce`.
pub(crate) fn pre_token(key: &[u8], nonce: &str) -> String {
    hmac_sha256_hex(key, nonce.as_bytes())
}

/// Whether a sign-in form's token belongs to the pre-session cookie.
pub(crate) fn pre_token_matches(key: &[u8], nonce: Option<&str>, token: Option<&str>) -> bool {
    match (nonce, token) {
        (Some(nonce), Some(token)) if nonce.len() == 64 => {
            constant_time_eq(pre_token(key, nonce).as_bytes(), token.as_bytes())
        }
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookies_are_found_by_name() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; custos_console=abc"));
        headers.append(COOKIE, HeaderValue::from_static("custos_console_pre=def"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, PRE_COOKIE), Some("def"));
        assert_eq!(cookie(&headers, "b"), None);
    }

    #[test]
    fn cookies_are_locked_down() {
        assert_eq!(
            set_cookie(SESSION_COOKIE, "x", None),
            "custos_console=x; HttpOnly; Secure; SameSite=Strict; Path=/console"
        );
        assert!(clear_cookie(SESSION_COOKIE).ends_with("; Max-Age=0"));
    }

    #[test]
    fn pre_tokens_bind_the_form_to_the_cookie() {
        let key = [7_u8; 32];
        let nonce = "a".repeat(64);
        let token = pre_token(&key, &nonce);
        assert!(pre_token_matches(&key, Some(&nonce), Some(&token)));
        assert!(!pre_token_matches(
            &key,
            Some(&"b".repeat(64)),
            Some(&token)
        ));
        assert!(!pre_token_matches(&key, Some(&nonce), None));
        assert!(!pre_token_matches(&[8_u8; 32], Some(&nonce), Some(&token)));
    }
}
