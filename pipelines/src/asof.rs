//! Point-in-time joins: attach to each decision time the latest record of another series that
//! was *knowable* then (`ts_recv <= decision time`), never one that arrived later, whatever its
//! `ts_event`. This is how news, sentiment or a higher timeframe's bars join onto bars.

use elite_warehouse::Timestamp;

/// For each `decisions[i]` (ascending), the value of the latest `right` record with
/// `ts_recv <= decisions[i]`. `right` must be ascending by `ts_recv` (ties: the last one wins).
pub fn asof_join<T: Clone>(decisions: &[Timestamp], right: &[(Timestamp, T)]) -> Vec<Option<T>> {
    let mut out = Vec::with_capacity(decisions.len());
    let mut j = 0;
    let mut cur: Option<&T> = None;
    for &t in decisions {
        while j < right.len() && right[j].0 <= t {
            cur = Some(&right[j].1);
            j += 1;
        }
        out.push(cur.cloned());
    }
    out
}

/// The streaming form: offer records as they arrive (ascending `ts_recv`), ask at a decision time.
#[derive(Clone, Debug, Default)]
pub struct AsOf<T> {
    pending: std::collections::VecDeque<(Timestamp, T)>,
    current: Option<T>,
}

impl<T: Clone> AsOf<T> {
    pub fn new() -> Self {
        Self {
            pending: Default::default(),
            current: None,
        }
    }
    /// A record that became knowable at `ts_recv`.
    pub fn offer(&mut self, ts_recv: Timestamp, value: T) {
        self.pending.push_back((ts_recv, value));
    }
    /// The latest value knowable at `t` (call with non-decreasing `t`).
    pub fn at(&mut self, t: Timestamp) -> Option<&T> {
        while self.pending.front().is_some_and(|(r, _)| *r <= t) {
            self.current = self.pending.pop_front().map(|(_, v)| v);
        }
        self.current.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_nanos(s * 1_000_000_000)
    }

    #[test]
    fn only_records_known_by_then_are_joined() {
        let decisions = [ts(10), ts(20), ts(30)];
        // A record about t=5 that only arrived at t=25 must not reach the decision at t=20.
        let right = [(ts(9), "a"), (ts(25), "late news about t=5"), (ts(30), "c")];
        assert_eq!(
            asof_join(&decisions, &right),
            vec![Some("a"), Some("a"), Some("c")]
        );
        let mut s = AsOf::new();
        for (r, v) in right {
            s.offer(r, v);
        }
        let streamed: Vec<_> = decisions.iter().map(|t| s.at(*t).copied()).collect();
        assert_eq!(streamed, asof_join(&decisions, &right));
    }
}
