//! The pipeline: events → reorder buffer → directory → detectors →
//! responder → outputs. One pipeline serves `replay` and `serve` alike;
//! only the source that feeds it and the sinks that take its outputs differ.
//!
//! It is pure and synchronous: no IO, no wall clock. Given the same events in
//! the same order it yields byte-identical outputs.

use crate::alert::Alert;
use crate::detector::{Context, Detector, Signal};
use crate::event::{Event, EventBody};
use crate::reorder::{Admission, ReorderBuffer};
use crate::responder::ResponseRecord;
use crate::time::{EventTime, MICROS_PER_MINUTE, Span};
use std::collections::BTreeMap;

/// Pipeline settings (resolved from the configuration).
#[derive(Clone, Debug)]
pub struct PipelineConfig {
    /// How late an event may arrive and still be put in order.
    pub lateness: Span,
    /// Closed tickets are forgotten this long after closing.
    pub ticket_retention: Span,
    /// Alert ids are `{prefix}{n}`.
    pub alert_id_prefix: String,
    /// The first `n` (continues numbering across restarts).
    pub first_alert_number: u64,
}

impl Default for PipelineConfig {
    fn default() -> PipelineConfig {
        PipelineConfig {
            lateness: Span::from_minutes(5),
            ticket_retention: Span::from_days(30),
            alert_id_prefix: "al-".to_owned(),
            first_alert_number: 1,
        }
    }
}

/// What comes out of the pipeline, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    Alert(Alert),
    Response(ResponseRecord),
}

/// Counters for the summary, `/metrics` and the demo report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PipelineStats {
    pub processed: u64,
    /// Arrived later than the lateness allows (processed out of order).
    pub late: u64,
    pub by_type: BTreeMap<String, u64>,
    /// Types this version does not know, with counts.
    pub unknown_types: BTreeMap<String, u64>,
    pub alerts_by_detector: BTreeMap<String, u64>,
    pub responses: u64,
    /// Event time of the latest event processed.
    pub event_time: Option<EventTime>,
}

pub struct Pipeline {
    config: PipelineConfig,
    reorder: ReorderBuffer,
    detectors: Vec<Box<dyn Detector>>,
    ctx: Context,
    next_alert_number: u64,
    current_minute: Option<i64>,
    last_sweep_day: Option<i64>,
    stats: PipelineStats,
}

impl Pipeline {
    pub fn new(config: PipelineConfig, detectors: Vec<Box<dyn Detector>>) -> Pipeline {
        Pipeline {
            reorder: ReorderBuffer::new(config.lateness),
            next_alert_number: config.first_alert_number,
            config,
            detectors,
            ctx: Context::default(),
            current_minute: None,
            last_sweep_day: None,
            stats: PipelineStats::default(),
        }
    }

    pub fn stats(&self) -> &PipelineStats {
        &self.stats
    }

    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// Events waiting in the reorder buffer.
    pub fn buffered(&self) -> usize {
        self.reorder.len()
    }

    pub fn detector_names(&self) -> Vec<&'static str> {
        self.detectors.iter().map(|d| d.name()).collect()
    }

    /// Takes one event in arrival order; appends whatever became ready.
    pub fn push(&mut self, event: Event, out: &mut Vec<Output>) {
        match self.reorder.push(event) {
            Admission::Buffered => {}
            Admission::Late(event) => {
                self.stats.late += 1;
                self.process(*event, out);
            }
        }
        while let Some(event) = self.reorder.pop_ready() {
            self.process(event, out);
        }
    }

    /// Processes everything buffered now, without waiting for the watermark
    /// (`serve` does this when the stream goes idle). Events that arrive
    /// later and are older than what was flushed count as late.
    pub fn flush(&mut self, out: &mut Vec<Output>) {
        while let Some(event) = self.reorder.pop_any() {
            self.process(event, out);
        }
    }

    /// End of input: drains the reorder buffer and lets detectors close
    /// their windows.
    pub fn finish(&mut self, out: &mut Vec<Output>) {
        while let Some(event) = self.reorder.pop_any() {
            self.process(event, out);
        }
        if let Some(now) = self.stats.event_time {
            for i in 0..self.detectors.len() {
                let signals = self.detectors[i].on_time(now, &mut self.ctx);
                self.handle(signals, out);
            }
        }
    }

    fn process(&mut self, event: Event, out: &mut Vec<Output>) {
        let now = self.ctx.now.max(event.ts);
        self.ctx.now = now;
        let minute = now.as_micros().div_euclid(MICROS_PER_MINUTE);
        if self.current_minute.is_some_and(|m| m != minute) {
            for i in 0..self.detectors.len() {
                let signals = self.detectors[i].on_time(now, &mut self.ctx);
                self.handle(signals, out);
            }
        }
        self.current_minute = Some(minute);
        self.sweep(now);

        self.stats.processed += 1;
        self.stats.event_time = Some(now);
        if let EventBody::Unknown { type_name } = &event.body {
            count(&mut self.stats.unknown_types, type_name);
            return;
        }
        count(&mut self.stats.by_type, event.body.type_name());
        if let EventBody::CountermeasureRelease(release) = &event.body {
            let record = self
                .ctx
                .countermeasures
                .release(
                    &release.entity,
                    release.action,
                    event.ts,
                    &release.released_by,
                    &release.reason,
                )
                .unwrap_or_else(|| ResponseRecord {
                    ts: event.ts,
                    entity: release.entity.clone(),
                    action: release.action,
                    outcome: "not_active",
                    alert_id: String::new(),
                    released_by: Some(release.released_by.clone()),
                    reason: Some(release.reason.clone()),
                });
            self.stats.responses += 1;
            out.push(Output::Response(record));
        }
        self.ctx.directory.apply(&event);
        for i in 0..self.detectors.len() {
            let signals = self.detectors[i].observe(&event, &mut self.ctx);
            self.handle(signals, out);
        }
    }

    fn handle(&mut self, signals: Vec<Signal>, out: &mut Vec<Output>) {
        for signal in signals {
            match signal {
                Signal::Mark(mark) => self.ctx.marks.insert(mark),
                Signal::Alert(mut alert) => {
                    alert.alert_id =
                        format!("{}{}", self.config.alert_id_prefix, self.next_alert_number);
                    self.next_alert_number += 1;
                    *self
                        .stats
                        .alerts_by_detector
                        .entry(alert.detector.clone())
                        .or_default() += 1;
                    let records = self.ctx.countermeasures.apply(&alert);
                    self.stats.responses += records.len() as u64;
                    out.push(Output::Alert(alert));
                    out.extend(records.into_iter().map(Output::Response));
                }
            }
        }
    }

    /// Once per event-time day: forget closed tickets and expired marks.
    fn sweep(&mut self, now: EventTime) {
        let day = now.day_index();
        if self.last_sweep_day == Some(day) {
            return;
        }
        self.last_sweep_day = Some(day);
        self.ctx
            .directory
            .evict_tickets_closed_before(now.saturating_sub(self.config.ticket_retention));
        self.ctx.marks.expire(now);
    }
}

/// Counts without allocating a key for names already seen (every event
/// passes here).
fn count(map: &mut BTreeMap<String, u64>, name: &str) {
    match map.get_mut(name) {
        Some(n) => *n += 1,
        None => {
            map.insert(name.to_owned(), 1);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::alert::{Entity, EntityKind, ResponseAction, Severity};
    use crate::detector::Mark;
    use crate::event::EventBody;
    use crate::parse::parse_event;

    /// Alerts on every access outside a ticket; marks the customer.
    struct OffTicket;
    impl Detector for OffTicket {
        fn name(&self) -> &'static str {
            "test_off_ticket"
        }
        fn observe(&mut self, event: &Event, ctx: &mut Context) -> Vec<Signal> {
            let EventBody::AgentAccess(a) = &event.body else {
                return Vec::new();
            };
            if a.ticket_id.is_some() {
                return Vec::new();
            }
            let team = ctx
                .directory
                .agent(&a.agent_id)
                .map_or("?", |r| r.team.as_str())
                .to_owned();
            let mut signals = vec![Signal::Alert(
                Alert::new(
                    self.name(),
                    event.ts,
                    Entity::new(EntityKind::Agent, a.agent_id.as_str()),
                    Severity::High,
                    0.9,
                )
                .reason(
                    "off_ticket_access",
                    format!("access with no ticket (team {team})"),
                )
                .evidence(event.id.clone())
                .respond(ResponseAction::SuspendAccess),
            )];
            if let Some(c) = &a.customer_id {
                signals.push(Signal::Mark(Mark {
                    entity: Entity::new(EntityKind::Customer, c.as_str()),
                    code: "read_by_suspect_agent".into(),
                    source: self.name().into(),
                    since: event.ts,
                    until: event.ts.saturating_add(Span::from_days(1)),
                }));
            }
            signals
        }
    }

    fn events(lines: &[&str]) -> Vec<Event> {
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| parse_event(l, || (i + 1).to_string()).unwrap())
            .collect()
    }

    fn run(events: Vec<Event>) -> (Vec<Output>, Pipeline) {
        let mut p = Pipeline::new(PipelineConfig::default(), vec![Box::new(OffTicket)]);
        let mut out = Vec::new();
        for e in events {
            p.push(e, &mut out);
        }
        p.finish(&mut out);
        (out, p)
    }

    #[test]
    fn detectors_see_directory_and_event_time_order() {
        let (out, p) = run(events(&[
            r#"{"type":"agent","ts":"2025-01-01T00:00:00Z","agent_id":"a","team":"vip-desk","role":"r"}"#,
            r#"{"type":"agent_access","ts":"2025-01-02T03:20:00Z","id":"late-but-ok","agent_id":"a","customer_id":"c","ticket_id":null,"action":"view","fields":["name"]}"#,
            r#"{"type":"agent_access","ts":"2025-01-02T03:17:00Z","id":"first","agent_id":"a","customer_id":"c","ticket_id":null,"action":"view","fields":["name"]}"#,
            r#"{"type":"agent_access","ts":"2025-01-02T03:00:00Z","id":"too-late","agent_id":"a","customer_id":null,"ticket_id":"t","action":"search","fields":[]}"#,
            r#"{"type":"mystery","ts":"2025-01-02T03:21:00Z"}"#,
        ]));
        let alerts: Vec<&Alert> = out
            .iter()
            .filter_map(|o| {
                if let Output::Alert(a) = o {
                    Some(a)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(alerts.len(), 2);
        assert_eq!(alerts[0].alert_id, "al-1");
        assert_eq!(alerts[0].evidence[0].as_str(), "first");
        assert_eq!(alerts[1].evidence[0].as_str(), "late-but-ok");
        assert!(alerts[0].reasons[0].detail.contains("vip-desk"));
        // Responses follow their alert: first applied, then already active.
        let outcomes: Vec<&str> = out
            .iter()
            .filter_map(|o| {
                if let Output::Response(r) = o {
                    Some(r.outcome)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(outcomes, ["applied", "already_active"]);
        let stats = p.stats();
        assert_eq!(stats.processed, 5);
        assert_eq!(stats.late, 1);
        assert_eq!(stats.unknown_types.get("mystery"), Some(&1));
        assert_eq!(stats.alerts_by_detector.get("test_off_ticket"), Some(&2));
        let now = EventTime::parse("2025-01-02T04:00:00Z").unwrap();
        assert_eq!(
            p.context()
                .marks
                .active(EntityKind::Customer, "c", now)
                .count(),
            2
        );
    }

    #[test]
    fn an_analyst_release_lifts_the_countermeasure_and_is_recorded() {
        let (out, p) = run(events(&[
            r#"{"type":"agent_access","ts":"2025-01-02T03:20:00Z","id":"x1","agent_id":"a","customer_id":"c","ticket_id":null,"action":"view","fields":["name"]}"#,
            r#"{"type":"countermeasure_release","ts":"2025-01-02T04:00:00Z","entity":{"kind":"agent","id":"a"},"action":"suspend_access","released_by":"analyst-7","reason":"benign: QA review"}"#,
            r#"{"type":"countermeasure_release","ts":"2025-01-02T04:01:00Z","entity":{"kind":"agent","id":"a"},"action":"suspend_access","released_by":"analyst-7","reason":"again"}"#,
        ]));
        let records: Vec<(&str, Option<&str>)> = out
            .iter()
            .filter_map(|o| {
                if let Output::Response(r) = o {
                    Some((r.outcome, r.released_by.as_deref()))
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(
            records,
            [
                ("applied", None),
                ("released", Some("analyst-7")),
                ("not_active", Some("analyst-7"))
            ]
        );
        let agent = Entity::new(EntityKind::Agent, "a");
        assert!(
            !p.context()
                .countermeasures
                .is_active(&agent, ResponseAction::SuspendAccess)
        );
    }

    #[test]
    fn same_input_same_output() {
        let lines = [
            r#"{"type":"agent_access","ts":"2025-01-02T03:20:00Z","agent_id":"a","customer_id":"c","ticket_id":null,"action":"view","fields":["name"]}"#,
            r#"{"type":"agent_access","ts":"2025-01-02T03:19:00Z","agent_id":"b","customer_id":"c","ticket_id":null,"action":"view","fields":["name"]}"#,
        ];
        let a: Vec<String> = run(events(&lines))
            .0
            .iter()
            .map(|o| format!("{o:?}"))
            .collect();
        let b: Vec<String> = run(events(&lines))
            .0
            .iter()
            .map(|o| format!("{o:?}"))
            .collect();
        assert_eq!(a, b);
        assert_eq!(a.len(), 4);
    }
}
