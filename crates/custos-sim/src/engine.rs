//! The generator core: the day loop, the per-day batch that is sorted before
//! it is emitted, lateness (jitter), ids in file order, and the plan of
//! injected episodes. The generators for each kind of activity live in
//! `floor` (support floor), `customers` and `attacks`.

use crate::SimConfig;
use crate::json::{EventKind, Line};
use crate::rng::{Rng, mix, mix3};
use crate::tables::{AgentRole, COUNTRIES, SHIFT_SLOTS, SITES, TEAMS};
use crate::time::{DAY, date, day_of_week, rfc3339};
use crate::truth::{
    Benign, Entity, NewHire, QueueSpike, TRUTH_VERSION, Tag, TeamMove, Truth, TruthOrder,
};
use crate::world::{World, salt};

/// A customer worth attacking: mostly high-value ones.
pub(crate) fn pick_rich(world: &World, rng: &mut Rng) -> u32 {
    let hv = &world.high_value;
    if !hv.is_empty() && rng.chance(0.65) {
        hv[rng.index(hv.len())]
    } else {
        rng.index(world.customers.len()) as u32
    }
}

/// Share of events that arrive late.
const JITTER_RATE: f64 = 0.004;
/// Latest an event arrives after its `ts`, in seconds.
pub(crate) const MAX_LATENESS: i64 = 90;

/// One generated event waiting in the day's batch.
pub(crate) struct Pending {
    /// When it arrives: `ts`, or up to `MAX_LATENESS` later.
    pub arrival: i64,
    /// Generation order, to break ties deterministically.
    pub seq: u64,
    pub ts: i64,
    pub text: String,
    pub split: u32,
    pub kind: EventKind,
    pub tag: Tag,
}

/// Counters behind the ids of tickets, conversations, reports, keys and
/// attacks: deterministic because generation order is.
#[derive(Default)]
pub(crate) struct Counters {
    pub ticket: u32,
    pub conversation: u32,
    pub report: u32,
    pub key: u32,
    pub attack: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum HarvestStyle {
    /// A few records a day inside the shift, some on pretext tickets.
    Slow,
    /// Hundreds of records in one night outside the shift.
    Burst,
    /// Every record on a ticket the agent opened for the victim themselves.
    Pretext,
    /// One of three agents on different teams, each taking a few a day.
    Ring,
    /// A few dozen records outside the shift from a device never seen.
    OffHours,
}

impl HarvestStyle {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            HarvestStyle::Slow => "slow",
            HarvestStyle::Burst => "burst",
            HarvestStyle::Pretext => "pretext",
            HarvestStyle::Ring => "ring",
            HarvestStyle::OffHours => "off_hours",
        }
    }
}

pub(crate) struct HarvestPlan {
    pub day: u32,
    pub style: HarvestStyle,
    pub agent: usize,
    /// Days the slow style runs.
    pub span: u32,
}

/// Where a fake call's knowledge of the victim came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum CallSource {
    /// Index of the harvest in `Truth::attacks`.
    Harvest(u32),
    External,
}

pub(crate) struct CallPlan {
    pub day: u32,
    pub customer: u32,
    pub source: CallSource,
}

pub(crate) struct TeamMovePlan {
    pub day: u32,
    pub agent: usize,
    pub team: usize,
    pub site: usize,
    pub truth: u32,
}

/// Episodes decided before the run starts (and calls, added as harvests
/// finish).
#[derive(Default)]
pub(crate) struct Plan {
    pub hires: Vec<(u32, usize, u32)>,
    pub moves: Vec<TeamMovePlan>,
    pub spikes: Vec<(u32, f64)>,
    pub travelers: Vec<(u32, u32, usize, u32)>,
    pub harvests: Vec<HarvestPlan>,
    pub calls: Vec<CallPlan>,
    pub naws: Vec<(u32, u32)>,
    pub new_device_withdrawals: Vec<(u32, u32)>,
    pub unrelated_reports: Vec<(u32, u32)>,
    /// Tag for an agent's directory record at the start (team moves list it).
    pub initial_record_tag: Vec<Tag>,
}

/// Agents on shift per hour (48 hours from the current day's midnight) and
/// team.
pub(crate) struct ShiftTable {
    pub on: Vec<Vec<Vec<u32>>>,
}

/// A ticket closed today, for leads' quality checks and callbacks.
pub(crate) struct RecentTicket {
    pub team: usize,
    pub customer: u32,
    pub closed: i64,
}

pub(crate) struct Gen {
    pub cfg: SimConfig,
    /// Benign traffic.
    pub rng: Rng,
    /// Attacks, apart so that switching them off leaves most benign choices
    /// as they were.
    pub arng: Rng,
    jitter_rng: Rng,
    pub world: World,
    pub truth: Truth,
    order: TruthOrder,
    pub ids: Counters,
    seq: u64,
    batch: Vec<Pending>,
    carry: Vec<Pending>,
    pub run_end: i64,
    pub plan: Plan,
    pub day: u32,
    pub day_start: i64,
    pub shifts: ShiftTable,
    pub recent: Vec<RecentTicket>,
    pub counts: [u64; 8],
    /// Size of the previous day's batch, to size the next one.
    last_batch: usize,
    /// Harvests in progress or done: (index in `truth.attacks`, agent,
    /// victims, first ts, last ts).
    pub harvest_state: Vec<crate::attacks::HarvestState>,
}

impl Gen {
    pub(crate) fn new(cfg: SimConfig) -> Gen {
        let mut rng = Rng::new(cfg.seed);
        let arng = Rng::new(mix(cfg.seed, 0x00A7_7AC4));
        let jitter_rng = Rng::new(mix(cfg.seed, 0x1A7E));
        let mut ids = Counters::default();
        let world = World::build(&cfg, &mut rng, &mut ids.key);
        let run_end = cfg.start + i64::from(cfg.days) * DAY;
        let truth = Truth {
            version: TRUTH_VERSION,
            seed: cfg.seed,
            days: cfg.days,
            start: rfc3339(cfg.start),
            end: rfc3339(run_end),
            events: 0,
            attacks: Vec::new(),
            benign: Vec::new(),
        };
        let n_agents = world.agents.len();
        let mut sim = Gen {
            cfg,
            rng,
            arng,
            jitter_rng,
            world,
            truth,
            order: TruthOrder::default(),
            ids,
            seq: 0,
            batch: Vec::new(),
            carry: Vec::new(),
            run_end,
            plan: Plan {
                initial_record_tag: vec![Tag::None; n_agents],
                ..Plan::default()
            },
            day: 0,
            day_start: cfg.start,
            shifts: ShiftTable { on: Vec::new() },
            recent: Vec::new(),
            counts: [0; 8],
            last_batch: 0,
            harvest_state: Vec::new(),
        };
        sim.plan_benign();
        if sim.cfg.attacks {
            sim.plan_attacks();
        }
        sim
    }

    // ----- planning -------------------------------------------------------

    fn plan_benign(&mut self) {
        let days = self.cfg.days;
        let mut prng = Rng::new(mix(self.cfg.seed, 0xB3_A1));
        let initial_agents = self.world.agents.len();
        // Queue spikes.
        let n_spikes = days / 14;
        let mut spike_days: Vec<u32> = Vec::new();
        for _ in 0..n_spikes {
            let day = prng.below(u64::from(days)) as u32;
            if spike_days.contains(&day) {
                continue;
            }
            spike_days.push(day);
            let factor = 3.0;
            let start = self.cfg.start + i64::from(day) * DAY;
            self.truth.benign.push(Benign::QueueSpike(QueueSpike {
                date: date(start),
                start_ts: rfc3339(start),
                end_ts: rfc3339(start + DAY),
                factor,
            }));
            self.plan.spikes.push((day, factor));
        }
        // New hires.
        if days >= 2 {
            let n_hires =
                ((f64::from(self.cfg.agents) * f64::from(days) / 1_500.0).round() as u32).max(1);
            for _ in 0..n_hires {
                let day = prng.range(1, i64::from(days) - 1) as u32;
                let team = prng.weighted(&TEAMS.iter().map(|t| t.share).collect::<Vec<_>>());
                let slot = prng.index(SHIFT_SLOTS.len());
                let hired_at = self.cfg.start + i64::from(day) * DAY;
                let agent = self.world.add_agent(
                    &mut prng,
                    team,
                    TEAMS[team].role,
                    slot,
                    hired_at,
                    i64::from(day),
                );
                let id = self.world.agents[agent].id();
                let truth = self.truth.benign.len() as u32;
                self.truth.benign.push(Benign::NewHire(NewHire {
                    entity: Entity::agent(&id),
                    agent_id: id,
                    team: TEAMS[team].name.to_owned(),
                    hired_at: rfc3339(hired_at),
                    event_ids: Vec::new(),
                }));
                self.plan.hires.push((day, agent, truth));
                self.plan.initial_record_tag.push(Tag::None);
            }
        }
        // Team moves: veterans who are not leads.
        if days >= 2 && initial_agents >= 2 {
            let n_moves =
                ((f64::from(self.cfg.agents) * f64::from(days) / 2_400.0).round() as usize).max(1);
            let mut moved: Vec<usize> = Vec::new();
            for _ in 0..n_moves * 4 {
                if moved.len() >= n_moves {
                    break;
                }
                let agent = prng.index(initial_agents);
                if moved.contains(&agent) || self.world.agents[agent].role == AgentRole::Lead {
                    continue;
                }
                let a = &self.world.agents[agent];
                let team = (a.team + 1 + prng.index(TEAMS.len() - 1)) % TEAMS.len();
                let sites = SHIFT_SLOTS[a.slot].sites;
                let site = sites[prng.index(sites.len())];
                let day = prng.range(1, i64::from(days) - 1) as u32;
                let id = a.id();
                let truth = self.truth.benign.len() as u32;
                self.truth.benign.push(Benign::TeamMove(TeamMove {
                    entity: Entity::agent(&id),
                    agent_id: id,
                    ts: rfc3339(self.cfg.start + i64::from(day) * DAY),
                    from_team: TEAMS[a.team].name.to_owned(),
                    to_team: TEAMS[team].name.to_owned(),
                    from_site: SITES[a.site].code.to_owned(),
                    to_site: SITES[site].code.to_owned(),
                    event_ids: Vec::new(),
                }));
                self.plan.initial_record_tag[agent] = Tag::Benign(truth);
                self.plan.moves.push(TeamMovePlan {
                    day,
                    agent,
                    team,
                    site,
                    truth,
                });
                moved.push(agent);
            }
        }
        let n_customers = self.world.customers.len();
        if n_customers == 0 {
            return;
        }
        // Travelers.
        for _ in 0..(days / 2).max(1) {
            let day = prng.below(u64::from(days)) as u32;
            let customer = prng.index(n_customers) as u32;
            let home = usize::from(self.world.customers[customer as usize].country);
            let mut country = prng.weighted(&self.world.country_weights);
            if country == home {
                country = (country + 1) % COUNTRIES.len();
                if COUNTRIES[country].weight == 0 {
                    country = 0;
                }
            }
            let len = prng.range(2, 7) as u32;
            self.plan.travelers.push((day, customer, country, len));
        }
        for _ in 0..days / 2 {
            let day = prng.below(u64::from(days)) as u32;
            let customer = prng.index(n_customers) as u32;
            self.plan.new_device_withdrawals.push((day, customer));
        }
        for _ in 0..days / 3 {
            let day = prng.below(u64::from(days)) as u32;
            let customer = prng.index(n_customers) as u32;
            self.plan.unrelated_reports.push((day, customer));
        }
    }

    fn plan_attacks(&mut self) {
        let days = self.cfg.days;
        let mut prng = Rng::new(mix(self.cfg.seed, 0xA7_7A));
        let n_customers = self.world.customers.len();
        let initial_agents = self
            .plan
            .initial_record_tag
            .len()
            .min(self.world.agents.len());
        let veterans: Vec<usize> = (0..initial_agents)
            .filter(|&a| self.world.agents[a].first_day <= 0)
            .collect();
        let n_harvests = ((f64::from(days) / 5.0).round() as usize).max(1);
        let mut used: Vec<usize> = Vec::new();
        let moved: Vec<usize> = self.plan.moves.iter().map(|m| m.agent).collect();
        for i in 0..n_harvests {
            let style = if i % 2 == 0 {
                HarvestStyle::Slow
            } else {
                HarvestStyle::Burst
            };
            // Prefer front-line agents who are not moving teams.
            let mut candidates: Vec<usize> = veterans
                .iter()
                .copied()
                .filter(|a| !used.contains(a) && !moved.contains(a))
                .filter(|&a| matches!(self.world.agents[a].role, AgentRole::L1 | AgentRole::L2))
                .collect();
            if candidates.is_empty() {
                candidates = veterans
                    .iter()
                    .copied()
                    .filter(|a| !used.contains(a))
                    .collect();
            }
            if candidates.is_empty() {
                break;
            }
            let agent = candidates[prng.index(candidates.len())];
            used.push(agent);
            let (day, span) = match style {
                HarvestStyle::Slow => {
                    let latest = (i64::from(days) * 2 / 3 - 1).max(0);
                    (prng.range(0, latest) as u32, prng.range(4, 10) as u32)
                }
                HarvestStyle::Burst
                | HarvestStyle::Pretext
                | HarvestStyle::Ring
                | HarvestStyle::OffHours => {
                    let latest = (i64::from(days) * 3 / 4 - 1).max(0);
                    (prng.range(0, latest) as u32, 1)
                }
            };
            self.plan.harvests.push(HarvestPlan {
                day,
                style,
                agent,
                span,
            });
        }
        self.plan_extra_harvests(&veterans, &mut used, &moved);
        if n_customers > 0 {
            for _ in 0..days / 10 {
                let day = prng.below(u64::from(days)) as u32;
                let customer = pick_rich(&self.world, &mut prng);
                self.plan.calls.push(CallPlan {
                    day,
                    customer,
                    source: CallSource::External,
                });
            }
            for _ in 0..(days / 3).max(1) {
                let day = prng.below(u64::from(days)) as u32;
                let customer = if prng.chance(0.5) {
                    pick_rich(&self.world, &mut prng)
                } else {
                    prng.index(n_customers) as u32
                };
                self.plan.naws.push((day, customer));
            }
        }
    }

    /// The styles beyond slow and burst (pretext tickets, a ring of three,
    /// off-hours from a new device), once per 30 days of runs of a week or
    /// more. Drawn from a stream of their own so that the slow and burst
    /// plans stay what they were.
    fn plan_extra_harvests(&mut self, veterans: &[usize], used: &mut Vec<usize>, moved: &[usize]) {
        let days = self.cfg.days;
        if days < 7 {
            return;
        }
        let mut prng = Rng::new(mix(self.cfg.seed, 0xA7_7B));
        let rounds = days.div_ceil(30);
        for _ in 0..rounds {
            for style in [
                HarvestStyle::Pretext,
                HarvestStyle::Ring,
                HarvestStyle::OffHours,
            ] {
                let members = if style == HarvestStyle::Ring { 3 } else { 1 };
                let latest = (i64::from(days) * 2 / 3 - 1).max(0);
                let day = prng.range(0, latest) as u32;
                let span = match style {
                    HarvestStyle::OffHours => 1,
                    _ => prng.range(3, 7) as u32,
                };
                let mut teams: Vec<usize> = Vec::new();
                for _ in 0..members {
                    let candidates: Vec<usize> = veterans
                        .iter()
                        .copied()
                        .filter(|a| !used.contains(a) && !moved.contains(a))
                        .filter(|&a| {
                            matches!(self.world.agents[a].role, AgentRole::L1 | AgentRole::L2)
                        })
                        .filter(|&a| !teams.contains(&self.world.agents[a].team))
                        .collect();
                    if candidates.is_empty() {
                        break;
                    }
                    let agent = candidates[prng.index(candidates.len())];
                    used.push(agent);
                    teams.push(self.world.agents[agent].team);
                    self.plan.harvests.push(HarvestPlan {
                        day,
                        style,
                        agent,
                        span,
                    });
                }
            }
        }
    }

    // ----- the day loop ---------------------------------------------------

    /// Generates day `d` and returns its events sorted in arrival order.
    /// Events that arrive after the day stay for the next batch.
    pub(crate) fn generate_day(&mut self, d: u32) -> Vec<Pending> {
        self.day = d;
        self.day_start = self.cfg.start + i64::from(d) * DAY;
        let mut batch = Vec::with_capacity(self.last_batch + self.last_batch / 4 + 1024);
        batch.append(&mut self.carry);
        self.batch = batch;
        if d == 0 {
            self.directory();
        }
        self.directory_changes(d);
        self.build_shift_table(d);
        self.recent.clear();
        self.agent_sessions(d);
        self.tickets(d);
        self.off_ticket_reviews(d);
        self.benign_episodes(d);
        self.customer_day(d);
        if self.cfg.attacks {
            self.attacks_day(d);
        }
        let day_end = self.day_start + DAY;
        let last = d + 1 >= self.cfg.days;
        let batch = std::mem::take(&mut self.batch);
        self.last_batch = batch.len();
        // Sort small keys, not the events themselves: moving the 72-byte
        // events around during the sort is what costs.
        let mut keys: Vec<(i64, u64, u32)> = Vec::with_capacity(batch.len());
        let mut slots: Vec<Option<Pending>> = Vec::with_capacity(batch.len());
        for p in batch {
            if last || p.arrival < day_end {
                keys.push((p.arrival, p.seq, slots.len() as u32));
                slots.push(Some(p));
            } else {
                self.carry.push(p);
            }
        }
        keys.sort_unstable();
        keys.iter()
            .filter_map(|&(_, _, i)| slots[i as usize].take())
            .collect()
    }

    /// Events waiting for a later day's batch.
    pub(crate) fn carried(&self) -> usize {
        self.carry.len()
    }

    /// Queues an event. Events at or after the end of the run are dropped
    /// (a ticket still open when the run ends is realistic); returns whether
    /// it was kept, so truth is only written for events that exist.
    pub(crate) fn push(&mut self, line: Line, tag: Tag) -> bool {
        let line = line.finish();
        if line.ts >= self.run_end {
            return false;
        }
        // INVARIANT: nothing is generated before the current day, so a sorted
        // day batch never needs to go before an emitted one.
        debug_assert!(line.ts >= self.day_start, "event before its day");
        if line.ts < self.day_start {
            return false;
        }
        let directory = matches!(line.kind, EventKind::Agent | EventKind::Customer);
        let delay = if self.cfg.jitter && !directory && self.jitter_rng.chance(JITTER_RATE) {
            self.jitter_rng.range(1, MAX_LATENESS)
        } else {
            0
        };
        self.seq += 1;
        self.batch.push(Pending {
            arrival: line.ts + delay,
            seq: self.seq,
            ts: line.ts,
            text: line.text,
            split: line.split,
            kind: line.kind,
            tag,
        });
        true
    }

    /// Turns a queued event into its output line, giving it its id. The id
    /// goes into the line's own buffer, after `ts`.
    pub(crate) fn emit(&mut self, p: Pending) -> String {
        let n = self.truth.events + 1;
        self.truth.events = n;
        self.counts[p.kind.index()] += 1;
        let mut id = String::with_capacity(28);
        id.push_str(",\"id\":\"e");
        crate::json::push_padded(&mut id, n, 1);
        id.push('"');
        let mut text = p.text;
        text.insert_str(p.split as usize, &id);
        if p.tag != Tag::None {
            // `,"id":"e123"` without the punctuation.
            let bare = &id[7..id.len() - 1];
            self.truth
                .record(&mut self.order, p.tag, bare, (p.ts, p.seq));
        }
        text
    }

    // ----- directory ------------------------------------------------------

    fn directory(&mut self) {
        let start = self.cfg.start;
        let initial = self.plan.initial_record_tag.len();
        for a in 0..self.world.agents.len() {
            if self.world.agents[a].first_day > 0 {
                continue;
            }
            let tag = if a < initial {
                self.plan.initial_record_tag[a]
            } else {
                Tag::None
            };
            let line = self.agent_record(a, start);
            self.push(line, tag);
        }
        for c in 0..self.world.customers.len() {
            let line = self.customer_record(c, start);
            self.push(line, Tag::None);
        }
    }

    pub(crate) fn agent_record(&self, a: usize, ts: i64) -> Line {
        let agent = &self.world.agents[a];
        let (s, e) = agent.shift();
        let mut l = Line::new(EventKind::Agent, ts);
        l.id("agent_id", "a-", agent.num, 4);
        l.str("team", TEAMS[agent.team].name);
        l.str("role", agent.role.as_str());
        l.str("site", SITES[agent.site].code);
        l.open("shift");
        l.int("start_hour", i64::from(s));
        l.int("end_hour", i64::from(e));
        l.close();
        l.ts("hired_at", agent.hired_at);
        l
    }

    pub(crate) fn customer_record(&self, c: usize, ts: i64) -> Line {
        let cu = &self.world.customers[c];
        let mut l = Line::new(EventKind::Customer, ts);
        l.id("customer_id", "c-", cu.num, 5);
        l.str("tier", cu.tier.as_str());
        l.num("balance_usd", cu.balance);
        l.str("country", COUNTRIES[usize::from(cu.country)].code);
        l.ts("created_at", cu.created_at);
        l
    }

    fn directory_changes(&mut self, d: u32) {
        let hires: Vec<(usize, u32)> = self
            .plan
            .hires
            .iter()
            .filter(|h| h.0 == d)
            .map(|h| (h.1, h.2))
            .collect();
        for (agent, truth) in hires {
            let ts = self.world.agents[agent].hired_at;
            let line = self.agent_record(agent, ts);
            self.push(line, Tag::Benign(truth));
        }
        let moves: Vec<(usize, usize, usize, u32)> = self
            .plan
            .moves
            .iter()
            .filter(|m| m.day == d)
            .map(|m| (m.agent, m.team, m.site, m.truth))
            .collect();
        for (agent, team, site, truth) in moves {
            let a = &mut self.world.agents[agent];
            a.team = team;
            a.site = site;
            a.ip = format!("{}.{}", SITES[site].office_prefix, 10 + (a.num % 40));
            let line = self.agent_record(agent, self.day_start);
            self.push(line, Tag::Benign(truth));
        }
        // Sign-ups during the run.
        if d > 0 {
            let expected = f64::from(self.cfg.customers) * 0.000_6;
            for _ in 0..self.rng.count(expected) {
                let created = self.day_start + self.rng.range(0, DAY - 1);
                let c = self
                    .world
                    .add_customer(&mut self.rng, created, &mut self.ids.key);
                let line = self.customer_record(c, created);
                self.push(line, Tag::None);
            }
        }
    }

    // ----- shifts ---------------------------------------------------------

    pub(crate) fn works(&self, agent: usize, day: i64) -> bool {
        let a = &self.world.agents[agent];
        if day < a.first_day {
            return false;
        }
        let dow = day_of_week(self.cfg.start + day * DAY);
        !a.off.contains(&dow)
    }

    /// Whether the agent stays about an hour late after the shift that
    /// starts on `day`.
    pub(crate) fn overtime(&self, agent: usize, day: i64) -> bool {
        let a = &self.world.agents[agent];
        self.works(agent, day)
            && mix3(self.cfg.seed ^ salt::OVERTIME, u64::from(a.num), day as u64) % 1000 < 25
    }

    /// Whether the agent is at work during UTC hour `hour` of run day `day`.
    pub(crate) fn on_shift(&self, agent: usize, day: i64, hour: u32) -> bool {
        let (s, e) = self.world.agents[agent].shift();
        let (s, e) = (u32::from(s), u32::from(e));
        if s < e {
            let end = e + u32::from(self.overtime(agent, day));
            self.works(agent, day) && hour >= s && hour < end
        } else {
            let end = e + u32::from(self.overtime(agent, day - 1));
            (self.works(agent, day) && hour >= s) || (self.works(agent, day - 1) && hour < end)
        }
    }

    fn build_shift_table(&mut self, d: u32) {
        let mut on = vec![vec![Vec::new(); TEAMS.len()]; 48];
        for (h, teams) in on.iter_mut().enumerate() {
            let day = i64::from(d) + (h / 24) as i64;
            let hour = (h % 24) as u32;
            for a in 0..self.world.agents.len() {
                if self.on_shift(a, day, hour) {
                    teams[self.world.agents[a].team].push(a as u32);
                }
            }
        }
        self.shifts = ShiftTable { on };
    }

    /// An agent of `team` on shift at `ts` (today or tomorrow), falling back
    /// to related teams and then anyone on shift.
    pub(crate) fn agent_on_shift(
        &mut self,
        team: usize,
        ts: i64,
        fallback: &[usize],
    ) -> Option<usize> {
        let slot = ((ts - self.day_start) / 3600).clamp(0, 47) as usize;
        let teams = &self.shifts.on[slot];
        let pick = |list: &Vec<u32>, rng: &mut Rng| -> Option<usize> {
            if list.is_empty() {
                None
            } else {
                Some(list[rng.index(list.len())] as usize)
            }
        };
        if let Some(a) = pick(&teams[team], &mut self.rng) {
            return Some(a);
        }
        for &t in fallback {
            if let Some(a) = pick(&teams[t], &mut self.rng) {
                return Some(a);
            }
        }
        let start = self.rng.index(TEAMS.len());
        (0..TEAMS.len()).find_map(|i| pick(&teams[(start + i) % TEAMS.len()], &mut self.rng))
    }

    /// The run day of the shift an agent is working at `ts`.
    pub(crate) fn workday_at(&self, agent: usize, ts: i64) -> i64 {
        let day = (ts - self.cfg.start).div_euclid(DAY);
        let a = &self.world.agents[agent];
        let hour = crate::time::hour_of_day(ts);
        if a.overnight() && hour < 13 {
            day - 1
        } else {
            day
        }
    }

    /// The IP and device an agent uses on a workday: usually the office IP
    /// and their own machine; sometimes a replacement laptop (recorded as
    /// benign) or working from home.
    pub(crate) fn agent_identity(&self, agent: usize, workday: i64) -> (String, String, bool) {
        let a = &self.world.agents[agent];
        let h = mix3(
            self.cfg.seed ^ salt::AGENT_DAY,
            u64::from(a.num),
            workday as u64,
        );
        let new_device = h % 1000 < 15;
        let device = if new_device {
            format!("dev-{:04x}", (h >> 16) & 0xffff)
        } else {
            a.device.clone()
        };
        let ip = if (h >> 32) % 100 < 4 {
            let site_country = crate::tables::country_index(SITES[a.site].code).unwrap_or(0);
            crate::world::ip_in_country(site_country, h >> 8)
        } else {
            a.ip.clone()
        };
        (ip, device, new_device)
    }

    // ----- helpers used by the generators ---------------------------------

    /// A moment of the current day in the local daytime of `country` (by
    /// the diurnal profile), as unix seconds.
    pub(crate) fn local_daytime(&mut self, country: usize, rng_attack: bool) -> i64 {
        let offset = COUNTRIES[country].utc_offset;
        let rng = if rng_attack {
            &mut self.arng
        } else {
            &mut self.rng
        };
        let local = rng.weighted(&crate::tables::LOCAL_DIURNAL) as i32;
        let hour = (local - offset).rem_euclid(24);
        self.day_start + i64::from(hour) * 3600 + rng.range(0, 3599)
    }

    pub(crate) fn new_conversation(&mut self) -> u32 {
        self.ids.conversation += 1;
        self.ids.conversation
    }

    pub(crate) fn new_attack_id(&mut self) -> String {
        self.ids.attack += 1;
        format!("atk-{}", self.ids.attack)
    }

    pub(crate) fn add_benign(&mut self, benign: Benign) -> u32 {
        self.truth.benign.push(benign);
        (self.truth.benign.len() - 1) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(days: u32, customers: u32) -> Gen {
        Gen::new(SimConfig {
            days,
            agents: 30,
            customers,
            ..SimConfig::default()
        })
    }

    #[test]
    fn overnight_shifts_continue_into_the_next_day() {
        let g = engine(7, 50);
        let agent = (0..g.world.agents.len())
            .find(|&a| g.world.agents[a].overnight() && g.works(a, 0) && g.works(a, 1))
            .unwrap_or_default();
        let (s, e) = g.world.agents[agent].shift();
        assert!(e < s, "an overnight agent exists");
        assert!(g.on_shift(agent, 0, u32::from(s)));
        assert!(g.on_shift(agent, 1, 0), "still at work after midnight");
        assert!(g.on_shift(agent, 1, u32::from(e) - 1));
        let ends_late = g.overtime(agent, 0);
        assert_eq!(
            g.on_shift(agent, 1, u32::from(e)),
            ends_late,
            "the hour after the shift is overtime only"
        );
        assert!(!g.on_shift(agent, 1, u32::from(e) + 2));
        assert_eq!(g.workday_at(agent, g.cfg.start + DAY + 3600), 0);
    }

    #[test]
    fn days_off_are_two_consecutive_weekdays() {
        let g = engine(7, 50);
        for a in 0..g.world.agents.len() {
            if g.world.agents[a].first_day > 0 {
                continue; // a new hire
            }
            let off: Vec<i64> = (0..7).filter(|&d| !g.works(a, d)).collect();
            assert_eq!(off.len(), 2, "agent {a} works five days a week");
            assert!(
                off[1] - off[0] == 1 || (off[0] == 0 && off[1] == 6),
                "{off:?}"
            );
        }
    }

    #[test]
    fn events_after_the_run_are_dropped_and_ids_go_after_ts() {
        let mut g = engine(1, 50);
        g.cfg.jitter = false;
        let inside = Line::new(EventKind::AgentSession, g.cfg.start + 10);
        assert!(g.push(inside, Tag::None));
        let after = Line::new(EventKind::AgentSession, g.run_end);
        assert!(!g.push(after, Tag::None));
        let p = g.batch.pop().unwrap_or_else(|| unreachable!());
        let line = g.emit(p);
        assert_eq!(
            line,
            "{\"type\":\"agent_session\",\"ts\":\"2025-03-03T00:00:10Z\",\"id\":\"e1\"}"
        );
        assert_eq!(g.truth.events, 1);
        assert_eq!(g.counts[EventKind::AgentSession.index()], 1);
    }

    #[test]
    fn late_events_wait_for_the_next_batch_in_arrival_order() {
        let mut g = engine(2, 3_000);
        let day0 = g.generate_day(0);
        assert!(
            day0.windows(2)
                .all(|w| (w[0].arrival, w[0].seq) < (w[1].arrival, w[1].seq))
        );
        let day_end = g.cfg.start + DAY;
        assert!(day0.iter().all(|p| p.arrival < day_end));
        assert!(g.carry.iter().all(|p| p.arrival >= day_end));
        assert!(
            day0.iter().any(|p| p.arrival > p.ts),
            "some events are late"
        );
        assert!(day0.iter().all(|p| p.arrival - p.ts <= MAX_LATENESS));
        let carried = g.carry.len();
        assert!(carried > 0, "overnight shifts and open tickets spill over");
        let day1 = g.generate_day(1);
        assert!(g.carry.is_empty(), "the last day flushes everything");
        assert!(day1.len() >= carried);
    }
}
