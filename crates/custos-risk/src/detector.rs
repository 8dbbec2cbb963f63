//! The `action_risk` detector: the engine in the pipeline. Every
//! `customer_action` is decided as the HTTP API would decide it; every
//! decision other than `allow` is an alert on the customer whose evidence
//! starts with the action's event id and whose response holds the decision
//! and the protections taken. A `scam_report` about a customer sets the
//! `scam_reported` mark for every detector.

use crate::assess::{ActionRequest, MarkFact};
use crate::config::RiskConfig;
use crate::decision::Outcome;
use crate::engine::{Engine, EngineError, Evaluation};
use custos_core::alert::{Alert, Entity, EntityKind};
use custos_core::detector::{Context, Detector, Mark, Signal};
use custos_core::event::{Event, EventBody};

/// The detector name alerts carry.
pub const ACTION_RISK: &str = "action_risk";

/// The `action_risk` detector.
#[derive(Debug)]
pub struct ActionRisk {
    engine: Engine,
    /// Protection commands in the stream that could not be applied.
    refused_commands: u64,
    /// Latest decision, for callers that want more than the alert (tests,
    /// the evaluation harness).
    last: Option<Evaluation>,
}

impl ActionRisk {
    /// Builds the engine from the config (rules file or the embedded
    /// defaults, GeoIP database if configured).
    pub fn new(config: RiskConfig) -> Result<ActionRisk, EngineError> {
        Ok(ActionRisk::with_engine(Engine::new(config)?))
    }

    pub fn with_engine(engine: Engine) -> ActionRisk {
        ActionRisk {
            engine,
            last: None,
            refused_commands: 0,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// For hot reload (`swap_rules`) and shadow mode (`set_candidate`).
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// The evaluation of the latest `customer_action` observed.
    pub fn last_evaluation(&self) -> Option<&Evaluation> {
        self.last.as_ref()
    }
}

impl Detector for ActionRisk {
    fn name(&self) -> &'static str {
        ACTION_RISK
    }

    fn observe(&mut self, event: &Event, ctx: &mut Context) -> Vec<Signal> {
        match &event.body {
            EventBody::Customer(record) => {
                self.engine.observe_customer(record);
                Vec::new()
            }
            EventBody::ScamReport(report) => {
                match self.engine.observe_scam_report(event.ts, report) {
                    Some((customer, fact, until)) => vec![Signal::Mark(Mark {
                        entity: Entity::new(EntityKind::Customer, customer.as_str()),
                        code: fact.code,
                        source: ACTION_RISK.to_owned(),
                        since: fact.since,
                        until,
                    })],
                    None => Vec::new(),
                }
            }
            EventBody::ProtectionCommand(command) => {
                // The API validated it before appending; a command that no
                // longer applies (an unfreeze of an account not frozen) is
                // logged and changes nothing.
                match crate::protection::decode_command(command) {
                    Ok((actor, cmd)) => {
                        if self
                            .engine
                            .protect(&command.customer_id, event.ts, actor, &cmd)
                            .is_err()
                        {
                            self.refused_commands += 1;
                            return Vec::new();
                        }
                        vec![protection_alert(event, command)]
                    }
                    Err(_) => {
                        self.refused_commands += 1;
                        Vec::new()
                    }
                }
            }
            EventBody::CustomerAction(action) => {
                let marks: Vec<MarkFact> = ctx
                    .marks
                    .active(EntityKind::Customer, action.customer_id.as_str(), event.ts)
                    .map(|m| MarkFact {
                        code: m.code.clone(),
                        source: m.source.clone(),
                        since: m.since,
                    })
                    .collect();
                let req = ActionRequest {
                    event_id: Some(&event.id),
                    ts: event.ts,
                    action,
                };
                let (evaluation, _records) =
                    self.engine.decide(&req, &marks, ctx.now.max(event.ts));
                let d = &evaluation.decision;
                let mut out = Vec::new();
                if d.outcome != Outcome::Allow {
                    let mut alert = Alert::new(
                        ACTION_RISK,
                        event.ts,
                        Entity::new(EntityKind::Customer, action.customer_id.as_str()),
                        d.outcome.severity(),
                        d.score,
                    )
                    .evidence(event.id.clone());
                    for reason in &d.reasons {
                        alert = alert.reason(&reason.code, reason.detail.clone());
                    }
                    for response in d.response() {
                        alert = alert.respond(response);
                    }
                    out.push(Signal::Alert(alert));
                }
                self.last = Some(evaluation);
                out
            }
            _ => Vec::new(),
        }
    }
}

/// The alert that reports a protection command custos applied (a freeze,
/// revoked keys, a settings lock...), so the exchange hears of it through
/// the same channels as decisions (webhooks, the console). Medium
/// severity, the webhooks' default floor: the exchange should hear of every
/// freeze at once, though it is a fact, not a suspicion (score 0). Names
/// the command and who asked (their
/// kind, and a support agent's id); never an allow-list address.
pub(crate) fn protection_alert(
    event: &Event,
    command: &custos_core::event::ProtectionCommand,
) -> Signal {
    let name = command.protection["command"]
        .as_str()
        .unwrap_or("unknown")
        .to_owned();
    let who = match command.actor["kind"].as_str() {
        Some("support") => match command.actor["agent_id"].as_str() {
            Some(agent) => format!("support agent {agent}"),
            None => "support".to_owned(),
        },
        Some("customer") if command.actor["factor"].is_null() => {
            "the customer (signed link)".to_owned()
        }
        Some("customer") => "the customer".to_owned(),
        Some("system") => "custos".to_owned(),
        _ => "an unknown actor".to_owned(),
    };
    Signal::Alert(
        Alert::new(
            ACTION_RISK,
            event.ts,
            Entity::new(EntityKind::Customer, command.customer_id.as_str()),
            custos_core::alert::Severity::Medium,
            0.0,
        )
        .evidence(event.id.clone())
        .reason(
            &format!("v1.protection.{name}"),
            format!("protection `{name}` applied, asked by {who}"),
        ),
    )
}
