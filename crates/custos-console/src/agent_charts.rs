//! The agent page's charts: the agent's features against their own baseline
//! and their peers', read from what `agent_behavior` alerts explain, drawn
//! as inline SVG on the server (no script, no chart library, presentation
//! attributes only so the CSP holds), with the same numbers in a table.
//!
//! The detector states its numbers in its reasons' `detail` text:
//! `suspicion_over_norm` — "suspicion 9.2 against a norm of 1.4 (0.6 a day:
//! own 0.5 over 20 days, peer median 0.8); excess 7.8" — and
//! `off_ticket_access` — "31 of 40 records opened today had no ticket (own
//! norm 0.2 a day, peer median 0.4)". A detail that does not parse is left
//! out of the chart (the reason is still listed on the alert's page).

use crate::MOUNT;
use crate::queries::url_encode;
use crate::views;
use maud::{Markup, html};

/// One alert's numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct FeaturePoint {
    pub alert_id: String,
    pub ts_micros: i64,
    /// The agent's decayed suspicion when the alert fired.
    pub suspicion: f64,
    /// What custos expected of this agent (own and peer norm blended).
    pub expected: f64,
    /// The agent's own daily suspicion norm.
    pub own_per_day: f64,
    /// The peer group's median daily suspicion.
    pub peer_per_day: f64,
    /// Records opened without a ticket that day, and the own and peer norms.
    pub off_ticket: Option<(f64, f64, f64)>,
}

/// The number right after `marker` in `text` (digits, `.`, `-`, `e`).
fn number_after(text: &str, marker: &str) -> Option<f64> {
    let start = text.find(marker)? + marker.len();
    let rest = text.get(start..)?.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(rest.len());
    rest.get(..end)?.trim_end_matches('.').parse().ok()
}

/// `(suspicion, expected, own per day, peer per day)` of a
/// `suspicion_over_norm` detail.
pub fn parse_suspicion(detail: &str) -> Option<(f64, f64, f64, f64)> {
    Some((
        number_after(detail, "suspicion ")?,
        number_after(detail, "against a norm of ")?,
        number_after(detail, " own ")?,
        number_after(detail, "peer median ")?,
    ))
}

/// `(off-ticket records, own norm, peer median)` of an `off_ticket_access` detail.
pub fn parse_off_ticket(detail: &str) -> Option<(f64, f64, f64)> {
    let count = detail.split_whitespace().next()?.parse().ok()?;
    Some((
        count,
        number_after(detail, "own norm ")?,
        number_after(detail, "peer median ")?,
    ))
}

/// The point of one alert, from its reasons `(code, detail)`.
pub fn point(alert_id: &str, ts_micros: i64, reasons: &[(String, String)]) -> Option<FeaturePoint> {
    let (suspicion, expected, own_per_day, peer_per_day) = reasons
        .iter()
        .find(|(code, _)| code == "suspicion_over_norm")
        .and_then(|(_, detail)| parse_suspicion(detail))?;
    let off_ticket = reasons
        .iter()
        .find(|(code, _)| code == "off_ticket_access")
        .and_then(|(_, detail)| parse_off_ticket(detail));
    Some(FeaturePoint {
        alert_id: alert_id.to_owned(),
        ts_micros,
        suspicion,
        expected,
        own_per_day,
        peer_per_day,
        off_ticket,
    })
}

const AGENT: &str = "#a61e4d";
const OWN: &str = "#1971c2";
const PEER: &str = "#8f5f00";

/// Grouped bars per alert (oldest left): the agent's value, their own norm
/// and the peer median, for suspicion and, when stated, off-ticket records.
pub fn feature_charts(points: &[FeaturePoint]) -> Markup {
    let suspicion: Vec<(String, [f64; 3])> = points
        .iter()
        .map(|p| {
            (
                views::day_label(p.ts_micros.div_euclid(crate::queries::MICROS_PER_DAY)),
                [p.suspicion, p.own_per_day, p.peer_per_day],
            )
        })
        .collect();
    let off_ticket: Vec<(String, [f64; 3])> = points
        .iter()
        .filter_map(|p| {
            p.off_ticket.map(|(n, own, peer)| {
                (
                    views::day_label(p.ts_micros.div_euclid(crate::queries::MICROS_PER_DAY)),
                    [n, own, peer],
                )
            })
        })
        .collect();
    html! {
        (grouped_bars("chart-suspicion", "Suspicion when alerted, against own and peer daily norms", &suspicion))
        @if !off_ticket.is_empty() {
            (grouped_bars("chart-off-ticket", "Records opened without a ticket that day, against own and peer daily norms", &off_ticket))
        }
        div class="table-wrap" {
            table {
                caption { "The agent against their baseline and peers, per alert" }
                thead { tr {
                    th scope="col" { "Alert" } th scope="col" { "Time" }
                    th scope="col" class="num" { "Suspicion" } th scope="col" class="num" { "Expected" }
                    th scope="col" class="num" { "Own norm a day" } th scope="col" class="num" { "Peer median a day" }
                    th scope="col" class="num" { "Off-ticket (own, peers)" }
                } }
                tbody {
                    @for p in points {
                        tr {
                            th scope="row" { a href={ (MOUNT) "/alerts/" (url_encode(&p.alert_id)) } { (p.alert_id) } }
                            td { (views::time(p.ts_micros)) }
                            td class="num" { (format!("{:.1}", p.suspicion)) }
                            td class="num" { (format!("{:.1}", p.expected)) }
                            td class="num" { (format!("{:.1}", p.own_per_day)) }
                            td class="num" { (format!("{:.1}", p.peer_per_day)) }
                            td class="num" {
                                @match p.off_ticket {
                                    Some((n, own, peer)) => { (format!("{n:.0} ({own:.1}, {peer:.1})")) },
                                    None => { "—" },
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn grouped_bars(id: &str, title: &str, groups: &[(String, [f64; 3])]) -> Markup {
    const HEIGHT: f64 = 200.0;
    const LEFT: f64 = 40.0;
    const BOTTOM: f64 = 24.0;
    const TOP: f64 = 10.0;
    const BAR: f64 = 12.0;
    let slot = 3.0 * BAR + 16.0;
    let width = (LEFT + slot * groups.len() as f64 + 10.0).max(320.0);
    let max = groups
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold(1.0_f64, f64::max);
    let plot = HEIGHT - BOTTOM - TOP;
    let summary = groups
        .iter()
        .map(|(label, [agent, own, peer])| {
            format!("{label}: agent {agent:.1}, own norm {own:.1}, peer median {peer:.1}")
        })
        .collect::<Vec<_>>()
        .join("; ");
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");
    html! {
        figure class="chart" {
            svg viewBox={ "0 0 " (format!("{width:.0}")) " " (HEIGHT) } role="img" aria-labelledby={ (title_id) " " (desc_id) } {
                title id=(title_id) { (title) }
                desc id=(desc_id) { (summary) }
                line x1=(LEFT) y1=(HEIGHT - BOTTOM) x2=(format!("{width:.0}")) y2=(HEIGHT - BOTTOM) stroke="#495057" stroke-width="1" {}
                text x="0" y=(TOP + 10.0) font-size="12" fill="#343a40" { (format!("{max:.1}")) }
                text x="0" y=(HEIGHT - BOTTOM) font-size="12" fill="#343a40" { "0" }
                @for (n, (label, values)) in groups.iter().enumerate() {
                    @let x0 = LEFT + slot * n as f64 + 8.0;
                    @for (k, (value, fill, name)) in [(values[0], AGENT, "agent"), (values[1], OWN, "own norm"), (values[2], PEER, "peer median")].into_iter().enumerate() {
                        @let h = (value / max * plot).max(1.0);
                        rect x=(format!("{:.1}", x0 + BAR * k as f64)) y=(format!("{:.1}", HEIGHT - BOTTOM - h)) width=(BAR) height=(format!("{h:.1}")) fill=(fill) {
                            title { (label) ": " (name) " " (format!("{value:.1}")) }
                        }
                    }
                    text x=(format!("{x0:.1}")) y=(HEIGHT - 8.0) font-size="10" fill="#343a40" { (label.get(5..).unwrap_or(label)) }
                }
            }
            figcaption {
                p { (title) }
                ul class="legend" {
                    li { span class="swatch sev-fill-critical" aria-hidden="true" {} "agent" }
                    li { span class="swatch sev-fill-low" aria-hidden="true" {} "own norm" }
                    li { span class="swatch sev-fill-medium" aria-hidden="true" {} "peer median" }
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn details_parse_into_numbers() {
        let check = |detail: &str, expect: Option<(f64, f64, f64, f64)>| {
            assert_eq!(parse_suspicion(detail), expect, "{detail}");
        };
        check(
            "suspicion 9.2 against a norm of 1.4 (0.6 a day: own 0.5 over 20 days, peer median 0.8); excess 7.8",
            Some((9.2, 1.4, 0.5, 0.8)),
        );
        check(
            "suspicion 12.0 against a norm of 3.1 (1.2 a day: own 1.0 over 4 days, peer median 1.5, peers 0.4 above their usual today); excess 8.9",
            Some((12.0, 3.1, 1.0, 1.5)),
        );
        check("suspicion high", None);
        check("", None);
        assert_eq!(
            parse_off_ticket(
                "31 of 40 records opened today had no ticket (own norm 0.2 a day, peer median 0.4)"
            ),
            Some((31.0, 0.2, 0.4))
        );
        assert_eq!(
            parse_off_ticket("31 of 40 records had no ticket <script>"),
            None
        );
    }

    #[test]
    fn a_point_needs_the_suspicion_reason() {
        let reasons = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(c, d)| ((*c).to_owned(), (*d).to_owned()))
                .collect()
        };
        assert_eq!(
            point(
                "al",
                0,
                &reasons(&[(
                    "off_ticket_access",
                    "3 of 4 records opened today had no ticket (own norm 0.1 a day, peer median 0.2)"
                )])
            ),
            None
        );
        let p = point(
            "al",
            7,
            &reasons(&[
                ("off_ticket_access", "3 of 4 records opened today had no ticket (own norm 0.1 a day, peer median 0.2)"),
                ("suspicion_over_norm", "suspicion 5.0 against a norm of 1.0 (0.5 a day: own 0.4 over 9 days, peer median 0.6); excess 4.0"),
            ]),
        )
        .unwrap();
        assert_eq!(
            (p.suspicion, p.expected, p.own_per_day, p.peer_per_day),
            (5.0, 1.0, 0.4, 0.6)
        );
        assert_eq!(p.off_ticket, Some((3.0, 0.1, 0.2)));
        let svg = feature_charts(&[p]).into_string();
        assert!(svg.contains("agent 5.0, own norm 0.4, peer median 0.6"));
        assert!(svg.contains("Records opened without a ticket"));
    }
}
