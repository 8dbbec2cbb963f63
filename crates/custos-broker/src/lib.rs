//! The custos access broker: decides, field by field, what a support agent
//! sees of a customer — hidden, masked or revealed — from Cedar policies over
//! the agent, the ticket they work and the facts the caller looked up.
//!
//! Pure and synchronous: `Broker::decide(&request, &facts) -> Decision`
//! does no IO, reads no clock and never fails; evaluation problems are
//! reasons in the decision, and the broker fails closed on them.

// Tests may unwrap: a panic there is a failing test, not a failing request.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod broker;
mod cases;
mod error;
mod index;
mod policy;
pub mod render;
mod types;
pub mod watermark;

pub use crate::broker::{Broker, BrokerConfig, STEP_UP_MAX_AGE};
pub use crate::cases::CaseFailure;
pub use crate::error::BrokerError;
pub use crate::policy::{
    CATEGORIES_FILE, DEFAULT_CATEGORIES, DEFAULT_POLICY_FILES, DEFAULT_SCHEMA,
    LIVE_CONTACT_CATEGORY, SCHEMA_FILE,
};
pub use crate::types::{
    AccessRequest, AgentFacts, Decision, Facts, FieldDecision, Grant, GrantStatus, Obligation,
    Outcome, Reason, TicketFacts,
};
pub use crate::watermark::{WatermarkKey, watermark_token};
