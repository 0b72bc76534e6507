//! NaN-aware, length-checked comparison of float vectors, for tests and benchmarks that check
//! one implementation against another. `iter().fold(0.0, f64::max)` ignores NaN (a result of all
//! NaN would "match" anything); these functions refuse it.

/// Why two vectors cannot be compared, or where they first disagree in kind.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Mismatch {
    #[error("lengths differ: {left} vs {right}")]
    Length { left: usize, right: usize },
    #[error("nothing to compare: both are empty")]
    Empty,
    #[error("index {index}: {left} vs {right} (a NaN on one side only)")]
    Nan { index: usize, left: f64, right: f64 },
}

/// The largest `|a[i] − b[i]|` and its index. Positions where both are NaN (or both the same
/// infinity) agree; a NaN on one side, differing lengths or empty inputs are errors.
pub fn max_abs_diff(a: &[f64], b: &[f64]) -> Result<(f64, usize), Mismatch> {
    max_by(a, b, |x, y| (x - y).abs())
}

/// The largest relative difference `|a − b| / max(|a|, |b|)` (0 where equal) and its index,
/// with the same NaN, length and emptiness rules as [`max_abs_diff`].
pub fn max_rel_diff(a: &[f64], b: &[f64]) -> Result<(f64, usize), Mismatch> {
    max_by(a, b, |x, y| (x - y).abs() / x.abs().max(y.abs()))
}

fn max_by(a: &[f64], b: &[f64], diff: impl Fn(f64, f64) -> f64) -> Result<(f64, usize), Mismatch> {
    if a.len() != b.len() {
        return Err(Mismatch::Length {
            left: a.len(),
            right: b.len(),
        });
    }
    if a.is_empty() {
        return Err(Mismatch::Empty);
    }
    let mut worst = (0.0, 0);
    for (index, (&x, &y)) in a.iter().zip(b).enumerate() {
        if x == y || (x.is_nan() && y.is_nan()) {
            continue;
        }
        if x.is_nan() || y.is_nan() {
            return Err(Mismatch::Nan {
                index,
                left: x,
                right: y,
            });
        }
        let d = diff(x, y);
        // An infinity against a finite value is an infinite difference, never skipped.
        let d = if d.is_nan() { f64::INFINITY } else { d };
        if d > worst.0 {
            worst = (d, index);
        }
    }
    Ok(worst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_length_and_empty_are_refused_not_ignored() {
        assert_eq!(max_abs_diff(&[1.0, 2.0], &[1.0, 2.5]), Ok((0.5, 1)));
        assert_eq!(
            max_abs_diff(&[f64::NAN, 1.0], &[f64::NAN, 1.0]),
            Ok((0.0, 0))
        );
        assert!(matches!(
            max_abs_diff(&[1.0, f64::NAN], &[1.0, 1.0]),
            Err(Mismatch::Nan { index: 1, .. })
        ));
        // fold(0.0, f64::max) would report 0 here.
        assert!(max_abs_diff(&[f64::NAN; 3], &[0.0; 3]).is_err());
        assert_eq!(
            max_abs_diff(&[1.0], &[1.0, 2.0]),
            Err(Mismatch::Length { left: 1, right: 2 })
        );
        assert_eq!(max_abs_diff(&[], &[]), Err(Mismatch::Empty));
        assert_eq!(
            max_abs_diff(&[f64::INFINITY], &[1.0]),
            Ok((f64::INFINITY, 0))
        );
        assert_eq!(
            max_abs_diff(&[f64::INFINITY], &[f64::INFINITY]),
            Ok((0.0, 0))
        );
        assert_eq!(max_rel_diff(&[0.0, 100.0], &[0.0, 101.0]).unwrap().1, 1);
        assert_eq!(
            max_rel_diff(&[f64::INFINITY], &[f64::NEG_INFINITY])
                .unwrap()
                .0,
            f64::INFINITY
        );
    }
}
