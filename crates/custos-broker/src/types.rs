//! The broker's vocabulary: what an agent asks for, what the caller looked up
//! about it, and the decision that comes back, one outcome per field.

use custos_core::alert::{Entity, EntityKind, ResponseAction};
use custos_core::event::{AccessAction, FieldClass, OpenedBy, TicketStatus};
use custos_core::id::{AgentId, CustomerId, TicketId};
use custos_core::responder::Countermeasures;
use custos_core::time::EventTime;
use serde::{Deserialize, Serialize};

/// An agent asks to see fields of a customer, for a ticket and a purpose.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRequest {
    pub agent: AgentId,
    pub customer: CustomerId,
    #[serde(default)]
    pub ticket: Option<TicketId>,
    pub fields: Vec<FieldClass>,
    pub purpose: String,
    pub action: AccessAction,
}

/// What the caller looked up before asking: the broker itself does no IO.
/// A fact the caller could not find stays `None`, and the broker fails closed
/// on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    /// The caller's clock: grants expire and step-ups age against it.
    pub now: EventTime,
    /// The requesting agent's directory record; `None` if unknown.
    #[serde(default)]
    pub agent: Option<AgentFacts>,
    /// The requested ticket's current record; `None` if unknown or none asked.
    #[serde(default)]
    pub ticket: Option<TicketFacts>,
    /// The agent is on a live contact (call, chat) with this customer now.
    #[serde(default)]
    pub live_contact: bool,
    /// Countermeasures in force on the agent (see [`Facts::countermeasures_on`]).
    #[serde(default)]
    pub countermeasures: Vec<ResponseAction>,
    /// A just-in-time grant for this agent, ticket and customer, if any.
    #[serde(default)]
    pub grant: Option<Grant>,
    /// When the agent last completed a step-up (TOTP, WebAuthn).
    #[serde(default)]
    pub step_up_at: Option<EventTime>,
}

impl Facts {
    /// The countermeasures the responder holds on `agent`, as facts.
    pub fn countermeasures_on(
        countermeasures: &Countermeasures,
        agent: &AgentId,
    ) -> Vec<ResponseAction> {
        let entity = Entity::new(EntityKind::Agent, agent.as_str());
        countermeasures
            .on(&entity)
            .map(|(action, _)| action)
            .collect()
    }
}

/// The requesting agent, from the directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentFacts {
    pub role: String,
    pub team: String,
}

/// The requested ticket, from the directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketFacts {
    pub id: TicketId,
    pub status: TicketStatus,
    pub category: String,
    #[serde(default)]
    pub assigned_agent: Option<AgentId>,
    #[serde(default)]
    pub opened_by: Option<OpenedBy>,
    pub customer: CustomerId,
}

/// Where a reveal request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantStatus {
    Pending,
    Approved,
    Rejected,
    Revoked,
}

/// A just-in-time grant: another person approved revealing these fields of
/// this customer on this ticket, until `expires_at`, at most
/// `reveals_remaining` more times. The broker reads it; it never spends it
/// (the caller decrements the budget for each `Revealed` it serves).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    pub status: GrantStatus,
    pub requester: AgentId,
    #[serde(default)]
    pub approver: Option<AgentId>,
    pub ticket: TicketId,
    pub customer: CustomerId,
    pub fields: Vec<FieldClass>,
    pub expires_at: EventTime,
    pub reveals_remaining: u32,
}

/// What an agent gets to see of one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Hidden,
    Masked,
    Revealed,
}

/// What must happen with a field decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Obligation {
    /// Another person must approve a grant before this field is revealed.
    ApprovalNeeded,
    /// The agent must complete a step-up before this field is revealed.
    StepUpNeeded,
    /// The revealed view carries this token on screen.
    Watermark { token: String },
}

impl Obligation {
    /// The obligation's kind as on the wire (`approval_needed`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Obligation::ApprovalNeeded => "approval_needed",
            Obligation::StepUpNeeded => "step_up_needed",
            Obligation::Watermark { .. } => "watermark",
        }
    }
}

/// Why: a stable code (a policy id or a broker rule) and a sentence.
/// Never carries PII: codes, ids of policies and error kinds only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: String,
    pub detail: String,
}

impl Reason {
    pub fn new(code: impl Into<String>, detail: impl Into<String>) -> Reason {
        Reason {
            code: code.into(),
            detail: detail.into(),
        }
    }
}

/// The decision on one field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldDecision {
    pub field: FieldClass,
    pub outcome: Outcome,
    pub obligations: Vec<Obligation>,
    pub reasons: Vec<Reason>,
}

impl FieldDecision {
    pub fn has_obligation(&self, kind: &str) -> bool {
        self.obligations.iter().any(|o| o.kind() == kind)
    }
}

/// The broker's answer: one decision per requested field (in request order,
/// duplicates removed), `denied` when nothing at all is shown, and the reasons
/// that concern the whole request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub fields: Vec<FieldDecision>,
    pub denied: bool,
    pub reasons: Vec<Reason>,
}

impl Decision {
    pub fn field(&self, field: FieldClass) -> Option<&FieldDecision> {
        self.fields.iter().find(|d| d.field == field)
    }
}
