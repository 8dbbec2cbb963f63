//! The vault end to end on real SQLite files: isolation, tokens, erasure,
//! rotation while reading, and tampering with the stored bytes.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use custos_core::id::CustomerId;
use custos_vault::{FieldClass, KekId, KeyRing, SecretKey, VAULT_FILE_NAME, Vault, VaultError};
use rusqlite::{Connection, params};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn customer(id: &str) -> Result<CustomerId, Box<dyn std::error::Error>> {
    Ok(CustomerId::parse(id)?)
}

fn ring(active: &str, others: &[&str]) -> Result<KeyRing, VaultError> {
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

fn raw(dir: &Path) -> Result<Connection, rusqlite::Error> {
    Connection::open(dir.join(VAULT_FILE_NAME))
}

const JANE: &[(FieldClass, &str)] = &[
    (FieldClass::Name, "Jane Doe"),
    (FieldClass::Email, "jane.doe@example.com"),
    (FieldClass::NationalId, "123-45-6789"),
    (FieldClass::BankAccount, "DE89 3704 0044 0532 0130 00"),
];

#[test]
fn fields_round_trip_behind_a_stable_opaque_token() -> TestResult {
    let dir = tempfile::tempdir()?;
    let vault = Vault::open(dir.path(), ring("k1", &[])?)?;
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

    drop(vault);
    let reopened = Vault::open(dir.path(), ring("k1", &[])?)?;
    assert_eq!(
        reopened.get_field(&jane, FieldClass::NationalId)?.expose(),
        "123-45-6789"
    );
    Ok(())
}

#[test]
fn the_vault_file_holds_no_plaintext_and_nothing_prints_it() -> TestResult {
    let dir = tempfile::tempdir()?;
    let vault = Vault::open(dir.path(), ring("k1", &[])?)?;
    let jane = customer("cus-1")?;
    vault.put_customer(&jane, JANE)?;
    let value = vault.get_field(&jane, FieldClass::Email)?;
    assert!(!format!("{value:?} {vault:?}").contains("jane"));
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(dir.path())? {
        stored.extend(std::fs::read(entry?.path())?);
    }
    assert!(stored.len() > 1000, "the vault file and its WAL were read");
    for (_, value) in JANE {
        assert!(
            !stored.windows(value.len()).any(|w| w == value.as_bytes()),
            "{value} stored in clear"
        );
    }
    Ok(())
}

#[test]
fn erasure_makes_fields_and_commitment_unrecoverable() -> TestResult {
    let dir = tempfile::tempdir()?;
    let vault = Vault::open(dir.path(), ring("k1", &[])?)?;
    let (jane, john) = (customer("cus-1")?, customer("cus-2")?);
    let token = vault.put_customer(&jane, JANE)?;
    vault.put_customer(&john, &[(FieldClass::Name, "John Roe")])?;
    let commitment = vault.commitment(&jane)?;
    assert_eq!(vault.commitment(&jane)?, commitment, "stable");
    assert_ne!(vault.commitment(&john)?, commitment);
    vault.get_field(&jane, FieldClass::Name)?; // the data key is now cached
    let wrapped: Vec<u8> = raw(dir.path())?.query_row(
        "SELECT wrapped_dek FROM customers WHERE customer_id = 'cus-1'",
        [],
        |row| row.get(0),
    )?;

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

    // The wrapped key is gone from the file, not just unlinked
    // (secure_delete, then a checkpoint folds the WAL in).
    let connection = raw(dir.path())?;
    connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let file = std::fs::read(dir.path().join(VAULT_FILE_NAME))?;
    assert!(!file.windows(wrapped.len()).any(|w| w == wrapped.as_slice()));
    let left: i64 = connection.query_row(
        "SELECT COUNT(*) FROM fields WHERE customer_id = 'cus-1'",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(left, 0);
    Ok(())
}

fn count_by_kek(vault: &Vault, kek: &str) -> Result<u64, VaultError> {
    Ok(vault.kek_usage()?.get(kek).copied().unwrap_or(0))
}

#[test]
fn rotation_rewraps_in_batches_while_reads_go_on() -> TestResult {
    let dir = tempfile::tempdir()?;
    let vault = Arc::new(Vault::open_with_cache(dir.path(), ring("k1", &[])?, 0)?);
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
    Ok(())
}

#[test]
fn tampered_moved_and_unkeyed_rows_are_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (jane, john) = (customer("cus-1")?, customer("cus-2")?);
    {
        let vault = Vault::open(dir.path(), ring("k1", &[])?)?;
        vault.put_customer(&jane, JANE)?;
        vault.put_customer(
            &john,
            &[
                (FieldClass::Email, "john@example.com"),
                (FieldClass::Name, "John"),
            ],
        )?;
    }
    let connection = raw(dir.path())?;
    let sealed = |who: &str, field: &str| -> Result<Vec<u8>, rusqlite::Error> {
        connection.query_row(
            "SELECT sealed FROM fields WHERE customer_id = ?1 AND field = ?2",
            params![who, field],
            |row| row.get(0),
        )
    };
    let set = |who: &str, field: &str, bytes: &[u8]| {
        connection.execute(
            "UPDATE fields SET sealed = ?3 WHERE customer_id = ?1 AND field = ?2",
            params![who, field, bytes],
        )
    };
    // A flipped ciphertext byte.
    let mut email = sealed("cus-1", "email")?;
    let last = email.len() - 1;
    email[last] ^= 1;
    set("cus-1", "email", &email)?;
    // Jane's bank account copied into her name (another field).
    set("cus-1", "name", &sealed("cus-1", "bank_account")?)?;
    // John's email copied into Jane's national id (another customer).
    set("cus-1", "national_id", &sealed("cus-2", "email")?)?;
    // John's wrapped data key copied onto Jane's row.
    let vault = Vault::open(dir.path(), ring("k1", &[])?)?;
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
    connection.execute(
        "UPDATE customers SET wrapped_dek = (SELECT wrapped_dek FROM customers WHERE customer_id = 'cus-2')
         WHERE customer_id = 'cus-1'",
        [],
    )?;
    vault.get_field(&john, FieldClass::Email)?; // John's key cached: must not be handed to Jane
    assert_eq!(
        tampered(vault.get_field(&jane, FieldClass::BankAccount)),
        Some(VaultError::Tampered {
            what: "wrapped key"
        })
    );
    drop(vault);

    // A ring without the key that wraps the data keys.
    let vault = Vault::open(dir.path(), ring("k9", &[])?)?;
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

#[test]
fn key_ring_loads_from_the_environment_format() -> TestResult {
    let text = format!(
        "{{\"version\": 1, \"active\": \"k1\", \"keks\": {{\"k1\": \"{}\"}}, \"commitment_key\": \"{}\"}}",
        "11".repeat(32),
        "22".repeat(32)
    );
    let ring = KeyRing::from_json(&text)?;
    assert_eq!(ring.active().as_str(), "k1");
    let missing = KeyRing::from_env("CUSTOS_VAULT_TEST_SURELY_UNSET");
    assert!(matches!(missing, Err(VaultError::KeyRing(_))));
    Ok(())
}

mod model {
    //! Random sequences of puts, reads, erasures and rotations against a
    //! plain map: the vault must answer exactly what the model says.

    use std::collections::BTreeMap;

    use custos_core::id::CustomerId;
    use custos_vault::{FieldClass, Vault, VaultError};
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Put(usize, FieldClass, String),
        Get(usize, FieldClass),
        Erase(usize),
        Rotate,
    }

    fn op() -> impl Strategy<Value = Op> {
        let field = proptest::sample::select(FieldClass::ALL.to_vec());
        prop_oneof![
            4 => (0..4_usize, field.clone(), "\\PC{0,12}").prop_map(|(c, f, v)| Op::Put(c, f, v)),
            4 => (0..4_usize, field).prop_map(|(c, f)| Op::Get(c, f)),
            1 => (0..4_usize).prop_map(Op::Erase),
            1 => Just(Op::Rotate),
        ]
    }

    #[derive(Default)]
    struct Model {
        fields: BTreeMap<(usize, FieldClass), String>,
        known: BTreeMap<usize, bool>, // customer -> erased
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn the_vault_behaves_like_a_map_with_tombstones(ops in proptest::collection::vec(op(), 1..40)) {
            let fail = |e: &dyn std::fmt::Display| TestCaseError::fail(e.to_string());
            let dir = tempfile::tempdir().map_err(|e| fail(&e))?;
            let vault = Vault::open_with_cache(dir.path(), super::ring("k0", &[]).map_err(|e| fail(&e))?, 2)
                .map_err(|e| fail(&e))?;
            let ids: Vec<CustomerId> = (0..4)
                .map(|i| CustomerId::parse(format!("cus-{i}")))
                .collect::<Result<_, _>>()
                .map_err(|e| fail(&e))?;
            let mut model = Model::default();
            let mut generation = 0;
            for op in ops {
                match op {
                    Op::Put(c, field, value) => {
                        let result = vault.put_customer(&ids[c], &[(field, &value)]);
                        if model.known.get(&c) == Some(&true) {
                            prop_assert!(matches!(result, Err(VaultError::Erased { .. })), "{:?}", result);
                        } else {
                            prop_assert!(result.is_ok(), "{result:?}");
                            model.known.insert(c, false);
                            model.fields.insert((c, field), value);
                        }
                    }
                    Op::Get(c, field) => {
                        let got = vault.get_field(&ids[c], field).map(|v| v.expose().to_owned());
                        let expect = match (model.known.get(&c), model.fields.get(&(c, field))) {
                            (None, _) => Err(VaultError::UnknownCustomer { customer: ids[c].to_string() }),
                            (Some(true), _) => Err(VaultError::Erased { customer: ids[c].to_string() }),
                            (Some(false), None) => Err(VaultError::FieldNotStored {
                                customer: ids[c].to_string(),
                                field: field.as_str(),
                            }),
                            (Some(false), Some(value)) => Ok(value.clone()),
                        };
                        prop_assert_eq!(got, expect);
                    }
                    Op::Erase(c) => {
                        let result = vault.delete_customer_key(&ids[c]);
                        if let Some(erased) = model.known.get_mut(&c) {
                            prop_assert!(result.is_ok(), "{:?}", result);
                            *erased = true;
                            model.fields.retain(|(owner, _), _| *owner != c);
                        } else {
                            prop_assert!(matches!(result, Err(VaultError::UnknownCustomer { .. })), "{:?}", result);
                        }
                    }
                    Op::Rotate => {
                        // New active key, rewrap, retire the old one.
                        let old = format!("k{generation}");
                        generation += 1;
                        let new = format!("k{generation}");
                        let ring = super::ring(&new, &[&old]).map_err(|e| fail(&e))?;
                        vault.replace_key_ring(ring).map_err(|e| fail(&e))?;
                        vault.rewrap_all(2).map_err(|e| fail(&e))?;
                        let old = custos_vault::KekId::parse(&old).map_err(|e| fail(&e))?;
                        vault.retire_kek(&old).map_err(|e| fail(&e))?;
                    }
                }
            }
        }
    }
}
