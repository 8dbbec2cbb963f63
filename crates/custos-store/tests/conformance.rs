//! The one integration test binary of custos-store: the conformance suite
//! (`conformance/suite.rs`) run against SQLite and PostgreSQL, the model-based
//! property test, and tests of what only one backend has.
//!
//! PostgreSQL tests need `CUSTOS_TEST_DATABASE_URL` (for example
//! `postgres://postgres@127.0.0.1:5432/test`); without it each prints
//! `skipped: CUSTOS_TEST_DATABASE_URL is not set` and passes. Each uses a
//! fresh schema with a random name and drops it at the end.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// Crate roots look for modules beside themselves; these live in
// `conformance/` so cargo does not build each as a test binary of its own.
#[path = "conformance/model.rs"]
mod model;
#[path = "conformance/suite.rs"]
mod suite;
#[path = "conformance/support.rs"]
mod support;

use std::thread;
use std::time::{Duration, Instant};

use custos_store::{
    AlertQuery, DirectoryKind, PostgresStore, Severity, SqliteStore, Store, StoreError, open_store,
};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};

use crate::support::{Backend, PostgresBackend, SqliteBackend};

/// One `#[test]` per suite case and backend: `sqlite::case` and `postgres::case`.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $case() {
                    crate::suite::$case(&crate::support::SqliteBackend::new());
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $case() {
                    let Some(backend) = crate::support::PostgresBackend::new() else { return };
                    crate::suite::$case(&backend);
                }
            )*
        }
    };
}

conformance!(
    empty_store_reports_nothing,
    sequence_numbers_are_consecutive_and_never_reused,
    events_round_trip_byte_for_byte,
    read_events_pages_in_sequence_order,
    directory_current_keeps_the_latest_event_time,
    directory_list_pages_current_records_by_id,
    alerts_round_trip_with_their_own_sequence,
    alert_filters_select_exactly_the_matches,
    alert_pages_visit_every_match_once,
    duplicate_alert_ids_are_rejected_atomically,
    cursors_are_named_and_persist,
    data_survives_reopen,
    invalid_requests_are_rejected_without_writing,
    concurrent_appends_get_disjoint_consecutive_ranges,
    two_handles_share_one_sequence,
    ping_reports_a_live_database,
);

// ------------------------------------------------------------ property test

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn sqlite_directory_matches_the_model(script in model::script()) {
        model::check_against_model(&SqliteBackend::new(), &script)?;
    }
}

#[test]
fn postgres_directory_matches_the_model() {
    if support::postgres_url().is_none() {
        return;
    }
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 12,
        ..ProptestConfig::default()
    });
    let result = runner.run(&model::script(), |script| {
        let backend = PostgresBackend::new().expect("the url was set a moment ago");
        model::check_against_model(&backend, &script)
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}

// ------------------------------------------------------------ sqlite only

#[test]
fn sqlite_creates_the_data_directory_and_uses_wal() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("nested").join("data");
    for _ in 0..3 {
        let store = SqliteStore::open(&data_dir).unwrap();
        assert_eq!(
            store.path(),
            data_dir.join(custos_store::DATABASE_FILE_NAME)
        );
        store.append_events(&[suite::event("e", 1)]).unwrap();
    }
    let connection = rusqlite::Connection::open(data_dir.join("custos.db")).unwrap();
    let journal_mode: String = connection
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(journal_mode, "wal");
    // Reopening applied each migration exactly once.
    let versions: Vec<i64> = connection
        .prepare("SELECT version FROM schema_migrations ORDER BY version")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(versions, vec![1]);
    let events: i64 = connection
        .query_row("SELECT count(*) FROM events", [], |row| row.get(0))
        .unwrap();
    assert_eq!(events, 3);
}

/// Set in the child process of `sqlite_commits_survive_a_process_crash`.
const CRASH_DIR_VARIABLE: &str = "CUSTOS_STORE_TEST_CRASH_DIR";

/// A process that dies right after `append_events` returns (no destructor,
/// no checkpoint, no clean close) loses nothing it was told was committed.
#[test]
fn sqlite_commits_survive_a_process_crash() {
    if let Ok(dir) = std::env::var(CRASH_DIR_VARIABLE) {
        let store = SqliteStore::open(std::path::Path::new(&dir)).unwrap();
        let batch: Vec<_> = (0..500)
            .map(|i| suite::event(&format!("e{i}"), i))
            .collect();
        store.append_events(&batch).unwrap();
        store
            .append_alerts(
                &[suite::alert(
                    "al-1",
                    1,
                    "d",
                    ("agent", "a-1"),
                    Severity::High,
                )],
                "detectors",
                500,
            )
            .unwrap();
        std::process::abort();
    }
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "sqlite_commits_survive_a_process_crash",
            "--exact",
            "--test-threads=1",
        ])
        .env(CRASH_DIR_VARIABLE, dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child was meant to abort");
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.last_seq().unwrap(), 500);
    let events = store.read_events(0, 1_000).unwrap();
    assert_eq!(events.len(), 500);
    assert_eq!(events[499].event_id, "e499");
    assert_eq!(store.alert_count().unwrap(), 1);
    assert_eq!(store.cursor("detectors").unwrap(), 500);
}

#[test]
fn sqlite_reads_are_not_blocked_by_an_open_write() {
    let backend = SqliteBackend::new();
    let store = backend.open();
    store
        .append_events(&[suite::event("committed", 1)])
        .unwrap();

    // Another writer holds the write lock with an uncommitted row.
    let mut other = rusqlite::Connection::open(backend.dir.path().join("custos.db")).unwrap();
    let tx = other
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    tx.execute(
        "INSERT INTO events (seq, event_id, event_type, ts_micros, raw) VALUES (2, 'u', 't', 0, '{}')",
        [],
    )
    .unwrap();

    let started = Instant::now();
    let events = store.read_events(0, 10).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_id, "committed");
    assert_eq!(store.last_seq().unwrap(), 1);
    store.ping().unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    tx.rollback().unwrap();
}

#[test]
fn sqlite_refuses_a_data_directory_it_cannot_create() {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let error = SqliteStore::open(&file.join("data")).unwrap_err();
    assert!(error.is_unavailable(), "{error}");
    assert!(error.to_string().contains("a-file"), "{error}");
}

// ------------------------------------------------------------ open_store

#[test]
fn open_store_defaults_to_sqlite_in_the_data_directory() {
    let root = tempfile::tempdir().unwrap();
    let store = open_store(None, root.path()).unwrap();
    assert_eq!(store.backend(), "sqlite");
    assert!(root.path().join("custos.db").exists());
}

#[test]
fn open_store_rejects_other_schemes_without_echoing_the_url() {
    let root = tempfile::tempdir().unwrap();
    let check = |url: &str, expect: &str| {
        let error = open_store(Some(url), root.path()).err().expect("an error");
        assert!(matches!(error, StoreError::Invalid(_)), "{error}");
        let message = error.to_string();
        assert!(message.contains(expect), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    };
    check("mysql://root:hunter2@db/custos", "`mysql`");
    check("sqlite:///var/lib/custos.db", "`sqlite`");
    check("host=db user=u password=hunter2", "no scheme");
    check("", "no scheme");
    check("Postgres://u:hunter2@db/custos", "`Postgres`");
}

#[test]
fn unreachable_postgres_is_unavailable_and_hides_the_password() {
    let root = tempfile::tempdir().unwrap();
    for url in [
        "postgres://postgres:hunter2@127.0.0.1:1/test",
        "postgresql://postgres:hunter2@127.0.0.1:1/test?connect_timeout=2",
    ] {
        let error = open_store(Some(url), root.path()).err().expect("an error");
        assert!(error.is_unavailable(), "{error}");
        let message = error.to_string();
        assert!(message.contains("127.0.0.1:1/test"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
        let error = PostgresStore::connect_with_schema(url, "s").unwrap_err();
        assert!(error.is_unavailable(), "{error}");
    }
    assert!(matches!(
        PostgresStore::connect_with_schema("postgres://127.0.0.1:1/test", "Bad-Name"),
        Err(StoreError::Invalid(_))
    ));
}

#[test]
fn open_store_connects_to_postgres_urls() {
    let Some(backend) = PostgresBackend::new() else {
        return;
    };
    backend
        .open()
        .append_events(&[suite::event("seen-through-the-url", 1)])
        .unwrap();
    // The same schema through a plain url (search_path in `options`).
    let separator = if backend.url.contains('?') { '&' } else { '?' };
    let url = format!(
        "{}{separator}options=-csearch_path%3D{}",
        backend.url, backend.schema
    );
    let root = tempfile::tempdir().unwrap();
    let store = open_store(Some(&url), root.path()).unwrap();
    assert_eq!(store.backend(), "postgres");
    let events = store.read_events(0, 10).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_id, "seen-through-the-url");
    assert!(!root.path().join("custos.db").exists());
}

// ------------------------------------------------------------ postgres only

/// Terminates the store's server-side connections, as a database restart
/// does, and waits until they are gone.
fn terminate_store_connections(backend: &PostgresBackend) {
    let mut admin = backend.admin_client();
    let name = backend.application_name();
    let terminated: i64 = admin
        .query_one(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE application_name = $1 AND pid <> pg_backend_pid()) t",
            &[&name],
        )
        .unwrap()
        .get(0);
    assert!(terminated >= 1, "no connection of `{name}` to terminate");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                &[&name],
            )
            .unwrap()
            .get(0);
        if left == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "connections of `{name}` did not go away"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn postgres_reconnects_after_losing_its_connections() {
    let Some(backend) = PostgresBackend::new() else {
        return;
    };
    let store = backend.open();
    store.append_events(&[suite::event("before", 1)]).unwrap();
    store
        .append_alerts(
            &[suite::alert(
                "al-1",
                1,
                "d",
                ("agent", "a-1"),
                Severity::Low,
            )],
            "c",
            1,
        )
        .unwrap();

    // Every call right after a restart succeeds: writes, reads, ping.
    terminate_store_connections(&backend);
    let receipt = store.append_events(&[suite::event("after", 2)]).unwrap();
    assert_eq!((receipt.first_seq, receipt.last_seq), (2, 2));
    let events = store.read_events(0, 10).unwrap();
    assert_eq!(
        events
            .iter()
            .map(|e| e.event_id.as_str())
            .collect::<Vec<_>>(),
        vec!["before", "after"]
    );

    terminate_store_connections(&backend);
    store.ping().unwrap();
    store
        .append_alerts(
            &[suite::alert(
                "al-2",
                2,
                "d",
                ("agent", "a-1"),
                Severity::Low,
            )],
            "c",
            2,
        )
        .unwrap();

    terminate_store_connections(&backend);
    let page = store
        .query_alerts(&AlertQuery {
            limit: 10,
            ..AlertQuery::default()
        })
        .unwrap();
    assert_eq!(page.alerts.len(), 2);
    assert_eq!(store.cursor("c").unwrap(), 2);
    assert_eq!(
        store
            .directory_current(DirectoryKind::Agent, "none")
            .unwrap(),
        None
    );
}

#[test]
fn postgres_schemas_isolate_stores() {
    let Some(first) = PostgresBackend::new() else {
        return;
    };
    let Some(second) = PostgresBackend::new() else {
        return;
    };
    first.open().append_events(&[suite::event("e", 1)]).unwrap();
    let other = second.open();
    assert_eq!(other.last_seq().unwrap(), 0);
    assert_eq!(
        other
            .append_events(&[suite::event("e", 1)])
            .unwrap()
            .first_seq,
        1
    );
}

#[test]
fn postgres_store_debug_output_hides_the_password() {
    let Some(backend) = PostgresBackend::new() else {
        return;
    };
    let store = PostgresStore::connect_with_schema(&backend.url, &backend.schema).unwrap();
    let debug = format!("{store:?}");
    assert!(debug.contains(&backend.schema), "{debug}");
    assert!(!debug.contains("password"), "{debug}");
}
