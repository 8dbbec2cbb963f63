//! Integration tests of custos-audit, one binary: outside vectors, property
//! tests against a naive model, the conformance and tamper suites run
//! against SQLite and PostgreSQL (`backends.rs`), and the SQLite path API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod backends;
mod conformance;
mod golden;
mod log;
mod model;
mod notes;
mod properties;
mod tamper;
mod vectors;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn hex(text: &str) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    if text.len() % 2 != 0 {
        return Err(format!("odd-length hex `{text}`").into());
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).map_err(Into::into))
        .collect()
}

fn hash_from_hex(text: &str) -> Result<custos_audit::Hash, Box<dyn std::error::Error>> {
    let bytes = hex(text)?;
    custos_audit::Hash::try_from(bytes.as_slice())
        .map_err(|_| format!("not 32 bytes: `{text}`").into())
}
