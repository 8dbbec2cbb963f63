//! The support floor: agents' sessions, tickets from open to close with the
//! agent's record accesses and the conversation, and legitimate access
//! without a ticket (leads' quality checks, call-backs).

use crate::engine::{Gen, RecentTicket};
use crate::json::{EventKind, Line};
use crate::rng::Rng;
use crate::tables::{
    AgentRole, CATEGORIES, Category, KYC_REVIEW, REVIEW_FIELDS, T1_CHAT, T1_EMAIL, T1_PHONE,
    T2_PAYMENTS, T2_SECURITY, VIP_DESK, category_def, field,
};
use crate::text::{self, BenignTopic, Vars};
use crate::time::{DAY, date, day_of_week, rfc3339};
use crate::truth::{
    AgentEpisode, Benign, Entity, HardBenignConversation, OffTicketAccess, Overtime, Tag,
};
use crate::world::Tier;

/// Tickets per customer per ordinary weekday.
const TICKETS_PER_CUSTOMER_DAY: f64 = 0.04;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    Chat,
    Email,
    Phone,
    Sms,
}

impl Channel {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Channel::Chat => "chat",
            Channel::Email => "email",
            Channel::Phone => "phone",
            Channel::Sms => "sms",
        }
    }

    /// Seconds between two messages of a conversation.
    fn gap(self, rng: &mut Rng) -> i64 {
        match self {
            Channel::Chat => rng.range(20, 240),
            Channel::Email => rng.range(900, 10_800),
            Channel::Phone | Channel::Sms => rng.range(10, 60),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpenedBy {
    Customer,
    Agent(usize),
    System,
}

impl OpenedBy {
    fn as_str(self) -> &'static str {
        match self {
            OpenedBy::Customer => "customer",
            OpenedBy::Agent(_) => "agent",
            OpenedBy::System => "system",
        }
    }
}

/// What a ticket is about, before it is played out.
pub(crate) struct TicketSpec {
    pub customer: u32,
    pub open: i64,
    pub category: Category,
    pub channel: Channel,
    pub opened_by: OpenedBy,
    pub topic: Option<BenignTopic>,
}

/// One `agent_access` event.
pub(crate) struct Access<'a> {
    pub ts: i64,
    pub agent: usize,
    pub customer: Option<u32>,
    pub ticket: Option<u32>,
    pub action: &'static str,
    pub query: Option<&'a str>,
    pub fields: &'a [&'a str],
    pub ip: &'a str,
    pub device: &'a str,
}

/// One `message` event.
pub(crate) struct Message<'a> {
    pub ts: i64,
    pub conversation: u32,
    pub channel: Channel,
    /// Seen from the customer: `true` reaches the customer.
    pub inbound: bool,
    pub sender_role: &'static str,
    pub customer: u32,
    pub text: &'a str,
    pub agent: Option<usize>,
    pub ticket: Option<u32>,
}

/// The ticket fields repeated on each of its status events.
pub(crate) struct TicketRef {
    pub ticket: u32,
    pub customer: u32,
    pub channel: Channel,
    pub category: &'static str,
    pub opened_by: &'static str,
}

impl Gen {
    // ----- event builders -------------------------------------------------

    pub(crate) fn push_access(&mut self, a: &Access<'_>, tag: Tag) -> bool {
        let mut l = Line::new(EventKind::AgentAccess, a.ts);
        l.id("agent_id", "a-", self.world.agents[a.agent].num, 4);
        let customer = a.customer.map(|c| self.world.customers[c as usize].num);
        l.opt_id("customer_id", "c-", customer, 5);
        l.opt_id("ticket_id", "t-", a.ticket, 0);
        l.str("action", a.action);
        if let Some(q) = a.query {
            l.str("query", q);
        }
        l.str_list("fields", a.fields);
        l.str("ip", a.ip);
        l.str("device_id", a.device);
        self.push(l, tag)
    }

    pub(crate) fn push_message(&mut self, m: &Message<'_>, tag: Tag) -> bool {
        let mut l = Line::new(EventKind::Message, m.ts);
        l.id("conversation_id", "conv-", m.conversation, 0);
        l.str("channel", m.channel.as_str());
        l.str("direction", if m.inbound { "inbound" } else { "outbound" });
        l.str("sender_role", m.sender_role);
        l.id(
            "customer_id",
            "c-",
            self.world.customers[m.customer as usize].num,
            5,
        );
        l.str("text", m.text);
        // Extensions (unknown fields are kept and ignored by v1 readers):
        // who wrote an agent message, and the ticket of a support thread.
        if let Some(agent) = m.agent {
            l.id("agent_id", "a-", self.world.agents[agent].num, 4);
        }
        if let Some(ticket) = m.ticket {
            l.id("ticket_id", "t-", ticket, 0);
        }
        self.push(l, tag)
    }

    pub(crate) fn push_ticket(
        &mut self,
        t: &TicketRef,
        ts: i64,
        agent: Option<usize>,
        status: &str,
        tag: Tag,
    ) -> bool {
        let mut l = Line::new(EventKind::Ticket, ts);
        l.id("ticket_id", "t-", t.ticket, 0);
        l.id(
            "customer_id",
            "c-",
            self.world.customers[t.customer as usize].num,
            5,
        );
        let agent = agent.map(|a| self.world.agents[a].num);
        l.opt_id("agent_id", "a-", agent, 4);
        l.str("status", status);
        l.str("channel", t.channel.as_str());
        l.str("category", t.category);
        l.str("opened_by", t.opened_by);
        self.push(l, tag)
    }

    pub(crate) fn push_session(
        &mut self,
        ts: i64,
        agent: usize,
        login: bool,
        ip: &str,
        device: &str,
        tag: Tag,
    ) -> bool {
        let mut l = Line::new(EventKind::AgentSession, ts);
        l.id("agent_id", "a-", self.world.agents[agent].num, 4);
        l.str("kind", if login { "login" } else { "logout" });
        l.str("ip", ip);
        l.str("device_id", device);
        self.push(l, tag)
    }

    /// Adds a benign truth entry and pushes its event; the entry is removed
    /// again when the event falls after the end of the run.
    pub(crate) fn push_with_benign(&mut self, line: Line, benign: Benign) -> Option<u32> {
        let index = self.add_benign(benign);
        if self.push(line, Tag::Benign(index)) {
            Some(index)
        } else {
            self.truth.benign.pop();
            None
        }
    }

    // ----- sessions -------------------------------------------------------

    pub(crate) fn agent_sessions(&mut self, d: u32) {
        let day = i64::from(d);
        for a in 0..self.world.agents.len() {
            if !self.works(a, day) {
                continue;
            }
            let (s, e) = self.world.agents[a].shift();
            let overnight = e < s;
            let start = self.day_start + i64::from(s) * 3600;
            let end = self.day_start + i64::from(e) * 3600 + if overnight { DAY } else { 0 };
            let login = if s == 0 {
                start + self.rng.range(0, 240)
            } else {
                start - self.rng.range(0, 600)
            };
            let overtime = self.overtime(a, day);
            let logout = end
                + self.rng.range(0, 900)
                + if overtime {
                    self.rng.range(2_700, 4_500)
                } else {
                    0
                };
            let (ip, device, new_device) = self.agent_identity(a, day);
            let agent_id = self.world.agents[a].id();
            if new_device {
                let mut l = Line::new(EventKind::AgentSession, login);
                l.id("agent_id", "a-", self.world.agents[a].num, 4);
                l.str("kind", "login");
                l.str("ip", &ip);
                l.str("device_id", &device);
                self.push_with_benign(
                    l,
                    Benign::AgentNewDevice(AgentEpisode {
                        entity: Entity::agent(&agent_id),
                        agent_id: agent_id.clone(),
                        start_ts: rfc3339(login),
                        event_ids: Vec::new(),
                    }),
                );
            } else {
                self.push_session(login, a, true, &ip, &device, Tag::None);
            }
            if overtime {
                let mut l = Line::new(EventKind::AgentSession, logout);
                l.id("agent_id", "a-", self.world.agents[a].num, 4);
                l.str("kind", "logout");
                l.str("ip", &ip);
                l.str("device_id", &device);
                self.push_with_benign(
                    l,
                    Benign::Overtime(Overtime {
                        entity: Entity::agent(&agent_id),
                        agent_id,
                        date: date(self.day_start),
                        shift_end_ts: rfc3339(end),
                        event_ids: Vec::new(),
                    }),
                );
            } else {
                self.push_session(logout, a, false, &ip, &device, Tag::None);
            }
        }
    }

    // ----- tickets --------------------------------------------------------

    pub(crate) fn tickets(&mut self, d: u32) {
        let n_customers = self.world.customers.len();
        if n_customers == 0 || self.world.agents.is_empty() {
            return;
        }
        let weekday = match day_of_week(self.day_start) {
            0 => 0.6,
            6 => 0.7,
            1 => 1.15,
            _ => 1.0,
        };
        let spike = self
            .plan
            .spikes
            .iter()
            .find(|s| s.0 == d)
            .map_or(1.0, |s| s.1);
        let expected = self.cfg.customers as f64 * TICKETS_PER_CUSTOMER_DAY * weekday * spike;
        let n = self.rng.count(expected);
        let weights: Vec<u32> = CATEGORIES.iter().map(|c| c.weight).collect();
        let mut specs: Vec<TicketSpec> = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let customer = if !self.world.vip.is_empty() && self.rng.chance(0.12) {
                self.world.vip[self.rng.index(self.world.vip.len())]
            } else {
                self.rng.index(n_customers) as u32
            };
            let country = usize::from(self.world.customers[customer as usize].country);
            let open = self.local_daytime(country, false);
            if self.world.customers[customer as usize].created_at >= open {
                continue;
            }
            let r = self.rng.unit();
            let (opened_by, category, channel) = if r < 0.90 {
                let category = CATEGORIES[self.rng.weighted(&weights)].category;
                let channel = match self.rng.weighted(&[55, 30, 15]) {
                    0 => Channel::Chat,
                    1 => Channel::Email,
                    _ => Channel::Phone,
                };
                (OpenedBy::Customer, category, channel)
            } else if r < 0.96 {
                let category = if self.rng.chance(0.6) {
                    Category::WithdrawalDelay
                } else {
                    Category::KycVerification
                };
                (OpenedBy::System, category, Channel::Email)
            } else {
                let team = if self.rng.chance(0.7) {
                    T1_PHONE
                } else {
                    VIP_DESK
                };
                let Some(agent) = self.agent_on_shift(team, open, &[T1_PHONE, T1_CHAT]) else {
                    continue;
                };
                let category = *self.rng.pick(&[
                    Category::WithdrawalDelay,
                    Category::AccountSecurity,
                    Category::DepositMissing,
                    Category::KycVerification,
                ]);
                let channel = if self.rng.chance(0.6) {
                    Channel::Phone
                } else {
                    Channel::Email
                };
                (OpenedBy::Agent(agent), category, channel)
            };
            let topic = match (opened_by, category) {
                (OpenedBy::Customer, Category::LoginIssue) if self.rng.chance(0.2) => {
                    Some(BenignTopic::TwoFactorHelp)
                }
                (OpenedBy::Customer, Category::AccountSecurity) => {
                    match self.rng.weighted(&[20, 10, 70]) {
                        0 => Some(BenignTopic::ScamCheck),
                        1 => Some(BenignTopic::MoveFundsQuestion),
                        _ => None,
                    }
                }
                (OpenedBy::Customer, Category::ApiQuestion) if self.rng.chance(0.25) => {
                    Some(BenignTopic::ApiWithdrawHelp)
                }
                _ => None,
            };
            specs.push(TicketSpec {
                customer,
                open,
                category,
                channel,
                opened_by,
                topic,
            });
        }
        // Play them out in opening order, so ticket and conversation ids grow
        // with time as in a real ticketing system.
        specs.sort_by_key(|s| s.open);
        for spec in &specs {
            self.ticket_flow(spec);
        }
    }

    /// The team a ticket goes to.
    fn route(&mut self, spec: &TicketSpec) -> usize {
        let tier = self.world.customers[spec.customer as usize].tier;
        if spec.category == Category::KycVerification {
            return KYC_REVIEW;
        }
        if tier != Tier::Retail && self.rng.chance(0.8) {
            return VIP_DESK;
        }
        let front = match spec.channel {
            Channel::Chat | Channel::Sms => T1_CHAT,
            Channel::Email => T1_EMAIL,
            Channel::Phone => T1_PHONE,
        };
        match spec.category {
            Category::WithdrawalDelay
            | Category::DepositMissing
            | Category::CardPayment
            | Category::StatementRequest
            | Category::P2pDispute
                if self.rng.chance(0.4) =>
            {
                T2_PAYMENTS
            }
            Category::AccountSecurity if self.rng.chance(0.5) => T2_SECURITY,
            Category::ApiQuestion if self.rng.chance(0.3) => T2_SECURITY,
            _ => front,
        }
    }

    /// Plays out a ticket: opened, assigned, the agent reading what the
    /// category needs, the conversation, closed.
    pub(crate) fn ticket_flow(&mut self, spec: &TicketSpec) {
        let def = category_def(spec.category);
        let team = self.route(spec);
        self.ids.ticket += 1;
        let tref = TicketRef {
            ticket: self.ids.ticket,
            customer: spec.customer,
            channel: spec.channel,
            category: def.name,
            opened_by: spec.opened_by.as_str(),
        };
        if !self.push_ticket(&tref, spec.open, None, "opened", Tag::None) {
            return;
        }
        let (agent, assign) = match spec.opened_by {
            OpenedBy::Agent(agent) => (Some(agent), spec.open + self.rng.range(1, 5)),
            _ => {
                let wait = match (team, spec.channel) {
                    (KYC_REVIEW, _) => self.rng.range(1_800, 21_600),
                    (_, Channel::Chat | Channel::Sms) => self.rng.range(30, 600),
                    (_, Channel::Phone) => self.rng.range(5, 120),
                    (_, Channel::Email) => self.rng.range(600, 14_400),
                };
                let assign = spec.open + wait;
                (
                    self.agent_on_shift(team, assign, &[T1_CHAT, T1_EMAIL, T1_PHONE]),
                    assign,
                )
            }
        };
        let Some(agent) = agent else {
            return;
        };
        if !self.push_ticket(&tref, assign, Some(agent), "assigned", Tag::None) {
            return;
        }
        let customer = &self.world.customers[spec.customer as usize];
        let lang = customer.lang();
        let name = self.world.first_name(customer);
        let asset =
            crate::tables::ASSETS[customer.asset_list().first().copied().unwrap_or(0)].symbol;
        let ticket_label = format!("t-{}", tref.ticket);
        let vars = Vars {
            name,
            asset,
            ticket: &ticket_label,
            ..Vars::default()
        };
        let conversation = self.new_conversation();
        let conv_tag = match spec.topic {
            Some(topic) => {
                let customer_id = self.world.customers[spec.customer as usize].id();
                let conv_id = format!("conv-{conversation}");
                Tag::Benign(self.add_benign(Benign::HardBenignConversation(
                    HardBenignConversation {
                        entity: Entity::conversation(&conv_id),
                        conversation_id: conv_id,
                        customer_id,
                        topic: topic.as_str().to_owned(),
                        event_ids: Vec::new(),
                    },
                )))
            }
            None => Tag::None,
        };
        let msg = |g: &mut Gen, ts: i64, from_agent: bool, text: &str| {
            g.push_message(
                &Message {
                    ts,
                    conversation,
                    channel: spec.channel,
                    inbound: from_agent,
                    sender_role: if from_agent { "agent" } else { "customer" },
                    customer: spec.customer,
                    text,
                    agent: from_agent.then_some(agent),
                    ticket: Some(tref.ticket),
                },
                conv_tag,
            );
        };
        let mut last = assign;
        if spec.opened_by == OpenedBy::Customer {
            let lines = match spec.topic {
                Some(topic) => topic.customer_lines(lang),
                None => text::customer_opening(spec.category, lang),
            };
            let t = text::fill(self.rng.pick_str(lines), &vars);
            let ts = spec.open + self.rng.range(0, 3);
            msg(self, ts, false, &t);
        }
        // The agent reads the record before answering.
        let workday = self.workday_at(agent, assign);
        let (ip, device, _) = self.agent_identity(agent, workday);
        let mut t = assign + self.rng.range(15, 120);
        if self.rng.chance(0.15) {
            let query = self.search_query(spec.customer);
            self.push_access(
                &Access {
                    ts: t,
                    agent,
                    customer: None,
                    ticket: Some(tref.ticket),
                    action: "search",
                    query: Some(&query),
                    fields: &[],
                    ip: &ip,
                    device: &device,
                },
                Tag::None,
            );
            t += self.rng.range(3, 30);
        }
        let mut fields: Vec<&str> = def.fields.to_vec();
        for &extra in def.extra {
            if self.rng.chance(0.3) {
                fields.push(extra);
            }
        }
        let role = self.world.agents[agent].role;
        let action = if spec.category == Category::StatementRequest
            && matches!(role, AgentRole::L2 | AgentRole::Lead)
            && self.rng.chance(0.25)
        {
            "export"
        } else {
            "view"
        };
        self.push_access(
            &Access {
                ts: t,
                agent,
                customer: Some(spec.customer),
                ticket: Some(tref.ticket),
                action,
                query: None,
                fields: &fields,
                ip: &ip,
                device: &device,
            },
            Tag::None,
        );
        if spec.category == Category::KycVerification && self.rng.chance(0.35) {
            t += self.rng.range(20, 120);
            let revealed: &[&str] = if self.rng.chance(0.5) {
                &[field::NATIONAL_ID]
            } else {
                &[field::ID_DOCUMENT]
            };
            self.push_access(
                &Access {
                    ts: t,
                    agent,
                    customer: Some(spec.customer),
                    ticket: Some(tref.ticket),
                    action: "reveal",
                    query: None,
                    fields: revealed,
                    ip: &ip,
                    device: &device,
                },
                Tag::None,
            );
        }
        last = last.max(t);
        // The conversation.
        let first_reply = match (spec.opened_by, spec.topic) {
            (OpenedBy::System, _) => text::system_ticket_notice(spec.category),
            (OpenedBy::Agent(_), _) => text::agent_callback(lang),
            (_, Some(topic)) => topic.agent_lines(lang),
            _ => text::agent_reply(spec.category, lang),
        };
        let mut ts = last + self.rng.range(20, 240);
        let reply = text::fill(self.rng.pick_str(first_reply), &vars);
        msg(self, ts, true, &reply);
        let exchanges = match spec.channel {
            Channel::Chat | Channel::Phone | Channel::Sms => self.rng.range(0, 3),
            Channel::Email => self.rng.range(0, 2),
        };
        for _ in 0..exchanges {
            ts += spec.channel.gap(&mut self.rng);
            let line = text::fill(self.rng.pick_str(text::customer_followup(lang)), &vars);
            msg(self, ts, false, &line);
            if self.rng.chance(0.3) {
                ts += self.rng.range(10, 60);
                let n = self.rng.range(1, fields.len().max(1) as i64) as usize;
                let subset: Vec<&str> = fields.iter().copied().take(n).collect();
                self.push_access(
                    &Access {
                        ts,
                        agent,
                        customer: Some(spec.customer),
                        ticket: Some(tref.ticket),
                        action: "view",
                        query: None,
                        fields: &subset,
                        ip: &ip,
                        device: &device,
                    },
                    Tag::None,
                );
            }
            ts += spec.channel.gap(&mut self.rng);
            let line = text::fill(self.rng.pick_str(text::agent_followup(lang)), &vars);
            msg(self, ts, true, &line);
        }
        if self.rng.chance(0.6) {
            ts += spec.channel.gap(&mut self.rng);
            let line = text::fill(self.rng.pick_str(text::agent_closing(lang)), &vars);
            msg(self, ts, true, &line);
        }
        let closed = ts
            + match spec.channel {
                Channel::Chat | Channel::Sms => self.rng.range(60, 900),
                Channel::Email => self.rng.range(600, 7_200),
                Channel::Phone => self.rng.range(30, 300),
            };
        self.push_ticket(&tref, closed, Some(agent), "closed", Tag::None);
        self.recent.push(RecentTicket {
            team,
            customer: spec.customer,
            closed,
        });
    }

    /// What an agent types in the customer search box.
    fn search_query(&mut self, customer: u32) -> String {
        let c = &self.world.customers[customer as usize];
        match self.rng.below(4) {
            0 => c.id(),
            1 => format!(
                "{}.{}@",
                self.world.first_name(c).to_lowercase(),
                self.world.last_name(c).to_lowercase()
            ),
            2 => self.world.last_name(c).to_lowercase(),
            _ => {
                let country = usize::from(c.country);
                let digits = crate::rng::mix(self.world.seed, u64::from(c.num)) % 10_000;
                format!("{} {:04}", crate::tables::COUNTRIES[country].phone, digits)
            }
        }
    }

    // ----- access without a ticket ----------------------------------------

    /// Leads' quality checks and exports, and agents looking up a customer
    /// who called back: legitimate access with `ticket_id` null, recorded
    /// as benign so detectors face realistic noise.
    pub(crate) fn off_ticket_reviews(&mut self, d: u32) {
        let day = i64::from(d);
        for a in 0..self.world.agents.len() {
            if !self.works(a, day) {
                continue;
            }
            let lead = self.world.agents[a].role == AgentRole::Lead;
            let n = if lead {
                self.rng.range(3, 12)
            } else if self.rng.chance(0.04) {
                self.rng.range(1, 2)
            } else {
                continue;
            };
            let team = self.world.agents[a].team;
            let (s, e) = self.world.agents[a].shift();
            let len = (i64::from(e) - i64::from(s)).rem_euclid(24) * 3600;
            let shift_start = self.day_start + i64::from(s) * 3600;
            let (ip, device, _) = self.agent_identity(a, day);
            let agent_id = self.world.agents[a].id();
            let mut truth: Option<u32> = None;
            for _ in 0..n {
                let ts = shift_start + self.rng.range(600, len.max(1_200) - 600);
                if ts >= self.run_end {
                    continue;
                }
                // A ticket of the same team closed before now (a few tries).
                let mut customer = None;
                for _ in 0..6 {
                    if self.recent.is_empty() {
                        break;
                    }
                    let r = &self.recent[self.rng.index(self.recent.len())];
                    if (r.team == team || (lead && self.rng.chance(0.2))) && r.closed < ts {
                        customer = Some(r.customer);
                        break;
                    }
                }
                let Some(customer) = customer else {
                    continue;
                };
                let export = lead && self.rng.chance(0.03);
                let fields: Vec<&str> = if export {
                    vec![field::NAME, field::TRANSACTIONS]
                } else if lead {
                    let k = self.rng.range(3, REVIEW_FIELDS.len() as i64) as usize;
                    REVIEW_FIELDS[..k].to_vec()
                } else {
                    vec![field::NAME, field::EMAIL]
                };
                let index = match truth {
                    Some(i) => i,
                    None => {
                        let i = self.add_benign(Benign::OffTicketAccess(OffTicketAccess {
                            entity: Entity::agent(&agent_id),
                            agent_id: agent_id.clone(),
                            reason: if lead { "quality_check" } else { "callback" }.to_owned(),
                            date: date(self.day_start),
                            event_ids: Vec::new(),
                        }));
                        truth = Some(i);
                        i
                    }
                };
                self.push_access(
                    &Access {
                        ts,
                        agent: a,
                        customer: Some(customer),
                        ticket: None,
                        action: if export { "export" } else { "view" },
                        query: None,
                        fields: &fields,
                        ip: &ip,
                        device: &device,
                    },
                    Tag::Benign(index),
                );
            }
        }
    }
}
