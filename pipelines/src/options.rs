//! Option analytics used on chains: Black-Scholes delta at zero rates and dividends.

use statrs::distribution::{ContinuousCDF, Normal};

/// Black-Scholes delta of a call (`call`) or put with spot `s`, strike `k`, `t` years to expiry
/// and implied volatility `vol`, with zero interest rate and dividend yield: N(d1) for a call,
/// N(d1) − 1 for a put, d1 = (ln(s/k) + vol²t/2) / (vol √t). `None` when an input is not
/// positive and finite.
pub fn bs_delta(s: f64, k: f64, t: f64, vol: f64, call: bool) -> Option<f64> {
    if ![s, k, t, vol].iter().all(|x| x.is_finite() && *x > 0.0) {
        return None;
    }
    let d1 = ((s / k).ln() + 0.5 * vol * vol * t) / (vol * t.sqrt());
    let n = Normal::new(0.0, 1.0).ok()?.cdf(d1);
    Some(if call { n } else { n - 1.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_money_one_year_twenty_percent() {
        // d1 = 0.1; Φ(0.1) = 0.53983 (standard normal table).
        let c = bs_delta(100.0, 100.0, 1.0, 0.2, true).unwrap();
        assert!((c - 0.53983).abs() < 1e-5, "{c}");
        let p = bs_delta(100.0, 100.0, 1.0, 0.2, false).unwrap();
        assert!((p - (0.53983 - 1.0)).abs() < 1e-5, "{p}");
        assert!(bs_delta(100.0, 100.0, 0.0, 0.2, true).is_none());
        assert!(bs_delta(100.0, 100.0, 1.0, f64::NAN, true).is_none());
    }
}
