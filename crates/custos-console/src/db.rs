//! The console's own SQLite database (`console.db` in the directory given to
//! [`ConsoleState::open`](crate::ConsoleState::open)): users, sessions,
//! passkeys and their pending ceremonies, sign-in failures, triage state and its history, the release log, and an
//! index of the store that makes every page a handful of indexed lookups.
//!
//! **Architecture Invariant:** the custos store is only read here, except
//! for the one `countermeasure_release` event a release appends and the
//! broker's `agent_access` event a customer data view appends; triage
//! labels live in this database, keyed by `alert_id`, because the alerts
//! table is append-only.

use crate::error::ConsoleError;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file name of the console database inside its directory.
pub const CONSOLE_DB_FILE: &str = "console.db";

/// Version of the schema below; bumped by each migration added after it.
const SCHEMA_VERSION: i64 = 3;

pub(crate) const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_phc TEXT NOT NULL,
    totp_secret BLOB NOT NULL,
    totp_last_step INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);
CREATE TABLE IF NOT EXISTS signin_failures (
    name TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS signin_failures_name ON signin_failures(name, at);
CREATE TABLE IF NOT EXISTS triage (
    alert_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    assignee TEXT,
    resolution TEXT,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS triage_log (
    id INTEGER PRIMARY KEY,
    alert_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    user_name TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS triage_log_alert ON triage_log(alert_id, id);
CREATE TABLE IF NOT EXISTS release_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    user_name TEXT NOT NULL,
    entity_kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT NOT NULL,
    event_id TEXT NOT NULL,
    seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS idx_cursor (
    name TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS idx_events (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    ts_micros INTEGER NOT NULL,
    agent_id TEXT
);
CREATE INDEX IF NOT EXISTS idx_events_id ON idx_events(event_id);
CREATE INDEX IF NOT EXISTS idx_events_agent ON idx_events(agent_id, seq) WHERE agent_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS idx_alerts (
    seq INTEGER PRIMARY KEY,
    alert_id TEXT NOT NULL,
    ts_micros INTEGER NOT NULL,
    detector TEXT NOT NULL,
    severity INTEGER NOT NULL,
    entity_kind TEXT NOT NULL,
    entity_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_alerts_id ON idx_alerts(alert_id);
CREATE INDEX IF NOT EXISTS idx_alerts_ts ON idx_alerts(ts_micros);
CREATE INDEX IF NOT EXISTS idx_alerts_entity ON idx_alerts(entity_kind, entity_id, ts_micros);
CREATE INDEX IF NOT EXISTS idx_alerts_entity_id ON idx_alerts(entity_id);
CREATE TABLE IF NOT EXISTS idx_responses (
    alert_seq INTEGER NOT NULL,
    entity_kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    action TEXT NOT NULL,
    ts_micros INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_responses_entity ON idx_responses(entity_kind, entity_id, action);
CREATE TABLE IF NOT EXISTS idx_releases (
    seq INTEGER PRIMARY KEY,
    ts_micros INTEGER NOT NULL,
    entity_kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    action TEXT NOT NULL,
    released_by TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_releases_entity ON idx_releases(entity_kind, entity_id, action);
";

/// Version 2: passkeys. A random WebAuthn user handle per user (made at the
/// first registration), the passkeys (the `custos_webauthn::Passkey` as
/// JSON, with its signature counter also in a column for compare-and-set),
/// and the pending ceremonies: one per kind and binding (a session, or the
/// pre-sign-in cookie), single use, expiring with the ceremony timeout.
const SCHEMA_V2: &str = "
ALTER TABLE users ADD COLUMN webauthn_user_handle BLOB;
CREATE TABLE IF NOT EXISTS passkeys (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credential_id BLOB NOT NULL UNIQUE,
    passkey TEXT NOT NULL,
    sign_count INTEGER NOT NULL,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX IF NOT EXISTS passkeys_user ON passkeys(user_id);
CREATE TABLE IF NOT EXISTS webauthn_ceremonies (
    kind TEXT NOT NULL,
    binding TEXT NOT NULL,
    state TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (kind, binding)
);
";

/// Version 3: the custos agent a console user is (`agent_id`, nullable).
/// Customer data is requested from the access broker as that agent; a
/// user without one requests nothing.
const SCHEMA_V3: &str = "
ALTER TABLE users ADD COLUMN agent_id TEXT;
";

/// The path of the console database in `dir`.
pub fn database_path(dir: &Path) -> PathBuf {
    dir.join(CONSOLE_DB_FILE)
}

/// Opens (creating when missing) the console database and brings its schema
/// up to date.
pub fn open(dir: &Path) -> Result<Connection, ConsoleError> {
    std::fs::create_dir_all(dir)?;
    let path = database_path(dir);
    let conn = Connection::open(&path)?;
    restrict_permissions(&path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // Sessions and triage are worth a durable commit; the index is rebuilt
    // from the store if it is ever lost.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(ConsoleError::Invalid(format!(
            "console database schema version `{version}` is newer than this build knows (`{SCHEMA_VERSION}`)"
        )));
    }
    if version < 1 {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V1} PRAGMA user_version = 1; COMMIT;"
        ))?;
    }
    if version < 2 {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V2} PRAGMA user_version = 2; COMMIT;"
        ))?;
    }
    if version < 3 {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V3} PRAGMA user_version = 3; COMMIT;"
        ))?;
    }
    Ok(conn)
}

/// The database holds password hashes and TOTP secrets: owner-only.
#[cfg(unix)]
fn restrict_permissions(path: &Path) -> Result<(), ConsoleError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

#[cfg(not(unix))]
fn restrict_permissions(_path: &Path) -> Result<(), ConsoleError> {
    Ok(())
}
