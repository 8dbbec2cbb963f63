//! Alerts: what custos tells people, exactly in the contract's shape.

use crate::event::vocabulary;
use crate::id::EventId;
use crate::time::EventTime;
use serde::Serialize;

vocabulary!(
    /// What kind of thing an alert is about.
    EntityKind { Agent => "agent", Customer => "customer", Conversation => "conversation", Contact => "contact" }
);
vocabulary!(
    /// How bad it is. For `agent_behavior`, `high` and `critical` mean a
    /// countermeasure was applied.
    Severity { Low => "low", Medium => "medium", High => "high", Critical => "critical" }
);
vocabulary!(
    /// A countermeasure or decision named in an alert's `response`.
    ResponseAction {
        RequireApproval => "require_approval",
        StepUp => "step_up",
        Throttle => "throttle",
        SuspendAccess => "suspend_access",
        NotifySecurity => "notify_security",
        Hold => "hold",
        Deny => "deny",
        Freeze => "freeze",
        RevokeApiKeys => "revoke_api_keys",
        LockSecuritySettings => "lock_security_settings",
        Intercept => "intercept",
    }
);

/// The thing an alert is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct Entity {
    pub kind: EntityKind,
    pub id: String,
}

impl Entity {
    pub fn new(kind: EntityKind, id: impl Into<String>) -> Entity {
        Entity {
            kind,
            id: id.into(),
        }
    }
}

/// One reason, for a person: what was unusual, against what norm.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Reason {
    pub code: String,
    pub detail: String,
}

/// One row of a leak attribution ranking.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct RankingEntry {
    pub agent_id: String,
    pub observed: f64,
    pub expected: f64,
    pub p_value: f64,
}

/// An alert, field for field as the contract writes it.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Alert {
    /// Assigned by the pipeline (`al-1`, `al-2`, ... in event-time order);
    /// detectors leave it empty.
    pub alert_id: String,
    /// Event time of the event that raised it.
    pub ts: EventTime,
    pub detector: String,
    pub entity: Entity,
    pub severity: Severity,
    pub score: f64,
    pub reasons: Vec<Reason>,
    /// Ids of the supporting events, the most telling first.
    pub evidence: Vec<EventId>,
    pub response: Vec<ResponseAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranking: Option<Vec<RankingEntry>>,
}

impl Alert {
    /// A new alert with no reasons, evidence or response yet.
    pub fn new(
        detector: &str,
        ts: EventTime,
        entity: Entity,
        severity: Severity,
        score: f64,
    ) -> Alert {
        Alert {
            alert_id: String::new(),
            ts,
            detector: detector.to_owned(),
            entity,
            severity,
            score: score.clamp(0.0, 1.0),
            reasons: Vec::new(),
            evidence: Vec::new(),
            response: Vec::new(),
            ranking: None,
        }
    }

    pub fn reason(mut self, code: &str, detail: impl Into<String>) -> Alert {
        self.reasons.push(Reason {
            code: code.to_owned(),
            detail: detail.into(),
        });
        self
    }

    pub fn evidence(mut self, id: EventId) -> Alert {
        self.evidence.push(id);
        self
    }

    pub fn respond(mut self, action: ResponseAction) -> Alert {
        if !self.response.contains(&action) {
            self.response.push(action);
        }
        self
    }

    /// The alert as one line of JSON.
    pub fn to_json(&self) -> String {
        // INVARIANT: scores are clamped finite numbers and every key is a
        // string, so serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn alert_has_the_contract_shape() {
        let mut alert = Alert::new(
            "agent_behavior",
            EventTime::parse("2025-01-02T03:20:00Z").unwrap(),
            Entity::new(EntityKind::Agent, "a-0042"),
            Severity::High,
            0.93,
        )
        .reason(
            "off_ticket_access",
            "31 of 40 records opened today had no ticket (peer median 1)",
        )
        .evidence(EventId::parse("ev-1").unwrap())
        .evidence(EventId::parse("ev-9").unwrap())
        .respond(ResponseAction::StepUp)
        .respond(ResponseAction::SuspendAccess)
        .respond(ResponseAction::StepUp);
        alert.alert_id = "al-1".into();
        assert_eq!(
            alert.to_json(),
            r#"{"alert_id":"al-1","ts":"2025-01-02T03:20:00Z","detector":"agent_behavior","entity":{"kind":"agent","id":"a-0042"},"severity":"high","score":0.93,"reasons":[{"code":"off_ticket_access","detail":"31 of 40 records opened today had no ticket (peer median 1)"}],"evidence":["ev-1","ev-9"],"response":["step_up","suspend_access"]}"#
        );
        let back: Alert = serde_json::from_str(&alert.to_json()).unwrap();
        assert_eq!(back, alert);
    }

    #[test]
    fn severity_orders_by_badness() {
        assert!(Severity::Low < Severity::Medium && Severity::High < Severity::Critical);
        assert_eq!(
            Alert::new(
                "x",
                EventTime::from_micros(0),
                Entity::new(EntityKind::Contact, "c"),
                Severity::Low,
                7.0
            )
            .score,
            1.0
        );
    }
}
