//! The conformance suite: every case runs against every backend and states
//! what any `Store` must do.

use std::collections::HashSet;

use custos_store::{
    AlertPage, AlertQuery, AppendReceipt, DirectoryKind, DirectoryRecord, DirectoryUpdate,
    NewAlert, NewEvent, Severity, Store, StoreError, StoredAlert, StoredEvent,
};

use crate::support::Backend;

// ---------------------------------------------------------------- helpers

pub fn event(event_id: &str, ts_micros: i64) -> NewEvent {
    NewEvent {
        event_id: event_id.to_owned(),
        event_type: "agent_access".to_owned(),
        ts_micros,
        raw: format!(
            r#"{{"type":"agent_access","id":"{event_id}","agent_id":"a-0042","action":"view"}}"#
        ),
        directory: None,
    }
}

pub fn directory_event(kind: DirectoryKind, id: &str, ts_micros: i64, version: &str) -> NewEvent {
    NewEvent {
        event_id: format!("{id}-{version}"),
        event_type: kind.as_str().to_owned(),
        ts_micros,
        raw: format!(r#"{{"type":"{kind}","id":"{id}","version":"{version}"}}"#),
        directory: Some(DirectoryUpdate {
            kind,
            id: id.to_owned(),
        }),
    }
}

pub fn alert(
    alert_id: &str,
    ts_micros: i64,
    detector: &str,
    entity: (&str, &str),
    severity: Severity,
) -> NewAlert {
    NewAlert {
        alert_id: alert_id.to_owned(),
        ts_micros,
        detector: detector.to_owned(),
        entity_kind: entity.0.to_owned(),
        entity_id: entity.1.to_owned(),
        severity,
        json: format!(
            r#"{{"alert_id":"{alert_id}","detector":"{detector}","severity":"{severity}"}}"#
        ),
    }
}

fn all_events(store: &dyn Store) -> Vec<StoredEvent> {
    store.read_events(0, usize::MAX).expect("read events")
}

fn ids_of(alerts: &[StoredAlert]) -> Vec<&str> {
    alerts.iter().map(|a| a.alert_id.as_str()).collect()
}

/// Every alert matching `query`, following `next_cursor` page by page.
pub fn collect_pages(store: &dyn Store, query: &AlertQuery) -> Vec<AlertPage> {
    let mut pages = Vec::new();
    let mut query = query.clone();
    loop {
        let page = store.query_alerts(&query).expect("query alerts");
        let next = page.next_cursor;
        pages.push(page);
        match next {
            Some(seq) => query.after_seq = Some(seq),
            None => return pages,
        }
        assert!(pages.len() < 10_000, "pagination does not end");
    }
}

fn query(limit: usize) -> AlertQuery {
    AlertQuery {
        limit,
        ..AlertQuery::default()
    }
}

fn versions(records: &[DirectoryRecord]) -> Vec<(i64, &str)> {
    records
        .iter()
        .map(|r| {
            (
                r.ts_micros,
                r.raw.split("\"version\":\"").nth(1).unwrap_or("?"),
            )
        })
        .map(|(ts, rest)| (ts, rest.trim_end_matches("\"}")))
        .collect()
}

// ---------------------------------------------------------------- cases

pub fn empty_store_reports_nothing(backend: &dyn Backend) {
    let store = backend.open();
    assert_eq!(store.backend(), backend.name());
    assert_eq!(store.last_seq().unwrap(), 0);
    assert_eq!(store.event_count().unwrap(), 0);
    assert_eq!(store.alert_count().unwrap(), 0);
    assert_eq!(store.read_events(0, 10).unwrap(), vec![]);
    assert_eq!(store.cursor("detector").unwrap(), 0);
    assert_eq!(
        store
            .directory_current(DirectoryKind::Agent, "a-1")
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .directory_history(DirectoryKind::Agent, "a-1")
            .unwrap(),
        vec![]
    );
    assert_eq!(
        store.query_alerts(&query(10)).unwrap(),
        AlertPage {
            alerts: vec![],
            next_cursor: None
        }
    );
    store.ping().unwrap();
}

pub fn sequence_numbers_are_consecutive_and_never_reused(backend: &dyn Backend) {
    let receipt = |first_seq, last_seq| AppendReceipt {
        first_seq,
        last_seq,
    };
    {
        let store = backend.open();
        assert_eq!(store.append_events(&[]).unwrap(), receipt(1, 0));
        let batch: Vec<_> = (0..3).map(|i| event(&format!("e{i}"), i)).collect();
        assert_eq!(store.append_events(&batch).unwrap(), receipt(1, 3));
        assert_eq!(store.append_events(&batch[..2]).unwrap(), receipt(4, 5));
        assert_eq!(store.append_events(&[]).unwrap(), receipt(6, 5));
        assert_eq!(store.last_seq().unwrap(), 5);
        assert_eq!(store.event_count().unwrap(), 5);
    }
    let store = backend.open();
    assert_eq!(store.last_seq().unwrap(), 5);
    assert_eq!(
        store.append_events(&[event("e9", 9)]).unwrap(),
        receipt(6, 6)
    );
    let seqs: Vec<u64> = all_events(store.as_ref()).iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=6).collect::<Vec<_>>());
    assert_eq!(store.event_count().unwrap(), 6);
}

pub fn events_round_trip_byte_for_byte(backend: &dyn Backend) {
    let store = backend.open();
    let mut odd = event("ünïcødé-✓", i64::MIN);
    odd.raw =
        r#"{"type":"message","text":"line1\nline2 \"quoted\" \\ 🙂 ' ; DROP TABLE events; --"}"#
            .to_owned();
    let mut large = event("large", i64::MAX);
    large.raw = format!(r#"{{"type":"x","pad":"{}"}}"#, "y".repeat(200_000));
    let mut empty_raw = event("empty-raw", 0);
    empty_raw.raw = String::new();
    let batch = vec![odd, large, empty_raw, event("e", -1)];
    store.append_events(&batch).unwrap();
    let stored = all_events(store.as_ref());
    assert_eq!(stored.len(), batch.len());
    for ((stored, sent), seq) in stored.iter().zip(&batch).zip(1..) {
        assert_eq!(
            stored,
            &StoredEvent {
                seq,
                event_id: sent.event_id.clone(),
                event_type: sent.event_type.clone(),
                ts_micros: sent.ts_micros,
                raw: sent.raw.clone(),
            }
        );
    }
}

pub fn read_events_pages_in_sequence_order(backend: &dyn Backend) {
    let store = backend.open();
    for chunk in 0..5 {
        let batch: Vec<_> = (0..5)
            .map(|i| event(&format!("e{}", chunk * 5 + i), 1_000 - chunk * 5 - i))
            .collect();
        store.append_events(&batch).unwrap();
    }
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = store.read_events(after, 7).unwrap();
        assert!(page.len() <= 7);
        let Some(last) = page.last() else { break };
        after = last.seq;
        seen.extend(page);
    }
    let ids: Vec<String> = seen.iter().map(|e| e.event_id.clone()).collect();
    let expect: Vec<String> = (0..25).map(|i| format!("e{i}")).collect();
    assert_eq!(ids, expect);
    assert_eq!(
        seen.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=25).collect::<Vec<_>>()
    );
    assert_eq!(store.read_events(20, 3).unwrap().len(), 3);
    assert_eq!(store.read_events(20, 3).unwrap()[0].seq, 21);
    assert_eq!(store.read_events(23, 100).unwrap().len(), 2);
    assert_eq!(store.read_events(25, 100).unwrap(), vec![]);
    assert_eq!(store.read_events(u64::MAX, 100).unwrap(), vec![]);
    assert_eq!(store.read_events(0, 0).unwrap(), vec![]);
}

pub fn directory_current_keeps_the_latest_event_time(backend: &dyn Backend) {
    use DirectoryKind::{Agent, Customer};
    let store = backend.open();
    store
        .append_events(&[directory_event(Agent, "a-1", 100, "v1"), event("noise", 50)])
        .unwrap();
    store
        .append_events(&[directory_event(Agent, "a-1", 200, "v2")])
        .unwrap();
    // Arrives late: older than the current record.
    store
        .append_events(&[directory_event(Agent, "a-1", 150, "v3-late")])
        .unwrap();

    let current = store.directory_current(Agent, "a-1").unwrap().unwrap();
    assert_eq!(
        current,
        DirectoryRecord {
            kind: Agent,
            id: "a-1".to_owned(),
            ts_micros: 200,
            seq: 3,
            raw: r#"{"type":"agent","id":"a-1","version":"v2"}"#.to_owned(),
        }
    );
    let history = store.directory_history(Agent, "a-1").unwrap();
    assert_eq!(
        versions(&history),
        vec![(100, "v1"), (150, "v3-late"), (200, "v2")]
    );
    assert_eq!(
        history.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![1, 4, 3]
    );
    assert!(history.iter().all(|r| r.kind == Agent && r.id == "a-1"));

    // Equal time: the later sequence number wins.
    store
        .append_events(&[directory_event(Agent, "a-1", 200, "v4-tie")])
        .unwrap();
    assert_eq!(
        versions(&[store.directory_current(Agent, "a-1").unwrap().unwrap()]),
        vec![(200, "v4-tie")]
    );
    assert_eq!(
        versions(&store.directory_history(Agent, "a-1").unwrap()),
        vec![(100, "v1"), (150, "v3-late"), (200, "v2"), (200, "v4-tie")]
    );

    // Within one batch the order of arrival does not matter either, and a
    // tie inside the batch goes to the later event.
    store
        .append_events(&[
            directory_event(Customer, "a-1", 900, "c-new"),
            directory_event(Customer, "a-1", 300, "c-old"),
            directory_event(Agent, "a-2", 5, "x"),
            directory_event(Agent, "a-2", 5, "y"),
        ])
        .unwrap();
    assert_eq!(
        versions(&[store.directory_current(Customer, "a-1").unwrap().unwrap()]),
        vec![(900, "c-new")]
    );
    assert_eq!(
        versions(&[store.directory_current(Agent, "a-2").unwrap().unwrap()]),
        vec![(5, "y")]
    );
    // Kinds are separate name spaces: the customer `a-1` left the agent alone.
    assert_eq!(
        versions(&[store.directory_current(Agent, "a-1").unwrap().unwrap()]),
        vec![(200, "v4-tie")]
    );
    assert_eq!(
        versions(&store.directory_history(Customer, "a-1").unwrap()),
        vec![(300, "c-old"), (900, "c-new")]
    );
    // A later batch older than the current state still does not win.
    store
        .append_events(&[directory_event(Customer, "a-1", 899, "c-late")])
        .unwrap();
    assert_eq!(
        versions(&[store.directory_current(Customer, "a-1").unwrap().unwrap()]),
        vec![(900, "c-new")]
    );
    assert_eq!(
        store
            .directory_current(DirectoryKind::Ticket, "a-1")
            .unwrap(),
        None
    );
    assert_eq!(store.directory_current(Agent, "a-3").unwrap(), None);
    assert_eq!(store.directory_history(Agent, "a-3").unwrap(), vec![]);
    // Directory records are events too.
    assert_eq!(store.event_count().unwrap(), 10);
}

pub fn directory_list_pages_current_records_by_id(backend: &dyn Backend) {
    use DirectoryKind::{Agent, Customer, Ticket};
    let store = backend.open();
    assert_eq!(store.directory_list(Agent, None, 10).unwrap(), vec![]);
    store
        .append_events(&[
            directory_event(Agent, "a-2", 100, "v1"),
            directory_event(Agent, "a-10", 100, "v1"),
            directory_event(Agent, "B-1", 100, "v1"),
            directory_event(Customer, "a-3", 100, "customer"),
            directory_event(Agent, "\u{e9}-1", 100, "v1"),
            directory_event(Agent, "a-1", 100, "v1"),
            event("noise", 100),
        ])
        .unwrap();
    // A newer version replaces the listed one; a late one does not.
    store
        .append_events(&[directory_event(Agent, "a-2", 200, "v2")])
        .unwrap();
    store
        .append_events(&[directory_event(Agent, "a-1", 50, "v0-late")])
        .unwrap();

    let all = store.directory_list(Agent, None, 100).unwrap();
    // Byte order, whatever the database's collation: upper case first,
    // `a-10` before `a-2`, a multi-byte letter last.
    assert_eq!(
        all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        vec!["B-1", "a-1", "a-10", "a-2", "\u{e9}-1"]
    );
    for record in &all {
        assert_eq!(record.kind, Agent);
        assert_eq!(
            Some(record),
            store.directory_current(Agent, &record.id).unwrap().as_ref(),
            "a listed record is the current one"
        );
    }
    assert_eq!(versions(&all[1..2]), vec![(100, "v1")]);
    assert_eq!(versions(&all[3..4]), vec![(200, "v2")]);

    // Pages of two visit every record once.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.directory_list(Agent, after.as_deref(), 2).unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        seen.extend(page.into_iter().map(|r| r.id));
    }
    assert_eq!(seen, all.iter().map(|r| r.id.clone()).collect::<Vec<_>>());
    // `after_id` need not exist; it is exclusive.
    assert_eq!(
        store
            .directory_list(Agent, Some("a-15"), 10)
            .unwrap()
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        vec!["a-2", "\u{e9}-1"]
    );
    assert_eq!(
        store.directory_list(Agent, Some("a-1"), 1).unwrap()[0].id,
        "a-10"
    );
    assert_eq!(store.directory_list(Agent, None, 0).unwrap(), vec![]);
    assert_eq!(
        store.directory_list(Agent, Some("\u{e9}-1"), 10).unwrap(),
        vec![]
    );
    // Kinds are separate name spaces.
    let customers = store.directory_list(Customer, None, 10).unwrap();
    assert_eq!(versions(&customers), vec![(100, "customer")]);
    assert_eq!(customers[0].id, "a-3");
    assert_eq!(store.directory_list(Ticket, None, 10).unwrap(), vec![]);
}

pub fn alerts_round_trip_with_their_own_sequence(backend: &dyn Backend) {
    let store = backend.open();
    store
        .append_events(&[event("e1", 1), event("e2", 2)])
        .unwrap();
    let first = [
        alert(
            "al-1",
            5,
            "agent_behavior",
            ("agent", "a-1"),
            Severity::High,
        ),
        alert(
            "al-2",
            3,
            "conversation",
            ("conversation", "conv-5"),
            Severity::Low,
        ),
    ];
    store.append_alerts(&first, "pipeline", 2).unwrap();
    store
        .append_alerts(
            &[alert(
                "al-3",
                9,
                "action_risk",
                ("customer", "c-1"),
                Severity::Critical,
            )],
            "pipeline",
            2,
        )
        .unwrap();
    assert_eq!(store.alert_count().unwrap(), 3);
    let page = store.query_alerts(&query(10)).unwrap();
    assert_eq!(page.next_cursor, None);
    let expect: Vec<StoredAlert> = ["al-1", "al-2", "al-3"]
        .iter()
        .zip(
            [first[0].json.clone(), first[1].json.clone()]
                .into_iter()
                .chain([alert(
                    "al-3",
                    9,
                    "action_risk",
                    ("customer", "c-1"),
                    Severity::Critical,
                )
                .json]),
        )
        .zip(1..)
        .map(|((id, json), seq)| StoredAlert {
            seq,
            alert_id: (*id).to_owned(),
            json,
        })
        .collect();
    assert_eq!(page.alerts, expect);
    // Alert numbers are independent of event numbers.
    assert_eq!(store.last_seq().unwrap(), 2);
}

/// A small fixed data set with hand-computed answers, one row per filter.
pub fn alert_filters_select_exactly_the_matches(backend: &dyn Backend) {
    use Severity::{Critical, High, Low, Medium};
    let store = backend.open();
    let alerts = [
        alert("al-1", 100, "agent_behavior", ("agent", "a-1"), High),
        alert("al-2", 50, "agent_behavior", ("agent", "a-2"), Low),
        alert("al-3", 300, "action_risk", ("customer", "c-1"), Critical),
        alert("al-4", 200, "action_risk", ("customer", "c-2"), Medium),
        alert(
            "al-5",
            150,
            "conversation",
            ("conversation", "conv-1"),
            High,
        ),
        alert("al-6", 250, "agent_behavior", ("agent", "a-1"), Critical),
        alert("al-7", 100, "leak_attribution", ("agent", "a-1"), Medium),
        alert("al-8", 400, "action_risk", ("customer", "c-1"), Low),
        alert("al-9", 120, "action_risk", ("customer", "a-1"), High),
    ];
    store.append_alerts(&alerts[..4], "c", 1).unwrap();
    store.append_alerts(&alerts[4..], "c", 2).unwrap();

    let text = |s: &str| Some(s.to_owned());
    let check = |query: AlertQuery, expect: &[&str]| {
        let page = store
            .query_alerts(&AlertQuery {
                limit: 100,
                ..query.clone()
            })
            .unwrap();
        assert_eq!(ids_of(&page.alerts), expect, "{query:?}");
        assert_eq!(page.next_cursor, None, "{query:?}");
    };
    let all = [
        "al-1", "al-2", "al-3", "al-4", "al-5", "al-6", "al-7", "al-8", "al-9",
    ];
    check(AlertQuery::default(), &all);
    check(
        AlertQuery {
            detector: text("agent_behavior"),
            ..Default::default()
        },
        &["al-1", "al-2", "al-6"],
    );
    check(
        AlertQuery {
            entity_kind: text("customer"),
            ..Default::default()
        },
        &["al-3", "al-4", "al-8", "al-9"],
    );
    check(
        AlertQuery {
            entity_id: text("a-1"),
            ..Default::default()
        },
        &["al-1", "al-6", "al-7", "al-9"],
    );
    check(
        AlertQuery {
            entity_kind: text("agent"),
            entity_id: text("a-1"),
            ..Default::default()
        },
        &["al-1", "al-6", "al-7"],
    );
    check(
        AlertQuery {
            min_severity: Some(Low),
            ..Default::default()
        },
        &all,
    );
    check(
        AlertQuery {
            min_severity: Some(High),
            ..Default::default()
        },
        &["al-1", "al-3", "al-5", "al-6", "al-9"],
    );
    check(
        AlertQuery {
            min_severity: Some(Critical),
            ..Default::default()
        },
        &["al-3", "al-6"],
    );
    check(
        AlertQuery {
            since_micros: Some(200),
            ..Default::default()
        },
        &["al-3", "al-4", "al-6", "al-8"],
    );
    check(
        AlertQuery {
            until_micros: Some(150),
            ..Default::default()
        },
        &["al-1", "al-2", "al-7", "al-9"],
    );
    check(
        AlertQuery {
            since_micros: Some(100),
            until_micros: Some(200),
            ..Default::default()
        },
        &["al-1", "al-5", "al-7", "al-9"],
    );
    check(
        AlertQuery {
            after_seq: Some(6),
            ..Default::default()
        },
        &["al-7", "al-8", "al-9"],
    );
    check(
        AlertQuery {
            detector: text("action_risk"),
            entity_kind: text("customer"),
            min_severity: Some(Medium),
            since_micros: Some(150),
            until_micros: Some(400),
            ..Default::default()
        },
        &["al-3", "al-4"],
    );
    check(
        AlertQuery {
            detector: text("action_risk"),
            entity_kind: text("customer"),
            entity_id: text("c-1"),
            min_severity: Some(Medium),
            since_micros: Some(150),
            until_micros: Some(400),
            after_seq: Some(2),
            limit: 0,
        },
        &["al-3"],
    );
    check(
        AlertQuery {
            detector: text("nope"),
            ..Default::default()
        },
        &[],
    );
    check(
        AlertQuery {
            since_micros: Some(300),
            until_micros: Some(300),
            ..Default::default()
        },
        &[],
    );
    // Filters compare whole values: no prefix or pattern matching.
    check(
        AlertQuery {
            detector: text("agent%"),
            ..Default::default()
        },
        &[],
    );
    check(
        AlertQuery {
            entity_id: text("a-"),
            ..Default::default()
        },
        &[],
    );
}

/// Pages of every size visit every matching alert exactly once, in order,
/// and `next_cursor` is set exactly when more matches follow.
pub fn alert_pages_visit_every_match_once(backend: &dyn Backend) {
    let store = backend.open();
    let detectors = ["agent_behavior", "action_risk", "conversation"];
    let alerts: Vec<NewAlert> = (0..57_i64)
        .map(|i| {
            let index = usize::try_from(i).unwrap();
            alert(
                &format!("al-{i:02}"),
                (i * 37) % 57, // times out of step with sequence numbers
                detectors[index % 3],
                ("agent", &format!("a-{}", i % 4)),
                Severity::ALL[index % 4],
            )
        })
        .collect();
    for (chunk, cursor) in alerts.chunks(10).zip(1..) {
        store.append_alerts(chunk, "c", cursor).unwrap();
    }

    let queries = [
        AlertQuery::default(),
        AlertQuery {
            detector: Some("action_risk".to_owned()),
            ..Default::default()
        },
        AlertQuery {
            min_severity: Some(Severity::High),
            since_micros: Some(10),
            until_micros: Some(50),
            ..Default::default()
        },
    ];
    for base in queries {
        let expect: Vec<&str> = alerts
            .iter()
            .filter(|a| base.detector.as_ref().is_none_or(|d| &a.detector == d))
            .filter(|a| base.min_severity.is_none_or(|s| a.severity >= s))
            .filter(|a| base.since_micros.is_none_or(|t| a.ts_micros >= t))
            .filter(|a| base.until_micros.is_none_or(|t| a.ts_micros < t))
            .map(|a| a.alert_id.as_str())
            .collect();
        assert!(!expect.is_empty() && expect.len() <= alerts.len());
        for limit in [1, 5, expect.len(), expect.len() - 1, 1_000] {
            let Some(limit) = Some(limit).filter(|&l| l > 0) else {
                continue;
            };
            let pages = collect_pages(
                store.as_ref(),
                &AlertQuery {
                    limit,
                    ..base.clone()
                },
            );
            let seen: Vec<&str> = pages.iter().flat_map(|p| ids_of(&p.alerts)).collect();
            assert_eq!(seen, expect, "limit {limit}, {base:?}");
            let seqs: Vec<u64> = pages
                .iter()
                .flat_map(|p| p.alerts.iter().map(|a| a.seq))
                .collect();
            assert!(seqs.windows(2).all(|w| w[0] < w[1]), "limit {limit}");
            assert_eq!(pages.len(), expect.len().div_ceil(limit), "limit {limit}");
            for (index, page) in pages.iter().enumerate() {
                let last_page = index + 1 == pages.len();
                assert!(page.alerts.len() <= limit);
                assert_eq!(
                    page.next_cursor,
                    (!last_page)
                        .then(|| page.alerts.last().map(|a| a.seq))
                        .flatten(),
                    "limit {limit}, page {index}"
                );
            }
        }
    }
}

pub fn duplicate_alert_ids_are_rejected_atomically(backend: &dyn Backend) {
    let store = backend.open();
    let a = |id: &str| alert(id, 1, "agent_behavior", ("agent", "a-1"), Severity::High);
    store
        .append_alerts(&[a("al-1"), a("al-2")], "detector", 5)
        .unwrap();

    let error = store
        .append_alerts(&[a("al-3"), a("al-1")], "detector", 9)
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::Conflict(m) if m.contains("`al-1`")),
        "{error}"
    );
    let error = store
        .append_alerts(&[a("al-4"), a("al-4")], "detector", 11)
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::Conflict(m) if m.contains("`al-4`")),
        "{error}"
    );

    // Nothing of the failed batches was written, the cursor did not move.
    assert_eq!(store.alert_count().unwrap(), 2);
    assert_eq!(store.cursor("detector").unwrap(), 5);
    assert_eq!(
        ids_of(&store.query_alerts(&query(100)).unwrap().alerts),
        vec!["al-1", "al-2"]
    );

    // And the failed batches used up no sequence numbers.
    store.append_alerts(&[a("al-3")], "detector", 12).unwrap();
    let page = store.query_alerts(&query(100)).unwrap();
    assert_eq!(
        page.alerts
            .iter()
            .map(|a| (a.seq, a.alert_id.as_str()))
            .collect::<Vec<_>>(),
        vec![(1, "al-1"), (2, "al-2"), (3, "al-3")]
    );
    assert_eq!(store.cursor("detector").unwrap(), 12);
}

pub fn cursors_are_named_and_persist(backend: &dyn Backend) {
    {
        let store = backend.open();
        store.append_alerts(&[], "detectors", 10).unwrap();
        store.append_alerts(&[], "exporter", 3).unwrap();
        assert_eq!(store.cursor("detectors").unwrap(), 10);
        assert_eq!(store.cursor("exporter").unwrap(), 3);
        assert_eq!(store.cursor("other").unwrap(), 0);
        // Progress without alerts writes no alert.
        assert_eq!(store.alert_count().unwrap(), 0);
    }
    let store = backend.open();
    assert_eq!(store.cursor("detectors").unwrap(), 10);
    assert_eq!(store.cursor("exporter").unwrap(), 3);
    store.append_alerts(&[], "detectors", 12).unwrap();
    assert_eq!(store.cursor("detectors").unwrap(), 12);
    // The cursor is set, not maxed: a consumer replaying from scratch moves it back.
    store.append_alerts(&[], "exporter", 1).unwrap();
    assert_eq!(store.cursor("exporter").unwrap(), 1);
    store
        .append_alerts(&[], "big", u64::try_from(i64::MAX).unwrap())
        .unwrap();
    assert_eq!(
        store.cursor("big").unwrap(),
        u64::try_from(i64::MAX).unwrap()
    );
}

pub fn data_survives_reopen(backend: &dyn Backend) {
    let batch = vec![
        directory_event(DirectoryKind::Agent, "a-1", 10, "v1"),
        event("e1", 11),
        directory_event(DirectoryKind::Ticket, "t-1", 12, "open"),
    ];
    let alerts = [alert(
        "al-1",
        11,
        "agent_behavior",
        ("agent", "a-1"),
        Severity::Medium,
    )];
    let (events, current, history, page) = {
        let store = backend.open();
        store.append_events(&batch).unwrap();
        store.append_alerts(&alerts, "detectors", 3).unwrap();
        (
            all_events(store.as_ref()),
            store
                .directory_current(DirectoryKind::Ticket, "t-1")
                .unwrap(),
            store
                .directory_history(DirectoryKind::Agent, "a-1")
                .unwrap(),
            store.query_alerts(&query(10)).unwrap(),
        )
    };
    assert_eq!(events.len(), 3);
    assert!(current.is_some());
    assert_eq!(history.len(), 1);
    assert_eq!(page.alerts.len(), 1);

    let store = backend.open();
    assert_eq!(all_events(store.as_ref()), events);
    assert_eq!(
        store
            .directory_current(DirectoryKind::Ticket, "t-1")
            .unwrap(),
        current
    );
    assert_eq!(
        store
            .directory_history(DirectoryKind::Agent, "a-1")
            .unwrap(),
        history
    );
    assert_eq!(store.query_alerts(&query(10)).unwrap(), page);
    assert_eq!(store.cursor("detectors").unwrap(), 3);
    assert_eq!(store.event_count().unwrap(), 3);
    assert_eq!(store.alert_count().unwrap(), 1);
    // Numbering goes on where it stopped.
    store
        .append_alerts(
            &[alert(
                "al-2",
                1,
                "agent_behavior",
                ("agent", "a-1"),
                Severity::Low,
            )],
            "detectors",
            4,
        )
        .unwrap();
    assert_eq!(store.query_alerts(&query(10)).unwrap().alerts[1].seq, 2);
    assert_eq!(
        store.append_events(&[event("e2", 1)]).unwrap(),
        AppendReceipt {
            first_seq: 4,
            last_seq: 4
        }
    );
}

pub fn invalid_requests_are_rejected_without_writing(backend: &dyn Backend) {
    let store = backend.open();
    let is_invalid = |result: Result<(), StoreError>| matches!(result, Err(StoreError::Invalid(_)));

    assert!(is_invalid(
        store
            .append_events(&[event("e1", 1), event("", 2)])
            .map(|_| ())
    ));
    let mut nul = event("e1", 1);
    nul.raw = "{\"a\":\"\0\"}".to_owned();
    assert!(is_invalid(
        store.append_events(&[event("e0", 0), nul]).map(|_| ())
    ));
    let mut nameless = directory_event(DirectoryKind::Agent, "a-1", 1, "v1");
    if let Some(update) = nameless.directory.as_mut() {
        update.id.clear();
    }
    assert!(is_invalid(store.append_events(&[nameless]).map(|_| ())));
    assert_eq!(store.event_count().unwrap(), 0);
    assert_eq!(store.last_seq().unwrap(), 0);
    assert_eq!(
        store.directory_history(DirectoryKind::Agent, "").unwrap(),
        vec![]
    );

    let good = alert("al-1", 1, "d", ("agent", "a-1"), Severity::Low);
    assert!(is_invalid(store.append_alerts(
        std::slice::from_ref(&good),
        "c",
        u64::MAX
    )));
    assert!(is_invalid(store.append_alerts(
        std::slice::from_ref(&good),
        "",
        1
    )));
    let mut nul_alert = good.clone();
    nul_alert.json = "\0".to_owned();
    assert!(is_invalid(store.append_alerts(&[nul_alert], "c", 1)));
    assert_eq!(store.alert_count().unwrap(), 0);
    assert_eq!(store.cursor("c").unwrap(), 0);

    assert!(matches!(
        store.query_alerts(&AlertQuery::default()),
        Err(StoreError::Invalid(_))
    ));

    // The store is still fine and numbering starts at 1.
    assert_eq!(store.append_events(&[event("e1", 1)]).unwrap().first_seq, 1);
    store.append_alerts(&[good], "c", 1).unwrap();
    assert_eq!(store.query_alerts(&query(1)).unwrap().alerts[0].seq, 1);
}

pub fn concurrent_appends_get_disjoint_consecutive_ranges(backend: &dyn Backend) {
    let store = backend.open();
    let store = store.as_ref();
    let threads: usize = 4;
    let batches_per_thread: i64 = 10;
    let batch_len: usize = 5;
    let receipts: Vec<(String, AppendReceipt)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    (0..batches_per_thread)
                        .map(|b| {
                            let name = format!("t{t}-b{b}");
                            let batch: Vec<_> = (0..batch_len)
                                .map(|i| {
                                    let mut e = directory_event(
                                        DirectoryKind::Agent,
                                        &format!("a-{t}"),
                                        b,
                                        &format!("{b}-{i}"),
                                    );
                                    e.event_id = format!("{name}-{i}");
                                    e
                                })
                                .collect();
                            (name, store.append_events(&batch).unwrap())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });

    let total =
        u64::try_from(threads * batch_len).unwrap() * u64::try_from(batches_per_thread).unwrap();
    let events = all_events(store);
    assert_eq!(events.len(), usize::try_from(total).unwrap());
    assert_eq!(store.last_seq().unwrap(), total);
    let mut covered = HashSet::new();
    for (name, receipt) in &receipts {
        assert_eq!(receipt.len(), u64::try_from(batch_len).unwrap());
        for (seq, i) in (receipt.first_seq..=receipt.last_seq).zip(0..) {
            assert!(covered.insert(seq), "seq {seq} handed out twice");
            let stored = &events[usize::try_from(seq - 1).unwrap()];
            assert_eq!(stored.seq, seq);
            assert_eq!(stored.event_id, format!("{name}-{i}"));
        }
    }
    assert_eq!(covered, (1..=total).collect());
    for t in 0..threads {
        let current = store
            .directory_current(DirectoryKind::Agent, &format!("a-{t}"))
            .unwrap()
            .unwrap();
        assert_eq!(current.ts_micros, batches_per_thread - 1);
        assert!(
            current
                .raw
                .contains(&format!("\"{}-{}\"", batches_per_thread - 1, batch_len - 1))
        );
    }
}

pub fn two_handles_share_one_sequence(backend: &dyn Backend) {
    let first = backend.open();
    let second = backend.open();
    assert_eq!(
        first
            .append_events(&[event("a", 1), event("b", 2)])
            .unwrap()
            .last_seq,
        2
    );
    assert_eq!(
        second.append_events(&[event("c", 3)]).unwrap(),
        AppendReceipt {
            first_seq: 3,
            last_seq: 3
        }
    );
    assert_eq!(first.append_events(&[event("d", 4)]).unwrap().first_seq, 4);
    assert_eq!(all_events(first.as_ref()), all_events(second.as_ref()));
    assert_eq!(second.last_seq().unwrap(), 4);
    let a = |id: &str| alert(id, 1, "d", ("agent", "a-1"), Severity::Low);
    first.append_alerts(&[a("al-1")], "c", 1).unwrap();
    assert!(matches!(
        second.append_alerts(&[a("al-1")], "c", 2),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(second.cursor("c").unwrap(), 1);
}

pub fn ping_reports_a_live_database(backend: &dyn Backend) {
    let store = backend.open();
    store.ping().unwrap();
    assert_eq!(store.backend(), backend.name());
    store.append_events(&[event("e", 1)]).unwrap();
    store.ping().unwrap();
}
