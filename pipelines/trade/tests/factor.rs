//! The PCA factor risk model against numpy (golden/gen_pca.py, `numpy.linalg.eigh` of the same
//! sample covariance), and the factored mean-variance QP against the dense one on the same Σ.

use elite_trade::factor::{mean_variance_factor, pca_factor};
use elite_trade::portfolio::{Bounds, Objective, mean_variance, variance};

fn golden() -> serde_json::Value {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    let pca = std::fs::read_to_string(format!("{dir}/golden/pca_golden.json")).unwrap();
    serde_json::from_str(&pca).unwrap()
}

fn returns() -> Vec<Vec<f64>> {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    let v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{dir}/golden/portfolio_golden.json")).unwrap(),
    )
    .unwrap();
    serde_json::from_value(v["returns"].clone()).unwrap()
}

/// The maximum-likelihood sample covariance (divided by T), computed directly.
fn sample_cov(ret: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let (t, p) = (ret.len() as f64, ret[0].len());
    let mean: Vec<f64> = (0..p)
        .map(|j| ret.iter().map(|r| r[j]).sum::<f64>() / t)
        .collect();
    let mut s = vec![vec![0.0; p]; p];
    for r in ret {
        for (a, row) in s.iter_mut().enumerate() {
            for (b, v) in row.iter_mut().enumerate() {
                *v += (r[a] - mean[a]) * (r[b] - mean[b]) / t;
            }
        }
    }
    s
}

fn close(a: &[f64], b: &[f64], rel: f64, what: &str) {
    elite_warehouse::approx::max_abs_diff(a, b).unwrap();
    let top = b.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= rel * top,
            "{what}[{i}]: {x} vs {y} (relative to {top})"
        );
    }
}

#[test]
fn leading_eigenvalues_and_factor_covariance_equal_numpy() {
    let g = golden();
    let want: Vec<f64> = serde_json::from_value(g["eigenvalues"].clone()).unwrap();
    let ret = returns();
    for k in [1, 3, 5, 12] {
        let (fc, _) = pca_factor(&ret, k).unwrap();
        assert_eq!(fc.eigenvalues.len(), k);
        close(
            &fc.eigenvalues,
            &want[..k],
            1e-12,
            &format!("eigenvalues k={k}"),
        );
    }
    let (fc, _) = pca_factor(&ret, 3).unwrap();
    let want: Vec<Vec<f64>> = serde_json::from_value(g["factor3_covariance"].clone()).unwrap();
    let flat = |m: &[Vec<f64>]| m.iter().flatten().copied().collect::<Vec<f64>>();
    close(&flat(&fc.dense()), &flat(&want), 1e-7, "L'L + D");
    // Every asset keeps its sample variance.
    let dense = fc.dense();
    for (i, row) in want.iter().enumerate() {
        assert!(
            (dense[i][i] - row[i]).abs() <= 1e-12 * row[i],
            "variance {i}"
        );
    }
}

/// All 20 eigenvalues (k = rank) and the full model: L'L + D is then the sample covariance.
#[test]
fn every_factor_reproduces_the_sample_covariance() {
    let g = golden();
    let want: Vec<f64> = serde_json::from_value(g["eigenvalues"].clone()).unwrap();
    let ret = returns();
    let (fc, _) = pca_factor(&ret, 20).unwrap();
    close(&fc.eigenvalues, &want, 1e-12, "eigenvalues k=20");
    let flat = |m: &[Vec<f64>]| m.iter().flatten().copied().collect::<Vec<f64>>();
    close(
        &flat(&fc.dense()),
        &flat(&sample_cov(&ret)),
        1e-9,
        "L'L + D vs S",
    );
}

#[test]
fn factor_qp_equals_the_dense_qp_on_the_same_covariance() {
    let ret = returns();
    let (fc, mean) = pca_factor(&ret, 3).unwrap();
    let dense = fc.dense();
    let n = mean.len();
    let sectors: Vec<Option<usize>> = (0..n).map(|i| Some(i % 4)).collect();
    let capped = Bounds {
        lower: 0.0,
        upper: 0.15,
        sectors,
        sector_cap: Some(0.3),
    };
    let target = mean.iter().copied().fold(f64::NEG_INFINITY, f64::max) * 0.5;
    for (obj, b) in [
        (Objective::MinVariance, Bounds::long_only(0.15)),
        (Objective::MinVariance, capped.clone()),
        (Objective::MaxSharpe, Bounds::long_only(0.2)),
        (Objective::MaxSharpe, capped),
        (Objective::TargetReturn { target }, Bounds::long_only(0.3)),
    ] {
        let wd = mean_variance(&mean, &dense, obj, &b).unwrap();
        let wf = mean_variance_factor(&mean, &fc, obj, &b).unwrap();
        assert_eq!(wd.len(), wf.len());
        let (vd, vf) = (variance(&wd, &dense), fc.variance(&wf));
        assert!(
            (vd - vf).abs() <= 1e-6 * vd,
            "{obj:?}: variance dense {vd} vs factor {vf}"
        );
        close(&wf, &wd, 1e-4, &format!("{obj:?} weights"));
        assert!((wf.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!((fc.variance(&wd) - vd).abs() <= 1e-12 * vd);
    }
}

#[test]
fn bad_factor_counts_are_refused() {
    let ret = returns();
    assert!(pca_factor(&ret, 0).is_err());
    assert!(pca_factor(&ret, 21).is_err());
    assert!(pca_factor(&ret[..1], 1).is_err());
}

/// A portfolio strategy with `risk_model = { model = "pca", factors = 3 }` (the TOML form) trades
/// minimum-variance weights from the factor model on real closes.
#[test]
fn a_portfolio_strategy_rebalances_on_the_pca_model() {
    use elite_trade::Money;
    use elite_trade::engine::{Engine, EngineConfig};
    use elite_trade::sim::Bar;
    use elite_trade::strategies::{PortfolioConfig, RiskModel, StrategySpec};
    use elite_warehouse::Timestamp;

    let cfg: PortfolioConfig = toml::from_str(
        "method = \"min_variance\"\nlookback = 60\nevery = 20\nmax_weight = 0.2\nrisk_model = { model = \"pca\", factors = 3 }",
    )
    .unwrap();
    assert_eq!(cfg.risk_model, RiskModel::Pca { factors: 3 });
    let ret = returns();
    let n = ret[0].len();
    let mut px = vec![100.0; n];
    let mut e = Engine::new(EngineConfig::new(Money::units(1_000_000)), n);
    let names: Vec<String> = (0..n).map(|i| format!("S{i}")).collect();
    e.add(
        StrategySpec::Portfolio(cfg).build("p", &names).unwrap(),
        1.0,
    );
    for (k, r) in ret.iter().take(120).enumerate() {
        for (sym, x) in r.iter().enumerate() {
            px[sym] *= 1.0 + x;
            let t = k as i64 * 100;
            e.on_bar(&Bar {
                sym: sym as u32,
                ts_event: Timestamp::from_nanos(t),
                ts_recv: Timestamp::from_nanos(t + 100),
                open: px[sym],
                high: px[sym],
                low: px[sym],
                close: px[sym],
                volume: 1e9,
            })
            .unwrap();
        }
    }
    assert!(!e.journal.submitted.is_empty(), "no rebalance happened");
    // Long-only: every fill is a buy of a positive quantity.
    assert!(e.journal.fills.iter().all(|f| f.qty > 0));
}

/// Fewer periods than assets: the model is found on X Xᵀ and mapped back; each loading is still
/// an eigenvector of the sample covariance (computed here directly) with ‖Lⱼ‖² = λⱼ, and the
/// loadings are orthogonal.
#[test]
fn fewer_periods_than_assets_give_eigenvectors_of_the_covariance() {
    let ret: Vec<Vec<f64>> = returns()[..12].to_vec();
    let p = ret[0].len();
    let s = sample_cov(&ret);
    let (fc, _) = pca_factor(&ret, 5).unwrap();
    let top = fc.eigenvalues[0];
    for (j, l) in fc.loadings.iter().enumerate() {
        let lam = fc.eigenvalues[j];
        let norm2: f64 = l.iter().map(|x| x * x).sum();
        assert!(
            (norm2 - lam).abs() <= 1e-9 * top,
            "‖L{j}‖² {norm2} vs λ {lam}"
        );
        for (a, row) in s.iter().enumerate() {
            let sl: f64 = row.iter().zip(l).map(|(x, y)| x * y).sum();
            assert!(
                (sl - lam * l[a]).abs() <= 1e-8 * top * norm2.sqrt(),
                "(S L{j})[{a}] {sl} vs λ L {}",
                lam * l[a]
            );
        }
        for (k, m) in fc.loadings.iter().enumerate().skip(j + 1) {
            let d: f64 = l.iter().zip(m).map(|(x, y)| x * y).sum();
            assert!(d.abs() <= 1e-9 * top, "L{j}·L{k} = {d}");
        }
    }
    let dense = fc.dense();
    for a in 0..p {
        assert!((dense[a][a] - s[a][a]).abs() <= 1e-12 * s[a][a].max(1e-300));
    }
}
