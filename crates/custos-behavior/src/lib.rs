//! Agent behavior analytics: the `agent_behavior` detector (a bribed support
//! agent reading customer records) and the `leak_attribution` detector (whose
//! lookups the scam victims have in common).
//!
//! Both are pure, synchronous [`custos_core::Detector`]s: no IO, no clock,
//! deterministic. Their thresholds live in [`BehaviorConfig`], which the
//! binary embeds in its configuration file.

mod attribution;
mod behavior;
mod config;
pub mod eval;
mod fields;
mod stats;

pub use attribution::LeakAttribution;
pub use behavior::{AgentBehavior, READ_BY_SUSPECT_AGENT};
pub use config::{AttributionConfig, BehaviorConfig};
pub use fields::needed_fields;
pub use stats::{benjamini_hochberg, poisson_upper_tail};
