//! The contract, end to end: the conformance sample and a serialise/parse
//! round trip over arbitrary events.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use custos_core::event::*;
use custos_core::id::*;
use custos_core::parse::{NdjsonReader, parse_event, to_json_line};
use custos_core::time::EventTime;
use proptest::prelude::*;
use std::path::Path;

const SAMPLE: &str = include_str!("data/contract-sample.ndjson");

#[test]
fn conformance_sample() {
    let lines: Vec<_> = NdjsonReader::new(SAMPLE.as_bytes())
        .map(Result::unwrap)
        .collect();
    let accepted: Vec<&Event> = lines
        .iter()
        .filter_map(|l| l.result.as_ref().ok())
        .collect();
    let ids: Vec<&str> = accepted.iter().map(|e| e.id.as_str()).collect();
    let expected: Vec<String> = (1..=20).map(|i| format!("e{i}")).collect();
    assert_eq!(ids, expected);
    assert_eq!(
        accepted
            .iter()
            .filter(|e| matches!(e.body, EventBody::Unknown { .. }))
            .map(|e| e.id.as_str())
            .collect::<Vec<_>>(),
        ["e19"]
    );
    let rejected: Vec<(u64, &str)> = lines
        .iter()
        .filter_map(|l| {
            l.result
                .as_ref()
                .err()
                .map(|r| (l.number, r.pointer.as_str()))
        })
        .collect();
    assert_eq!(rejected, [(20, "/ts"), (21, ""), (22, "/amount_usd")]);
    // e20 comes after the bad lines and is intact.
    let EventBody::AgentAccess(last) = &accepted[19].body else {
        panic!("e20 is an agent_access")
    };
    assert_eq!(last.fields, [FieldClass::NationalId]);
    assert_eq!(last.action, AccessAction::Reveal);
}

#[test]
fn sample_is_the_shared_one() {
    // When the shared contract sits beside the repository (as in CI), the
    // copy kept here for tests must not drift from it.
    let shared =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/contract/sample.ndjson");
    if let Ok(text) = std::fs::read_to_string(&shared) {
        assert_eq!(
            text, SAMPLE,
            "tests/data/contract-sample.ndjson differs from shared/contract/sample.ndjson"
        );
    } else {
        eprintln!("skipped: {} not found", shared.display());
    }
}

fn id_text() -> impl Strategy<Value = String> {
    "[a-z]-[0-9a-z\\-]{1,12}"
}

fn text() -> impl Strategy<Value = String> {
    // Any Unicode text, quotes, backslashes and controls included.
    any::<String>()
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(text())
}

fn time() -> impl Strategy<Value = EventTime> {
    (0i64..4_102_444_800_000_000).prop_map(EventTime::from_micros)
}

fn money() -> impl Strategy<Value = Option<f64>> {
    proptest::option::of(prop_oneof![
        0.0..1e12f64,
        Just(0.0),
        (0u64..1_000_000_000).prop_map(|c| c as f64 / 100.0)
    ])
}

fn pick<T: Copy + std::fmt::Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = T> {
    proptest::sample::select(all)
}

fn body() -> impl Strategy<Value = EventBody> {
    prop_oneof![
        (
            id_text(),
            text(),
            text(),
            opt_text(),
            proptest::option::of((0u8..24, 0u8..24)),
            proptest::option::of(time())
        )
            .prop_map(|(id, team, role, site, shift, hired_at)| EventBody::Agent(
                AgentRecord {
                    agent_id: AgentId::parse(id).unwrap(),
                    team,
                    role,
                    site,
                    shift: shift.map(|(s, e)| Shift {
                        start_hour: s,
                        end_hour: e
                    }),
                    hired_at,
                }
            )),
        (
            id_text(),
            pick(Tier::ALL),
            money(),
            opt_text(),
            proptest::option::of(time())
        )
            .prop_map(
                |(id, tier, balance_usd, country, created_at)| EventBody::Customer(
                    CustomerRecord {
                        customer_id: CustomerId::parse(id).unwrap(),
                        tier,
                        balance_usd,
                        country,
                        created_at,
                    }
                )
            ),
        (
            id_text(),
            proptest::option::of(id_text()),
            proptest::option::of(id_text()),
            pick(TicketStatus::ALL),
            proptest::option::of(pick(Channel::ALL)),
            opt_text(),
            proptest::option::of(pick(OpenedBy::ALL))
        )
            .prop_map(
                |(id, c, a, status, channel, category, opened_by)| EventBody::Ticket(Ticket {
                    ticket_id: TicketId::parse(id).unwrap(),
                    customer_id: c.map(|c| CustomerId::parse(c).unwrap()),
                    agent_id: a.map(|a| AgentId::parse(a).unwrap()),
                    status,
                    channel,
                    category,
                    opened_by,
                })
            ),
        (id_text(), text(), opt_text(), opt_text()).prop_map(|(id, kind, ip, device_id)| {
            EventBody::AgentSession(AgentSession {
                agent_id: AgentId::parse(id).unwrap(),
                kind,
                ip,
                device_id,
            })
        }),
        (
            id_text(),
            proptest::option::of(id_text()),
            proptest::option::of(id_text()),
            pick(AccessAction::ALL),
            proptest::collection::vec(pick(FieldClass::ALL), 0..5),
            opt_text(),
            opt_text(),
            opt_text()
        )
            .prop_map(|(a, c, t, action, fields, query, ip, device_id)| {
                EventBody::AgentAccess(AgentAccess {
                    agent_id: AgentId::parse(a).unwrap(),
                    customer_id: c.map(|c| CustomerId::parse(c).unwrap()),
                    ticket_id: t.map(|t| TicketId::parse(t).unwrap()),
                    action,
                    fields,
                    query,
                    ip,
                    device_id,
                })
            }),
        (
            id_text(),
            pick(CustomerActionKind::ALL),
            proptest::option::of(pick(SecuritySetting::ALL)),
            opt_text(),
            proptest::option::of((
                opt_text(),
                proptest::option::of(-90.0..=90.0f64),
                proptest::option::of(-180.0..=180.0f64)
            )),
            money(),
            opt_text(),
            proptest::option::of((
                text(),
                proptest::collection::vec(text(), 0..3),
                proptest::collection::vec(text(), 0..2)
            ))
        )
            .prop_map(
                |(c, action, setting, ip, geo, amount_usd, destination, api_key)| {
                    let setting = if action == CustomerActionKind::SecurityChange {
                        Some(setting.unwrap_or(SecuritySetting::Password))
                    } else {
                        setting
                    };
                    EventBody::CustomerAction(CustomerAction {
                        customer_id: CustomerId::parse(c).unwrap(),
                        action,
                        ip: ip.clone(),
                        device_id: ip,
                        geo: geo.map(|(country, lat, lon)| Geo { country, lat, lon }),
                        amount_usd,
                        asset: destination.clone(),
                        destination,
                        api_key: api_key.map(|(key_id, permissions, ip_whitelist)| ApiKeySpec {
                            key_id,
                            permissions,
                            ip_whitelist,
                        }),
                        setting,
                    })
                }
            ),
        (
            id_text(),
            proptest::option::of(pick(Channel::ALL)),
            proptest::option::of(pick(Direction::ALL)),
            proptest::option::of(pick(SenderRole::ALL)),
            proptest::option::of(id_text()),
            text()
        )
            .prop_map(|(conv, channel, direction, sender_role, c, text)| {
                EventBody::Message(Message {
                    conversation_id: ConversationId::parse(conv).unwrap(),
                    channel,
                    direction,
                    sender_role,
                    customer_id: c.map(|c| CustomerId::parse(c).unwrap()),
                    text,
                })
            }),
        (
            id_text(),
            proptest::option::of(id_text()),
            proptest::option::of(pick(Channel::ALL)),
            opt_text(),
            opt_text(),
            money()
        )
            .prop_map(
                |(r, c, channel, contact, text, loss_usd)| EventBody::ScamReport(ScamReport {
                    report_id: ReportId::parse(r).unwrap(),
                    customer_id: c.map(|c| CustomerId::parse(c).unwrap()),
                    channel,
                    contact,
                    text,
                    loss_usd,
                })
            ),
        (
            pick(custos_core::EntityKind::ALL),
            id_text(),
            pick(custos_core::ResponseAction::ALL),
            text(),
            text()
        )
            .prop_map(|(kind, id, action, released_by, reason)| {
                EventBody::CountermeasureRelease(CountermeasureRelease {
                    entity: custos_core::Entity::new(kind, id),
                    action,
                    released_by,
                    reason,
                })
            }),
        "[a-z_]{1,20}"
            .prop_filter("not a known type", |t| !KNOWN_TYPES.contains(&t.as_str()))
            .prop_map(|type_name| EventBody::Unknown { type_name }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn serialise_then_parse_round_trips(id in id_text(), ts in time(), body in body()) {
        let event = Event { id: EventId::parse(id).unwrap(), ts, body };
        let line = to_json_line(&event);
        prop_assert!(!line.contains('\n'), "one event, one line");
        let back = parse_event(&line, || unreachable!("the id is written"));
        prop_assert_eq!(back, Ok(event));
    }

    /// Whatever bytes arrive, parsing answers (never panics) and a rejection
    /// always has a reason.
    #[test]
    fn arbitrary_lines_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        for line in NdjsonReader::new(&bytes[..]) {
            let line = line.unwrap();
            if let Err(r) = line.result {
                prop_assert!(!r.reason.is_empty());
            }
        }
    }
}

/// The simulator writes the contract: every line it emits parses, with the
/// id it was given, and re-serialises to an event that parses the same.
#[test]
fn simulator_output_conforms() {
    let config = custos_sim::SimConfig {
        days: 3,
        seed: 9,
        agents: 60,
        customers: 3_000,
        ..Default::default()
    };
    let sim = custos_sim::Simulator::new(config).unwrap();
    let mut types = std::collections::BTreeMap::<String, usize>::new();
    let mut ids = std::collections::HashSet::new();
    for (i, line) in sim.enumerate() {
        let event = parse_event(&line, || panic!("line {} has no id", i + 1))
            .unwrap_or_else(|r| panic!("line {}: {r}: {line}", i + 1));
        assert!(
            !matches!(event.body, EventBody::Unknown { .. }),
            "line {}: unknown type",
            i + 1
        );
        assert!(
            ids.insert(event.id.as_str().to_owned()),
            "duplicate id {}",
            event.id
        );
        assert_eq!(
            parse_event(&to_json_line(&event), || unreachable!()),
            Ok(event.clone())
        );
        *types.entry(event.body.type_name().to_owned()).or_default() += 1;
    }
    // Scam reports are rare in a 3-day run; releases and protection
    // commands are people's decisions through the API, not simulated.
    for t in KNOWN_TYPES.iter().filter(|t| {
        ![
            "scam_report",
            "countermeasure_release",
            "protection_command",
        ]
        .contains(*t)
    }) {
        assert!(
            types.get(*t).copied().unwrap_or(0) > 0,
            "the simulator wrote no `{t}` events: {types:?}"
        );
    }
}
