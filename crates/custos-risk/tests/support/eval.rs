//! The evaluation harness: simulated exchanges through the `action_risk`
//! detector, scored against the simulator's ground truth. Shared by the
//! integration test and `examples/eval.rs`.

#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use custos_core::detector::{Context, Detector, Signal};
use custos_core::event::{CustomerActionKind, EventBody};
use custos_core::parse::parse_event;
use custos_core::reorder::{Admission, ReorderBuffer};
use custos_core::time::Span;
use custos_risk::{ActionRisk, Outcome, RiskConfig};
use custos_sim::{Attack, Benign, SimConfig, Simulator};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The simulated exchange every seed uses: 30 days, 160 agents and
/// `CUSTOS_EVAL_CUSTOMERS` customers (default 20,000).
pub fn default_customers() -> u32 {
    std::env::var("CUSTOS_EVAL_CUSTOMERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

pub fn sim_config(seed: u64, customers: u32) -> SimConfig {
    SimConfig {
        seed,
        days: 30,
        agents: 160,
        customers,
        ..SimConfig::default()
    }
}

/// Hit counts for one signal, rule or sequence.
#[derive(Clone, Debug, Default)]
pub struct Hits {
    /// Fired on a scored attacker action.
    pub attack: u64,
    /// Fired on a benign action.
    pub benign: u64,
}

impl Hits {
    pub fn precision(&self) -> f64 {
        ratio(self.attack, self.attack + self.benign)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Report {
    pub seeds: Vec<u64>,
    pub events: u64,
    /// Scored attacker actions (API key with withdraw, new address,
    /// withdrawal) by scenario: (total, stopped = step_up/hold/deny, held = hold/deny).
    pub scored: BTreeMap<String, (u64, u64, u64)>,
    /// Every malicious customer action (logins and security changes too).
    pub all_attack_actions: (u64, u64),
    /// Attacks (takeovers and new-address withdrawals) and how many had a
    /// hold/deny at or before their first withdrawal; step-up or more.
    pub attacks: BTreeMap<String, (u64, u64, u64)>,
    pub benign_actions: u64,
    pub benign_step_up: u64,
    pub benign_held: u64,
    /// By action kind: (actions, stepped up, held or denied).
    pub benign_by_kind: BTreeMap<&'static str, (u64, u64, u64)>,
    /// Benign look-alike episodes by kind: (actions, step_up, held).
    pub lookalikes: BTreeMap<&'static str, (u64, u64, u64)>,
    pub signals: BTreeMap<&'static str, Hits>,
    pub rules: BTreeMap<String, Hits>,
    pub misses: Vec<String>,
    /// Benign holds/denies, for a person tuning: code lists.
    pub benign_hold_reasons: BTreeMap<String, u64>,
    pub alerts: u64,
    pub alerts_with_contract_shape: u64,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

fn scenario_of(attack: &Attack) -> Option<(String, Vec<String>, Option<String>)> {
    match attack {
        Attack::AccountTakeover(a) => Some((
            format!("takeover/{}", a.scenario),
            a.event_ids.clone(),
            a.first_to_stop_event_id.clone(),
        )),
        Attack::NewAddressWithdrawal(a) => Some((
            "new_address_withdrawal".to_owned(),
            a.event_ids.clone(),
            a.first_to_stop_event_id.clone(),
        )),
        _ => None,
    }
}

/// What the evaluation keeps of each customer action.
struct Seen {
    kind: CustomerActionKind,
    withdraw_key: bool,
    outcome: Outcome,
    signals: Vec<&'static str>,
    rules: Vec<String>,
}

pub fn evaluate_seeds(seeds: &[u64], config: &RiskConfig) -> Report {
    evaluate_seeds_sized(seeds, config, default_customers())
}

pub fn evaluate_seeds_sized(seeds: &[u64], config: &RiskConfig, customers: u32) -> Report {
    let mut report = Report {
        seeds: seeds.to_vec(),
        ..Report::default()
    };
    for &seed in seeds {
        run_seed(seed, config, customers, &mut report);
    }
    report
}

fn run_seed(seed: u64, config: &RiskConfig, customers: u32, report: &mut Report) {
    let mut detector = ActionRisk::new(config.clone()).expect("valid risk config");
    let mut ctx = Context::default();
    let mut reorder = ReorderBuffer::new(Span::from_minutes(5));
    let mut sim = Simulator::new(sim_config(seed, customers)).expect("valid sim config");
    let mut seen: HashMap<String, Seen> = HashMap::new();
    let mut process = |event: custos_core::Event,
                       ctx: &mut Context,
                       detector: &mut ActionRisk,
                       report: &mut Report| {
        ctx.now = ctx.now.max(event.ts);
        ctx.directory.apply(&event);
        let signals = detector.observe(&event, ctx);
        for s in signals {
            match s {
                Signal::Mark(m) => ctx.marks.insert(m),
                Signal::Alert(a) => {
                    report.alerts += 1;
                    let shaped = a.detector == "action_risk"
                        && a.evidence.first() == Some(&event.id)
                        && a.entity.kind == custos_core::EntityKind::Customer
                        && !a.response.is_empty();
                    report.alerts_with_contract_shape += u64::from(shaped);
                }
            }
        }
        if let EventBody::CustomerAction(action) = &event.body {
            let evaluation = detector.last_evaluation().expect("decided");
            let d = &evaluation.decision;
            seen.insert(
                event.id.as_str().to_owned(),
                Seen {
                    kind: action.action,
                    withdraw_key: action
                        .api_key
                        .as_ref()
                        .is_some_and(|k| k.permissions.iter().any(|p| p == "withdraw")),
                    outcome: d.outcome,
                    signals: evaluation
                        .assessment
                        .signals
                        .iter()
                        .map(|s| s.as_str())
                        .collect(),
                    rules: d
                        .reasons
                        .iter()
                        .filter(|r| {
                            r.code.starts_with("v1.rule.")
                                || r.code.starts_with("v1.seq.")
                                || r.code.starts_with("v1.fail.")
                        })
                        .map(|r| r.code.clone())
                        .collect(),
                },
            );
        }
    };
    for (n, line) in sim.by_ref().enumerate() {
        let event = parse_event(&line, || (n + 1).to_string()).expect("simulated events parse");
        report.events += 1;
        match reorder.push(event) {
            Admission::Buffered => {}
            Admission::Late(e) => process(*e, &mut ctx, &mut detector, report),
        }
        while let Some(e) = reorder.pop_ready() {
            process(e, &mut ctx, &mut detector, report);
        }
    }
    while let Some(e) = reorder.pop_any() {
        process(e, &mut ctx, &mut detector, report);
    }
    let truth = sim.truth().clone();
    score(&truth, &seen, report);
}

fn scored_kind(s: &Seen) -> bool {
    match s.kind {
        CustomerActionKind::Withdrawal | CustomerActionKind::AddressAdd => true,
        CustomerActionKind::ApiKeyCreate | CustomerActionKind::ApiKeyUpdate => s.withdraw_key,
        _ => false,
    }
}

fn score(truth: &custos_sim::Truth, seen: &HashMap<String, Seen>, report: &mut Report) {
    let mut malicious: HashSet<String> = HashSet::new();
    for attack in &truth.attacks {
        let Some((scenario, ids, _first_to_stop)) = scenario_of(attack) else {
            continue;
        };
        let mut stopped_before_money = false;
        let mut stepped_before_money = false;
        let mut reached_withdrawal = false;
        for id in &ids {
            malicious.insert(id.clone());
            let Some(s) = seen.get(id) else { continue };
            report.all_attack_actions.0 += 1;
            report.all_attack_actions.1 += u64::from(s.outcome != Outcome::Allow);
            if scored_kind(s) {
                let e = report.scored.entry(scenario.clone()).or_default();
                e.0 += 1;
                e.1 += u64::from(s.outcome != Outcome::Allow);
                e.2 += u64::from(s.outcome >= Outcome::Hold);
                if s.outcome == Outcome::Allow {
                    report.misses.push(format!(
                        "{scenario} {} {}: allowed; signals {:?}",
                        attack.attack_id(),
                        s.kind.as_str(),
                        s.signals
                    ));
                }
            }
            if !reached_withdrawal {
                stopped_before_money |= s.outcome >= Outcome::Hold;
                stepped_before_money |= s.outcome >= Outcome::StepUp;
            }
            if s.kind == CustomerActionKind::Withdrawal {
                reached_withdrawal = true;
            }
            for sig in &s.signals {
                report.signals.entry(sig).or_default().attack += u64::from(scored_kind(s));
            }
            for r in &s.rules {
                report.rules.entry(r.clone()).or_default().attack += u64::from(scored_kind(s));
            }
        }
        let e = report.attacks.entry(scenario).or_default();
        e.0 += 1;
        e.1 += u64::from(stopped_before_money);
        e.2 += u64::from(stepped_before_money);
    }
    let mut lookalike: HashMap<&str, &'static str> = HashMap::new();
    for b in &truth.benign {
        if matches!(
            b,
            Benign::Traveler(_) | Benign::WithdrawApiKey(_) | Benign::NewDeviceWithdrawal(_)
        ) {
            for id in b.event_ids() {
                lookalike.insert(id.as_str(), b.kind());
            }
        }
    }
    for (id, s) in seen {
        if malicious.contains(id) {
            continue;
        }
        report.benign_actions += 1;
        let step = u64::from(s.outcome == Outcome::StepUp);
        let held = u64::from(s.outcome >= Outcome::Hold);
        report.benign_step_up += step;
        report.benign_held += held;
        let e = report.benign_by_kind.entry(s.kind.as_str()).or_default();
        e.0 += 1;
        e.1 += step;
        e.2 += held;
        if let Some(kind) = lookalike.get(id.as_str()) {
            let e = report.lookalikes.entry(kind).or_default();
            e.0 += 1;
            e.1 += step;
            e.2 += held;
        }
        if held == 1 {
            *report
                .benign_hold_reasons
                .entry(s.rules.join(" "))
                .or_default() += 1;
        }
        for sig in &s.signals {
            report.signals.entry(sig).or_default().benign += 1;
        }
        for r in &s.rules {
            report.rules.entry(r.clone()).or_default().benign += 1;
        }
    }
}

impl Report {
    pub fn scored_total(&self) -> (u64, u64, u64) {
        self.scored
            .values()
            .fold((0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2))
    }
    /// Share of scored attacker actions stepped up, held or denied.
    pub fn attack_stop_rate(&self) -> f64 {
        let (n, stopped, _) = self.scored_total();
        ratio(stopped, n)
    }
    pub fn attack_hold_rate(&self) -> f64 {
        let (n, _, held) = self.scored_total();
        ratio(held, n)
    }
    pub fn attacks_stopped_before_money(&self) -> (u64, u64, u64) {
        self.attacks
            .values()
            .fold((0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2))
    }
    pub fn benign_step_up_rate(&self) -> f64 {
        ratio(self.benign_step_up, self.benign_actions)
    }
    pub fn benign_hold_rate(&self) -> f64 {
        ratio(self.benign_held, self.benign_actions)
    }

    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let pct = |a: u64, b: u64| format!("{:.2}% ({a}/{b})", 100.0 * ratio(a, b));
        s.push_str(&format!(
            "seeds {:?}: {} events, {} benign customer actions\n\n",
            self.seeds, self.events, self.benign_actions
        ));
        s.push_str("### Attacker actions (API key with withdraw, new address, withdrawal)\n\n| scenario | actions | step_up/hold/deny | hold/deny |\n|---|---|---|---|\n");
        let mut rows: Vec<(String, (u64, u64, u64))> =
            self.scored.iter().map(|(k, v)| (k.clone(), *v)).collect();
        rows.push(("**all**".into(), self.scored_total()));
        for (k, (n, st, h)) in rows {
            s.push_str(&format!("| {k} | {n} | {} | {} |\n", pct(st, n), pct(h, n)));
        }
        s.push_str(&format!(
            "\nEvery malicious customer action (logins and security changes included): {} not allowed.\n",
            pct(self.all_attack_actions.1, self.all_attack_actions.0)
        ));
        s.push_str("\n### Attacks stopped before the first withdrawal completes\n\n| scenario | attacks | hold/deny at or before the first withdrawal | step_up or more |\n|---|---|---|---|\n");
        let mut rows: Vec<(String, (u64, u64, u64))> =
            self.attacks.iter().map(|(k, v)| (k.clone(), *v)).collect();
        rows.push(("**all**".into(), self.attacks_stopped_before_money()));
        for (k, (n, h, st)) in rows {
            s.push_str(&format!("| {k} | {n} | {} | {} |\n", pct(h, n), pct(st, n)));
        }
        s.push_str(&format!(
            "\n### Benign customer actions\n\nstepped up: {} · held or denied: {}\n\n| action | actions | step_up | hold/deny |\n|---|---|---|---|\n",
            pct(self.benign_step_up, self.benign_actions),
            pct(self.benign_held, self.benign_actions)
        ));
        for (k, (n, st, h)) in &self.benign_by_kind {
            s.push_str(&format!(
                "| {k} | {n} | {} | {} |\n",
                pct(*st, *n),
                pct(*h, *n)
            ));
        }
        s.push_str("\n| benign look-alike | actions | step_up | hold/deny |\n|---|---|---|---|\n");
        for (k, (n, st, h)) in &self.lookalikes {
            s.push_str(&format!(
                "| {k} | {n} | {} | {} |\n",
                pct(*st, *n),
                pct(*h, *n)
            ));
        }
        let (n_attack, _, _) = self.scored_total();
        s.push_str("\n### Per signal (on scored attacker actions vs benign actions)\n\n| signal | attacker actions | benign actions | precision | recall |\n|---|---|---|---|---|\n");
        for (k, h) in &self.signals {
            s.push_str(&format!(
                "| {k} | {} | {} | {:.3} | {:.3} |\n",
                h.attack,
                h.benign,
                h.precision(),
                ratio(h.attack, n_attack)
            ));
        }
        s.push_str("\n### Per rule and sequence (fired in a decision other than allow)\n\n| rule | attacker actions | benign actions | precision | recall |\n|---|---|---|---|---|\n");
        for (k, h) in &self.rules {
            s.push_str(&format!(
                "| {k} | {} | {} | {:.3} | {:.3} |\n",
                h.attack,
                h.benign,
                h.precision(),
                ratio(h.attack, n_attack)
            ));
        }
        s.push_str(&format!(
            "\nalerts: {} ({} with the contract shape: customer entity, evidence[0] = the action, decision in response)\n",
            self.alerts, self.alerts_with_contract_shape
        ));
        s
    }
}
