//! Backend-neutral preparation of writes: input validation, sequence
//! arithmetic and the choice of which directory versions become current.
//!
//! Both backends run the same checks, so a request one backend rejects the
//! other rejects too, with the same message.

use std::collections::{HashMap, HashSet};

use crate::error::StoreError;
use crate::store::{DirectoryKind, NewAlert, NewEvent};

/// Rejects events the store cannot keep faithfully.
pub(crate) fn validate_events(batch: &[NewEvent]) -> Result<(), StoreError> {
    for (index, event) in batch.iter().enumerate() {
        let context = || format!("event at index `{index}`");
        check_nonempty_text(&context, "event_id", &event.event_id)?;
        check_nonempty_text(&context, "event_type", &event.event_type)?;
        check_text(&context, "raw", &event.raw)?;
        if let Some(update) = &event.directory {
            check_nonempty_text(&context, "directory.id", &update.id)?;
        }
    }
    Ok(())
}

/// Rejects alerts the store cannot keep faithfully, and duplicate ids within
/// the batch (a [`StoreError::Conflict`], like a duplicate of a stored alert).
pub(crate) fn validate_alerts(alerts: &[NewAlert], cursor: &str) -> Result<(), StoreError> {
    let mut seen = HashSet::with_capacity(alerts.len());
    for (index, alert) in alerts.iter().enumerate() {
        let context = || format!("alert at index `{index}`");
        check_nonempty_text(&context, "alert_id", &alert.alert_id)?;
        check_text(&context, "detector", &alert.detector)?;
        check_text(&context, "entity_kind", &alert.entity_kind)?;
        check_text(&context, "entity_id", &alert.entity_id)?;
        check_text(&context, "json", &alert.json)?;
        if !seen.insert(alert.alert_id.as_str()) {
            return Err(duplicate_alert(&alert.alert_id));
        }
    }
    check_nonempty_text(&|| "cursor".to_owned(), "name", cursor)
}

pub(crate) fn duplicate_alert(alert_id: &str) -> StoreError {
    StoreError::Conflict(format!("alert `{alert_id}` already exists"))
}

fn check_nonempty_text(
    context: &dyn Fn() -> String,
    field: &str,
    value: &str,
) -> Result<(), StoreError> {
    if value.is_empty() {
        return Err(StoreError::Invalid(format!(
            "{}: `{field}` must not be empty",
            context()
        )));
    }
    check_text(context, field, value)
}

/// PostgreSQL text cannot hold NUL; SQLite can, but rejecting it in both keeps
/// the backends interchangeable.
fn check_text(context: &dyn Fn() -> String, field: &str, value: &str) -> Result<(), StoreError> {
    if value.contains('\0') {
        return Err(StoreError::Invalid(format!(
            "{}: `{field}` contains a NUL character",
            context()
        )));
    }
    Ok(())
}

/// A sequence number as the databases store it (a signed 64-bit integer).
pub(crate) fn seq_to_sql(field: &str, seq: u64) -> Result<i64, StoreError> {
    i64::try_from(seq).map_err(|_| {
        StoreError::Invalid(format!("`{field}` `{seq}` is larger than `{}`", i64::MAX))
    })
}

/// A lower bound for `seq > bound` queries: values past the storable range
/// match nothing, exactly like `i64::MAX` does.
pub(crate) fn seq_bound_to_sql(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// A row count for SQL `LIMIT`.
pub(crate) fn limit_to_sql(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// A sequence number read back from the database.
pub(crate) fn seq_from_sql(seq: i64) -> Result<u64, StoreError> {
    u64::try_from(seq)
        .map_err(|_| StoreError::Internal(format!("stored sequence number `{seq}` is negative")))
}

/// The sequence numbers a batch of `len` gets after `last`: `(first, new_last)`.
pub(crate) fn allocate_seqs(last: i64, len: usize) -> Result<(i64, i64), StoreError> {
    let overflow = || StoreError::Internal("sequence numbers exhausted".to_owned());
    let len = i64::try_from(len).map_err(|_| overflow())?;
    let new_last = last.checked_add(len).ok_or_else(overflow)?;
    Ok((last + 1, new_last))
}

/// One directory version of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DirectoryRow<'a> {
    pub kind: DirectoryKind,
    pub id: &'a str,
    pub ts_micros: i64,
    pub seq: i64,
}

/// The directory versions of a batch whose first event gets `first_seq`, in
/// batch order. With `first_seq = 1` the `seq` of a row is its 1-based
/// position in the batch.
pub(crate) fn directory_rows(batch: &[NewEvent], first_seq: i64) -> Vec<DirectoryRow<'_>> {
    batch
        .iter()
        .zip(first_seq..)
        .filter_map(|(event, seq)| {
            event.directory.as_ref().map(|update| DirectoryRow {
                kind: update.kind,
                id: &update.id,
                ts_micros: event.ts_micros,
                seq,
            })
        })
        .collect()
}

/// Per directory entry, the batch's candidate for the current row: the
/// version with the greatest `(ts_micros, seq)`. Sorted by `(kind, id)` so
/// writers touch rows in one order.
///
/// One candidate per entry matters for PostgreSQL, where one `INSERT … ON
/// CONFLICT DO UPDATE` may not touch a row twice. Whether the candidate
/// replaces the stored row is decided in SQL (`ts >= stored ts`); the batch's
/// sequence numbers are all above the stored ones, so equal times go to the
/// batch, as they would applying its rows one by one.
pub(crate) fn current_candidates<'a>(rows: &[DirectoryRow<'a>]) -> Vec<DirectoryRow<'a>> {
    let mut best: HashMap<(DirectoryKind, &'a str), DirectoryRow<'a>> = HashMap::new();
    for row in rows {
        best.entry((row.kind, row.id))
            .and_modify(|current| {
                if (row.ts_micros, row.seq) >= (current.ts_micros, current.seq) {
                    *current = *row;
                }
            })
            .or_insert(*row);
    }
    let mut candidates: Vec<_> = best.into_values().collect();
    candidates.sort_by(|a, b| (a.kind, a.id).cmp(&(b.kind, b.id)));
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{DirectoryUpdate, Severity};

    fn event(id: &str, ts_micros: i64, directory: Option<(DirectoryKind, &str)>) -> NewEvent {
        NewEvent {
            event_id: id.to_owned(),
            event_type: "agent".to_owned(),
            ts_micros,
            raw: format!("{{\"id\":\"{id}\"}}"),
            directory: directory.map(|(kind, id)| DirectoryUpdate {
                kind,
                id: id.to_owned(),
            }),
        }
    }

    fn alert(id: &str) -> NewAlert {
        NewAlert {
            alert_id: id.to_owned(),
            ts_micros: 0,
            detector: "agent_behavior".to_owned(),
            entity_kind: "agent".to_owned(),
            entity_id: "a-1".to_owned(),
            severity: Severity::High,
            json: "{}".to_owned(),
        }
    }

    #[test]
    fn event_validation_names_the_index_and_field() {
        let check = |batch: Vec<NewEvent>, expect: Option<&str>| {
            let got = validate_events(&batch).err().map(|e| e.to_string());
            assert_eq!(got.as_deref(), expect);
        };
        check(vec![event("e1", 1, None)], None);
        check(vec![], None);
        check(
            vec![event("e1", 1, None), event("", 1, None)],
            Some("invalid store request: event at index `1`: `event_id` must not be empty"),
        );
        let mut nul_raw = event("e1", 1, None);
        nul_raw.raw = "{\"a\":\"\0\"}".to_owned();
        check(
            vec![nul_raw],
            Some("invalid store request: event at index `0`: `raw` contains a NUL character"),
        );
        check(
            vec![event("e1", 1, Some((DirectoryKind::Agent, "")))],
            Some("invalid store request: event at index `0`: `directory.id` must not be empty"),
        );
        let mut no_type = event("e1", 1, None);
        no_type.event_type.clear();
        check(
            vec![no_type],
            Some("invalid store request: event at index `0`: `event_type` must not be empty"),
        );
    }

    #[test]
    fn alert_validation_rejects_duplicates_within_the_batch() {
        assert_eq!(validate_alerts(&[alert("a"), alert("b")], "c"), Ok(()));
        assert_eq!(validate_alerts(&[], "c"), Ok(()));
        assert_eq!(
            validate_alerts(&[alert("a"), alert("b"), alert("a")], "c"),
            Err(StoreError::Conflict("alert `a` already exists".to_owned()))
        );
        assert!(matches!(
            validate_alerts(&[alert("")], "c"),
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            validate_alerts(&[alert("a")], ""),
            Err(StoreError::Invalid(_))
        ));
    }

    #[test]
    fn sequence_conversions_guard_the_signed_range() {
        assert_eq!(seq_to_sql("cursor_seq", 5), Ok(5));
        assert!(matches!(
            seq_to_sql("cursor_seq", u64::MAX),
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(seq_bound_to_sql(u64::MAX), i64::MAX);
        assert_eq!(seq_bound_to_sql(9), 9);
        assert_eq!(limit_to_sql(usize::MAX), i64::MAX);
        assert_eq!(seq_from_sql(3), Ok(3));
        assert!(seq_from_sql(-1).is_err());
        assert_eq!(allocate_seqs(0, 3), Ok((1, 3)));
        assert_eq!(allocate_seqs(10, 1), Ok((11, 11)));
        assert!(allocate_seqs(i64::MAX - 1, 2).is_err());
    }

    #[test]
    fn directory_rows_follow_batch_positions() {
        let batch = [
            event("e1", 5, Some((DirectoryKind::Agent, "a"))),
            event("e2", 6, None),
            event("e3", 7, Some((DirectoryKind::Customer, "a"))),
        ];
        let rows = directory_rows(&batch, 10);
        assert_eq!(
            rows,
            vec![
                DirectoryRow {
                    kind: DirectoryKind::Agent,
                    id: "a",
                    ts_micros: 5,
                    seq: 10
                },
                DirectoryRow {
                    kind: DirectoryKind::Customer,
                    id: "a",
                    ts_micros: 7,
                    seq: 12
                },
            ]
        );
    }

    #[test]
    fn candidates_keep_the_latest_time_then_the_latest_seq() {
        let row = |kind, id, ts_micros, seq| DirectoryRow {
            kind,
            id,
            ts_micros,
            seq,
        };
        let rows = [
            row(DirectoryKind::Ticket, "t", 1, 1),
            row(DirectoryKind::Agent, "a", 9, 2),
            row(DirectoryKind::Agent, "a", 3, 3), // late: older time
            row(DirectoryKind::Agent, "b", 4, 4),
            row(DirectoryKind::Agent, "b", 4, 5), // tie: later seq wins
        ];
        assert_eq!(
            current_candidates(&rows),
            vec![
                row(DirectoryKind::Agent, "a", 9, 2),
                row(DirectoryKind::Agent, "b", 4, 5),
                row(DirectoryKind::Ticket, "t", 1, 1),
            ]
        );
        assert_eq!(current_candidates(&[]), vec![]);
    }
}
