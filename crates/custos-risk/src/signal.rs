//! The risk signals: a closed, versioned vocabulary of what can be unusual
//! about a customer action. Rules name them; decisions cite them.
//!
//! Codes are stable: `v1.new_device` keeps its meaning for as long as `v1`
//! exists. A signal whose meaning changes gets a new name, never a new
//! meaning under the old one.

use std::fmt;

macro_rules! signals {
    ($($variant:ident => $wire:literal, $class:ident, $doc:literal;)+) => {
        /// One risk signal. The discriminant is its bit in a [`SignalSet`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum SignalKind { $(#[doc = $doc] $variant),+ }

        impl SignalKind {
            pub const ALL: &'static [SignalKind] = &[$(SignalKind::$variant),+];

            /// The name rules use (`new_device`).
            pub fn as_str(self) -> &'static str {
                match self { $(SignalKind::$variant => $wire),+ }
            }

            /// The stable reason code decisions carry (`v1.new_device`).
            pub fn code(self) -> &'static str {
                match self { $(SignalKind::$variant => concat!("v1.", $wire)),+ }
            }

            pub fn parse(text: &str) -> Option<SignalKind> {
                let text = text.strip_prefix("v1.").unwrap_or(text);
                match text { $($wire => Some(SignalKind::$variant),)+ _ => None }
            }

            /// What kind of evidence it is.
            pub fn class(self) -> SignalClass {
                match self { $(SignalKind::$variant => SignalClass::$class),+ }
            }
        }
    };
}

signals! {
    NewDevice => "new_device", Risk, "A device never used (or not yet trusted) by a customer with an established history.";
    DeviceUnfamiliar => "device_unfamiliar", Risk, "A device not seen in a short (thin) history: weaker than `new_device`.";
    NewNetwork => "new_network", Risk, "An IP network (/24, /48) the customer never used.";
    NewCountry => "new_country", Risk, "A country neither the customer's home nor seen in their history.";
    ImpossibleTravel => "impossible_travel", Risk, "Faster than an airliner from the last known location.";
    UnusualHour => "unusual_hour", Risk, "An hour of the day the customer is almost never active.";
    NewAsset => "new_asset", Risk, "An asset the customer never withdrew or saved an address for.";
    NewDestination => "new_destination", Risk, "A destination address never seen for this customer.";
    DestinationRecent => "destination_recent", Risk, "A withdrawal to an address added only recently.";
    DestinationUnlisted => "destination_unlisted", Risk, "A withdrawal to an address never added nor used before.";
    AmountOutlier => "amount_outlier", Risk, "An amount far outside the customer's own history (robust z).";
    DrainsBalance => "drains_balance", Risk, "A withdrawal of most of the customer's balance (`drain_share`).";
    LargeWithdrawal => "large_withdrawal", Risk, "A withdrawal of a sizeable share of the balance (`large_share`).";
    SensitiveSecurityChange => "sensitive_security_change", Risk, "2FA disabled or reset, or the login email changed.";
    SecurityChangeVelocity => "security_change_velocity", Risk, "Many security changes in a short span.";
    ApiKeyWithdrawOpen => "api_key_withdraw_open", Risk, "An API key that can withdraw with no IP whitelist.";
    ApiKeyWithdrawAdded => "api_key_withdraw_added", Risk, "An API key update that adds the withdraw permission.";
    ApiKeyWhitelistRemoved => "api_key_whitelist_removed", Risk, "An API key update that empties or removes IP whitelist entries.";
    NoHistory => "no_history", Context, "No behavioral history for this customer yet.";
    HighValueAccount => "high_value_account", Context, "A balance at or above `high_value_usd`: worth a fraudster's effort.";
    ThinHistory => "thin_history", Context, "Fewer actions in the history than `min_history_actions`: novelty signals are muted.";
    GeoUnknown => "geo_unknown", Unknown, "No location: no `geo` in the event and no GeoIP answer.";
    IpPrivate => "ip_private", Unknown, "A private, loopback or otherwise unroutable IP.";
    IpMissing => "ip_missing", Invalid, "The action carries no IP.";
    IpInvalid => "ip_invalid", Invalid, "The IP does not parse.";
    DeviceMissing => "device_missing", Invalid, "The action carries no device fingerprint.";
    GeoInvalid => "geo_invalid", Invalid, "Coordinates out of range or not finite, or a malformed country.";
    AmountInvalid => "amount_invalid", Invalid, "A missing, negative, non-finite or absurd amount.";
    ClockSkew => "clock_skew", Invalid, "The action's time is far from the decision clock.";
    UnknownCustomer => "unknown_customer", Invalid, "No directory record and no history for this customer.";
    MarkReadBySuspectAgent => "mark.read_by_suspect_agent", Cross, "Their record was read by an agent under suspicion.";
    MarkLeakVictim => "mark.leak_victim", Cross, "A victim in a significant leak attribution.";
    MarkScamConversation => "mark.scam_conversation", Cross, "A scam conversation with them was intercepted.";
    MarkScamReported => "mark.scam_reported", Cross, "They reported a scam contact.";
    AccountFrozen => "account_frozen", Protection, "The account is frozen.";
    SecurityLocked => "security_locked", Protection, "Security settings are locked: changes wait out a delay.";
    AllowListBlocked => "allow_list_blocked", Protection, "The destination is not on the withdrawal allow-list, or still time-locked.";
}

/// What kind of evidence a signal is; the fail policy reads `Invalid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalClass {
    /// Behavior unusual for this customer.
    Risk,
    /// Not risk by itself; says how much the other signals can know.
    Context,
    /// Something could not be known (no location); never silently benign.
    Unknown,
    /// The input is missing or absurd: the per-action fail policy applies.
    Invalid,
    /// A fact another detector established (a mark on the customer).
    Cross,
    /// Account protection state in force.
    Protection,
}

impl fmt::Display for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A set of signals as a bitset: cheap to copy into the recent-action ring
/// that sequences match against.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SignalSet(u64);

// INVARIANT: fewer than 64 signals, so each has a bit.
const _: () = assert!(SignalKind::ALL.len() <= 64);

impl SignalSet {
    pub const EMPTY: SignalSet = SignalSet(0);

    pub fn insert(&mut self, kind: SignalKind) {
        self.0 |= 1u64 << (kind as u8);
    }
    pub fn contains(self, kind: SignalKind) -> bool {
        self.0 & (1u64 << (kind as u8)) != 0
    }
    pub fn contains_all(self, other: SignalSet) -> bool {
        self.0 & other.0 == other.0
    }
    pub fn intersects(self, other: SignalSet) -> bool {
        self.0 & other.0 != 0
    }
    pub fn count_in(self, other: SignalSet) -> u32 {
        (self.0 & other.0).count_ones()
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn iter(self) -> impl Iterator<Item = SignalKind> {
        SignalKind::ALL
            .iter()
            .copied()
            .filter(move |k| self.contains(*k))
    }
}

impl FromIterator<SignalKind> for SignalSet {
    fn from_iter<I: IntoIterator<Item = SignalKind>>(iter: I) -> SignalSet {
        let mut set = SignalSet::EMPTY;
        for kind in iter {
            set.insert(kind);
        }
        set
    }
}

/// A signal that fired, with a detail for a person (numbers included).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Fired {
    #[serde(serialize_with = "code_of")]
    pub kind: SignalKind,
    pub detail: String,
}

fn code_of<S: serde::Serializer>(kind: &SignalKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_codes_are_versioned() {
        for kind in SignalKind::ALL {
            assert_eq!(SignalKind::parse(kind.as_str()), Some(*kind));
            assert_eq!(SignalKind::parse(kind.code()), Some(*kind));
            assert!(kind.code().starts_with("v1."));
        }
        assert_eq!(SignalKind::parse("new_devices"), None);
    }

    #[test]
    fn set_operations() {
        let set: SignalSet = [SignalKind::NewDevice, SignalKind::DrainsBalance]
            .into_iter()
            .collect();
        assert!(set.contains(SignalKind::NewDevice));
        assert!(!set.contains(SignalKind::NewCountry));
        let one: SignalSet = [SignalKind::NewDevice].into_iter().collect();
        assert!(set.contains_all(one) && !one.contains_all(set));
        assert_eq!(set.count_in(one), 1);
        assert_eq!(set.iter().count(), 2);
    }
}
