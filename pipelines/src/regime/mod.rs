//! Market regimes and stress: a Gaussian HMM on returns and volatility ([`hmm`]), a rule-based
//! trend × volatility classifier ([`rules`]) and a market stress index ([`stress`]).
//!
//! Anything tradable reads only *filtered* states: [`walk_forward`] refits the HMM on the rows up
//! to a bar (every `refit` bars, on an expanding window) and labels the bars up to the next refit
//! with forward-filtered probabilities, so the state of bar `t` depends on rows `..=t` alone.

pub mod features;
pub mod hmm;
pub mod rules;
pub mod stress;

use hmm::{Hmm, HmmOptions};

/// The name of HMM state `s` of `k` (ordered calm → turbulent).
pub fn hmm_label(s: usize, k: usize) -> String {
    match (k, s) {
        (2, 0) => "calm".into(),
        (2, 1) => "turbulent".into(),
        (3, 0) => "calm".into(),
        (3, 1) => "normal".into(),
        (3, 2) => "turbulent".into(),
        _ => format!("state{s}"),
    }
}

/// A filtered HMM state.
#[derive(Clone, Debug, PartialEq)]
pub struct Filtered {
    /// The most probable state.
    pub state: usize,
    /// P(state | rows ..= t) for every state.
    pub probs: Vec<f64>,
    /// The row the model labelling this one was fitted through.
    pub fitted_through: usize,
}

/// Point-in-time HMM states for every row from `min_train − 1` on: fits through rows
/// `min_train − 1`, `min_train − 1 + refit`, …, each labelling its own row and the `refit − 1`
/// after it by forward filtering. Returns the states (`None` before the first fit or where a fit
/// failed) and the last model fitted.
pub fn walk_forward(
    xs: &[Vec<f64>],
    opts: &HmmOptions,
    min_train: usize,
    refit: usize,
) -> (Vec<Option<Filtered>>, Option<Hmm>) {
    let mut out = vec![None; xs.len()];
    let mut last = None;
    let refit = refit.max(1);
    let mut at = min_train.max(2 * opts.states).saturating_sub(1);
    while at < xs.len() {
        let end = (at + refit).min(xs.len());
        if let Some(m) = hmm::fit(&xs[..=at], opts) {
            let f = m.filter(&xs[..end]);
            for (t, probs) in f.into_iter().enumerate().skip(at) {
                let state = (0..probs.len())
                    .max_by(|a, b| probs[*a].total_cmp(&probs[*b]))
                    .unwrap_or(0);
                out[t] = Some(Filtered {
                    state,
                    probs,
                    fitted_through: at,
                });
            }
            last = Some(m);
        }
        at = end;
    }
    (out, last)
}
