//! Where an action came from: the event's own `geo` when it has one, else a
//! GeoIP lookup (an MMDB file read with `maxminddb`), else an explicit
//! unknown. Also IP classification (private, unroutable) and geo-velocity.

use custos_core::event::Geo;
use serde::Deserialize;
use std::net::IpAddr;
use std::path::Path;

/// A resolved location.
#[derive(Clone, Debug, PartialEq)]
pub struct Location {
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<[u8; 2]>,
    pub coords: Option<(f64, f64)>,
}

/// Where a location came from, or why there is none.
#[derive(Clone, Debug, PartialEq)]
pub enum GeoResolution {
    /// The event carried `geo` (it wins over any lookup).
    FromEvent(Location),
    /// The GeoIP database answered.
    FromLookup(Location),
    /// The event's `geo` was malformed (coordinates out of range, a country
    /// that is not two letters).
    Invalid(String),
    /// No `geo`, and the IP is private or unroutable.
    PrivateIp,
    /// No `geo`, and no database, or the database had no answer.
    Unknown(&'static str),
}

impl GeoResolution {
    pub fn location(&self) -> Option<&Location> {
        match self {
            GeoResolution::FromEvent(l) | GeoResolution::FromLookup(l) => Some(l),
            _ => None,
        }
    }
}

/// Why a GeoIP database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum GeoIpError {
    #[error("cannot open the GeoIP database `{path}`: {reason}")]
    Open { path: String, reason: String },
}

/// A GeoIP database in memory.
pub struct GeoIp {
    reader: maxminddb::Reader<Vec<u8>>,
    description: String,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp")
            .field("description", &self.description)
            .finish()
    }
}

/// The fields read from a record: both the ip-location-db layout
/// (`country_code`, `latitude`, `longitude`) and MaxMind's GeoIP2 layout
/// (`country.iso_code`, `location.latitude`) are understood.
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow, default)]
    country_code: Option<&'a str>,
    #[serde(default)]
    latitude: Option<Coord>,
    #[serde(default)]
    longitude: Option<Coord>,
    #[serde(borrow, default)]
    country: Option<CountryRecord<'a>>,
    #[serde(default)]
    location: Option<LocationRecord>,
}

#[derive(Deserialize)]
struct CountryRecord<'a> {
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct LocationRecord {
    #[serde(default)]
    latitude: Option<Coord>,
    #[serde(default)]
    longitude: Option<Coord>,
}

/// A coordinate stored as an MMDB `double` (GeoIP2) or `float`
/// (ip-location-db).
struct Coord(f64);

impl<'de> Deserialize<'de> for Coord {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Coord, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Coord;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number")
            }
            fn visit_f32<E>(self, v: f32) -> Result<Coord, E> {
                Ok(Coord(f64::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Coord, E> {
                Ok(Coord(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Coord, E> {
                Ok(Coord(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Coord, E> {
                Ok(Coord(v as f64))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl GeoIp {
    /// Reads the whole file into memory (no mmap: the crate forbids unsafe
    /// code, and a city database is ~30 MB).
    pub fn open(path: &Path) -> Result<GeoIp, GeoIpError> {
        let open_error = |reason: String| GeoIpError::Open {
            path: path.display().to_string(),
            reason,
        };
        let reader =
            maxminddb::Reader::open_readfile(path).map_err(|e| open_error(e.to_string()))?;
        let description = format!(
            "{} ({} nodes)",
            reader.metadata().database_type,
            reader.metadata().node_count
        );
        Ok(GeoIp {
            reader,
            description,
        })
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    /// The location of a public IP, if the database knows it.
    pub fn lookup(&self, ip: IpAddr) -> Option<Location> {
        let result = self.reader.lookup(ip).ok()?;
        let mut record: Record<'_> = result.decode().ok().flatten()?;
        let code = record
            .country_code
            .or_else(|| record.country.as_ref().and_then(|c| c.iso_code))
            .and_then(parse_country);
        let lat = record
            .latitude
            .or_else(|| record.location.as_mut().and_then(|l| l.latitude.take()))
            .map(|c| c.0);
        let lon = record
            .longitude
            .or_else(|| record.location.as_mut().and_then(|l| l.longitude.take()))
            .map(|c| c.0);
        let coords = match (lat, lon) {
            (Some(lat), Some(lon)) if valid_coords(lat, lon) => Some((lat, lon)),
            _ => None,
        };
        if code.is_none() && coords.is_none() {
            return None;
        }
        Some(Location {
            country: code,
            coords,
        })
    }
}

/// An IP's kind, for the signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpKind {
    Public,
    /// Private, loopback, link-local, CGNAT, documentation, multicast,
    /// unspecified or reserved: says nothing about where the customer is.
    Unroutable,
}

/// Classifies an IP. Documentation ranges (RFC 5737, 3849) count as
/// unroutable: they never reach a real exchange.
pub fn classify(ip: IpAddr) -> IpKind {
    let unroutable = match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || o[0] >= 240
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| classify(IpAddr::V4(v4)) == IpKind::Unroutable)
        }
    };
    if unroutable {
        IpKind::Unroutable
    } else {
        IpKind::Public
    }
}

/// The network an IP belongs to for "usual networks": its /24 (IPv4) or
/// /48 (IPv6), as a number.
pub fn network_key(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(v4) => u64::from(u32::from(v4) >> 8) | (4 << 56),
        IpAddr::V6(v6) => (u128::from(v6) >> 80) as u64 | (6 << 56),
    }
}

/// Whether coordinates are finite and on the globe.
pub fn valid_coords(lat: f64, lon: f64) -> bool {
    lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
}

/// A two-letter country code, upper-cased.
pub fn parse_country(text: &str) -> Option<[u8; 2]> {
    let b = text.as_bytes();
    if b.len() == 2 && b.iter().all(u8::is_ascii_alphabetic) {
        Some([b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()])
    } else {
        None
    }
}

pub fn country_str(code: &[u8; 2]) -> &str {
    std::str::from_utf8(code).unwrap_or("??")
}

/// Resolves the location of an action: `geo` from the event wins; else the
/// database; else an explicit unknown.
pub fn resolve(geo: Option<&Geo>, ip: Option<IpAddr>, db: Option<&GeoIp>) -> GeoResolution {
    if let Some(geo) = geo {
        let country = match geo.country.as_deref() {
            Some(text) => match parse_country(text) {
                Some(code) => Some(code),
                None => {
                    return GeoResolution::Invalid(format!(
                        "country `{text}` is not a two-letter code"
                    ));
                }
            },
            None => None,
        };
        let coords = match (geo.lat, geo.lon) {
            (Some(lat), Some(lon)) if valid_coords(lat, lon) => Some((lat, lon)),
            (None, None) => None,
            (lat, lon) => {
                return GeoResolution::Invalid(format!(
                    "coordinates {} / {} are not on the globe",
                    fmt_opt(lat),
                    fmt_opt(lon)
                ));
            }
        };
        if country.is_some() || coords.is_some() {
            return GeoResolution::FromEvent(Location { country, coords });
        }
    }
    let Some(ip) = ip else {
        return GeoResolution::Unknown("no `geo` and no IP");
    };
    if classify(ip) == IpKind::Unroutable {
        return GeoResolution::PrivateIp;
    }
    let Some(db) = db else {
        return GeoResolution::Unknown("no `geo` and no GeoIP database configured");
    };
    match db.lookup(ip) {
        Some(location) => GeoResolution::FromLookup(location),
        None => GeoResolution::Unknown("the GeoIP database does not know this IP"),
    }
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or("none".to_owned(), |v| format!("{v}"))
}

/// Great-circle distance in km (haversine, mean Earth radius).
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    const R: f64 = 6_371.0;
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let dlat = lat2 - lat1;
    let dlon = lon2 - lon1;
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn classifies_ips() {
        let table = [
            ("10.1.2.3", IpKind::Unroutable),
            ("192.168.0.1", IpKind::Unroutable),
            ("172.20.0.1", IpKind::Unroutable),
            ("127.0.0.1", IpKind::Unroutable),
            ("100.64.1.1", IpKind::Unroutable),
            ("203.0.113.7", IpKind::Unroutable),
            ("169.254.0.1", IpKind::Unroutable),
            ("0.0.0.0", IpKind::Unroutable),
            ("8.8.8.8", IpKind::Public),
            ("23.1.2.3", IpKind::Public),
            ("::1", IpKind::Unroutable),
            ("fd00::1", IpKind::Unroutable),
            ("2001:db8::1", IpKind::Unroutable),
            ("::ffff:10.0.0.1", IpKind::Unroutable),
            ("2a00:1450::1", IpKind::Public),
        ];
        for (ip, kind) in table {
            assert_eq!(classify(ip.parse().unwrap()), kind, "{ip}");
        }
    }

    #[test]
    fn networks_group_by_prefix() {
        let key = |s: &str| network_key(s.parse().unwrap());
        assert_eq!(key("23.1.2.3"), key("23.1.2.200"));
        assert_ne!(key("23.1.2.3"), key("23.1.3.3"));
        assert_eq!(key("2a00:1450:4001::1"), key("2a00:1450:4001:ffff::2"));
        assert_ne!(key("2a00:1450:4001::1"), key("2a00:1450:4002::1"));
    }

    #[test]
    fn haversine_matches_known_distances() {
        // New York to London is about 5,570 km.
        let d = haversine_km((40.71, -74.01), (51.51, -0.13));
        assert!((d - 5_570.0).abs() < 30.0, "{d}");
        assert!(haversine_km((1.0, 1.0), (1.0, 1.0)) < 1e-9);
    }

    #[test]
    fn event_geo_wins_and_bad_geo_is_explicit() {
        let geo = |country: Option<&str>, lat: Option<f64>, lon: Option<f64>| Geo {
            country: country.map(str::to_owned),
            lat,
            lon,
        };
        let ip: IpAddr = "8.8.8.8".parse().unwrap();
        let table: Vec<(Option<Geo>, Option<IpAddr>, &str)> = vec![
            (
                Some(geo(Some("us"), Some(40.0), Some(-74.0))),
                Some(ip),
                "event",
            ),
            (Some(geo(Some("USA"), None, None)), Some(ip), "invalid"),
            (Some(geo(None, Some(91.0), Some(0.0))), Some(ip), "invalid"),
            (
                Some(geo(None, Some(f64::NAN), Some(0.0))),
                Some(ip),
                "invalid",
            ),
            (Some(geo(None, Some(10.0), None)), Some(ip), "invalid"),
            (None, Some(ip), "unknown"),
            (None, Some("10.0.0.1".parse().unwrap()), "private"),
            (None, None, "unknown"),
        ];
        for (g, ip, expect) in table {
            let got = match resolve(g.as_ref(), ip, None) {
                GeoResolution::FromEvent(l) => {
                    assert_eq!(l.country, Some(*b"US"));
                    "event"
                }
                GeoResolution::FromLookup(_) => "lookup",
                GeoResolution::Invalid(_) => "invalid",
                GeoResolution::PrivateIp => "private",
                GeoResolution::Unknown(_) => "unknown",
            };
            assert_eq!(got, expect, "{g:?} {ip:?}");
        }
    }
}
