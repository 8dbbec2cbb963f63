//! The two backends under test, each with raw access to its rows so the
//! suite can look at and tamper with what is stored.

use std::cell::RefCell;
use std::env;
use std::error::Error;

use custos_vault::{KeyRing, VAULT_FILE_NAME, Vault, VaultError};
use rusqlite::{Connection, params};
use tempfile::TempDir;

pub type TestResult = Result<(), Box<dyn Error>>;
pub type Fallible<T> = Result<T, Box<dyn Error>>;

pub const DATABASE_URL_VARIABLE: &str = "CUSTOS_TEST_DATABASE_URL";

/// A vault database the suite can open (and open again), and its rows.
pub trait Backend {
    fn name(&self) -> &'static str;
    /// A vault over this database with a data key cache of `cache` keys.
    fn open_with_cache(&self, keys: KeyRing, cache: usize) -> Result<Vault, VaultError>;
    fn open(&self, keys: KeyRing) -> Result<Vault, VaultError> {
        self.open_with_cache(keys, custos_vault::DEFAULT_DEK_CACHE_CAPACITY)
    }
    fn sealed(&self, customer: &str, field: &str) -> Fallible<Vec<u8>>;
    fn set_sealed(&self, customer: &str, field: &str, sealed: &[u8]) -> TestResult;
    /// The wrapped data key column (`None`: NULL).
    fn wrapped(&self, customer: &str) -> Fallible<Option<Vec<u8>>>;
    fn set_wrapped(&self, customer: &str, wrapped: &[u8]) -> TestResult;
    fn field_rows(&self, customer: &str) -> Fallible<i64>;
    /// Every byte the database holds at rest for the vault: SQLite, the
    /// files (after a checkpoint, so erased pages are gone from the WAL
    /// too); PostgreSQL, every column of every live row of the schema.
    fn stored_bytes(&self) -> Fallible<Vec<u8>>;
}

pub struct SqliteBackend {
    pub dir: TempDir,
}

impl SqliteBackend {
    pub fn new() -> Fallible<SqliteBackend> {
        Ok(SqliteBackend {
            dir: tempfile::tempdir()?,
        })
    }

    fn raw(&self) -> Result<Connection, rusqlite::Error> {
        Connection::open(self.dir.path().join(VAULT_FILE_NAME))
    }
}

impl Backend for SqliteBackend {
    fn name(&self) -> &'static str {
        "sqlite"
    }
    fn open_with_cache(&self, keys: KeyRing, cache: usize) -> Result<Vault, VaultError> {
        Vault::open_with_cache(self.dir.path(), keys, cache)
    }
    fn sealed(&self, customer: &str, field: &str) -> Fallible<Vec<u8>> {
        Ok(self.raw()?.query_row(
            "SELECT sealed FROM fields WHERE customer_id = ?1 AND field = ?2",
            params![customer, field],
            |row| row.get(0),
        )?)
    }
    fn set_sealed(&self, customer: &str, field: &str, sealed: &[u8]) -> TestResult {
        let changed = self.raw()?.execute(
            "UPDATE fields SET sealed = ?3 WHERE customer_id = ?1 AND field = ?2",
            params![customer, field, sealed],
        )?;
        assert_eq!(changed, 1);
        Ok(())
    }
    fn wrapped(&self, customer: &str) -> Fallible<Option<Vec<u8>>> {
        Ok(self.raw()?.query_row(
            "SELECT wrapped_dek FROM customers WHERE customer_id = ?1",
            [customer],
            |row| row.get(0),
        )?)
    }
    fn set_wrapped(&self, customer: &str, wrapped: &[u8]) -> TestResult {
        let changed = self.raw()?.execute(
            "UPDATE customers SET wrapped_dek = ?2 WHERE customer_id = ?1",
            params![customer, wrapped],
        )?;
        assert_eq!(changed, 1);
        Ok(())
    }
    fn field_rows(&self, customer: &str) -> Fallible<i64> {
        Ok(self.raw()?.query_row(
            "SELECT COUNT(*) FROM fields WHERE customer_id = ?1",
            [customer],
            |row| row.get(0),
        )?)
    }
    fn stored_bytes(&self) -> Fallible<Vec<u8>> {
        self.raw()?
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let mut stored = Vec::new();
        for entry in std::fs::read_dir(self.dir.path())? {
            stored.extend(std::fs::read(entry?.path())?);
        }
        Ok(stored)
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

/// A fresh schema name: `custos_vault_test_<16 hex>`.
pub fn fresh_schema() -> Fallible<String> {
    let mut bytes = [0_u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
    let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("custos_vault_test_{suffix}"))
}

/// PostgreSQL in a fresh schema with a random name, dropped on drop.
pub struct PostgresBackend {
    pub url: String,
    pub schema: String,
    raw: RefCell<postgres::Client>,
}

impl PostgresBackend {
    /// `None` (after printing `skipped: ...`) without the test url.
    pub fn new() -> Fallible<Option<PostgresBackend>> {
        let Some(url) = postgres_url() else {
            return Ok(None);
        };
        let schema = fresh_schema()?;
        let mut raw = postgres::Client::connect(&url, postgres::NoTls)?;
        raw.batch_execute(&format!("SET search_path TO \"{schema}\""))?;
        Ok(Some(PostgresBackend {
            url,
            schema,
            raw: RefCell::new(raw),
        }))
    }

    /// Raw SQL on the test schema.
    pub fn raw(&self) -> std::cell::RefMut<'_, postgres::Client> {
        self.raw.borrow_mut()
    }
}

impl Backend for PostgresBackend {
    fn name(&self) -> &'static str {
        "postgres"
    }
    fn open_with_cache(&self, keys: KeyRing, cache: usize) -> Result<Vault, VaultError> {
        Vault::open_postgres_with_cache(&self.url, &self.schema, keys, cache)
    }
    fn sealed(&self, customer: &str, field: &str) -> Fallible<Vec<u8>> {
        Ok(self
            .raw()
            .query_one(
                "SELECT sealed FROM fields WHERE customer_id = $1 AND field = $2",
                &[&customer, &field],
            )?
            .try_get(0)?)
    }
    fn set_sealed(&self, customer: &str, field: &str, sealed: &[u8]) -> TestResult {
        let changed = self.raw().execute(
            "UPDATE fields SET sealed = $3 WHERE customer_id = $1 AND field = $2",
            &[&customer, &field, &sealed],
        )?;
        assert_eq!(changed, 1);
        Ok(())
    }
    fn wrapped(&self, customer: &str) -> Fallible<Option<Vec<u8>>> {
        Ok(self
            .raw()
            .query_one(
                "SELECT wrapped_dek FROM customers WHERE customer_id = $1",
                &[&customer],
            )?
            .try_get(0)?)
    }
    fn set_wrapped(&self, customer: &str, wrapped: &[u8]) -> TestResult {
        let changed = self.raw().execute(
            "UPDATE customers SET wrapped_dek = $2 WHERE customer_id = $1",
            &[&customer, &wrapped],
        )?;
        assert_eq!(changed, 1);
        Ok(())
    }
    fn field_rows(&self, customer: &str) -> Fallible<i64> {
        Ok(self
            .raw()
            .query_one(
                "SELECT COUNT(*) FROM fields WHERE customer_id = $1",
                &[&customer],
            )?
            .try_get(0)?)
    }
    fn stored_bytes(&self) -> Fallible<Vec<u8>> {
        let mut raw = self.raw();
        let mut stored = Vec::new();
        for row in raw.query(
            "SELECT convert_to(customer_id, 'UTF8'), convert_to(token, 'UTF8'), dek_id,
                    wrapped_dek, convert_to(kek_id, 'UTF8'), salt FROM customers",
            &[],
        )? {
            for column in 0..6 {
                stored.extend(
                    row.try_get::<_, Option<Vec<u8>>>(column)?
                        .unwrap_or_default(),
                );
            }
        }
        for row in raw.query(
            "SELECT convert_to(customer_id, 'UTF8'), convert_to(field, 'UTF8'), sealed FROM fields",
            &[],
        )? {
            for column in 0..3 {
                stored.extend(
                    row.try_get::<_, Option<Vec<u8>>>(column)?
                        .unwrap_or_default(),
                );
            }
        }
        Ok(stored)
    }
}

impl Drop for PostgresBackend {
    fn drop(&mut self) {
        let dropped = self.raw.get_mut().batch_execute(&format!(
            "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
            self.schema
        ));
        if let Err(error) = dropped {
            eprintln!("cannot drop test schema `{}`: {error}", self.schema);
        }
    }
}
