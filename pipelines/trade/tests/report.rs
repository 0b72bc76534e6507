//! The report's metrics equal `empyrical`, `quantstats`, pandas and the papers' PSR / DSR
//! formulas (written independently with scipy) on the same real daily returns (AAPL and RRC
//! 2010–2022 against the equal-weight average of 20 S&P 500 stocks; golden/gen_report.py).

use elite_trade::analytics::{
    Factors, Ols, alpha_beta, annual_volatility, calmar, compounded_by, drawdown_series, dsr,
    expected_max_sharpe, factor_report, information_ratio, kurtosis, metrics, omega, psr,
    rolling_beta, rolling_sharpe, rolling_volatility, skew, stability, tail_ratio,
};
use serde_json::Value;

fn golden() -> Value {
    let path = format!(
        "{}/golden/report_golden.json",
        std::env::var("CARGO_MANIFEST_DIR").unwrap()
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn close(name: &str, what: &str, got: f64, want: f64, tol: f64) {
    let (d, _) = elite_warehouse::approx::max_rel_diff(&[got], &[want])
        .unwrap_or_else(|e| panic!("{name} {what}: {e}"));
    assert!(
        d < tol,
        "{name} {what}: elite {got} vs reference {want} (rel {d:e})"
    );
}

fn floats(v: &Value) -> Vec<f64> {
    serde_json::from_value(v.clone()).unwrap()
}

#[test]
fn report_metrics_equal_empyrical_quantstats_and_the_papers() {
    let g = golden();
    let series = g["series"].as_object().unwrap();
    assert_eq!(series.len(), 2);
    for (name, s) in series {
        let r = floats(&s["returns"]);
        let b = floats(&s["benchmark"]);
        assert_eq!(r.len(), b.len(), "{name}");
        assert!(r.len() > 3000, "{name}");
        let f = |k: &str| s[k].as_f64().unwrap_or_else(|| panic!("{name}: no {k}"));
        close(
            name,
            "annual_volatility",
            annual_volatility(&r, 252.0),
            f("annual_volatility"),
            1e-9,
        );
        close(name, "calmar", calmar(&r, 252.0), f("calmar_ratio"), 1e-9);
        close(name, "tail_ratio", tail_ratio(&r), f("tail_ratio"), 1e-9);
        close(
            name,
            "stability",
            stability(&r),
            f("stability_of_timeseries"),
            1e-9,
        );
        close(name, "omega", omega(&r), f("omega_ratio"), 1e-9);
        close(name, "skew", skew(&r), f("skew"), 1e-9);
        close(name, "kurtosis", kurtosis(&r), f("kurtosis"), 1e-9);
        let (a, be) = alpha_beta(&r, &b, 252.0);
        close(name, "alpha", a, f("alpha"), 1e-9);
        close(name, "beta", be, f("beta"), 1e-9);
        close(
            name,
            "information_ratio",
            information_ratio(&r, &b),
            f("information_ratio"),
            1e-9,
        );
        close(name, "psr", psr(&r, 0.0), f("psr"), 1e-9);
        close(
            name,
            "sr0",
            expected_max_sharpe(10, 0.0004),
            f("sr0_10_trials"),
            1e-9,
        );
        close(name, "dsr", dsr(&r, 10, 0.0004), f("dsr_10_trials"), 1e-9);
        // One trial: nothing to deflate.
        assert_eq!(dsr(&r, 1, 0.0004), psr(&r, 0.0));

        // Monthly returns compounded within calendar months, as pandas groups them.
        let dates: Vec<String> = serde_json::from_value(s["dates"].clone()).unwrap();
        assert_eq!(dates.len(), r.len());
        let month = |i: usize| (dates[i][..4].to_string(), dates[i][5..7].to_string());
        let got = compounded_by(&r, month);
        let want = s["monthly"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{name} months");
        for (((y, m), v), w) in got.iter().zip(want) {
            assert_eq!(y.parse::<i64>().unwrap(), w[0].as_i64().unwrap());
            assert_eq!(m.parse::<i64>().unwrap(), w[1].as_i64().unwrap());
            close(name, "month", *v, w[2].as_f64().unwrap(), 1e-9);
        }

        // The assembled table reports the same numbers under their names.
        let m = metrics(&r, Some(&b), 252.0, 10, 0.0004);
        assert_eq!(m.periods, r.len());
        assert_eq!(m.trials, 10);
        close(name, "metrics.dsr", m.dsr, f("dsr_10_trials"), 1e-9);
        close(name, "metrics.alpha", m.alpha.unwrap(), f("alpha"), 1e-9);
        let json = serde_json::to_value(&m).unwrap();
        for k in [
            "sharpe",
            "sortino",
            "max_drawdown",
            "cagr",
            "var_95",
            "cvar_95",
            "psr",
            "dsr",
        ] {
            assert!(json.get(k).is_some(), "{k} missing from the JSON");
        }
    }
}

#[test]
fn drawdown_and_rolling_series_by_hand() {
    // +10%, −20%, +25%, −10%: values 1.1, 0.88, 1.1, 0.99; peaks 1.1, 1.1, 1.1, 1.1.
    let r = [0.1, -0.2, 0.25, -0.1];
    let dd = drawdown_series(&r);
    let want = [0.0, 0.2, 0.0, 0.1];
    assert_eq!(dd.len(), want.len());
    for (g, w) in dd.iter().zip(want) {
        assert!((g - w).abs() < 1e-12, "{dd:?}");
    }
    let m = metrics(&r, None, 252.0, 1, 0.0);
    assert!((m.max_drawdown - 0.2).abs() < 1e-12);
    // Under water after periods 2 (recovered at 3) and 4 (to the end): longest 1 period.
    assert_eq!(m.max_drawdown_periods, 1);
    assert!((m.total_return - (0.99 - 1.0)).abs() < 1e-12);
    assert_eq!(m.alpha, None);
    // A NaN return is reported, not skipped.
    let nan = metrics(&[0.1, f64::NAN, -0.2], None, 252.0, 1, 0.0);
    assert!(nan.best_period.is_nan() && nan.worst_period.is_nan());
    assert_eq!((m.best_period, m.worst_period), (0.25, -0.2));
    let rs = rolling_sharpe(&r, 3, 252.0);
    assert_eq!(rs.len(), 4);
    assert!(rs[0].is_nan() && rs[1].is_nan());
    let w = [0.1, -0.2, 0.25];
    let mean = w.iter().sum::<f64>() / 3.0;
    let sd = (w.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    assert!((rs[2] - mean / sd * 252f64.sqrt()).abs() < 1e-9);
    // Rolling volatility: ±1% alternating, window 4: sample sd √(4/3)·1%, annualized.
    let alt = [0.01, -0.01, 0.01, -0.01, 0.01];
    let rv = rolling_volatility(&alt, 4, 252.0);
    assert_eq!(rv.len(), 5);
    assert!(rv[..3].iter().all(|x| x.is_nan()));
    let want = (4.0f64 / 3.0).sqrt() * 0.01 * 252f64.sqrt();
    assert!(rv[3..].iter().all(|x| (x - want).abs() < 1e-12), "{rv:?}");
    // Returns twice the benchmark's plus a constant: beta 2 in every full window.
    let b = [0.01, -0.02, 0.03, 0.0, -0.01];
    let r2: Vec<f64> = b.iter().map(|x| 2.0 * x + 0.001).collect();
    let beta = rolling_beta(&r2, &b, 3);
    assert_eq!(beta.len(), 5);
    assert!(beta[0].is_nan() && beta[1].is_nan());
    assert!(
        beta[2..].iter().all(|x| (x - 2.0).abs() < 1e-12),
        "{beta:?}"
    );
}

fn same_fit(name: &str, what: &str, got: &Option<Ols>, want: &Value) {
    let got = got
        .as_ref()
        .unwrap_or_else(|| panic!("{name} {what}: no fit"));
    assert_eq!(got.n as u64, want["n"].as_u64().unwrap(), "{name} {what} n");
    for (k, field) in [("coef", &got.coef), ("se", &got.se), ("t", &got.t)] {
        let w = floats(&want[k]);
        assert_eq!(field.len(), w.len(), "{name} {what} {k}");
        for (i, (g, w)) in field.iter().zip(&w).enumerate() {
            close(name, &format!("{what} {k}[{i}]"), *g, *w, 1e-7);
        }
    }
    close(
        name,
        &format!("{what} r2"),
        got.r2,
        want["r2"].as_f64().unwrap(),
        1e-9,
    );
}

#[test]
fn factor_and_timing_regressions_equal_statsmodels() {
    let g = golden();
    let text = std::fs::read_to_string(format!(
        "{}/../../collectors/fixtures/factors/ff3_monthly.csv",
        std::env::var("CARGO_MANIFEST_DIR").unwrap()
    ))
    .unwrap();
    let factors = Factors::from_french_csv(&text);
    assert_eq!(factors.rows.len(), 1109);
    // 2018-11: 1.69, -0.75, 0.22, 0.18 (percent), the file's last line.
    assert_eq!(factors.rows[&(2018, 11)], [0.0169, -0.0075, 0.0022, 0.0018]);
    for (name, s) in g["series"].as_object().unwrap() {
        let monthly: Vec<(i32, u32, f64)> = s["monthly"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m[0].as_i64().unwrap() as i32,
                    m[1].as_i64().unwrap() as u32,
                    m[2].as_f64().unwrap(),
                )
            })
            .collect();
        let rep = factor_report(&monthly, &factors);
        assert_eq!((rep.from.as_str(), rep.to.as_str()), ("2010-01", "2018-11"));
        same_fit(name, "fama_french", &rep.fama_french, &s["fama_french"]);
        same_fit(
            name,
            "treynor_mazuy",
            &rep.treynor_mazuy,
            &s["treynor_mazuy"],
        );
        same_fit(
            name,
            "henriksson_merton",
            &rep.henriksson_merton,
            &s["henriksson_merton"],
        );
        let ff = rep.fama_french.as_ref().unwrap();
        assert_eq!(ff.names, ["intercept", "mkt_rf", "smb", "hml"]);
    }
}

#[test]
fn collinear_or_too_few_rows_give_no_fit() {
    use elite_trade::analytics::ols;
    let y = [1.0, 2.0, 3.0, 4.0];
    let x = vec![1.0, 2.0, 3.0, 4.0];
    assert!(ols(&y, &[("a", x.clone()), ("b", x.clone())]).is_none());
    assert!(ols(&y[..2], &[("a", x[..2].to_vec())]).is_none());
    // y = 1 + 2x exactly: the fit finds it with R² 1.
    let y: Vec<f64> = x.iter().map(|v| 1.0 + 2.0 * v).collect();
    let f = ols(&y, &[("a", x)]).unwrap();
    assert!((f.coef[0] - 1.0).abs() < 1e-12 && (f.coef[1] - 2.0).abs() < 1e-12);
    assert!((f.r2 - 1.0).abs() < 1e-12);
}

#[test]
fn brinson_fachler_with_carino_linking_equals_the_reference() {
    use elite_trade::analytics::{Holding, brinson_fachler};
    let g = golden();
    let b = &g["brinson"];
    let sectors: Vec<String> = serde_json::from_value(b["sectors"].clone()).unwrap();
    let periods: Vec<Vec<Holding>> = b["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p.as_array()
                .unwrap()
                .iter()
                .map(|h| Holding {
                    sector: h[0].as_u64().unwrap() as usize,
                    wp: h[1].as_f64().unwrap(),
                    wb: h[2].as_f64().unwrap(),
                    r: h[3].as_f64().unwrap(),
                })
                .collect()
        })
        .collect();
    assert_eq!(periods.len(), 36);
    let got = brinson_fachler(&periods, &sectors);
    close(
        "brinson",
        "portfolio",
        got.portfolio_return,
        b["portfolio_return"].as_f64().unwrap(),
        1e-12,
    );
    close(
        "brinson",
        "benchmark",
        got.benchmark_return,
        b["benchmark_return"].as_f64().unwrap(),
        1e-12,
    );
    let linked = b["linked"].as_object().unwrap();
    assert_eq!(got.by_sector.len(), linked.len());
    for row in &got.by_sector {
        let want = floats(&linked[&row.sector]);
        assert_eq!(want.len(), 3);
        for (what, g, w) in [
            ("allocation", row.allocation, want[0]),
            ("selection", row.selection, want[1]),
            ("interaction", row.interaction, want[2]),
        ] {
            assert!((g - w).abs() < 1e-12, "{} {what}: {g} vs {w}", row.sector);
        }
    }
    // The linked effects add up to the compounded excess return.
    let total: f64 = got.by_sector.iter().map(|r| r.total).sum();
    assert!(
        (total - (got.portfolio_return - got.benchmark_return)).abs() < 1e-12,
        "{total}"
    );
}

#[test]
fn return_and_risk_contributions_equal_the_reference() {
    use elite_trade::analytics::contributions;
    let g = golden();
    let periods = g["brinson"]["periods"].as_array().unwrap();
    let c = &g["contributions"];
    let syms: Vec<String> = serde_json::from_value(c["symbols"].clone()).unwrap();
    let parts: Vec<(String, Vec<f64>)> = syms
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let series = periods
                .iter()
                .map(|p| p[i][1].as_f64().unwrap() * p[i][3].as_f64().unwrap())
                .collect();
            (s.clone(), series)
        })
        .collect();
    let got = contributions(&parts);
    let want_r = floats(&c["return_contribution"]);
    let want_s = floats(&c["risk_share"]);
    assert_eq!(got.len(), 20);
    assert_eq!((want_r.len(), want_s.len()), (20, 20));
    for (k, row) in got.iter().enumerate() {
        assert_eq!(row.key, syms[k]);
        assert!(
            (row.return_contribution - want_r[k]).abs() < 1e-12,
            "{row:?}"
        );
        assert!((row.risk_share - want_s[k]).abs() < 1e-12, "{row:?}");
    }
    let r: f64 = got.iter().map(|x| x.return_contribution).sum();
    let s: f64 = got.iter().map(|x| x.risk_share).sum();
    assert!((r - c["total"].as_f64().unwrap()).abs() < 1e-12, "{r}");
    assert!((s - 1.0).abs() < 1e-12, "{s}");
}
