//! The console's errors: what went wrong inside (store, database, hashing),
//! apart from what a person did wrong (a bad form field).

use custos_store::StoreError;

/// Everything the console can fail with. User mistakes are [`ConsoleError::Invalid`];
/// the rest are internal and reach a browser only as "internal error".
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("user `{0}` already exists")]
    UserExists(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("console database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("password hashing failed")]
    PasswordHash,
    #[error("the operating system's random generator failed")]
    Random,
    #[error("console directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("a blocking task did not finish")]
    Join,
    /// A stored passkey or ceremony state cannot be read back.
    #[error("stored passkey data: {0}")]
    StoredPasskey(String),
    /// A custos service called in process (grants, step-up, audit log) failed.
    #[error("service: {0}")]
    Service(String),
}
