//! The PostgreSQL backend, on the synchronous `postgres` client: the vault's
//! rows in a schema of their own (default `custos_vault`), apart from the
//! event store's and the access store's schemas, and ideally in a database
//! of its own reached with a role of its own.
//!
//! The client drives a small tokio runtime of its own inside every call:
//! call the vault from plain threads (or `spawn_blocking`), never from
//! inside an async runtime. A few connections ([`POSTGRES_POOL_SIZE`]), each behind
//! a mutex and opened on first use, so reads go on while a write or a
//! rewrap batch holds another; a broken connection is replaced on the next
//! call. Reads run once more on a fresh connection, writes never do (a
//! write whose connection died may have committed). TLS is not supported.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::Duration;

use custos_pg::{Retry, RunError, Session, Statements, describe, error_text, prepared};
use postgres::types::ToSql;
use postgres::{Client, Config, Row};

use crate::error::VaultError;
use crate::sqlite::lock;
use crate::store::{CustomerKeys, ExistingCustomer, FieldRow, FieldsRows, PutPlan, Rewrap, Store};

/// The schema [`crate::Vault::open_postgres`] uses.
pub const DEFAULT_POSTGRES_SCHEMA: &str = "custos_vault";

/// Connections a PostgreSQL vault keeps open at most.
pub const POSTGRES_POOL_SIZE: usize = 4;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Serializes migrations of concurrent processes ("cus_vlt").
const MIGRATION_LOCK_KEY: i64 = 0x0063_7573_5f76_6c74;
/// How often a put re-reads a customer another writer created under it.
const PUT_ATTEMPTS: usize = 3;

const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "init",
    include_str!("../migrations/postgres/0001_init.sql"),
)];

const SELECT_FOR_PUT: &str =
    "SELECT token, wrapped_dek FROM customers WHERE customer_id = $1::text FOR UPDATE";
const INSERT_CUSTOMER: &str = "INSERT INTO customers
         (customer_id, token, dek_id, wrapped_dek, kek_id, salt)
     VALUES ($1::text, $2::text, $3::bytea, $4::bytea, $5::text, $6::bytea)
     ON CONFLICT (customer_id) DO NOTHING";
const UPSERT_FIELD: &str = "INSERT INTO fields (customer_id, field, sealed)
     VALUES ($1::text, $2::text, $3::bytea)
     ON CONFLICT (customer_id, field)
     DO UPDATE SET sealed = excluded.sealed, updated_at = now()";
const FIELD_ROW: &str = "SELECT wrapped_dek,
        (SELECT sealed FROM fields WHERE customer_id = $1::text AND field = $2::text)
     FROM customers WHERE customer_id = $1::text";
const FIELDS_ROWS: &str = "SELECT NULL::text, wrapped_dek, NULL::bytea
     FROM customers WHERE customer_id = $1::text
     UNION ALL
     SELECT field, NULL::bytea, sealed FROM fields WHERE customer_id = $1::text";
const CUSTOMER_KEYS: &str = "SELECT wrapped_dek, salt FROM customers WHERE customer_id = $1::text";
const TOKEN: &str = "SELECT token FROM customers WHERE customer_id = $1::text";
const CUSTOMER_OF_TOKEN: &str = "SELECT customer_id FROM customers WHERE token = $1::text";
const SELECT_FOR_ERASE: &str =
    "SELECT dek_id FROM customers WHERE customer_id = $1::text FOR UPDATE";
const DELETE_FIELDS: &str = "DELETE FROM fields WHERE customer_id = $1::text";
const ERASE_CUSTOMER: &str = "UPDATE customers
     SET token = NULL, dek_id = NULL, wrapped_dek = NULL, kek_id = NULL, salt = NULL,
         erased_at = COALESCE(erased_at, now())
     WHERE customer_id = $1::text";
const KEK_USAGE: &str = "SELECT kek_id, COUNT(*)::bigint FROM customers
     WHERE kek_id IS NOT NULL GROUP BY kek_id";
const REWRAP_SELECT: &str = "SELECT customer_id, wrapped_dek FROM customers
     WHERE kek_id IS NOT NULL AND kek_id <> $1::text
     ORDER BY customer_id LIMIT $2::bigint FOR UPDATE";
const REWRAP_UPDATE: &str =
    "UPDATE customers SET wrapped_dek = $2::bytea, kek_id = $3::text WHERE customer_id = $1::text";

/// Whether `schema` is a plain lower-case identifier: `[a-z_][a-z0-9_]*`,
/// at most 63 bytes (PostgreSQL's limit), so it can be quoted as it is.
pub(crate) fn valid_schema_name(schema: &str) -> bool {
    !schema.is_empty()
        && schema.len() <= 63
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !schema.starts_with(|c: char| c.is_ascii_digit())
}

/// A connection and its prepared statements ([`custos_pg::Session`]).
type Slot = Session;

/// The vault's rows in one PostgreSQL schema.
pub(crate) struct PostgresStore {
    config: Config,
    /// Where the store points, for messages: never the password.
    target: String,
    slots: Vec<Mutex<Slot>>,
    next: AtomicUsize,
}

/// How an operation failed: in SQL, or as a vault error.
type Failure = custos_pg::Failure<VaultError>;

impl PostgresStore {
    /// Connects to `url`, creates `schema` when missing and applies the
    /// migrations (serialized across processes by an advisory lock).
    pub(crate) fn connect(url: &str, schema: &str) -> Result<PostgresStore, VaultError> {
        if !valid_schema_name(schema) {
            return Err(VaultError::Invalid(format!(
                "schema name `{}` is not a plain lower-case identifier",
                schema.escape_debug().take(64).collect::<String>()
            )));
        }
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(VaultError::Invalid(
                "the vault database url must start with `postgres://` or `postgresql://`"
                    .to_owned(),
            ));
        }
        // The url may carry a password: no part of it goes into a message.
        let mut config: Config = url
            .parse()
            .map_err(|_| VaultError::Invalid("the vault database url does not parse".to_owned()))?;
        let search_path = format!("-c search_path={schema}");
        let options = match config.get_options() {
            Some(existing) if !existing.trim().is_empty() => format!("{existing} {search_path}"),
            _ => search_path,
        };
        config.options(&options);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name(&format!("custos-vault/{schema}"));
        }
        let target = describe(&config, schema);
        let store = PostgresStore {
            config,
            target,
            slots: (0..POSTGRES_POOL_SIZE)
                .map(|_| Mutex::new(Slot::default()))
                .collect(),
            next: AtomicUsize::new(0),
        };
        store.run("apply vault migrations", Retry::Never, |client, _| {
            let mut tx = client.transaction()?;
            tx.execute(
                "SELECT pg_advisory_xact_lock($1::bigint)",
                &[&MIGRATION_LOCK_KEY],
            )?;
            // INVARIANT: `schema` was checked above, so quoting is enough.
            tx.batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS \"{schema}\";
                 CREATE TABLE IF NOT EXISTS schema_migrations (
                     version    BIGINT PRIMARY KEY,
                     name       TEXT NOT NULL,
                     applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            ))?;
            let applied: i64 = tx
                .query_one(
                    "SELECT COALESCE(MAX(version), 0)::bigint FROM schema_migrations",
                    &[],
                )?
                .try_get(0)?;
            let latest = MIGRATIONS.last().map_or(0, |m| m.0);
            if applied > latest {
                return Err(Failure::Other(VaultError::Internal(format!(
                    "vault schema version `{applied}` is newer than this build supports (`{latest}`)"
                ))));
            }
            for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > applied) {
                tx.batch_execute(sql)?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1::bigint, $2::text)",
                    &[version, name],
                )?;
            }
            tx.commit()?;
            Ok(())
        })?;
        Ok(store)
    }

    /// A free connection slot, else waits for one (round robin).
    fn acquire(&self) -> MutexGuard<'_, Slot> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let count = self.slots.len();
        for offset in 0..count {
            match self.slots[(start + offset) % count].try_lock() {
                Ok(slot) => return slot,
                Err(TryLockError::Poisoned(poisoned)) => return poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        lock(&self.slots[start % count])
    }

    fn run<T>(
        &self,
        what: &str,
        retry: Retry,
        op: impl FnMut(&mut Client, &mut Statements) -> Result<T, Failure>,
    ) -> Result<T, VaultError> {
        let mut slot = self.acquire();
        slot.run(&self.config, retry, op)
            .map_err(|error| match error {
                RunError::Connect(error) => VaultError::Unavailable(format!(
                    "cannot connect to postgres at `{}`: {}",
                    self.target,
                    error_text(&error)
                )),
                RunError::Sql { error, broken } => self.classify(what, &error, broken),
                RunError::Other(error) => error,
            })
    }

    fn classify(&self, what: &str, error: &postgres::Error, broken: bool) -> VaultError {
        let message = format!(
            "cannot {what} in postgres at `{}`: {}",
            self.target,
            error_text(error)
        );
        let code = error
            .code()
            .map(|c| c.code().to_owned())
            .unwrap_or_default();
        // Class 08: connection exceptions; 53: insufficient resources;
        // 57P: operator intervention (shutdown, terminated backend);
        // 40: serialization failure or deadlock (retry later).
        let transient = ["08", "53", "57P", "40"]
            .iter()
            .any(|class| code.starts_with(class));
        if broken || transient {
            VaultError::Unavailable(message)
        } else {
            VaultError::Internal(message)
        }
    }

    /// One read statement, repeated once on a fresh connection.
    fn read(
        &self,
        what: &str,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, VaultError> {
        self.run(what, Retry::Once, |client, statements| {
            let statement = prepared(client, statements, sql)?;
            Ok(client.query(&statement, params)?)
        })
    }
}

impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn path(&self) -> Option<&Path> {
        None
    }

    fn put_customer(&self, customer: &str, plan: &mut PutPlan<'_>) -> Result<(), VaultError> {
        self.run(
            "store customer fields",
            Retry::Never,
            |client, statements| {
                let select = prepared(client, statements, SELECT_FOR_PUT)?;
                let insert = prepared(client, statements, INSERT_CUSTOMER)?;
                let upsert = prepared(client, statements, UPSERT_FIELD)?;
                let mut tx = client.transaction()?;
                for _ in 0..PUT_ATTEMPTS {
                    let existing = match tx.query_opt(&select, &[&customer])? {
                        Some(row) => Some(ExistingCustomer {
                            token: row.try_get(0)?,
                            wrapped_dek: row.try_get(1)?,
                        }),
                        None => None,
                    };
                    let rows = plan(existing).map_err(Failure::Other)?;
                    if let Some(new) = &rows.new_customer {
                        let inserted = tx.execute(
                            &insert,
                            &[
                                &customer,
                                &new.token,
                                &new.dek_id.as_slice(),
                                &new.wrapped_dek,
                                &new.kek_id,
                                &new.salt.as_slice(),
                            ],
                        )?;
                        if inserted == 0 {
                            // Another writer created the customer after our
                            // read (and has committed: ON CONFLICT waited for
                            // it). Read its row, now locked for us, again.
                            continue;
                        }
                    }
                    for (field, sealed) in &rows.fields {
                        tx.execute(&upsert, &[&customer, field, sealed])?;
                    }
                    tx.commit()?;
                    return Ok(());
                }
                Err(Failure::Other(VaultError::Unavailable(format!(
                    "customer `{customer}` kept changing under a concurrent writer"
                ))))
            },
        )
    }

    fn field_row(&self, customer: &str, field: &str) -> Result<FieldRow, VaultError> {
        let what = "read a customer field";
        let rows = self.read(what, FIELD_ROW, &[&customer, &field])?;
        rows.first()
            .map(|row| -> Result<_, postgres::Error> { Ok((row.try_get(0)?, row.try_get(1)?)) })
            .transpose()
            .map_err(|error| self.classify(what, &error, false))
    }

    fn fields_rows(&self, customer: &str) -> Result<FieldsRows, VaultError> {
        let what = "read customer fields";
        let rows = self.read(what, FIELDS_ROWS, &[&customer])?;
        let mut wrapped: Option<Option<Vec<u8>>> = None;
        let mut stored = Vec::new();
        for row in &rows {
            let decoded: Result<_, postgres::Error> = (|| {
                Ok((
                    row.try_get::<_, Option<String>>(0)?,
                    row.try_get::<_, Option<Vec<u8>>>(1)?,
                    row.try_get::<_, Option<Vec<u8>>>(2)?,
                ))
            })();
            match decoded.map_err(|error| self.classify(what, &error, false))? {
                (None, customer_key, _) => wrapped = Some(customer_key),
                (Some(field), _, Some(sealed)) => stored.push((field, sealed)),
                (Some(_), _, None) => {}
            }
        }
        Ok(wrapped.map(|wrapped| (wrapped, stored)))
    }

    fn customer_keys(&self, customer: &str) -> Result<Option<CustomerKeys>, VaultError> {
        let what = "read a commitment salt";
        let rows = self.read(what, CUSTOMER_KEYS, &[&customer])?;
        rows.first()
            .map(|row| -> Result<_, postgres::Error> {
                Ok(CustomerKeys {
                    wrapped_dek: row.try_get(0)?,
                    salt: row.try_get(1)?,
                })
            })
            .transpose()
            .map_err(|error| self.classify(what, &error, false))
    }

    fn token(&self, customer: &str) -> Result<Option<Option<String>>, VaultError> {
        let what = "read a token";
        let rows = self.read(what, TOKEN, &[&customer])?;
        rows.first()
            .map(|row| row.try_get(0))
            .transpose()
            .map_err(|error| self.classify(what, &error, false))
    }

    fn customer_of_token(&self, token: &str) -> Result<Option<String>, VaultError> {
        let what = "resolve a token";
        let rows = self.read(what, CUSTOMER_OF_TOKEN, &[&token])?;
        rows.first()
            .map(|row| row.try_get(0))
            .transpose()
            .map_err(|error| self.classify(what, &error, false))
    }

    fn erase(&self, customer: &str) -> Result<Option<Option<Vec<u8>>>, VaultError> {
        self.run("erase a customer", Retry::Never, |client, statements| {
            let select = prepared(client, statements, SELECT_FOR_ERASE)?;
            let delete = prepared(client, statements, DELETE_FIELDS)?;
            let erase = prepared(client, statements, ERASE_CUSTOMER)?;
            let mut tx = client.transaction()?;
            let Some(row) = tx.query_opt(&select, &[&customer])? else {
                return Ok(None);
            };
            let dek_id: Option<Vec<u8>> = row.try_get(0)?;
            tx.execute(&delete, &[&customer])?;
            tx.execute(&erase, &[&customer])?;
            tx.commit()?;
            Ok(Some(dek_id))
        })
    }

    fn kek_usage(&self) -> Result<BTreeMap<String, u64>, VaultError> {
        let what = "count wrapped keys";
        let rows = self.read(what, KEK_USAGE, &[])?;
        let mut usage = BTreeMap::new();
        for row in &rows {
            let kek_id: String = row
                .try_get(0)
                .map_err(|error| self.classify(what, &error, false))?;
            let count: i64 = row
                .try_get(1)
                .map_err(|error| self.classify(what, &error, false))?;
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
        self.run("re-wrap data keys", Retry::Never, |client, statements| {
            let select = prepared(client, statements, REWRAP_SELECT)?;
            let update = prepared(client, statements, REWRAP_UPDATE)?;
            let mut tx = client.transaction()?;
            let batch = tx.query(&select, &[&active, &limit])?;
            for row in &batch {
                let customer: String = row.try_get(0)?;
                let wrapped: Vec<u8> = row.try_get(1)?;
                let rewrapped = rewrap(&customer, &wrapped).map_err(Failure::Other)?;
                tx.execute(&update, &[&customer, &rewrapped, &active])?;
            }
            tx.commit()?;
            Ok(batch.len() as u64)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::valid_schema_name;

    #[test]
    fn schema_names_are_plain_identifiers() {
        for good in ["custos_vault", "_v", "v2", &"a".repeat(63)] {
            assert!(valid_schema_name(good), "{good}");
        }
        for bad in [
            "",
            "2v",
            "Vault",
            "vault-1",
            "v\"; DROP SCHEMA public; --",
            "v.x",
            &"a".repeat(64),
        ] {
            assert!(!valid_schema_name(bad), "{bad}");
        }
    }
}
