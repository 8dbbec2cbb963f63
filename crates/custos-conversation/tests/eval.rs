//! Held-out evaluation with minimums asserted, model reproducibility, and
//! the `scan` and detector contracts end to end.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fast_path;
mod support {
    pub mod eval;
}

use custos_conversation::corpus::committed_corpus;
use custos_conversation::guard::SHIPPED_MODEL;
use custos_conversation::{
    ConversationConfig, ConversationDetector, Guard, TrainOptions, scan_reader, train,
};
use custos_core::{Context, Detector, EntityKind, ResponseAction, Signal};
use support::eval;

/// Minimums at the level reached on the held-out split when this test was
/// written (EVALUATION.md); a regression below them fails. The issue's
/// targets are 95% recall, <= 1% benign support messages flagged and >= 90%
/// per language. Session 4 added held-out *everyday* benign families
/// (family, shopping, deliveries, "send me the code for the wifi"): they
/// are a different, harder population with their own minimum, so the 1%
/// target is asserted on the support families it was set for.
#[test]
fn held_out_split_meets_the_minimums() {
    let guard = Guard::new().unwrap();
    let config = ConversationConfig::default();
    let corpus = committed_corpus().unwrap();
    let held_out: Vec<_> = corpus.iter().filter(|e| e.is_held_out()).collect();
    let report = eval::evaluate_corpus(&held_out, &guard, &config);
    println!("{}", report.to_markdown());
    assert!(report.scam.total >= 900 && report.benign.total >= 1000);
    assert!(
        report.scam.rate() >= 0.95,
        "scam recall {}",
        report.scam.rate()
    );
    assert!(
        report.scam.scam_rate() >= 0.75,
        "scam verdict on one message {}",
        report.scam.scam_rate()
    );
    assert_eq!(
        report.benign.scam, 0,
        "no benign held-out line reaches a scam verdict"
    );
    for (lang, count) in &report.scam_by_lang {
        assert!(count.rate() >= 0.90, "{lang}: recall {}", count.rate());
    }
    assert_eq!(
        report.scam_by_lang.len(),
        8,
        "all eight languages are held out"
    );
    let (everyday, support): (Vec<_>, Vec<_>) =
        held_out.iter().partition(|e| eval::is_session_4(e));
    let support = eval::evaluate_corpus(&support, &guard, &config);
    assert!(
        support.benign.rate() <= 0.01,
        "benign support flagged {}",
        support.benign.rate()
    );
    let everyday = eval::evaluate_corpus(&everyday, &guard, &config);
    assert!(everyday.benign.total >= 500);
    assert!(
        everyday.benign.rate() <= 0.02,
        "everyday benign flagged {}",
        everyday.benign.rate()
    );
    let kyc = report.by_code["kyc_reverification_link"];
    assert!(kyc.total >= 100 && kyc.rate() >= 0.95, "kyc {kyc:?}");
}

/// The UCI SMS ham's held-out half (never trained or tuned on), when the
/// public corpora are installed (scripts/install_public_corpora.sh).
#[test]
fn uci_ham_held_out_half_is_rarely_flagged() {
    let Some(lines) = eval::public_negatives() else {
        println!("skipped: public corpora not installed");
        return;
    };
    let guard = Guard::new().unwrap();
    let config = ConversationConfig::default();
    let scores: Vec<f32> = lines
        .iter()
        .filter(|(set, _)| set == eval::UCI_HAM_HELD_OUT)
        .map(|(_, text)| guard.score(text, Default::default(), 2.0).score)
        .collect();
    if scores.is_empty() {
        println!("skipped: UCI SMS ham not installed");
        return;
    }
    let flagged = scores
        .iter()
        .filter(|s| **s >= config.suspicious_threshold)
        .count();
    let rate = flagged as f64 / scores.len() as f64;
    assert!(scores.len() > 1500, "{} lines", scores.len());
    assert!(rate <= 0.005, "UCI ham held-out half flagged {rate}");
}

/// Retraining from the committed corpus with the default seed reproduces
/// the shipped model byte for byte.
#[test]
fn retraining_reproduces_the_shipped_model() {
    let corpus = committed_corpus().unwrap();
    let (model, report) = train(&corpus, &TrainOptions::default()).unwrap();
    assert!(report.held_out_skipped > 0);
    assert!(
        model.to_bytes() == SHIPPED_MODEL,
        "run `cargo run --release -p custos-conversation --example train`"
    );
    assert!(SHIPPED_MODEL.len() < 2 * 1024 * 1024);
}

fn check_scan(input: &str, expect: &[(&str, &str)], rejected: &[u64]) {
    let guard = Guard::new().unwrap();
    let mut out = Vec::new();
    let summary = scan_reader(
        input.as_bytes(),
        &mut out,
        &guard,
        &ConversationConfig::default(),
    )
    .unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["id"].as_str().unwrap().to_owned(),
                l["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = expect
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    assert_eq!(got, want, "{summary}");
    let bad: Vec<u64> = summary.rejected.iter().map(|r| r.line).collect();
    assert_eq!(bad, rejected);
    for l in &lines {
        let score = l["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score));
        assert!(l["reasons"].is_array());
        assert_eq!(
            l.as_object().unwrap().len(),
            4,
            "exactly the contract's keys"
        );
    }
}

#[test]
fn scan_writes_one_line_per_good_line_in_order() {
    let input = concat!(
        r#"{"id":"a","text":"Please read me the 6-digit code we just sent to your phone"}"#,
        "\n",
        r#"{"text":"my withdrawal is still pending, can you check?"}"#,
        "\n",
        "\n",
        r#"{"id":"c","text": broken"#,
        "\n",
        r#"{"type":"message","ts":"2025-03-03T10:00:00Z","id":"e1","conversation_id":"conv-1","channel":"phone","direction":"inbound","sender_role":"unknown","customer_id":"c-1","text":"Hello, this is the exchange security department"}"#,
        "\n",
        r#"{"type":"message","ts":"2025-03-03T10:00:20Z","id":"e2","conversation_id":"conv-1","channel":"phone","direction":"inbound","sender_role":"unknown","customer_id":"c-1","text":"could you confirm the code you got?"}"#,
        "\n",
        r#"{"type":"ticket","ts":"2025-03-03T10:00:00Z","ticket_id":"t-1","status":"opened"}"#,
        "\n",
        r#"{"type":"message","ts":"nope","conversation_id":"conv-1","text":"x"}"#,
        "\n",
        r#"{"text":"s e n d me your s33d phr4se"}"#,
        "\n",
    );
    check_scan(
        input,
        &[
            ("a", "scam"),
            ("2", "benign"),
            ("e1", "suspicious"),
            ("e2", "scam"),
            ("9", "scam"),
        ],
        &[4, 7, 8],
    );
}

#[test]
fn scan_reasons_never_repeat_a_code() {
    let guard = Guard::new().unwrap();
    let input = concat!(
        r#"{"type":"message","ts":"2025-03-03T10:00:00Z","id":"e1","conversation_id":"k","direction":"inbound","sender_role":"unknown","text":"read me the code we sent to stop the withdrawal"}"#,
        "\n",
        r#"{"type":"message","ts":"2025-03-03T10:00:10Z","id":"e2","conversation_id":"k","direction":"outbound","sender_role":"customer","text":"ok the code is 482917"}"#,
        "\n",
    );
    let mut out = Vec::new();
    scan_reader(
        input.as_bytes(),
        &mut out,
        &guard,
        &ConversationConfig::default(),
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains("482917"), "{text}");
    assert!(text.contains("compliance"), "{text}");
}

#[test]
fn detector_alerts_marks_and_flags_insiders() {
    let lines = [
        r#"{"type":"ticket","ts":"2025-03-03T09:00:00Z","id":"t0","ticket_id":"t-1","customer_id":"c-9","agent_id":"a-0042","status":"assigned"}"#,
        r#"{"type":"message","ts":"2025-03-03T09:01:00Z","id":"m1","conversation_id":"chat-1","channel":"chat","direction":"inbound","sender_role":"agent","customer_id":"c-9","text":"To continue, please send me the SMS code you just received here in the chat"}"#,
        r#"{"type":"message","ts":"2025-03-03T10:00:00Z","id":"m2","conversation_id":"call-7","channel":"phone","direction":"inbound","sender_role":"unknown","customer_id":"c-5","text":"This is the security team, your account is at risk"}"#,
        r#"{"type":"message","ts":"2025-03-03T10:00:30Z","id":"m3","conversation_id":"call-7","channel":"phone","direction":"inbound","sender_role":"unknown","customer_id":"c-5","text":"Move all your USDT to this safe wallet until the investigation is over"}"#,
        r#"{"type":"message","ts":"2025-03-03T10:01:00Z","id":"m4","conversation_id":"call-7","channel":"phone","direction":"outbound","sender_role":"customer","customer_id":"c-5","text":"ok I sent everything to the wallet you gave me"}"#,
    ];
    let mut detector = ConversationDetector::new(ConversationConfig::default()).unwrap();
    let mut ctx = Context::default();
    let mut signals = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let event = custos_core::parse::parse_event(line, || (i + 1).to_string()).unwrap();
        signals.extend(detector.observe(&event, &mut ctx));
    }
    let alerts: Vec<_> = signals
        .iter()
        .filter_map(|s| {
            if let Signal::Alert(a) = s {
                Some(a)
            } else {
                None
            }
        })
        .collect();
    let insider = alerts
        .iter()
        .find(|a| a.entity.kind == EntityKind::Agent)
        .expect("insider alert");
    assert_eq!(insider.entity.id, "a-0042");
    assert_eq!(insider.reasons[0].code, "insider_credential_request");
    assert!(insider.response.contains(&ResponseAction::Intercept));
    let call: Vec<_> = alerts.iter().filter(|a| a.entity.id == "call-7").collect();
    assert_eq!(
        call.len(),
        2,
        "scam, then escalation on compliance: {call:?}"
    );
    assert_eq!(call[0].evidence[0].as_str(), "m3");
    assert_eq!(call[1].severity, custos_core::Severity::Critical);
    assert_eq!(call[1].evidence[0].as_str(), "m4");
    assert!(
        call.iter().all(
            |a| a.detector == "conversation" && a.response.contains(&ResponseAction::Intercept)
        )
    );
    let marks: Vec<_> = signals
        .iter()
        .filter_map(|s| {
            if let Signal::Mark(m) = s {
                Some(m)
            } else {
                None
            }
        })
        .collect();
    let customer_mark = marks
        .iter()
        .find(|m| m.entity.id == "c-5")
        .expect("customer mark");
    assert_eq!(
        customer_mark.code,
        custos_core::detector::codes::SCAM_CONVERSATION
    );
    assert_eq!(
        customer_mark.until.as_micros() - customer_mark.since.as_micros(),
        72 * 3_600_000_000
    );
    assert!(
        marks
            .iter()
            .any(|m| m.entity.id == "a-0042" && m.code == "insider_credential_request")
    );
}
