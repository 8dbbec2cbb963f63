//! Shared fixtures: the two backends, a vault with test keys, times, and a
//! TOTP code for an enrolment URI.

use std::collections::HashMap;
use std::env;
use std::sync::{Arc, Mutex};

use custos_access::totp::{TotpSecret, totp};
use custos_access::{
    Enrolment, FactsError, FactsSource, GrantStore, PostgresAccessStore, SealingKey,
    SqliteAccessStore, StepUpStore,
};
use custos_broker::{AgentFacts, TicketFacts};
use custos_core::alert::ResponseAction;
use custos_core::id::{AgentId, CustomerId, TicketId};
use custos_core::time::EventTime;
use custos_vault::{FieldClass as VaultField, KekId, KeyRing, SecretKey, Vault};
use tempfile::TempDir;

pub const DATABASE_URL_VARIABLE: &str = "CUSTOS_TEST_DATABASE_URL";

/// A grant and step-up store under test, as both traits.
#[derive(Clone)]
pub struct Stores {
    pub grants: Arc<dyn GrantStore>,
    pub step_ups: Arc<dyn StepUpStore>,
}

fn stores<T: GrantStore + StepUpStore + 'static>(store: T) -> Stores {
    let store = Arc::new(store);
    Stores {
        grants: store.clone(),
        step_ups: store,
    }
}

/// A database the suite can open (and open again).
pub trait Backend {
    fn name(&self) -> &'static str;
    fn open(&self) -> Stores;
}

pub struct SqliteBackend {
    pub dir: TempDir,
}

impl SqliteBackend {
    pub fn new() -> SqliteBackend {
        SqliteBackend {
            dir: tempfile::tempdir().unwrap(),
        }
    }
}

impl Backend for SqliteBackend {
    fn name(&self) -> &'static str {
        "sqlite"
    }
    fn open(&self) -> Stores {
        stores(SqliteAccessStore::open(self.dir.path()).unwrap())
    }
}

/// The PostgreSQL test url, or `None` after printing why the test is skipped.
pub fn postgres_url() -> Option<String> {
    match env::var(DATABASE_URL_VARIABLE) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!("skipped: {DATABASE_URL_VARIABLE} is not set");
            None
        }
    }
}

/// PostgreSQL in a fresh schema with a random name, dropped on drop.
pub struct PostgresBackend {
    pub url: String,
    pub schema: String,
}

impl PostgresBackend {
    pub fn new() -> Option<PostgresBackend> {
        let url = postgres_url()?;
        let mut bytes = [0_u8; 8];
        getrandom::fill(&mut bytes).unwrap();
        let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Some(PostgresBackend {
            url,
            schema: format!("custos_access_test_{suffix}"),
        })
    }
}

impl Backend for PostgresBackend {
    fn name(&self) -> &'static str {
        "postgres"
    }
    fn open(&self) -> Stores {
        stores(PostgresAccessStore::connect_with_schema(&self.url, &self.schema).unwrap())
    }
}

impl Drop for PostgresBackend {
    fn drop(&mut self) {
        let dropped =
            postgres::Client::connect(&self.url, postgres::NoTls).and_then(|mut client| {
                client.batch_execute(&format!(
                    "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                    self.schema
                ))
            });
        if let Err(error) = dropped {
            eprintln!("cannot drop test schema `{}`: {error}", self.schema);
        }
    }
}

pub fn agent(id: &str) -> AgentId {
    AgentId::parse(id).unwrap()
}
pub fn customer(id: &str) -> CustomerId {
    CustomerId::parse(id).unwrap()
}
pub fn ticket(id: &str) -> TicketId {
    TicketId::parse(id).unwrap()
}

/// A fixed start: 2025-06-15T14:13:20Z, on a 30-second boundary.
pub const T0: EventTime = EventTime::from_unix_secs(1_750_000_400);

pub fn at(secs: i64) -> EventTime {
    EventTime::from_micros(T0.as_micros() + secs * 1_000_000)
}

pub fn sealing_key() -> SealingKey {
    SealingKey::from_bytes([7; 32])
}

/// The customer every test reads, and their PII.
pub const CUSTOMER: &str = "cust-77";
pub const PII: &[(VaultField, &str)] = &[
    (VaultField::Name, "Jane Quincy Doe"),
    (VaultField::Email, "jane.doe@example.com"),
    (VaultField::Phone, "+1 415 555 0123"),
    (VaultField::Address, "1 Main Street, Springfield, US"),
    (VaultField::Dob, "1980-04-02"),
    (VaultField::IdDocument, "passport-X1234567"),
    (VaultField::NationalId, "123-45-6789"),
    (VaultField::BankAccount, "DE89370400440532013000"),
];

/// A vault in a temporary directory with test keys, holding [`CUSTOMER`].
pub fn vault() -> (TempDir, Arc<Vault>) {
    let dir = tempfile::tempdir().unwrap();
    let keys = KeyRing::new(
        KekId::parse("test-kek").unwrap(),
        SecretKey::from_bytes([1; 32]),
        SecretKey::from_bytes([2; 32]),
    );
    let vault = Vault::open(dir.path(), keys).unwrap();
    vault.put_customer(&customer(CUSTOMER), PII).unwrap();
    (dir, Arc::new(vault))
}

/// The secret inside an enrolment's otpauth:// URI.
pub fn secret_of(enrolment: &Enrolment) -> TotpSecret {
    let uri = enrolment.uri.expose();
    let encoded = uri
        .split(['?', '&'])
        .find_map(|part| part.strip_prefix("secret="))
        .unwrap();
    TotpSecret::from_bytes(base32_decode(encoded))
}

/// The code an authenticator app shows at `when`.
pub fn code(secret: &TotpSecret, when: EventTime) -> String {
    format!("{:06}", totp(secret, when))
}

fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = Vec::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let value = ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

/// The directory the grant workflow reads: leads (`lead_of`) and
/// countermeasures, changeable by the test; no agents or tickets (the
/// caller passes roles), and `fail` makes every read unavailable.
#[derive(Default)]
pub struct Directory {
    pub leads: Mutex<HashMap<String, String>>,
    pub countermeasures: Mutex<HashMap<String, Vec<ResponseAction>>>,
    pub fail: Mutex<bool>,
}

impl Directory {
    pub fn set_lead(&self, who: &str, lead: &str) {
        self.leads
            .lock()
            .unwrap()
            .insert(who.to_owned(), lead.to_owned());
    }

    fn check(&self) -> Result<(), FactsError> {
        if *self.fail.lock().unwrap() {
            return Err(FactsError::Unavailable("directory down".into()));
        }
        Ok(())
    }
}

impl FactsSource for Directory {
    fn agent(&self, _: &AgentId) -> Result<Option<AgentFacts>, FactsError> {
        self.check()?;
        Ok(None)
    }
    fn ticket(&self, _: &TicketId) -> Result<Option<TicketFacts>, FactsError> {
        self.check()?;
        Ok(None)
    }
    fn live_contact(&self, _: &AgentId, _: &CustomerId, _: EventTime) -> Result<bool, FactsError> {
        self.check()?;
        Ok(false)
    }
    fn countermeasures(&self, who: &AgentId) -> Result<Vec<ResponseAction>, FactsError> {
        self.check()?;
        Ok(self
            .countermeasures
            .lock()
            .unwrap()
            .get(who.as_str())
            .cloned()
            .unwrap_or_default())
    }
    fn lead_of(&self, who: &AgentId) -> Result<Option<AgentId>, FactsError> {
        self.check()?;
        Ok(self
            .leads
            .lock()
            .unwrap()
            .get(who.as_str())
            .map(|l| agent(l)))
    }
}
