//! A decision about one customer action: a value, never an error. What went
//! wrong while deciding (bad input, no location) is in its reasons, and the
//! outcome already reflects the fail policy.

use custos_core::alert::{ResponseAction, Severity};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What the exchange should do with the action, least to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Allow,
    /// Ask the customer for a factor (`Decision::factor`) before proceeding.
    StepUp,
    /// Delay the action (`Decision::hold_secs`); cancellable by the customer.
    Hold,
    Deny,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::StepUp => "step_up",
            Outcome::Hold => "hold",
            Outcome::Deny => "deny",
        }
    }

    /// The `response` entry an `action_risk` alert names.
    pub fn response(self) -> Option<ResponseAction> {
        match self {
            Outcome::Allow => None,
            Outcome::StepUp => Some(ResponseAction::StepUp),
            Outcome::Hold => Some(ResponseAction::Hold),
            Outcome::Deny => Some(ResponseAction::Deny),
        }
    }

    /// step_up → medium, hold → high, deny → critical: `high` and up mean
    /// money or security did not move, as for the other detectors.
    pub fn severity(self) -> Severity {
        match self {
            Outcome::Allow => Severity::Low,
            Outcome::StepUp => Severity::Medium,
            Outcome::Hold => Severity::High,
            Outcome::Deny => Severity::Critical,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The factor to ask for on a step-up, weakest to strongest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    EmailLink,
    Totp,
    Passkey,
    /// A live video call with the exchange's security team.
    VideoCall,
}

impl Factor {
    pub fn as_str(self) -> &'static str {
        match self {
            Factor::EmailLink => "email_link",
            Factor::Totp => "totp",
            Factor::Passkey => "passkey",
            Factor::VideoCall => "video_call",
        }
    }
}

/// An account protection a decision takes (applied to the protection book
/// and named in the alert's `response`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protect {
    Freeze,
    RevokeApiKeys,
    LockSecuritySettings,
}

impl Protect {
    pub fn response(self) -> ResponseAction {
        match self {
            Protect::Freeze => ResponseAction::Freeze,
            Protect::RevokeApiKeys => ResponseAction::RevokeApiKeys,
            Protect::LockSecuritySettings => ResponseAction::LockSecuritySettings,
        }
    }
}

/// One reason, for a person: a stable code and what was unusual against
/// what norm.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// `v1.new_device` (a signal), `v1.rule.…` (a rule), `v1.seq.…` (a
    /// sequence), `v1.fail.…` (the fail policy).
    pub code: String,
    pub detail: String,
}

/// The answer for one action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub outcome: Outcome,
    /// The factor to ask for on `step_up` (and to release a `hold` early).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<Factor>,
    /// How long to hold, in seconds, on `hold`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_secs: Option<u64>,
    /// 0..1: how sure the decision is that the action is not the customer's.
    pub score: f64,
    /// Rules and sequences that fired first, then the signals behind them.
    pub reasons: Vec<Reason>,
    /// Protections taken on the account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protections: Vec<Protect>,
    /// The rule set that decided (`RuleSet::version`).
    pub rules_version: String,
}

impl Decision {
    pub fn allow(rules_version: &str) -> Decision {
        Decision {
            outcome: Outcome::Allow,
            factor: None,
            hold_secs: None,
            score: 0.0,
            reasons: Vec::new(),
            protections: Vec::new(),
            rules_version: rules_version.to_owned(),
        }
    }

    /// Whether a reason with this code is present.
    pub fn has_reason(&self, code: &str) -> bool {
        self.reasons.iter().any(|r| r.code == code)
    }

    /// The alert `response`: the decision first, then the protections.
    pub fn response(&self) -> Vec<ResponseAction> {
        let mut out: Vec<ResponseAction> = self.outcome.response().into_iter().collect();
        for p in &self.protections {
            let r = p.response();
            if !out.contains(&r) {
                out.push(r);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_order_and_map() {
        let table = [
            (Outcome::Allow, None, Severity::Low),
            (
                Outcome::StepUp,
                Some(ResponseAction::StepUp),
                Severity::Medium,
            ),
            (Outcome::Hold, Some(ResponseAction::Hold), Severity::High),
            (
                Outcome::Deny,
                Some(ResponseAction::Deny),
                Severity::Critical,
            ),
        ];
        for (outcome, response, severity) in table {
            assert_eq!(outcome.response(), response, "{outcome}");
            assert_eq!(outcome.severity(), severity, "{outcome}");
        }
        assert!(Outcome::Allow < Outcome::StepUp && Outcome::Hold < Outcome::Deny);
        assert!(Factor::EmailLink < Factor::VideoCall);
    }

    #[test]
    fn response_lists_decision_then_protections() {
        let mut d = Decision::allow("t");
        d.outcome = Outcome::Deny;
        d.protections = vec![Protect::Freeze, Protect::RevokeApiKeys];
        assert_eq!(
            d.response(),
            vec![
                ResponseAction::Deny,
                ResponseAction::Freeze,
                ResponseAction::RevokeApiKeys
            ]
        );
    }
}
