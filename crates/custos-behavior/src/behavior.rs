//! `agent_behavior`: per-agent features in event time, weighed against the
//! agent's own history and their peers', raising graduated alerts when an
//! agent reads customer records the way a bribed insider does.
//!
//! Each access gets a suspicion weight from what is unusual about it (no
//! ticket, a ticket not theirs or opened by themselves, sensitive fields the
//! ticket does not need, a high-value pick, outside the shift, an unknown
//! device or IP, a reveal or export). Suspicious accesses add to a heat that
//! halves every `half_life_hours`; the norm is the agent's own daily
//! suspicion blended with the peer group's median (team + role + site), so a
//! lead's quality checks or a new hire's first days are judged against the
//! right people. State per agent is fixed-size.

use crate::config::BehaviorConfig;
use crate::fields::{FieldMask, needed_fields, review_fields};
use custos_core::alert::{Alert, Entity, EntityKind, ResponseAction, Severity};
use custos_core::detector::{Context, Detector, Mark, Signal};
use custos_core::event::{AccessAction, AgentAccess, Event, EventBody, OpenedBy, Shift, Tier};
use custos_core::id::{AgentId, CustomerId, EventId};
use custos_core::time::{EventTime, Span};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The mark `leak_attribution` sets on an agent it names significantly;
/// `agent_behavior` then re-scores that agent's past suspicious accesses.
pub use custos_core::detector::codes::ATTRIBUTED_LEAK;
/// The mark set on customers read by an agent under suspicion.
pub use custos_core::detector::codes::READ_BY_SUSPECT_AGENT;

const NAME: &str = "agent_behavior";
const DEVICE_SLOTS: usize = 8;
const EVIDENCE_SLOTS: usize = 24;
/// Smoothing of the daily baselines (about a three-week memory).
const EWMA_ALPHA: f64 = 0.1;

// Weights of what can be unusual about one access.
const W_OFF_TICKET: f64 = 1.0;
const W_OFF_TICKET_LEAD: f64 = 0.3;
const W_NOT_ASSIGNED: f64 = 1.0;
const W_SELF_OPENED: f64 = 0.7;
const W_SENSITIVE_BEYOND: f64 = 1.0;
const W_OTHER_BEYOND: f64 = 0.3;
const W_HIGH_VALUE: f64 = 0.5;
const W_OFF_SHIFT: f64 = 1.0;
const W_NEW_DEVICE: f64 = 1.0;
const W_NEW_IP: f64 = 0.5;
const W_NEW_IDENTITY_ROUTINE: f64 = 0.4;
const W_REVEAL_EXPORT: f64 = 0.5;
const W_SEQUENTIAL: f64 = 0.7;
/// A work day begins this many hours before the agent's shift.
const WORK_DAY_LEAD_HOURS: i64 = 4;
/// Customer numbers this close to the previous lookup's count as a walk.
const SEQUENTIAL_GAP: u64 = 3;

/// Counts of one work day (see [`work_day`]), for the reasons and the
/// baselines.
#[derive(Clone, Copy, Debug, Default)]
struct DayCounts {
    records: u32,
    off_ticket: u32,
    self_opened: u32,
    not_assigned: u32,
    sensitive_beyond: u32,
    high_value_suspicious: u32,
    off_shift: u32,
    new_identity: u32,
    reveals_exports: u32,
    off_ticket_searches: u32,
    sequential: u32,
    suspicious: u32,
    suspicion: f64,
}

/// One suspicious access kept as evidence.
#[derive(Clone, Debug)]
struct Evidence {
    event: EventId,
    customer: Option<CustomerId>,
    weight: f32,
    seq: u64,
}

/// Everything kept per agent: fixed-size apart from the evidence ids.
#[derive(Clone, Debug)]
struct AgentState {
    id: AgentId,
    day: i64,
    today: DayCounts,
    hour: i64,
    hour_suspicious: u32,
    /// EWMA of daily suspicion and off-ticket records over worked days.
    own_suspicion: f64,
    own_off_ticket: f64,
    days_observed: u32,
    /// Peer medians, refreshed once a day.
    peer_suspicion: f64,
    peer_off_ticket: f64,
    /// How far the peers' suspicion so far today is above their usual
    /// day, refreshed every event-time hour: a queue spike or an incident
    /// that lifts the whole group lifts the norm with it.
    peer_lift_today: f64,
    /// The agent's shift and peer group, from the directory.
    shift: Option<Shift>,
    group: Option<usize>,
    /// On-ticket work: how often the queue brings high-value customers.
    queue_records: u32,
    queue_high_value: u32,
    devices: [u64; DEVICE_SLOTS],
    ips: [u64; DEVICE_SLOTS],
    identity_cursor: u8,
    /// Number in the id of the last customer looked up off the queue.
    last_lookup_number: Option<(u64, u64)>,
    heat: f64,
    heat_at: EventTime,
    evidence: Vec<Evidence>,
    evidence_seq: u64,
    /// Severity of the last alert in the current episode.
    alerted: Option<Severity>,
    accesses_since_alert: u32,
    evidence_since_alert: u32,
    /// Named by leak attribution (re-scored once).
    attributed: bool,
}

impl AgentState {
    fn new(id: AgentId) -> AgentState {
        AgentState {
            id,
            day: i64::MIN,
            today: DayCounts::default(),
            hour: i64::MIN,
            hour_suspicious: 0,
            own_suspicion: 0.0,
            own_off_ticket: 0.0,
            days_observed: 0,
            peer_suspicion: 0.0,
            peer_off_ticket: 0.0,
            peer_lift_today: 0.0,
            shift: None,
            group: None,
            queue_records: 0,
            queue_high_value: 0,
            devices: [0; DEVICE_SLOTS],
            ips: [0; DEVICE_SLOTS],
            identity_cursor: 0,
            last_lookup_number: None,
            heat: 0.0,
            heat_at: EventTime::MIN,
            evidence: Vec::new(),
            evidence_seq: 0,
            alerted: None,
            accesses_since_alert: 0,
            evidence_since_alert: 0,
            attributed: false,
        }
    }

    /// Closes the day the agent was in and opens `day`.
    fn roll_day(&mut self, day: i64) {
        if day == self.day {
            return;
        }
        if self.day != i64::MIN && self.today.records > 0 {
            let t = &self.today;
            if self.days_observed == 0 {
                self.own_suspicion = t.suspicion;
                self.own_off_ticket = f64::from(t.off_ticket);
            } else {
                self.own_suspicion += EWMA_ALPHA * (t.suspicion - self.own_suspicion);
                self.own_off_ticket += EWMA_ALPHA * (f64::from(t.off_ticket) - self.own_off_ticket);
            }
            self.days_observed = self.days_observed.saturating_add(1);
        }
        self.day = day;
        self.today = DayCounts::default();
    }

    fn decay_to(&mut self, now: EventTime, half_life_hours: f64) {
        if self.heat_at != EventTime::MIN && now > self.heat_at {
            let hours = now.since(self.heat_at).as_secs_f64() / 3600.0;
            self.heat *= 0.5f64.powf(hours / half_life_hours);
        }
        self.heat_at = now;
    }

    /// The agent's expected daily suspicion: the peers' median at first,
    /// their own as their history grows.
    fn norm_per_day(&self, own_days: u32) -> f64 {
        let w = (f64::from(self.days_observed) / f64::from(own_days.max(1))).min(1.0);
        w * self.own_suspicion + (1.0 - w) * self.peer_suspicion
    }

    fn knows(slots: &[u64; DEVICE_SLOTS], h: u64) -> bool {
        slots.contains(&h)
    }

    fn learn_identity(&mut self, device: u64, ip: u64) {
        let i = usize::from(self.identity_cursor) % DEVICE_SLOTS;
        let mut advanced = false;
        if device != 0 && !Self::knows(&self.devices, device) {
            self.devices[i] = device;
            advanced = true;
        }
        if ip != 0 && !Self::knows(&self.ips, ip) {
            self.ips[i] = ip;
            advanced = true;
        }
        if advanced {
            self.identity_cursor = self.identity_cursor.wrapping_add(1);
        }
    }

    fn has_identity(&self) -> bool {
        self.devices.iter().any(|d| *d != 0)
    }

    /// Keeps the most telling suspicious accesses (highest weight; among
    /// equals the earliest).
    fn keep_evidence(&mut self, event: &EventId, customer: Option<&CustomerId>, weight: f64) {
        self.evidence_seq += 1;
        let item = Evidence {
            event: event.clone(),
            customer: customer.cloned(),
            weight: weight as f32,
            seq: self.evidence_seq,
        };
        if self.evidence.len() < EVIDENCE_SLOTS {
            self.evidence.push(item);
        } else if let Some((i, weakest)) = self.evidence.iter().enumerate().min_by(|a, b| {
            a.1.weight
                .total_cmp(&b.1.weight)
                .then(b.1.seq.cmp(&a.1.seq))
        }) && weakest.weight < item.weight
        {
            self.evidence[i] = item;
        } else {
            return;
        }
        self.evidence_since_alert += 1;
    }

    fn evidence_sorted(&self) -> Vec<&Evidence> {
        let mut e: Vec<&Evidence> = self.evidence.iter().collect();
        e.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.seq.cmp(&b.seq)));
        e
    }

    fn heap_bytes(&self) -> usize {
        self.id.as_str().len()
            + self.evidence.capacity() * std::mem::size_of::<Evidence>()
            + self
                .evidence
                .iter()
                .map(|e| {
                    e.event.as_str().len() + e.customer.as_ref().map_or(0, |c| c.as_str().len())
                })
                .sum::<usize>()
    }
}

/// What was unusual about one access.
#[derive(Clone, Copy, Debug, Default)]
struct AccessFeatures {
    off_ticket: bool,
    self_opened: bool,
    not_assigned: bool,
    sensitive_beyond: FieldMask,
    other_beyond: bool,
    high_value: bool,
    off_shift: bool,
    new_device: bool,
    new_ip: bool,
    reveal_export: bool,
    off_ticket_search: bool,
    /// The customer id's number follows the previous lookup's closely
    /// (walking the customer table).
    sequential: bool,
    weight: f64,
}

/// The `agent_behavior` detector.
pub struct AgentBehavior {
    config: BehaviorConfig,
    index: HashMap<AgentId, usize>,
    agents: Vec<AgentState>,
    canaries: HashSet<String>,
    peer_day: i64,
    /// Event-time hour of the last same-day peer refresh.
    peer_hour: i64,
    /// Members (agent slots) of each peer group, from the last daily refresh.
    groups: Vec<Vec<usize>>,
    /// Marks in the context when last scanned for attributions.
    marks_seen: usize,
}

impl AgentBehavior {
    pub fn new(config: BehaviorConfig) -> AgentBehavior {
        let canaries = config.canary_customers.iter().cloned().collect();
        AgentBehavior {
            config,
            index: HashMap::new(),
            agents: Vec::new(),
            canaries,
            peer_day: i64::MIN,
            peer_hour: i64::MIN,
            groups: Vec::new(),
            marks_seen: 0,
        }
    }

    /// Agents with state.
    pub fn agent_count(&self) -> usize {
        self.agents.len()
    }

    /// The largest state held for one agent, in bytes (struct plus heap,
    /// plus its share of the index). Bounded by construction: fixed arrays
    /// and at most a fixed number of evidence entries.
    pub fn max_bytes_per_agent(&self) -> usize {
        let fixed = std::mem::size_of::<AgentState>()
            + std::mem::size_of::<(AgentId, usize)>()
            + std::mem::size_of::<u64>();
        fixed
            + self
                .agents
                .iter()
                .map(|a| a.heap_bytes() * 2)
                .max()
                .unwrap_or(0)
    }

    /// An analyst lifted a countermeasure on an agent: their judgement is
    /// that the episode was benign, so suspicion starts again from zero and
    /// a new episode may alert again. The evidence kept is not forgotten
    /// (a later attribution still re-scores it).
    fn on_release(&mut self, release: &custos_core::event::CountermeasureRelease) {
        if release.entity.kind != custos_core::EntityKind::Agent {
            return;
        }
        let Ok(id) = AgentId::parse(release.entity.id.as_str()) else {
            return;
        };
        let Some(&i) = self.index.get(&id) else {
            return;
        };
        let a = &mut self.agents[i];
        a.heat = 0.0;
        a.alerted = None;
        a.accesses_since_alert = 0;
        a.evidence_since_alert = 0;
    }

    fn slot(&mut self, id: &AgentId) -> usize {
        if let Some(&i) = self.index.get(id) {
            return i;
        }
        let i = self.agents.len();
        self.agents.push(AgentState::new(id.clone()));
        self.index.insert(id.clone(), i);
        i
    }

    /// Once a day: the peer groups' medians of daily suspicion and
    /// off-ticket records (team + role + site; the role across sites when
    /// the group is too small to have a median worth the name).
    fn refresh_peers(&mut self, ctx: &Context) {
        let mut groups: BTreeMap<(String, String, String), Vec<(f64, f64)>> = BTreeMap::new();
        let mut roles: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
        let keys: Vec<Option<(String, String, String)>> = self
            .agents
            .iter()
            .map(|a| {
                ctx.directory.agent(&a.id).map(|r| {
                    (
                        r.team.clone(),
                        r.role.clone(),
                        r.site.clone().unwrap_or_default(),
                    )
                })
            })
            .collect();
        for (a, key) in self.agents.iter().zip(&keys) {
            if a.days_observed < 3 {
                continue;
            }
            let Some(key) = key else { continue };
            let v = (a.own_suspicion, a.own_off_ticket);
            groups.entry(key.clone()).or_default().push(v);
            roles.entry(key.1.clone()).or_default().push(v);
        }
        for (a, key) in self.agents.iter_mut().zip(&keys) {
            let Some(key) = key else { continue };
            let list = match groups.get(key) {
                Some(g) if g.len() >= 3 => Some(g),
                _ => roles.get(&key.1),
            };
            if let Some(list) = list {
                a.peer_suspicion = median(list.iter().map(|v| v.0));
                a.peer_off_ticket = median(list.iter().map(|v| v.1));
            }
        }
        // Same-day groups: team + role + site, or the role when the team
        // is too small for a median worth the name (as above).
        let mut members: BTreeMap<(String, String, String), Vec<usize>> = BTreeMap::new();
        for (i, key) in keys.iter().enumerate() {
            if let Some(key) = key {
                members.entry(key.clone()).or_default().push(i);
            }
        }
        let mut by_role: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (key, list) in &members {
            if list.len() < 3 {
                by_role.entry(key.1.clone()).or_default().extend(list);
            }
        }
        self.groups.clear();
        for a in &mut self.agents {
            a.group = None;
        }
        for list in members
            .into_values()
            .filter(|l| l.len() >= 3)
            .chain(by_role.into_values())
        {
            let g = self.groups.len();
            for &i in &list {
                self.agents[i].group = Some(g);
            }
            self.groups.push(list);
        }
    }

    /// Every event-time hour: how far each peer group's median suspicion
    /// so far today is above its usual day. Only agents who worked today
    /// count; the median ignores a few bad apples, so an insider does not
    /// lift their own norm, while a spike that lifts half the team does.
    fn refresh_peer_lift(&mut self, now: EventTime) {
        for list in &self.groups {
            let today: Vec<f64> = list
                .iter()
                .filter_map(|&i| {
                    let a = &self.agents[i];
                    (a.today.records > 0 && a.day == work_day(now, a.shift))
                        .then_some(a.today.suspicion)
                })
                .collect();
            let lift = if today.len() >= 3 {
                let usual = median(list.iter().map(|&i| self.agents[i].peer_suspicion));
                (median(today.into_iter()) - usual).max(0.0)
            } else {
                0.0
            };
            for &i in list {
                self.agents[i].peer_lift_today = lift;
            }
        }
    }

    fn features(
        &self,
        a: &AgentState,
        access: &AgentAccess,
        ts: EventTime,
        ctx: &Context,
    ) -> AccessFeatures {
        let mut f = AccessFeatures::default();
        let record = ctx.directory.agent(&access.agent_id);
        let lead = record.is_some_and(|r| is_lead(&r.role));
        let fields = FieldMask::of(&access.fields);
        let needed = match &access.ticket_id {
            None => {
                // A search by name or phone outside a ticket is a lookup too.
                f.off_ticket = true;
                if lead {
                    review_fields()
                } else {
                    needed_fields(None)
                }
            }
            Some(t) => match ctx.directory.ticket(t) {
                None => {
                    f.not_assigned = true;
                    needed_fields(None)
                }
                Some(state) => {
                    let ticket = &state.ticket;
                    let mine = ticket.agent_id.as_ref() == Some(&access.agent_id);
                    f.not_assigned = !mine && !lead;
                    f.self_opened = mine && ticket.opened_by == Some(OpenedBy::Agent);
                    needed_fields(ticket.category.as_deref())
                }
            },
        };
        let beyond = fields.minus(needed);
        f.sensitive_beyond = beyond.sensitive();
        f.other_beyond = !beyond.minus(f.sensitive_beyond).is_empty();
        f.high_value = access
            .customer_id
            .as_ref()
            .and_then(|c| ctx.directory.customer(c))
            .is_some_and(|c| {
                c.tier != Tier::Retail
                    || c.balance_usd
                        .is_some_and(|b| b >= self.config.high_value_balance_usd)
            });
        if let Some(shift) = record.and_then(|r| r.shift) {
            let minute = ts.as_micros().rem_euclid(86_400_000_000) / 60_000_000;
            let grace = i64::from(self.config.shift_grace_minutes);
            let on = [-grace, 0, grace].iter().any(|d| {
                let m = (minute + d).rem_euclid(1440);
                shift.contains_hour((m / 60) as u8)
            });
            f.off_shift = !on;
        }
        if a.has_identity() {
            f.new_device = access
                .device_id
                .as_deref()
                .is_some_and(|d| !AgentState::knows(&a.devices, hash(d)));
            f.new_ip = access
                .ip
                .as_deref()
                .is_some_and(|ip| !AgentState::knows(&a.ips, hash(ip)));
        }
        f.reveal_export = matches!(access.action, AccessAction::Reveal | AccessAction::Export);
        f.off_ticket_search = f.off_ticket && access.action == AccessAction::Search;
        if f.off_ticket || f.not_assigned {
            let number = access
                .customer_id
                .as_ref()
                .and_then(|c| trailing_number(c.as_str()));
            f.sequential = matches!(
                (number, a.last_lookup_number),
                (Some((prefix, n)), Some((last_prefix, last)))
                    if prefix == last_prefix && n != last && n.abs_diff(last) <= SEQUENTIAL_GAP
            );
        }

        let mut w = 0.0;
        if f.off_ticket {
            w += if lead {
                W_OFF_TICKET_LEAD
            } else {
                W_OFF_TICKET
            };
        }
        if f.not_assigned {
            w += W_NOT_ASSIGNED;
        }
        if f.self_opened {
            w += W_SELF_OPENED;
        }
        if !f.sensitive_beyond.is_empty() {
            w += W_SENSITIVE_BEYOND;
        }
        if f.other_beyond {
            w += W_OTHER_BEYOND;
        }
        // A ticket of their own making is a route for a lookup only when
        // the read goes beyond what its category needs: an honest
        // call-back reads what the category needs.
        let beyond_need = !f.sensitive_beyond.is_empty() || f.other_beyond;
        let unusual_route = f.off_ticket || f.not_assigned || (f.self_opened && beyond_need);
        if f.high_value && unusual_route {
            w += W_HIGH_VALUE;
        }
        if f.off_shift {
            w += W_OFF_SHIFT;
        }
        // A new laptop or working from home is common; it weighs fully
        // only with access off the ticket or off the shift.
        if f.new_device || f.new_ip {
            w += if f.off_ticket || f.off_shift {
                if f.new_device { W_NEW_DEVICE } else { W_NEW_IP }
            } else {
                W_NEW_IDENTITY_ROUTINE
            };
        }
        if f.reveal_export && (unusual_route || !f.sensitive_beyond.is_empty()) {
            w += W_REVEAL_EXPORT;
        }
        if f.sequential {
            w += W_SEQUENTIAL;
        }
        f.weight = w;
        f
    }

    fn observe_access(
        &mut self,
        event: &Event,
        access: &AgentAccess,
        ctx: &mut Context,
    ) -> Vec<Signal> {
        let mut signals = Vec::new();
        let i = self.slot(&access.agent_id);
        let ts = event.ts;
        let shift = ctx.directory.agent(&access.agent_id).and_then(|r| r.shift);
        self.agents[i].shift = shift;
        self.agents[i].roll_day(work_day(ts, shift));
        let f = self.features(&self.agents[i], access, ts, ctx);
        let config = &self.config;
        let a = &mut self.agents[i];
        a.decay_to(ts, config.half_life_hours);
        let hour = ts.as_micros().div_euclid(3_600_000_000);
        if hour != a.hour {
            a.hour = hour;
            a.hour_suspicious = 0;
        }
        let t = &mut a.today;
        t.records += 1;
        t.off_ticket += u32::from(f.off_ticket);
        t.self_opened += u32::from(f.self_opened);
        t.not_assigned += u32::from(f.not_assigned);
        t.sensitive_beyond += u32::from(!f.sensitive_beyond.is_empty());
        t.off_shift += u32::from(f.off_shift);
        t.new_identity += u32::from(f.new_device || f.new_ip);
        t.reveals_exports += u32::from(f.reveal_export);
        t.off_ticket_searches += u32::from(f.off_ticket_search);
        t.sequential += u32::from(f.sequential);
        if (f.off_ticket || f.not_assigned)
            && let Some(n) = access
                .customer_id
                .as_ref()
                .and_then(|c| trailing_number(c.as_str()))
        {
            a.last_lookup_number = Some(n);
        }
        let routine = !(f.off_ticket || f.self_opened || f.not_assigned || f.off_shift);
        if routine {
            // Ordinary work on their own queue teaches what the queue brings
            // and which devices are theirs.
            a.queue_records = a.queue_records.saturating_add(1);
            a.queue_high_value = a.queue_high_value.saturating_add(u32::from(f.high_value));
            let device = access.device_id.as_deref().map_or(0, hash);
            let ip = access.ip.as_deref().map_or(0, hash);
            a.learn_identity(device, ip);
        }
        a.accesses_since_alert = a.accesses_since_alert.saturating_add(1);
        let suspicious = f.weight >= config.suspicious_weight;
        if suspicious {
            let t = &mut a.today;
            t.suspicious += 1;
            t.suspicion += f.weight;
            t.high_value_suspicious += u32::from(f.high_value);
            a.hour_suspicious += 1;
            a.heat += f.weight;
            a.keep_evidence(&event.id, access.customer_id.as_ref(), f.weight);
        }

        if let Some(c) = &access.customer_id
            && self.canaries.contains(c.as_str())
            && access.ticket_id.is_none()
        {
            let alert = Alert::new(NAME, ts, agent_entity(&a.id), Severity::Critical, 1.0)
                .reason(
                    "canary_access",
                    format!(
                        "opened decoy customer record {c} without a ticket; nobody has a reason to"
                    ),
                )
                .evidence(event.id.clone())
                .respond(ResponseAction::SuspendAccess)
                .respond(ResponseAction::NotifySecurity);
            signals.push(Signal::Alert(alert));
            a.alerted = Some(Severity::Critical);
            a.accesses_since_alert = 0;
        }

        // Customers read by a flagged agent are marked for later detectors.
        if suspicious
            && a.alerted.is_some_and(|s| s >= Severity::High)
            && let Some(c) = &access.customer_id
        {
            signals.push(Signal::Mark(customer_mark(c, ts, config.mark_days)));
        }

        let norm = a.norm_per_day(config.own_baseline_days);
        let steady = 1.0 / (1.0 - 0.5f64.powf(24.0 / config.half_life_hours));
        // Today's collective lift is already in the heat at full weight.
        let expected = norm * steady + a.peer_lift_today;
        let excess = a.heat - expected;
        let mut severity = if excess >= config.critical_score {
            Some(Severity::Critical)
        } else if excess >= config.high_score {
            Some(Severity::High)
        } else if excess >= config.medium_score {
            Some(Severity::Medium)
        } else {
            None
        };
        if suspicious && a.hour_suspicious >= config.burst_per_hour && excess >= config.high_score {
            severity = Some(Severity::Critical);
        }
        if excess < config.medium_score / 2.0 && a.alerted.is_some() && !suspicious {
            // The episode is over: suspicion decayed back to the norm. The
            // evidence stays (it does not decay) for a later re-score.
            a.alerted = None;
        }
        let Some(severity) = severity else {
            return signals;
        };
        if !suspicious {
            return signals;
        }
        let rises = a.alerted.is_none_or(|s| severity > s);
        let repeat = a.alerted.is_some_and(|s| s >= Severity::High)
            && a.accesses_since_alert >= config.realert_every
            && a.evidence_since_alert > 0;
        if !(rises || repeat) {
            return signals;
        }
        let score = 1.0 - (-1.6 * excess / config.high_score).exp();
        let mut alert = Alert::new(NAME, ts, agent_entity(&a.id), severity, score);
        for (code, detail) in reasons(a, ctx, access, excess, expected, norm) {
            alert = alert.reason(code, detail);
        }
        let evidence = a.evidence_sorted();
        for e in &evidence {
            alert = alert.evidence(e.event.clone());
        }
        for action in response_for(severity) {
            alert = alert.respond(*action);
        }
        if severity >= Severity::High {
            let mut seen = HashSet::new();
            for e in &evidence {
                if let Some(c) = &e.customer
                    && seen.insert(c.clone())
                {
                    signals.push(Signal::Mark(customer_mark(c, ts, config.mark_days)));
                }
            }
        }
        a.alerted = Some(severity.max(a.alerted.unwrap_or(Severity::Low)));
        a.accesses_since_alert = 0;
        a.evidence_since_alert = 0;
        signals.insert(0, Signal::Alert(alert));
        signals
    }
}

impl AgentBehavior {
    /// Later information re-scores the past: an agent `leak_attribution`
    /// named gets an alert at `high` or above at once, citing the
    /// suspicious accesses kept so far (which never decay away).
    fn rescore_attributed(&mut self, now: EventTime, ctx: &Context) -> Vec<Signal> {
        let marks = ctx.marks.len();
        if marks == self.marks_seen {
            return Vec::new();
        }
        self.marks_seen = marks;
        let mut signals = Vec::new();
        for a in &mut self.agents {
            if a.attributed {
                continue;
            }
            let Some(mark) = ctx
                .marks
                .active(EntityKind::Agent, a.id.as_str(), now)
                .find(|m| m.code == ATTRIBUTED_LEAK)
            else {
                continue;
            };
            a.attributed = true;
            let severity = if a.evidence.is_empty() {
                Severity::High
            } else {
                Severity::Critical
            };
            let evidence = a.evidence_sorted();
            let mut alert = Alert::new(NAME, now, agent_entity(&a.id), severity, 0.97).reason(
                "attributed_leak",
                format!(
                    "{} named this agent as the common reader of scam victims on {}; {} past suspicious accesses re-scored (suspicion now {:.1}, {:.1} a day norm)",
                    mark.source,
                    mark.since,
                    evidence.len(),
                    a.heat,
                    a.norm_per_day(self.config.own_baseline_days)
                ),
            );
            for e in &evidence {
                alert = alert.evidence(e.event.clone());
            }
            for action in response_for(severity) {
                alert = alert.respond(*action);
            }
            a.alerted = Some(severity.max(a.alerted.unwrap_or(Severity::Low)));
            a.accesses_since_alert = 0;
            a.evidence_since_alert = 0;
            signals.push(Signal::Alert(alert));
        }
        signals
    }
}

impl Detector for AgentBehavior {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_time(&mut self, now: EventTime, ctx: &mut Context) -> Vec<Signal> {
        self.rescore_attributed(now, ctx)
    }

    fn observe(&mut self, event: &Event, ctx: &mut Context) -> Vec<Signal> {
        let day = event.ts.day_index();
        if day != self.peer_day {
            self.peer_day = day;
            for a in &mut self.agents {
                a.shift = ctx.directory.agent(&a.id).and_then(|r| r.shift);
                a.roll_day(work_day(event.ts, a.shift));
            }
            self.refresh_peers(ctx);
        }
        let hour = event.ts.as_micros().div_euclid(3_600_000_000);
        if hour != self.peer_hour {
            self.peer_hour = hour;
            self.refresh_peer_lift(event.ts);
        }
        match &event.body {
            EventBody::AgentAccess(access) => self.observe_access(event, access, ctx),
            EventBody::CountermeasureRelease(release) => {
                self.on_release(release);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}

/// Graduated countermeasures: a second person's approval, then step-up,
/// then suspension with security told.
fn response_for(severity: Severity) -> &'static [ResponseAction] {
    match severity {
        Severity::Low => &[],
        Severity::Medium => &[ResponseAction::RequireApproval],
        Severity::High => &[ResponseAction::RequireApproval, ResponseAction::StepUp],
        Severity::Critical => &[
            ResponseAction::SuspendAccess,
            ResponseAction::NotifySecurity,
        ],
    }
}

fn reasons(
    a: &AgentState,
    ctx: &Context,
    access: &AgentAccess,
    excess: f64,
    expected: f64,
    norm: f64,
) -> Vec<(&'static str, String)> {
    let t = &a.today;
    let mut out = Vec::new();
    if t.off_ticket > 0 {
        out.push((
            "off_ticket_access",
            format!(
                "{} of {} records opened today had no ticket (own norm {:.1} a day, peer median {:.1})",
                t.off_ticket, t.records, a.own_off_ticket, a.peer_off_ticket
            ),
        ));
    }
    if t.self_opened > 0 {
        out.push((
            "self_opened_ticket",
            format!(
                "{} of {} records opened today were on tickets the agent opened and assigned to themselves",
                t.self_opened, t.records
            ),
        ));
    }
    if t.not_assigned > 0 {
        out.push((
            "ticket_not_assigned",
            format!(
                "{} records opened today on tickets assigned to someone else or unknown",
                t.not_assigned
            ),
        ));
    }
    if t.sensitive_beyond > 0 {
        out.push((
            "sensitive_fields_beyond_need",
            format!(
                "{} of {} records opened today read sensitive fields the ticket category does not need (norm 0)",
                t.sensitive_beyond, t.records
            ),
        ));
    }
    if t.high_value_suspicious > 0 && t.suspicious > 0 {
        let queue = if a.queue_records > 0 {
            100.0 * f64::from(a.queue_high_value) / f64::from(a.queue_records)
        } else {
            0.0
        };
        out.push((
            "high_value_lean",
            format!(
                "{} of {} suspicious picks today were VIP or high-balance customers (their queue brings {:.0}%)",
                t.high_value_suspicious, t.suspicious, queue
            ),
        ));
    }
    if t.off_shift > 0 {
        let shift = ctx
            .directory
            .agent(&access.agent_id)
            .and_then(|r| r.shift)
            .map_or_else(String::new, |s| {
                format!(" (shift {:02}-{:02} UTC)", s.start_hour, s.end_hour)
            });
        out.push((
            "outside_shift",
            format!(
                "{} records opened today outside the shift{shift}",
                t.off_shift
            ),
        ));
    }
    if t.new_identity > 0 {
        out.push((
            "new_device_or_ip",
            format!(
                "{} records opened today from a device or IP this agent never worked from",
                t.new_identity
            ),
        ));
    }
    if t.off_ticket_searches > 0 {
        out.push((
            "off_ticket_search",
            format!(
                "{} searches today outside any ticket",
                t.off_ticket_searches
            ),
        ));
    }
    if t.sequential > 0 {
        out.push((
            "enumeration",
            format!(
                "{} lookups today followed the previous one in customer-id order (within {SEQUENTIAL_GAP})",
                t.sequential
            ),
        ));
    }
    if t.reveals_exports > 0 {
        out.push((
            "reveal_or_export",
            format!("{} reveals or exports today", t.reveals_exports),
        ));
    }
    if a.hour_suspicious >= 3 {
        out.push((
            "burst_rate",
            format!(
                "{} suspicious records in the last hour (norm {:.1} a day)",
                a.hour_suspicious, norm
            ),
        ));
    }
    out.push((
        "suspicion_over_norm",
        format!(
            "suspicion {:.1} against a norm of {:.1} ({:.1} a day: own {:.1} over {} days, peer median {:.1}{}); excess {:.1}",
            a.heat,
            expected,
            norm,
            a.own_suspicion,
            a.days_observed,
            a.peer_suspicion,
            if a.peer_lift_today > 0.0 {
                format!(", peers {:.1} above their usual today", a.peer_lift_today)
            } else {
                String::new()
            },
            excess
        ),
    ));
    out
}

/// The agent's work day: days begin `WORK_DAY_LEAD_HOURS` before their
/// shift starts, so an overnight shift (22:00–06:00) is one day, not two
/// halves split at UTC midnight. Agents without a shift use the UTC day.
fn work_day(ts: EventTime, shift: Option<Shift>) -> i64 {
    let lead_micros = match shift {
        Some(shift) => {
            (i64::from(shift.start_hour) - WORK_DAY_LEAD_HOURS).rem_euclid(24) * 3_600_000_000
        }
        None => 0,
    };
    (ts.as_micros() - lead_micros).div_euclid(86_400_000_000)
}

fn agent_entity(id: &AgentId) -> Entity {
    Entity::new(EntityKind::Agent, id.as_str())
}

fn customer_mark(c: &CustomerId, ts: EventTime, days: u32) -> Mark {
    Mark {
        entity: Entity::new(EntityKind::Customer, c.as_str()),
        code: READ_BY_SUSPECT_AGENT.to_owned(),
        source: NAME.to_owned(),
        since: ts,
        until: ts.saturating_add(Span::from_days(i64::from(days))),
    }
}

fn is_lead(role: &str) -> bool {
    role.contains("lead") || role.contains("supervisor")
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// An id as (hash of its prefix, the number it ends with): `c-18812` →
/// (hash of `c-`, 18812). Only for ids ending in at least three digits, so
/// random ids (UUIDs, hashes) that happen to end in a digit or two do not
/// look like a walk through the table.
fn trailing_number(id: &str) -> Option<(u64, u64)> {
    let prefix = id.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = id.len() - prefix.len();
    if !(3..=18).contains(&digits) {
        return None;
    }
    Some((hash(prefix), id[prefix.len()..].parse().ok()?))
}

/// FNV-1a: a stable, dependency-free hash for device and IP ids (never 0).
fn hash(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h.max(1)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use custos_core::parse::parse_event;

    const DAY: i64 = 86_400;
    /// 2025-03-03T00:00:00Z.
    const T0: i64 = 1_740_960_000;

    fn ts(secs: i64) -> String {
        EventTime::from_unix_secs(T0 + secs).to_string()
    }

    /// A tiny floor: agent `a-1` (L1, tier1-chat, shift 08–17), lead `a-9`,
    /// a retail and a VIP customer, and ten days of `a-1` working tickets.
    fn floor() -> Vec<String> {
        let mut lines = vec![
            format!(
                r#"{{"type":"agent","ts":"{}","agent_id":"a-1","team":"tier1-chat","role":"support_l1","site":"IN","shift":{{"start_hour":8,"end_hour":17}}}}"#,
                ts(0)
            ),
            format!(
                r#"{{"type":"agent","ts":"{}","agent_id":"a-9","team":"tier1-chat","role":"support_lead","site":"IN","shift":{{"start_hour":8,"end_hour":17}}}}"#,
                ts(0)
            ),
            format!(
                r#"{{"type":"customer","ts":"{}","customer_id":"c-r","tier":"retail","balance_usd":500.0}}"#,
                ts(0)
            ),
        ];
        for v in 0..40 {
            lines.push(format!(r#"{{"type":"customer","ts":"{}","customer_id":"c-v{v}","tier":"vip","balance_usd":250000.0}}"#, ts(0)));
        }
        for day in 0..10 {
            for k in 0..5 {
                let t = day * DAY + 9 * 3600 + k * 1800;
                let tid = format!("t-{day}-{k}");
                lines.push(format!(r#"{{"type":"ticket","ts":"{}","ticket_id":"{tid}","customer_id":"c-r","agent_id":"a-1","status":"assigned","channel":"chat","category":"withdrawal_delay","opened_by":"customer"}}"#, ts(t)));
                lines.push(access(
                    t + 60,
                    "a-1",
                    "c-r",
                    Some(&tid),
                    &["name", "balance", "transactions"],
                    "dev-1",
                ));
            }
        }
        lines
    }

    fn access(
        t: i64,
        agent: &str,
        customer: &str,
        ticket: Option<&str>,
        fields: &[&str],
        device: &str,
    ) -> String {
        let ticket = ticket.map_or("null".to_owned(), |t| format!("\"{t}\""));
        let fields: Vec<String> = fields.iter().map(|f| format!("\"{f}\"")).collect();
        format!(
            r#"{{"type":"agent_access","ts":"{}","id":"x-{agent}-{t}","agent_id":"{agent}","customer_id":"{customer}","ticket_id":{ticket},"action":"view","fields":[{}],"ip":"10.0.0.1","device_id":"{device}"}}"#,
            ts(t),
            fields.join(",")
        )
    }

    fn run(lines: &[String], config: BehaviorConfig) -> (Vec<Alert>, Vec<Mark>) {
        let mut detector = AgentBehavior::new(config);
        let mut ctx = Context::default();
        let (mut alerts, mut marks) = (Vec::new(), Vec::new());
        for (n, line) in lines.iter().enumerate() {
            let event = parse_event(line, || format!("l{n}")).unwrap();
            ctx.now = event.ts;
            ctx.directory.apply(&event);
            for s in detector.observe(&event, &mut ctx) {
                match s {
                    Signal::Alert(a) => alerts.push(a),
                    Signal::Mark(m) => marks.push(m),
                }
            }
        }
        (alerts, marks)
    }

    struct Case {
        name: &'static str,
        attack: Vec<String>,
        /// Highest severity expected (None: no alert at all).
        worst: Option<Severity>,
        reason_codes: &'static [&'static str],
        /// Evidence that must be cited.
        evidence: &'static [&'static str],
    }

    fn check(case: Case) {
        let mut lines = floor();
        lines.extend(case.attack);
        let (alerts, _) = run(&lines, BehaviorConfig::default());
        let worst = alerts.iter().map(|a| a.severity).max();
        assert_eq!(worst, case.worst, "{}: {alerts:#?}", case.name);
        for code in case.reason_codes {
            assert!(
                alerts
                    .iter()
                    .any(|a| a.reasons.iter().any(|r| r.code == *code)),
                "{}: no reason {code} in {alerts:#?}",
                case.name
            );
        }
        for id in case.evidence {
            assert!(
                alerts
                    .iter()
                    .any(|a| a.evidence.iter().any(|e| e.as_str() == *id)),
                "{}: {id} not cited",
                case.name
            );
        }
        for a in &alerts {
            assert!(
                a.severity < Severity::High || !a.response.is_empty(),
                "{}: high without countermeasure",
                case.name
            );
            assert!(
                a.reasons
                    .iter()
                    .all(|r| r.detail.chars().any(|c| c.is_ascii_digit())),
                "{}: reasons carry numbers",
                case.name
            );
        }
    }

    const D10: i64 = 10 * DAY;

    /// After an analyst releases the countermeasure, suspicion starts over
    /// and the agent can alert again; without a release, the same accesses
    /// stay inside the episode already alerted on.
    #[test]
    fn a_release_starts_a_new_episode() {
        let harvest = |from: i64, n: i64| -> Vec<String> {
            (0..n)
                .map(|k| {
                    access(
                        D10 + from + k * 60,
                        "a-1",
                        &format!("c-v{k}"),
                        None,
                        &["name", "phone", "address", "id_document"],
                        "dev-x",
                    )
                })
                .collect()
        };
        let release = format!(
            r#"{{"type":"countermeasure_release","ts":"{}","entity":{{"kind":"agent","id":"a-1"}},"action":"suspend_access","released_by":"analyst-7","reason":"benign"}}"#,
            ts(D10 + 2 * 3600)
        );
        let mut before = floor();
        before.extend(harvest(3600, 8));
        let (first, _) = run(&before, BehaviorConfig::default());
        assert!(!first.is_empty(), "the harvest alerts");

        let mut without = before.clone();
        without.extend(harvest(3 * 3600, 8));
        let (no_release, _) = run(&without, BehaviorConfig::default());
        assert_eq!(no_release.len(), first.len(), "same episode: no new alert");

        let mut with = before;
        with.push(release);
        with.extend(harvest(3 * 3600, 8));
        let (released, _) = run(&with, BehaviorConfig::default());
        assert!(
            released.len() > first.len(),
            "a new episode alerts again: {released:#?}"
        );
    }

    #[test]
    fn table() {
        check(Case {
            name: "off-ticket VIP lookups with phone and address inside the shift",
            attack: (0..3)
                .map(|k| {
                    access(
                        D10 + 10 * 3600 + k * 900,
                        "a-1",
                        &format!("c-v{k}"),
                        None,
                        &["name", "phone", "address", "balance"],
                        "dev-1",
                    )
                })
                .collect(),
            worst: Some(Severity::High),
            reason_codes: &[
                "off_ticket_access",
                "sensitive_fields_beyond_need",
                "high_value_lean",
                "suspicion_over_norm",
            ],
            evidence: &["x-a-1-900000", "x-a-1-900900"],
        });
        check(Case {
            name: "a callback: name and email without a ticket",
            attack: vec![
                access(
                    D10 + 10 * 3600,
                    "a-1",
                    "c-r",
                    None,
                    &["name", "email"],
                    "dev-1",
                ),
                access(
                    D10 + 14 * 3600,
                    "a-1",
                    "c-v1",
                    None,
                    &["name", "email"],
                    "dev-1",
                ),
            ],
            worst: None,
            reason_codes: &[],
            evidence: &[],
        });
        check(Case {
            name: "a queue spike: three times the tickets, all on the agent's queue",
            attack: (0..15)
                .flat_map(|k| {
                    let t = D10 + 9 * 3600 + k * 1200;
                    let tid = format!("t-s{k}");
                    vec![
                        format!(
                            r#"{{"type":"ticket","ts":"{}","ticket_id":"{tid}","customer_id":"c-v{k}","agent_id":"a-1","status":"assigned","channel":"chat","category":"kyc_verification","opened_by":"customer"}}"#,
                            ts(t - 60)
                        ),
                        access(t, "a-1", &format!("c-v{k}"), Some(&tid), &["name", "dob", "address", "id_document"], "dev-1"),
                    ]
                })
                .collect(),
            worst: None,
            reason_codes: &[],
            evidence: &[],
        });
        check(Case {
            name: "walking the customer table: retail records in id order, name and balance",
            attack: (0..6)
                .map(|k| {
                    access(
                        D10 + 10 * 3600 + k * 300,
                        "a-1",
                        &format!("c-{}", 5000 + k),
                        None,
                        &["name", "balance"],
                        "dev-1",
                    )
                })
                .collect(),
            worst: Some(Severity::High),
            reason_codes: &["enumeration", "off_ticket_access"],
            evidence: &[],
        });
        check(Case {
            name: "a lead's quality checks",
            attack: (0..8)
                .map(|k| {
                    access(
                        D10 + 9 * 3600 + k * 1200,
                        "a-9",
                        &format!("c-v{k}"),
                        None,
                        &["name", "email", "phone", "balance", "transactions"],
                        "dev-9",
                    )
                })
                .collect(),
            worst: None,
            reason_codes: &[],
            evidence: &[],
        });
        check(Case {
            name: "bulk harvesting at night from a new device",
            attack: (0..30)
                .map(|k| {
                    access(
                        D10 + 22 * 3600 + k * 20,
                        "a-1",
                        &format!("c-v{k}"),
                        None,
                        &["name", "phone", "balance"],
                        "dev-home",
                    )
                })
                .collect(),
            worst: Some(Severity::Critical),
            reason_codes: &["outside_shift", "new_device_or_ip", "burst_rate"],
            evidence: &["x-a-1-943200"],
        });
        check(Case {
            name: "self-opened pretext tickets reading what the category does not need",
            attack: (0..4)
                .flat_map(|k| {
                    let t = D10 + 10 * 3600 + k * 1800;
                    let tid = format!("t-p{k}");
                    vec![
                        format!(r#"{{"type":"ticket","ts":"{}","ticket_id":"{tid}","customer_id":"c-v{k}","agent_id":"a-1","status":"assigned","channel":"phone","category":"withdrawal_delay","opened_by":"agent"}}"#, ts(t - 60)),
                        access(t, "a-1", &format!("c-v{k}"), Some(&tid), &["name", "phone", "address", "balance"], "dev-1"),
                    ]
                })
                .collect(),
            worst: Some(Severity::High),
            reason_codes: &["self_opened_ticket", "sensitive_fields_beyond_need"],
            evidence: &[],
        });
    }

    #[test]
    fn escalates_once_per_level_not_per_access() {
        let mut lines = floor();
        lines.extend((0..200).map(|k| {
            access(
                D10 + 22 * 3600 + k * 10,
                "a-1",
                &format!("c-v{}", k % 40),
                None,
                &["name", "phone"],
                "dev-home",
            )
        }));
        let (alerts, marks) = run(&lines, BehaviorConfig::default());
        let severities: Vec<Severity> = alerts.iter().map(|a| a.severity).collect();
        // Rises to critical, then at most one reminder per 50 accesses.
        assert!(
            severities.windows(2).all(|w| w[0] <= w[1]),
            "{severities:?}"
        );
        assert!(
            alerts.len() <= 2 + 200 / 50,
            "{} alerts for 200 accesses",
            alerts.len()
        );
        let critical = alerts
            .iter()
            .find(|a| a.severity == Severity::Critical)
            .unwrap();
        assert_eq!(
            critical.response,
            [
                ResponseAction::SuspendAccess,
                ResponseAction::NotifySecurity
            ]
        );
        assert!(critical.evidence.len() <= EVIDENCE_SLOTS);
        assert!(
            marks
                .iter()
                .any(|m| m.code == READ_BY_SUSPECT_AGENT && m.entity.id == "c-v5")
        );
    }

    #[test]
    fn canary_access_without_ticket_is_critical_at_once() {
        let mut lines = floor();
        lines.push(access(
            D10 + 10 * 3600,
            "a-1",
            "c-r",
            None,
            &["name"],
            "dev-1",
        ));
        let config = BehaviorConfig {
            canary_customers: vec!["c-r".to_owned()],
            ..BehaviorConfig::default()
        };
        let (alerts, _) = run(&lines, config);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].severity, Severity::Critical);
        assert_eq!(alerts[0].reasons[0].code, "canary_access");
        assert_eq!(alerts[0].evidence[0].as_str(), "x-a-1-900000");
        // On a ticket the same record raises nothing.
        let (alerts, _) = run(
            &floor(),
            BehaviorConfig {
                canary_customers: vec!["c-r".to_owned()],
                ..BehaviorConfig::default()
            },
        );
        assert!(alerts.is_empty());
    }

    #[test]
    fn an_attribution_rescores_past_accesses() {
        // One suspicious lookup: below the medium threshold on its own.
        let mut lines = floor();
        lines.push(access(
            D10 + 10 * 3600,
            "a-1",
            "c-v1",
            None,
            &["name", "phone"],
            "dev-1",
        ));
        let mut detector = AgentBehavior::new(BehaviorConfig::default());
        let mut ctx = Context::default();
        let mut alerts = Vec::new();
        for (n, line) in lines.iter().enumerate() {
            let event = parse_event(line, || format!("l{n}")).unwrap();
            ctx.now = event.ts;
            ctx.directory.apply(&event);
            for s in detector.observe(&event, &mut ctx) {
                if let Signal::Alert(a) = s {
                    alerts.push(a);
                }
            }
        }
        assert!(alerts.is_empty(), "{alerts:#?}");
        // Days later, attribution names a-1.
        let later = EventTime::from_unix_secs(T0 + D10 + 5 * DAY);
        assert!(detector.on_time(later, &mut ctx).is_empty());
        ctx.marks.insert(Mark {
            entity: Entity::new(EntityKind::Agent, "a-1"),
            code: ATTRIBUTED_LEAK.to_owned(),
            source: "leak_attribution".to_owned(),
            since: later,
            until: later.saturating_add(Span::from_days(30)),
        });
        let signals = detector.on_time(later, &mut ctx);
        let [Signal::Alert(alert)] = signals.as_slice() else {
            panic!("{signals:#?}")
        };
        assert_eq!(alert.entity.id, "a-1");
        assert_eq!(alert.severity, Severity::Critical);
        assert_eq!(alert.reasons[0].code, "attributed_leak");
        assert_eq!(alert.evidence[0].as_str(), "x-a-1-900000");
        assert!(alert.response.contains(&ResponseAction::SuspendAccess));
        // Once only.
        ctx.marks.insert(Mark {
            entity: Entity::new(EntityKind::Customer, "c-r"),
            code: "other".to_owned(),
            source: "x".to_owned(),
            since: later,
            until: later.saturating_add(Span::from_days(1)),
        });
        assert!(detector.on_time(later, &mut ctx).is_empty());
    }

    #[test]
    fn an_overnight_shift_is_one_work_day() {
        let night = Some(Shift {
            start_hour: 22,
            end_hour: 6,
        });
        let day = Some(Shift {
            start_hour: 8,
            end_hour: 17,
        });
        let at = |secs: i64| EventTime::from_unix_secs(T0 + secs);
        let h = 3600;
        // (shift, a, b, same work day?)
        let table = [
            (night, 22 * h + 1800, DAY + 5 * h + 1800, true),
            (night, DAY + 5 * h, DAY + 21 * h, false),
            (night, 19 * h, 23 * h, true),
            (day, 9 * h, 16 * h + 1800, true),
            (day, 16 * h, DAY + 9 * h, false),
            (None, 23 * h, DAY + h, false),
            (None, h, 23 * h, true),
        ];
        for (shift, a, b, same) in table {
            assert_eq!(
                work_day(at(a), shift) == work_day(at(b), shift),
                same,
                "{shift:?} {a} {b}"
            );
        }
    }

    /// Six agents of one team, ten quiet days of ticket work; on day 10
    /// `lifted` of them read name and phone of customers without tickets,
    /// one record an hour from 09:00 to 15:00.
    fn team_day(lifted: usize) -> Vec<Alert> {
        let mut lines = vec![format!(
            r#"{{"type":"customer","ts":"{}","customer_id":"c-r","tier":"retail","balance_usd":500.0}}"#,
            ts(0)
        )];
        for n in 0..6 {
            lines.push(format!(
                r#"{{"type":"agent","ts":"{}","agent_id":"a-{n}","team":"tier1-chat","role":"support_l1","site":"IN","shift":{{"start_hour":8,"end_hour":17}}}}"#,
                ts(0)
            ));
        }
        for day in 0..10 {
            for k in 0..5 {
                for n in 0..6 {
                    let t = day * DAY + 9 * 3600 + k * 1800 + n * 10;
                    let tid = format!("t-{day}-{k}-{n}");
                    lines.push(format!(r#"{{"type":"ticket","ts":"{}","ticket_id":"{tid}","customer_id":"c-r","agent_id":"a-{n}","status":"assigned","channel":"chat","category":"withdrawal_delay","opened_by":"customer"}}"#, ts(t)));
                    lines.push(access(
                        t + 60,
                        &format!("a-{n}"),
                        "c-r",
                        Some(&tid),
                        &["name", "balance"],
                        "dev-1",
                    ));
                }
            }
        }
        for hour in 9..16 {
            for n in 0..lifted {
                let t = D10 + hour * 3600 + 60 * n as i64;
                lines.push(access(
                    t,
                    &format!("a-{n}"),
                    &format!("c-{hour}{n:03}"),
                    None,
                    &["name", "phone"],
                    "dev-1",
                ));
            }
        }
        run(&lines, BehaviorConfig::default()).0
    }

    #[test]
    fn a_lift_of_the_whole_team_is_not_an_anomaly_but_one_agent_alone_is() {
        let worst = |alerts: &[Alert]| alerts.iter().map(|a| a.severity).max();
        let alone = team_day(1);
        assert!(worst(&alone) >= Some(Severity::High), "{alone:#?}");
        let everyone = team_day(6);
        assert!(worst(&everyone) < Some(Severity::High), "{everyone:#?}");
        // A minority of the team does not lift the norm for itself.
        let two = team_day(2);
        assert!(worst(&two) >= Some(Severity::High), "{two:#?}");
    }

    #[test]
    fn a_new_hire_is_judged_against_peers_from_day_one() {
        let mut lines = floor();
        lines.push(format!(r#"{{"type":"agent","ts":"{}","agent_id":"a-2","team":"tier1-chat","role":"support_l1","site":"IN","shift":{{"start_hour":8,"end_hour":17}}}}"#, ts(D10)));
        lines.extend((0..3).map(|k| {
            access(
                D10 + 10 * 3600 + k * 900,
                "a-2",
                &format!("c-v{k}"),
                None,
                &["name", "phone", "address", "balance"],
                "dev-2",
            )
        }));
        let (alerts, _) = run(&lines, BehaviorConfig::default());
        assert!(
            alerts
                .iter()
                .any(|a| a.entity.id == "a-2" && a.severity >= Severity::High),
            "{alerts:#?}"
        );
    }
}
