//! Console users: roles and what each may do, creating a user (Argon2id
//! password hash, TOTP secret), and checking a sign-in (password, then TOTP,
//! with failed attempts rate limited per user name).

use crate::crypto::{Secret, random_bytes};
use crate::error::ConsoleError;
use crate::totp;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rusqlite::{Connection, OptionalExtension, params};
use std::fmt;
use std::str::FromStr;

/// Who a console user is, which decides what they may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Works the alert queue: reads alerts and agents, triages.
    Analyst,
    /// An analyst who may also release countermeasures.
    Lead,
    /// A support agent: sees the overview's counts only, never another
    /// agent's alerts or accesses.
    Agent,
    /// Everything a lead may do.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Analyst, Role::Lead, Role::Agent, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Analyst => "analyst",
            Role::Lead => "lead",
            Role::Agent => "agent",
            Role::Admin => "admin",
        }
    }

    /// May read alerts, their evidence, and agent pages.
    pub fn can_read_cases(self) -> bool {
        matches!(self, Role::Analyst | Role::Lead | Role::Admin)
    }

    /// May assign, acknowledge and resolve alerts.
    pub fn can_triage(self) -> bool {
        self.can_read_cases()
    }

    /// May lift a countermeasure custos applied (with step-up).
    pub fn can_release(self) -> bool {
        matches!(self, Role::Lead | Role::Admin)
    }

    /// May open the approvals inbox and decide reveal grants (custos-access
    /// still checks the approver's directory role and step-up).
    pub fn can_approve(self) -> bool {
        matches!(self, Role::Lead | Role::Admin)
    }

    /// May browse the audit log and check inclusion proofs.
    pub fn can_read_audit(self) -> bool {
        self.can_read_cases()
    }

    /// May sign a checkpoint of the audit log on demand.
    pub fn can_sign_checkpoints(self) -> bool {
        matches!(self, Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ConsoleError;

    fn from_str(text: &str) -> Result<Role, ConsoleError> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| {
                ConsoleError::Invalid(format!(
                    "unknown role `{text}`: expected `analyst`, `lead`, `agent` or `admin`"
                ))
            })
    }
}

/// Whether `user_name` is the subject of a case about `entity_id`: nobody
/// triages an alert about themselves or lifts their own countermeasure.
/// Console user names that equal an agent id are that agent.
pub fn is_own_case(user_name: &str, entity_id: &str) -> bool {
    user_name == entity_id
}

/// How expensive password hashes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordCost {
    pub memory_kib: u32,
    pub iterations: u32,
}

impl PasswordCost {
    /// OWASP's first Argon2id recommendation: 19 MiB, 2 passes, 1 lane.
    pub const DEFAULT: PasswordCost = PasswordCost {
        memory_kib: 19 * 1024,
        iterations: 2,
    };

    fn hasher(self) -> Result<Argon2<'static>, ConsoleError> {
        let params = Params::new(self.memory_kib, self.iterations, 1, None)
            .map_err(|_| ConsoleError::Invalid("invalid argon2 parameters".to_owned()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Checks a user name: 1 to 64 of `A-Z a-z 0-9 . _ -`.
pub fn validate_user_name(name: &str) -> Result<(), ConsoleError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ConsoleError::Invalid(
            "a user name is 1 to 64 of `A-Z a-z 0-9 . _ -`".to_owned(),
        ))
    }
}

pub(crate) fn hash_password(password: &str, cost: PasswordCost) -> Result<String, ConsoleError> {
    let salt =
        SaltString::encode_b64(&random_bytes::<16>()?).map_err(|_| ConsoleError::PasswordHash)?;
    cost.hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|_| ConsoleError::PasswordHash)
}

/// Whether `password` matches the PHC string `stored` (parameters come from
/// the string, so raising the cost later keeps old hashes valid).
pub(crate) fn verify_password(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// Creates a user and returns the `otpauth://` URI to enrol their
/// authenticator app (shown once; it holds the TOTP secret).
pub(crate) fn create_user(
    conn: &Connection,
    name: &str,
    role: Role,
    password: &str,
    now: i64,
    cost: PasswordCost,
) -> Result<Secret, ConsoleError> {
    validate_user_name(name)?;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ConsoleError::Invalid(format!(
            "a password has at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    let exists: bool = conn
        .query_row("SELECT 1 FROM users WHERE name = ?1", [name], |_| Ok(()))
        .optional()?
        .is_some();
    if exists {
        return Err(ConsoleError::UserExists(name.to_owned()));
    }
    let phc = hash_password(password, cost)?;
    let secret = random_bytes::<{ totp::TOTP_SECRET_LEN }>()?;
    conn.execute(
        "INSERT INTO users (name, role, password_phc, totp_secret, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![name, role.as_str(), phc, secret.as_slice(), now],
    )?;
    Ok(Secret::new(totp::otpauth_uri(
        "custos console",
        name,
        &secret,
    )))
}

/// Links console user `name` to custos agent `agent_id` (`None` unlinks):
/// the customer page requests customer data from the access broker as that
/// agent. The id is checked as custos checks agent ids.
pub(crate) fn set_agent_id(
    conn: &Connection,
    name: &str,
    agent_id: Option<&str>,
) -> Result<(), ConsoleError> {
    let agent_id = match agent_id.map(str::trim) {
        Some(id) => Some(
            custos_core::id::AgentId::parse(id.to_owned())
                .map_err(|_| ConsoleError::Invalid(format!("`{id}` is not an agent id")))?,
        ),
        None => None,
    };
    let changed = conn.execute(
        "UPDATE users SET agent_id = ?1 WHERE name = ?2",
        params![agent_id.as_ref().map(|a| a.as_str()), name],
    )?;
    if changed == 0 {
        return Err(ConsoleError::Invalid(format!("no console user `{name}`")));
    }
    Ok(())
}

/// The custos agent id console user `user_id` is linked to, if any.
pub(crate) fn agent_id_of(conn: &Connection, user_id: i64) -> Result<Option<String>, ConsoleError> {
    Ok(conn
        .query_row(
            "SELECT agent_id FROM users WHERE id = ?1",
            [user_id],
            |row| row.get::<_, Option<String>>(0),
        )
        .optional()?
        .flatten()
        .filter(|id| !id.is_empty()))
}

/// A user as the sign-in check needs them.
pub(crate) struct UserRecord {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub password_phc: String,
    pub totp_secret: Vec<u8>,
    pub totp_last_step: i64,
}

pub(crate) fn find_user(conn: &Connection, name: &str) -> Result<Option<UserRecord>, ConsoleError> {
    let row = conn
        .query_row(
            "SELECT id, name, role, password_phc, totp_secret, totp_last_step FROM users WHERE name = ?1",
            [name],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, Vec<u8>>(4)?,
                    row.get::<_, i64>(5)?,
                ))
            },
        )
        .optional()?;
    let Some((id, name, role, password_phc, totp_secret, totp_last_step)) = row else {
        return Ok(None);
    };
    Ok(Some(UserRecord {
        id,
        name,
        role: role.parse()?,
        password_phc,
        totp_secret,
        totp_last_step,
    }))
}

pub(crate) fn find_user_by_id(
    conn: &Connection,
    id: i64,
) -> Result<Option<UserRecord>, ConsoleError> {
    let name: Option<String> = conn
        .query_row("SELECT name FROM users WHERE id = ?1", [id], |row| {
            row.get(0)
        })
        .optional()?;
    match name {
        Some(name) => find_user(conn, &name),
        None => Ok(None),
    }
}

/// Marks TOTP `step` used by `user_id`, if no later or equal step was: the
/// compare-and-set makes two concurrent uses of one code succeed once.
pub(crate) fn consume_totp_step(
    conn: &Connection,
    user_id: i64,
    step: i64,
) -> Result<bool, ConsoleError> {
    let changed = conn.execute(
        "UPDATE users SET totp_last_step = ?1 WHERE id = ?2 AND totp_last_step < ?1",
        params![step, user_id],
    )?;
    Ok(changed == 1)
}

/// Limits on failed sign-ins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignInLimits {
    /// Failures per user name within the window before sign-in is refused.
    pub max_failures: u32,
    /// The window, in seconds.
    pub window_secs: i64,
}

impl Default for SignInLimits {
    fn default() -> SignInLimits {
        SignInLimits {
            max_failures: 5,
            window_secs: 15 * 60,
        }
    }
}

/// Failures recorded for `name` in the window ending at `now`.
pub(crate) fn recent_failures(
    conn: &Connection,
    name: &str,
    now: i64,
    limits: SignInLimits,
) -> Result<u32, ConsoleError> {
    let count: i64 = conn.query_row(
        "SELECT count(*) FROM signin_failures WHERE name = ?1 AND at > ?2",
        params![name, now - limits.window_secs],
        |row| row.get(0),
    )?;
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

/// Records a failed sign-in for `name` (also for names that do not exist,
/// so the answer does not tell which names do), pruning old rows.
pub(crate) fn record_failure(
    conn: &Connection,
    name: &str,
    now: i64,
    limits: SignInLimits,
) -> Result<(), ConsoleError> {
    conn.execute(
        "INSERT INTO signin_failures (name, at) VALUES (?1, ?2)",
        params![name, now],
    )?;
    conn.execute(
        "DELETE FROM signin_failures WHERE at <= ?1",
        [now - limits.window_secs],
    )?;
    Ok(())
}

pub(crate) fn clear_failures(conn: &Connection, name: &str) -> Result<(), ConsoleError> {
    conn.execute("DELETE FROM signin_failures WHERE name = ?1", [name])?;
    Ok(())
}

/// A hash to verify against when the user does not exist, so a sign-in for
/// an unknown name takes as long as one with a wrong password.
pub(crate) fn dummy_hash(cost: PasswordCost) -> String {
    hash_password("not a password of anyone", cost).unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const CHEAP: PasswordCost = PasswordCost {
        memory_kib: 64,
        iterations: 1,
    };

    #[test]
    fn roles_decide_permissions() {
        let check = |role: Role, read: bool, triage: bool, release: bool| {
            assert_eq!(role.can_read_cases(), read, "{role}");
            assert_eq!(role.can_triage(), triage, "{role}");
            assert_eq!(role.can_release(), release, "{role}");
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        };
        check(Role::Analyst, true, true, false);
        check(Role::Lead, true, true, true);
        check(Role::Agent, false, false, false);
        check(Role::Admin, true, true, true);
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn passwords_hash_and_verify() {
        let phc = hash_password("correct horse battery", CHEAP).unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse batterY", &phc));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn user_names_are_checked() {
        assert!(validate_user_name("ana.lyst-7").is_ok());
        assert!(validate_user_name("").is_err());
        assert!(validate_user_name("a b").is_err());
        assert!(validate_user_name("<script>").is_err());
        assert!(validate_user_name(&"a".repeat(65)).is_err());
    }
}
