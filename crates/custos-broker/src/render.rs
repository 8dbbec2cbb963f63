//! Turning a field decision into what the screen shows, with the vault's
//! masks: the broker decides, this applies the decision to a value.

use crate::types::Outcome;
use custos_core::event::FieldClass;
use custos_vault::mask::{HIDDEN, mask_field};

/// The vault's class for a field class it stores; `None` for data that lives
/// elsewhere (balances, transactions, API keys, security settings).
pub fn vault_class(field: FieldClass) -> Option<custos_vault::FieldClass> {
    match field {
        FieldClass::Name => Some(custos_vault::FieldClass::Name),
        FieldClass::Email => Some(custos_vault::FieldClass::Email),
        FieldClass::Phone => Some(custos_vault::FieldClass::Phone),
        FieldClass::Address => Some(custos_vault::FieldClass::Address),
        FieldClass::Dob => Some(custos_vault::FieldClass::Dob),
        FieldClass::IdDocument => Some(custos_vault::FieldClass::IdDocument),
        FieldClass::NationalId => Some(custos_vault::FieldClass::NationalId),
        FieldClass::BankAccount => Some(custos_vault::FieldClass::BankAccount),
        FieldClass::Balance
        | FieldClass::Transactions
        | FieldClass::ApiKeys
        | FieldClass::SecuritySettings => None,
    }
}

/// What to show for `value` of `field` under `outcome`: nothing when hidden,
/// the vault's default mask when masked (`***` for classes without one), the
/// value itself when revealed.
pub fn render(field: FieldClass, outcome: Outcome, value: &str) -> Option<String> {
    match outcome {
        Outcome::Hidden => None,
        Outcome::Masked => Some(match vault_class(field) {
            Some(class) => mask_field(class, value),
            None => HIDDEN.to_owned(),
        }),
        Outcome::Revealed => Some(value.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_values_use_the_vault_masks_and_hide_the_rest() {
        let masked_email =
            render(FieldClass::Email, Outcome::Masked, "jane.doe@gmail.com").unwrap();
        assert_eq!(masked_email, "j***@g***.com");
        let masked_account = render(
            FieldClass::BankAccount,
            Outcome::Masked,
            "DE89370400440532013000",
        )
        .unwrap();
        assert!(
            masked_account.ends_with("3000") && !masked_account.contains("3704"),
            "{masked_account}"
        );
        assert_eq!(
            render(FieldClass::Balance, Outcome::Masked, "250000.00").unwrap(),
            HIDDEN
        );
        assert_eq!(
            render(FieldClass::Email, Outcome::Hidden, "jane.doe@gmail.com"),
            None
        );
        assert_eq!(
            render(FieldClass::Email, Outcome::Revealed, "jane.doe@gmail.com").unwrap(),
            "jane.doe@gmail.com"
        );
    }

    #[test]
    fn every_vault_class_has_a_core_class() {
        for class in custos_vault::FieldClass::ALL {
            let core = FieldClass::parse(class.as_str()).unwrap();
            assert_eq!(vault_class(core), Some(class));
        }
    }
}
