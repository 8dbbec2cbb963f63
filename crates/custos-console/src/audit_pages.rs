//! The audit log in the console: browse entries by range, search recent
//! entries by entity (actor, subject commitment, grant or ticket id), show
//! the latest signed checkpoint, and an entry page whose inclusion proof the
//! browser checks itself.
//!
//! **Architecture Invariant:** the server does not tell the page that an
//! entry is included; it serves the leaf, the audit path and the signed
//! checkpoint (`GET …/entries/{i}/proof`), and `console.js` recomputes the
//! RFC 6962 root with `crypto.subtle` SHA-256 and compares it with the
//! checkpoint's. The checkpoint's Ed25519 signature is checked by the
//! server against the log key (shown on the page).

use crate::crypto::hex;
use crate::error::ConsoleError;
use crate::pages::{PageError, PageResult, page, post_session, redirect, session};
use crate::services::lock_log;
use crate::session::Session;
use crate::views::{Nav, layout};
use crate::{ConsoleState, MOUNT};
use axum::Json;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use custos_audit::api::{self, CheckpointResponse};
use custos_audit::{AuditEntry, AuditLog};
use maud::{Markup, html};
use serde_json::{Value, json};
use std::collections::BTreeMap;

type Fields = BTreeMap<String, String>;

/// Entries a page of the log shows.
pub const AUDIT_PAGE: u64 = 50;
/// How many of the newest entries a search reads at most.
pub const SEARCH_WINDOW: u64 = 5_000;
/// Entries read from the log per batch while searching.
const SEARCH_BATCH: u64 = 1_000;

fn require_audit(session: &Session) -> Result<(), PageError> {
    if session.role.can_read_audit() {
        Ok(())
    } else {
        Err(PageError::Forbidden(format!(
            "the `{}` role cannot see the audit log",
            session.role
        )))
    }
}

fn log_error(error: custos_audit::LogError) -> PageError {
    PageError::Internal(ConsoleError::Service(format!("audit log: {error}")))
}

fn not_connected(session: &Session) -> PageResult {
    Ok(page(layout(
        "Audit log",
        Some(session),
        Nav::Audit,
        html! {
            h1 { "Audit log" }
            p class="notice" { "The audit log is not connected to this console." }
        },
    )))
}

/// Whether an entry concerns `needle`: its actor, its subject commitment,
/// or a top-level string of its details (grant, ticket, subject agent...).
pub fn entry_matches(entry: &AuditEntry, needle: &str) -> bool {
    if entry.actor.eq_ignore_ascii_case(needle) || entry.subject_commitment == needle {
        return true;
    }
    match &entry.details {
        Value::Object(map) => map.values().any(|value| match value {
            Value::String(text) => text.eq_ignore_ascii_case(needle),
            _ => false,
        }),
        _ => false,
    }
}

/// The newest entries matching `needle`, newest first, at most `limit`,
/// reading at most the last [`SEARCH_WINDOW`] entries. Returns the matches
/// and how many entries were read.
fn search(
    log: &AuditLog,
    needle: &str,
    limit: usize,
) -> Result<(Vec<(u64, AuditEntry)>, u64), custos_audit::LogError> {
    let size = log.size();
    let floor = size.saturating_sub(SEARCH_WINDOW);
    let mut end = size;
    let mut found = Vec::new();
    while end > floor && found.len() < limit {
        let start = end.saturating_sub(SEARCH_BATCH).max(floor);
        let batch = log.entries(start..end)?;
        for (index, entry) in (start..end)
            .zip(batch)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            if entry_matches(&entry, needle) {
                found.push((index, entry));
                if found.len() == limit {
                    break;
                }
            }
        }
        end = start;
    }
    Ok((found, size - end))
}

pub fn audit(state: &ConsoleState, headers: &HeaderMap, query: &Fields) -> PageResult {
    let session = session(state, headers)?;
    require_audit(&session)?;
    let services = state.services();
    let Some(log) = &services.audit else {
        return not_connected(&session);
    };
    let needle = query
        .get("q")
        .map(|q| q.trim())
        .filter(|q| !q.is_empty() && q.len() <= 200);
    let (size, checkpoint, verifier, rows, searched) = {
        let log = lock_log(log);
        let size = log.size();
        let checkpoint = api::latest_checkpoint(&log).map_err(log_error)?;
        let verifier = log.verifier().encode();
        match needle {
            Some(needle) => {
                let limit = usize::try_from(AUDIT_PAGE).unwrap_or(50);
                let (rows, read) = search(&log, needle, limit).map_err(log_error)?;
                (size, checkpoint, verifier, rows, Some(read))
            }
            None => {
                let last_start = size.saturating_sub(1) / AUDIT_PAGE * AUDIT_PAGE;
                let start = query
                    .get("start")
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .map_or(last_start, |s| s / AUDIT_PAGE * AUDIT_PAGE)
                    .min(last_start);
                let end = (start + AUDIT_PAGE).min(size);
                let entries = log.entries(start..end).map_err(log_error)?;
                let mut rows: Vec<(u64, AuditEntry)> = (start..end).zip(entries).collect();
                rows.reverse();
                (size, checkpoint, verifier, rows, None)
            }
        }
    };
    let first_shown = rows.iter().map(|(i, _)| *i).min();
    let last_shown = rows.iter().map(|(i, _)| *i).max();
    let body = html! {
        h1 { "Audit log" }
        (checkpoint_section(&session, size, checkpoint.as_ref(), &verifier))
        section aria-labelledby="entries-heading" {
            h2 id="entries-heading" { "Entries" }
            form method="get" action={ (MOUNT) "/audit" } class="filters" role="search" aria-label="Search the audit log" {
                div {
                    label for="audit-q" { "Entity (agent, grant, ticket or commitment)" }
                    input id="audit-q" name="q" type="search" value=[needle] maxlength="200" autocomplete="off";
                }
                div { button type="submit" { "Search" } }
            }
            form method="get" action={ (MOUNT) "/audit" } class="filters" aria-label="Go to an entry" {
                div {
                    label for="audit-start" { "Entries from index" }
                    input id="audit-start" name="start" type="number" min="0" inputmode="numeric" required;
                }
                div { button type="submit" { "Go" } }
            }
            @if let (Some(needle), Some(read)) = (needle, searched) {
                p role="status" {
                    (rows.len()) " entries about " code { (needle) } " in the newest " (read) " entries"
                    @if read < size { " (a search reads at most the newest " (SEARCH_WINDOW) ")" }
                    "."
                }
            } @else if size == 0 {
                p { "The log is empty." }
            } @else if let (Some(first), Some(last)) = (first_shown, last_shown) {
                p role="status" { "Entries " (first) " to " (last) " of " (size) ", newest first." }
            }
            @if !rows.is_empty() {
                (entries_table(&rows))
            }
            @if needle.is_none() {
                @if let (Some(first), Some(last)) = (first_shown, last_shown) {
                    nav class="pager" aria-label="Pages" {
                        @if last + 1 < size {
                            a href={ (MOUNT) "/audit?start=" (last + 1) } rel="next" { "← Newer entries" }
                        }
                        @if first > 0 {
                            a href={ (MOUNT) "/audit?start=" (first.saturating_sub(AUDIT_PAGE)) } rel="prev" { "Older entries →" }
                        }
                    }
                }
            }
        }
    };
    Ok(page(layout("Audit log", Some(&session), Nav::Audit, body)))
}

fn checkpoint_section(
    session: &Session,
    size: u64,
    checkpoint: Option<&CheckpointResponse>,
    verifier: &str,
) -> Markup {
    html! {
        section aria-labelledby="checkpoint-heading" {
            h2 id="checkpoint-heading" { "Latest signed checkpoint" }
            @match checkpoint {
                None => p { "No checkpoint has been signed yet: entries cannot be proved until one is." },
                Some(checkpoint) => {
                    dl class="facts" {
                        dt { "Origin" } dd { code { (checkpoint.origin) } }
                        dt { "Tree size" } dd { (checkpoint.size) " of " (size) " entries" }
                        dt { "Root hash" } dd { code class="hash" { (checkpoint.root) } }
                        dt { "Witness cosignatures" } dd { (checkpoint.cosignatures.len()) }
                        dt { "Log key" } dd { code class="hash" { (verifier) } }
                    }
                    details {
                        summary { "The signed note" }
                        pre class="note" { (checkpoint.note) }
                    }
                    p class="help" { "The server checked the note's signature against the log key. Save the note outside custos to audit the log later." }
                }
            }
            @if session.role.can_sign_checkpoints() {
                form method="post" action={ (MOUNT) "/audit/checkpoint" } {
                    input type="hidden" name="csrf" value=(session.csrf);
                    button type="submit" class="secondary" { "Sign a checkpoint now" }
                }
            }
        }
    }
}

fn entries_table(rows: &[(u64, AuditEntry)]) -> Markup {
    html! {
        div class="table-wrap" {
            table class="audit" {
                caption class="visually-hidden" { "Audit log entries" }
                thead { tr {
                    th scope="col" class="num" { "Index" }
                    th scope="col" { "Time" }
                    th scope="col" { "Kind" }
                    th scope="col" { "Actor" }
                    th scope="col" { "Outcome" }
                } }
                tbody {
                    @for (index, entry) in rows {
                        tr {
                            th scope="row" class="num" { a href={ (MOUNT) "/audit/entries/" (index) } { (index) } }
                            td { (entry.ts) }
                            td { code { (entry.kind) } }
                            td { (entry.actor) }
                            td { (entry.details.get("outcome").and_then(Value::as_str).unwrap_or("—")) }
                        }
                    }
                }
            }
        }
    }
}

fn parse_index(text: &str) -> Result<u64, PageError> {
    text.parse::<u64>()
        .map_err(|_| PageError::NotFound(format!("no audit entry `{text}`")))
}

fn read_entry(log: &AuditLog, index: u64) -> Result<AuditEntry, PageError> {
    if index >= log.size() {
        return Err(PageError::NotFound(format!("no audit entry `{index}`")));
    }
    log.entries(index..index + 1)
        .map_err(log_error)?
        .into_iter()
        .next()
        .ok_or_else(|| PageError::NotFound(format!("no audit entry `{index}`")))
}

pub fn entry(state: &ConsoleState, headers: &HeaderMap, index_text: &str) -> PageResult {
    let session = session(state, headers)?;
    require_audit(&session)?;
    let services = state.services();
    let Some(log) = &services.audit else {
        return not_connected(&session);
    };
    let index = parse_index(index_text)?;
    let (entry, leaf_hash, checkpoint) = {
        let log = lock_log(log);
        let entry = read_entry(&log, index)?;
        let leaf_hash = api::encode_hash(&log.leaf_hash(index).map_err(log_error)?);
        let checkpoint = api::latest_checkpoint(&log).map_err(log_error)?;
        (entry, leaf_hash, checkpoint)
    };
    let details = serde_json::to_string_pretty(&entry.details).unwrap_or_default();
    let covered = checkpoint.as_ref().filter(|c| index < c.size);
    let body = html! {
        p class="crumbs" { a href={ (MOUNT) "/audit?start=" (index) } { "Audit log" } " / entry " (index) }
        h1 { "Audit entry " (index) }
        dl class="facts" {
            dt { "Kind" } dd { code { (entry.kind) } }
            dt { "Time" } dd { (entry.ts) }
            dt { "Actor" } dd { (entry.actor) }
            dt { "Subject commitment" } dd {
                @if entry.subject_commitment.is_empty() { "none" } @else { code class="hash" { (entry.subject_commitment) } }
            }
            dt { "Leaf hash" } dd { code class="hash" { (leaf_hash) } }
        }
        h2 { "Details" }
        pre class="details" { (details) }
        section aria-labelledby="proof-heading" {
            h2 id="proof-heading" { "Inclusion proof" }
            @match covered {
                None => p id="proof-unavailable" {
                    "No signed checkpoint covers this entry yet"
                    @if let Some(checkpoint) = &checkpoint { " (the latest covers " (checkpoint.size) " entries)" }
                    ": it can be proved once the next checkpoint is signed."
                },
                Some(checkpoint) => {
                    p {
                        "Your browser fetches this entry's leaf and audit path, recomputes the Merkle root (RFC 6962, SHA-256) and compares it with the root of the signed checkpoint of "
                        (checkpoint.size) " entries."
                    }
                    button type="button" id="verify-proof"
                        data-proof-url={ (MOUNT) "/audit/entries/" (index) "/proof" }
                        data-index=(index) data-kind=(entry.kind) { "Verify inclusion" }
                    p id="verify-result" class="verify-result" role="status" aria-live="polite" {}
                }
            }
        }
    };
    Ok(page(layout(
        &format!("Audit entry {index}"),
        Some(&session),
        Nav::Audit,
        body,
    )))
}

/// The proof of entry `index` against the latest checkpoint, as JSON:
/// `{index, tree_size, leaf (hex of the leaf bytes), leaf_hash, proof,
/// checkpoint: {origin, size, root, note}}` (hashes in base64).
pub fn proof(state: &ConsoleState, headers: &HeaderMap, index_text: &str) -> PageResult {
    let session = session(state, headers)?;
    require_audit(&session)?;
    let services = state.services();
    let Some(log) = &services.audit else {
        return Err(PageError::NotFound(
            "the audit log is not connected".to_owned(),
        ));
    };
    let index = parse_index(index_text)?;
    let log = lock_log(log);
    let Some(checkpoint) = api::latest_checkpoint(&log).map_err(log_error)? else {
        return Err(PageError::NotFound(
            "no checkpoint has been signed yet".to_owned(),
        ));
    };
    if index >= checkpoint.size {
        return Err(PageError::NotFound(format!(
            "no signed checkpoint covers audit entry `{index}` yet"
        )));
    }
    let entry = read_entry(&log, index)?;
    let leaf = entry
        .to_leaf(index)
        .map_err(|e| PageError::Internal(ConsoleError::Service(format!("audit leaf: {e}"))))?;
    let proof = api::inclusion_proof(&log, index, checkpoint.size).map_err(log_error)?;
    Ok(Json(json!({
        "index": index,
        "tree_size": proof.tree_size,
        "leaf": hex(&leaf),
        "leaf_hash": proof.leaf_hash,
        "proof": proof.proof,
        "checkpoint": {
            "origin": checkpoint.origin,
            "size": checkpoint.size,
            "root": checkpoint.root,
            "note": checkpoint.note,
        },
    }))
    .into_response())
}

pub fn sign_checkpoint(state: &ConsoleState, headers: &HeaderMap, form: &Fields) -> PageResult {
    let session = post_session(state, headers, form)?;
    if !session.role.can_sign_checkpoints() {
        return Err(PageError::Forbidden(format!(
            "the `{}` role cannot sign audit checkpoints",
            session.role
        )));
    }
    let services = state.services();
    let Some(log) = &services.audit else {
        return Err(PageError::NotFound(
            "the audit log is not connected".to_owned(),
        ));
    };
    let size = {
        let mut log = lock_log(log);
        log.checkpoint().map_err(log_error)?;
        log.size()
    };
    tracing::info!(
        user = session.user_name,
        size,
        "console signed an audit checkpoint"
    );
    Ok(redirect(&format!("{MOUNT}/audit")))
}

#[cfg(test)]
mod tests {
    use super::entry_matches;
    use custos_audit::AuditEntry;
    use serde_json::json;

    fn entry(actor: &str, commitment: &str, details: serde_json::Value) -> AuditEntry {
        AuditEntry {
            kind: "grant_approved".to_owned(),
            ts: "2025-03-04T10:00:00Z".to_owned(),
            actor: actor.to_owned(),
            subject_commitment: commitment.to_owned(),
            details,
        }
    }

    #[test]
    fn an_entry_matches_its_actor_commitment_and_top_level_ids() {
        let e = entry(
            "a-0002",
            "ab12",
            json!({"grant": "gr-1", "ticket": "t-9", "nested": {"x": "deep"}, "n": 3}),
        );
        for (needle, expect) in [
            ("a-0002", true),
            ("A-0002", true),
            ("ab12", true),
            ("gr-1", true),
            ("t-9", true),
            ("deep", false),
            ("3", false),
            ("a-0003", false),
        ] {
            assert_eq!(entry_matches(&e, needle), expect, "{needle}");
        }
    }
}
