//! Configuration: one TOML file plus `CUSTOS_*` environment overrides,
//! parsed strictly (unknown keys are an error), then validated into the
//! resolved settings each part of custos takes.

use crate::detectors::DetectorSettings;
use anyhow::{Context as _, bail};
use custos_behavior::BehaviorConfig;
use custos_core::{PipelineConfig, Span};
use custos_http::{HttpSettings, Scope, TokenSpec};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A value that must never be printed: `Debug` and `Display` redact it.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The configuration file's shape. Every field has a default, so no file at
/// all is a valid configuration.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the embedded store keeps its files (`CUSTOS_DATA_DIR`).
    pub data_dir: Option<PathBuf>,
    /// `postgres://...` to use PostgreSQL instead (`CUSTOS_DATABASE_URL`).
    pub database_url: Option<Secret>,
    /// Address `serve` listens on (`CUSTOS_LISTEN`).
    pub listen: Option<String>,
    /// `error`, `warn`, `info`, `debug` (`CUSTOS_LOG`).
    pub log: Option<String>,
    pub pipeline: PipelineSection,
    pub http: HttpSection,
    pub auth: AuthSection,
    /// Thresholds of `agent_behavior` and `leak_attribution`
    /// (`CUSTOS_BEHAVIOR_<KEY>` for any key, e.g. `CUSTOS_BEHAVIOR_HIGH_SCORE`).
    pub behavior: BehaviorConfig,
    /// Customer action risk (`CUSTOS_RISK_<KEY>`, e.g. `CUSTOS_RISK_GEOIP_PATH`).
    pub risk: custos_risk::RiskConfig,
    /// Conversation guard (`CUSTOS_CONVERSATION_<KEY>`).
    pub conversation: custos_conversation::ConversationConfig,
    pub webhooks: WebhooksSection,
    pub audit: AuditSection,
    pub access: AccessSection,
    pub console: ConsoleSection,
}

/// `[console]`: the analyst console `serve` mounts at `/console`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleSection {
    /// WebAuthn relying party id of console passkeys (`CUSTOS_CONSOLE_RP_ID`): the host
    /// the console is browsed at, or a parent domain. Unset: passkeys off (TOTP only).
    pub rp_id: Option<String>,
    /// Exact origins the console is served from (`CUSTOS_CONSOLE_ORIGINS`, comma-separated):
    /// `https://host[:port]`, or `http://localhost:PORT`. With `rp_id = "localhost"` and
    /// none given: `http://localhost:<listen port>`.
    pub origins: Vec<String>,
}

/// `[access]`: the access broker's edge in `serve`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AccessSection {
    /// The vault's key file (`CUSTOS_ACCESS_VAULT_KEYS_FILE`; default `DATA_DIR/vault-keys.json`, generated).
    pub vault_keys_file: Option<PathBuf>,
    /// Cedar policies, hot-reloaded (`CUSTOS_ACCESS_POLICY_DIR`; default: the shipped set).
    pub policy_dir: Option<PathBuf>,
    /// Key sealing TOTP secrets (`CUSTOS_ACCESS_STEP_UP_KEY_FILE`; default `DATA_DIR/step-up.key`, generated).
    pub step_up_key_file: Option<PathBuf>,
    /// The PII vault's own PostgreSQL database (`CUSTOS_ACCESS_VAULT_DATABASE_URL`); unset: the
    /// SQLite file `DATA_DIR/vault/vault.db`. Never `database_url`: keep PII apart from events.
    pub vault_database_url: Option<Secret>,
    /// The vault's schema on PostgreSQL (`CUSTOS_ACCESS_VAULT_SCHEMA`; default `custos_vault`).
    pub vault_schema: Option<String>,
}

/// `[audit]`: the tamper-evident log `serve` keeps.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AuditSection {
    /// Names the log in its signed checkpoints (`CUSTOS_AUDIT_ORIGIN`).
    pub origin: Option<String>,
    /// Checkpoint at least this often while entries arrive (`CUSTOS_AUDIT_CHECKPOINT_EVERY_SECS`, default 60).
    pub checkpoint_every_secs: Option<u64>,
    /// ... and after this many entries (`CUSTOS_AUDIT_CHECKPOINT_EVERY_ENTRIES`, default 10000).
    pub checkpoint_every_entries: Option<u64>,
    /// Schema of the log on PostgreSQL (`CUSTOS_AUDIT_POSTGRES_SCHEMA`, default `custos_audit`).
    pub postgres_schema: Option<String>,
}

/// `[webhooks]`: where `serve` POSTs matching alerts, signed.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksSection {
    /// `https://...` receiver (`CUSTOS_WEBHOOKS_URL`); none: no webhooks.
    pub url: Option<Secret>,
    /// HMAC-SHA256 key for `Custos-Signature` (`CUSTOS_WEBHOOKS_SECRET`).
    pub secret: Option<Secret>,
    /// Only these detectors' alerts (`CUSTOS_WEBHOOKS_DETECTORS=a,b`); empty: all.
    pub detectors: Vec<String>,
    /// `low`, `medium` (default), `high`, `critical` (`CUSTOS_WEBHOOKS_MIN_SEVERITY`).
    pub min_severity: Option<String>,
    /// Attempts per alert before it is logged as undeliverable (`CUSTOS_WEBHOOKS_MAX_ATTEMPTS`, default 12).
    pub max_attempts: Option<u32>,
    /// First retry delay in milliseconds, doubling up to a minute (`CUSTOS_WEBHOOKS_BACKOFF_MS`, default 500).
    pub backoff_ms: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineSection {
    /// How late an event may arrive and still be ordered (`CUSTOS_PIPELINE_LATENESS_SECS`).
    pub lateness_secs: Option<u64>,
    /// Closed tickets are forgotten after this many days (`CUSTOS_PIPELINE_TICKET_RETENTION_DAYS`).
    pub ticket_retention_days: Option<u64>,
    /// In `serve`, buffered events are flushed after this many idle seconds (`CUSTOS_PIPELINE_IDLE_FLUSH_SECS`).
    pub idle_flush_secs: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSection {
    /// `CUSTOS_HTTP_MAX_BODY_BYTES`
    pub max_body_bytes: Option<usize>,
    /// `CUSTOS_HTTP_MAX_BATCH_EVENTS`
    pub max_batch_events: Option<usize>,
    /// `CUSTOS_HTTP_MAX_FUTURE_SKEW_SECS`
    pub max_future_skew_secs: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSection {
    /// `CUSTOS_AUTH_TOKENS="name:scope+scope:token,..."` adds to these.
    pub tokens: Vec<TokenConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    pub name: String,
    /// The token itself; prefer `token_sha256` in files others can read.
    pub token: Option<Secret>,
    /// Hex SHA-256 of the token.
    pub token_sha256: Option<String>,
    pub scopes: Vec<String>,
}

/// Settings resolved from the configuration, ready to use.
#[derive(Debug)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub database_url: Option<Secret>,
    pub listen: SocketAddr,
    pub log: String,
    pub pipeline: PipelineConfig,
    pub idle_flush: Duration,
    pub http: HttpSettings,
    pub detectors: DetectorSettings,
    pub webhooks: Option<crate::webhook::WebhookSettings>,
    pub audit: crate::audit::AuditSettings,
    pub access: crate::access::AccessSettings,
    /// Console passkeys; `None`: off.
    pub console: Option<ConsoleSettings>,
}

/// The console's WebAuthn relying party.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleSettings {
    pub rp_id: String,
    pub origins: Vec<String>,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./custos-data";

impl Config {
    /// Reads the file (if any), then applies the environment.
    pub fn load(path: Option<&Path>, env: &Env) -> anyhow::Result<Config> {
        let (mut config, text) = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read configuration file `{}`", path.display())
                })?;
                let config = Config::parse(&text)
                    .with_context(|| format!("invalid configuration file `{}`", path.display()))?;
                (config, text)
            }
            None => (Config::default(), String::new()),
        };
        config.apply_env(env)?;
        if let Some(behavior) = section_with_env(&text, env, "behavior")? {
            config.behavior = behavior;
        }
        if let Some(risk) = section_with_env(&text, env, "risk")? {
            config.risk = risk;
        }
        if let Some(conversation) = section_with_env(&text, env, "conversation")? {
            config.conversation = conversation;
        }
        Ok(config)
    }

    pub fn parse(text: &str) -> anyhow::Result<Config> {
        // toml's message names the key and the line, e.g. "unknown field `lateness`".
        toml::from_str(text).map_err(|e| anyhow::anyhow!("{}", e.to_string().trim_end()))
    }

    fn apply_env(&mut self, env: &Env) -> anyhow::Result<()> {
        fn number<T: std::str::FromStr>(env: &Env, key: &str) -> anyhow::Result<Option<T>> {
            match env.get(key) {
                None => Ok(None),
                Some(v) => v.trim().parse().map(Some).map_err(|_| {
                    anyhow::anyhow!(
                        "environment variable `{key}` must be a whole number, got `{v}`"
                    )
                }),
            }
        }
        if let Some(v) = env.get("CUSTOS_DATA_DIR") {
            self.data_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = env.get("CUSTOS_DATABASE_URL") {
            self.database_url = Some(Secret::new(v));
        }
        if let Some(v) = env.get("CUSTOS_LISTEN") {
            self.listen = Some(v);
        }
        if let Some(v) = env.get("CUSTOS_LOG") {
            self.log = Some(v);
        }
        self.pipeline.lateness_secs =
            number(env, "CUSTOS_PIPELINE_LATENESS_SECS")?.or(self.pipeline.lateness_secs);
        self.pipeline.ticket_retention_days = number(env, "CUSTOS_PIPELINE_TICKET_RETENTION_DAYS")?
            .or(self.pipeline.ticket_retention_days);
        self.pipeline.idle_flush_secs =
            number(env, "CUSTOS_PIPELINE_IDLE_FLUSH_SECS")?.or(self.pipeline.idle_flush_secs);
        self.http.max_body_bytes =
            number(env, "CUSTOS_HTTP_MAX_BODY_BYTES")?.or(self.http.max_body_bytes);
        self.http.max_batch_events =
            number(env, "CUSTOS_HTTP_MAX_BATCH_EVENTS")?.or(self.http.max_batch_events);
        self.http.max_future_skew_secs =
            number(env, "CUSTOS_HTTP_MAX_FUTURE_SKEW_SECS")?.or(self.http.max_future_skew_secs);
        if let Some(v) = env.get("CUSTOS_WEBHOOKS_URL") {
            self.webhooks.url = Some(Secret::new(v));
        }
        if let Some(v) = env.get("CUSTOS_WEBHOOKS_SECRET") {
            self.webhooks.secret = Some(Secret::new(v));
        }
        if let Some(v) = env.get("CUSTOS_WEBHOOKS_DETECTORS") {
            self.webhooks.detectors = v
                .split(',')
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = env.get("CUSTOS_WEBHOOKS_MIN_SEVERITY") {
            self.webhooks.min_severity = Some(v);
        }
        self.webhooks.max_attempts =
            number(env, "CUSTOS_WEBHOOKS_MAX_ATTEMPTS")?.or(self.webhooks.max_attempts);
        self.webhooks.backoff_ms =
            number(env, "CUSTOS_WEBHOOKS_BACKOFF_MS")?.or(self.webhooks.backoff_ms);
        if let Some(v) = env.get("CUSTOS_ACCESS_VAULT_KEYS_FILE") {
            self.access.vault_keys_file = Some(PathBuf::from(v));
        }
        if let Some(v) = env.get("CUSTOS_ACCESS_POLICY_DIR") {
            self.access.policy_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = env.get("CUSTOS_ACCESS_STEP_UP_KEY_FILE") {
            self.access.step_up_key_file = Some(PathBuf::from(v));
        }
        if let Some(v) = env.get("CUSTOS_ACCESS_VAULT_DATABASE_URL") {
            self.access.vault_database_url = Some(Secret::new(v));
        }
        if let Some(v) = env.get("CUSTOS_ACCESS_VAULT_SCHEMA") {
            self.access.vault_schema = Some(v);
        }
        if let Some(v) = env.get("CUSTOS_CONSOLE_RP_ID") {
            self.console.rp_id = Some(v);
        }
        if let Some(v) = env.get("CUSTOS_CONSOLE_ORIGINS") {
            self.console.origins = v
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = env.get("CUSTOS_AUDIT_ORIGIN") {
            self.audit.origin = Some(v);
        }
        if let Some(v) = env.get("CUSTOS_AUDIT_POSTGRES_SCHEMA") {
            self.audit.postgres_schema = Some(v);
        }
        self.audit.checkpoint_every_secs =
            number(env, "CUSTOS_AUDIT_CHECKPOINT_EVERY_SECS")?.or(self.audit.checkpoint_every_secs);
        self.audit.checkpoint_every_entries = number(env, "CUSTOS_AUDIT_CHECKPOINT_EVERY_ENTRIES")?
            .or(self.audit.checkpoint_every_entries);
        if let Some(list) = env.get("CUSTOS_AUTH_TOKENS") {
            for (i, item) in list.split(',').filter(|s| !s.trim().is_empty()).enumerate() {
                let mut parts = item.trim().splitn(3, ':');
                let (Some(name), Some(scopes), Some(token)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    bail!(
                        "`CUSTOS_AUTH_TOKENS` item {} must look like `name:scope+scope:token`",
                        i + 1
                    );
                };
                self.auth.tokens.push(TokenConfig {
                    name: name.to_owned(),
                    token: Some(Secret::new(token)),
                    token_sha256: None,
                    scopes: scopes.split('+').map(str::to_owned).collect(),
                });
            }
        }
        Ok(())
    }

    /// Validates into [`Settings`].
    ///
    /// (The `[behavior]` section is checked by its own crate.)
    pub fn resolve(self) -> anyhow::Result<Settings> {
        let listen_text = self.listen.unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            anyhow::anyhow!(
                "`listen` must be an address like `127.0.0.1:8080`, got `{listen_text}`"
            )
        })?;
        if let Some(url) = &self.database_url {
            let u = url.expose();
            if !(u.starts_with("postgres://") || u.starts_with("postgresql://")) {
                bail!("`database_url` must start with `postgres://` or `postgresql://`");
            }
        }
        if let Some(url) = &self.access.vault_database_url {
            let u = url.expose();
            if !(u.starts_with("postgres://") || u.starts_with("postgresql://")) {
                bail!(
                    "`access.vault_database_url` must start with `postgres://` or `postgresql://`"
                );
            }
        }
        let lateness = self.pipeline.lateness_secs.unwrap_or(300);
        if lateness > 86_400 {
            bail!("`pipeline.lateness_secs` must be at most 86400 (one day), got `{lateness}`");
        }
        let mut tokens = Vec::new();
        for t in self.auth.tokens {
            if t.name.trim().is_empty() {
                bail!("`auth.tokens` entries need a `name`");
            }
            let token_sha256 = match (&t.token, &t.token_sha256) {
                (Some(secret), None) => {
                    if secret.expose().len() < 16 {
                        bail!(
                            "token `{}` is too short: use at least 16 characters",
                            t.name
                        );
                    }
                    custos_http::token_sha256(secret.expose())
                }
                (None, Some(hex)) => custos_http::parse_sha256_hex(hex).map_err(|_| {
                    anyhow::anyhow!("token `{}`: `token_sha256` must be 64 hex digits", t.name)
                })?,
                _ => bail!(
                    "token `{}` needs exactly one of `token` or `token_sha256`",
                    t.name
                ),
            };
            let scopes = t
                .scopes
                .iter()
                .map(|s| match s.as_str() {
                    "ingest" => Ok(Scope::Ingest),
                    "read" => Ok(Scope::Read),
                    "admin" => Ok(Scope::Admin),
                    other => Err(anyhow::anyhow!(
                        "token `{}`: unknown scope `{other}`, expected `ingest`, `read` or `admin`",
                        t.name
                    )),
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            tokens.push(TokenSpec {
                name: t.name,
                token_sha256,
                scopes,
            });
        }
        let mut http = HttpSettings {
            tokens,
            ..HttpSettings::default()
        };
        if let Some(v) = self.http.max_body_bytes {
            http.max_body_bytes = v;
        }
        if let Some(v) = self.http.max_batch_events {
            if v == 0 {
                bail!("`http.max_batch_events` must be at least 1");
            }
            http.max_batch_events = v;
        }
        if let Some(v) = self.http.max_future_skew_secs {
            http.max_future_skew = Duration::from_secs(v);
        }
        self.behavior
            .validate()
            .map_err(|e| anyhow::anyhow!("`behavior`: {e}"))?;
        let webhooks = resolve_webhooks(self.webhooks)?;
        let audit_defaults = crate::audit::AuditSettings::default();
        let audit = crate::audit::AuditSettings {
            origin: self.audit.origin.unwrap_or(audit_defaults.origin),
            checkpoint_every_secs: self
                .audit
                .checkpoint_every_secs
                .unwrap_or(audit_defaults.checkpoint_every_secs),
            checkpoint_every_entries: self
                .audit
                .checkpoint_every_entries
                .unwrap_or(audit_defaults.checkpoint_every_entries),
            postgres_schema: self
                .audit
                .postgres_schema
                .unwrap_or(audit_defaults.postgres_schema),
        };
        if audit.origin.is_empty()
            || audit.origin.contains(char::is_whitespace)
            || audit.origin.contains('+')
        {
            bail!(
                "`audit.origin` must be a name without spaces or `+`, like `exchange.example/audit`"
            );
        }
        self.conversation
            .validate()
            .map_err(|e| anyhow::anyhow!("`conversation`: {e}"))?;
        let detectors = DetectorSettings {
            behavior: self.behavior,
            risk: self.risk,
            conversation: self.conversation,
        };
        // Builds the detectors once, so a rules or GeoIP file that cannot be
        // read is refused at start, not in the pipeline thread.
        crate::detectors::standard(&detectors)?;
        let console = match self.console.rp_id {
            None if !self.console.origins.is_empty() => {
                bail!("`console.origins` needs `console.rp_id` (passkeys are off without it)")
            }
            None => None,
            Some(rp_id) => {
                let origins = if self.console.origins.is_empty() && rp_id == "localhost" {
                    vec![format!("http://localhost:{}", listen.port())]
                } else {
                    self.console.origins
                };
                // The same checks the console makes, at start rather than later.
                custos_webauthn::RelyingParty::new(&rp_id, "custos console", origins.clone())
                    .map_err(|e| anyhow::anyhow!("`console.rp_id` / `console.origins`: {e}"))?;
                Some(ConsoleSettings { rp_id, origins })
            }
        };
        Ok(Settings {
            console,
            access: crate::access::AccessSettings {
                vault_keys_file: self.access.vault_keys_file,
                policy_dir: self.access.policy_dir,
                step_up_key_file: self.access.step_up_key_file,
                vault_database_url: self.access.vault_database_url,
                vault_schema: self
                    .access
                    .vault_schema
                    .unwrap_or_else(|| custos_vault::DEFAULT_POSTGRES_SCHEMA.to_owned()),
            },
            audit,
            webhooks,
            detectors,
            data_dir: self
                .data_dir
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            database_url: self.database_url,
            listen,
            log: self.log.unwrap_or_else(|| "info".to_owned()),
            pipeline: PipelineConfig {
                lateness: Span::from_secs(lateness as i64),
                ticket_retention: Span::from_days(
                    self.pipeline.ticket_retention_days.unwrap_or(30) as i64,
                ),
                ..PipelineConfig::default()
            },
            idle_flush: Duration::from_secs(self.pipeline.idle_flush_secs.unwrap_or(2)),
            http,
        })
    }
}

fn resolve_webhooks(
    section: WebhooksSection,
) -> anyhow::Result<Option<crate::webhook::WebhookSettings>> {
    let Some(url) = section.url else {
        if section.secret.is_some() {
            bail!("`webhooks.secret` is set but `webhooks.url` is not");
        }
        return Ok(None);
    };
    let u = url.expose();
    if !(u.starts_with("https://") || u.starts_with("http://")) {
        bail!("`webhooks.url` must start with `https://` or `http://`");
    }
    let Some(secret) = section.secret else {
        bail!(
            "`webhooks.url` needs `webhooks.secret`: receivers must be able to check the signature"
        );
    };
    if secret.expose().len() < 16 {
        bail!("`webhooks.secret` is too short: use at least 16 characters");
    }
    let severity_text = section.min_severity.unwrap_or_else(|| "medium".to_owned());
    let min_severity = custos_core::Severity::parse(&severity_text).with_context(|| {
        format!("`webhooks.min_severity` must be `low`, `medium`, `high` or `critical`, got `{severity_text}`")
    })?;
    let max_attempts = section.max_attempts.unwrap_or(12);
    if max_attempts == 0 {
        bail!("`webhooks.max_attempts` must be at least 1");
    }
    Ok(Some(crate::webhook::WebhookSettings {
        url: url.clone(),
        secret,
        detectors: section.detectors,
        min_severity,
        max_attempts,
        initial_backoff: Duration::from_millis(section.backoff_ms.unwrap_or(500)),
        max_backoff: Duration::from_secs(60),
        timeout: Duration::from_secs(10),
    }))
}

/// Applies `CUSTOS_<SECTION>_<KEY>` variables over the file's `[section]`
/// table, generically, so every threshold a detector grows is settable
/// from the environment without a list to keep in step. `None` when no such
/// variable is set. Values are read as TOML (`5.5`, `true`, `["c-1"]`),
/// falling back to a plain string.
fn section_with_env<T: serde::de::DeserializeOwned>(
    file_text: &str,
    env: &Env,
    section_name: &str,
) -> anyhow::Result<Option<T>> {
    let prefix = format!("CUSTOS_{}_", section_name.to_ascii_uppercase());
    let overrides: Vec<(String, String)> = env
        .prefixed(&prefix)
        .map(|(key, value)| (key.to_ascii_lowercase(), value.to_owned()))
        .collect();
    if overrides.is_empty() {
        return Ok(None);
    }
    let mut table: toml::Table = if file_text.is_empty() {
        toml::Table::new()
    } else {
        file_text.parse()?
    };
    let section = table
        .entry(section_name)
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .with_context(|| format!("`{section_name}` must be a table"))?;
    for (key, value) in overrides {
        let parsed = format!("v = {value}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or(toml::Value::String(value));
        section.insert(key, parsed);
    }
    let section = section.clone();
    let value: T = section.try_into().map_err(|e| {
        anyhow::anyhow!(
            "`{prefix}*` environment variables: {}",
            e.to_string().trim()
        )
    })?;
    Ok(Some(value))
}

/// The process environment, or a test's stand-in for it.
#[derive(Debug, Default)]
pub struct Env(BTreeMap<String, String>);

impl Env {
    /// The `CUSTOS_*` variables of this process.
    pub fn from_process() -> Env {
        Env(std::env::vars()
            .filter(|(k, _)| k.starts_with("CUSTOS_"))
            .collect())
    }

    #[cfg(test)]
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Env {
        Env(pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect())
    }

    pub fn get(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }

    /// `(rest of the name, value)` of every variable starting with `prefix`.
    fn prefixed<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.0
            .iter()
            .filter_map(move |(k, v)| Some((k.strip_prefix(prefix)?, v.as_str())))
    }
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lowercase or uppercase hex to bytes; `None` on odd length or a non-hex digit.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Env {
        Env::from_pairs(vars)
    }

    #[test]
    fn no_file_gives_the_defaults() {
        let s = Config::load(None, &env(&[])).unwrap().resolve().unwrap();
        assert_eq!(s.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(s.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(s.pipeline.lateness, Span::from_minutes(5));
        assert!(s.http.tokens.is_empty());
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let err = Config::parse("listen = \"127.0.0.1:1\"\n[pipeline]\nlatenes_secs = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("latenes_secs"), "{err}");
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn environment_overrides_the_file() {
        let c =
            Config::parse("listen = \"127.0.0.1:1\"\n[pipeline]\nlateness_secs = 60\n").unwrap();
        let mut c = c;
        c.apply_env(&env(&[
            ("CUSTOS_PIPELINE_LATENESS_SECS", "120"),
            ("CUSTOS_LISTEN", "127.0.0.1:9"),
        ]))
        .unwrap();
        let s = c.resolve().unwrap();
        assert_eq!(s.pipeline.lateness, Span::from_secs(120));
        assert_eq!(s.listen.port(), 9);
        let bad = Config::load(None, &env(&[("CUSTOS_HTTP_MAX_BATCH_EVENTS", "lots")]))
            .unwrap_err()
            .to_string();
        assert!(bad.contains("CUSTOS_HTTP_MAX_BATCH_EVENTS"), "{bad}");
    }

    #[test]
    fn tokens_hash_and_never_print() {
        let c = Config::load(
            None,
            &env(&[(
                "CUSTOS_AUTH_TOKENS",
                "bot:ingest+read:0123456789abcdef-secret",
            )]),
        )
        .unwrap();
        let printed = format!("{c:?}");
        assert!(!printed.contains("0123456789abcdef-secret"), "{printed}");
        let s = c.resolve().unwrap();
        assert_eq!(
            s.http.tokens[0].token_sha256,
            custos_http::token_sha256("0123456789abcdef-secret")
        );
        assert_eq!(s.http.tokens[0].scopes, [Scope::Ingest, Scope::Read]);
        let short = Config::load(None, &env(&[("CUSTOS_AUTH_TOKENS", "bot:read:short")]))
            .unwrap()
            .resolve();
        assert!(short.unwrap_err().to_string().contains("too short"));
        let scope = Config::load(
            None,
            &env(&[("CUSTOS_AUTH_TOKENS", "bot:root:0123456789abcdef0")]),
        )
        .unwrap()
        .resolve();
        assert!(
            scope
                .unwrap_err()
                .to_string()
                .contains("unknown scope `root`")
        );
    }

    #[test]
    fn database_url_is_checked_and_hidden() {
        let c = Config::load(None, &env(&[("CUSTOS_DATABASE_URL", "mysql://u:pw@h/db")])).unwrap();
        assert!(!format!("{c:?}").contains("pw"));
        let err = c.resolve().unwrap_err().to_string();
        assert!(err.contains("postgres://") && !err.contains("pw"), "{err}");
    }

    #[test]
    fn the_vault_database_is_its_own_checked_and_hidden() {
        let bad = Config::load(
            None,
            &env(&[("CUSTOS_ACCESS_VAULT_DATABASE_URL", "mysql://u:pw@h/pii")]),
        )
        .unwrap();
        assert!(!format!("{bad:?}").contains("pw"));
        let err = bad.resolve().unwrap_err().to_string();
        assert!(
            err.contains("access.vault_database_url") && !err.contains("pw"),
            "{err}"
        );
        let settings = Config::load(
            None,
            &env(&[
                (
                    "CUSTOS_ACCESS_VAULT_DATABASE_URL",
                    "postgres://vault:pw@h/pii",
                ),
                ("CUSTOS_ACCESS_VAULT_SCHEMA", "pii_v1"),
            ]),
        )
        .unwrap()
        .resolve()
        .unwrap();
        assert_eq!(
            settings
                .access
                .vault_database_url
                .as_ref()
                .map(|u| u.expose()),
            Some("postgres://vault:pw@h/pii")
        );
        assert_eq!(settings.access.vault_schema, "pii_v1");
        assert!(!format!("{:?}", settings.access).contains("pw"));
        let default = Config::load(None, &env(&[])).unwrap().resolve().unwrap();
        assert!(default.access.vault_database_url.is_none());
        assert_eq!(default.access.vault_schema, "custos_vault");
    }

    #[test]
    fn console_passkeys_need_a_relying_party_and_default_to_localhost() {
        let resolve = |vars: &[(&str, &str)]| Config::load(None, &env(vars)).unwrap().resolve();
        assert_eq!(resolve(&[]).unwrap().console, None);
        let local = resolve(&[
            ("CUSTOS_CONSOLE_RP_ID", "localhost"),
            ("CUSTOS_LISTEN", "127.0.0.1:9443"),
        ])
        .unwrap();
        assert_eq!(
            local.console,
            Some(ConsoleSettings {
                rp_id: "localhost".to_owned(),
                origins: vec!["http://localhost:9443".to_owned()],
            })
        );
        let named = resolve(&[
            ("CUSTOS_CONSOLE_RP_ID", "custos.example"),
            (
                "CUSTOS_CONSOLE_ORIGINS",
                "https://custos.example, https://soc.custos.example",
            ),
        ])
        .unwrap();
        assert_eq!(
            named.console.map(|c| c.origins),
            Some(vec![
                "https://custos.example".to_owned(),
                "https://soc.custos.example".to_owned()
            ])
        );
        let err = resolve(&[("CUSTOS_CONSOLE_ORIGINS", "https://custos.example")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("console.rp_id"), "{err}");
        // A named relying party needs its origins spelled out.
        let err = resolve(&[("CUSTOS_CONSOLE_RP_ID", "custos.example")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("console"), "{err}");
    }

    #[test]
    fn webhooks_need_a_signing_secret_and_never_print_it() {
        let resolve = |vars: &[(&str, &str)]| {
            Config::load(None, &env(vars))
                .and_then(Config::resolve)
                .map_err(|e| e.to_string())
        };
        assert!(resolve(&[]).unwrap().webhooks.is_none());
        let url = ("CUSTOS_WEBHOOKS_URL", "https://user:pw@hooks.example/x");
        let err = resolve(&[url]).unwrap_err();
        assert!(
            err.contains("webhooks.secret") && !err.contains("pw"),
            "{err}"
        );
        let secret = ("CUSTOS_WEBHOOKS_SECRET", "whsec-0123456789abcdef");
        let err = resolve(&[url, secret, ("CUSTOS_WEBHOOKS_MIN_SEVERITY", "loud")]).unwrap_err();
        assert!(err.contains("`loud`"), "{err}");
        let settings = resolve(&[
            url,
            secret,
            ("CUSTOS_WEBHOOKS_DETECTORS", "action_risk, conversation"),
        ])
        .unwrap();
        let hooks = settings.webhooks.as_ref().unwrap();
        assert_eq!(hooks.detectors, ["action_risk", "conversation"]);
        assert_eq!(hooks.min_severity, custos_core::Severity::Medium);
        let printed = format!("{settings:?}");
        assert!(
            !printed.contains("whsec") && !printed.contains("pw"),
            "{printed}"
        );
        assert!(resolve(&[("CUSTOS_WEBHOOKS_URL", "ftp://x"), secret]).is_err());
    }

    #[test]
    fn behavior_thresholds_from_file_and_environment() {
        let dir = std::env::temp_dir().join(format!("custos-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("custos.toml");
        std::fs::write(&path, "[behavior]\nhigh_score = 6.0\nburst_per_hour = 30\n").unwrap();
        let c = Config::load(Some(&path), &env(&[])).unwrap();
        assert_eq!(
            (c.behavior.high_score, c.behavior.burst_per_hour),
            (6.0, 30)
        );
        let c = Config::load(
            Some(&path),
            &env(&[
                ("CUSTOS_BEHAVIOR_HIGH_SCORE", "7.5"),
                ("CUSTOS_BEHAVIOR_CANARY_CUSTOMERS", "[\"c-9\"]"),
            ]),
        )
        .unwrap();
        assert_eq!(c.behavior.high_score, 7.5);
        assert_eq!(c.behavior.burst_per_hour, 30, "the file's other keys stay");
        assert_eq!(c.behavior.canary_customers, ["c-9"]);
        let err = Config::load(None, &env(&[("CUSTOS_BEHAVIOR_NO_SUCH_KEY", "1")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no_such_key") && err.contains("CUSTOS_BEHAVIOR_"),
            "{err}"
        );
        let err = Config::parse("[behavior]\nhigh_scor = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("high_scor"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Every `CUSTOS_*` variable this file reads is documented in the README.
    #[test]
    fn readme_documents_every_variable() {
        let whole = include_str!("config.rs");
        // Only the code, not these tests' own example variables.
        let source = &whole[..whole.find("\nmod tests {").unwrap_or(whole.len())];
        let readme = include_str!("../../../README.md");
        let mut seen = 0;
        for (i, _) in source.match_indices("\"CUSTOS_") {
            let name: String = source[i + 1..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            seen += 1;
            assert!(
                readme.contains(&name),
                "README.md does not mention `{name}`"
            );
        }
        assert!(seen >= 10, "found only {seen} variables");
    }

    #[test]
    fn hex_round_trip() {
        let h = custos_http::token_sha256("x");
        assert_eq!(custos_http::parse_sha256_hex(&to_hex(&h)).ok(), Some(h));
        assert_eq!(from_hex(&to_hex(&h)).as_deref(), Some(&h[..]));
        assert_eq!(from_hex("0aFf"), Some(vec![0x0a, 0xff]));
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("zz"), None);
    }
}
