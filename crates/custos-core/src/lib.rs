//! custos core: the event contract as typed Rust, event time, the detector
//! interface and the pure pipeline that joins them.
//!
//! **Architecture Invariant:** nothing here does IO, reads the wall clock or
//! depends on an async runtime, a database or HTTP. Sources and sinks live in
//! the crates at the edge; this crate decides.

pub mod alert;
pub mod detector;
pub mod directory;
pub mod event;
pub mod id;
pub mod parse;
pub mod pipeline;
pub mod reorder;
pub mod responder;
pub mod time;

pub use alert::{Alert, Entity, EntityKind, ResponseAction, Severity};
pub use detector::{Context, Detector, Mark, Signal};
pub use event::{Event, EventBody};
pub use pipeline::{Output, Pipeline, PipelineConfig, PipelineStats};
pub use time::{EventTime, Span};
