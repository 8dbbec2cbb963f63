//! The console's index of the store: which sequence number holds an event
//! id, which events belong to an agent, the alerts with the fields the
//! queue filters and sorts on, the countermeasures alerts applied and the
//! releases that lifted them.
//!
//! The store answers "events after seq N" and "alerts after seq N" only;
//! the pages need "the event with id X" and "agent Y's recent accesses" in
//! milliseconds over a month of data, so a background thread tails both
//! logs (like the pipeline does) into tables of the console database. The
//! index only ever holds ids, types, times and alert filter fields: event
//! bodies are read from the store by sequence number when a page shows them.

use crate::error::ConsoleError;
use custos_core::EventTime;
use custos_store::{AlertQuery, Store};
use rusqlite::{Connection, params};
use serde::Deserialize;

/// Events read from the store per step.
const EVENT_PAGE: usize = 5_000;
/// Alerts read from the store per step.
const ALERT_PAGE: usize = 1_000;

pub(crate) const EVENTS_CURSOR: &str = "events";
pub(crate) const ALERTS_CURSOR: &str = "alerts";

/// What one step indexed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexStep {
    pub events: usize,
    pub alerts: usize,
}

impl IndexStep {
    pub fn is_idle(&self) -> bool {
        self.events == 0 && self.alerts == 0
    }
}

#[derive(Deserialize)]
struct EventProbe {
    #[serde(default)]
    agent_id: Option<String>,
    #[serde(default)]
    entity: Option<EntityProbe>,
    #[serde(default)]
    action: Option<serde_json::Value>,
    #[serde(default)]
    released_by: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize)]
struct EntityProbe {
    kind: String,
    id: String,
}

#[derive(Deserialize)]
struct AlertProbe {
    ts: String,
    detector: String,
    entity: EntityProbe,
    severity: String,
    #[serde(default)]
    response: Vec<String>,
}

pub(crate) fn cursor(conn: &Connection, name: &str) -> Result<u64, ConsoleError> {
    let seq: Option<i64> = rusqlite::OptionalExtension::optional(conn.query_row(
        "SELECT seq FROM idx_cursor WHERE name = ?1",
        [name],
        |row| row.get(0),
    ))?;
    Ok(seq.and_then(|s| u64::try_from(s).ok()).unwrap_or(0))
}

fn to_sql(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Indexes the next page of events and the next page of alerts.
pub(crate) fn step(store: &dyn Store, conn: &mut Connection) -> Result<IndexStep, ConsoleError> {
    let mut done = IndexStep::default();

    let after = cursor(conn, EVENTS_CURSOR)?;
    if after > store.last_seq()? {
        // The store was replaced (a wiped demo store, a restore): start over.
        tracing::warn!(after, "console index is ahead of the store; rebuilding it");
        conn.execute_batch(
            "DELETE FROM idx_cursor; DELETE FROM idx_events; DELETE FROM idx_alerts;
             DELETE FROM idx_responses; DELETE FROM idx_releases;",
        )?;
        return Ok(IndexStep {
            events: 1,
            alerts: 0,
        });
    }
    let events = store.read_events(after, EVENT_PAGE)?;
    if let Some(last) = events.last() {
        let tx = conn.transaction()?;
        {
            let mut insert_event = tx.prepare_cached(
                "INSERT OR REPLACE INTO idx_events (seq, event_id, type, ts_micros, agent_id) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            let mut insert_release = tx.prepare_cached(
                "INSERT OR REPLACE INTO idx_releases (seq, ts_micros, entity_kind, entity_id, action, released_by, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for event in &events {
                let probe: Option<EventProbe> = serde_json::from_str(&event.raw).ok();
                let agent_id = match event.event_type.as_str() {
                    "agent_access" | "agent_session" => {
                        probe.as_ref().and_then(|p| p.agent_id.clone())
                    }
                    _ => None,
                };
                insert_event.execute(params![
                    to_sql(event.seq),
                    event.event_id,
                    event.event_type,
                    event.ts_micros,
                    agent_id
                ])?;
                if event.event_type == "countermeasure_release"
                    && let Some(EventProbe {
                        entity: Some(entity),
                        action: Some(serde_json::Value::String(action)),
                        released_by,
                        reason,
                        ..
                    }) = probe
                {
                    insert_release.execute(params![
                        to_sql(event.seq),
                        event.ts_micros,
                        entity.kind,
                        entity.id,
                        action,
                        released_by.unwrap_or_default(),
                        reason.unwrap_or_default()
                    ])?;
                }
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO idx_cursor (name, seq) VALUES (?1, ?2)",
            params![EVENTS_CURSOR, to_sql(last.seq)],
        )?;
        tx.commit()?;
        done.events = events.len();
    }

    let after = cursor(conn, ALERTS_CURSOR)?;
    let page = store.query_alerts(&AlertQuery {
        after_seq: Some(after),
        limit: ALERT_PAGE,
        ..AlertQuery::default()
    })?;
    if let Some(last) = page.alerts.last() {
        let tx = conn.transaction()?;
        {
            let mut insert_alert = tx.prepare_cached(
                "INSERT OR REPLACE INTO idx_alerts (seq, alert_id, ts_micros, detector, severity, entity_kind, entity_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            let mut insert_response = tx.prepare_cached(
                "INSERT INTO idx_responses (alert_seq, entity_kind, entity_id, action, ts_micros) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for alert in &page.alerts {
                let Ok(probe) = serde_json::from_str::<AlertProbe>(&alert.json) else {
                    tracing::warn!(
                        alert_seq = alert.seq,
                        "console index skips an unreadable alert"
                    );
                    continue;
                };
                let ts = EventTime::parse(&probe.ts).map_or(0, EventTime::as_micros);
                let severity = probe
                    .severity
                    .parse::<custos_store::Severity>()
                    .map_or(0, |s| i64::from(s.code()));
                insert_alert.execute(params![
                    to_sql(alert.seq),
                    alert.alert_id,
                    ts,
                    probe.detector,
                    severity,
                    probe.entity.kind,
                    probe.entity.id
                ])?;
                for action in &probe.response {
                    insert_response.execute(params![
                        to_sql(alert.seq),
                        probe.entity.kind,
                        probe.entity.id,
                        action,
                        ts
                    ])?;
                }
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO idx_cursor (name, seq) VALUES (?1, ?2)",
            params![ALERTS_CURSOR, to_sql(last.seq)],
        )?;
        tx.commit()?;
        done.alerts = page.alerts.len();
    }
    Ok(done)
}
