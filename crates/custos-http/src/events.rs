//! Turning a `POST /v1/events` body into store records and per-event
//! rejections. Pure: the clock and the request id come in as arguments.
//!
//! A bad event is rejected alone (pointer and reason), as the contract
//! demands; only a body that cannot be read as events at all (not UTF-8, not
//! a JSON array, too many events) fails the whole request.

use crate::error::{ApiError, ErrorCode};
use custos_core::parse::{DEFAULT_MAX_LINE_BYTES, Rejection, parse_bytes, parse_json_array};
use custos_core::{Event, EventBody};
use custos_store::{DirectoryKind, DirectoryUpdate, NewEvent};
use serde::Serialize;
use serde_json::value::RawValue;

/// How the events of a body are framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFormat {
    /// `application/json`: one JSON array of event objects.
    JsonArray,
    /// `application/x-ndjson`: one event object per line.
    Ndjson,
}

/// The framing of a body, from its `Content-Type` (parameters such as
/// `charset` ignored) or, when there is none, from its first non-blank byte.
pub fn body_format(content_type: Option<&str>, body: &[u8]) -> Result<BodyFormat, ApiError> {
    let Some(content_type) = content_type else {
        let first = body.iter().find(|b| !b.is_ascii_whitespace());
        return Ok(if first == Some(&b'[') {
            BodyFormat::JsonArray
        } else {
            BodyFormat::Ndjson
        });
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => Ok(BodyFormat::JsonArray),
        "application/x-ndjson" | "application/ndjson" => Ok(BodyFormat::Ndjson),
        _ => Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "content type `{}` is not supported: send `application/json` (an array of \
                 events) or `application/x-ndjson` (one event per line)",
                content_type.chars().take(100).collect::<String>()
            ),
        )),
    }
}

/// The limits and context of one decode.
#[derive(Clone, Copy, Debug)]
pub struct DecodeContext<'a> {
    pub max_events: usize,
    /// Events whose `ts` is later than this are rejected.
    pub latest_ts_micros: i64,
    /// The allowed skew, for the rejection reason.
    pub max_future_skew_secs: u64,
    /// Prefix of the ids assigned to events without one: `{request_id}-{index}`.
    pub request_id: &'a str,
    /// Whether the caller may send `countermeasure_release` events (an
    /// analyst lifting a suspension is an admin's act, not an ingest bot's).
    pub may_release_countermeasures: bool,
}

/// One rejected event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ItemError {
    /// 0-based position of the event in the body (blank NDJSON lines do not count).
    pub index: usize,
    /// 1-based NDJSON line number; absent for JSON arrays.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// JSON pointer (URI fragment form) into the body for arrays (`#/3/ts`),
    /// into the line for NDJSON (`#/ts`).
    pub pointer: String,
    pub detail: String,
}

/// A decoded body: the events to store, in body order, and the rejections.
#[derive(Debug, Default)]
pub struct Decoded {
    pub events: Vec<NewEvent>,
    pub errors: Vec<ItemError>,
}

/// Decodes a whole body.
pub fn decode_body(
    body: &[u8],
    format: BodyFormat,
    context: &DecodeContext<'_>,
) -> Result<Decoded, ApiError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidBody,
            format!("the body is not valid UTF-8 (byte {})", e.valid_up_to() + 1),
        )
    })?;
    match format {
        BodyFormat::JsonArray => decode_array(text, context),
        BodyFormat::Ndjson => decode_ndjson(text, context),
    }
}

fn too_many(count: usize, max: usize) -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("batch of {count} events is over the limit of {max}: split it"),
    )
}

fn decode_array(text: &str, context: &DecodeContext<'_>) -> Result<Decoded, ApiError> {
    let request_id = context.request_id;
    let items = parse_json_array(text, context.max_events, |index| {
        format!("{request_id}-{index}")
    })
    .map_err(|rejection| {
        // The same rejection covers "not an array" and "too many elements";
        // telling them apart costs a second scan, on the error path only.
        match serde_json::from_str::<Vec<&RawValue>>(text) {
            Ok(elements) if elements.len() > context.max_events => {
                too_many(elements.len(), context.max_events)
            }
            _ => ApiError::new(ErrorCode::InvalidBody, rejection.reason),
        }
    })?;
    let mut decoded = Decoded {
        events: Vec::with_capacity(items.len()),
        errors: Vec::new(),
    };
    for item in items {
        let checked = item.result.and_then(|event| {
            not_in_future(event, context).map_err(|r| r.nested_in(&format!("/{}", item.index)))
        });
        match checked {
            Ok(event) => decoded.events.push(new_event(event, item.raw)),
            Err(rejection) => decoded.errors.push(ItemError {
                index: item.index,
                line: None,
                pointer: format!("#{}", rejection.pointer),
                detail: rejection.reason,
            }),
        }
    }
    Ok(decoded)
}

fn decode_ndjson(text: &str, context: &DecodeContext<'_>) -> Result<Decoded, ApiError> {
    let lines = || {
        text.split('\n')
            .zip(1u64..)
            .map(|(line, number)| (line.trim(), number))
            .filter(|(line, _)| !line.is_empty())
    };
    let count = lines().count();
    if count > context.max_events {
        return Err(too_many(count, context.max_events));
    }
    let request_id = context.request_id;
    let mut decoded = Decoded {
        events: Vec::with_capacity(count),
        errors: Vec::new(),
    };
    for (index, (line, number)) in lines().enumerate() {
        let result = parse_bytes(line.as_bytes(), DEFAULT_MAX_LINE_BYTES, || {
            format!("{request_id}-{index}")
        })
        .and_then(|event| not_in_future(event, context));
        match result {
            Ok(event) => decoded.events.push(new_event(event, line)),
            Err(rejection) => decoded.errors.push(ItemError {
                index,
                line: Some(number),
                pointer: format!("#{}", rejection.pointer),
                detail: rejection.reason,
            }),
        }
    }
    Ok(decoded)
}

/// Rejects an event stamped later than the wall clock allows: a clock far
/// ahead would otherwise drag event time forward for everyone.
fn not_in_future(event: Event, context: &DecodeContext<'_>) -> Result<Event, Rejection> {
    if matches!(event.body, EventBody::CountermeasureRelease(_))
        && !context.may_release_countermeasures
    {
        return Err(Rejection::new(
            "/type",
            "`countermeasure_release` events need a token with the `admin` scope",
        ));
    }
    if event.ts.as_micros() > context.latest_ts_micros {
        return Err(Rejection::new(
            "/ts",
            format!(
                "`ts`: `{}` is more than {} s ahead of the server clock",
                event.ts, context.max_future_skew_secs
            ),
        ));
    }
    Ok(event)
}

/// The store record of an accepted event: its original text, unknown
/// fields included, and the columns the store indexes.
pub(crate) fn new_event(event: Event, raw: &str) -> NewEvent {
    let directory = match &event.body {
        EventBody::Agent(agent) => Some((DirectoryKind::Agent, agent.agent_id.as_str())),
        EventBody::Customer(customer) => {
            Some((DirectoryKind::Customer, customer.customer_id.as_str()))
        }
        EventBody::Ticket(ticket) => Some((DirectoryKind::Ticket, ticket.ticket_id.as_str())),
        _ => None,
    }
    .map(|(kind, id)| DirectoryUpdate {
        kind,
        id: id.to_owned(),
    });
    NewEvent {
        event_type: event.body.type_name().to_owned(),
        ts_micros: event.ts.as_micros(),
        raw: raw.to_owned(),
        directory,
        event_id: String::from(event.id.as_str()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const AGENT: &str = r#"{"type":"agent","ts":"2025-01-01T00:00:00Z","id":"e1","agent_id":"a-1","team":"t","role":"r","x_extra":[1]}"#;
    const UNKNOWN: &str = r#"{"type":"future_type","ts":"2025-01-01T00:00:00Z"}"#;
    const BAD_AMOUNT: &str = r#"{"type":"customer_action","ts":"2025-01-01T00:00:00Z","customer_id":"c","action":"withdrawal","amount_usd":"lots"}"#;
    const FUTURE: &str = r#"{"type":"future_type","ts":"2030-01-01T00:00:00Z","id":"f"}"#;

    fn context(max_events: usize) -> DecodeContext<'static> {
        DecodeContext {
            max_events,
            // 2026-01-01T00:00:00Z
            latest_ts_micros: 1_767_225_600_000_000,
            max_future_skew_secs: 3600,
            request_id: "r0",
            may_release_countermeasures: false,
        }
    }

    #[test]
    fn formats_come_from_the_content_type_or_the_first_byte() {
        let check =
            |content_type: Option<&str>, body: &str, expect: Result<BodyFormat, ErrorCode>| {
                let got = body_format(content_type, body.as_bytes()).map_err(|e| e.code);
                assert_eq!(got, expect, "{content_type:?} {body:?}");
            };
        check(Some("application/json"), "{}", Ok(BodyFormat::JsonArray));
        check(
            Some("Application/JSON; charset=utf-8"),
            "",
            Ok(BodyFormat::JsonArray),
        );
        check(Some("application/x-ndjson"), "[", Ok(BodyFormat::Ndjson));
        check(None, "  \n [ ]", Ok(BodyFormat::JsonArray));
        check(None, "{}", Ok(BodyFormat::Ndjson));
        check(None, "", Ok(BodyFormat::Ndjson));
        check(Some("text/csv"), "[]", Err(ErrorCode::UnsupportedMediaType));
    }

    #[test]
    fn array_elements_are_accepted_or_rejected_alone() {
        let body = format!("[{AGENT},{BAD_AMOUNT},{UNKNOWN},{FUTURE}]");
        let decoded = decode_body(body.as_bytes(), BodyFormat::JsonArray, &context(10)).unwrap();
        let ids: Vec<_> = decoded.events.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids, ["e1", "r0-2"]);
        assert_eq!(decoded.events[0].raw, AGENT);
        assert_eq!(
            decoded.events[0].directory,
            Some(DirectoryUpdate {
                kind: DirectoryKind::Agent,
                id: "a-1".into()
            })
        );
        assert_eq!(decoded.events[1].event_type, "future_type");
        assert_eq!(decoded.events[1].directory, None);
        let errors: Vec<_> = decoded
            .errors
            .iter()
            .map(|e| (e.index, e.line, e.pointer.as_str()))
            .collect();
        assert_eq!(errors, [(1, None, "#/1/amount_usd"), (3, None, "#/3/ts")]);
        assert!(
            decoded.errors[1]
                .detail
                .contains("ahead of the server clock")
        );
    }

    #[test]
    fn ndjson_lines_are_numbered_and_pointers_are_relative() {
        let body = format!("{AGENT}\n\n{BAD_AMOUNT}\r\n{{\"type\":\n{UNKNOWN}\n");
        let decoded = decode_body(body.as_bytes(), BodyFormat::Ndjson, &context(10)).unwrap();
        let ids: Vec<_> = decoded.events.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids, ["e1", "r0-3"]);
        let errors: Vec<_> = decoded
            .errors
            .iter()
            .map(|e| (e.index, e.line, e.pointer.as_str()))
            .collect();
        assert_eq!(errors, [(1, Some(3), "#/amount_usd"), (2, Some(4), "#")]);
    }

    #[test]
    fn whole_body_failures() {
        let check = |body: &[u8], format, max, expect: ErrorCode| {
            let got = decode_body(body, format, &context(max))
                .map(|_| ())
                .map_err(|e| e.code);
            assert_eq!(got, Err(expect), "{:?}", String::from_utf8_lossy(body));
        };
        check(b"[\xff]", BodyFormat::JsonArray, 10, ErrorCode::InvalidBody);
        check(b"{}", BodyFormat::JsonArray, 10, ErrorCode::InvalidBody);
        check(b"[{}", BodyFormat::JsonArray, 10, ErrorCode::InvalidBody);
        check(
            b"[{},{},{}]",
            BodyFormat::JsonArray,
            2,
            ErrorCode::PayloadTooLarge,
        );
        check(
            b"{}\n\n{}\n{}",
            BodyFormat::Ndjson,
            2,
            ErrorCode::PayloadTooLarge,
        );
        check(b"{}\n\xfe", BodyFormat::Ndjson, 10, ErrorCode::InvalidBody);
        // At the limit is fine.
        let ok = decode_body(b"{}\n{}", BodyFormat::Ndjson, &context(2)).unwrap();
        assert_eq!(ok.errors.len(), 2);
    }
}
