//! Live contacts: which agent is talking with which customer right now, so
//! the broker can let an agent read a customer they are on a call or chat
//! with although no ticket is assigned to them.
//!
//! A live contact is a `message` event in an official channel (`chat` or
//! `phone`) with `sender_role: "agent"`, a `customer_id`, and the extension
//! field `agent_id` (the v1 contract has none; the core parser keeps unknown
//! fields in the raw text, so it is read from there), within the last
//! [`LiveContacts::window`] of event time (default 10 minutes). A later
//! `ticket` closing the conversation does not end it: the window does.
//!
//! Bounded memory: one entry per (agent, customer) with the latest event
//! time; entries older than the window are pruned as event time advances,
//! and past [`LiveContacts::capacity`] the oldest are dropped (which only
//! ever takes access away).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use custos_core::event::{Channel, Event, EventBody, SenderRole};
use custos_core::id::{AgentId, CustomerId};
use custos_core::parse::parse_event;
use custos_core::time::{EventTime, Span};

/// Default window of a live contact.
pub const LIVE_CONTACT_WINDOW: Span = Span::from_minutes(10);
/// Default number of (agent, customer) pairs remembered.
pub const LIVE_CONTACT_CAPACITY: usize = 100_000;
/// How far in the future of `now` a message may be and still count (clock
/// skew between the contact centre and custos); later ones do not.
pub const LIVE_CONTACT_SKEW: Span = Span::from_secs(60);

/// The tracker. Share it with an `Arc`: the pipeline tailer calls
/// [`LiveContacts::observe_event`] for every event, the access service asks
/// [`LiveContacts::is_live`].
pub struct LiveContacts {
    window: Span,
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// (agent id, customer id) → event time of the latest agent message.
    last_seen: HashMap<(String, String), EventTime>,
    /// The latest event time observed.
    high_water: Option<EventTime>,
    /// `high_water` at the last pruning.
    pruned_at: Option<EventTime>,
}

impl std::fmt::Debug for LiveContacts {
    /// Counts only: which agent talks with which customer is not for logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveContacts")
            .field("window", &self.window)
            .field("capacity", &self.capacity)
            .field("tracked", &self.len())
            .finish()
    }
}

impl Default for LiveContacts {
    fn default() -> LiveContacts {
        LiveContacts::new(LIVE_CONTACT_WINDOW, LIVE_CONTACT_CAPACITY)
    }
}

impl LiveContacts {
    /// A tracker counting messages of the last `window` of event time,
    /// remembering at most `capacity` (at least 1) pairs.
    pub fn new(window: Span, capacity: usize) -> LiveContacts {
        LiveContacts {
            window,
            capacity: capacity.max(1),
            state: Mutex::new(State::default()),
        }
    }

    pub fn window(&self) -> Span {
        self.window
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Pairs remembered now.
    pub fn len(&self) -> usize {
        self.lock().last_seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Observes one event given as its JSON line. Returns whether it was an
    /// agent's message in an official channel (a live contact).
    pub fn observe(&self, raw: &str) -> bool {
        match parse_event(raw, || "live-contact".to_owned()) {
            Ok(event) => self.observe_event(&event, raw),
            Err(_) => false,
        }
    }

    /// Observes one parsed event; `raw` is its JSON line (for the
    /// `agent_id` extension field). Non-message events cost a match.
    pub fn observe_event(&self, event: &Event, raw: &str) -> bool {
        let EventBody::Message(message) = &event.body else {
            return false;
        };
        if message.sender_role != Some(SenderRole::Agent)
            || !matches!(message.channel, Some(Channel::Chat | Channel::Phone))
        {
            return false;
        }
        let Some(customer) = &message.customer_id else {
            return false;
        };
        let Some(agent) = agent_id_of(raw) else {
            return false;
        };
        self.record(&agent, customer, event.ts);
        true
    }

    /// Records a contact of `agent` with `customer` at `at` (what
    /// [`LiveContacts::observe_event`] does for a qualifying message).
    pub fn record(&self, agent: &AgentId, customer: &CustomerId, at: EventTime) {
        let mut state = self.lock();
        let key = (agent.as_str().to_owned(), customer.as_str().to_owned());
        let entry = state.last_seen.entry(key).or_insert(at);
        if *entry < at {
            *entry = at;
        }
        if state.high_water.is_none_or(|high| high < at) {
            state.high_water = Some(at);
        }
        self.prune(&mut state);
    }

    /// Whether `agent` had a live contact with `customer` within the
    /// window before `now`. Ids are compared exactly, as the directory
    /// keys them.
    pub fn is_live(&self, agent: &AgentId, customer: &CustomerId, now: EventTime) -> bool {
        let state = self.lock();
        let key = (agent.as_str().to_owned(), customer.as_str().to_owned());
        state.last_seen.get(&key).is_some_and(|&at| {
            at <= now.saturating_add(LIVE_CONTACT_SKEW) && now.since(at) <= self.window
        })
    }

    /// Drops entries older than the window before the latest event time,
    /// once event time moved by a tenth of the window (amortised), and the
    /// oldest entries past the capacity.
    fn prune(&self, state: &mut State) {
        let Some(high) = state.high_water else { return };
        let step = Span::from_micros(self.window.as_micros() / 10);
        let due = state.pruned_at.is_none_or(|at| high.since(at) >= step);
        if due {
            let horizon = high.saturating_sub(self.window);
            state.last_seen.retain(|_, at| *at >= horizon);
            state.pruned_at = Some(high);
        }
        if state.last_seen.len() > self.capacity {
            // Keep the newest `capacity`: the cut-off time is the
            // capacity-th newest; ties at the cut-off may all go.
            let mut times: Vec<EventTime> = state.last_seen.values().copied().collect();
            let drop = times.len() - self.capacity;
            let (_, &mut cut, _) = times.select_nth_unstable(drop);
            state.last_seen.retain(|_, at| *at > cut);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a cache of event times: a panic mid-update leaves
        // it consistent enough (at worst one stale entry).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The `agent_id` extension field of a message.
fn agent_id_of(raw: &str) -> Option<AgentId> {
    #[derive(serde::Deserialize)]
    struct AgentField<'a> {
        #[serde(borrow, default)]
        agent_id: Option<std::borrow::Cow<'a, str>>,
    }
    let field: AgentField<'_> = serde_json::from_str(raw).ok()?;
    AgentId::parse(field.agent_id?.into_owned()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(ts: &str, channel: &str, role: &str, agent: Option<&str>, customer: &str) -> String {
        let agent = agent.map_or(String::new(), |a| format!(r#","agent_id":"{a}""#));
        format!(
            r#"{{"type":"message","ts":"{ts}","conversation_id":"conv-1","channel":"{channel}","direction":"inbound","sender_role":"{role}","customer_id":"{customer}","text":"hello"{agent}}}"#
        )
    }

    fn at(text: &str) -> EventTime {
        EventTime::parse(text).unwrap()
    }

    fn ids(agent: &str, customer: &str) -> (AgentId, CustomerId) {
        (
            AgentId::parse(agent).unwrap(),
            CustomerId::parse(customer).unwrap(),
        )
    }

    #[test]
    fn only_agent_messages_in_official_channels_count() {
        let live = LiveContacts::default();
        let ts = "2025-03-01T10:00:00Z";
        let check = |raw: String, expect: bool| assert_eq!(live.observe(&raw), expect, "{raw}");
        check(message(ts, "chat", "agent", Some("a-1"), "c-1"), true);
        check(message(ts, "phone", "agent", Some("a-2"), "c-1"), true);
        check(message(ts, "sms", "agent", Some("a-3"), "c-1"), false);
        check(message(ts, "email", "agent", Some("a-3"), "c-1"), false);
        check(message(ts, "chat", "unknown", Some("a-3"), "c-1"), false);
        check(message(ts, "chat", "customer", Some("a-3"), "c-1"), false);
        check(message(ts, "chat", "agent", None, "c-1"), false);
        check(message(ts, "chat", "agent", Some(""), "c-1"), false);
        check(
            r#"{"type":"ticket","ts":"2025-03-01T10:00:00Z","ticket_id":"t-1","status":"opened","agent_id":"a-3","customer_id":"c-1"}"#.to_owned(),
            false,
        );
        check("{not json".to_owned(), false);
        let now = at("2025-03-01T10:01:00Z");
        let (a1, c1) = ids("a-1", "c-1");
        let (a3, _) = ids("a-3", "c-1");
        let (_, c2) = ids("a-1", "c-2");
        assert!(live.is_live(&a1, &c1, now));
        assert!(live.is_live(&AgentId::parse("a-2").unwrap(), &c1, now));
        assert!(!live.is_live(&a3, &c1, now));
        assert!(!live.is_live(&a1, &c2, now));
        assert_eq!(live.len(), 2);
        // Debug names no agent or customer.
        let debug = format!("{live:?}");
        assert!(!debug.contains("a-1") && !debug.contains("c-1"), "{debug}");
    }

    #[test]
    fn a_contact_lasts_the_window_of_event_time() {
        let live = LiveContacts::new(Span::from_minutes(10), 100);
        assert!(live.observe(&message(
            "2025-03-01T10:00:00Z",
            "chat",
            "agent",
            Some("a-1"),
            "c-1"
        )));
        let (a1, c1) = ids("a-1", "c-1");
        assert!(live.is_live(&a1, &c1, at("2025-03-01T10:00:00Z")));
        assert!(live.is_live(&a1, &c1, at("2025-03-01T10:10:00Z")));
        assert!(!live.is_live(&a1, &c1, at("2025-03-01T10:10:00.000001Z")));
        // Before the message (beyond the clock skew) it was not live yet.
        assert!(live.is_live(&a1, &c1, at("2025-03-01T09:59:00Z")));
        assert!(!live.is_live(&a1, &c1, at("2025-03-01T09:58:59Z")));
        // A later message extends it; an older one arriving late does not
        // roll it back.
        live.observe(&message(
            "2025-03-01T10:08:00Z",
            "phone",
            "agent",
            Some("a-1"),
            "c-1",
        ));
        live.observe(&message(
            "2025-03-01T10:01:00Z",
            "chat",
            "agent",
            Some("a-1"),
            "c-1",
        ));
        assert!(live.is_live(&a1, &c1, at("2025-03-01T10:17:00Z")));
        assert!(!live.is_live(&a1, &c1, at("2025-03-01T10:18:01Z")));
    }

    #[test]
    fn memory_stays_bounded() {
        let live = LiveContacts::new(Span::from_minutes(10), 50);
        let base = at("2025-03-01T10:00:00Z");
        // 200 pairs over 20 minutes of event time: pruned by age.
        for i in 0..200_i64 {
            let (agent, customer) = ids(&format!("a-{i}"), &format!("c-{i}"));
            live.record(
                &agent,
                &customer,
                base.saturating_add(Span::from_secs(i * 6)),
            );
            assert!(live.len() <= 50, "{} entries", live.len());
        }
        let now = base.saturating_add(Span::from_secs(199 * 6));
        let (newest, newest_customer) = ids("a-199", "c-199");
        assert!(live.is_live(&newest, &newest_customer, now));
        let (oldest, oldest_customer) = ids("a-0", "c-0");
        assert!(!live.is_live(&oldest, &oldest_customer, base));
        // Within one instant, the capacity alone bounds it.
        let burst = LiveContacts::new(Span::from_minutes(10), 10);
        for i in 0..100_i64 {
            let (agent, customer) = ids(&format!("a-{i}"), "c-1");
            burst.record(&agent, &customer, base.saturating_add(Span::from_micros(i)));
        }
        assert!(burst.len() <= 10);
        let (last, c1) = ids("a-99", "c-1");
        assert!(burst.is_live(&last, &c1, base));
    }
}
