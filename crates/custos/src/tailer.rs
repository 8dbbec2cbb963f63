//! The pipeline in `serve`: a thread that tails the store's event log in
//! sequence order, runs the pipeline, and commits alerts together with its
//! progress. Ingest and analysis are decoupled by the durable log, so an
//! acknowledged event is never lost even if analysis is slow or crashes.
//!
//! On start the thread rebuilds detector state by replaying the events it
//! had already processed (their alerts are in the store already and are not
//! written again): the pipeline is deterministic, so the state, the reorder
//! buffer and the alert numbering come back exactly as they were.

use custos_core::parse::parse_event;
use custos_core::pipeline::{Output, Pipeline};
use custos_core::{Alert, Severity};
use custos_store::{NewAlert, Store, StoredEvent};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The consumer name under which the pipeline's progress is stored.
pub const CURSOR: &str = "pipeline";
const PAGE: usize = 5_000;

/// What the tailer reports after each step, for metrics and the demo.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    pub cursor: u64,
    pub processed: u64,
    pub late: u64,
    pub alerts_by_detector: Vec<(String, u64)>,
}

pub struct Tailer {
    store: Arc<dyn Store>,
    pipeline: Pipeline,
    cursor: u64,
    idle_flush: Duration,
    pending: Vec<NewAlert>,
    out: Vec<Output>,
    /// Countermeasures in force on agents, for the access broker.
    countermeasures: Option<custos_http::AgentCountermeasures>,
    /// Agents' live chats and calls with customers, for the broker.
    live_contacts: Option<Arc<custos_access::LiveContacts>>,
}

impl Tailer {
    /// Rebuilds state from the events already processed.
    /// `live_contacts`, when given, sees every event (the replayed ones
    /// too), so the broker knows which agent is talking to which customer.
    pub fn start(
        store: Arc<dyn Store>,
        mut pipeline: Pipeline,
        idle_flush: Duration,
        live_contacts: Option<Arc<custos_access::LiveContacts>>,
    ) -> anyhow::Result<Tailer> {
        let cursor = store.cursor(CURSOR)?;
        let mut at = 0;
        let mut discard = Vec::new();
        while at < cursor {
            let page = store.read_events(at, PAGE.min((cursor - at) as usize))?;
            if page.is_empty() {
                break;
            }
            for stored in &page {
                if let Some(event) = decode(stored) {
                    if let Some(live) = &live_contacts {
                        live.observe_event(&event, &stored.raw);
                    }
                    pipeline.push(event, &mut discard);
                }
                discard.clear();
            }
            at = page.last().map_or(cursor, |e| e.seq);
        }
        tracing::info!(cursor, "pipeline state rebuilt");
        Ok(Tailer {
            store,
            pipeline,
            cursor,
            idle_flush,
            pending: Vec::new(),
            out: Vec::new(),
            countermeasures: None,
            live_contacts,
        })
    }

    /// Keeps `snapshot` equal to the countermeasures in force on agents
    /// (the broker reads it: a suspended agent sees nothing).
    pub fn share_countermeasures(mut self, snapshot: custos_http::AgentCountermeasures) -> Tailer {
        self.countermeasures = Some(snapshot);
        self.publish_countermeasures();
        self
    }

    fn publish_countermeasures(&self) {
        let Some(snapshot) = &self.countermeasures else {
            return;
        };
        let state = &self.pipeline.context().countermeasures;
        let mut map = std::collections::HashMap::new();
        for entity in state.entities() {
            if entity.kind == custos_core::EntityKind::Agent {
                map.insert(
                    entity.id.clone(),
                    state.on(entity).map(|(a, _)| a).collect(),
                );
            }
        }
        if let Ok(mut shared) = snapshot.write() {
            *shared = map;
        }
    }

    pub fn progress(&self) -> Progress {
        let stats = self.pipeline.stats();
        Progress {
            cursor: self.cursor,
            processed: stats.processed,
            late: stats.late,
            alerts_by_detector: stats
                .alerts_by_detector
                .iter()
                .map(|(d, n)| (d.clone(), *n))
                .collect(),
        }
    }

    /// One step: processes the next page of events, or flushes the reorder
    /// buffer when the stream has been idle long enough. Returns whether it
    /// did any work. A store error leaves state untouched for a retry.
    pub fn step(&mut self, idle_since: &mut Instant) -> anyhow::Result<bool> {
        if !self.pending.is_empty() {
            self.commit(self.cursor)?;
        }
        let page = self.store.read_events(self.cursor, PAGE)?;
        if page.is_empty() {
            if self.pipeline.buffered() > 0 && idle_since.elapsed() >= self.idle_flush {
                self.pipeline.flush(&mut self.out);
                self.collect();
                self.commit(self.cursor)?;
                return Ok(true);
            }
            return Ok(false);
        }
        *idle_since = Instant::now();
        let last = page.last().map_or(self.cursor, |e| e.seq);
        for stored in &page {
            if let Some(event) = decode(stored) {
                if let Some(live) = &self.live_contacts {
                    live.observe_event(&event, &stored.raw);
                }
                self.pipeline.push(event, &mut self.out);
            }
        }
        self.collect();
        self.cursor = last;
        self.commit(last)?;
        Ok(true)
    }

    fn collect(&mut self) {
        let mut responses = false;
        for output in self.out.drain(..) {
            match output {
                Output::Alert(alert) => self.pending.push(to_new_alert(&alert)),
                Output::Response(record) => {
                    responses = true;
                    tracing::info!(
                        entity_kind = record.entity.kind.as_str(),
                        action = record.action.as_str(),
                        outcome = record.outcome,
                        alert_id = %record.alert_id,
                        "countermeasure"
                    );
                }
            }
        }
        if responses {
            self.publish_countermeasures();
        }
    }

    /// Writes pending alerts with the cursor in one transaction; on failure
    /// they stay pending (the cursor in the store did not move either).
    fn commit(&mut self, cursor: u64) -> anyhow::Result<()> {
        self.store.append_alerts(&self.pending, CURSOR, cursor)?;
        self.pending.clear();
        Ok(())
    }

    /// Runs until `stop` is set, backing off while the store is down.
    pub fn run(mut self, stop: &AtomicBool, on_progress: &dyn Fn(&Progress)) {
        let mut idle_since = Instant::now();
        let mut backoff = Duration::from_millis(50);
        while !stop.load(Ordering::Relaxed) {
            match self.step(&mut idle_since) {
                Ok(true) => {
                    backoff = Duration::from_millis(50);
                    on_progress(&self.progress());
                }
                Ok(false) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => {
                    tracing::warn!(error = %e, "pipeline cannot reach the store; retrying");
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

/// Parses a stored event. Ingest validated it, so a failure means the
/// contract changed under stored data: logged (by sequence number, never
/// content) and skipped rather than wedging the pipeline.
fn decode(stored: &StoredEvent) -> Option<custos_core::Event> {
    match parse_event(&stored.raw, || stored.event_id.clone()) {
        Ok(event) => Some(event),
        Err(r) => {
            tracing::error!(seq = stored.seq, pointer = %r.pointer, "stored event no longer parses; skipped");
            None
        }
    }
}

pub fn to_new_alert(alert: &Alert) -> NewAlert {
    NewAlert {
        alert_id: alert.alert_id.clone(),
        ts_micros: alert.ts.as_micros(),
        detector: alert.detector.clone(),
        entity_kind: alert.entity.kind.as_str().to_owned(),
        entity_id: alert.entity.id.clone(),
        severity: match alert.severity {
            Severity::Low => custos_store::Severity::Low,
            Severity::Medium => custos_store::Severity::Medium,
            Severity::High => custos_store::Severity::High,
            Severity::Critical => custos_store::Severity::Critical,
        },
        json: alert.to_json(),
    }
}
