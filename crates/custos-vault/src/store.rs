//! The storage seam under [`crate::Vault`]: the rows the vault reads and
//! writes, and the one trait both backends (SQLite in [`crate::sqlite`],
//! PostgreSQL in [`crate::pg`]) implement.
//!
//! A backend stores and returns opaque bytes (format v1 sealed fields and
//! wrapped keys, see [`crate::format`]) and never sees a key or a plaintext:
//! all cryptography stays in the vault, which hands the backend closures for
//! the steps that must happen inside a write transaction.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::VaultError;
use crate::format::SALT_LEN;

/// A customer row as [`Store::put_customer`] finds it.
pub(crate) struct ExistingCustomer {
    /// NULL after erasure.
    pub(crate) token: Option<String>,
    /// NULL after erasure.
    pub(crate) wrapped_dek: Option<Vec<u8>>,
}

/// A customer row to insert.
pub(crate) struct NewCustomer {
    pub(crate) token: String,
    pub(crate) dek_id: [u8; 16],
    pub(crate) wrapped_dek: Vec<u8>,
    pub(crate) kek_id: String,
    pub(crate) salt: [u8; SALT_LEN],
}

/// What one [`Store::put_customer`] writes.
pub(crate) struct PutRows {
    /// Set when the customer has no row yet.
    pub(crate) new_customer: Option<NewCustomer>,
    /// (field wire name, sealed field), inserted or replaced.
    pub(crate) fields: Vec<(&'static str, Vec<u8>)>,
}

/// Decides the rows of a put from the customer's current row (`None`: no
/// row). Called inside the write transaction, possibly more than once when
/// a concurrent writer created the customer first.
pub(crate) type PutPlan<'a> =
    dyn FnMut(Option<ExistingCustomer>) -> Result<PutRows, VaultError> + 'a;

/// Re-wraps one data key: (customer id, wrapped key) to the new wrapped key.
pub(crate) type Rewrap<'a> = dyn FnMut(&str, &[u8]) -> Result<Vec<u8>, VaultError> + 'a;

/// The customer row and one sealed field, read in one snapshot: `None` for
/// no customer row, else (wrapped key: NULL once erased, sealed field: NULL
/// when not stored).
pub(crate) type FieldRow = Option<(Option<Vec<u8>>, Option<Vec<u8>>)>;

/// The customer row and all their sealed fields, read in one snapshot:
/// `None` for no customer row, else (wrapped key, (field name, sealed)).
pub(crate) type FieldsRows = Option<(Option<Vec<u8>>, Vec<(String, Vec<u8>)>)>;

/// A customer's wrapped key and commitment salt (both NULL after erasure).
pub(crate) struct CustomerKeys {
    pub(crate) wrapped_dek: Option<Vec<u8>>,
    pub(crate) salt: Option<Vec<u8>>,
}

/// The vault's rows in a database. Every method is one transaction (or one
/// statement, so one snapshot); reads never wait for a write in progress.
pub(crate) trait Store: Send + Sync {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// The database file, for the file-backed store.
    fn path(&self) -> Option<&Path>;

    /// In one write transaction: reads the customer's row, asks `plan` for
    /// the rows to write, writes them.
    fn put_customer(&self, customer: &str, plan: &mut PutPlan<'_>) -> Result<(), VaultError>;

    fn field_row(&self, customer: &str, field: &str) -> Result<FieldRow, VaultError>;

    fn fields_rows(&self, customer: &str) -> Result<FieldsRows, VaultError>;

    fn customer_keys(&self, customer: &str) -> Result<Option<CustomerKeys>, VaultError>;

    /// `None`: no row; `Some(None)`: erased.
    fn token(&self, customer: &str) -> Result<Option<Option<String>>, VaultError>;

    fn customer_of_token(&self, token: &str) -> Result<Option<String>, VaultError>;

    /// In one write transaction: deletes the customer's sealed fields and
    /// sets their token, data key id, wrapped key, key id and salt to NULL.
    /// Returns the data key id the row had (`None`: no such customer;
    /// `Some(None)`: already erased).
    fn erase(&self, customer: &str) -> Result<Option<Option<Vec<u8>>>, VaultError>;

    /// Data keys per key-encryption key id.
    fn kek_usage(&self) -> Result<BTreeMap<String, u64>, VaultError>;

    /// In one write transaction: up to `limit` customers whose key is not
    /// wrapped under `active`, each re-wrapped by `rewrap` and stored with
    /// `active` as its key id. Returns how many.
    fn rewrap_batch(
        &self,
        active: &str,
        limit: i64,
        rewrap: &mut Rewrap<'_>,
    ) -> Result<u64, VaultError>;
}
