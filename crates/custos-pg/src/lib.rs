//! PostgreSQL session handling shared by the custos stores that hold their
//! own connections (the PII vault, the grant and step-up store): a
//! [`Session`] is one connection and its prepared statements, opened on
//! first use and replaced when the server ends it; a read runs once more on
//! a fresh connection, a write never does (it may have committed before the
//! connection broke). Error text never carries a row's values.
//!
//! Synchronous (`postgres`): callers use it from plain threads or
//! `spawn_blocking`, never from inside an async runtime.

use postgres::{Client, Config, NoTls, Statement};
use std::collections::HashMap;

/// Prepared statements of one connection, by their SQL.
pub type Statements = HashMap<&'static str, Statement>;

/// Whether an operation may run again on a fresh connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// A read: safe to repeat.
    Once,
    /// A write: it may have committed before the connection broke.
    Never,
}

/// How an operation failed: in SQL, or in the caller's own terms.
pub enum Failure<E> {
    Sql(postgres::Error),
    Other(E),
}

impl<E> From<postgres::Error> for Failure<E> {
    fn from(error: postgres::Error) -> Failure<E> {
        Failure::Sql(error)
    }
}

/// Why [`Session::run`] gave up.
#[derive(Debug)]
pub enum RunError<E> {
    /// No connection could be opened.
    Connect(postgres::Error),
    /// The operation failed in SQL; `broken`: the session is gone as well.
    Sql {
        error: postgres::Error,
        broken: bool,
    },
    /// The operation failed in the caller's terms.
    Other(E),
}

/// One connection and its prepared statements; empty until used or after
/// it broke.
#[derive(Default)]
pub struct Session {
    client: Option<Client>,
    statements: Statements,
}

impl Session {
    /// Runs `op` on this session's connection (opened from `config` when
    /// there is none or it closed). When the connection turns out lost
    /// (closed, or the server's 08 / 57P01..57P03 error) it is dropped with
    /// its statements; an operation marked [`Retry::Once`] that failed on a
    /// connection it did not just open runs once more on a fresh one.
    pub fn run<T, E>(
        &mut self,
        config: &Config,
        retry: Retry,
        mut op: impl FnMut(&mut Client, &mut Statements) -> Result<T, Failure<E>>,
    ) -> Result<T, RunError<E>> {
        let mut retried = false;
        loop {
            let (mut client, fresh) = match self.client.take() {
                Some(client) if !client.is_closed() => (client, false),
                _ => {
                    self.statements.clear();
                    (config.connect(NoTls).map_err(RunError::Connect)?, true)
                }
            };
            let result = op(&mut client, &mut self.statements);
            // A terminated backend's last message (57P01) can arrive before
            // the socket reads as closed: the error says so first.
            let broken = client.is_closed()
                || matches!(&result, Err(Failure::Sql(error)) if connection_lost(error));
            if broken {
                self.statements.clear();
            } else {
                self.client = Some(client);
            }
            match result {
                Ok(value) => return Ok(value),
                Err(Failure::Sql(_)) if broken && !fresh && !retried && retry == Retry::Once => {
                    retried = true;
                }
                Err(Failure::Sql(error)) => return Err(RunError::Sql { error, broken }),
                Err(Failure::Other(error)) => return Err(RunError::Other(error)),
            }
        }
    }
}

/// `sql` prepared on `client`, once per connection.
pub fn prepared(
    client: &mut Client,
    statements: &mut Statements,
    sql: &'static str,
) -> Result<Statement, postgres::Error> {
    if let Some(statement) = statements.get(sql) {
        return Ok(statement.clone());
    }
    let statement = client.prepare(sql)?;
    statements.insert(sql, statement.clone());
    Ok(statement)
}

/// Whether `error` means the session is gone: class 08 (connection
/// exception) or 57P01..57P03 (terminated by an administrator, crash
/// shutdown, cannot connect now), or an error on a closed socket.
pub fn connection_lost(error: &postgres::Error) -> bool {
    error.is_closed()
        || error.code().is_some_and(|code| {
            let code = code.code();
            code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
        })
}

/// The SQLSTATE of `error`, empty when it has none.
pub fn sqlstate(error: &postgres::Error) -> &str {
    error.code().map_or("", |code| code.code())
}

/// The server's message and SQLSTATE only, never its DETAIL: a constraint
/// violation's detail repeats the row's values. One line.
pub fn error_text(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message().replace('\n', " "), db.code().code()),
        None => error.to_string().replace('\n', " "),
    }
}

/// `user@host:port/database (schema)`, for messages: never the password.
pub fn describe(config: &Config, schema: &str) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|host| match host {
            postgres::config::Host::Tcp(name) => name.clone(),
            #[allow(unreachable_patterns)]
            _ => "socket".to_owned(),
        })
        .unwrap_or_else(|| "localhost".to_owned());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{host}:{port}/{} ({schema})",
        config.get_user().unwrap_or("?"),
        config.get_dbname().unwrap_or("?")
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_never_carry_the_password() {
        let config: Config = "postgres://vault:s3cret@db.example:6543/pii"
            .parse()
            .unwrap();
        let text = describe(&config, "custos_vault");
        assert_eq!(text, "vault@db.example:6543/pii (custos_vault)");
        assert!(!text.contains("s3cret"));
    }

    /// Needs `CUSTOS_TEST_DATABASE_URL`; prints `skipped:` without it.
    #[test]
    fn a_terminated_session_is_replaced_and_a_read_retried() {
        let Ok(url) = std::env::var("CUSTOS_TEST_DATABASE_URL") else {
            eprintln!("skipped: CUSTOS_TEST_DATABASE_URL is not set");
            return;
        };
        let mut config: Config = url.parse().unwrap();
        config.application_name("custos-pg-test-retry");
        let mut session = Session::default();
        let pid = |session: &mut Session, retry| {
            session.run(&config, retry, |client, statements| {
                let statement = prepared(client, statements, "SELECT pg_backend_pid()")?;
                let pid: i32 = client.query_one(&statement, &[])?.get(0);
                Ok::<_, Failure<()>>(pid)
            })
        };
        let first = pid(&mut session, Retry::Once).unwrap();
        let mut admin = Client::connect(&url, NoTls).unwrap();
        admin
            .execute("SELECT pg_terminate_backend($1)", &[&first])
            .unwrap();
        // The read runs again on a fresh connection.
        let second = pid(&mut session, Retry::Once).unwrap();
        assert_ne!(first, second);
        admin
            .execute("SELECT pg_terminate_backend($1)", &[&second])
            .unwrap();
        // A write is not repeated: the caller hears the session is gone,
        // and the next call opens a new one.
        match pid(&mut session, Retry::Never) {
            Err(RunError::Sql { broken: true, .. }) => {}
            other => panic!("expected a broken session, got {:?}", other.map(|_| ())),
        }
        assert_ne!(pid(&mut session, Retry::Never).unwrap(), second);
    }

    #[test]
    fn an_unreachable_server_is_a_connect_error() {
        let mut config: Config = "postgres://u@127.0.0.1:1/db".parse().unwrap();
        config.connect_timeout(std::time::Duration::from_secs(2));
        let mut session = Session::default();
        let result = session.run(&config, Retry::Once, |_, _| Ok::<_, Failure<()>>(()));
        assert!(matches!(result, Err(RunError::Connect(_))));
    }
}
