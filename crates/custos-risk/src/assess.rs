//! Feature extraction: what is unusual about an action, given the profile
//! as it was before the action (point in time), the directory record, the
//! marks on the customer, the protection state and the resolved location.
//! Pure: no IO, no clock (the decision clock comes in as `now`).

use crate::config::RiskConfig;
use crate::geo::{self, GeoResolution, Location};
use crate::profile::{ApiKeyDiff, Profile, hash_str, median_mad};
use crate::protection::{AccountProtection, AllowListStatus};
use crate::signal::{Fired, SignalKind, SignalSet};
use custos_core::detector::codes;
use custos_core::event::{CustomerAction, CustomerActionKind, CustomerRecord, SecuritySetting};
use custos_core::id::EventId;
use custos_core::time::{EventTime, Span};
use std::net::IpAddr;

/// The action to decide.
#[derive(Clone, Copy, Debug)]
pub struct ActionRequest<'a> {
    /// The event's id, when it has one (the pipeline's always does).
    pub event_id: Option<&'a EventId>,
    /// When the action happens (the event's `ts`).
    pub ts: EventTime,
    pub action: &'a CustomerAction,
}

/// A mark on the customer, as the decision needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct MarkFact {
    pub code: String,
    pub source: String,
    pub since: EventTime,
}

/// Everything known about the customer when deciding.
#[derive(Clone, Copy, Debug)]
pub struct Facts<'a> {
    /// The decision clock: wall time over HTTP, the latest event time in a
    /// replay. Clock skew is measured against it.
    pub now: EventTime,
    pub customer: Option<&'a CustomerRecord>,
    pub profile: Option<&'a Profile>,
    pub marks: &'a [MarkFact],
    pub protection: Option<&'a AccountProtection>,
    pub geo: &'a GeoResolution,
}

/// The signals an action raised, with details, and its parsed IP.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Assessment {
    pub signals: SignalSet,
    pub fired: Vec<Fired>,
    /// The customer's history was empty.
    pub cold: bool,
}

impl Assessment {
    fn fire(&mut self, kind: SignalKind, detail: String) {
        if !self.signals.contains(kind) {
            self.signals.insert(kind);
            self.fired.push(Fired { kind, detail });
        }
    }
}

/// The parsed IP of an action, or why there is none.
pub fn parse_ip(action: &CustomerAction) -> Result<IpAddr, SignalKind> {
    match action.ip.as_deref().map(str::trim) {
        None | Some("") => Err(SignalKind::IpMissing),
        Some(text) => text.parse().map_err(|_| SignalKind::IpInvalid),
    }
}

fn hours(span: Span) -> f64 {
    span.as_secs_f64() / 3600.0
}

fn fmt_usd(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("${v:.0}")
    } else {
        format!("${v:.2}")
    }
}

/// Computes the signals of one action.
pub fn assess(req: &ActionRequest<'_>, facts: &Facts<'_>, config: &RiskConfig) -> Assessment {
    let mut a = Assessment::default();
    let action = req.action;
    let kind = action.action;
    let profile = facts.profile.filter(|p| p.actions > 0);
    a.cold = profile.is_none();
    let money_moving = matches!(
        kind,
        CustomerActionKind::Withdrawal | CustomerActionKind::AddressAdd
    );

    // --- input quality -----------------------------------------------------
    let skew = req.ts.since(facts.now);
    if skew > Span::from_secs(i64::from(config.clock_skew_future_secs)) {
        a.fire(
            SignalKind::ClockSkew,
            format!(
                "action time is {:.0} s ahead of the decision clock (limit {} s)",
                skew.as_secs_f64(),
                config.clock_skew_future_secs
            ),
        );
    } else if -skew.as_secs_f64() > f64::from(config.clock_skew_past_secs) {
        a.fire(
            SignalKind::ClockSkew,
            format!(
                "action time is {:.1} h behind the decision clock (limit {:.1} h)",
                -hours(skew),
                f64::from(config.clock_skew_past_secs) / 3600.0
            ),
        );
    }
    if facts.customer.is_none() && profile.is_none() {
        a.fire(
            SignalKind::UnknownCustomer,
            format!(
                "no directory record and no history for `{}`",
                action.customer_id
            ),
        );
    }
    let device = action
        .device_id
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    if device.is_none() {
        a.fire(
            SignalKind::DeviceMissing,
            "the action carries no device fingerprint".into(),
        );
    }
    let ip = match parse_ip(action) {
        Ok(ip) => Some(ip),
        Err(SignalKind::IpMissing) => {
            a.fire(SignalKind::IpMissing, "the action carries no IP".into());
            None
        }
        Err(_) => {
            a.fire(
                SignalKind::IpInvalid,
                format!(
                    "`{}` is not an IP address",
                    action.ip.as_deref().unwrap_or_default()
                ),
            );
            None
        }
    };
    if let Some(ip) = ip {
        if geo::classify(ip) == geo::IpKind::Unroutable {
            a.fire(
                SignalKind::IpPrivate,
                format!(
                    "`{ip}` is private or unroutable: it says nothing about where the customer is"
                ),
            );
        }
    }
    let location: Option<&Location> = match facts.geo {
        GeoResolution::FromEvent(l) | GeoResolution::FromLookup(l) => Some(l),
        GeoResolution::Invalid(why) => {
            a.fire(SignalKind::GeoInvalid, format!("bad `geo`: {why}"));
            None
        }
        GeoResolution::PrivateIp => {
            a.fire(
                SignalKind::GeoUnknown,
                "no `geo`, and a private IP cannot be located".into(),
            );
            None
        }
        GeoResolution::Unknown(why) => {
            a.fire(SignalKind::GeoUnknown, format!("location unknown: {why}"));
            None
        }
    };
    let amount = action.amount_usd;
    if kind == CustomerActionKind::Withdrawal {
        match amount {
            None => a.fire(
                SignalKind::AmountInvalid,
                "a withdrawal without `amount_usd`".into(),
            ),
            Some(v) if !v.is_finite() || v <= 0.0 || v > config.max_amount_usd => a.fire(
                SignalKind::AmountInvalid,
                format!(
                    "amount `{v}` is not a positive number up to {:.0e}",
                    config.max_amount_usd
                ),
            ),
            Some(_) => {}
        }
    } else if let Some(v) = amount {
        if !v.is_finite() || v < 0.0 || v > config.max_amount_usd {
            a.fire(SignalKind::AmountInvalid, format!("amount `{v}` is absurd"));
        }
    }
    let amount = amount.filter(|v| v.is_finite() && *v > 0.0 && *v <= config.max_amount_usd);

    // --- cross-signals and protection state -----------------------------------
    for mark in facts.marks {
        let kind = match mark.code.as_str() {
            codes::READ_BY_SUSPECT_AGENT => SignalKind::MarkReadBySuspectAgent,
            codes::LEAK_VICTIM => SignalKind::MarkLeakVictim,
            codes::SCAM_CONVERSATION => SignalKind::MarkScamConversation,
            codes::SCAM_REPORTED => SignalKind::MarkScamReported,
            _ => continue,
        };
        a.fire(
            kind,
            format!(
                "`{}` (by {}) {:.1} h ago",
                mark.code,
                mark.source,
                hours(req.ts.since(mark.since)).max(0.0)
            ),
        );
    }
    if let Some(p) = facts.protection {
        if p.is_frozen(req.ts) {
            a.fire(SignalKind::AccountFrozen, "the account is frozen".into());
        }
        if p.is_locked(req.ts) {
            a.fire(
                SignalKind::SecurityLocked,
                "security settings are locked".into(),
            );
        }
        if kind == CustomerActionKind::Withdrawal {
            if let Some(dest) = action.destination.as_deref() {
                match p.allow_list_status(dest, req.ts) {
                    AllowListStatus::NotListed => a.fire(
                        SignalKind::AllowListBlocked,
                        "destination is not on the withdrawal allow-list".into(),
                    ),
                    AllowListStatus::Locked(until) => a.fire(
                        SignalKind::AllowListBlocked,
                        format!(
                            "destination is time-locked on the allow-list for {:.1} h more",
                            hours(until.since(req.ts))
                        ),
                    ),
                    AllowListStatus::Disabled | AllowListStatus::Allowed => {}
                }
            }
        }
    }

    // --- the action itself -----------------------------------------------------
    if kind == CustomerActionKind::SecurityChange
        && matches!(
            action.setting,
            Some(
                SecuritySetting::TwoFactorDisable
                    | SecuritySetting::TwoFactorReset
                    | SecuritySetting::Email
            )
        )
    {
        let setting = action.setting.map_or("", |s| s.as_str());
        a.fire(
            SignalKind::SensitiveSecurityChange,
            format!("`{setting}` weakens account recovery or second factor"),
        );
    }
    if let Some(spec) = action.api_key.as_ref().filter(|_| {
        matches!(
            kind,
            CustomerActionKind::ApiKeyCreate | CustomerActionKind::ApiKeyUpdate
        )
    }) {
        let before = profile.and_then(|p| p.api_key(hash_str(&spec.key_id)));
        let diff = ApiKeyDiff::compute(before, spec);
        if diff.withdraw_open() {
            a.fire(
                SignalKind::ApiKeyWithdrawOpen,
                format!(
                    "key `{}` can withdraw from any IP (empty ip_whitelist)",
                    spec.key_id
                ),
            );
        }
        if diff.withdraw_added() {
            a.fire(
                SignalKind::ApiKeyWithdrawAdded,
                format!(
                    "key `{}` gained `withdraw` (added: {})",
                    spec.key_id,
                    diff.permissions_added.names().join(", ")
                ),
            );
        }
        if diff.whitelist_removed() {
            a.fire(
                SignalKind::ApiKeyWhitelistRemoved,
                format!(
                    "key `{}` ip_whitelist went from {} to {} entries",
                    spec.key_id,
                    diff.whitelist_before.unwrap_or(0),
                    diff.whitelist_after
                ),
            );
        }
    }

    // --- against the customer's norm ----------------------------------------------
    let home = facts
        .customer
        .and_then(|c| c.country.as_deref())
        .and_then(geo::parse_country);
    if let Some(country) = location.and_then(|l| l.country) {
        let key = u64::from(u16::from_be_bytes(country));
        let seen = profile.is_some_and(|p| p.countries.get(key).is_some());
        let known_elsewhere = profile.is_some_and(|p| !p.countries.is_empty()) || home.is_some();
        if !seen && home != Some(country) && known_elsewhere {
            let usual: Vec<String> = home
                .iter()
                .map(|h| geo::country_str(h).to_owned())
                .chain(profile.into_iter().flat_map(|p| {
                    p.countries
                        .iter()
                        .map(|s| {
                            let b = (s.key as u16).to_be_bytes();
                            String::from_utf8_lossy(&b).into_owned()
                        })
                        .collect::<Vec<_>>()
                }))
                .collect();
            let mut usual = usual;
            usual.sort();
            usual.dedup();
            a.fire(
                SignalKind::NewCountry,
                format!(
                    "`{}` never seen for this customer (usual: {})",
                    geo::country_str(&country),
                    usual.join(", ")
                ),
            );
        }
    }
    let Some(profile) = profile else {
        a.fire(
            SignalKind::NoHistory,
            "first action custos sees for this customer".into(),
        );
        destination_signals(&mut a, req, None, facts, amount, config);
        return a;
    };
    let thin = profile.actions < config.min_history_actions;
    if thin {
        a.fire(
            SignalKind::ThinHistory,
            format!(
                "{} actions of history (novelty counts from {})",
                profile.actions, config.min_history_actions
            ),
        );
    }
    if let Some(device) = device {
        let trusted_for = Span::from_hours(i64::from(config.device_trust_hours));
        let novel = match profile.devices.get(hash_str(device)) {
            None => Some(format!(
                "device `{device}` never seen ({} known, {} actions)",
                profile.devices.len(),
                profile.actions
            )),
            Some(seen) if !seen.trusted && req.ts.since(seen.first) < trusted_for => Some(format!(
                "device `{device}` first seen {:.1} h ago and not yet trusted",
                hours(req.ts.since(seen.first))
            )),
            Some(_) => None,
        };
        if let Some(detail) = novel {
            let kind = if thin {
                SignalKind::DeviceUnfamiliar
            } else {
                SignalKind::NewDevice
            };
            a.fire(kind, detail);
        }
    }
    if let Some(ip) = ip.filter(|ip| !thin && geo::classify(*ip) == geo::IpKind::Public) {
        if !profile.networks.is_empty() && profile.networks.get(geo::network_key(ip)).is_none() {
            a.fire(
                SignalKind::NewNetwork,
                format!(
                    "network of `{ip}` never seen ({} known)",
                    profile.networks.len()
                ),
            );
        }
    }
    if let (Some((then, lat, lon)), Some((lat2, lon2))) =
        (profile.last_location, location.and_then(|l| l.coords))
    {
        let km = geo::haversine_km((lat, lon), (lat2, lon2));
        let h = hours(req.ts.since(then)).max(1.0 / 60.0);
        let speed = km / h;
        if km >= config.impossible_travel_min_km && speed > config.impossible_travel_kmh {
            a.fire(
                SignalKind::ImpossibleTravel,
                format!(
                    "{km:.0} km from the last location in {h:.1} h ({speed:.0} km/h, limit {:.0})",
                    config.impossible_travel_kmh
                ),
            );
        }
    }
    let (near, total) = profile.hour_share(req.ts.hour_of_day());
    if total >= config.unusual_hour_min_observations
        && f64::from(near) <= config.unusual_hour_max_share * f64::from(total)
    {
        a.fire(
            SignalKind::UnusualHour,
            format!(
                "{:02}:00 UTC: {near} of {total} past actions within an hour of it",
                req.ts.hour_of_day()
            ),
        );
    }
    if money_moving && !thin {
        if let Some(asset) = action.asset.as_deref() {
            let observed: u32 = profile.assets.iter().map(|s| s.count).sum();
            if observed >= 3
                && profile
                    .assets
                    .get(hash_str(&asset.to_ascii_uppercase()))
                    .is_none()
            {
                a.fire(
                    SignalKind::NewAsset,
                    format!(
                        "`{asset}` never withdrawn or saved before ({} assets known)",
                        profile.assets.len()
                    ),
                );
            }
        }
    }
    if kind == CustomerActionKind::Withdrawal {
        if let Some(v) = amount {
            let history = profile.amounts();
            if history.len() >= config.amount_min_history && v >= config.amount_outlier_min_usd {
                if let Some((median, mad)) = median_mad(history) {
                    // MAD floored: a customer who always withdraws the same
                    // amount is not alarming at twice it.
                    let scale = (1.4826 * mad).max(0.5);
                    let z = (v.ln() - median) / scale;
                    if z >= config.amount_outlier_z {
                        a.fire(
                            SignalKind::AmountOutlier,
                            format!(
                                "{} vs a median of {} over {} withdrawals (robust z {z:.1})",
                                fmt_usd(v),
                                fmt_usd(median.exp()),
                                history.len()
                            ),
                        );
                    }
                }
            }
        }
    }
    let velocity_window = Span::from_hours(i64::from(config.security_velocity_hours));
    if kind == CustomerActionKind::SecurityChange {
        let recent = profile
            .security_changes
            .iter()
            .filter(|t| {
                req.ts.since(**t) <= velocity_window && req.ts.since(**t) >= Span::from_micros(0)
            })
            .count()
            + 1;
        if recent >= config.security_velocity_count {
            a.fire(
                SignalKind::SecurityChangeVelocity,
                format!(
                    "{recent} security changes in {} h (limit {})",
                    config.security_velocity_hours,
                    config.security_velocity_count - 1
                ),
            );
        }
    }
    destination_signals(&mut a, req, Some(profile), facts, amount, config);
    a
}

fn destination_signals(
    a: &mut Assessment,
    req: &ActionRequest<'_>,
    profile: Option<&Profile>,
    facts: &Facts<'_>,
    amount: Option<f64>,
    config: &RiskConfig,
) {
    let action = req.action;
    let kind = action.action;
    let balance = facts
        .customer
        .and_then(|c| c.balance_usd)
        .filter(|b| b.is_finite() && *b > 0.0);
    if let Some(balance) = balance {
        if balance >= config.high_value_usd {
            a.fire(
                SignalKind::HighValueAccount,
                format!(
                    "balance {} (high value from {})",
                    fmt_usd(balance),
                    fmt_usd(config.high_value_usd)
                ),
            );
        }
    }
    if let (true, Some(v), Some(balance)) =
        (kind == CustomerActionKind::Withdrawal, amount, balance)
    {
        if v >= config.drain_min_usd {
            let share = v / balance;
            let detail = format!(
                "{} is {:.0}% of the {} balance",
                fmt_usd(v),
                100.0 * share,
                fmt_usd(balance)
            );
            if share >= config.drain_share {
                a.fire(
                    SignalKind::DrainsBalance,
                    format!("{detail} (limit {:.0}%)", 100.0 * config.drain_share),
                );
            }
            if share >= config.large_share {
                a.fire(
                    SignalKind::LargeWithdrawal,
                    format!("{detail} (limit {:.0}%)", 100.0 * config.large_share),
                );
            }
        }
    }
    if !matches!(
        kind,
        CustomerActionKind::Withdrawal | CustomerActionKind::AddressAdd
    ) {
        return;
    }
    let Some(dest) = action.destination.as_deref() else {
        return;
    };
    let known = profile.and_then(|p| p.destination(hash_str(dest)));
    match (kind, known) {
        (CustomerActionKind::AddressAdd, None) => {
            a.fire(
                SignalKind::NewDestination,
                "a new address in the address book".into(),
            );
        }
        (CustomerActionKind::Withdrawal, None) => {
            a.fire(
                SignalKind::NewDestination,
                "destination never seen for this customer".into(),
            );
            a.fire(
                SignalKind::DestinationUnlisted,
                "withdrawal to an address never added to the address book nor used".into(),
            );
        }
        (CustomerActionKind::Withdrawal, Some(d)) if d.withdrawals == 0 => {
            let age = req.ts.since(d.first);
            if age < Span::from_hours(i64::from(config.destination_recent_hours)) {
                a.fire(
                    SignalKind::DestinationRecent,
                    format!(
                        "first withdrawal to an address added {:.1} h ago",
                        hours(age).max(0.0)
                    ),
                );
            }
        }
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::decision::Outcome;
    use crate::profile::Observation;
    use custos_core::event::{ApiKeySpec, Geo, Tier};
    use custos_core::id::CustomerId;

    const T0: i64 = 1_740_960_000;

    fn at(hours: f64) -> EventTime {
        EventTime::from_micros((T0 as f64 * 1e6 + hours * 3.6e9) as i64)
    }

    fn action(kind: CustomerActionKind) -> CustomerAction {
        CustomerAction {
            customer_id: CustomerId::parse("c-1").unwrap(),
            action: kind,
            ip: Some("23.1.2.3".into()),
            device_id: Some("fp-home".into()),
            geo: Some(Geo {
                country: Some("US".into()),
                lat: Some(40.7),
                lon: Some(-74.0),
            }),
            amount_usd: None,
            asset: None,
            destination: None,
            api_key: None,
            setting: None,
        }
    }

    fn record() -> CustomerRecord {
        CustomerRecord {
            customer_id: CustomerId::parse("c-1").unwrap(),
            tier: Tier::Retail,
            balance_usd: Some(10_000.0),
            country: Some("US".into()),
            created_at: None,
        }
    }

    /// A customer who logged in from home and withdrew $100 of BTC to a
    /// saved address a few times, in the afternoon.
    fn history(config: &RiskConfig) -> Profile {
        let mut p = Profile::default();
        let loc = Location {
            country: Some(*b"US"),
            coords: Some((40.7, -74.0)),
        };
        for day in 0..20 {
            let ts = at(f64::from(day) * 24.0 + 14.0);
            let ip: IpAddr = "23.1.2.3".parse().unwrap();
            for kind in [CustomerActionKind::Login, CustomerActionKind::Withdrawal] {
                let withdrawal = kind == CustomerActionKind::Withdrawal;
                p.learn(
                    &Observation {
                        ts,
                        kind,
                        device: Some("fp-home"),
                        network: Some(geo::network_key(ip)),
                        location: Some(&loc),
                        asset: withdrawal.then_some("BTC"),
                        destination: withdrawal.then_some("bc1qsaved"),
                        amount_usd: withdrawal.then_some(100.0 + f64::from(day)),
                        api_key: None,
                        signals: SignalSet::EMPTY,
                        outcome: Outcome::Allow,
                    },
                    config,
                );
            }
        }
        p
    }

    fn signals_of(
        a: &CustomerAction,
        ts: EventTime,
        profile: Option<&Profile>,
    ) -> Vec<&'static str> {
        let config = RiskConfig::default();
        let rec = record();
        let geo = geo::resolve(a.geo.as_ref(), parse_ip(a).ok(), None);
        let facts = Facts {
            now: ts,
            customer: Some(&rec),
            profile,
            marks: &[],
            protection: None,
            geo: &geo,
        };
        let req = ActionRequest {
            event_id: None,
            ts,
            action: a,
        };
        assess(&req, &facts, &config)
            .signals
            .iter()
            .map(SignalKind::as_str)
            .collect()
    }

    #[test]
    fn signals_against_the_customer_history() {
        let config = RiskConfig::default();
        let p = history(&config);
        let ts = at(19.0 * 24.0 + 15.0);
        type Edit = fn(&mut CustomerAction);
        let table: Vec<(&str, CustomerActionKind, Edit, Vec<&str>)> = vec![
            ("usual login", CustomerActionKind::Login, |_| {}, vec![]),
            (
                "new device",
                CustomerActionKind::Login,
                |a| a.device_id = Some("fp-new".into()),
                vec!["new_device"],
            ),
            (
                "abroad, an hour after New York",
                CustomerActionKind::Login,
                |a| {
                    a.ip = Some("5.31.0.9".into());
                    a.geo = Some(Geo {
                        country: Some("RU".into()),
                        lat: Some(55.8),
                        lon: Some(37.6),
                    });
                },
                vec!["new_network", "new_country", "impossible_travel"],
            ),
            (
                "usual withdrawal",
                CustomerActionKind::Withdrawal,
                |a| {
                    a.amount_usd = Some(110.0);
                    a.asset = Some("BTC".into());
                    a.destination = Some("bc1qsaved".into());
                },
                vec![],
            ),
            (
                "drain to a fresh address in a new asset",
                CustomerActionKind::Withdrawal,
                |a| {
                    a.amount_usd = Some(9_000.0);
                    a.asset = Some("XMR".into());
                    a.destination = Some("4fresh".into());
                },
                vec![
                    "new_asset",
                    "new_destination",
                    "destination_unlisted",
                    "amount_outlier",
                    "drains_balance",
                    "large_withdrawal",
                ],
            ),
            (
                "2fa reset",
                CustomerActionKind::SecurityChange,
                |a| a.setting = Some(SecuritySetting::TwoFactorReset),
                vec!["sensitive_security_change"],
            ),
            (
                "open withdraw key",
                CustomerActionKind::ApiKeyCreate,
                |a| {
                    a.api_key = Some(ApiKeySpec {
                        key_id: "k-9".into(),
                        permissions: vec!["read".into(), "withdraw".into()],
                        ip_whitelist: vec![],
                    })
                },
                vec!["api_key_withdraw_open"],
            ),
            (
                "bad input",
                CustomerActionKind::Withdrawal,
                |a| {
                    a.ip = None;
                    a.device_id = None;
                    a.amount_usd = Some(f64::NAN);
                    a.geo = Some(Geo {
                        country: None,
                        lat: Some(200.0),
                        lon: Some(0.0),
                    });
                },
                vec![
                    "ip_missing",
                    "device_missing",
                    "geo_invalid",
                    "amount_invalid",
                ],
            ),
            (
                "negative amount",
                CustomerActionKind::Withdrawal,
                |a| a.amount_usd = Some(-5.0),
                vec!["amount_invalid"],
            ),
            (
                "absurd amount",
                CustomerActionKind::Withdrawal,
                |a| a.amount_usd = Some(2e12),
                vec!["amount_invalid"],
            ),
            (
                "private ip, no geo",
                CustomerActionKind::Login,
                |a| {
                    a.ip = Some("192.168.1.4".into());
                    a.geo = None;
                },
                vec!["geo_unknown", "ip_private"],
            ),
            (
                "unparseable ip",
                CustomerActionKind::Login,
                |a| a.ip = Some("not-an-ip".into()),
                vec!["ip_invalid"],
            ),
        ];
        for (name, kind, edit, expect) in table {
            let mut a = action(kind);
            edit(&mut a);
            let mut got = signals_of(&a, ts, Some(&p));
            got.retain(|s| *s != "new_network" || expect.contains(&"new_network"));
            let mut expect = expect;
            expect.sort();
            got.sort();
            assert_eq!(got, expect, "{name}");
        }
    }

    #[test]
    fn unknown_customer_and_clock_skew_are_explicit() {
        let config = RiskConfig::default();
        let a = action(CustomerActionKind::Withdrawal);
        let geo = GeoResolution::Unknown("test");
        let facts = Facts {
            now: at(0.0),
            customer: None,
            profile: None,
            marks: &[],
            protection: None,
            geo: &geo,
        };
        let req = ActionRequest {
            event_id: None,
            ts: at(2.0),
            action: &a,
        };
        let got = assess(&req, &facts, &config);
        for kind in [
            SignalKind::UnknownCustomer,
            SignalKind::ClockSkew,
            SignalKind::GeoUnknown,
            SignalKind::AmountInvalid,
            SignalKind::NoHistory,
        ] {
            assert!(got.signals.contains(kind), "{kind}: {:?}", got.fired);
        }
    }

    #[test]
    fn marks_become_signals() {
        let config = RiskConfig::default();
        let a = action(CustomerActionKind::Login);
        let rec = record();
        let geo = GeoResolution::Unknown("test");
        let marks = [MarkFact {
            code: codes::SCAM_CONVERSATION.into(),
            source: "conversation".into(),
            since: at(-2.0),
        }];
        let facts = Facts {
            now: at(0.0),
            customer: Some(&rec),
            profile: None,
            marks: &marks,
            protection: None,
            geo: &geo,
        };
        let req = ActionRequest {
            event_id: None,
            ts: at(0.0),
            action: &a,
        };
        let got = assess(&req, &facts, &config);
        assert!(got.signals.contains(SignalKind::MarkScamConversation));
        assert!(
            got.fired.iter().any(|f| f.detail.contains("2.0 h ago")),
            "{:?}",
            got.fired
        );
    }
}
