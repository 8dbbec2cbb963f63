//! `custos eval`: detection quality against ground truth, for every
//! detector in the standard set at once. Runs simulated exchanges in
//! process (or a replay file with its `truth.json`) through the same
//! pipeline `replay` uses and scores the alerts per attack kind and style:
//! recall at high severity, precision, false-positive entities per 1,000
//! entity-days, and time to detect.

use crate::detectors::{self, DetectorSettings};
use anyhow::Context as _;
use custos_core::alert::{Alert, EntityKind, ResponseAction, Severity};
use custos_core::parse::parse_event;
use custos_core::{EventBody, Output, PipelineConfig};
use custos_sim::{Attack, SimConfig, Simulator, Truth};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::BufRead;
use std::path::PathBuf;

/// Where the events and their truth come from.
pub enum Source {
    /// Simulated exchanges, one per seed.
    Seeds {
        seeds: Vec<u64>,
        days: u32,
        agents: Option<u32>,
        customers: Option<u32>,
    },
    /// A file of events and the simulator-format truth that goes with it.
    File { input: PathBuf, truth: PathBuf },
}

/// Parses `1-5`, `101,102` or `7` into seeds.
pub fn parse_seeds(text: &str) -> anyhow::Result<Vec<u64>> {
    let mut seeds = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u64, u64) = (
                    a.trim().parse().with_context(|| format!("seed `{a}`"))?,
                    b.trim().parse().with_context(|| format!("seed `{b}`"))?,
                );
                anyhow::ensure!(
                    a <= b && b - a < 10_000,
                    "seed range `{part}` is empty or too long"
                );
                seeds.extend(a..=b);
            }
            None => seeds.push(part.parse().with_context(|| format!("seed `{part}`"))?),
        }
    }
    anyhow::ensure!(!seeds.is_empty(), "no seeds in `{text}`");
    Ok(seeds)
}

/// One run's alerts and what scoring needs to know about its events.
struct Run {
    alerts: Vec<Alert>,
    /// Event time (µs) by event id, for the events time-to-detect counts.
    access_ts: HashMap<String, i64>,
    /// Event time (µs) of every `scam_report`, by id.
    report_ts: HashMap<String, i64>,
    /// Event time (µs) of every `customer_action`, by id.
    action_ts: HashMap<String, i64>,
    actions: u64,
    messages: u64,
    agent_days: u64,
    customer_days: u64,
    events: u64,
    rejected: u64,
}

fn run_lines(
    lines: impl Iterator<Item = anyhow::Result<String>>,
    settings: &DetectorSettings,
) -> anyhow::Result<Run> {
    let mut pipeline = detectors::pipeline(&PipelineConfig::default(), settings)?;
    let mut out = Vec::new();
    let mut alerts = Vec::new();
    let mut access_ts = HashMap::new();
    let mut report_ts = HashMap::new();
    let mut action_ts = HashMap::new();
    let mut agent_days: HashSet<(String, i64)> = HashSet::new();
    let mut customer_days: HashSet<(String, i64)> = HashSet::new();
    let (mut events, mut rejected, mut actions, mut messages) = (0, 0, 0, 0);
    for (n, line) in lines.enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let Ok(event) = parse_event(&line, || (n + 1).to_string()) else {
            rejected += 1;
            continue;
        };
        events += 1;
        match &event.body {
            EventBody::AgentAccess(a) => {
                access_ts.insert(event.id.as_str().to_owned(), event.ts.as_micros());
                agent_days.insert((a.agent_id.as_str().to_owned(), event.ts.day_index()));
            }
            EventBody::CustomerAction(a) => {
                actions += 1;
                action_ts.insert(event.id.as_str().to_owned(), event.ts.as_micros());
                customer_days.insert((a.customer_id.as_str().to_owned(), event.ts.day_index()));
            }
            EventBody::Message(_) => messages += 1,
            EventBody::ScamReport(_) => {
                report_ts.insert(event.id.as_str().to_owned(), event.ts.as_micros());
            }
            _ => {}
        }
        pipeline.push(event, &mut out);
        drain(&mut out, &mut alerts);
    }
    pipeline.finish(&mut out);
    drain(&mut out, &mut alerts);
    Ok(Run {
        alerts,
        access_ts,
        report_ts,
        action_ts,
        actions,
        messages,
        agent_days: agent_days.len() as u64,
        customer_days: customer_days.len() as u64,
        events,
        rejected,
    })
}

fn drain(out: &mut Vec<Output>, alerts: &mut Vec<Alert>) {
    for o in out.drain(..) {
        if let Output::Alert(a) = o {
            alerts.push(a);
        }
    }
}

/// Scores of one attack kind (or insider-harvest style).
#[derive(Default)]
struct KindScore {
    attacks: u32,
    caught_high: u32,
    caught_any: u32,
    /// Insider harvests: malicious accesses up to the first high alert.
    accesses_to_detect: Vec<u32>,
    /// Minutes from the attack's first event to the first high alert.
    minutes_to_detect: Vec<f64>,
    /// Account attacks: stepped up, held or denied at or before the first
    /// action that moves money or changes security (`None`: not such a kind).
    stopped_in_time: Option<u32>,
}

/// Scores per detector.
#[derive(Default)]
struct DetectorScore {
    alerts: u32,
    high: u32,
    high_on_attacks: u32,
    /// Entities with a high alert that cites no attack event.
    false_positive_entities: u32,
}

/// Everything `custos eval` prints.
#[derive(Default)]
pub struct Report {
    runs: Vec<String>,
    events: u64,
    rejected: u64,
    agent_days: u64,
    customer_days: u64,
    actions: u64,
    messages: u64,
    kinds: BTreeMap<String, KindScore>,
    detectors: BTreeMap<String, DetectorScore>,
    attribution_first: u32,
    attributable: u32,
    benign_actions: u64,
    benign_stepped_up: u64,
    benign_held_or_denied: u64,
    benign_held_marked: u64,
    misses: Vec<String>,
}

pub fn run(source: Source, settings: &DetectorSettings) -> anyhow::Result<Report> {
    let mut report = Report::default();
    match source {
        Source::Seeds {
            seeds,
            days,
            agents,
            customers,
        } => {
            for seed in seeds {
                let mut config = SimConfig {
                    seed,
                    days,
                    ..SimConfig::default()
                };
                if let Some(a) = agents {
                    config.agents = a;
                }
                if let Some(c) = customers {
                    config.customers = c;
                }
                let mut sim = Simulator::new(config).context("simulator configuration")?;
                let run = run_lines(sim.by_ref().map(Ok), settings)?;
                report.add(&format!("seed {seed}"), sim.truth(), &run);
            }
        }
        Source::File { input, truth } => {
            let truth: Truth = serde_json::from_slice(
                &std::fs::read(&truth).with_context(|| format!("reading `{}`", truth.display()))?,
            )
            .with_context(|| format!("`{}` is not a simulator truth file", truth.display()))?;
            let file = std::fs::File::open(&input)
                .with_context(|| format!("opening `{}`", input.display()))?;
            let lines = std::io::BufReader::new(file)
                .lines()
                .map(|l| l.context("reading the input"));
            let run = run_lines(lines, settings)?;
            report.add(&input.display().to_string(), &truth, &run);
        }
    }
    Ok(report)
}

impl Report {
    fn add(&mut self, name: &str, truth: &Truth, run: &Run) {
        self.runs.push(name.to_owned());
        self.events += run.events;
        self.rejected += run.rejected;
        self.agent_days += run.agent_days;
        self.customer_days += run.customer_days;
        self.actions += run.actions;
        self.messages += run.messages;
        let high: Vec<&Alert> = run
            .alerts
            .iter()
            .filter(|a| a.severity >= Severity::High)
            .collect();
        // Every event id that belongs to an attack, and its perpetrators.
        let mut attack_events: HashSet<&str> = HashSet::new();
        let mut perpetrators: HashSet<&str> = HashSet::new();
        for attack in &truth.attacks {
            attack_events.extend(attack.event_ids().iter().map(String::as_str));
            match attack {
                Attack::InsiderHarvest(h) => {
                    attack_events.extend(h.context_event_ids.iter().map(String::as_str));
                    perpetrators.insert(h.agent_id.as_str());
                }
                Attack::FakeSupportCall(c) => {
                    perpetrators.insert(c.conversation_id.as_str());
                    perpetrators.insert(c.customer_id.as_str());
                }
                Attack::AccountTakeover(t) => {
                    perpetrators.insert(t.customer_id.as_str());
                }
                Attack::NewAddressWithdrawal(w) => {
                    perpetrators.insert(w.customer_id.as_str());
                }
            }
        }
        for attack in &truth.attacks {
            let ids: HashSet<&str> = attack.event_ids().iter().map(String::as_str).collect();
            let cites = |a: &Alert| a.evidence.iter().any(|e| ids.contains(e.as_str()));
            let first_high = high
                .iter()
                .filter(|a| cites(a))
                .map(|a| a.ts.as_micros())
                .min();
            let any = run.alerts.iter().any(cites);
            let kind = match attack {
                Attack::InsiderHarvest(h) => format!("insider_harvest/{}", h.style),
                other => other.kind().to_owned(),
            };
            let score = self.kinds.entry(kind.clone()).or_default();
            score.attacks += 1;
            score.caught_any += u32::from(any);
            let first_to_stop = match attack {
                Attack::AccountTakeover(t) => Some(t.first_to_stop_event_id.as_deref()),
                Attack::NewAddressWithdrawal(w) => Some(w.first_to_stop_event_id.as_deref()),
                _ => None,
            };
            if let Some(first_to_stop) = first_to_stop {
                let deadline = first_to_stop
                    .and_then(|id| run.action_ts.get(id))
                    .copied()
                    .unwrap_or(i64::MAX);
                let stopped = run.alerts.iter().any(|a| {
                    a.response.iter().any(|r| {
                        matches!(
                            r,
                            ResponseAction::StepUp | ResponseAction::Hold | ResponseAction::Deny
                        )
                    }) && a.evidence.first().is_some_and(|e| {
                        ids.contains(e.as_str())
                            && run
                                .action_ts
                                .get(e.as_str())
                                .is_some_and(|t| *t <= deadline)
                    })
                });
                *score.stopped_in_time.get_or_insert(0) += u32::from(stopped);
            }
            match first_high {
                Some(first) => {
                    score.caught_high += 1;
                    if let Attack::InsiderHarvest(h) = attack {
                        let before = h
                            .event_ids
                            .iter()
                            .filter(|id| {
                                run.access_ts.get(id.as_str()).is_some_and(|t| *t <= first)
                            })
                            .count();
                        score.accesses_to_detect.push(before as u32);
                    }
                    if let Ok(start) = custos_core::EventTime::parse(attack.start_ts()) {
                        score
                            .minutes_to_detect
                            .push((first - start.as_micros()) as f64 / 60e6);
                    }
                }
                None => self.misses.push(format!(
                    "{name}: {} ({kind}) had no high alert citing its events{}",
                    attack.attack_id(),
                    if any { " (a lower one did)" } else { "" }
                )),
            }
        }
        let mut false_positives: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for a in &run.alerts {
            let d = self.detectors.entry(a.detector.clone()).or_default();
            d.alerts += 1;
            if a.severity < Severity::High {
                continue;
            }
            d.high += 1;
            let on_attack = a
                .evidence
                .iter()
                .any(|e| attack_events.contains(e.as_str()))
                || (a.detector == "leak_attribution"
                    && perpetrators.contains(a.entity.id.as_str()));
            if on_attack {
                d.high_on_attacks += 1;
            } else if !perpetrators.contains(a.entity.id.as_str())
                && false_positives
                    .entry(a.detector.as_str())
                    .or_default()
                    .insert(a.entity.id.as_str())
            {
                self.misses.push(format!(
                    "{name}: false positive {} on {} {} at {}: {}",
                    a.detector,
                    entity_kind(a.entity.kind),
                    a.entity.id,
                    a.ts,
                    a.reasons
                        .first()
                        .map_or(String::new(), |r| format!("{} ({})", r.code, r.detail))
                ));
            }
        }
        for (detector, entities) in false_positives {
            if let Some(d) = self.detectors.get_mut(detector) {
                d.false_positive_entities += entities.len() as u32;
            }
        }
        self.score_attribution(truth, run);
        // Benign customer actions: how many were challenged.
        let mut challenged: HashMap<&str, bool> = HashMap::new();
        // Challenged because another detector marked the customer (a suspect
        // agent read their record, a scam call, a report): elevated
        // protection by design, though the simulator's truth does not count
        // those actions as attacks.
        let mut marked: HashSet<&str> = HashSet::new();
        for a in run.alerts.iter().filter(|a| a.detector == "action_risk") {
            let Some(first) = a.evidence.first().map(|e| e.as_str()) else {
                continue;
            };
            if attack_events.contains(first) || !run.action_ts.contains_key(first) {
                continue;
            }
            let held = a
                .response
                .iter()
                .any(|r| matches!(r, ResponseAction::Hold | ResponseAction::Deny));
            let stepped = a.response.contains(&ResponseAction::StepUp);
            if held || stepped {
                let slot = challenged.entry(first).or_insert(false);
                *slot |= held;
                if a.reasons.iter().any(|r| r.detail.contains("mark.")) {
                    marked.insert(first);
                }
            }
        }
        let benign = run
            .action_ts
            .keys()
            .filter(|id| !attack_events.contains(id.as_str()))
            .count() as u64;
        self.benign_actions += benign;
        self.benign_held_or_denied += challenged.values().filter(|h| **h).count() as u64;
        self.benign_stepped_up += challenged.values().filter(|h| !**h).count() as u64;
        self.benign_held_marked += challenged
            .iter()
            .filter(|(id, held)| **held && marked.contains(**id))
            .count() as u64;
    }

    /// Whether attribution ranks a true leaker first at the first
    /// attribution alert after a harvest's third reporting victim.
    fn score_attribution(&mut self, truth: &Truth, run: &Run) {
        let third_report: HashMap<&str, i64> = truth
            .attacks
            .iter()
            .filter_map(|a| match a {
                Attack::FakeSupportCall(c) => Some(c),
                _ => None,
            })
            .filter_map(|c| {
                let ts = *run.report_ts.get(c.report_event_id.as_deref()?)?;
                Some((c.harvest_attack_id.as_deref()?, ts))
            })
            .fold(HashMap::new(), |mut m: HashMap<&str, Vec<i64>>, (h, t)| {
                m.entry(h).or_default().push(t);
                m
            })
            .into_iter()
            .filter_map(|(h, mut ts)| {
                ts.sort_unstable();
                ts.get(2).map(|t| (h, *t))
            })
            .collect();
        let leakers: HashSet<&str> = truth
            .attacks
            .iter()
            .filter_map(|a| match a {
                Attack::InsiderHarvest(h) => Some(h.agent_id.as_str()),
                _ => None,
            })
            .collect();
        for attack in &truth.attacks {
            let Attack::InsiderHarvest(h) = attack else {
                continue;
            };
            let Some(third) = third_report.get(h.attack_id.as_str()) else {
                continue;
            };
            self.attributable += 1;
            let first = run
                .alerts
                .iter()
                .filter(|a| a.detector == "leak_attribution" && a.ts.as_micros() >= *third)
                .min_by_key(|a| a.ts.as_micros());
            if first.is_some_and(|a| {
                a.ranking
                    .as_ref()
                    .and_then(|r| r.first())
                    .is_some_and(|top| leakers.contains(top.agent_id.as_str()))
            }) {
                self.attribution_first += 1;
            }
        }
    }

    /// The report as Markdown, for a terminal or docs/EVALUATION.md.
    pub fn to_markdown(&self) -> String {
        let mut s = format!(
            "custos eval: {} ({} events, {} rejected; {} agent-days, {} customer-days, {} customer actions, {} messages)\n\n",
            self.runs.join(", "),
            self.events,
            self.rejected,
            self.agent_days,
            self.customer_days,
            self.actions,
            self.messages
        );
        s.push_str("| attack | injected | caught at high+ | caught at any severity | stopped before the money moved | median accesses to detect | median minutes to detect |\n|---|---|---|---|---|---|---|\n");
        for (kind, k) in &self.kinds {
            s.push_str(&format!(
                "| {kind} | {} | {} ({:.0}%) | {} | {} | {} | {} |\n",
                k.attacks,
                k.caught_high,
                100.0 * f64::from(k.caught_high) / f64::from(k.attacks.max(1)),
                k.caught_any,
                k.stopped_in_time.map_or("-".to_owned(), |n| format!(
                    "{n} ({:.0}%)",
                    100.0 * f64::from(n) / f64::from(k.attacks.max(1))
                )),
                median_u32(&k.accesses_to_detect).map_or("-".to_owned(), |m| format!("{m:.1}")),
                median_f64(&k.minutes_to_detect).map_or("-".to_owned(), |m| format!("{m:.0}")),
            ));
        }
        s.push_str("\n| detector | alerts | high+ | precision at high+ | false-positive entities at high+ | per 1,000 entity-days |\n|---|---|---|---|---|---|\n");
        for (name, d) in &self.detectors {
            let days = match name.as_str() {
                "agent_behavior" | "leak_attribution" => self.agent_days,
                _ => self.customer_days,
            };
            s.push_str(&format!(
                "| {name} | {} | {} | {} | {} | {:.2} |\n",
                d.alerts,
                d.high,
                if d.high == 0 {
                    "-".to_owned()
                } else {
                    format!("{:.3}", f64::from(d.high_on_attacks) / f64::from(d.high))
                },
                d.false_positive_entities,
                1000.0 * f64::from(d.false_positive_entities) / days.max(1) as f64
            ));
        }
        if self.benign_actions > 0 {
            s.push_str(&format!(
                "\nbenign customer actions: {}; stepped up {} ({:.2}%), held or denied {} ({:.3}%)\n",
                self.benign_actions,
                self.benign_stepped_up,
                100.0 * self.benign_stepped_up as f64 / self.benign_actions as f64,
                self.benign_held_or_denied,
                100.0 * self.benign_held_or_denied as f64 / self.benign_actions as f64,
            ));
            let unmarked = self.benign_held_or_denied - self.benign_held_marked;
            s.push_str(&format!(
                "  of the held or denied, {} were under elevated protection from another detector's mark; without those: {} ({:.3}%)\n",
                self.benign_held_marked,
                unmarked,
                100.0 * unmarked as f64 / self.benign_actions as f64,
            ));
        }
        if self.attributable > 0 {
            s.push_str(&format!(
                "\nleak_attribution: a true leaker (of any harvest) ranked first at the first attribution after a harvest's third reporting victim, in {} of {} harvests\n",
                self.attribution_first, self.attributable
            ));
        }
        if !self.misses.is_empty() {
            s.push_str("\nmisses and false positives:\n");
            for m in &self.misses {
                s.push_str(&format!("- {m}\n"));
            }
        }
        s
    }
}

fn entity_kind(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Agent => "agent",
        EntityKind::Customer => "customer",
        EntityKind::Conversation => "conversation",
        EntityKind::Contact => "contact",
    }
}

fn median_u32(v: &[u32]) -> Option<f64> {
    median_f64(&v.iter().map(|x| f64::from(*x)).collect::<Vec<_>>())
}

fn median_f64(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn seeds_parse_as_lists_and_ranges() {
        assert_eq!(parse_seeds("1-3").unwrap(), [1, 2, 3]);
        assert_eq!(parse_seeds("101, 7,9-10").unwrap(), [101, 7, 9, 10]);
        assert!(parse_seeds("5-1").is_err());
        assert!(parse_seeds("x").is_err());
        assert!(parse_seeds("").is_err());
    }

    #[test]
    fn medians() {
        assert_eq!(median_u32(&[3, 1, 2]), Some(2.0));
        assert_eq!(median_u32(&[4, 1, 2, 3]), Some(2.5));
        assert_eq!(median_u32(&[]), None);
    }
}
