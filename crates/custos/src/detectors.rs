//! The detectors a pipeline runs, in order. Each detector crate plugs in
//! here; `replay`, `serve`, `demo` and `eval` all build their pipeline from
//! this one function, so the modes cannot drift apart.
//!
//! Order matters only through marks, and every mark is read at the next
//! event or minute, so the order below is the order alerts of one event
//! appear in: the agent detectors, then the customer side.

use anyhow::Context as _;
use custos_behavior::{AgentBehavior, BehaviorConfig, LeakAttribution};
use custos_conversation::{ConversationConfig, ConversationDetector};
use custos_core::{Detector, Pipeline, PipelineConfig};
use custos_risk::{ActionRisk, RiskConfig};

/// What the detectors are configured with (resolved from the configuration).
#[derive(Clone, Debug, Default)]
pub struct DetectorSettings {
    pub behavior: BehaviorConfig,
    pub risk: RiskConfig,
    pub conversation: ConversationConfig,
}

/// The standard detector set. Fails only when a file the configuration
/// names (risk rules, GeoIP database) cannot be read.
pub fn standard(settings: &DetectorSettings) -> anyhow::Result<Vec<Box<dyn Detector>>> {
    Ok(vec![
        Box::new(AgentBehavior::new(settings.behavior.clone())),
        Box::new(LeakAttribution::new(settings.behavior.clone())),
        Box::new(
            ConversationDetector::new(settings.conversation.clone()).context("`conversation`")?,
        ),
        Box::new(ActionRisk::new(settings.risk.clone()).context("`risk`")?),
    ])
}

pub fn pipeline(config: &PipelineConfig, detectors: &DetectorSettings) -> anyhow::Result<Pipeline> {
    Ok(Pipeline::new(config.clone(), standard(detectors)?))
}
