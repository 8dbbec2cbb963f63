//! Helpers shared by the integration tests: running a config and checking
//! the invariants every run must hold.

use std::collections::HashMap;

use custos_sim::time::parse_rfc3339;
use custos_sim::{Attack, MAX_LATENESS_SECS, SimConfig, Simulator, Truth};
use serde_json::Value;

/// A small population that still has every kind of episode in a month.
pub fn small(days: u32, seed: u64) -> SimConfig {
    SimConfig {
        days,
        seed,
        agents: 60,
        customers: 3_000,
        ..SimConfig::default()
    }
}

pub fn run(config: SimConfig) -> (Vec<String>, Truth) {
    let mut sim = Simulator::new(config).unwrap();
    let lines: Vec<String> = sim.by_ref().collect();
    (lines, sim.truth().clone())
}

/// Parsed events by id, in file order.
pub struct Events {
    pub list: Vec<Value>,
    pub by_id: HashMap<String, usize>,
}

impl Events {
    pub fn get(&self, id: &str) -> &Value {
        let i = self
            .by_id
            .get(id)
            .unwrap_or_else(|| panic!("truth names `{id}`, which is not in the output"));
        &self.list[*i]
    }
}

pub fn str_of<'a>(e: &'a Value, key: &str) -> &'a str {
    e[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {e}"))
}

/// Checks what must hold for every run, and returns the parsed events:
/// valid JSON objects with `type`, `ts` and `id`; ids `e1..eN` in file
/// order; timestamps sorted except lateness of at most 90 seconds; every id
/// the truth names exists, with the type and entity it should have.
pub fn check_invariants(lines: &[String], truth: &Truth, config: &SimConfig) -> Events {
    let mut list = Vec::with_capacity(lines.len());
    let mut by_id = HashMap::with_capacity(lines.len());
    let mut max_ts = i64::MIN;
    let start = config.start;
    let end = config.start + i64::from(config.days) * 86_400;
    for (i, line) in lines.iter().enumerate() {
        assert!(!line.contains('\n'), "line {} has a newline", i + 1);
        let e: Value = serde_json::from_str(line)
            .unwrap_or_else(|err| panic!("line {}: {err}: {line}", i + 1));
        let id = str_of(&e, "id").to_owned();
        assert_eq!(id, format!("e{}", i + 1), "ids follow file order");
        let ts = parse_rfc3339(str_of(&e, "ts")).unwrap_or_else(|| panic!("bad ts in {line}"));
        assert!(
            str_of(&e, "ts").ends_with('Z') && str_of(&e, "ts").len() == 20,
            "{line}"
        );
        assert!((start..end).contains(&ts), "ts outside the run: {line}");
        assert!(
            ts >= max_ts.saturating_sub(MAX_LATENESS_SECS),
            "more than 90 s late: {line}"
        );
        if !config.jitter {
            assert!(ts >= max_ts, "out of order without jitter: {line}");
        }
        max_ts = max_ts.max(ts);
        assert!(!str_of(&e, "type").is_empty());
        by_id.insert(id, i);
        list.push(e);
    }
    assert_eq!(truth.events, lines.len() as u64);
    let events = Events { list, by_id };
    for attack in &truth.attacks {
        assert!(
            !attack.event_ids().is_empty(),
            "{} has no events",
            attack.attack_id()
        );
        assert!(
            parse_rfc3339(attack.start_ts()).is_some(),
            "{} start_ts",
            attack.attack_id()
        );
        let mut previous = i64::MIN;
        for id in attack.event_ids() {
            let e = events.get(id);
            let ts = parse_rfc3339(str_of(e, "ts")).unwrap();
            assert!(
                ts >= previous,
                "{} event_ids not in event-time order",
                attack.attack_id()
            );
            previous = ts;
            match attack {
                Attack::InsiderHarvest(h) => {
                    assert_eq!(str_of(e, "type"), "agent_access");
                    assert_eq!(str_of(e, "agent_id"), h.agent_id);
                }
                Attack::FakeSupportCall(c) => {
                    assert_eq!(str_of(e, "type"), "message");
                    assert_eq!(str_of(e, "sender_role"), "unknown");
                    assert_eq!(str_of(e, "direction"), "inbound");
                    assert_eq!(str_of(e, "customer_id"), c.customer_id);
                    assert_eq!(str_of(e, "conversation_id"), c.conversation_id);
                }
                Attack::AccountTakeover(a) => {
                    assert_eq!(str_of(e, "type"), "customer_action");
                    assert_eq!(str_of(e, "customer_id"), a.customer_id);
                }
                Attack::NewAddressWithdrawal(a) => {
                    assert_eq!(str_of(e, "type"), "customer_action");
                    assert_eq!(str_of(e, "customer_id"), a.customer_id);
                }
            }
        }
        let first = parse_rfc3339(str_of(events.get(&attack.event_ids()[0]), "ts")).unwrap();
        assert!(
            parse_rfc3339(attack.start_ts()).unwrap() <= first,
            "{} starts after its first event",
            attack.attack_id()
        );
    }
    for benign in &truth.benign {
        for id in benign.event_ids() {
            let e = events.get(id);
            if let Some(entity) = benign.entity() {
                let key = match entity.kind {
                    custos_sim::EntityKind::Agent => "agent_id",
                    custos_sim::EntityKind::Customer => "customer_id",
                    custos_sim::EntityKind::Conversation => "conversation_id",
                };
                assert_eq!(
                    str_of(e, key),
                    entity.id,
                    "{} names the wrong entity",
                    benign.kind()
                );
            }
        }
    }
    events
}
