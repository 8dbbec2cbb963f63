//! Parsing the contract's wire format: one JSON object into an [`Event`],
//! NDJSON streams line by line, and JSON arrays element by element.
//!
//! A bad object becomes a [`Rejection`] (a JSON pointer to the bad field and
//! a reason) and never stops its neighbours. The fast path is a single
//! borrowing pass of `serde_json` into a flat struct of every known field;
//! only when that fails do we parse again, slower, to find the pointer.

use crate::event::*;
use crate::id::{AgentId, ConversationId, CustomerId, EventId, IdParse, ReportId, TicketId};
use crate::time::EventTime;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
use std::io::BufRead;

/// The longest line or array element accepted, in bytes.
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;

/// Why one JSON object was not accepted: where (an RFC 6901 JSON pointer into
/// the object, empty for the object as a whole) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub pointer: String,
    pub reason: String,
}

impl Rejection {
    pub fn new(pointer: impl Into<String>, reason: impl Into<String>) -> Rejection {
        Rejection {
            pointer: pointer.into(),
            reason: reason.into(),
        }
    }
    fn whole(reason: impl Into<String>) -> Rejection {
        Rejection::new("", reason)
    }
    fn field(name: &str, reason: impl fmt::Display) -> Rejection {
        Rejection::new(format!("/{name}"), format!("`{name}`: {reason}"))
    }
    /// The same rejection seen from a container, e.g. element 3 of an array.
    pub fn nested_in(mut self, prefix: &str) -> Rejection {
        self.pointer.insert_str(0, prefix);
        self
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// A JSON string that borrows from the input when it has no escapes.
struct Str<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Str<'a>, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(Visitor)
    }
}

/// Every field any v1 type has, flat. Strings are typed here (cheap, and the
/// contract never gives a string field two meanings); structured and numeric
/// fields stay raw until the event's type says which ones matter, so an
/// unknown extension field on one type cannot be mistaken for a known field
/// of another.
#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(rename = "type", borrow)]
    type_name: Option<Str<'a>>,
    #[serde(borrow)]
    ts: Option<Str<'a>>,
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    agent_id: Option<Str<'a>>,
    #[serde(borrow)]
    team: Option<Str<'a>>,
    #[serde(borrow)]
    role: Option<Str<'a>>,
    #[serde(borrow)]
    site: Option<Str<'a>>,
    #[serde(borrow)]
    shift: Option<&'a RawValue>,
    #[serde(borrow)]
    hired_at: Option<Str<'a>>,
    #[serde(borrow)]
    customer_id: Option<Str<'a>>,
    #[serde(borrow)]
    tier: Option<Str<'a>>,
    #[serde(borrow)]
    balance_usd: Option<&'a RawValue>,
    #[serde(borrow)]
    country: Option<Str<'a>>,
    #[serde(borrow)]
    created_at: Option<Str<'a>>,
    #[serde(borrow)]
    ticket_id: Option<Str<'a>>,
    #[serde(borrow)]
    status: Option<Str<'a>>,
    #[serde(borrow)]
    channel: Option<Str<'a>>,
    #[serde(borrow)]
    category: Option<Str<'a>>,
    #[serde(borrow)]
    opened_by: Option<Str<'a>>,
    #[serde(borrow)]
    kind: Option<Str<'a>>,
    #[serde(borrow)]
    action: Option<Str<'a>>,
    #[serde(borrow)]
    fields: Option<&'a RawValue>,
    #[serde(borrow)]
    query: Option<Str<'a>>,
    #[serde(borrow)]
    ip: Option<Str<'a>>,
    #[serde(borrow)]
    device_id: Option<Str<'a>>,
    #[serde(borrow)]
    geo: Option<&'a RawValue>,
    #[serde(borrow)]
    amount_usd: Option<&'a RawValue>,
    #[serde(borrow)]
    asset: Option<Str<'a>>,
    #[serde(borrow)]
    destination: Option<Str<'a>>,
    #[serde(borrow)]
    api_key: Option<&'a RawValue>,
    #[serde(borrow)]
    setting: Option<Str<'a>>,
    #[serde(borrow)]
    conversation_id: Option<Str<'a>>,
    #[serde(borrow)]
    direction: Option<Str<'a>>,
    #[serde(borrow)]
    sender_role: Option<Str<'a>>,
    #[serde(borrow)]
    text: Option<Str<'a>>,
    #[serde(borrow)]
    report_id: Option<Str<'a>>,
    #[serde(borrow)]
    contact: Option<Str<'a>>,
    #[serde(borrow)]
    loss_usd: Option<&'a RawValue>,
    #[serde(borrow)]
    entity: Option<&'a RawValue>,
    #[serde(borrow)]
    released_by: Option<Str<'a>>,
    #[serde(borrow)]
    reason: Option<Str<'a>>,
    #[serde(borrow)]
    actor: Option<&'a RawValue>,
    #[serde(borrow)]
    protection: Option<&'a RawValue>,
}

/// A required string field.
fn required<'a>(value: Option<Str<'a>>, name: &str) -> Result<Cow<'a, str>, Rejection> {
    value
        .map(|s| s.0)
        .ok_or_else(|| Rejection::field(name, "missing (or null)"))
}

fn optional(value: Option<Str<'_>>) -> Option<String> {
    value.map(|s| s.0.into_owned())
}

fn id<T>(
    value: Option<Str<'_>>,
    name: &str,
    parse: fn(String) -> Result<T, IdParse>,
) -> Result<T, Rejection> {
    parse(required(value, name)?.into_owned()).map_err(|e| Rejection::field(name, e))
}

fn optional_id<T>(
    value: Option<Str<'_>>,
    name: &str,
    parse: fn(String) -> Result<T, IdParse>,
) -> Result<Option<T>, Rejection> {
    value
        .map(|s| parse(s.0.into_owned()).map_err(|e| Rejection::field(name, e)))
        .transpose()
}

fn word<T>(
    value: Option<Str<'_>>,
    name: &str,
    parse: fn(&str) -> Option<T>,
    names: &[&str],
) -> Result<Option<T>, Rejection> {
    match value {
        None => Ok(None),
        Some(s) => parse(&s.0).map(Some).ok_or_else(|| {
            Rejection::field(
                name,
                format!("unknown value `{}`, expected one of {}", s.0, quoted(names)),
            )
        }),
    }
}

fn required_word<T>(
    value: Option<Str<'_>>,
    name: &str,
    parse: fn(&str) -> Option<T>,
    names: &[&str],
) -> Result<T, Rejection> {
    word(value, name, parse, names)?.ok_or_else(|| Rejection::field(name, "missing (or null)"))
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn time(value: Option<Str<'_>>, name: &str) -> Result<Option<EventTime>, Rejection> {
    value
        .map(|s| EventTime::parse(&s.0).map_err(|e| Rejection::field(name, e)))
        .transpose()
}

/// A structured field, parsed only when the event's type uses it; the
/// pointer reaches inside it (`/geo/lat`).
fn nested<T: serde::de::DeserializeOwned>(
    value: Option<&RawValue>,
    name: &str,
) -> Result<Option<T>, Rejection> {
    let Some(raw) = value else { return Ok(None) };
    if let Ok(parsed) = serde_json::from_str(raw.get()) {
        return Ok(Some(parsed));
    }
    // Slow path, only on failure: parse again to learn where it failed.
    let mut de = serde_json::Deserializer::from_str(raw.get());
    serde_path_to_error::deserialize(&mut de)
        .map(Some)
        .map_err(|e| {
            let pointer = format!("/{name}{}", pointer_of(e.path()));
            let reason = format!(
                "`{}`: {}",
                &pointer[1..].replace('/', "."),
                strip_position(&e.into_inner())
            );
            Rejection::new(pointer, reason)
        })
}

fn money(value: Option<&RawValue>, name: &str) -> Result<Option<f64>, Rejection> {
    let amount: Option<f64> = nested(value, name)?;
    match amount {
        Some(a) if !a.is_finite() || a < 0.0 => Err(Rejection::field(
            name,
            "must be a finite amount, zero or more",
        )),
        other => Ok(other),
    }
}

fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push('/');
                out.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Unknown => {}
        }
    }
    out
}

/// Parses one JSON object. `fallback_id` names the event when it has no
/// `id` (for a file: its 1-based line number).
pub fn parse_event(text: &str, fallback_id: impl FnOnce() -> String) -> Result<Event, Rejection> {
    if !text.trim_start().starts_with('{') {
        return Err(Rejection::whole("expected a JSON object"));
    }
    let raw: Raw<'_> = match serde_json::from_str(text) {
        Ok(raw) => raw,
        Err(first) => return Err(explain(text, first)),
    };
    let type_name = required(raw.type_name, "type")?;
    let ts = time(raw.ts, "ts")?.ok_or_else(|| Rejection::field("ts", "missing (or null)"))?;
    let id = match raw.id {
        Some(s) => EventId::parse(s.0.into_owned()).map_err(|e| Rejection::field("id", e))?,
        None => EventId::parse(fallback_id()).map_err(|e| Rejection::field("id", e))?,
    };
    let body = match &*type_name {
        "agent" => EventBody::Agent(AgentRecord {
            agent_id: id_of(raw.agent_id, "agent_id", AgentId::parse)?,
            team: required(raw.team, "team")?.into_owned(),
            role: required(raw.role, "role")?.into_owned(),
            site: optional(raw.site),
            shift: nested::<Shift>(raw.shift, "shift")?
                .map(|s| {
                    if s.start_hour > 23 || s.end_hour > 23 {
                        Err(Rejection::new("/shift", "`shift`: hours must be 0 to 23"))
                    } else {
                        Ok(s)
                    }
                })
                .transpose()?,
            hired_at: time(raw.hired_at, "hired_at")?,
        }),
        "customer" => EventBody::Customer(CustomerRecord {
            customer_id: id_of(raw.customer_id, "customer_id", CustomerId::parse)?,
            tier: required_word(raw.tier, "tier", Tier::parse, Tier::WIRE_NAMES)?,
            balance_usd: money(raw.balance_usd, "balance_usd")?,
            country: optional(raw.country),
            created_at: time(raw.created_at, "created_at")?,
        }),
        "ticket" => EventBody::Ticket(Ticket {
            ticket_id: id_of(raw.ticket_id, "ticket_id", TicketId::parse)?,
            customer_id: optional_id(raw.customer_id, "customer_id", CustomerId::parse)?,
            agent_id: optional_id(raw.agent_id, "agent_id", AgentId::parse)?,
            status: required_word(
                raw.status,
                "status",
                TicketStatus::parse,
                TicketStatus::WIRE_NAMES,
            )?,
            channel: word(raw.channel, "channel", Channel::parse, Channel::WIRE_NAMES)?,
            category: optional(raw.category),
            opened_by: word(
                raw.opened_by,
                "opened_by",
                OpenedBy::parse,
                OpenedBy::WIRE_NAMES,
            )?,
        }),
        "agent_session" => EventBody::AgentSession(AgentSession {
            agent_id: id_of(raw.agent_id, "agent_id", AgentId::parse)?,
            kind: required(raw.kind, "kind")?.into_owned(),
            ip: optional(raw.ip),
            device_id: optional(raw.device_id),
        }),
        "agent_access" => EventBody::AgentAccess(AgentAccess {
            agent_id: id_of(raw.agent_id, "agent_id", AgentId::parse)?,
            customer_id: optional_id(raw.customer_id, "customer_id", CustomerId::parse)?,
            ticket_id: optional_id(raw.ticket_id, "ticket_id", TicketId::parse)?,
            action: required_word(
                raw.action,
                "action",
                AccessAction::parse,
                AccessAction::WIRE_NAMES,
            )?,
            fields: nested::<Vec<FieldClass>>(raw.fields, "fields")?.unwrap_or_default(),
            query: optional(raw.query),
            ip: optional(raw.ip),
            device_id: optional(raw.device_id),
        }),
        "customer_action" => {
            let action = required_word(
                raw.action,
                "action",
                CustomerActionKind::parse,
                CustomerActionKind::WIRE_NAMES,
            )?;
            let setting = word(
                raw.setting,
                "setting",
                SecuritySetting::parse,
                SecuritySetting::WIRE_NAMES,
            )?;
            if action == CustomerActionKind::SecurityChange && setting.is_none() {
                return Err(Rejection::field(
                    "setting",
                    "missing: a `security_change` names the setting it changed",
                ));
            }
            let geo: Option<Geo> = nested(raw.geo, "geo")?;
            if let Some(g) = &geo {
                if g.lat.is_some_and(|v| !(-90.0..=90.0).contains(&v)) {
                    return Err(Rejection::new(
                        "/geo/lat",
                        "`geo.lat`: must be between -90 and 90",
                    ));
                }
                if g.lon.is_some_and(|v| !(-180.0..=180.0).contains(&v)) {
                    return Err(Rejection::new(
                        "/geo/lon",
                        "`geo.lon`: must be between -180 and 180",
                    ));
                }
            }
            EventBody::CustomerAction(CustomerAction {
                customer_id: id_of(raw.customer_id, "customer_id", CustomerId::parse)?,
                action,
                ip: optional(raw.ip),
                device_id: optional(raw.device_id),
                geo,
                amount_usd: money(raw.amount_usd, "amount_usd")?,
                asset: optional(raw.asset),
                destination: optional(raw.destination),
                api_key: nested(raw.api_key, "api_key")?,
                setting,
            })
        }
        "message" => EventBody::Message(Message {
            conversation_id: id_of(
                raw.conversation_id,
                "conversation_id",
                ConversationId::parse,
            )?,
            channel: word(raw.channel, "channel", Channel::parse, Channel::WIRE_NAMES)?,
            direction: word(
                raw.direction,
                "direction",
                Direction::parse,
                Direction::WIRE_NAMES,
            )?,
            sender_role: word(
                raw.sender_role,
                "sender_role",
                SenderRole::parse,
                SenderRole::WIRE_NAMES,
            )?,
            customer_id: optional_id(raw.customer_id, "customer_id", CustomerId::parse)?,
            text: required(raw.text, "text")?.into_owned(),
        }),
        "scam_report" => EventBody::ScamReport(ScamReport {
            report_id: id_of(raw.report_id, "report_id", ReportId::parse)?,
            customer_id: optional_id(raw.customer_id, "customer_id", CustomerId::parse)?,
            channel: word(raw.channel, "channel", Channel::parse, Channel::WIRE_NAMES)?,
            contact: optional(raw.contact),
            text: optional(raw.text),
            loss_usd: money(raw.loss_usd, "loss_usd")?,
        }),
        "countermeasure_release" => EventBody::CountermeasureRelease(CountermeasureRelease {
            entity: nested::<crate::alert::Entity>(raw.entity, "entity")?
                .ok_or_else(|| Rejection::field("entity", "missing (or null)"))?,
            action: required_word(
                raw.action,
                "action",
                crate::alert::ResponseAction::parse,
                crate::alert::ResponseAction::WIRE_NAMES,
            )?,
            released_by: required(raw.released_by, "released_by")?.into_owned(),
            reason: required(raw.reason, "reason")?.into_owned(),
        }),
        "protection_command" => EventBody::ProtectionCommand(crate::event::ProtectionCommand {
            customer_id: id_of(raw.customer_id, "customer_id", CustomerId::parse)?,
            actor: json_object(raw.actor, "actor")?,
            protection: json_object(raw.protection, "protection")?,
        }),
        _ => EventBody::Unknown {
            type_name: type_name.into_owned(),
        },
    };
    Ok(Event { id, ts, body })
}

/// A required JSON object, kept as a value.
fn json_object(value: Option<&RawValue>, name: &str) -> Result<serde_json::Value, Rejection> {
    let raw = value.ok_or_else(|| Rejection::field(name, "missing (or null)"))?;
    match serde_json::from_str::<serde_json::Value>(raw.get()) {
        Ok(v @ serde_json::Value::Object(_)) => Ok(v),
        _ => Err(Rejection::field(name, "must be a JSON object")),
    }
}

fn id_of<T>(
    value: Option<Str<'_>>,
    name: &str,
    parse: fn(String) -> Result<T, IdParse>,
) -> Result<T, Rejection> {
    id(value, name, parse)
}

/// Turns a failed fast parse into a rejection that points at the field.
fn explain(text: &str, first: serde_json::Error) -> Rejection {
    if first.is_syntax() || first.is_eof() {
        return Rejection::whole(format!("malformed JSON: {}", strip_position(&first)));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, Raw<'_>>(&mut de) {
        Err(e) => {
            let pointer = pointer_of(e.path());
            let inner = e.into_inner();
            if pointer.is_empty() {
                Rejection::whole(strip_position(&inner))
            } else {
                let reason = format!(
                    "`{}`: {}",
                    pointer[1..].replace('/', "."),
                    strip_position(&inner)
                );
                Rejection::new(pointer, reason)
            }
        }
        // Cannot happen (the same input failed a moment ago); stay useful anyway.
        Ok(_) => Rejection::whole(strip_position(&first)),
    }
}

/// serde_json appends "at line 1 column 37"; within one NDJSON line only the
/// column is useful, and the caller adds the line.
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) if e.is_syntax() || e.is_eof() => {
            format!("{} (column {})", &text[..at], e.column())
        }
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// One line's outcome in an NDJSON stream.
#[derive(Debug)]
pub struct Line {
    /// 1-based line number.
    pub number: u64,
    pub result: Result<Event, Rejection>,
}

/// Reads NDJSON lazily (constant memory), one [`Line`] per non-blank line.
pub struct NdjsonReader<R> {
    reader: R,
    number: u64,
    buf: Vec<u8>,
    max_line_bytes: usize,
}

impl<R: BufRead> NdjsonReader<R> {
    pub fn new(reader: R) -> NdjsonReader<R> {
        NdjsonReader {
            reader,
            number: 0,
            buf: Vec::with_capacity(1024),
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
        }
    }

    pub fn with_max_line_bytes(mut self, max: usize) -> NdjsonReader<R> {
        self.max_line_bytes = max;
        self
    }
}

impl<R: BufRead> Iterator for NdjsonReader<R> {
    /// An IO error ends the stream; parse errors are per line.
    type Item = std::io::Result<Line>;

    fn next(&mut self) -> Option<std::io::Result<Line>> {
        loop {
            self.buf.clear();
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(e)),
            }
            self.number += 1;
            let number = self.number;
            let bytes = trim_ascii(&self.buf);
            if bytes.is_empty() {
                continue;
            }
            return Some(Ok(Line {
                number,
                result: parse_bytes(bytes, self.max_line_bytes, || number.to_string()),
            }));
        }
    }
}

fn trim_ascii(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if first.is_ascii_whitespace() {
            b = rest
        } else {
            break;
        }
    }
    while let [rest @ .., last] = b {
        if last.is_ascii_whitespace() {
            b = rest
        } else {
            break;
        }
    }
    b
}

/// Parses one object from bytes: checks size and UTF-8 first, so a binary
/// line gets a reason a person understands.
pub fn parse_bytes(
    bytes: &[u8],
    max_bytes: usize,
    fallback_id: impl FnOnce() -> String,
) -> Result<Event, Rejection> {
    if bytes.len() > max_bytes {
        return Err(Rejection::whole(format!(
            "longer than the limit of {max_bytes} bytes"
        )));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| Rejection::whole(format!("not valid UTF-8 (byte {})", e.valid_up_to() + 1)))?;
    parse_event(text, fallback_id)
}

/// One element's outcome in a JSON array body.
#[derive(Debug)]
pub struct Item<'a> {
    /// 0-based index in the array.
    pub index: usize,
    /// The element's JSON text, as sent (unknown fields included).
    pub raw: &'a str,
    pub result: Result<Event, Rejection>,
}

/// Parses a JSON array of event objects; a bad element is rejected alone
/// (pointer `/3/amount_usd`). A body that is not a JSON array at all is one
/// rejection for the whole body.
pub fn parse_json_array(
    body: &str,
    max_items: usize,
    mut fallback_id: impl FnMut(usize) -> String,
) -> Result<Vec<Item<'_>>, Rejection> {
    let elements: Vec<&RawValue> = serde_json::from_str(body).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            Rejection::whole(format!("malformed JSON: {e}"))
        } else {
            Rejection::whole(format!("expected a JSON array of event objects: {e}"))
        }
    })?;
    if elements.len() > max_items {
        return Err(Rejection::whole(format!(
            "batch of {} events is over the limit of {max_items}",
            elements.len()
        )));
    }
    Ok(elements
        .into_iter()
        .enumerate()
        .map(|(index, raw)| Item {
            index,
            raw: raw.get(),
            result: parse_event(raw.get(), || fallback_id(index))
                .map_err(|r| r.nested_in(&format!("/{index}"))),
        })
        .collect())
}

/// Writes an event as one line of the contract's JSON.
pub fn to_json_line(event: &Event) -> String {
    // INVARIANT: serialising our own types to a String cannot fail: every map
    // key is a string and floats are finite (parse rejects the rest).
    serde_json::to_string(event).unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn reject(line: &str) -> Rejection {
        parse_event(line, || "1".into()).expect_err(line)
    }

    fn check_rejected(line: &str, pointer: &str, reason_contains: &str) {
        let r = reject(line);
        assert_eq!(r.pointer, pointer, "{line}: {r:?}");
        assert!(
            r.reason.contains(reason_contains),
            "{line}: {:?} lacks {reason_contains:?}",
            r.reason
        );
    }

    #[test]
    fn rejections_point_at_the_field() {
        check_rejected(
            r#"{"type":"agent","ts":"nope","agent_id":"a"}"#,
            "/ts",
            "`ts`: expected an RFC 3339",
        );
        check_rejected(
            r#"{"type":"agent","ts":"2025-01-01T00:00:00Z"}"#,
            "/agent_id",
            "missing",
        );
        check_rejected(r#"{"ts":"2025-01-01T00:00:00Z"}"#, "/type", "missing");
        check_rejected(
            r#"{"type":"customer_action","ts":"2025-01-01T00:00:00Z","customer_id":"c","action":"withdrawal","amount_usd":"lots"}"#,
            "/amount_usd",
            "invalid type: string \"lots\", expected f64",
        );
        check_rejected(
            r#"{"type":"customer_action","ts":"2025-01-01T00:00:00Z","customer_id":"c","action":"withdrawal","amount_usd":-5}"#,
            "/amount_usd",
            "zero or more",
        );
        check_rejected(
            r#"{"type":"agent_access","ts":"2025-01-01T00:00:00Z","agent_id":"a","action":"view","fields":["name","ssn"]}"#,
            "/fields/1",
            "unknown variant `ssn`",
        );
        check_rejected(
            r#"{"type":"agent_access","ts":"2025-01-01T00:00:00Z","agent_id":"a","action":"peek"}"#,
            "/action",
            "unknown value `peek`, expected one of `view`",
        );
        check_rejected(
            r#"{"type":"customer_action","ts":"2025-01-01T00:00:00Z","customer_id":"c","action":"login","geo":{"lat":91}}"#,
            "/geo/lat",
            "between -90 and 90",
        );
        check_rejected(
            r#"{"type":"customer_action","ts":"2025-01-01T00:00:00Z","customer_id":"c","action":"login","geo":{"lat":"x"}}"#,
            "/geo/lat",
            "invalid type",
        );
        check_rejected(
            r#"{"type":"agent","ts":"2025-01-01T00:00:00Z","agent_id":7}"#,
            "/agent_id",
            "expected a string",
        );
        check_rejected(r#"{"type":"agent","ts":"#, "", "malformed JSON");
        check_rejected(r#"[1,2]"#, "", "expected a JSON object");
        check_rejected(
            r#"{"type":"agent","ts":"2025-01-01T00:00:00Z","agent_id":""}"#,
            "/agent_id",
            "must not be empty",
        );
        check_rejected(
            r#"{"type":"customer_action","ts":"2025-01-01T00:00:00Z","customer_id":"c","action":"security_change"}"#,
            "/setting",
            "missing",
        );
    }

    #[test]
    fn unknown_fields_and_types_are_fine() {
        let e = parse_event(
            r#"{"type":"future_type","ts":"2025-01-01T00:00:00Z","note":{"x":[1]}}"#,
            || "9".into(),
        )
        .unwrap();
        assert_eq!(
            e.body,
            EventBody::Unknown {
                type_name: "future_type".into()
            }
        );
        assert_eq!(e.id.as_str(), "9");
        let e = parse_event(
            r#"{"type":"customer","ts":"2025-01-01T00:00:00Z","customer_id":"c","tier":"vip","x_extra":[{"a":1}],"amount_usd":"not mine"}"#,
            || "1".into(),
        )
        .unwrap();
        assert!(matches!(
            e.body,
            EventBody::Customer(CustomerRecord {
                tier: Tier::Vip,
                ..
            })
        ));
    }

    #[test]
    fn protection_commands_keep_their_json_and_round_trip() {
        let line = r#"{"type":"protection_command","ts":"2025-01-01T00:00:00Z","id":"p1","customer_id":"c-1","actor":{"kind":"customer","factor":null},"protection":{"command":"freeze"}}"#;
        let e = parse_event(line, || "1".into()).unwrap();
        let EventBody::ProtectionCommand(p) = &e.body else {
            panic!("{e:?}")
        };
        assert_eq!(p.customer_id.as_str(), "c-1");
        assert_eq!(p.protection["command"], "freeze");
        let again = parse_event(&to_json_line(&e), || "2".into()).unwrap();
        assert_eq!(again, e);
        for (bad, pointer) in [
            (
                r#"{"type":"protection_command","ts":"2025-01-01T00:00:00Z","customer_id":"c-1","actor":{}}"#,
                "/protection",
            ),
            (
                r#"{"type":"protection_command","ts":"2025-01-01T00:00:00Z","customer_id":"c-1","actor":[],"protection":{}}"#,
                "/actor",
            ),
            (
                r#"{"type":"protection_command","ts":"2025-01-01T00:00:00Z","actor":{},"protection":{}}"#,
                "/customer_id",
            ),
        ] {
            assert_eq!(
                parse_event(bad, || "1".into()).unwrap_err().pointer,
                pointer,
                "{bad}"
            );
        }
    }

    #[test]
    fn escaped_strings_are_unescaped() {
        let e = parse_event(
            r#"{"type":"message","ts":"2025-01-01T00:00:00Z","conversation_id":"c\u002d1","text":"say \"hi\"\n"}"#,
            || "1".into(),
        )
        .unwrap();
        let EventBody::Message(m) = e.body else {
            panic!("not a message")
        };
        assert_eq!(m.conversation_id.as_str(), "c-1");
        assert_eq!(m.text, "say \"hi\"\n");
    }

    #[test]
    fn ndjson_numbers_lines_and_skips_blanks() {
        let input = b"{\"type\":\"agent\",\"ts\":\"2025-01-01T00:00:00Z\",\"agent_id\":\"a\",\"team\":\"t\",\"role\":\"r\"}\n\n\xff\xfe\n{\"type\":\"x\",\"ts\":\"2025-01-01T00:00:00Z\"}";
        let lines: Vec<Line> = NdjsonReader::new(&input[..]).map(Result::unwrap).collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].number, 1);
        assert_eq!(lines[0].result.as_ref().unwrap().id.as_str(), "1");
        assert_eq!(lines[1].number, 3);
        assert!(
            lines[1]
                .result
                .as_ref()
                .unwrap_err()
                .reason
                .contains("not valid UTF-8")
        );
        assert_eq!(lines[2].number, 4);
        assert_eq!(lines[2].result.as_ref().unwrap().id.as_str(), "4");
    }

    #[test]
    fn json_array_rejects_elements_alone() {
        let body = r#"[{"type":"x","ts":"2025-01-01T00:00:00Z"},{"type":"agent","ts":"bad"},{"type":"y","ts":"2025-01-01T00:00:00Z","id":"k"}]"#;
        let items = parse_json_array(body, 10, |i| format!("b-{}", i + 1)).unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].result.as_ref().unwrap().id.as_str(), "b-1");
        assert_eq!(items[1].result.as_ref().unwrap_err().pointer, "/1/ts");
        assert_eq!(items[2].result.as_ref().unwrap().id.as_str(), "k");
        assert!(
            parse_json_array(body, 2, |_| String::new())
                .unwrap_err()
                .reason
                .contains("over the limit")
        );
        assert!(
            parse_json_array("{}", 2, |_| String::new())
                .unwrap_err()
                .reason
                .contains("expected a JSON array")
        );
    }
}
