//! Passkeys (WebAuthn) of console users: adding and removing them on the
//! account page, signing in with one (a discoverable credential: no user
//! name is typed), and stepping up with one instead of a TOTP code before a
//! sensitive action. `custos-webauthn` checks the ceremonies; this module
//! stores the passkeys and the single-use ceremony states and renders the
//! account page.
//!
//! A ceremony's state lives in `webauthn_ceremonies`, keyed by its kind and
//! what it is bound to: the session (adding a passkey, a step-up) or the
//! pre-sign-in cookie (signing in). Starting a ceremony replaces an earlier
//! one of the same kind and binding; finishing deletes the row before
//! anything is checked, so a challenge answers at most once, and the
//! relying party refuses a state older than its timeout (5 minutes).
//!
//! **Architecture Invariant:** a failed assertion counts toward the same
//! per-user lockout as a wrong password or TOTP code (`signin_failures`),
//! and a locked user is refused whatever the factor.

use crate::crypto::{random_bytes, sha256_hex};
use crate::error::ConsoleError;
use crate::pages::{
    Fields, PageError, PageResult, page, post_session, redirect, session, signin_markup,
};
use crate::session::{PRE_COOKIE, SESSION_COOKIE, Session, cookie, pre_token_matches};
use crate::totp;
use crate::users;
use crate::views::{self, Nav, layout};
use crate::{ConsoleState, MOUNT};
use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use custos_webauthn::{
    AuthResult, AuthenticationResponse, AuthenticationState, Challenge, CredentialId, Passkey,
    RegistrationResponse, RegistrationState, UserEntity, UserHandle, WebAuthnError,
};
use maud::{Markup, html};
use rusqlite::{Connection, OptionalExtension, params};
use std::ops::RangeInclusive;

/// The relying party name browsers show next to a console passkey.
pub const RELYING_PARTY_NAME: &str = "custos console";

/// Passkeys one user may register.
pub const MAX_PASSKEYS_PER_USER: usize = 10;

/// Characters of a passkey's name.
const LABEL_CHARS: RangeInclusive<usize> = 1..=64;

/// Largest browser answer accepted (real ones are 1 to 2 KiB).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// A WebAuthn ceremony the console runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ceremony {
    /// Adding a passkey (bound to the session).
    Register,
    /// Signing in with a passkey (bound to the pre-sign-in cookie).
    SignIn,
    /// Confirming a sensitive action (bound to the session).
    StepUp,
}

impl Ceremony {
    fn as_str(self) -> &'static str {
        match self {
            Ceremony::Register => "register",
            Ceremony::SignIn => "signin",
            Ceremony::StepUp => "step_up",
        }
    }
}

// ---------------------------------------------------------------- storage

/// A registered passkey and its bookkeeping.
#[derive(Clone, Debug)]
pub(crate) struct StoredPasskey {
    pub id: i64,
    pub user_id: i64,
    pub label: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub passkey: Passkey,
}

const PASSKEY_COLUMNS: &str = "id, user_id, label, created_at, last_used_at, passkey";

fn passkey_row(
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<(i64, i64, String, i64, Option<i64>, String)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn into_stored(
    (id, user_id, label, created_at, last_used_at, json): (
        i64,
        i64,
        String,
        i64,
        Option<i64>,
        String,
    ),
) -> Result<StoredPasskey, ConsoleError> {
    let passkey = serde_json::from_str(&json)
        .map_err(|e| ConsoleError::StoredPasskey(format!("passkey `{id}`: {e}")))?;
    Ok(StoredPasskey {
        id,
        user_id,
        label,
        created_at,
        last_used_at,
        passkey,
    })
}

/// The passkeys of `user_id`, oldest first.
pub(crate) fn user_passkeys(
    conn: &Connection,
    user_id: i64,
) -> Result<Vec<StoredPasskey>, ConsoleError> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE user_id = ?1 ORDER BY id"
    ))?;
    let rows = statement
        .query_map([user_id], passkey_row)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(into_stored).collect()
}

/// Whether `user_id` has a passkey (forms then offer a passkey step-up).
pub(crate) fn has_passkey(conn: &Connection, user_id: i64) -> Result<bool, ConsoleError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM passkeys WHERE user_id = ?1 LIMIT 1",
            [user_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

fn passkey_by_credential(
    conn: &Connection,
    credential: &CredentialId,
) -> Result<Option<StoredPasskey>, ConsoleError> {
    let row = conn
        .query_row(
            &format!("SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE credential_id = ?1"),
            [credential.as_bytes()],
            passkey_row,
        )
        .optional()?;
    row.map(into_stored).transpose()
}

/// Stores a new passkey; `false` when its credential id is already stored
/// (for this user or another: a credential belongs to one account).
fn insert_passkey(
    conn: &Connection,
    user_id: i64,
    label: &str,
    passkey: &Passkey,
    now: i64,
) -> Result<bool, ConsoleError> {
    let json =
        serde_json::to_string(passkey).map_err(|e| ConsoleError::StoredPasskey(e.to_string()))?;
    let inserted = conn.execute(
        "INSERT INTO passkeys (user_id, credential_id, passkey, sign_count, label, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (credential_id) DO NOTHING",
        params![
            user_id,
            passkey.credential_id.as_bytes(),
            json,
            passkey.sign_count,
            label,
            now
        ],
    )?;
    Ok(inserted == 1)
}

/// Applies a verified assertion: the new counter, compared-and-set against
/// the counter it was checked with, so of two concurrent assertions with one
/// counter value only one counts. `false` when the counter moved meanwhile.
fn record_use(
    conn: &Connection,
    stored: &StoredPasskey,
    result: &AuthResult,
    now: i64,
) -> Result<bool, ConsoleError> {
    let mut passkey = stored.passkey.clone();
    passkey.record_authentication(result);
    let json =
        serde_json::to_string(&passkey).map_err(|e| ConsoleError::StoredPasskey(e.to_string()))?;
    let changed = conn.execute(
        "UPDATE passkeys SET passkey = ?1, sign_count = ?2, last_used_at = ?3
         WHERE id = ?4 AND sign_count = ?5",
        params![
            json,
            passkey.sign_count,
            now,
            stored.id,
            stored.passkey.sign_count
        ],
    )?;
    Ok(changed == 1)
}

/// The user's WebAuthn user handle: 16 random bytes made at the first
/// registration (never the name: browsers and authenticators keep it).
fn user_handle(conn: &Connection, user_id: i64) -> Result<UserHandle, ConsoleError> {
    let stored: Option<Vec<u8>> = conn.query_row(
        "SELECT webauthn_user_handle FROM users WHERE id = ?1",
        [user_id],
        |row| row.get(0),
    )?;
    let bytes = match stored {
        Some(bytes) => bytes,
        None => {
            let fresh = random_bytes::<16>()?.to_vec();
            conn.execute(
                "UPDATE users SET webauthn_user_handle = ?1 WHERE id = ?2 AND webauthn_user_handle IS NULL",
                params![fresh, user_id],
            )?;
            conn.query_row(
                "SELECT webauthn_user_handle FROM users WHERE id = ?1",
                [user_id],
                |row| row.get(0),
            )?
        }
    };
    UserHandle::parse(&bytes).map_err(|e| ConsoleError::StoredPasskey(e.to_string()))
}

/// Keeps a ceremony's state until it is finished (replacing an earlier one
/// of the same kind and binding) and drops expired ones.
fn save_ceremony<T: serde::Serialize>(
    conn: &Connection,
    kind: Ceremony,
    binding: &str,
    state: &T,
    expires_at: i64,
    now: i64,
) -> Result<(), ConsoleError> {
    let json =
        serde_json::to_string(state).map_err(|e| ConsoleError::StoredPasskey(e.to_string()))?;
    conn.execute(
        "DELETE FROM webauthn_ceremonies WHERE expires_at < ?1",
        [now],
    )?;
    conn.execute(
        "INSERT INTO webauthn_ceremonies (kind, binding, state, expires_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (kind, binding) DO UPDATE SET state = excluded.state, expires_at = excluded.expires_at",
        params![kind.as_str(), binding, json, expires_at],
    )?;
    Ok(())
}

/// Takes (deletes) the pending ceremony of `kind` bound to `binding`: a
/// challenge is answered once, whatever the outcome.
fn take_ceremony<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    kind: Ceremony,
    binding: &str,
) -> Result<Option<T>, ConsoleError> {
    let json: Option<String> = conn
        .query_row(
            "DELETE FROM webauthn_ceremonies WHERE kind = ?1 AND binding = ?2 RETURNING state",
            params![kind.as_str(), binding],
            |row| row.get(0),
        )
        .optional()?;
    json.map(|json| {
        serde_json::from_str(&json).map_err(|e| ConsoleError::StoredPasskey(e.to_string()))
    })
    .transpose()
}

/// What a session's ceremonies are bound to: the digest of its cookie.
fn session_binding(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE).map(|id| sha256_hex(&format!("session:{id}")))
}

/// What a sign-in ceremony is bound to: the digest of the pre-sign-in nonce.
fn pre_binding(nonce: &str) -> String {
    sha256_hex(&format!("pre:{nonce}"))
}

fn now_ms(state: &ConsoleState) -> u64 {
    u64::try_from(state.now()).unwrap_or(0).saturating_mul(1000)
}

fn expiry(state: &ConsoleState) -> i64 {
    // The relying party enforces its own timeout; the row only needs to outlive it.
    state.now() + 10 * 60
}

// ---------------------------------------------------------------- refusals

/// What a person is told when a passkey is refused. WebAuthn errors carry
/// no secret (only an origin or counters the browser sent in clear).
fn refusal_message(error: &WebAuthnError) -> String {
    match error {
        WebAuthnError::Expired | WebAuthnError::BadChallenge => {
            "the passkey request expired or was already used: try again".to_owned()
        }
        WebAuthnError::CloneSuspected { .. } => {
            "this passkey's signature counter went backwards, so it may have been copied: it is refused; use your password and code, and tell an administrator".to_owned()
        }
        WebAuthnError::BadOrigin { origin } => {
            format!("the passkey answer came from another site (`{origin}`)")
        }
        WebAuthnError::UserNotVerified => {
            "the authenticator did not verify you (PIN or biometrics): try again".to_owned()
        }
        WebAuthnError::WrongCredential | WebAuthnError::UserHandleMismatch => {
            "that passkey is not the one asked for".to_owned()
        }
        WebAuthnError::CredentialExcluded => "this passkey is already registered".to_owned(),
        other => format!("the passkey could not be verified: {other}"),
    }
}

const CEREMONY_GONE: &str = "the passkey request expired or was already used: try again";
const NOT_CONFIGURED: &str = "passkeys are not configured for this console";

fn json_answer(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut response = (status, value.to_string()).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn json_error(status: StatusCode, message: &str) -> Response {
    json_answer(status, &serde_json::json!({ "error": message }))
}

/// The session of a JSON POST with its CSRF token, or the JSON refusal.
fn json_session(
    state: &ConsoleState,
    headers: &HeaderMap,
    form: &Fields,
) -> Result<Result<Session, Response>, PageError> {
    match post_session(state, headers, form) {
        Ok(session) => Ok(Ok(session)),
        Err(PageError::SignIn) => Ok(Err(json_error(
            StatusCode::UNAUTHORIZED,
            "your session has ended: sign in again",
        ))),
        Err(PageError::Forbidden(message)) => Ok(Err(json_error(StatusCode::FORBIDDEN, &message))),
        Err(other) => Err(other),
    }
}

fn parse_response<T: serde::de::DeserializeOwned>(form: &Fields, field: &str) -> Option<T> {
    form.get(field)
        .filter(|text| !text.is_empty() && text.len() <= MAX_RESPONSE_BYTES)
        .and_then(|text| serde_json::from_str(text).ok())
}

// ---------------------------------------------------------------- step-up

/// How a sensitive action was confirmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SteppedUp {
    Totp,
    Passkey,
}

/// Confirms a sensitive POST by the signed-in user: a passkey assertion in
/// the `webauthn` field when there is one (answering this session's step-up
/// challenge with one of the user's own passkeys), else a fresh console
/// TOTP `code`. Failures count toward the user's lockout, and a locked user
/// is refused before anything is checked.
pub(crate) fn console_step_up(
    state: &ConsoleState,
    headers: &HeaderMap,
    session: &Session,
    form: &Fields,
) -> Result<SteppedUp, PageError> {
    let now = state.now();
    let limits = state.settings().sign_in;
    let conn = state.db();
    let name_key = session.user_name.to_ascii_lowercase();
    if users::recent_failures(&conn, &name_key, now, limits)? >= limits.max_failures {
        return Err(PageError::Forbidden(
            "too many wrong codes: wait 15 minutes".to_owned(),
        ));
    }
    let passkey_answer = form.get("webauthn").filter(|text| !text.is_empty());
    if passkey_answer.is_some() {
        return match verify_step_up_assertion(state, &conn, headers, session, form)? {
            Ok(()) => Ok(SteppedUp::Passkey),
            Err(message) => {
                users::record_failure(&conn, &name_key, now, limits)?;
                tracing::info!(user = session.user_name, "console passkey step-up refused");
                Err(PageError::Forbidden(format!(
                    "passkey step-up refused: {message}"
                )))
            }
        };
    }
    let Some(user) = users::find_user_by_id(&conn, session.user_id)? else {
        return Err(PageError::SignIn);
    };
    let code = form.get("code").map_or("", String::as_str);
    let stepped_up = match totp::verify(&user.totp_secret, code, now, user.totp_last_step) {
        Some(step) => users::consume_totp_step(&conn, user.id, step)?,
        None => false,
    };
    if !stepped_up {
        users::record_failure(&conn, &name_key, now, limits)?;
        return Err(PageError::Forbidden(
            "the authenticator code is wrong or already used: wait for a new code and try again"
                .to_owned(),
        ));
    }
    Ok(SteppedUp::Totp)
}

/// Checks the `webauthn` field against this session's step-up challenge.
/// `Ok(Err(message))` is a refusal; `Err` an internal failure.
fn verify_step_up_assertion(
    state: &ConsoleState,
    conn: &Connection,
    headers: &HeaderMap,
    session: &Session,
    form: &Fields,
) -> Result<Result<(), String>, ConsoleError> {
    let Some(rp) = state.relying_party() else {
        return Ok(Err(NOT_CONFIGURED.to_owned()));
    };
    let Some(binding) = session_binding(headers) else {
        return Ok(Err(CEREMONY_GONE.to_owned()));
    };
    let Some(ceremony) = take_ceremony::<AuthenticationState>(conn, Ceremony::StepUp, &binding)?
    else {
        return Ok(Err(CEREMONY_GONE.to_owned()));
    };
    let Some(response) = parse_response::<AuthenticationResponse>(form, "webauthn") else {
        return Ok(Err("the passkey answer is malformed".to_owned()));
    };
    let Ok(credential) = response.credential_id() else {
        return Ok(Err("the passkey answer is malformed".to_owned()));
    };
    // Only the user's own passkeys: another user's credential is refused
    // here even before the allow list of the ceremony refuses it.
    let Some(stored) =
        passkey_by_credential(conn, &credential)?.filter(|p| p.user_id == session.user_id)
    else {
        return Ok(Err("that passkey is not one of yours".to_owned()));
    };
    let result = match rp.finish_authentication(ceremony, &response, &stored.passkey, now_ms(state))
    {
        Ok(result) => result,
        Err(error) => return Ok(Err(refusal_message(&error))),
    };
    if !record_use(conn, &stored, &result, state.now())? {
        return Ok(Err(CEREMONY_GONE.to_owned()));
    }
    Ok(Ok(()))
}

/// The passkey choice of a step-up form: a hidden field for the assertion
/// and a button `console.js` shows where WebAuthn is available. Nothing
/// when the user has no passkey (the TOTP code is then the only way).
pub(crate) fn step_up_choice(has_passkey: bool, submit_label: &str) -> Markup {
    html! {
        @if has_passkey {
            input type="hidden" name="webauthn" value="";
            div class="passkey-step-up" hidden {
                button type="button" class="secondary" data-passkey-step-up=(submit_label) { "Use a passkey instead" }
                p class="passkey-status" role="status" {}
            }
        }
    }
}

// ---------------------------------------------------------------- JSON options

/// `POST /console/passkeys/register/options`: creation options for a new
/// passkey of the signed-in user.
pub fn register_options(state: &ConsoleState, headers: &HeaderMap, form: &Fields) -> PageResult {
    let session = match json_session(state, headers, form)? {
        Ok(session) => session,
        Err(refusal) => return Ok(refusal),
    };
    let Some(rp) = state.relying_party() else {
        return Ok(json_error(StatusCode::NOT_FOUND, NOT_CONFIGURED));
    };
    let Some(binding) = session_binding(headers) else {
        return Ok(json_error(StatusCode::UNAUTHORIZED, "sign in again"));
    };
    let conn = state.db();
    let existing = user_passkeys(&conn, session.user_id)?;
    if existing.len() >= MAX_PASSKEYS_PER_USER {
        return Ok(json_error(
            StatusCode::BAD_REQUEST,
            &format!("you have {MAX_PASSKEYS_PER_USER} passkeys already: remove one first"),
        ));
    }
    let user = UserEntity {
        id: user_handle(&conn, session.user_id)?,
        name: session.user_name.clone(),
        display_name: session.user_name.clone(),
    };
    let exclude: Vec<CredentialId> = existing
        .iter()
        .map(|p| p.passkey.credential_id.clone())
        .collect();
    let challenge = Challenge::random().map_err(|_| ConsoleError::Random)?;
    let (options, ceremony) = rp.start_registration(&user, &exclude, challenge, now_ms(state));
    save_ceremony(
        &conn,
        Ceremony::Register,
        &binding,
        &ceremony,
        expiry(state),
        state.now(),
    )?;
    let json =
        serde_json::to_value(&options).map_err(|e| ConsoleError::StoredPasskey(e.to_string()))?;
    Ok(json_answer(StatusCode::OK, &json))
}

/// `POST /console/passkeys/step-up/options`: request options for a step-up
/// with one of the signed-in user's passkeys.
pub fn step_up_options(state: &ConsoleState, headers: &HeaderMap, form: &Fields) -> PageResult {
    let session = match json_session(state, headers, form)? {
        Ok(session) => session,
        Err(refusal) => return Ok(refusal),
    };
    let Some(rp) = state.relying_party() else {
        return Ok(json_error(StatusCode::NOT_FOUND, NOT_CONFIGURED));
    };
    let Some(binding) = session_binding(headers) else {
        return Ok(json_error(StatusCode::UNAUTHORIZED, "sign in again"));
    };
    let conn = state.db();
    let passkeys: Vec<Passkey> = user_passkeys(&conn, session.user_id)?
        .into_iter()
        .map(|p| p.passkey)
        .collect();
    if passkeys.is_empty() {
        return Ok(json_error(
            StatusCode::BAD_REQUEST,
            "you have no passkey: use your authenticator code",
        ));
    }
    let challenge = Challenge::random().map_err(|_| ConsoleError::Random)?;
    let (options, ceremony) = rp.start_authentication(&passkeys, challenge, now_ms(state));
    save_ceremony(
        &conn,
        Ceremony::StepUp,
        &binding,
        &ceremony,
        expiry(state),
        state.now(),
    )?;
    let json =
        serde_json::to_value(&options).map_err(|e| ConsoleError::StoredPasskey(e.to_string()))?;
    Ok(json_answer(StatusCode::OK, &json))
}

/// `POST /console/signin/passkey/options`: request options for a
/// usernameless sign-in (an empty allow list: the browser offers the
/// console's discoverable passkeys), bound to the pre-sign-in cookie.
pub fn signin_options(state: &ConsoleState, headers: &HeaderMap, form: &Fields) -> PageResult {
    let nonce = cookie(headers, PRE_COOKIE);
    if !pre_token_matches(
        state.form_key(),
        nonce,
        form.get("csrf").map(String::as_str),
    ) {
        return Ok(json_error(
            StatusCode::FORBIDDEN,
            "the sign-in form expired or its CSRF token is missing: reload the page",
        ));
    }
    let (Some(rp), Some(nonce)) = (state.relying_party(), nonce) else {
        return Ok(json_error(StatusCode::NOT_FOUND, NOT_CONFIGURED));
    };
    let challenge = Challenge::random().map_err(|_| ConsoleError::Random)?;
    let (options, ceremony) = rp.start_authentication(&[], challenge, now_ms(state));
    let conn = state.db();
    save_ceremony(
        &conn,
        Ceremony::SignIn,
        &pre_binding(nonce),
        &ceremony,
        expiry(state),
        state.now(),
    )?;
    let json =
        serde_json::to_value(&options).map_err(|e| ConsoleError::StoredPasskey(e.to_string()))?;
    Ok(json_answer(StatusCode::OK, &json))
}

// ---------------------------------------------------------------- sign-in

/// `POST /console/signin/passkey`: finishes a passkey sign-in and starts
/// the same session as a password and code would.
pub fn signin_finish(state: &ConsoleState, headers: &HeaderMap, form: &Fields) -> PageResult {
    let nonce = cookie(headers, PRE_COOKIE);
    if !pre_token_matches(
        state.form_key(),
        nonce,
        form.get("csrf").map(String::as_str),
    ) {
        return Err(PageError::Forbidden(
            "the sign-in form expired or its CSRF token is missing: reload the page".to_owned(),
        ));
    }
    let token = form.get("csrf").cloned().unwrap_or_default();
    let passkeys_on = state.relying_party().is_some();
    let refuse = |status: StatusCode, message: &str| {
        let mut response = (
            status,
            page(signin_markup(&token, Some(message), passkeys_on)),
        )
            .into_response();
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Form realm=\"custos console\""),
        );
        response
    };
    let (Some(rp), Some(nonce)) = (state.relying_party(), nonce) else {
        return Ok(refuse(StatusCode::NOT_FOUND, NOT_CONFIGURED));
    };
    let now = state.now();
    let limits = state.settings().sign_in;
    let conn = state.db();
    let Some(ceremony) =
        take_ceremony::<AuthenticationState>(&conn, Ceremony::SignIn, &pre_binding(nonce))?
    else {
        return Ok(refuse(StatusCode::UNAUTHORIZED, CEREMONY_GONE));
    };
    let Some(response) = parse_response::<AuthenticationResponse>(form, "credential") else {
        return Ok(refuse(
            StatusCode::BAD_REQUEST,
            "the passkey answer is missing or malformed: signing in with a passkey needs a browser with passkey support",
        ));
    };
    let Some(stored) = response
        .credential_id()
        .ok()
        .map(|credential| passkey_by_credential(&conn, &credential))
        .transpose()?
        .flatten()
    else {
        tracing::info!("console passkey sign-in with an unknown credential");
        return Ok(refuse(
            StatusCode::UNAUTHORIZED,
            "this passkey is not registered with the custos console: sign in with your password and code",
        ));
    };
    let Some(user) = users::find_user_by_id(&conn, stored.user_id)? else {
        return Ok(refuse(StatusCode::UNAUTHORIZED, CEREMONY_GONE));
    };
    let name_key = user.name.to_ascii_lowercase();
    if users::recent_failures(&conn, &name_key, now, limits)? >= limits.max_failures {
        tracing::warn!(
            user = name_key,
            "console passkey sign-in refused: too many failures"
        );
        return Ok(refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed sign-ins for this user: wait 15 minutes and try again",
        ));
    }
    let outcome = rp.finish_authentication(ceremony, &response, &stored.passkey, now_ms(state));
    let refused = match &outcome {
        Ok(result) if record_use(&conn, &stored, result, now)? => None,
        Ok(_) => Some(CEREMONY_GONE.to_owned()),
        Err(error) => Some(refusal_message(error)),
    };
    if let Some(message) = refused {
        users::record_failure(&conn, &name_key, now, limits)?;
        tracing::info!(user = name_key, "console passkey sign-in failed");
        return Ok(refuse(StatusCode::UNAUTHORIZED, &message));
    }
    crate::pages::start_session(state, &conn, headers, &user, &name_key, now, "passkey")
}

// ---------------------------------------------------------------- account

/// `GET /console/account`: the user's passkeys, adding and removing them.
pub fn account(state: &ConsoleState, headers: &HeaderMap, query: &Fields) -> PageResult {
    let session = session(state, headers)?;
    let passkeys = user_passkeys(&state.db(), session.user_id)?;
    let linked_agent = crate::users::agent_id_of(&state.db(), session.user_id)?;
    let configured = state.relying_party().is_some();
    let done = query
        .get("done")
        .filter(|d| matches!(d.as_str(), "added" | "removed"));
    let body = html! {
        h1 { "Account" }
        p { "Signed in as " strong { (session.user_name) } " (" (session.role.as_str()) ")." }
        p id="linked-agent" {
            @match &linked_agent {
                Some(agent) => { "Linked to custos agent " code { (agent) } ": customer data is requested from the access broker as this agent." }
                None => { "Not linked to a custos agent: you cannot view customer data. An admin links console users to agents." }
            }
        }
        @if let Some(done) = done {
            p class="notice ok" role="status" id="passkey-done" { "Passkey " (done) "." }
        }
        section aria-labelledby="passkeys-heading" {
            h2 id="passkeys-heading" { "Passkeys" }
            p class="help" {
                "A passkey signs you in without a password or code, and confirms a sensitive action "
                "(releasing a countermeasure, deciding a reveal request, removing a passkey) instead of a code. "
                "Your password and authenticator code keep working as the fallback."
            }
            @if !configured {
                p class="notice" id="passkeys-off" { "Passkeys are not configured for this console: an administrator sets its relying party id and origins." }
            }
            @if passkeys.is_empty() {
                p id="no-passkeys" { "You have no passkey." }
            } @else {
                div class="table-wrap" {
                    table class="passkeys" {
                        caption class="visually-hidden" { "Your passkeys" }
                        thead { tr {
                            th scope="col" { "Name" }
                            th scope="col" { "Added" }
                            th scope="col" { "Last used" }
                            th scope="col" { "Kind" }
                        } }
                        tbody {
                            @for passkey in &passkeys {
                                tr {
                                    th scope="row" { (passkey.label) }
                                    td { (views::time_secs(passkey.created_at)) }
                                    td { @match passkey.last_used_at { Some(at) => (views::time_secs(at)), None => "never" } }
                                    td { @if passkey.passkey.backup_eligible { "synced" } @else { "this device only" } }
                                }
                            }
                        }
                    }
                }
                form method="post" action={ (MOUNT) "/passkeys/remove" } class="stack" data-confirm="Remove this passkey? It can no longer sign you in." {
                    input type="hidden" name="csrf" value=(session.csrf);
                    h3 { "Remove a passkey" }
                    label for="remove-passkey" { "Passkey" }
                    select id="remove-passkey" name="passkey" required {
                        @for passkey in &passkeys { option value=(passkey.id) { (passkey.label) } }
                    }
                    label for="remove-code" { "Authenticator code (step-up)" }
                    input id="remove-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required maxlength="7";
                    (step_up_choice(configured, "Remove"))
                    button type="submit" class="danger" { "Remove" }
                }
            }
            @if configured && passkeys.len() < MAX_PASSKEYS_PER_USER {
                form method="post" action={ (MOUNT) "/passkeys/register" } class="stack" id="passkey-register" data-passkey-register="" {
                    input type="hidden" name="csrf" value=(session.csrf);
                    input type="hidden" name="credential" value="";
                    h3 { "Add a passkey" }
                    label for="passkey-label" { "Name of the passkey" }
                    input id="passkey-label" name="label" type="text" required maxlength="64" autocomplete="off" aria-describedby="passkey-label-help";
                    p id="passkey-label-help" class="help" { "To tell your passkeys apart, e.g. “work laptop”." }
                    label for="passkey-code" { "Authenticator code (step-up)" }
                    input id="passkey-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required maxlength="7" aria-describedby="passkey-code-help";
                    p id="passkey-code-help" class="help" { "Adding a passkey is sensitive: enter a fresh code from your authenticator app. Your browser then asks you to create the passkey." }
                    button type="submit" { "Add a passkey" }
                    p class="passkey-status" role="status" {}
                }
            }
        }
    };
    Ok(page(layout("Account", Some(&session), Nav::Account, body)))
}

fn back_to_account() -> Option<String> {
    Some(format!("{MOUNT}/account"))
}

/// `POST /console/passkeys/register`: finishes adding a passkey, after a
/// TOTP step-up (a stolen session alone cannot plant a passkey).
pub fn register_finish(state: &ConsoleState, headers: &HeaderMap, form: &Fields) -> PageResult {
    let session = post_session(state, headers, form)?;
    let bad = |message: &str| {
        PageError::BadRequest(message.to_owned(), Some(session.clone()), back_to_account())
    };
    let Some(rp) = state.relying_party() else {
        return Err(bad(NOT_CONFIGURED));
    };
    let label = form.get("label").map_or("", |l| l.trim()).to_owned();
    if !LABEL_CHARS.contains(&label.chars().count()) || label.chars().any(char::is_control) {
        return Err(bad("a passkey's name has 1 to 64 characters"));
    }
    let Some(response) = parse_response::<RegistrationResponse>(form, "credential") else {
        return Err(bad(
            "the passkey answer is missing or malformed: adding a passkey needs a browser with passkey support",
        ));
    };
    let Some(binding) = session_binding(headers) else {
        return Err(PageError::SignIn);
    };
    let ceremony = {
        let conn = state.db();
        take_ceremony::<RegistrationState>(&conn, Ceremony::Register, &binding)?
    };
    // The code is checked even when the ceremony is gone, so it is spent
    // and counted alike.
    let code_only: Fields = form
        .iter()
        .filter(|(key, _)| key.as_str() != "webauthn")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    console_step_up(state, headers, &session, &code_only)?;
    let Some(ceremony) = ceremony else {
        return Err(bad(CEREMONY_GONE));
    };
    let passkey = rp
        .finish_registration(ceremony, &response, now_ms(state))
        .map_err(|error| bad(&refusal_message(&error)))?;
    let conn = state.db();
    if user_passkeys(&conn, session.user_id)?.len() >= MAX_PASSKEYS_PER_USER {
        return Err(bad("you have too many passkeys already: remove one first"));
    }
    if !insert_passkey(&conn, session.user_id, &label, &passkey, state.now())? {
        return Err(bad("this passkey is already registered"));
    }
    tracing::info!(user = session.user_name, "console passkey added");
    Ok(redirect(&format!("{MOUNT}/account?done=added")))
}

/// `POST /console/passkeys/remove`: removes one of the user's passkeys,
/// after a step-up (TOTP or a passkey).
pub fn remove(state: &ConsoleState, headers: &HeaderMap, form: &Fields) -> PageResult {
    let session = post_session(state, headers, form)?;
    let Some(id) = form.get("passkey").and_then(|id| id.parse::<i64>().ok()) else {
        return Err(PageError::BadRequest(
            "choose a passkey to remove".to_owned(),
            Some(session),
            back_to_account(),
        ));
    };
    let owned = user_passkeys(&state.db(), session.user_id)?
        .iter()
        .any(|p| p.id == id);
    if !owned {
        return Err(PageError::NotFound("no such passkey of yours".to_owned()));
    }
    console_step_up(state, headers, &session, form)?;
    state
        .db()
        .execute(
            "DELETE FROM passkeys WHERE id = ?1 AND user_id = ?2",
            params![id, session.user_id],
        )
        .map_err(ConsoleError::from)?;
    tracing::info!(user = session.user_name, "console passkey removed");
    Ok(redirect(&format!("{MOUNT}/account?done=removed")))
}
