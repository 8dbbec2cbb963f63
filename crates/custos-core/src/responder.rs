//! The responder: turns the `response` an alert names into countermeasure
//! state, and records each change. Pure state, like the detectors; carrying a
//! countermeasure out in the world (revoking a session in the support tool,
//! freezing an account) is the job of sinks at the edge.

use crate::alert::{Alert, Entity, ResponseAction};
use crate::time::EventTime;
use serde::Serialize;
use std::collections::BTreeMap;

/// Why a countermeasure is in force.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Active {
    pub since: EventTime,
    pub alert_id: String,
}

/// A change to countermeasure state, for the audit trail and the sinks.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResponseRecord {
    pub ts: EventTime,
    pub entity: Entity,
    pub action: ResponseAction,
    /// `applied`, `already_active` or `released`.
    pub outcome: &'static str,
    /// The alert that asked for it (empty for a release).
    pub alert_id: String,
    /// Who released it and why, for a release.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub released_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Countermeasures in force, by entity. Ordered maps keep iteration (and so
/// output) deterministic.
#[derive(Debug, Default)]
pub struct Countermeasures {
    active: BTreeMap<Entity, BTreeMap<ResponseAction, Active>>,
}

impl Countermeasures {
    pub fn is_active(&self, entity: &Entity, action: ResponseAction) -> bool {
        self.active
            .get(entity)
            .is_some_and(|m| m.contains_key(&action))
    }

    /// Everything in force on an entity.
    pub fn on(&self, entity: &Entity) -> impl Iterator<Item = (ResponseAction, &Active)> {
        self.active
            .get(entity)
            .into_iter()
            .flatten()
            .map(|(a, s)| (*a, s))
    }

    pub fn entities(&self) -> impl Iterator<Item = &Entity> {
        self.active.keys()
    }

    /// Applies what an alert's `response` names. Decisions that are not
    /// lasting state (`deny`, `hold`, `step_up` on a single action) are still
    /// recorded, so every response is accounted for.
    pub fn apply(&mut self, alert: &Alert) -> Vec<ResponseRecord> {
        let mut records = Vec::with_capacity(alert.response.len());
        for &action in &alert.response {
            let slot = self.active.entry(alert.entity.clone()).or_default();
            let outcome = match slot.entry(action) {
                std::collections::btree_map::Entry::Occupied(_) => "already_active",
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(Active {
                        since: alert.ts,
                        alert_id: alert.alert_id.clone(),
                    });
                    "applied"
                }
            };
            records.push(ResponseRecord {
                ts: alert.ts,
                entity: alert.entity.clone(),
                action,
                outcome,
                alert_id: alert.alert_id.clone(),
                released_by: None,
                reason: None,
            });
        }
        records
    }

    /// Lifts a countermeasure (an analyst's decision, recorded with who and
    /// why). `None` when it was not in force.
    pub fn release(
        &mut self,
        entity: &Entity,
        action: ResponseAction,
        ts: EventTime,
        by: &str,
        reason: &str,
    ) -> Option<ResponseRecord> {
        let slot = self.active.get_mut(entity)?;
        slot.remove(&action)?;
        if slot.is_empty() {
            self.active.remove(entity);
        }
        Some(ResponseRecord {
            ts,
            entity: entity.clone(),
            action,
            outcome: "released",
            alert_id: String::new(),
            released_by: Some(by.to_owned()),
            reason: Some(reason.to_owned()),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::alert::{EntityKind, Severity};

    #[test]
    fn apply_then_release() {
        let mut c = Countermeasures::default();
        let agent = Entity::new(EntityKind::Agent, "a-1");
        let mut alert = Alert::new(
            "agent_behavior",
            EventTime::from_micros(5),
            agent.clone(),
            Severity::High,
            0.9,
        )
        .respond(ResponseAction::StepUp)
        .respond(ResponseAction::SuspendAccess);
        alert.alert_id = "al-1".into();
        let records = c.apply(&alert);
        assert_eq!(
            records.iter().map(|r| r.outcome).collect::<Vec<_>>(),
            ["applied", "applied"]
        );
        assert!(c.is_active(&agent, ResponseAction::SuspendAccess));
        assert_eq!(c.apply(&alert)[0].outcome, "already_active");
        let released = c
            .release(
                &agent,
                ResponseAction::SuspendAccess,
                EventTime::from_micros(9),
                "lead-1",
                "benign",
            )
            .unwrap();
        assert_eq!(released.outcome, "released");
        assert!(!c.is_active(&agent, ResponseAction::SuspendAccess));
        assert!(c.is_active(&agent, ResponseAction::StepUp));
        assert!(
            c.release(
                &agent,
                ResponseAction::SuspendAccess,
                EventTime::from_micros(9),
                "x",
                "y"
            )
            .is_none()
        );
    }
}
