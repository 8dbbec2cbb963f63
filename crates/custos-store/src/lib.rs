//! The storage edge of custos: one [`Store`] trait, an embedded SQLite backend
//! (the default, always built) and a PostgreSQL backend, with versioned
//! migrations for both.
//!
//! The store keeps plain data (strings and integers). Callers convert their
//! typed events and alerts into the records of this crate and back; the store
//! never parses the JSON it is handed.
//!
//! Both backends pass the same conformance suite (`tests/conformance.rs`).
//!
//! **Architecture Invariant:** this crate knows nothing about async runtimes,
//! HTTP or the other custos crates. Every call blocks the calling thread; from
//! async code, call the store from a blocking thread (the PostgreSQL client
//! runs its own small runtime internally and panics when driven from inside
//! another one).

mod batch;
mod dircache;
mod error;
mod migrate;
mod pg;
mod query;
mod sqlite;
mod store;

use std::path::Path;

pub use crate::error::StoreError;
pub use crate::pg::PostgresStore;
pub use crate::query::MAX_ALERT_PAGE;
pub use crate::sqlite::{DATABASE_FILE_NAME, SqliteStore};
pub use crate::store::{
    AlertPage, AlertQuery, AppendReceipt, DirectoryKind, DirectoryRecord, DirectoryUpdate,
    NewAlert, NewEvent, Severity, Store, StoredAlert, StoredEvent,
};

/// Opens the store a deployment is configured for.
///
/// - `None`: the embedded SQLite store in `data_dir` (created when missing).
/// - `Some("postgres://…")` or `Some("postgresql://…")`: PostgreSQL.
/// - anything else: [`StoreError::Invalid`]; the message names the scheme
///   only, never the rest of the url, so a password cannot leak into logs.
///
/// Migrations run before the store is returned.
pub fn open_store(
    database_url: Option<&str>,
    data_dir: &Path,
) -> Result<Box<dyn Store>, StoreError> {
    match database_url {
        None => Ok(Box::new(SqliteStore::open(data_dir)?)),
        Some(url) => match url_scheme(url) {
            Some("postgres" | "postgresql") => Ok(Box::new(PostgresStore::connect(url)?)),
            Some(scheme) => Err(StoreError::Invalid(format!(
                "unsupported database url scheme `{scheme}`: expected `postgres://` or \
                 `postgresql://`, or no database url for the embedded sqlite store"
            ))),
            None => Err(StoreError::Invalid(
                "database url has no scheme: expected `postgres://` or `postgresql://`, or no \
                 database url for the embedded sqlite store"
                    .to_owned(),
            )),
        },
    }
}

/// The scheme of `url` (the part before `://`), when it looks like one.
fn url_scheme(url: &str) -> Option<&str> {
    let (scheme, _) = url.split_once("://")?;
    let looks_like_scheme = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    looks_like_scheme.then_some(scheme)
}

#[cfg(test)]
mod tests {
    use super::url_scheme;

    #[test]
    fn url_scheme_is_the_part_before_the_separator() {
        let check = |url: &str, expect: Option<&str>| assert_eq!(url_scheme(url), expect, "{url}");
        check("postgres://u:p@h/db", Some("postgres"));
        check("postgresql://h/db", Some("postgresql"));
        check("mysql://root:pw@h/db", Some("mysql"));
        check("sqlite+file://x", Some("sqlite+file"));
        check("host=h password=p", None);
        check("://h", None);
        // A password containing `://` must not be mistaken for a scheme
        // boundary that would echo the user name and password.
        check("user:pa@ss://h", None);
    }
}
