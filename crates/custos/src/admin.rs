//! Operator commands over the broker's policies and the audit log: thin
//! wrappers that print a library's verdict for a person and exit non-zero
//! when something is wrong.

use anyhow::{Context as _, bail};
use clap::Subcommand;
use custos_broker::Broker;
use std::io::Write as _;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Validate the policy set against its schema (the shipped set, or `--dir`).
    Check {
        /// A policy directory (`*.cedar`, `schema.cedarschema`, `categories.json`).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Run a JSON table of expected decisions against the policy set.
    Test {
        /// The cases file (see `crates/custos-broker/tests/data/cases.json`).
        cases: PathBuf,
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum RiskCommand {
    /// Replay a file of events through a fresh `action_risk` engine with
    /// point-in-time features (each action decided on what was known
    /// then) and, with `--candidate`, print every action the candidate
    /// rules would decide differently (one JSON line each); the summary
    /// goes to standard error.
    Backtest {
        /// NDJSON events, or `-` for standard input.
        #[arg(long)]
        input: String,
        /// A candidate rules file to compare with the live rules (the
        /// configured `[risk] rules_path`, or the embedded defaults).
        #[arg(long)]
        candidate: Option<PathBuf>,
    },
}

/// `custos risk backtest`.
pub fn risk(command: RiskCommand, config: &custos_risk::RiskConfig) -> anyhow::Result<()> {
    match command {
        RiskCommand::Backtest { input, candidate } => {
            let live = match &config.rules_path {
                Some(path) => custos_risk::RuleSet::from_path(path)
                    .with_context(|| format!("live rules `{}`", path.display()))?,
                None => custos_risk::RuleSet::default_rules().context("the embedded rules")?,
            };
            let candidate = candidate
                .map(|path| {
                    custos_risk::RuleSet::from_path(&path)
                        .with_context(|| format!("candidate rules `{}`", path.display()))
                })
                .transpose()?;
            let geo = config
                .geoip_path
                .as_ref()
                .map(|p| custos_risk::GeoIp::open(p).with_context(|| format!("`{}`", p.display())))
                .transpose()?;
            // Only what the engine reads is kept: customers, reports, actions.
            let reader = crate::replay::open_input(&input)?;
            let mut events = Vec::new();
            let mut rejected = 0u64;
            for line in custos_core::parse::NdjsonReader::new(reader) {
                let line = line.context("cannot read the input")?;
                match line.result {
                    Ok(event) => {
                        if matches!(
                            event.body,
                            custos_core::EventBody::Customer(_)
                                | custos_core::EventBody::ScamReport(_)
                                | custos_core::EventBody::CustomerAction(_)
                        ) {
                            events.push(event);
                        }
                    }
                    Err(r) => {
                        rejected += 1;
                        eprintln!("custos risk backtest: line {}: {}", line.number, r.reason);
                    }
                }
            }
            events.sort_by_key(|e| e.ts);
            let report = custos_risk::backtest(config.clone(), live, candidate, geo, &events);
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for row in report.rows.iter().filter(|r| r.shadow.is_some()) {
                let shadow = row.shadow.as_ref().map(|d| (d.live, d.candidate));
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({
                        "event_id": row.event_id.as_str(),
                        "ts": row.ts.to_string(),
                        "customer_id": row.customer_id.as_str(),
                        "action": row.action,
                        "live": shadow.map(|s| s.0),
                        "candidate": shadow.map(|s| s.1),
                        "signals": row.signals,
                    })
                )?;
            }
            out.flush()?;
            eprintln!(
                "custos risk backtest: {} actions ({} lines rejected); decisions {:?}; {} decided differently by the candidate",
                report.actions, rejected, report.by_outcome, report.differences
            );
            Ok(())
        }
    }
}

#[derive(Subcommand)]
pub enum ConsoleCommand {
    /// Create a console user (`analyst`, `lead`, `agent`, `admin`). The
    /// password comes from `CUSTOS_CONSOLE_PASSWORD` or the first line of
    /// standard input; the TOTP enrolment URI is printed once.
    AddUser {
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: String,
        /// The agent id (from the directory) this user acts as when they
        /// view customer data through the broker.
        #[arg(long)]
        agent_id: Option<String>,
    },
    /// Link a console user to the agent id they act as at the access broker
    /// (the customer page's data view), or `--unlink` it.
    LinkAgent {
        #[arg(long)]
        name: String,
        #[arg(long, required_unless_present = "unlink", conflicts_with = "unlink")]
        agent_id: Option<String>,
        #[arg(long)]
        unlink: bool,
    },
}

/// `custos console ...` against the data directory `serve` uses.
pub fn console(command: ConsoleCommand, data_dir: &std::path::Path) -> anyhow::Result<()> {
    match command {
        ConsoleCommand::LinkAgent {
            name,
            agent_id,
            unlink: _,
        } => {
            custos_console::set_agent_id(&data_dir.join("console"), &name, agent_id.as_deref())
                .with_context(|| format!("cannot link console user `{name}`"))?;
            match agent_id {
                Some(id) => println!("custos console: `{name}` now acts as agent `{id}`"),
                None => println!("custos console: `{name}` is no longer linked to an agent"),
            }
            Ok(())
        }
        ConsoleCommand::AddUser {
            name,
            role,
            agent_id,
        } => {
            let role: custos_console::Role = role.parse().map_err(|_| {
                anyhow::anyhow!(
                    "`--role` must be `analyst`, `lead`, `agent` or `admin`, got `{role}`"
                )
            })?;
            let password = match std::env::var("CUSTOS_CONSOLE_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("cannot read the password from standard input")?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let uri =
                custos_console::create_user(&data_dir.join("console"), &name, role, &password)
                    .with_context(|| format!("cannot create console user `{name}`"))?;
            if let Some(id) = &agent_id {
                custos_console::set_agent_id(&data_dir.join("console"), &name, Some(id))
                    .with_context(|| format!("cannot link console user `{name}` to `{id}`"))?;
            }
            println!(
                "custos console: created `{name}`; add this to an authenticator app now, it is not shown again:\n  {}",
                uri.expose()
            );
            Ok(())
        }
    }
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check a log against a checkpoint you trust: reports any modified,
    /// deleted, reordered or truncated entry, or a fork, with the first bad index.
    Verify {
        /// The log's SQLite file (`DATA_DIR/audit.db` of `serve`).
        #[arg(
            long,
            required_unless_present = "database_url",
            conflicts_with = "database_url"
        )]
        log: Option<PathBuf>,
        /// Or the PostgreSQL database holding the log.
        #[arg(long, env = "CUSTOS_AUDIT_VERIFY_DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
        /// The log's schema in PostgreSQL.
        #[arg(long, default_value = custos_audit::DEFAULT_POSTGRES_SCHEMA)]
        schema: String,
        /// A signed checkpoint saved earlier (signed-note text).
        #[arg(long)]
        checkpoint: PathBuf,
        /// The log's public key, as a note verifier string (`name+hash+key`).
        #[arg(long)]
        key: String,
    },
}

fn broker(dir: Option<&PathBuf>) -> anyhow::Result<Broker> {
    match dir {
        Some(dir) => Broker::from_dir(dir)
            .with_context(|| format!("cannot load policies from `{}`", dir.display())),
        None => Broker::default_policies().context("the shipped policies do not load"),
    }
}

pub fn policy(command: PolicyCommand) -> anyhow::Result<()> {
    match command {
        PolicyCommand::Check { dir } => {
            broker(dir.as_ref())?
                .validate()
                .context("the policies do not validate against the schema")?;
            println!("custos policy check: the policies validate against the schema");
            Ok(())
        }
        PolicyCommand::Test { cases, dir } => {
            let text = std::fs::read_to_string(&cases)
                .with_context(|| format!("cannot read cases `{}`", cases.display()))?;
            let failures = broker(dir.as_ref())?
                .run_cases(&text)
                .context("the cases file is not valid")?;
            if failures.is_empty() {
                println!(
                    "custos policy test: every case in `{}` decided as expected",
                    cases.display()
                );
                return Ok(());
            }
            for f in &failures {
                println!("FAILED {}: {}", f.case, f.message);
            }
            bail!(
                "{} case(s) decided differently than expected",
                failures.len()
            )
        }
    }
}

pub fn audit(command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify {
            log,
            database_url,
            schema,
            checkpoint,
            key,
        } => {
            let trusted = std::fs::read_to_string(&checkpoint)
                .with_context(|| format!("cannot read checkpoint `{}`", checkpoint.display()))?;
            let verifier = custos_audit::NoteVerifier::parse(key.trim())
                .context("`--key` is not a note verifier")?;
            let report = match (&log, &database_url) {
                (Some(log), _) => custos_audit::verify(log, &trusted, &verifier)
                    .with_context(|| format!("cannot verify `{}`", log.display()))?,
                (None, Some(url)) => {
                    let store = custos_audit::PostgresAuditStore::connect_with_schema(url, &schema)
                        .context("cannot open the audit log in PostgreSQL")?;
                    custos_audit::verify_store(&store, &trusted, &verifier)
                        .with_context(|| format!("cannot verify schema `{schema}`"))?
                }
                (None, None) => bail!("give `--log FILE` or `--database-url URL`"),
            };
            println!(
                "custos audit verify: checkpoint size {}, {} rows stored, {} stored checkpoints verified",
                report.checkpoint.size, report.stored_rows, report.stored_checkpoints_verified
            );
            if report.is_intact() {
                println!("intact: the log matches the checkpoint");
                return Ok(());
            }
            for finding in &report.findings {
                println!("  {finding}");
            }
            match report.first_bad_index() {
                Some(i) => bail!("the log was tampered with: first bad index {i}"),
                None => bail!("the log was tampered with"),
            }
        }
    }
}
