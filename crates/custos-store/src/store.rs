//! The [`Store`] trait and the plain records that go in and come out of it.

use std::fmt;
use std::str::FromStr;

use crate::error::StoreError;

/// The storage interface of custos, implemented by
/// [`SqliteStore`](crate::SqliteStore) and
/// [`PostgresStore`](crate::PostgresStore).
///
/// Every method blocks the calling thread. Implementations serialize writers
/// internally, so a store can be shared between threads (`Arc<dyn Store>`).
pub trait Store: Send + Sync {
    /// Appends a batch of events in ONE transaction with a durable commit
    /// (SQLite: `synchronous=FULL` in WAL mode; PostgreSQL: a normal commit).
    ///
    /// Assigns consecutive sequence numbers: 1 for the first event of an
    /// empty store, strictly increasing, gap-free within and across batches,
    /// never reused. A batch that fails writes nothing and uses up no numbers.
    ///
    /// In the same transaction, each event with `directory: Some(..)` adds a
    /// history row and may replace the current-state row of its directory
    /// entry. The current row is replaced only if the new event's `ts_micros`
    /// is greater than or equal to the current one's, so a late record never
    /// rolls state back; on equal timestamps the later sequence number wins.
    ///
    /// An empty batch writes nothing and returns an empty receipt
    /// (see [`AppendReceipt`]).
    fn append_events(&self, batch: &[NewEvent]) -> Result<AppendReceipt, StoreError>;

    /// Events with `seq > after_seq`, ascending by `seq`, at most `limit` of
    /// them (none when `limit` is 0).
    fn read_events(&self, after_seq: u64, limit: usize) -> Result<Vec<StoredEvent>, StoreError>;

    /// The highest sequence number ever assigned, 0 for an empty store.
    fn last_seq(&self) -> Result<u64, StoreError>;

    /// The number of stored events.
    fn event_count(&self) -> Result<u64, StoreError>;

    /// The current state of one directory entry: the record with the latest
    /// event time (latest sequence number among equal times).
    fn directory_current(
        &self,
        kind: DirectoryKind,
        id: &str,
    ) -> Result<Option<DirectoryRecord>, StoreError>;

    /// The current records of one kind, ascending by id in byte order (so
    /// both backends page alike), after `after_id` (exclusive) when given,
    /// at most `limit` of them (none when `limit` is 0). Page by passing the
    /// last id of a page as the next `after_id`.
    fn directory_list(
        &self,
        kind: DirectoryKind,
        after_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DirectoryRecord>, StoreError>;

    /// Every record ever appended for one directory entry, ascending by
    /// `(ts_micros, seq)`.
    fn directory_history(
        &self,
        kind: DirectoryKind,
        id: &str,
    ) -> Result<Vec<DirectoryRecord>, StoreError>;

    /// Appends alerts and sets the consumer cursor named `cursor` to
    /// `cursor_seq` in ONE transaction, so a crash never records alerts
    /// without the progress that produced them, or progress without its
    /// alerts. `alerts` may be empty (progress only).
    ///
    /// Alerts get their own consecutive sequence numbers (see
    /// [`StoredAlert::seq`]). Alert ids are unique: a duplicate, against
    /// stored alerts or within the batch, is [`StoreError::Conflict`] and
    /// nothing of the call is written (the cursor does not move either).
    ///
    /// The cursor is set, not maxed: a consumer that restarts from scratch
    /// may move it back.
    fn append_alerts(
        &self,
        alerts: &[NewAlert],
        cursor: &str,
        cursor_seq: u64,
    ) -> Result<(), StoreError>;

    /// The position of the named consumer cursor, 0 if never set.
    fn cursor(&self, name: &str) -> Result<u64, StoreError>;

    /// One page of the alerts matching every filter of `query`, ascending by
    /// alert `seq`. Follow [`AlertPage::next_cursor`] (as
    /// [`AlertQuery::after_seq`]) to visit every match exactly once.
    ///
    /// `query.limit` must be at least 1 and is capped at
    /// [`MAX_ALERT_PAGE`](crate::MAX_ALERT_PAGE).
    fn query_alerts(&self, query: &AlertQuery) -> Result<AlertPage, StoreError>;

    /// The number of stored alerts.
    fn alert_count(&self) -> Result<u64, StoreError>;

    /// Cheap liveness check of the database (used by `/readyz`).
    ///
    /// For PostgreSQL this reconnects when the connection was lost, so a
    /// database that came back is reported ready again.
    fn ping(&self) -> Result<(), StoreError>;

    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;
}

/// An event to append. `raw` is the event's JSON text, kept byte for byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    /// The event's id; need not be unique (ids from different inputs may
    /// collide). Must not be empty.
    pub event_id: String,
    /// The event's `type`. Must not be empty.
    pub event_type: String,
    /// Event time in microseconds since the Unix epoch.
    pub ts_micros: i64,
    /// The event's JSON text.
    pub raw: String,
    /// Set for directory records (agents, customers, tickets): the event
    /// becomes a version of that directory entry.
    pub directory: Option<DirectoryUpdate>,
}

/// Which directory entry an event is a version of. The record body is the
/// event's `raw` JSON and its time is the event's `ts_micros`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryUpdate {
    pub kind: DirectoryKind,
    /// The entry's id, such as an agent id. Must not be empty.
    pub id: String,
}

/// The kinds of directory entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DirectoryKind {
    Agent,
    Customer,
    Ticket,
}

impl DirectoryKind {
    /// Every kind, in declaration order.
    pub const ALL: [DirectoryKind; 3] = [
        DirectoryKind::Agent,
        DirectoryKind::Customer,
        DirectoryKind::Ticket,
    ];

    /// `"agent"`, `"customer"` or `"ticket"`: the stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            DirectoryKind::Agent => "agent",
            DirectoryKind::Customer => "customer",
            DirectoryKind::Ticket => "ticket",
        }
    }
}

impl fmt::Display for DirectoryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DirectoryKind {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DirectoryKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| {
                StoreError::Invalid(format!(
                    "unknown directory kind `{s}`: expected `agent`, `customer` or `ticket`"
                ))
            })
    }
}

/// What [`Store::append_events`] assigned: the inclusive range
/// `first_seq..=last_seq`.
///
/// For an empty batch the range is empty: `first_seq` is the number the next
/// event will get and `last_seq == first_seq - 1` is the store's current last
/// sequence number (so an empty store answers `first_seq: 1, last_seq: 0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendReceipt {
    pub first_seq: u64,
    pub last_seq: u64,
}

impl AppendReceipt {
    /// How many events were appended.
    pub fn len(&self) -> u64 {
        self.last_seq
            .saturating_add(1)
            .saturating_sub(self.first_seq)
    }

    /// True when no event was appended.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An event as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    pub seq: u64,
    pub event_id: String,
    pub event_type: String,
    pub ts_micros: i64,
    pub raw: String,
}

/// One version of a directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryRecord {
    pub kind: DirectoryKind,
    pub id: String,
    /// The event time of the version.
    pub ts_micros: i64,
    /// The sequence number of the event that carried the version.
    pub seq: u64,
    /// The event's JSON text.
    pub raw: String,
}

/// An alert to append. `json` is the alert's JSON text; the other fields
/// are copies of what the store filters on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAlert {
    /// Unique across the store. Must not be empty.
    pub alert_id: String,
    /// Event time of the event that raised the alert, in microseconds.
    pub ts_micros: i64,
    pub detector: String,
    pub entity_kind: String,
    pub entity_id: String,
    pub severity: Severity,
    pub json: String,
}

/// Alert severity, ordered: `Low < Medium < High < Critical`. Stored as
/// 0..=3 so a minimum severity filters with `>=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// `"low"`, `"medium"`, `"high"` or `"critical"`, as in the wire contract.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The stored form, 0 (low) to 3 (critical).
    pub fn code(self) -> i16 {
        match self {
            Severity::Low => 0,
            Severity::Medium => 1,
            Severity::High => 2,
            Severity::Critical => 3,
        }
    }

    /// The severity whose stored form is `code`.
    pub fn from_code(code: i64) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|severity| i64::from(severity.code()) == code)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|severity| severity.as_str() == s)
            .ok_or_else(|| {
                StoreError::Invalid(format!(
                    "unknown severity `{s}`: expected `low`, `medium`, `high` or `critical`"
                ))
            })
    }
}

/// An alert as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAlert {
    /// The alert's own sequence number (separate from event numbers):
    /// consecutive from 1, in append order.
    pub seq: u64,
    pub alert_id: String,
    /// The alert's JSON text, byte for byte as appended.
    pub json: String,
}

/// Filters for [`Store::query_alerts`]; every `Some` must match.
///
/// `AlertQuery::default()` has `limit: 0`, which is rejected: set a limit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlertQuery {
    pub detector: Option<String>,
    pub entity_kind: Option<String>,
    pub entity_id: Option<String>,
    /// Alerts at least this severe.
    pub min_severity: Option<Severity>,
    /// Alerts with `ts_micros >= since_micros`.
    pub since_micros: Option<i64>,
    /// Alerts with `ts_micros < until_micros`.
    pub until_micros: Option<i64>,
    /// Alerts with `seq > after_seq`: the `next_cursor` of the previous page.
    pub after_seq: Option<u64>,
    /// Page size, 1 to [`MAX_ALERT_PAGE`](crate::MAX_ALERT_PAGE) (larger
    /// values are capped).
    pub limit: usize,
}

/// One page of alerts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertPage {
    /// Ascending by `seq`.
    pub alerts: Vec<StoredAlert>,
    /// `Some(seq of the last alert of this page)` exactly when more matching
    /// alerts follow; pass it as the next query's `after_seq`.
    pub next_cursor: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::{AppendReceipt, DirectoryKind, Severity};

    #[test]
    fn directory_kinds_round_trip_through_text() {
        for kind in DirectoryKind::ALL {
            assert_eq!(kind.as_str().parse::<DirectoryKind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert!("Agent".parse::<DirectoryKind>().is_err());
        assert!("".parse::<DirectoryKind>().is_err());
    }

    #[test]
    fn severities_round_trip_through_text_and_code() {
        let check = |text: &str, code: i16, severity: Severity| {
            assert_eq!(text.parse::<Severity>(), Ok(severity));
            assert_eq!(severity.as_str(), text);
            assert_eq!(severity.code(), code);
            assert_eq!(Severity::from_code(i64::from(code)), Some(severity));
        };
        check("low", 0, Severity::Low);
        check("medium", 1, Severity::Medium);
        check("high", 2, Severity::High);
        check("critical", 3, Severity::Critical);
        assert_eq!(Severity::from_code(4), None);
        assert_eq!(Severity::from_code(-1), None);
        assert!("HIGH".parse::<Severity>().is_err());
    }

    #[test]
    fn severity_order_matches_code_order() {
        for pair in Severity::ALL.windows(2) {
            assert!(pair[0] < pair[1]);
            assert!(pair[0].code() < pair[1].code());
        }
    }

    #[test]
    fn receipt_length_counts_the_inclusive_range() {
        let check = |first_seq, last_seq, len| {
            let receipt = AppendReceipt {
                first_seq,
                last_seq,
            };
            assert_eq!(receipt.len(), len);
            assert_eq!(receipt.is_empty(), len == 0);
        };
        check(1, 0, 0);
        check(7, 6, 0);
        check(1, 1, 1);
        check(4, 1003, 1000);
    }
}
