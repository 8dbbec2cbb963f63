//! Masking: pure functions that turn a field value into what an agent may
//! see by default (`j***@g***.com`, `***-**-1234`, last 4 of an account).
//!
//! A mask never reveals more than it promises: when a value is too short or
//! too odd to mask safely, the whole value is hidden (`***`).

use crate::field::FieldClass;

/// What a fully hidden value shows.
pub const HIDDEN: &str = "***";

/// How much of an address to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressMask {
    /// The city only. Addresses are stored as comma-separated parts, city
    /// second to last: `street..., city, country`.
    CityOnly,
    /// Nothing.
    Hidden,
}

/// The default mask of each field class.
pub fn mask_field(field: FieldClass, value: &str) -> String {
    match field {
        FieldClass::Name => mask_name(value),
        FieldClass::Email => mask_email(value),
        FieldClass::Phone => mask_phone(value, 2),
        FieldClass::Address => mask_address(value, AddressMask::CityOnly),
        FieldClass::Dob => mask_dob(value),
        FieldClass::NationalId => mask_national_id(value),
        FieldClass::BankAccount => mask_bank_account(value),
        FieldClass::IdDocument => HIDDEN.to_owned(),
    }
}

fn first_char_then_stars(text: &str) -> Option<String> {
    let first = text.chars().next()?;
    Some(format!("{first}***"))
}

/// `jane.doe@gmail.com` → `j***@g***.com`: the first character of the local
/// part and of the domain, and the top-level domain.
pub fn mask_email(email: &str) -> String {
    let masked = (|| {
        let (local, domain) = email.trim().rsplit_once('@')?;
        let local = first_char_then_stars(local)?;
        match domain.rsplit_once('.') {
            Some((name, tld)) if !tld.is_empty() => {
                Some(format!("{local}@{}.{tld}", first_char_then_stars(name)?))
            }
            _ => Some(format!("{local}@{}", first_char_then_stars(domain)?)),
        }
    })();
    masked.unwrap_or_else(|| HIDDEN.to_owned())
}

/// The last `keep` digits (clamped to 2..=4) after `***`. A number with
/// fewer than `keep + 4` digits is hidden whole, so most of it stays secret.
pub fn mask_phone(phone: &str, keep: usize) -> String {
    let keep = keep.clamp(2, 4);
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < keep + 4 {
        return HIDDEN.to_owned();
    }
    let tail: String = digits[digits.len() - keep..].iter().collect();
    format!("***{tail}")
}

fn last_alphanumerics(text: &str, count: usize) -> Option<String> {
    let chars: Vec<char> = text.chars().filter(char::is_ascii_alphanumeric).collect();
    // Reveal the tail only when more than the tail stays hidden.
    if chars.len() <= count * 2 {
        return None;
    }
    Some(chars[chars.len() - count..].iter().collect())
}

/// `123-45-6789` → `***-**-6789`.
pub fn mask_national_id(national_id: &str) -> String {
    match last_alphanumerics(national_id, 4) {
        Some(tail) => format!("***-**-{tail}"),
        None => "***-**-****".to_owned(),
    }
}

/// `DE89 3704 0044 0532 0130 00` → `****3000`.
pub fn mask_bank_account(account: &str) -> String {
    match last_alphanumerics(account, 4) {
        Some(tail) => format!("****{tail}"),
        None => "****".to_owned(),
    }
}

/// `Jane van Doe` → `J. V. D.`: the initial of each word.
pub fn mask_name(name: &str) -> String {
    let initials: Vec<String> = name
        .split_whitespace()
        .filter_map(|word| word.chars().next())
        .map(|c| format!("{}.", c.to_uppercase()))
        .collect();
    if initials.is_empty() {
        return HIDDEN.to_owned();
    }
    initials.join(" ")
}

/// The city of `street..., city, country`, or nothing.
pub fn mask_address(address: &str, mask: AddressMask) -> String {
    match mask {
        AddressMask::Hidden => HIDDEN.to_owned(),
        AddressMask::CityOnly => {
            let parts: Vec<&str> = address.split(',').map(str::trim).collect();
            match parts.as_slice() {
                [_, .., city, _country] if !city.is_empty() => (*city).to_owned(),
                _ => HIDDEN.to_owned(),
            }
        }
    }
}

/// `1990-04-17` → `1990-**-**`: the year of an ISO date, or nothing.
pub fn mask_dob(dob: &str) -> String {
    let dob = dob.trim();
    let year = dob
        .get(..4)
        .filter(|y| y.bytes().all(|b| b.is_ascii_digit()));
    match year {
        Some(year) if dob.len() == 10 => format!("{year}-**-**"),
        _ => HIDDEN.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(mask: impl Fn(&str) -> String, cases: &[(&str, &str)]) {
        for (input, expect) in cases {
            assert_eq!(mask(input), *expect, "input {input:?}");
        }
    }

    #[test]
    fn emails() {
        check(
            mask_email,
            &[
                ("jane.doe@gmail.com", "j***@g***.com"),
                ("j@example.co.uk", "j***@e***.uk"),
                ("Ünal@posteo.de", "Ü***@p***.de"),
                ("root@localhost", "r***@l***"),
                ("no-at-sign", "***"),
                ("@gmail.com", "***"),
                ("jane@", "***"),
                ("", "***"),
            ],
        );
    }

    #[test]
    fn phones() {
        let keep = |n| move |p: &str| mask_phone(p, n);
        check(
            keep(2),
            &[
                ("+1 (415) 555-0123", "***23"),
                ("12345", "***"),
                ("", "***"),
            ],
        );
        check(
            keep(4),
            &[("+1 (415) 555-0123", "***0123"), ("1234567", "***")],
        );
        check(keep(9), &[("+1 (415) 555-0123", "***0123")]);
        check(keep(0), &[("+1 (415) 555-0123", "***23")]);
    }

    #[test]
    fn national_ids() {
        check(
            mask_national_id,
            &[
                ("123-45-6789", "***-**-6789"),
                ("AB 12 34 56 C", "***-**-456C"),
                ("12345", "***-**-****"),
                ("", "***-**-****"),
            ],
        );
    }

    #[test]
    fn bank_accounts() {
        check(
            mask_bank_account,
            &[
                ("DE89 3704 0044 0532 0130 00", "****3000"),
                ("000123456789", "****6789"),
                ("12345678", "****"),
                ("", "****"),
            ],
        );
    }

    #[test]
    fn names() {
        check(
            mask_name,
            &[
                ("Jane van Doe", "J. V. D."),
                ("  émile   zola ", "É. Z."),
                ("Madonna", "M."),
                ("   ", "***"),
            ],
        );
    }

    #[test]
    fn addresses() {
        let city = |a: &str| mask_address(a, AddressMask::CityOnly);
        check(
            city,
            &[
                ("1 Main St, Springfield, USA", "Springfield"),
                ("Flat 2, 10 Downing St, London, UK", "London"),
                ("Springfield, USA", "***"),
                ("1 Main St, , USA", "***"),
                ("", "***"),
            ],
        );
        check(
            |a| mask_address(a, AddressMask::Hidden),
            &[("1 Main St, Springfield, USA", "***")],
        );
    }

    #[test]
    fn dates_of_birth() {
        check(
            mask_dob,
            &[
                ("1990-04-17", "1990-**-**"),
                ("17/04/1990", "***"),
                ("1990", "***"),
            ],
        );
    }

    #[test]
    fn every_class_has_a_default_that_hides_the_value() {
        let samples = [
            (FieldClass::Name, "Jane Doe"),
            (FieldClass::Email, "jane.doe@gmail.com"),
            (FieldClass::Phone, "+14155550123"),
            (FieldClass::Address, "1 Main St, Springfield, USA"),
            (FieldClass::Dob, "1990-04-17"),
            (FieldClass::IdDocument, "P1234567"),
            (FieldClass::NationalId, "123-45-6789"),
            (FieldClass::BankAccount, "000123456789"),
        ];
        for (field, value) in samples {
            let masked = mask_field(field, value);
            assert_ne!(masked, value, "{field}");
            let middle = &value[value.len() / 4..value.len() * 3 / 4];
            assert!(!masked.contains(middle), "{field}: {masked}");
        }
    }
}
