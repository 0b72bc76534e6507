//! Checks by construction: LSTM, Transformer and CNN-LSTM gradients against finite differences, purging in the splits,
//! ensembles that only learn from labels already known, drift detectors on known shifts.

use elite_models::cnn_lstm::{CnnLstm, CnnLstmParams};
use elite_models::data::{Dataset, Label, Row};
use elite_models::deep::{self, Blocks, SeqNet};
use elite_models::drift::{Adwin, PageHinkley, psi};
use elite_models::ensemble::{Method, Params, RegimeSource, combine};
use elite_models::lstm::Lstm;
use elite_models::model::Standardizer;
use elite_models::rng::SplitMix64;
use elite_models::transformer::{Transformer, TransformerParams};
use elite_models::validate::{WalkForward, Window, purged_kfold, walk_forward};

/// `series` symbols × `n` dates, label horizon `h`; feature = a random walk.
fn dataset(series: u32, n: usize, h: i64) -> Dataset {
    let mut rng = SplitMix64::new(3);
    let mut ds = Dataset {
        features: vec!["f".into()],
        horizon: h as usize,
        ..Default::default()
    };
    for s in 0..series {
        ds.symbols.push(format!("S{s}"));
        for t in 0..n {
            let r = rng.sym(0.02);
            ds.x.push(r);
            ds.rows.push(Row {
                series: s,
                pos: t as u32,
                ts_event: t as i64 * 10,
                ts_recv: t as i64 * 10 + 1,
                label: Some(Label {
                    fwd_return: r,
                    up: r > 0.0,
                    known_at: (t as i64 + h) * 10 + 1,
                    next_return: r,
                }),
                regime: (t % 4) as u8,
            });
        }
    }
    ds
}

#[test]
fn lstm_gradient_matches_finite_differences() {
    let features: Vec<String> = vec!["a".into(), "b".into(), "c".into()];
    let scaler = Standardizer {
        mean: vec![0.0; 3],
        sd: vec![1.0; 3],
    };
    let net = Lstm::init(features, scaler, 4, 3, 11);
    let mut rng = SplitMix64::new(5);
    let xs: Vec<Vec<f64>> = (0..5)
        .map(|_| (0..12).map(|_| rng.sym(1.5)).collect())
        .collect();
    let ys = [1.0, 0.0, 1.0, 1.0, 0.0];
    let (_, g) = net.loss_and_grad(&xs, &ys);
    let loss = |n: &Lstm| n.loss_and_grad(&xs, &ys).0;
    let eps = 1e-6;
    let mut checked = 0;
    for part in 0..5 {
        let len = match part {
            0 => net.weights.w.len(),
            1 => net.weights.r.len(),
            2 => net.weights.b.len(),
            3 => net.weights.head.len(),
            _ => 1,
        };
        for k in (0..len).step_by(5) {
            let bump = |d: f64| {
                let mut n = net.clone();
                let w = &mut n.weights;
                match part {
                    0 => w.w[k] += d,
                    1 => w.r[k] += d,
                    2 => w.b[k] += d,
                    3 => w.head[k] += d,
                    _ => w.head_b += d,
                }
                loss(&n)
            };
            let numeric = (bump(eps) - bump(-eps)) / (2.0 * eps);
            let analytic = match part {
                0 => g.w[k],
                1 => g.r[k],
                2 => g.b[k],
                3 => g.head[k],
                _ => g.head_b,
            };
            assert!(
                (numeric - analytic).abs() < 1e-6 * (1.0 + numeric.abs()),
                "part {part} index {k}: numeric {numeric} analytic {analytic}"
            );
            checked += 1;
        }
    }
    assert!(checked > 15);
}

/// Central finite differences on every 3rd parameter of every block against the analytic gradient.
fn check_gradient<N: SeqNet + Clone>(net: &N, xs: &[Vec<f64>], ys: &[f64]) -> usize {
    let (_, mut g) = deep::loss_and_grad(net, xs, ys);
    let analytic: Vec<Vec<f64>> = g.blocks_mut().into_iter().map(|b| b.to_vec()).collect();
    let eps = 1e-6;
    let mut checked = 0;
    for (bi, block) in analytic.iter().enumerate() {
        for k in (0..block.len()).step_by(3) {
            let bump = |d: f64| {
                let mut n = net.clone();
                n.weights_mut().blocks_mut()[bi][k] += d;
                deep::loss_and_grad(&n, xs, ys).0
            };
            let numeric = (bump(eps) - bump(-eps)) / (2.0 * eps);
            assert!(
                (numeric - block[k]).abs() < 1e-5 * (1.0 + numeric.abs()),
                "block {bi} index {k}: numeric {numeric} analytic {}",
                block[k]
            );
            checked += 1;
        }
    }
    checked
}

fn random_windows(n: usize, len: usize) -> (Vec<Vec<f64>>, Vec<f64>) {
    let mut rng = SplitMix64::new(5);
    let xs = (0..n)
        .map(|_| (0..len).map(|_| rng.sym(1.5)).collect())
        .collect();
    let ys = (0..n).map(|i| (i % 2) as f64).collect();
    (xs, ys)
}

fn unit_scaler(p: usize) -> Standardizer {
    Standardizer {
        mean: vec![0.0; p],
        sd: vec![1.0; p],
    }
}

#[test]
fn transformer_gradient_matches_finite_differences() {
    let features: Vec<String> = vec!["a".into(), "b".into(), "c".into()];
    let pr = TransformerParams {
        seq_len: 5,
        d_model: 4,
        heads: 2,
        ff: 6,
        seed: 13,
        ..Default::default()
    };
    let mut net = Transformer::init(features, unit_scaler(3), &pr).unwrap();
    // Move the layer norms and biases off their (symmetric) starting values.
    let mut rng = SplitMix64::new(17);
    for b in net.weights.blocks_mut() {
        for v in b.iter_mut() {
            *v += rng.sym(0.3);
        }
    }
    let (xs, ys) = random_windows(4, 15);
    let checked = check_gradient(&net, &xs, &ys);
    assert!(checked > 70, "{checked}");
}

#[test]
fn cnn_lstm_gradient_matches_finite_differences() {
    let features: Vec<String> = vec!["a".into(), "b".into(), "c".into()];
    let pr = CnnLstmParams {
        seq_len: 6,
        filters: 4,
        kernel: 3,
        hidden: 3,
        seed: 19,
        ..Default::default()
    };
    let mut net = CnnLstm::init(features, unit_scaler(3), &pr).unwrap();
    let mut rng = SplitMix64::new(23);
    for v in net.weights.conv_b.iter_mut() {
        *v += 0.2 + rng.sym(0.1); // most convolution outputs active, so conv weights get gradient
    }
    let (xs, ys) = random_windows(4, 18);
    let checked = check_gradient(&net, &xs, &ys);
    assert!(checked > 40, "{checked}");
}

#[test]
fn deep_models_reject_impossible_shapes() {
    let f: Vec<String> = vec!["a".into()];
    let e = Transformer::init(
        f.clone(),
        unit_scaler(1),
        &TransformerParams {
            d_model: 6,
            heads: 4,
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("multiple of heads"), "{e}");
    let e = CnnLstm::init(
        f,
        unit_scaler(1),
        &CnnLstmParams {
            seq_len: 3,
            kernel: 5,
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("kernel (5)"), "{e}");
}

#[test]
fn walk_forward_purges_labels_not_yet_known() {
    let ds = dataset(3, 300, 5);
    let rows = ds.usable(1);
    for window in [Window::Expanding, Window::Rolling] {
        let folds = walk_forward(
            &ds,
            &rows,
            &WalkForward {
                window,
                train: 100,
                test: 50,
            },
        )
        .unwrap();
        assert_eq!(folds.len(), 4);
        for f in &folds {
            let start = f.test.iter().map(|&i| ds.rows[i].ts_recv).min().unwrap();
            let first_event = f.test.iter().map(|&i| ds.rows[i].ts_event).min().unwrap();
            for &i in &f.train {
                let r = ds.rows[i];
                assert!(
                    r.label.unwrap().known_at <= start,
                    "label known after the test start"
                );
                assert!(r.ts_event < first_event);
            }
            // Exactly the last h−1 = 4 dates before the block are purged (known at t+5 > start).
            let last_train = f.train.iter().map(|&i| ds.rows[i].ts_event).max().unwrap();
            assert_eq!(last_train, first_event - 5 * 10);
            if window == Window::Rolling {
                let first_train = f.train.iter().map(|&i| ds.rows[i].ts_event).min().unwrap();
                assert_eq!(first_train, first_event - 100 * 10);
            }
        }
    }
    // Purged k-fold: no training label interval overlaps a test block, embargo after it.
    for f in purged_kfold(&ds, &rows, 5, 10).unwrap() {
        let (a, b) = (
            f.test.iter().map(|&i| ds.rows[i].ts_event).min().unwrap(),
            f.test.iter().map(|&i| ds.rows[i].ts_event).max().unwrap(),
        );
        for &i in &f.train {
            let r = ds.rows[i];
            let known = r.label.unwrap().known_at;
            assert!(
                known < a || r.ts_event > b + 10 * 10,
                "row at {} known {known} vs test [{a}, {b}]",
                r.ts_event
            );
        }
    }
}

#[test]
fn ensembles_use_only_labels_known_before_each_prediction() {
    let ds = dataset(2, 600, 3);
    let rows: Vec<usize> = (0..ds.rows.len()).collect();
    let mut rng = SplitMix64::new(9);
    // Member 0 is informative (sees the label with noise), member 1 is noise.
    let good: Vec<f64> = rows
        .iter()
        .map(|&i| if ds.rows[i].label.unwrap().up { 0.6 } else { 0.4 } + rng.sym(0.15))
        .collect();
    let noise: Vec<f64> = rows.iter().map(|_| 0.5 + rng.sym(0.2)).collect();
    let members = vec![good, noise];
    let params = Params {
        min_history: 100,
        refit: 100,
        halflife: 100.0,
        weights: vec![],
        regimes: RegimeSource::Builtin,
    };
    for method in Method::ALL {
        let base = combine(method, &ds, &rows, &members, &params).unwrap();
        // Perturb everything after date 400: predictions up to date 400 must not move.
        let mut future = ds.clone();
        let mut m2 = members.clone();
        for (k, &i) in rows.iter().enumerate() {
            if ds.rows[i].ts_event > 4000 {
                let l = future.rows[i].label.as_mut().unwrap();
                l.up = !l.up;
                m2[0][k] = 1.0 - m2[0][k];
                m2[1][k] = 0.9;
            }
        }
        let moved = combine(method, &future, &rows, &m2, &params).unwrap();
        for (k, &i) in rows.iter().enumerate() {
            if ds.rows[i].ts_event <= 4000 {
                assert_eq!(
                    base.prob[k], moved.prob[k],
                    "{method:?} changed at {}",
                    ds.rows[i].ts_event
                );
            }
        }
        // Learned combiners weight the informative member: they beat the plain mean late on.
        assert!(base.confidence.iter().all(|c| (0.0..=1.0).contains(c)));
    }
    let acc = |p: &[f64]| {
        rows.iter()
            .zip(p)
            .skip(600)
            .filter(|&(&i, &p)| (p > 0.5) == ds.rows[i].label.unwrap().up)
            .count()
    };
    let mean = combine(Method::Mean, &ds, &rows, &members, &params).unwrap();
    let dynamic = combine(Method::Dynamic, &ds, &rows, &members, &params).unwrap();
    let stacking = combine(Method::Stacking, &ds, &rows, &members, &params).unwrap();
    assert!(
        acc(&dynamic.prob) > acc(&mean.prob),
        "{} vs {}",
        acc(&dynamic.prob),
        acc(&mean.prob)
    );
    assert!(acc(&stacking.prob) > acc(&mean.prob));
}

#[test]
fn the_regime_ensemble_conditions_on_the_regimes_it_is_told_to_use() {
    // Member 0 is right on even dates and wrong on odd ones, member 1 the reverse. The rule
    // regimes (bits 2–3) tell even from odd dates; the built-in ones (bits 0–1) are all 0 here.
    let mut ds = dataset(1, 1200, 1);
    for r in ds.rows.iter_mut() {
        r.regime = ((r.pos % 4) as u8) << 2;
    }
    let rows: Vec<usize> = (0..ds.rows.len()).collect();
    let member = |even_right: bool| -> Vec<f64> {
        rows.iter()
            .map(|&i| {
                let up = ds.rows[i].label.unwrap().up;
                let right = ds.rows[i].pos.is_multiple_of(2) == even_right;
                if up == right { 0.7 } else { 0.3 }
            })
            .collect()
    };
    let members = vec![member(true), member(false)];
    let acc = |p: &[f64]| {
        rows.iter()
            .zip(p)
            .skip(400)
            .filter(|&(&i, &p)| (p > 0.5) == ds.rows[i].label.unwrap().up)
            .count() as f64
            / (rows.len() - 400) as f64
    };
    let run = |regimes| {
        let params = Params {
            min_history: 100,
            regimes,
            ..Params::default()
        };
        acc(&combine(Method::Regime, &ds, &rows, &members, &params)
            .unwrap()
            .prob)
    };
    let (rules, builtin) = (run(RegimeSource::Rules), run(RegimeSource::Builtin));
    assert!(rules > 0.95, "rule regimes: accuracy {rules}");
    assert!(builtin < 0.7, "built-in regimes: accuracy {builtin}");
}

#[test]
fn drift_detectors_fire_on_a_shift_and_not_before() {
    let mut rng = SplitMix64::new(1);
    let a: Vec<f64> = (0..2000).map(|_| rng.sym(1.0)).collect();
    let same: Vec<f64> = (0..2000).map(|_| rng.sym(1.0)).collect();
    let shifted: Vec<f64> = (0..2000).map(|_| rng.sym(1.0) + 0.5).collect();
    assert!(psi(&a, &same, 10) < 0.02);
    assert!(psi(&a, &shifted, 10) > 0.25);
    // Hand-computed PSI: 2 bins split at the median, actual shares 0.8 / 0.2.
    let exp = [1.0, 2.0, 3.0, 4.0];
    let act = [1.0, 1.0, 1.0, 1.0, 4.0];
    let want = (0.8 - 0.5) * (0.8f64 / 0.5).ln() + (0.2 - 0.5) * (0.2f64 / 0.5).ln();
    assert!((psi(&exp, &act, 2) - want).abs() < 1e-12);
    let mut ph = PageHinkley::new(0.005, 20.0);
    let mut ad = Adwin::new(0.002, 1000);
    let errs: Vec<f64> = (0..3000)
        .map(|t| if t < 2000 { 0.3 } else { 0.6 } + rng.sym(0.1))
        .collect();
    let (mut ph_at, mut ad_at) = (None, None);
    for (t, &e) in errs.iter().enumerate() {
        if ph.update(e) && ph_at.is_none() {
            ph_at = Some(t);
        }
        if ad.update(e) && ad_at.is_none() {
            ad_at = Some(t);
        }
    }
    let (ph_at, ad_at) = (ph_at.unwrap(), ad_at.unwrap());
    assert!((2000..2200).contains(&ph_at), "page-hinkley at {ph_at}");
    assert!((2000..2200).contains(&ad_at), "adwin at {ad_at}");
    assert!((ad.mean() - 0.6).abs() < 0.05);
}

/// A registered ensemble's combiners, from their formulas; the stacking meta-learner recovers
/// the coefficients that generated the outcomes.
#[test]
fn frozen_ensembles_combine_by_their_formulas_and_stacking_recovers_its_coefficients() {
    use elite_models::ensemble::{Frozen, FrozenSpec};
    let spec = |method, weights: Vec<f64>, meta| FrozenSpec {
        members: vec!["a".into(), "b".into(), "c".into()],
        method,
        weights,
        meta,
    };
    let ps = [0.8, 0.4, 0.55];
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-15;
    assert!(close(
        spec(Frozen::Mean, vec![], None).combine(&ps),
        1.75 / 3.0
    ));
    assert!(close(
        spec(Frozen::Weighted, vec![2.0, 1.0, 1.0], None).combine(&ps),
        (1.6 + 0.4 + 0.55) / 4.0
    ));
    assert!(close(
        spec(Frozen::Vote, vec![2.0, 1.0, 1.0], None).combine(&ps),
        3.0 / 4.0
    ));
    let logit = |p: f64| (p / (1.0 - p)).ln();
    let st = spec(Frozen::Stacking, vec![], Some((0.1, vec![1.0, -0.5, 2.0])));
    let z = 0.1 + logit(0.8) - 0.5 * logit(0.4) + 2.0 * logit(0.55);
    assert!(close(st.combine(&ps), 1.0 / (1.0 + (-z).exp())));
    // Invalid specs are refused.
    assert!(spec(Frozen::Weighted, vec![1.0], None).check().is_err());
    assert!(
        spec(Frozen::Weighted, vec![1.0, -1.0, 1.0], None)
            .check()
            .is_err()
    );
    assert!(spec(Frozen::Stacking, vec![], None).check().is_err());
    assert!(
        spec(Frozen::Mean, vec![], Some((0.0, vec![0.0; 3])))
            .check()
            .is_err()
    );
    assert!(st.check().is_ok());

    // Outcomes drawn from a known logistic model of two members' log-odds.
    let (b0, w) = (-0.3, [1.5, -0.8]);
    let mut rng = SplitMix64::new(11);
    let n = 40_000;
    let mut members = vec![vec![0.0; n]; 2];
    let mut up = vec![false; n];
    for k in 0..n {
        let mut z = b0;
        for (m, wm) in w.iter().enumerate() {
            let p = 0.05 + 0.9 * rng.f64();
            members[m][k] = p;
            z += wm * logit(p);
        }
        up[k] = rng.f64() < 1.0 / (1.0 + (-z).exp());
    }
    let (b, coef) = FrozenSpec::fit_meta(&members, &up).unwrap();
    assert_eq!(coef.len(), 2);
    assert!((b - b0).abs() < 0.05, "intercept {b}");
    for (c, t) in coef.iter().zip(w) {
        assert!((c - t).abs() < 0.05, "coefficient {c} vs {t}");
    }
}
