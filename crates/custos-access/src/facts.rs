//! What the access service needs to know from the rest of custos: the
//! caller implements [`FactsSource`] (the binary: over the event store's
//! directory and the pipeline's countermeasures). Helpers turn the store's
//! directory records into the broker's facts.

use custos_broker::{AgentFacts, TicketFacts};
use custos_core::alert::ResponseAction;
use custos_core::event::EventBody;
use custos_core::id::{AgentId, CustomerId, TicketId};
use custos_core::parse::parse_event;
use custos_core::time::EventTime;

use crate::error::FactsError;

/// The facts about an agent and a ticket the broker decides on. Every
/// method may fail; the service then denies the whole request.
pub trait FactsSource: Send + Sync {
    /// The agent's current directory record; `None` if unknown.
    fn agent(&self, agent: &AgentId) -> Result<Option<AgentFacts>, FactsError>;
    /// The ticket's current record; `None` if unknown.
    fn ticket(&self, ticket: &TicketId) -> Result<Option<TicketFacts>, FactsError>;
    /// Whether `agent` is on a live contact (call, chat) with `customer` now.
    fn live_contact(
        &self,
        agent: &AgentId,
        customer: &CustomerId,
        now: EventTime,
    ) -> Result<bool, FactsError>;
    /// Countermeasures in force on `agent` (see
    /// `custos_broker::Facts::countermeasures_on`).
    fn countermeasures(&self, agent: &AgentId) -> Result<Vec<ResponseAction>, FactsError>;
    /// The agent's direct lead (the `lead_id` extension of the agent's
    /// directory record, see [`agent_lead_from_record`]); `None` for an
    /// agent with no lead or no record. No default: a source that cannot
    /// tell would silently let a lead approve their report's reveals.
    fn lead_of(&self, agent: &AgentId) -> Result<Option<AgentId>, FactsError>;
}

/// The longest lead chain walked (lead, lead's lead, ...). A longer one is
/// a directory error: approvals are refused until it is fixed.
pub const MAX_LEAD_CHAIN: usize = 32;

/// The requester's lead chain: their lead, that lead's lead, and so on,
/// nearest first. Stops at an agent without a lead or at a cycle (a lead
/// already in the chain, or the agent themself, compared by
/// [`crate::agent_key`]); more than [`MAX_LEAD_CHAIN`] leads is
/// [`FactsError::Invalid`].
pub fn lead_chain(facts: &dyn FactsSource, agent: &AgentId) -> Result<Vec<AgentId>, FactsError> {
    let mut seen = vec![crate::ids::agent_key(agent.as_str())];
    let mut chain = Vec::new();
    let mut current = agent.clone();
    while let Some(lead) = facts.lead_of(&current)? {
        let key = crate::ids::agent_key(lead.as_str());
        if seen.contains(&key) {
            break;
        }
        if chain.len() == MAX_LEAD_CHAIN {
            return Err(FactsError::Invalid(format!(
                "the lead chain of `{agent}` is longer than {MAX_LEAD_CHAIN}"
            )));
        }
        seen.push(key);
        chain.push(lead.clone());
        current = lead;
    }
    Ok(chain)
}

/// The `lead_id` extension field of an `agent` directory record: the
/// agent's direct lead. The v1 contract has no such field; the core parser
/// keeps unknown fields in the raw text, so it is read from there. Absent
/// or `null` is `None`; anything but an agent id string is
/// [`FactsError::Invalid`] (approvals then fail closed).
pub fn agent_lead_from_record(raw: &str) -> Result<Option<AgentId>, FactsError> {
    #[derive(serde::Deserialize)]
    struct LeadField {
        #[serde(default)]
        lead_id: Option<serde_json::Value>,
    }
    let record: LeadField = serde_json::from_str(raw).map_err(|e| {
        FactsError::Invalid(format!(
            "agent record does not parse at line {} column {}",
            e.line(),
            e.column()
        ))
    })?;
    match record.lead_id {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(id)) => AgentId::parse(&id).map(Some).map_err(|_| {
            FactsError::Invalid("`lead_id` of an agent record is not an agent id".into())
        }),
        Some(_) => Err(FactsError::Invalid(
            "`lead_id` of an agent record is not a string".into(),
        )),
    }
}

/// The broker's agent facts from an `agent` directory record (the JSON of
/// `Store::directory_current(DirectoryKind::Agent, id)`).
pub fn agent_facts_from_record(raw: &str) -> Result<AgentFacts, FactsError> {
    match parse_event(raw, || "directory".to_owned()).map(|e| e.body) {
        Ok(EventBody::Agent(agent)) => Ok(AgentFacts {
            role: agent.role,
            team: agent.team,
        }),
        Ok(other) => Err(FactsError::Invalid(format!(
            "expected an `agent` record, found `{}`",
            other.type_name()
        ))),
        Err(rejection) => Err(FactsError::Invalid(format!(
            "agent record at `{}` does not parse",
            rejection.pointer
        ))),
    }
}

/// The broker's ticket facts from a `ticket` record (the JSON of
/// `Store::directory_current(DirectoryKind::Ticket, id)`). A ticket without
/// a customer is `None` (unknown to the broker, so it denies); one without
/// a category gets an empty category, which no policy knows (denied too).
pub fn ticket_facts_from_record(raw: &str) -> Result<Option<TicketFacts>, FactsError> {
    match parse_event(raw, || "directory".to_owned()).map(|e| e.body) {
        Ok(EventBody::Ticket(ticket)) => Ok(ticket.customer_id.map(|customer| TicketFacts {
            id: ticket.ticket_id,
            status: ticket.status,
            category: ticket.category.unwrap_or_default(),
            assigned_agent: ticket.agent_id,
            opened_by: ticket.opened_by,
            customer,
        })),
        Ok(other) => Err(FactsError::Invalid(format!(
            "expected a `ticket` record, found `{}`",
            other.type_name()
        ))),
        Err(rejection) => Err(FactsError::Invalid(format!(
            "ticket record at `{}` does not parse",
            rejection.pointer
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use custos_core::event::{OpenedBy, TicketStatus};

    #[test]
    fn directory_records_become_facts() {
        let agent = agent_facts_from_record(
            r#"{"type":"agent","ts":"2025-01-01T00:00:00Z","agent_id":"a-1","team":"t1","role":"support_l1"}"#,
        )
        .unwrap();
        assert_eq!(agent.role, "support_l1");
        assert_eq!(agent.team, "t1");
        let ticket = ticket_facts_from_record(
            r#"{"type":"ticket","ts":"2025-01-01T00:00:00Z","ticket_id":"t-1","customer_id":"c-1","agent_id":"a-1","status":"assigned","category":"login_issue","opened_by":"customer"}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(ticket.status, TicketStatus::Assigned);
        assert_eq!(ticket.opened_by, Some(OpenedBy::Customer));
        assert_eq!(ticket.assigned_agent.unwrap().as_str(), "a-1");
        let no_customer = ticket_facts_from_record(
            r#"{"type":"ticket","ts":"2025-01-01T00:00:00Z","ticket_id":"t-1","agent_id":null,"status":"opened"}"#,
        )
        .unwrap();
        assert!(no_customer.is_none());
        assert!(agent_facts_from_record("{").is_err());
        let lead = |raw: &str| agent_lead_from_record(raw);
        assert_eq!(
            lead(r#"{"type":"agent","agent_id":"a-1","lead_id":"l-7","team":"t","role":"r"}"#)
                .unwrap()
                .unwrap()
                .as_str(),
            "l-7"
        );
        assert_eq!(lead(r#"{"type":"agent","agent_id":"a-1"}"#).unwrap(), None);
        assert_eq!(lead(r#"{"type":"agent","lead_id":null}"#).unwrap(), None);
        assert!(lead(r#"{"type":"agent","lead_id":7}"#).is_err());
        assert!(lead(r#"{"type":"agent","lead_id":""}"#).is_err());
        assert!(lead("{").is_err());
        assert!(
            agent_facts_from_record(
                r#"{"type":"ticket","ts":"2025-01-01T00:00:00Z","ticket_id":"t-1","status":"opened"}"#
            )
            .is_err()
        );
    }
}
