//! Table-driven policy tests: a JSON array of cases, each a request, the
//! facts and the expected decision (for `custos policy test CASES`).

use crate::broker::Broker;
use crate::error::BrokerError;
use crate::types::{AccessRequest, Facts, Outcome};
use custos_core::event::FieldClass;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    request: AccessRequest,
    facts: Facts,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[serde(default)]
    denied: Option<bool>,
    #[serde(default)]
    fields: BTreeMap<FieldClass, ExpectField>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectField {
    outcome: Outcome,
    /// The exact set of obligation kinds, when given.
    #[serde(default)]
    obligations: Option<Vec<String>>,
    /// Reason codes that must all appear.
    #[serde(default)]
    reasons: Vec<String>,
}

/// A case whose decision differs from what it expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseFailure {
    pub case: String,
    pub message: String,
}

impl Broker {
    /// Runs every case of `cases_json` and returns those that failed; an
    /// empty vector means all passed. A malformed file is an error.
    pub fn run_cases(&self, cases_json: &str) -> Result<Vec<CaseFailure>, BrokerError> {
        let cases: Vec<Case> =
            serde_json::from_str(cases_json).map_err(|e| BrokerError::Cases {
                message: e.to_string(),
            })?;
        if cases.is_empty() {
            return Err(BrokerError::Cases {
                message: "no case".to_owned(),
            });
        }
        let mut failures = Vec::new();
        for case in &cases {
            let decision = self.decide(&case.request, &case.facts);
            let mut fail = |message: String| {
                failures.push(CaseFailure {
                    case: case.name.clone(),
                    message,
                })
            };
            if let Some(denied) = case.expect.denied
                && decision.denied != denied
            {
                fail(format!(
                    "expected denied = {denied}, got {}",
                    decision.denied
                ));
            }
            for (field, expect) in &case.expect.fields {
                let Some(got) = decision.field(*field) else {
                    fail(format!("no decision for `{field}`"));
                    continue;
                };
                if got.outcome != expect.outcome {
                    let codes: Vec<&str> = got.reasons.iter().map(|r| r.code.as_str()).collect();
                    fail(format!(
                        "`{field}`: expected {:?}, got {:?} (reasons: {})",
                        expect.outcome,
                        got.outcome,
                        codes.join(", ")
                    ));
                }
                if let Some(kinds) = &expect.obligations {
                    let mut want: Vec<&str> = kinds.iter().map(String::as_str).collect();
                    let mut have: Vec<&str> = got.obligations.iter().map(|o| o.kind()).collect();
                    want.sort_unstable();
                    have.sort_unstable();
                    if want != have {
                        fail(format!(
                            "`{field}`: expected obligations {want:?}, got {have:?}"
                        ));
                    }
                }
                for code in &expect.reasons {
                    if !got.reasons.iter().any(|r| &r.code == code) {
                        fail(format!("`{field}`: expected reason `{code}`"));
                    }
                }
            }
        }
        Ok(failures)
    }
}
