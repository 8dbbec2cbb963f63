//! The `conversation` detector: pure, synchronous, event time only.
//!
//! On a scam verdict it raises one alert per conversation (again only if it
//! escalates: the customer complied), entity the conversation, evidence the
//! flagged messages (most telling first), response `intercept`, and marks
//! the customer `scam_conversation` for `mark_hours`. An official agent
//! asking a customer for a credential raises an alert on the agent (the
//! agent assigned to the customer's latest open ticket, since a v1
//! `message` names no agent), response `intercept` and `notify_security`,
//! and marks the agent `insider_credential_request`.

use crate::config::{ConversationConfig, Verdict};
use crate::guard::{Guard, GuardError};
use crate::state::{Assessment, Incoming, Sender, Tracker};
use crate::taxonomy::Code;
use custos_core::detector::codes;
use custos_core::event::{Direction, Message, SenderRole, TicketStatus};
use custos_core::id::{AgentId, CustomerId, EventId};
use custos_core::time::Span;
use custos_core::{
    Alert, Context, Detector, Entity, EntityKind, Event, EventBody, EventTime, Mark,
    ResponseAction, Severity, Signal,
};
use std::collections::HashMap;

pub const DETECTOR_NAME: &str = "conversation";

/// The conversation guard as a pipeline detector.
pub struct ConversationDetector {
    guard: Guard,
    config: ConversationConfig,
    tracker: Tracker,
    /// The agent on each customer's latest open ticket, and when.
    agent_of_customer: HashMap<CustomerId, (AgentId, EventTime)>,
}

impl ConversationDetector {
    /// With the shipped model.
    pub fn new(config: ConversationConfig) -> Result<ConversationDetector, GuardError> {
        Ok(ConversationDetector::with_guard(Guard::new()?, config))
    }

    pub fn with_guard(guard: Guard, config: ConversationConfig) -> ConversationDetector {
        ConversationDetector {
            tracker: Tracker::new(&config),
            guard,
            config,
            agent_of_customer: HashMap::new(),
        }
    }

    /// Conversations in memory.
    pub fn conversations(&self) -> usize {
        self.tracker.len()
    }

    fn on_message(&mut self, event: &Event, message: &Message) -> Vec<Signal> {
        let sender = match message.sender_role {
            Some(SenderRole::Agent) => Sender::Agent,
            Some(SenderRole::Customer) => Sender::Customer,
            Some(SenderRole::Unknown) | None => Sender::Unknown,
        };
        let outbound = message.direction == Some(Direction::Outbound);
        let incoming = Incoming {
            conversation: message.conversation_id.as_str(),
            event: &event.id,
            ts: event.ts,
            sender,
            outbound,
            text: &message.text,
        };
        let assessment = self.tracker.observe(&self.guard, &self.config, &incoming);
        let mut signals = Vec::new();
        if assessment.insider_request && self.config.insider_alerts {
            self.insider_alert(event, message, &assessment, &mut signals);
        }
        if assessment.verdict == Verdict::Scam {
            self.scam_alert(event, message, &assessment, &mut signals);
        }
        signals
    }

    fn insider_alert(
        &mut self,
        event: &Event,
        message: &Message,
        assessment: &Assessment,
        signals: &mut Vec<Signal>,
    ) {
        let conversation = message.conversation_id.as_str();
        let Some(state) = self.tracker.get_mut(conversation) else {
            return;
        };
        if state.insider_alerted {
            return;
        }
        state.insider_alerted = true;
        let agent = message
            .customer_id
            .as_ref()
            .and_then(|c| self.agent_of_customer.get(c))
            .map(|(a, _)| a.clone());
        let entity = match &agent {
            Some(agent) => Entity::new(EntityKind::Agent, agent.as_str()),
            None => Entity::new(EntityKind::Conversation, conversation),
        };
        let mut alert = Alert::new(
            DETECTOR_NAME,
            event.ts,
            entity.clone(),
            Severity::Critical,
            assessment.message.score as f64,
        );
        for hit in assessment
            .message
            .hits
            .iter()
            .filter(|h| !h.negated && h.code.is_credential_request())
        {
            let terms: Vec<String> = hit
                .terms
                .iter()
                .map(|t| format!("\"{}\"", crate::normalize::mask_digit_runs(t)))
                .collect();
            alert = alert.reason(
                codes::INSIDER_CREDENTIAL_REQUEST,
                format!(
                    "official agent {} in conversation {conversation}: {} ({}); staff never need a customer's credentials",
                    agent.as_ref().map_or("(unknown: no open ticket)", |a| a.as_str()),
                    hit.code.description(),
                    terms.join(", ")
                ),
            );
        }
        alert = alert
            .evidence(event.id.clone())
            .respond(ResponseAction::Intercept)
            .respond(ResponseAction::NotifySecurity);
        signals.push(Signal::Alert(alert));
        if agent.is_some() {
            signals.push(Signal::Mark(Mark {
                entity,
                code: codes::INSIDER_CREDENTIAL_REQUEST.to_owned(),
                source: DETECTOR_NAME.to_owned(),
                since: event.ts,
                until: event.ts.saturating_add(self.mark_span()),
            }));
        }
    }

    fn mark_span(&self) -> Span {
        Span::from_hours(i64::from(self.config.mark_hours))
    }

    fn scam_alert(
        &mut self,
        event: &Event,
        message: &Message,
        assessment: &Assessment,
        signals: &mut Vec<Signal>,
    ) {
        let conversation = message.conversation_id.as_str();
        let mark_span = self.mark_span();
        let Some(state) = self.tracker.get_mut(conversation) else {
            return;
        };
        let level = if state.compliance.is_some() { 2 } else { 1 };
        if state.alerted_level >= level {
            return;
        }
        state.alerted_level = level;
        let severity = if level == 2 {
            Severity::Critical
        } else {
            Severity::High
        };
        let mut alert = Alert::new(
            DETECTOR_NAME,
            event.ts,
            Entity::new(EntityKind::Conversation, conversation),
            severity,
            assessment.risk as f64,
        );
        let mut evidence = state.evidence.clone();
        evidence.sort_by(|a, b| {
            (a.code.is_context(), -a.strength)
                .partial_cmp(&(b.code.is_context(), -b.strength))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        for e in &evidence {
            let terms: Vec<String> = e
                .terms
                .iter()
                .map(|t| format!("\"{}\"", crate::normalize::mask_digit_runs(t)))
                .collect();
            alert = alert.reason(
                e.code.as_str(),
                format!(
                    "{} ({}) in message {}, score {:.2}",
                    e.code.description(),
                    terms.join(", "),
                    e.event,
                    e.strength
                ),
            );
        }
        if let Some(compliance) = &state.compliance {
            alert = alert.reason(
                Code::Compliance.as_str(),
                format!("the customer complied in message {compliance} (read out a code or did what was asked)"),
            );
        }
        if evidence.is_empty() {
            let words = assessment.message.top_words.join("\", \"");
            alert = alert.reason(
                "classifier",
                format!("scam script recognised by the classifier (\"{words}\"), no single rule"),
            );
        }
        let mut ids: Vec<EventId> = Vec::new();
        if let Some(c) = &state.compliance {
            ids.push(c.clone());
        }
        for e in evidence.iter().filter(|e| !e.code.is_context()) {
            if !ids.contains(&e.event) {
                ids.push(e.event.clone());
            }
        }
        for (_, id) in &state.flagged {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        if ids.is_empty() {
            ids.push(event.id.clone());
        }
        for id in ids {
            alert = alert.evidence(id);
        }
        alert = alert.respond(ResponseAction::Intercept);
        signals.push(Signal::Alert(alert));
        if let Some(customer) = &message.customer_id {
            signals.push(Signal::Mark(Mark {
                entity: Entity::new(EntityKind::Customer, customer.as_str()),
                code: codes::SCAM_CONVERSATION.to_owned(),
                source: DETECTOR_NAME.to_owned(),
                since: event.ts,
                until: event.ts.saturating_add(mark_span),
            }));
        }
    }
}

impl Detector for ConversationDetector {
    fn name(&self) -> &'static str {
        DETECTOR_NAME
    }

    fn observe(&mut self, event: &Event, _ctx: &mut Context) -> Vec<Signal> {
        match &event.body {
            EventBody::Message(message) => self.on_message(event, message),
            EventBody::Ticket(ticket) => {
                if let (Some(customer), Some(agent)) = (&ticket.customer_id, &ticket.agent_id) {
                    if ticket.status == TicketStatus::Closed {
                        if self
                            .agent_of_customer
                            .get(customer)
                            .is_some_and(|(a, _)| a == agent)
                        {
                            self.agent_of_customer.remove(customer);
                        }
                    } else {
                        self.agent_of_customer
                            .insert(customer.clone(), (agent.clone(), event.ts));
                    }
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn on_time(&mut self, now: EventTime, _ctx: &mut Context) -> Vec<Signal> {
        self.tracker.expire(now);
        // Tickets untouched for a week no longer tell who is on the case.
        let cutoff = now.saturating_sub(Span::from_days(7));
        self.agent_of_customer.retain(|_, (_, ts)| *ts >= cutoff);
        Vec::new()
    }
}
