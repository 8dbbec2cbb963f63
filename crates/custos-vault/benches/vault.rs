//! Field decryptions per second, from the bare AEAD up to `Vault::get_field`.
//!
//! - `raw_aes_gcm`: baseline, AES-256-GCM decrypt of the same ciphertext with
//!   a ready cipher and a ready AAD (no header, no key handling).
//! - `open_field`: the format layer with a cached data key: header checks,
//!   AAD assembly, decrypt, UTF-8 check, zeroizing buffer.
//! - `unwrap_then_open`: no data key cache, the data key unwrapped under the
//!   KEK for every field.
//! - `get_field_cached` / `get_field_uncached`: the vault itself over SQLite
//!   (1,000 customers read round robin), with the default data key LRU
//!   (1,024 keys, so every read hits) and with the cache off.
//! - `get_fields_4_cached`: four fields of one customer in one read
//!   (throughput counted per field).
//! - `get_field_cached_4_threads`: four threads reading through one shared
//!   vault (time per read, all threads together): SQLite's one reader
//!   connection against PostgreSQL's pool.
//! - `vault_postgres/*`: the same over PostgreSQL (a fresh schema, dropped
//!   afterwards), when `CUSTOS_TEST_DATABASE_URL` is set; the SQLite rows
//!   of the same run are the baseline.
//!
//! Run: `CUSTOS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test
//! cargo bench -p custos-vault --bench vault`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use custos_core::id::CustomerId;
use custos_vault::format::{DataKey, open_field, seal_field, unwrap_key, wrap_key};
use custos_vault::{FieldClass, KekId, KeyRing, SecretKey, Vault, VaultError};

const CUSTOMER: &str = "cus-0000042";
const VALUE: &str = "jane.doe@example.com";

fn ring() -> Result<KeyRing, VaultError> {
    Ok(KeyRing::new(
        KekId::parse("bench-kek")?,
        SecretKey::from_bytes([7; 32]),
        SecretKey::from_bytes([9; 32]),
    ))
}

fn format_layer(c: &mut Criterion) -> Result<(), VaultError> {
    let ring = ring()?;
    let dek = DataKey::generate()?;
    let sealed = seal_field(&dek, CUSTOMER, FieldClass::Email, VALUE)?;
    let wrapped = wrap_key(&ring, CUSTOMER, &dek)?;

    // The baseline decrypts exactly the bytes `open_field` does, with the
    // AAD `open_field` would build.
    let raw_key = [3_u8; 32];
    let raw_cipher = Aes256Gcm::new(&raw_key.into());
    let nonce = Nonce::from([1_u8; 12]);
    let aad = b"0123456789012345678901234567890123456789012345678";
    let mut raw_sealed = VALUE.as_bytes().to_vec();
    let Ok(raw_tag) =
        raw_cipher.encrypt_inout_detached(&nonce, aad, raw_sealed.as_mut_slice().into())
    else {
        return Err(VaultError::Internal(
            "baseline encryption failed".to_owned(),
        ));
    };
    let raw_tag: Tag = raw_tag;
    // Every benched path must be the success path.
    if open_field(&dek, CUSTOMER, FieldClass::Email, &sealed)?.expose() != VALUE
        || unwrap_key(&ring, CUSTOMER, &wrapped)?.id() != dek.id()
    {
        return Err(VaultError::Internal(
            "bench setup does not round-trip".to_owned(),
        ));
    }

    let mut group = c.benchmark_group("field_decrypt");
    group.throughput(Throughput::Elements(1));
    group.bench_function("raw_aes_gcm", |b| {
        b.iter(|| {
            let mut buffer = raw_sealed.clone();
            let result = raw_cipher.decrypt_inout_detached(
                black_box(&nonce),
                black_box(aad),
                buffer.as_mut_slice().into(),
                &raw_tag,
            );
            black_box((result.is_ok(), buffer))
        });
    });
    group.bench_function("open_field", |b| {
        b.iter(|| {
            black_box(open_field(&dek, CUSTOMER, FieldClass::Email, black_box(&sealed)).is_ok())
        });
    });
    group.bench_function("unwrap_then_open", |b| {
        b.iter(|| {
            let opened = unwrap_key(&ring, CUSTOMER, black_box(&wrapped))
                .and_then(|dek| open_field(&dek, CUSTOMER, FieldClass::Email, &sealed));
            black_box(opened.is_ok())
        });
    });
    group.finish();
    Ok(())
}

/// `count` customers, each with an email and a name, in `vault`.
fn fill(vault: &Vault, count: usize) -> Result<Vec<CustomerId>, Box<dyn std::error::Error>> {
    let customers: Vec<CustomerId> = (0..count)
        .map(|i| CustomerId::parse(format!("cus-{i:07}")))
        .collect::<Result<_, _>>()?;
    for customer in &customers {
        vault.put_customer(
            customer,
            &[(FieldClass::Email, VALUE), (FieldClass::Name, "Jane Doe")],
        )?;
    }
    Ok(customers)
}

/// The same benches for one backend: `get_field` with and without the data
/// key cache, `get_fields` of four, and `get_field` from four threads at
/// once (time per read, all threads together).
fn bench_backend(
    c: &mut Criterion,
    group_name: &str,
    cached: &Arc<Vault>,
    uncached: &Vault,
    customers: &Arc<Vec<CustomerId>>,
) -> Result<(), Box<dyn std::error::Error>> {
    for vault in [&**cached, uncached] {
        if vault.get_field(&customers[1], FieldClass::Email)?.expose() != VALUE {
            return Err("bench vault does not round-trip".into());
        }
    }
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(1));
    for (name, vault) in [
        ("get_field_cached", &**cached),
        ("get_field_uncached", uncached),
    ] {
        let mut next = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                next = (next + 1) % customers.len();
                black_box(vault.get_field(&customers[next], FieldClass::Email).is_ok())
            });
        });
    }
    group.throughput(Throughput::Elements(4));
    let four = [
        FieldClass::Email,
        FieldClass::Name,
        FieldClass::Email,
        FieldClass::Name,
    ];
    let mut next = 0;
    group.bench_function("get_fields_4_cached", |b| {
        b.iter(|| {
            next = (next + 1) % customers.len();
            let values = cached.get_fields(&customers[next], &four);
            black_box(values.map(|v| v.iter().all(|(_, value)| value.is_ok())))
        });
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("get_field_cached_4_threads", |b| {
        b.iter_custom(|iterations| {
            let per_thread = iterations.div_ceil(THREADS);
            let start = Instant::now();
            let threads: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (vault, customers) = (Arc::clone(cached), Arc::clone(customers));
                    std::thread::spawn(move || {
                        let mut ok = 0_u64;
                        for i in 0..per_thread {
                            let index = usize::try_from((i * THREADS + t) % 1000).unwrap_or(0);
                            ok += u64::from(
                                vault
                                    .get_field(&customers[index], FieldClass::Email)
                                    .is_ok(),
                            );
                        }
                        ok
                    })
                })
                .collect();
            for thread in threads {
                black_box(thread.join().unwrap_or(0));
            }
            start.elapsed()
        });
    });
    group.finish();
    Ok(())
}

const THREADS: u64 = 4;

fn vault_layer(c: &mut Criterion) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let cached = Arc::new(Vault::open(dir.path(), ring()?)?);
    let customers = Arc::new(fill(&cached, 1000)?);
    let uncached = Vault::open_with_cache(dir.path(), ring()?, 0)?;
    bench_backend(c, "vault", &cached, &uncached, &customers)
}

/// The PostgreSQL rows, when `CUSTOS_TEST_DATABASE_URL` is set: the same
/// benches in a fresh schema, dropped afterwards.
fn postgres_layer(c: &mut Criterion) -> Result<(), Box<dyn std::error::Error>> {
    let Ok(url) = std::env::var("CUSTOS_TEST_DATABASE_URL") else {
        eprintln!("skipped vault_postgres: CUSTOS_TEST_DATABASE_URL is not set");
        return Ok(());
    };
    let mut suffix = [0_u8; 8];
    getrandom::fill(&mut suffix).map_err(|e| e.to_string())?;
    let schema = format!(
        "custos_vault_bench_{}",
        suffix
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let result = (|| {
        let cached = Arc::new(Vault::open_postgres_with_schema(&url, &schema, ring()?)?);
        let customers = Arc::new(fill(&cached, 1000)?);
        let uncached = Vault::open_postgres_with_cache(&url, &schema, ring()?, 0)?;
        bench_backend(c, "vault_postgres", &cached, &uncached, &customers)
    })();
    let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
    client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))?;
    result
}

/// A setup failure fails the run (CI runs the benches once as a smoke test)
/// instead of silently measuring nothing.
fn benches(c: &mut Criterion) {
    if let Err(error) = format_layer(c) {
        eprintln!("format benches failed: {error}");
        std::process::exit(1);
    }
    if let Err(error) = vault_layer(c) {
        eprintln!("vault benches failed: {error}");
        std::process::exit(1);
    }
    if let Err(error) = postgres_layer(c) {
        eprintln!("postgres vault benches failed: {error}");
        std::process::exit(1);
    }
}

criterion_group!(vault, benches);
criterion_main!(vault);
