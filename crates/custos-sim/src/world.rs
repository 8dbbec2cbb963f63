//! The simulated directory: agents with teams, sites and shifts, customers
//! with tiers, balances, countries, devices and known addresses. Identities
//! that never change (a customer's devices, home IPs, saved addresses) are
//! derived from the seed by hashing instead of being stored, which keeps a
//! customer a few dozen bytes.

use std::fmt::Write as _;

use crate::SimConfig;
use crate::rng::{Rng, mix, mix3};
use crate::tables::{
    ASSETS, AddressFormat, AgentRole, COUNTRIES, Lang, SHIFT_SLOTS, SITES, TEAMS, names,
};
use crate::time::DAY;

/// Salts that keep the hashed identities of different kinds apart.
pub(crate) mod salt {
    pub const DEVICE: u64 = 1;
    pub const IP: u64 = 2;
    pub const DEST: u64 = 3;
    pub const GEO: u64 = 4;
    pub const NAME: u64 = 5;
    pub const AGENT_DAY: u64 = 6;
    pub const OVERTIME: u64 = 7;
}

pub(crate) struct Agent {
    /// `a-{num:04}`.
    pub num: u32,
    pub team: usize,
    pub role: AgentRole,
    pub site: usize,
    pub slot: usize,
    pub hired_at: i64,
    /// Run day from which the agent works (negative for veterans).
    pub first_day: i64,
    /// Days of the week off, 0 = Sunday.
    pub off: [u32; 2],
    pub ip: String,
    pub device: String,
}

impl Agent {
    pub(crate) fn shift(&self) -> (u8, u8) {
        let slot = &SHIFT_SLOTS[self.slot];
        (slot.start, slot.end)
    }

    pub(crate) fn overnight(&self) -> bool {
        let (s, e) = self.shift();
        e < s
    }

    pub(crate) fn id(&self) -> String {
        format!("a-{:04}", self.num)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tier {
    Retail,
    Vip,
    Institutional,
}

impl Tier {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Tier::Retail => "retail",
            Tier::Vip => "vip",
            Tier::Institutional => "institutional",
        }
    }
}

/// A trip abroad of a benign traveler.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Trip {
    pub country: u8,
    pub until: i64,
    pub truth: u32,
}

pub(crate) struct Customer {
    /// `c-{num:05}`.
    pub num: u32,
    pub tier: Tier,
    pub balance: f64,
    pub country: u8,
    pub created_at: i64,
    /// Chance of logging in on a given day.
    pub p_login: f32,
    /// Bit set of `ASSETS` the customer trades.
    pub assets: u16,
    pub n_devices: u8,
    /// Number of saved withdrawal destinations.
    pub n_dest: u8,
    pub api_user: bool,
    pub keys: Vec<u32>,
    pub frozen_until: i64,
    pub trip: Option<Trip>,
}

impl Customer {
    pub(crate) fn id(&self) -> String {
        format!("c-{:05}", self.num)
    }

    pub(crate) fn lang(&self) -> Lang {
        COUNTRIES[usize::from(self.country)].lang
    }

    pub(crate) fn asset_list(&self) -> Vec<usize> {
        (0..ASSETS.len())
            .filter(|&i| self.assets & (1 << i) != 0)
            .collect()
    }

    pub(crate) fn uses_asset(&self, asset: usize) -> bool {
        self.assets & (1 << asset) != 0
    }
}

pub(crate) struct World {
    pub seed: u64,
    pub agents: Vec<Agent>,
    pub customers: Vec<Customer>,
    /// VIP and institutional customers and rich retail ones: what a bribed
    /// agent looks for.
    pub high_value: Vec<u32>,
    /// VIP and institutional customers.
    pub vip: Vec<u32>,
    pub country_weights: Vec<u32>,
}

impl World {
    pub(crate) fn build(cfg: &SimConfig, rng: &mut Rng, key_counter: &mut u32) -> World {
        let country_weights: Vec<u32> = COUNTRIES.iter().map(|c| c.weight).collect();
        let mut world = World {
            seed: cfg.seed,
            agents: Vec::new(),
            customers: Vec::new(),
            high_value: Vec::new(),
            vip: Vec::new(),
            country_weights,
        };
        world.build_agents(cfg, rng);
        for _ in 0..cfg.customers {
            let created = cfg.start - DAY * (1 + rng.range(0, 2_900)) + rng.range(0, DAY - 1);
            world.add_customer(rng, created, key_counter);
        }
        world
    }

    fn build_agents(&mut self, cfg: &SimConfig, rng: &mut Rng) {
        let n = cfg.agents as usize;
        let mut counts: Vec<usize> = TEAMS.iter().map(|t| n * t.share as usize / 1000).collect();
        let assigned: usize = counts.iter().sum();
        // Remainders go to the biggest teams first, in table order.
        let mut order: Vec<usize> = (0..TEAMS.len()).collect();
        order.sort_by_key(|&t| std::cmp::Reverse(TEAMS[t].share));
        for i in 0..n - assigned {
            counts[order[i % order.len()]] += 1;
        }
        let mut specs: Vec<(usize, AgentRole, usize)> = Vec::with_capacity(n);
        for (team, &count) in counts.iter().enumerate() {
            for member in 0..count {
                let role = if count >= 5 && member % 10 == 0 {
                    AgentRole::Lead
                } else {
                    TEAMS[team].role
                };
                specs.push((team, role, (member + team) % SHIFT_SLOTS.len()));
            }
        }
        rng.shuffle(&mut specs);
        for (team, role, slot) in specs {
            let hired_at = (cfg.start - DAY * (30 + rng.range(0, 1_800))).div_euclid(DAY) * DAY;
            self.add_agent(rng, team, role, slot, hired_at, i64::MIN / 4);
        }
    }

    /// Adds an agent; returns its index.
    pub(crate) fn add_agent(
        &mut self,
        rng: &mut Rng,
        team: usize,
        role: AgentRole,
        slot: usize,
        hired_at: i64,
        first_day: i64,
    ) -> usize {
        let num = self.agents.len() as u32 + 1;
        let sites = SHIFT_SLOTS[slot].sites;
        let site = sites[rng.index(sites.len())];
        let off = if role == AgentRole::Lead {
            [0, 6]
        } else {
            let o = rng.below(7) as u32;
            [o, (o + 1) % 7]
        };
        let ip = format!("{}.{}", SITES[site].office_prefix, 10 + rng.below(40));
        let device = format!("dev-{:04x}", rng.below(0x1_0000));
        self.agents.push(Agent {
            num,
            team,
            role,
            site,
            slot,
            hired_at,
            first_day,
            off,
            ip,
            device,
        });
        self.agents.len() - 1
    }

    /// Adds a customer created at `created_at`; returns its index.
    pub(crate) fn add_customer(
        &mut self,
        rng: &mut Rng,
        created_at: i64,
        key_counter: &mut u32,
    ) -> usize {
        let num = self.customers.len() as u32 + 1;
        let r = rng.unit();
        let tier = if r < 0.005 {
            Tier::Institutional
        } else if r < 0.04 {
            Tier::Vip
        } else {
            Tier::Retail
        };
        let balance = match tier {
            Tier::Retail => rng.log_normal(600.0, 1.9).clamp(0.0, 3_000_000.0),
            Tier::Vip => rng.log_normal(180_000.0, 0.8).clamp(50_000.0, 20_000_000.0),
            Tier::Institutional => rng
                .log_normal(2_500_000.0, 1.0)
                .clamp(200_000.0, 200_000_000.0),
        };
        let balance = (balance * 100.0).round() / 100.0;
        let country = rng.weighted(&self.country_weights) as u8;
        let activity = rng.log_normal(1.0, 0.8).clamp(0.05, 6.0);
        let base = match tier {
            Tier::Retail => 0.09,
            Tier::Vip => 0.35,
            Tier::Institutional => 0.7,
        };
        let p_login = (base * activity).min(0.95) as f32;
        let asset_weights: Vec<u32> = ASSETS.iter().map(|a| a.weight).collect();
        let mut assets = 0u16;
        for _ in 0..rng.range(1, 3) {
            assets |= 1 << rng.weighted(&asset_weights);
        }
        let n_devices = 1 + u8::from(rng.chance(0.5)) + u8::from(rng.chance(0.15));
        let n_dest = match tier {
            Tier::Retail => rng.range(0, 3),
            _ => rng.range(1, 4),
        } as u8;
        let api_user = rng.chance(match tier {
            Tier::Retail => 0.03,
            Tier::Vip => 0.25,
            Tier::Institutional => 0.7,
        });
        let mut keys = Vec::new();
        if api_user {
            for _ in 0..rng.range(1, 2) {
                *key_counter += 1;
                keys.push(*key_counter);
            }
        }
        let index = self.customers.len();
        if tier != Tier::Retail {
            self.vip.push(index as u32);
        }
        if tier != Tier::Retail || balance > 25_000.0 {
            self.high_value.push(index as u32);
        }
        self.customers.push(Customer {
            num,
            tier,
            balance,
            country,
            created_at,
            p_login,
            assets,
            n_devices,
            n_dest,
            api_user,
            keys,
            frozen_until: i64::MIN,
            trip: None,
        });
        index
    }

    /// The k-th usual device of a customer (`k < n_devices`), or any device
    /// named by a hash for new ones.
    pub(crate) fn customer_device(&self, customer: &Customer, k: u64) -> String {
        let h = mix3(self.seed ^ salt::DEVICE, u64::from(customer.num), k);
        format!("fp-{:08x}", h as u32)
    }

    /// The k-th home/mobile IP of a customer in `country`.
    pub(crate) fn customer_ip(&self, customer: &Customer, country: usize, k: u64) -> String {
        let h = mix3(
            self.seed ^ salt::IP,
            u64::from(customer.num) * 64 + country as u64,
            k,
        );
        ip_in_country(country, h)
    }

    /// A customer's approximate location (their city) in `country`.
    pub(crate) fn customer_geo(&self, customer: &Customer, country: usize) -> (f64, f64) {
        let h = mix3(
            self.seed ^ salt::GEO,
            u64::from(customer.num),
            country as u64,
        );
        let c = &COUNTRIES[country];
        let dlat = ((h & 0xffff) as f64 / 65_535.0 - 0.5) * 4.0;
        let dlon = (((h >> 16) & 0xffff) as f64 / 65_535.0 - 0.5) * 6.0;
        (
            (c.lat + dlat).clamp(-89.0, 89.0),
            (c.lon + dlon).clamp(-179.0, 179.0),
        )
    }

    /// Saved destination `k` of a customer: its asset and address.
    pub(crate) fn destination(&self, customer: &Customer, k: u64) -> (usize, String) {
        let assets = customer.asset_list();
        let asset = if assets.is_empty() {
            0
        } else {
            assets[k as usize % assets.len()]
        };
        let h = mix3(self.seed ^ salt::DEST, u64::from(customer.num), k);
        (asset, address(ASSETS[asset].format, h))
    }

    pub(crate) fn first_name(&self, customer: &Customer) -> &'static str {
        let (first, _) = names(customer.lang());
        let h = mix(self.seed ^ salt::NAME, u64::from(customer.num));
        first[(h % first.len() as u64) as usize]
    }

    pub(crate) fn last_name(&self, customer: &Customer) -> &'static str {
        let (_, last) = names(customer.lang());
        let h = mix(self.seed ^ salt::NAME, u64::from(customer.num)) >> 20;
        last[(h % last.len() as u64) as usize]
    }
}

/// An IPv4 address in the simulation's ranges for `country`.
pub(crate) fn ip_in_country(country: usize, h: u64) -> String {
    let octets = COUNTRIES[country].octets;
    let first = octets[(h % 3) as usize];
    format!(
        "{}.{}.{}.{}",
        first,
        (h >> 8) & 0xff,
        (h >> 16) & 0xff,
        1 + (h >> 24) % 254
    )
}

/// A well-formed-looking address for a chain, derived from `h`.
pub(crate) fn address(format: AddressFormat, h: u64) -> String {
    const BECH32: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const HEX: &[u8] = b"0123456789abcdef";
    let mut rng = Rng::new(h);
    let mut s = String::with_capacity(64);
    let mut tail = |s: &mut String, alphabet: &[u8], len: usize| {
        for _ in 0..len {
            s.push(char::from(alphabet[rng.index(alphabet.len())]));
        }
    };
    match format {
        AddressFormat::Bech32Btc => {
            s.push_str("bc1q");
            tail(&mut s, BECH32, 38);
        }
        AddressFormat::Bech32Ltc => {
            s.push_str("ltc1q");
            tail(&mut s, BECH32, 38);
        }
        AddressFormat::Cardano => {
            s.push_str("addr1q");
            tail(&mut s, BECH32, 52);
        }
        AddressFormat::Hex => {
            s.push_str("0x");
            tail(&mut s, HEX, 40);
        }
        AddressFormat::Tron => {
            s.push('T');
            tail(&mut s, BASE58, 33);
        }
        AddressFormat::Ripple => {
            s.push('r');
            tail(&mut s, BASE58, 33);
        }
        AddressFormat::Doge => {
            s.push('D');
            tail(&mut s, BASE58, 33);
        }
        AddressFormat::Base58Long => tail(&mut s, BASE58, 44),
        AddressFormat::Stellar => {
            s.push('G');
            tail(&mut s, BASE32, 55);
        }
    }
    s
}

/// A phone number in a country's format, for scam callers.
pub(crate) fn phone_number(country: usize, h: u64) -> String {
    let mut s = String::from(COUNTRIES[country].phone);
    let _ = write!(
        s,
        " {} {:03} {:04}",
        200 + h % 700,
        (h >> 12) % 1000,
        (h >> 24) % 10_000
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_world(agents: u32, customers: u32) -> World {
        let cfg = SimConfig {
            agents,
            customers,
            ..SimConfig::default()
        };
        let mut keys = 0;
        World::build(&cfg, &mut Rng::new(cfg.seed), &mut keys)
    }

    #[test]
    fn teams_follow_their_shares_and_every_hour_is_covered() {
        let world = small_world(240, 10);
        assert_eq!(world.agents.len(), 240);
        let chat = world.agents.iter().filter(|a| a.team == 0).count();
        assert!(
            (72..=73).contains(&chat),
            "tier1-chat is 30% of 240 (plus a remainder), got {chat}"
        );
        let leads = world
            .agents
            .iter()
            .filter(|a| a.role == AgentRole::Lead)
            .count();
        assert!(
            (20..=30).contains(&leads),
            "about one lead in ten, got {leads}"
        );
        for (team, def) in TEAMS.iter().enumerate() {
            for hour in 0..24u8 {
                let covered = world.agents.iter().filter(|a| a.team == team).any(|a| {
                    let (s, e) = a.shift();
                    if s < e {
                        (s..e).contains(&hour)
                    } else {
                        hour >= s || hour < e
                    }
                });
                assert!(covered, "team {} uncovered at {hour}h", def.name);
            }
        }
    }

    #[test]
    fn tiers_and_balances_are_plausible() {
        let world = small_world(10, 20_000);
        let vip = world
            .customers
            .iter()
            .filter(|c| c.tier != Tier::Retail)
            .count();
        assert!((400..1200).contains(&vip), "a few percent VIP, got {vip}");
        let mut retail: Vec<f64> = world
            .customers
            .iter()
            .filter(|c| c.tier == Tier::Retail)
            .map(|c| c.balance)
            .collect();
        retail.sort_by(f64::total_cmp);
        let median = retail[retail.len() / 2];
        assert!((300.0..1_200.0).contains(&median), "retail median {median}");
        assert!(
            world
                .customers
                .iter()
                .all(|c| c.assets != 0 && c.created_at < SimConfig::default().start)
        );
    }

    #[test]
    fn addresses_look_like_their_chain() {
        let check = |format: AddressFormat, prefix: &str, len: usize| {
            let a = address(format, 42);
            assert!(a.starts_with(prefix), "{a}");
            assert_eq!(a.len(), len, "{a}");
            assert_eq!(a, address(format, 42));
            assert_ne!(a, address(format, 43));
        };
        check(AddressFormat::Bech32Btc, "bc1q", 42);
        check(AddressFormat::Hex, "0x", 42);
        check(AddressFormat::Tron, "T", 34);
        check(AddressFormat::Stellar, "G", 56);
    }
}
