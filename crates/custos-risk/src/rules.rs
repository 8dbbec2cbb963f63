//! Rules people can change safely: a small typed TOML format, parsed then
//! resolved (every signal, action, factor and duration checked) into a
//! [`RuleSet`]. A rule fires on one action; a sequence fires on a story
//! across an account's recent actions ("within" a window). The embedded
//! defaults are `rules/default.toml`.

use crate::assess::{ActionRequest, Assessment};
use crate::config::RiskConfig;
use crate::decision::{Decision, Factor, Outcome, Protect, Reason};
use crate::profile::RecentAction;
use crate::signal::{SignalClass, SignalKind, SignalSet};
use custos_core::event::CustomerActionKind;
use custos_core::time::{EventTime, Span};
use serde::Deserialize;
use std::collections::HashSet;

/// The default rules, embedded at build time.
pub const DEFAULT_RULES: &str = include_str!("../rules/default.toml");

/// Why a rules file is unusable (the live rule set stays in force).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("rules are not valid TOML: {message}")]
    Syntax { message: String },
    #[error("rule `{rule}`: unknown signal `{name}`")]
    UnknownSignal { rule: String, name: String },
    #[error("rule `{rule}`: unknown action `{name}`")]
    UnknownAction { rule: String, name: String },
    #[error("rule `{rule}`: `{text}` is not a duration like `30m`, `6h` or `2d`")]
    BadDuration { rule: String, text: String },
    #[error("rule id `{id}` must be 1 to 64 of a-z, 0-9, `_`")]
    BadId { id: String },
    #[error("rule id `{id}` is used twice")]
    Duplicate { id: String },
    #[error("rule `{rule}`: {reason}")]
    Invalid { rule: String, reason: String },
    #[error("cannot read rules file `{path}`: {reason}")]
    Read { path: String, reason: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: String,
    #[serde(default)]
    rule: Vec<RawRule>,
    #[serde(default)]
    sequence: Vec<RawSequence>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    all: Vec<String>,
    #[serde(default)]
    any: Vec<String>,
    #[serde(default)]
    at_least: Option<u32>,
    #[serde(default)]
    and_any: Vec<String>,
    #[serde(default)]
    none: Vec<String>,
    outcome: Outcome,
    #[serde(default)]
    factor: Option<Factor>,
    #[serde(default)]
    hold: Option<String>,
    #[serde(default)]
    protect: Vec<Protect>,
    #[serde(default)]
    detail: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    all: Vec<String>,
    #[serde(default)]
    any: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSequence {
    id: String,
    within: String,
    min_steps: usize,
    steps: Vec<RawStep>,
    outcome: Outcome,
    #[serde(default)]
    factor: Option<Factor>,
    #[serde(default)]
    hold: Option<String>,
    #[serde(default)]
    protect: Vec<Protect>,
    #[serde(default)]
    detail: Option<String>,
}

/// A condition over one action: its kind and its signals.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// Empty: any action.
    pub actions: Vec<CustomerActionKind>,
    pub all: SignalSet,
    pub any: SignalSet,
    pub at_least: u32,
    /// A second group: at least one of these too (when not empty).
    pub and_any: SignalSet,
    pub none: SignalSet,
}

impl Condition {
    pub fn matches(&self, kind: CustomerActionKind, signals: SignalSet) -> bool {
        (self.actions.is_empty() || self.actions.contains(&kind))
            && signals.contains_all(self.all)
            && (self.any.is_empty() || signals.count_in(self.any) >= self.at_least)
            && (self.and_any.is_empty() || signals.intersects(self.and_any))
            && !signals.intersects(self.none)
    }
}

/// What a rule or sequence decides when it fires.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub outcome: Outcome,
    pub factor: Option<Factor>,
    pub hold: Option<Span>,
    pub protect: Vec<Protect>,
}

/// A rule over one action.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub id: String,
    pub when: Condition,
    pub verdict: Verdict,
    pub detail: String,
}

/// A story over an account's recent actions: steps in order, within a
/// window, at least `min_steps` of them, the current action being the last
/// one matched.
#[derive(Clone, Debug, PartialEq)]
pub struct Sequence {
    pub id: String,
    pub within: Span,
    pub min_steps: usize,
    pub steps: Vec<Condition>,
    pub verdict: Verdict,
    pub detail: String,
}

/// A resolved, validated rule set.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleSet {
    pub version: String,
    pub rules: Vec<Rule>,
    pub sequences: Vec<Sequence>,
}

/// A sequence that matched: how many steps and which recent actions.
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceMatch {
    pub id: String,
    pub steps_matched: usize,
    pub steps_total: usize,
    /// Times of the earlier actions in the story, oldest first.
    pub earlier: Vec<EventTime>,
}

pub fn parse_duration(text: &str) -> Option<Span> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = number.parse().ok()?;
    let span = match unit {
        "s" => Span::from_secs(n),
        "m" => Span::from_minutes(n),
        "h" => Span::from_hours(n),
        "d" => Span::from_days(n),
        _ => return None,
    };
    (n > 0 && n <= 365 * 24 * 3600).then_some(span)
}

fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn signals(rule: &str, names: &[String]) -> Result<SignalSet, RuleError> {
    names
        .iter()
        .map(|n| {
            SignalKind::parse(n).ok_or_else(|| RuleError::UnknownSignal {
                rule: rule.to_owned(),
                name: n.clone(),
            })
        })
        .collect()
}

fn actions(rule: &str, names: &[String]) -> Result<Vec<CustomerActionKind>, RuleError> {
    names
        .iter()
        .map(|n| {
            CustomerActionKind::parse(n).ok_or_else(|| RuleError::UnknownAction {
                rule: rule.to_owned(),
                name: n.clone(),
            })
        })
        .collect()
}

fn condition(
    rule: &str,
    acts: &[String],
    all: &[String],
    any: &[String],
    at_least: Option<u32>,
    and_any: &[String],
    none: &[String],
) -> Result<Condition, RuleError> {
    let any_set = signals(rule, any)?;
    let at_least = at_least.unwrap_or(1);
    if !any.is_empty() && (at_least == 0 || at_least as usize > any.len()) {
        return Err(RuleError::Invalid {
            rule: rule.to_owned(),
            reason: format!(
                "`at_least = {at_least}` needs 1 to {} entries of `any`",
                any.len()
            ),
        });
    }
    Ok(Condition {
        actions: actions(rule, acts)?,
        all: signals(rule, all)?,
        any: any_set,
        at_least,
        and_any: signals(rule, and_any)?,
        none: signals(rule, none)?,
    })
}

fn verdict(
    rule: &str,
    outcome: Outcome,
    factor: Option<Factor>,
    hold: Option<&String>,
    protect: &[Protect],
) -> Result<Verdict, RuleError> {
    let hold = match hold {
        Some(text) => Some(parse_duration(text).ok_or_else(|| RuleError::BadDuration {
            rule: rule.to_owned(),
            text: text.clone(),
        })?),
        None if outcome == Outcome::Hold => {
            return Err(RuleError::Invalid {
                rule: rule.to_owned(),
                reason: "a `hold` outcome needs a `hold` length".into(),
            });
        }
        None => None,
    };
    if outcome == Outcome::Allow {
        return Err(RuleError::Invalid {
            rule: rule.to_owned(),
            reason: "`allow` is the default; rules only raise".into(),
        });
    }
    Ok(Verdict {
        outcome,
        factor,
        hold,
        protect: protect.to_vec(),
    })
}

impl RuleSet {
    /// Parses and validates a rules file.
    pub fn from_toml(text: &str) -> Result<RuleSet, RuleError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| RuleError::Syntax {
            message: e.to_string().replace('\n', " ").trim().to_owned(),
        })?;
        let mut seen = HashSet::new();
        let mut check_id = |id: &str| {
            if !valid_id(id) {
                return Err(RuleError::BadId { id: id.to_owned() });
            }
            if !seen.insert(id.to_owned()) {
                return Err(RuleError::Duplicate { id: id.to_owned() });
            }
            Ok(())
        };
        let mut rules = Vec::with_capacity(raw.rule.len());
        for r in &raw.rule {
            check_id(&r.id)?;
            rules.push(Rule {
                id: r.id.clone(),
                when: condition(
                    &r.id, &r.actions, &r.all, &r.any, r.at_least, &r.and_any, &r.none,
                )?,
                verdict: verdict(&r.id, r.outcome, r.factor, r.hold.as_ref(), &r.protect)?,
                detail: r.detail.clone().unwrap_or_default(),
            });
        }
        let mut sequences = Vec::with_capacity(raw.sequence.len());
        for s in &raw.sequence {
            check_id(&s.id)?;
            let within = parse_duration(&s.within).ok_or_else(|| RuleError::BadDuration {
                rule: s.id.clone(),
                text: s.within.clone(),
            })?;
            if !(2..=8).contains(&s.steps.len()) || s.min_steps < 2 || s.min_steps > s.steps.len() {
                return Err(RuleError::Invalid {
                    rule: s.id.clone(),
                    reason: format!(
                        "needs 2 to 8 steps and 2 <= min_steps <= steps (got {} steps, min_steps {})",
                        s.steps.len(),
                        s.min_steps
                    ),
                });
            }
            let steps = s
                .steps
                .iter()
                .map(|st| condition(&s.id, &st.actions, &st.all, &st.any, None, &[], &[]))
                .collect::<Result<Vec<_>, _>>()?;
            sequences.push(Sequence {
                id: s.id.clone(),
                within,
                min_steps: s.min_steps,
                steps,
                verdict: verdict(&s.id, s.outcome, s.factor, s.hold.as_ref(), &s.protect)?,
                detail: s.detail.clone().unwrap_or_default(),
            });
        }
        Ok(RuleSet {
            version: raw.version,
            rules,
            sequences,
        })
    }

    /// The embedded defaults.
    pub fn default_rules() -> Result<RuleSet, RuleError> {
        RuleSet::from_toml(DEFAULT_RULES)
    }

    /// Reads and parses a rules file.
    pub fn from_path(path: &std::path::Path) -> Result<RuleSet, RuleError> {
        let text = std::fs::read_to_string(path).map_err(|e| RuleError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        RuleSet::from_toml(&text)
    }

    /// Decides from an assessment and the customer's recent actions (the
    /// current one not among them). Pure.
    pub fn decide(
        &self,
        req: &ActionRequest<'_>,
        assessment: &Assessment,
        recent: &[RecentAction],
        config: &RiskConfig,
    ) -> Decision {
        let kind = req.action.action;
        let signals = assessment.signals;
        let mut d = Decision::allow(&self.version);
        let raise = |d: &mut Decision, v: &Verdict, code: String, detail: String| {
            d.outcome = d.outcome.max(v.outcome);
            if v.outcome >= Outcome::StepUp {
                d.factor = d.factor.max(v.factor);
            }
            if let Some(hold) = v.hold.filter(|_| v.outcome == Outcome::Hold) {
                let secs = u64::try_from(hold.as_micros() / 1_000_000).unwrap_or(0);
                d.hold_secs = Some(d.hold_secs.map_or(secs, |h| h.max(secs)));
            }
            for p in &v.protect {
                if !d.protections.contains(p) {
                    d.protections.push(*p);
                }
            }
            d.reasons.push(Reason { code, detail });
        };

        for m in self.match_sequences(kind, signals, req.ts, recent) {
            let Some(seq) = self.sequences.iter().find(|s| s.id == m.id) else {
                continue;
            };
            let first = m.earlier.first().copied().unwrap_or(req.ts);
            let detail = format!(
                "{}: {} of {} steps within {:.1} h (window {:.0} h)",
                seq.detail,
                m.steps_matched,
                m.steps_total,
                req.ts.since(first).as_secs_f64() / 3600.0,
                seq.within.as_secs_f64() / 3600.0
            );
            raise(&mut d, &seq.verdict, format!("v1.seq.{}", seq.id), detail);
        }
        for rule in &self.rules {
            if rule.when.matches(kind, signals) {
                let named: Vec<&str> = signals
                    .iter()
                    .filter(|s| {
                        rule.when.all.contains(*s)
                            || rule.when.any.contains(*s)
                            || rule.when.and_any.contains(*s)
                    })
                    .map(SignalKind::as_str)
                    .collect();
                let detail = format!("{} [{}]", rule.detail, named.join(", "));
                raise(
                    &mut d,
                    &rule.verdict,
                    format!("v1.rule.{}", rule.id),
                    detail,
                );
            }
        }
        let invalid: Vec<&str> = signals
            .iter()
            .filter(|s| s.class() == SignalClass::Invalid)
            .map(SignalKind::as_str)
            .collect();
        if !invalid.is_empty() {
            let fail = config.fail_policy.for_action(kind);
            if fail.outcome > Outcome::Allow {
                let v = Verdict {
                    outcome: fail.outcome,
                    factor: fail.factor,
                    hold: fail.hold_hours.map(|h| Span::from_hours(i64::from(h))),
                    protect: Vec::new(),
                };
                raise(
                    &mut d,
                    &v,
                    format!("v1.fail.{}", kind.as_str()),
                    format!(
                        "fail policy for `{}` on invalid input: {}",
                        kind.as_str(),
                        invalid.join(", ")
                    ),
                );
            }
        }
        if d.outcome >= Outcome::StepUp && d.factor.is_none() {
            d.factor = Some(Factor::Passkey);
        }
        if d.outcome == Outcome::Hold && d.hold_secs.is_none() {
            d.hold_secs = Some(24 * 3600);
        }
        if d.outcome != Outcome::Hold {
            d.hold_secs = None;
        }
        let risk = signals
            .iter()
            .filter(|s| matches!(s.class(), SignalClass::Risk | SignalClass::Cross))
            .count();
        let base = match d.outcome {
            Outcome::Allow => 0.05,
            Outcome::StepUp => 0.5,
            Outcome::Hold => 0.75,
            Outcome::Deny => 0.9,
        };
        d.score = (base + 0.02 * risk as f64).min(if d.outcome == Outcome::Allow {
            0.45
        } else {
            1.0
        });
        for fired in &assessment.fired {
            d.reasons.push(Reason {
                code: fired.kind.code().to_owned(),
                detail: fired.detail.clone(),
            });
        }
        d
    }

    /// Sequences the current action completes: for each, the longest
    /// in-order chain of steps over the recent actions in the window that
    /// ends with the current action.
    pub fn match_sequences(
        &self,
        kind: CustomerActionKind,
        signals: SignalSet,
        ts: EventTime,
        recent: &[RecentAction],
    ) -> Vec<SequenceMatch> {
        let mut out = Vec::new();
        for seq in &self.sequences {
            let window: Vec<&RecentAction> = recent
                .iter()
                .filter(|r| r.ts <= ts && ts.since(r.ts) <= seq.within)
                .collect();
            let mut best: Option<(usize, Vec<EventTime>)> = None;
            for (j, step) in seq.steps.iter().enumerate() {
                if !step.matches(kind, signals) {
                    continue;
                }
                // Steps may be skipped, so the longest in-order chain over
                // steps[..j] is a small DP (steps <= 8, window <= max_recent).
                let chain = longest_chain(&seq.steps[..j], &window);
                let total = chain.len() + 1;
                if best.as_ref().is_none_or(|(n, _)| total > *n) {
                    best = Some((total, chain));
                }
            }
            if let Some((n, earlier)) = best {
                if n >= seq.min_steps {
                    out.push(SequenceMatch {
                        id: seq.id.clone(),
                        steps_matched: n,
                        steps_total: seq.steps.len(),
                        earlier,
                    });
                }
            }
        }
        out
    }
}

/// The longest chain of distinct recent actions (in time order) matching
/// an in-order subsequence of `steps`; returns their times.
fn longest_chain(steps: &[Condition], window: &[&RecentAction]) -> Vec<EventTime> {
    if steps.is_empty() || window.is_empty() {
        return Vec::new();
    }
    // best[i][k]: longest chain using window[..i] and steps[..k].
    let (n, m) = (window.len(), steps.len());
    let mut best = vec![vec![0usize; m + 1]; n + 1];
    for i in 1..=n {
        for k in 1..=m {
            let mut v = best[i - 1][k].max(best[i][k - 1]);
            let r = window[i - 1];
            if steps[k - 1].matches(r.kind, r.signals) {
                v = v.max(best[i - 1][k - 1] + 1);
            }
            best[i][k] = v;
        }
    }
    // Walk back to name the actions.
    let mut out = Vec::new();
    let (mut i, mut k) = (n, m);
    while i > 0 && k > 0 {
        let r = window[i - 1];
        if best[i][k] == best[i - 1][k] {
            i -= 1;
        } else if best[i][k] == best[i][k - 1] {
            k -= 1;
        } else if steps[k - 1].matches(r.kind, r.signals) {
            out.push(r.ts);
            i -= 1;
            k -= 1;
        } else {
            i -= 1;
        }
    }
    out.reverse();
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_parse() {
        let rules = RuleSet::default_rules().unwrap();
        assert!(!rules.rules.is_empty() && !rules.sequences.is_empty());
    }

    #[test]
    fn durations() {
        let table = [
            ("30m", Some(Span::from_minutes(30))),
            ("6h", Some(Span::from_hours(6))),
            ("2d", Some(Span::from_days(2))),
            ("45s", Some(Span::from_secs(45))),
            ("0h", None),
            ("h", None),
            ("6 hours", None),
            ("", None),
        ];
        for (text, expect) in table {
            assert_eq!(parse_duration(text), expect, "{text}");
        }
    }

    #[test]
    fn bad_rules_are_named() {
        let check = |text: &str, expect: &str| {
            let err = RuleSet::from_toml(text)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(expect), "{text}\n=> {err}");
        };
        let head = "version = \"t\"\n";
        check(
            &format!("{head}[[rule]]\nid = \"a\"\nall = [\"new_devic\"]\noutcome = \"step_up\""),
            "unknown signal `new_devic`",
        );
        check(
            &format!("{head}[[rule]]\nid = \"a\"\nactions = [\"withdraw\"]\noutcome = \"step_up\""),
            "unknown action `withdraw`",
        );
        check(
            &format!("{head}[[rule]]\nid = \"a\"\noutcome = \"hold\""),
            "needs a `hold` length",
        );
        check(
            &format!("{head}[[rule]]\nid = \"a\"\noutcome = \"hold\"\nhold = \"soon\""),
            "not a duration",
        );
        check(
            &format!("{head}[[rule]]\nid = \"A b\"\noutcome = \"deny\""),
            "rule id `A b`",
        );
        check(
            &format!(
                "{head}[[rule]]\nid = \"a\"\noutcome = \"deny\"\n[[rule]]\nid = \"a\"\noutcome = \"deny\""
            ),
            "used twice",
        );
        check(
            &format!("{head}[[rule]]\nid = \"a\"\noutcome = \"deny\"\ncolour = 1"),
            "unknown field",
        );
        check(
            &format!("{head}[[rule]]\nid = \"a\"\noutcome = \"allow\""),
            "rules only raise",
        );
        check(
            &format!(
                "{head}[[rule]]\nid = \"a\"\nany = [\"new_device\"]\nat_least = 2\noutcome = \"deny\""
            ),
            "at_least = 2",
        );
        check(
            &format!(
                "{head}[[sequence]]\nid = \"s\"\nwithin = \"1h\"\nmin_steps = 3\noutcome = \"deny\"\nsteps = [{{ actions = [\"login\"] }}, {{ actions = [\"withdrawal\"] }}]"
            ),
            "min_steps",
        );
        check("version = ", "not valid TOML");
    }

    fn recent(ts_h: i64, kind: CustomerActionKind, signals: &[SignalKind]) -> RecentAction {
        RecentAction {
            ts: EventTime::from_unix_secs(ts_h * 3600),
            kind,
            signals: signals.iter().copied().collect(),
            outcome: Outcome::Allow,
        }
    }

    #[test]
    fn sequences_match_in_order_within_the_window() {
        let rules = RuleSet::from_toml(
            r#"
            version = "t"
            [[sequence]]
            id = "chain"
            within = "6h"
            min_steps = 3
            outcome = "deny"
            steps = [
              { actions = ["login"], any = ["new_device"] },
              { actions = ["security_change"] },
              { actions = ["address_add"] },
              { actions = ["withdrawal"] },
            ]
            "#,
        )
        .unwrap();
        use CustomerActionKind as K;
        let now = EventTime::from_unix_secs(10 * 3600);
        type Case = (&'static str, Vec<RecentAction>, K, Option<usize>);
        let table: Vec<Case> = vec![
            (
                "full story",
                vec![
                    recent(5, K::Login, &[SignalKind::NewDevice]),
                    recent(6, K::SecurityChange, &[]),
                    recent(7, K::AddressAdd, &[]),
                ],
                K::Withdrawal,
                Some(4),
            ),
            (
                "a step skipped still counts",
                vec![
                    recent(5, K::Login, &[SignalKind::NewDevice]),
                    recent(7, K::AddressAdd, &[]),
                ],
                K::Withdrawal,
                Some(3),
            ),
            (
                "login from a known device is not the story",
                vec![recent(5, K::Login, &[]), recent(7, K::AddressAdd, &[])],
                K::Withdrawal,
                None,
            ),
            (
                "out of the window",
                vec![
                    recent(1, K::Login, &[SignalKind::NewDevice]),
                    recent(5, K::SecurityChange, &[]),
                    recent(7, K::AddressAdd, &[]),
                ],
                K::Withdrawal,
                Some(3),
            ),
            (
                "wrong order",
                vec![
                    recent(5, K::AddressAdd, &[]),
                    recent(6, K::SecurityChange, &[]),
                ],
                K::Login,
                None,
            ),
            (
                "noise in between",
                vec![
                    recent(5, K::Login, &[SignalKind::NewDevice]),
                    recent(5, K::Login, &[]),
                    recent(6, K::SecurityChange, &[]),
                    recent(6, K::Withdrawal, &[]),
                ],
                K::AddressAdd,
                Some(3),
            ),
        ];
        for (name, history, kind, expect) in table {
            let got = rules.match_sequences(kind, SignalSet::EMPTY, now, &history);
            assert_eq!(got.first().map(|m| m.steps_matched), expect, "{name}");
        }
    }
}
