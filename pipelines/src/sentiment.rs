//! Sentiment features: one symbol's scored text items (news, posts), aggregated as of each bar.
//!
//! At a bar whose `ts_recv` is `t`, only items with `ts_recv <= t` count — an item published
//! before `t` but received after it does not. Windows are trailing calendar time before `t`:
//!
//! | feature | what |
//! |---|---|
//! | `sent_count_1d`, `sent_count_5d` | items in the last 1 / 5 days |
//! | `sent_mean_1d`, `sent_mean_5d` | their mean score (0 when none) |
//! | `sent_std_5d` | population standard deviation of the 5-day scores (dispersion; 0 when < 2) |
//! | `sent_decay` | time-decayed mean over 5 days, half-life 1 day: Σ wᵢsᵢ / Σ wᵢ, wᵢ = 2^(−age/1d) |
//!
//! With no items the features are 0 (neutral, no news), so bars without news still train.

use std::collections::VecDeque;

use elite_warehouse::Timestamp;
use serde::{Deserialize, Serialize};

/// The features' names, in output order.
pub const NAMES: [&str; 6] = [
    "sent_count_1d",
    "sent_mean_1d",
    "sent_count_5d",
    "sent_mean_5d",
    "sent_std_5d",
    "sent_decay",
];

const DAY: i64 = 86_400_000_000_000;

/// One scored item: when it was knowable, and its score in [-1, 1].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextEvent {
    pub ts_recv: Timestamp,
    pub score: f64,
}

/// Aggregates one symbol's items as of each decision time (ascending).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SentimentFeatures {
    /// Items not yet knowable, ascending by `ts_recv`.
    pending: VecDeque<TextEvent>,
    /// Knowable items of the last 5 days, ascending by `ts_recv`.
    window: VecDeque<TextEvent>,
}

impl SentimentFeatures {
    /// An engine over `events` (any order; non-finite scores are ignored).
    pub fn new(mut events: Vec<TextEvent>) -> Self {
        events.retain(|e| e.score.is_finite());
        events.sort_by_key(|e| e.ts_recv);
        Self {
            pending: events.into(),
            window: VecDeque::new(),
        }
    }

    /// An item that arrived while running (the stream form); must not be older than the last
    /// decision time asked, or it would change the past.
    pub fn offer(&mut self, e: TextEvent) {
        if e.score.is_finite() {
            let at = self.pending.partition_point(|p| p.ts_recv <= e.ts_recv);
            self.pending.insert(at, e);
        }
    }

    /// The features as of `t` (non-decreasing between calls), appended to `out`.
    pub fn update(&mut self, t: Timestamp, out: &mut Vec<Option<f64>>) {
        while self.pending.front().is_some_and(|e| e.ts_recv <= t) {
            if let Some(e) = self.pending.pop_front() {
                self.window.push_back(e);
            }
        }
        let start5 = t.as_nanos().saturating_sub(5 * DAY);
        while self
            .window
            .front()
            .is_some_and(|e| e.ts_recv.as_nanos() <= start5)
        {
            self.window.pop_front();
        }
        let start1 = t.as_nanos().saturating_sub(DAY);
        let (mut n1, mut s1, mut n5, mut s5, mut ss5, mut wsum, mut wx) =
            (0usize, 0.0, 0usize, 0.0, 0.0, 0.0, 0.0);
        for e in &self.window {
            let x = e.score;
            n5 += 1;
            s5 += x;
            ss5 += x * x;
            if e.ts_recv.as_nanos() > start1 {
                n1 += 1;
                s1 += x;
            }
            let age_days = (t.as_nanos() - e.ts_recv.as_nanos()) as f64 / DAY as f64;
            let w = (-age_days).exp2();
            wsum += w;
            wx += w * x;
        }
        let mean = |s: f64, n: usize| if n == 0 { 0.0 } else { s / n as f64 };
        let m5 = mean(s5, n5);
        let std5 = if n5 < 2 {
            0.0
        } else {
            (ss5 / n5 as f64 - m5 * m5).max(0.0).sqrt()
        };
        out.extend([
            Some(n1 as f64),
            Some(mean(s1, n1)),
            Some(n5 as f64),
            Some(m5),
            Some(std5),
            Some(if wsum > 0.0 { wx / wsum } else { 0.0 }),
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> Timestamp {
        Timestamp::from_nanos(1_700_000_000_000_000_000 + hours * 3_600_000_000_000)
    }

    fn ev(hours: i64, score: f64) -> TextEvent {
        TextEvent {
            ts_recv: at(hours),
            score,
        }
    }

    #[test]
    fn windows_means_dispersion_and_decay_by_hand() {
        // Items at -30 h (0.5), -12 h (-0.2), -1 h (0.8) before t = 0, one at +1 h (future).
        let mut f =
            SentimentFeatures::new(vec![ev(1, 1.0), ev(-30, 0.5), ev(-12, -0.2), ev(-1, 0.8)]);
        let mut out = vec![];
        f.update(at(0), &mut out);
        let got: Vec<f64> = out.iter().map(|v| v.unwrap()).collect();
        let m5 = (0.5 - 0.2 + 0.8) / 3.0;
        let var: f64 = (0.25 + 0.04 + 0.64) / 3.0 - m5 * m5;
        let (w1, w2, w3) = (
            2f64.powf(-30.0 / 24.0),
            2f64.powf(-0.5),
            2f64.powf(-1.0 / 24.0),
        );
        let want = [
            2.0,
            0.3,
            3.0,
            m5,
            var.sqrt(),
            (w1 * 0.5 - w2 * 0.2 + w3 * 0.8) / (w1 + w2 + w3),
        ];
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?} vs {want:?}");
        }
        // No items: neutral zeros.
        let mut out = vec![];
        SentimentFeatures::new(vec![]).update(at(0), &mut out);
        assert!(out.iter().all(|v| *v == Some(0.0)));
    }

    #[test]
    fn the_future_never_changes_the_past() {
        let past = vec![ev(-40, 0.3), ev(-20, -0.6), ev(-2, 0.1)];
        let mut perturbed = past.clone();
        perturbed.extend([ev(1, -1.0), ev(3, 0.9), ev(10, 0.0)]);
        let times: Vec<Timestamp> = (-48..=0).step_by(4).map(at).collect();
        let run = |events: Vec<TextEvent>| {
            let mut f = SentimentFeatures::new(events);
            times
                .iter()
                .map(|&t| {
                    let mut out = vec![];
                    f.update(t, &mut out);
                    out
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(past), run(perturbed));
    }
}
