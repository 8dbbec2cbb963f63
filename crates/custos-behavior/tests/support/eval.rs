//! The evaluation harness: simulated exchanges through the pipeline with
//! both detectors, scored against the simulator's ground truth per attack
//! style. Shared by the integration test and `examples/eval.rs`.

#![allow(dead_code, clippy::expect_used)]

use custos_behavior::{AgentBehavior, BehaviorConfig, LeakAttribution};
use custos_core::alert::{Alert, Severity};
use custos_core::detector::Detector;
use custos_core::parse::parse_event;
use custos_core::{EventBody, Output, Pipeline, PipelineConfig};
use custos_sim::{Attack, SimConfig, Simulator, Truth};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The simulated exchange every seed uses: 30 days, 160 agents, 30,000
/// customers; with `CUSTOS_EVAL_POPULATION=default` the simulator's default
/// population (240 agents, 50,000 customers).
pub fn sim_config(seed: u64) -> SimConfig {
    let default_population = std::env::var("CUSTOS_EVAL_POPULATION").is_ok_and(|v| v == "default");
    let base = SimConfig {
        seed,
        days: 30,
        ..SimConfig::default()
    };
    if default_population {
        base
    } else {
        SimConfig {
            agents: 160,
            customers: 30_000,
            ..base
        }
    }
}

/// One seed's run: the truth, the alerts, and what scoring needs.
pub struct Run {
    pub truth: Truth,
    pub alerts: Vec<Alert>,
    /// Event time (µs) of every `agent_access`, by id.
    pub access_ts: HashMap<String, i64>,
    /// Event time (µs) of every `scam_report`, by id.
    pub report_ts: HashMap<String, i64>,
    /// (agent, day) pairs with at least one access.
    pub agent_days: u64,
    pub events: u64,
    pub max_bytes_per_agent: usize,
}

pub fn run_seed(seed: u64, config: &BehaviorConfig) -> Run {
    let behavior = AgentBehavior::new(config.clone());
    let attribution = LeakAttribution::new(config.clone());
    let detectors: Vec<Box<dyn Detector>> = vec![Box::new(behavior), Box::new(attribution)];
    let mut pipeline = Pipeline::new(PipelineConfig::default(), detectors);
    let mut sim = Simulator::new(sim_config(seed)).expect("valid sim config");
    let mut out = Vec::new();
    let mut alerts = Vec::new();
    let mut access_ts = HashMap::new();
    let mut report_ts = HashMap::new();
    let mut agent_days: HashSet<(String, i64)> = HashSet::new();
    let mut events = 0;
    for (n, line) in sim.by_ref().enumerate() {
        let event = parse_event(&line, || (n + 1).to_string()).expect("simulated events parse");
        events += 1;
        if let EventBody::AgentAccess(a) = &event.body {
            access_ts.insert(event.id.as_str().to_owned(), event.ts.as_micros());
            if !agent_days.contains(&(a.agent_id.as_str().to_owned(), event.ts.day_index())) {
                agent_days.insert((a.agent_id.as_str().to_owned(), event.ts.day_index()));
            }
        }
        if let EventBody::ScamReport(_) = &event.body {
            report_ts.insert(event.id.as_str().to_owned(), event.ts.as_micros());
        }
        pipeline.push(event, &mut out);
        drain(&mut out, &mut alerts);
    }
    pipeline.finish(&mut out);
    drain(&mut out, &mut alerts);
    Run {
        truth: sim.truth().clone(),
        alerts,
        access_ts,
        report_ts,
        agent_days: agent_days.len() as u64,
        events,
        max_bytes_per_agent: 0,
    }
}

fn drain(out: &mut Vec<Output>, alerts: &mut Vec<Alert>) {
    for o in out.drain(..) {
        if let Output::Alert(a) = o {
            alerts.push(a);
        }
    }
}

/// Scores of one style (or of attribution) over a set of seeds.
#[derive(Clone, Debug, Default)]
pub struct StyleScore {
    pub attacks: u32,
    pub caught_high: u32,
    /// Malicious accesses up to and including the first high alert.
    pub time_to_detect: Vec<u32>,
}

impl StyleScore {
    pub fn recall(&self) -> f64 {
        ratio(self.caught_high, self.attacks)
    }
    pub fn median_ttd(&self) -> Option<f64> {
        median(&self.time_to_detect)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Report {
    pub seeds: Vec<u64>,
    pub styles: BTreeMap<String, StyleScore>,
    pub high_alerts: u32,
    pub high_alerts_on_attacks: u32,
    pub fp_agents: u32,
    pub agent_days: u64,
    /// Harvests with at least three reporting victims.
    pub attributable: u32,
    /// ...where the first attribution alert after the third report named
    /// a true leaker first.
    pub attributed_first: u32,
    /// ...where the first significant (high+) attribution alert after the
    /// third report named a true leaker.
    pub attributed_significant: u32,
    pub attribution_high_alerts: u32,
    pub attribution_high_on_leakers: u32,
    pub attribution_alerts: u32,
    pub attribution_alerts_on_leakers: u32,
    pub events: u64,
    /// What went wrong, for a person tuning: one line per miss.
    pub misses: Vec<String>,
}

impl Report {
    pub fn precision(&self) -> f64 {
        ratio(self.high_alerts_on_attacks, self.high_alerts)
    }
    pub fn fp_per_1000_agent_days(&self) -> f64 {
        1000.0 * f64::from(self.fp_agents) / (self.agent_days.max(1) as f64)
    }
    pub fn overall(&self) -> StyleScore {
        let mut all = StyleScore::default();
        for s in self.styles.values() {
            all.attacks += s.attacks;
            all.caught_high += s.caught_high;
            all.time_to_detect.extend(&s.time_to_detect);
        }
        all
    }

    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "seeds {:?}: {} events, {} agent-days\n\n",
            self.seeds, self.events, self.agent_days
        ));
        s.push_str("| style | attacks | recall (high+) | median time-to-detect | time-to-detect (each) |\n|---|---|---|---|---|\n");
        let mut rows: Vec<(String, StyleScore)> = self
            .styles
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        rows.push(("**all**".to_owned(), self.overall()));
        for (style, sc) in rows {
            let mut ttd = sc.time_to_detect.clone();
            ttd.sort_unstable();
            s.push_str(&format!(
                "| {style} | {} | {:.2} ({}/{}) | {} | {:?} |\n",
                sc.attacks,
                sc.recall(),
                sc.caught_high,
                sc.attacks,
                sc.median_ttd()
                    .map_or("-".to_owned(), |m| format!("{m:.1}")),
                ttd
            ));
        }
        s.push_str(&format!(
            "\nagent_behavior precision at high+: {:.3} ({} of {} alerts cite an attack's accesses)\n",
            self.precision(),
            self.high_alerts_on_attacks,
            self.high_alerts
        ));
        s.push_str(&format!(
            "false-positive agents at high+: {} over {} agent-days = {:.2} per 1,000 agent-days\n",
            self.fp_agents,
            self.agent_days,
            self.fp_per_1000_agent_days()
        ));
        s.push_str(&format!(
            "leak_attribution: {} of {} harvests with 3+ reporting victims had a true leaker ranked first at the first alert after the third report; {} of {} attribution alerts name a true leaker\n",
            self.attributed_first, self.attributable, self.attribution_alerts_on_leakers, self.attribution_alerts
        ));
        s.push_str(&format!(
            "leak_attribution at high+ (significant after Benjamini–Hochberg): {} of {} harvests attributed after the third report; {} of {} high+ attribution alerts name a true leaker\n",
            self.attributed_significant, self.attributable, self.attribution_high_on_leakers, self.attribution_high_alerts
        ));
        if !self.misses.is_empty() {
            s.push_str("\nmisses and false positives:\n");
            for m in &self.misses {
                s.push_str(&format!("- {m}\n"));
            }
        }
        s
    }
}

fn ratio(a: u32, b: u32) -> f64 {
    if b == 0 {
        1.0
    } else {
        f64::from(a) / f64::from(b)
    }
}

fn median(v: &[u32]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut v = v.to_vec();
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        f64::from(v[n / 2])
    } else {
        f64::from(v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Scores one run into `report`.
pub fn evaluate(run: &Run, report: &mut Report) {
    report.seeds.push(run.truth.seed);
    report.events += run.events;
    report.agent_days += run.agent_days;
    let harvests: Vec<&custos_sim::InsiderHarvest> = run
        .truth
        .attacks
        .iter()
        .filter_map(|a| match a {
            Attack::InsiderHarvest(h) => Some(h),
            _ => None,
        })
        .collect();
    let attack_events: HashSet<&str> = harvests
        .iter()
        .flat_map(|h| h.event_ids.iter().map(String::as_str))
        .collect();
    let leakers: HashSet<&str> = harvests.iter().map(|h| h.agent_id.as_str()).collect();
    let high: Vec<&Alert> = run
        .alerts
        .iter()
        .filter(|a| a.detector == "agent_behavior" && a.severity >= Severity::High)
        .collect();
    for h in &harvests {
        let ids: HashSet<&str> = h.event_ids.iter().map(String::as_str).collect();
        let first = high
            .iter()
            .filter(|a| a.evidence.iter().any(|e| ids.contains(e.as_str())))
            .map(|a| a.ts.as_micros())
            .min();
        let score = report.styles.entry(h.style.clone()).or_default();
        score.attacks += 1;
        if first.is_none() {
            report.misses.push(format!(
                "seed {} {} ({} by {}): no high alert citing its accesses",
                run.truth.seed, h.attack_id, h.style, h.agent_id
            ));
        }
        if let Some(first) = first {
            score.caught_high += 1;
            let before = h
                .event_ids
                .iter()
                .filter(|id| run.access_ts.get(id.as_str()).is_some_and(|t| *t <= first))
                .count();
            score.time_to_detect.push(before as u32);
        }
    }
    let mut fp_agents: BTreeSet<&str> = BTreeSet::new();
    for a in &high {
        report.high_alerts += 1;
        if a.evidence
            .iter()
            .any(|e| attack_events.contains(e.as_str()))
        {
            report.high_alerts_on_attacks += 1;
        } else if !leakers.contains(a.entity.id.as_str()) && fp_agents.insert(a.entity.id.as_str())
        {
            report.misses.push(format!(
                "seed {} false positive {} at {}: {:?}",
                run.truth.seed,
                a.entity.id,
                a.ts,
                a.reasons
                    .iter()
                    .map(|r| r.detail.as_str())
                    .collect::<Vec<_>>()
            ));
        }
    }
    report.fp_agents += fp_agents.len() as u32;

    let leak_alerts: Vec<&Alert> = run
        .alerts
        .iter()
        .filter(|a| a.detector == "leak_attribution")
        .collect();
    report.attribution_alerts += leak_alerts.len() as u32;
    for a in leak_alerts.iter().filter(|a| a.severity >= Severity::High) {
        report.attribution_high_alerts += 1;
        report.attribution_high_on_leakers += u32::from(leakers.contains(a.entity.id.as_str()));
    }
    report.attribution_alerts_on_leakers += leak_alerts
        .iter()
        .filter(|a| leakers.contains(a.entity.id.as_str()))
        .count() as u32;
    for h in &harvests {
        let mut reports: Vec<i64> = run
            .truth
            .attacks
            .iter()
            .filter_map(|a| match a {
                Attack::FakeSupportCall(c)
                    if c.harvest_attack_id.as_deref() == Some(h.attack_id.as_str()) =>
                {
                    c.report_event_id
                        .as_ref()
                        .and_then(|id| run.report_ts.get(id).copied())
                }
                _ => None,
            })
            .collect();
        reports.sort_unstable();
        if reports.len() < 3 {
            continue;
        }
        report.attributable += 1;
        let third_report = reports[2];
        if leak_alerts
            .iter()
            .find(|a| a.ts.as_micros() >= third_report && a.severity >= Severity::High)
            .is_some_and(|a| leakers.contains(a.entity.id.as_str()))
        {
            report.attributed_significant += 1;
        }
        let first = leak_alerts
            .iter()
            .find(|a| a.ts.as_micros() >= third_report);
        if first.is_some_and(|a| leakers.contains(a.entity.id.as_str())) {
            report.attributed_first += 1;
        } else {
            report.misses.push(format!(
                "seed {} {} ({} by {}): attribution after the third report: {:?}",
                run.truth.seed,
                h.attack_id,
                h.style,
                h.agent_id,
                first.map(|a| (a.entity.id.clone(), a.reasons[0].detail.clone()))
            ));
        }
    }
}

/// Runs and scores the given seeds.
/// Seeds run on two threads; they are independent and scored in the order
/// given, so the report does not depend on timing.
pub fn evaluate_seeds(seeds: &[u64], config: &BehaviorConfig) -> Report {
    let mut report = Report::default();
    for pair in seeds.chunks(2) {
        let runs: Vec<Run> = std::thread::scope(|scope| {
            let handles: Vec<_> = pair
                .iter()
                .map(|&seed| scope.spawn(move || run_seed(seed, config)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("an evaluation thread panicked"))
                .collect()
        });
        for run in &runs {
            evaluate(run, &mut report);
        }
    }
    report
}
