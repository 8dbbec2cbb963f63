//! On-disk format v1: sealed fields, wrapped data keys and commitments.
//! Pure functions, no IO; the layouts are pinned by
//! `tests/data/vault-v1.golden`.
//!
//! Sealed field (one PII value under the customer's data key):
//!
//! ```text
//! offset size
//!  0      2   magic "CV"
//!  2      1   format version (1)
//!  3      1   kind (1 = sealed field)
//!  4      1   algorithm (1 = AES-256-GCM)
//!  5     16   data key id
//! 21     12   nonce
//! 33      n   ciphertext, then the 16-byte tag
//! AAD = bytes 0..33 || u16 BE len || customer id || u8 len || field wire name
//! ```
//!
//! Wrapped data key (the customer's data key under a key-encryption key):
//!
//! ```text
//!  0      2   magic "CV"
//!  2      1   format version (1)
//!  3      1   kind (2 = wrapped key)
//!  4      1   algorithm (1 = AES-256-GCM)
//!  5      1   KEK id length L (1..=64)
//!  6      L   KEK id (ASCII)
//!  6+L   16   data key id
//! 22+L   12   nonce
//! 34+L   48   encrypted 32-byte data key, then the 16-byte tag
//! AAD = bytes 0..34+L || u16 BE len || customer id
//! ```
//!
//! Every header byte is authenticated (it is part of the AAD), so a changed
//! key id, nonce or version cannot go unnoticed, and the customer id and
//! field name in the AAD make a value moved to another customer or field fail
//! to decrypt.

use std::fmt;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::VaultError;
use crate::field::FieldClass;
use crate::keyring::{KekId, KeyRing, MAX_KEK_ID_LEN};
use crate::secret::{KEY_LEN, Plaintext, SecretKey, fill_random, to_hex};

/// The first two bytes of every vault object.
pub const MAGIC: [u8; 2] = *b"CV";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u8 = 1;
const KIND_SEALED_FIELD: u8 = 1;
const KIND_WRAPPED_KEY: u8 = 2;
const ALGORITHM_AES_256_GCM: u8 = 1;

/// Length of a data key id.
pub const DEK_ID_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const FIELD_HEADER_LEN: usize = 5 + DEK_ID_LEN + NONCE_LEN;
/// The largest field value the vault seals, in bytes.
pub const MAX_FIELD_LEN: usize = 64 * 1024;
/// Length of a commitment salt.
pub const SALT_LEN: usize = 32;

const SEALED_FIELD: &str = "sealed field";
const WRAPPED_KEY: &str = "wrapped key";

/// The random id of a data key, written in its wrapped form and in every
/// field sealed under it. Not secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DekId(pub(crate) [u8; DEK_ID_LEN]);

impl DekId {
    pub(crate) fn generate() -> Result<DekId, VaultError> {
        let mut id = [0; DEK_ID_LEN];
        fill_random(&mut id)?;
        Ok(DekId(id))
    }

    pub fn as_bytes(&self) -> &[u8; DEK_ID_LEN] {
        &self.0
    }
}

impl fmt::Debug for DekId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DekId({})", to_hex(&self.0))
    }
}

/// An unwrapped data key: its id, the key bytes and the ready AES-GCM
/// cipher. Both the bytes and the cipher's key schedule are zeroized on
/// drop (`aes-gcm` with its `zeroize` feature).
pub struct DataKey {
    id: DekId,
    key: SecretKey,
    cipher: Aes256Gcm,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl DataKey {
    /// A fresh random data key with a fresh random id.
    pub fn generate() -> Result<DataKey, VaultError> {
        Ok(DataKey::from_parts(
            DekId::generate()?,
            SecretKey::generate()?,
        ))
    }

    pub(crate) fn from_parts(id: DekId, key: SecretKey) -> DataKey {
        let cipher = cipher(&key);
        DataKey { id, key, cipher }
    }

    pub fn id(&self) -> DekId {
        self.id
    }
}

fn cipher(key: &SecretKey) -> Aes256Gcm {
    // INVARIANT: the key is exactly 32 bytes, the AES-256 key size.
    Aes256Gcm::new(key.expose().into())
}

fn random_nonce() -> Result<[u8; NONCE_LEN], VaultError> {
    let mut nonce = [0; NONCE_LEN];
    fill_random(&mut nonce)?;
    Ok(nonce)
}

fn field_aad(header: &[u8], customer: &str, field: FieldClass) -> Result<Vec<u8>, VaultError> {
    let customer_len = u16::try_from(customer.len())
        .map_err(|_| VaultError::Invalid("customer id longer than 65535 bytes".to_owned()))?;
    let field_name = field.as_str();
    let mut aad = Vec::with_capacity(header.len() + 3 + customer.len() + field_name.len());
    aad.extend_from_slice(header);
    aad.extend_from_slice(&customer_len.to_be_bytes());
    aad.extend_from_slice(customer.as_bytes());
    // INVARIANT: wire names are short constants (at most 12 bytes).
    aad.push(field_name.len() as u8);
    aad.extend_from_slice(field_name.as_bytes());
    Ok(aad)
}

fn key_aad(header: &[u8], customer: &str) -> Result<Vec<u8>, VaultError> {
    let customer_len = u16::try_from(customer.len())
        .map_err(|_| VaultError::Invalid("customer id longer than 65535 bytes".to_owned()))?;
    let mut aad = Vec::with_capacity(header.len() + 2 + customer.len());
    aad.extend_from_slice(header);
    aad.extend_from_slice(&customer_len.to_be_bytes());
    aad.extend_from_slice(customer.as_bytes());
    Ok(aad)
}

/// Seals one field value of `customer` under `dek`, with a random nonce.
pub fn seal_field(
    dek: &DataKey,
    customer: &str,
    field: FieldClass,
    plaintext: &str,
) -> Result<Vec<u8>, VaultError> {
    seal_field_with_nonce(dek, customer, field, plaintext, random_nonce()?)
}

/// The deterministic core of [`seal_field`]. A fixed nonce is only safe in
/// tests (the golden file); production code always comes through
/// `seal_field`.
pub(crate) fn seal_field_with_nonce(
    dek: &DataKey,
    customer: &str,
    field: FieldClass,
    plaintext: &str,
    nonce: [u8; NONCE_LEN],
) -> Result<Vec<u8>, VaultError> {
    if plaintext.len() > MAX_FIELD_LEN {
        return Err(VaultError::Invalid(format!(
            "`{field}` value is longer than {MAX_FIELD_LEN} bytes"
        )));
    }
    let mut sealed = Vec::with_capacity(FIELD_HEADER_LEN + plaintext.len() + TAG_LEN);
    sealed.extend_from_slice(&MAGIC);
    sealed.extend_from_slice(&[FORMAT_VERSION, KIND_SEALED_FIELD, ALGORITHM_AES_256_GCM]);
    sealed.extend_from_slice(&dek.id.0);
    sealed.extend_from_slice(&nonce);
    let aad = field_aad(&sealed, customer, field)?;
    sealed.extend_from_slice(plaintext.as_bytes());
    let tag = dek
        .cipher
        .encrypt_inout_detached(
            &Nonce::from(nonce),
            &aad,
            (&mut sealed[FIELD_HEADER_LEN..]).into(),
        )
        .map_err(|_| VaultError::Internal("field encryption failed".to_owned()))?;
    sealed.extend_from_slice(&tag);
    Ok(sealed)
}

/// Checks the fixed part of a header: magic, version, kind, algorithm.
fn check_preamble(bytes: &[u8], what: &'static str, kind: u8) -> Result<(), VaultError> {
    let malformed = |reason: &str| VaultError::Malformed {
        what,
        reason: reason.to_owned(),
    };
    if bytes.len() < 5 {
        return Err(malformed("shorter than its header"));
    }
    if bytes[0..2] != MAGIC {
        return Err(malformed("bad magic"));
    }
    if bytes[2] != FORMAT_VERSION {
        return Err(VaultError::UnsupportedVersion {
            what,
            version: bytes[2],
        });
    }
    if bytes[3] != kind {
        return Err(malformed("wrong object kind"));
    }
    if bytes[4] != ALGORITHM_AES_256_GCM {
        return Err(malformed("unknown algorithm"));
    }
    Ok(())
}

/// The data key id in a sealed field's header (checked, not authenticated:
/// [`open_field`] authenticates it).
pub fn sealed_field_dek_id(sealed: &[u8]) -> Result<DekId, VaultError> {
    check_preamble(sealed, SEALED_FIELD, KIND_SEALED_FIELD)?;
    if sealed.len() < FIELD_HEADER_LEN + TAG_LEN {
        return Err(VaultError::Malformed {
            what: SEALED_FIELD,
            reason: "shorter than header and tag".to_owned(),
        });
    }
    let mut id = [0; DEK_ID_LEN];
    id.copy_from_slice(&sealed[5..5 + DEK_ID_LEN]);
    Ok(DekId(id))
}

/// Opens a sealed field of `customer`. Fails with
/// [`VaultError::Tampered`] when any byte changed, or when the value was
/// sealed for another customer, field or data key.
pub fn open_field(
    dek: &DataKey,
    customer: &str,
    field: FieldClass,
    sealed: &[u8],
) -> Result<Plaintext, VaultError> {
    let dek_id = sealed_field_dek_id(sealed)?;
    if dek_id != dek.id {
        return Err(VaultError::Tampered { what: SEALED_FIELD });
    }
    let (header, rest) = sealed.split_at(FIELD_HEADER_LEN);
    let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
    let nonce: &Nonce<_> = header[FIELD_HEADER_LEN - NONCE_LEN..]
        .try_into()
        .map_err(|_| VaultError::Internal("nonce length".to_owned()))?;
    let tag: &Tag = tag
        .try_into()
        .map_err(|_| VaultError::Internal("tag length".to_owned()))?;
    let aad = field_aad(header, customer, field)?;
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    dek.cipher
        .decrypt_inout_detached(nonce, &aad, buffer.as_mut_slice().into(), tag)
        .map_err(|_| VaultError::Tampered { what: SEALED_FIELD })?;
    let bytes = std::mem::take(&mut *buffer);
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Plaintext::new(text)),
        Err(error) => {
            // Authentic but not UTF-8: only a writer bug can do this.
            zeroize::Zeroize::zeroize(&mut error.into_bytes());
            Err(VaultError::Malformed {
                what: SEALED_FIELD,
                reason: "plaintext is not utf-8".to_owned(),
            })
        }
    }
}

/// The key-encryption key id and data key id in a wrapped key's header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrappedKeyHeader {
    pub kek_id: String,
    pub dek_id: DekId,
}

fn wrapped_key_layout(wrapped: &[u8]) -> Result<(usize, WrappedKeyHeader), VaultError> {
    check_preamble(wrapped, WRAPPED_KEY, KIND_WRAPPED_KEY)?;
    let malformed = |reason: &str| VaultError::Malformed {
        what: WRAPPED_KEY,
        reason: reason.to_owned(),
    };
    let kek_id_len = usize::from(
        *wrapped
            .get(5)
            .ok_or_else(|| malformed("no key id length"))?,
    );
    if kek_id_len == 0 || kek_id_len > MAX_KEK_ID_LEN {
        return Err(malformed("key id length out of range"));
    }
    let header_len = 6 + kek_id_len + DEK_ID_LEN + NONCE_LEN;
    if wrapped.len() != header_len + KEY_LEN + TAG_LEN {
        return Err(malformed("wrong length"));
    }
    let kek_id = std::str::from_utf8(&wrapped[6..6 + kek_id_len])
        .map_err(|_| malformed("key id is not ascii"))?
        .to_owned();
    let mut dek_id = [0; DEK_ID_LEN];
    dek_id.copy_from_slice(&wrapped[6 + kek_id_len..6 + kek_id_len + DEK_ID_LEN]);
    Ok((
        header_len,
        WrappedKeyHeader {
            kek_id,
            dek_id: DekId(dek_id),
        },
    ))
}

/// Reads a wrapped key's header without unwrapping it.
pub fn wrapped_key_header(wrapped: &[u8]) -> Result<WrappedKeyHeader, VaultError> {
    wrapped_key_layout(wrapped).map(|(_, header)| header)
}

/// Wraps `dek` of `customer` under the ring's active key-encryption key.
pub fn wrap_key(ring: &KeyRing, customer: &str, dek: &DataKey) -> Result<Vec<u8>, VaultError> {
    let (kek_id, kek) = ring.active_key();
    wrap_key_with_nonce(kek_id, kek, customer, dek, random_nonce()?)
}

/// The deterministic core of [`wrap_key`] (fixed nonces only in tests).
pub(crate) fn wrap_key_with_nonce(
    kek_id: &KekId,
    kek: &SecretKey,
    customer: &str,
    dek: &DataKey,
    nonce: [u8; NONCE_LEN],
) -> Result<Vec<u8>, VaultError> {
    let id = kek_id.as_str().as_bytes();
    let mut wrapped = Vec::with_capacity(6 + id.len() + DEK_ID_LEN + NONCE_LEN + KEY_LEN + TAG_LEN);
    wrapped.extend_from_slice(&MAGIC);
    wrapped.extend_from_slice(&[FORMAT_VERSION, KIND_WRAPPED_KEY, ALGORITHM_AES_256_GCM]);
    // INVARIANT: a `KekId` is at most 64 bytes.
    wrapped.push(id.len() as u8);
    wrapped.extend_from_slice(id);
    wrapped.extend_from_slice(&dek.id.0);
    wrapped.extend_from_slice(&nonce);
    let header_len = wrapped.len();
    let aad = key_aad(&wrapped, customer)?;
    wrapped.extend_from_slice(dek.key.expose());
    let tag = cipher(kek)
        .encrypt_inout_detached(
            &Nonce::from(nonce),
            &aad,
            (&mut wrapped[header_len..]).into(),
        )
        .map_err(|_| VaultError::Internal("key wrapping failed".to_owned()))?;
    wrapped.extend_from_slice(&tag);
    Ok(wrapped)
}

/// Unwraps the data key of `customer` with whichever key-encryption key its
/// header names. A key id the ring lacks is [`VaultError::UnknownKek`];
/// any changed byte, or a key wrapped for another customer, is
/// [`VaultError::Tampered`].
pub fn unwrap_key(ring: &KeyRing, customer: &str, wrapped: &[u8]) -> Result<DataKey, VaultError> {
    let (header_len, header) = wrapped_key_layout(wrapped)?;
    let kek = ring.kek(&header.kek_id)?;
    let (head, rest) = wrapped.split_at(header_len);
    let (encrypted, tag) = rest.split_at(KEY_LEN);
    let nonce: &Nonce<_> = head[header_len - NONCE_LEN..]
        .try_into()
        .map_err(|_| VaultError::Internal("nonce length".to_owned()))?;
    let tag: &Tag = tag
        .try_into()
        .map_err(|_| VaultError::Internal("tag length".to_owned()))?;
    let aad = key_aad(head, customer)?;
    let mut key = [0; KEY_LEN];
    key.copy_from_slice(encrypted);
    let opened = cipher(kek).decrypt_inout_detached(nonce, &aad, (&mut key[..]).into(), tag);
    let secret = SecretKey::from_bytes(key);
    zeroize::Zeroize::zeroize(&mut key);
    opened.map_err(|_| VaultError::Tampered { what: WRAPPED_KEY })?;
    Ok(DataKey::from_parts(header.dek_id, secret))
}

/// The audit commitment of `customer`: HMAC-SHA256 under the vault's
/// commitment key over a domain tag, the customer's random salt and the
/// customer id. Without the salt (deleted at erasure) nobody, the vault
/// included, can recompute it, so old audit records can no longer be linked
/// to the customer id.
pub fn commitment(
    commitment_key: &SecretKey,
    salt: &[u8; SALT_LEN],
    customer: &str,
) -> Result<[u8; 32], VaultError> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(commitment_key.expose())
        .map_err(|_| VaultError::Internal("hmac key length".to_owned()))?;
    mac.update(b"custos-vault/v1/commitment\0");
    mac.update(salt);
    mac.update(customer.as_bytes());
    Ok(mac.finalize().into_bytes().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn fixed_dek(byte: u8) -> DataKey {
        DataKey::from_parts(
            DekId([byte; DEK_ID_LEN]),
            SecretKey::from_bytes([byte; KEY_LEN]),
        )
    }

    fn ring(ids: &[(&str, u8)]) -> Result<KeyRing, VaultError> {
        let mut ids = ids.iter();
        let Some((first, byte)) = ids.next() else {
            return Err(VaultError::KeyRing("no key".to_owned()));
        };
        let mut ring = KeyRing::new(
            KekId::parse(first)?,
            SecretKey::from_bytes([*byte; KEY_LEN]),
            SecretKey::from_bytes([0xcc; KEY_LEN]),
        );
        for (id, byte) in ids {
            ring.insert(KekId::parse(id)?, SecretKey::from_bytes([*byte; KEY_LEN]))?;
        }
        Ok(ring)
    }

    #[test]
    fn a_field_opens_only_for_its_customer_field_and_key() -> Result<(), VaultError> {
        let dek = fixed_dek(1);
        let sealed = seal_field(&dek, "c-1", FieldClass::Email, "jane@example.com")?;
        assert_eq!(sealed.len(), FIELD_HEADER_LEN + 16 + TAG_LEN);
        assert!(!sealed.windows(4).any(|w| w == b"jane"));
        let opened = open_field(&dek, "c-1", FieldClass::Email, &sealed)?;
        assert_eq!(opened.expose(), "jane@example.com");
        let tampered = |result: Result<Plaintext, VaultError>| {
            matches!(result, Err(VaultError::Tampered { what: SEALED_FIELD }))
        };
        assert!(tampered(open_field(
            &dek,
            "c-2",
            FieldClass::Email,
            &sealed
        )));
        assert!(tampered(open_field(&dek, "c-1", FieldClass::Name, &sealed)));
        assert!(tampered(open_field(
            &fixed_dek(2),
            "c-1",
            FieldClass::Email,
            &sealed
        )));
        let other_key_same_id =
            DataKey::from_parts(DekId([1; DEK_ID_LEN]), SecretKey::from_bytes([3; KEY_LEN]));
        assert!(tampered(open_field(
            &other_key_same_id,
            "c-1",
            FieldClass::Email,
            &sealed
        )));
        Ok(())
    }

    #[test]
    fn random_nonces_make_each_seal_different() -> Result<(), VaultError> {
        let dek = fixed_dek(1);
        let first = seal_field(&dek, "c-1", FieldClass::Name, "Jane")?;
        let second = seal_field(&dek, "c-1", FieldClass::Name, "Jane")?;
        assert_ne!(first, second);
        Ok(())
    }

    #[test]
    fn headers_are_checked_in_order() -> Result<(), VaultError> {
        let dek = fixed_dek(1);
        let sealed = seal_field(&dek, "c-1", FieldClass::Name, "Jane")?;
        let check = |index: usize, value: u8, expect: &str| {
            let mut bytes = sealed.clone();
            bytes[index] = value;
            let message = open_field(&dek, "c-1", FieldClass::Name, &bytes)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(message.contains(expect), "byte {index}: {message}");
        };
        check(0, b'X', "bad magic");
        check(2, 2, "format version `2`");
        check(3, KIND_WRAPPED_KEY, "wrong object kind");
        check(4, 7, "unknown algorithm");
        check(5, 0xee, "failed authentication");
        let short = open_field(&dek, "c-1", FieldClass::Name, &sealed[..FIELD_HEADER_LEN]);
        assert!(matches!(short, Err(VaultError::Malformed { .. })));
        Ok(())
    }

    #[test]
    fn wrapped_keys_unwrap_with_the_kek_they_name() -> Result<(), VaultError> {
        let mut keys = ring(&[("old", 7)])?;
        let dek = DataKey::generate()?;
        let under_old = wrap_key(&keys, "c-1", &dek)?;
        keys.insert(KekId::parse("new")?, SecretKey::from_bytes([8; KEY_LEN]))?;
        keys.activate(&KekId::parse("new")?)?;
        let under_new = wrap_key(&keys, "c-1", &dek)?;
        assert_eq!(wrapped_key_header(&under_old)?.kek_id, "old");
        assert_eq!(wrapped_key_header(&under_new)?.kek_id, "new");
        for wrapped in [&under_old, &under_new] {
            let unwrapped = unwrap_key(&keys, "c-1", wrapped)?;
            assert_eq!(unwrapped.id(), dek.id());
            assert_eq!(unwrapped.key.expose(), dek.key.expose());
        }
        let moved = unwrap_key(&keys, "c-2", &under_new);
        assert!(matches!(
            moved,
            Err(VaultError::Tampered { what: WRAPPED_KEY })
        ));
        keys.remove(&KekId::parse("old")?)?;
        let missing = unwrap_key(&keys, "c-1", &under_old);
        assert_eq!(
            missing.err(),
            Some(VaultError::UnknownKek {
                kek_id: "old".to_owned()
            })
        );
        Ok(())
    }

    #[test]
    fn commitments_depend_on_key_salt_and_customer() -> Result<(), VaultError> {
        let key = SecretKey::from_bytes([1; KEY_LEN]);
        let base = commitment(&key, &[2; SALT_LEN], "c-1")?;
        assert_eq!(base, commitment(&key, &[2; SALT_LEN], "c-1")?);
        assert_ne!(base, commitment(&key, &[3; SALT_LEN], "c-1")?);
        assert_ne!(base, commitment(&key, &[2; SALT_LEN], "c-2")?);
        assert_ne!(
            base,
            commitment(&SecretKey::from_bytes([9; KEY_LEN]), &[2; SALT_LEN], "c-1")?
        );
        Ok(())
    }

    #[test]
    fn oversized_values_are_refused() {
        let big = "x".repeat(MAX_FIELD_LEN + 1);
        let result = seal_field(&fixed_dek(1), "c-1", FieldClass::Address, &big);
        assert!(matches!(result, Err(VaultError::Invalid(_))));
    }
}
