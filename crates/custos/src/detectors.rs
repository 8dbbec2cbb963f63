//! The detectors a pipeline runs, in order. Each detector crate plugs in
//! here; `replay`, `serve` and `demo` all build their pipeline from this one
//! function, so the modes cannot drift apart.

use custos_behavior::{AgentBehavior, BehaviorConfig, LeakAttribution};
use custos_core::{Detector, Pipeline, PipelineConfig};

/// What the detectors are configured with (resolved from the configuration).
#[derive(Clone, Debug, Default)]
pub struct DetectorSettings {
    pub behavior: BehaviorConfig,
}

/// The standard detector set.
pub fn standard(settings: &DetectorSettings) -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(AgentBehavior::new(settings.behavior.clone())),
        Box::new(LeakAttribution::new(settings.behavior.clone())),
    ]
}

pub fn pipeline(config: &PipelineConfig, detectors: &DetectorSettings) -> Pipeline {
    Pipeline::new(config.clone(), standard(detectors))
}
