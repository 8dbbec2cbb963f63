//! Random sequences of puts, reads, erasures and rotations against a plain
//! map: the vault must answer exactly what the model says, on each backend.

use std::collections::BTreeMap;

use custos_core::id::CustomerId;
use custos_vault::{FieldClass, KekId, VaultError};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::suite::ring;
use crate::support::{Backend, TestResult};

#[derive(Clone, Debug)]
pub enum Op {
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

fn fail(error: &dyn std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(error.to_string())
}

/// Runs `ops` on a fresh vault over `backend` and checks every answer.
fn check(backend: &dyn Backend, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let vault = backend
        .open_with_cache(ring("k0", &[]).map_err(|e| fail(&e))?, 2)
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
                    prop_assert!(
                        matches!(result, Err(VaultError::Erased { .. })),
                        "{:?}",
                        result
                    );
                } else {
                    prop_assert!(result.is_ok(), "{result:?}");
                    model.known.insert(c, false);
                    model.fields.insert((c, field), value);
                }
            }
            Op::Get(c, field) => {
                let got = vault
                    .get_field(&ids[c], field)
                    .map(|v| v.expose().to_owned());
                let expect = match (model.known.get(&c), model.fields.get(&(c, field))) {
                    (None, _) => Err(VaultError::UnknownCustomer {
                        customer: ids[c].to_string(),
                    }),
                    (Some(true), _) => Err(VaultError::Erased {
                        customer: ids[c].to_string(),
                    }),
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
                    prop_assert!(
                        matches!(result, Err(VaultError::UnknownCustomer { .. })),
                        "{:?}",
                        result
                    );
                }
            }
            Op::Rotate => {
                // New active key, rewrap, retire the old one.
                let old = format!("k{generation}");
                generation += 1;
                let new = format!("k{generation}");
                let ring = ring(&new, &[&old]).map_err(|e| fail(&e))?;
                vault.replace_key_ring(ring).map_err(|e| fail(&e))?;
                vault.rewrap_all(2).map_err(|e| fail(&e))?;
                let old = KekId::parse(&old).map_err(|e| fail(&e))?;
                vault.retire_kek(&old).map_err(|e| fail(&e))?;
            }
        }
    }
    Ok(())
}

/// 24 random sequences, each on a fresh database from `fresh_backend`.
pub fn the_vault_behaves_like_a_map_with_tombstones(
    fresh_backend: &dyn Fn() -> Result<Box<dyn Backend>, String>,
) -> TestResult {
    let mut runner = TestRunner::new(Config::with_cases(24));
    runner.run(&proptest::collection::vec(op(), 1..40), |ops| {
        let backend = fresh_backend().map_err(|e| fail(&e))?;
        check(backend.as_ref(), ops)
    })?;
    Ok(())
}
