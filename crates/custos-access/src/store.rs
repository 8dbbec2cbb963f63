//! The storage traits of grants and step-up state, the records they keep,
//! and what both backends share (column lists, row conversion).
//!
//! Every method is one transaction, and every check-then-change is one
//! conditional statement (`UPDATE … WHERE status = 'pending'`,
//! `… WHERE reveals_remaining >= ?`, `… WHERE last_step < ?`), so two
//! handles racing on one database can never both win.

use custos_broker::{Grant, GrantStatus};
use custos_core::event::FieldClass;
use custos_core::id::{AgentId, CustomerId, TicketId};
use custos_core::time::{EventTime, Span};
use serde::Serialize;

use crate::error::AccessStoreError;
use crate::ids::GrantId;

/// A reveal grant as stored: what was asked, who decided, what is left.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GrantRecord {
    pub id: GrantId,
    pub status: GrantStatus,
    pub requester: AgentId,
    pub customer: CustomerId,
    pub ticket: TicketId,
    /// Sorted, without duplicates.
    pub fields: Vec<FieldClass>,
    /// The purpose stated by the requester; a reveal must state the same.
    pub purpose: String,
    /// How long the grant lasts once approved.
    #[serde(serialize_with = "span_secs")]
    pub ttl: Span,
    pub reveal_budget: u32,
    pub reveals_remaining: u32,
    pub requested_at: EventTime,
    /// Who approved or rejected it.
    pub decided_by: Option<AgentId>,
    pub decided_at: Option<EventTime>,
    /// Set at approval: `decided_at + ttl`.
    pub expires_at: Option<EventTime>,
    pub revoked_by: Option<AgentId>,
    pub revoked_at: Option<EventTime>,
    /// The reason code of a rejection or revocation.
    pub reason: Option<String>,
}

fn span_secs<S: serde::Serializer>(span: &Span, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(span.as_micros() / 1_000_000)
}

impl GrantRecord {
    /// The broker's view of this grant; `None` until it has an expiry
    /// (pending, or rejected before approval).
    pub fn to_broker_grant(&self) -> Option<Grant> {
        Some(Grant {
            status: self.status,
            requester: self.requester.clone(),
            approver: self.decided_by.clone(),
            ticket: self.ticket.clone(),
            customer: self.customer.clone(),
            fields: self.fields.clone(),
            expires_at: self.expires_at?,
            reveals_remaining: self.reveals_remaining,
        })
    }
}

/// A change of a grant's status, applied only from the status it needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transition {
    /// pending → approved, budget and expiry set.
    Approve {
        by: AgentId,
        at: EventTime,
        expires_at: EventTime,
    },
    /// pending → rejected.
    Reject {
        by: AgentId,
        at: EventTime,
        reason: String,
    },
    /// pending or approved → revoked.
    Revoke {
        by: AgentId,
        at: EventTime,
        reason: String,
    },
}

/// Where grants live. Implementations: [`crate::SqliteAccessStore`],
/// [`crate::PostgresAccessStore`].
pub trait GrantStore: Send + Sync {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Stores a new grant (normally pending). A duplicate id is `Internal`.
    fn insert_grant(&self, grant: &GrantRecord) -> Result<(), AccessStoreError>;

    fn grant(&self, id: &GrantId) -> Result<Option<GrantRecord>, AccessStoreError>;

    /// Applies `change` if the grant is in the status the change needs, and
    /// returns the changed record; `None` when it is not (or is unknown).
    fn transition(
        &self,
        id: &GrantId,
        change: &Transition,
    ) -> Result<Option<GrantRecord>, AccessStoreError>;

    /// Spends `reveals` of the budget if the grant is approved, unexpired at
    /// `now` and has that many left, all or nothing; returns what is left, or
    /// `None` when nothing was spent.
    fn spend(
        &self,
        id: &GrantId,
        reveals: u32,
        now: EventTime,
    ) -> Result<Option<u32>, AccessStoreError>;

    /// Approved grants of `requester` for this customer and ticket,
    /// unexpired at `now`, with budget left; newest first.
    fn active_grants(
        &self,
        requester: &AgentId,
        customer: &CustomerId,
        ticket: &TicketId,
        now: EventTime,
    ) -> Result<Vec<GrantRecord>, AccessStoreError>;

    /// Pending grants, oldest first, at most `limit`: the approvals inbox.
    fn pending_grants(&self, limit: usize) -> Result<Vec<GrantRecord>, AccessStoreError>;

    /// Pending and approved grants on `ticket` (to revoke when it closes or
    /// is reassigned).
    fn open_grants_for_ticket(
        &self,
        ticket: &TicketId,
    ) -> Result<Vec<GrantRecord>, AccessStoreError>;
}

/// An agent's step-up enrolment and its counters.
#[derive(Clone, PartialEq, Eq)]
pub struct StepUpState {
    /// The TOTP secret sealed under the caller's key (see [`crate::seal`]).
    pub sealed_secret: Vec<u8>,
    pub enrolled_at: EventTime,
    /// The last accepted time step: no step up to it is accepted again.
    pub last_step: Option<i64>,
    /// Failures since the last success or lock.
    pub failures: u32,
    pub locked_until: Option<EventTime>,
    /// When the agent last completed a step-up.
    pub step_up_at: Option<EventTime>,
}

impl std::fmt::Debug for StepUpState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepUpState")
            .field("sealed_secret", &"<redacted>")
            .field("enrolled_at", &self.enrolled_at)
            .field("last_step", &self.last_step)
            .field("failures", &self.failures)
            .field("locked_until", &self.locked_until)
            .field("step_up_at", &self.step_up_at)
            .finish()
    }
}

/// What [`StepUpStore::record_failure`] left behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureCount {
    /// Failures counted now (0 right after a lock began).
    pub failures: u32,
    pub locked_until: Option<EventTime>,
}

/// Where step-up enrolments and their replay and failure counters live.
pub trait StepUpStore: Send + Sync {
    /// Enrols `agent`; `false` (and nothing written) when already enrolled.
    fn enrol(
        &self,
        agent: &AgentId,
        sealed_secret: &[u8],
        at: EventTime,
    ) -> Result<bool, AccessStoreError>;

    /// Removes an enrolment (an administrator resetting a lost phone);
    /// `false` when there was none.
    fn unenrol(&self, agent: &AgentId) -> Result<bool, AccessStoreError>;

    fn step_up_state(&self, agent: &AgentId) -> Result<Option<StepUpState>, AccessStoreError>;

    /// Accepts time step `step` at `at` if it is later than every step
    /// accepted before and the agent is not locked at `at`: sets
    /// `last_step`, `step_up_at = at` and clears the failures. `false` when
    /// refused (a replay, or locked meanwhile).
    fn accept_step(
        &self,
        agent: &AgentId,
        step: i64,
        at: EventTime,
    ) -> Result<bool, AccessStoreError>;

    /// Counts a failure; the `max_failures`-th starts a lock until
    /// `lock_until` and resets the count. `None` when not enrolled.
    fn record_failure(
        &self,
        agent: &AgentId,
        max_failures: u32,
        lock_until: EventTime,
    ) -> Result<Option<FailureCount>, AccessStoreError>;

    /// When `agent` last completed a step-up; `None` if never or not enrolled.
    fn step_up_at(&self, agent: &AgentId) -> Result<Option<EventTime>, AccessStoreError>;

    /// Records a step-up at `at` that another factor verified (a console
    /// passkey): sets `step_up_at = at` if the agent is enrolled and not
    /// locked at `at`, leaving `last_step` and the failures as they are.
    /// `false` when refused (not enrolled, or locked).
    fn record_step_up(&self, agent: &AgentId, at: EventTime) -> Result<bool, AccessStoreError>;
}

// ------------------------------------------------------------ shared SQL

/// The columns of a grant row, in [`GrantRow`] order, as a literal for `concat!`.
macro_rules! grant_columns {
    () => {
        "grant_id, status, requester, customer_id, ticket_id, fields, purpose, ttl_micros, \
         reveal_budget, reveals_remaining, requested_at, decided_by, decided_at, expires_at, \
         revoked_by, revoked_at, reason"
    };
}
pub(crate) use grant_columns;

pub(crate) fn status_str(status: GrantStatus) -> &'static str {
    match status {
        GrantStatus::Pending => "pending",
        GrantStatus::Approved => "approved",
        GrantStatus::Rejected => "rejected",
        GrantStatus::Revoked => "revoked",
    }
}

fn parse_status(text: &str) -> Option<GrantStatus> {
    [
        GrantStatus::Pending,
        GrantStatus::Approved,
        GrantStatus::Rejected,
        GrantStatus::Revoked,
    ]
    .into_iter()
    .find(|s| status_str(*s) == text)
}

/// A grant row in plain column types, the same for both backends.
#[derive(Clone, Debug)]
pub(crate) struct GrantRow {
    pub grant_id: String,
    pub status: String,
    pub requester: String,
    pub customer_id: String,
    pub ticket_id: String,
    pub fields: String,
    pub purpose: String,
    pub ttl_micros: i64,
    pub reveal_budget: i64,
    pub reveals_remaining: i64,
    pub requested_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub revoked_by: Option<String>,
    pub revoked_at: Option<i64>,
    pub reason: Option<String>,
}

pub(crate) fn fields_to_text(fields: &[FieldClass]) -> String {
    fields
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

impl GrantRow {
    pub(crate) fn from_record(grant: &GrantRecord) -> GrantRow {
        GrantRow {
            grant_id: grant.id.as_str().to_owned(),
            status: status_str(grant.status).to_owned(),
            requester: grant.requester.as_str().to_owned(),
            customer_id: grant.customer.as_str().to_owned(),
            ticket_id: grant.ticket.as_str().to_owned(),
            fields: fields_to_text(&grant.fields),
            purpose: grant.purpose.clone(),
            ttl_micros: grant.ttl.as_micros(),
            reveal_budget: i64::from(grant.reveal_budget),
            reveals_remaining: i64::from(grant.reveals_remaining),
            requested_at: grant.requested_at.as_micros(),
            decided_by: grant.decided_by.as_ref().map(|a| a.as_str().to_owned()),
            decided_at: grant.decided_at.map(EventTime::as_micros),
            expires_at: grant.expires_at.map(EventTime::as_micros),
            revoked_by: grant.revoked_by.as_ref().map(|a| a.as_str().to_owned()),
            revoked_at: grant.revoked_at.map(EventTime::as_micros),
            reason: grant.reason.clone(),
        }
    }

    pub(crate) fn into_record(self) -> Result<GrantRecord, AccessStoreError> {
        let bad = |what: &str| {
            AccessStoreError::Internal(format!(
                "stored grant `{}` has an unreadable {what}",
                self.grant_id.escape_debug().take(64).collect::<String>()
            ))
        };
        let agent = |text: &str| AgentId::parse(text).map_err(|_| bad("agent id"));
        let count = |value: i64| u32::try_from(value).map_err(|_| bad("count"));
        let mut fields = Vec::new();
        for name in self.fields.split(',').filter(|n| !n.is_empty()) {
            fields.push(FieldClass::parse(name).ok_or_else(|| bad("field"))?);
        }
        Ok(GrantRecord {
            id: GrantId::parse(&self.grant_id).ok_or_else(|| bad("id"))?,
            status: parse_status(&self.status).ok_or_else(|| bad("status"))?,
            requester: agent(&self.requester)?,
            customer: CustomerId::parse(self.customer_id.as_str())
                .map_err(|_| bad("customer id"))?,
            ticket: TicketId::parse(self.ticket_id.as_str()).map_err(|_| bad("ticket id"))?,
            fields,
            purpose: self.purpose.clone(),
            ttl: Span::from_micros(self.ttl_micros),
            reveal_budget: count(self.reveal_budget)?,
            reveals_remaining: count(self.reveals_remaining)?,
            requested_at: EventTime::from_micros(self.requested_at),
            decided_by: self.decided_by.as_deref().map(agent).transpose()?,
            decided_at: self.decided_at.map(EventTime::from_micros),
            expires_at: self.expires_at.map(EventTime::from_micros),
            revoked_by: self.revoked_by.as_deref().map(agent).transpose()?,
            revoked_at: self.revoked_at.map(EventTime::from_micros),
            reason: self.reason.clone(),
        })
    }
}

/// Versioned migrations: `(version, name, sql)`, versions from 1 by 1.
pub(crate) type Migration = (i64, &'static str, &'static str);

pub(crate) const SQLITE_MIGRATIONS: &[Migration] = &[(
    1,
    "init",
    include_str!("../migrations/sqlite/0001_init.sql"),
)];

pub(crate) const POSTGRES_MIGRATIONS: &[Migration] = &[(
    1,
    "init",
    include_str!("../migrations/postgres/0001_init.sql"),
)];

/// The migrations after `applied`; a database newer than the build is refused.
pub(crate) fn pending_migrations(
    migrations: &'static [Migration],
    applied: i64,
) -> Result<&'static [Migration], AccessStoreError> {
    let latest = migrations.last().map_or(0, |m| m.0);
    if applied > latest {
        return Err(AccessStoreError::Internal(format!(
            "access schema version `{applied}` is newer than this build supports (`{latest}`)"
        )));
    }
    let start = migrations
        .iter()
        .position(|m| m.0 > applied)
        .unwrap_or(migrations.len());
    Ok(&migrations[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_step_by_one_and_match_between_backends() {
        for list in [SQLITE_MIGRATIONS, POSTGRES_MIGRATIONS] {
            for (index, migration) in list.iter().enumerate() {
                assert_eq!(migration.0, index as i64 + 1);
            }
        }
        let names = |list: &[Migration]| list.iter().map(|m| (m.0, m.1)).collect::<Vec<_>>();
        assert_eq!(names(SQLITE_MIGRATIONS), names(POSTGRES_MIGRATIONS));
        assert_eq!(pending_migrations(SQLITE_MIGRATIONS, 0).unwrap().len(), 1);
        assert!(pending_migrations(SQLITE_MIGRATIONS, 1).unwrap().is_empty());
        assert!(pending_migrations(SQLITE_MIGRATIONS, 2).is_err());
    }

    #[test]
    fn statuses_round_trip() {
        for status in [
            GrantStatus::Pending,
            GrantStatus::Approved,
            GrantStatus::Rejected,
            GrantStatus::Revoked,
        ] {
            assert_eq!(parse_status(status_str(status)), Some(status));
        }
        assert_eq!(parse_status("Approved"), None);
    }
}
