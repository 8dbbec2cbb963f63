//! custos conversation guard: recognises a social-engineering script in
//! support chats, call transcripts, SMS and email, as it is spoken.
//!
//! - [`Guard`] scores one message: normalisation ([`normalize`]), fast
//!   multilingual rules ([`rules`]) and a hashed n-gram logistic regression
//!   ([`model`]), explained by taxonomy codes ([`taxonomy`]).
//! - [`ConversationDetector`] is the `conversation` detector of the
//!   pipeline: risk across a conversation ([`state`]), alerts, marks.
//! - [`scan_reader`] is `custos scan`; [`train_files`] is `custos train`.
//!
//! **Architecture Invariant:** no IO outside `scan_reader` (its reader and
//! writer are the caller's) and `train_files`; the detector is pure.

pub mod config;
pub mod corpus;
pub mod detector;
pub mod guard;
pub mod model;
pub mod normalize;
#[doc(hidden)]
pub mod reference;
pub mod rules;
pub mod scan;
pub mod state;
pub mod taxonomy;
pub mod train;

pub use config::{ConfigError, ConversationConfig, Verdict};
pub use detector::{ConversationDetector, DETECTOR_NAME};
pub use guard::{Guard, GuardError, MessageScore};
pub use model::{Model, ModelLoad, Speaker, TrainOptions};
pub use scan::{ScanError, ScanLine, ScanRejection, ScanSummary, Scanner, scan_reader};
pub use taxonomy::{Code, TAXONOMY_VERSION};
pub use train::{TrainError, TrainReport, train, train_files};
