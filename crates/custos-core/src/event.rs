//! The contract's events as typed Rust (`shared/contract/events.md`, v1).
//!
//! An [`Event`] is what the rest of custos sees: ids are newtypes, times are
//! [`EventTime`], closed vocabularies are enums. Parsing from JSON lives in
//! [`crate::parse`]; serialising back writes the contract's wire shape, so
//! `parse(serialise(e)) == e` (a property test holds us to it).

use crate::alert::{Entity, ResponseAction};
use crate::id::{AgentId, ConversationId, CustomerId, EventId, ReportId, TicketId};
use crate::time::EventTime;
use serde::Serialize;
use serde::ser::SerializeMap;

/// Declares a closed vocabulary of the contract: an enum whose wire names are
/// listed once and used for parsing, printing and error messages alike.
macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const WIRE_NAMES: &'static [&'static str] = &[$($wire),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text { $($wire => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&text).ok_or_else(|| {
                    serde::de::Error::unknown_variant(&text, $name::WIRE_NAMES)
                })
            }
        }
    };
}
pub(crate) use vocabulary;

vocabulary!(
    /// A customer's tier.
    Tier { Retail => "retail", Vip => "vip", Institutional => "institutional" }
);
vocabulary!(
    /// Where a ticket is in its life.
    TicketStatus { Opened => "opened", Assigned => "assigned", Closed => "closed" }
);
vocabulary!(
    /// Who opened a ticket. A ticket an agent opened with no customer contact
    /// is a classic cover for a lookup.
    OpenedBy { Customer => "customer", Agent => "agent", System => "system" }
);
vocabulary!(
    /// A contact channel.
    Channel { Chat => "chat", Phone => "phone", Sms => "sms", Email => "email", Social => "social" }
);
vocabulary!(
    /// What an agent did with customer data.
    AccessAction { View => "view", Search => "search", Reveal => "reveal", Export => "export" }
);
vocabulary!(
    /// A class of customer data an agent can see.
    FieldClass {
        Name => "name",
        Email => "email",
        Phone => "phone",
        Address => "address",
        Dob => "dob",
        Balance => "balance",
        Transactions => "transactions",
        IdDocument => "id_document",
        NationalId => "national_id",
        BankAccount => "bank_account",
        ApiKeys => "api_keys",
        SecuritySettings => "security_settings",
    }
);
vocabulary!(
    /// What a customer did to their account.
    CustomerActionKind {
        Login => "login",
        Withdrawal => "withdrawal",
        AddressAdd => "address_add",
        ApiKeyCreate => "api_key_create",
        ApiKeyUpdate => "api_key_update",
        ApiKeyDelete => "api_key_delete",
        SecurityChange => "security_change",
        Freeze => "freeze",
        Unfreeze => "unfreeze",
    }
);
vocabulary!(
    /// The security setting a `security_change` touched.
    SecuritySetting {
        Email => "email",
        Phone => "phone",
        Password => "password",
        TwoFactorDisable => "2fa_disable",
        TwoFactorReset => "2fa_reset",
        AntiPhishingCode => "anti_phishing_code",
    }
);
vocabulary!(
    /// A message's direction, seen from the customer.
    Direction { Inbound => "inbound", Outbound => "outbound" }
);
vocabulary!(
    /// Who sent a message.
    SenderRole { Customer => "customer", Agent => "agent", Unknown => "unknown" }
);

impl FieldClass {
    /// Field classes whose leak enables targeted fraud or identity theft.
    pub fn is_sensitive(self) -> bool {
        matches!(
            self,
            FieldClass::IdDocument
                | FieldClass::NationalId
                | FieldClass::BankAccount
                | FieldClass::Address
                | FieldClass::Phone
        )
    }
}

/// One event of the contract.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub id: EventId,
    pub ts: EventTime,
    pub body: EventBody,
}

/// What an event says, by `type`.
#[derive(Clone, Debug, PartialEq)]
pub enum EventBody {
    Agent(AgentRecord),
    Customer(CustomerRecord),
    Ticket(Ticket),
    AgentSession(AgentSession),
    AgentAccess(AgentAccess),
    CustomerAction(CustomerAction),
    Message(Message),
    ScamReport(ScamReport),
    /// An analyst lifts a countermeasure (custos extension of the contract).
    CountermeasureRelease(CountermeasureRelease),
    /// An account protection command (freeze, settings lock, allow-list,
    /// ...) issued through the API (custos extension of the contract).
    ProtectionCommand(ProtectionCommand),
    /// A `type` this version does not know: counted and reported, never fatal.
    Unknown {
        type_name: String,
    },
}

impl EventBody {
    /// The contract's `type` string.
    pub fn type_name(&self) -> &str {
        match self {
            EventBody::Agent(_) => "agent",
            EventBody::Customer(_) => "customer",
            EventBody::Ticket(_) => "ticket",
            EventBody::AgentSession(_) => "agent_session",
            EventBody::AgentAccess(_) => "agent_access",
            EventBody::CustomerAction(_) => "customer_action",
            EventBody::Message(_) => "message",
            EventBody::ScamReport(_) => "scam_report",
            EventBody::CountermeasureRelease(_) => "countermeasure_release",
            EventBody::ProtectionCommand(_) => "protection_command",
            EventBody::Unknown { type_name } => type_name,
        }
    }
}

/// The types this version of the contract knows.
pub const KNOWN_TYPES: &[&str] = &[
    "agent",
    "customer",
    "ticket",
    "agent_session",
    "agent_access",
    "customer_action",
    "message",
    "scam_report",
    "countermeasure_release",
    "protection_command",
];

/// A shift in UTC hours; `end_hour` may be smaller than `start_hour` (overnight).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    pub start_hour: u8,
    pub end_hour: u8,
}

impl Shift {
    /// Whether `hour` (0..=23, UTC) falls inside the shift.
    pub fn contains_hour(self, hour: u8) -> bool {
        if self.start_hour == self.end_hour {
            return true;
        }
        if self.start_hour < self.end_hour {
            (self.start_hour..self.end_hour).contains(&hour)
        } else {
            hour >= self.start_hour || hour < self.end_hour
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct AgentRecord {
    pub agent_id: AgentId,
    pub team: String,
    pub role: String,
    pub site: Option<String>,
    pub shift: Option<Shift>,
    pub hired_at: Option<EventTime>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CustomerRecord {
    pub customer_id: CustomerId,
    pub tier: Tier,
    pub balance_usd: Option<f64>,
    pub country: Option<String>,
    pub created_at: Option<EventTime>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ticket {
    pub ticket_id: TicketId,
    pub customer_id: Option<CustomerId>,
    pub agent_id: Option<AgentId>,
    pub status: TicketStatus,
    pub channel: Option<Channel>,
    pub category: Option<String>,
    pub opened_by: Option<OpenedBy>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AgentSession {
    pub agent_id: AgentId,
    /// `login`, `logout`, ...: an open vocabulary.
    pub kind: String,
    pub ip: Option<String>,
    pub device_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AgentAccess {
    pub agent_id: AgentId,
    pub customer_id: Option<CustomerId>,
    pub ticket_id: Option<TicketId>,
    pub action: AccessAction,
    pub fields: Vec<FieldClass>,
    pub query: Option<String>,
    pub ip: Option<String>,
    pub device_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Geo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct ApiKeySpec {
    pub key_id: String,
    #[serde(default)]
    pub permissions: Vec<String>,
    #[serde(default)]
    pub ip_whitelist: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CustomerAction {
    pub customer_id: CustomerId,
    pub action: CustomerActionKind,
    pub ip: Option<String>,
    pub device_id: Option<String>,
    pub geo: Option<Geo>,
    pub amount_usd: Option<f64>,
    pub asset: Option<String>,
    pub destination: Option<String>,
    pub api_key: Option<ApiKeySpec>,
    pub setting: Option<SecuritySetting>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub conversation_id: ConversationId,
    pub channel: Option<Channel>,
    pub direction: Option<Direction>,
    pub sender_role: Option<SenderRole>,
    pub customer_id: Option<CustomerId>,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScamReport {
    pub report_id: ReportId,
    pub customer_id: Option<CustomerId>,
    pub channel: Option<Channel>,
    pub contact: Option<String>,
    pub text: Option<String>,
    pub loss_usd: Option<f64>,
}

/// An analyst's release of a countermeasure custos applied. An extension of
/// the v1 contract (a new `type`): it travels through the event log like any
/// event, so the release is durable, ordered in event time and replayable.
/// `POST /v1/events` accepts it only from a token with the `admin` scope.
#[derive(Clone, Debug, PartialEq)]
pub struct CountermeasureRelease {
    pub entity: Entity,
    pub action: ResponseAction,
    /// Who released it (an analyst's id).
    pub released_by: String,
    /// Why, for the record (e.g. `benign: QA review`).
    pub reason: String,
}

/// An account protection command. The command and who issued it are kept
/// as JSON: their vocabulary belongs to the detector that applies them
/// (`action_risk`), which validates them.
#[derive(Clone, Debug, PartialEq)]
pub struct ProtectionCommand {
    pub customer_id: CustomerId,
    /// `{"kind": "customer", "factor": ...}`, `{"kind": "support", ...}`.
    pub actor: serde_json::Value,
    /// `{"command": "freeze"}`, `{"command": "allow_list_add", ...}`.
    pub protection: serde_json::Value,
}

/// Writes a map entry, skipping `None`.
fn opt<M: SerializeMap, T: Serialize>(
    map: &mut M,
    key: &str,
    value: &Option<T>,
) -> Result<(), M::Error> {
    match value {
        Some(v) => map.serialize_entry(key, v),
        None => Ok(()),
    }
}

impl Serialize for Event {
    /// The contract's wire shape: `type`, `ts`, `id`, then the type's fields.
    /// Nullable references the contract writes as `null` (ticket and access
    /// ids) are written as `null`; other absent optionals are omitted.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("type", self.body.type_name())?;
        m.serialize_entry("ts", &self.ts)?;
        m.serialize_entry("id", &self.id)?;
        match &self.body {
            EventBody::Agent(a) => {
                m.serialize_entry("agent_id", &a.agent_id)?;
                m.serialize_entry("team", &a.team)?;
                m.serialize_entry("role", &a.role)?;
                opt(&mut m, "site", &a.site)?;
                opt(&mut m, "shift", &a.shift)?;
                opt(&mut m, "hired_at", &a.hired_at)?;
            }
            EventBody::Customer(c) => {
                m.serialize_entry("customer_id", &c.customer_id)?;
                m.serialize_entry("tier", &c.tier)?;
                opt(&mut m, "balance_usd", &c.balance_usd)?;
                opt(&mut m, "country", &c.country)?;
                opt(&mut m, "created_at", &c.created_at)?;
            }
            EventBody::Ticket(t) => {
                m.serialize_entry("ticket_id", &t.ticket_id)?;
                m.serialize_entry("customer_id", &t.customer_id)?;
                m.serialize_entry("agent_id", &t.agent_id)?;
                m.serialize_entry("status", &t.status)?;
                opt(&mut m, "channel", &t.channel)?;
                opt(&mut m, "category", &t.category)?;
                opt(&mut m, "opened_by", &t.opened_by)?;
            }
            EventBody::AgentSession(x) => {
                m.serialize_entry("agent_id", &x.agent_id)?;
                m.serialize_entry("kind", &x.kind)?;
                opt(&mut m, "ip", &x.ip)?;
                opt(&mut m, "device_id", &x.device_id)?;
            }
            EventBody::AgentAccess(x) => {
                m.serialize_entry("agent_id", &x.agent_id)?;
                m.serialize_entry("customer_id", &x.customer_id)?;
                m.serialize_entry("ticket_id", &x.ticket_id)?;
                m.serialize_entry("action", &x.action)?;
                opt(&mut m, "query", &x.query)?;
                m.serialize_entry("fields", &x.fields)?;
                opt(&mut m, "ip", &x.ip)?;
                opt(&mut m, "device_id", &x.device_id)?;
            }
            EventBody::CustomerAction(x) => {
                m.serialize_entry("customer_id", &x.customer_id)?;
                m.serialize_entry("action", &x.action)?;
                opt(&mut m, "setting", &x.setting)?;
                opt(&mut m, "ip", &x.ip)?;
                opt(&mut m, "device_id", &x.device_id)?;
                opt(&mut m, "geo", &x.geo)?;
                opt(&mut m, "amount_usd", &x.amount_usd)?;
                opt(&mut m, "asset", &x.asset)?;
                opt(&mut m, "destination", &x.destination)?;
                opt(&mut m, "api_key", &x.api_key)?;
            }
            EventBody::Message(x) => {
                m.serialize_entry("conversation_id", &x.conversation_id)?;
                opt(&mut m, "channel", &x.channel)?;
                opt(&mut m, "direction", &x.direction)?;
                opt(&mut m, "sender_role", &x.sender_role)?;
                opt(&mut m, "customer_id", &x.customer_id)?;
                m.serialize_entry("text", &x.text)?;
            }
            EventBody::ScamReport(x) => {
                m.serialize_entry("report_id", &x.report_id)?;
                opt(&mut m, "customer_id", &x.customer_id)?;
                opt(&mut m, "channel", &x.channel)?;
                opt(&mut m, "contact", &x.contact)?;
                opt(&mut m, "text", &x.text)?;
                opt(&mut m, "loss_usd", &x.loss_usd)?;
            }
            EventBody::CountermeasureRelease(x) => {
                m.serialize_entry("entity", &x.entity)?;
                m.serialize_entry("action", &x.action)?;
                m.serialize_entry("released_by", &x.released_by)?;
                m.serialize_entry("reason", &x.reason)?;
            }
            EventBody::ProtectionCommand(x) => {
                m.serialize_entry("customer_id", &x.customer_id)?;
                m.serialize_entry("actor", &x.actor)?;
                m.serialize_entry("protection", &x.protection)?;
            }
            EventBody::Unknown { .. } => {}
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overnight_shift() {
        let night = Shift {
            start_hour: 22,
            end_hour: 6,
        };
        assert!(night.contains_hour(23) && night.contains_hour(0) && night.contains_hour(5));
        assert!(!night.contains_hour(6) && !night.contains_hour(12));
        let day = Shift {
            start_hour: 3,
            end_hour: 12,
        };
        assert!(day.contains_hour(3) && day.contains_hour(11));
        assert!(!day.contains_hour(12) && !day.contains_hour(2));
    }

    #[test]
    fn vocabularies_round_trip() {
        for f in FieldClass::ALL {
            assert_eq!(FieldClass::parse(f.as_str()), Some(*f));
        }
        assert_eq!(
            SecuritySetting::parse("2fa_reset"),
            Some(SecuritySetting::TwoFactorReset)
        );
        assert_eq!(Tier::parse("gold"), None);
    }
}
