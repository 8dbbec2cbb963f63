//! Per-customer behavioral profiles: usual devices, networks, countries,
//! hours, assets, destinations, amounts, API keys and the recent actions
//! sequences match against. Memory per customer is bounded by the limits in
//! [`RiskConfig`]: every list evicts its least recently seen entry, and
//! strings are kept as 64-bit hashes.

use crate::config::RiskConfig;
use crate::decision::Outcome;
use crate::geo::Location;
use crate::signal::SignalSet;
use custos_core::event::{ApiKeySpec, CustomerActionKind};
use custos_core::id::CustomerId;
use custos_core::time::EventTime;
use std::collections::HashMap;

/// FNV-1a: a deterministic 64-bit hash (no per-process seed), so a replay
/// gives the same profiles on every machine.
pub fn hash_str(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Something seen in a customer's history.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Seen {
    pub key: u64,
    pub first: EventTime,
    pub last: EventTime,
    pub count: u32,
    /// Seen on an action that was allowed (or passed a step-up).
    pub trusted: bool,
}

/// A bounded list of [`Seen`] entries, least recently seen evicted first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeenList(Vec<Seen>);

impl SeenList {
    pub fn get(&self, key: u64) -> Option<&Seen> {
        self.0.iter().find(|s| s.key == key)
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Seen> {
        self.0.iter()
    }

    /// Records a sighting; returns the entry.
    pub fn touch(&mut self, key: u64, ts: EventTime, trusted: bool, cap: usize) -> &mut Seen {
        let index = match self.0.iter().position(|s| s.key == key) {
            Some(i) => i,
            None => {
                if self.0.len() >= cap {
                    if let Some(oldest) = self
                        .0
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, s)| (s.trusted, s.last))
                        .map(|(i, _)| i)
                    {
                        self.0.swap_remove(oldest);
                    }
                }
                self.0.push(Seen {
                    key,
                    first: ts,
                    last: ts,
                    count: 0,
                    trusted: false,
                });
                self.0.len() - 1
            }
        };
        let entry = &mut self.0[index];
        entry.last = entry.last.max(ts);
        entry.count = entry.count.saturating_add(1);
        entry.trusted |= trusted;
        entry
    }
}

/// A destination address in the customer's history.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Destination {
    pub key: u64,
    /// When it was first added (`address_add`) or used.
    pub first: EventTime,
    pub last: EventTime,
    /// Added through `address_add` (the address book) at least once.
    pub added: bool,
    /// Withdrawals to it that were allowed.
    pub withdrawals: u32,
}

/// An API key's permissions as custos last saw them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiKeyState {
    pub key: u64,
    pub permissions: Permissions,
    pub whitelist_len: u16,
}

/// API key permissions as bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Permissions(u8);

impl Permissions {
    pub const READ: Permissions = Permissions(1);
    pub const TRADE: Permissions = Permissions(2);
    pub const WITHDRAW: Permissions = Permissions(4);
    /// Any permission this version does not know: treated as powerful.
    pub const OTHER: Permissions = Permissions(8);

    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Permissions {
        let mut bits = 0;
        for name in names {
            bits |= match name.as_ref() {
                "read" => 1,
                "trade" => 2,
                "withdraw" | "withdrawal" | "transfer" => 4,
                _ => 8,
            };
        }
        Permissions(bits)
    }
    pub fn contains(self, other: Permissions) -> bool {
        self.0 & other.0 == other.0
    }
    /// Permissions in `self` that `before` lacked.
    pub fn added_since(self, before: Permissions) -> Permissions {
        Permissions(self.0 & !before.0)
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn names(self) -> Vec<&'static str> {
        [(1, "read"), (2, "trade"), (4, "withdraw"), (8, "other")]
            .into_iter()
            .filter(|(bit, _)| self.0 & bit != 0)
            .map(|(_, n)| n)
            .collect()
    }
}

/// What an API key change widened, as a typed diff.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiKeyDiff {
    /// The key was not known before (a create, or an update of an unseen key).
    pub new_key: bool,
    pub permissions_added: Permissions,
    /// IP whitelist entries before and after.
    pub whitelist_before: Option<u16>,
    pub whitelist_after: u16,
    pub has_withdraw: bool,
}

impl ApiKeyDiff {
    pub fn compute(before: Option<&ApiKeyState>, after: &ApiKeySpec) -> ApiKeyDiff {
        let permissions = Permissions::from_names(&after.permissions);
        let whitelist_after = u16::try_from(after.ip_whitelist.len()).unwrap_or(u16::MAX);
        ApiKeyDiff {
            new_key: before.is_none(),
            permissions_added: permissions
                .added_since(before.map(|b| b.permissions).unwrap_or_default()),
            whitelist_before: before.map(|b| b.whitelist_len),
            whitelist_after,
            has_withdraw: permissions.contains(Permissions::WITHDRAW),
        }
    }

    /// Withdraw added to an existing key.
    pub fn withdraw_added(&self) -> bool {
        !self.new_key && self.permissions_added.contains(Permissions::WITHDRAW)
    }

    /// Whitelist entries removed (emptied, or fewer) on an existing key.
    pub fn whitelist_removed(&self) -> bool {
        self.whitelist_before
            .is_some_and(|b| self.whitelist_after < b)
    }

    /// Withdraw permission usable from anywhere.
    pub fn withdraw_open(&self) -> bool {
        self.has_withdraw && self.whitelist_after == 0
    }
}

/// One of the customer's recent actions, as sequences see it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecentAction {
    pub ts: EventTime,
    pub kind: CustomerActionKind,
    pub signals: SignalSet,
    pub outcome: Outcome,
}

/// A customer's behavioral profile.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    pub first_seen: Option<EventTime>,
    pub last_seen: Option<EventTime>,
    pub actions: u32,
    pub devices: SeenList,
    pub networks: SeenList,
    /// Countries, keyed by the two letters as a number.
    pub countries: SeenList,
    pub assets: SeenList,
    pub destinations: Vec<Destination>,
    /// ln(amount USD) of recent withdrawals, a ring.
    amounts: Vec<f32>,
    amounts_next: u16,
    /// Actions per UTC hour of day.
    pub hours: [u16; 24],
    /// The last located action: time, latitude, longitude.
    pub last_location: Option<(EventTime, f64, f64)>,
    /// Times of recent security changes (bounded ring).
    pub security_changes: Vec<EventTime>,
    /// Recent actions, oldest first.
    pub recent: Vec<RecentAction>,
    pub api_keys: Vec<ApiKeyState>,
}

/// Median and MAD of a sample, in the sample's units.
pub fn median_mad(values: &[f32]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let mut v: Vec<f64> = values.iter().map(|x| f64::from(*x)).collect();
    v.sort_by(f64::total_cmp);
    let median = middle(&v);
    let mut dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
    dev.sort_by(f64::total_cmp);
    Some((median, middle(&dev)))
}

fn middle(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// What [`Profile::learn`] needs to know about an action.
pub struct Observation<'a> {
    pub ts: EventTime,
    pub kind: CustomerActionKind,
    pub device: Option<&'a str>,
    pub network: Option<u64>,
    pub location: Option<&'a Location>,
    pub asset: Option<&'a str>,
    pub destination: Option<&'a str>,
    pub amount_usd: Option<f64>,
    pub api_key: Option<&'a ApiKeySpec>,
    pub signals: SignalSet,
    pub outcome: Outcome,
}

impl Profile {
    pub fn amounts(&self) -> &[f32] {
        &self.amounts
    }

    pub fn destination(&self, key: u64) -> Option<&Destination> {
        self.destinations.iter().find(|d| d.key == key)
    }

    pub fn api_key(&self, key: u64) -> Option<&ApiKeyState> {
        self.api_keys.iter().find(|k| k.key == key)
    }

    /// Actions observed in an hour and its two neighbours, and in total.
    pub fn hour_share(&self, hour: u8) -> (u32, u32) {
        let total: u32 = self.hours.iter().map(|&h| u32::from(h)).sum();
        let h = usize::from(hour % 24);
        let near = [h + 23, h, h + 1]
            .iter()
            .map(|&i| u32::from(self.hours[i % 24]))
            .sum();
        (near, total)
    }

    /// Learns from an action after it was decided. What was denied or held
    /// did not happen: it goes into the recent actions (sequences see the
    /// attempt) but teaches nothing about what is usual.
    pub fn learn(&mut self, o: &Observation<'_>, config: &RiskConfig) {
        self.first_seen = Some(self.first_seen.map_or(o.ts, |f| f.min(o.ts)));
        self.last_seen = Some(self.last_seen.map_or(o.ts, |l| l.max(o.ts)));
        self.actions = self.actions.saturating_add(1);
        if self.recent.len() >= config.max_recent {
            self.recent.remove(0);
        }
        self.recent.push(RecentAction {
            ts: o.ts,
            kind: o.kind,
            signals: o.signals,
            outcome: o.outcome,
        });
        if o.kind == CustomerActionKind::SecurityChange {
            if self.security_changes.len() >= 8 {
                self.security_changes.remove(0);
            }
            self.security_changes.push(o.ts);
        }
        if o.outcome >= Outcome::Hold {
            return;
        }
        let trusted = o.outcome == Outcome::Allow;
        let hour = usize::from(o.ts.hour_of_day());
        self.hours[hour] = self.hours[hour].saturating_add(1);
        if self.hours[hour] == u16::MAX {
            for h in &mut self.hours {
                *h /= 2;
            }
        }
        if let Some(device) = o.device {
            self.devices
                .touch(hash_str(device), o.ts, trusted, config.max_devices);
        }
        if let Some(network) = o.network {
            self.networks
                .touch(network, o.ts, trusted, config.max_networks);
        }
        if let Some(location) = o.location {
            if let Some(code) = location.country {
                let key = u64::from(u16::from_be_bytes(code));
                self.countries
                    .touch(key, o.ts, trusted, config.max_countries);
            }
            if let Some((lat, lon)) = location.coords {
                if self.last_location.is_none_or(|(t, _, _)| t <= o.ts) {
                    self.last_location = Some((o.ts, lat, lon));
                }
            }
        }
        if let Some(asset) = o.asset {
            self.assets.touch(
                hash_str(&asset.to_ascii_uppercase()),
                o.ts,
                trusted,
                config.max_assets,
            );
        }
        if let Some(destination) = o.destination {
            self.learn_destination(hash_str(destination), o, config);
        }
        if o.kind == CustomerActionKind::Withdrawal {
            if let Some(amount) = o.amount_usd.filter(|a| a.is_finite() && *a > 0.0) {
                let value = amount.ln() as f32;
                if self.amounts.len() < config.max_amounts {
                    self.amounts.push(value);
                } else {
                    let i = usize::from(self.amounts_next) % self.amounts.len();
                    self.amounts[i] = value;
                }
                self.amounts_next = self.amounts_next.wrapping_add(1);
            }
        }
        if let Some(spec) = o.api_key {
            self.learn_api_key(o.kind, spec);
        }
    }

    fn learn_destination(&mut self, key: u64, o: &Observation<'_>, config: &RiskConfig) {
        let added = o.kind == CustomerActionKind::AddressAdd;
        let withdrawal = u32::from(o.kind == CustomerActionKind::Withdrawal);
        if let Some(d) = self.destinations.iter_mut().find(|d| d.key == key) {
            d.last = d.last.max(o.ts);
            d.added |= added;
            d.withdrawals = d.withdrawals.saturating_add(withdrawal);
            return;
        }
        if self.destinations.len() >= config.max_destinations {
            if let Some(i) = self
                .destinations
                .iter()
                .enumerate()
                .min_by_key(|(_, d)| d.last)
                .map(|(i, _)| i)
            {
                self.destinations.swap_remove(i);
            }
        }
        self.destinations.push(Destination {
            key,
            first: o.ts,
            last: o.ts,
            added,
            withdrawals: withdrawal,
        });
    }

    fn learn_api_key(&mut self, kind: CustomerActionKind, spec: &ApiKeySpec) {
        let key = hash_str(&spec.key_id);
        self.api_keys.retain(|k| k.key != key);
        if kind == CustomerActionKind::ApiKeyDelete {
            return;
        }
        if self.api_keys.len() >= 16 {
            self.api_keys.remove(0);
        }
        self.api_keys.push(ApiKeyState {
            key,
            permissions: Permissions::from_names(&spec.permissions),
            whitelist_len: u16::try_from(spec.ip_whitelist.len()).unwrap_or(u16::MAX),
        });
    }

    /// Every API key revoked (a protection action).
    pub fn revoke_api_keys(&mut self) {
        self.api_keys.clear();
    }

    /// Approximate heap and inline bytes, for the memory bound.
    pub fn approx_bytes(&self) -> usize {
        std::mem::size_of::<Profile>()
            + (self.devices.len() + self.networks.len() + self.countries.len() + self.assets.len())
                * std::mem::size_of::<Seen>()
            + self.destinations.capacity() * std::mem::size_of::<Destination>()
            + self.amounts.capacity() * 4
            + self.security_changes.capacity() * 8
            + self.recent.capacity() * std::mem::size_of::<RecentAction>()
            + self.api_keys.capacity() * std::mem::size_of::<ApiKeyState>()
    }
}

/// Profiles by customer, bounded: past `max_customers` the least recently
/// active tenth is dropped.
#[derive(Debug, Default)]
pub struct Profiles {
    by_customer: HashMap<CustomerId, Profile>,
}

impl Profiles {
    pub fn get(&self, id: &CustomerId) -> Option<&Profile> {
        self.by_customer.get(id)
    }
    pub fn get_mut(&mut self, id: &CustomerId) -> Option<&mut Profile> {
        self.by_customer.get_mut(id)
    }
    pub fn len(&self) -> usize {
        self.by_customer.len()
    }
    pub fn is_empty(&self) -> bool {
        self.by_customer.is_empty()
    }

    pub fn entry(&mut self, id: &CustomerId, max_customers: usize) -> &mut Profile {
        if !self.by_customer.contains_key(id) && self.by_customer.len() >= max_customers {
            self.evict(max_customers);
        }
        self.by_customer.entry(id.clone()).or_default()
    }

    fn evict(&mut self, max_customers: usize) {
        let mut last: Vec<EventTime> = self
            .by_customer
            .values()
            .map(|p| p.last_seen.unwrap_or(EventTime::MIN))
            .collect();
        let drop = (max_customers / 10).max(1).min(last.len());
        last.sort_unstable();
        let Some(&cutoff) = last.get(drop.saturating_sub(1)) else {
            return;
        };
        self.by_customer
            .retain(|_, p| p.last_seen.unwrap_or(EventTime::MIN) > cutoff);
    }

    /// Inserts a ready profile (benches, tests, a warm start).
    pub fn insert(&mut self, id: CustomerId, profile: Profile) {
        self.by_customer.insert(id, profile);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn t(secs: i64) -> EventTime {
        EventTime::from_unix_secs(secs)
    }

    #[test]
    fn seen_list_is_bounded_and_evicts_least_recent_untrusted_first() {
        let mut list = SeenList::default();
        list.touch(1, t(10), true, 3);
        list.touch(2, t(20), false, 3);
        list.touch(3, t(30), true, 3);
        list.touch(4, t(40), true, 3);
        assert_eq!(list.len(), 3);
        assert!(list.get(2).is_none(), "the untrusted one goes first");
        list.touch(5, t(50), true, 3);
        assert!(list.get(1).is_none(), "then the least recently seen");
        assert_eq!(list.touch(5, t(60), false, 3).count, 2);
    }

    #[test]
    fn api_key_diffs_name_what_widened() {
        let spec = |perms: &[&str], wl: &[&str]| ApiKeySpec {
            key_id: "k-1".into(),
            permissions: perms.iter().map(|s| s.to_string()).collect(),
            ip_whitelist: wl.iter().map(|s| s.to_string()).collect(),
        };
        let before = ApiKeyState {
            key: hash_str("k-1"),
            permissions: Permissions::from_names(&["read", "trade"]),
            whitelist_len: 2,
        };
        // (before, after, withdraw_added, whitelist_removed, withdraw_open, new_key)
        let table = [
            (
                Some(before),
                spec(&["read", "trade", "withdraw"], &[]),
                true,
                true,
                true,
                false,
            ),
            (
                Some(before),
                spec(&["read"], &["1.2.3.4"]),
                false,
                true,
                false,
                false,
            ),
            (
                Some(before),
                spec(&["read", "trade"], &["1.2.3.4", "5.6.7.8"]),
                false,
                false,
                false,
                false,
            ),
            (
                None,
                spec(&["read", "withdraw"], &[]),
                false,
                false,
                true,
                true,
            ),
            (
                None,
                spec(&["read", "withdraw"], &["1.2.3.4"]),
                false,
                false,
                false,
                true,
            ),
        ];
        for (b, after, added, removed, open, new_key) in table {
            let d = ApiKeyDiff::compute(b.as_ref(), &after);
            assert_eq!(
                (
                    d.withdraw_added(),
                    d.whitelist_removed(),
                    d.withdraw_open(),
                    d.new_key
                ),
                (added, removed, open, new_key),
                "{after:?}"
            );
        }
    }

    #[test]
    fn median_and_mad() {
        assert_eq!(median_mad(&[]), None);
        assert_eq!(median_mad(&[1.0, 2.0, 3.0, 4.0, 100.0]), Some((3.0, 1.0)));
        assert_eq!(median_mad(&[2.0, 4.0]), Some((3.0, 1.0)));
    }

    #[test]
    fn profiles_are_bounded() {
        let mut profiles = Profiles::default();
        for i in 0..25 {
            let id = CustomerId::parse(format!("c-{i}")).unwrap();
            let p = profiles.entry(&id, 10);
            p.last_seen = Some(t(i));
        }
        assert!(profiles.len() <= 10, "{}", profiles.len());
        assert!(profiles.get(&CustomerId::parse("c-24").unwrap()).is_some());
    }
}
