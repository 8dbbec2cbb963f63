//! The one integration test binary of custos-vault: the conformance suite
//! (`integration/suite.rs`, `integration/model.rs`) against SQLite and
//! PostgreSQL, and what only PostgreSQL has (`integration/postgres_only.rs`).
//!
//! PostgreSQL cases need `CUSTOS_TEST_DATABASE_URL` (for example
//! `postgres://postgres@127.0.0.1:5432/test`); without it each prints
//! `skipped: CUSTOS_TEST_DATABASE_URL is not set` and passes. Each uses a
//! fresh schema with a random name and drops it at the end.

#[path = "integration/model.rs"]
mod model;
#[path = "integration/postgres_only.rs"]
mod postgres_only;
#[path = "integration/suite.rs"]
mod suite;
#[path = "integration/support.rs"]
mod support;

use custos_vault::{KeyRing, VaultError};

/// One `#[test]` per suite case and backend: `sqlite::case`, `postgres::case`.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $case() -> crate::support::TestResult {
                    crate::suite::$case(&crate::support::SqliteBackend::new()?)
                }
            )*

            #[test]
            fn the_vault_behaves_like_a_map_with_tombstones() -> crate::support::TestResult {
                crate::model::the_vault_behaves_like_a_map_with_tombstones(&|| {
                    let backend = crate::support::SqliteBackend::new().map_err(|e| e.to_string())?;
                    Ok(Box::new(backend))
                })
            }
        }
        mod postgres {
            $(
                #[test]
                fn $case() -> crate::support::TestResult {
                    let Some(backend) = crate::support::PostgresBackend::new()? else {
                        return Ok(());
                    };
                    crate::suite::$case(&backend)
                }
            )*

            #[test]
            fn the_vault_behaves_like_a_map_with_tombstones() -> crate::support::TestResult {
                if crate::support::postgres_url().is_none() {
                    return Ok(());
                }
                crate::model::the_vault_behaves_like_a_map_with_tombstones(&|| {
                    match crate::support::PostgresBackend::new().map_err(|e| e.to_string())? {
                        Some(backend) => Ok(Box::new(backend)),
                        None => Err("the test database url went away".to_owned()),
                    }
                })
            }
        }
    };
}

conformance!(
    fields_round_trip_behind_a_stable_opaque_token,
    the_store_holds_no_plaintext_and_nothing_prints_it,
    erasure_makes_fields_and_commitment_unrecoverable,
    rotation_rewraps_in_batches_while_reads_go_on,
    tampered_moved_and_unkeyed_rows_are_refused,
    concurrent_puts_and_reads_agree,
);

#[test]
fn key_ring_loads_from_the_environment_format() -> support::TestResult {
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
