//! The reveal-grant workflow: an agent asks to reveal sensitive fields of a
//! customer on a ticket for a purpose; a second person with an approving
//! role and a fresh step-up approves or rejects; approved grants expire,
//! carry a reveal budget spent atomically, and can be revoked.
//!
//! The rules live here, once; the stores only apply conditional changes.

use std::sync::Arc;

use custos_broker::{GrantStatus, STEP_UP_MAX_AGE};
use custos_core::alert::ResponseAction;
use custos_core::event::FieldClass;
use custos_core::id::{AgentId, CustomerId, TicketId};
use custos_core::time::{EventTime, Span};
use custos_vault::Vault;
use serde::Serialize;

use crate::audit::{AuditRecord, customer_ref};
use crate::error::GrantError;
use crate::facts::{FactsSource, lead_chain};
use crate::ids::{GrantId, agent_key, valid_reason_code};
use crate::store::{GrantRecord, GrantStore, StepUpStore, Transition, status_str};

/// Longest purpose accepted, in characters.
pub const MAX_PURPOSE_CHARS: usize = 500;

/// The rules of the workflow.
#[derive(Clone, Debug)]
pub struct GrantPolicy {
    /// Roles (directory `role`, compared case-insensitively) that may
    /// approve or reject.
    pub approver_roles: Vec<String>,
    /// Lifetime of an approved grant when the request names none.
    pub default_ttl: Span,
    /// The longest lifetime a request may ask for.
    pub max_ttl: Span,
    /// Reveals per grant when the request names none.
    pub default_budget: u32,
    pub max_budget: u32,
    /// Refuse approvers in the requester's lead chain (their lead, that
    /// lead's lead, ...), read with [`FactsSource::lead_of`].
    pub forbid_lead_chain: bool,
}

/// Countermeasures that bar an agent from approving: an approver the
/// behaviour analytics suspended, put under approval or asked to step up
/// again is not trusted to vouch for someone else.
pub const BARRING_COUNTERMEASURES: [ResponseAction; 3] = [
    ResponseAction::SuspendAccess,
    ResponseAction::RequireApproval,
    ResponseAction::StepUp,
];

impl Default for GrantPolicy {
    /// Leads, supervisors, security and admins approve, never in the
    /// requester's lead chain; 15 minutes (at most an hour); 3 reveals (at
    /// most 20).
    fn default() -> GrantPolicy {
        GrantPolicy {
            approver_roles: ["support_lead", "lead", "supervisor", "security", "admin"]
                .map(str::to_owned)
                .to_vec(),
            default_ttl: Span::from_minutes(15),
            max_ttl: Span::from_hours(1),
            default_budget: 3,
            max_budget: 20,
            forbid_lead_chain: true,
        }
    }
}

/// An agent's request to reveal fields.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevealRequest {
    pub requester: AgentId,
    pub customer: CustomerId,
    pub ticket: TicketId,
    pub fields: Vec<FieldClass>,
    pub purpose: String,
    /// Lifetime once approved, in seconds (default: the policy's).
    #[serde(default)]
    pub ttl_secs: Option<u32>,
    /// Reveals allowed (default: the policy's).
    #[serde(default)]
    pub reveal_budget: Option<u32>,
}

/// A directory agent the caller offers as a possible approver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApproverCandidate {
    pub agent: AgentId,
    /// The agent's directory role.
    pub role: String,
}

/// An agent who may approve a grant now, and whether they could do so at
/// once: approving also needs a step-up within [`STEP_UP_MAX_AGE`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EligibleApprover {
    pub agent: AgentId,
    pub role: String,
    /// Enrolled for TOTP step-up.
    pub enrolled: bool,
    /// Holds a step-up fresh enough to approve now.
    pub fresh_step_up: bool,
}

/// A state change and the record the caller appends to the audit log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GrantChange {
    pub grant: GrantRecord,
    pub audit: AuditRecord,
}

/// The workflow over a [`GrantStore`], checking approvers' step-ups in a
/// [`StepUpStore`] and naming customers in audit records by the vault's
/// commitment.
pub struct Approvals {
    grants: Arc<dyn GrantStore>,
    step_ups: Arc<dyn StepUpStore>,
    vault: Arc<Vault>,
    facts: Arc<dyn FactsSource>,
    policy: GrantPolicy,
}

impl std::fmt::Debug for Approvals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Approvals")
            .field("backend", &self.grants.backend())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Approvals {
    /// `facts` answers the approver's lead chain and countermeasures (the
    /// same source the access service reads).
    pub fn new(
        grants: Arc<dyn GrantStore>,
        step_ups: Arc<dyn StepUpStore>,
        vault: Arc<Vault>,
        facts: Arc<dyn FactsSource>,
        policy: GrantPolicy,
    ) -> Approvals {
        Approvals {
            grants,
            step_ups,
            vault,
            facts,
            policy,
        }
    }

    pub fn policy(&self) -> &GrantPolicy {
        &self.policy
    }

    /// Files a pending grant.
    pub fn request(&self, req: &RevealRequest, now: EventTime) -> Result<GrantChange, GrantError> {
        let mut fields = req.fields.clone();
        fields.sort();
        fields.dedup();
        if fields.is_empty() {
            return Err(GrantError::Invalid("no field named".into()));
        }
        let purpose = req.purpose.trim();
        if purpose.is_empty() {
            return Err(GrantError::Invalid("a purpose is required".into()));
        }
        if purpose.chars().count() > MAX_PURPOSE_CHARS || purpose.chars().any(char::is_control) {
            return Err(GrantError::Invalid(format!(
                "the purpose must be at most {MAX_PURPOSE_CHARS} characters without control characters"
            )));
        }
        let ttl = match req.ttl_secs {
            None => self.policy.default_ttl,
            Some(secs) => Span::from_secs(i64::from(secs)),
        };
        if ttl.as_micros() <= 0 || ttl > self.policy.max_ttl {
            return Err(GrantError::Invalid(format!(
                "the ttl must be between 1 and {} seconds",
                self.policy.max_ttl.as_micros() / 1_000_000
            )));
        }
        let budget = req.reveal_budget.unwrap_or(self.policy.default_budget);
        if budget == 0 || budget > self.policy.max_budget {
            return Err(GrantError::Invalid(format!(
                "the reveal budget must be between 1 and {}",
                self.policy.max_budget
            )));
        }
        let id = GrantId::generate().map_err(|_| {
            GrantError::Store(crate::error::AccessStoreError::Internal(
                "no randomness from the system for a grant id".into(),
            ))
        })?;
        let grant = GrantRecord {
            id,
            status: GrantStatus::Pending,
            requester: req.requester.clone(),
            customer: req.customer.clone(),
            ticket: req.ticket.clone(),
            fields,
            purpose: purpose.to_owned(),
            ttl,
            reveal_budget: budget,
            reveals_remaining: budget,
            requested_at: now,
            decided_by: None,
            decided_at: None,
            expires_at: None,
            revoked_by: None,
            revoked_at: None,
            reason: None,
        };
        self.grants.insert_grant(&grant)?;
        let audit = self.record("grant_requested", &grant.requester, &grant, now);
        Ok(GrantChange { grant, audit })
    }

    /// Approves a pending grant. `approver_role` is the approver's directory
    /// role, looked up by the caller. Refused, in this order, for the
    /// requester (any spelling of the id), a role not in
    /// [`GrantPolicy::approver_roles`], an approver in the requester's lead
    /// chain ([`GrantPolicy::forbid_lead_chain`]), one under a
    /// [`BARRING_COUNTERMEASURES`] countermeasure, or one without a step-up
    /// in the last [`STEP_UP_MAX_AGE`]. A directory that cannot be read
    /// refuses too ([`GrantError::Facts`]).
    pub fn approve(
        &self,
        id: &GrantId,
        approver: &AgentId,
        approver_role: &str,
        now: EventTime,
    ) -> Result<GrantChange, GrantError> {
        let grant = self.pending(id)?;
        self.check_decider(&grant, approver, approver_role)?;
        if self.policy.forbid_lead_chain {
            let approver_key = agent_key(approver.as_str());
            if lead_chain(self.facts.as_ref(), &grant.requester)?
                .iter()
                .any(|lead| agent_key(lead.as_str()) == approver_key)
            {
                return Err(GrantError::ApproverInLeadChain);
            }
        }
        if let Some(action) = barring_countermeasure(&self.facts.countermeasures(approver)?) {
            return Err(GrantError::ApproverUnderCountermeasure {
                action: action.as_str(),
            });
        }
        let fresh = self
            .step_ups
            .step_up_at(approver)?
            .is_some_and(|at| at <= now && now.since(at) <= STEP_UP_MAX_AGE);
        if !fresh {
            return Err(GrantError::ApproverStepUpNeeded);
        }
        let change = Transition::Approve {
            by: approver.clone(),
            at: now,
            expires_at: now.saturating_add(grant.ttl),
        };
        let grant = self.apply(id, &change, "pending")?;
        let audit = self.record("grant_approved", approver, &grant, now);
        Ok(GrantChange { grant, audit })
    }

    /// Rejects a pending grant, with a reason code (`[a-z0-9_]{1,64}`).
    pub fn reject(
        &self,
        id: &GrantId,
        approver: &AgentId,
        approver_role: &str,
        reason: &str,
        now: EventTime,
    ) -> Result<GrantChange, GrantError> {
        check_reason(reason)?;
        let grant = self.pending(id)?;
        self.check_decider(&grant, approver, approver_role)?;
        let change = Transition::Reject {
            by: approver.clone(),
            at: now,
            reason: reason.to_owned(),
        };
        let grant = self.apply(id, &change, "pending")?;
        let audit = self.record("grant_rejected", approver, &grant, now);
        Ok(GrantChange { grant, audit })
    }

    /// Revokes a pending or approved grant at once. Revoking only takes
    /// access away, so anyone the caller lets act may do it: the requester
    /// withdrawing, an approver, or the system when the ticket closes.
    pub fn revoke(
        &self,
        id: &GrantId,
        by: &AgentId,
        reason: &str,
        now: EventTime,
    ) -> Result<GrantChange, GrantError> {
        check_reason(reason)?;
        let change = Transition::Revoke {
            by: by.clone(),
            at: now,
            reason: reason.to_owned(),
        };
        let grant = self.apply(id, &change, "pending or approved")?;
        let audit = self.record("grant_revoked", by, &grant, now);
        Ok(GrantChange { grant, audit })
    }

    /// Revokes every pending or approved grant on `ticket` (it closed or was
    /// reassigned). Grants revoked meanwhile by someone else are skipped.
    pub fn revoke_for_ticket(
        &self,
        ticket: &TicketId,
        by: &AgentId,
        reason: &str,
        now: EventTime,
    ) -> Result<Vec<GrantChange>, GrantError> {
        check_reason(reason)?;
        let mut changes = Vec::new();
        for grant in self.grants.open_grants_for_ticket(ticket)? {
            match self.revoke(&grant.id, by, reason, now) {
                Ok(change) => changes.push(change),
                Err(GrantError::WrongStatus { .. } | GrantError::NotFound { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(changes)
    }

    /// Of `candidates` (directory agents with their roles, as the caller
    /// pages through the directory), those who may approve the pending
    /// grant `id` now: an approving role, not the requester (by
    /// [`agent_key`]), not in the requester's lead chain (when
    /// [`GrantPolicy::forbid_lead_chain`]), and under no
    /// [`BARRING_COUNTERMEASURES`] countermeasure; each with whether they
    /// are enrolled for step-up and hold a fresh one. In candidate order.
    /// The same rules as [`Approvals::approve`], so an approval by a listed
    /// agent with a fresh step-up succeeds unless the state changes.
    pub fn eligible_approvers(
        &self,
        id: &GrantId,
        candidates: &[ApproverCandidate],
        now: EventTime,
    ) -> Result<Vec<EligibleApprover>, GrantError> {
        let grant = self.pending(id)?;
        let requester_key = agent_key(grant.requester.as_str());
        let chain: Vec<String> = if self.policy.forbid_lead_chain {
            lead_chain(self.facts.as_ref(), &grant.requester)?
                .iter()
                .map(|lead| agent_key(lead.as_str()))
                .collect()
        } else {
            Vec::new()
        };
        let mut eligible = Vec::new();
        for candidate in candidates {
            let key = agent_key(candidate.agent.as_str());
            if key == requester_key || chain.contains(&key) || !self.approving(&candidate.role) {
                continue;
            }
            if barring_countermeasure(&self.facts.countermeasures(&candidate.agent)?).is_some() {
                continue;
            }
            let state = self.step_ups.step_up_state(&candidate.agent)?;
            let fresh_step_up = state
                .as_ref()
                .and_then(|s| s.step_up_at)
                .is_some_and(|at| at <= now && now.since(at) <= STEP_UP_MAX_AGE);
            eligible.push(EligibleApprover {
                agent: candidate.agent.clone(),
                role: candidate.role.clone(),
                enrolled: state.is_some(),
                fresh_step_up,
            });
        }
        Ok(eligible)
    }

    /// The approvals inbox: pending grants, oldest first.
    pub fn pending_grants(&self, limit: usize) -> Result<Vec<GrantRecord>, GrantError> {
        Ok(self.grants.pending_grants(limit)?)
    }

    pub fn grant(&self, id: &GrantId) -> Result<GrantRecord, GrantError> {
        self.grants.grant(id)?.ok_or_else(|| GrantError::NotFound {
            grant: id.to_string(),
        })
    }

    /// Spends `reveals` of a grant's budget, all or nothing: refused when
    /// it would overdraw, or the grant is not approved or has expired.
    /// Returns what is left. [`crate::AccessService`] calls this for the
    /// reveals it serves.
    pub fn spend(&self, id: &GrantId, reveals: u32, now: EventTime) -> Result<u32, GrantError> {
        spend(self.grants.as_ref(), id, reveals, now)
    }

    /// The audit record of a refused operation (`request`, `approve`,
    /// `reject`, `revoke`) by `actor` on `grant`.
    pub fn refusal_record(
        operation: &'static str,
        actor: &AgentId,
        grant: Option<&GrantId>,
        error: &GrantError,
        now: EventTime,
    ) -> AuditRecord {
        let mut record = AuditRecord::refused("grant_refused", operation, actor, error.code(), now);
        record.grant = grant.cloned();
        record
    }

    fn pending(&self, id: &GrantId) -> Result<GrantRecord, GrantError> {
        let grant = self.grant(id)?;
        if grant.status != GrantStatus::Pending {
            return Err(GrantError::WrongStatus {
                grant: id.to_string(),
                status: status_str(grant.status),
                expected: "pending",
            });
        }
        Ok(grant)
    }

    fn check_decider(
        &self,
        grant: &GrantRecord,
        approver: &AgentId,
        approver_role: &str,
    ) -> Result<(), GrantError> {
        // INVARIANT: nobody decides on their own grant, whatever the spelling
        // of the id; checked before the role so a lead gets the true reason.
        if agent_key(approver.as_str()) == agent_key(grant.requester.as_str()) {
            return Err(GrantError::SelfApproval);
        }
        if !self.approving(approver_role) {
            return Err(GrantError::NotAnApprover {
                role: approver_role.chars().take(64).collect(),
            });
        }
        Ok(())
    }

    /// Whether `role` is one of [`GrantPolicy::approver_roles`].
    fn approving(&self, role: &str) -> bool {
        let role = role.trim().to_lowercase();
        self.policy
            .approver_roles
            .iter()
            .any(|r| r.trim().to_lowercase() == role)
    }

    fn apply(
        &self,
        id: &GrantId,
        change: &Transition,
        expected: &'static str,
    ) -> Result<GrantRecord, GrantError> {
        match self.grants.transition(id, change)? {
            Some(grant) => Ok(grant),
            // Lost a race, or the status was never right: say which.
            None => {
                let now = self.grant(id)?;
                Err(GrantError::WrongStatus {
                    grant: id.to_string(),
                    status: status_str(now.status),
                    expected,
                })
            }
        }
    }

    fn record(
        &self,
        kind: &'static str,
        actor: &AgentId,
        grant: &GrantRecord,
        now: EventTime,
    ) -> AuditRecord {
        let mut record = AuditRecord::new(kind, now, actor, "ok");
        record.grant = Some(grant.id.clone());
        record.subject = Some(grant.requester.clone());
        record.customer_ref = customer_ref(&self.vault, &grant.customer);
        record.ticket = Some(grant.ticket.clone());
        record.fields = grant.fields.clone();
        record.code = grant.reason.clone();
        record.detail = serde_json::json!({
            "status": status_str(grant.status),
            "reveal_budget": grant.reveal_budget,
            "reveals_remaining": grant.reveals_remaining,
            "ttl_secs": grant.ttl.as_micros() / 1_000_000,
            "expires_at": grant.expires_at,
        });
        record
    }
}

fn barring_countermeasure(in_force: &[ResponseAction]) -> Option<ResponseAction> {
    in_force
        .iter()
        .copied()
        .find(|action| BARRING_COUNTERMEASURES.contains(action))
}

fn check_reason(reason: &str) -> Result<(), GrantError> {
    if valid_reason_code(reason) {
        Ok(())
    } else {
        Err(GrantError::Invalid(
            "the reason must be a code of 1 to 64 characters `[a-z0-9_]`".into(),
        ))
    }
}

/// All-or-nothing spend, explaining a refusal.
pub(crate) fn spend(
    grants: &dyn GrantStore,
    id: &GrantId,
    reveals: u32,
    now: EventTime,
) -> Result<u32, GrantError> {
    if reveals == 0 {
        return Err(GrantError::Invalid("nothing to spend".into()));
    }
    if let Some(left) = grants.spend(id, reveals, now)? {
        return Ok(left);
    }
    let grant = grants.grant(id)?.ok_or_else(|| GrantError::NotFound {
        grant: id.to_string(),
    })?;
    if grant.status != GrantStatus::Approved {
        return Err(GrantError::WrongStatus {
            grant: id.to_string(),
            status: status_str(grant.status),
            expected: "approved",
        });
    }
    if grant.expires_at.is_none_or(|at| at <= now) {
        return Err(GrantError::Expired {
            grant: id.to_string(),
        });
    }
    Err(GrantError::BudgetExhausted {
        grant: id.to_string(),
        remaining: grant.reveals_remaining,
        asked: reveals,
    })
}
