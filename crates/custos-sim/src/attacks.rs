//! Injected attacks with their ground truth: insider harvests (slow and
//! burst), fake support calls built on harvested records, the account
//! takeovers that follow a successful call, and standalone withdrawals to a
//! fresh address from a new device.

use crate::customers::{Action, Seat};
use crate::engine::{CallPlan, CallSource, Gen, HarvestStyle, pick_rich};
use crate::floor::{Access, Channel, Message, OpenedBy, TicketRef, TicketSpec};
use crate::json::{EventKind, Line};
use crate::rng::Rng;
use crate::tables::{
    ASSETS, ATTACKER_ASSETS, ATTACKER_COUNTRIES, COUNTRIES, Category, HARVEST_FIELDS, asset_index,
    country_index, field,
};
use crate::text::{self, BenignTopic, ScamScenario, Vars};
use crate::time::{DAY, rfc3339};
use crate::truth::{
    AccountTakeover, Attack, AttackRole, Entity, FakeSupportCall, InsiderHarvest,
    NewAddressWithdrawal, Tag,
};
use crate::world::{address, ip_in_country, phone_number};

/// A harvest in progress.
pub(crate) struct HarvestState {
    /// Index in `plan.harvests`.
    pub plan: usize,
    /// Index in `truth.attacks`, once the first access happened.
    pub truth: Option<u32>,
    /// Workdays of slow harvesting left.
    pub remaining: u32,
    pub victims: Vec<u32>,
    pub first: i64,
    pub last: i64,
    pub done: bool,
}

impl Gen {
    pub(crate) fn attacks_day(&mut self, d: u32) {
        // Harvests that start today.
        for i in 0..self.plan.harvests.len() {
            if self.plan.harvests[i].day == d {
                let remaining = self.plan.harvests[i].span;
                self.harvest_state.push(HarvestState {
                    plan: i,
                    truth: None,
                    remaining,
                    victims: Vec::new(),
                    first: i64::MAX,
                    last: i64::MIN,
                    done: false,
                });
            }
        }
        for s in 0..self.harvest_state.len() {
            if self.harvest_state[s].done {
                continue;
            }
            let plan = self.harvest_state[s].plan;
            match self.plan.harvests[plan].style {
                HarvestStyle::Slow => self.slow_harvest_day(s, d, 0.3, (3, 8)),
                HarvestStyle::Pretext => self.slow_harvest_day(s, d, 1.0, (2, 5)),
                HarvestStyle::Ring => self.slow_harvest_day(s, d, 0.0, (1, 4)),
                HarvestStyle::Burst => self.burst_harvest(s),
                HarvestStyle::OffHours => self.off_hours_harvest(s),
            }
            if self.harvest_state[s].done {
                self.plan_calls(s);
            }
        }
        let calls: Vec<(u32, CallSource)> = self
            .plan
            .calls
            .iter()
            .filter(|c| c.day == d)
            .map(|c| (c.customer, c.source))
            .collect();
        for (customer, source) in calls {
            self.fake_call(customer, source);
        }
        let naws: Vec<u32> = self
            .plan
            .naws
            .iter()
            .filter(|n| n.0 == d)
            .map(|n| n.1)
            .collect();
        for customer in naws {
            self.new_address_withdrawal(customer);
        }
    }

    // ----- insider harvest ------------------------------------------------

    /// Creates the truth entry of a harvest on its first access.
    fn harvest_truth(&mut self, s: usize) -> u32 {
        if let Some(t) = self.harvest_state[s].truth {
            return t;
        }
        let plan = &self.plan.harvests[self.harvest_state[s].plan];
        let agent_id = self.world.agents[plan.agent].id();
        let style = plan.style.as_str();
        let attack_id = self.new_attack_id();
        self.truth
            .attacks
            .push(Attack::InsiderHarvest(InsiderHarvest {
                attack_id,
                entity: Entity::agent(&agent_id),
                agent_id,
                style: style.to_owned(),
                start_ts: String::new(),
                end_ts: String::new(),
                event_ids: Vec::new(),
                victim_customer_ids: Vec::new(),
                context_event_ids: Vec::new(),
            }));
        let t = (self.truth.attacks.len() - 1) as u32;
        self.harvest_state[s].truth = Some(t);
        t
    }

    /// A victim for a harvest: mostly high-value customers, each once.
    fn harvest_victim(&mut self, s: usize, ts: i64) -> Option<u32> {
        for _ in 0..20 {
            let c = pick_rich(&self.world, &mut self.arng);
            if self.world.customers[c as usize].created_at < ts
                && !self.harvest_state[s].victims.contains(&c)
            {
                return Some(c);
            }
        }
        None
    }

    /// Records one malicious access in the truth.
    fn record_harvest_access(&mut self, s: usize, ts: i64, customer: u32) {
        let truth = self.harvest_truth(s);
        let state = &mut self.harvest_state[s];
        state.victims.push(customer);
        state.first = state.first.min(ts);
        state.last = state.last.max(ts);
        let (first, last) = (state.first, state.last);
        let customer_id = self.world.customers[customer as usize].id();
        if let Some(Attack::InsiderHarvest(h)) = self.truth.attacks.get_mut(truth as usize) {
            h.start_ts = rfc3339(first);
            h.end_ts = rfc3339(last);
            h.victim_customer_ids.push(customer_id);
        }
    }

    fn harvest_fields(rng: &mut Rng) -> Vec<&'static str> {
        let mut fields = vec![field::NAME];
        for &(f, p) in &[
            (field::PHONE, 0.75),
            (field::ADDRESS, 0.5),
            (field::BALANCE, 0.85),
            (field::ID_DOCUMENT, 0.2),
        ] {
            if rng.chance(p) {
                fields.push(f);
            }
        }
        debug_assert!(fields.iter().all(|f| HARVEST_FIELDS.contains(f)));
        fields
    }

    /// "Slow" (and "pretext", "ring"): a few records a day inside the
    /// agent's normal shift, a share `pretext` of them on pretext tickets the
    /// agent opens for the victim; `per_day` is the half-open range drawn.
    fn slow_harvest_day(&mut self, s: usize, d: u32, pretext: f64, per_day: (i64, i64)) {
        let agent = self.plan.harvests[self.harvest_state[s].plan].agent;
        let day = i64::from(d);
        if !self.works(agent, day) {
            return;
        }
        let (start_hour, end_hour) = self.world.agents[agent].shift();
        let len = (i64::from(end_hour) - i64::from(start_hour)).rem_euclid(24) * 3600;
        let shift_start = self.day_start + i64::from(start_hour) * 3600;
        let (ip, device, _) = self.agent_identity(agent, day);
        let n = self.arng.range(per_day.0, per_day.1);
        let mut times: Vec<i64> = (0..n)
            .map(|_| shift_start + self.arng.range(900, len - 900))
            .collect();
        times.sort_unstable();
        for ts in times {
            if ts >= self.run_end {
                break;
            }
            let Some(customer) = self.harvest_victim(s, ts) else {
                continue;
            };
            let truth = self.harvest_truth(s);
            let fields = Self::harvest_fields(&mut self.arng);
            let ticket = if pretext >= 1.0 || (pretext > 0.0 && self.arng.chance(pretext)) {
                // A pretext ticket: opened by the agent for the victim, on a
                // phone call that never happened.
                self.ids.ticket += 1;
                let tref = TicketRef {
                    ticket: self.ids.ticket,
                    customer,
                    channel: Channel::Phone,
                    category: if self.arng.chance(0.5) {
                        "account_security"
                    } else {
                        "withdrawal_delay"
                    },
                    opened_by: "agent",
                };
                let opened = ts - self.arng.range(30, 120);
                let context = Tag::Attack(truth, AttackRole::Context);
                self.push_ticket(&tref, opened, None, "opened", context);
                self.push_ticket(&tref, opened + 1, Some(agent), "assigned", context);
                let closed = ts + self.arng.range(60, 400);
                self.push_ticket(&tref, closed, Some(agent), "closed", context);
                Some(tref.ticket)
            } else {
                None
            };
            let pushed = self.push_access(
                &Access {
                    ts,
                    agent,
                    customer: Some(customer),
                    ticket,
                    action: "view",
                    query: None,
                    fields: &fields,
                    ip: &ip,
                    device: &device,
                },
                Tag::Attack(truth, AttackRole::Flag),
            );
            if pushed {
                self.record_harvest_access(s, ts, customer);
            }
        }
        let state = &mut self.harvest_state[s];
        state.remaining = state.remaining.saturating_sub(1);
        if state.remaining == 0 {
            state.done = true;
        }
    }

    /// "Burst": hundreds of records in one night, outside the shift, in a
    /// session of its own.
    fn burst_harvest(&mut self, s: usize) {
        self.harvest_state[s].done = true;
        let agent = self.plan.harvests[self.harvest_state[s].plan].agent;
        let day = i64::from(self.day);
        // Start two to ten hours after the shift ends, when the agent is not
        // at work in the next four hours.
        let Some(start) = self.off_shift_start(agent, day, 2, 9, 4) else {
            return;
        };
        let (ip, device) = if self.arng.chance(0.5) {
            let (ip, device, _) = self.agent_identity(agent, day);
            (ip, device)
        } else {
            // From home: a residential IP of the site's country and a
            // personal laptop.
            let site = crate::tables::SITES[self.world.agents[agent].site].code;
            let country = country_index(site).unwrap_or(0);
            let h = self.arng.next_u64();
            (
                ip_in_country(country, h),
                format!("dev-{:04x}", (h >> 40) & 0xffff),
            )
        };
        self.off_ticket_session(s, agent, start, (&ip, &device), (150, 450), (4, 25));
    }

    /// "Off hours": a few dozen records, a few minutes apart, in a session
    /// outside the shift from a device the agent never used.
    fn off_hours_harvest(&mut self, s: usize) {
        self.harvest_state[s].done = true;
        let agent = self.plan.harvests[self.harvest_state[s].plan].agent;
        let day = i64::from(self.day);
        let Some(start) = self.off_shift_start(agent, day, 3, 8, 3) else {
            return;
        };
        let (ip, _, _) = self.agent_identity(agent, day);
        let h = self.arng.next_u64();
        let device = format!("dev-x{:05x}", (h >> 40) & 0xfffff);
        self.off_ticket_session(s, agent, start, (&ip, &device), (12, 35), (40, 240));
    }

    /// A time `after` to `after + spread - 1` hours past the end of the
    /// agent's shift from which the next `free_hours` are off shift (twelve
    /// tries), and which ends inside the run. (The order of random draws is
    /// part of the output: keep it.)
    fn off_shift_start(
        &mut self,
        agent: usize,
        day: i64,
        after: u32,
        spread: u64,
        free_hours: u32,
    ) -> Option<i64> {
        let (_, end_hour) = self.world.agents[agent].shift();
        for _ in 0..12 {
            let hour = (u32::from(end_hour) + after + self.arng.below(spread) as u32) % 24;
            let free = (0..free_hours).all(|k| {
                let h = hour + k;
                !self.on_shift(agent, day + i64::from(h / 24), h % 24)
            });
            if free {
                let start = self.day_start + i64::from(hour) * 3600 + self.arng.range(0, 3_599);
                return (start + i64::from(free_hours) * 3600 < self.run_end).then_some(start);
            }
        }
        None
    }

    /// One harvesting session: log in, open `count` records off-ticket
    /// `gap` seconds apart, log out. (The order of random draws is part of
    /// the output: keep it.)
    fn off_ticket_session(
        &mut self,
        s: usize,
        agent: usize,
        start: i64,
        (ip, device): (&str, &str),
        count: (i64, i64),
        gap: (i64, i64),
    ) {
        let truth = self.harvest_truth(s);
        let context = Tag::Attack(truth, AttackRole::Context);
        let mut ts = start;
        self.push_session(ts, agent, true, ip, device, context);
        let n = self.arng.range(count.0, count.1);
        for _ in 0..n {
            ts += self.arng.range(gap.0, gap.1);
            let Some(customer) = self.harvest_victim(s, ts) else {
                continue;
            };
            let fields = Self::harvest_fields(&mut self.arng);
            let pushed = self.push_access(
                &Access {
                    ts,
                    agent,
                    customer: Some(customer),
                    ticket: None,
                    action: "view",
                    query: None,
                    fields: &fields,
                    ip,
                    device,
                },
                Tag::Attack(truth, AttackRole::Flag),
            );
            if pushed {
                self.record_harvest_access(s, ts, customer);
            }
        }
        ts += self.arng.range(60, 300);
        self.push_session(ts, agent, false, ip, device, context);
    }

    /// Once a harvest is over, some of its victims get calls days later,
    /// the richest first.
    fn plan_calls(&mut self, s: usize) {
        let Some(truth) = self.harvest_state[s].truth else {
            return;
        };
        let style = self.plan.harvests[self.harvest_state[s].plan].style;
        let mut victims = self.harvest_state[s].victims.clone();
        victims.sort_by(|a, b| {
            let ba = self.world.customers[*a as usize].balance;
            let bb = self.world.customers[*b as usize].balance;
            bb.total_cmp(&ba).then(a.cmp(b))
        });
        let k = match style {
            HarvestStyle::Slow | HarvestStyle::Pretext | HarvestStyle::Ring => {
                self.arng.range(1, 3)
            }
            HarvestStyle::Burst | HarvestStyle::OffHours => self.arng.range(3, 6),
        } as usize;
        let last_day = (self.harvest_state[s].last - self.cfg.start).div_euclid(DAY);
        let mut chosen: Vec<u32> = Vec::new();
        for _ in 0..k * 3 {
            if chosen.len() >= k || victims.is_empty() {
                break;
            }
            let top = (victims.len() / 2).max(1);
            let i = if self.arng.chance(0.7) {
                self.arng.index(top)
            } else {
                self.arng.index(victims.len())
            };
            let v = victims[i];
            if !chosen.contains(&v) {
                chosen.push(v);
            }
        }
        for customer in chosen {
            let day = last_day + self.arng.range(1, 7);
            if day >= i64::from(self.cfg.days) {
                continue;
            }
            self.plan.calls.push(CallPlan {
                day: day as u32,
                customer,
                source: CallSource::Harvest(truth),
            });
        }
    }

    // ----- fake support call ----------------------------------------------

    fn fake_call(&mut self, customer: u32, source: CallSource) {
        let (home, created_at, balance, frozen) = {
            let c = &self.world.customers[customer as usize];
            (
                usize::from(c.country),
                c.created_at,
                c.balance,
                c.frozen_until,
            )
        };
        // In the victim's local daytime, 9 to 20.
        let offset = COUNTRIES[home].utc_offset;
        let local = self.arng.range(9, 20) as i32;
        let hour = (local - offset).rem_euclid(24);
        let t0 = self.day_start + i64::from(hour) * 3600 + self.arng.range(0, 3_599);
        if created_at >= t0 || frozen > t0 || t0 + 6 * 3600 >= self.run_end {
            return;
        }
        let scenario = match self.arng.weighted(&[45, 20, 20, 15]) {
            0 => ScamScenario::TwoFactorCode,
            1 => ScamScenario::ApiKey,
            2 => ScamScenario::SafeWallet,
            _ => ScamScenario::RemoteAccess,
        };
        let channel = if scenario == ScamScenario::TwoFactorCode && self.arng.chance(0.3) {
            Channel::Sms
        } else {
            Channel::Phone
        };
        let contact_country = if self.arng.chance(0.6) {
            home
        } else {
            *self.arng.pick(&[0usize, 1])
        };
        let contact = phone_number(contact_country, self.arng.next_u64());
        let conversation = self.new_conversation();
        let conversation_id = format!("conv-{conversation}");
        let customer_id = self.world.customers[customer as usize].id();
        let attack_id = self.new_attack_id();
        let harvest_attack_id = match source {
            CallSource::Harvest(h) => self
                .truth
                .attacks
                .get(h as usize)
                .map(|a| a.attack_id().to_owned()),
            CallSource::External => None,
        };
        self.truth
            .attacks
            .push(Attack::FakeSupportCall(FakeSupportCall {
                attack_id: attack_id.clone(),
                entity: Entity::conversation(&conversation_id),
                conversation_id,
                customer_id: customer_id.clone(),
                channel: channel.as_str().to_owned(),
                scenario: scenario.as_str().to_owned(),
                contact: contact.clone(),
                source: if harvest_attack_id.is_some() {
                    "insider_harvest"
                } else {
                    "external_leak"
                }
                .to_owned(),
                harvest_attack_id,
                complied: false,
                start_ts: rfc3339(t0),
                event_ids: Vec::new(),
                inducement_event_ids: Vec::new(),
                compliance_event_ids: Vec::new(),
                report_id: None,
                report_event_id: None,
                takeover_attack_id: None,
                loss_usd: 0.0,
            }));
        let call = (self.truth.attacks.len() - 1) as u32;
        let lang = self.world.customers[customer as usize].lang();
        let name = self
            .world
            .first_name(&self.world.customers[customer as usize]);
        let amount = usd(balance);
        let code = format!("{:06}", self.arng.below(1_000_000));
        let wallet_asset = self.attacker_asset(customer);
        let wallet = address(ASSETS[wallet_asset].format, self.arng.next_u64());
        let vars = Vars {
            name,
            amount: &amount,
            asset: ASSETS[wallet_asset].symbol,
            code: &code,
            addr: &wallet,
            ..Vars::default()
        };
        let say = |g: &mut Gen, ts: i64, caller: bool, text: &str, role: Option<AttackRole>| {
            g.push_message(
                &Message {
                    ts,
                    conversation,
                    channel,
                    inbound: caller,
                    sender_role: if caller { "unknown" } else { "customer" },
                    customer,
                    text,
                    agent: None,
                    ticket: None,
                },
                role.map_or(Tag::None, |r| Tag::Attack(call, r)),
            );
        };
        let gap = |rng: &mut Rng| match channel {
            Channel::Sms => rng.range(30, 240),
            _ => rng.range(10, 45),
        };
        let mut t = t0;
        let intro = text::fill(self.arng.pick_str(text::scam_intro(lang)), &vars);
        say(self, t, true, &intro, Some(AttackRole::Flag));
        t += gap(&mut self.arng);
        let hesitant = text::fill(self.arng.pick_str(text::victim_hesitant(lang)), &vars);
        say(self, t, false, &hesitant, None);
        t += gap(&mut self.arng);
        let ask = text::fill(self.arng.pick_str(text::scam_ask(scenario, lang)), &vars);
        say(self, t, true, &ask, Some(AttackRole::Inducement));
        let p_comply = if channel == Channel::Sms { 0.35 } else { 0.5 };
        let complied = self.arng.chance(p_comply);
        let mut loss = 0.0;
        if complied {
            t += gap(&mut self.arng);
            let yes = text::fill(
                self.arng.pick_str(text::victim_complies(scenario, lang)),
                &vars,
            );
            if matches!(scenario, ScamScenario::SafeWallet | ScamScenario::ApiKey) {
                // The victim acts while on the line, then says so: after
                // creating the key, or after sending the funds.
                let (l, first, end) =
                    self.takeover(call, customer, scenario, t, (wallet_asset, &wallet));
                loss = l;
                let acted = if scenario == ScamScenario::SafeWallet {
                    end
                } else {
                    first
                };
                let mut said = acted + gap(&mut self.arng);
                say(self, said, false, &yes, Some(AttackRole::Compliance));
                said += gap(&mut self.arng);
                let thanks = text::fill(self.arng.pick_str(text::scam_thanks(lang)), &vars);
                say(self, said, true, &thanks, Some(AttackRole::Flag));
                t = end.max(said);
            } else {
                say(self, t, false, &yes, Some(AttackRole::Compliance));
                t += gap(&mut self.arng);
                let thanks = text::fill(self.arng.pick_str(text::scam_thanks(lang)), &vars);
                say(self, t, true, &thanks, Some(AttackRole::Flag));
                let (l, _, end) =
                    self.takeover(call, customer, scenario, t, (wallet_asset, &wallet));
                loss = l;
                t = end;
            }
        } else {
            if self.arng.chance(0.5) {
                t += gap(&mut self.arng);
                let push = text::fill(self.arng.pick_str(text::scam_push(lang)), &vars);
                say(self, t, true, &push, Some(AttackRole::Inducement));
            }
            t += gap(&mut self.arng);
            let no = text::fill(self.arng.pick_str(text::victim_refuses(lang)), &vars);
            say(self, t, false, &no, None);
            if self.arng.chance(0.3) {
                // The careful customer asks real support: a benign
                // conversation full of scam words.
                let open = t + self.arng.range(600, 3 * 3600);
                self.ticket_flow(&TicketSpec {
                    customer,
                    open,
                    category: Category::AccountSecurity,
                    channel: Channel::Chat,
                    opened_by: OpenedBy::Customer,
                    topic: Some(BenignTopic::ScamCheck),
                });
            }
        }
        if let Some(Attack::FakeSupportCall(a)) = self.truth.attacks.get_mut(call as usize) {
            a.complied = complied;
            a.loss_usd = round2(loss);
        }
        let p_report = if loss > 0.0 { 0.85 } else { 0.35 };
        if self.arng.chance(p_report) {
            self.victim_report(call, customer, channel, &contact, loss, t);
        }
    }

    /// The victim's scam report a day or two later (in their daytime).
    fn victim_report(
        &mut self,
        call: u32,
        customer: u32,
        channel: Channel,
        contact: &str,
        loss: f64,
        after: i64,
    ) {
        let ts = after + self.arng.range(DAY / 2, 2 * DAY);
        if ts >= self.run_end {
            return;
        }
        self.ids.report += 1;
        let report_id = format!("r-{}", self.ids.report);
        let amount = usd(loss);
        let body = text::fill(
            self.arng.pick_str(text::victim_report(loss > 0.0)),
            &Vars {
                amount: &amount,
                ..Vars::default()
            },
        );
        let mut l = Line::new(EventKind::ScamReport, ts);
        l.str("report_id", &report_id);
        l.id(
            "customer_id",
            "c-",
            self.world.customers[customer as usize].num,
            5,
        );
        l.str("channel", channel.as_str());
        l.str("contact", contact);
        l.str("text", &body);
        l.num("loss_usd", loss);
        if self.push(l, Tag::Attack(call, AttackRole::Report)) {
            if let Some(Attack::FakeSupportCall(a)) = self.truth.attacks.get_mut(call as usize) {
                a.report_id = Some(report_id);
            }
            if loss > 0.0 && self.arng.chance(0.5) {
                // The victim freezes what is left.
                let home = usize::from(self.world.customers[customer as usize].country);
                let seat = self.usual_seat(customer, home, true);
                let t = ts + self.arng.range(120, 1_800);
                let line = self.action(t, customer, "freeze", &seat);
                if self.push(line, Tag::None) {
                    // ... and lifts the freeze three days later, from their
                    // own device, before using the account again.
                    let until = t + 3 * DAY;
                    let line = self.action(until, customer, "unfreeze", &seat);
                    self.push(line, Tag::None);
                    self.world.customers[customer as usize].frozen_until = until;
                }
            }
        }
    }

    /// An asset to cash out in: often one the customer never used.
    fn attacker_asset(&mut self, customer: u32) -> usize {
        let c = &self.world.customers[customer as usize];
        let unused: Vec<usize> = ATTACKER_ASSETS
            .iter()
            .filter_map(|s| asset_index(s))
            .filter(|&a| !c.uses_asset(a))
            .collect();
        let own = c.asset_list();
        if !unused.is_empty() && (own.is_empty() || self.arng.chance(0.6)) {
            unused[self.arng.index(unused.len())]
        } else {
            own.first().copied().unwrap_or(0)
        }
    }

    /// The attacker's seat: a new device in another country.
    fn attacker_seat(&mut self, home: usize) -> Seat {
        let mut country = home;
        for _ in 0..8 {
            let code = self.arng.pick(ATTACKER_COUNTRIES);
            country = country_index(code).unwrap_or(0);
            if country != home {
                break;
            }
        }
        let h = self.arng.next_u64();
        let c = &COUNTRIES[country];
        let geo = self.arng.chance(0.9).then(|| {
            let dlat = ((h >> 20) & 0xff) as f64 / 255.0 - 0.5;
            let dlon = ((h >> 28) & 0xff) as f64 / 255.0 - 0.5;
            (country, c.lat + dlat, c.lon + dlon)
        });
        Seat {
            ip: ip_in_country(country, h),
            device: format!("fp-{:08x}", (h >> 32) as u32),
            geo,
        }
    }

    // ----- account takeover -----------------------------------------------

    /// The takeover after a successful call; returns the loss and the times
    /// of its first and last events.
    fn takeover(
        &mut self,
        call: u32,
        customer: u32,
        scenario: ScamScenario,
        t0: i64,
        wallet: (usize, &str),
    ) -> (f64, i64, i64) {
        let (home, balance) = {
            let c = &self.world.customers[customer as usize];
            (usize::from(c.country), c.balance)
        };
        let customer_id = self.world.customers[customer as usize].id();
        let call_attack_id = self.truth.attacks[call as usize].attack_id().to_owned();
        let attack_id = self.new_attack_id();
        self.truth
            .attacks
            .push(Attack::AccountTakeover(AccountTakeover {
                attack_id: attack_id.clone(),
                entity: Entity::customer(&customer_id),
                customer_id,
                call_attack_id,
                scenario: scenario.as_str().to_owned(),
                start_ts: String::new(),
                event_ids: Vec::new(),
                first_to_stop_event_id: None,
                loss_usd: 0.0,
            }));
        let ato = (self.truth.attacks.len() - 1) as u32;
        if let Some(Attack::FakeSupportCall(a)) = self.truth.attacks.get_mut(call as usize) {
            a.takeover_attack_id = Some(attack_id);
        }
        let flag = Tag::Attack(ato, AttackRole::Flag);
        let stop = Tag::Attack(ato, AttackRole::FirstToStop);
        let own = self.usual_seat(customer, home, true);
        let attacker = self.attacker_seat(home);
        let (asset, destination) = (wallet.0, wallet.1.to_owned());
        let mut t = t0 + self.arng.range(30, 180);
        let start = t;
        let mut loss = 0.0;
        let withdraw = |g: &mut Gen, t: i64, seat: &Seat, share: f64| -> f64 {
            let amount = round2(balance * share);
            let line = g.withdrawal_line(t, customer, seat, amount, asset, &destination);
            if g.push(line, flag) { amount } else { 0.0 }
        };
        match scenario {
            ScamScenario::TwoFactorCode => {
                let line = self.action(t, customer, "login", &attacker);
                self.push(line, flag);
                t += self.arng.range(60, 300);
                let setting = if self.arng.chance(0.5) {
                    "2fa_reset"
                } else {
                    "email"
                };
                let line = self.action_line(&Action {
                    ts: t,
                    customer,
                    action: "security_change",
                    setting: Some(setting),
                    ip: &attacker.ip,
                    device: &attacker.device,
                    geo: attacker.geo,
                });
                self.push(line, stop);
                if self.arng.chance(0.7) {
                    t += self.arng.range(60, 180);
                    self.ids.key += 1;
                    let key = self.ids.key;
                    let line = self.api_key_line(
                        ("api_key_create", t, customer),
                        &attacker,
                        key,
                        Some((&["read", "trade", "withdraw"], &[])),
                    );
                    self.push(line, flag);
                }
                t += self.arng.range(60, 180);
                let line = self.address_add_line(t, customer, &attacker, asset, &destination);
                self.push(line, flag);
                let parts = if self.arng.chance(0.3) { 2 } else { 1 };
                let share = self.arng.range(60, 95) as f64 / 100.0 / f64::from(parts);
                for _ in 0..parts {
                    t += self.arng.range(60, 300);
                    loss += withdraw(self, t, &attacker, share);
                }
            }
            ScamScenario::ApiKey => {
                self.ids.key += 1;
                let key = self.ids.key;
                let line = self.api_key_line(
                    ("api_key_create", t, customer),
                    &own,
                    key,
                    Some((&["read", "trade", "withdraw"], &[])),
                );
                self.push(line, stop);
                // The attacker drives the API from their own server.
                let mut api = self.attacker_seat(home);
                api.device = format!("api-k-{key}");
                api.geo = None;
                t += self.arng.range(120, 600);
                let line = self.address_add_line(t, customer, &api, asset, &destination);
                self.push(line, flag);
                t += self.arng.range(30, 120);
                let share = self.arng.range(70, 98) as f64 / 100.0;
                loss += withdraw(self, t, &api, share);
            }
            ScamScenario::SafeWallet => {
                let line = self.address_add_line(t, customer, &own, asset, &destination);
                self.push(line, stop);
                t += self.arng.range(60, 240);
                let share = self.arng.range(50, 95) as f64 / 100.0;
                loss += withdraw(self, t, &own, share);
            }
            ScamScenario::RemoteAccess => {
                // Remote control of the victim's own machine: their device
                // and IP, none of the usual "new device" signals.
                let line = self.action_line(&Action {
                    ts: t,
                    customer,
                    action: "security_change",
                    setting: Some("2fa_disable"),
                    ip: &own.ip,
                    device: &own.device,
                    geo: own.geo,
                });
                self.push(line, stop);
                t += self.arng.range(60, 180);
                let line = self.address_add_line(t, customer, &own, asset, &destination);
                self.push(line, flag);
                t += self.arng.range(60, 240);
                let share = self.arng.range(60, 95) as f64 / 100.0;
                loss += withdraw(self, t, &own, share);
            }
        }
        let c = &mut self.world.customers[customer as usize];
        c.balance = round2((c.balance - loss).max(0.0));
        if let Some(Attack::AccountTakeover(a)) = self.truth.attacks.get_mut(ato as usize) {
            a.start_ts = rfc3339(start);
            a.loss_usd = round2(loss);
        }
        (loss, start, t)
    }

    // ----- new address withdrawal -----------------------------------------

    fn new_address_withdrawal(&mut self, customer: u32) {
        let (home, created_at, balance) = {
            let c = &self.world.customers[customer as usize];
            (usize::from(c.country), c.created_at, c.balance)
        };
        let offset = COUNTRIES[home].utc_offset;
        let hour = (self.arng.range(0, 23) as i32 - offset).rem_euclid(24);
        let t0 = self.day_start + i64::from(hour) * 3600 + self.arng.range(0, 3_599);
        if created_at >= t0 || balance < 200.0 || t0 + 3_600 >= self.run_end {
            return;
        }
        let seat = if self.arng.chance(0.6) {
            // Same country, a new device and address: stolen session or
            // credentials used locally.
            let h = self.arng.next_u64();
            let with_geo = self.arng.chance(0.85);
            let c = &self.world.customers[customer as usize];
            let geo = with_geo.then(|| {
                let (lat, lon) = self.world.customer_geo(c, home);
                (home, lat, lon)
            });
            Seat {
                ip: ip_in_country(home, h),
                device: format!("fp-{:08x}", (h >> 32) as u32),
                geo,
            }
        } else {
            self.attacker_seat(home)
        };
        let asset = self.attacker_asset(customer);
        let destination = address(ASSETS[asset].format, self.arng.next_u64());
        let amount = round2(balance * self.arng.range(30, 90) as f64 / 100.0);
        let customer_id = self.world.customers[customer as usize].id();
        let attack_id = self.new_attack_id();
        self.truth
            .attacks
            .push(Attack::NewAddressWithdrawal(NewAddressWithdrawal {
                attack_id,
                entity: Entity::customer(&customer_id),
                customer_id,
                start_ts: rfc3339(t0),
                event_ids: Vec::new(),
                first_to_stop_event_id: None,
                amount_usd: amount,
                destination: destination.clone(),
            }));
        let index = (self.truth.attacks.len() - 1) as u32;
        let mut t = t0;
        if self.arng.chance(0.7) {
            let line = self.action(t, customer, "login", &seat);
            self.push(line, Tag::Attack(index, AttackRole::Flag));
            t += self.arng.range(120, 900);
        }
        let line = self.withdrawal_line(t, customer, &seat, amount, asset, &destination);
        self.push(line, Tag::Attack(index, AttackRole::FirstToStop));
        let c = &mut self.world.customers[customer as usize];
        c.balance = round2((c.balance - amount).max(0.0));
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Whole dollars with thousands separators, as a caller would say them.
fn usd(v: f64) -> String {
    let whole = v.max(0.0).round() as u64;
    let digits = whole.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usd_groups_thousands() {
        assert_eq!(usd(0.0), "0");
        assert_eq!(usd(999.4), "999");
        assert_eq!(usd(1_000.0), "1,000");
        assert_eq!(usd(250_000.0), "250,000");
        assert_eq!(usd(1_234_567.8), "1,234,568");
    }
}
