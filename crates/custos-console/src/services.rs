//! The custos services the console calls in process: the access broker,
//! the reveal-grant workflow and TOTP step-up of `custos-access`, the
//! tamper-evident audit log of `custos-audit`, and the action-risk engine's
//! live protection state. The binary builds them once and hands the same
//! handles to the HTTP API and the console.

use crate::error::ConsoleError;
use custos_access::{AccessService, Approvals, AuditRecord, StepUps};
use custos_audit::{AuditEntry, AuditLog};
use serde_json::Value;
use std::sync::{Arc, Mutex, MutexGuard};

/// What the console may call besides the store. Every field is optional:
/// a page whose service is missing says so.
#[derive(Clone, Default)]
pub struct ConsoleServices {
    /// The grant workflow: the approvals inbox lists and decides with it,
    /// so its rules (no self-approval, approving roles, the approver's
    /// fresh step-up) apply to the console as to the API.
    pub approvals: Option<Arc<Approvals>>,
    /// TOTP step-up of agents: an approver proves presence with the code
    /// of their custos step-up authenticator before deciding.
    pub step_ups: Option<Arc<StepUps>>,
    /// The audit log: the console appends its grant decisions and reads
    /// entries, checkpoints and inclusion proofs.
    pub audit: Option<Arc<Mutex<AuditLog>>>,
    /// The access broker: the customer page's "View customer data" asks it
    /// for fields as the signed-in user's linked agent, and shows only what
    /// it serves (masked or revealed, with the watermark). Its
    /// `agent_access` event goes to the store, its record to `audit`.
    pub access: Option<Arc<AccessService>>,
    /// The action-risk engine the pipeline feeds: the customer page reads
    /// the live protection (freeze, settings lock, revoked keys, allow-list,
    /// marks) from it; without it the page derives protection from alerts.
    pub risk: Option<custos_risk::RiskHandle>,
}

impl std::fmt::Debug for ConsoleServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleServices")
            .field("approvals", &self.approvals.is_some())
            .field("step_ups", &self.step_ups.is_some())
            .field("audit", &self.audit.is_some())
            .field("access", &self.access.is_some())
            .field("risk", &self.risk.is_some())
            .finish()
    }
}

/// Locks the audit log; a poisoned lock still guards a usable log (each
/// append is one transaction).
pub(crate) fn lock_log(log: &Mutex<AuditLog>) -> MutexGuard<'_, AuditLog> {
    log.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Appends a `custos-access` audit record to the audit log, as the HTTP
/// API does (same entry shape). Without a log there is nothing to do.
pub(crate) fn append_audit(
    services: &ConsoleServices,
    record: &AuditRecord,
) -> Result<Option<u64>, ConsoleError> {
    let Some(log) = &services.audit else {
        return Ok(None);
    };
    let details = serde_json::to_value(record)
        .map_err(|e| ConsoleError::Service(format!("audit record: {e}")))?;
    let entry = AuditEntry {
        kind: record.kind.to_owned(),
        ts: record.ts.to_string(),
        actor: record.actor.as_str().to_owned(),
        subject_commitment: record.customer_ref.clone().unwrap_or_default(),
        details: strip_floats(details),
    };
    let mut log = lock_log(log);
    let index = log.size();
    log.append(&[entry])
        .map_err(|e| ConsoleError::Service(format!("audit log: {e}")))?;
    Ok(Some(index))
}

/// Canonical JSON in the audit log has no floats: numbers other than
/// integers become strings (as the HTTP API writes them).
fn strip_floats(value: Value) -> Value {
    match value {
        Value::Number(n) if !(n.is_u64() || n.is_i64()) => Value::String(n.to_string()),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_floats).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, strip_floats(v))).collect())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::strip_floats;
    use serde_json::json;

    #[test]
    fn floats_become_strings_and_integers_stay() {
        let value = json!({"a": 1, "b": 0.5, "c": [2, 1.25], "d": {"e": -3}});
        assert_eq!(
            strip_floats(value),
            json!({"a": 1, "b": "0.5", "c": [2, "1.25"], "d": {"e": -3}})
        );
    }
}
