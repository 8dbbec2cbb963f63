//! The PostgreSQL store, on the synchronous `postgres` client.
//!
//! The `postgres` client drives a small tokio runtime of its own inside every
//! call: call this store from plain threads (or `spawn_blocking`), never from
//! inside an async runtime, where the client panics.
//!
//! Two connections, a writer and a reader, each behind its own mutex, so
//! queries do not wait behind a large append. A lost connection (database
//! restarted, backend terminated) is replaced on the next call: a call whose
//! connection turns out to be dead reconnects and runs once more, unless the
//! connection died during `COMMIT`, whose outcome is then unknown and is
//! reported as [`StoreError::Unavailable`] instead of risking a duplicate
//! append. TLS is not supported (`sslmode=require` fails to connect).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use postgres::config::Host;
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, Config, GenericClient, NoTls, Statement};

use crate::batch::{
    current_candidates, directory_rows, duplicate_alert, limit_to_sql, seq_bound_to_sql,
    seq_from_sql, seq_to_sql, validate_alerts, validate_events,
};
use crate::error::StoreError;
use crate::migrate::{POSTGRES_MIGRATIONS, pending};
use crate::query::{Dialect, SqlValue, alert_query_sql, finish_page};
use crate::store::{
    AlertPage, AlertQuery, AppendReceipt, DirectoryKind, DirectoryRecord, NewAlert, NewEvent,
    Store, StoredAlert, StoredEvent,
};

/// Used when the url sets no `connect_timeout`: without one a dead host
/// blocks a call for the operating system's TCP timeout (minutes).
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Serializes migrations of concurrent processes (the key spells "custos").
const MIGRATION_LOCK_KEY: i64 = 0x6375_7374_6f73;

const READ_COUNTER: &str = "SELECT last, total FROM counters WHERE name = $1::text";

/// Taking the counter row's lock until commit serializes writers, which makes
/// sequence numbers gap-free and batches visible in sequence order.
const BUMP_COUNTER: &str =
    "UPDATE counters SET last = last + $2::bigint, total = total + $2::bigint
     WHERE name = $1::text RETURNING last";

const FIND_ALERT_ID: &str =
    "SELECT alert_id FROM alerts WHERE alert_id = ANY($1::text[]) ORDER BY seq LIMIT 1";

const INSERT_ALERTS: &str = "INSERT INTO alerts
     (seq, alert_id, ts_micros, detector, entity_kind, entity_id, severity, json)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[],
                          $6::text[], $7::smallint[], $8::text[])";

const UPSERT_CURSOR: &str = "INSERT INTO cursors (name, seq) VALUES ($1::text, $2::bigint)
     ON CONFLICT (name) DO UPDATE SET seq = excluded.seq";

/// The whole append in one statement (one round trip inside the
/// transaction): bump the counter, then insert the events, the directory
/// history and the current rows at `base + position in the batch`.
const APPEND_EVENTS: &str = "WITH bump AS (
         UPDATE counters SET last = last + $1::bigint, total = total + $1::bigint
         WHERE name = 'events' RETURNING last - $1::bigint AS base
     ), inserted AS (
         INSERT INTO events (seq, event_id, event_type, ts_micros, raw)
         SELECT bump.base + e.ord, e.event_id, e.event_type, e.ts_micros, e.raw
         FROM bump, unnest($2::text[], $3::text[], $4::bigint[], $5::text[])
              WITH ORDINALITY AS e(event_id, event_type, ts_micros, raw, ord)
     ), history AS (
         INSERT INTO directory_history (kind, id, ts_micros, seq)
         SELECT h.kind, h.id, h.ts_micros, bump.base + h.ord
         FROM bump, unnest($6::text[], $7::text[], $8::bigint[], $9::bigint[])
              AS h(kind, id, ts_micros, ord)
     ), current AS (
         INSERT INTO directory_current (kind, id, ts_micros, seq)
         SELECT c.kind, c.id, c.ts_micros, bump.base + c.ord
         FROM bump, unnest($10::text[], $11::text[], $12::bigint[], $13::bigint[])
              AS c(kind, id, ts_micros, ord)
         ON CONFLICT (kind, id) DO UPDATE SET ts_micros = excluded.ts_micros, seq = excluded.seq
         WHERE excluded.ts_micros >= directory_current.ts_micros
     )
     SELECT base FROM bump";

const READ_EVENTS: &str = "SELECT seq, event_id, event_type, ts_micros, raw FROM events
     WHERE seq > $1::bigint ORDER BY seq LIMIT $2::bigint";

const DIRECTORY_CURRENT: &str = "SELECT c.ts_micros, c.seq, e.raw
     FROM directory_current c JOIN events e ON e.seq = c.seq
     WHERE c.kind = $1::text AND c.id = $2::text";

/// `COLLATE "C"`: byte order whatever the database's collation, so pages
/// follow the same order as SQLite's.
const DIRECTORY_LIST: &str = "SELECT c.id, c.ts_micros, c.seq, e.raw
     FROM directory_current c JOIN events e ON e.seq = c.seq
     WHERE c.kind = $1::text AND ($2::text IS NULL OR c.id COLLATE \"C\" > $2::text COLLATE \"C\")
     ORDER BY c.id COLLATE \"C\" LIMIT $3::bigint";

const DIRECTORY_HISTORY: &str = "SELECT h.ts_micros, h.seq, e.raw
     FROM directory_history h JOIN events e ON e.seq = h.seq
     WHERE h.kind = $1::text AND h.id = $2::text
     ORDER BY h.ts_micros, h.seq";

const READ_CURSOR: &str = "SELECT seq FROM cursors WHERE name = $1::text";

/// The PostgreSQL store. Cheap to share: wrap it in an `Arc`.
pub struct PostgresStore {
    config: Config,
    /// Where the store points, for messages: never contains the password.
    target: String,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// A connection slot: empty until first used and after the connection broke.
#[derive(Default)]
struct Connection {
    client: Option<Client>,
    /// Prepared statements of `client`, by SQL text.
    statements: HashMap<String, Statement>,
}

/// How a database operation failed; decides whether a call is retried.
enum Failure {
    /// A statement failed; retried once if the connection turned out dead.
    Statement(postgres::Error),
    /// `COMMIT` failed; never retried (it may have been applied).
    Commit(postgres::Error),
    /// The store itself refused (e.g. a duplicate alert id).
    Store(StoreError),
}

impl From<postgres::Error> for Failure {
    fn from(error: postgres::Error) -> Self {
        Failure::Statement(error)
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Failure::Store(error)
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/db?…`, or the
    /// key-value form) and applies pending migrations in the connection's
    /// default schema.
    ///
    /// Call from a thread without an async runtime (see the module docs).
    pub fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::open(parse_config(url)?, None)
    }

    /// Like [`PostgresStore::connect`], but keeps every table in `schema`
    /// (created when missing; the connection's `search_path`, set again on
    /// every reconnect). Used to isolate tests. `schema` must be a plain
    /// lower-case identifier (`[a-z_][a-z0-9_]*`, at most 63 bytes).
    pub fn connect_with_schema(url: &str, schema: &str) -> Result<PostgresStore, StoreError> {
        check_schema_name(schema)?;
        let mut config = parse_config(url)?;
        let search_path = format!("-c search_path={schema}");
        let options = match config.get_options() {
            Some(existing) if !existing.trim().is_empty() => format!("{existing} {search_path}"),
            _ => search_path,
        };
        config.options(&options);
        if config.get_application_name().is_none() {
            config.application_name(&format!("custos-store/{schema}"));
        }
        PostgresStore::open(config, Some(schema))
    }

    fn open(mut config: Config, schema: Option<&str>) -> Result<PostgresStore, StoreError> {
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("custos-store");
        }
        let target = describe(&config, schema);
        let store = PostgresStore {
            config,
            target,
            writer: Mutex::new(Connection::default()),
            reader: Mutex::new(Connection::default()),
        };
        store.run(&store.writer, "apply migrations", |client, _| {
            if let Some(schema) = schema {
                // INVARIANT: `schema` passed check_schema_name, so quoting is enough.
                client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))?;
            }
            migrate(client)
        })?;
        store.ping()?;
        Ok(store)
    }

    /// Runs `op` on the connection in `slot`, connecting first when needed.
    /// If the connection turns out dead, reconnects and runs `op` once more
    /// (not after a fresh connect, and not after a failed `COMMIT`).
    fn run<T>(
        &self,
        slot: &Mutex<Connection>,
        what: &str,
        mut op: impl FnMut(&mut Client, &mut HashMap<String, Statement>) -> Result<T, Failure>,
    ) -> Result<T, StoreError> {
        let mut connection = lock(slot);
        let mut retried = false;
        loop {
            let (mut client, fresh) = match connection.client.take() {
                Some(client) if !client.is_closed() => (client, false),
                _ => {
                    connection.statements.clear();
                    (self.new_client()?, true)
                }
            };
            let result = op(&mut client, &mut connection.statements);
            let broken = client.is_closed()
                || matches!(&result, Err(Failure::Statement(e) | Failure::Commit(e)) if is_connection_lost(e));
            if broken {
                connection.statements.clear();
                drop(client);
            } else {
                connection.client = Some(client);
            }
            match result {
                Ok(value) => return Ok(value),
                Err(Failure::Statement(_)) if broken && !fresh && !retried => retried = true,
                Err(Failure::Statement(error)) => return Err(self.classify(what, &error)),
                Err(Failure::Commit(error)) if broken => {
                    return Err(StoreError::Unavailable(one_line(&format!(
                        "connection to postgres at `{}` was lost during the commit to {what}; \
                         the outcome is unknown: {}",
                        self.target,
                        error_text(&error)
                    ))));
                }
                Err(Failure::Commit(error)) => return Err(self.classify(what, &error)),
                Err(Failure::Store(error)) => return Err(error),
            }
        }
    }

    fn new_client(&self) -> Result<Client, StoreError> {
        // Every failure to connect, including a refused login or a missing
        // database, leaves the store unusable until an operator acts: 503.
        self.config.connect(NoTls).map_err(|error| {
            StoreError::Unavailable(format!(
                "cannot connect to postgres at `{}`: {}",
                self.target,
                error_text(&error)
            ))
        })
    }

    fn classify(&self, what: &str, error: &postgres::Error) -> StoreError {
        let message = format!(
            "cannot {what} on postgres at `{}`: {}",
            self.target,
            error_text(error)
        );
        match error.code() {
            Some(code) if *code == SqlState::UNIQUE_VIOLATION => StoreError::Conflict(message),
            Some(code) if is_unavailable_code(code.code()) => StoreError::Unavailable(message),
            Some(_) => StoreError::Internal(message),
            None if is_connection_lost(error) => StoreError::Unavailable(message),
            None => StoreError::Internal(message),
        }
    }

    fn read_counter(&self, name: &str) -> Result<(i64, i64), StoreError> {
        self.run(&self.reader, "read a counter", |client, statements| {
            let statement = prepared(client, statements, READ_COUNTER)?;
            let row = client.query_one(&statement, &[&name])?;
            Ok((row.try_get(0)?, row.try_get(1)?))
        })
    }

    fn directory_versions(
        &self,
        sql: &'static str,
        what: &str,
        kind: DirectoryKind,
        id: &str,
    ) -> Result<Vec<DirectoryRecord>, StoreError> {
        let rows = self.run(&self.reader, what, |client, statements| {
            let statement = prepared(client, statements, sql)?;
            let rows = client.query(&statement, &[&kind.as_str(), &id])?;
            let mut versions = Vec::with_capacity(rows.len());
            for row in rows {
                versions.push((
                    row.try_get::<_, i64>(0)?,
                    row.try_get::<_, i64>(1)?,
                    row.try_get::<_, String>(2)?,
                ));
            }
            Ok(versions)
        })?;
        rows.into_iter()
            .map(|(ts_micros, seq, raw)| {
                Ok(DirectoryRecord {
                    kind,
                    id: id.to_owned(),
                    ts_micros,
                    seq: seq_from_sql(seq)?,
                    raw,
                })
            })
            .collect()
    }
}

fn parse_config(url: &str) -> Result<Config, StoreError> {
    // The parser's messages name options, never their values; the url itself
    // is not echoed because it may hold a password.
    url.parse::<Config>().map_err(|error| {
        StoreError::Invalid(format!(
            "cannot parse the postgres connection url: {}",
            error_text(&error)
        ))
    })
}

fn check_schema_name(schema: &str) -> Result<(), StoreError> {
    let mut chars = schema.chars();
    let valid = schema.len() <= 63
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "schema name `{schema}` is not a plain identifier (`[a-z_][a-z0-9_]*`, at most 63 bytes)"
        )))
    }
}

/// `user@host:port/dbname`, plus the schema: what messages show of a
/// connection (the password is never part of it).
fn describe(config: &Config, schema: Option<&str>) -> String {
    let user = config
        .get_user()
        .map(|user| format!("{user}@"))
        .unwrap_or_default();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let hosts = if hosts.is_empty() {
        "localhost".to_owned()
    } else {
        hosts.join(",")
    };
    let port = config
        .get_ports()
        .first()
        .map_or_else(|| "5432".to_owned(), u16::to_string);
    let dbname = config.get_dbname().unwrap_or_default();
    match schema {
        Some(schema) => format!("{user}{hosts}:{port}/{dbname} (schema {schema})"),
        None => format!("{user}{hosts}:{port}/{dbname}"),
    }
}

/// Messages are one line; database errors carry `DETAIL:` and `HINT:` lines.
fn one_line(message: &str) -> String {
    message.replace(['\r', '\n'], " ")
}

/// A client error with its causes: its own text is only the kind
/// (`db error`), the server's message is in the cause.
fn error_text(error: &postgres::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    one_line(&text)
}

/// Classes 08 (connection exception), 53 (insufficient resources), 57P
/// (server shutting down or restarting) and a read-only server (a standby
/// after failover): the database cannot take the request now.
fn is_unavailable_code(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57P")
        || code == SqlState::READ_ONLY_SQL_TRANSACTION.code()
}

fn is_connection_lost(error: &postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    if let Some(code) = error.code() {
        let code = code.code();
        return code.starts_with("08") || code.starts_with("57P");
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if cause.is::<std::io::Error>() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// Locks a connection slot. A panic while it was held may have left the
/// connection mid-transaction: drop it, the next call reconnects.
fn lock(slot: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    match slot.lock() {
        Ok(guard) => guard,
        Err(poisoned) => {
            let mut guard = poisoned.into_inner();
            guard.client = None;
            guard.statements.clear();
            slot.clear_poison();
            guard
        }
    }
}

/// The prepared statement for `sql`, prepared once per connection.
fn prepared(
    client: &mut impl GenericClient,
    statements: &mut HashMap<String, Statement>,
    sql: &str,
) -> Result<Statement, postgres::Error> {
    if let Some(statement) = statements.get(sql) {
        return Ok(statement.clone());
    }
    let statement = client.prepare(sql)?;
    statements.insert(sql.to_owned(), statement.clone());
    Ok(statement)
}

fn migrate(client: &mut Client) -> Result<(), Failure> {
    let mut tx = client.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1::bigint)",
        &[&MIGRATION_LOCK_KEY],
    )?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    BIGINT PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )?;
    let applied: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::bigint FROM schema_migrations",
            &[],
        )?
        .try_get(0)?;
    for migration in pending(POSTGRES_MIGRATIONS, applied)? {
        tx.batch_execute(migration.sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1::bigint, $2::text)",
            &[&migration.version, &migration.name],
        )?;
    }
    tx.commit().map_err(Failure::Commit)
}

fn sql_len(len: usize) -> Result<i64, StoreError> {
    i64::try_from(len).map_err(|_| StoreError::Invalid(format!("batch of `{len}` is too large")))
}

impl Store for PostgresStore {
    fn append_events(&self, batch: &[NewEvent]) -> Result<AppendReceipt, StoreError> {
        validate_events(batch)?;
        if batch.is_empty() {
            let last = seq_from_sql(self.read_counter("events")?.0)?;
            return Ok(AppendReceipt {
                first_seq: last + 1,
                last_seq: last,
            });
        }
        let count = sql_len(batch.len())?;
        let event_ids: Vec<&str> = batch.iter().map(|e| e.event_id.as_str()).collect();
        let event_types: Vec<&str> = batch.iter().map(|e| e.event_type.as_str()).collect();
        let timestamps: Vec<i64> = batch.iter().map(|e| e.ts_micros).collect();
        let raws: Vec<&str> = batch.iter().map(|e| e.raw.as_str()).collect();
        // Directory rows carry their 1-based position in the batch; the SQL
        // adds the counter's base. Positions order like sequence numbers, so
        // the candidates are the same as with real numbers.
        let rows = directory_rows(batch, 1);
        let history = directory_columns(&rows);
        let current = directory_columns(&current_candidates(&rows));

        let (first_seq, last_seq) =
            self.run(&self.writer, "append events", |client, statements| {
                let mut tx = client.transaction()?;
                let append = prepared(&mut tx, statements, APPEND_EVENTS)?;
                let base: i64 = tx
                    .query_one(
                        &append,
                        &[
                            &count,
                            &event_ids,
                            &event_types,
                            &timestamps,
                            &raws,
                            &history.kinds,
                            &history.ids,
                            &history.timestamps,
                            &history.positions,
                            &current.kinds,
                            &current.ids,
                            &current.timestamps,
                            &current.positions,
                        ],
                    )?
                    .try_get(0)?;
                tx.commit().map_err(Failure::Commit)?;
                Ok((base + 1, base + count))
            })?;
        Ok(AppendReceipt {
            first_seq: seq_from_sql(first_seq)?,
            last_seq: seq_from_sql(last_seq)?,
        })
    }

    fn read_events(&self, after_seq: u64, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let after = seq_bound_to_sql(after_seq);
        let limit = limit_to_sql(limit);
        self.run(&self.reader, "read events", |client, statements| {
            let statement = prepared(client, statements, READ_EVENTS)?;
            let rows = client.query(&statement, &[&after, &limit])?;
            let mut events = Vec::with_capacity(rows.len());
            for row in rows {
                events.push(StoredEvent {
                    seq: seq_from_sql(row.try_get(0)?)?,
                    event_id: row.try_get(1)?,
                    event_type: row.try_get(2)?,
                    ts_micros: row.try_get(3)?,
                    raw: row.try_get(4)?,
                });
            }
            Ok(events)
        })
    }

    fn last_seq(&self) -> Result<u64, StoreError> {
        seq_from_sql(self.read_counter("events")?.0)
    }

    fn event_count(&self) -> Result<u64, StoreError> {
        seq_from_sql(self.read_counter("events")?.1)
    }

    fn directory_current(
        &self,
        kind: DirectoryKind,
        id: &str,
    ) -> Result<Option<DirectoryRecord>, StoreError> {
        let versions =
            self.directory_versions(DIRECTORY_CURRENT, "read a directory entry", kind, id)?;
        Ok(versions.into_iter().next())
    }

    fn directory_list(
        &self,
        kind: DirectoryKind,
        after_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DirectoryRecord>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let limit = limit_to_sql(limit);
        let rows = self.run(&self.reader, "list a directory", |client, statements| {
            let statement = prepared(client, statements, DIRECTORY_LIST)?;
            let rows = client.query(&statement, &[&kind.as_str(), &after_id, &limit])?;
            let mut records = Vec::with_capacity(rows.len());
            for row in rows {
                records.push((
                    row.try_get::<_, String>(0)?,
                    row.try_get::<_, i64>(1)?,
                    row.try_get::<_, i64>(2)?,
                    row.try_get::<_, String>(3)?,
                ));
            }
            Ok(records)
        })?;
        rows.into_iter()
            .map(|(id, ts_micros, seq, raw)| {
                Ok(DirectoryRecord {
                    kind,
                    id,
                    ts_micros,
                    seq: seq_from_sql(seq)?,
                    raw,
                })
            })
            .collect()
    }

    fn directory_history(
        &self,
        kind: DirectoryKind,
        id: &str,
    ) -> Result<Vec<DirectoryRecord>, StoreError> {
        self.directory_versions(DIRECTORY_HISTORY, "read a directory history", kind, id)
    }

    fn append_alerts(
        &self,
        alerts: &[NewAlert],
        cursor: &str,
        cursor_seq: u64,
    ) -> Result<(), StoreError> {
        validate_alerts(alerts, cursor)?;
        let cursor_seq = seq_to_sql("cursor_seq", cursor_seq)?;
        let count = sql_len(alerts.len())?;
        let alert_ids: Vec<&str> = alerts.iter().map(|a| a.alert_id.as_str()).collect();
        let timestamps: Vec<i64> = alerts.iter().map(|a| a.ts_micros).collect();
        let detectors: Vec<&str> = alerts.iter().map(|a| a.detector.as_str()).collect();
        let entity_kinds: Vec<&str> = alerts.iter().map(|a| a.entity_kind.as_str()).collect();
        let entity_ids: Vec<&str> = alerts.iter().map(|a| a.entity_id.as_str()).collect();
        let severities: Vec<i16> = alerts.iter().map(|a| a.severity.code()).collect();
        let jsons: Vec<&str> = alerts.iter().map(|a| a.json.as_str()).collect();

        self.run(&self.writer, "append alerts", |client, statements| {
            let mut tx = client.transaction()?;
            if !alerts.is_empty() {
                let bump = prepared(&mut tx, statements, BUMP_COUNTER)?;
                let last_seq: i64 = tx.query_one(&bump, &[&"alerts", &count])?.try_get(0)?;
                // After the bump, which waits for any other alert writer to
                // commit, so this sees every stored id and can name the
                // duplicate (the unique index stays the last word).
                let find = prepared(&mut tx, statements, FIND_ALERT_ID)?;
                if let Some(row) = tx.query_opt(&find, &[&alert_ids])? {
                    let existing: &str = row.try_get(0)?;
                    return Err(Failure::Store(duplicate_alert(existing)));
                }
                let seqs: Vec<i64> = (last_seq - count + 1..=last_seq).collect();
                let insert = prepared(&mut tx, statements, INSERT_ALERTS)?;
                tx.execute(
                    &insert,
                    &[
                        &seqs,
                        &alert_ids,
                        &timestamps,
                        &detectors,
                        &entity_kinds,
                        &entity_ids,
                        &severities,
                        &jsons,
                    ],
                )?;
            }
            let upsert = prepared(&mut tx, statements, UPSERT_CURSOR)?;
            tx.execute(&upsert, &[&cursor, &cursor_seq])?;
            tx.commit().map_err(Failure::Commit)
        })
    }

    fn cursor(&self, name: &str) -> Result<u64, StoreError> {
        let seq = self.run(&self.reader, "read a cursor", |client, statements| {
            let statement = prepared(client, statements, READ_CURSOR)?;
            let row = client.query_opt(&statement, &[&name])?;
            Ok(row.map(|row| row.try_get::<_, i64>(0)).transpose()?)
        })?;
        seq_from_sql(seq.unwrap_or(0))
    }

    fn query_alerts(&self, query: &AlertQuery) -> Result<AlertPage, StoreError> {
        let sql = alert_query_sql(query, Dialect::Postgres)?;
        let params: Vec<&(dyn ToSql + Sync)> = sql
            .params
            .iter()
            .map(|value| match value {
                SqlValue::Text(text) => text as &(dyn ToSql + Sync),
                SqlValue::Int(int) => int as &(dyn ToSql + Sync),
            })
            .collect();
        let alerts = self.run(&self.reader, "query alerts", |client, statements| {
            let statement = prepared(client, statements, &sql.sql)?;
            let rows = client.query(&statement, &params)?;
            let mut alerts = Vec::with_capacity(rows.len());
            for row in rows {
                alerts.push(StoredAlert {
                    seq: seq_from_sql(row.try_get(0)?)?,
                    alert_id: row.try_get(1)?,
                    json: row.try_get(2)?,
                });
            }
            Ok(alerts)
        })?;
        Ok(finish_page(alerts, sql.page_size))
    }

    fn alert_count(&self) -> Result<u64, StoreError> {
        seq_from_sql(self.read_counter("alerts")?.1)
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.run(&self.reader, "ping", |client, _| {
            client.batch_execute("SELECT 1")?;
            Ok(())
        })
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}

/// Directory rows as the column arrays `unnest` takes.
struct DirectoryColumns<'a> {
    kinds: Vec<&'static str>,
    ids: Vec<&'a str>,
    timestamps: Vec<i64>,
    positions: Vec<i64>,
}

fn directory_columns<'a>(rows: &[crate::batch::DirectoryRow<'a>]) -> DirectoryColumns<'a> {
    DirectoryColumns {
        kinds: rows.iter().map(|row| row.kind.as_str()).collect(),
        ids: rows.iter().map(|row| row.id).collect(),
        timestamps: rows.iter().map(|row| row.ts_micros).collect(),
        positions: rows.iter().map(|row| row.seq).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_must_be_plain_identifiers() {
        let check = |schema: &str, ok: bool| {
            assert_eq!(check_schema_name(schema).is_ok(), ok, "{schema}");
        };
        check("custos_test_0a1b", true);
        check("_x", true);
        check("", false);
        check("1abc", false);
        check("Custos", false);
        check("a\"; drop table events; --", false);
        check("a-b", false);
        check(&"a".repeat(63), true);
        check(&"a".repeat(64), false);
    }

    #[test]
    fn descriptions_never_show_the_password() {
        let check = |url: &str, schema: Option<&str>, expect: &str| {
            let config = parse_config(url);
            assert!(config.is_ok(), "{url}");
            let description = config.map(|c| describe(&c, schema)).unwrap_or_default();
            assert_eq!(description, expect);
        };
        check(
            "postgres://custos:hunter2@db.internal:6543/prod",
            None,
            "custos@db.internal:6543/prod",
        );
        check(
            "postgresql://postgres@127.0.0.1/test",
            Some("t_1"),
            "postgres@127.0.0.1:5432/test (schema t_1)",
        );
        check(
            "host=h1 user=u password=hunter2 dbname=d",
            None,
            "u@h1:5432/d",
        );
    }

    #[test]
    fn parse_errors_do_not_echo_the_url() {
        let error = parse_config("postgres://u:hunter2@host:notaport/db").err();
        let message = error.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.starts_with("invalid store request: "), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
        // The cause is kept: the client's own text is only the error kind.
        assert!(
            message.contains("invalid value for option `port`"),
            "{message}"
        );
    }

    #[test]
    fn error_text_is_one_line() {
        assert_eq!(
            one_line("ERROR: x\nDETAIL: y\r\nHINT: z"),
            "ERROR: x DETAIL: y  HINT: z"
        );
    }

    #[test]
    fn unavailable_codes_are_connection_and_shutdown_classes() {
        let check =
            |code: &str, expect: bool| assert_eq!(is_unavailable_code(code), expect, "{code}");
        check("08006", true); // connection_failure
        check("57P01", true); // admin_shutdown
        check("57P03", true); // cannot_connect_now
        check("53300", true); // too_many_connections
        check("25006", true); // read_only_sql_transaction
        check("23505", false); // unique_violation
        check("42P01", false); // undefined_table
        check("57014", false); // query_canceled
    }
}
