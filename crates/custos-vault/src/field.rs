//! The closed list of PII field classes the vault stores, with their wire
//! names (the names stored in the database and bound into every ciphertext).

use std::fmt;

use crate::error::VaultError;

/// A class of customer PII. The wire name is part of the on-disk format: it
/// is bound into the associated data of every sealed field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FieldClass {
    Name,
    Email,
    Phone,
    Address,
    Dob,
    IdDocument,
    NationalId,
    BankAccount,
}

impl FieldClass {
    /// Every field class, in wire-name order of declaration.
    pub const ALL: [FieldClass; 8] = [
        FieldClass::Name,
        FieldClass::Email,
        FieldClass::Phone,
        FieldClass::Address,
        FieldClass::Dob,
        FieldClass::IdDocument,
        FieldClass::NationalId,
        FieldClass::BankAccount,
    ];

    /// The wire name (`name`, `email`, ..., `bank_account`).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldClass::Name => "name",
            FieldClass::Email => "email",
            FieldClass::Phone => "phone",
            FieldClass::Address => "address",
            FieldClass::Dob => "dob",
            FieldClass::IdDocument => "id_document",
            FieldClass::NationalId => "national_id",
            FieldClass::BankAccount => "bank_account",
        }
    }

    /// Parses a wire name; anything else is [`VaultError::Invalid`].
    pub fn parse(text: &str) -> Result<FieldClass, VaultError> {
        FieldClass::ALL
            .into_iter()
            .find(|class| class.as_str() == text)
            .ok_or_else(|| {
                VaultError::Invalid(format!(
                    "unknown field class `{}`",
                    text.escape_debug().take(64).collect::<String>()
                ))
            })
    }
}

impl fmt::Display for FieldClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::FieldClass;

    #[test]
    fn wire_names_round_trip_and_are_unique() {
        for class in FieldClass::ALL {
            assert_eq!(FieldClass::parse(class.as_str()), Ok(class));
        }
        let mut names: Vec<_> = FieldClass::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FieldClass::ALL.len());
    }

    #[test]
    fn unknown_names_are_refused() {
        for text in ["", "Email", "balance", "email "] {
            assert!(FieldClass::parse(text).is_err(), "{text:?}");
        }
    }
}
