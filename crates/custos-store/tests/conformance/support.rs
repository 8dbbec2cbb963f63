//! The two backends under test, each able to (re)open the same database.

use std::env;

use custos_store::{PostgresStore, SqliteStore, Store};
use tempfile::TempDir;

/// Where the PostgreSQL tests connect; unset means they are skipped.
pub const DATABASE_URL_VARIABLE: &str = "CUSTOS_TEST_DATABASE_URL";

/// A database the suite can open, close and open again.
pub trait Backend {
    /// `"sqlite"` or `"postgres"`: what [`Store::backend`] must answer.
    fn name(&self) -> &'static str;
    /// Opens a new handle on the backend's database (a reopen when one was
    /// opened before).
    fn open(&self) -> Box<dyn Store>;
}

/// SQLite in a fresh temporary data directory.
pub struct SqliteBackend {
    pub dir: TempDir,
}

impl SqliteBackend {
    pub fn new() -> SqliteBackend {
        SqliteBackend {
            dir: tempfile::tempdir().expect("create a temporary directory"),
        }
    }
}

impl Backend for SqliteBackend {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn open(&self) -> Box<dyn Store> {
        Box::new(SqliteStore::open(self.dir.path()).expect("open the sqlite store"))
    }
}

/// The PostgreSQL test url, or `None` after printing why the test is skipped.
pub fn postgres_url() -> Option<String> {
    match env::var(DATABASE_URL_VARIABLE) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!("skipped: {DATABASE_URL_VARIABLE} is not set");
            None
        }
    }
}

/// PostgreSQL in a fresh schema with a random name, dropped on drop, so tests
/// run in parallel without seeing each other.
pub struct PostgresBackend {
    pub url: String,
    pub schema: String,
}

impl PostgresBackend {
    /// `None` (after printing `skipped: …`) when no test database is set.
    pub fn new() -> Option<PostgresBackend> {
        let url = postgres_url()?;
        Some(PostgresBackend {
            url,
            schema: random_schema_name(),
        })
    }

    /// A plain client on the test database, for what the store does not
    /// expose (terminating its connections, dropping the schema).
    pub fn admin_client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("connect the admin client")
    }

    /// The `application_name` the store's connections use in this schema.
    pub fn application_name(&self) -> String {
        format!("custos-store/{}", self.schema)
    }
}

impl Backend for PostgresBackend {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn open(&self) -> Box<dyn Store> {
        Box::new(
            PostgresStore::connect_with_schema(&self.url, &self.schema)
                .expect("connect the postgres store"),
        )
    }
}

impl Drop for PostgresBackend {
    fn drop(&mut self) {
        let dropped =
            postgres::Client::connect(&self.url, postgres::NoTls).and_then(|mut client| {
                client.batch_execute(&format!(
                    "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                    self.schema
                ))
            });
        if let Err(error) = dropped {
            eprintln!("cannot drop test schema `{}`: {error}", self.schema);
        }
    }
}

pub fn random_schema_name() -> String {
    let mut bytes = [0_u8; 8];
    getrandom::fill(&mut bytes).expect("random bytes");
    let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("custos_test_{suffix}")
}
