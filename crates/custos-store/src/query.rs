//! The SQL of an alert query, built once for both backends.
//!
//! Only the placeholders differ between SQLite (`?1`) and PostgreSQL
//! (`$1::bigint`, typed so a prepared statement accepts `i64` and `&str`).
//! User values always travel as parameters, never inside the SQL text.

use std::fmt::Write as _;

use crate::batch::{limit_to_sql, seq_bound_to_sql};
use crate::error::StoreError;
use crate::store::{AlertPage, AlertQuery, StoredAlert};

/// The largest page [`Store::query_alerts`](crate::Store::query_alerts)
/// returns; larger limits are capped (follow `next_cursor` for the rest).
pub const MAX_ALERT_PAGE: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SqlValue<'a> {
    Text(&'a str),
    Int(i64),
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct AlertSql<'a> {
    pub sql: String,
    pub params: Vec<SqlValue<'a>>,
    /// The page size: the SQL fetches one row more to learn whether more follow.
    pub page_size: usize,
}

pub(crate) fn alert_query_sql(
    query: &AlertQuery,
    dialect: Dialect,
) -> Result<AlertSql<'_>, StoreError> {
    if query.limit == 0 {
        return Err(StoreError::Invalid("`limit` must be at least 1".to_owned()));
    }
    let page_size = query.limit.min(MAX_ALERT_PAGE);

    let after_seq = seq_bound_to_sql(query.after_seq.unwrap_or(0));
    let mut conditions: Vec<(&str, SqlValue<'_>)> = vec![("seq >", SqlValue::Int(after_seq))];
    if let Some(detector) = &query.detector {
        conditions.push(("detector =", SqlValue::Text(detector)));
    }
    if let Some(entity_kind) = &query.entity_kind {
        conditions.push(("entity_kind =", SqlValue::Text(entity_kind)));
    }
    if let Some(entity_id) = &query.entity_id {
        conditions.push(("entity_id =", SqlValue::Text(entity_id)));
    }
    if let Some(severity) = query.min_severity {
        conditions.push(("severity >=", SqlValue::Int(i64::from(severity.code()))));
    }
    if let Some(since) = query.since_micros {
        conditions.push(("ts_micros >=", SqlValue::Int(since)));
    }
    if let Some(until) = query.until_micros {
        conditions.push(("ts_micros <", SqlValue::Int(until)));
    }

    let mut sql = String::from("SELECT seq, alert_id, json FROM alerts WHERE ");
    let mut params = Vec::with_capacity(conditions.len() + 1);
    for (index, (condition, value)) in conditions.into_iter().enumerate() {
        if index > 0 {
            sql.push_str(" AND ");
        }
        params.push(value);
        let _ = write!(
            sql,
            "{condition} {}",
            placeholder(dialect, params.len(), value)
        );
    }
    let fetch = SqlValue::Int(limit_to_sql(page_size).saturating_add(1));
    params.push(fetch);
    let _ = write!(
        sql,
        " ORDER BY seq LIMIT {}",
        placeholder(dialect, params.len(), fetch)
    );
    Ok(AlertSql {
        sql,
        params,
        page_size,
    })
}

fn placeholder(dialect: Dialect, position: usize, value: SqlValue<'_>) -> String {
    match (dialect, value) {
        (Dialect::Sqlite, _) => format!("?{position}"),
        (Dialect::Postgres, SqlValue::Int(_)) => format!("${position}::bigint"),
        (Dialect::Postgres, SqlValue::Text(_)) => format!("${position}::text"),
    }
}

/// Turns up to `page_size + 1` fetched rows into a page.
pub(crate) fn finish_page(mut alerts: Vec<StoredAlert>, page_size: usize) -> AlertPage {
    let more_follow = alerts.len() > page_size;
    alerts.truncate(page_size);
    let next_cursor = if more_follow {
        alerts.last().map(|alert| alert.seq)
    } else {
        None
    };
    AlertPage {
        alerts,
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Severity;

    #[test]
    fn an_unfiltered_query_pages_by_seq() {
        let query = AlertQuery {
            limit: 50,
            ..AlertQuery::default()
        };
        let sql = alert_query_sql(&query, Dialect::Sqlite);
        assert_eq!(
            sql,
            Ok(AlertSql {
                sql: "SELECT seq, alert_id, json FROM alerts WHERE seq > ?1 ORDER BY seq LIMIT ?2"
                    .to_owned(),
                params: vec![SqlValue::Int(0), SqlValue::Int(51)],
                page_size: 50,
            })
        );
    }

    #[test]
    fn every_filter_becomes_a_typed_parameter() {
        let query = AlertQuery {
            detector: Some("agent_behavior".to_owned()),
            entity_kind: Some("agent".to_owned()),
            entity_id: Some("a-1".to_owned()),
            min_severity: Some(Severity::High),
            since_micros: Some(-5),
            until_micros: Some(9),
            after_seq: Some(u64::MAX),
            limit: usize::MAX,
        };
        let sql = alert_query_sql(&query, Dialect::Postgres);
        assert_eq!(
            sql,
            Ok(AlertSql {
                sql: "SELECT seq, alert_id, json FROM alerts WHERE seq > $1::bigint \
                      AND detector = $2::text AND entity_kind = $3::text \
                      AND entity_id = $4::text AND severity >= $5::bigint \
                      AND ts_micros >= $6::bigint AND ts_micros < $7::bigint \
                      ORDER BY seq LIMIT $8::bigint"
                    .to_owned(),
                params: vec![
                    SqlValue::Int(i64::MAX),
                    SqlValue::Text("agent_behavior"),
                    SqlValue::Text("agent"),
                    SqlValue::Text("a-1"),
                    SqlValue::Int(2),
                    SqlValue::Int(-5),
                    SqlValue::Int(9),
                    SqlValue::Int(i64::try_from(MAX_ALERT_PAGE).unwrap_or(0) + 1),
                ],
                page_size: MAX_ALERT_PAGE,
            })
        );
    }

    #[test]
    fn a_zero_limit_is_a_caller_bug() {
        assert!(matches!(
            alert_query_sql(&AlertQuery::default(), Dialect::Sqlite),
            Err(StoreError::Invalid(_))
        ));
    }

    #[test]
    fn a_page_has_a_cursor_exactly_when_more_rows_were_fetched() {
        let alerts = |seqs: &[u64]| -> Vec<StoredAlert> {
            seqs.iter()
                .map(|&seq| StoredAlert {
                    seq,
                    alert_id: format!("al-{seq}"),
                    json: "{}".to_owned(),
                })
                .collect()
        };
        let check = |fetched: &[u64], page_size, expect_seqs: &[u64], expect_next| {
            let page = finish_page(alerts(fetched), page_size);
            assert_eq!(page.alerts, alerts(expect_seqs));
            assert_eq!(page.next_cursor, expect_next);
        };
        check(&[], 2, &[], None);
        check(&[4], 2, &[4], None);
        check(&[4, 7], 2, &[4, 7], None);
        check(&[4, 7, 9], 2, &[4, 7], Some(7));
    }
}
