//! The ground truth names the right events, entities and relations.

use std::collections::{HashMap, HashSet};

use custos_sim::time::parse_rfc3339;
use custos_sim::{Attack, Benign, SimConfig};
use serde_json::Value;

use crate::common::{Events, check_invariants, run, small, str_of};

fn month() -> (SimConfig, Vec<String>, custos_sim::Truth) {
    let config = small(30, 1);
    let (lines, truth) = run(config);
    (config, lines, truth)
}

/// Tickets by id: (opened_by, agent it was assigned to).
fn tickets(events: &Events) -> HashMap<String, (String, Option<String>)> {
    let mut out: HashMap<String, (String, Option<String>)> = HashMap::new();
    for e in &events.list {
        if str_of(e, "type") != "ticket" {
            continue;
        }
        let entry = out
            .entry(str_of(e, "ticket_id").to_owned())
            .or_insert_with(|| (str_of(e, "opened_by").to_owned(), None));
        if str_of(e, "status") == "assigned" {
            entry.1 = Some(str_of(e, "agent_id").to_owned());
        }
    }
    out
}

#[test]
fn a_month_has_every_attack_kind_and_both_harvest_styles() {
    let (config, lines, truth) = month();
    check_invariants(&lines, &truth, &config);
    let kinds: HashSet<&str> = truth.attacks.iter().map(Attack::kind).collect();
    for kind in [
        "insider_harvest",
        "fake_support_call",
        "account_takeover",
        "new_address_withdrawal",
    ] {
        assert!(kinds.contains(kind), "no {kind} in {kinds:?}");
    }
    let styles: HashSet<&str> = truth
        .attacks
        .iter()
        .filter_map(|a| match a {
            Attack::InsiderHarvest(h) => Some(h.style.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        styles,
        HashSet::from(["slow", "burst", "pretext", "ring", "off_hours"])
    );
    let ids: HashSet<&str> = truth.attacks.iter().map(Attack::attack_id).collect();
    assert_eq!(ids.len(), truth.attacks.len(), "attack ids are unique");
    let benign: HashSet<&str> = truth.benign.iter().map(Benign::kind).collect();
    for kind in [
        "queue_spike",
        "new_hire",
        "team_move",
        "traveler",
        "off_ticket_access",
        "hard_benign_conversation",
    ] {
        assert!(benign.contains(kind), "no benign {kind} in {benign:?}");
    }
}

#[test]
fn insider_accesses_are_off_ticket_or_on_tickets_the_insider_opened() {
    let (config, lines, truth) = month();
    let events = check_invariants(&lines, &truth, &config);
    let tickets = tickets(&events);
    let mut harvests = 0;
    for attack in &truth.attacks {
        let Attack::InsiderHarvest(h) = attack else {
            continue;
        };
        harvests += 1;
        let mut victims = HashSet::new();
        for id in &h.event_ids {
            let e = events.get(id);
            assert_eq!(str_of(e, "action"), "view");
            victims.insert(str_of(e, "customer_id").to_owned());
            if let Some(ticket) = e["ticket_id"].as_str() {
                let (opened_by, agent) = &tickets[ticket];
                assert_eq!(opened_by, "agent", "{ticket} of {}", h.attack_id);
                assert_eq!(
                    agent.as_deref(),
                    Some(h.agent_id.as_str()),
                    "{ticket} of {}",
                    h.attack_id
                );
            }
        }
        let listed: HashSet<String> = h.victim_customer_ids.iter().cloned().collect();
        assert_eq!(
            victims, listed,
            "{}: victims are exactly the customers read",
            h.attack_id
        );
        let (start, end) = (
            parse_rfc3339(&h.start_ts).unwrap(),
            parse_rfc3339(&h.end_ts).unwrap(),
        );
        assert!(start <= end);
        match h.style.as_str() {
            "burst" => {
                assert!(h.event_ids.len() >= 100, "a burst is hundreds of records");
                assert!(end - start < 4 * 3600, "a burst is one night");
                assert!(
                    h.event_ids
                        .iter()
                        .all(|id| events.get(id)["ticket_id"].is_null())
                );
                // Outside the agent's shift.
                let agent = agent_record(&events, &h.agent_id);
                let (s, e) = (
                    agent["shift"]["start_hour"].as_i64().unwrap(),
                    agent["shift"]["end_hour"].as_i64().unwrap(),
                );
                let hour = (start / 3600).rem_euclid(24);
                let on = if s < e {
                    (s..e).contains(&hour)
                } else {
                    hour >= s || hour < e
                };
                assert!(
                    !on,
                    "burst of {} at hour {hour} inside shift {s}-{e}",
                    h.attack_id
                );
            }
            "slow" => {
                assert!(end - start >= 86_400, "slow harvesting spans days");
                let per_day = h.event_ids.len() as f64 / ((end - start) as f64 / 86_400.0).ceil();
                assert!(per_day <= 8.0, "{per_day} a day is not slow");
            }
            "pretext" => {
                assert!(
                    h.event_ids
                        .iter()
                        .all(|id| events.get(id)["ticket_id"].is_string()),
                    "{}: every pretext access is on a ticket",
                    h.attack_id
                );
            }
            "ring" => {
                let per_day =
                    h.event_ids.len() as f64 / ((end - start) as f64 / 86_400.0).ceil().max(1.0);
                assert!(per_day <= 4.0, "{per_day} a day is not a ring member's few");
            }
            "off_hours" => {
                assert!(
                    end - start < 3 * 3600,
                    "off-hours harvesting is one session"
                );
                assert!((12..=35).contains(&h.event_ids.len()));
                assert!(h.event_ids.iter().all(|id| {
                    events.get(id)["device_id"]
                        .as_str()
                        .is_some_and(|d| d.starts_with("dev-x"))
                }));
            }
            other => panic!("unknown style {other}"),
        }
    }
    assert!(harvests >= 4);
}

fn agent_record<'a>(events: &'a Events, agent_id: &str) -> &'a Value {
    events
        .list
        .iter()
        .find(|e| str_of(e, "type") == "agent" && str_of(e, "agent_id") == agent_id)
        .unwrap()
}

#[test]
fn calls_come_from_harvested_victims_and_takeovers_follow_compliance() {
    let (config, lines, truth) = month();
    let events = check_invariants(&lines, &truth, &config);
    let by_id: HashMap<&str, &Attack> = truth.attacks.iter().map(|a| (a.attack_id(), a)).collect();
    let mut complied = 0;
    for attack in &truth.attacks {
        match attack {
            Attack::FakeSupportCall(c) => {
                assert!(!c.inducement_event_ids.is_empty());
                assert!(
                    c.inducement_event_ids
                        .iter()
                        .all(|id| c.event_ids.contains(id))
                );
                if let Some(h) = &c.harvest_attack_id {
                    let Attack::InsiderHarvest(h) = by_id[h.as_str()] else {
                        panic!("{h} is not a harvest")
                    };
                    assert!(h.victim_customer_ids.contains(&c.customer_id));
                    assert!(
                        parse_rfc3339(&h.end_ts).unwrap() < parse_rfc3339(&c.start_ts).unwrap()
                    );
                    assert_eq!(c.source, "insider_harvest");
                } else {
                    assert_eq!(c.source, "external_leak");
                }
                for id in &c.compliance_event_ids {
                    let e = events.get(id);
                    assert_eq!(str_of(e, "sender_role"), "customer");
                    assert_eq!(str_of(e, "conversation_id"), c.conversation_id);
                }
                assert_eq!(c.complied, !c.compliance_event_ids.is_empty());
                assert_eq!(c.complied, c.takeover_attack_id.is_some());
                if let Some(report) = &c.report_event_id {
                    let e = events.get(report);
                    assert_eq!(str_of(e, "type"), "scam_report");
                    assert_eq!(str_of(e, "customer_id"), c.customer_id);
                    assert_eq!(Some(str_of(e, "report_id")), c.report_id.as_deref());
                    assert_eq!(str_of(e, "contact"), c.contact);
                    assert!((e["loss_usd"].as_f64().unwrap() - c.loss_usd).abs() < 0.01);
                }
                if c.complied {
                    complied += 1;
                }
            }
            Attack::AccountTakeover(a) => {
                let Attack::FakeSupportCall(call) = by_id[a.call_attack_id.as_str()] else {
                    panic!()
                };
                assert_eq!(call.customer_id, a.customer_id);
                assert_eq!(
                    call.takeover_attack_id.as_deref(),
                    Some(a.attack_id.as_str())
                );
                let stop = a
                    .first_to_stop_event_id
                    .as_deref()
                    .expect("a takeover has a first action to stop");
                assert!(a.event_ids.iter().any(|id| id == stop));
                assert_ne!(str_of(events.get(stop), "action"), "login");
                let actions: Vec<&str> = a
                    .event_ids
                    .iter()
                    .map(|id| str_of(events.get(id), "action"))
                    .collect();
                assert_eq!(actions.last(), Some(&"withdrawal"), "{actions:?}");
                let stolen: f64 = a
                    .event_ids
                    .iter()
                    .map(|id| events.get(id))
                    .filter(|e| str_of(e, "action") == "withdrawal")
                    .map(|e| e["amount_usd"].as_f64().unwrap())
                    .sum();
                assert!(
                    (stolen - a.loss_usd).abs() < 0.05,
                    "{stolen} vs {}",
                    a.loss_usd
                );
                if a.scenario == "2fa_code" {
                    assert_eq!(actions[0], "login");
                    let home = customer_country(&events, &a.customer_id);
                    let geo = &events.get(&a.event_ids[0])["geo"];
                    if let Some(country) = geo["country"].as_str() {
                        assert_ne!(country, home, "the attacker logs in from another country");
                    }
                }
            }
            Attack::NewAddressWithdrawal(n) => {
                let stop = n.first_to_stop_event_id.as_deref().unwrap();
                let e = events.get(stop);
                assert_eq!(str_of(e, "action"), "withdrawal");
                assert_eq!(str_of(e, "destination"), n.destination);
            }
            Attack::InsiderHarvest(_) => {}
        }
    }
    assert!(complied >= 1);
}

fn customer_country<'a>(events: &'a Events, customer_id: &str) -> &'a str {
    let e = events
        .list
        .iter()
        .find(|e| str_of(e, "type") == "customer" && str_of(e, "customer_id") == customer_id)
        .unwrap();
    str_of(e, "country")
}

#[test]
fn team_moves_produce_two_agent_records_and_hires_appear_when_hired() {
    let (config, lines, truth) = month();
    let events = check_invariants(&lines, &truth, &config);
    let records = |agent: &str| -> Vec<&Value> {
        events
            .list
            .iter()
            .filter(|e| str_of(e, "type") == "agent" && str_of(e, "agent_id") == agent)
            .collect()
    };
    let mut moves = 0;
    let mut hires = 0;
    for benign in &truth.benign {
        match benign {
            Benign::TeamMove(m) => {
                moves += 1;
                let r = records(&m.agent_id);
                assert_eq!(r.len(), 2, "{}", m.agent_id);
                assert_eq!(str_of(r[0], "team"), m.from_team);
                assert_eq!(str_of(r[1], "team"), m.to_team);
                assert_ne!(m.from_team, m.to_team);
                assert_eq!(m.event_ids.len(), 2);
                assert_eq!(str_of(r[1], "ts"), m.ts);
            }
            Benign::NewHire(h) => {
                hires += 1;
                let r = records(&h.agent_id);
                assert_eq!(r.len(), 1);
                assert_eq!(str_of(r[0], "ts"), h.hired_at);
                assert_eq!(str_of(r[0], "hired_at"), h.hired_at);
                assert!(parse_rfc3339(&h.hired_at).unwrap() > config.start);
                // No activity of the new hire before the record.
                let record_index = events.by_id[str_of(r[0], "id")];
                assert!(
                    events.list[..record_index]
                        .iter()
                        .all(|e| e.get("agent_id").and_then(Value::as_str) != Some(&h.agent_id))
                );
            }
            _ => {}
        }
    }
    assert!(moves >= 1 && hires >= 1);
}

#[test]
fn benign_look_alikes_carry_their_events() {
    let (config, lines, truth) = month();
    let events = check_invariants(&lines, &truth, &config);
    for benign in &truth.benign {
        match benign {
            Benign::Traveler(t) => {
                for id in &t.event_ids {
                    let e = events.get(id);
                    if let Some(country) = e["geo"]["country"].as_str() {
                        assert_eq!(country, t.country);
                    }
                }
                assert_ne!(t.country, t.home_country);
            }
            Benign::WithdrawApiKey(k) => {
                let e = events.get(&k.event_ids[0]);
                let key = &e["api_key"];
                assert!(
                    key["permissions"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|p| p == "withdraw")
                );
                assert_eq!(
                    k.whitelisted,
                    !key["ip_whitelist"].as_array().unwrap().is_empty()
                );
            }
            Benign::OffTicketAccess(o) => {
                assert!(!o.event_ids.is_empty());
                assert!(
                    o.event_ids
                        .iter()
                        .all(|id| events.get(id)["ticket_id"].is_null())
                );
            }
            Benign::HardBenignConversation(c) => {
                assert!(
                    c.event_ids
                        .iter()
                        .all(|id| str_of(events.get(id), "sender_role") != "unknown")
                );
            }
            _ => {}
        }
    }
    // Attacks and benign episodes never share an event.
    let attack_ids: HashSet<&String> = truth.attacks.iter().flat_map(|a| a.event_ids()).collect();
    assert!(
        truth
            .benign
            .iter()
            .flat_map(|b| b.event_ids())
            .all(|id| !attack_ids.contains(id))
    );
}

#[test]
fn without_attacks_the_truth_has_none_and_no_unknown_callers() {
    let mut config = small(10, 1);
    config.attacks = false;
    let (lines, truth) = run(config);
    check_invariants(&lines, &truth, &config);
    assert!(truth.attacks.is_empty());
    assert!(!truth.benign.is_empty());
    assert!(
        lines
            .iter()
            .all(|l| !l.contains("\"sender_role\":\"unknown\""))
    );
}
