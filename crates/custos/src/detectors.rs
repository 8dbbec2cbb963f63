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
use custos_risk::{ActionRisk, RiskConfig, RiskHandle};

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
    standard_sharing(settings, None)
}

/// The standard set; with `risk`, the `action_risk` detector is the engine
/// behind that handle (so `POST /v1/actions/evaluate` decides with what the
/// pipeline learned), reset to a fresh state.
pub fn standard_sharing(
    settings: &DetectorSettings,
    risk: Option<&RiskHandle>,
) -> anyhow::Result<Vec<Box<dyn Detector>>> {
    let action_risk = ActionRisk::new(settings.risk.clone()).context("`risk`")?;
    let action_risk: Box<dyn Detector> = match risk {
        Some(handle) => Box::new(handle.detector(action_risk)),
        None => Box::new(action_risk),
    };
    Ok(vec![
        Box::new(AgentBehavior::new(settings.behavior.clone())),
        Box::new(LeakAttribution::new(settings.behavior.clone())),
        Box::new(
            ConversationDetector::new(settings.conversation.clone()).context("`conversation`")?,
        ),
        action_risk,
    ])
}

pub fn pipeline(config: &PipelineConfig, detectors: &DetectorSettings) -> anyhow::Result<Pipeline> {
    Ok(Pipeline::new(config.clone(), standard(detectors)?))
}

/// [`pipeline`] with the `action_risk` engine shared through `risk`.
pub fn pipeline_sharing(
    config: &PipelineConfig,
    detectors: &DetectorSettings,
    risk: &RiskHandle,
) -> anyhow::Result<Pipeline> {
    Ok(Pipeline::new(
        config.clone(),
        standard_sharing(detectors, Some(risk))?,
    ))
}
