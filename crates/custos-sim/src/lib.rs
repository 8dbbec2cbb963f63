//! A seeded, deterministic simulator of an exchange's support floor and
//! customer base. It writes contract v1 events (NDJSON) with injected
//! attacks — insider harvests, fake support calls, account takeovers,
//! withdrawals to fresh addresses — and their ground truth, plus benign
//! look-alikes so that detectors can be scored on precision, recall and
//! time to detect.
//!
//! The run is generated one simulated day at a time: each day's events are
//! sorted and emitted before the next day exists, so memory stays bounded
//! by a day (plus the directory), whatever the number of days.
//!
//! ```
//! use custos_sim::{SimConfig, Simulator};
//!
//! let config = SimConfig { days: 1, agents: 20, customers: 500, ..SimConfig::default() };
//! let mut sim = Simulator::new(config).unwrap();
//! let first = sim.next().unwrap();
//! assert!(first.starts_with(r#"{"type":"agent","ts":"2025-03-03T00:00:00Z","id":"e1""#));
//! let rest = sim.by_ref().count();
//! assert_eq!(sim.truth().events, rest as u64 + 1);
//! ```

mod attacks;
mod customers;
mod engine;
mod floor;
mod json;
mod rng;
mod tables;
mod text;
pub mod time;
mod truth;
mod world;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::truth::{
    AccountTakeover, AgentEpisode, Attack, Benign, CustomerEpisode, Entity, EntityKind,
    FakeSupportCall, HardBenignConversation, InsiderHarvest, NewAddressWithdrawal, NewHire,
    OffTicketAccess, Overtime, QueueSpike, TRUTH_VERSION, TeamMove, Traveler, Truth,
    UnrelatedScamReport, WithdrawApiKey,
};

use crate::engine::{Gen, Pending};
use crate::json::EventKind;

/// 2025-03-03T00:00:00Z, a Monday: the default start of a run.
pub const DEFAULT_START: i64 = 1_740_960_000;

/// Latest an event arrives after its `ts` when `jitter` is on, in seconds.
pub const MAX_LATENESS_SECS: i64 = engine::MAX_LATENESS;

/// What to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// Simulated days, at least 1.
    pub days: u32,
    /// Everything in the output follows from the seed.
    pub seed: u64,
    /// First instant, unix seconds; must be a UTC midnight.
    pub start: i64,
    /// Agents at the start (new hires during the run come on top).
    pub agents: u32,
    /// Customers at the start (sign-ups during the run come on top).
    pub customers: u32,
    /// Inject attacks (with ground truth).
    pub attacks: bool,
    /// Let a small share of events arrive up to 90 seconds late.
    pub jitter: bool,
}

impl Default for SimConfig {
    /// 30 days from 2025-03-03, 240 agents, 50,000 customers, attacks and
    /// jitter on: about a million events.
    fn default() -> SimConfig {
        SimConfig {
            days: 30,
            seed: 1,
            start: DEFAULT_START,
            agents: 240,
            customers: 50_000,
            attacks: true,
            jitter: true,
        }
    }
}

impl SimConfig {
    /// Checks the config; every error names the field.
    pub fn validate(&self) -> Result<(), SimError> {
        let invalid = |reason: String| Err(SimError::InvalidConfig { reason });
        if self.days == 0 {
            return invalid("`days` must be at least 1".to_owned());
        }
        if self.days > 36_500 {
            return invalid(format!("`days` must be at most 36500, got `{}`", self.days));
        }
        if self.agents == 0 {
            return invalid("`agents` must be at least 1".to_owned());
        }
        if self.customers == 0 {
            return invalid("`customers` must be at least 1".to_owned());
        }
        if self.agents > 1_000_000 || self.customers > 100_000_000 {
            return invalid("`agents` or `customers` is implausibly large".to_owned());
        }
        if self.start.rem_euclid(time::DAY) != 0 {
            return invalid(format!(
                "`start` must be a UTC midnight, got `{}`",
                time::rfc3339(self.start)
            ));
        }
        // Customers were created up to eight years before the start; the
        // four-digit year of RFC 3339 bounds both ends.
        let earliest = time::days_from_civil(1979, 1, 1) * time::DAY;
        let end = self.start + i64::from(self.days) * time::DAY;
        if self.start < earliest || end > time::MAX_TS {
            return invalid(format!(
                "`start` must be between 1979 and 9999, got `{}`",
                self.start
            ));
        }
        Ok(())
    }
}

/// Errors of the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("invalid simulator config: {reason}")]
    InvalidConfig { reason: String },
    #[error("cannot write `{}`: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot serialize the ground truth: {0}")]
    Truth(#[from] serde_json::Error),
}

/// Counts of what [`write_dir`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimSummary {
    pub events: u64,
    /// Events per `type`.
    pub by_type: BTreeMap<String, u64>,
    pub attacks: usize,
    pub benign: usize,
}

/// The simulator: an iterator of NDJSON lines (no trailing newline) in
/// arrival order, with ids `e1`, `e2`, ... in file order.
pub struct Simulator {
    engine: Gen,
    ready: std::vec::IntoIter<Pending>,
    next_day: u32,
}

impl Simulator {
    pub fn new(config: SimConfig) -> Result<Simulator, SimError> {
        config.validate()?;
        Ok(Simulator {
            engine: Gen::new(config),
            ready: Vec::new().into_iter(),
            next_day: 0,
        })
    }

    pub fn config(&self) -> &SimConfig {
        &self.engine.cfg
    }

    /// The ground truth; complete once the iterator is exhausted (attacks
    /// and their event ids appear as the run reaches them).
    pub fn truth(&self) -> &Truth {
        &self.engine.truth
    }

    /// Events generated but not yet emitted: what the simulator holds in
    /// memory (at most about a day of events, whatever the run's length).
    pub fn buffered_events(&self) -> usize {
        self.ready.len() + self.engine.carried()
    }

    /// Counts of the events emitted so far.
    pub fn summary(&self) -> SimSummary {
        let by_type = EventKind::ALL
            .iter()
            .map(|k| (k.as_str().to_owned(), self.engine.counts[k.index()]))
            .filter(|(_, n)| *n > 0)
            .collect();
        SimSummary {
            events: self.engine.truth.events,
            by_type,
            attacks: self.engine.truth.attacks.len(),
            benign: self.engine.truth.benign.len(),
        }
    }
}

impl Iterator for Simulator {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        loop {
            if let Some(p) = self.ready.next() {
                return Some(self.engine.emit(p));
            }
            if self.next_day >= self.engine.cfg.days {
                return None;
            }
            let day = self.engine.generate_day(self.next_day);
            self.next_day += 1;
            self.ready = day.into_iter();
        }
    }
}

/// Runs the simulation and writes `DIR/events.ndjson` and `DIR/truth.json`
/// (pretty JSON), creating `DIR` if needed.
pub fn write_dir(config: SimConfig, dir: &Path) -> Result<SimSummary, SimError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SimError::Io { path, source }
    };
    let mut sim = Simulator::new(config)?;
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let events_path = dir.join("events.ndjson");
    let file = File::create(&events_path).map_err(io(&events_path))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    for line in sim.by_ref() {
        out.write_all(line.as_bytes()).map_err(io(&events_path))?;
        out.write_all(b"\n").map_err(io(&events_path))?;
    }
    out.flush().map_err(io(&events_path))?;
    let truth_path = dir.join("truth.json");
    let file = File::create(&truth_path).map_err(io(&truth_path))?;
    let mut out = BufWriter::new(file);
    serde_json::to_writer_pretty(&mut out, sim.truth())?;
    out.write_all(b"\n").map_err(io(&truth_path))?;
    out.flush().map_err(io(&truth_path))?;
    Ok(sim.summary())
}
