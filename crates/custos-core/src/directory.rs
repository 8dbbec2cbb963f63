//! Who is who, now: the current agent, customer and ticket records as the
//! pipeline has seen them in event time. Detectors read it through the
//! [`crate::detector::Context`].

use crate::event::{AgentRecord, CustomerRecord, Event, EventBody, Ticket, TicketStatus};
use crate::id::{AgentId, CustomerId, TicketId};
use crate::time::EventTime;
use std::collections::HashMap;

/// A ticket's current state and its life so far.
#[derive(Clone, Debug, PartialEq)]
pub struct TicketState {
    pub ticket: Ticket,
    pub opened_at: EventTime,
    pub updated_at: EventTime,
    pub closed_at: Option<EventTime>,
}

/// Current directory state.
#[derive(Debug, Default)]
pub struct Directory {
    agents: HashMap<AgentId, (EventTime, AgentRecord)>,
    customers: HashMap<CustomerId, (EventTime, CustomerRecord)>,
    tickets: HashMap<TicketId, TicketState>,
}

impl Directory {
    pub fn agent(&self, id: &AgentId) -> Option<&AgentRecord> {
        self.agents.get(id).map(|(_, r)| r)
    }
    pub fn customer(&self, id: &CustomerId) -> Option<&CustomerRecord> {
        self.customers.get(id).map(|(_, r)| r)
    }
    pub fn ticket(&self, id: &TicketId) -> Option<&TicketState> {
        self.tickets.get(id)
    }
    pub fn agent_count(&self) -> usize {
        self.agents.len()
    }
    pub fn customer_count(&self) -> usize {
        self.customers.len()
    }
    pub fn ticket_count(&self) -> usize {
        self.tickets.len()
    }
    pub fn agents(&self) -> impl Iterator<Item = &AgentRecord> {
        self.agents.values().map(|(_, r)| r)
    }

    /// Applies a directory event. A later record replaces an earlier one; a
    /// record older than the one held (it arrived late) does not roll state
    /// back. Ticket updates keep what the newer record leaves out.
    pub fn apply(&mut self, event: &Event) {
        match &event.body {
            EventBody::Agent(a) => replace_if_newer(&mut self.agents, &a.agent_id, event.ts, a),
            EventBody::Customer(c) => {
                replace_if_newer(&mut self.customers, &c.customer_id, event.ts, c)
            }
            EventBody::Ticket(t) => self.apply_ticket(event.ts, t),
            _ => {}
        }
    }

    fn apply_ticket(&mut self, ts: EventTime, t: &Ticket) {
        let closed_at = (t.status == TicketStatus::Closed).then_some(ts);
        match self.tickets.get_mut(&t.ticket_id) {
            None => {
                self.tickets.insert(
                    t.ticket_id.clone(),
                    TicketState {
                        ticket: t.clone(),
                        opened_at: ts,
                        updated_at: ts,
                        closed_at,
                    },
                );
            }
            Some(state) if ts >= state.updated_at => {
                let old = std::mem::replace(&mut state.ticket, t.clone());
                let new = &mut state.ticket;
                if new.customer_id.is_none() {
                    new.customer_id = old.customer_id;
                }
                if new.agent_id.is_none() && new.status != TicketStatus::Opened {
                    new.agent_id = old.agent_id;
                }
                if new.channel.is_none() {
                    new.channel = old.channel;
                }
                if new.category.is_none() {
                    new.category = old.category;
                }
                if new.opened_by.is_none() {
                    new.opened_by = old.opened_by;
                }
                state.updated_at = ts;
                state.closed_at = closed_at;
                state.opened_at = state.opened_at.min(ts);
            }
            Some(state) => {
                // An older update arriving late only tells us when it began.
                state.opened_at = state.opened_at.min(ts);
            }
        }
    }

    /// Forgets tickets closed before `cutoff`, so state stays bounded on an
    /// endless stream.
    pub fn evict_tickets_closed_before(&mut self, cutoff: EventTime) -> usize {
        let before = self.tickets.len();
        self.tickets
            .retain(|_, s| s.closed_at.is_none_or(|c| c >= cutoff));
        before - self.tickets.len()
    }
}

fn replace_if_newer<K: std::hash::Hash + Eq + Clone, V: Clone>(
    map: &mut HashMap<K, (EventTime, V)>,
    key: &K,
    ts: EventTime,
    value: &V,
) {
    match map.get_mut(key) {
        Some((held, _)) if *held > ts => {}
        Some(slot) => *slot = (ts, value.clone()),
        None => {
            map.insert(key.clone(), (ts, value.clone()));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::parse::parse_event;

    fn ev(line: &str) -> Event {
        parse_event(line, || "x".into()).unwrap()
    }

    #[test]
    fn later_agent_record_wins_and_late_one_does_not() {
        let mut d = Directory::default();
        d.apply(&ev(r#"{"type":"agent","ts":"2025-01-02T00:00:00Z","agent_id":"a","team":"vip-desk","role":"r"}"#));
        d.apply(&ev(r#"{"type":"agent","ts":"2025-01-01T00:00:00Z","agent_id":"a","team":"tier1","role":"r"}"#));
        let a = AgentId::parse("a").unwrap();
        assert_eq!(d.agent(&a).unwrap().team, "vip-desk");
        d.apply(&ev(r#"{"type":"agent","ts":"2025-01-03T00:00:00Z","agent_id":"a","team":"kyc","role":"r"}"#));
        assert_eq!(d.agent(&a).unwrap().team, "kyc");
    }

    #[test]
    fn tickets_merge_and_evict() {
        let mut d = Directory::default();
        d.apply(&ev(r#"{"type":"ticket","ts":"2025-01-02T03:05:00Z","ticket_id":"t","customer_id":"c","agent_id":null,"status":"opened","category":"kyc","opened_by":"customer"}"#));
        d.apply(&ev(r#"{"type":"ticket","ts":"2025-01-02T03:06:00Z","ticket_id":"t","agent_id":"a","status":"assigned"}"#));
        let t = TicketId::parse("t").unwrap();
        let s = d.ticket(&t).unwrap();
        assert_eq!(s.ticket.agent_id.as_ref().unwrap().as_str(), "a");
        assert_eq!(s.ticket.category.as_deref(), Some("kyc"));
        assert_eq!(s.ticket.customer_id.as_ref().unwrap().as_str(), "c");
        assert_eq!(
            s.opened_at,
            EventTime::parse("2025-01-02T03:05:00Z").unwrap()
        );
        d.apply(&ev(
            r#"{"type":"ticket","ts":"2025-01-02T04:00:00Z","ticket_id":"t","status":"closed"}"#,
        ));
        assert_eq!(
            d.ticket(&t)
                .unwrap()
                .ticket
                .agent_id
                .as_ref()
                .unwrap()
                .as_str(),
            "a"
        );
        assert_eq!(
            d.evict_tickets_closed_before(EventTime::parse("2025-01-02T04:00:00Z").unwrap()),
            0
        );
        assert_eq!(
            d.evict_tickets_closed_before(EventTime::parse("2025-01-02T04:00:01Z").unwrap()),
            1
        );
        assert!(d.ticket(&t).is_none());
    }
}
