//! Performance and risk metrics equal `empyrical` and `quantstats` (PyPI) on the same real daily
//! returns (GOOG 2004–2013, AAPL 2010–2022; golden/gen_metrics.py), and the tear sheet of an
//! equity curve reports exactly those numbers.

use elite_trade::engine::EquityPoint;
use elite_trade::metrics::{
    annual_return, cvar_historical, max_drawdown, profit_factor, sharpe, sortino, tear_sheet,
    var_filtered_hs, var_historical, var_parametric, win_rate,
};
use elite_trade::money::Money;
use elite_warehouse::Timestamp;
use serde_json::Value;

fn golden() -> Value {
    let path = format!(
        "{}/golden/metrics_golden.json",
        std::env::var("CARGO_MANIFEST_DIR").unwrap()
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn close(name: &str, what: &str, got: f64, want: f64) {
    let (d, _) = elite_warehouse::approx::max_rel_diff(&[got], &[want])
        .unwrap_or_else(|e| panic!("{name} {what}: {e}"));
    assert!(
        d < 1e-9,
        "{name} {what}: elite {got} vs reference {want} (rel {d:e})"
    );
}

#[test]
fn metrics_equal_empyrical_and_quantstats() {
    let g = golden();
    let series = g["series"].as_object().unwrap();
    assert_eq!(series.len(), 2);
    for (name, s) in series {
        let px: Vec<f64> = serde_json::from_value(s["closes"].clone()).unwrap();
        let r: Vec<f64> = px.windows(2).map(|w| w[1] / w[0] - 1.0).collect();
        assert!(r.len() > 2000, "{name}");
        let f = |k: &str| s[k].as_f64().unwrap_or_else(|| panic!("{name}: no {k}"));
        close(name, "sharpe", sharpe(&r, 252.0), f("sharpe"));
        close(name, "sortino", sortino(&r, 252.0), f("sortino"));
        close(name, "max_drawdown", max_drawdown(&r), f("max_drawdown"));
        close(
            name,
            "annual_return",
            annual_return(&r, 252.0),
            f("annual_return"),
        );
        close(
            name,
            "calmar",
            annual_return(&r, 252.0) / max_drawdown(&r),
            f("calmar"),
        );
        close(
            name,
            "var_historical",
            var_historical(&r),
            f("var_historical"),
        );
        close(
            name,
            "cvar_historical",
            cvar_historical(&r),
            f("cvar_historical"),
        );
        close(
            name,
            "var_parametric",
            var_parametric(&r),
            f("var_parametric"),
        );
        close(name, "win_rate", win_rate(&r), f("win_rate"));
        close(name, "profit_factor", profit_factor(&r), f("profit_factor"));
        close(
            name,
            "var_filtered_hs",
            var_filtered_hs(&r),
            f("var_filtered_hs"),
        );

        // The tear sheet of the same path: equity = the closes scaled so that the first close is
        // the initial cash exactly (Money has four decimals).
        let initial = Money::from_f64(px[0]).unwrap();
        let k = initial.to_f64() / px[0];
        let equity: Vec<EquityPoint> = px[1..]
            .iter()
            .enumerate()
            .map(|(i, p)| EquityPoint {
                ts: Timestamp::from_secs(1_100_000_000 + 86_400 * i as i64).unwrap(),
                equity: p * k,
                ..Default::default()
            })
            .collect();
        let t = tear_sheet(&equity, &[], initial, Some(252.0));
        close(name, "sheet sharpe", t.sharpe, f("sharpe"));
        close(name, "sheet sortino", t.sortino, f("sortino"));
        close(
            name,
            "sheet max_drawdown",
            t.max_drawdown,
            f("max_drawdown"),
        );
        close(name, "sheet cagr", t.cagr, f("annual_return"));
        close(name, "sheet calmar", t.calmar, f("calmar"));
        close(name, "sheet var", t.var_95_historical, f("var_historical"));
        close(
            name,
            "sheet cvar",
            t.cvar_95_historical,
            f("cvar_historical"),
        );
        close(
            name,
            "sheet var parametric",
            t.var_95_parametric,
            f("var_parametric"),
        );
        close(
            name,
            "sheet var fhs",
            t.var_95_filtered_hs,
            f("var_filtered_hs"),
        );
    }
}

#[test]
fn the_filtered_simulation_reacts_to_todays_volatility() {
    // Same returns, calm or turbulent last month: historical VaR is identical, the filtered
    // simulation's is higher after the turbulence (the Monte Carlo it replaces could not tell).
    let g = golden();
    let px: Vec<f64> = serde_json::from_value(g["series"]["GOOG"]["closes"].clone()).unwrap();
    let r: Vec<f64> = px.windows(2).map(|w| w[1] / w[0] - 1.0).collect();
    let mut calm = r.clone();
    let mut wild = r.clone();
    let n = r.len();
    calm[n - 20..].iter_mut().for_each(|x| *x *= 0.2);
    wild[n - 20..].iter_mut().for_each(|x| *x *= 3.0);
    assert!(var_filtered_hs(&wild) > 2.0 * var_filtered_hs(&calm));
}
