//! `elite bench cycle`: the latency of one trade-runner decision cycle over `assets` assets —
//! the risk model of the last `lookback` returns (Ledoit-Wolf, or a PCA factor model), long-only mean-variance (minimum variance, 5% cap, 10 sectors
//! capped at 25%) — dense: Elite's interior-point method on faer's dense Cholesky (Clarabel the
//! fallback); factor form: Clarabel — then one order per asset through
//! pre-trade risk and into the broker. Each phase timed separately.
//!
//! Synthetic returns with the structure of equity returns (deterministic): a market factor with
//! per-asset betas, 10 sector factors, and idiosyncratic noise.
//!
//! The peer: the last cycle's optimisation (the same covariance, bounds and sector caps) solved by
//! Python `cvxpy` with Clarabel (its defaults, and the settings of Elite's Clarabel pass: faer's
//! supernodal LDLᵀ without iterative refinement) and with OSQP, each `prob.solve()` timed (cvxpy's
//! canonicalisation included, and the solver's own time shown apart), the median of `cycles` solves. The run fails
//! unless Elite's variance is no more than 1e-6 (relative) above each peer's, and each peer's
//! within 1e-4 of Elite's (the same problem solved).

use std::time::Instant;

use anyhow::Result;
use elite_trade::Money;
use elite_trade::factor::{FactorCov, mean_variance_factor, pca_factor};
use elite_trade::ledger::Ledger;
use elite_trade::order::{OrderRequest, Side};
use elite_trade::portfolio::{Bounds, Objective, ledoit_wolf, mean_variance};
use elite_trade::risk::{Book, RiskEngine, RiskLimits};
use elite_trade::sim::{FillConfig, SimBroker};
use elite_warehouse::Timestamp;
use serde::Serialize;

use crate::args::BenchCycleArgs;
use crate::printer::Printer;
use crate::settings::Settings;

#[derive(Serialize)]
struct Row {
    phase: &'static str,
    p50_ms: f64,
    p90_ms: f64,
    max_ms: f64,
}

/// `periods` × `assets` returns: 1% × beta × market + 0.6% × sector + 1.5% × noise, with betas in
/// [0.5, 1.5) and sector = asset mod 10 (normal draws by Box–Muller on a xorshift stream).
fn factor_returns(periods: usize, assets: usize) -> Vec<Vec<f64>> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut normal = move || {
        let (u, v) = (uniform(), uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    };
    let beta: Vec<f64> = (0..assets)
        .map(|i| 0.5 + (i * 7919 % 1000) as f64 / 1000.0)
        .collect();
    (0..periods)
        .map(|_| {
            let m = normal();
            let sector: Vec<f64> = (0..10).map(|_| normal()).collect();
            (0..assets)
                .map(|i| 0.01 * beta[i] * m + 0.006 * sector[i % 10] + 0.015 * normal())
                .collect()
        })
        .collect()
}

/// The covariance a cycle optimizes against.
enum Risk {
    Dense(Vec<Vec<f64>>),
    Factor(FactorCov),
}

impl Risk {
    fn variance(&self, w: &[f64]) -> f64 {
        match self {
            Risk::Dense(cov) => elite_trade::portfolio::variance(w, cov),
            Risk::Factor(fc) => fc.variance(w),
        }
    }
}

pub fn run(args: BenchCycleArgs, _settings: &Settings, printer: &Printer) -> Result<()> {
    let (n, lookback) = (args.assets, args.lookback);
    let pca = args.risk_model == "pca";
    let returns = factor_returns(lookback + args.cycles, n);
    // Prices from the returns (for the orders): 100 × the compounded return.
    let mut prices_at = vec![vec![100.0; n]];
    for r in &returns {
        let last = prices_at.last().cloned().unwrap_or_default();
        prices_at.push(last.iter().zip(r).map(|(p, x)| p * (1.0 + x)).collect());
    }
    let mut times: [Vec<f64>; 4] = Default::default();
    let sectors: Vec<Option<usize>> = (0..n).map(|i| Some(i % 10)).collect();
    let bounds = Bounds {
        lower: 0.0,
        upper: 0.05_f64.max(1.0 / n as f64),
        sectors,
        sector_cap: Some(0.25),
    };
    let limits = RiskLimits {
        max_concentration: Some(0.06),
        max_gross_leverage: Some(1.0),
        max_order_notional: Some(1e9),
        price_band: Some(0.1),
        ..Default::default()
    };
    let mut ok = 0usize;
    let mut last: Option<(Risk, Vec<f64>)> = None;
    for c in 0..args.cycles {
        let t0 = Instant::now();
        let ret = &returns[c..c + lookback];
        let (model, mu) = if pca {
            let (fc, mu) = pca_factor(ret, args.factors)?;
            (Risk::Factor(fc), mu)
        } else {
            let (cov, _, mu) = ledoit_wolf(ret)?;
            (Risk::Dense(cov), mu)
        };
        let t1 = Instant::now();
        let w = match &model {
            Risk::Dense(cov) => mean_variance(&mu, cov, Objective::MinVariance, &bounds)?,
            Risk::Factor(fc) => mean_variance_factor(&mu, fc, Objective::MinVariance, &bounds)?,
        };
        let t2 = Instant::now();
        let prices: Vec<f64> = prices_at[c + lookback].clone();
        let ledger = Ledger::new(Money::units(100_000_000));
        let mut risk = RiskEngine::new(limits.clone());
        let mut broker = SimBroker::new(FillConfig::default(), Default::default());
        let now = Timestamp::from_nanos(c as i64);
        let mut pending = vec![0i64; n];
        for (i, wi) in w.iter().enumerate() {
            let qty = (wi * 100_000_000.0 / prices[i]).floor() as i64;
            if qty <= 0 {
                continue;
            }
            let o = OrderRequest::market(format!("c{c}-{i}"), i as u32, Side::Buy, qty);
            let book = Book {
                ledger: &ledger,
                prices: &prices,
                pending: &|s| (pending[s as usize], 0),
                equity: 100_000_000.0,
            };
            let (a, _) = risk.check(o, &book, now);
            if let Some(a) = a {
                pending[i] += qty;
                broker.submit(a, now, Money::from_f64(prices[i]).unwrap_or_default());
                ok += 1;
            }
        }
        let t3 = Instant::now();
        for (k, d) in [t1 - t0, t2 - t1, t3 - t2, t3 - t0].iter().enumerate() {
            times[k].push(d.as_secs_f64() * 1e3);
        }
        if c + 1 == args.cycles {
            last = Some((model, w));
        }
    }
    let q = |v: &mut Vec<f64>, p: f64| {
        v.sort_by(f64::total_cmp);
        v[((v.len() - 1) as f64 * p).round() as usize]
    };
    let r = |x: f64| (x * 1000.0).round() / 1000.0;
    let mut rows = vec![];
    let names = if pca {
        [
            "pca factor model",
            "mean-variance (Clarabel, factor form)",
            "risk checks + orders",
            "whole cycle",
        ]
    } else {
        [
            "ledoit-wolf covariance",
            "mean-variance (dense interior point)",
            "risk checks + orders",
            "whole cycle",
        ]
    };
    for (k, name) in names.iter().enumerate() {
        let v = &mut times[k];
        rows.push(Row {
            phase: name,
            p50_ms: r(q(v, 0.5)),
            p90_ms: r(q(v, 0.9)),
            max_ms: r(q(v, 1.0)),
        });
    }
    printer.note(format!(
        "{n} assets, {lookback} returns, {} cycles on 1 core; {} orders approved and sent in total",
        args.cycles, ok
    ));
    if let (Some((risk, w)), false) = (last, args.python == "none") {
        let elite_var = risk.variance(&w);
        for (name, ms, solver_ms, var, dw) in peer(&args, &risk, &bounds, &w)? {
            // The same problem solved: Elite's minimum no worse than the peer's (1e-6), and the
            // peer's within 1e-4 of it (its absolute tolerances on an unscaled objective of ~1e-5
            // stop it earlier than Elite, which scales the objective to unit mean variance).
            let rel = (var - elite_var) / elite_var;
            if !(-1e-6..=1e-4).contains(&rel) {
                anyhow::bail!(
                    "cvxpy {name}: variance {var:e} at its weights vs Elite's {elite_var:e} (relative {rel:e})"
                );
            }
            rows.push(Row {
                phase: name,
                p50_ms: r(ms[0]),
                p90_ms: r(ms[1]),
                max_ms: r(ms[2]),
            });
            printer.note(format!(
                "{name}: solver's own time p50 {:.3} ms; variance {var:.6e} vs Elite {elite_var:.6e}; max |w - w_elite| {dw:.2e}",
                solver_ms
            ));
        }
    }
    printer.records(&rows)
}

const CVXPY: &str = r#"
import json, sys, time
import numpy as np
import cvxpy as cp
d = json.load(open(sys.argv[1]))
w_elite = np.array(d["w"]); n = len(w_elite)
if d.get("cov") is not None:
    cov = np.array(d["cov"])
    variance = lambda x: float(x @ cov @ x)
else:
    L = np.array(d["loadings"]); D = np.array(d["specific"])
    variance = lambda x: float(np.sum((L @ x) ** 2) + D @ (x * x))
out = []
# Clarabel with Elite's tolerances (its defaults are 1e-8).
tol = {"tol_gap_abs": 1e-9, "tol_gap_rel": 1e-9, "tol_feas": 1e-9}
# ... and with the settings of Elite's Clarabel pass: faer's supernodal LDL, no iterative refinement.
fast = dict(tol, direct_solve_method="faer", iterative_refinement_enable=False)
for name, solver, opts in [("cvxpy + Clarabel", cp.CLARABEL, tol),
                           ("cvxpy + Clarabel faer", cp.CLARABEL, fast),
                           ("cvxpy + OSQP", cp.OSQP, {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iter": 200000})]:
    times, solver_times = [], []
    for _ in range(d["repeat"]):
        w = cp.Variable(n)
        cons = [cp.sum(w) == 1, w >= d["lower"], w <= d["upper"]]
        for s in sorted(set(x for x in d["sectors"] if x is not None)):
            idx = [i for i, x in enumerate(d["sectors"]) if x == s]
            cons.append(cp.sum(w[idx]) <= d["cap"])
        if d.get("cov") is not None:
            objective = cp.quad_form(w, cov, assume_PSD=True)
        else:
            # cvxpy's documented factor-model form: f = L w, minimise |f|^2 + w' D w.
            f = cp.Variable(L.shape[0])
            cons.append(f == L @ w)
            objective = cp.sum_squares(f) + cp.sum(cp.multiply(D, cp.square(w)))
        prob = cp.Problem(cp.Minimize(objective), cons)
        t = time.perf_counter()
        prob.solve(solver=solver, **opts)
        times.append((time.perf_counter() - t) * 1e3)
        solver_times.append((prob.solver_stats.solve_time or 0.0) * 1e3)
    x = np.clip(w.value, d["lower"], d["upper"]); x = x / x.sum()
    out.append({"name": name, "ms": sorted(times), "solver_ms": sorted(solver_times),
                "var": variance(x), "dw": float(np.abs(x - w_elite).max())})
print(json.dumps(out))
"#;

type PeerRow = (&'static str, [f64; 3], f64, f64, f64);

/// cvxpy (Clarabel, OSQP) on the same problem: per solver (name, [p50, p90, max] ms, solver p50
/// ms, variance at its weights, max weight difference from Elite's).
fn peer(args: &BenchCycleArgs, risk: &Risk, b: &Bounds, w: &[f64]) -> Result<Vec<PeerRow>> {
    use anyhow::Context;
    let dir = std::env::temp_dir().join(format!("elite-cycle-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let input = dir.join("problem.json");
    let mut problem = serde_json::json!({
        "w": w, "lower": b.lower, "upper": b.upper, "sectors": b.sectors,
        "cap": b.sector_cap, "repeat": args.cycles,
    });
    match risk {
        Risk::Dense(cov) => problem["cov"] = serde_json::json!(cov),
        Risk::Factor(fc) => {
            problem["loadings"] = serde_json::json!(fc.loadings);
            problem["specific"] = serde_json::json!(fc.specific);
        }
    }
    std::fs::write(&input, serde_json::to_vec(&problem)?)?;
    let out = std::process::Command::new(&args.python)
        .args(["-c", CVXPY])
        .arg(&input)
        .output()
        .context("running cvxpy (pip install cvxpy, or pass --python none)")?;
    let _ = std::fs::remove_dir_all(&dir);
    if !out.status.success() {
        anyhow::bail!("cvxpy failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let q = |a: &serde_json::Value, p: f64| -> f64 {
        let a: Vec<f64> = a
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
            .unwrap_or_default();
        a.get(((a.len().max(1) - 1) as f64 * p).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    let mut rows = Vec::new();
    for (k, name) in [
        "cvxpy + Clarabel (same problem)",
        "cvxpy + Clarabel, faer, no refinement (Elite's Clarabel settings)",
        "cvxpy + OSQP (same problem)",
    ]
    .into_iter()
    .enumerate()
    {
        let e = &v[k];
        rows.push((
            name,
            [q(&e["ms"], 0.5), q(&e["ms"], 0.9), q(&e["ms"], 1.0)],
            q(&e["solver_ms"], 0.5),
            e["var"].as_f64().unwrap_or(f64::NAN),
            e["dw"].as_f64().unwrap_or(f64::NAN),
        ));
    }
    Ok(rows)
}
