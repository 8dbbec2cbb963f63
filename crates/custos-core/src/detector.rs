//! The detector interface: pure, synchronous, event-time analytics.
//!
//! A detector sees each event once, in event time, with the shared
//! [`Context`] (directory, cross-detector marks, countermeasures in force),
//! and answers with [`Signal`]s. No IO, no clock, no async: the same input
//! gives the same output, which is what makes `replay` deterministic and
//! detectors testable with a table of events.

use crate::alert::{Alert, Entity, EntityKind};
use crate::directory::Directory;
use crate::event::Event;
use crate::responder::Countermeasures;
use crate::time::EventTime;
use std::collections::HashMap;

/// What a detector says about an event.
#[derive(Clone, Debug, PartialEq)]
pub enum Signal {
    /// Something a person should see; the pipeline assigns its id and hands
    /// its `response` to the responder.
    Alert(Alert),
    /// A fact for other detectors (e.g. "this customer's record was read by
    /// an agent under suspicion"), kept in the context until it expires.
    Mark(Mark),
}

/// A cross-detector fact about an entity, valid for a span of event time.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    pub entity: Entity,
    /// Stable code, e.g. `read_by_suspect_agent`, `scam_call_intercepted`.
    pub code: String,
    /// The detector that set it.
    pub source: String,
    pub since: EventTime,
    pub until: EventTime,
}

/// The mark codes detectors share, so a producer and a consumer in different
/// crates agree on the spelling. A mark names a fact, not a verdict: the
/// reader decides what it means for its own decisions.
pub mod codes {
    /// Customer: their record was read by an agent under suspicion
    /// (`agent_behavior`).
    pub const READ_BY_SUSPECT_AGENT: &str = "read_by_suspect_agent";
    /// Agent: leak attribution named them at high severity
    /// (`leak_attribution`); `agent_behavior` re-scores their past.
    pub const ATTRIBUTED_LEAK: &str = "attributed_leak";
    /// Customer: a victim in a significant leak attribution
    /// (`leak_attribution`).
    pub const LEAK_VICTIM: &str = "leak_victim";
    /// Customer: a conversation with them was judged a scam and intercepted
    /// (`conversation`); their sensitive actions get elevated protection.
    pub const SCAM_CONVERSATION: &str = "scam_conversation";
    /// Customer: they reported a scam contact (`scam_report` events).
    pub const SCAM_REPORTED: &str = "scam_reported";
    /// Agent: asked a customer for a credential in an official channel
    /// (`conversation`).
    pub const INSIDER_CREDENTIAL_REQUEST: &str = "insider_credential_request";
}

/// Marks by entity.
#[derive(Debug, Default)]
pub struct Marks {
    by_entity: HashMap<(EntityKind, String), Vec<Mark>>,
}

impl Marks {
    pub fn insert(&mut self, mark: Mark) {
        self.by_entity
            .entry((mark.entity.kind, mark.entity.id.clone()))
            .or_default()
            .push(mark);
    }

    /// The marks on an entity still valid at `now`.
    pub fn active<'a>(
        &'a self,
        kind: EntityKind,
        id: &str,
        now: EventTime,
    ) -> impl Iterator<Item = &'a Mark> + 'a {
        self.by_entity
            .get(&(kind, id.to_owned()))
            .into_iter()
            .flatten()
            .filter(move |m| m.since <= now && now < m.until)
    }

    /// Every mark held (expired ones included until [`Marks::expire`]).
    pub fn iter(&self) -> impl Iterator<Item = &Mark> + '_ {
        self.by_entity.values().flatten()
    }

    /// Drops expired marks.
    pub fn expire(&mut self, now: EventTime) {
        self.by_entity.retain(|_, marks| {
            marks.retain(|m| m.until > now);
            !marks.is_empty()
        });
    }

    pub fn len(&self) -> usize {
        self.by_entity.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_entity.is_empty()
    }
}

/// What every detector may read (and, for marks, add to) while observing.
#[derive(Debug, Default)]
pub struct Context {
    /// The event time of the latest event processed.
    pub now: EventTime,
    pub directory: Directory,
    pub marks: Marks,
    pub countermeasures: Countermeasures,
}

impl Default for EventTime {
    fn default() -> EventTime {
        EventTime::MIN
    }
}

/// A pure, synchronous analytic over the event stream.
pub trait Detector: Send {
    /// The `detector` name alerts carry (`agent_behavior`, ...).
    fn name(&self) -> &'static str;

    /// Observes one event, in event-time order (late events excepted, see
    /// the reorder buffer). The directory already reflects this event.
    fn observe(&mut self, event: &Event, ctx: &mut Context) -> Vec<Signal>;

    /// Event time moved on to `now` (called at most once per event-time
    /// minute, and once at the end of a replay): close windows, decay.
    fn on_time(&mut self, _now: EventTime, _ctx: &mut Context) -> Vec<Signal> {
        Vec::new()
    }
}
