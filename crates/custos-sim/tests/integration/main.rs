//! Integration tests of custos-sim, in one test binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod determinism;
mod format;
mod properties;
mod streaming;
mod truth;
mod write;
