//! The reorder buffer: puts slightly out-of-order events back in event-time
//! order, holding each until the watermark (latest event time seen minus the
//! allowed lateness) passes it.
//!
//! An event older than the watermark can no longer be put in order. It is
//! not dropped (evidence is never thrown away): it is handed on at once and
//! counted as late, so the operator sees how often the lateness is too small.

use crate::event::Event;
use crate::time::{EventTime, Span};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// Boxed, so heap sifts move a pointer rather than a whole event.
struct Pending {
    ts: EventTime,
    arrival: u64,
    event: Box<Event>,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Pending) -> bool {
        (self.ts, self.arrival) == (other.ts, other.arrival)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Pending) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    // Ties in event time keep arrival order, so output is deterministic.
    fn cmp(&self, other: &Pending) -> Ordering {
        (self.ts, self.arrival).cmp(&(other.ts, other.arrival))
    }
}

/// Whether a pushed event was buffered or came too late to be ordered.
#[derive(Debug, PartialEq)]
pub enum Admission {
    Buffered,
    /// Older than the watermark; handed back for processing out of order.
    Late(Box<Event>),
}

pub struct ReorderBuffer {
    lateness: Span,
    heap: BinaryHeap<Reverse<Pending>>,
    max_seen: Option<EventTime>,
    /// The latest event time released so far: nothing older can be ordered.
    released: Option<EventTime>,
    arrivals: u64,
}

impl ReorderBuffer {
    pub fn new(lateness: Span) -> ReorderBuffer {
        ReorderBuffer {
            lateness,
            heap: BinaryHeap::new(),
            max_seen: None,
            released: None,
            arrivals: 0,
        }
    }

    /// Latest event time seen minus the lateness; `None` before any event.
    pub fn watermark(&self) -> Option<EventTime> {
        self.max_seen.map(|t| t.saturating_sub(self.lateness))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    pub fn push(&mut self, event: Event) -> Admission {
        let floor = self.watermark().max(self.released);
        if floor.is_some_and(|f| event.ts < f) {
            return Admission::Late(Box::new(event));
        }
        self.max_seen = Some(self.max_seen.map_or(event.ts, |m| m.max(event.ts)));
        self.arrivals += 1;
        self.heap.push(Reverse(Pending {
            ts: event.ts,
            arrival: self.arrivals,
            event: Box::new(event),
        }));
        Admission::Buffered
    }

    /// Pops the next event the watermark has passed.
    pub fn pop_ready(&mut self) -> Option<Event> {
        let watermark = self.watermark()?;
        if self.heap.peek().is_some_and(|Reverse(p)| p.ts <= watermark) {
            self.pop_any()
        } else {
            None
        }
    }

    /// Pops the next event regardless of the watermark (end of input, or an
    /// idle flush). Events older than it will then count as late.
    pub fn pop_any(&mut self) -> Option<Event> {
        let Reverse(p) = self.heap.pop()?;
        self.released = Some(self.released.map_or(p.ts, |r| r.max(p.ts)));
        Some(*p.event)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::event::EventBody;
    use crate::id::EventId;
    use proptest::prelude::*;

    fn ev(id: &str, secs: i64) -> Event {
        Event {
            id: EventId::parse(id).unwrap(),
            ts: EventTime::from_unix_secs(secs),
            body: EventBody::Unknown {
                type_name: "x".into(),
            },
        }
    }

    fn ids(events: &[Event]) -> Vec<&str> {
        events.iter().map(|e| e.id.as_str()).collect()
    }

    #[test]
    fn reorders_within_lateness_and_flags_later() {
        let mut b = ReorderBuffer::new(Span::from_secs(300));
        let mut out = Vec::new();
        for (id, t) in [
            ("a", 1000),
            ("c", 1200),
            ("b", 1100),
            ("d", 1400),
            ("e", 1600),
        ] {
            assert_eq!(b.push(ev(id, t)), Admission::Buffered);
            while let Some(e) = b.pop_ready() {
                out.push(e);
            }
        }
        assert_eq!(ids(&out), ["a", "b", "c"]);
        // watermark is 1300: an event at 1250 is late, one at 1300 is not.
        assert!(matches!(b.push(ev("late", 1250)), Admission::Late(_)));
        assert_eq!(b.push(ev("ok", 1300)), Admission::Buffered);
        while let Some(e) = b.pop_any() {
            out.push(e);
        }
        assert_eq!(ids(&out), ["a", "b", "c", "ok", "d", "e"]);
        // After a flush, nothing older than what was released can be ordered.
        assert_eq!(b.push(ev("f", 1601)), Admission::Buffered);
        assert!(b.pop_any().is_some());
        assert!(matches!(b.push(ev("g", 1600)), Admission::Late(_)));
    }

    proptest! {
        /// Against a model: with jitter below the lateness nothing is late and
        /// the output is the input stably sorted by time.
        #[test]
        fn sorts_bounded_jitter(times in proptest::collection::vec((0i64..10_000, 0i64..300), 1..200)) {
            let mut b = ReorderBuffer::new(Span::from_secs(300));
            let events: Vec<Event> = times.iter().enumerate().map(|(i, (base, jitter))| ev(&i.to_string(), base * 10 - jitter)).collect();
            // Arrival order: by base time, so each event is at most 300 s late.
            let mut arrival = events.clone();
            arrival.sort_by_key(|e| e.ts.as_micros() + times[e.id.as_str().parse::<usize>().unwrap()].1 * 1_000_000);
            let mut out = Vec::new();
            for e in arrival.iter().cloned() {
                prop_assert_eq!(b.push(e), Admission::Buffered);
                while let Some(e) = b.pop_ready() { out.push(e); }
            }
            while let Some(e) = b.pop_any() { out.push(e); }
            let mut expected = arrival.clone();
            expected.sort_by_key(|e| e.ts);
            prop_assert_eq!(ids(&out), ids(&expected));
        }
    }
}
