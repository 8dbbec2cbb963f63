//! The vault: customer PII in its own SQLite file (`vault.db`), sealed field
//! by field under a data key per customer, the data keys wrapped by the key
//! ring's key-encryption keys.
//!
//! Like the event store: WAL mode, `synchronous=FULL`, one writer and one
//! reader connection each behind a mutex, versioned migrations applied in
//! one transaction. Unlike it: `secure_delete` is on, so erased rows are
//! overwritten in the database file, and nothing here parses events.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use custos_core::id::CustomerId;
use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};

use crate::cache::DekCache;
use crate::error::VaultError;
use crate::field::FieldClass;
use crate::format::{
    DataKey, SALT_LEN, commitment, open_field, seal_field, sealed_field_dek_id, unwrap_key,
    wrap_key, wrapped_key_header,
};
use crate::keyring::{KekId, KeyRing};
use crate::secret::{Plaintext, fill_random, to_hex};

/// The database file [`Vault::open`] creates in its directory.
pub const VAULT_FILE_NAME: &str = "vault.db";

/// How many unwrapped data keys [`Vault::open`] keeps cached.
pub const DEFAULT_DEK_CACHE_CAPACITY: usize = 1024;

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const MIGRATIONS: &[(i64, &str, &str)] =
    &[(1, "init", include_str!("../migrations/0001_init.sql"))];

/// One field of [`Vault::get_fields`]: the class asked for and its value or
/// why it could not be read.
pub type FieldResult = (FieldClass, Result<Plaintext, VaultError>);

/// What [`Vault::rewrap_all`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RewrapReport {
    /// Data keys re-wrapped under the active key-encryption key.
    pub rewrapped: u64,
    /// Transactions committed (one per non-empty batch).
    pub batches: u64,
}

/// The PII vault. Share it with an `Arc`; every call blocks the calling
/// thread.
pub struct Vault {
    path: PathBuf,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    keys: RwLock<Arc<KeyRing>>,
    cache: Mutex<DekCache>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
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

fn new_token() -> Result<String, VaultError> {
    let mut bytes = [0; 16];
    fill_random(&mut bytes)?;
    Ok(format!("tok_{}", to_hex(&bytes)))
}

/// A customer row as the read paths need it.
struct CustomerKeys {
    wrapped_dek: Option<Vec<u8>>,
    salt: Option<Vec<u8>>,
}

impl Vault {
    /// Opens (creating when missing) `dir` and [`VAULT_FILE_NAME`] in it,
    /// with a data key cache of [`DEFAULT_DEK_CACHE_CAPACITY`].
    pub fn open(dir: &Path, keys: KeyRing) -> Result<Vault, VaultError> {
        Vault::open_with_cache(dir, keys, DEFAULT_DEK_CACHE_CAPACITY)
    }

    /// Like [`Vault::open`] with a data key cache of `dek_cache_capacity`
    /// keys (0: unwrap the data key on every read).
    pub fn open_with_cache(
        dir: &Path,
        keys: KeyRing,
        dek_cache_capacity: usize,
    ) -> Result<Vault, VaultError> {
        fs::create_dir_all(dir).map_err(|error| {
            VaultError::Unavailable(format!(
                "cannot create vault directory `{}`: {error}",
                dir.display()
            ))
        })?;
        let path = dir.join(VAULT_FILE_NAME);
        let mut writer = open_connection(&path)?;
        configure_writer(&writer)?;
        migrate(&mut writer)?;
        let reader = open_connection(&path)?;
        reader
            .pragma_update(None, "query_only", true)
            .map_err(|e| sql_error("configure the reader", e))?;
        Ok(Vault {
            path,
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            keys: RwLock::new(Arc::new(keys)),
            cache: Mutex::new(DekCache::new(dek_cache_capacity)),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn key_ring(&self) -> Arc<KeyRing> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Stores or replaces `fields` of `customer` and returns the customer's
    /// opaque token (the same token on every call). A new customer gets a
    /// fresh data key, commitment salt and token; fields not named keep their
    /// value. An erased customer is refused with [`VaultError::Erased`]:
    /// erasure is final.
    pub fn put_customer(
        &self,
        customer: &CustomerId,
        fields: &[(FieldClass, &str)],
    ) -> Result<String, VaultError> {
        let mut seen = HashSet::new();
        if let Some((field, _)) = fields.iter().find(|(field, _)| !seen.insert(*field)) {
            return Err(VaultError::Invalid(format!("field `{field}` given twice")));
        }
        let id = customer.as_str();
        let context = "store customer fields";
        let mut connection = lock(&self.writer);
        // Taken under the writer lock, so a concurrent `replace_key_ring`
        // cannot retire the key this write wraps under.
        let keys = self.key_ring();
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_error(context, e))?;
        let existing: Option<(Option<String>, Option<Vec<u8>>)> = tx
            .query_row(
                "SELECT token, wrapped_dek FROM customers WHERE customer_id = ?1",
                [id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(|e| sql_error(context, e))?;
        let (token, dek) = match existing {
            Some((Some(token), Some(wrapped))) => (token, self.data_key(&keys, id, &wrapped)?),
            Some(_) => {
                return Err(VaultError::Erased {
                    customer: id.to_owned(),
                });
            }
            None => {
                let dek = Arc::new(DataKey::generate()?);
                let wrapped = wrap_key(&keys, id, &dek)?;
                let mut salt = [0; SALT_LEN];
                fill_random(&mut salt)?;
                let token = new_token()?;
                tx.execute(
                    "INSERT INTO customers
                         (customer_id, token, dek_id, wrapped_dek, kek_id, salt, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                    params![
                        id,
                        token,
                        dek.id().as_bytes().as_slice(),
                        wrapped,
                        keys.active().as_str(),
                        salt.as_slice()
                    ],
                )
                .map_err(|e| sql_error(context, e))?;
                (token, dek)
            }
        };
        {
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO fields (customer_id, field, sealed, updated_at)
                     VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                     ON CONFLICT (customer_id, field)
                     DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at",
                )
                .map_err(|e| sql_error(context, e))?;
            for (field, value) in fields {
                let sealed = seal_field(&dek, id, *field, value)?;
                upsert
                    .execute(params![id, field.as_str(), sealed])
                    .map_err(|e| sql_error(context, e))?;
            }
        }
        tx.commit().map_err(|e| sql_error(context, e))?;
        lock(&self.cache).insert(id, dek);
        Ok(token)
    }

    /// The data key of `customer` from the cache, or unwrapped (and cached).
    fn data_key(
        &self,
        keys: &KeyRing,
        customer: &str,
        wrapped: &[u8],
    ) -> Result<Arc<DataKey>, VaultError> {
        let header = wrapped_key_header(wrapped)?;
        if let Some(dek) = lock(&self.cache).get(&header.dek_id, customer) {
            return Ok(dek);
        }
        let dek = Arc::new(unwrap_key(keys, customer, wrapped)?);
        lock(&self.cache).insert(customer, Arc::clone(&dek));
        Ok(dek)
    }

    fn customer_keys(&self, customer: &str, context: &str) -> Result<CustomerKeys, VaultError> {
        let connection = lock(&self.reader);
        let row = connection
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
            .map_err(|e| sql_error(context, e))?;
        row.ok_or_else(|| VaultError::UnknownCustomer {
            customer: customer.to_owned(),
        })
    }

    /// Decrypts one field of `customer`.
    ///
    /// Errors, each specific: [`VaultError::UnknownCustomer`],
    /// [`VaultError::Erased`], [`VaultError::FieldNotStored`],
    /// [`VaultError::UnknownKek`] (the key ring lacks the wrapping key),
    /// [`VaultError::Tampered`], [`VaultError::Malformed`],
    /// [`VaultError::DataKeyMismatch`].
    pub fn get_field(
        &self,
        customer: &CustomerId,
        field: FieldClass,
    ) -> Result<Plaintext, VaultError> {
        let id = customer.as_str();
        let context = "read a customer field";
        // (wrapped data key: NULL once erased, sealed field: NULL when not stored)
        type Row = (Option<Vec<u8>>, Option<Vec<u8>>);
        let row: Option<Row> = {
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
                        .query_row(params![id, field.as_str()], |row| {
                            Ok((row.get(0)?, row.get(1)?))
                        })
                        .optional()
                })
                .map_err(|e| sql_error(context, e))?
        };
        let (wrapped, sealed) = match row {
            None => {
                return Err(VaultError::UnknownCustomer {
                    customer: id.to_owned(),
                });
            }
            Some((None, _)) => {
                return Err(VaultError::Erased {
                    customer: id.to_owned(),
                });
            }
            Some((Some(_), None)) => {
                return Err(VaultError::FieldNotStored {
                    customer: id.to_owned(),
                    field: field.as_str(),
                });
            }
            Some((Some(wrapped), Some(sealed))) => (wrapped, sealed),
        };
        let dek = self.data_key(&self.key_ring(), id, &wrapped)?;
        if sealed_field_dek_id(&sealed)? != dek.id() {
            return Err(VaultError::DataKeyMismatch {
                customer: id.to_owned(),
                field: field.as_str(),
            });
        }
        open_field(&dek, id, field, &sealed)
    }

    /// Decrypts several fields of `customer` with one database read (one
    /// read transaction instead of one per field, which is most of the cost
    /// of [`Vault::get_field`]). The outer error concerns the customer
    /// (unknown, erased, their data key unusable); each field has its own
    /// result ([`VaultError::FieldNotStored`], [`VaultError::Tampered`], ...),
    /// in the order asked.
    pub fn get_fields(
        &self,
        customer: &CustomerId,
        fields: &[FieldClass],
    ) -> Result<Vec<FieldResult>, VaultError> {
        let id = customer.as_str();
        let context = "read customer fields";
        let mut wrapped: Option<Option<Vec<u8>>> = None;
        let mut stored: Vec<(String, Vec<u8>)> = Vec::new();
        {
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
                .query_map([id], |row| {
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
        }
        let wrapped = match wrapped {
            None => {
                return Err(VaultError::UnknownCustomer {
                    customer: id.to_owned(),
                });
            }
            Some(None) => {
                return Err(VaultError::Erased {
                    customer: id.to_owned(),
                });
            }
            Some(Some(wrapped)) => wrapped,
        };
        let dek = self.data_key(&self.key_ring(), id, &wrapped)?;
        let open = |field: FieldClass| {
            let Some((_, sealed)) = stored.iter().find(|(name, _)| name == field.as_str()) else {
                return Err(VaultError::FieldNotStored {
                    customer: id.to_owned(),
                    field: field.as_str(),
                });
            };
            if sealed_field_dek_id(sealed)? != dek.id() {
                return Err(VaultError::DataKeyMismatch {
                    customer: id.to_owned(),
                    field: field.as_str(),
                });
            }
            open_field(&dek, id, field, sealed)
        };
        Ok(fields.iter().map(|field| (*field, open(*field))).collect())
    }

    /// The opaque token of `customer`, for the stores outside the vault.
    pub fn token(&self, customer: &CustomerId) -> Result<String, VaultError> {
        let id = customer.as_str();
        let connection = lock(&self.reader);
        let token: Option<Option<String>> = connection
            .prepare_cached("SELECT token FROM customers WHERE customer_id = ?1")
            .and_then(|mut statement| statement.query_row([id], |row| row.get(0)).optional())
            .map_err(|e| sql_error("read a token", e))?;
        match token {
            None => Err(VaultError::UnknownCustomer {
                customer: id.to_owned(),
            }),
            Some(None) => Err(VaultError::Erased {
                customer: id.to_owned(),
            }),
            Some(Some(token)) => Ok(token),
        }
    }

    /// The customer a token stands for. An erased customer's token resolves
    /// to nothing: [`VaultError::Invalid`], like a token never issued.
    pub fn customer_of_token(&self, token: &str) -> Result<CustomerId, VaultError> {
        let connection = lock(&self.reader);
        let customer: Option<String> = connection
            .prepare_cached("SELECT customer_id FROM customers WHERE token = ?1")
            .and_then(|mut statement| statement.query_row([token], |row| row.get(0)).optional())
            .map_err(|e| sql_error("resolve a token", e))?;
        let unknown = || VaultError::Invalid("unknown customer token".to_owned());
        let customer = customer.ok_or_else(unknown)?;
        CustomerId::parse(customer).map_err(|_| unknown())
    }

    /// The audit commitment of `customer` (see [`crate::format::commitment`]).
    /// After [`Vault::delete_customer_key`] it is [`VaultError::Erased`]: the
    /// salt is gone, so no one can recompute a commitment and link the audit
    /// records that carry it to the customer id.
    pub fn commitment(&self, customer: &CustomerId) -> Result<[u8; 32], VaultError> {
        let id = customer.as_str();
        let row = self.customer_keys(id, "read a commitment salt")?;
        let (Some(_), Some(salt)) = (row.wrapped_dek, row.salt) else {
            return Err(VaultError::Erased {
                customer: id.to_owned(),
            });
        };
        let salt: [u8; SALT_LEN] = salt.as_slice().try_into().map_err(|_| {
            VaultError::Internal(format!("commitment salt of `{id}` is not 32 bytes"))
        })?;
        commitment(self.key_ring().commitment_key(), &salt, id)
    }

    /// Crypto-erasure: deletes the customer's wrapped data key, commitment
    /// salt, token and sealed fields in one transaction, and drops the
    /// cached data key. Afterwards every read of the customer is
    /// [`VaultError::Erased`]. Erasing twice is fine; an unknown customer is
    /// [`VaultError::UnknownCustomer`].
    pub fn delete_customer_key(&self, customer: &CustomerId) -> Result<(), VaultError> {
        let id = customer.as_str();
        let context = "erase a customer";
        let mut connection = lock(&self.writer);
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_error(context, e))?;
        let dek_id: Option<Option<Vec<u8>>> = tx
            .query_row(
                "SELECT dek_id FROM customers WHERE customer_id = ?1",
                [id],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| sql_error(context, e))?;
        let Some(dek_id) = dek_id else {
            return Err(VaultError::UnknownCustomer {
                customer: id.to_owned(),
            });
        };
        tx.execute("DELETE FROM fields WHERE customer_id = ?1", [id])
            .map_err(|e| sql_error(context, e))?;
        tx.execute(
            "UPDATE customers
             SET token = NULL, dek_id = NULL, wrapped_dek = NULL, kek_id = NULL, salt = NULL,
                 erased_at = COALESCE(erased_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             WHERE customer_id = ?1",
            [id],
        )
        .map_err(|e| sql_error(context, e))?;
        tx.commit().map_err(|e| sql_error(context, e))?;
        drop(connection);
        if let Some(dek_id) = dek_id.and_then(|bytes| <[u8; 16]>::try_from(bytes).ok()) {
            lock(&self.cache).remove(&crate::format::DekId(dek_id));
        }
        Ok(())
    }

    /// Replaces the key ring without stopping reads (rotation step one: a
    /// ring with a new active key-encryption key). Refused with
    /// [`VaultError::KekInUse`] when the new ring lacks a key that still
    /// wraps data keys.
    pub fn replace_key_ring(&self, keys: KeyRing) -> Result<(), VaultError> {
        // Checked and swapped under the writer lock: no write can wrap a
        // data key under a key this swap removes.
        let connection = lock(&self.writer);
        for (kek_id, wrapped) in kek_usage(&connection)? {
            if keys.kek(&kek_id).is_err() {
                return Err(VaultError::KekInUse { kek_id, wrapped });
            }
        }
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
        drop(connection);
        // Keys unwrapped under the old ring go too: a ring change may be a
        // response to a compromised key.
        lock(&self.cache).clear();
        Ok(())
    }

    /// Rotation's last step: removes `kek_id` from the ring once no data key
    /// is wrapped under it ([`VaultError::KekInUse`] otherwise).
    pub fn retire_kek(&self, kek_id: &KekId) -> Result<(), VaultError> {
        let mut keys = (*self.key_ring()).clone();
        keys.remove(kek_id)?;
        self.replace_key_ring(keys)
    }

    /// How many data keys each key-encryption key wraps.
    pub fn kek_usage(&self) -> Result<BTreeMap<String, u64>, VaultError> {
        kek_usage(&lock(&self.reader))
    }

    /// Re-wraps up to `batch_size` data keys not yet under the active
    /// key-encryption key, in one transaction. Returns how many it
    /// re-wrapped (0: done). Reads go on meanwhile on the reader connection
    /// and succeed with either key id.
    pub fn rewrap_batch(&self, batch_size: usize) -> Result<u64, VaultError> {
        let context = "re-wrap data keys";
        let limit = i64::try_from(batch_size.max(1)).unwrap_or(i64::MAX);
        let mut connection = lock(&self.writer);
        let keys = self.key_ring();
        let active = keys.active().as_str();
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
            let dek = unwrap_key(&keys, customer, wrapped)?;
            let rewrapped = wrap_key(&keys, customer, &dek)?;
            tx.execute(
                "UPDATE customers SET wrapped_dek = ?2, kek_id = ?3 WHERE customer_id = ?1",
                params![customer, rewrapped, active],
            )
            .map_err(|e| sql_error(context, e))?;
        }
        tx.commit().map_err(|e| sql_error(context, e))?;
        Ok(batch.len() as u64)
    }

    /// Re-wraps every data key under the active key-encryption key, batch
    /// by batch (each its own transaction), until none is left.
    pub fn rewrap_all(&self, batch_size: usize) -> Result<RewrapReport, VaultError> {
        let mut report = RewrapReport::default();
        loop {
            let rewrapped = self.rewrap_batch(batch_size)?;
            if rewrapped == 0 {
                return Ok(report);
            }
            report.rewrapped += rewrapped;
            report.batches += 1;
        }
    }
}

/// How many data keys each key-encryption key wraps, read on `connection`.
fn kek_usage(connection: &Connection) -> Result<BTreeMap<String, u64>, VaultError> {
    let context = "count wrapped keys";
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
