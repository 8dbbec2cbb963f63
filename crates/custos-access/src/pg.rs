//! The PostgreSQL backend, on the synchronous `postgres` client: grants and
//! step-up state in a schema of their own (default `custos_access`).
//!
//! The client drives a small tokio runtime of its own inside every call:
//! call this store from plain threads (or `spawn_blocking`), never from
//! inside an async runtime. One connection behind a mutex, replaced when it
//! breaks; reads run once more on a fresh connection, writes never do (a
//! write whose connection died may have committed). TLS is not supported.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use custos_core::id::{AgentId, CustomerId, TicketId};
use custos_core::time::EventTime;
use custos_pg::{Retry, RunError, Session, Statements, describe, error_text, prepared};
use postgres::types::ToSql;
use postgres::{Client, Config, Row};

use crate::error::AccessStoreError;
use crate::ids::GrantId;
use crate::store::{
    FailureCount, GrantRecord, GrantRow, GrantStore, POSTGRES_MIGRATIONS, StepUpState, StepUpStore,
    Transition, grant_columns, pending_migrations,
};

/// The schema [`PostgresAccessStore::connect`] uses.
pub const DEFAULT_SCHEMA: &str = "custos_access";

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Serializes migrations of concurrent processes ("cus_acc").
const MIGRATION_LOCK_KEY: i64 = 0x0063_7573_5f61_6363;

const INSERT_GRANT: &str = concat!(
    "INSERT INTO grants (",
    grant_columns!(),
    ") VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, \
     $8::bigint, $9::bigint, $10::bigint, $11::bigint, $12::text, $13::bigint, $14::bigint, \
     $15::text, $16::bigint, $17::text)"
);
const SELECT_GRANT: &str = concat!(
    "SELECT ",
    grant_columns!(),
    " FROM grants WHERE grant_id = $1::text"
);
const APPROVE: &str = concat!(
    "UPDATE grants SET status = 'approved', decided_by = $2::text, decided_at = $3::bigint, \
     expires_at = $4::bigint WHERE grant_id = $1::text AND status = 'pending' RETURNING ",
    grant_columns!()
);
const REJECT: &str = concat!(
    "UPDATE grants SET status = 'rejected', decided_by = $2::text, decided_at = $3::bigint, \
     reason = $4::text WHERE grant_id = $1::text AND status = 'pending' RETURNING ",
    grant_columns!()
);
const REVOKE: &str = concat!(
    "UPDATE grants SET status = 'revoked', revoked_by = $2::text, revoked_at = $3::bigint, \
     reason = $4::text WHERE grant_id = $1::text AND status IN ('pending', 'approved') RETURNING ",
    grant_columns!()
);
const SPEND: &str = "UPDATE grants SET reveals_remaining = reveals_remaining - $2::bigint
     WHERE grant_id = $1::text AND status = 'approved' AND expires_at > $3::bigint
     AND reveals_remaining >= $2::bigint RETURNING reveals_remaining";
const ACTIVE: &str = concat!(
    "SELECT ",
    grant_columns!(),
    " FROM grants WHERE requester = $1::text AND customer_id = $2::text AND ticket_id = $3::text \
     AND status = 'approved' AND expires_at > $4::bigint AND reveals_remaining > 0 \
     ORDER BY decided_at DESC, grant_id"
);
const PENDING: &str = concat!(
    "SELECT ",
    grant_columns!(),
    " FROM grants WHERE status = 'pending' ORDER BY requested_at, grant_id LIMIT $1::bigint"
);
const TICKET_OPEN: &str = concat!(
    "SELECT ",
    grant_columns!(),
    " FROM grants WHERE ticket_id = $1::text AND status IN ('pending', 'approved') \
     ORDER BY requested_at, grant_id"
);

const ENROL: &str = "INSERT INTO step_up (agent_id, sealed_secret, enrolled_at)
     VALUES ($1::text, $2::bytea, $3::bigint) ON CONFLICT (agent_id) DO NOTHING";
const UNENROL: &str = "DELETE FROM step_up WHERE agent_id = $1::text";
const STEP_UP_STATE: &str = "SELECT sealed_secret, enrolled_at, last_step, failures,
     locked_until, step_up_at FROM step_up WHERE agent_id = $1::text";
const ACCEPT_STEP: &str = "UPDATE step_up SET last_step = $2::bigint, step_up_at = $3::bigint,
     failures = 0 WHERE agent_id = $1::text AND (last_step IS NULL OR last_step < $2::bigint)
     AND (locked_until IS NULL OR locked_until <= $3::bigint)";
const RECORD_FAILURE: &str = "UPDATE step_up SET
     failures = CASE WHEN failures + 1 >= $2::bigint THEN 0 ELSE failures + 1 END,
     locked_until = CASE WHEN failures + 1 >= $2::bigint THEN $3::bigint ELSE locked_until END
     WHERE agent_id = $1::text RETURNING failures, locked_until";
const STEP_UP_AT: &str = "SELECT step_up_at FROM step_up WHERE agent_id = $1::text";
const RECORD_STEP_UP: &str = "UPDATE step_up SET step_up_at = $2::bigint
     WHERE agent_id = $1::text AND (locked_until IS NULL OR locked_until <= $2::bigint)";

/// The connection and its prepared statements ([`custos_pg::Session`]).
type Slot = Session;

/// Grants and step-up state in PostgreSQL. Share it with an `Arc`.
pub struct PostgresAccessStore {
    config: Config,
    /// Where the store points, for messages: never the password.
    target: String,
    slot: Mutex<Slot>,
}

impl std::fmt::Debug for PostgresAccessStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresAccessStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl PostgresAccessStore {
    /// Connects to `url` and keeps every table in [`DEFAULT_SCHEMA`].
    pub fn connect(url: &str) -> Result<PostgresAccessStore, AccessStoreError> {
        PostgresAccessStore::connect_with_schema(url, DEFAULT_SCHEMA)
    }

    /// Like [`PostgresAccessStore::connect`] with another schema (created
    /// when missing; set as the `search_path` of every connection). Tests
    /// use a fresh one each. `schema` must match `[a-z_][a-z0-9_]*`, at most
    /// 63 bytes.
    pub fn connect_with_schema(
        url: &str,
        schema: &str,
    ) -> Result<PostgresAccessStore, AccessStoreError> {
        let valid = !schema.is_empty()
            && schema.len() <= 63
            && schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !schema.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return Err(AccessStoreError::Invalid(format!(
                "schema name `{}` is not a plain lower-case identifier",
                schema.escape_debug().take(64).collect::<String>()
            )));
        }
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(AccessStoreError::Invalid(
                "the access store url must start with `postgres://` or `postgresql://`".into(),
            ));
        }
        let mut config: Config = url
            .parse()
            .map_err(|_| AccessStoreError::Invalid("the postgres url does not parse".into()))?;
        let search_path = format!("-c search_path={schema}");
        let options = match config.get_options() {
            Some(existing) if !existing.trim().is_empty() => format!("{existing} {search_path}"),
            _ => search_path,
        };
        config.options(&options);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name(&format!("custos-access/{schema}"));
        }
        let target = describe(&config, schema);
        let store = PostgresAccessStore {
            config,
            target,
            slot: Mutex::new(Slot::default()),
        };
        store.run("apply migrations", Retry::Never, |client, _| {
            let mut tx = client.transaction()?;
            tx.execute(
                "SELECT pg_advisory_xact_lock($1::bigint)",
                &[&MIGRATION_LOCK_KEY],
            )?;
            // INVARIANT: `schema` was checked above, so quoting is enough.
            tx.batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS \"{schema}\";
                 CREATE TABLE IF NOT EXISTS schema_migrations (
                     version BIGINT PRIMARY KEY, name TEXT NOT NULL)"
            ))?;
            let applied: i64 = tx
                .query_one(
                    "SELECT COALESCE(MAX(version), 0)::bigint FROM schema_migrations",
                    &[],
                )?
                .get(0);
            let pending =
                pending_migrations(POSTGRES_MIGRATIONS, applied).map_err(Failure::Other)?;
            for (version, name, sql) in pending {
                tx.batch_execute(sql)?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1::bigint, $2::text)",
                    &[version, name],
                )?;
            }
            tx.commit()?;
            Ok(())
        })?;
        Ok(store)
    }

    fn run<T>(
        &self,
        what: &str,
        retry: Retry,
        op: impl FnMut(&mut Client, &mut Statements) -> Result<T, Failure>,
    ) -> Result<T, AccessStoreError> {
        let mut slot = lock(&self.slot);
        slot.run(&self.config, retry, op)
            .map_err(|error| match error {
                RunError::Connect(error) => AccessStoreError::Unavailable(format!(
                    "cannot connect to postgres at `{}`: {}",
                    self.target,
                    error_text(&error)
                )),
                RunError::Sql { error, broken } => self.classify(what, &error, broken),
                RunError::Other(error) => error,
            })
    }

    fn classify(&self, what: &str, error: &postgres::Error, broken: bool) -> AccessStoreError {
        let message = format!(
            "cannot {what} in postgres at `{}`: {}",
            self.target,
            error_text(error)
        );
        let code = error
            .code()
            .map(|c| c.code().to_owned())
            .unwrap_or_default();
        // Class 08: connection exceptions; 53: insufficient resources;
        // 57P: operator intervention (shutdown, terminated backend).
        if broken || code.starts_with("08") || code.starts_with("53") || code.starts_with("57P") {
            AccessStoreError::Unavailable(message)
        } else {
            AccessStoreError::Internal(message)
        }
    }

    fn query(
        &self,
        what: &str,
        retry: Retry,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, AccessStoreError> {
        self.run(what, retry, |client, statements| {
            let statement = prepared(client, statements, sql)?;
            Ok(client.query(&statement, params)?)
        })
    }

    fn execute(
        &self,
        what: &str,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, AccessStoreError> {
        self.run(what, Retry::Never, |client, statements| {
            let statement = prepared(client, statements, sql)?;
            Ok(client.execute(&statement, params)?)
        })
    }

    fn grants(
        &self,
        what: &str,
        retry: Retry,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<GrantRecord>, AccessStoreError> {
        self.query(what, retry, sql, params)?
            .iter()
            .map(|row| grant_row(row)?.into_record())
            .collect()
    }
}

/// How an operation failed: in SQL, or as a store error.
type Failure = custos_pg::Failure<AccessStoreError>;

fn grant_row(row: &Row) -> Result<GrantRow, AccessStoreError> {
    let bad = |e: postgres::Error| AccessStoreError::Internal(format!("unreadable grant row: {e}"));
    Ok(GrantRow {
        grant_id: row.try_get(0).map_err(bad)?,
        status: row.try_get(1).map_err(bad)?,
        requester: row.try_get(2).map_err(bad)?,
        customer_id: row.try_get(3).map_err(bad)?,
        ticket_id: row.try_get(4).map_err(bad)?,
        fields: row.try_get(5).map_err(bad)?,
        purpose: row.try_get(6).map_err(bad)?,
        ttl_micros: row.try_get(7).map_err(bad)?,
        reveal_budget: row.try_get(8).map_err(bad)?,
        reveals_remaining: row.try_get(9).map_err(bad)?,
        requested_at: row.try_get(10).map_err(bad)?,
        decided_by: row.try_get(11).map_err(bad)?,
        decided_at: row.try_get(12).map_err(bad)?,
        expires_at: row.try_get(13).map_err(bad)?,
        revoked_by: row.try_get(14).map_err(bad)?,
        revoked_at: row.try_get(15).map_err(bad)?,
        reason: row.try_get(16).map_err(bad)?,
    })
}

impl GrantStore for PostgresAccessStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn insert_grant(&self, grant: &GrantRecord) -> Result<(), AccessStoreError> {
        let r = GrantRow::from_record(grant);
        self.execute(
            "insert a grant",
            INSERT_GRANT,
            &[
                &r.grant_id,
                &r.status,
                &r.requester,
                &r.customer_id,
                &r.ticket_id,
                &r.fields,
                &r.purpose,
                &r.ttl_micros,
                &r.reveal_budget,
                &r.reveals_remaining,
                &r.requested_at,
                &r.decided_by,
                &r.decided_at,
                &r.expires_at,
                &r.revoked_by,
                &r.revoked_at,
                &r.reason,
            ],
        )?;
        Ok(())
    }

    fn grant(&self, id: &GrantId) -> Result<Option<GrantRecord>, AccessStoreError> {
        Ok(self
            .grants("read a grant", Retry::Once, SELECT_GRANT, &[&id.as_str()])?
            .into_iter()
            .next())
    }

    fn transition(
        &self,
        id: &GrantId,
        change: &Transition,
    ) -> Result<Option<GrantRecord>, AccessStoreError> {
        let what = "change a grant";
        let rows = match change {
            Transition::Approve { by, at, expires_at } => self.grants(
                what,
                Retry::Never,
                APPROVE,
                &[
                    &id.as_str(),
                    &by.as_str(),
                    &at.as_micros(),
                    &expires_at.as_micros(),
                ],
            )?,
            Transition::Reject { by, at, reason } => self.grants(
                what,
                Retry::Never,
                REJECT,
                &[&id.as_str(), &by.as_str(), &at.as_micros(), reason],
            )?,
            Transition::Revoke { by, at, reason } => self.grants(
                what,
                Retry::Never,
                REVOKE,
                &[&id.as_str(), &by.as_str(), &at.as_micros(), reason],
            )?,
        };
        Ok(rows.into_iter().next())
    }

    fn spend(
        &self,
        id: &GrantId,
        reveals: u32,
        now: EventTime,
    ) -> Result<Option<u32>, AccessStoreError> {
        let rows = self.query(
            "spend a grant's budget",
            Retry::Never,
            SPEND,
            &[&id.as_str(), &i64::from(reveals), &now.as_micros()],
        )?;
        rows.first()
            .map(|row| {
                let left: i64 = row
                    .try_get(0)
                    .map_err(|e| AccessStoreError::Internal(format!("unreadable budget: {e}")))?;
                u32::try_from(left)
                    .map_err(|_| AccessStoreError::Internal("negative budget".into()))
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
        self.grants(
            "read active grants",
            Retry::Once,
            ACTIVE,
            &[
                &requester.as_str(),
                &customer.as_str(),
                &ticket.as_str(),
                &now.as_micros(),
            ],
        )
    }

    fn pending_grants(&self, limit: usize) -> Result<Vec<GrantRecord>, AccessStoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.grants("read pending grants", Retry::Once, PENDING, &[&limit])
    }

    fn open_grants_for_ticket(
        &self,
        ticket: &TicketId,
    ) -> Result<Vec<GrantRecord>, AccessStoreError> {
        self.grants(
            "read a ticket's grants",
            Retry::Once,
            TICKET_OPEN,
            &[&ticket.as_str()],
        )
    }
}

impl StepUpStore for PostgresAccessStore {
    fn enrol(
        &self,
        agent: &AgentId,
        sealed_secret: &[u8],
        at: EventTime,
    ) -> Result<bool, AccessStoreError> {
        let inserted = self.execute(
            "enrol for step-up",
            ENROL,
            &[&agent.as_str(), &sealed_secret, &at.as_micros()],
        )?;
        Ok(inserted == 1)
    }

    fn unenrol(&self, agent: &AgentId) -> Result<bool, AccessStoreError> {
        let deleted = self.execute("remove a step-up enrolment", UNENROL, &[&agent.as_str()])?;
        Ok(deleted == 1)
    }

    fn step_up_state(&self, agent: &AgentId) -> Result<Option<StepUpState>, AccessStoreError> {
        let rows = self.query(
            "read step-up state",
            Retry::Once,
            STEP_UP_STATE,
            &[&agent.as_str()],
        )?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let bad =
            |e: postgres::Error| AccessStoreError::Internal(format!("unreadable step-up row: {e}"));
        let failures: i64 = row.try_get(3).map_err(bad)?;
        Ok(Some(StepUpState {
            sealed_secret: row.try_get(0).map_err(bad)?,
            enrolled_at: EventTime::from_micros(row.try_get(1).map_err(bad)?),
            last_step: row.try_get(2).map_err(bad)?,
            failures: u32::try_from(failures)
                .map_err(|_| AccessStoreError::Internal("bad failure count".into()))?,
            locked_until: row
                .try_get::<_, Option<i64>>(4)
                .map_err(bad)?
                .map(EventTime::from_micros),
            step_up_at: row
                .try_get::<_, Option<i64>>(5)
                .map_err(bad)?
                .map(EventTime::from_micros),
        }))
    }

    fn accept_step(
        &self,
        agent: &AgentId,
        step: i64,
        at: EventTime,
    ) -> Result<bool, AccessStoreError> {
        let changed = self.execute(
            "accept a step-up",
            ACCEPT_STEP,
            &[&agent.as_str(), &step, &at.as_micros()],
        )?;
        Ok(changed == 1)
    }

    fn record_failure(
        &self,
        agent: &AgentId,
        max_failures: u32,
        lock_until: EventTime,
    ) -> Result<Option<FailureCount>, AccessStoreError> {
        let rows = self.query(
            "count a step-up failure",
            Retry::Never,
            RECORD_FAILURE,
            &[
                &agent.as_str(),
                &i64::from(max_failures),
                &lock_until.as_micros(),
            ],
        )?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let bad = |e: postgres::Error| {
            AccessStoreError::Internal(format!("unreadable failure count: {e}"))
        };
        let failures: i64 = row.try_get(0).map_err(bad)?;
        let locked_until: Option<i64> = row.try_get(1).map_err(bad)?;
        Ok(Some(FailureCount {
            failures: u32::try_from(failures)
                .map_err(|_| AccessStoreError::Internal("bad failure count".into()))?,
            locked_until: locked_until.map(EventTime::from_micros),
        }))
    }

    fn step_up_at(&self, agent: &AgentId) -> Result<Option<EventTime>, AccessStoreError> {
        let rows = self.query(
            "read a step-up time",
            Retry::Once,
            STEP_UP_AT,
            &[&agent.as_str()],
        )?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let at: Option<i64> = row
            .try_get(0)
            .map_err(|e| AccessStoreError::Internal(format!("unreadable step-up time: {e}")))?;
        Ok(at.map(EventTime::from_micros))
    }

    fn record_step_up(&self, agent: &AgentId, at: EventTime) -> Result<bool, AccessStoreError> {
        let changed = self.execute(
            "record a step-up",
            RECORD_STEP_UP,
            &[&agent.as_str(), &at.as_micros()],
        )?;
        Ok(changed == 1)
    }
}

fn lock(mutex: &Mutex<Slot>) -> MutexGuard<'_, Slot> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
