//! What only the PostgreSQL backend has: its own schema, rows that are
//! byte for byte those of SQLite, connection loss, url and schema checks.

use custos_vault::{DEFAULT_POSTGRES_SCHEMA, FieldClass, Vault, VaultError};

use crate::suite::{JANE, customer, ring};
use crate::support::{Backend, PostgresBackend, SqliteBackend, TestResult};

#[test]
fn the_vault_lives_in_its_own_schema() -> TestResult {
    let Some(backend) = PostgresBackend::new()? else {
        return Ok(());
    };
    let vault = backend.open(ring("k1", &[])?)?;
    vault.put_customer(&customer("cus-1")?, JANE)?;
    let tables: Vec<String> = backend
        .raw()
        .query(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = $1 ORDER BY table_name",
            &[&backend.schema],
        )?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
    assert_eq!(tables, ["customers", "fields", "schema_migrations"]);
    assert_eq!(vault.path(), None);
    assert_eq!(DEFAULT_POSTGRES_SCHEMA, "custos_vault");
    // Opening again migrates nothing and keeps the rows.
    drop(vault);
    let again = backend.open(ring("k1", &[])?)?;
    assert_eq!(
        again
            .get_field(&customer("cus-1")?, FieldClass::Name)?
            .expose(),
        "Jane Doe"
    );
    let versions: i64 = backend
        .raw()
        .query_one("SELECT COUNT(*) FROM schema_migrations", &[])?
        .try_get(0)?;
    assert_eq!(versions, 1);
    Ok(())
}

/// Rows written by a SQLite vault, copied byte for byte into PostgreSQL,
/// read back through a PostgreSQL vault: one format, so a deployment can
/// move its vault between backends by copying rows.
#[test]
fn rows_copied_from_sqlite_read_back_on_postgres() -> TestResult {
    let Some(postgres) = PostgresBackend::new()? else {
        return Ok(());
    };
    let sqlite = SqliteBackend::new()?;
    let jane = customer("cus-1")?;
    let from = sqlite.open(ring("k1", &[])?)?;
    let token = from.put_customer(&jane, JANE)?;
    let commitment = from.commitment(&jane)?;
    // Create the schema, then copy the rows.
    drop(postgres.open(ring("k1", &[])?)?);
    let file = rusqlite::Connection::open(sqlite.dir.path().join(custos_vault::VAULT_FILE_NAME))?;
    let (dek_id, wrapped, kek_id, salt): (Vec<u8>, Vec<u8>, String, Vec<u8>) = file.query_row(
        "SELECT dek_id, wrapped_dek, kek_id, salt FROM customers WHERE customer_id = 'cus-1'",
        [],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
    )?;
    postgres.raw().execute(
        "INSERT INTO customers (customer_id, token, dek_id, wrapped_dek, kek_id, salt)
         VALUES ('cus-1', $1, $2, $3, $4, $5)",
        &[&token, &dek_id, &wrapped, &kek_id, &salt],
    )?;
    for (field, _) in JANE {
        let sealed = sqlite.sealed("cus-1", field.as_str())?;
        postgres.raw().execute(
            "INSERT INTO fields (customer_id, field, sealed) VALUES ('cus-1', $1, $2)",
            &[&field.as_str(), &sealed],
        )?;
    }
    let to = postgres.open(ring("k1", &[])?)?;
    for (field, value) in JANE {
        assert_eq!(to.get_field(&jane, *field)?.expose(), *value);
    }
    assert_eq!(to.token(&jane)?, token);
    assert_eq!(to.customer_of_token(&token)?, jane);
    assert_eq!(to.commitment(&jane)?, commitment);
    Ok(())
}

/// Killed server connections: reads go on (run once more on a fresh
/// connection), a write on a dead connection fails as `Unavailable` and
/// the next one succeeds.
#[test]
fn lost_connections_are_replaced() -> TestResult {
    let Some(backend) = PostgresBackend::new()? else {
        return Ok(());
    };
    let vault = backend.open(ring("k1", &[])?)?;
    let jane = customer("cus-1")?;
    vault.put_customer(&jane, JANE)?;
    // Open every pooled connection.
    for _ in 0..2 * custos_vault::POSTGRES_POOL_SIZE {
        vault.get_field(&jane, FieldClass::Email)?;
    }
    let killed: i64 = backend
        .raw()
        .query_one(
            "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE application_name = $1) AS killed",
            &[&format!("custos-vault/{}", backend.schema)],
        )?
        .try_get(0)?;
    assert!(killed >= 1, "no vault connection was found to kill");
    for _ in 0..2 * custos_vault::POSTGRES_POOL_SIZE {
        assert_eq!(
            vault.get_field(&jane, FieldClass::Email)?.expose(),
            "jane.doe@example.com"
        );
    }
    vault.replace_key_ring(ring("k1", &[])?)?; // reads kek usage on a fresh connection too
    backend.raw().query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
        &[&format!("custos-vault/{}", backend.schema)],
    )?;
    let mut unavailable = 0;
    let mut written = 0;
    for i in 0..2 * custos_vault::POSTGRES_POOL_SIZE {
        match vault.put_customer(&customer(&format!("cus-w{i}"))?, JANE) {
            Ok(_) => written += 1,
            Err(VaultError::Unavailable(message)) => {
                assert!(!message.contains("Jane"), "{message}");
                unavailable += 1;
            }
            Err(other) => return Err(other.into()),
        }
    }
    assert!(unavailable <= custos_vault::POSTGRES_POOL_SIZE);
    assert!(written >= custos_vault::POSTGRES_POOL_SIZE);
    Ok(())
}

#[test]
fn unreachable_servers_bad_urls_and_bad_schemas_are_refused() -> TestResult {
    // Port 1 on loopback: nothing listens, the connection is refused.
    let error = Vault::open_postgres(
        "postgres://vault:hunter2@127.0.0.1:1/test",
        ring("k1", &[])?,
    )
    .err()
    .ok_or("connected to port 1")?;
    assert!(matches!(error, VaultError::Unavailable(_)), "{error}");
    let message = error.to_string();
    assert!(!message.contains("hunter2"), "{message}");
    assert!(
        message.contains("vault@127.0.0.1:1/test (custos_vault)"),
        "{message}"
    );
    for url in ["mysql://x@y/z", "postgres://x@y:notaport/z", ""] {
        let error = Vault::open_postgres(url, ring("k1", &[])?).err();
        assert!(
            matches!(error, Some(VaultError::Invalid(_))),
            "{url}: {error:?}"
        );
    }
    for schema in [
        "",
        "Vault",
        "v-1",
        "v\"; DROP SCHEMA public CASCADE; --",
        "1v",
    ] {
        let error = Vault::open_postgres_with_schema(
            "postgres://x@127.0.0.1:1/z",
            schema,
            ring("k1", &[])?,
        )
        .err();
        assert!(
            matches!(error, Some(VaultError::Invalid(_))),
            "{schema}: {error:?}"
        );
    }
    Ok(())
}
