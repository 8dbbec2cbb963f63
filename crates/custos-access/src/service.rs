//! One access request, end to end: gather the facts, let the broker decide,
//! read the vault, spend the grant, render the values, and hand back the
//! `agent_access` event and the audit record that make it evidence.
//!
//! **Invariant:** fail closed. A fact, grant or step-up that cannot be read
//! denies every field; a budget that cannot be spent masks the reveal; a
//! vault read that fails hides the field. Nothing is revealed on an error
//! path, and no reason, event or audit record carries a field value.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use custos_broker::render::{render, vault_class};
use custos_broker::{
    AccessRequest, Broker, Decision, Facts, FieldDecision, Obligation, Outcome, Reason,
};
use custos_core::alert::ResponseAction;
use custos_core::event::{AccessAction, AgentAccess, Event, EventBody, FieldClass};
use custos_core::id::EventId;
use custos_core::parse::to_json_line;
use custos_core::time::EventTime;
use custos_vault::{Vault, VaultError};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::audit::{AuditRecord, customer_ref};
use crate::error::{AccessError, GrantError};
use crate::facts::FactsSource;
use crate::grants::spend;
use crate::ids::{GrantId, random_hex};
use crate::reload::BrokerHandle;
use crate::store::{GrantRecord, GrantStore, StepUpStore};

/// Where a request came from, copied into the `agent_access` event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    pub ip: Option<String>,
    pub device_id: Option<String>,
}

/// A value shown on screen: PII. Zeroized on drop; `Debug` prints nothing of
/// it; serialises as the plain string for the response body.
#[derive(Clone, PartialEq, Eq)]
pub struct ShownValue(Zeroizing<String>);

impl ShownValue {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ShownValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShownValue(<redacted>)")
    }
}

impl Serialize for ShownValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// What the screen shows of one field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldValue {
    pub field: FieldClass,
    pub outcome: Outcome,
    /// The rendered value: masked or revealed. `None` when hidden, and for
    /// classes the vault does not hold (`balance`, `transactions`,
    /// `api_keys`, `security_settings`): the caller serves those from the
    /// account systems according to `outcome`.
    pub value: Option<ShownValue>,
}

/// The served decision of one request.
#[derive(Clone, Debug, Serialize)]
pub struct AccessOutcome {
    /// The id of this decision and of its `agent_access` event (`acc-…`).
    pub id: String,
    /// The broker's decision as served: fields downgraded here (vault
    /// failure, budget refused) say so in their reasons.
    pub decision: Decision,
    /// One entry per decided field, in decision order.
    pub values: Vec<FieldValue>,
    /// The screen watermark of a revealed view.
    pub watermark: Option<String>,
    /// The grant spent, and what is left of it.
    pub grant: Option<GrantId>,
    pub reveals_left: Option<u32>,
    /// The `agent_access` event, one line of contract-v1 JSON, for the event
    /// store (so the behaviour detectors see it).
    #[serde(skip)]
    pub event: String,
    /// The record for the audit log (no PII).
    #[serde(skip)]
    pub audit: AuditRecord,
    /// For the operator's log when the request failed closed on an error:
    /// the error text (ids, no values). Never for the agent.
    #[serde(skip)]
    pub internal_error: Option<String>,
}

/// Serves access requests. Share it with an `Arc`; every call blocks.
pub struct AccessService {
    broker: Arc<BrokerHandle>,
    vault: Arc<Vault>,
    facts: Arc<dyn FactsSource>,
    grants: Arc<dyn GrantStore>,
    step_ups: Arc<dyn StepUpStore>,
    id_prefix: String,
    counter: AtomicU64,
}

impl std::fmt::Debug for AccessService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessService")
            .field("broker", &self.broker)
            .field("id_prefix", &self.id_prefix)
            .finish_non_exhaustive()
    }
}

/// A request that cannot be decided: the reason shown, the error logged.
struct FailClosed {
    reason: Reason,
    detail: String,
}

impl AccessService {
    /// The service over the broker handle, the vault, the caller's facts and
    /// the grant and step-up stores (usually one `SqliteAccessStore` or
    /// `PostgresAccessStore` passed twice).
    pub fn new(
        broker: Arc<BrokerHandle>,
        vault: Arc<Vault>,
        facts: Arc<dyn FactsSource>,
        grants: Arc<dyn GrantStore>,
        step_ups: Arc<dyn StepUpStore>,
    ) -> Result<AccessService, AccessError> {
        // A random prefix per process keeps ids unique across restarts
        // without a uuid per request.
        let id_prefix = random_hex(8)
            .map_err(|_| AccessError::Internal("no randomness for decision ids".into()))?;
        Ok(AccessService {
            broker,
            vault,
            facts,
            grants,
            step_ups,
            id_prefix,
            counter: AtomicU64::new(0),
        })
    }

    /// The broker handle (to reload policies).
    pub fn broker(&self) -> &BrokerHandle {
        &self.broker
    }

    /// Decides and serves `req` at `now` with no origin information.
    pub fn access(
        &self,
        req: &AccessRequest,
        now: EventTime,
    ) -> Result<AccessOutcome, AccessError> {
        self.access_from(req, &Origin::default(), now)
    }

    /// Decides and serves `req` at `now`; `origin` goes into the event.
    pub fn access_from(
        &self,
        req: &AccessRequest,
        origin: &Origin,
        now: EventTime,
    ) -> Result<AccessOutcome, AccessError> {
        let id = format!(
            "acc-{}-{}",
            self.id_prefix,
            self.counter.fetch_add(1, Ordering::Relaxed) + 1
        );
        let broker = self.broker.current();
        let mut internal_error = None;
        let (mut decision, grant, facts) = match self.gather(req, now) {
            Ok((facts, grant)) => (broker.decide(req, &facts), grant, Some(facts)),
            Err(failure) => {
                internal_error = Some(failure.detail);
                (deny_all(&req.fields, failure.reason), None, None)
            }
        };
        let under_approval = facts
            .as_ref()
            .is_some_and(|f| f.countermeasures.contains(&ResponseAction::RequireApproval));
        let served = self.serve(
            req,
            &broker,
            &mut decision,
            grant.as_ref(),
            under_approval,
            now,
        );
        let (values, spent, reveals_left) = match served {
            Ok(served) => served,
            Err(failure) => {
                internal_error = Some(failure.detail);
                decision = deny_all(&req.fields, failure.reason);
                (hidden_values(&decision), 0, None)
            }
        };
        decision.denied = decision.fields.iter().all(|d| d.outcome == Outcome::Hidden);
        if decision.denied && decision.reasons.is_empty() {
            decision
                .reasons
                .push(Reason::new("denied", "no requested field may be shown"));
        }
        let watermark = decision
            .fields
            .iter()
            .filter(|d| d.outcome == Outcome::Revealed)
            .flat_map(|d| &d.obligations)
            .find_map(|o| match o {
                Obligation::Watermark { token } => Some(token.clone()),
                _ => None,
            });
        let spent_grant = (spent > 0)
            .then(|| grant.as_ref().map(|g| g.id.clone()))
            .flatten();
        let event = self.event(&id, req, origin, &decision, now)?;
        let audit = self.audit(
            &id,
            req,
            &decision,
            spent_grant.as_ref(),
            spent,
            reveals_left,
            watermark.as_deref(),
            now,
        );
        Ok(AccessOutcome {
            id,
            decision,
            values,
            watermark,
            grant: spent_grant,
            reveals_left,
            event,
            audit,
            internal_error,
        })
    }

    /// The broker's facts plus the grant they name.
    fn gather(
        &self,
        req: &AccessRequest,
        now: EventTime,
    ) -> Result<(Facts, Option<GrantRecord>), FailClosed> {
        let facts_failed = |error: crate::error::FactsError| FailClosed {
            reason: Reason::new(
                "facts_unavailable",
                "the directory or countermeasures could not be read",
            ),
            detail: error.to_string(),
        };
        let agent = self.facts.agent(&req.agent).map_err(facts_failed)?;
        let ticket = match &req.ticket {
            Some(ticket) => self.facts.ticket(ticket).map_err(facts_failed)?,
            None => None,
        };
        let live_contact = self
            .facts
            .live_contact(&req.agent, &req.customer, now)
            .map_err(facts_failed)?;
        let countermeasures = self
            .facts
            .countermeasures(&req.agent)
            .map_err(facts_failed)?;
        let store_failed = |error: crate::error::AccessStoreError| FailClosed {
            reason: Reason::new(
                "access_store_unavailable",
                "grants or step-ups could not be read",
            ),
            detail: error.to_string(),
        };
        // Grants matter to reveals, and to every access of an agent under
        // require_approval; a plain view skips the lookup.
        let needs_grant = req.action == AccessAction::Reveal
            || countermeasures.contains(&ResponseAction::RequireApproval);
        let grant = match (&req.ticket, needs_grant) {
            (Some(ticket), true) => {
                let active = self
                    .grants
                    .active_grants(&req.agent, &req.customer, ticket, now)
                    .map_err(store_failed)?;
                choose_grant(active, req)
            }
            _ => None,
        };
        let step_up_at = if req.action == AccessAction::Reveal {
            self.step_ups.step_up_at(&req.agent).map_err(store_failed)?
        } else {
            None
        };
        let facts = Facts {
            now,
            agent,
            ticket,
            live_contact,
            countermeasures,
            grant: grant.as_ref().and_then(GrantRecord::to_broker_grant),
            step_up_at,
        };
        Ok((facts, grant))
    }

    /// Reads the vault, spends the budget, renders. Returns the values,
    /// the reveals spent and what is left of the grant.
    fn serve(
        &self,
        req: &AccessRequest,
        broker: &Broker,
        decision: &mut Decision,
        grant: Option<&GrantRecord>,
        under_approval: bool,
        now: EventTime,
    ) -> Result<(Vec<FieldValue>, u32, Option<u32>), FailClosed> {
        // 1. Vault first: a customer the vault cannot read spends nothing.
        let wanted: Vec<custos_vault::FieldClass> = decision
            .fields
            .iter()
            .filter(|d| d.outcome != Outcome::Hidden)
            .filter_map(|d| vault_class(d.field))
            .collect();
        let mut plain: Vec<(FieldClass, custos_vault::Plaintext)> = Vec::new();
        if !wanted.is_empty() {
            match self.vault.get_fields(&req.customer, &wanted) {
                Ok(results) => {
                    for (class, result) in results {
                        let Some(field) = FieldClass::parse(class.as_str()) else {
                            continue;
                        };
                        match result {
                            Ok(value) => plain.push((field, value)),
                            Err(error) => hide_field(decision, field, vault_reason(&error)),
                        }
                    }
                }
                Err(error) => {
                    let reason = vault_reason(&error);
                    for d in decision.fields.iter_mut() {
                        if d.outcome != Outcome::Hidden && vault_class(d.field).is_some() {
                            hide(d, reason.clone());
                        }
                    }
                }
            }
        }
        // 2. Spend one reveal per revealed field that needed the grant, all
        // or nothing, before anything is rendered.
        let needs_grant = |field: FieldClass| broker.is_sensitive(field) || under_approval;
        let to_spend: Vec<FieldClass> = decision
            .fields
            .iter()
            .filter(|d| d.outcome == Outcome::Revealed && needs_grant(d.field))
            .map(|d| d.field)
            .collect();
        let mut spent = 0;
        let mut reveals_left = None;
        if !to_spend.is_empty() {
            let count = u32::try_from(to_spend.len()).unwrap_or(u32::MAX);
            let result = match grant {
                Some(grant) => spend(self.grants.as_ref(), &grant.id, count, now),
                // INVARIANT: the broker reveals a field needing a grant only
                // with one; without it, refuse rather than trust.
                None => Err(GrantError::Invalid("no grant".into())),
            };
            match result {
                Ok(left) => {
                    spent = count;
                    reveals_left = Some(left);
                }
                Err(GrantError::Store(error)) => {
                    return Err(FailClosed {
                        reason: Reason::new(
                            "access_store_unavailable",
                            "the grant's budget could not be spent",
                        ),
                        detail: error.to_string(),
                    });
                }
                Err(error) => {
                    let reason = Reason::new(
                        match error {
                            GrantError::Expired { .. } => "grant_expired",
                            GrantError::BudgetExhausted { .. } => "grant_budget_exhausted",
                            _ => "grant_not_usable",
                        },
                        "the grant no longer covers this reveal",
                    );
                    for d in decision.fields.iter_mut() {
                        if to_spend.contains(&d.field) {
                            mask(d, reason.clone());
                        }
                    }
                }
            }
        }
        // 3. Render what the decision now says.
        let values = decision
            .fields
            .iter()
            .map(|d| {
                let value = plain
                    .iter()
                    .find(|(field, _)| *field == d.field)
                    .and_then(|(_, text)| render(d.field, d.outcome, text.expose()))
                    .map(|text| ShownValue(Zeroizing::new(text)));
                FieldValue {
                    field: d.field,
                    outcome: d.outcome,
                    value,
                }
            })
            .collect();
        Ok((values, spent, reveals_left))
    }

    fn event(
        &self,
        id: &str,
        req: &AccessRequest,
        origin: &Origin,
        decision: &Decision,
        now: EventTime,
    ) -> Result<String, AccessError> {
        let shown: Vec<FieldClass> = decision
            .fields
            .iter()
            .filter(|d| d.outcome != Outcome::Hidden)
            .map(|d| d.field)
            .collect();
        let revealed = decision
            .fields
            .iter()
            .any(|d| d.outcome == Outcome::Revealed);
        let action = match req.action {
            _ if revealed => AccessAction::Reveal,
            AccessAction::Search | AccessAction::Export => req.action,
            AccessAction::View | AccessAction::Reveal => AccessAction::View,
        };
        let event = Event {
            id: EventId::parse(id).map_err(|e| AccessError::Internal(format!("event id: {e}")))?,
            ts: now,
            body: EventBody::AgentAccess(AgentAccess {
                agent_id: req.agent.clone(),
                customer_id: Some(req.customer.clone()),
                ticket_id: req.ticket.clone(),
                action,
                fields: shown,
                query: None,
                ip: origin.ip.clone(),
                device_id: origin.device_id.clone(),
            }),
        };
        let line = to_json_line(&event);
        // Extension fields (the contract keeps unknown fields): what was
        // asked, and whether it was refused outright.
        let extension = serde_json::to_string(&serde_json::json!({
            "requested_action": req.action,
            "requested_fields": req.fields,
            "denied": decision.denied,
        }))
        .map_err(|e| AccessError::Internal(format!("event extension: {e}")))?;
        match (line.strip_suffix('}'), extension.strip_prefix('{')) {
            (Some(head), Some(tail)) => Ok(format!("{head},{tail}")),
            _ => Err(AccessError::Internal(
                "cannot serialise the access event".into(),
            )),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn audit(
        &self,
        id: &str,
        req: &AccessRequest,
        decision: &Decision,
        grant: Option<&GrantId>,
        spent: u32,
        reveals_left: Option<u32>,
        watermark: Option<&str>,
        now: EventTime,
    ) -> AuditRecord {
        let outcome = if decision.denied { "denied" } else { "served" };
        let mut record = AuditRecord::new("access_decision", now, &req.agent, outcome);
        record.grant = grant.cloned();
        record.customer_ref = customer_ref(&self.vault, &req.customer);
        record.ticket = req.ticket.clone();
        record.fields = req.fields.clone();
        let fields: Vec<serde_json::Value> = decision
            .fields
            .iter()
            .map(|d| {
                serde_json::json!({
                    "field": d.field,
                    "outcome": d.outcome,
                    "obligations": d.obligations.iter().map(Obligation::kind).collect::<Vec<_>>(),
                    "reasons": d.reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
                })
            })
            .collect();
        record.detail = serde_json::json!({
            "decision_id": id,
            "action": req.action,
            "decisions": fields,
            "reasons": decision.reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
            "reveals_spent": spent,
            "reveals_left": reveals_left,
            "watermark": watermark,
        });
        record
    }
}

/// The grant to use among the active ones: same purpose, covering the most
/// requested fields, then the most budget left.
fn choose_grant(active: Vec<GrantRecord>, req: &AccessRequest) -> Option<GrantRecord> {
    let purpose = req.purpose.trim();
    active
        .into_iter()
        .filter(|g| g.purpose == purpose)
        .max_by_key(|g| {
            let covered = req.fields.iter().filter(|f| g.fields.contains(f)).count();
            (covered, g.reveals_remaining)
        })
}

fn deny_all(requested: &[FieldClass], reason: Reason) -> Decision {
    let mut fields: Vec<FieldClass> = Vec::with_capacity(requested.len());
    for &field in requested {
        if !fields.contains(&field) {
            fields.push(field);
        }
    }
    Decision {
        fields: fields
            .into_iter()
            .map(|field| FieldDecision {
                field,
                outcome: Outcome::Hidden,
                obligations: Vec::new(),
                reasons: vec![reason.clone()],
            })
            .collect(),
        denied: true,
        reasons: vec![reason],
    }
}

fn hidden_values(decision: &Decision) -> Vec<FieldValue> {
    decision
        .fields
        .iter()
        .map(|d| FieldValue {
            field: d.field,
            outcome: Outcome::Hidden,
            value: None,
        })
        .collect()
}

fn hide_field(decision: &mut Decision, field: FieldClass, reason: Reason) {
    if let Some(d) = decision.fields.iter_mut().find(|d| d.field == field) {
        hide(d, reason);
    }
}

fn hide(d: &mut FieldDecision, reason: Reason) {
    d.outcome = Outcome::Hidden;
    d.obligations
        .retain(|o| !matches!(o, Obligation::Watermark { .. }));
    d.reasons.push(reason);
}

fn mask(d: &mut FieldDecision, reason: Reason) {
    d.outcome = Outcome::Masked;
    d.obligations
        .retain(|o| !matches!(o, Obligation::Watermark { .. }));
    if !d.obligations.contains(&Obligation::ApprovalNeeded) {
        d.obligations.push(Obligation::ApprovalNeeded);
    }
    d.reasons.push(reason);
}

/// A vault failure as a reason: a code and a sentence, never the error
/// text (it names the customer).
fn vault_reason(error: &VaultError) -> Reason {
    let (code, detail) = match error {
        VaultError::UnknownCustomer { .. } => (
            "vault_unknown_customer",
            "the vault holds no record of this customer",
        ),
        VaultError::Erased { .. } => ("vault_erased", "the customer's data was erased"),
        VaultError::FieldNotStored { .. } => (
            "vault_field_not_stored",
            "the vault holds no value for this field",
        ),
        VaultError::Unavailable(_) => ("vault_unavailable", "the vault cannot be read now"),
        error if error.is_integrity_failure() => (
            "vault_integrity",
            "the stored value failed its integrity check",
        ),
        _ => ("vault_error", "the vault could not read this field"),
    };
    Reason::new(code, detail)
}
