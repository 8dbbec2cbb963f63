//! The one error type of the store, sorted by who has to act on it.

/// Why a store call failed.
///
/// The variants say who has to act: [`Unavailable`](StoreError::Unavailable)
/// is the database's or the operator's problem and worth retrying later
/// (HTTP 503), [`Invalid`](StoreError::Invalid) and
/// [`Conflict`](StoreError::Conflict) are the caller's, and
/// [`Internal`](StoreError::Internal) is everything else.
///
/// Messages never contain a connection password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database cannot be reached or cannot take the request right now:
    /// connection refused or lost, server shutting down, database locked for
    /// longer than the busy timeout, disk full. Retrying later may succeed.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The request itself is wrong (a bug in the caller): an empty id, a NUL
    /// byte in a text field, a zero page size, an unsupported database url.
    #[error("invalid store request: {0}")]
    Invalid(String),
    /// The request breaks a uniqueness rule, such as a duplicate alert id.
    /// Nothing of the request was written.
    #[error("store conflict: {0}")]
    Conflict(String),
    /// Anything else: an unexpected SQL error, a corrupt or too new schema.
    #[error("internal store error: {0}")]
    Internal(String),
}

impl StoreError {
    /// True for [`StoreError::Unavailable`], which callers map to HTTP 503.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

#[cfg(test)]
mod tests {
    use super::StoreError;

    #[test]
    fn messages_are_lowercase_without_trailing_period() {
        let errors = [
            StoreError::Unavailable("connection refused".to_owned()),
            StoreError::Invalid("`limit` must be at least 1".to_owned()),
            StoreError::Conflict("alert `al-1` already exists".to_owned()),
            StoreError::Internal("boom".to_owned()),
        ];
        for error in errors {
            let message = error.to_string();
            assert!(message.starts_with(char::is_lowercase), "{message}");
            assert!(!message.ends_with('.'), "{message}");
        }
    }

    #[test]
    fn only_unavailable_is_unavailable() {
        assert!(StoreError::Unavailable(String::new()).is_unavailable());
        assert!(!StoreError::Internal(String::new()).is_unavailable());
        assert!(!StoreError::Invalid(String::new()).is_unavailable());
        assert!(!StoreError::Conflict(String::new()).is_unavailable());
    }
}
