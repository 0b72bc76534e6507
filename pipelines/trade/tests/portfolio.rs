//! Portfolio construction against references computed independently (scikit-learn's LedoitWolf,
//! scipy SLSQP; golden/gen_portfolio.py) on real returns of 20 S&P 500 stocks, 2010.

use elite_trade::portfolio::{
    Bounds, Objective, drifted, hrp, kelly, ledoit_wolf, mean_variance, risk_parity, variance,
};

struct Golden {
    returns: Vec<Vec<f64>>,
    lw: Vec<Vec<f64>>,
    shrinkage: f64,
    min_var: Vec<f64>,
    min_var_value: f64,
    erc: Vec<f64>,
}

fn golden() -> Golden {
    let path = format!(
        "{}/golden/portfolio_golden.json",
        std::env::var("CARGO_MANIFEST_DIR").unwrap()
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let m = |k: &str| -> Vec<Vec<f64>> { serde_json::from_value(v[k].clone()).unwrap() };
    let w = |k: &str| -> Vec<f64> { serde_json::from_value(v[k].clone()).unwrap() };
    Golden {
        returns: m("returns"),
        lw: m("lw_covariance"),
        shrinkage: v["lw_shrinkage"].as_f64().unwrap(),
        min_var: w("min_variance_cap15"),
        min_var_value: v["min_variance_value"].as_f64().unwrap(),
        erc: w("erc"),
    }
}

#[test]
fn ledoit_wolf_equals_scikit_learn() {
    let g = golden();
    let (cov, shrinkage, _) = ledoit_wolf(&g.returns).unwrap();
    assert!(
        (shrinkage - g.shrinkage).abs() < 1e-12,
        "{shrinkage} vs {}",
        g.shrinkage
    );
    let flat = |m: &[Vec<f64>]| m.iter().flatten().copied().collect::<Vec<f64>>();
    let (a, b) = (flat(&cov), flat(&g.lw));
    elite_warehouse::approx::max_abs_diff(&a, &b).unwrap();
    for (a, b) in a.iter().zip(&b) {
        assert!((a - b).abs() <= 1e-12 * b.abs().max(1e-6), "{a} vs {b}");
    }
}

#[test]
fn min_variance_matches_scipy() {
    let g = golden();
    let mu = vec![0.0; g.lw.len()];
    let w = mean_variance(&mu, &g.lw, Objective::MinVariance, &Bounds::long_only(0.15)).unwrap();
    assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert!(w.iter().all(|x| *x >= 0.0 && *x <= 0.15 + 1e-9));
    let v = variance(&w, &g.lw);
    // The same optimum (the solver's variance is no worse than SLSQP's, to 1e-6 relative).
    assert!(
        v <= g.min_var_value * (1.0 + 1e-6),
        "{v} vs {}",
        g.min_var_value
    );
    let (worst, at) = elite_warehouse::approx::max_abs_diff(&w, &g.min_var).unwrap();
    assert!(worst < 1e-3, "weight {at}: |Δ| {worst}");
}

#[test]
fn risk_parity_matches_scipy_and_equalizes_contributions() {
    let g = golden();
    let w = risk_parity(&g.lw).unwrap();
    let total = variance(&w, &g.lw);
    for (i, wi) in w.iter().enumerate() {
        let rc = wi * g.lw[i].iter().zip(&w).map(|(c, x)| c * x).sum::<f64>();
        assert!((rc / total - 1.0 / w.len() as f64).abs() < 1e-9);
    }
    let (worst, at) = elite_warehouse::approx::max_abs_diff(&w, &g.erc).unwrap();
    assert!(worst < 1e-4, "weight {at}: |Δ| {worst}");
}

#[test]
fn max_sharpe_target_return_and_sector_caps() {
    let g = golden();
    let n = g.lw.len();
    let mu: Vec<f64> = (0..n)
        .map(|j| g.returns.iter().map(|r| r[j]).sum::<f64>() / g.returns.len() as f64)
        .collect();
    let b = Bounds::long_only(0.3);
    let ms = mean_variance(&mu, &g.lw, Objective::MaxSharpe, &b).unwrap();
    let sharpe =
        |w: &[f64]| w.iter().zip(&mu).map(|(a, m)| a * m).sum::<f64>() / variance(w, &g.lw).sqrt();
    // No feasible portfolio we try beats it: equal weights, min variance, and 200 random ones.
    let mv = mean_variance(&mu, &g.lw, Objective::MinVariance, &b).unwrap();
    assert!(
        sharpe(&ms) >= sharpe(&mv) - 1e-9 && sharpe(&ms) >= sharpe(&vec![1.0 / n as f64; n]) - 1e-9
    );
    let mut x = 7u64;
    for _ in 0..200 {
        let mut w: Vec<f64> = (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % 1000) as f64
            })
            .collect();
        let s: f64 = w.iter().sum();
        w.iter_mut().for_each(|v| *v /= s);
        if w.iter().all(|v| *v <= 0.3) {
            assert!(sharpe(&ms) >= sharpe(&w) - 1e-9);
        }
    }
    // Target return: the return is met, and the variance is at least the minimum variance.
    let target = mu.iter().cloned().fold(f64::MIN, f64::max) * 0.5;
    let tr = mean_variance(&mu, &g.lw, Objective::TargetReturn { target }, &b).unwrap();
    assert!(tr.iter().zip(&mu).map(|(a, m)| a * m).sum::<f64>() >= target - 1e-9);
    assert!(variance(&tr, &g.lw) >= variance(&mv, &g.lw) - 1e-12);
    // Sector caps: assets in 4 sectors of 5, at most 30% each.
    let sectors: Vec<Option<usize>> = (0..n).map(|i| Some(i % 4)).collect();
    let capped = Bounds {
        sectors: sectors.clone(),
        sector_cap: Some(0.3),
        ..Bounds::long_only(1.0)
    };
    let w = mean_variance(&mu, &g.lw, Objective::MinVariance, &capped).unwrap();
    for s in 0..4 {
        let t: f64 = (0..n)
            .filter(|i| sectors[*i] == Some(s))
            .map(|i| w[i])
            .sum();
        assert!(t <= 0.3 + 1e-7, "sector {s}: {t}");
    }
    // Infeasible bounds say so.
    assert!(mean_variance(&mu, &g.lw, Objective::MinVariance, &Bounds::long_only(0.01)).is_err());
}

#[test]
fn hrp_properties() {
    // Two assets: HRP is inverse-variance.
    let w = hrp(&[vec![0.04, 0.01], vec![0.01, 0.01]]).unwrap();
    assert!(
        (w[0] - 0.2).abs() < 1e-12 && (w[1] - 0.8).abs() < 1e-12,
        "{w:?}"
    );
    // Two uncorrelated blocks of two identical assets: equal weights.
    let c = |i: usize, j: usize| {
        if i == j {
            0.01
        } else if i / 2 == j / 2 {
            0.008
        } else {
            0.0
        }
    };
    let cov: Vec<Vec<f64>> = (0..4).map(|i| (0..4).map(|j| c(i, j)).collect()).collect();
    let w = hrp(&cov).unwrap();
    assert!(w.iter().all(|x| (x - 0.25).abs() < 1e-12), "{w:?}");
    let g = golden();
    let w = hrp(&g.lw).unwrap();
    assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12 && w.iter().all(|x| *x > 0.0));
}

/// HRP weights equal skfolio's HierarchicalRiskParity (single linkage on the Pearson distance,
/// variance risk measure) on the same sample covariance (golden/gen_hrp.py).
#[test]
fn hrp_equals_skfolio() {
    let path = format!(
        "{}/golden/hrp_golden.json",
        std::env::var("CARGO_MANIFEST_DIR").unwrap()
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cov: Vec<Vec<f64>> = serde_json::from_value(v["covariance"].clone()).unwrap();
    let want: Vec<f64> = serde_json::from_value(v["weights"].clone()).unwrap();
    assert_eq!(want.len(), 20);
    let got = hrp(&cov).unwrap();
    let (worst, at) = elite_warehouse::approx::max_abs_diff(&got, &want).unwrap();
    assert!(
        worst < 1e-10,
        "max |elite − skfolio| = {worst:e} at {at}: {got:?} vs {want:?}"
    );
}

#[test]
fn kelly_and_drift() {
    // μ = 0.05%, σ² = 0.0001 → full Kelly 5×, half Kelly 2.5×, capped at 2.
    assert!((kelly(0.0005, 0.0001, 0.5, 2.0) - 2.0).abs() < 1e-12);
    assert!((kelly(0.0005, 0.0001, 0.25, 2.0) - 1.25).abs() < 1e-12);
    assert_eq!(kelly(0.01, 0.0, 1.0, 1.0), 0.0);
    assert!(drifted(&[0.5, 0.5], &[0.4, 0.6], 0.05));
    assert!(!drifted(&[0.42, 0.58], &[0.4, 0.6], 0.05));
}

/// A cross-sectional strategy decides when its instant closes (every symbol's bar seen), so its
/// orders fill at the next instant's opens, like a single-symbol strategy's; and what happens
/// in that next instant cannot change the decision.
#[test]
fn portfolio_orders_fill_on_the_next_instant_without_look_ahead() {
    use elite_trade::Money;
    use elite_trade::engine::{Engine, EngineConfig};
    use elite_trade::sim::Bar;
    use elite_trade::strategies::{PortfolioConfig, PortfolioMethod, StrategySpec};
    use elite_warehouse::Timestamp;

    let run = |shock: f64| {
        let mut e = Engine::new(EngineConfig::new(Money::units(1_000_000)), 3);
        let spec = StrategySpec::Portfolio(PortfolioConfig {
            method: PortfolioMethod::Equal,
            lookback: 2,
            every: 100,
            drift: None,
            max_weight: 1.0,
            invested: 0.9,
            min_trade: 0.0,
            risk_model: Default::default(),
        });
        let names: Vec<String> = ["A", "B", "C"].iter().map(|s| s.to_string()).collect();
        e.add(spec.build("p", &names).unwrap(), 1.0);
        for k in 0..5i64 {
            for sym in 0..3u32 {
                let mut px = 100.0 + 10.0 * sym as f64 + k as f64;
                if k >= 3 {
                    px *= shock; // everything from instant 3 on
                }
                e.on_bar(&Bar {
                    sym,
                    ts_event: Timestamp::from_nanos(k * 100),
                    ts_recv: Timestamp::from_nanos(k * 100 + 100),
                    open: px,
                    high: px * 1.01,
                    low: px * 0.99,
                    close: px,
                    volume: 1e6,
                })
                .unwrap();
            }
        }
        e
    };
    let e = run(1.0);
    // Three closes (instants 0, 1, 2) are the first full lookback: the decision is at the close
    // of instant 2 (ts_recv 300) and the orders fill on instant 3's bars (ts_event 300).
    let sent: Vec<_> = e
        .journal
        .submitted
        .iter()
        .map(|(t, o)| (t.as_nanos(), o.sym))
        .collect();
    assert_eq!(sent, [(300, 0), (300, 1), (300, 2)]);
    assert_eq!(e.journal.fills.len(), 3);
    assert!(e.journal.fills.iter().all(|f| f.ts.as_nanos() == 300));
    // Equal weights of 90% of 1M at instant 2's closes (102, 112, 122).
    let qty: Vec<i64> = e.journal.submitted.iter().map(|(_, o)| o.qty).collect();
    assert_eq!(
        qty,
        [
            (300_000.0f64 / 102.0) as i64,
            (300_000.0f64 / 112.0) as i64,
            (300_000.0f64 / 122.0) as i64
        ]
    );
    // Instant 3 and later at half the price: the same orders, decided before it.
    let shocked = run(0.5);
    let orders = |e: &Engine| format!("{:?}", e.journal.submitted);
    assert_eq!(orders(&shocked), orders(&e));
}
