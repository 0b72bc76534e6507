//! Regimes against independent implementations on real data (golden/gen_regime.py):
//! - the Gaussian HMM against `hmmlearn` 0.3.3 on GOOG's daily (return, 20-day volatility) rows,
//!   2 and 3 states, from the same initial parameters: iterations equal, parameters and
//!   log-likelihood to 1e-8 relative, filtered probabilities to 1e-8, the Viterbi path equal;
//! - the stress index and its four components against pandas on 20 S&P 500 stocks (to 1e-8);
//! - the rule-based classifier against pandas on GOOG (every state equal);
//! - no look-ahead: changing the future leaves every earlier filtered state, rule state and
//!   stress value as it was.

use elite_pipelines::regime::hmm::{self, HmmOptions};
use elite_pipelines::regime::rules::{RuleOptions, classify, label};
use elite_pipelines::regime::stress::{StressOptions, stress_index};
use elite_pipelines::regime::walk_forward;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;

fn fixture(name: &str) -> String {
    format!(
        "{}/../collectors/fixtures/bars/{name}",
        std::env::var("CARGO_MANIFEST_DIR").unwrap()
    )
}

fn golden() -> Value {
    let path = format!(
        "{}/golden/regime_golden.json",
        std::env::var("CARGO_MANIFEST_DIR").unwrap()
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn goog() -> Vec<f64> {
    let mut r = csv::Reader::from_path(fixture("GOOG_1d.csv")).unwrap();
    r.deserialize::<BTreeMap<String, String>>()
        .map(|row| row.unwrap()["close"].parse().unwrap())
        .collect()
}

/// Dates × symbols closes of the 20 stocks, on the dates where all have one.
fn sp500() -> Vec<Vec<f64>> {
    let mut s = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(fixture("sp500_20_1d_2010_2022.csv.gz")).unwrap(),
    )
    .read_to_string(&mut s)
    .unwrap();
    let mut by_date: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    let mut syms = std::collections::BTreeSet::new();
    for row in csv::Reader::from_reader(s.as_bytes()).deserialize::<BTreeMap<String, String>>() {
        let row = row.unwrap();
        syms.insert(row["symbol"].clone());
        by_date
            .entry(row["ts"].clone())
            .or_default()
            .insert(row["symbol"].clone(), row["close"].parse().unwrap());
    }
    by_date
        .values()
        .filter(|m| m.len() == syms.len())
        .map(|m| m.values().copied().collect())
        .collect()
}

fn close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        got.is_finite() && want.is_finite(),
        "{what}: {got} vs {want}"
    );
    let d = (got - want).abs() / want.abs().max(1.0);
    assert!(d < tol, "{what}: {got} vs reference {want} (diff {d:e})");
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(f64s).collect()
}

fn same_matrix(what: &str, got: &[Vec<f64>], want: &[Vec<f64>], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: rows");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.len(), w.len(), "{what}[{i}]: columns");
        for (j, (a, b)) in g.iter().zip(w).enumerate() {
            close(&format!("{what}[{i}][{j}]"), *a, *b, tol);
        }
    }
}

#[test]
fn gaussian_hmm_equals_hmmlearn() {
    let g = golden();
    let xs = hmm::features(&goog(), 20);
    assert_eq!(xs.len(), 2148 - 20);
    for k in [2usize, 3] {
        let w = &g["hmm"][k.to_string()];
        let opts = HmmOptions {
            states: k,
            ..HmmOptions::default()
        };
        let init = hmm::initial(&xs, &opts).unwrap();
        same_matrix(
            "initial means",
            &init.means,
            &matrix(&w["init_means"]),
            1e-12,
        );
        same_matrix(
            "initial variances",
            &init.covars,
            &matrix(&w["init_covars"]),
            1e-12,
        );
        let m = hmm::fit(&xs, &opts).unwrap();
        assert_eq!(
            m.iterations as u64,
            w["iterations"].as_u64().unwrap(),
            "{k} states: iterations"
        );
        close(
            &format!("{k}: loglik"),
            m.loglik,
            w["loglik"].as_f64().unwrap(),
            1e-10,
        );
        let start = f64s(&w["startprob"]);
        assert_eq!(m.start.len(), start.len());
        for (a, b) in m.start.iter().zip(&start) {
            // A start probability is (numerically) 0 or 1 after EM: compare absolutely.
            assert!((a - b).abs() < 1e-8, "{k}: start {a} vs {b}");
        }
        let trans: Vec<Vec<f64>> = m.trans.chunks(k).map(<[f64]>::to_vec).collect();
        same_matrix(
            &format!("{k}: transitions"),
            &trans,
            &matrix(&w["transmat"]),
            1e-8,
        );
        same_matrix(&format!("{k}: means"), &m.means, &matrix(&w["means"]), 1e-8);
        same_matrix(
            &format!("{k}: variances"),
            &m.covars,
            &matrix(&w["covars"]),
            1e-8,
        );
        let path = m.viterbi(&xs);
        let want: Vec<usize> = w["viterbi"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(path.len(), want.len());
        let diff = path.iter().zip(&want).filter(|(a, b)| a != b).count();
        assert_eq!(diff, 0, "{k}: Viterbi states differing from hmmlearn's");
        let filtered = m.filter(&xs);
        for (t, p) in w["filtered"].as_object().unwrap() {
            let t: usize = t.parse().unwrap();
            let p = f64s(p);
            assert_eq!(filtered[t].len(), p.len());
            for (a, b) in filtered[t].iter().zip(&p) {
                assert!((a - b).abs() < 1e-8, "{k}: filtered[{t}] {a} vs {b}");
            }
        }
        // State 0 is the calm one.
        assert!(m.means[0][1] < m.means[k - 1][1]);
    }
}

fn opt(v: &Value) -> Option<f64> {
    v.as_f64()
}

#[test]
fn stress_index_equals_pandas() {
    let g = golden();
    let closes = sp500();
    assert_eq!(closes.len(), 3270);
    let s = stress_index(&closes, &StressOptions::default());
    let want = &g["stress"];
    let idx: Vec<Option<f64>> = want["index"].as_array().unwrap().iter().map(opt).collect();
    assert_eq!(s.len(), idx.len());
    let mut compared = 0;
    for (t, (p, w)) in s.iter().zip(&idx).enumerate() {
        match (p.index, w) {
            (Some(a), Some(b)) => {
                close(&format!("index[{t}]"), a, *b, 1e-8);
                compared += 1;
            }
            (None, None) => {}
            (a, b) => panic!("index[{t}]: {a:?} vs pandas {b:?}"),
        }
        for (name, got) in [
            ("vol", p.vol),
            ("corr", p.corr),
            ("dispersion", p.dispersion),
            ("drawdown", p.drawdown),
        ] {
            let w = opt(&want["components"][name][t]);
            match (got, w) {
                (Some(a), Some(b)) => close(&format!("{name}[{t}]"), a, b, 1e-9),
                (None, None) => {}
                (a, b) => panic!("{name}[{t}]: {a:?} vs pandas {b:?}"),
            }
        }
    }
    assert!(compared > 2900, "{compared} index values compared");
    // The index is about stress: its peak is in March 2020.
    let dates: Vec<&str> = want["dates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    let peak = (0..s.len())
        .filter(|t| s[*t].index.is_some())
        .max_by(|a, b| s[*a].index.unwrap().total_cmp(&s[*b].index.unwrap()))
        .unwrap();
    assert!(
        dates[peak].starts_with("2020-03"),
        "peak on {}",
        dates[peak]
    );
}

#[test]
fn rule_regimes_equal_pandas() {
    let g = golden();
    let c = goog();
    let got = classify(&c, &RuleOptions::default());
    let want = &g["rules"]["state"];
    assert_eq!(got.len(), want.as_array().unwrap().len());
    for (t, s) in got.iter().enumerate() {
        let w = want[t].as_i64().unwrap();
        match s {
            Some(s) => {
                assert_eq!(s.state as i64, w, "bar {t}");
                let p = g["rules"]["vol_pct"][t].as_f64().unwrap();
                assert!((s.vol_pct - p).abs() < 1e-12, "bar {t}: percentile");
            }
            None => assert_eq!(w, -1, "bar {t}"),
        }
    }
    assert_eq!(label(0), "bull/low_vol");
    assert_eq!(label(8), "bear/high_vol");
}

#[test]
fn changing_the_future_leaves_the_past_unchanged() {
    let c = goog();
    let cut = 1500;
    let mut future = c.clone();
    for (i, x) in future[cut..].iter_mut().enumerate() {
        *x *= if i % 2 == 0 { 0.7 } else { 1.4 };
    }
    // Rules.
    let (a, b) = (
        classify(&c, &RuleOptions::default()),
        classify(&future, &RuleOptions::default()),
    );
    assert_eq!(a[..cut], b[..cut]);
    assert_ne!(a[cut..], b[cut..], "the perturbation must matter");
    // Walk-forward HMM: rows are closes shifted by the window.
    let opts = HmmOptions::default();
    let (xa, xb) = (hmm::features(&c, 20), hmm::features(&future, 20));
    let row_cut = cut - 20;
    let (sa, _) = walk_forward(&xa, &opts, 500, 63);
    let (sb, _) = walk_forward(&xb, &opts, 500, 63);
    assert!(sa[..499].iter().all(Option::is_none));
    assert!(sa[499..].iter().all(Option::is_some));
    assert_eq!(sa[..row_cut], sb[..row_cut]);
    assert_ne!(sa[row_cut..], sb[row_cut..]);
    // Stress.
    let panel = sp500();
    let mut p2 = panel.clone();
    for row in p2[2000..].iter_mut() {
        row[3] *= 0.5;
    }
    let (x, y) = (
        stress_index(&panel, &StressOptions::default()),
        stress_index(&p2, &StressOptions::default()),
    );
    // Point t is the return from close t to t + 1.
    assert_eq!(x[..1999], y[..1999]);
    assert_ne!(x[1999..], y[1999..]);
}

#[test]
fn walk_forward_labels_only_with_models_fitted_on_the_past() {
    let xs = hmm::features(&goog(), 20);
    let (states, last) = walk_forward(&xs, &HmmOptions::default(), 500, 100);
    let last = last.unwrap();
    for (t, s) in states.iter().enumerate() {
        if let Some(s) = s {
            assert!(
                s.fitted_through <= t,
                "row {t} labelled by a fit through {}",
                s.fitted_through
            );
            assert!(t - s.fitted_through < 100);
            let sum: f64 = s.probs.iter().sum();
            assert!((sum - 1.0).abs() < 1e-12);
        }
    }
    // The last model was fitted through the last refit point, and its filtered probabilities
    // for the newest row are what the walk-forward reports.
    let n = xs.len();
    let through = states[n - 1].as_ref().unwrap().fitted_through;
    let direct = hmm::fit(&xs[..=through], &HmmOptions::default()).unwrap();
    assert_eq!(direct, last);
    assert_eq!(
        direct.filter(&xs)[n - 1],
        states[n - 1].as_ref().unwrap().probs
    );
    // Too little data: no model, no states, no panic.
    assert!(hmm::fit(&xs[..3], &HmmOptions::default()).is_none());
    assert!(hmm::features(&[1.0, 2.0], 20).is_empty());
}

#[test]
fn regime_features_stream_equals_the_batch_models_and_survive_a_restart() {
    use elite_pipelines::forecast::{Dist, VolModel, fit};
    use elite_pipelines::regime::features::{NAMES, RegimeFeatures};
    let c = goog();
    let run = |closes: &[f64]| -> Vec<Vec<Option<f64>>> {
        let mut f = RegimeFeatures::new();
        closes
            .iter()
            .map(|x| {
                let mut out = vec![];
                f.update(*x, &mut out);
                assert_eq!(out.len(), NAMES.len());
                out
            })
            .collect()
    };
    let got = run(&c);
    // Rules: exactly the batch classifier.
    let rules = classify(&c, &RuleOptions::default());
    for (t, (g, r)) in got.iter().zip(&rules).enumerate() {
        assert_eq!(g[0], r.map(|r| r.trend), "bar {t}");
        assert_eq!(g[2], r.map(|r| r.vol_pct), "bar {t}");
        assert_eq!(
            g[1],
            r.map(|r| [1.0, 0.0, -1.0][(r.state / 3) as usize]),
            "bar {t}"
        );
    }
    // HMM: exactly the walk-forward's filtered probability of the turbulent state (feature row
    // i is close i + 20).
    let xs = hmm::features(&c, 20);
    let (wf, _) = walk_forward(&xs, &HmmOptions::default(), 504, 63);
    let mut compared = 0;
    for (i, f) in wf.iter().enumerate() {
        assert_eq!(got[i + 20][3], f.as_ref().map(|f| f.probs[1]), "row {i}");
        compared += usize::from(f.is_some());
    }
    assert_eq!(compared, 2128 - 503);
    // GARCH: the first forecast is the fit on the first 500 returns; the next, one step of its
    // recursion; at 752 returns a refit.
    let r: Vec<f64> = c.windows(2).map(|w| 100.0 * (w[1] / w[0]).ln()).collect();
    assert!(got[499][4].is_none());
    let g = fit(&r[..500], VolModel::Garch, Dist::Normal).unwrap();
    let s2 = g.forecast(1)[0];
    assert_eq!(got[500][4], Some(s2.sqrt()));
    let e = r[500] - g.mu;
    let next = g.omega + g.alpha * e * e + g.beta * s2;
    assert_eq!(got[501][4], Some(next.sqrt()));
    let g2 = fit(&r[..752], VolModel::Garch, Dist::Normal).unwrap();
    assert_eq!(got[752][4], Some(g2.forecast(1)[0].sqrt()));
    // A stream checkpointed (JSON) mid-way and restarted gives the same features.
    let mut f = RegimeFeatures::new();
    let mut out = vec![];
    for x in &c[..1000] {
        out.clear();
        f.update(*x, &mut out);
    }
    let mut f: RegimeFeatures = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
    for (t, x) in c.iter().enumerate().skip(1000) {
        out.clear();
        f.update(*x, &mut out);
        assert_eq!(out, got[t], "bar {t} after the restart");
    }
    // No look-ahead: a different future leaves every earlier feature as it was.
    let mut future = c.clone();
    for x in future[1500..].iter_mut() {
        *x *= 0.8;
    }
    let other = run(&future);
    assert_eq!(other[..1500], got[..1500]);
    assert_ne!(other[1500..], got[1500..]);
}
