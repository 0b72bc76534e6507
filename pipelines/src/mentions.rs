//! Mention counts in time buckets and spike detection by a robust z-score.
//!
//! Items are counted in the bucket of their `ts_recv` (when they were knowable). Only completed
//! buckets (ending at or before `until`) are scored, each against the `window` buckets before it:
//! z = (count − median) / max(1.4826 · MAD, 1), MAD the median absolute deviation from the median
//! (1.4826 · MAD estimates the standard deviation of normal data; the floor of one mention keeps a
//! quiet series — MAD 0 — from calling every single mention a spike). A bucket is a spike when
//! z ≥ the threshold. Nothing after a bucket enters its score.

use elite_warehouse::Timestamp;
use serde::Serialize;

/// One completed bucket.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Bucket {
    pub start: Timestamp,
    pub count: u64,
    /// `None` until `window` earlier buckets exist.
    pub median: Option<f64>,
    pub mad: Option<f64>,
    pub z: Option<f64>,
    pub spike: bool,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Count `times` (any order) in buckets of `bucket_ns` aligned to the epoch, from the first
/// item's bucket to the last item's (or the last completed by `until`), and score each.
pub fn spikes(
    times: &[Timestamp],
    bucket_ns: i64,
    window: usize,
    threshold: f64,
    until: Timestamp,
) -> Vec<Bucket> {
    if bucket_ns <= 0 || window == 0 {
        return vec![];
    }
    let (Some(first), Some(last)) = (
        times.iter().map(|t| t.as_nanos()).min(),
        times.iter().map(|t| t.as_nanos()).max(),
    ) else {
        return vec![];
    };
    let start = first.div_euclid(bucket_ns) * bucket_ns;
    // Up to the first incomplete bucket, and no further than the last item's bucket (the empty
    // buckets after it are no spikes).
    let end = (until.as_nanos().div_euclid(bucket_ns) * bucket_ns)
        .min((last.div_euclid(bucket_ns) + 1).saturating_mul(bucket_ns));
    if end <= start {
        return vec![];
    }
    let n = ((end - start) / bucket_ns) as usize;
    let mut counts = vec![0u64; n];
    for t in times {
        let k = (t.as_nanos() - start).div_euclid(bucket_ns);
        if (0..n as i64).contains(&k) {
            counts[k as usize] += 1;
        }
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (mut med, mut mad, mut z) = (None, None, None);
        if i >= window {
            let mut past: Vec<f64> = counts[i - window..i].iter().map(|&c| c as f64).collect();
            let m = median(&mut past);
            let mut dev: Vec<f64> = past.iter().map(|c| (c - m).abs()).collect();
            let d = median(&mut dev);
            med = Some(m);
            mad = Some(d);
            z = Some((counts[i] as f64 - m) / (1.4826 * d).max(1.0));
        }
        out.push(Bucket {
            start: Timestamp::from_nanos(start + i as i64 * bucket_ns),
            count: counts[i],
            median: med,
            mad,
            z,
            spike: z.is_some_and(|z| z >= threshold),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000_000_000;

    fn t(h: f64) -> Timestamp {
        Timestamp::from_nanos((h * H as f64) as i64)
    }

    #[test]
    fn robust_z_by_hand() {
        // Hourly counts 2,3,2,4,3 then 12 in hour 5; hour 6 is still open at `until`.
        let mut times = vec![];
        for (h, c) in [(0, 2), (1, 3), (2, 2), (3, 4), (4, 3), (5, 12), (6, 50)] {
            times.extend((0..c).map(|k| t(h as f64 + k as f64 / 100.0)));
        }
        let b = spikes(&times, H, 5, 3.5, t(6.5));
        assert_eq!(b.len(), 6, "hour 6 is not complete");
        assert_eq!(
            b.iter().map(|x| x.count).collect::<Vec<_>>(),
            [2, 3, 2, 4, 3, 12]
        );
        // Window [2,3,2,4,3]: median 3, deviations [1,0,1,1,0] → MAD 1; z = (12−3)/1.4826.
        assert_eq!(b[5].median, Some(3.0));
        assert_eq!(b[5].mad, Some(1.0));
        assert!((b[5].z.unwrap() - 9.0 / 1.4826).abs() < 1e-12);
        assert!(b[5].spike && !b[4].spike);
        assert!(b[4].z.is_none());
    }

    #[test]
    fn later_items_never_change_earlier_buckets() {
        let base: Vec<Timestamp> = (0..200).map(|k| t(k as f64 * 0.37)).collect();
        let a = spikes(&base, H, 12, 3.0, t(80.0));
        let mut more = base.clone();
        more.extend((0..300).map(|k| t(80.0 + k as f64 * 0.01)));
        let b = spikes(&more, H, 12, 3.0, t(90.0));
        assert_eq!(a[..], b[..a.len()]);
    }
}
