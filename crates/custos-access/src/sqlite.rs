//! The embedded backend: grants and step-up state in their own SQLite file
//! (`access.db` in the data directory), apart from the event store and the
//! vault. WAL mode, `synchronous=FULL` (a returned approval or spend
//! survives a power loss), a writer and a read-only reader connection each
//! behind a mutex, versioned migrations in one transaction.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use custos_core::id::{AgentId, CustomerId, TicketId};
use custos_core::time::EventTime;
use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, TransactionBehavior, params};

use crate::error::AccessStoreError;
use crate::ids::GrantId;
use crate::store::{
    FailureCount, GrantRecord, GrantRow, GrantStore, SQLITE_MIGRATIONS, StepUpState, StepUpStore,
    Transition, grant_columns, pending_migrations,
};

/// The database file [`SqliteAccessStore::open`] creates in its directory.
pub const ACCESS_FILE_NAME: &str = "access.db";

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const INSERT_GRANT: &str = concat!(
    "INSERT INTO grants (",
    grant_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
);
const SELECT_GRANT: &str = concat!(
    "SELECT ",
    grant_columns!(),
    " FROM grants WHERE grant_id = ?1"
);
const APPROVE: &str = concat!(
    "UPDATE grants SET status = 'approved', decided_by = ?2, decided_at = ?3, expires_at = ?4 \
     WHERE grant_id = ?1 AND status = 'pending' RETURNING ",
    grant_columns!()
);
const REJECT: &str = concat!(
    "UPDATE grants SET status = 'rejected', decided_by = ?2, decided_at = ?3, reason = ?4 \
     WHERE grant_id = ?1 AND status = 'pending' RETURNING ",
    grant_columns!()
);
const REVOKE: &str = concat!(
    "UPDATE grants SET status = 'revoked', revoked_by = ?2, revoked_at = ?3, reason = ?4 \
     WHERE grant_id = ?1 AND status IN ('pending', 'approved') RETURNING ",
    grant_columns!()
);
const SPEND: &str = "UPDATE grants SET reveals_remaining = reveals_remaining - ?2
     WHERE grant_id = ?1 AND status = 'approved' AND expires_at > ?3 AND reveals_remaining >= ?2
     RETURNING reveals_remaining";
const ACTIVE: &str = concat!(
    "SELECT ",
    grant_columns!(),
    " FROM grants WHERE requester = ?1 AND customer_id = ?2 AND ticket_id = ?3 \
     AND status = 'approved' AND expires_at > ?4 AND reveals_remaining > 0 \
     ORDER BY decided_at DESC, grant_id"
);
const PENDING: &str = concat!(
    "SELECT ",
    grant_columns!(),
    " FROM grants WHERE status = 'pending' ORDER BY requested_at, grant_id LIMIT ?1"
);
const TICKET_OPEN: &str = concat!(
    "SELECT ",
    grant_columns!(),
    " FROM grants WHERE ticket_id = ?1 AND status IN ('pending', 'approved') \
     ORDER BY requested_at, grant_id"
);

const ENROL: &str = "INSERT INTO step_up (agent_id, sealed_secret, enrolled_at) VALUES (?1, ?2, ?3)
     ON CONFLICT (agent_id) DO NOTHING";
const UNENROL: &str = "DELETE FROM step_up WHERE agent_id = ?1";
const STEP_UP_STATE: &str = "SELECT sealed_secret, enrolled_at, last_step, failures, locked_until,
     step_up_at FROM step_up WHERE agent_id = ?1";
const ACCEPT_STEP: &str = "UPDATE step_up SET last_step = ?2, step_up_at = ?3, failures = 0
     WHERE agent_id = ?1 AND (last_step IS NULL OR last_step < ?2)
     AND (locked_until IS NULL OR locked_until <= ?3)";
const RECORD_FAILURE: &str = "UPDATE step_up SET
     failures = CASE WHEN failures + 1 >= ?2 THEN 0 ELSE failures + 1 END,
     locked_until = CASE WHEN failures + 1 >= ?2 THEN ?3 ELSE locked_until END
     WHERE agent_id = ?1 RETURNING failures, locked_until";
const STEP_UP_AT: &str = "SELECT step_up_at FROM step_up WHERE agent_id = ?1";
const RECORD_STEP_UP: &str = "UPDATE step_up SET step_up_at = ?2
     WHERE agent_id = ?1 AND (locked_until IS NULL OR locked_until <= ?2)";

/// Grants and step-up state in SQLite. Share it with an `Arc`; every call
/// blocks the calling thread.
pub struct SqliteAccessStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteAccessStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteAccessStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteAccessStore {
    /// Opens (creating when missing) `dir` and [`ACCESS_FILE_NAME`] in it,
    /// and applies pending migrations.
    pub fn open(dir: &Path) -> Result<SqliteAccessStore, AccessStoreError> {
        fs::create_dir_all(dir).map_err(|error| {
            AccessStoreError::Unavailable(format!(
                "cannot create access data directory `{}`: {error}",
                dir.display()
            ))
        })?;
        let path = dir.join(ACCESS_FILE_NAME);
        let mut writer = connect(&path)?;
        writer
            .pragma_update(None, "journal_mode", "WAL")
            .and_then(|()| writer.pragma_update(None, "synchronous", "FULL"))
            .map_err(|e| sql_error("configure the writer", &e))?;
        migrate(&mut writer)?;
        let reader = connect(&path)?;
        reader
            .pragma_update(None, "query_only", true)
            .map_err(|e| sql_error("configure the reader", &e))?;
        Ok(SqliteAccessStore {
            path,
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn grants_where(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        what: &str,
    ) -> Result<Vec<GrantRecord>, AccessStoreError> {
        let connection = lock(&self.reader);
        let mut statement = connection
            .prepare_cached(sql)
            .map_err(|e| sql_error(what, &e))?;
        let rows = statement
            .query_map(params, grant_row)
            .map_err(|e| sql_error(what, &e))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row.map_err(|e| sql_error(what, &e))?.into_record()?);
        }
        Ok(out)
    }
}

fn connect(path: &Path) -> Result<Connection, AccessStoreError> {
    let connection = Connection::open(path).map_err(|e| sql_error("open the access store", &e))?;
    connection
        .busy_timeout(BUSY_TIMEOUT)
        .and_then(|()| connection.pragma_update(None, "foreign_keys", true))
        .map_err(|e| sql_error("configure a connection", &e))?;
    Ok(connection)
}

fn migrate(connection: &mut Connection) -> Result<(), AccessStoreError> {
    let what = "apply migrations";
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| sql_error(what, &e))?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT",
    )
    .map_err(|e| sql_error(what, &e))?;
    let applied: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |row| row.get(0),
        )
        .map_err(|e| sql_error(what, &e))?;
    for (version, name, sql) in pending_migrations(SQLITE_MIGRATIONS, applied)? {
        tx.execute_batch(sql).map_err(|e| sql_error(what, &e))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)",
            params![version, name],
        )
        .map_err(|e| sql_error(what, &e))?;
    }
    tx.commit().map_err(|e| sql_error(what, &e))
}

fn grant_row(row: &Row<'_>) -> rusqlite::Result<GrantRow> {
    Ok(GrantRow {
        grant_id: row.get(0)?,
        status: row.get(1)?,
        requester: row.get(2)?,
        customer_id: row.get(3)?,
        ticket_id: row.get(4)?,
        fields: row.get(5)?,
        purpose: row.get(6)?,
        ttl_micros: row.get(7)?,
        reveal_budget: row.get(8)?,
        reveals_remaining: row.get(9)?,
        requested_at: row.get(10)?,
        decided_by: row.get(11)?,
        decided_at: row.get(12)?,
        expires_at: row.get(13)?,
        revoked_by: row.get(14)?,
        revoked_at: row.get(15)?,
        reason: row.get(16)?,
    })
}

impl GrantStore for SqliteAccessStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn insert_grant(&self, grant: &GrantRecord) -> Result<(), AccessStoreError> {
        let r = GrantRow::from_record(grant);
        let connection = lock(&self.writer);
        connection
            .prepare_cached(INSERT_GRANT)
            .and_then(|mut statement| {
                statement.execute(params![
                    r.grant_id,
                    r.status,
                    r.requester,
                    r.customer_id,
                    r.ticket_id,
                    r.fields,
                    r.purpose,
                    r.ttl_micros,
                    r.reveal_budget,
                    r.reveals_remaining,
                    r.requested_at,
                    r.decided_by,
                    r.decided_at,
                    r.expires_at,
                    r.revoked_by,
                    r.revoked_at,
                    r.reason,
                ])
            })
            .map_err(|e| sql_error("insert a grant", &e))?;
        Ok(())
    }

    fn grant(&self, id: &GrantId) -> Result<Option<GrantRecord>, AccessStoreError> {
        let what = "read a grant";
        let connection = lock(&self.reader);
        let row = connection
            .prepare_cached(SELECT_GRANT)
            .and_then(|mut statement| statement.query_row([id.as_str()], grant_row).optional())
            .map_err(|e| sql_error(what, &e))?;
        row.map(GrantRow::into_record).transpose()
    }

    fn transition(
        &self,
        id: &GrantId,
        change: &Transition,
    ) -> Result<Option<GrantRecord>, AccessStoreError> {
        let what = "change a grant";
        let connection = lock(&self.writer);
        let row = match change {
            Transition::Approve { by, at, expires_at } => connection
                .prepare_cached(APPROVE)
                .and_then(|mut statement| {
                    statement
                        .query_row(
                            params![
                                id.as_str(),
                                by.as_str(),
                                at.as_micros(),
                                expires_at.as_micros()
                            ],
                            grant_row,
                        )
                        .optional()
                }),
            Transition::Reject { by, at, reason } | Transition::Revoke { by, at, reason } => {
                let sql = if matches!(change, Transition::Reject { .. }) {
                    REJECT
                } else {
                    REVOKE
                };
                connection.prepare_cached(sql).and_then(|mut statement| {
                    statement
                        .query_row(
                            params![id.as_str(), by.as_str(), at.as_micros(), reason],
                            grant_row,
                        )
                        .optional()
                })
            }
        }
        .map_err(|e| sql_error(what, &e))?;
        row.map(GrantRow::into_record).transpose()
    }

    fn spend(
        &self,
        id: &GrantId,
        reveals: u32,
        now: EventTime,
    ) -> Result<Option<u32>, AccessStoreError> {
        let connection = lock(&self.writer);
        let left: Option<i64> = connection
            .prepare_cached(SPEND)
            .and_then(|mut statement| {
                statement
                    .query_row(
                        params![id.as_str(), i64::from(reveals), now.as_micros()],
                        |row| row.get(0),
                    )
                    .optional()
            })
            .map_err(|e| sql_error("spend a grant's budget", &e))?;
        left.map(|n| {
            u32::try_from(n).map_err(|_| AccessStoreError::Internal("negative budget".into()))
        })
        .transpose()
    }

    fn active_grants(
        &self,
        requester: &AgentId,
        customer: &CustomerId,
        ticket: &TicketId,
        now: EventTime,
    ) -> Result<Vec<GrantRecord>, AccessStoreError> {
        self.grants_where(
            ACTIVE,
            params![
                requester.as_str(),
                customer.as_str(),
                ticket.as_str(),
                now.as_micros()
            ],
            "read active grants",
        )
    }

    fn pending_grants(&self, limit: usize) -> Result<Vec<GrantRecord>, AccessStoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.grants_where(PENDING, params![limit], "read pending grants")
    }

    fn open_grants_for_ticket(
        &self,
        ticket: &TicketId,
    ) -> Result<Vec<GrantRecord>, AccessStoreError> {
        self.grants_where(
            TICKET_OPEN,
            params![ticket.as_str()],
            "read a ticket's grants",
        )
    }
}

impl StepUpStore for SqliteAccessStore {
    fn enrol(
        &self,
        agent: &AgentId,
        sealed_secret: &[u8],
        at: EventTime,
    ) -> Result<bool, AccessStoreError> {
        let connection = lock(&self.writer);
        let inserted = connection
            .prepare_cached(ENROL)
            .and_then(|mut statement| {
                statement.execute(params![agent.as_str(), sealed_secret, at.as_micros()])
            })
            .map_err(|e| sql_error("enrol for step-up", &e))?;
        Ok(inserted == 1)
    }

    fn unenrol(&self, agent: &AgentId) -> Result<bool, AccessStoreError> {
        let connection = lock(&self.writer);
        let deleted = connection
            .prepare_cached(UNENROL)
            .and_then(|mut statement| statement.execute([agent.as_str()]))
            .map_err(|e| sql_error("remove a step-up enrolment", &e))?;
        Ok(deleted == 1)
    }

    fn step_up_state(&self, agent: &AgentId) -> Result<Option<StepUpState>, AccessStoreError> {
        let connection = lock(&self.reader);
        let row = connection
            .prepare_cached(STEP_UP_STATE)
            .and_then(|mut statement| {
                statement
                    .query_row([agent.as_str()], |row| {
                        Ok((
                            row.get::<_, Vec<u8>>(0)?,
                            row.get::<_, i64>(1)?,
                            row.get::<_, Option<i64>>(2)?,
                            row.get::<_, i64>(3)?,
                            row.get::<_, Option<i64>>(4)?,
                            row.get::<_, Option<i64>>(5)?,
                        ))
                    })
                    .optional()
            })
            .map_err(|e| sql_error("read step-up state", &e))?;
        row.map(
            |(sealed_secret, enrolled_at, last_step, failures, locked_until, step_up_at)| {
                Ok(StepUpState {
                    sealed_secret,
                    enrolled_at: EventTime::from_micros(enrolled_at),
                    last_step,
                    failures: u32::try_from(failures)
                        .map_err(|_| AccessStoreError::Internal("bad failure count".into()))?,
                    locked_until: locked_until.map(EventTime::from_micros),
                    step_up_at: step_up_at.map(EventTime::from_micros),
                })
            },
        )
        .transpose()
    }

    fn accept_step(
        &self,
        agent: &AgentId,
        step: i64,
        at: EventTime,
    ) -> Result<bool, AccessStoreError> {
        let connection = lock(&self.writer);
        let changed = connection
            .prepare_cached(ACCEPT_STEP)
            .and_then(|mut statement| {
                statement.execute(params![agent.as_str(), step, at.as_micros()])
            })
            .map_err(|e| sql_error("accept a step-up", &e))?;
        Ok(changed == 1)
    }

    fn record_failure(
        &self,
        agent: &AgentId,
        max_failures: u32,
        lock_until: EventTime,
    ) -> Result<Option<FailureCount>, AccessStoreError> {
        let connection = lock(&self.writer);
        let row: Option<(i64, Option<i64>)> = connection
            .prepare_cached(RECORD_FAILURE)
            .and_then(|mut statement| {
                statement
                    .query_row(
                        params![
                            agent.as_str(),
                            i64::from(max_failures),
                            lock_until.as_micros()
                        ],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .optional()
            })
            .map_err(|e| sql_error("count a step-up failure", &e))?;
        row.map(|(failures, locked_until)| {
            Ok(FailureCount {
                failures: u32::try_from(failures)
                    .map_err(|_| AccessStoreError::Internal("bad failure count".into()))?,
                locked_until: locked_until.map(EventTime::from_micros),
            })
        })
        .transpose()
    }

    fn step_up_at(&self, agent: &AgentId) -> Result<Option<EventTime>, AccessStoreError> {
        let connection = lock(&self.reader);
        let at: Option<Option<i64>> = connection
            .prepare_cached(STEP_UP_AT)
            .and_then(|mut statement| {
                statement
                    .query_row([agent.as_str()], |row| row.get(0))
                    .optional()
            })
            .map_err(|e| sql_error("read a step-up time", &e))?;
        Ok(at.flatten().map(EventTime::from_micros))
    }

    fn record_step_up(&self, agent: &AgentId, at: EventTime) -> Result<bool, AccessStoreError> {
        let connection = lock(&self.writer);
        let changed = connection
            .prepare_cached(RECORD_STEP_UP)
            .and_then(|mut statement| statement.execute(params![agent.as_str(), at.as_micros()]))
            .map_err(|e| sql_error("record a step-up", &e))?;
        Ok(changed == 1)
    }
}

fn lock(mutex: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding the lock cannot leave a half-done transaction
    // behind (rusqlite rolls back on drop), so the connection is still good.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn sql_error(what: &str, error: &rusqlite::Error) -> AccessStoreError {
    let message = format!("cannot {what}: {}", error.to_string().replace('\n', " "));
    match error.sqlite_error_code() {
        Some(
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::DiskFull
            | ErrorCode::CannotOpen
            | ErrorCode::SystemIoFailure
            | ErrorCode::ReadOnly,
        ) => AccessStoreError::Unavailable(message),
        _ => AccessStoreError::Internal(message),
    }
}
