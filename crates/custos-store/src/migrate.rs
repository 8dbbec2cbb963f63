//! Versioned schema migrations, embedded in the binary, one list per backend.
//!
//! Each backend records applied versions in `schema_migrations` and applies
//! the missing ones in order inside one transaction, so reopening a store is
//! idempotent and a failed migration leaves the schema as it was.

use crate::error::StoreError;

/// One schema change. `version`s start at 1 and increase by 1.
#[derive(Debug)]
pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

pub(crate) const SQLITE_MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "init",
    sql: include_str!("../migrations/sqlite/0001_init.sql"),
}];

pub(crate) const POSTGRES_MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "init",
    sql: include_str!("../migrations/postgres/0001_init.sql"),
}];

/// The migrations still to apply to a database at version `applied`.
///
/// A database newer than this build is refused rather than written to with
/// assumptions that may no longer hold.
pub(crate) fn pending(
    migrations: &'static [Migration],
    applied: i64,
) -> Result<&'static [Migration], StoreError> {
    let latest = migrations.last().map_or(0, |m| m.version);
    if applied > latest {
        return Err(StoreError::Internal(format!(
            "database schema version `{applied}` is newer than this build supports (`{latest}`)"
        )));
    }
    let start = migrations
        .iter()
        .position(|m| m.version > applied)
        .unwrap_or(migrations.len());
    Ok(&migrations[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_start_at_one_and_step_by_one_in_both_backends() {
        for migrations in [SQLITE_MIGRATIONS, POSTGRES_MIGRATIONS] {
            for (index, migration) in migrations.iter().enumerate() {
                assert_eq!(migration.version, i64::try_from(index).unwrap_or(-1) + 1);
                assert!(!migration.sql.trim().is_empty());
            }
        }
        let names =
            |list: &[Migration]| list.iter().map(|m| (m.version, m.name)).collect::<Vec<_>>();
        assert_eq!(names(SQLITE_MIGRATIONS), names(POSTGRES_MIGRATIONS));
    }

    #[test]
    fn pending_skips_what_is_applied() {
        let versions = |applied| {
            pending(SQLITE_MIGRATIONS, applied)
                .map(|list| list.iter().map(|m| m.version).collect::<Vec<_>>())
        };
        let latest = SQLITE_MIGRATIONS.len() as i64;
        assert_eq!(versions(0), Ok((1..=latest).collect()));
        assert_eq!(versions(latest), Ok(vec![]));
        assert!(matches!(versions(latest + 1), Err(StoreError::Internal(_))));
    }
}
