//! The `custos` command: thin glue over the library crates.

mod access;
mod admin;
mod audit;
mod config;
mod demo;
mod detectors;
mod eval;
mod load;
mod replay;
mod risk_rules;
mod serve;
mod tailer;
mod webhook;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use std::io::Write as _;
use std::path::PathBuf;

/// Events are allocated on parser threads and freed on the pipeline thread;
/// mimalloc handles that cross-thread pattern far better than glibc malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "custos",
    version,
    about = "Watches who watches customer data at a cryptocurrency exchange"
)]
struct Cli {
    /// Configuration file (TOML); `CUSTOS_*` environment variables override it.
    #[arg(long, global = true, env = "CUSTOS_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Feed contract events through the whole pipeline in event time and
    /// write every alert as NDJSON.
    Replay {
        /// NDJSON events, or `-` for standard input.
        #[arg(long)]
        input: String,
        /// Where alerts go (default: standard output).
        #[arg(long)]
        alerts: Option<PathBuf>,
    },
    /// Score messages for social-engineering inducements: `message` events
    /// or bare `{"id":..,"text":..}` lines in, one
    /// `{"id","score","verdict","reasons"}` line out per scored line, in
    /// input order; unscorable lines are named on stderr by line number.
    Scan {
        /// NDJSON, or `-` for standard input.
        #[arg(long)]
        input: String,
        /// Where the verdicts go (default: standard output).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Train the conversation guard's classifier from labelled JSONL corpus
    /// files (see crates/custos-conversation/README.md); writes the model.
    Train {
        /// Corpus files (JSONL, one labelled message a line).
        #[arg(long, required = true, num_args = 1..)]
        input: Vec<PathBuf>,
        /// Where the model goes.
        #[arg(long)]
        output: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Run the HTTP API with durable ingest and the live pipeline.
    Serve,
    /// Write a simulated support floor (events.ndjson and truth.json).
    Sim {
        #[arg(long, default_value_t = 30)]
        days: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
        /// Number of agents (default: the simulator's).
        #[arg(long)]
        agents: Option<u32>,
        /// Number of customers (default: the simulator's).
        #[arg(long)]
        customers: Option<u32>,
        /// Simulate no attacks (benign traffic only).
        #[arg(long)]
        no_attacks: bool,
    },
    /// Start the server, stream a simulated month through it, report what
    /// custos caught, and keep serving until Ctrl-C.
    Demo {
        #[arg(long, default_value_t = 30)]
        days: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Exit after the report instead of serving on.
        #[arg(long)]
        exit: bool,
        /// Where the demo keeps its store (wiped at start).
        #[arg(long, default_value = "./custos-demo-data")]
        data_dir: PathBuf,
    },
    /// Detection quality against ground truth: simulated exchanges (or a
    /// replay file and its truth.json) through every detector, scored per
    /// attack kind. Use seeds you did not tune on.
    Eval {
        /// Simulator seeds: `101-105`, `1,2,3`.
        #[arg(long, default_value = "101-105")]
        seeds: String,
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Number of agents (default: the simulator's).
        #[arg(long)]
        agents: Option<u32>,
        /// Number of customers (default: the simulator's).
        #[arg(long)]
        customers: Option<u32>,
        /// Score this NDJSON file instead of simulating (needs --truth).
        #[arg(long, requires = "truth")]
        input: Option<PathBuf>,
        /// The simulator-format truth.json for --input.
        #[arg(long, requires = "input")]
        truth: Option<PathBuf>,
    },
    /// Load generator: POST simulated events to a running server.
    Load(load::LoadOptions),
    /// Access-broker policies: validate them, or run a table of expected decisions.
    #[command(subcommand)]
    Policy(admin::PolicyCommand),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(admin::AuditCommand),
    /// Customer action risk: backtest candidate rules on stored events.
    #[command(subcommand)]
    Risk(admin::RiskCommand),
    /// The analyst web console (`/console` on `serve`).
    #[command(subcommand)]
    Console(admin::ConsoleCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("custos: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn settings(path: Option<&std::path::Path>) -> anyhow::Result<config::Settings> {
    config::Config::load(path, &config::Env::from_process())?.resolve()
}

fn init_logs(level: &str) {
    let level = level.parse().unwrap_or(tracing::Level::INFO);
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = settings(cli.config.as_deref())?;
    match cli.command {
        Command::Replay { input, alerts } => {
            init_logs("warn");
            let reader = replay::open_input(&input)?;
            let mut writer = replay::open_output(alerts.as_deref())?;
            let summary = replay::replay(reader, &mut writer, &settings)?;
            eprint!(
                "{}",
                summary.render(settings.pipeline.lateness.as_secs_f64())
            );
            Ok(())
        }
        Command::Scan { input, output } => {
            init_logs("warn");
            let reader = replay::open_input(&input)?;
            let mut writer = replay::open_output(output.as_deref())?;
            let guard = custos_conversation::Guard::new().context("the conversation model")?;
            let summary = custos_conversation::scan_reader(
                reader,
                &mut writer,
                &guard,
                &settings.detectors.conversation,
            )
            .context("scan")?;
            writer.flush().context("cannot write the verdicts")?;
            eprintln!("custos {summary}");
            Ok(())
        }
        Command::Train {
            input,
            output,
            seed,
        } => {
            init_logs("warn");
            let report = custos_conversation::train_files(&input, &output, seed)
                .context("training failed")?;
            eprintln!("custos train: wrote {}: {report:?}", output.display());
            Ok(())
        }
        Command::Serve => {
            init_logs(&settings.log);
            serve::serve(settings)
        }
        Command::Sim {
            days,
            seed,
            out,
            agents,
            customers,
            no_attacks,
        } => {
            let mut config = custos_sim::SimConfig {
                days,
                seed,
                attacks: !no_attacks,
                ..Default::default()
            };
            if let Some(a) = agents {
                config.agents = a;
            }
            if let Some(c) = customers {
                config.customers = c;
            }
            let started = std::time::Instant::now();
            let summary = custos_sim::write_dir(config, &out)
                .with_context(|| format!("cannot write the simulation to `{}`", out.display()))?;
            eprintln!(
                "custos sim: wrote {} in {:.1} s: {summary:?}",
                out.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Demo {
            days,
            seed,
            exit,
            data_dir,
        } => {
            init_logs("warn");
            demo::demo(
                settings,
                demo::DemoOptions {
                    days,
                    seed,
                    exit,
                    data_dir,
                },
            )
        }
        Command::Eval {
            seeds,
            days,
            agents,
            customers,
            input,
            truth,
        } => {
            init_logs("warn");
            let source = match (input, truth) {
                (Some(input), Some(truth)) => eval::Source::File { input, truth },
                _ => eval::Source::Seeds {
                    seeds: eval::parse_seeds(&seeds)?,
                    days,
                    agents,
                    customers,
                },
            };
            let report = eval::run(source, &settings.detectors)?;
            print!("{}", report.to_markdown());
            Ok(())
        }
        Command::Policy(command) => admin::policy(command),
        Command::Audit(command) => admin::audit(command),
        Command::Console(command) => admin::console(command, &settings.data_dir),
        Command::Risk(command) => admin::risk(command, &settings.detectors.risk),
        Command::Load(options) => {
            let report = load::run(&options)?;
            println!("{report}");
            Ok(())
        }
    }
}
