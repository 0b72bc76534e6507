//! Fixed-point money: every amount on the order and ledger path is an integer count of
//! 1/10,000 of the currency unit (a hundredth of a paisa or of a cent). Sums of money are exact;
//! only prices coming from analytics (f64) are rounded once, half away from zero, when they enter
//! the money path ([`Money::from_f64`]).

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

use serde::{Deserialize, Serialize};

/// Units of [`Money`] per currency unit.
pub const SCALE: i64 = 10_000;

/// An exact amount of money (or a price per share), in 1/10,000 of the currency unit.
///
/// Serialized as an exact decimal string (`"546.2500"`); deserialized from such a string, an
/// integer (whole units) or a float (rounded to 1/10,000), so configs can say `cash = 1000000`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(pub i64);

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Money;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount: a decimal string with at most 4 places, or a number")
            }
            fn visit_i64<E: serde::de::Error>(self, i: i64) -> Result<Money, E> {
                i.checked_mul(SCALE)
                    .map(Money)
                    .ok_or_else(|| E::custom(format!("amount {i} is out of range")))
            }
            fn visit_u64<E: serde::de::Error>(self, i: u64) -> Result<Money, E> {
                i64::try_from(i)
                    .map_err(|_| E::custom(format!("amount {i} is out of range")))
                    .and_then(|i| self.visit_i64(i))
            }
            fn visit_f64<E: serde::de::Error>(self, f: f64) -> Result<Money, E> {
                Money::from_f64(f).ok_or_else(|| E::custom(format!("amount {f} is not finite")))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Money, E> {
                Money::parse(s).ok_or_else(|| {
                    E::custom(format!(
                        "amount {s:?} is not a decimal with at most 4 places"
                    ))
                })
            }
        }
        d.deserialize_any(V)
    }
}

impl Money {
    pub const ZERO: Money = Money(0);

    /// Whole currency units (rupees, dollars).
    pub const fn units(n: i64) -> Money {
        Money(n * SCALE)
    }

    /// Hundredths of a unit (paise, cents).
    pub const fn cents(n: i64) -> Money {
        Money(n * (SCALE / 100))
    }

    /// The nearest representable amount, half away from zero; `None` for non-finite or
    /// out-of-range input.
    pub fn from_f64(x: f64) -> Option<Money> {
        let v = (x * SCALE as f64).round();
        (v.is_finite() && v.abs() < 9.0e18).then_some(Money(v as i64))
    }

    /// Parse a decimal string (`"546"`, `"-0.0005"`, `"2973.10"`) exactly; at most 4 decimals.
    pub fn parse(s: &str) -> Option<Money> {
        let s = s.trim();
        let (neg, digits) = match s.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, s),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if int.is_empty() && frac.is_empty() || frac.len() > 4 {
            return None;
        }
        let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int) || !all_digits(frac) {
            return None;
        }
        let i: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let mut f: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse().ok()?
        };
        for _ in frac.len()..4 {
            f *= 10;
        }
        let v = i.checked_mul(SCALE)?.checked_add(f)?;
        Some(Money(if neg { -v } else { v }))
    }

    pub fn to_f64(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }

    pub fn abs(self) -> Money {
        Money(self.0.abs())
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Price × quantity, exact (panics never: saturates at the i64 range, far beyond any book).
    pub fn times(self, qty: i64) -> Money {
        Money(self.0.saturating_mul(qty))
    }

    /// `self × rate`, where the rate is an exact decimal given as `num / den` (e.g. 0.1% =
    /// 1/1000), rounded half away from zero to a multiple of `step` (e.g. [`Money::cents`]`(1)`).
    /// Computed in i128, so no intermediate rounding.
    pub fn mul_rate(self, rate: Rate, step: Money) -> Money {
        let step = step.0.max(1) as i128;
        let num = self.0 as i128 * rate.num as i128;
        let den = rate.den as i128 * step;
        let q = num / den;
        let r = num % den;
        let q = if 2 * r.abs() >= den {
            q + num.signum()
        } else {
            q
        };
        Money((q * step) as i64)
    }

    /// Round half away from zero to a multiple of `step`.
    pub fn round_to(self, step: Money) -> Money {
        self.mul_rate(Rate::ONE, step)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:04}", a / SCALE as u64, a % SCALE as u64)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, o: Money) -> Money {
        Money(self.0 + o.0)
    }
}
impl Sub for Money {
    type Output = Money;
    fn sub(self, o: Money) -> Money {
        Money(self.0 - o.0)
    }
}
impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}
impl AddAssign for Money {
    fn add_assign(&mut self, o: Money) {
        self.0 += o.0;
    }
}
impl SubAssign for Money {
    fn sub_assign(&mut self, o: Money) {
        self.0 -= o.0;
    }
}
impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

/// An exact rate `num / den` (fees, taxes): 0.00297% is `Rate::new(297, 10_000_000)`.
/// In configs a rate is written as a percentage string, `"0.00297%"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub num: i64,
    pub den: i64,
}

impl Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Exact when the denominator is 100 × a power of ten (every rate parsed from a config).
        let mut den = self.den;
        let mut places = 0u32;
        while den > 100 && den % 10 == 0 {
            den /= 10;
            places += 1;
        }
        if den == 100 {
            let n = self.num.unsigned_abs();
            let p = 10u64.pow(places);
            let sign = if self.num < 0 { "-" } else { "" };
            if places == 0 {
                s.collect_str(&format_args!("{sign}{n}%"))
            } else {
                s.collect_str(&format_args!(
                    "{sign}{}.{:0w$}%",
                    n / p,
                    n % p,
                    w = places as usize
                ))
            }
        } else {
            s.collect_str(&format_args!("{}/{}", self.num, self.den))
        }
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let s = String::deserialize(d)?;
        let t = s.trim();
        if let Some(p) = t.strip_suffix('%') {
            return Rate::percent(p).ok_or_else(|| {
                D::Error::custom(format!("rate {s:?}: not a percentage like \"0.1%\""))
            });
        }
        if let Some((n, m)) = t.split_once('/')
            && let (Ok(n), Ok(m)) = (n.trim().parse::<i64>(), m.trim().parse::<i64>())
            && m > 0
        {
            return Ok(Rate::new(n, m));
        }
        Err(D::Error::custom(format!(
            "rate {s:?}: write a percentage like \"0.1%\""
        )))
    }
}

impl Rate {
    pub const ZERO: Rate = Rate { num: 0, den: 1 };
    pub const ONE: Rate = Rate { num: 1, den: 1 };

    pub const fn new(num: i64, den: i64) -> Rate {
        Rate { num, den }
    }

    /// A percentage written as a decimal string, exactly: `"0.00297"` (%) → 297/10,000,000.
    pub fn percent(s: &str) -> Option<Rate> {
        let (int, frac) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
        if frac.len() > 12 || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let num: i64 = format!("{int}{frac}").parse().ok()?;
        let den = 100i64.checked_mul(10i64.checked_pow(frac.len() as u32)?)?;
        Some(Rate { num, den })
    }

    pub fn to_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display() {
        assert_eq!(Money::parse("546").unwrap(), Money::units(546));
        assert_eq!(Money::parse("2973.1").unwrap(), Money(29_731_000));
        assert_eq!(Money::parse("-0.0005").unwrap(), Money(-5));
        assert!(Money::parse("1.23456").is_none());
        assert!(Money::parse("1e3").is_none());
        assert_eq!(Money(-12_345).to_string(), "-1.2345");
        assert_eq!(Money::from_f64(0.1 + 0.2).unwrap(), Money(3000));
    }

    #[test]
    fn serde_forms() {
        let m: Money = serde_json::from_str("\"2973.10\"").unwrap();
        assert_eq!(m, Money(29_731_000));
        assert_eq!(
            serde_json::from_str::<Money>("1000").unwrap(),
            Money::units(1000)
        );
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"2973.1000\"");
        let r: Rate = serde_json::from_str("\"0.00297%\"").unwrap();
        assert_eq!(r, Rate::new(297, 10_000_000));
        assert_eq!(serde_json::to_string(&r).unwrap(), "\"0.00297%\"");
        assert_eq!(
            serde_json::to_string(&Rate::new(18, 100)).unwrap(),
            "\"18%\""
        );
        assert!(serde_json::from_str::<Rate>("\"abc\"").is_err());
    }

    #[test]
    fn rates_round_half_away_from_zero() {
        let p = Rate::percent("0.025").unwrap(); // 0.025%
        assert_eq!(p, Rate::new(25, 100_000));
        // 55,000 × 0.025% = 13.75 → 14 rupees when STT rounds to the rupee.
        assert_eq!(
            Money::units(55_000).mul_rate(p, Money::units(1)),
            Money::units(14)
        );
        assert_eq!(
            Money::units(55_000).mul_rate(p, Money::cents(1)),
            Money(137_500)
        );
        assert_eq!(
            (-Money::units(55_000)).mul_rate(p, Money::units(1)),
            -Money::units(14)
        );
        assert_eq!(Money(15_000).round_to(Money::cents(1)), Money(15_000));
        assert_eq!(Money(15_050).round_to(Money::cents(1)), Money(15_100));
    }
}
