//! Errors of the access edge, sorted by who has to act on them: the caller's
//! request (`Invalid`), a refusal of the workflow (self-approval, a spent
//! budget, a wrong code), or the storage underneath (`Unavailable`).
//!
//! No variant carries a TOTP secret, a code, a sealed blob or a field value:
//! messages name agents, grants, roles and fields only.

use custos_core::time::EventTime;

/// Why the grant and step-up storage failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessStoreError {
    /// The database cannot be reached now (locked, down, disk full): retry later.
    #[error("access store unavailable: {0}")]
    Unavailable(String),
    /// A caller bug: a bad schema name, a url that is not PostgreSQL.
    #[error("invalid access store request: {0}")]
    Invalid(String),
    /// Anything else: an unexpected SQL error, a row this build cannot read,
    /// a schema newer than this build.
    #[error("internal access store error: {0}")]
    Internal(String),
}

/// Why a grant operation was refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// The request itself is wrong: no field, no purpose, a zero budget, a
    /// ttl out of bounds, a bad reason code.
    #[error("invalid grant request: {0}")]
    Invalid(String),
    #[error("unknown grant `{grant}`")]
    NotFound { grant: String },
    /// The approver is the requester (in any casing or spelling of the id).
    #[error("the requester of a grant cannot decide on it")]
    SelfApproval,
    /// The approver's role may not approve reveals.
    #[error("role `{role}` may not approve or reject grants")]
    NotAnApprover { role: String },
    /// The approver has not completed a step-up recently enough.
    #[error("the approver needs a fresh step-up")]
    ApproverStepUpNeeded,
    /// The approver is the requester's lead, or a lead above them
    /// ([`crate::GrantPolicy::forbid_lead_chain`]).
    #[error("the approver is in the requester's lead chain")]
    ApproverInLeadChain,
    /// A countermeasure is in force on the approver (`suspend_access`,
    /// `require_approval` or `step_up`).
    #[error("the approver is under the countermeasure `{action}`")]
    ApproverUnderCountermeasure { action: &'static str },
    /// The directory (lead chain, countermeasures) cannot be read: the
    /// approval is refused rather than decided blind.
    #[error("approval refused: {0}")]
    Facts(#[from] FactsError),
    /// The grant is not in the state the operation needs.
    #[error("grant `{grant}` is `{status}`, the operation needs `{expected}`")]
    WrongStatus {
        grant: String,
        status: &'static str,
        expected: &'static str,
    },
    #[error("grant `{grant}` has expired")]
    Expired { grant: String },
    /// Spending would overdraw the reveal budget: nothing was spent.
    #[error("grant `{grant}` has {remaining} reveals left, {asked} asked")]
    BudgetExhausted {
        grant: String,
        remaining: u32,
        asked: u32,
    },
    #[error(transparent)]
    Store(#[from] AccessStoreError),
}

impl GrantError {
    /// A stable code for audit records and API bodies.
    pub fn code(&self) -> &'static str {
        match self {
            GrantError::Invalid(_) => "invalid_request",
            GrantError::NotFound { .. } => "grant_not_found",
            GrantError::SelfApproval => "self_approval",
            GrantError::NotAnApprover { .. } => "not_an_approver",
            GrantError::ApproverStepUpNeeded => "approver_step_up_needed",
            GrantError::ApproverInLeadChain => "approver_in_lead_chain",
            GrantError::ApproverUnderCountermeasure { .. } => "approver_under_countermeasure",
            GrantError::Facts(FactsError::Unavailable(_)) => "facts_unavailable",
            GrantError::Facts(FactsError::Invalid(_)) => "directory_invalid",
            GrantError::WrongStatus { .. } => "wrong_status",
            GrantError::Expired { .. } => "grant_expired",
            GrantError::BudgetExhausted { .. } => "budget_exhausted",
            GrantError::Store(AccessStoreError::Unavailable(_)) => "store_unavailable",
            GrantError::Store(_) => "internal",
        }
    }
}

/// Why a step-up enrolment or verification was refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepUpError {
    #[error("agent `{agent}` is not enrolled for step-up")]
    NotEnrolled { agent: String },
    #[error("agent `{agent}` is already enrolled for step-up")]
    AlreadyEnrolled { agent: String },
    /// The code is malformed or matches no time step in the window.
    #[error("the step-up code is not valid ({failures_left} attempts left before a lock)")]
    InvalidCode { failures_left: u32 },
    /// The code's time step was already used (or a later one was).
    #[error("the step-up code was already used")]
    Replayed,
    /// Too many failures: no code is accepted until `until`.
    #[error("step-up is locked until `{until}` after too many failed codes")]
    Locked { until: EventTime },
    /// The sealed secret does not open under the configured key: the wrong
    /// key, or a changed row.
    #[error("the stored step-up secret cannot be opened: wrong key or tampered")]
    Sealing,
    #[error("no randomness from the system")]
    Randomness,
    #[error(transparent)]
    Store(#[from] AccessStoreError),
}

impl StepUpError {
    /// A stable code for audit records and API bodies.
    pub fn code(&self) -> &'static str {
        match self {
            StepUpError::NotEnrolled { .. } => "not_enrolled",
            StepUpError::AlreadyEnrolled { .. } => "already_enrolled",
            StepUpError::InvalidCode { .. } => "invalid_code",
            StepUpError::Replayed => "replayed_code",
            StepUpError::Locked { .. } => "locked",
            StepUpError::Sealing => "sealing",
            StepUpError::Randomness => "internal",
            StepUpError::Store(AccessStoreError::Unavailable(_)) => "store_unavailable",
            StepUpError::Store(_) => "internal",
        }
    }
}

/// Why the caller's [`crate::FactsSource`] could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FactsError {
    /// The directory or countermeasure state cannot be read now.
    #[error("facts unavailable: {0}")]
    Unavailable(String),
    /// A stored directory record cannot be read as one.
    #[error("invalid directory record: {0}")]
    Invalid(String),
}

/// Why [`crate::AccessService::access`] produced no outcome at all. A
/// decision is never an error: store failures become a denial inside the
/// outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("internal access error: {0}")]
    Internal(String),
}

/// Why a policy reload failed; the broker in use stays as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReloadError {
    #[error("cannot read policy directory `{path}`: {message}")]
    Read { path: String, message: String },
    #[error("the new policy set is refused: {0}")]
    Policies(#[from] custos_broker::BrokerError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_lowercase_single_line_without_trailing_period() {
        let store = AccessStoreError::Unavailable("locked".into());
        let messages = [
            store.to_string(),
            GrantError::Invalid("no field".into()).to_string(),
            GrantError::NotFound {
                grant: "gr-1".into(),
            }
            .to_string(),
            GrantError::SelfApproval.to_string(),
            GrantError::NotAnApprover {
                role: "support_l1".into(),
            }
            .to_string(),
            GrantError::ApproverStepUpNeeded.to_string(),
            GrantError::ApproverInLeadChain.to_string(),
            GrantError::ApproverUnderCountermeasure {
                action: "suspend_access",
            }
            .to_string(),
            GrantError::Facts(FactsError::Invalid("lead chain".into())).to_string(),
            GrantError::WrongStatus {
                grant: "gr-1".into(),
                status: "approved",
                expected: "pending",
            }
            .to_string(),
            GrantError::Expired {
                grant: "gr-1".into(),
            }
            .to_string(),
            GrantError::BudgetExhausted {
                grant: "gr-1".into(),
                remaining: 0,
                asked: 1,
            }
            .to_string(),
            GrantError::Store(store.clone()).to_string(),
            StepUpError::NotEnrolled {
                agent: "a-1".into(),
            }
            .to_string(),
            StepUpError::InvalidCode { failures_left: 3 }.to_string(),
            StepUpError::Replayed.to_string(),
            StepUpError::Locked {
                until: EventTime::from_unix_secs(0),
            }
            .to_string(),
            StepUpError::Sealing.to_string(),
            FactsError::Unavailable("down".into()).to_string(),
            AccessError::Internal("x".into()).to_string(),
        ];
        for message in messages {
            assert!(message.starts_with(char::is_lowercase), "{message}");
            assert!(!message.ends_with('.'), "{message}");
            assert!(!message.contains('\n'), "{message}");
        }
    }
}
