//! The conformance suite: every case runs against SQLite and PostgreSQL
//! (see the `conformance!` list in `integration.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use custos_core::id::CustomerId;
use custos_vault::format::{sealed_field_dek_id, wrapped_key_header};
use custos_vault::{FieldClass, KekId, KeyRing, SecretKey, Vault, VaultError};

use crate::support::{Backend, Fallible, TestResult};

pub fn customer(id: &str) -> Fallible<CustomerId> {
    Ok(CustomerId::parse(id)?)
}

/// A ring whose keys are derived from their ids, so reopening with the same
/// ids gives the same keys.
pub fn ring(active: &str, others: &[&str]) -> Result<KeyRing, VaultError> {
    let key = |id: &str| SecretKey::from_bytes([id.bytes().fold(7, u8::wrapping_add); 32]);
    let mut ring = KeyRing::new(
        KekId::parse(active)?,
        key(active),
        SecretKey::from_bytes([0xcc; 32]),
    );
    for id in others {
        ring.insert(KekId::parse(id)?, key(id))?;
    }
    Ok(ring)
}

pub const JANE: &[(FieldClass, &str)] = &[
    (FieldClass::Name, "Jane Doe"),
    (FieldClass::Email, "jane.doe@example.com"),
    (FieldClass::NationalId, "123-45-6789"),
    (FieldClass::BankAccount, "DE89 3704 0044 0532 0130 00"),
];

pub fn fields_round_trip_behind_a_stable_opaque_token(backend: &dyn Backend) -> TestResult {
    let vault = backend.open(ring("k1", &[])?)?;
    assert_eq!(vault.backend(), backend.name());
    let jane = customer("cus-1")?;
    let token = vault.put_customer(&jane, JANE)?;
    assert!(token.starts_with("tok_") && token.len() == 36, "{token}");
    assert!(!token.contains("cus-1"));
    for (field, value) in JANE {
        assert_eq!(vault.get_field(&jane, *field)?.expose(), *value);
    }
    let again = vault.put_customer(&jane, &[(FieldClass::Email, "jane@new.example")])?;
    assert_eq!(again, token, "one token per customer");
    assert_eq!(
        vault.get_field(&jane, FieldClass::Email)?.expose(),
        "jane@new.example"
    );
    assert_eq!(
        vault.get_field(&jane, FieldClass::Name)?.expose(),
        "Jane Doe"
    );
    assert_eq!(vault.customer_of_token(&token)?, jane);
    assert_eq!(vault.token(&jane)?, token);

    let other = vault.put_customer(&customer("cus-2")?, &[(FieldClass::Email, "x@y.z")])?;
    assert_ne!(other, token);
    assert_eq!(
        vault
            .get_field(&customer("cus-2")?, FieldClass::Phone)
            .err(),
        Some(VaultError::FieldNotStored {
            customer: "cus-2".to_owned(),
            field: "phone"
        })
    );
    assert_eq!(
        vault
            .get_field(&customer("nobody")?, FieldClass::Phone)
            .err(),
        Some(VaultError::UnknownCustomer {
            customer: "nobody".to_owned()
        })
    );
    let twice = vault.put_customer(
        &jane,
        &[
            (FieldClass::Dob, "1990-01-01"),
            (FieldClass::Dob, "1990-01-02"),
        ],
    );
    assert!(matches!(twice, Err(VaultError::Invalid(_))));
    assert!(
        vault
            .customer_of_token("tok_00000000000000000000000000000000")
            .is_err()
    );

    let several = vault.get_fields(
        &jane,
        &[FieldClass::BankAccount, FieldClass::Phone, FieldClass::Name],
    )?;
    let several: Vec<_> = several
        .iter()
        .map(|(field, value)| {
            (
                *field,
                value
                    .as_ref()
                    .map(|v| v.expose().to_owned())
                    .map_err(Clone::clone),
            )
        })
        .collect();
    assert_eq!(
        several,
        vec![
            (
                FieldClass::BankAccount,
                Ok("DE89 3704 0044 0532 0130 00".to_owned())
            ),
            (
                FieldClass::Phone,
                Err(VaultError::FieldNotStored {
                    customer: "cus-1".to_owned(),
                    field: "phone"
                })
            ),
            (FieldClass::Name, Ok("Jane Doe".to_owned())),
        ]
    );
    assert!(matches!(
        vault.get_fields(&customer("nobody")?, &[FieldClass::Name]),
        Err(VaultError::UnknownCustomer { .. })
    ));

    // The rows are format v1 on every backend: the wrapped key names its
    // key-encryption key and data key, every sealed field the same data key.
    let wrapped = backend.wrapped("cus-1")?.ok_or("no wrapped key")?;
    let header = wrapped_key_header(&wrapped)?;
    assert_eq!(header.kek_id, "k1");
    assert_eq!(wrapped.len(), 6 + 2 + 16 + 12 + 48);
    for (field, _) in JANE {
        let sealed = backend.sealed("cus-1", field.as_str())?;
        assert_eq!(&sealed[..5], b"CV\x01\x01\x01");
        assert_eq!(sealed_field_dek_id(&sealed)?, header.dek_id);
    }

    drop(vault);
    let reopened = backend.open(ring("k1", &[])?)?;
    assert_eq!(
        reopened.get_field(&jane, FieldClass::NationalId)?.expose(),
        "123-45-6789"
    );
    assert_eq!(reopened.token(&jane)?, token);
    Ok(())
}

pub fn the_store_holds_no_plaintext_and_nothing_prints_it(backend: &dyn Backend) -> TestResult {
    let vault = backend.open(ring("k1", &[])?)?;
    let jane = customer("cus-1")?;
    let token = vault.put_customer(&jane, JANE)?;
    let value = vault.get_field(&jane, FieldClass::Email)?;
    assert!(!format!("{value:?} {vault:?}").contains("jane"));
    let stored = backend.stored_bytes()?;
    // What was read is really the vault's data: the token and the wrapped
    // key are in it.
    let wrapped = backend.wrapped("cus-1")?.ok_or("no wrapped key")?;
    assert!(stored.windows(token.len()).any(|w| w == token.as_bytes()));
    assert!(
        stored
            .windows(wrapped.len())
            .any(|w| w == wrapped.as_slice())
    );
    for (_, value) in JANE {
        assert!(
            !stored.windows(value.len()).any(|w| w == value.as_bytes()),
            "{value} stored in clear"
        );
    }
    Ok(())
}

pub fn erasure_makes_fields_and_commitment_unrecoverable(backend: &dyn Backend) -> TestResult {
    let vault = backend.open(ring("k1", &[])?)?;
    let (jane, john) = (customer("cus-1")?, customer("cus-2")?);
    let token = vault.put_customer(&jane, JANE)?;
    vault.put_customer(&john, &[(FieldClass::Name, "John Roe")])?;
    let commitment = vault.commitment(&jane)?;
    assert_eq!(vault.commitment(&jane)?, commitment, "stable");
    assert_ne!(vault.commitment(&john)?, commitment);
    vault.get_field(&jane, FieldClass::Name)?; // the data key is now cached
    let wrapped = backend.wrapped("cus-1")?.ok_or("no wrapped key")?;
    assert!(
        backend
            .stored_bytes()?
            .windows(wrapped.len())
            .any(|w| w == wrapped.as_slice()),
        "the wrapped key is found before erasure"
    );

    vault.delete_customer_key(&jane)?;

    let erased = Some(VaultError::Erased {
        customer: "cus-1".to_owned(),
    });
    for (field, _) in JANE {
        assert_eq!(vault.get_field(&jane, *field).err(), erased);
    }
    assert_eq!(vault.commitment(&jane).err(), erased);
    assert_eq!(vault.token(&jane).err(), erased);
    assert_eq!(vault.get_fields(&jane, &[FieldClass::Name]).err(), erased);
    assert!(matches!(
        vault.customer_of_token(&token),
        Err(VaultError::Invalid(_))
    ));
    assert_eq!(
        vault.put_customer(&jane, JANE).err(),
        erased,
        "erasure is final"
    );
    vault.delete_customer_key(&jane)?; // idempotent
    assert_eq!(
        vault.get_field(&john, FieldClass::Name)?.expose(),
        "John Roe"
    );
    assert!(matches!(
        vault.delete_customer_key(&customer("nobody")?),
        Err(VaultError::UnknownCustomer { .. })
    ));

    // The wrapped key row is gone (SQLite: from the file itself, thanks to
    // secure_delete and a checkpoint; PostgreSQL: from every live row).
    assert_eq!(backend.wrapped("cus-1")?, None);
    let stored = backend.stored_bytes()?;
    assert!(
        !stored
            .windows(wrapped.len())
            .any(|w| w == wrapped.as_slice())
    );
    assert_eq!(backend.field_rows("cus-1")?, 0);
    assert!(backend.field_rows("cus-2")? > 0);
    // A fresh vault (no cache) over the same rows agrees.
    drop(vault);
    let reopened = backend.open(ring("k1", &[])?)?;
    assert_eq!(reopened.get_field(&jane, FieldClass::Name).err(), erased);
    Ok(())
}

fn count_by_kek(vault: &Vault, kek: &str) -> Result<u64, VaultError> {
    Ok(vault.kek_usage()?.get(kek).copied().unwrap_or(0))
}

pub fn rotation_rewraps_in_batches_while_reads_go_on(backend: &dyn Backend) -> TestResult {
    let vault = Arc::new(backend.open_with_cache(ring("k1", &[])?, 0)?);
    let ids: Vec<CustomerId> = (0..30)
        .map(|i| customer(&format!("cus-{i:02}")))
        .collect::<Result<_, _>>()?;
    for id in &ids[..20] {
        vault.put_customer(id, &[(FieldClass::Email, &format!("{id}@example.com"))])?;
    }
    let before = vault.commitment(&ids[0])?;

    // Step 1: a ring with a new active key; new customers are wrapped under it.
    vault.replace_key_ring(ring("k2", &["k1"])?)?;
    for id in &ids[20..] {
        vault.put_customer(id, &[(FieldClass::Email, &format!("{id}@example.com"))])?;
    }
    assert_eq!(count_by_kek(&vault, "k1")?, 20);
    assert_eq!(count_by_kek(&vault, "k2")?, 10);
    assert!(matches!(
        vault.retire_kek(&KekId::parse("k1")?),
        Err(VaultError::KekInUse { wrapped: 20, .. })
    ));
    assert!(matches!(
        vault.replace_key_ring(ring("k2", &[])?),
        Err(VaultError::KekInUse { .. })
    ));

    // Mid-rotation: one batch done, rows under both keys, all readable.
    assert_eq!(vault.rewrap_batch(8)?, 8);
    assert_eq!(count_by_kek(&vault, "k1")?, 12);
    assert_eq!(count_by_kek(&vault, "k2")?, 18);
    for id in &ids {
        assert_eq!(
            vault.get_field(id, FieldClass::Email)?.expose(),
            format!("{id}@example.com")
        );
    }
    // The header of a re-wrapped row names the new key.
    let rewrapped = backend.wrapped("cus-00")?.ok_or("no wrapped key")?;
    assert_eq!(wrapped_key_header(&rewrapped)?.kek_id, "k2");

    // Step 2: the rest, with a reader hammering the vault meanwhile.
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (vault, stop, ids) = (Arc::clone(&vault), Arc::clone(&stop), ids.clone());
        std::thread::spawn(move || {
            let mut reads = 0_u64;
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) || reads < 100 {
                let id = &ids[usize::try_from(reads % 30).unwrap_or(0)];
                match vault.get_field(id, FieldClass::Email) {
                    Ok(value) if value.expose() == format!("{id}@example.com") => {}
                    other => failures.push(format!("{id}: {other:?}")),
                }
                reads += 1;
            }
            (reads, failures)
        })
    };
    let report = vault.rewrap_all(5)?;
    stop.store(true, Ordering::Relaxed);
    let (reads, failures) = reader.join().map_err(|_| "reader thread panicked")?;
    assert!(failures.is_empty(), "{failures:?}");
    assert!(reads >= 100);
    assert_eq!(report.rewrapped, 12);
    assert_eq!(report.batches, 3);
    assert_eq!(
        vault.kek_usage()?.into_iter().collect::<Vec<_>>(),
        vec![("k2".to_owned(), 30)]
    );

    // Step 3: the old key leaves the ring; everything still reads.
    vault.retire_kek(&KekId::parse("k1")?)?;
    for id in &ids {
        assert_eq!(
            vault.get_field(id, FieldClass::Email)?.expose(),
            format!("{id}@example.com")
        );
    }
    assert_eq!(
        vault.commitment(&ids[0])?,
        before,
        "rotation keeps commitments"
    );
    assert_eq!(vault.rewrap_all(5)?.rewrapped, 0);
    // A vault opened with the new ring alone reads every row.
    let fresh = backend.open(ring("k2", &[])?)?;
    assert_eq!(
        fresh.get_field(&ids[3], FieldClass::Email)?.expose(),
        "cus-03@example.com"
    );
    Ok(())
}

pub fn tampered_moved_and_unkeyed_rows_are_refused(backend: &dyn Backend) -> TestResult {
    let (jane, john) = (customer("cus-1")?, customer("cus-2")?);
    {
        let vault = backend.open(ring("k1", &[])?)?;
        vault.put_customer(&jane, JANE)?;
        vault.put_customer(
            &john,
            &[
                (FieldClass::Email, "john@example.com"),
                (FieldClass::Name, "John"),
            ],
        )?;
    }
    // A flipped ciphertext byte.
    let mut email = backend.sealed("cus-1", "email")?;
    let last = email.len() - 1;
    email[last] ^= 1;
    backend.set_sealed("cus-1", "email", &email)?;
    // Jane's bank account copied into her name (another field).
    backend.set_sealed("cus-1", "name", &backend.sealed("cus-1", "bank_account")?)?;
    // John's email copied into Jane's national id (another customer).
    backend.set_sealed("cus-1", "national_id", &backend.sealed("cus-2", "email")?)?;
    let vault = backend.open(ring("k1", &[])?)?;
    let tampered =
        |result: Result<_, VaultError>| result.err().filter(VaultError::is_integrity_failure);
    assert_eq!(
        tampered(vault.get_field(&jane, FieldClass::Email)),
        Some(VaultError::Tampered {
            what: "sealed field"
        })
    );
    assert_eq!(
        tampered(vault.get_field(&jane, FieldClass::Name)),
        Some(VaultError::Tampered {
            what: "sealed field"
        })
    );
    assert_eq!(
        tampered(vault.get_field(&jane, FieldClass::NationalId)),
        Some(VaultError::DataKeyMismatch {
            customer: "cus-1".to_owned(),
            field: "national_id"
        })
    );
    assert_eq!(
        vault.get_field(&jane, FieldClass::BankAccount)?.expose(),
        "DE89 3704 0044 0532 0130 00"
    );
    let several = vault.get_fields(&jane, &[FieldClass::Email, FieldClass::BankAccount])?;
    assert!(matches!(
        several[0].1,
        Err(VaultError::Tampered {
            what: "sealed field"
        })
    ));
    assert!(several[1].1.is_ok());

    // A flipped byte in the encrypted data key of John's wrapped key.
    let john_wrapped = backend.wrapped("cus-2")?.ok_or("no wrapped key")?;
    let mut flipped = john_wrapped.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x80;
    backend.set_wrapped("cus-2", &flipped)?;
    let fresh = backend.open_with_cache(ring("k1", &[])?, 0)?;
    assert_eq!(
        tampered(fresh.get_field(&john, FieldClass::Email)),
        Some(VaultError::Tampered {
            what: "wrapped key"
        })
    );
    // The salt is not sealed: the commitment does not need the data key.
    assert_eq!(fresh.commitment(&john)?, vault.commitment(&john)?);
    backend.set_wrapped("cus-2", &john_wrapped)?;

    // John's wrapped data key copied onto Jane's row.
    backend.set_wrapped("cus-1", &john_wrapped)?;
    vault.get_field(&john, FieldClass::Email)?; // John's key cached: must not be handed to Jane
    assert_eq!(
        tampered(vault.get_field(&jane, FieldClass::BankAccount)),
        Some(VaultError::Tampered {
            what: "wrapped key"
        })
    );
    drop(vault);

    // A ring without the key that wraps the data keys.
    let vault = backend.open(ring("k9", &[])?)?;
    let error = vault.get_field(&john, FieldClass::Email).err();
    assert_eq!(
        error,
        Some(VaultError::UnknownKek {
            kek_id: "k1".to_owned()
        })
    );
    assert!(
        !error
            .map(|e| e.to_string())
            .unwrap_or_default()
            .contains("john")
    );
    Ok(())
}

/// Many threads putting and reading at once through one shared vault: the
/// same customer created concurrently ends with one token, every value
/// reads back.
pub fn concurrent_puts_and_reads_agree(backend: &dyn Backend) -> TestResult {
    let vault = Arc::new(backend.open(ring("k1", &[])?)?);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let vault = Arc::clone(&vault);
            std::thread::spawn(move || -> Result<Vec<String>, String> {
                let mut tokens = Vec::new();
                for i in 0..10 {
                    let shared = customer("cus-shared").map_err(|e| e.to_string())?;
                    let own = customer(&format!("cus-{t}-{i}")).map_err(|e| e.to_string())?;
                    let value = format!("t{t}-{i}@example.com");
                    tokens.push(
                        vault
                            .put_customer(&shared, &[(FieldClass::Phone, "+49 30 1234567")])
                            .map_err(|e| e.to_string())?,
                    );
                    vault
                        .put_customer(&own, &[(FieldClass::Email, &value)])
                        .map_err(|e| e.to_string())?;
                    let read = vault
                        .get_field(&own, FieldClass::Email)
                        .map_err(|e| e.to_string())?;
                    if read.expose() != value {
                        return Err(format!("cus-{t}-{i} read back another value"));
                    }
                }
                Ok(tokens)
            })
        })
        .collect();
    let mut tokens = Vec::new();
    for thread in threads {
        tokens.extend(thread.join().map_err(|_| "writer thread panicked")??);
    }
    assert_eq!(tokens.len(), 40);
    assert!(
        tokens.iter().all(|token| *token == tokens[0]),
        "one token for the shared customer"
    );
    assert_eq!(vault.kek_usage()?.get("k1").copied(), Some(41));
    Ok(())
}
