//! `leak_attribution`: on each scam report, which agents' lookups the
//! reporting victims have in common, against what each agent's volume
//! predicts (Poisson upper tail, Benjamini–Hochberg across agents).
//!
//! Memory is bounded per customer (the few most recent agents who read the
//! record) and per agent (a ring of daily counts over the window).

use crate::config::BehaviorConfig;
use crate::stats::{benjamini_hochberg, poisson_upper_tail};
use custos_core::alert::{Alert, Entity, EntityKind, RankingEntry, ResponseAction, Severity};
use custos_core::detector::{Context, Detector, Mark, Signal};
use custos_core::event::{Event, EventBody, Tier};
use custos_core::id::{AgentId, CustomerId, EventId};
use custos_core::time::{EventTime, Span};
use std::collections::{BTreeMap, HashMap};

const NAME: &str = "leak_attribution";
/// Days of daily counts kept (covers windows up to this long).
const RING_DAYS: usize = 64;
/// Reports remembered.
const MAX_REPORTS: usize = 4096;

/// One agent's reads of one customer within the window.
#[derive(Clone, Debug)]
struct Read {
    agent: u32,
    first: EventTime,
    last: EventTime,
    first_event: EventId,
}

/// Daily counts over a ring of days.
#[derive(Clone, Debug)]
struct DayRing {
    days: [i64; RING_DAYS],
    counts: [u32; RING_DAYS],
}

impl DayRing {
    fn new() -> DayRing {
        DayRing {
            days: [i64::MIN; RING_DAYS],
            counts: [0; RING_DAYS],
        }
    }
    fn add(&mut self, day: i64) {
        let i = day.rem_euclid(RING_DAYS as i64) as usize;
        if self.days[i] != day {
            self.days[i] = day;
            self.counts[i] = 0;
        }
        self.counts[i] += 1;
    }
    /// Sum over days in `(today - window, today]`.
    fn sum(&self, today: i64, window: i64) -> u64 {
        self.days
            .iter()
            .zip(&self.counts)
            .filter(|(d, _)| **d > today - window && **d <= today)
            .map(|(_, c)| u64::from(*c))
            .sum()
    }
}

/// The `leak_attribution` detector.
pub struct LeakAttribution {
    config: BehaviorConfig,
    index: HashMap<AgentId, u32>,
    /// Per agent, distinct customers read per day, by stratum (retail,
    /// high-value): a vip-desk agent is expected to have read rich victims.
    agents: Vec<(AgentId, [DayRing; 2])>,
    population: [DayRing; 2],
    reads: HashMap<CustomerId, Vec<Read>>,
    /// Reporting victims, first report each.
    reports: Vec<(CustomerId, EventTime)>,
    /// Day of the last pruning of reads older than two windows.
    pruned_day: i64,
    /// Planted decoy contacts, normalised (see [`contact_key`]), with the
    /// decoy's customer id.
    canary_contacts: Vec<(String, String)>,
}

impl LeakAttribution {
    pub fn new(config: BehaviorConfig) -> LeakAttribution {
        LeakAttribution {
            index: HashMap::new(),
            agents: Vec::new(),
            population: [DayRing::new(), DayRing::new()],
            reads: HashMap::new(),
            reports: Vec::new(),
            pruned_day: i64::MIN,
            canary_contacts: config_contacts(&config),
            config,
        }
    }

    /// Once a day: forget reads no report can still use (older than two
    /// windows), so memory follows the customers read recently, not all
    /// customers ever read.
    fn prune(&mut self, now: EventTime) {
        let day = now.day_index();
        if day == self.pruned_day {
            return;
        }
        self.pruned_day = day;
        let cutoff = now.saturating_sub(self.two_windows());
        let canaries = &self.config.canary_customers;
        // A decoy's readers are kept however old: any of them may be the leak.
        self.reads.retain(|customer, reads| {
            if canaries.iter().any(|c| c == customer.as_str()) {
                return true;
            }
            reads.retain(|r| r.last >= cutoff);
            !reads.is_empty()
        });
    }

    fn window(&self) -> Span {
        Span::from_days(i64::from(self.config.attribution_window_days))
    }

    /// How far back reports and reads stay useful: a report within the
    /// last window looks at reads up to a window before it.
    fn two_windows(&self) -> Span {
        Span::from_days(2 * i64::from(self.config.attribution_window_days))
    }

    fn stratum(&self, ctx: &Context, customer: &CustomerId) -> usize {
        let high = ctx.directory.customer(customer).is_some_and(|c| {
            c.tier != Tier::Retail
                || c.balance_usd
                    .is_some_and(|b| b >= self.config.high_value_balance_usd)
        });
        usize::from(high)
    }

    fn observe_read(
        &mut self,
        event: &Event,
        agent: &AgentId,
        customer: &CustomerId,
        stratum: usize,
    ) {
        let a = match self.index.get(agent) {
            Some(&a) => a,
            None => {
                let a = self.agents.len() as u32;
                self.agents
                    .push((agent.clone(), [DayRing::new(), DayRing::new()]));
                self.index.insert(agent.clone(), a);
                a
            }
        };
        let window = self.window();
        let cap = self.config.attribution_agents_per_customer.max(1);
        let ts = event.ts;
        let day = ts.day_index();
        let reads = match self.reads.get_mut(customer) {
            Some(r) => r,
            None => self.reads.entry(customer.clone()).or_default(),
        };
        let cutoff = ts.saturating_sub(window);
        let in_window = reads.iter().any(|r| r.last >= cutoff);
        if let Some(r) = reads.iter_mut().find(|r| r.agent == a) {
            if r.last < cutoff {
                r.first = ts;
                r.first_event = event.id.clone();
                self.agents[a as usize].1[stratum].add(day);
            }
            r.last = ts;
        } else {
            if reads.len() >= cap
                && let Some((i, _)) = reads.iter().enumerate().min_by_key(|(_, r)| r.last)
            {
                reads.swap_remove(i);
            }
            reads.push(Read {
                agent: a,
                first: ts,
                last: ts,
                first_event: event.id.clone(),
            });
            self.agents[a as usize].1[stratum].add(day);
        }
        if !in_window {
            self.population[stratum].add(day);
        }
    }

    /// A report from a decoy customer: only the few agents who ever read
    /// the decoy can have leaked it.
    fn canary_run(&self, event: &Event, customer: &CustomerId) -> Option<Alert> {
        let mut reads: Vec<&Read> = self.reads.get(customer)?.iter().collect();
        reads.sort_by(|a, b| {
            a.first
                .cmp(&b.first)
                .then(a.first_event.cmp(&b.first_event))
        });
        reads.first()?;
        let names: Vec<&str> = reads
            .iter()
            .map(|r| self.agents[r.agent as usize].0.as_str())
            .collect();
        let mut alert = Alert::new(
            NAME,
            event.ts,
            Entity::new(EntityKind::Agent, names[0]),
            Severity::Critical,
            1.0,
        )
        .reason(
            "canary_reported",
            format!(
                "a scam report names decoy customer {customer}, whose record {} agent(s) ever opened: {}",
                names.len(),
                names.join(", ")
            ),
        )
        .respond(ResponseAction::SuspendAccess)
        .respond(ResponseAction::NotifySecurity);
        for r in &reads {
            alert = alert.evidence(r.first_event.clone());
        }
        alert.ranking = Some(
            names
                .iter()
                .map(|n| RankingEntry {
                    agent_id: (*n).to_owned(),
                    observed: 1.0,
                    expected: 0.0,
                    p_value: 0.0,
                })
                .collect(),
        );
        Some(alert)
    }

    /// The decoy whose planted contact a report names (as the contact, or
    /// in its text), if any.
    fn canary_named(&self, report: &custos_core::event::ScamReport) -> Option<CustomerId> {
        if self.canary_contacts.is_empty() {
            return None;
        }
        let said = [report.contact.as_deref(), report.text.as_deref()];
        let said: Vec<String> = said.into_iter().flatten().map(contact_key).collect();
        self.canary_contacts
            .iter()
            .find(|(contact, _)| said.iter().any(|s| s.contains(contact.as_str())))
            .and_then(|(_, customer)| CustomerId::parse(customer.as_str()).ok())
    }

    fn run(&mut self, event: &Event, customer: &CustomerId, ctx: &Context) -> Option<Alert> {
        if self
            .config
            .canary_customers
            .iter()
            .any(|c| c == customer.as_str())
        {
            return self.canary_run(event, customer);
        }
        let now = event.ts;
        if !self.reports.iter().any(|(c, _)| c == customer) {
            if self.reports.len() >= MAX_REPORTS {
                self.reports.remove(0);
            }
            self.reports.push((customer.clone(), now));
        }
        let window = self.window();
        let horizon = now.saturating_sub(self.two_windows());
        let victims: Vec<&(CustomerId, EventTime)> =
            self.reports.iter().filter(|(_, t)| *t >= horizon).collect();
        if victims.len() < self.config.attribution_min_victims as usize {
            return None;
        }
        let mut observed: BTreeMap<u32, Vec<&Read>> = BTreeMap::new();
        // Only victims someone read in their window say anything about
        // agents; a leak from elsewhere must not dilute the count.
        let mut informative = [0usize; 2];
        for (c, t) in &victims {
            let Some(reads) = self.reads.get(c) else {
                continue;
            };
            let from = t.saturating_sub(window);
            let mut any = false;
            for r in reads {
                if r.first <= *t && r.last >= from {
                    observed.entry(r.agent).or_default().push(r);
                    any = true;
                }
            }
            informative[self.stratum(ctx, c)] += usize::from(any);
        }
        let today = now.day_index();
        let days = i64::from(self.config.attribution_window_days);
        let population = [
            self.population[0].sum(today, days).max(1) as f64,
            self.population[1].sum(today, days).max(1) as f64,
        ];
        let n = [informative[0] as f64, informative[1] as f64];
        let rows: Vec<(u32, usize, f64, f64)> = observed
            .iter()
            .map(|(&a, reads)| {
                let rings = &self.agents[a as usize].1;
                // Expected victims from the agent's volume in each stratum:
                // what their queue brings them, not only how much they read.
                let expected: f64 = (0..2)
                    .map(|s| {
                        let volume = rings[s].sum(today, days) as f64;
                        (volume / population[s]).min(1.0) * n[s]
                    })
                    .sum::<f64>()
                    .max(1e-6);
                (
                    a,
                    reads.len(),
                    expected,
                    poisson_upper_tail(reads.len() as u64, expected),
                )
            })
            .collect();
        let m = self
            .agents
            .iter()
            .filter(|(_, rings)| rings.iter().any(|r| r.sum(today, days) > 0))
            .count();
        let q = benjamini_hochberg(&rows.iter().map(|r| r.3).collect::<Vec<_>>(), m);
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by(|&x, &y| {
            rows[x]
                .3
                .total_cmp(&rows[y].3)
                .then(rows[y].1.cmp(&rows[x].1))
                .then(
                    self.agents[rows[x].0 as usize]
                        .0
                        .cmp(&self.agents[rows[y].0 as usize].0),
                )
        });
        let &top = order.first()?;
        let (agent, obs, expected, p) = rows[top];
        let fdr = self.config.attribution_fdr;
        let severity = if obs < 2 {
            return None;
        } else if q[top] <= fdr / 100.0 && obs >= 3 {
            Severity::Critical
        } else if q[top] <= fdr {
            Severity::High
        } else if p <= self.config.attribution_candidate_p {
            Severity::Low
        } else {
            return None;
        };
        let agent_id = &self.agents[agent as usize].0;
        let score = (1.0 - q[top]).clamp(0.0, 1.0);
        let verdict = if severity >= Severity::High {
            "significant"
        } else {
            "not yet significant across agents; a lead, not a verdict"
        };
        let mut alert = Alert::new(NAME, now, Entity::new(EntityKind::Agent, agent_id.as_str()), severity, score)
            .reason(
                "victims_in_common",
                format!(
                    "agent {agent_id} viewed {obs} of {} reporting victims in the {days} days before; expected {expected:.1} (p = {p:.1e}, BH q = {:.1e} over {m} agents: {verdict})",
                    victims.len(),
                    q[top]
                ),
            );
        match severity {
            Severity::Critical => {
                alert = alert
                    .respond(ResponseAction::SuspendAccess)
                    .respond(ResponseAction::NotifySecurity);
            }
            Severity::High => {
                alert = alert
                    .respond(ResponseAction::RequireApproval)
                    .respond(ResponseAction::NotifySecurity);
            }
            _ => {}
        }
        let mut reads = observed.get(&agent).cloned().unwrap_or_default();
        reads.sort_by_key(|r| (r.first, r.first_event.clone()));
        for r in reads {
            alert = alert.evidence(r.first_event.clone());
        }
        alert.ranking = Some(
            order
                .iter()
                .take(self.config.attribution_ranking_size.max(1))
                .map(|&i| RankingEntry {
                    agent_id: self.agents[rows[i].0 as usize].0.as_str().to_owned(),
                    observed: rows[i].1 as f64,
                    expected: rows[i].2,
                    p_value: rows[i].3,
                })
                .collect(),
        );
        Some(alert)
    }

    /// Customers with remembered reads (memory check).
    pub fn customers_tracked(&self) -> usize {
        self.reads.len()
    }

    /// Bytes held per agent (the daily rings) and at most per customer
    /// (the capped list of recent readers), ids' heap included.
    pub fn bytes_per_agent_and_customer(&self) -> (usize, usize) {
        let per_agent = std::mem::size_of::<(AgentId, [DayRing; 2])>()
            + std::mem::size_of::<(AgentId, u32)>()
            + 16;
        let per_customer = std::mem::size_of::<(CustomerId, Vec<Read>)>()
            + 16
            + self
                .reads
                .iter()
                .map(|(c, r)| {
                    c.as_str().len()
                        + r.capacity() * std::mem::size_of::<Read>()
                        + r.iter()
                            .map(|x| x.first_event.as_str().len())
                            .sum::<usize>()
                })
                .max()
                .unwrap_or(0);
        (per_agent, per_customer)
    }
}

impl Detector for LeakAttribution {
    fn name(&self) -> &'static str {
        NAME
    }

    fn observe(&mut self, event: &Event, ctx: &mut Context) -> Vec<Signal> {
        self.prune(event.ts);
        match &event.body {
            EventBody::AgentAccess(a) => {
                if let Some(c) = &a.customer_id {
                    let stratum = self.stratum(ctx, c);
                    self.observe_read(event, &a.agent_id, c, stratum);
                }
                Vec::new()
            }
            EventBody::ScamReport(r) => {
                match self.canary_named(r).or_else(|| r.customer_id.clone()) {
                    Some(c) => match self.run(event, &c, ctx) {
                        Some(alert) if alert.severity >= Severity::High => {
                            // Tells agent_behavior to re-score the agent's past.
                            let mark = Mark {
                                entity: alert.entity.clone(),
                                code: crate::behavior::ATTRIBUTED_LEAK.to_owned(),
                                source: NAME.to_owned(),
                                since: event.ts,
                                until: event.ts.saturating_add(self.window()),
                            };
                            vec![Signal::Alert(alert), Signal::Mark(mark)]
                        }
                        Some(alert) => vec![Signal::Alert(alert)],
                        None => Vec::new(),
                    },
                    None => Vec::new(),
                }
            }
            _ => Vec::new(),
        }
    }
}

/// A contact as compared: lowercase letters and digits only, so
/// `+1 (415) 555-0100` and `14155550100` match.
fn contact_key(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn config_contacts(config: &BehaviorConfig) -> Vec<(String, String)> {
    config
        .canary_contacts
        .iter()
        .map(|(contact, customer)| (contact_key(contact), customer.clone()))
        // Too short a key would match inside unrelated numbers.
        .filter(|(key, _)| key.len() >= 6)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use custos_core::parse::parse_event;

    const T0: i64 = 1_740_960_000;

    fn ts(secs: i64) -> String {
        EventTime::from_unix_secs(T0 + secs).to_string()
    }

    fn read(t: i64, agent: &str, customer: &str) -> String {
        format!(
            r#"{{"type":"agent_access","ts":"{}","id":"r-{agent}-{customer}","agent_id":"{agent}","customer_id":"{customer}","ticket_id":null,"action":"view","fields":["name"]}}"#,
            ts(t)
        )
    }

    fn report(t: i64, customer: &str) -> String {
        format!(
            r#"{{"type":"scam_report","ts":"{}","report_id":"rep-{customer}","customer_id":"{customer}"}}"#,
            ts(t)
        )
    }

    /// Ten honest agents read 100 customers each; `a-bad` reads 20, among
    /// them the victims `v0`..`v4`, who then report one after another.
    fn floor() -> Vec<String> {
        let mut lines = Vec::new();
        for a in 0..10 {
            for c in 0..100 {
                lines.push(read(a * 100 + c, &format!("a-{a}"), &format!("c-{a}-{c}")));
            }
        }
        for c in 0..15 {
            lines.push(read(2_000 + c, "a-bad", &format!("c-x-{c}")));
        }
        for v in 0..5 {
            lines.push(read(3_000 + v, "a-bad", &format!("v{v}")));
        }
        // One victim was also read, legitimately, by a-3.
        lines.push(read(3_100, "a-3", "v0"));
        for v in 0..5 {
            lines.push(report(86_400 * (v + 1), &format!("v{v}")));
        }
        lines
    }

    fn run(lines: &[String]) -> Vec<Alert> {
        let mut d = LeakAttribution::new(BehaviorConfig::default());
        let mut ctx = Context::default();
        let mut alerts = Vec::new();
        for (n, l) in lines.iter().enumerate() {
            let e = parse_event(l, || format!("l{n}")).unwrap();
            ctx.directory.apply(&e);
            for s in d.observe(&e, &mut ctx) {
                if let Signal::Alert(a) = s {
                    alerts.push(a);
                }
            }
        }
        alerts
    }

    #[test]
    fn the_common_reader_of_the_victims_is_ranked_first() {
        let alerts = run(&floor());
        // Two reports are not enough; the third, fourth and fifth each run.
        assert_eq!(alerts.len(), 3, "{alerts:#?}");
        for a in &alerts {
            assert_eq!(a.entity.id, "a-bad");
            assert!(a.severity >= Severity::High);
            assert!(a.response.contains(&ResponseAction::NotifySecurity));
            let ranking = a.ranking.as_ref().unwrap();
            assert_eq!(ranking[0].agent_id, "a-bad");
            assert!(ranking.windows(2).all(|w| w[0].p_value <= w[1].p_value));
        }
        let last = &alerts[2];
        let top = &last.ranking.as_ref().unwrap()[0];
        assert_eq!(top.observed, 5.0);
        assert!(top.expected < 0.2, "{}", top.expected);
        assert!(
            last.reasons[0].detail.starts_with(
                "agent a-bad viewed 5 of 5 reporting victims in the 30 days before; expected 0.1"
            ),
            "{}",
            last.reasons[0].detail
        );
        assert_eq!(last.evidence.len(), 5);
        assert_eq!(last.evidence[0].as_str(), "r-a-bad-v0");
        assert_eq!(last.severity, Severity::Critical);
    }

    /// A scammer who calls a planted decoy number gives the leak away, even
    /// when the report comes from the exchange (no victim customer) and the
    /// decoy was read long ago.
    #[test]
    fn a_report_naming_a_decoy_contact_pins_its_readers() {
        let mut lines = floor();
        lines.push(read(5_000, "a-7", "canary-1"));
        lines.push(read(5_100, "a-bad", "canary-1"));
        lines.push(format!(
            r#"{{"type":"scam_report","ts":"{}","report_id":"rep-x","channel":"phone","contact":"+1 (415) 555-0199","text":"caller asked for a 2FA code"}}"#,
            ts(80 * 86_400)
        ));
        let contacts = [("+1 415 555 0199".to_owned(), "canary-1".to_owned())];
        let config = BehaviorConfig {
            canary_customers: vec!["canary-1".to_owned()],
            canary_contacts: contacts.into_iter().collect(),
            ..BehaviorConfig::default()
        };
        let mut d = LeakAttribution::new(config);
        let mut ctx = Context::default();
        let mut alerts = Vec::new();
        for (n, l) in lines.iter().enumerate() {
            let e = parse_event(l, || format!("l{n}")).unwrap();
            for s in d.observe(&e, &mut ctx) {
                if let Signal::Alert(a) = s {
                    alerts.push(a);
                }
            }
        }
        let alert = alerts.last().unwrap();
        assert_eq!(alert.reasons[0].code, "canary_reported");
        assert_eq!(alert.severity, Severity::Critical);
        let ranked: Vec<&str> = alert
            .ranking
            .as_ref()
            .unwrap()
            .iter()
            .map(|r| r.agent_id.as_str())
            .collect();
        assert_eq!(ranked, ["a-7", "a-bad"]);
        assert_eq!(contact_key("+1 (415) 555-0199"), "14155550199");
    }

    #[test]
    fn a_report_from_a_decoy_pins_the_few_who_read_it() {
        let mut lines = floor();
        lines.push(read(5_000, "a-7", "canary-1"));
        lines.push(read(5_100, "a-bad", "canary-1"));
        lines.push(report(9 * 86_400, "canary-1"));
        let config = BehaviorConfig {
            canary_customers: vec!["canary-1".to_owned()],
            ..BehaviorConfig::default()
        };
        let mut d = LeakAttribution::new(config);
        let mut ctx = Context::default();
        let mut last = None;
        for (n, l) in lines.iter().enumerate() {
            let e = parse_event(l, || format!("l{n}")).unwrap();
            for s in d.observe(&e, &mut ctx) {
                if let Signal::Alert(a) = s {
                    last = Some(a);
                }
            }
        }
        let alert = last.unwrap();
        assert_eq!(alert.severity, Severity::Critical);
        assert_eq!(alert.reasons[0].code, "canary_reported");
        let ranked: Vec<&str> = alert
            .ranking
            .as_ref()
            .unwrap()
            .iter()
            .map(|r| r.agent_id.as_str())
            .collect();
        assert_eq!(ranked, ["a-7", "a-bad"]);
        assert_eq!(alert.evidence.len(), 2);
    }

    #[test]
    fn old_reads_are_forgotten() {
        let mut d = LeakAttribution::new(BehaviorConfig::default());
        let mut ctx = Context::default();
        for (n, l) in floor().iter().take(50).enumerate() {
            let e = parse_event(l, || format!("l{n}")).unwrap();
            d.observe(&e, &mut ctx);
        }
        assert_eq!(d.customers_tracked(), 50);
        let late = parse_event(&read(70 * 86_400, "a-1", "c-new"), || "x".into()).unwrap();
        d.observe(&late, &mut ctx);
        assert_eq!(d.customers_tracked(), 1);
    }

    #[test]
    fn reads_outside_the_window_do_not_count() {
        let mut lines = floor();
        // Reports 40 days later: every read is older than the window.
        for l in lines.iter_mut().filter(|l| l.contains("scam_report")) {
            let e = parse_event(l, || "x".into()).unwrap();
            *l = l.replace(
                &e.ts.to_string(),
                &e.ts.saturating_add(Span::from_days(40)).to_string(),
            );
        }
        assert!(run(&lines).is_empty());
    }
}
