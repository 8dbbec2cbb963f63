//! The SQLite backend: the vault's own file (`vault.db`).
//!
//! Like the event store: WAL mode, `synchronous=FULL`, one writer and one
//! reader connection each behind a mutex, versioned migrations applied in
//! one transaction. Unlike it: `secure_delete` is on, so erased rows are
//! overwritten in the database file, and nothing here parses events.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};

use crate::error::VaultError;
use crate::store::{CustomerKeys, ExistingCustomer, FieldRow, FieldsRows, PutPlan, Rewrap, Store};

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const MIGRATIONS: &[(i64, &str, &str)] =
    &[(1, "init", include_str!("../migrations/0001_init.sql"))];

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere never leaves a connection or the cache half-updated
    // in a way that matters: transactions roll back when dropped.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn sql_error(context: &str, error: rusqlite::Error) -> VaultError {
    let busy = matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::DiskFull)
    );
    if busy {
        VaultError::Unavailable(format!("{context}: {error}"))
    } else {
        VaultError::Internal(format!("{context}: {error}"))
    }
}

fn open_connection(path: &Path) -> Result<Connection, VaultError> {
    let connection = Connection::open(path).map_err(|error| {
        VaultError::Unavailable(format!(
            "cannot open vault database `{}`: {error}",
            path.display()
        ))
    })?;
    connection
        .busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| sql_error("set the busy timeout", e))?;
    Ok(connection)
}

fn configure_writer(connection: &Connection) -> Result<(), VaultError> {
    let journal_mode: String = connection
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(|e| sql_error("enable WAL mode", e))?;
    if !journal_mode.eq_ignore_ascii_case("wal") {
        return Err(VaultError::Internal(format!(
            "sqlite refused WAL mode (journal mode is `{journal_mode}`)"
        )));
    }
    // secure_delete: erased wrapped keys and fields are overwritten with
    // zeros in the database file instead of lingering on free pages.
    connection
        .execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA secure_delete = ON;
             PRAGMA foreign_keys = ON;",
        )
        .map_err(|e| sql_error("configure the writer", e))
}

fn migrate(connection: &mut Connection) -> Result<(), VaultError> {
    let context = "apply vault migrations";
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| sql_error(context, e))?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TEXT NOT NULL
         )",
    )
    .map_err(|e| sql_error(context, e))?;
    let applied: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |row| row.get(0),
        )
        .map_err(|e| sql_error(context, e))?;
    let latest = MIGRATIONS.last().map_or(0, |m| m.0);
    if applied > latest {
        return Err(VaultError::Internal(format!(
            "vault schema version `{applied}` is newer than this build supports (`{latest}`)"
        )));
    }
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > applied) {
        tx.execute_batch(sql)
            .map_err(|e| sql_error(&format!("apply migration `{version}_{name}`"), e))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at)
             VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            params![version, name],
        )
        .map_err(|e| sql_error(context, e))?;
    }
    tx.commit().map_err(|e| sql_error(context, e))
}

/// The vault's rows in one SQLite file.
pub(crate) struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating and migrating when needed) the database at `path`.
    pub(crate) fn open(path: PathBuf) -> Result<SqliteStore, VaultError> {
        let mut writer = open_connection(&path)?;
        configure_writer(&writer)?;
        migrate(&mut writer)?;
        let reader = open_connection(&path)?;
        reader
            .pragma_update(None, "query_only", true)
            .map_err(|e| sql_error("configure the reader", e))?;
        Ok(SqliteStore {
            path,
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
        })
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn path(&self) -> Option<&Path> {
        Some(&self.path)
    }

    fn put_customer(&self, customer: &str, plan: &mut PutPlan<'_>) -> Result<(), VaultError> {
        let context = "store customer fields";
        let mut connection = lock(&self.writer);
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_error(context, e))?;
        let existing = tx
            .query_row(
                "SELECT token, wrapped_dek FROM customers WHERE customer_id = ?1",
                [customer],
                |row| {
                    Ok(ExistingCustomer {
                        token: row.get(0)?,
                        wrapped_dek: row.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(|e| sql_error(context, e))?;
        let rows = plan(existing)?;
        if let Some(new) = &rows.new_customer {
            tx.execute(
                "INSERT INTO customers
                     (customer_id, token, dek_id, wrapped_dek, kek_id, salt, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                params![
                    customer,
                    new.token,
                    new.dek_id.as_slice(),
                    new.wrapped_dek,
                    new.kek_id,
                    new.salt.as_slice()
                ],
            )
            .map_err(|e| sql_error(context, e))?;
        }
        {
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO fields (customer_id, field, sealed, updated_at)
                     VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                     ON CONFLICT (customer_id, field)
                     DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at",
                )
                .map_err(|e| sql_error(context, e))?;
            for (field, sealed) in &rows.fields {
                upsert
                    .execute(params![customer, field, sealed])
                    .map_err(|e| sql_error(context, e))?;
            }
        }
        tx.commit().map_err(|e| sql_error(context, e))
    }

    fn field_row(&self, customer: &str, field: &str) -> Result<FieldRow, VaultError> {
        let connection = lock(&self.reader);
        connection
            // A scalar subquery, not a LEFT JOIN with `f.field = ?2` in
            // its ON clause: SQLite marks that statement as depending on
            // the binding, so every reuse from the statement cache
            // re-prepared it (five times slower).
            .prepare_cached(
                "SELECT wrapped_dek,
                        (SELECT sealed FROM fields WHERE customer_id = ?1 AND field = ?2)
                 FROM customers WHERE customer_id = ?1",
            )
            .and_then(|mut statement| {
                statement
                    .query_row(params![customer, field], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })
                    .optional()
            })
            .map_err(|e| sql_error("read a customer field", e))
    }

    fn fields_rows(&self, customer: &str) -> Result<FieldsRows, VaultError> {
        let context = "read customer fields";
        let mut wrapped: Option<Option<Vec<u8>>> = None;
        let mut stored: Vec<(String, Vec<u8>)> = Vec::new();
        let connection = lock(&self.reader);
        // One statement, so one read transaction: the customer row (its
        // `field` column NULL), then the customer's sealed fields.
        let mut statement = connection
            .prepare_cached(
                "SELECT NULL, wrapped_dek, NULL FROM customers WHERE customer_id = ?1
                 UNION ALL
                 SELECT field, NULL, sealed FROM fields WHERE customer_id = ?1",
            )
            .map_err(|e| sql_error(context, e))?;
        let rows = statement
            .query_map([customer], |row| {
                Ok((
                    row.get::<_, Option<String>>(0)?,
                    row.get::<_, Option<Vec<u8>>>(1)?,
                    row.get::<_, Option<Vec<u8>>>(2)?,
                ))
            })
            .map_err(|e| sql_error(context, e))?;
        for row in rows {
            match row.map_err(|e| sql_error(context, e))? {
                (None, customer_key, _) => wrapped = Some(customer_key),
                (Some(field), _, Some(sealed)) => stored.push((field, sealed)),
                (Some(_), _, None) => {}
            }
        }
        Ok(wrapped.map(|wrapped| (wrapped, stored)))
    }

    fn customer_keys(&self, customer: &str) -> Result<Option<CustomerKeys>, VaultError> {
        let connection = lock(&self.reader);
        connection
            .prepare_cached("SELECT wrapped_dek, salt FROM customers WHERE customer_id = ?1")
            .and_then(|mut statement| {
                statement
                    .query_row([customer], |row| {
                        Ok(CustomerKeys {
                            wrapped_dek: row.get(0)?,
                            salt: row.get(1)?,
                        })
                    })
                    .optional()
            })
            .map_err(|e| sql_error("read a commitment salt", e))
    }

    fn token(&self, customer: &str) -> Result<Option<Option<String>>, VaultError> {
        let connection = lock(&self.reader);
        connection
            .prepare_cached("SELECT token FROM customers WHERE customer_id = ?1")
            .and_then(|mut statement| statement.query_row([customer], |row| row.get(0)).optional())
            .map_err(|e| sql_error("read a token", e))
    }

    fn customer_of_token(&self, token: &str) -> Result<Option<String>, VaultError> {
        let connection = lock(&self.reader);
        connection
            .prepare_cached("SELECT customer_id FROM customers WHERE token = ?1")
            .and_then(|mut statement| statement.query_row([token], |row| row.get(0)).optional())
            .map_err(|e| sql_error("resolve a token", e))
    }

    fn erase(&self, customer: &str) -> Result<Option<Option<Vec<u8>>>, VaultError> {
        let context = "erase a customer";
        let mut connection = lock(&self.writer);
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_error(context, e))?;
        let dek_id: Option<Option<Vec<u8>>> = tx
            .query_row(
                "SELECT dek_id FROM customers WHERE customer_id = ?1",
                [customer],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| sql_error(context, e))?;
        if dek_id.is_none() {
            return Ok(None);
        }
        tx.execute("DELETE FROM fields WHERE customer_id = ?1", [customer])
            .map_err(|e| sql_error(context, e))?;
        tx.execute(
            "UPDATE customers
             SET token = NULL, dek_id = NULL, wrapped_dek = NULL, kek_id = NULL, salt = NULL,
                 erased_at = COALESCE(erased_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             WHERE customer_id = ?1",
            [customer],
        )
        .map_err(|e| sql_error(context, e))?;
        tx.commit().map_err(|e| sql_error(context, e))?;
        Ok(dek_id)
    }

    fn kek_usage(&self) -> Result<BTreeMap<String, u64>, VaultError> {
        let context = "count wrapped keys";
        let connection = lock(&self.reader);
        let mut statement = connection
            .prepare_cached(
                "SELECT kek_id, COUNT(*) FROM customers WHERE kek_id IS NOT NULL GROUP BY kek_id",
            )
            .map_err(|e| sql_error(context, e))?;
        let rows = statement
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })
            .map_err(|e| sql_error(context, e))?;
        let mut usage = BTreeMap::new();
        for row in rows {
            let (kek_id, count) = row.map_err(|e| sql_error(context, e))?;
            usage.insert(kek_id, u64::try_from(count).unwrap_or(0));
        }
        Ok(usage)
    }

    fn rewrap_batch(
        &self,
        active: &str,
        limit: i64,
        rewrap: &mut Rewrap<'_>,
    ) -> Result<u64, VaultError> {
        let context = "re-wrap data keys";
        let mut connection = lock(&self.writer);
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_error(context, e))?;
        let batch: Vec<(String, Vec<u8>)> = {
            let mut statement = tx
                .prepare_cached(
                    "SELECT customer_id, wrapped_dek FROM customers
                     WHERE kek_id IS NOT NULL AND kek_id != ?1
                     ORDER BY customer_id LIMIT ?2",
                )
                .map_err(|e| sql_error(context, e))?;
            let rows = statement
                .query_map(params![active, limit], |row| Ok((row.get(0)?, row.get(1)?)))
                .map_err(|e| sql_error(context, e))?;
            rows.collect::<Result<_, _>>()
                .map_err(|e| sql_error(context, e))?
        };
        for (customer, wrapped) in &batch {
            let rewrapped = rewrap(customer, wrapped)?;
            tx.execute(
                "UPDATE customers SET wrapped_dek = ?2, kek_id = ?3 WHERE customer_id = ?1",
                params![customer, rewrapped, active],
            )
            .map_err(|e| sql_error(context, e))?;
        }
        tx.commit().map_err(|e| sql_error(context, e))?;
        Ok(batch.len() as u64)
    }
}
