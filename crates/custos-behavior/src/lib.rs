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
mod fields;
mod stats;

pub use attribution::LeakAttribution;
pub use behavior::{ATTRIBUTED_LEAK, AgentBehavior, READ_BY_SUSPECT_AGENT};
pub use config::{BehaviorConfig, BehaviorConfigError, MAX_ATTRIBUTION_WINDOW_DAYS};
pub use fields::{FieldMask, needed_fields};
pub use stats::{benjamini_hochberg, poisson_upper_tail};
