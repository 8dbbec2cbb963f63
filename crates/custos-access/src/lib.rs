//! custos access: the edge of the least-privilege access broker. Turns an
//! agent's access request into a served, recorded decision: the broker's
//! per-field outcome applied to vault values, reveal grants approved by a
//! second person, TOTP step-up, and for every decision an `agent_access`
//! event and an audit record.
//!
//! Synchronous: every call blocks (the HTTP crate calls it from a blocking
//! task). Grants and step-up state live in their own store, SQLite
//! (`access.db`) or PostgreSQL (schema `custos_access`).
//!
//! **Architecture Invariant:** nothing here reveals on an error path, and no
//! error, reason, event, audit record or `Debug` output carries a field
//! value, a TOTP secret or a code.

// Tests may unwrap: a panic there is a failing test, not a failing request.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod audit;
mod error;
mod facts;
mod grants;
mod ids;
mod live;
mod pg;
mod reload;
mod seal;
mod service;
mod sqlite;
mod stepup;
mod store;
pub mod totp;

pub use crate::audit::AuditRecord;
pub use crate::error::{
    AccessError, AccessStoreError, FactsError, GrantError, ReloadError, StepUpError,
};
pub use crate::facts::{
    FactsSource, MAX_LEAD_CHAIN, agent_facts_from_record, agent_lead_from_record, lead_chain,
    ticket_facts_from_record,
};
pub use crate::grants::{
    Approvals, ApproverCandidate, BARRING_COUNTERMEASURES, EligibleApprover, GrantChange,
    GrantPolicy, MAX_PURPOSE_CHARS, RevealRequest,
};
pub use crate::ids::{GrantId, agent_key};
pub use crate::live::{
    LIVE_CONTACT_CAPACITY, LIVE_CONTACT_SKEW, LIVE_CONTACT_WINDOW, LiveContacts,
};
pub use crate::pg::{DEFAULT_SCHEMA, PostgresAccessStore};
pub use crate::reload::BrokerHandle;
pub use crate::seal::{SEALING_KEY_LEN, SealingKey};
pub use crate::service::{AccessOutcome, AccessService, FieldValue, Origin, ShownValue};
pub use crate::sqlite::{ACCESS_FILE_NAME, SqliteAccessStore};
pub use crate::stepup::{Enrolment, StepUpFactor, StepUpPolicy, StepUps, Verified};
pub use crate::store::{
    FailureCount, GrantRecord, GrantStore, StepUpState, StepUpStore, Transition,
};
