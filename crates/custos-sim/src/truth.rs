//! Ground truth of a run (`truth.json`): every injected attack with the ids
//! of the events a detector should flag, and every benign look-alike so that
//! evaluations can count false positives. The schema is documented in the
//! crate README.

use serde::{Deserialize, Serialize};

/// Version of the `truth.json` schema.
pub const TRUTH_VERSION: u32 = 1;

/// The whole ground truth of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    pub version: u32,
    pub seed: u64,
    pub days: u32,
    /// First instant of the run (RFC 3339).
    pub start: String,
    /// First instant after the run (RFC 3339); no event is at or after it.
    pub end: String,
    /// Number of events written.
    pub events: u64,
    pub attacks: Vec<Attack>,
    pub benign: Vec<Benign>,
}

/// What an alert about this truth entry would name (`entity` of the alert
/// contract).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    pub kind: EntityKind,
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Agent,
    Customer,
    Conversation,
}

impl Entity {
    pub(crate) fn agent(id: &str) -> Entity {
        Entity {
            kind: EntityKind::Agent,
            id: id.to_owned(),
        }
    }
    pub(crate) fn customer(id: &str) -> Entity {
        Entity {
            kind: EntityKind::Customer,
            id: id.to_owned(),
        }
    }
    pub(crate) fn conversation(id: &str) -> Entity {
        Entity {
            kind: EntityKind::Conversation,
            id: id.to_owned(),
        }
    }
}

/// One injected attack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Attack {
    InsiderHarvest(InsiderHarvest),
    FakeSupportCall(FakeSupportCall),
    AccountTakeover(AccountTakeover),
    NewAddressWithdrawal(NewAddressWithdrawal),
}

impl Attack {
    pub fn attack_id(&self) -> &str {
        match self {
            Attack::InsiderHarvest(a) => &a.attack_id,
            Attack::FakeSupportCall(a) => &a.attack_id,
            Attack::AccountTakeover(a) => &a.attack_id,
            Attack::NewAddressWithdrawal(a) => &a.attack_id,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Attack::InsiderHarvest(_) => "insider_harvest",
            Attack::FakeSupportCall(_) => "fake_support_call",
            Attack::AccountTakeover(_) => "account_takeover",
            Attack::NewAddressWithdrawal(_) => "new_address_withdrawal",
        }
    }

    pub fn entity(&self) -> &Entity {
        match self {
            Attack::InsiderHarvest(a) => &a.entity,
            Attack::FakeSupportCall(a) => &a.entity,
            Attack::AccountTakeover(a) => &a.entity,
            Attack::NewAddressWithdrawal(a) => &a.entity,
        }
    }

    /// Ids of the events a detector should flag, in event-time order.
    pub fn event_ids(&self) -> &[String] {
        match self {
            Attack::InsiderHarvest(a) => &a.event_ids,
            Attack::FakeSupportCall(a) => &a.event_ids,
            Attack::AccountTakeover(a) => &a.event_ids,
            Attack::NewAddressWithdrawal(a) => &a.event_ids,
        }
    }

    pub fn start_ts(&self) -> &str {
        match self {
            Attack::InsiderHarvest(a) => &a.start_ts,
            Attack::FakeSupportCall(a) => &a.start_ts,
            Attack::AccountTakeover(a) => &a.start_ts,
            Attack::NewAddressWithdrawal(a) => &a.start_ts,
        }
    }

    pub(crate) fn event_ids_mut(&mut self) -> &mut Vec<String> {
        match self {
            Attack::InsiderHarvest(a) => &mut a.event_ids,
            Attack::FakeSupportCall(a) => &mut a.event_ids,
            Attack::AccountTakeover(a) => &mut a.event_ids,
            Attack::NewAddressWithdrawal(a) => &mut a.event_ids,
        }
    }
}

/// `insider_harvest`: a bribed agent reading customer records off-ticket (or
/// on tickets they opened themselves).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsiderHarvest {
    pub attack_id: String,
    pub entity: Entity,
    pub agent_id: String,
    /// `slow` (a few a day inside normal work), `burst` (hundreds in one
    /// night outside the shift), `pretext` (every record on a ticket the
    /// agent opened for themselves), `ring` (one of three agents on
    /// different teams, a few a day each) or `off_hours` (a few dozen
    /// outside the shift from a new device).
    pub style: String,
    pub start_ts: String,
    pub end_ts: String,
    /// Every malicious `agent_access` event.
    pub event_ids: Vec<String>,
    /// Customers whose records were read, first read first.
    pub victim_customer_ids: Vec<String>,
    /// Supporting events that are part of the attack but are not accesses:
    /// the pretext tickets the agent opened, the night session's login and
    /// logout.
    pub context_event_ids: Vec<String>,
}

/// `fake_support_call`: someone posing as exchange security calls or texts
/// a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FakeSupportCall {
    pub attack_id: String,
    pub entity: Entity,
    pub conversation_id: String,
    pub customer_id: String,
    pub channel: String,
    /// `2fa_code`, `api_key`, `safe_wallet` or `remote_access`.
    pub scenario: String,
    /// The caller's number, as the victim would report it.
    pub contact: String,
    /// `insider_harvest` (the victim's record was harvested) or
    /// `external_leak` (the data came from elsewhere).
    pub source: String,
    /// The harvest the victim's data came from, when `source` is
    /// `insider_harvest`.
    pub harvest_attack_id: Option<String>,
    pub complied: bool,
    pub start_ts: String,
    /// Every message the caller sent.
    pub event_ids: Vec<String>,
    /// The caller's messages that ask the victim to do something harmful.
    pub inducement_event_ids: Vec<String>,
    /// The victim's own messages complying.
    pub compliance_event_ids: Vec<String>,
    /// The `report_id` of the victim's scam report, if they reported within
    /// the run.
    pub report_id: Option<String>,
    pub report_event_id: Option<String>,
    /// The account takeover that followed, if the victim complied.
    pub takeover_attack_id: Option<String>,
    pub loss_usd: f64,
}

/// `account_takeover`: what follows a successful call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountTakeover {
    pub attack_id: String,
    pub entity: Entity,
    pub customer_id: String,
    pub call_attack_id: String,
    pub scenario: String,
    pub start_ts: String,
    /// The malicious `customer_action` events, in event-time order.
    pub event_ids: Vec<String>,
    /// The first action an action gate should stop: the first one that
    /// changes security or moves money (a login alone is not it).
    pub first_to_stop_event_id: Option<String>,
    pub loss_usd: f64,
}

/// `new_address_withdrawal`: a withdrawal to a fresh address from a new
/// device, without the rest of a takeover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAddressWithdrawal {
    pub attack_id: String,
    pub entity: Entity,
    pub customer_id: String,
    pub start_ts: String,
    /// The new-device login (when there was one) and the withdrawal.
    pub event_ids: Vec<String>,
    /// The withdrawal.
    pub first_to_stop_event_id: Option<String>,
    pub amount_usd: f64,
    pub destination: String,
}

/// One benign look-alike or noise episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Benign {
    QueueSpike(QueueSpike),
    NewHire(NewHire),
    TeamMove(TeamMove),
    Overtime(Overtime),
    AgentNewDevice(AgentEpisode),
    OffTicketAccess(OffTicketAccess),
    Traveler(Traveler),
    WithdrawApiKey(WithdrawApiKey),
    NewDeviceWithdrawal(CustomerEpisode),
    HardBenignConversation(HardBenignConversation),
    UnrelatedScamReport(UnrelatedScamReport),
}

impl Benign {
    pub fn kind(&self) -> &'static str {
        match self {
            Benign::QueueSpike(_) => "queue_spike",
            Benign::NewHire(_) => "new_hire",
            Benign::TeamMove(_) => "team_move",
            Benign::Overtime(_) => "overtime",
            Benign::AgentNewDevice(_) => "agent_new_device",
            Benign::OffTicketAccess(_) => "off_ticket_access",
            Benign::Traveler(_) => "traveler",
            Benign::WithdrawApiKey(_) => "withdraw_api_key",
            Benign::NewDeviceWithdrawal(_) => "new_device_withdrawal",
            Benign::HardBenignConversation(_) => "hard_benign_conversation",
            Benign::UnrelatedScamReport(_) => "unrelated_scam_report",
        }
    }

    /// The entity a false alert would name; `None` for a queue spike.
    pub fn entity(&self) -> Option<&Entity> {
        match self {
            Benign::QueueSpike(_) => None,
            Benign::NewHire(b) => Some(&b.entity),
            Benign::TeamMove(b) => Some(&b.entity),
            Benign::Overtime(b) => Some(&b.entity),
            Benign::AgentNewDevice(b) => Some(&b.entity),
            Benign::OffTicketAccess(b) => Some(&b.entity),
            Benign::Traveler(b) => Some(&b.entity),
            Benign::WithdrawApiKey(b) => Some(&b.entity),
            Benign::NewDeviceWithdrawal(b) => Some(&b.entity),
            Benign::HardBenignConversation(b) => Some(&b.entity),
            Benign::UnrelatedScamReport(b) => Some(&b.entity),
        }
    }

    /// The events of the episode; an alert citing them is a false positive.
    pub fn event_ids(&self) -> &[String] {
        match self {
            Benign::QueueSpike(_) => &[],
            Benign::NewHire(b) => &b.event_ids,
            Benign::TeamMove(b) => &b.event_ids,
            Benign::Overtime(b) => &b.event_ids,
            Benign::AgentNewDevice(b) => &b.event_ids,
            Benign::OffTicketAccess(b) => &b.event_ids,
            Benign::Traveler(b) => &b.event_ids,
            Benign::WithdrawApiKey(b) => &b.event_ids,
            Benign::NewDeviceWithdrawal(b) => &b.event_ids,
            Benign::HardBenignConversation(b) => &b.event_ids,
            Benign::UnrelatedScamReport(b) => &b.event_ids,
        }
    }

    pub(crate) fn event_ids_mut(&mut self) -> Option<&mut Vec<String>> {
        match self {
            Benign::QueueSpike(_) => None,
            Benign::NewHire(b) => Some(&mut b.event_ids),
            Benign::TeamMove(b) => Some(&mut b.event_ids),
            Benign::Overtime(b) => Some(&mut b.event_ids),
            Benign::AgentNewDevice(b) => Some(&mut b.event_ids),
            Benign::OffTicketAccess(b) => Some(&mut b.event_ids),
            Benign::Traveler(b) => Some(&mut b.event_ids),
            Benign::WithdrawApiKey(b) => Some(&mut b.event_ids),
            Benign::NewDeviceWithdrawal(b) => Some(&mut b.event_ids),
            Benign::HardBenignConversation(b) => Some(&mut b.event_ids),
            Benign::UnrelatedScamReport(b) => Some(&mut b.event_ids),
        }
    }
}

/// A day with several times the usual ticket volume for everyone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueSpike {
    pub date: String,
    pub start_ts: String,
    pub end_ts: String,
    pub factor: f64,
}

/// An agent hired during the run: their `agent` record appears at `hired_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewHire {
    pub entity: Entity,
    pub agent_id: String,
    pub team: String,
    pub hired_at: String,
    /// The `agent` record.
    pub event_ids: Vec<String>,
}

/// A transfer: a second `agent` record with a new team and site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamMove {
    pub entity: Entity,
    pub agent_id: String,
    pub ts: String,
    pub from_team: String,
    pub to_team: String,
    pub from_site: String,
    pub to_site: String,
    /// Both `agent` records, old then new.
    pub event_ids: Vec<String>,
}

/// An agent staying about an hour past the end of the shift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overtime {
    pub entity: Entity,
    pub agent_id: String,
    pub date: String,
    pub shift_end_ts: String,
    /// The late logout.
    pub event_ids: Vec<String>,
}

/// An agent's episode identified by its events only (a session from a new
/// device).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentEpisode {
    pub entity: Entity,
    pub agent_id: String,
    pub start_ts: String,
    pub event_ids: Vec<String>,
}

/// Legitimate access without a ticket: a lead's quality checks and exports,
/// an agent looking up a customer who called back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OffTicketAccess {
    pub entity: Entity,
    pub agent_id: String,
    /// `quality_check` or `callback`.
    pub reason: String,
    pub date: String,
    pub event_ids: Vec<String>,
}

/// A customer travelling: logins from another country for a few days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Traveler {
    pub entity: Entity,
    pub customer_id: String,
    pub home_country: String,
    pub country: String,
    pub start_ts: String,
    pub end_ts: String,
    /// The logins (and any actions) from abroad.
    pub event_ids: Vec<String>,
}

/// A customer creating an API key with withdraw permission themselves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WithdrawApiKey {
    pub entity: Entity,
    pub customer_id: String,
    pub whitelisted: bool,
    pub event_ids: Vec<String>,
}

/// A customer's own episode identified by its events (a new phone, then a
/// withdrawal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerEpisode {
    pub entity: Entity,
    pub customer_id: String,
    pub start_ts: String,
    pub event_ids: Vec<String>,
}

/// A support conversation that talks about codes, 2FA, API withdraw rights
/// or moving funds, legitimately.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HardBenignConversation {
    pub entity: Entity,
    pub conversation_id: String,
    pub customer_id: String,
    pub topic: String,
    /// Every message of the conversation.
    pub event_ids: Vec<String>,
}

/// A scam report that no insider or fake support call is behind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnrelatedScamReport {
    pub entity: Entity,
    pub customer_id: String,
    pub report_id: String,
    pub event_ids: Vec<String>,
}

/// Where an emitted event's id goes in the truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tag {
    None,
    Attack(u32, AttackRole),
    Benign(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttackRole {
    /// `event_ids` only.
    Flag,
    /// `event_ids` and `first_to_stop_event_id`.
    FirstToStop,
    /// A caller's message asking for something: `event_ids` and
    /// `inducement_event_ids`.
    Inducement,
    /// The victim's complying message.
    Compliance,
    /// The victim's scam report.
    Report,
    /// Supporting events (`context_event_ids`).
    Context,
}

/// Event-time keys of the ids in each list, so lists stay in event-time order
/// although jitter may emit an event after a later one.
#[derive(Default)]
pub(crate) struct TruthOrder {
    attacks: Vec<[Vec<(i64, u64)>; 4]>,
    benign: Vec<Vec<(i64, u64)>>,
}

fn insert_ordered(ids: &mut Vec<String>, keys: &mut Vec<(i64, u64)>, key: (i64, u64), id: &str) {
    let pos = keys.partition_point(|k| *k <= key);
    keys.insert(pos, key);
    ids.insert(pos, id.to_owned());
}

impl Truth {
    /// Records the id of an emitted event where its tag says.
    pub(crate) fn record(&mut self, order: &mut TruthOrder, tag: Tag, id: &str, key: (i64, u64)) {
        match tag {
            Tag::None => {}
            Tag::Attack(index, role) => {
                let index = index as usize;
                let Some(attack) = self.attacks.get_mut(index) else {
                    return;
                };
                if order.attacks.len() <= index {
                    order.attacks.resize_with(index + 1, Default::default);
                }
                let keys = &mut order.attacks[index];
                let flagged = matches!(
                    role,
                    AttackRole::Flag | AttackRole::FirstToStop | AttackRole::Inducement
                );
                if flagged {
                    insert_ordered(attack.event_ids_mut(), &mut keys[0], key, id);
                }
                match (role, attack) {
                    (AttackRole::FirstToStop, Attack::AccountTakeover(a)) => {
                        a.first_to_stop_event_id = Some(id.to_owned());
                    }
                    (AttackRole::FirstToStop, Attack::NewAddressWithdrawal(a)) => {
                        a.first_to_stop_event_id = Some(id.to_owned());
                    }
                    (AttackRole::Inducement, Attack::FakeSupportCall(a)) => {
                        insert_ordered(&mut a.inducement_event_ids, &mut keys[1], key, id);
                    }
                    (AttackRole::Compliance, Attack::FakeSupportCall(a)) => {
                        insert_ordered(&mut a.compliance_event_ids, &mut keys[2], key, id);
                    }
                    (AttackRole::Report, Attack::FakeSupportCall(a)) => {
                        a.report_event_id = Some(id.to_owned());
                    }
                    (AttackRole::Context, Attack::InsiderHarvest(a)) => {
                        insert_ordered(&mut a.context_event_ids, &mut keys[3], key, id);
                    }
                    _ => {}
                }
            }
            Tag::Benign(index) => {
                let index = index as usize;
                let Some(ids) = self.benign.get_mut(index).and_then(Benign::event_ids_mut) else {
                    return;
                };
                if order.benign.len() <= index {
                    order.benign.resize_with(index + 1, Vec::new);
                }
                insert_ordered(ids, &mut order.benign[index], key, id);
            }
        }
    }
}
