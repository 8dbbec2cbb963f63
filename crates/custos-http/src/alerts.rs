//! `GET /v1/alerts`: query parameters into a store query, and pages into
//! response bodies.

use crate::error::ApiError;
use custos_core::EventTime;
use custos_store::{AlertPage, AlertQuery, Severity};
use serde::Serialize;
use serde_json::value::RawValue;

/// Page size when `limit` is absent.
pub const DEFAULT_LIMIT: usize = 100;
/// The largest `limit` accepted.
pub const MAX_LIMIT: usize = 1000;

/// The query parameters `GET /v1/alerts` knows.
pub const PARAMETERS: &[&str] = &[
    "detector",
    "entity_kind",
    "entity_id",
    "severity",
    "since",
    "until",
    "limit",
    "cursor",
];

/// Cursors carry a version, so their encoding can change without old
/// clients' cursors being misread.
const CURSOR_PREFIX: &str = "v1.";

/// Parses the decoded query pairs. Unknown or repeated parameters are
/// errors, so a typo (`severty=high`) never silently widens a query.
pub fn parse_query(pairs: &[(String, String)]) -> Result<AlertQuery, ApiError> {
    let mut query = AlertQuery {
        limit: DEFAULT_LIMIT,
        ..AlertQuery::default()
    };
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in pairs {
        let Some(&known) = PARAMETERS.iter().find(|&&p| p == name) else {
            return Err(ApiError::parameter(
                &shorten(name),
                format!(
                    "unknown parameter `{}`: expected one of {}",
                    shorten(name),
                    PARAMETERS
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        if seen.contains(&known) {
            return Err(ApiError::parameter(
                known,
                format!("`{known}` is given more than once"),
            ));
        }
        seen.push(known);
        let text = || {
            if value.is_empty() {
                Err(ApiError::parameter(known, format!("`{known}` is empty")))
            } else {
                Ok(value.clone())
            }
        };
        match known {
            "detector" => query.detector = Some(text()?),
            "entity_kind" => query.entity_kind = Some(text()?),
            "entity_id" => query.entity_id = Some(text()?),
            "severity" => {
                query.min_severity = Some(value.parse::<Severity>().map_err(|_| {
                    ApiError::parameter(
                        known,
                        format!(
                            "`severity` `{}` is not one of `low`, `medium`, `high`, `critical`",
                            shorten(value)
                        ),
                    )
                })?)
            }
            "since" => query.since_micros = Some(time(known, value)?),
            "until" => query.until_micros = Some(time(known, value)?),
            "limit" => {
                query.limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                    .ok_or_else(|| {
                        ApiError::parameter(
                            known,
                            format!(
                                "`limit` `{}` is not a whole number from 1 to {MAX_LIMIT}",
                                shorten(value)
                            ),
                        )
                    })?
            }
            "cursor" => query.after_seq = Some(decode_cursor(value)?),
            _ => {}
        }
    }
    if let (Some(since), Some(until)) = (query.since_micros, query.until_micros) {
        if since > until {
            return Err(ApiError::parameter(
                "until",
                "`until` is earlier than `since`",
            ));
        }
    }
    Ok(query)
}

fn time(name: &str, value: &str) -> Result<i64, ApiError> {
    EventTime::parse(value)
        .map(EventTime::as_micros)
        .map_err(|e| ApiError::parameter(name, format!("`{name}` `{}`: {e}", shorten(value))))
}

/// User values echoed in messages are cut short.
fn shorten(value: &str) -> String {
    const MAX_CHARS: usize = 64;
    if value.chars().count() <= MAX_CHARS {
        value.to_owned()
    } else {
        let mut cut: String = value.chars().take(MAX_CHARS).collect();
        cut.push('…');
        cut
    }
}

pub fn encode_cursor(after_seq: u64) -> String {
    format!("{CURSOR_PREFIX}{after_seq}")
}

fn decode_cursor(value: &str) -> Result<u64, ApiError> {
    value
        .strip_prefix(CURSOR_PREFIX)
        .and_then(|digits| digits.parse::<u64>().ok())
        .ok_or_else(|| {
            ApiError::parameter(
                "cursor",
                format!(
                    "`cursor` `{}` is not a `next_cursor` this api returned",
                    shorten(value)
                ),
            )
        })
}

/// The response body of `GET /v1/alerts`.
#[derive(Serialize)]
pub struct AlertsBody {
    /// The alerts' JSON, byte for byte as stored.
    pub alerts: Vec<Box<RawValue>>,
    pub next_cursor: Option<String>,
}

/// Wraps a page; a stored alert that is not JSON is a store bug.
pub fn page_body(page: AlertPage) -> Result<AlertsBody, serde_json::Error> {
    let alerts = page
        .alerts
        .into_iter()
        .map(|alert| RawValue::from_string(alert.json))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AlertsBody {
        alerts,
        next_cursor: page.next_cursor.map(encode_cursor),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use custos_store::StoredAlert;

    fn parse(query: &[(&str, &str)]) -> Result<AlertQuery, String> {
        let pairs: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse_query(&pairs).map_err(|e| {
            let parameter = e.errors[0].parameter.clone().unwrap();
            format!("{parameter}: {}", e.detail)
        })
    }

    #[test]
    fn every_parameter_lands_in_the_query() {
        let query = parse(&[
            ("detector", "agent_behavior"),
            ("entity_kind", "agent"),
            ("entity_id", "a-1"),
            ("severity", "high"),
            ("since", "2025-01-01T00:00:00Z"),
            ("until", "2025-01-02T00:00:00+01:00"),
            ("limit", "1000"),
            ("cursor", "v1.42"),
        ])
        .unwrap();
        assert_eq!(
            query,
            AlertQuery {
                detector: Some("agent_behavior".into()),
                entity_kind: Some("agent".into()),
                entity_id: Some("a-1".into()),
                min_severity: Some(Severity::High),
                since_micros: Some(1_735_689_600_000_000),
                until_micros: Some(1_735_689_600_000_000 + 23 * 3_600_000_000),
                after_seq: Some(42),
                limit: 1000,
            }
        );
        assert_eq!(parse(&[]).unwrap().limit, DEFAULT_LIMIT);
    }

    #[test]
    fn bad_parameters_are_named() {
        let check = |query: &[(&str, &str)], expect: &str| {
            let error = parse(query).unwrap_err();
            assert!(
                error.starts_with(expect),
                "{error} does not start with {expect}"
            );
        };
        check(
            &[("limit", "0")],
            "limit: `limit` `0` is not a whole number",
        );
        check(&[("limit", "1001")], "limit:");
        check(&[("limit", "ten")], "limit:");
        check(&[("severity", "HIGH")], "severity: `severity` `HIGH`");
        check(
            &[("since", "yesterday")],
            "since: `since` `yesterday`: expected an RFC 3339",
        );
        check(&[("until", "2025-01-01T00:00:00")], "until:");
        check(&[("cursor", "42")], "cursor:");
        check(&[("cursor", "v1.-1")], "cursor:");
        check(
            &[("severty", "high")],
            "severty: unknown parameter `severty`",
        );
        check(&[("detector", "")], "detector: `detector` is empty");
        check(
            &[("detector", "a"), ("detector", "b")],
            "detector: `detector` is given more than once",
        );
        check(
            &[
                ("since", "2025-01-02T00:00:00Z"),
                ("until", "2025-01-01T00:00:00Z"),
            ],
            "until: `until` is earlier than `since`",
        );
    }

    #[test]
    fn cursors_round_trip() {
        for seq in [0, 1, 99, u64::MAX] {
            assert_eq!(decode_cursor(&encode_cursor(seq)).unwrap(), seq);
        }
    }

    #[test]
    fn pages_keep_the_stored_json_byte_for_byte() {
        let json = r#"{"alert_id":"al-1", "score":0.930}"#;
        let page = AlertPage {
            alerts: vec![StoredAlert {
                seq: 7,
                alert_id: "al-1".into(),
                json: json.into(),
            }],
            next_cursor: Some(7),
        };
        let text = serde_json::to_string(&page_body(page).unwrap()).unwrap();
        assert_eq!(
            text,
            format!(r#"{{"alerts":[{json}],"next_cursor":"v1.7"}}"#)
        );
    }
}
