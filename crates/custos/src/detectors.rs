//! The detectors a pipeline runs, in order. Each detector crate plugs in
//! here; `replay`, `serve` and `demo` all build their pipeline from this one
//! function, so the modes cannot drift apart.

use custos_core::{Detector, Pipeline, PipelineConfig};

/// The standard detector set. Empty until the detector issues land: the
/// pipeline, its ordering and its outputs are exercised without them.
pub fn standard(_config: &PipelineConfig) -> Vec<Box<dyn Detector>> {
    Vec::new()
}

pub fn pipeline(config: &PipelineConfig) -> Pipeline {
    Pipeline::new(config.clone(), standard(config))
}
