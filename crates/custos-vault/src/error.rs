//! The one error type of the vault, sorted by who has to act on it.
//!
//! No variant carries plaintext, key material or a ciphertext: messages name
//! customers, fields and key ids only (none of which is secret), so an error
//! can be logged and returned as it is.

/// Why a vault call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The caller's request is wrong: an invalid customer id, field name,
    /// token or value.
    #[error("invalid vault request: {0}")]
    Invalid(String),
    /// No record exists for this customer.
    #[error("unknown customer `{customer}`")]
    UnknownCustomer { customer: String },
    /// The customer exists but this field was never stored.
    #[error("customer `{customer}` has no `{field}` field")]
    FieldNotStored {
        customer: String,
        field: &'static str,
    },
    /// The customer's data key was deleted (crypto-erasure): their fields and
    /// their audit commitment can no longer be recovered.
    #[error("customer `{customer}` was erased: the data key is deleted")]
    Erased { customer: String },
    /// A wrapped data key names a key-encryption key that the key ring does
    /// not hold (retired too early, or the wrong key file).
    #[error("key-encryption key `{kek_id}` is not in the key ring")]
    UnknownKek { kek_id: String },
    /// Authenticated decryption failed: the bytes were changed, moved to
    /// another customer or field, or sealed under another key.
    #[error("{what} failed authentication: tampered, moved or sealed under another key")]
    Tampered { what: &'static str },
    /// The bytes are not a vault object this build can read (bad magic, bad
    /// length, unknown kind or algorithm).
    #[error("malformed {what}: {reason}")]
    Malformed { what: &'static str, reason: String },
    /// The header names a format version this build does not know.
    #[error("unsupported {what} format version `{version}`")]
    UnsupportedVersion { what: &'static str, version: u8 },
    /// A sealed field names a different data key than its customer record.
    #[error("sealed `{field}` of customer `{customer}` names another data key than the record")]
    DataKeyMismatch {
        customer: String,
        field: &'static str,
    },
    /// The key ring itself is wrong: a bad key file or environment variable,
    /// a duplicate or missing key id.
    #[error("key ring: {0}")]
    KeyRing(String),
    /// A key-encryption key cannot be retired while data keys are wrapped
    /// under it.
    #[error("key-encryption key `{kek_id}` still wraps {wrapped} data keys: run the rewrap first")]
    KekInUse { kek_id: String, wrapped: u64 },
    /// The vault database cannot be reached right now (locked, disk full,
    /// cannot be opened, the PostgreSQL connection refused or lost, a
    /// serialization failure). Retrying later may succeed.
    #[error("vault database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: an unexpected SQL error, no randomness, a schema newer
    /// than this build.
    #[error("internal vault error: {0}")]
    Internal(String),
}

impl VaultError {
    /// True for the errors that mean the stored bytes or the keys are not
    /// what they should be (an integrity alarm, not a caller mistake).
    pub fn is_integrity_failure(&self) -> bool {
        matches!(
            self,
            VaultError::Tampered { .. }
                | VaultError::Malformed { .. }
                | VaultError::UnsupportedVersion { .. }
                | VaultError::DataKeyMismatch { .. }
                | VaultError::UnknownKek { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::VaultError;

    #[test]
    fn messages_are_lowercase_single_line_without_trailing_period() {
        let errors = [
            VaultError::Invalid("empty customer id".to_owned()),
            VaultError::UnknownCustomer {
                customer: "c-1".to_owned(),
            },
            VaultError::FieldNotStored {
                customer: "c-1".to_owned(),
                field: "email",
            },
            VaultError::Erased {
                customer: "c-1".to_owned(),
            },
            VaultError::UnknownKek {
                kek_id: "k1".to_owned(),
            },
            VaultError::Tampered {
                what: "sealed field",
            },
            VaultError::Malformed {
                what: "sealed field",
                reason: "bad magic".to_owned(),
            },
            VaultError::UnsupportedVersion {
                what: "wrapped key",
                version: 9,
            },
            VaultError::DataKeyMismatch {
                customer: "c-1".to_owned(),
                field: "email",
            },
            VaultError::KeyRing("no active key".to_owned()),
            VaultError::KekInUse {
                kek_id: "k1".to_owned(),
                wrapped: 3,
            },
            VaultError::Unavailable("locked".to_owned()),
            VaultError::Internal("boom".to_owned()),
        ];
        for error in errors {
            let message = error.to_string();
            assert!(message.starts_with(char::is_lowercase), "{message}");
            assert!(!message.ends_with('.'), "{message}");
            assert!(!message.contains('\n'), "{message}");
        }
    }

    #[test]
    fn integrity_failures_are_told_apart_from_caller_mistakes() {
        assert!(VaultError::Tampered { what: "x" }.is_integrity_failure());
        assert!(
            VaultError::UnknownKek {
                kek_id: "k".to_owned()
            }
            .is_integrity_failure()
        );
        assert!(
            !VaultError::Erased {
                customer: "c".to_owned()
            }
            .is_integrity_failure()
        );
        assert!(!VaultError::Invalid(String::new()).is_integrity_failure());
    }
}
