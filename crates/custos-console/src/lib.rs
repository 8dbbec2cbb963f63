//! The analyst web console of custos: server-rendered HTML pages under
//! `/console` for signing in (password + TOTP, or a passkey), the alert queue and triage,
//! alert and agent pages with masked evidence, lifting a countermeasure
//! (with step-up), an overview of alerts and pipeline health, the leads'
//! approvals inbox for reveal grants, the audit log with inclusion proofs
//! checked in the page, and the customer page: live protection state from
//! the action-risk engine and customer data served by the access broker
//! (as the user's linked agent, watermarked).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let store: std::sync::Arc<dyn custos_store::Store> = unimplemented!();
//! use custos_console::{ConsoleState, Role};
//! let state = ConsoleState::open(std::path::Path::new("./custos-data/console"), store)?;
//! let uri = state.create_user("ana", Role::Analyst, "a long passphrase")?; // show once
//! let app = axum::Router::new().merge(custos_console::router(state));
//! # Ok(()) }
//! ```
//!
//! **Architecture Invariant:** every route of the console lives under
//! [`MOUNT`]; the router carries the prefix itself, so the binary *merges*
//! it (no `nest`), and the cookie path and every link agree with it.
//!
//! **Architecture Invariant:** the store and the console database are only
//! touched from blocking threads (`spawn_blocking` or the index thread),
//! never from an async task.
//!
//! **Architecture Invariant:** no secret (password, TOTP secret or code,
//! session id) is logged or rendered; the `otpauth://` URI is returned once
//! by [`create_user`] and never stored in clear outside the users table.

mod agent_charts;
mod attribution_pages;
mod audit_pages;
mod crypto;
mod customer_pages;
mod db;
mod error;
mod grants_pages;
mod index;
mod mask;
mod pages;
mod passkeys;
mod queries;
mod services;
mod session;
mod totp;
mod users;
mod views;
mod web;

#[cfg(test)]
mod customer_tests;
#[cfg(test)]
mod passkey_tests;
#[cfg(test)]
mod tests;

pub use crate::crypto::Secret;
pub use crate::db::CONSOLE_DB_FILE;
pub use crate::error::ConsoleError;
pub use crate::index::IndexStep;
pub use crate::passkeys::{MAX_PASSKEYS_PER_USER, RELYING_PARTY_NAME};
pub use crate::services::ConsoleServices;
pub use crate::session::{COOKIE_PATH, PRE_COOKIE, SESSION_COOKIE, SessionLimits};
pub use crate::totp::code_at as totp_code_at;
pub use crate::users::{MIN_PASSWORD_CHARS, PasswordCost, Role, SignInLimits};
pub use crate::web::router;

use custos_store::Store;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::time::Duration;

/// The path prefix of every console route.
pub const MOUNT: &str = "/console";

/// Tunables of the console; the defaults are the production values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsoleSettings {
    pub sessions: SessionLimits,
    pub sign_in: SignInLimits,
    /// The Argon2id cost of new password hashes.
    pub password_cost: PasswordCost,
    /// How often the index thread looks for new events and alerts when idle.
    pub index_poll: Duration,
    /// Whether [`ConsoleState::open`] starts the index thread (tests index
    /// on demand with [`ConsoleState::sync_index`]).
    pub index_thread: bool,
}

impl Default for ConsoleSettings {
    fn default() -> ConsoleSettings {
        ConsoleSettings {
            sessions: SessionLimits::default(),
            sign_in: SignInLimits::default(),
            password_cost: PasswordCost::DEFAULT,
            index_poll: Duration::from_millis(500),
            index_thread: true,
        }
    }
}

/// Everything the console's handlers reach. Cheap to clone.
#[derive(Clone)]
pub struct ConsoleState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    /// The connection of request handlers.
    db: Mutex<Connection>,
    /// The connection of the indexer (so indexing never blocks a page).
    index_db: Mutex<Connection>,
    dir: PathBuf,
    /// Key of the pre-sign-in CSRF tokens; new each start.
    form_key: [u8; 32],
    settings: ConsoleSettings,
    /// Seconds to add to the wall clock (tests move time; 0 in production).
    clock_offset: AtomicI64,
    /// A hash to verify against for unknown user names.
    dummy_hash: String,
    /// The custos services the console calls in process (approvals, audit
    /// log); none by default.
    services: RwLock<ConsoleServices>,
    /// The WebAuthn relying party of passkeys; none (passkeys off) by default.
    relying_party: RwLock<Option<Arc<custos_webauthn::RelyingParty>>>,
}

impl ConsoleState {
    /// Opens the console database in `dir` (created when missing) over
    /// `store`, and starts the index thread.
    pub fn open(dir: &Path, store: Arc<dyn Store>) -> Result<ConsoleState, ConsoleError> {
        ConsoleState::open_with(dir, store, ConsoleSettings::default())
    }

    /// [`ConsoleState::open`] with explicit settings.
    pub fn open_with(
        dir: &Path,
        store: Arc<dyn Store>,
        settings: ConsoleSettings,
    ) -> Result<ConsoleState, ConsoleError> {
        let db = db::open(dir)?;
        let index_db = db::open(dir)?;
        // The index is derived data: a lost tail is re-read from the store.
        index_db.pragma_update(None, "synchronous", "NORMAL")?;
        let state = ConsoleState {
            inner: Arc::new(Inner {
                store,
                db: Mutex::new(db),
                index_db: Mutex::new(index_db),
                dir: dir.to_owned(),
                form_key: crypto::random_bytes::<32>()?,
                settings,
                clock_offset: AtomicI64::new(0),
                dummy_hash: users::dummy_hash(settings.password_cost),
                services: RwLock::new(ConsoleServices::default()),
                relying_party: RwLock::new(None),
            }),
        };
        if settings.index_thread {
            spawn_indexer(Arc::downgrade(&state.inner), settings.index_poll)?;
        }
        Ok(state)
    }

    /// Creates a console user; returns the `otpauth://` URI for their
    /// authenticator app. Show it once: it holds the TOTP secret.
    pub fn create_user(
        &self,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<Secret, ConsoleError> {
        let conn = self.db();
        users::create_user(
            &conn,
            name,
            role,
            password,
            self.now(),
            self.inner.settings.password_cost,
        )
    }

    /// Links console user `name` to custos agent `agent_id` (`None`
    /// unlinks). The customer page asks the access broker for customer data
    /// as this agent; an unlinked user is refused.
    pub fn set_agent_id(&self, name: &str, agent_id: Option<&str>) -> Result<(), ConsoleError> {
        users::set_agent_id(&self.db(), name, agent_id)
    }

    /// Indexes everything the store holds now (the index thread does this
    /// continuously; call it to wait for the index to catch up).
    pub fn sync_index(&self) -> Result<IndexStep, ConsoleError> {
        let mut total = IndexStep::default();
        loop {
            let step = self.index_step()?;
            if step.is_idle() {
                return Ok(total);
            }
            total.events += step.events;
            total.alerts += step.alerts;
        }
    }

    /// At most `max` index steps: enough after a write of our own, bounded
    /// while the index thread is still catching up with a large store.
    pub(crate) fn index_steps(&self, max: usize) -> Result<(), ConsoleError> {
        for _ in 0..max {
            if self.index_step()?.is_idle() {
                break;
            }
        }
        Ok(())
    }

    /// Gives the console the services it calls in process: the approvals
    /// inbox needs `approvals` and `step_ups`, the audit pages `audit`.
    /// Pages whose service is missing say so instead of failing.
    pub fn with_services(self, services: ConsoleServices) -> ConsoleState {
        *self
            .inner
            .services
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = services;
        self
    }

    /// The services set with [`ConsoleState::with_services`].
    pub fn services(&self) -> ConsoleServices {
        self.inner
            .services
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Turns passkeys on: `rp_id` is the WebAuthn relying party id (the
    /// console's host name or a parent domain of it, e.g. `custos.example`;
    /// `localhost` for a console on this machine) and `origins` every exact
    /// origin the console is served from (`https://custos.example`, or
    /// `http://localhost:8080`: plain http only on loopback). Refused when an
    /// origin does not belong to `rp_id`. Without it the console offers no
    /// passkeys and TOTP is the only second factor.
    pub fn with_relying_party(
        self,
        rp_id: &str,
        origins: Vec<String>,
    ) -> Result<ConsoleState, ConsoleError> {
        let relying_party =
            custos_webauthn::RelyingParty::new(rp_id, passkeys::RELYING_PARTY_NAME, origins)
                .map_err(|e| ConsoleError::Invalid(format!("passkeys: {e}")))?;
        *self
            .inner
            .relying_party
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::new(relying_party));
        Ok(self)
    }

    /// The relying party set with [`ConsoleState::with_relying_party`].
    pub(crate) fn relying_party(&self) -> Option<Arc<custos_webauthn::RelyingParty>> {
        self.inner
            .relying_party
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The directory of the console database.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The store the console reads.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    fn index_step(&self) -> Result<IndexStep, ConsoleError> {
        let mut conn = lock(&self.inner.index_db);
        index::step(self.inner.store.as_ref(), &mut conn)
    }

    pub(crate) fn db(&self) -> MutexGuard<'_, Connection> {
        lock(&self.inner.db)
    }

    pub(crate) fn settings(&self) -> &ConsoleSettings {
        &self.inner.settings
    }

    pub(crate) fn form_key(&self) -> &[u8] {
        &self.inner.form_key
    }

    pub(crate) fn dummy_hash(&self) -> &str {
        &self.inner.dummy_hash
    }

    /// Wall-clock Unix seconds (plus the test offset).
    pub(crate) fn now(&self) -> i64 {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        secs.saturating_add(self.inner.clock_offset.load(Ordering::Relaxed))
    }

    #[cfg(test)]
    pub(crate) fn advance_clock(&self, secs: i64) {
        self.inner.clock_offset.fetch_add(secs, Ordering::Relaxed);
    }
}

/// Locks a connection; a poisoned lock still guards a usable connection
/// (SQLite rolls back a transaction a panicking holder left open).
fn lock(mutex: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Creates a console user in the console database in `dir`, without a
/// store: what `custos console add-user` calls. Returns the `otpauth://`
/// URI (show once).
pub fn create_user(
    dir: &Path,
    name: &str,
    role: Role,
    password: &str,
) -> Result<Secret, ConsoleError> {
    let conn = db::open(dir)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    users::create_user(&conn, name, role, password, now, PasswordCost::DEFAULT)
}

/// Links console user `name` in the console database in `dir` to custos
/// agent `agent_id` (`None` unlinks), without a store: what `custos console
/// add-user --agent-id` (or a `link-agent` command) calls.
pub fn set_agent_id(dir: &Path, name: &str, agent_id: Option<&str>) -> Result<(), ConsoleError> {
    let conn = db::open(dir)?;
    users::set_agent_id(&conn, name, agent_id)
}

/// Tails the store into the index until every [`ConsoleState`] is dropped.
fn spawn_indexer(inner: Weak<Inner>, poll: Duration) -> Result<(), ConsoleError> {
    std::thread::Builder::new()
        .name("console-index".to_owned())
        .spawn(move || {
            let mut backoff = poll;
            loop {
                let Some(strong) = inner.upgrade() else {
                    return;
                };
                let state = ConsoleState { inner: strong };
                let outcome = state.index_step();
                drop(state);
                match outcome {
                    Ok(step) if !step.is_idle() => backoff = poll,
                    Ok(_) => std::thread::sleep(poll),
                    Err(error) => {
                        tracing::warn!(%error, "console index cannot read the store; retrying");
                        std::thread::sleep(backoff);
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                    }
                }
            }
        })?;
    Ok(())
}
