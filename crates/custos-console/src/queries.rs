//! The reads and writes of the pages against the console database (the
//! index, triage state and logs). Pure SQL, no HTML.

use crate::error::ConsoleError;
use custos_store::Severity;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use std::collections::BTreeMap;

/// Alerts per page of the queue.
pub const PAGE_SIZE: usize = 50;

/// A triage status filter of the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusFilter {
    /// Not resolved (new or acknowledged): the default.
    Open,
    New,
    Acknowledged,
    Resolved,
    /// Assigned to the signed-in user and not resolved.
    Mine,
    All,
}

impl StatusFilter {
    pub const ALL: [StatusFilter; 6] = [
        StatusFilter::Open,
        StatusFilter::New,
        StatusFilter::Acknowledged,
        StatusFilter::Resolved,
        StatusFilter::Mine,
        StatusFilter::All,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Open => "open",
            StatusFilter::New => "new",
            StatusFilter::Acknowledged => "acknowledged",
            StatusFilter::Resolved => "resolved",
            StatusFilter::Mine => "mine",
            StatusFilter::All => "all",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StatusFilter::Open => "Open (new or acknowledged)",
            StatusFilter::New => "New",
            StatusFilter::Acknowledged => "Acknowledged",
            StatusFilter::Resolved => "Resolved",
            StatusFilter::Mine => "Assigned to me",
            StatusFilter::All => "All",
        }
    }

    pub fn parse(text: &str) -> Option<StatusFilter> {
        StatusFilter::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// Sort order of the queue, by alert time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    Newest,
    Oldest,
}

/// The queue's filters, parsed from the query string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertFilter {
    pub detector: Option<String>,
    pub min_severity: Option<Severity>,
    pub entity: Option<String>,
    pub status: StatusFilter,
    pub sort: Sort,
    /// 1-based.
    pub page: usize,
}

impl Default for AlertFilter {
    fn default() -> AlertFilter {
        AlertFilter {
            detector: None,
            min_severity: None,
            entity: None,
            status: StatusFilter::Open,
            sort: Sort::Newest,
            page: 1,
        }
    }
}

impl AlertFilter {
    /// Parses the query string's pairs; unknown or malformed values fall
    /// back to the defaults (a filter is a convenience, not an input that
    /// can fail a page).
    pub fn from_pairs(pairs: &BTreeMap<String, String>) -> AlertFilter {
        let text = |key: &str| {
            pairs
                .get(key)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty() && v.len() <= 200)
                .map(str::to_owned)
        };
        AlertFilter {
            detector: text("detector"),
            min_severity: text("severity").and_then(|s| s.parse().ok()),
            entity: text("entity"),
            status: text("status")
                .and_then(|s| StatusFilter::parse(&s))
                .unwrap_or(StatusFilter::Open),
            sort: match text("sort").as_deref() {
                Some("oldest") => Sort::Oldest,
                _ => Sort::Newest,
            },
            page: text("page")
                .and_then(|p| p.parse::<usize>().ok())
                .filter(|p| (1..=100_000).contains(p))
                .unwrap_or(1),
        }
    }

    /// The query string of this filter on another page.
    pub fn query_string(&self, page: usize) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(detector) = &self.detector {
            pairs.push(("detector", detector.clone()));
        }
        if let Some(severity) = self.min_severity {
            pairs.push(("severity", severity.as_str().to_owned()));
        }
        if let Some(entity) = &self.entity {
            pairs.push(("entity", entity.clone()));
        }
        pairs.push(("status", self.status.as_str().to_owned()));
        if self.sort == Sort::Oldest {
            pairs.push(("sort", "oldest".to_owned()));
        }
        pairs.push(("page", page.to_string()));
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", url_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes a query string value.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// One alert of the queue, with its triage state.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRow {
    pub seq: u64,
    pub alert_id: String,
    pub ts_micros: i64,
    pub detector: String,
    pub severity: Severity,
    pub entity_kind: String,
    pub entity_id: String,
    pub status: String,
    pub assignee: Option<String>,
    pub resolution: Option<String>,
}

const ALERT_COLUMNS: &str = "a.seq, a.alert_id, a.ts_micros, a.detector, a.severity, a.entity_kind, a.entity_id, coalesce(t.status, 'new'), t.assignee, t.resolution";

fn alert_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AlertRow> {
    Ok(AlertRow {
        seq: u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0),
        alert_id: row.get(1)?,
        ts_micros: row.get(2)?,
        detector: row.get(3)?,
        severity: Severity::from_code(row.get(4)?).unwrap_or(Severity::Low),
        entity_kind: row.get(5)?,
        entity_id: row.get(6)?,
        status: row.get(7)?,
        assignee: row.get(8)?,
        resolution: row.get(9)?,
    })
}

/// One page of the queue and the number of matching alerts.
pub fn list_alerts(
    conn: &Connection,
    filter: &AlertFilter,
    me: &str,
) -> Result<(Vec<AlertRow>, usize), ConsoleError> {
    let mut conditions: Vec<&str> = Vec::new();
    let mut values: Vec<SqlValue> = Vec::new();
    if let Some(detector) = &filter.detector {
        conditions.push("a.detector = ?");
        values.push(SqlValue::Text(detector.clone()));
    }
    if let Some(severity) = filter.min_severity {
        conditions.push("a.severity >= ?");
        values.push(SqlValue::Integer(i64::from(severity.code())));
    }
    if let Some(entity) = &filter.entity {
        conditions.push("a.entity_id = ?");
        values.push(SqlValue::Text(entity.clone()));
    }
    match filter.status {
        StatusFilter::Open => conditions.push("coalesce(t.status, 'new') != 'resolved'"),
        StatusFilter::New => conditions.push("coalesce(t.status, 'new') = 'new'"),
        StatusFilter::Acknowledged => conditions.push("t.status = 'acknowledged'"),
        StatusFilter::Resolved => conditions.push("t.status = 'resolved'"),
        StatusFilter::Mine => {
            conditions.push("t.assignee = ? AND t.status != 'resolved'");
            values.push(SqlValue::Text(me.to_owned()));
        }
        StatusFilter::All => {}
    }
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let from = "FROM idx_alerts a LEFT JOIN triage t ON t.alert_id = a.alert_id";
    let total: i64 = conn.query_row(
        &format!("SELECT count(*) {from} {where_clause}"),
        params_from_iter(values.iter()),
        |row| row.get(0),
    )?;
    let order = match filter.sort {
        Sort::Newest => "a.ts_micros DESC, a.seq DESC",
        Sort::Oldest => "a.ts_micros ASC, a.seq ASC",
    };
    let offset = (filter.page.saturating_sub(1)).saturating_mul(PAGE_SIZE);
    let sql = format!(
        "SELECT {ALERT_COLUMNS} {from} {where_clause} ORDER BY {order} LIMIT {PAGE_SIZE} OFFSET {offset}"
    );
    let mut statement = conn.prepare(&sql)?;
    let rows = statement
        .query_map(params_from_iter(values.iter()), alert_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((rows, usize::try_from(total).unwrap_or(0)))
}

/// The detectors that raised any alert, for the filter.
pub fn detectors(conn: &Connection) -> Result<Vec<String>, ConsoleError> {
    let mut statement =
        conn.prepare_cached("SELECT DISTINCT detector FROM idx_alerts ORDER BY 1")?;
    let rows = statement
        .query_map([], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(rows)
}

/// One alert by id.
pub fn alert(conn: &Connection, alert_id: &str) -> Result<Option<AlertRow>, ConsoleError> {
    let sql = format!(
        "SELECT {ALERT_COLUMNS} FROM idx_alerts a LEFT JOIN triage t ON t.alert_id = a.alert_id WHERE a.alert_id = ?1 LIMIT 1"
    );
    Ok(conn.query_row(&sql, [alert_id], alert_row).optional()?)
}

/// An entity's latest alerts.
pub fn entity_alerts(
    conn: &Connection,
    kind: &str,
    id: &str,
    limit: usize,
) -> Result<Vec<AlertRow>, ConsoleError> {
    let sql = format!(
        "SELECT {ALERT_COLUMNS} FROM idx_alerts a LEFT JOIN triage t ON t.alert_id = a.alert_id
         WHERE a.entity_kind = ?1 AND a.entity_id = ?2 ORDER BY a.ts_micros DESC, a.seq DESC LIMIT ?3"
    );
    let mut statement = conn.prepare(&sql)?;
    let rows = statement
        .query_map(params![kind, id, limit_sql(limit)], alert_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

fn limit_sql(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// A triage action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriageAction {
    AssignToMe,
    Acknowledge,
    Resolve(Resolution),
    Reopen,
}

/// Why an alert was resolved: the feedback label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    TruePositive,
    Benign,
    Duplicate,
}

impl Resolution {
    pub const ALL: [Resolution; 3] = [
        Resolution::TruePositive,
        Resolution::Benign,
        Resolution::Duplicate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::TruePositive => "true_positive",
            Resolution::Benign => "benign",
            Resolution::Duplicate => "duplicate",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Resolution::TruePositive => "True positive",
            Resolution::Benign => "Benign",
            Resolution::Duplicate => "Duplicate",
        }
    }

    pub fn parse(text: &str) -> Option<Resolution> {
        Resolution::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// Applies a triage action and records it in the alert's history, in one
/// transaction.
pub fn triage(
    conn: &mut Connection,
    alert_id: &str,
    user: &str,
    action: TriageAction,
    now: i64,
) -> Result<(), ConsoleError> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT OR IGNORE INTO triage (alert_id, status, updated_at) VALUES (?1, 'new', ?2)",
        params![alert_id, now],
    )?;
    let (name, detail) = match action {
        TriageAction::AssignToMe => {
            tx.execute(
                "UPDATE triage SET assignee = ?2, updated_at = ?3 WHERE alert_id = ?1",
                params![alert_id, user, now],
            )?;
            ("assign", Some(user.to_owned()))
        }
        TriageAction::Acknowledge => {
            tx.execute(
                "UPDATE triage SET status = 'acknowledged', assignee = coalesce(assignee, ?2), updated_at = ?3 WHERE alert_id = ?1",
                params![alert_id, user, now],
            )?;
            ("acknowledge", None)
        }
        TriageAction::Resolve(resolution) => {
            tx.execute(
                "UPDATE triage SET status = 'resolved', resolution = ?2, assignee = coalesce(assignee, ?3), updated_at = ?4 WHERE alert_id = ?1",
                params![alert_id, resolution.as_str(), user, now],
            )?;
            ("resolve", Some(resolution.as_str().to_owned()))
        }
        TriageAction::Reopen => {
            tx.execute(
                "UPDATE triage SET status = 'acknowledged', resolution = NULL, updated_at = ?2 WHERE alert_id = ?1",
                params![alert_id, now],
            )?;
            ("reopen", None)
        }
    };
    tx.execute(
        "INSERT INTO triage_log (alert_id, at, user_name, action, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![alert_id, now, user, name, detail],
    )?;
    tx.commit()?;
    Ok(())
}

/// One entry of an alert's triage history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TriageEntry {
    pub at: i64,
    pub user: String,
    pub action: String,
    pub detail: Option<String>,
}

pub fn triage_history(conn: &Connection, alert_id: &str) -> Result<Vec<TriageEntry>, ConsoleError> {
    let mut statement = conn.prepare_cached(
        "SELECT at, user_name, action, detail FROM triage_log WHERE alert_id = ?1 ORDER BY id",
    )?;
    let rows = statement
        .query_map([alert_id], |row| {
            Ok(TriageEntry {
                at: row.get(0)?,
                user: row.get(1)?,
                action: row.get(2)?,
                detail: row.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The sequence numbers of the events with id `event_id` (ids need not be
/// unique across inputs; at most `limit`).
pub fn event_seqs(
    conn: &Connection,
    event_id: &str,
    limit: usize,
) -> Result<Vec<u64>, ConsoleError> {
    let mut statement = conn
        .prepare_cached("SELECT seq FROM idx_events WHERE event_id = ?1 ORDER BY seq LIMIT ?2")?;
    let rows = statement
        .query_map(params![event_id, limit_sql(limit)], |row| {
            row.get::<_, i64>(0)
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|s| u64::try_from(s).ok())
        .collect())
}

/// An agent's latest events (accesses and sessions) before `before_seq`,
/// newest first.
pub fn agent_event_seqs(
    conn: &Connection,
    agent_id: &str,
    before_seq: Option<u64>,
    limit: usize,
) -> Result<Vec<u64>, ConsoleError> {
    let before = before_seq.map_or(i64::MAX, |s| i64::try_from(s).unwrap_or(i64::MAX));
    let mut statement = conn.prepare_cached(
        "SELECT seq FROM idx_events WHERE agent_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
    )?;
    let rows = statement
        .query_map(params![agent_id, before, limit_sql(limit)], |row| {
            row.get::<_, i64>(0)
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|s| u64::try_from(s).ok())
        .collect())
}

/// A countermeasure in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InForce {
    pub entity_id: String,
    pub action: String,
    /// Event time of the first alert that applied it since the last release.
    pub since_micros: i64,
    pub alert_id: String,
}

/// Countermeasures in force on entities of `kind` (one entity when
/// `entity_id` is given): applied by an alert's `response` and not released
/// by a later `countermeasure_release`, as the responder keeps them.
pub fn in_force(
    conn: &Connection,
    kind: &str,
    entity_id: Option<&str>,
) -> Result<Vec<InForce>, ConsoleError> {
    let mut statement = conn.prepare_cached(
        "SELECT r.entity_id, r.action,
                (SELECT max(x.ts_micros) FROM idx_releases x
                  WHERE x.entity_kind = r.entity_kind AND x.entity_id = r.entity_id AND x.action = r.action) AS released,
                min(r.ts_micros), max(r.ts_micros)
         FROM idx_responses r
         WHERE r.entity_kind = ?1 AND (?2 IS NULL OR r.entity_id = ?2)
         GROUP BY r.entity_id, r.action
         ORDER BY r.entity_id, r.action",
    )?;
    let candidates = statement
        .query_map(params![kind, entity_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<i64>>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, i64>(4)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut since_statement = conn.prepare_cached(
        "SELECT r.ts_micros, a.alert_id FROM idx_responses r JOIN idx_alerts a ON a.seq = r.alert_seq
         WHERE r.entity_kind = ?1 AND r.entity_id = ?2 AND r.action = ?3 AND r.ts_micros > ?4
         ORDER BY r.ts_micros, r.alert_seq LIMIT 1",
    )?;
    let mut out = Vec::new();
    for (entity_id, action, released, _first, last) in candidates {
        let released = released.unwrap_or(i64::MIN);
        if last <= released {
            continue;
        }
        let (since_micros, alert_id) = since_statement
            .query_row(params![kind, entity_id, action, released], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
            })
            .optional()?
            .unwrap_or((last, String::new()));
        out.push(InForce {
            entity_id,
            action,
            since_micros,
            alert_id,
        });
    }
    Ok(out)
}

/// A release of a countermeasure, from the event log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseRow {
    pub seq: u64,
    pub ts_micros: i64,
    pub action: String,
    pub released_by: String,
    pub reason: String,
}

pub fn releases(conn: &Connection, kind: &str, id: &str) -> Result<Vec<ReleaseRow>, ConsoleError> {
    let mut statement = conn.prepare_cached(
        "SELECT seq, ts_micros, action, released_by, reason FROM idx_releases
         WHERE entity_kind = ?1 AND entity_id = ?2 ORDER BY ts_micros DESC, seq DESC LIMIT 50",
    )?;
    let rows = statement
        .query_map(params![kind, id], |row| {
            Ok(ReleaseRow {
                seq: u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0),
                ts_micros: row.get(1)?,
                action: row.get(2)?,
                released_by: row.get(3)?,
                reason: row.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Records a release the console appended (who, when, which event).
pub fn log_release(
    conn: &Connection,
    release: &LoggedRelease<'_>,
    now: i64,
) -> Result<(), ConsoleError> {
    conn.execute(
        "INSERT INTO release_log (at, user_name, entity_kind, entity_id, action, reason, event_id, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            now,
            release.user,
            release.entity_kind,
            release.entity_id,
            release.action,
            release.reason,
            release.event_id,
            i64::try_from(release.seq).unwrap_or(i64::MAX)
        ],
    )?;
    Ok(())
}

/// A release as the console's own log records it.
pub struct LoggedRelease<'a> {
    pub user: &'a str,
    pub entity_kind: &'a str,
    pub entity_id: &'a str,
    pub action: &'a str,
    pub reason: &'a str,
    pub event_id: &'a str,
    pub seq: u64,
}

/// Alert counts for the overview.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overview {
    /// The newest alert's event time (the window ends at its day).
    pub newest_micros: Option<i64>,
    /// `(day index since the epoch, severity code) -> count` in the window.
    pub by_day: BTreeMap<(i64, i16), u64>,
    /// `(detector, severity code) -> count` in the window.
    pub by_detector: BTreeMap<(String, i16), u64>,
    /// Triage status -> count, over every alert.
    pub by_status: BTreeMap<String, u64>,
    pub total_alerts: u64,
}

pub const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Counts over the `days` days ending with the newest alert's day (event
/// time: a replayed month shows its own last weeks, not empty ones).
pub fn overview(conn: &Connection, days: i64) -> Result<Overview, ConsoleError> {
    let mut out = Overview::default();
    let (newest, total): (Option<i64>, i64) = conn.query_row(
        "SELECT max(ts_micros), count(*) FROM idx_alerts",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    out.total_alerts = u64::try_from(total).unwrap_or(0);
    out.newest_micros = newest;
    let Some(newest) = newest else {
        return Ok(out);
    };
    let last_day = newest.div_euclid(MICROS_PER_DAY);
    let since = (last_day - days + 1) * MICROS_PER_DAY;
    let mut statement = conn.prepare_cached(
        "SELECT ts_micros / 86400000000, severity, detector, count(*) FROM idx_alerts
         WHERE ts_micros >= ?1 GROUP BY 1, 2, 3",
    )?;
    let rows = statement
        .query_map([since], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (day, severity, detector, count) in rows {
        let severity = i16::try_from(severity).unwrap_or(0);
        let count = u64::try_from(count).unwrap_or(0);
        *out.by_day.entry((day, severity)).or_default() += count;
        *out.by_detector.entry((detector, severity)).or_default() += count;
    }
    let mut statement = conn.prepare_cached(
        "SELECT coalesce(t.status, 'new'), count(*) FROM idx_alerts a LEFT JOIN triage t ON t.alert_id = a.alert_id GROUP BY 1",
    )?;
    let rows = statement
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (status, count) in rows {
        out.by_status
            .insert(status, u64::try_from(count).unwrap_or(0));
    }
    Ok(out)
}
