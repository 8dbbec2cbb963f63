//! Shared evaluation: held-out corpus metrics per language and per code,
//! optional public negatives, and the custos-sim messages as an
//! out-of-distribution set (never trained or tuned on).

#![allow(dead_code)]

use custos_conversation::corpus::Example;
use custos_conversation::{ConversationConfig, ConversationDetector, Guard};
use custos_core::{Context, Detector, EventBody, Signal};
use std::collections::{BTreeMap, HashSet};

#[derive(Clone, Copy, Debug, Default)]
pub struct Count {
    pub total: u64,
    pub flagged: u64,
    pub scam: u64,
}

impl Count {
    pub fn rate(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.flagged as f64 / self.total as f64
        }
    }
    pub fn scam_rate(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.scam as f64 / self.total as f64
        }
    }
    fn add(&mut self, flagged: bool, scam: bool) {
        self.total += 1;
        self.flagged += u64::from(flagged);
        self.scam += u64::from(scam);
    }
}

/// Held-out metrics: "flagged" is a verdict of suspicious or scam.
#[derive(Debug, Default)]
pub struct CorpusReport {
    pub scam: Count,
    pub benign: Count,
    pub scam_by_lang: BTreeMap<String, Count>,
    pub benign_by_lang: BTreeMap<String, Count>,
    pub by_code: BTreeMap<String, Count>,
    pub missed: Vec<String>,
    pub false_flags: Vec<String>,
}

/// A line of the session-4 families (`{lang}.{label}.s4-{k}`: everyday
/// messages, more `kyc_reverification_link` scams).
pub fn is_session_4(e: &Example) -> bool {
    e.family.contains(".s4-")
}

pub fn evaluate_corpus(
    examples: &[&Example],
    guard: &Guard,
    config: &ConversationConfig,
) -> CorpusReport {
    let mut r = CorpusReport::default();
    for e in examples {
        let s = guard.score(&e.text, e.speaker(), 2.0).score;
        let flagged = s >= config.suspicious_threshold;
        let scam = s >= config.scam_threshold;
        if e.is_scam() {
            r.scam.add(flagged, scam);
            r.scam_by_lang
                .entry(e.lang.clone())
                .or_default()
                .add(flagged, scam);
            for code in &e.codes {
                r.by_code
                    .entry(code.clone())
                    .or_default()
                    .add(flagged, scam);
            }
            if !flagged {
                r.missed.push(format!("{:.2} [{}] {}", s, e.lang, e.text));
            }
        } else {
            r.benign.add(flagged, scam);
            r.benign_by_lang
                .entry(e.lang.clone())
                .or_default()
                .add(flagged, scam);
            if flagged {
                r.false_flags
                    .push(format!("{:.2} [{}] {}", s, e.lang, e.text));
            }
        }
    }
    r
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

impl CorpusReport {
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "scam recall (suspicious+) {} of {} = {}, at scam verdict {}; benign flagged {} of {} = {} (scam verdict {})\n\n",
            self.scam.flagged, self.scam.total, pct(self.scam.rate()), pct(self.scam.scam_rate()),
            self.benign.flagged, self.benign.total, pct(self.benign.rate()), pct(self.benign.scam_rate())
        ));
        s.push_str("| language | scam lines | recall | scam verdict | benign lines | flagged |\n|---|---|---|---|---|---|\n");
        let langs: Vec<&String> = self
            .scam_by_lang
            .keys()
            .chain(self.benign_by_lang.keys())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for lang in langs {
            let sc = self.scam_by_lang.get(lang).copied().unwrap_or_default();
            let bn = self.benign_by_lang.get(lang).copied().unwrap_or_default();
            s.push_str(&format!(
                "| {lang} | {} | {} | {} | {} | {} |\n",
                sc.total,
                pct(sc.rate()),
                pct(sc.scam_rate()),
                bn.total,
                pct(bn.rate())
            ));
        }
        s.push_str("\n| code | lines | recall | scam verdict |\n|---|---|---|---|\n");
        for (code, c) in &self.by_code {
            s.push_str(&format!(
                "| {code} | {} | {} | {} |\n",
                c.total,
                pct(c.rate()),
                pct(c.scam_rate())
            ));
        }
        s
    }
}

/// The custos-sim messages, scored through the detector in event order.
#[derive(Debug, Default)]
pub struct SimReport {
    pub calls: u64,
    pub calls_alerted: u64,
    pub inducements: Count,
    pub hard_benign_messages: Count,
    pub hard_benign_conversations: u64,
    pub hard_benign_conversations_alerted: u64,
    pub other_messages: Count,
    pub other_conversations_alerted: u64,
}

pub fn evaluate_sim(seed: u64, days: u32, config: &ConversationConfig) -> SimReport {
    let sim_config = custos_sim::SimConfig {
        seed,
        days,
        agents: 60,
        customers: 6_000,
        jitter: false,
        ..custos_sim::SimConfig::default()
    };
    let Ok(mut sim) = custos_sim::Simulator::new(sim_config) else {
        return SimReport::default();
    };
    let lines: Vec<String> = sim.by_ref().collect();
    let truth = sim.truth().clone();
    let mut inducement_ids = HashSet::new();
    let mut call_convs = HashSet::new();
    let mut hard_ids = HashSet::new();
    let mut hard_convs = HashSet::new();
    for attack in &truth.attacks {
        if let custos_sim::Attack::FakeSupportCall(call) = attack {
            inducement_ids.extend(call.inducement_event_ids.iter().cloned());
            call_convs.insert(call.conversation_id.clone());
        }
    }
    for benign in &truth.benign {
        if let custos_sim::Benign::HardBenignConversation(h) = benign {
            hard_ids.extend(h.event_ids.iter().cloned());
            hard_convs.insert(h.conversation_id.clone());
        }
    }
    let Ok(mut detector) = ConversationDetector::new(config.clone()) else {
        return SimReport::default();
    };
    let Ok(guard) = Guard::new() else {
        return SimReport::default();
    };
    let mut ctx = Context::default();
    let mut alerted: HashSet<String> = HashSet::new();
    let mut r = SimReport {
        calls: call_convs.len() as u64,
        hard_benign_conversations: hard_convs.len() as u64,
        ..SimReport::default()
    };
    for (i, line) in lines.iter().enumerate() {
        let Ok(event) = custos_core::parse::parse_event(line, || (i + 1).to_string()) else {
            continue;
        };
        if let EventBody::Message(m) = &event.body {
            let speaker = custos_conversation::Speaker {
                agent: m.sender_role == Some(custos_core::event::SenderRole::Agent),
                outbound: m.direction == Some(custos_core::event::Direction::Outbound),
            };
            let s = guard.score(&m.text, speaker, 2.0).score;
            let flagged = s >= config.suspicious_threshold;
            let scam = s >= config.scam_threshold;
            let id = event.id.as_str();
            if inducement_ids.contains(id) {
                r.inducements.add(flagged, scam);
            } else if hard_ids.contains(id) {
                r.hard_benign_messages.add(flagged, scam);
            } else if !call_convs.contains(m.conversation_id.as_str()) {
                r.other_messages.add(flagged, scam);
            }
        }
        for signal in detector.observe(&event, &mut ctx) {
            if let Signal::Alert(a) = signal {
                alerted.insert(a.entity.id.clone());
            }
        }
    }
    for conv in &alerted {
        if call_convs.contains(conv) {
            r.calls_alerted += 1;
        } else if hard_convs.contains(conv) {
            r.hard_benign_conversations_alerted += 1;
        } else {
            r.other_conversations_alerted += 1;
        }
    }
    r
}

impl SimReport {
    pub fn to_markdown(&self) -> String {
        format!(
            "| custos-sim (out of distribution) | value |\n|---|---|\n\
             | fake support calls alerted (conversation) | {} of {} = {} |\n\
             | inducement messages flagged alone | {} of {} = {} (scam verdict {}) |\n\
             | hard-benign conversations alerted | {} of {} |\n\
             | hard-benign messages flagged | {} of {} = {} |\n\
             | other messages flagged | {} of {} = {} |\n\
             | other conversations alerted | {} |\n",
            self.calls_alerted,
            self.calls,
            pct(if self.calls == 0 {
                0.0
            } else {
                self.calls_alerted as f64 / self.calls as f64
            }),
            self.inducements.flagged,
            self.inducements.total,
            pct(self.inducements.rate()),
            pct(self.inducements.scam_rate()),
            self.hard_benign_conversations_alerted,
            self.hard_benign_conversations,
            self.hard_benign_messages.flagged,
            self.hard_benign_messages.total,
            pct(self.hard_benign_messages.rate()),
            self.other_messages.flagged,
            self.other_messages.total,
            pct(self.other_messages.rate()),
            self.other_conversations_alerted,
        )
    }
}

/// The UCI SMS ham is split in two halves by a hash of the message text
/// (FNV-1a 64, even = tuning, odd = held out), so identical messages (UCI
/// has many) always fall in the same half and the split does not depend on
/// the file's order. Rules and corpus templates may be tuned by looking at
/// the tuning half; the held-out half is only measured. Nothing of either
/// half is trained on.
pub const UCI_HAM_TUNING: &str = "uci_sms_ham.tuning";
pub const UCI_HAM_HELD_OUT: &str = "uci_sms_ham.held_out";

pub fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

pub fn uci_ham_half(text: &str) -> &'static str {
    if fnv1a(text.trim()) % 2 == 0 {
        UCI_HAM_TUNING
    } else {
        UCI_HAM_HELD_OUT
    }
}

/// Public corpora installed by `scripts/install_public_corpora.sh` (UCI SMS
/// ham (as its two halves, see [`uci_ham_half`]) and spam, chatterbot small
/// talk) as `(set, text)`, one text per line,
/// if present: in `$CUSTOS_CORPORA`, else `<workspace>/target/corpora`
/// (outside git), else the crate's `corpus/public` (older installs).
pub fn public_negatives() -> Option<Vec<(String, String)>> {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dirs: Vec<std::path::PathBuf> = match std::env::var_os("CUSTOS_CORPORA") {
        Some(dir) => vec![dir.into()],
        None => vec![
            manifest.join("../../target/corpora"),
            manifest.join("corpus/public"),
        ],
    };
    let dir = dirs
        .into_iter()
        .find(|d| d.join("uci_sms_ham.txt").is_file() || d.join("chatterbot.txt").is_file())?;
    let mut out = Vec::new();
    for (name, file) in [
        ("uci_sms_ham", "uci_sms_ham.txt"),
        ("uci_sms_spam", "uci_sms_spam.txt"),
        ("chatterbot", "chatterbot.txt"),
    ] {
        if let Ok(text) = std::fs::read_to_string(dir.join(file)) {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let set = if name == "uci_sms_ham" {
                    uci_ham_half(line)
                } else {
                    name
                };
                out.push((set.to_owned(), line.to_owned()));
            }
        }
    }
    if out.is_empty() { None } else { Some(out) }
}
