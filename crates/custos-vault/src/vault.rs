//! The vault: customer PII sealed field by field under a data key per
//! customer, the data keys wrapped by the key ring's key-encryption keys,
//! the rows in the vault's own SQLite file (`vault.db`) or PostgreSQL
//! schema (default `custos_vault`).
//!
//! All cryptography and the data key cache live here; the backends
//! ([`crate::store::Store`]) only move opaque bytes.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use custos_core::id::CustomerId;

use crate::cache::DekCache;
use crate::error::VaultError;
use crate::field::FieldClass;
use crate::format::{
    DataKey, SALT_LEN, commitment, open_field, seal_field, sealed_field_dek_id, unwrap_key,
    wrap_key, wrapped_key_header,
};
use crate::keyring::{KekId, KeyRing};
use crate::pg::{DEFAULT_POSTGRES_SCHEMA, PostgresStore};
use crate::secret::{Plaintext, fill_random, to_hex};
use crate::sqlite::{SqliteStore, lock};
use crate::store::{ExistingCustomer, NewCustomer, PutRows, Store};

/// The database file [`Vault::open`] creates in its directory.
pub const VAULT_FILE_NAME: &str = "vault.db";

/// How many unwrapped data keys [`Vault::open`] keeps cached.
pub const DEFAULT_DEK_CACHE_CAPACITY: usize = 1024;

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

/// The PII vault over SQLite or PostgreSQL. Share it with an `Arc`; every
/// call blocks the calling thread.
pub struct Vault {
    store: Box<dyn Store>,
    keys: RwLock<Arc<KeyRing>>,
    /// Writes that wrap or re-wrap data keys hold it shared for their whole
    /// transaction; [`Vault::replace_key_ring`] holds it exclusively while
    /// it checks the new ring against the stored key ids and swaps it, so no
    /// write in this process wraps a data key under a key the swap removes.
    /// Reads never take it.
    ring_change: RwLock<()>,
    cache: Mutex<DekCache>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("backend", &self.store.backend())
            .field("path", &self.store.path())
            .finish_non_exhaustive()
    }
}

fn new_token() -> Result<String, VaultError> {
    let mut bytes = [0; 16];
    fill_random(&mut bytes)?;
    Ok(format!("tok_{}", to_hex(&bytes)))
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
        let store = SqliteStore::open(dir.join(VAULT_FILE_NAME))?;
        Ok(Vault::with_store(Box::new(store), keys, dek_cache_capacity))
    }

    /// Connects to the PostgreSQL database at `url` (`postgres://...`) and
    /// keeps the vault in the schema [`DEFAULT_POSTGRES_SCHEMA`], created
    /// and migrated when needed, with a data key cache of
    /// [`DEFAULT_DEK_CACHE_CAPACITY`]. Give the vault its own database and
    /// role in production (see the crate README). Call the vault from plain
    /// threads, not from inside an async runtime.
    pub fn open_postgres(url: &str, keys: KeyRing) -> Result<Vault, VaultError> {
        Vault::open_postgres_with_schema(url, DEFAULT_POSTGRES_SCHEMA, keys)
    }

    /// Like [`Vault::open_postgres`] in `schema`, which must match
    /// `[a-z_][a-z0-9_]*` (at most 63 bytes; [`VaultError::Invalid`]
    /// otherwise). Tests use a fresh schema each.
    pub fn open_postgres_with_schema(
        url: &str,
        schema: &str,
        keys: KeyRing,
    ) -> Result<Vault, VaultError> {
        Vault::open_postgres_with_cache(url, schema, keys, DEFAULT_DEK_CACHE_CAPACITY)
    }

    /// Like [`Vault::open_postgres_with_schema`] with a data key cache of
    /// `dek_cache_capacity` keys (0: unwrap the data key on every read).
    pub fn open_postgres_with_cache(
        url: &str,
        schema: &str,
        keys: KeyRing,
        dek_cache_capacity: usize,
    ) -> Result<Vault, VaultError> {
        let store = PostgresStore::connect(url, schema)?;
        Ok(Vault::with_store(Box::new(store), keys, dek_cache_capacity))
    }

    fn with_store(store: Box<dyn Store>, keys: KeyRing, dek_cache_capacity: usize) -> Vault {
        Vault {
            store,
            keys: RwLock::new(Arc::new(keys)),
            ring_change: RwLock::new(()),
            cache: Mutex::new(DekCache::new(dek_cache_capacity)),
        }
    }

    /// Where the rows live: `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    /// The database file of a SQLite vault; `None` for PostgreSQL.
    pub fn path(&self) -> Option<&Path> {
        self.store.path()
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
        let _no_ring_change = self
            .ring_change
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let keys = self.key_ring();
        let mut outcome: Option<(String, Arc<DataKey>)> = None;
        let mut plan = |existing: Option<ExistingCustomer>| {
            let (token, dek, new_customer) = match existing {
                Some(ExistingCustomer {
                    token: Some(token),
                    wrapped_dek: Some(wrapped),
                }) => (token, self.data_key(&keys, id, &wrapped)?, None),
                Some(_) => {
                    return Err(VaultError::Erased {
                        customer: id.to_owned(),
                    });
                }
                None => {
                    let dek = Arc::new(DataKey::generate()?);
                    let mut salt = [0; SALT_LEN];
                    fill_random(&mut salt)?;
                    let new = NewCustomer {
                        token: new_token()?,
                        dek_id: *dek.id().as_bytes(),
                        wrapped_dek: wrap_key(&keys, id, &dek)?,
                        kek_id: keys.active().as_str().to_owned(),
                        salt,
                    };
                    (new.token.clone(), dek, Some(new))
                }
            };
            let sealed = fields
                .iter()
                .map(|(field, value)| Ok((field.as_str(), seal_field(&dek, id, *field, value)?)))
                .collect::<Result<_, VaultError>>()?;
            outcome = Some((token, dek));
            Ok(PutRows {
                new_customer,
                fields: sealed,
            })
        };
        self.store.put_customer(id, &mut plan)?;
        let Some((token, dek)) = outcome else {
            return Err(VaultError::Internal(
                "the store committed a put without planning it".to_owned(),
            ));
        };
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
        let (wrapped, sealed) = match self.store.field_row(id, field.as_str())? {
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
        let (wrapped, stored) = match self.store.fields_rows(id)? {
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
            Some((Some(wrapped), stored)) => (wrapped, stored),
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
        match self.store.token(id)? {
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
        let unknown = || VaultError::Invalid("unknown customer token".to_owned());
        let customer = self.store.customer_of_token(token)?.ok_or_else(unknown)?;
        CustomerId::parse(customer).map_err(|_| unknown())
    }

    /// The audit commitment of `customer` (see [`crate::format::commitment`]).
    /// After [`Vault::delete_customer_key`] it is [`VaultError::Erased`]: the
    /// salt is gone, so no one can recompute a commitment and link the audit
    /// records that carry it to the customer id.
    pub fn commitment(&self, customer: &CustomerId) -> Result<[u8; 32], VaultError> {
        let id = customer.as_str();
        let row = self
            .store
            .customer_keys(id)?
            .ok_or_else(|| VaultError::UnknownCustomer {
                customer: id.to_owned(),
            })?;
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
        let Some(dek_id) = self.store.erase(id)? else {
            return Err(VaultError::UnknownCustomer {
                customer: id.to_owned(),
            });
        };
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
        // Checked and swapped with no write of this vault in flight: no
        // write can wrap a data key under a key this swap removes.
        let no_write = self
            .ring_change
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        for (kek_id, wrapped) in self.store.kek_usage()? {
            if keys.kek(&kek_id).is_err() {
                return Err(VaultError::KekInUse { kek_id, wrapped });
            }
        }
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
        drop(no_write);
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
        self.store.kek_usage()
    }

    /// Re-wraps up to `batch_size` data keys not yet under the active
    /// key-encryption key, in one transaction. Returns how many it
    /// re-wrapped (0: done). Reads go on meanwhile (SQLite: on the reader
    /// connection; PostgreSQL: on the other pooled connections, which
    /// never wait for row locks) and succeed with either key id.
    pub fn rewrap_batch(&self, batch_size: usize) -> Result<u64, VaultError> {
        let limit = i64::try_from(batch_size.max(1)).unwrap_or(i64::MAX);
        let _no_ring_change = self
            .ring_change
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let keys = self.key_ring();
        let mut rewrap = |customer: &str, wrapped: &[u8]| {
            let dek = unwrap_key(&keys, customer, wrapped)?;
            wrap_key(&keys, customer, &dek)
        };
        self.store
            .rewrap_batch(keys.active().as_str(), limit, &mut rewrap)
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
