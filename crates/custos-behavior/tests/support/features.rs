//! Per agent-day features for the unsupervised baseline (an isolation
//! forest, `baseline/isolation_forest.py`): the same signals
//! `agent_behavior` weighs, counted per agent and UTC day, labelled from the
//! simulator's truth afterwards.

#![allow(dead_code, clippy::expect_used)]

use custos_behavior::{FieldMask, needed_fields};
use custos_core::detector::{Context, Detector, Signal};
use custos_core::event::{AccessAction, Event, EventBody, OpenedBy, Tier};
use custos_core::parse::parse_event;
use custos_core::{Pipeline, PipelineConfig};
use custos_sim::{Attack, Simulator};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

pub const HEADER: &str = "seed,agent,day,records,distinct_customers,off_ticket,self_opened,not_assigned,sensitive_beyond,high_value,off_shift,new_device,reveals_exports,max_per_hour,style,attack_id";

#[derive(Default, Clone)]
struct Row {
    counts: [u32; 11],
    customers: HashSet<String>,
    hours: BTreeMap<i64, u32>,
    style: String,
    attack: String,
}

#[derive(Default)]
struct Tap {
    rows: BTreeMap<(String, i64), Row>,
    devices: HashMap<String, HashSet<String>>,
    access_day: HashMap<String, (String, i64)>,
}

struct FeatureTap(Arc<Mutex<Tap>>);

impl Detector for FeatureTap {
    fn name(&self) -> &'static str {
        "feature_tap"
    }
    fn observe(&mut self, event: &Event, ctx: &mut Context) -> Vec<Signal> {
        let EventBody::AgentAccess(a) = &event.body else {
            return Vec::new();
        };
        let mut tap = self.0.lock().expect("tap lock");
        let tap = &mut *tap;
        let day = event.ts.day_index();
        let agent = a.agent_id.as_str().to_owned();
        tap.access_day
            .insert(event.id.as_str().to_owned(), (agent.clone(), day));
        let known = tap.devices.entry(agent.clone()).or_default();
        let new_device = a
            .device_id
            .as_ref()
            .is_some_and(|d| !known.is_empty() && !known.contains(d));
        let row = tap.rows.entry((agent, day)).or_default();
        let (mut category, mut off, mut selfo, mut notas) = (None, false, false, false);
        match &a.ticket_id {
            None => off = true,
            Some(t) => match ctx.directory.ticket(t) {
                None => notas = true,
                Some(s) => {
                    let mine = s.ticket.agent_id.as_ref() == Some(&a.agent_id);
                    notas = !mine;
                    selfo = mine && s.ticket.opened_by == Some(OpenedBy::Agent);
                    category = s.ticket.category.clone();
                }
            },
        }
        let beyond = FieldMask::of(&a.fields).minus(needed_fields(if off {
            None
        } else {
            Some(category.as_deref().unwrap_or(""))
        }));
        let high = a
            .customer_id
            .as_ref()
            .and_then(|c| ctx.directory.customer(c))
            .is_some_and(|c| c.tier != Tier::Retail || c.balance_usd.unwrap_or(0.0) >= 50_000.0);
        let off_shift = ctx
            .directory
            .agent(&a.agent_id)
            .and_then(|r| r.shift)
            .is_some_and(|s| !s.contains_hour(event.ts.hour_of_day()));
        let c = &mut row.counts;
        c[0] += 1;
        c[2] += u32::from(off);
        c[3] += u32::from(selfo);
        c[4] += u32::from(notas);
        c[5] += u32::from(!beyond.sensitive().is_empty());
        c[6] += u32::from(high);
        c[7] += u32::from(off_shift);
        c[8] += u32::from(new_device);
        c[9] += u32::from(matches!(
            a.action,
            AccessAction::Reveal | AccessAction::Export
        ));
        if let Some(cid) = &a.customer_id {
            row.customers.insert(cid.as_str().to_owned());
        }
        *row.hours
            .entry(event.ts.as_micros() / 3_600_000_000)
            .or_default() += 1;
        if !off
            && !notas
            && !off_shift
            && let Some(d) = &a.device_id
        {
            known.insert(d.clone());
        }
        Vec::new()
    }
}

/// Runs one seed and returns its CSV rows (no header).
pub fn feature_rows(seed: u64) -> Vec<String> {
    let tap = Arc::new(Mutex::new(Tap::default()));
    let detectors: Vec<Box<dyn Detector>> = vec![Box::new(FeatureTap(tap.clone()))];
    let mut pipeline = Pipeline::new(PipelineConfig::default(), detectors);
    let mut sim = Simulator::new(super::eval::sim_config(seed)).expect("valid sim config");
    let mut out = Vec::new();
    for (n, line) in sim.by_ref().enumerate() {
        let event = parse_event(&line, || (n + 1).to_string()).expect("simulated events parse");
        pipeline.push(event, &mut out);
        out.clear();
    }
    pipeline.finish(&mut out);
    let mut tap = tap.lock().expect("tap lock");
    let tap = &mut *tap;
    for attack in &sim.truth().attacks {
        let Attack::InsiderHarvest(h) = attack else {
            continue;
        };
        for id in &h.event_ids {
            if let Some(key) = tap.access_day.get(id)
                && let Some(row) = tap.rows.get_mut(key)
            {
                row.style = h.style.clone();
                row.attack = h.attack_id.clone();
            }
        }
    }
    tap.rows
        .iter()
        .map(|((agent, day), row)| {
            let mut c = row.counts;
            c[1] = row.customers.len() as u32;
            c[10] = row.hours.values().copied().max().unwrap_or(0);
            let counts: Vec<String> = c.iter().map(u32::to_string).collect();
            format!(
                "{seed},{agent},{day},{},{},{}",
                counts.join(","),
                row.style,
                row.attack
            )
        })
        .collect()
}
