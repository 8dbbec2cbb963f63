//! The two backends the conformance and tamper suites run against, each
//! able to reopen its store and to be tampered with in plain SQL.
//!
//! PostgreSQL needs `CUSTOS_TEST_DATABASE_URL` (for example
//! `postgres://postgres@127.0.0.1:5432/test`); without it each PostgreSQL
//! test prints `skipped: CUSTOS_TEST_DATABASE_URL is not set` and passes.
//! Each uses a fresh schema with a random name, dropped at the end.

use std::env;
use std::path::PathBuf;

use custos_audit::{AuditStore, PostgresAuditStore, SqliteAuditStore};
use tempfile::TempDir;

pub const DATABASE_URL_VARIABLE: &str = "CUSTOS_TEST_DATABASE_URL";

pub trait Backend {
    fn name(&self) -> &'static str;
    /// A new handle on the backend's store (a reopen after the first).
    fn store(&self) -> Box<dyn AuditStore>;
    /// Runs `sql` directly on the database, as an insider would.
    fn execute(&self, sql: &str);
    /// `bytes` as an SQL literal of the backend's blob type.
    fn bytes_literal(&self, bytes: &[u8]) -> String;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// One invocation per suite: `sqlite::case` and `postgres::case` for every
/// case of the calling module.
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $case() {
                    super::$case(&crate::backends::SqliteBackend::new());
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $case() {
                    let Some(backend) = crate::backends::PostgresBackend::new() else {
                        return;
                    };
                    super::$case(&backend);
                }
            )*
        }
    };
}

pub struct SqliteBackend {
    pub dir: TempDir,
}

impl SqliteBackend {
    pub fn new() -> SqliteBackend {
        SqliteBackend {
            dir: tempfile::tempdir().expect("create a temporary directory"),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("audit.sqlite")
    }
}

impl Backend for SqliteBackend {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn store(&self) -> Box<dyn AuditStore> {
        Box::new(SqliteAuditStore::open(&self.path()).expect("open the sqlite store"))
    }

    fn execute(&self, sql: &str) {
        rusqlite::Connection::open(self.path())
            .and_then(|connection| connection.execute_batch(sql))
            .unwrap_or_else(|error| panic!("`{sql}`: {error}"));
    }

    fn bytes_literal(&self, bytes: &[u8]) -> String {
        format!("X'{}'", hex(bytes))
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

pub struct PostgresBackend {
    pub url: String,
    pub schema: String,
}

impl PostgresBackend {
    pub fn new() -> Option<PostgresBackend> {
        let url = postgres_url()?;
        let mut bytes = [0_u8; 8];
        getrandom::fill(&mut bytes).expect("random bytes");
        Some(PostgresBackend {
            url,
            schema: format!("custos_audit_test_{}", hex(&bytes)),
        })
    }
}

impl Backend for PostgresBackend {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn store(&self) -> Box<dyn AuditStore> {
        Box::new(
            PostgresAuditStore::connect_with_schema(&self.url, &self.schema)
                .expect("connect the postgres store"),
        )
    }

    fn execute(&self, sql: &str) {
        postgres::Client::connect(&self.url, postgres::NoTls)
            .and_then(|mut client| {
                client.batch_execute(&format!("SET search_path TO \"{}\"; {sql}", self.schema))
            })
            .unwrap_or_else(|error| panic!("`{sql}`: {error}"));
    }

    fn bytes_literal(&self, bytes: &[u8]) -> String {
        format!("decode('{}', 'hex')", hex(bytes))
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
