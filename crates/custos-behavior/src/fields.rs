//! Which data classes a ticket category needs: reading more than that,
//! especially sensitive classes, is a sign of a lookup for someone else.

use custos_core::event::FieldClass;

/// A set of [`FieldClass`]es as bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FieldMask(pub u16);

impl FieldMask {
    pub fn of(fields: &[FieldClass]) -> FieldMask {
        FieldMask(fields.iter().fold(0, |m, f| m | bit(*f)))
    }
    pub fn contains(self, field: FieldClass) -> bool {
        self.0 & bit(field) != 0
    }
    pub fn minus(self, other: FieldMask) -> FieldMask {
        FieldMask(self.0 & !other.0)
    }
    pub fn sensitive(self) -> FieldMask {
        FieldMask(self.0 & SENSITIVE.0)
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The classes in the set, in the contract's order.
    pub fn names(self) -> Vec<&'static str> {
        FieldClass::ALL
            .iter()
            .filter(|f| self.contains(**f))
            .map(|f| f.as_str())
            .collect()
    }
}

fn bit(field: FieldClass) -> u16 {
    1 << (field as u16)
}

const SENSITIVE: FieldMask = FieldMask(
    1 << (FieldClass::IdDocument as u16)
        | 1 << (FieldClass::NationalId as u16)
        | 1 << (FieldClass::BankAccount as u16)
        | 1 << (FieldClass::Address as u16)
        | 1 << (FieldClass::Phone as u16),
);

/// What an agent needs to read for a ticket of `category` (`None`: an access
/// without a ticket, where only identifying the customer is needed).
/// Unknown categories get the common core: name, email, balance,
/// transactions.
pub fn needed_fields(category: Option<&str>) -> FieldMask {
    use FieldClass::*;
    let fields: &[FieldClass] = match category {
        None => &[Name, Email],
        Some("withdrawal_delay") | Some("deposit_missing") => {
            &[Name, Email, Balance, Transactions, BankAccount]
        }
        Some("login_issue") => &[Name, Email, Phone, SecuritySettings],
        Some("kyc_verification") => &[Name, Email, Dob, Address, IdDocument, NationalId],
        Some("account_security") => &[Name, Email, Phone, SecuritySettings, Transactions],
        Some("api_question") => &[Name, Email, ApiKeys, SecuritySettings],
        Some("card_payment") | Some("p2p_dispute") => &[Name, Balance, Transactions, BankAccount],
        Some("fee_question") => &[Name, Balance, Transactions],
        Some("statement_request") => &[Name, Email, Address, Balance, Transactions],
        Some("account_closure") => &[Name, Email, Address, Balance, Transactions, BankAccount],
        Some(_) => &[Name, Email, Balance, Transactions],
    };
    FieldMask::of(fields)
}

/// What a team lead's quality review legitimately covers without a ticket.
pub(crate) fn review_fields() -> FieldMask {
    use FieldClass::*;
    FieldMask::of(&[Name, Email, Phone, Balance, Transactions, SecuritySettings])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_table() {
        let cases: &[(Option<&str>, &[FieldClass], &[&str])] = &[
            (
                Some("withdrawal_delay"),
                &[FieldClass::Name, FieldClass::Phone, FieldClass::Balance],
                &["phone"],
            ),
            (
                Some("kyc_verification"),
                &[FieldClass::Name, FieldClass::IdDocument],
                &[],
            ),
            (
                None,
                &[FieldClass::Name, FieldClass::Address, FieldClass::Balance],
                &["address"],
            ),
            (Some("mystery"), &[FieldClass::NationalId], &["national_id"]),
        ];
        for (category, read, sensitive_beyond) in cases {
            let beyond = FieldMask::of(read).minus(needed_fields(*category));
            assert_eq!(
                beyond.sensitive().names(),
                *sensitive_beyond,
                "{category:?}"
            );
        }
    }
}
