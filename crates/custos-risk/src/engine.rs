//! The risk engine: the pure decision core with its state beside it
//! (profiles, directory facts, marks, protection), live and candidate rule
//! sets (shadow mode), and a point-in-time backtest. No IO after
//! construction: the GeoIP database is read once, in [`Engine::new`].

use crate::assess::{self, ActionRequest, Assessment, Facts, MarkFact};
use crate::config::{RiskConfig, RiskConfigError};
use crate::decision::{Decision, Outcome, Protect};
use crate::geo::{self, GeoIp, GeoIpError, GeoResolution};
use crate::profile::{Observation, Profile, Profiles};
use crate::protection::{
    AccountProtection, Actor, Command, ProtectionBook, ProtectionError, ProtectionRecord,
};
use crate::rules::{RuleError, RuleSet};
use custos_core::detector::codes;
use custos_core::event::{CustomerActionKind, CustomerRecord, Event, EventBody, ScamReport};
use custos_core::id::{CustomerId, EventId};
use custos_core::time::{EventTime, Span};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Why an engine could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Config(#[from] RiskConfigError),
    #[error(transparent)]
    Rules(#[from] RuleError),
    #[error(transparent)]
    GeoIp(#[from] GeoIpError),
}

/// The pure decision: signals from the facts, then the rules. No state is
/// read or written beyond the arguments.
pub fn evaluate(
    req: &ActionRequest<'_>,
    facts: &Facts<'_>,
    rules: &RuleSet,
    config: &RiskConfig,
) -> (Assessment, Decision) {
    let assessment = assess::assess(req, facts, config);
    let recent = facts.profile.map_or(&[][..], |p| &p.recent[..]);
    let decision = rules.decide(req, &assessment, recent, config);
    (assessment, decision)
}

/// Where the live and the candidate rule sets disagree on one action.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShadowDiff {
    pub event_id: Option<EventId>,
    pub ts: EventTime,
    pub customer_id: CustomerId,
    pub action: &'static str,
    pub live: Outcome,
    pub candidate: Outcome,
    pub live_version: String,
    pub candidate_version: String,
    /// Rule and sequence codes only the candidate fired, then only the live.
    pub candidate_only: Vec<String>,
    pub live_only: Vec<String>,
}

/// How many recent differences a [`ShadowReport`] keeps.
pub const SHADOW_RECENT: usize = 100;

/// Shadow mode on live traffic: every action the engine decided (and
/// committed) while a candidate rule set was loaded, compared. Reset when a
/// candidate is loaded or removed.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ShadowReport {
    /// The candidate's version; `None` when no candidate is loaded.
    pub candidate_version: Option<String>,
    /// The live rules' version when the report was taken.
    pub live_version: String,
    /// Event time of the first and the latest action compared.
    pub first_ts: Option<EventTime>,
    pub last_ts: Option<EventTime>,
    /// Actions decided by both rule sets.
    pub compared: u64,
    /// Actions where the outcome or the rule codes differ.
    pub differences: u64,
    /// Differences by `live->candidate` outcome (e.g. `allow->hold`);
    /// same-outcome differences (other rule codes) count under `hold->hold`.
    pub by_outcome: std::collections::BTreeMap<String, u64>,
    /// The latest differences, oldest first, at most [`SHADOW_RECENT`].
    pub recent: std::collections::VecDeque<ShadowDiff>,
}

impl ShadowReport {
    fn record(&mut self, evaluation: &Evaluation) {
        let ts = evaluation.decision_ts;
        self.first_ts.get_or_insert(ts);
        self.last_ts = Some(ts);
        self.compared += 1;
        if let Some(diff) = &evaluation.shadow {
            self.differences += 1;
            *self
                .by_outcome
                .entry(format!("{}->{}", diff.live, diff.candidate))
                .or_default() += 1;
            if self.recent.len() == SHADOW_RECENT {
                self.recent.pop_front();
            }
            self.recent.push_back(diff.clone());
        }
    }
}

/// The result of evaluating one action.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub decision: Decision,
    pub assessment: Assessment,
    pub geo: GeoResolution,
    /// Set when a candidate rule set is loaded and decided differently.
    pub shadow: Option<ShadowDiff>,
    /// The action's event time.
    pub decision_ts: EventTime,
}

/// A mark the engine keeps itself (for the HTTP path, where no pipeline
/// context exists).
#[derive(Clone, Debug, PartialEq)]
struct HeldMark {
    fact: MarkFact,
    until: EventTime,
}

/// The engine: state plus the pure core.
pub struct Engine {
    config: RiskConfig,
    rules: Arc<RuleSet>,
    candidate: Option<Arc<RuleSet>>,
    shadow: ShadowReport,
    geo: Option<GeoIp>,
    profiles: Profiles,
    customers: HashMap<CustomerId, CustomerRecord>,
    marks: HashMap<CustomerId, Vec<HeldMark>>,
    protection: ProtectionBook,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("rules", &self.rules.version)
            .field(
                "candidate",
                &self.candidate.as_ref().map(|c| c.version.clone()),
            )
            .field("geo", &self.geo)
            .field("profiles", &self.profiles.len())
            .finish()
    }
}

fn rank(d: &Decision) -> Vec<String> {
    d.reasons
        .iter()
        .filter(|r| {
            r.code.starts_with("v1.rule.")
                || r.code.starts_with("v1.seq.")
                || r.code.starts_with("v1.fail.")
        })
        .map(|r| r.code.clone())
        .collect()
}

impl Engine {
    /// Validates the config, loads the rules (`rules_path` or the embedded
    /// defaults), the shadow candidate (`candidate_rules_path`, if set) and
    /// the GeoIP database (`geoip_path`, if set).
    pub fn new(config: RiskConfig) -> Result<Engine, EngineError> {
        config.validate()?;
        let rules = match &config.rules_path {
            Some(path) => RuleSet::from_path(path)?,
            None => RuleSet::default_rules()?,
        };
        let geo = match &config.geoip_path {
            Some(path) => Some(GeoIp::open(path)?),
            None => None,
        };
        let candidate = match &config.candidate_rules_path {
            Some(path) => Some(RuleSet::from_path(path)?),
            None => None,
        };
        let mut engine = Engine::with_parts(config, rules, geo);
        engine.set_candidate(candidate);
        Ok(engine)
    }

    /// An engine from ready parts (no IO).
    pub fn with_parts(config: RiskConfig, rules: RuleSet, geo: Option<GeoIp>) -> Engine {
        Engine {
            protection: ProtectionBook::new(config.protection.clone()),
            config,
            rules: Arc::new(rules),
            candidate: None,
            shadow: ShadowReport::default(),
            geo,
            profiles: Profiles::default(),
            customers: HashMap::new(),
            marks: HashMap::new(),
        }
    }

    pub fn config(&self) -> &RiskConfig {
        &self.config
    }
    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }
    pub fn geoip(&self) -> Option<&GeoIp> {
        self.geo.as_ref()
    }

    /// Swaps the live rule set (hot reload); returns the previous one.
    pub fn swap_rules(&mut self, rules: RuleSet) -> Arc<RuleSet> {
        std::mem::replace(&mut self.rules, Arc::new(rules))
    }

    /// Loads (or with `None` removes) a candidate rule set evaluated beside
    /// the live one: decisions stay the live ones, differences are reported.
    /// The shadow report restarts.
    pub fn set_candidate(&mut self, candidate: Option<RuleSet>) {
        self.shadow = ShadowReport {
            candidate_version: candidate.as_ref().map(|c| c.version.clone()),
            ..ShadowReport::default()
        };
        self.candidate = candidate.map(Arc::new);
    }

    /// Shadow mode so far: what the candidate would have decided
    /// differently on the actions decided since it was loaded.
    pub fn shadow_report(&self) -> ShadowReport {
        ShadowReport {
            live_version: self.rules.version.clone(),
            ..self.shadow.clone()
        }
    }

    pub fn candidate(&self) -> Option<&Arc<RuleSet>> {
        self.candidate.as_ref()
    }

    pub fn profile(&self, customer: &CustomerId) -> Option<&Profile> {
        self.profiles.get(customer)
    }
    pub fn profiles(&self) -> &Profiles {
        &self.profiles
    }
    /// Direct access (benches, a warm start from a snapshot).
    pub fn profiles_mut(&mut self) -> &mut Profiles {
        &mut self.profiles
    }
    pub fn protection(&self, customer: &CustomerId) -> Option<&AccountProtection> {
        self.protection.get(customer)
    }

    /// A directory record (`customer` event): home country, balance.
    pub fn observe_customer(&mut self, record: &CustomerRecord) {
        self.customers
            .insert(record.customer_id.clone(), record.clone());
    }

    pub fn customer(&self, id: &CustomerId) -> Option<&CustomerRecord> {
        self.customers.get(id)
    }

    /// A scam report about a customer: elevated protection for
    /// `scam_report_mark_days`. Returns the mark to share with other
    /// detectors.
    pub fn observe_scam_report(
        &mut self,
        ts: EventTime,
        report: &ScamReport,
    ) -> Option<(CustomerId, MarkFact, EventTime)> {
        let customer = report.customer_id.clone()?;
        let until = ts.saturating_add(Span::from_days(i64::from(
            self.config.scam_report_mark_days,
        )));
        let fact = MarkFact {
            code: codes::SCAM_REPORTED.to_owned(),
            source: "action_risk".to_owned(),
            since: ts,
        };
        let held = self.marks.entry(customer.clone()).or_default();
        held.retain(|m| m.until > ts);
        held.push(HeldMark {
            fact: fact.clone(),
            until,
        });
        Some((customer, fact, until))
    }

    /// A mark from elsewhere (the HTTP layer relaying another detector).
    pub fn add_mark(&mut self, customer: &CustomerId, fact: MarkFact, until: EventTime) {
        let held = self.marks.entry(customer.clone()).or_default();
        held.retain(|m| m.until > fact.since);
        held.push(HeldMark { fact, until });
    }

    /// The marks the engine itself holds on `customer` (scam reports,
    /// relayed marks) in force at `at`; the pipeline's come on top.
    pub fn marks_at(&self, customer: &CustomerId, at: EventTime) -> Vec<MarkFact> {
        self.marks.get(customer).map_or_else(Vec::new, |held| {
            held.iter()
                .filter(|m| m.fact.since <= at && at < m.until)
                .map(|m| m.fact.clone())
                .collect()
        })
    }

    /// Evaluates an action without changing any state. `marks` are the
    /// marks the caller knows of (the pipeline's); the engine adds its own.
    /// `now` is the decision clock.
    pub fn evaluate(
        &self,
        req: &ActionRequest<'_>,
        marks: &[MarkFact],
        now: EventTime,
    ) -> Evaluation {
        let id = &req.action.customer_id;
        let ip = assess::parse_ip(req.action).ok();
        let geo = geo::resolve(req.action.geo.as_ref(), ip, self.geo.as_ref());
        let mut all_marks: Vec<MarkFact> = marks.to_vec();
        all_marks.extend(self.marks_at(id, req.ts));
        let facts = Facts {
            now,
            customer: self.customers.get(id),
            profile: self.profiles.get(id),
            marks: &all_marks,
            protection: self.protection.get(id),
            geo: &geo,
        };
        let (assessment, decision) = evaluate(req, &facts, &self.rules, &self.config);
        let shadow = self.candidate.as_ref().and_then(|candidate| {
            let recent = facts.profile.map_or(&[][..], |p| &p.recent[..]);
            let other = candidate.decide(req, &assessment, recent, &self.config);
            let (live_codes, cand_codes) = (rank(&decision), rank(&other));
            (other.outcome != decision.outcome || live_codes != cand_codes).then(|| ShadowDiff {
                event_id: req.event_id.cloned(),
                ts: req.ts,
                customer_id: id.clone(),
                action: req.action.action.as_str(),
                live: decision.outcome,
                candidate: other.outcome,
                live_version: decision.rules_version.clone(),
                candidate_version: other.rules_version.clone(),
                candidate_only: cand_codes
                    .iter()
                    .filter(|c| !live_codes.contains(c))
                    .cloned()
                    .collect(),
                live_only: live_codes
                    .iter()
                    .filter(|c| !cand_codes.contains(c))
                    .cloned()
                    .collect(),
            })
        });
        Evaluation {
            decision,
            assessment,
            geo,
            shadow,
            decision_ts: req.ts,
        }
    }

    /// Records a decided action: the profile learns (what was held or
    /// denied only enters the recent actions), protections the decision
    /// took are applied, and a customer's own freeze/unfreeze takes effect.
    pub fn commit(
        &mut self,
        req: &ActionRequest<'_>,
        evaluation: &Evaluation,
    ) -> Vec<ProtectionRecord> {
        let action = req.action;
        let id = &action.customer_id;
        let outcome = evaluation.decision.outcome;
        let ip = assess::parse_ip(action).ok();
        let observation = Observation {
            ts: req.ts,
            kind: action.action,
            device: action
                .device_id
                .as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty()),
            network: ip
                .filter(|ip| geo::classify(*ip) == geo::IpKind::Public)
                .map(geo::network_key),
            location: evaluation.geo.location(),
            asset: action.asset.as_deref(),
            destination: action.destination.as_deref(),
            amount_usd: action.amount_usd,
            api_key: action.api_key.as_ref(),
            signals: evaluation.assessment.signals,
            outcome,
        };
        self.profiles
            .entry(id, self.config.max_customers)
            .learn(&observation, &self.config);
        let mut records = Vec::new();
        for p in &evaluation.decision.protections {
            let command = match p {
                Protect::Freeze => Command::Freeze,
                Protect::RevokeApiKeys => Command::RevokeApiKeys,
                Protect::LockSecuritySettings => Command::LockSecuritySettings,
            };
            if let Ok(record) = self.protect(id, req.ts, Actor::System, &command) {
                records.push(record);
            }
        }
        match action.action {
            CustomerActionKind::Freeze => {
                if let Ok(record) = self.protect(
                    id,
                    req.ts,
                    Actor::Customer { factor: None },
                    &Command::Freeze,
                ) {
                    records.push(record);
                }
            }
            CustomerActionKind::Unfreeze if outcome <= Outcome::StepUp => {
                self.protection.unfreeze_now(id);
            }
            _ => {}
        }
        records
    }

    /// Evaluates and commits: the call for a live decision.
    pub fn decide(
        &mut self,
        req: &ActionRequest<'_>,
        marks: &[MarkFact],
        now: EventTime,
    ) -> (Evaluation, Vec<ProtectionRecord>) {
        let evaluation = self.evaluate(req, marks, now);
        if self.candidate.is_some() {
            self.shadow.record(&evaluation);
        }
        let records = self.commit(req, &evaluation);
        (evaluation, records)
    }

    /// A protection command (freeze, unfreeze, lock, allow-list, ...).
    pub fn protect(
        &mut self,
        customer: &CustomerId,
        ts: EventTime,
        actor: Actor,
        command: &Command,
    ) -> Result<ProtectionRecord, ProtectionError> {
        let record = self.protection.apply(customer, ts, actor, command)?;
        if matches!(command, Command::RevokeApiKeys) {
            if let Some(p) = self.profiles.get_mut(customer) {
                p.revoke_api_keys();
            }
        }
        Ok(record)
    }
}

/// One decision of a backtest, with the point-in-time signals behind it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BacktestRow {
    pub event_id: EventId,
    pub ts: EventTime,
    pub customer_id: CustomerId,
    pub action: &'static str,
    pub decision: Decision,
    /// Signal codes as they were known at the time of the action.
    pub signals: Vec<&'static str>,
    pub shadow: Option<ShadowDiff>,
}

/// What a backtest found.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Backtest {
    pub actions: u64,
    pub by_outcome: BTreeMap<&'static str, u64>,
    /// Shadow differences (with a candidate rule set).
    pub differences: u64,
    /// Every decision other than allow, and every shadow difference.
    pub rows: Vec<BacktestRow>,
}

/// Replays stored events through a fresh engine, in the order given
/// (event-time order for a faithful replay): each action is decided on the
/// profile as it was then, before the action itself is learned, so the
/// features are point-in-time, never what is known now. With `candidate`,
/// also reports where it would have decided differently.
pub fn backtest<'a>(
    config: RiskConfig,
    live: RuleSet,
    candidate: Option<RuleSet>,
    geo: Option<GeoIp>,
    events: impl IntoIterator<Item = &'a Event>,
) -> Backtest {
    let mut engine = Engine::with_parts(config, live, geo);
    engine.set_candidate(candidate);
    let mut report = Backtest::default();
    let mut now = EventTime::MIN;
    for event in events {
        now = now.max(event.ts);
        match &event.body {
            EventBody::Customer(record) => engine.observe_customer(record),
            EventBody::ScamReport(r) => {
                engine.observe_scam_report(event.ts, r);
            }
            EventBody::CustomerAction(action) => {
                let req = ActionRequest {
                    event_id: Some(&event.id),
                    ts: event.ts,
                    action,
                };
                let (evaluation, _) = engine.decide(&req, &[], now);
                report.actions += 1;
                *report
                    .by_outcome
                    .entry(evaluation.decision.outcome.as_str())
                    .or_default() += 1;
                report.differences += u64::from(evaluation.shadow.is_some());
                if evaluation.decision.outcome != Outcome::Allow || evaluation.shadow.is_some() {
                    report.rows.push(BacktestRow {
                        event_id: event.id.clone(),
                        ts: event.ts,
                        customer_id: action.customer_id.clone(),
                        action: action.action.as_str(),
                        signals: evaluation
                            .assessment
                            .signals
                            .iter()
                            .map(|s| s.code())
                            .collect(),
                        decision: evaluation.decision,
                        shadow: evaluation.shadow,
                    });
                }
            }
            _ => {}
        }
    }
    report
}
