//! Customer action risk: decide `allow | step_up | hold | deny` for a
//! customer's action (login, withdrawal, new address, API key, security
//! change) before the money moves, and protect the account.
//!
//! - [`evaluate`] is the pure core: `(request, &facts, &rules, &config) ->
//!   (Assessment, Decision)`, no IO, no clock.
//! - [`Engine`] keeps the state beside it (per-customer [`Profile`]s,
//!   directory facts, marks, [`ProtectionBook`]) and the live and
//!   candidate [`RuleSet`]s (hot swap, shadow mode); [`backtest`] replays
//!   stored events with point-in-time features.
//! - [`ActionRisk`] is the `action_risk` [`custos_core::Detector`].
//!
//! **Architecture Invariant:** no network, no async, no wall clock. The
//! only IO is reading the rules file and the GeoIP database when an engine
//! is built; hot reload hands a parsed [`RuleSet`] to
//! [`Engine::swap_rules`].

pub mod assess;
pub mod config;
pub mod decision;
pub mod detector;
pub mod engine;
pub mod geo;
pub mod profile;
pub mod protection;
pub mod rules;
pub mod shared;
pub mod signal;

pub use assess::{ActionRequest, Assessment, Facts, MarkFact};
pub use config::{FailAction, FailPolicy, RiskConfig, RiskConfigError};
pub use decision::{Decision, Factor, Outcome, Protect, Reason};
pub use detector::{ACTION_RISK, ActionRisk};
pub use engine::{
    Backtest, BacktestRow, Engine, EngineError, Evaluation, SHADOW_RECENT, ShadowDiff,
    ShadowReport, backtest, evaluate,
};
pub use geo::{GeoIp, GeoIpError, GeoResolution, Location};
pub use profile::{ApiKeyDiff, Permissions, Profile, Profiles};
pub use protection::{
    AccountProtection, Actor, AllowListStatus, Command, ProtectionBook, ProtectionConfig,
    ProtectionError, ProtectionRecord,
};
pub use rules::{DEFAULT_RULES, RuleError, RuleSet, SequenceMatch};
pub use shared::{CustomerMarks, RiskHandle, SharedActionRisk};
pub use signal::{Fired, SignalClass, SignalKind, SignalSet};
