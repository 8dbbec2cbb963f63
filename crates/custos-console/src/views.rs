//! Shared HTML: the page layout (landmarks, navigation, sign-out form),
//! badges, times, pagination and the inline SVG chart. Built with `maud`,
//! which escapes every interpolated value: event fields, alert reasons and
//! ids are attacker-influenced text, and `PreEscaped` appears nowhere in
//! this crate except for the fixed doctype.

use crate::MOUNT;
use crate::queries::MICROS_PER_DAY;
use crate::session::Session;
use custos_core::EventTime;
use custos_store::Severity;
use maud::{DOCTYPE, Markup, html};
use std::collections::BTreeMap;

/// Which navigation entry is current.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Alerts,
    Agents,
    Attribution,
    Approvals,
    Audit,
    Account,
    None,
}

/// A whole page: skip link, banner with navigation, main, footer.
pub fn layout(title: &str, session: Option<&Session>, nav: Nav, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · custos console" }
                link rel="icon" type="image/svg+xml" href={ (MOUNT) "/assets/favicon.svg" };
                link rel="stylesheet" href={ (MOUNT) "/assets/console.css" };
                script src={ (MOUNT) "/assets/console.js" } defer {}
            }
            body {
                a class="skip" href="#main" { "Skip to main content" }
                header class="banner" {
                    a class="brand" href={ (MOUNT) "/" } { "custos" span { " console" } }
                    @if let Some(session) = session {
                        nav aria-label="Main" {
                            ul {
                                li { a href={ (MOUNT) "/" } aria-current=[current(nav, Nav::Overview)] { "Overview" } }
                                @if session.role.can_read_cases() {
                                    li { a href={ (MOUNT) "/alerts" } aria-current=[current(nav, Nav::Alerts)] { "Alerts" } }
                                    li { a href={ (MOUNT) "/attribution" } aria-current=[current(nav, Nav::Attribution)] { "Attribution" } }
                                }
                                @if session.role.can_approve() {
                                    li { a href={ (MOUNT) "/approvals" } aria-current=[current(nav, Nav::Approvals)] { "Approvals" } }
                                }
                                @if session.role.can_read_audit() {
                                    li { a href={ (MOUNT) "/audit" } aria-current=[current(nav, Nav::Audit)] { "Audit" } }
                                }
                            }
                        }
                        @if session.role.can_read_cases() {
                            form class="agent-search" method="get" action={ (MOUNT) "/agents" } role="search" {
                                label for="agent-search" { "Agent id" }
                                input id="agent-search" name="id" type="search" required maxlength="128" autocomplete="off";
                                button type="submit" { "Open" }
                            }
                        }
                        div class="who" {
                            a href={ (MOUNT) "/account" } aria-current=[current(nav, Nav::Account)] title="Account and passkeys" { (session.user_name) " · " (session.role.as_str()) }
                            form method="post" action={ (MOUNT) "/signout" } {
                                input type="hidden" name="csrf" value=(session.csrf);
                                button type="submit" class="link" { "Sign out" }
                            }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    (body)
                }
                footer class="footer" {
                    p { "custos analyst console · times are event times in UTC · personal data is masked" }
                }
            }
        }
    }
}

fn current(nav: Nav, this: Nav) -> Option<&'static str> {
    (nav == this).then_some("page")
}

/// A full error page.
pub fn error_page(
    title: &str,
    message: &str,
    session: Option<&Session>,
    back: Option<&str>,
) -> Markup {
    layout(
        title,
        session,
        Nav::None,
        html! {
            h1 { (title) }
            p class="notice error" role="alert" { (message) }
            @if let Some(back) = back {
                p { a href=(back) { "Go back" } }
            }
        },
    )
}

/// An event time as `<time>`, e.g. `2025-03-05 10:04:00 UTC`.
pub fn time(micros: i64) -> Markup {
    let iso = EventTime::from_micros(micros).to_string();
    let shown = iso.replacen('T', " ", 1).trim_end_matches('Z').to_owned() + " UTC";
    html! { time datetime=(iso) { (shown) } }
}

/// A wall-clock time in Unix seconds as `<time>`.
pub fn time_secs(secs: i64) -> Markup {
    time(secs.saturating_mul(1_000_000))
}

/// A severity badge (the word is always there: colour is never the only cue).
pub fn severity(severity: Severity) -> Markup {
    html! { span class={ "badge sev-" (severity.as_str()) } { (severity.as_str()) } }
}

/// A triage status badge.
pub fn status(status: &str, resolution: Option<&str>) -> Markup {
    html! {
        span class={ "badge status-" (status) } {
            (status)
            @if let Some(resolution) = resolution { ": " (resolution) }
        }
    }
}

/// A link to an alert's entity (agents have a page).
pub fn entity(kind: &str, id: &str) -> Markup {
    html! {
        @if kind == "agent" {
            a href={ (MOUNT) "/agents/" (crate::queries::url_encode(id)) } { "agent " (id) }
        } @else if kind == "customer" {
            a href={ (MOUNT) "/customers/" (crate::queries::url_encode(id)) } { "customer " (id) }
        } @else {
            (kind) " " (id)
        }
    }
}

/// Fill colours of the chart by severity; each has at least 3:1 contrast
/// against the white background (WCAG non-text contrast).
fn severity_fill(severity: Severity) -> &'static str {
    match severity {
        Severity::Low => "#1971c2",
        Severity::Medium => "#8f5f00",
        Severity::High => "#d9480f",
        Severity::Critical => "#a61e4d",
    }
}

/// A stacked bar chart of alerts per day by severity, as inline SVG drawn
/// here (no script, no library). `by_day` maps `(day index, severity code)`
/// to counts; `last_day` is the rightmost day.
pub fn day_chart(by_day: &BTreeMap<(i64, i16), u64>, last_day: i64, days: i64) -> Markup {
    const WIDTH: i64 = 720;
    const HEIGHT: i64 = 220;
    const LEFT: i64 = 40;
    const BOTTOM: i64 = 30;
    const TOP: i64 = 10;
    let first_day = last_day - days + 1;
    let totals: Vec<u64> = (first_day..=last_day)
        .map(|day| {
            Severity::ALL
                .iter()
                .map(|s| by_day.get(&(day, s.code())).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1);
    let plot_height = HEIGHT - BOTTOM - TOP;
    let slot = (WIDTH - LEFT) / days.max(1);
    let bar = (slot * 7 / 10).max(2);
    let total_all: u64 = totals.iter().sum();
    let summary = format!(
        "{total_all} alerts over the {days} days ending {}; busiest day {max}.",
        day_label(last_day)
    );
    let max_i = i64::try_from(max).unwrap_or(1);
    let mut bars = Vec::new();
    let mut labels = Vec::new();
    for (index, day) in (first_day..=last_day).enumerate() {
        let x = LEFT + i64::try_from(index).unwrap_or(0) * slot + (slot - bar) / 2;
        let mut y = HEIGHT - BOTTOM;
        for severity in Severity::ALL {
            let count = by_day.get(&(day, severity.code())).copied().unwrap_or(0);
            if count == 0 {
                continue;
            }
            let h = (i64::try_from(count).unwrap_or(0) * plot_height / max_i).max(1);
            y -= h;
            bars.push((
                x,
                y,
                h,
                severity,
                format!("{}: {count} {}", day_label(day), severity.as_str()),
            ));
        }
        if index % 2 == 0 {
            labels.push((x, short_day(day)));
        }
    }
    html! {
        figure class="chart" {
            svg viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-labelledby="chart-title chart-desc" {
                title id="chart-title" { "Alerts per day by severity" }
                desc id="chart-desc" { (summary) }
                line x1=(LEFT) y1=(HEIGHT - BOTTOM) x2=(WIDTH) y2=(HEIGHT - BOTTOM) stroke="#495057" stroke-width="1" {}
                text x="0" y=(TOP + 10) font-size="12" fill="#343a40" { (max) }
                text x="0" y=(HEIGHT - BOTTOM) font-size="12" fill="#343a40" { "0" }
                @for (x, y, h, severity, label) in &bars {
                    rect x=(x) y=(y) width=(bar) height=(h) fill=(severity_fill(*severity)) {
                        title { (label) }
                    }
                }
                @for (x, label) in &labels {
                    text x=(x) y=(HEIGHT - 10) font-size="11" fill="#343a40" { (label) }
                }
            }
            figcaption {
                ul class="legend" {
                    @for severity in Severity::ALL {
                        li { span class={ "swatch sev-fill-" (severity.as_str()) } aria-hidden="true" {} (severity.as_str()) }
                    }
                }
            }
        }
    }
}

/// `2025-03-05` for a day index.
pub fn day_label(day: i64) -> String {
    let iso = EventTime::from_micros(day.saturating_mul(MICROS_PER_DAY)).to_string();
    iso.get(..10).unwrap_or(&iso).to_owned()
}

fn short_day(day: i64) -> String {
    let label = day_label(day);
    label.get(5..).unwrap_or(&label).to_owned()
}

/// Previous/next links of a paginated list.
pub fn pager(page: usize, pages: usize, href: impl Fn(usize) -> String) -> Markup {
    html! {
        nav class="pager" aria-label="Pages" {
            @if page > 1 {
                a href=(href(page - 1)) rel="prev" { "← Previous page" }
            }
            span { "Page " (page) " of " (pages.max(1)) }
            @if page < pages {
                a href=(href(page + 1)) rel="next" { "Next page →" }
            }
        }
    }
}
