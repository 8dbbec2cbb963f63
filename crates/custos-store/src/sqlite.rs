//! The embedded SQLite store: one database file in a data directory, WAL
//! mode, a durable (`synchronous=FULL`) commit per batch.
//!
//! One writer connection and one reader connection, each behind its own
//! mutex: in WAL mode readers see the last committed state and are never
//! blocked by the writer, so `/readyz` and queries stay fast during a large
//! append. A third connection on a background thread checkpoints the WAL
//! into the database file, so appends do not pay for checkpoint fsyncs.
//!
//! Current directory entries are cached in memory (`dircache`): this store
//! is the only writer of its file and invalidates what each append touches
//! before returning, so a cached entry is never older than the file.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};

use crate::batch::{
    allocate_seqs, current_candidates, directory_rows, duplicate_alert, limit_to_sql,
    seq_bound_to_sql, seq_from_sql, seq_to_sql, validate_alerts, validate_events,
};
use crate::error::StoreError;
use crate::migrate::{SQLITE_MIGRATIONS, pending};
use crate::query::{Dialect, SqlValue, alert_query_sql, finish_page};
use crate::store::{
    AlertPage, AlertQuery, AppendReceipt, DirectoryKind, DirectoryRecord, NewAlert, NewEvent,
    Store, StoredAlert, StoredEvent,
};

/// The database file [`SqliteStore::open`] creates in the data directory.
pub const DATABASE_FILE_NAME: &str = "custos.db";

/// How long a call waits for a lock held by another process before it
/// reports [`StoreError::Unavailable`].
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Enough cached statements for every fixed statement plus the alert query
/// shapes in use.
const STATEMENT_CACHE_CAPACITY: usize = 64;

/// The writer checkpoints by itself only when the WAL reaches this many
/// pages (64 MiB with 4 KiB pages); normally the background checkpointer has
/// copied almost all of it already, so this mostly restarts the WAL.
const WRITER_AUTOCHECKPOINT_PAGES: u32 = 16_384;

/// The background checkpointer runs at most this often, so many small
/// commits share one checkpoint.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(200);

/// The embedded store. Cheap to share: wrap it in an `Arc`.
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    checkpointer: Checkpointer,
    directory: crate::dircache::DirectoryCache,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating when missing) `data_dir` and the database
    /// [`DATABASE_FILE_NAME`] in it, switches it to WAL mode and applies
    /// pending migrations.
    pub fn open(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        fs::create_dir_all(data_dir).map_err(|error| {
            StoreError::Unavailable(format!(
                "cannot create data directory `{}`: {error}",
                data_dir.display()
            ))
        })?;
        let path = data_dir.join(DATABASE_FILE_NAME);

        let mut writer = open_connection(&path)?;
        configure_writer(&writer)?;
        migrate(&mut writer)?;
        // Opened after the writer so the file exists and is already in WAL mode.
        let reader = open_connection(&path)?;
        reader
            .pragma_update(None, "query_only", true)
            .map_err(|e| sql_error("configure the reader", e))?;

        let checkpointer = Checkpointer::start(&path)?;

        Ok(SqliteStore {
            path,
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            checkpointer,
            directory: crate::dircache::DirectoryCache::default(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let connection = Connection::open(path).map_err(|error| {
        StoreError::Unavailable(format!(
            "cannot open sqlite database `{}`: {error}",
            path.display()
        ))
    })?;
    connection
        .busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| sql_error("set the busy timeout", e))?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
    Ok(connection)
}

/// WAL with `synchronous=FULL` makes every commit durable (the WAL is synced
/// at each commit), at the cost of one fsync per transaction: that is why
/// callers append in batches.
fn configure_writer(connection: &Connection) -> Result<(), StoreError> {
    let journal_mode: String = connection
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(|e| sql_error("enable WAL mode", e))?;
    if !journal_mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Internal(format!(
            "sqlite refused WAL mode (journal mode is `{journal_mode}`)"
        )));
    }
    connection
        .execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = OFF;
             PRAGMA temp_store = MEMORY;
             PRAGMA cache_size = -32768;
             PRAGMA journal_size_limit = 67108864;",
        )
        .map_err(|e| sql_error("configure the writer", e))?;
    connection
        .pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES)
        .map_err(|e| sql_error("configure the writer", e))?;
    let synchronous: i64 = connection
        .query_row("PRAGMA synchronous", [], |row| row.get(0))
        .map_err(|e| sql_error("read the synchronous mode", e))?;
    // INVARIANT: 2 is FULL; anything less would lose commits on power loss.
    if synchronous != 2 {
        return Err(StoreError::Internal(format!(
            "sqlite synchronous mode is `{synchronous}`, expected `2` (full)"
        )));
    }
    Ok(())
}

fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let context = "apply migrations";
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| sql_error(context, e))?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TEXT NOT NULL
         )",
    )
    .map_err(|e| sql_error(context, e))?;
    let applied: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |row| row.get(0),
        )
        .map_err(|e| sql_error(context, e))?;
    for migration in pending(SQLITE_MIGRATIONS, applied)? {
        tx.execute_batch(migration.sql).map_err(|e| {
            sql_error(
                &format!("apply migration `{}_{}`", migration.version, migration.name),
                e,
            )
        })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at)
             VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            params![migration.version, migration.name],
        )
        .map_err(|e| sql_error(context, e))?;
    }
    tx.commit().map_err(|e| sql_error(context, e))
}

/// Copies committed WAL frames into the database file on its own thread and
/// connection, so the fsyncs of a checkpoint do not stall appends. Best
/// effort: if it falls behind or fails, the writer's own autocheckpoint
/// still bounds the WAL.
struct Checkpointer {
    shared: Arc<(Mutex<CheckpointState>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct CheckpointState {
    /// Commits happened since the last checkpoint.
    pending: bool,
    stop: bool,
}

impl Checkpointer {
    fn start(path: &Path) -> Result<Checkpointer, StoreError> {
        let connection = open_connection(path)?;
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(|e| sql_error("configure the checkpointer", e))?;
        let shared = Arc::new((Mutex::new(CheckpointState::default()), Condvar::new()));
        let thread_shared = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name("custos-sqlite-checkpoint".to_owned())
            .spawn(move || run_checkpointer(&connection, &thread_shared))
            .map_err(|error| {
                StoreError::Internal(format!("cannot start the checkpoint thread: {error}"))
            })?;
        Ok(Checkpointer {
            shared,
            thread: Some(thread),
        })
    }

    /// Called after each commit.
    fn notify(&self) {
        let (state, wake) = &*self.shared;
        state.lock().unwrap_or_else(PoisonError::into_inner).pending = true;
        wake.notify_one();
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (state, wake) = &*self.shared;
        state.lock().unwrap_or_else(PoisonError::into_inner).stop = true;
        wake.notify_one();
        if let Some(thread) = self.thread.take() {
            // A panicked checkpointer has nothing left to clean up.
            let _ = thread.join();
        }
    }
}

fn run_checkpointer(connection: &Connection, shared: &(Mutex<CheckpointState>, Condvar)) {
    let (state, wake) = shared;
    loop {
        {
            let guard = state.lock().unwrap_or_else(PoisonError::into_inner);
            let mut guard = wake
                .wait_while(guard, |s| !s.pending && !s.stop)
                .unwrap_or_else(PoisonError::into_inner);
            if guard.stop {
                return;
            }
            guard.pending = false;
        }
        // Best effort (see `Checkpointer`): a busy or failed checkpoint is
        // retried after the next commit.
        let _ = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        let guard = state.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = wake
            .wait_timeout_while(guard, CHECKPOINT_INTERVAL, |s| !s.stop)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

/// Locks a connection. A panic while the lock was held may have left a
/// transaction open; roll it back instead of refusing service forever.
fn lock(connection: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    match connection.lock() {
        Ok(guard) => guard,
        Err(poisoned) => {
            let guard = poisoned.into_inner();
            if !guard.is_autocommit() {
                // If even the rollback fails, the next BEGIN reports the problem.
                let _ = guard.execute_batch("ROLLBACK");
            }
            connection.clear_poison();
            guard
        }
    }
}

/// Sorts a SQLite failure by who has to act on it.
fn sql_error(context: &str, error: rusqlite::Error) -> StoreError {
    let message = format!("cannot {context}: {error}");
    match error.sqlite_error_code() {
        Some(
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::CannotOpen
            | ErrorCode::DiskFull
            | ErrorCode::SystemIoFailure
            | ErrorCode::ReadOnly
            | ErrorCode::NoLargeFileSupport
            | ErrorCode::OutOfMemory,
        ) => StoreError::Unavailable(message),
        _ => StoreError::Internal(message),
    }
}

fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}

fn read_counter(connection: &Connection, name: &str) -> Result<(i64, i64), StoreError> {
    connection
        .prepare_cached("SELECT last, total FROM counters WHERE name = ?1")
        .and_then(|mut statement| statement.query_row([name], |row| Ok((row.get(0)?, row.get(1)?))))
        .map_err(|e| sql_error("read a counter", e))
}

fn bump_counter(
    connection: &Connection,
    name: &str,
    last: i64,
    added: i64,
) -> Result<(), StoreError> {
    connection
        .prepare_cached("UPDATE counters SET last = ?2, total = total + ?3 WHERE name = ?1")
        .and_then(|mut statement| statement.execute(params![name, last, added]))
        .map(|_| ())
        .map_err(|e| sql_error("update a counter", e))
}

impl rusqlite::ToSql for SqlValue<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(match *self {
            SqlValue::Text(text) => text.into(),
            SqlValue::Int(int) => int.into(),
        })
    }
}

/// `(ts_micros, seq, raw)` of a directory version.
/// `(ts_micros, seq, raw)`; `raw` is `None` when the event row is gone.
fn version_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, i64, Option<String>)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

// The directory reads fetch the event's raw JSON with a scalar subquery,
// not a JOIN: SQLite marks the JOIN form as depending on its bindings, so
// every reuse from the statement cache re-prepared it (7.5 µs against
// 1.4 µs a lookup; `statements_are_not_re_prepared_on_reuse` holds this).
// A directory row whose event is gone reads as absent, as the JOIN did.
const DIRECTORY_CURRENT: &str =
    "SELECT c.ts_micros, c.seq, (SELECT raw FROM events WHERE seq = c.seq)
     FROM directory_current c
     WHERE c.kind = ?1 AND c.id = ?2";

impl Store for SqliteStore {
    fn append_events(&self, batch: &[NewEvent]) -> Result<AppendReceipt, StoreError> {
        validate_events(batch)?;
        let context = "append events";
        let mut connection = lock(&self.writer);
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_error(context, e))?;
        let (last, _) = read_counter(&tx, "events")?;
        let (first_seq, last_seq) = allocate_seqs(last, batch.len())?;
        if batch.is_empty() {
            // Nothing to write; the transaction is rolled back on drop.
            return Ok(AppendReceipt {
                first_seq: seq_from_sql(first_seq)?,
                last_seq: seq_from_sql(last_seq)?,
            });
        }
        let touched;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO events (seq, event_id, event_type, ts_micros, raw)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(|e| sql_error(context, e))?;
            for (event, seq) in batch.iter().zip(first_seq..) {
                insert
                    .execute(params![
                        seq,
                        event.event_id,
                        event.event_type,
                        event.ts_micros,
                        event.raw
                    ])
                    .map_err(|e| sql_error(context, e))?;
            }

            let rows = directory_rows(batch, first_seq);
            touched = !rows.is_empty();
            if !rows.is_empty() {
                let mut history = tx
                    .prepare_cached(
                        "INSERT INTO directory_history (kind, id, ts_micros, seq)
                         VALUES (?1, ?2, ?3, ?4)",
                    )
                    .map_err(|e| sql_error(context, e))?;
                for row in &rows {
                    history
                        .execute(params![row.kind.as_str(), row.id, row.ts_micros, row.seq])
                        .map_err(|e| sql_error(context, e))?;
                }
                let mut current = tx
                    .prepare_cached(
                        "INSERT INTO directory_current (kind, id, ts_micros, seq)
                         VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (kind, id) DO UPDATE
                         SET ts_micros = excluded.ts_micros, seq = excluded.seq
                         WHERE excluded.ts_micros >= directory_current.ts_micros",
                    )
                    .map_err(|e| sql_error(context, e))?;
                for row in current_candidates(&rows) {
                    current
                        .execute(params![row.kind.as_str(), row.id, row.ts_micros, row.seq])
                        .map_err(|e| sql_error(context, e))?;
                }
            }
            bump_counter(&tx, "events", last_seq, last_seq - last)?;
        }
        tx.commit().map_err(|e| sql_error(context, e))?;
        if touched {
            // Before the writer lock goes and before the caller is answered.
            self.directory.invalidate(
                batch
                    .iter()
                    .filter_map(|e| e.directory.as_ref())
                    .map(|d| (d.kind, d.id.as_str())),
            );
        }
        drop(connection);
        self.checkpointer.notify();
        Ok(AppendReceipt {
            first_seq: seq_from_sql(first_seq)?,
            last_seq: seq_from_sql(last_seq)?,
        })
    }

    fn read_events(&self, after_seq: u64, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let context = "read events";
        let connection = lock(&self.reader);
        let mut statement = connection
            .prepare_cached(
                "SELECT seq, event_id, event_type, ts_micros, raw FROM events
                 WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .map_err(|e| sql_error(context, e))?;
        let rows = statement
            .query_map(
                params![seq_bound_to_sql(after_seq), limit_to_sql(limit)],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, i64>(3)?,
                        row.get::<_, String>(4)?,
                    ))
                },
            )
            .map_err(|e| sql_error(context, e))?;
        let mut events = Vec::with_capacity(limit.min(4096));
        for row in rows {
            let (seq, event_id, event_type, ts_micros, raw) =
                row.map_err(|e| sql_error(context, e))?;
            events.push(StoredEvent {
                seq: seq_from_sql(seq)?,
                event_id,
                event_type,
                ts_micros,
                raw,
            });
        }
        Ok(events)
    }

    fn last_seq(&self) -> Result<u64, StoreError> {
        let (last, _) = read_counter(&lock(&self.reader), "events")?;
        seq_from_sql(last)
    }

    fn event_count(&self) -> Result<u64, StoreError> {
        let (_, total) = read_counter(&lock(&self.reader), "events")?;
        seq_from_sql(total)
    }

    fn directory_current(
        &self,
        kind: DirectoryKind,
        id: &str,
    ) -> Result<Option<DirectoryRecord>, StoreError> {
        if let Some(hit) = self.directory.get(kind, id) {
            return Ok(hit);
        }
        let generation = self.directory.generation();
        let context = "read a directory entry";
        let connection = lock(&self.reader);
        let found = connection
            .prepare_cached(DIRECTORY_CURRENT)
            .and_then(|mut statement| {
                statement
                    .query_row(params![kind.as_str(), id], version_row)
                    .optional()
            })
            .map_err(|e| sql_error(context, e))?;
        drop(connection);
        let record = found
            .and_then(|(ts_micros, seq, raw)| raw.map(|raw| (ts_micros, seq, raw)))
            .map(|(ts_micros, seq, raw)| {
                Ok(DirectoryRecord {
                    kind,
                    id: id.to_owned(),
                    ts_micros,
                    seq: seq_from_sql(seq)?,
                    raw,
                })
            })
            .transpose()?;
        self.directory
            .insert_if_current(generation, kind, id, record.clone());
        Ok(record)
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
        let context = "list a directory";
        let connection = lock(&self.reader);
        // SQLite compares TEXT with BINARY collation: byte order, as the
        // primary key (kind, id) is sorted, so this walks the index.
        let mut statement = connection
            .prepare_cached(
                "SELECT c.id, c.ts_micros, c.seq, (SELECT raw FROM events WHERE seq = c.seq) AS raw
                 FROM directory_current c
                 WHERE c.kind = ?1 AND (?2 IS NULL OR c.id > ?2) AND raw IS NOT NULL
                 ORDER BY c.id LIMIT ?3",
            )
            .map_err(|e| sql_error(context, e))?;
        let rows = statement
            .query_map(
                params![kind.as_str(), after_id, limit_to_sql(limit)],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, i64>(2)?,
                        row.get::<_, String>(3)?,
                    ))
                },
            )
            .map_err(|e| sql_error(context, e))?;
        let mut records = Vec::new();
        for row in rows {
            let (id, ts_micros, seq, raw) = row.map_err(|e| sql_error(context, e))?;
            records.push(DirectoryRecord {
                kind,
                id,
                ts_micros,
                seq: seq_from_sql(seq)?,
                raw,
            });
        }
        Ok(records)
    }

    fn directory_history(
        &self,
        kind: DirectoryKind,
        id: &str,
    ) -> Result<Vec<DirectoryRecord>, StoreError> {
        let context = "read a directory history";
        let connection = lock(&self.reader);
        let mut statement = connection
            .prepare_cached(
                "SELECT h.ts_micros, h.seq, (SELECT raw FROM events WHERE seq = h.seq)
                 FROM directory_history h
                 WHERE h.kind = ?1 AND h.id = ?2
                 ORDER BY h.ts_micros, h.seq",
            )
            .map_err(|e| sql_error(context, e))?;
        let rows = statement
            .query_map(params![kind.as_str(), id], version_row)
            .map_err(|e| sql_error(context, e))?;
        let mut records = Vec::new();
        for row in rows {
            let (ts_micros, seq, raw) = row.map_err(|e| sql_error(context, e))?;
            let Some(raw) = raw else { continue };
            records.push(DirectoryRecord {
                kind,
                id: id.to_owned(),
                ts_micros,
                seq: seq_from_sql(seq)?,
                raw,
            });
        }
        Ok(records)
    }

    fn append_alerts(
        &self,
        alerts: &[NewAlert],
        cursor: &str,
        cursor_seq: u64,
    ) -> Result<(), StoreError> {
        validate_alerts(alerts, cursor)?;
        let cursor_seq = seq_to_sql("cursor_seq", cursor_seq)?;
        let context = "append alerts";
        let mut connection = lock(&self.writer);
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_error(context, e))?;
        {
            if !alerts.is_empty() {
                let (last, _) = read_counter(&tx, "alerts")?;
                let (first_seq, last_seq) = allocate_seqs(last, alerts.len())?;
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO alerts
                         (seq, alert_id, ts_micros, detector, entity_kind, entity_id, severity, json)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    )
                    .map_err(|e| sql_error(context, e))?;
                for (alert, seq) in alerts.iter().zip(first_seq..) {
                    insert
                        .execute(params![
                            seq,
                            alert.alert_id,
                            alert.ts_micros,
                            alert.detector,
                            alert.entity_kind,
                            alert.entity_id,
                            alert.severity.code(),
                            alert.json
                        ])
                        .map_err(|error| {
                            if is_unique_violation(&error) {
                                duplicate_alert(&alert.alert_id)
                            } else {
                                sql_error(context, error)
                            }
                        })?;
                }
                bump_counter(&tx, "alerts", last_seq, last_seq - last)?;
            }
            tx.prepare_cached(
                "INSERT INTO cursors (name, seq) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
            )
            .and_then(|mut statement| statement.execute(params![cursor, cursor_seq]))
            .map_err(|e| sql_error(context, e))?;
        }
        tx.commit().map_err(|e| sql_error(context, e))?;
        drop(connection);
        self.checkpointer.notify();
        Ok(())
    }

    fn cursor(&self, name: &str) -> Result<u64, StoreError> {
        let connection = lock(&self.reader);
        let seq: Option<i64> = connection
            .prepare_cached("SELECT seq FROM cursors WHERE name = ?1")
            .and_then(|mut statement| statement.query_row([name], |row| row.get(0)).optional())
            .map_err(|e| sql_error("read a cursor", e))?;
        seq_from_sql(seq.unwrap_or(0))
    }

    fn query_alerts(&self, query: &AlertQuery) -> Result<AlertPage, StoreError> {
        let sql = alert_query_sql(query, Dialect::Sqlite)?;
        let context = "query alerts";
        let connection = lock(&self.reader);
        let mut statement = connection
            .prepare_cached(&sql.sql)
            .map_err(|e| sql_error(context, e))?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(&sql.params), |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })
            .map_err(|e| sql_error(context, e))?;
        let mut alerts = Vec::new();
        for row in rows {
            let (seq, alert_id, json) = row.map_err(|e| sql_error(context, e))?;
            alerts.push(StoredAlert {
                seq: seq_from_sql(seq)?,
                alert_id,
                json,
            });
        }
        Ok(finish_page(alerts, sql.page_size))
    }

    fn alert_count(&self) -> Result<u64, StoreError> {
        let (_, total) = read_counter(&lock(&self.reader), "alerts")?;
        seq_from_sql(total)
    }

    fn ping(&self) -> Result<(), StoreError> {
        // Touches the file (the counters page), not just the connection.
        read_counter(&lock(&self.reader), "events").map(|_| ())
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::DirectoryUpdate;

    #[test]
    fn statements_are_not_re_prepared_on_reuse() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let events: Vec<NewEvent> = (0..3)
            .map(|i| NewEvent {
                event_id: format!("e-{i}"),
                event_type: "agent".to_owned(),
                ts_micros: 1_000 + i,
                raw: format!(r#"{{"type":"agent","agent_id":"a-{i}"}}"#),
                directory: Some(DirectoryUpdate {
                    kind: DirectoryKind::Agent,
                    id: format!("a-{i}"),
                }),
            })
            .collect();
        store.append_events(&events).unwrap();
        for i in 0..3 {
            for id in [format!("a-{i}"), "nobody".to_owned()] {
                let found = store.directory_current(DirectoryKind::Agent, &id).unwrap();
                assert_eq!(found.is_some(), id != "nobody");
            }
        }
        let reader = lock(&store.reader);
        let statement = reader.prepare_cached(DIRECTORY_CURRENT).unwrap();
        // 3 agents and one unknown id read from SQL, the rest from the cache.
        assert_eq!(statement.get_status(rusqlite::StatementStatus::Run), 4);
        assert_eq!(
            statement.get_status(rusqlite::StatementStatus::RePrepare),
            0,
            "a directory read re-prepares its statement on every binding"
        );
    }

    fn agent(id: &str, ts_micros: i64, team: &str) -> NewEvent {
        NewEvent {
            event_id: format!("e-{id}-{ts_micros}"),
            event_type: "agent".to_owned(),
            ts_micros,
            raw: format!(r#"{{"type":"agent","agent_id":"{id}","team":"{team}"}}"#),
            directory: Some(DirectoryUpdate {
                kind: DirectoryKind::Agent,
                id: id.to_owned(),
            }),
        }
    }

    #[test]
    fn a_cached_directory_entry_never_outlives_the_append_that_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let team = |store: &SqliteStore, id: &str| {
            store
                .directory_current(DirectoryKind::Agent, id)
                .unwrap()
                .map(|r| r.raw)
        };
        // Known absent, cached as such, then created.
        assert_eq!(team(&store, "a-1"), None);
        assert_eq!(team(&store, "a-1"), None);
        store.append_events(&[agent("a-1", 1_000, "red")]).unwrap();
        assert!(team(&store, "a-1").unwrap().contains("red"));
        assert!(team(&store, "a-1").unwrap().contains("red"));
        // A newer version replaces the cached one at once.
        store.append_events(&[agent("a-1", 2_000, "blue")]).unwrap();
        assert!(team(&store, "a-1").unwrap().contains("blue"));
        // An older (late) version does not roll the entry back, cached or not.
        store
            .append_events(&[agent("a-1", 1_500, "green")])
            .unwrap();
        assert!(team(&store, "a-1").unwrap().contains("blue"));
        // Another process's view agrees: a fresh store on the same file.
        drop(store);
        let again = SqliteStore::open(dir.path()).unwrap();
        assert!(team(&again, "a-1").unwrap().contains("blue"));
    }

    #[test]
    fn a_read_that_raced_an_append_is_not_cached() {
        let cache = crate::dircache::DirectoryCache::default();
        let stale = DirectoryRecord {
            kind: DirectoryKind::Agent,
            id: "a-1".to_owned(),
            ts_micros: 1,
            seq: 1,
            raw: "old".to_owned(),
        };
        let before = cache.generation();
        // The append commits and invalidates while the read is in flight.
        cache.invalidate([(DirectoryKind::Agent, "a-1")]);
        cache.insert_if_current(before, DirectoryKind::Agent, "a-1", Some(stale.clone()));
        assert_eq!(cache.get(DirectoryKind::Agent, "a-1"), None);
        let now = cache.generation();
        cache.insert_if_current(now, DirectoryKind::Agent, "a-1", Some(stale.clone()));
        assert_eq!(cache.get(DirectoryKind::Agent, "a-1"), Some(Some(stale)));
    }
}
