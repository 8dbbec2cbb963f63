//! The customer base: daily logins from usual devices and places,
//! withdrawals (mostly to saved addresses), address book changes, API keys,
//! security settings, rare freezes; and the benign look-alikes of attacks
//! (travelers, new phones, withdraw-enabled keys, unrelated scam reports).

use crate::engine::Gen;
use crate::json::{EventKind, Line};
use crate::tables::{ASSETS, COUNTRIES};
use crate::text;
use crate::time::{DAY, day_of_week, rfc3339};
use crate::truth::{
    Benign, CustomerEpisode, Entity, Tag, Traveler, UnrelatedScamReport, WithdrawApiKey,
};
use crate::world::{Tier, Trip, ip_in_country};

/// The common head of a `customer_action` event.
pub(crate) struct Action<'a> {
    pub ts: i64,
    pub customer: u32,
    pub action: &'static str,
    pub setting: Option<&'static str>,
    pub ip: &'a str,
    pub device: &'a str,
    /// Country index and coordinates, when the event carries `geo`.
    pub geo: Option<(usize, f64, f64)>,
}

/// Where and from what a customer acts in one session.
pub(crate) struct Seat {
    pub ip: String,
    pub device: String,
    pub geo: Option<(usize, f64, f64)>,
}

impl Gen {
    pub(crate) fn action_line(&self, a: &Action<'_>) -> Line {
        let mut l = Line::new(EventKind::CustomerAction, a.ts);
        l.id(
            "customer_id",
            "c-",
            self.world.customers[a.customer as usize].num,
            5,
        );
        l.str("action", a.action);
        if let Some(setting) = a.setting {
            l.str("setting", setting);
        }
        l.str("ip", a.ip);
        l.str("device_id", a.device);
        if let Some((country, lat, lon)) = a.geo {
            l.open("geo");
            l.str("country", COUNTRIES[country].code);
            l.num("lat", lat);
            l.num("lon", lon);
            l.close();
        }
        l
    }

    pub(crate) fn action(&self, ts: i64, customer: u32, action: &'static str, seat: &Seat) -> Line {
        self.action_line(&Action {
            ts,
            customer,
            action,
            setting: None,
            ip: &seat.ip,
            device: &seat.device,
            geo: seat.geo,
        })
    }

    pub(crate) fn withdrawal_line(
        &self,
        ts: i64,
        customer: u32,
        seat: &Seat,
        amount: f64,
        asset: usize,
        destination: &str,
    ) -> Line {
        let mut l = self.action(ts, customer, "withdrawal", seat);
        l.num("amount_usd", amount);
        l.str("asset", ASSETS[asset].symbol);
        l.str("destination", destination);
        l
    }

    pub(crate) fn address_add_line(
        &self,
        ts: i64,
        customer: u32,
        seat: &Seat,
        asset: usize,
        destination: &str,
    ) -> Line {
        let mut l = self.action(ts, customer, "address_add", seat);
        l.str("asset", ASSETS[asset].symbol);
        l.str("destination", destination);
        l
    }

    pub(crate) fn api_key_line(
        &self,
        action: (&'static str, i64, u32),
        seat: &Seat,
        key: u32,
        permissions: Option<(&[&str], &[&str])>,
    ) -> Line {
        let (name, ts, customer) = action;
        let mut l = self.action(ts, customer, name, seat);
        l.open("api_key");
        l.id("key_id", "k-", key, 0);
        if let Some((perms, whitelist)) = permissions {
            l.str_list("permissions", perms);
            l.str_list("ip_whitelist", whitelist);
        }
        l.close();
        l
    }

    /// The customer's usual seat in their home country (or abroad).
    pub(crate) fn usual_seat(&mut self, customer: u32, country: usize, attack_rng: bool) -> Seat {
        let rng = if attack_rng {
            &mut self.arng
        } else {
            &mut self.rng
        };
        let c = &self.world.customers[customer as usize];
        let k_ip = u64::from(rng.chance(0.3));
        let k_dev = rng.below(u64::from(c.n_devices));
        let with_geo = rng.chance(0.85);
        let ip = self.world.customer_ip(c, country, k_ip);
        let device = self.world.customer_device(c, k_dev);
        let geo = with_geo.then(|| {
            let (lat, lon) = self.world.customer_geo(c, country);
            (country, lat, lon)
        });
        Seat { ip, device, geo }
    }

    // ----- daily activity -------------------------------------------------

    pub(crate) fn customer_day(&mut self, _d: u32) {
        let weekend = matches!(day_of_week(self.day_start), 0 | 6);
        let factor = if weekend { 0.85 } else { 1.0 };
        let day_end = self.day_start + DAY;
        for ci in 0..self.world.customers.len() {
            let c = &self.world.customers[ci];
            if c.created_at >= day_end || c.frozen_until > self.day_start {
                continue;
            }
            let trip = c.trip.filter(|t| t.until > self.day_start);
            if trip.is_none() && !self.rng.chance(f64::from(c.p_login) * factor) {
                continue;
            }
            self.customer_session(ci as u32, trip);
        }
    }

    fn customer_session(&mut self, customer: u32, trip: Option<Trip>) {
        let (home, created_at, tier, api_user) = {
            let c = &self.world.customers[customer as usize];
            (usize::from(c.country), c.created_at, c.tier, c.api_user)
        };
        let (country, tag) = match trip {
            Some(t) => (usize::from(t.country), Tag::Benign(t.truth)),
            None => (home, Tag::None),
        };
        let mut t = self.local_daytime(country, false);
        if t <= created_at {
            t = created_at + self.rng.range(60, 600);
        }
        let mut seat = self.usual_seat(customer, country, false);
        if trip.is_some() {
            // Abroad: hotel or roaming IP, own phone.
            let c = &self.world.customers[customer as usize];
            seat.ip = self.world.customer_ip(c, country, 0);
            seat.device = self.world.customer_device(c, 0);
        } else if self.rng.chance(0.01) {
            // A new browser or phone now and then: ordinary noise.
            let c = &self.world.customers[customer as usize];
            seat.device = self.world.customer_device(c, 100 + self.rng.below(1_000));
        }
        let login = self.action(t, customer, "login", &seat);
        if !self.push(login, tag) {
            return;
        }
        let p_withdraw = match tier {
            Tier::Retail => 0.10,
            Tier::Vip => 0.2,
            Tier::Institutional => 0.35,
        };
        if self.rng.chance(p_withdraw) {
            t = self.benign_withdrawal(customer, t, &seat, tag, false);
        }
        if self.rng.chance(0.01) {
            t += self.rng.range(30, 600);
            let (asset, destination) = self.new_destination(customer);
            let line = self.address_add_line(t, customer, &seat, asset, &destination);
            self.push(line, tag);
        }
        if api_user {
            t = self.api_key_activity(customer, t, &seat);
        }
        if self.rng.chance(0.004) {
            t += self.rng.range(30, 600);
            let setting = [
                "password",
                "anti_phishing_code",
                "phone",
                "email",
                "2fa_reset",
                "2fa_disable",
            ][self.rng.weighted(&[50, 20, 10, 8, 10, 2])];
            let line = self.action_line(&Action {
                ts: t,
                customer,
                action: "security_change",
                setting: Some(setting),
                ip: &seat.ip,
                device: &seat.device,
                geo: seat.geo,
            });
            self.push(line, tag);
        }
        if self.rng.chance(0.000_3) {
            // Lost phone: the customer freezes the account and lifts it a
            // day or three later.
            t += self.rng.range(30, 600);
            let line = self.action(t, customer, "freeze", &seat);
            self.push(line, tag);
            let until = t + self.rng.range(DAY, 3 * DAY);
            let line = self.action(until, customer, "unfreeze", &seat);
            self.push(line, Tag::None);
            self.world.customers[customer as usize].frozen_until = until;
        }
    }

    /// A saved destination of the customer added now.
    fn new_destination(&mut self, customer: u32) -> (usize, String) {
        let c = &mut self.world.customers[customer as usize];
        let k = u64::from(c.n_dest);
        c.n_dest = c.n_dest.saturating_add(1);
        let c = &self.world.customers[customer as usize];
        self.world.destination(c, k)
    }

    /// A legitimate withdrawal: to a saved address most of the time, else to
    /// a new one of the customer's own (usually added first). Returns the
    /// time of the last event.
    pub(crate) fn benign_withdrawal(
        &mut self,
        customer: u32,
        mut t: i64,
        seat: &Seat,
        tag: Tag,
        force_known: bool,
    ) -> i64 {
        let (balance, n_dest) = {
            let c = &self.world.customers[customer as usize];
            (c.balance, c.n_dest)
        };
        if balance < 20.0 {
            return t;
        }
        let fresh = !force_known && (n_dest == 0 || self.rng.chance(0.1));
        let (asset, destination) = if fresh {
            let (asset, destination) = self.new_destination(customer);
            if self.rng.chance(0.75) {
                t += self.rng.range(60, 600);
                let line = self.address_add_line(t, customer, seat, asset, &destination);
                self.push(line, tag);
            }
            (asset, destination)
        } else {
            let k = self.rng.below(u64::from(n_dest.max(1)));
            let c = &self.world.customers[customer as usize];
            self.world.destination(c, k)
        };
        let fraction = self.rng.log_normal(0.05, 1.0).clamp(0.002, 0.9);
        let amount = (balance * fraction).max(10.0).min(balance);
        t += self.rng.range(60, 900);
        let line = self.withdrawal_line(t, customer, seat, amount, asset, &destination);
        self.push(line, tag);
        t
    }

    /// API key management by an API user: most keys read or trade, withdraw
    /// keys nearly always with an IP whitelist.
    fn api_key_activity(&mut self, customer: u32, mut t: i64, seat: &Seat) -> i64 {
        let r = self.rng.unit();
        let home = usize::from(self.world.customers[customer as usize].country);
        if r < 0.015 {
            t += self.rng.range(30, 600);
            self.ids.key += 1;
            let key = self.ids.key;
            let kind = self.rng.weighted(&[45, 40, 15]);
            let perms: &[&str] = match kind {
                0 => &["read"],
                1 => &["read", "trade"],
                _ => &["read", "trade", "withdraw"],
            };
            let whitelisted = if kind == 2 {
                self.rng.chance(0.95)
            } else {
                self.rng.chance(0.3)
            };
            let whitelist: Vec<String> = if whitelisted {
                (0..self.rng.range(1, 2))
                    .map(|_| ip_in_country(home, self.rng.next_u64()))
                    .collect()
            } else {
                Vec::new()
            };
            let wl: Vec<&str> = whitelist.iter().map(String::as_str).collect();
            let line = self.api_key_line(
                ("api_key_create", t, customer),
                seat,
                key,
                Some((perms, &wl)),
            );
            if kind == 2 {
                let id = self.world.customers[customer as usize].id();
                self.push_with_benign(
                    line,
                    Benign::WithdrawApiKey(WithdrawApiKey {
                        entity: Entity::customer(&id),
                        customer_id: id,
                        whitelisted,
                        event_ids: Vec::new(),
                    }),
                );
            } else {
                self.push(line, Tag::None);
            }
            self.world.customers[customer as usize].keys.push(key);
        } else if r < 0.025 {
            let keys = &self.world.customers[customer as usize].keys;
            if keys.is_empty() {
                return t;
            }
            let key = keys[self.rng.index(keys.len())];
            t += self.rng.range(30, 600);
            let ip = ip_in_country(home, self.rng.next_u64());
            let perms: &[&str] = if self.rng.chance(0.5) {
                &["read"]
            } else {
                &["read", "trade"]
            };
            let line = self.api_key_line(
                ("api_key_update", t, customer),
                seat,
                key,
                Some((perms, &[ip.as_str()])),
            );
            self.push(line, Tag::None);
        } else if r < 0.03 {
            let keys = &mut self.world.customers[customer as usize].keys;
            if keys.is_empty() {
                return t;
            }
            let i = self.rng.index(keys.len());
            let key = keys.remove(i);
            t += self.rng.range(30, 600);
            let line = self.api_key_line(("api_key_delete", t, customer), seat, key, None);
            self.push(line, Tag::None);
        }
        t
    }

    // ----- benign look-alikes ---------------------------------------------

    pub(crate) fn benign_episodes(&mut self, d: u32) {
        let travelers: Vec<(u32, usize, u32)> = self
            .plan
            .travelers
            .iter()
            .filter(|t| t.0 == d)
            .map(|t| (t.1, t.2, t.3))
            .collect();
        for (customer, country, len) in travelers {
            let c = &self.world.customers[customer as usize];
            if c.trip.is_some_and(|t| t.until > self.day_start) {
                continue;
            }
            let until = (self.day_start + i64::from(len) * DAY).min(self.run_end);
            let id = c.id();
            let truth = self.add_benign(Benign::Traveler(Traveler {
                entity: Entity::customer(&id),
                customer_id: id,
                home_country: COUNTRIES[usize::from(c.country)].code.to_owned(),
                country: COUNTRIES[country].code.to_owned(),
                start_ts: rfc3339(self.day_start),
                end_ts: rfc3339(until),
                event_ids: Vec::new(),
            }));
            self.world.customers[customer as usize].trip = Some(Trip {
                country: country as u8,
                until,
                truth,
            });
        }
        let new_phones: Vec<u32> = self
            .plan
            .new_device_withdrawals
            .iter()
            .filter(|p| p.0 == d)
            .map(|p| p.1)
            .collect();
        for customer in new_phones {
            self.new_phone_withdrawal(customer);
        }
        let reports: Vec<u32> = self
            .plan
            .unrelated_reports
            .iter()
            .filter(|p| p.0 == d)
            .map(|p| p.1)
            .collect();
        for customer in reports {
            self.unrelated_report(customer);
        }
    }

    /// A customer with a new phone logs in and withdraws, some to a new
    /// address of their own: the benign twin of `new_address_withdrawal`.
    fn new_phone_withdrawal(&mut self, customer: u32) {
        let (home, created_at, balance) = {
            let c = &self.world.customers[customer as usize];
            (usize::from(c.country), c.created_at, c.balance)
        };
        let t = self.local_daytime(home, false);
        if created_at >= t || balance < 50.0 || t >= self.run_end {
            return;
        }
        let mut seat = self.usual_seat(customer, home, false);
        let c = &self.world.customers[customer as usize];
        seat.device = self.world.customer_device(c, 5_000 + self.rng.below(1_000));
        let id = c.id();
        let truth = self.add_benign(Benign::NewDeviceWithdrawal(CustomerEpisode {
            entity: Entity::customer(&id),
            customer_id: id,
            start_ts: rfc3339(t),
            event_ids: Vec::new(),
        }));
        let login = self.action(t, customer, "login", &seat);
        self.push(login, Tag::Benign(truth));
        let force_known = self.rng.chance(0.6);
        self.benign_withdrawal(customer, t, &seat, Tag::Benign(truth), force_known);
    }

    fn unrelated_report(&mut self, customer: u32) {
        let (home, created_at) = {
            let c = &self.world.customers[customer as usize];
            (usize::from(c.country), c.created_at)
        };
        let t = self.local_daytime(home, false);
        if created_at >= t || t >= self.run_end {
            return;
        }
        let reports = text::unrelated_report();
        let (channel, contact, body, lost) = reports[self.rng.index(reports.len())];
        let loss = if lost {
            (self.rng.log_normal(800.0, 1.2) * 100.0).round() / 100.0
        } else {
            0.0
        };
        self.ids.report += 1;
        let report_id = format!("r-{}", self.ids.report);
        let mut l = Line::new(EventKind::ScamReport, t);
        l.str("report_id", &report_id);
        l.id(
            "customer_id",
            "c-",
            self.world.customers[customer as usize].num,
            5,
        );
        l.str("channel", channel);
        l.str("contact", contact);
        l.str("text", &text::fill(body, &text::Vars::default()));
        l.num("loss_usd", loss);
        let id = self.world.customers[customer as usize].id();
        self.push_with_benign(
            l,
            Benign::UnrelatedScamReport(UnrelatedScamReport {
                entity: Entity::customer(&id),
                customer_id: id,
                report_id,
                event_ids: Vec::new(),
            }),
        );
    }
}
