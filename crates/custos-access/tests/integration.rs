//! The one integration test binary of custos-access: the conformance suite
//! (`integration/suite.rs`) against SQLite and PostgreSQL, and the access
//! service end to end (`integration/service.rs`) over a real vault, the
//! shipped policies and the SQLite store.
//!
//! PostgreSQL cases need `CUSTOS_TEST_DATABASE_URL` (for example
//! `postgres://postgres@127.0.0.1:5432/test`); without it each prints
//! `skipped: CUSTOS_TEST_DATABASE_URL is not set` and passes. Each uses a
//! fresh schema with a random name and drops it at the end.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "integration/property.rs"]
mod property;
#[path = "integration/service.rs"]
mod service;
#[path = "integration/suite.rs"]
mod suite;
#[path = "integration/support.rs"]
mod support;

/// One `#[test]` per suite case and backend: `sqlite::case`, `postgres::case`.
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
    request_then_approve_by_a_lead_with_step_up,
    self_approval_is_refused_in_any_spelling,
    the_requesters_lead_chain_may_not_approve,
    approver_needs_an_approving_role_and_a_fresh_step_up,
    decided_grants_cannot_be_decided_again,
    budget_is_spent_all_or_nothing,
    expired_grants_are_neither_active_nor_spendable,
    revoked_grants_stop_at_once,
    invalid_requests_are_refused_without_writing,
    totp_step_up_accepts_each_time_step_once,
    repeated_failures_lock_step_up,
    a_step_up_verified_by_another_factor_counts_for_approval,
    data_survives_reopen,
    concurrent_spends_never_overdraw,
    concurrent_verifies_of_one_code_accept_it_once,
);

/// A terminated server connection (`pg_terminate_backend`) is replaced: the
/// next reads run on a fresh connection instead of failing on the dead one.
/// (Whether the client first sees the socket closed or the server's 57P01
/// message depends on timing; `run` treats both as a lost connection.)
#[test]
fn postgres_lost_connections_are_replaced() {
    use custos_access::GrantStore as _;
    let Some(backend) = support::PostgresBackend::new() else {
        return;
    };
    let store =
        custos_access::PostgresAccessStore::connect_with_schema(&backend.url, &backend.schema)
            .unwrap();
    assert!(store.pending_grants(10).unwrap().is_empty());
    let mut admin = ::postgres::Client::connect(&backend.url, ::postgres::NoTls).unwrap();
    let killed: i64 = admin
        .query_one(
            "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE application_name = $1) AS killed",
            &[&format!("custos-access/{}", backend.schema)],
        )
        .unwrap()
        .get(0);
    assert!(killed >= 1, "no access-store connection was found to kill");
    for _ in 0..3 {
        assert!(store.pending_grants(10).unwrap().is_empty());
    }
}
