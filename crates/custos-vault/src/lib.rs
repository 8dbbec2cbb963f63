//! The encrypted PII vault of custos: customer PII sealed field by field
//! (AES-256-GCM) under a data key per customer, the data keys wrapped by
//! key-encryption keys from a key file or the environment, all in its own
//! store apart from the event store: a SQLite file (`vault.db`,
//! [`Vault::open`]) or a PostgreSQL schema of its own (default
//! `custos_vault`, [`Vault::open_postgres`]), with the same rows and bytes
//! in both.
//!
//! Callers outside the vault hold opaque tokens ([`Vault::put_customer`])
//! and keyed commitments ([`Vault::commitment`]) instead of PII or raw ids.
//! Deleting a customer's data key ([`Vault::delete_customer_key`]) makes
//! their fields and commitment unrecoverable (crypto-erasure). Keys rotate
//! without downtime ([`Vault::replace_key_ring`], [`Vault::rewrap_all`],
//! [`Vault::retire_kek`]). [`mask`] holds the pure masking helpers.
//!
//! The on-disk format is documented in [`mod@format`] and pinned by
//! `tests/data/vault-v1.golden`.
//!
//! **Architecture Invariant:** no plaintext PII and no key material ever
//! appears in an error, a `Debug` output or a log line of this crate; key
//! material and plaintext are zeroized when dropped.
//!
//! **Architecture Invariant:** this crate is synchronous and knows no async
//! runtime, HTTP or event store (the PostgreSQL backend uses the synchronous
//! `postgres` client, whose private runtime stays inside each call).
//!
//! **Architecture Invariant:** the backends (`Store` in `src/store.rs`)
//! only move opaque bytes; keys, the data key cache and all cryptography
//! stay in [`Vault`], so both backends store exactly format v1.

mod cache;
mod error;
mod field;
pub mod format;
mod keyring;
pub mod mask;
mod pg;
mod secret;
mod sqlite;
mod store;
mod vault;

#[cfg(test)]
mod golden;

pub use crate::error::VaultError;
pub use crate::field::FieldClass;
pub use crate::keyring::{KEYS_ENV_VAR, KekId, KeyRing, MAX_KEK_ID_LEN};
pub use crate::pg::{DEFAULT_POSTGRES_SCHEMA, POSTGRES_POOL_SIZE};
pub use crate::secret::{KEY_LEN, Plaintext, SecretKey};
pub use crate::vault::{
    DEFAULT_DEK_CACHE_CAPACITY, FieldResult, RewrapReport, VAULT_FILE_NAME, Vault,
};
