//! Scalar types of the IAM condition language: numbers, dates, IP ranges and binary values.
//! Each parses from its policy text once; the same parsers read request values.

use std::cmp::Ordering;
use std::fmt;
use std::net::IpAddr;

/// A decimal number as IAM's Numeric operators compare it: integers or decimals, exact.
///
/// Stored as `mantissa * 10^-scale` with up to 18 fractional digits, compared exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    mantissa: i128,
    scale: u32,
}

/// At most this many fractional digits are kept exactly; longer inputs are refused.
const MAX_SCALE: u32 = 18;

impl Decimal {
    /// Parses `[+-]digits[.digits]`. Exponents, hex, `NaN` and empty strings are refused.
    pub fn parse(text: &str) -> Option<Decimal> {
        let s = text.trim();
        let (neg, body) = match s.as_bytes().first() {
            Some(b'-') => (true, s.get(1..)?),
            Some(b'+') => (false, s.get(1..)?),
            _ => (false, s),
        };
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if body.ends_with('.') && frac.is_empty() && int.is_empty() {
            return None;
        }
        let frac = frac.trim_end_matches('0');
        let scale = u32::try_from(frac.len()).ok()?;
        if scale > MAX_SCALE {
            return None;
        }
        let mut mantissa: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            mantissa = mantissa
                .checked_mul(10)?
                .checked_add(i128::from(b - b'0'))?;
        }
        if mantissa > 10i128.pow(36) {
            return None;
        }
        Some(Decimal {
            mantissa: if neg { -mantissa } else { mantissa },
            scale,
        })
    }

    fn scaled_to(self, scale: u32) -> i128 {
        // Both mantissas stay below 10^36 and scales at most 18, so 10^(18) * 10^36 fits i128.
        self.mantissa * 10i128.pow(scale - self.scale)
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        let scale = self.scale.max(other.scale);
        self.scaled_to(scale).cmp(&other.scaled_to(scale))
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// An instant in time, in nanoseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub i128);

impl Instant {
    /// Parses a date as IAM's Date operators read it:
    /// - the W3C profile of ISO 8601: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDThh:mm[:ss[.s+]]TZD`
    ///   where TZD is `Z` or `±hh:mm` (missing TZD reads as UTC);
    /// - epoch **seconds** (a plain integer, 0 to 2^63-1), as `aws:EpochTime` is.
    pub fn parse(text: &str) -> Option<Instant> {
        let s = text.trim();
        if s.is_empty() {
            return None;
        }
        if s.bytes().all(|b| b.is_ascii_digit()) && !s.contains('-') && s.len() != 4 {
            let secs: i64 = s.parse().ok()?;
            return Some(Instant(i128::from(secs) * 1_000_000_000));
        }
        parse_iso8601(s)
    }

    /// Seconds since the epoch (floor).
    pub fn epoch_seconds(self) -> i128 {
        self.0.div_euclid(1_000_000_000)
    }

    /// A system time (before 1970: the epoch).
    pub fn from_system_time(t: std::time::SystemTime) -> Instant {
        let nanos = t
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        Instant(i128::try_from(nanos).unwrap_or(i128::MAX))
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.epoch_seconds();
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60
        )
    }
}

fn digits(s: &str, n: usize) -> Option<i64> {
    if s.len() != n || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_iso8601(s: &str) -> Option<Instant> {
    let (date, time) = match s.find(['T', 't']) {
        Some(i) => (s.get(..i)?, Some(s.get(i + 1..)?)),
        None => (s, None),
    };
    let mut parts = date.split('-');
    let year = digits(parts.next()?, 4)?;
    let month = match parts.next() {
        Some(m) => digits(m, 2)?,
        None => 1,
    };
    let day = match parts.next() {
        Some(d) => digits(d, 2)?,
        None => 1,
    };
    if parts.next().is_some() || !(1..=12).contains(&month) {
        return None;
    }
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut nanos: i128 = 0;
    let mut offset_secs: i64 = 0;
    if let Some(time) = time {
        if date.len() != 10 {
            return None;
        }
        // Split the zone designator off.
        let (clock, zone) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
            (c, None)
        } else if let Some(i) = time.rfind(['+', '-']) {
            (time.get(..i)?, Some(time.get(i..)?))
        } else {
            (time, None)
        };
        if let Some(zone) = zone {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (hh, mm) = zone.get(1..)?.split_once(':')?;
            let (hh, mm) = (digits(hh, 2)?, digits(mm, 2)?);
            if hh > 23 || mm > 59 {
                return None;
            }
            offset_secs = sign * (hh * 3600 + mm * 60);
        }
        let mut fields = clock.split(':');
        let hour = digits(fields.next()?, 2)?;
        let minute = digits(fields.next()?, 2)?;
        let (second, frac) = match fields.next() {
            Some(sec) => match sec.split_once('.') {
                Some((s, f)) => {
                    if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    let padded = format!("{f:0<9}");
                    (digits(s, 2)?, padded.parse::<i128>().ok()?)
                }
                None => (digits(sec, 2)?, 0),
            },
            None => (0, 0),
        };
        if fields.next().is_some() || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        nanos = i128::from(hour * 3600 + minute * 60 + second - offset_secs) * 1_000_000_000 + frac;
    }
    let days = days_from_civil(year, month, day);
    Some(Instant(i128::from(days) * 86_400 * 1_000_000_000 + nanos))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date (year, month, day) of a day counted from 1970-01-01.
pub(crate) fn civil_from_days(z: i128) -> (i128, i128, i128) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// An IPv4 or IPv6 network in CIDR notation. A bare address is a /32 (IPv4) or /128 (IPv6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `addr[/prefix]`. Host bits may be set; they are ignored when matching.
    pub fn parse(text: &str) -> Option<Cidr> {
        let s = text.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => {
                if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let n: u8 = p.parse().ok()?;
                if n > max {
                    return None;
                }
                n
            }
            None => max,
        };
        Some(Cidr { addr, prefix })
    }

    /// Whether `ip` lies in this network. Families never mix: an IPv4 address is in no IPv6 range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Parses an IP address as a request value (`aws:SourceIp`).
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    text.trim().parse().ok()
}

/// Decodes standard base64 (RFC 4648, with `=` padding, padding optional).
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    }
    let s = text.trim().trim_end_matches('=');
    if text.trim().len() - s.len() > 2 || s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        acc = (acc << 6) | val(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// Reads a boolean as `Bool` does: `true` or `false`, ignoring case; anything else is not a boolean.
pub fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        let d = |s| Decimal::parse(s).unwrap_or_else(|| unreachable!("{s}"));
        assert!(d("10") > d("9.99"));
        assert_eq!(d("10"), d("10.000"));
        assert!(d("-1") < d("0"));
        assert!(d(".5") == d("0.5"));
        assert!(Decimal::parse("10abc").is_none());
        assert!(Decimal::parse("1e3").is_none());
        assert!(Decimal::parse("").is_none());
        assert!(Decimal::parse("-").is_none());
        assert!(Decimal::parse(".").is_none());
        assert!(Decimal::parse("99999999999999999999999999999999999999999").is_none());
    }

    #[test]
    fn dates() {
        let t = |s| Instant::parse(s).map(|i| i.epoch_seconds());
        assert_eq!(t("2024-01-01T00:00:00Z"), Some(1_704_067_200));
        assert_eq!(t("1704067200"), Some(1_704_067_200));
        assert_eq!(t("2024-01-01"), Some(1_704_067_200));
        assert_eq!(t("2024"), Some(1_704_067_200));
        assert_eq!(t("2024-01"), Some(1_704_067_200));
        assert_eq!(t("2024-01-01T01:00+01:00"), Some(1_704_067_200));
        assert_eq!(t("2023-12-31T19:00:00-05:00"), Some(1_704_067_200));
        assert_eq!(t("2024-01-01T00:00:00.5Z"), Some(1_704_067_200));
        assert_eq!(t("2024-02-30"), None);
        assert_eq!(t("next tuesday"), None);
        assert_eq!(t("2024-13-01"), None);
        assert_eq!(t("2024-01-01T25:00Z"), None);
        assert_eq!(
            Instant::parse("2026-11-26T10:00:00Z").map(|i| i.to_string()),
            Some("2026-11-26T10:00:00Z".to_string())
        );
    }

    #[test]
    fn cidrs() {
        let c = |s| Cidr::parse(s).unwrap_or_else(|| unreachable!("{s}"));
        let ip = |s| parse_ip(s).unwrap_or_else(|| unreachable!("{s}"));
        assert!(c("203.0.113.0/24").contains(ip("203.0.113.10")));
        assert!(!c("203.0.113.0/24").contains(ip("203.0.114.10")));
        assert!(c("2001:DB8::/32").contains(ip("2001:db8:0:0:1::7")));
        assert!(!c("2001:db8::/32").contains(ip("203.0.113.10")));
        assert!(c("0.0.0.0/0").contains(ip("1.2.3.4")));
        assert!(c("10.1.2.3").contains(ip("10.1.2.3")));
        assert!(!c("10.1.2.3").contains(ip("10.1.2.4")));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("10.0.0/8").is_none());
        assert!(Cidr::parse("10.0.0.0/").is_none());
    }

    #[test]
    fn base64() {
        assert_eq!(decode_base64("aGVsbG8="), Some(b"hello".to_vec()));
        assert_eq!(decode_base64("aGVsbG8"), Some(b"hello".to_vec()));
        assert_eq!(decode_base64("!!"), None);
        assert_eq!(decode_base64(""), Some(vec![]));
    }
}
