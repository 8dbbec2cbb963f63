//! The leak attribution view: the runs of the `leak_attribution` detector,
//! and for one run the ranked agents with observed against expected shared
//! victims (an inline SVG drawn here, the same numbers in a table) and the
//! overlap drilled down from the alert's evidence: which reporting victim
//! each agent looked up, and when.
//!
//! The evidence of a run is the first lookup of each reporting victim by
//! the agents it names (the top agent of a statistical run; every reader of
//! a decoy customer in a canary run), so the drill-down covers those agents.

use crate::pages::{PageError, PageResult, event_at, page, require_cases, session};
use crate::queries::{self, AlertFilter, StatusFilter, url_encode};
use crate::views::{self, Nav, layout};
use crate::{ConsoleState, MOUNT};
use axum::http::HeaderMap;
use custos_store::AlertQuery;
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeMap;

type Fields = BTreeMap<String, String>;

/// Evidence events a run's drill-down reads at most.
const MAX_LOOKUPS: usize = 100;
/// Ranked agents the chart and table show at most.
const MAX_RANKED: usize = 10;

#[derive(Deserialize)]
struct RunBody {
    #[serde(default)]
    reasons: Vec<Reason>,
    #[serde(default)]
    evidence: Vec<String>,
    #[serde(default)]
    response: Vec<String>,
    #[serde(default)]
    ranking: Option<Vec<Ranked>>,
}

#[derive(Deserialize)]
struct Reason {
    code: String,
    #[serde(default)]
    detail: String,
}

#[derive(Deserialize)]
struct Ranked {
    agent_id: String,
    #[serde(default)]
    observed: f64,
    #[serde(default)]
    expected: f64,
    #[serde(default)]
    p_value: f64,
}

/// One lookup of a reporting victim by an agent.
struct Lookup {
    ts_micros: i64,
    event_id: String,
    customer_id: String,
}

#[derive(Deserialize)]
struct AccessProbe {
    #[serde(default)]
    agent_id: Option<String>,
    #[serde(default)]
    customer_id: Option<String>,
}

pub fn attribution(state: &ConsoleState, headers: &HeaderMap, query: &Fields) -> PageResult {
    let session = session(state, headers)?;
    require_cases(&session)?;
    let filter = AlertFilter {
        detector: Some("leak_attribution".to_owned()),
        status: StatusFilter::All,
        ..AlertFilter::default()
    };
    let (runs, total) = {
        let conn = state.db();
        queries::list_alerts(&conn, &filter, &session.user_name)?
    };
    let chosen = match query.get("alert") {
        Some(id) => Some(
            runs.iter()
                .find(|r| &r.alert_id == id)
                .cloned()
                .or_else(|| {
                    let conn = state.db();
                    queries::alert(&conn, id)
                        .ok()
                        .flatten()
                        .filter(|r| r.detector == "leak_attribution")
                })
                .ok_or_else(|| PageError::NotFound(format!("no leak attribution run `{id}`")))?,
        ),
        None => runs.first().cloned(),
    };
    let detail = match &chosen {
        Some(row) => Some(run_detail(state, row)?),
        None => None,
    };
    let body = html! {
        h1 { "Leak attribution" }
        p { "Each run starts from customers who reported a scam and ranks agents by how many of those victims they had looked up, against what their access volume would predict." }
        @if runs.is_empty() {
            p { "No leak attribution run has raised an alert." }
        } @else {
            nav aria-label="Attribution runs" {
                h2 { "Runs" }
                p { (total) " runs, newest first" @if total > runs.len() { " (the newest " (runs.len()) " listed)" } "." }
                div class="table-wrap" {
                    table class="runs" {
                        caption class="visually-hidden" { "Leak attribution runs" }
                        thead { tr {
                            th scope="col" { "Run" } th scope="col" { "Time" } th scope="col" { "Severity" } th scope="col" { "Top agent" }
                        } }
                        tbody {
                            @for run in &runs {
                                tr {
                                    th scope="row" {
                                        a href={ (MOUNT) "/attribution?alert=" (url_encode(&run.alert_id)) }
                                          aria-current=[chosen.as_ref().filter(|c| c.alert_id == run.alert_id).map(|_| "true")] { (run.alert_id) }
                                    }
                                    td { (views::time(run.ts_micros)) }
                                    td { (views::severity(run.severity)) }
                                    td { (views::entity(&run.entity_kind, &run.entity_id)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(detail) = detail { (detail) }
    };
    Ok(page(layout(
        "Leak attribution",
        Some(&session),
        Nav::Attribution,
        body,
    )))
}

fn run_detail(state: &ConsoleState, row: &queries::AlertRow) -> Result<Markup, PageError> {
    let page = state.store().query_alerts(&AlertQuery {
        after_seq: Some(row.seq.saturating_sub(1)),
        limit: 1,
        ..AlertQuery::default()
    })?;
    let body: RunBody = page
        .alerts
        .first()
        .filter(|a| a.alert_id == row.alert_id)
        .and_then(|a| serde_json::from_str(&a.json).ok())
        .ok_or_else(|| {
            PageError::NotFound(format!("alert `{}` is not in the store", row.alert_id))
        })?;
    // The overlap: each evidence lookup, by agent.
    let mut by_agent: BTreeMap<String, Vec<Lookup>> = BTreeMap::new();
    let seqs: Vec<u64> = {
        let conn = state.db();
        let mut seqs = Vec::new();
        for id in body.evidence.iter().take(MAX_LOOKUPS) {
            seqs.extend(queries::event_seqs(&conn, id, 1)?);
        }
        seqs
    };
    for seq in seqs {
        let Some(event) = event_at(state, seq)? else {
            continue;
        };
        let Ok(probe) = serde_json::from_str::<AccessProbe>(&event.raw) else {
            continue;
        };
        if let (Some(agent), Some(customer)) = (probe.agent_id, probe.customer_id) {
            by_agent.entry(agent).or_default().push(Lookup {
                ts_micros: event.ts_micros,
                event_id: event.event_id,
                customer_id: customer,
            });
        }
    }
    let mut victims: Vec<&str> = by_agent
        .values()
        .flatten()
        .map(|l| l.customer_id.as_str())
        .collect();
    victims.sort_unstable();
    victims.dedup();
    let ranking: Vec<&Ranked> = body
        .ranking
        .as_deref()
        .unwrap_or_default()
        .iter()
        .take(MAX_RANKED)
        .collect();
    Ok(html! {
        section aria-labelledby="run-heading" {
            h2 id="run-heading" { "Run " (row.alert_id) }
            dl class="facts" {
                dt { "Time" } dd { (views::time(row.ts_micros)) }
                dt { "Severity" } dd { (views::severity(row.severity)) }
                dt { "Top agent" } dd { (views::entity(&row.entity_kind, &row.entity_id)) }
                dt { "Response" } dd {
                    @if body.response.is_empty() { "none (a lead, not a verdict)" }
                    @for action in &body.response { span class="badge cm" { (action) } " " }
                }
                dt { "Alert" } dd { a href={ (MOUNT) "/alerts/" (url_encode(&row.alert_id)) } { "triage this run" } }
            }
            ul class="reasons" {
                @for reason in &body.reasons { li { code { (reason.code) } " — " (reason.detail) } }
            }
        }
        @if !ranking.is_empty() {
            section aria-labelledby="ranking-heading" {
                h2 id="ranking-heading" { "Ranked agents: observed against expected" }
                (ranking_chart(&ranking))
                div class="table-wrap" {
                    table {
                        caption { "Reporting victims each agent had looked up, against the number expected from their access volume" }
                        thead { tr {
                            th scope="col" { "Agent" } th scope="col" class="num" { "Observed" }
                            th scope="col" class="num" { "Expected" } th scope="col" class="num" { "p-value" }
                        } }
                        tbody {
                            @for entry in &ranking {
                                tr {
                                    th scope="row" { (views::entity("agent", &entry.agent_id)) }
                                    td class="num" { (format!("{:.0}", entry.observed)) }
                                    td class="num" { (format!("{:.2}", entry.expected)) }
                                    td class="num" { (format!("{:.1e}", entry.p_value)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="overlap-heading" {
            h2 id="overlap-heading" { "The overlap" }
            p {
                (victims.len()) " reporting victims in this run's evidence"
                @if body.evidence.len() > MAX_LOOKUPS { " (the first " (MAX_LOOKUPS) " lookups read)" }
                ". Customers appear by id, as in alerts; their data stays behind the access broker."
            }
            @for (agent, lookups) in &by_agent {
                h3 { (views::entity("agent", agent)) ": " (lookups.len()) " victims looked up" }
                div class="table-wrap" {
                    table class="overlap" {
                        caption class="visually-hidden" { "Victims agent " (agent) " looked up" }
                        thead { tr { th scope="col" { "Victim" } th scope="col" { "First looked up" } th scope="col" { "Event" } } }
                        tbody {
                            @for lookup in lookups {
                                tr {
                                    th scope="row" { (views::entity("customer", &lookup.customer_id)) }
                                    td { (views::time(lookup.ts_micros)) }
                                    td { code { (lookup.event_id) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// Paired horizontal bars per agent: observed (solid) and expected (light),
/// on one scale. Drawn here as SVG presentation attributes (no script, no
/// inline style, so the CSP holds).
fn ranking_chart(ranking: &[&Ranked]) -> Markup {
    const WIDTH: f64 = 640.0;
    const LEFT: f64 = 90.0;
    const ROW: f64 = 30.0;
    const TOP: f64 = 8.0;
    let max = ranking
        .iter()
        .map(|r| r.observed.max(r.expected))
        .fold(1.0_f64, f64::max);
    let scale = (WIDTH - LEFT - 50.0) / max;
    let height = TOP * 2.0 + ROW * ranking.len() as f64;
    let summary = ranking
        .iter()
        .map(|r| {
            format!(
                "{}: {:.0} observed, {:.1} expected",
                r.agent_id, r.observed, r.expected
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    html! {
        figure class="chart" {
            svg viewBox={ "0 0 " (WIDTH) " " (height) } role="img" aria-labelledby="rank-title rank-desc" {
                title id="rank-title" { "Observed against expected shared victims per ranked agent" }
                desc id="rank-desc" { (summary) }
                @for (n, entry) in ranking.iter().enumerate() {
                    @let y = TOP + ROW * n as f64;
                    text x="0" y=(format!("{:.1}", y + 15.0)) font-size="12" fill="#343a40" { (entry.agent_id) }
                    rect x=(LEFT) y=(format!("{:.1}", y + 2.0)) width=(format!("{:.1}", (entry.observed * scale).max(1.0))) height="11" fill="#a61e4d" {
                        title { (entry.agent_id) ": " (format!("{:.0}", entry.observed)) " observed" }
                    }
                    rect x=(LEFT) y=(format!("{:.1}", y + 14.0)) width=(format!("{:.1}", (entry.expected * scale).max(1.0))) height="11" fill="#1971c2" {
                        title { (entry.agent_id) ": " (format!("{:.1}", entry.expected)) " expected" }
                    }
                    text x=(format!("{:.1}", LEFT + (entry.observed * scale).max(1.0) + 4.0)) y=(format!("{:.1}", y + 12.0)) font-size="11" fill="#343a40" { (format!("{:.0}", entry.observed)) }
                }
            }
            figcaption {
                ul class="legend" {
                    li { span class="swatch sev-fill-critical" aria-hidden="true" {} "observed" }
                    li { span class="swatch sev-fill-low" aria-hidden="true" {} "expected" }
                }
            }
        }
    }
}
