//! The golden file of format v1 and the tamper tests: fixed test keys and
//! nonces must give exactly the committed bytes, the committed bytes must
//! decode, and any single changed byte must be rejected.
//!
//! Regenerate the golden file only when introducing a NEW format version
//! (and keep the old file and its test): `CUSTOS_VAULT_BLESS=1 cargo test -p
//! custos-vault golden`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use proptest::prelude::*;

use crate::error::VaultError;
use crate::field::FieldClass;
use crate::format::{
    DEK_ID_LEN, DataKey, DekId, SALT_LEN, commitment, open_field, seal_field,
    seal_field_with_nonce, unwrap_key, wrap_key_with_nonce, wrapped_key_header,
};
use crate::keyring::{KekId, KeyRing};
use crate::secret::{KEY_LEN, SecretKey, to_hex};

const KEK_ID: &str = "golden-kek-1";
const CUSTOMER: &str = "cus-golden-1";
const FIELD: FieldClass = FieldClass::Email;
const PLAINTEXT: &str = "jane.doe@example.com";

fn counting<const N: usize>(start: u8) -> [u8; N] {
    let mut bytes = [0; N];
    for (byte, value) in bytes.iter_mut().zip(start..) {
        *byte = value;
    }
    bytes
}

fn kek() -> SecretKey {
    SecretKey::from_bytes(counting(0x00))
}
fn dek_id() -> DekId {
    DekId(counting(0xa0))
}
fn dek() -> DataKey {
    DataKey::from_parts(dek_id(), SecretKey::from_bytes(counting(0x20)))
}
fn wrap_nonce() -> [u8; 12] {
    counting(0xb0)
}
fn field_nonce() -> [u8; 12] {
    counting(0xc0)
}
fn commitment_key() -> SecretKey {
    SecretKey::from_bytes(counting(0x40))
}
fn salt() -> [u8; SALT_LEN] {
    counting(0x60)
}

fn ring() -> Result<KeyRing, VaultError> {
    Ok(KeyRing::new(KekId::parse(KEK_ID)?, kek(), commitment_key()))
}

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/vault-v1.golden")
}

/// Everything the golden file states, produced from the fixed inputs.
fn produce() -> Result<Vec<(&'static str, String)>, VaultError> {
    let dek = dek();
    let wrapped =
        wrap_key_with_nonce(&KekId::parse(KEK_ID)?, &kek(), CUSTOMER, &dek, wrap_nonce())?;
    let sealed = seal_field_with_nonce(&dek, CUSTOMER, FIELD, PLAINTEXT, field_nonce())?;
    let commitment = commitment(&commitment_key(), &salt(), CUSTOMER)?;
    Ok(vec![
        ("kek_id", KEK_ID.to_owned()),
        ("kek", to_hex(kek().expose())),
        ("dek_id", to_hex(dek_id().as_bytes())),
        ("dek", to_hex(&counting::<KEY_LEN>(0x20))),
        ("customer", CUSTOMER.to_owned()),
        ("field", FIELD.as_str().to_owned()),
        ("plaintext", PLAINTEXT.to_owned()),
        ("wrap_nonce", to_hex(&wrap_nonce())),
        ("field_nonce", to_hex(&field_nonce())),
        ("commitment_key", to_hex(commitment_key().expose())),
        ("salt", to_hex(&salt())),
        ("wrapped_key", to_hex(&wrapped)),
        ("sealed_field", to_hex(&sealed)),
        ("commitment", to_hex(&commitment)),
    ])
}

fn render(entries: &[(&str, String)]) -> String {
    let mut text = String::from(
        "# custos-vault on-disk format v1, pinned. Test-only keys and nonces: never use\n\
         # them anywhere else. Layouts: crates/custos-vault/src/format.rs and README.md.\n\
         # Regenerate only for a new format version (CUSTOS_VAULT_BLESS=1).\n",
    );
    for (name, value) in entries {
        text.push_str(&format!("{name} = {value}\n"));
    }
    text
}

fn parse(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| line.split_once(" = "))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

fn from_hex(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .filter_map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

fn golden() -> Result<BTreeMap<String, String>, VaultError> {
    let path = golden_path();
    if std::env::var_os("CUSTOS_VAULT_BLESS").is_some() {
        std::fs::write(&path, render(&produce()?))
            .map_err(|e| VaultError::Internal(format!("cannot write golden file: {e}")))?;
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| VaultError::Internal(format!("cannot read `{}`: {e}", path.display())))?;
    Ok(parse(&text))
}

#[test]
fn golden_file_decodes_with_the_fixed_keys() -> Result<(), VaultError> {
    let golden = golden()?;
    let get = |name: &str| golden.get(name).cloned().unwrap_or_default();
    assert_eq!(get("customer"), CUSTOMER);
    let wrapped = from_hex(&get("wrapped_key"));
    let header = wrapped_key_header(&wrapped)?;
    assert_eq!(header.kek_id, KEK_ID);
    assert_eq!(header.dek_id, dek_id());
    let unwrapped = unwrap_key(&ring()?, CUSTOMER, &wrapped)?;
    assert_eq!(unwrapped.id(), dek_id());
    let sealed = from_hex(&get("sealed_field"));
    let opened = open_field(&unwrapped, CUSTOMER, FIELD, &sealed)?;
    assert_eq!(opened.expose(), PLAINTEXT);
    assert_eq!(
        get("commitment"),
        to_hex(&commitment(&commitment_key(), &salt(), CUSTOMER)?)
    );
    Ok(())
}

#[test]
fn golden_file_is_what_the_encoder_writes() -> Result<(), VaultError> {
    let golden = golden()?;
    for (name, value) in produce()? {
        assert_eq!(
            golden.get(name),
            Some(&value),
            "golden `{name}` differs from the encoder"
        );
    }
    assert_eq!(
        golden.len(),
        produce()?.len(),
        "golden file has unexpected entries"
    );
    Ok(())
}

fn flips(bytes: &[u8]) -> impl Iterator<Item = (usize, u8, Vec<u8>)> + '_ {
    (0..bytes.len()).flat_map(move |index| {
        [0x01_u8, 0x80, 0xff].into_iter().map(move |mask| {
            let mut changed = bytes.to_vec();
            changed[index] ^= mask;
            (index, mask, changed)
        })
    })
}

#[test]
fn every_single_byte_change_of_a_sealed_field_is_detected() -> Result<(), VaultError> {
    let dek = dek();
    let sealed = seal_field_with_nonce(&dek, CUSTOMER, FIELD, PLAINTEXT, field_nonce())?;
    for (index, mask, changed) in flips(&sealed) {
        let error = open_field(&dek, CUSTOMER, FIELD, &changed).err();
        let expected = match index {
            0 | 1 | 3 | 4 => matches!(error, Some(VaultError::Malformed { .. })),
            2 => matches!(error, Some(VaultError::UnsupportedVersion { .. })),
            _ => matches!(
                error,
                Some(VaultError::Tampered {
                    what: "sealed field"
                })
            ),
        };
        assert!(expected, "byte {index} ^ {mask:#04x}: {error:?}");
    }
    Ok(())
}

#[test]
fn every_single_byte_change_of_a_wrapped_key_is_detected() -> Result<(), VaultError> {
    let ring = ring()?;
    let wrapped = wrap_key_with_nonce(
        &KekId::parse(KEK_ID)?,
        &kek(),
        CUSTOMER,
        &dek(),
        wrap_nonce(),
    )?;
    let kek_id_bytes = 6..6 + KEK_ID.len();
    for (index, mask, changed) in flips(&wrapped) {
        let error = unwrap_key(&ring, CUSTOMER, &changed).err();
        let expected = match index {
            0 | 1 | 3 | 4 | 5 => matches!(error, Some(VaultError::Malformed { .. })),
            2 => matches!(error, Some(VaultError::UnsupportedVersion { .. })),
            i if kek_id_bytes.contains(&i) => matches!(
                error,
                Some(VaultError::UnknownKek { .. } | VaultError::Malformed { .. })
            ),
            _ => matches!(
                error,
                Some(VaultError::Tampered {
                    what: "wrapped key"
                })
            ),
        };
        assert!(expected, "byte {index} ^ {mask:#04x}: {error:?}");
    }
    Ok(())
}

#[test]
fn truncated_and_extended_objects_are_rejected() -> Result<(), VaultError> {
    let dek = dek();
    let sealed = seal_field_with_nonce(&dek, CUSTOMER, FIELD, PLAINTEXT, field_nonce())?;
    let wrapped =
        wrap_key_with_nonce(&KekId::parse(KEK_ID)?, &kek(), CUSTOMER, &dek, wrap_nonce())?;
    for cut in 0..sealed.len() {
        assert!(
            open_field(&dek, CUSTOMER, FIELD, &sealed[..cut]).is_err(),
            "cut at {cut}"
        );
    }
    for cut in 0..wrapped.len() {
        assert!(
            unwrap_key(&ring()?, CUSTOMER, &wrapped[..cut]).is_err(),
            "cut at {cut}"
        );
    }
    let mut longer = sealed.clone();
    longer.push(0);
    assert!(open_field(&dek, CUSTOMER, FIELD, &longer).is_err());
    let mut longer = wrapped.clone();
    longer.push(0);
    assert!(unwrap_key(&ring()?, CUSTOMER, &longer).is_err());
    Ok(())
}

#[test]
fn a_missing_kek_is_named_in_the_error() -> Result<(), VaultError> {
    let wrapped = wrap_key_with_nonce(
        &KekId::parse(KEK_ID)?,
        &kek(),
        CUSTOMER,
        &dek(),
        wrap_nonce(),
    )?;
    let other = KeyRing::new(KekId::parse("other")?, kek(), commitment_key());
    let error = unwrap_key(&other, CUSTOMER, &wrapped).err();
    assert_eq!(
        error,
        Some(VaultError::UnknownKek {
            kek_id: KEK_ID.to_owned()
        })
    );
    assert_eq!(
        error.map(|e| e.to_string()),
        Some("key-encryption key `golden-kek-1` is not in the key ring".to_owned())
    );
    Ok(())
}

fn any_field() -> impl Strategy<Value = FieldClass> {
    proptest::sample::select(FieldClass::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn seal_then_open_round_trips(
        value in any::<String>(),
        customer in "[a-z0-9-]{1,40}",
        field in any_field(),
    ) {
        let dek = DataKey::generate().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let sealed = seal_field(&dek, &customer, field, &value)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let opened = open_field(&dek, &customer, field, &sealed)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(opened.expose(), value.as_str());
    }

    #[test]
    fn any_single_byte_change_is_rejected(
        value in any::<String>(),
        field in any_field(),
        position in any::<prop::sample::Index>(),
        mask in 1_u8..=255,
    ) {
        let dek = DataKey::from_parts(DekId([7; DEK_ID_LEN]), SecretKey::from_bytes([9; KEY_LEN]));
        let mut sealed = seal_field(&dek, "c-1", field, &value)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let index = position.index(sealed.len());
        sealed[index] ^= mask;
        let result = open_field(&dek, "c-1", field, &sealed);
        prop_assert!(result.as_ref().is_err_and(VaultError::is_integrity_failure), "{result:?}");
    }
}
