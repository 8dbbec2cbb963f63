//! The `action_risk` detector shared with a synchronous API: `serve` runs
//! the detector in its pipeline thread and answers `POST
//! /v1/actions/evaluate` from the same engine, so a decision over HTTP sees
//! the profile and the protections the event stream built.
//!
//! The pipeline's cross-detector marks on customers are copied into a
//! snapshot whenever they change, because an HTTP decision has no pipeline
//! context of its own.

use crate::assess::{ActionRequest, MarkFact};
use crate::detector::ActionRisk;
use crate::engine::Evaluation;
use custos_core::alert::EntityKind;
use custos_core::detector::{Context, Detector, Signal};
use custos_core::event::Event;
use custos_core::time::EventTime;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

/// Customer id → the marks on that customer and when each expires.
pub type CustomerMarks = HashMap<String, Vec<(MarkFact, EventTime)>>;

/// One engine, two doors: the pipeline (as a [`Detector`]) and callers
/// holding a [`RiskHandle`].
pub struct SharedActionRisk {
    handle: RiskHandle,
    marks_seen: usize,
}

/// What the HTTP layer holds.
#[derive(Clone)]
pub struct RiskHandle {
    detector: Arc<Mutex<ActionRisk>>,
    marks: Arc<RwLock<CustomerMarks>>,
    /// Ids of `protection_command` events already applied by [`RiskHandle::protect`]:
    /// the pipeline skips them once when they arrive from the log.
    applied_live: Arc<Mutex<std::collections::HashSet<String>>>,
}

impl RiskHandle {
    pub fn new(detector: ActionRisk) -> RiskHandle {
        RiskHandle {
            detector: Arc::new(Mutex::new(detector)),
            marks: Arc::new(RwLock::new(HashMap::new())),
            applied_live: Arc::default(),
        }
    }

    /// Applies a protection command now (the answer to the API call) and
    /// notes `event_id`, the id of the `protection_command` event the caller
    /// appends to the log, so the pipeline does not apply it twice. After a
    /// restart the set is empty and the replay applies it: the state is
    /// rebuilt from the log.
    pub fn protect(
        &self,
        event_id: &str,
        customer: &custos_core::id::CustomerId,
        now: EventTime,
        actor: crate::protection::Actor,
        command: &crate::protection::Command,
    ) -> Result<crate::protection::ProtectionRecord, crate::protection::ProtectionError> {
        let mut detector = lock(&self.detector);
        let record = detector
            .engine_mut()
            .protect(customer, now, actor, command)?;
        if let Ok(mut applied) = self.applied_live.lock() {
            applied.insert(event_id.to_owned());
        }
        Ok(record)
    }

    /// Forgets a live application whose event could not be appended (the
    /// caller answers with an error; the state change stays in memory until
    /// a restart, and the caller is told to retry).
    pub fn forget_live(&self, event_id: &str) {
        if let Ok(mut applied) = self.applied_live.lock() {
            applied.remove(event_id);
        }
    }

    /// The pipeline side. Replaces the engine with `fresh` first, so a
    /// pipeline rebuilt from the event log starts from a clean profile.
    pub fn detector(&self, fresh: ActionRisk) -> SharedActionRisk {
        *lock(&self.detector) = fresh;
        if let Ok(mut marks) = self.marks.write() {
            marks.clear();
        }
        SharedActionRisk {
            handle: self.clone(),
            marks_seen: usize::MAX,
        }
    }

    /// The marks on `customer` in force at `now`, the pipeline's and the
    /// engine's own: what raises their protection.
    pub fn marks_of(
        &self,
        customer: &custos_core::id::CustomerId,
        now: EventTime,
    ) -> Vec<MarkFact> {
        let mut marks = self.pipeline_marks(customer, now);
        marks.extend(lock(&self.detector).engine().marks_at(customer, now));
        marks
    }

    /// The pipeline's marks on `customer` in force at `now`.
    fn pipeline_marks(
        &self,
        customer: &custos_core::id::CustomerId,
        now: EventTime,
    ) -> Vec<MarkFact> {
        self.marks
            .read()
            .ok()
            .and_then(|m| {
                m.get(customer.as_str()).map(|list| {
                    list.iter()
                        .filter(|(fact, until)| fact.since <= now && now < *until)
                        .map(|(fact, _)| fact.clone())
                        .collect()
                })
            })
            .unwrap_or_default()
    }

    /// Decides an action without changing any state, with the marks the
    /// pipeline holds on the customer at `now`.
    pub fn evaluate(&self, req: &ActionRequest<'_>, now: EventTime) -> Evaluation {
        let marks = self.pipeline_marks(&req.action.customer_id, now);
        lock(&self.detector).engine().evaluate(req, &marks, now)
    }

    /// Runs `f` on the detector (rule swaps, protection commands).
    pub fn with<T>(&self, f: impl FnOnce(&mut ActionRisk) -> T) -> T {
        f(&mut lock(&self.detector))
    }
}

/// A poisoned lock still holds a consistent engine (every mutation is a
/// single call), so it is used rather than failing every later decision.
fn lock(m: &Mutex<ActionRisk>) -> MutexGuard<'_, ActionRisk> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Detector for SharedActionRisk {
    fn name(&self) -> &'static str {
        crate::detector::ACTION_RISK
    }

    fn observe(&mut self, event: &Event, ctx: &mut Context) -> Vec<Signal> {
        if ctx.marks.len() != self.marks_seen {
            self.marks_seen = ctx.marks.len();
            let mut snapshot: CustomerMarks = HashMap::new();
            for mark in ctx.marks.iter() {
                if mark.entity.kind == EntityKind::Customer {
                    snapshot.entry(mark.entity.id.clone()).or_default().push((
                        MarkFact {
                            code: mark.code.clone(),
                            source: mark.source.clone(),
                            since: mark.since,
                        },
                        mark.until,
                    ));
                }
            }
            if let Ok(mut marks) = self.handle.marks.write() {
                *marks = snapshot;
            }
        }
        if let custos_core::EventBody::ProtectionCommand(command) = &event.body {
            let applied = self
                .handle
                .applied_live
                .lock()
                .map(|mut set| set.remove(event.id.as_str()))
                .unwrap_or(false);
            if applied {
                // Applied by the API already; reported like a replayed one.
                return vec![crate::detector::protection_alert(event, command)];
            }
        }
        lock(&self.handle.detector).observe(event, ctx)
    }

    fn on_time(&mut self, now: EventTime, ctx: &mut Context) -> Vec<Signal> {
        lock(&self.handle.detector).on_time(now, ctx)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::config::RiskConfig;
    use crate::decision::Outcome;
    use custos_core::alert::Entity;
    use custos_core::detector::Mark;
    use custos_core::event::EventBody;
    use custos_core::parse::parse_event;

    fn event(line: &str) -> Event {
        parse_event(line, || "x".to_owned()).unwrap()
    }

    #[test]
    fn protection_commands_apply_live_once_and_again_on_replay() {
        let freeze = event(
            r#"{"type":"protection_command","ts":"2025-01-10T10:00:00Z","id":"p1","customer_id":"c-1","actor":{"kind":"customer","factor":null},"protection":{"command":"freeze"}}"#,
        );
        let later = event(
            r#"{"type":"customer_action","ts":"2025-01-10T11:00:00Z","id":"w","customer_id":"c-1","action":"withdrawal","ip":"198.51.100.4","device_id":"fp-1","amount_usd":10.0,"asset":"BTC","destination":"bc1-home"}"#,
        );
        let EventBody::CustomerAction(action) = &later.body else {
            panic!()
        };
        let req = ActionRequest {
            event_id: None,
            ts: later.ts,
            action,
        };
        let customer = custos_core::id::CustomerId::parse("c-1").unwrap();
        // Live: the API applies it, the pipeline skips the recorded event.
        let live = RiskHandle::new(ActionRisk::new(RiskConfig::default()).unwrap());
        let mut detector = live.detector(ActionRisk::new(RiskConfig::default()).unwrap());
        let record = live
            .protect(
                "p1",
                &customer,
                freeze.ts,
                crate::protection::Actor::Customer { factor: None },
                &crate::protection::Command::Freeze,
            )
            .unwrap();
        assert_eq!(record.outcome, "applied");
        let mut ctx = Context::default();
        let reported = detector.observe(&freeze, &mut ctx);
        assert!(
            live.applied_live.lock().unwrap().is_empty(),
            "skipped once, then forgotten"
        );
        // Reported once as a medium alert, for webhooks and the console.
        let [Signal::Alert(alert)] = reported.as_slice() else {
            panic!("{reported:?}")
        };
        assert_eq!(alert.severity, custos_core::alert::Severity::Medium);
        assert_eq!(alert.score, 0.0);
        assert_eq!(alert.reasons[0].code, "v1.protection.freeze");
        assert!(alert.reasons[0].detail.contains("signed link"));
        assert_eq!(alert.evidence.len(), 1);
        assert!(alert.response.is_empty());
        assert_eq!(
            live.evaluate(&req, later.ts).decision.outcome,
            Outcome::Deny
        );
        // After a restart the replayed event freezes the account again.
        let restarted = RiskHandle::new(ActionRisk::new(RiskConfig::default()).unwrap());
        let mut detector = restarted.detector(ActionRisk::new(RiskConfig::default()).unwrap());
        let mut ctx = Context::default();
        let replayed = detector.observe(&freeze, &mut ctx);
        assert_eq!(replayed.len(), 1, "the same report on replay");
        assert_eq!(
            restarted.evaluate(&req, later.ts).decision.outcome,
            Outcome::Deny
        );
    }

    #[test]
    fn the_api_sees_what_the_pipeline_learned_and_its_marks() {
        let handle = RiskHandle::new(ActionRisk::new(RiskConfig::default()).unwrap());
        let mut detector = handle.detector(ActionRisk::new(RiskConfig::default()).unwrap());
        let mut ctx = Context::default();
        // Thirty days of the same device, country and amounts.
        for day in 0..30 {
            let line = format!(
                r#"{{"type":"customer_action","ts":"2025-01-{:02}T10:00:00Z","id":"w{day}","customer_id":"c-1","action":"withdrawal","ip":"198.51.100.4","device_id":"fp-1","geo":{{"country":"US","lat":40.7,"lon":-74.0}},"amount_usd":100.0,"asset":"BTC","destination":"bc1-home"}}"#,
                day % 28 + 1
            );
            let e = event(&line);
            ctx.now = e.ts;
            detector.observe(&e, &mut ctx);
        }
        let routine = event(
            r#"{"type":"customer_action","ts":"2025-01-29T10:00:00Z","id":"q","customer_id":"c-1","action":"withdrawal","ip":"198.51.100.4","device_id":"fp-1","geo":{"country":"US","lat":40.7,"lon":-74.0},"amount_usd":100.0,"asset":"BTC","destination":"bc1-home"}"#,
        );
        let EventBody::CustomerAction(action) = &routine.body else {
            panic!()
        };
        let req = ActionRequest {
            event_id: None,
            ts: routine.ts,
            action,
        };
        let before = handle.evaluate(&req, routine.ts);
        assert_eq!(
            before.decision.outcome,
            Outcome::Allow,
            "{:?}",
            before.decision
        );

        // A scam conversation marks the customer in the pipeline: the API
        // now protects the same routine withdrawal.
        ctx.marks.insert(Mark {
            entity: Entity::new(EntityKind::Customer, "c-1"),
            code: custos_core::detector::codes::SCAM_CONVERSATION.to_owned(),
            source: "conversation".to_owned(),
            since: routine.ts,
            until: routine.ts.saturating_add(custos_core::Span::from_days(3)),
        });
        let tick = event(
            r#"{"type":"customer","ts":"2025-01-29T10:00:00Z","customer_id":"c-2","tier":"retail"}"#,
        );
        detector.observe(&tick, &mut ctx);
        let after = handle.evaluate(&req, routine.ts);
        assert_ne!(
            after.decision.outcome,
            Outcome::Allow,
            "{:?}",
            after.decision
        );
        assert!(
            after
                .decision
                .reasons
                .iter()
                .any(|r| r.code.contains("scam_conversation")),
            "{:?}",
            after.decision.reasons
        );
        // The marks in force are readable as such: the pipeline's, plus
        // the engine's own; none before the mark, none after it ends.
        let c1 = custos_core::id::CustomerId::parse("c-1").unwrap();
        handle.with(|r| {
            r.engine_mut().add_mark(
                &c1,
                MarkFact {
                    code: "relayed".to_owned(),
                    source: "http".to_owned(),
                    since: routine.ts,
                },
                routine.ts.saturating_add(custos_core::Span::from_days(1)),
            )
        });
        let codes = |at| -> Vec<String> {
            handle
                .marks_of(&c1, at)
                .into_iter()
                .map(|m| m.code)
                .collect()
        };
        assert_eq!(codes(routine.ts), ["scam_conversation", "relayed"]);
        assert!(codes(routine.ts.saturating_sub(custos_core::Span::from_secs(1))).is_empty());
        assert_eq!(
            codes(routine.ts.saturating_add(custos_core::Span::from_days(2))),
            ["scam_conversation"]
        );
    }
}
