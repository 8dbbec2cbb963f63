//! The output honours the wire contract (v1) field by field.

use std::collections::HashMap;

use custos_sim::SimConfig;
use serde_json::Value;

use crate::common::{check_invariants, run, small, str_of};

#[test]
fn every_type_has_the_contract_fields() {
    let config = small(8, 3);
    let (lines, truth) = run(config);
    let events = check_invariants(&lines, &truth, &config);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let fields = [
        "name",
        "email",
        "phone",
        "address",
        "dob",
        "balance",
        "transactions",
        "id_document",
        "national_id",
        "bank_account",
        "api_keys",
        "security_settings",
    ];
    for (line, e) in lines.iter().zip(&events.list) {
        let kind = str_of(e, "type");
        *seen.entry(kind.to_owned()).or_default() += 1;
        // Field order as in the contract's examples: type, ts, id first.
        let head = format!(
            "{{\"type\":\"{kind}\",\"ts\":\"{}\",\"id\":\"{}\",",
            str_of(e, "ts"),
            str_of(e, "id")
        );
        assert!(line.starts_with(&head), "{line}");
        match kind {
            "agent" => {
                assert!(str_of(e, "agent_id").starts_with("a-"));
                assert!(
                    ["support_l1", "support_l2", "support_lead", "kyc_analyst"]
                        .contains(&str_of(e, "role"))
                );
                let shift = &e["shift"];
                assert!(
                    shift["start_hour"].as_u64().unwrap() < 24
                        && shift["end_hour"].as_u64().unwrap() < 24
                );
                assert!(custos_sim::time::parse_rfc3339(str_of(e, "hired_at")).is_some());
            }
            "customer" => {
                assert!(["retail", "vip", "institutional"].contains(&str_of(e, "tier")));
                assert!(e["balance_usd"].as_f64().unwrap() >= 0.0);
                assert_eq!(str_of(e, "country").len(), 2);
            }
            "ticket" => {
                let status = str_of(e, "status");
                assert!(["opened", "assigned", "closed"].contains(&status));
                if status == "opened" {
                    assert!(e["agent_id"].is_null(), "agent_id null until assigned: {e}");
                } else {
                    assert!(str_of(e, "agent_id").starts_with("a-"));
                }
                assert!(["customer", "agent", "system"].contains(&str_of(e, "opened_by")));
                assert!(["chat", "email", "phone"].contains(&str_of(e, "channel")));
            }
            "agent_session" => {
                assert!(["login", "logout"].contains(&str_of(e, "kind")));
                assert!(!str_of(e, "ip").is_empty() && !str_of(e, "device_id").is_empty());
            }
            "agent_access" => {
                let action = str_of(e, "action");
                let f = e["fields"].as_array().unwrap();
                assert!(e["ticket_id"].is_null() || e["ticket_id"].is_string());
                if action == "search" {
                    assert!(e["customer_id"].is_null(), "{e}");
                    assert!(f.is_empty(), "{e}");
                    assert!(!str_of(e, "query").is_empty());
                } else {
                    assert!(["view", "reveal", "export"].contains(&action), "{e}");
                    assert!(str_of(e, "customer_id").starts_with("c-"));
                    assert!(!f.is_empty());
                    assert!(
                        f.iter().all(|x| fields.contains(&x.as_str().unwrap())),
                        "{e}"
                    );
                }
            }
            "customer_action" => {
                let action = str_of(e, "action");
                assert!(
                    [
                        "login",
                        "withdrawal",
                        "address_add",
                        "api_key_create",
                        "api_key_update",
                        "api_key_delete",
                        "security_change",
                        "freeze",
                        "unfreeze"
                    ]
                    .contains(&action)
                );
                if let Some(geo) = e.get("geo") {
                    assert_eq!(geo["country"].as_str().unwrap().len(), 2);
                    assert!(geo["lat"].as_f64().unwrap().abs() <= 90.0);
                    assert!(geo["lon"].as_f64().unwrap().abs() <= 180.0);
                }
                match action {
                    "withdrawal" => {
                        assert!(e["amount_usd"].as_f64().unwrap() > 0.0, "{e}");
                        assert!(
                            !str_of(e, "asset").is_empty() && !str_of(e, "destination").is_empty()
                        );
                    }
                    "security_change" => assert!(
                        [
                            "email",
                            "phone",
                            "password",
                            "2fa_disable",
                            "2fa_reset",
                            "anti_phishing_code"
                        ]
                        .contains(&str_of(e, "setting"))
                    ),
                    "api_key_create" | "api_key_update" => {
                        let key = &e["api_key"];
                        assert!(str_of(key, "key_id").starts_with("k-"));
                        assert!(key["permissions"].is_array() && key["ip_whitelist"].is_array());
                    }
                    _ => {}
                }
            }
            "message" => {
                assert!(
                    ["chat", "phone", "sms", "email", "social"].contains(&str_of(e, "channel"))
                );
                assert!(["inbound", "outbound"].contains(&str_of(e, "direction")));
                let role = str_of(e, "sender_role");
                assert!(["customer", "agent", "unknown"].contains(&role));
                assert_eq!(
                    role == "customer",
                    str_of(e, "direction") == "outbound",
                    "{e}"
                );
                assert!(!str_of(e, "text").is_empty());
            }
            "scam_report" => {
                assert!(str_of(e, "report_id").starts_with("r-"));
                assert!(e["loss_usd"].is_f64());
                assert!(!str_of(e, "contact").is_empty());
            }
            other => panic!("unexpected type `{other}`"),
        }
    }
    for kind in [
        "agent",
        "customer",
        "ticket",
        "agent_session",
        "agent_access",
        "customer_action",
        "message",
        "scam_report",
    ] {
        assert!(
            seen.get(kind).copied().unwrap_or(0) > 0,
            "no `{kind}` event"
        );
    }
}

#[test]
fn directory_comes_first_and_tickets_open_before_they_close() {
    let config = small(3, 4);
    let (lines, truth) = run(config);
    let events = check_invariants(&lines, &truth, &config);
    let directory = 60 + 3_000;
    for e in &events.list[..directory] {
        assert!(["agent", "customer"].contains(&str_of(e, "type")), "{e}");
        assert_eq!(str_of(e, "ts"), "2025-03-03T00:00:00Z");
    }
    let mut status: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for e in &events.list {
        if str_of(e, "type") == "ticket" {
            status
                .entry(str_of(e, "ticket_id").to_owned())
                .or_default()
                .push((str_of(e, "ts").to_owned(), str_of(e, "status").to_owned()));
        }
    }
    assert!(status.len() > 100);
    for (ticket, mut events) in status {
        events.sort();
        let order: Vec<&str> = events.iter().map(|(_, s)| s.as_str()).collect();
        assert!(
            matches!(
                order.as_slice(),
                ["opened"] | ["opened", "assigned"] | ["opened", "assigned", "closed"]
            ),
            "{ticket}: {order:?}"
        );
    }
}

#[test]
fn weekdays_are_busier_than_weekends() {
    let config = SimConfig {
        days: 7,
        agents: 40,
        customers: 2_000,
        attacks: false,
        ..SimConfig::default()
    };
    let (lines, _) = run(config);
    let mut per_day = [0usize; 7];
    for line in &lines {
        if line.contains("\"status\":\"opened\"") {
            let e: Value = serde_json::from_str(line).unwrap();
            let ts = custos_sim::time::parse_rfc3339(str_of(&e, "ts")).unwrap();
            per_day[((ts - config.start) / 86_400) as usize] += 1;
        }
    }
    // 2025-03-03 is a Monday: days 5 and 6 are the weekend.
    let weekday = per_day[..5].iter().sum::<usize>() / 5;
    let weekend = (per_day[5] + per_day[6]) / 2;
    assert!(
        weekend * 10 < weekday * 9,
        "weekday {weekday} vs weekend {weekend}: {per_day:?}"
    );
}
