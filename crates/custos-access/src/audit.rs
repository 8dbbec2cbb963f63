//! Audit records: what the caller appends to the tamper-evident audit log
//! for every grant, step-up and access decision, refusals included.
//!
//! **Invariant:** no PII and no secret. A record names agents, grants,
//! tickets, field classes, outcomes and reason codes; the customer appears
//! only as the vault's keyed commitment (hex), which crypto-erasure makes
//! unlinkable. Purposes (free text an agent typed) and codes never appear.

use custos_core::event::FieldClass;
use custos_core::id::{AgentId, CustomerId, TicketId};
use custos_core::time::EventTime;
use custos_vault::Vault;
use serde::Serialize;

use crate::ids::{GrantId, to_hex};

/// One audit log entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditRecord {
    /// `grant_requested`, `grant_approved`, `grant_rejected`,
    /// `grant_revoked`, `grant_refused`, `step_up_enrolled`,
    /// `step_up_verified`, `step_up_unenrolled`, `step_up_refused`,
    /// `access_decision`.
    pub kind: &'static str,
    pub ts: EventTime,
    /// Who acted.
    pub actor: AgentId,
    /// `ok`, `refused`, `served` or `denied`.
    pub outcome: &'static str,
    /// The refusal's code (see `GrantError::code`, `StepUpError::code`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The operation refused (`approve`, `verify`, ...), for refusals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant: Option<GrantId>,
    /// The agent the action concerns when not the actor (a grant's requester).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<AgentId>,
    /// The vault's commitment of the customer (64 hex), never the id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketId>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldClass>,
    /// Kind-specific facts, no PII.
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub detail: serde_json::Value,
}

impl AuditRecord {
    pub(crate) fn new(
        kind: &'static str,
        ts: EventTime,
        actor: &AgentId,
        outcome: &'static str,
    ) -> AuditRecord {
        AuditRecord {
            kind,
            ts,
            actor: actor.clone(),
            outcome,
            code: None,
            operation: None,
            grant: None,
            subject: None,
            customer_ref: None,
            ticket: None,
            fields: Vec::new(),
            detail: serde_json::Value::Null,
        }
    }

    /// A refusal of `operation` by `actor` with `code`.
    pub fn refused(
        kind: &'static str,
        operation: &'static str,
        actor: &AgentId,
        code: &str,
        ts: EventTime,
    ) -> AuditRecord {
        let mut record = AuditRecord::new(kind, ts, actor, "refused");
        record.operation = Some(operation);
        record.code = Some(code.to_owned());
        record
    }

    /// The record as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        // INVARIANT: every field serialises (strings, ids, finite numbers).
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The record as one line of JSON.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The vault's commitment of `customer` as hex; `None` when the vault does
/// not know the customer (or erased them), so nothing links the record.
pub(crate) fn customer_ref(vault: &Vault, customer: &CustomerId) -> Option<String> {
    vault.commitment(customer).ok().map(|c| to_hex(&c))
}
